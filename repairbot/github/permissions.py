"""Who may make repairbot run code: GitHub's word, through the collaborator permission endpoint.

`author_association` in a payload is not a permission: a collaborator with read or triage rights is
COLLABORATOR, an organization member with no access to the repository is MEMBER. The endpoint
`GET /repos/{owner}/{repo}/collaborators/{user}/permission` answers `admin`, `write` (which the maintain role
also gets), `read` (triage too) or `none`; repairbot runs code only for the first two.

Answers are cached per repository and user for `ttl_s` (a job asks once; a burst of jobs asks once), so a
permission that GitHub revokes stops counting within that time.
"""

from __future__ import annotations

import threading
import time

from github import GithubException
from github.Repository import Repository

WRITE = frozenset({"admin", "write"})  # "maintain" is reported as "write" by this endpoint


class Permissions:
    def __init__(self, ttl_s: float = 60.0) -> None:
        self.ttl_s = ttl_s
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def level(self, repo: Repository, login: str) -> str:
        """admin | write | read | none (a user GitHub does not know, or an App's bot, is none)."""
        key = (repo.full_name.lower(), login.lower())
        now = time.monotonic()
        with self._lock:
            found = self._cache.get(key)
            if found is not None and found[1] > now:
                return found[0]
        try:
            level = repo.get_collaborator_permission(login)
        except GithubException as err:
            if err.status != 404:
                raise
            level = "none"
        with self._lock:
            self._cache[key] = (level, now + self.ttl_s)
        return level

    def can_write(self, repo: Repository, login: str | None) -> bool:
        return bool(login) and self.level(repo, str(login)) in WRITE
