"""GitHub App authentication: a JWT signed with the App's private key, exchanged for installation tokens.

PyGithub's `AppInstallationAuth` refreshes an installation token shortly before it expires; the same auth
object hands the current token to git (see `repairbot.github.git`). Every client retries 5xx answers and
secondary rate limits (`GithubRetry` honours `Retry-After`) and spaces writes as GitHub asks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from github import Auth, Github, GithubIntegration, GithubRetry

from repairbot.config import Settings
from repairbot.errors import EnvironmentProblem
from repairbot.github.permissions import Permissions


def make_retry(settings: Settings) -> GithubRetry:
    return GithubRetry(
        total=settings.http_retries,
        backoff_factor=0.5,
        secondary_rate_wait=settings.secondary_rate_wait,
    )


@dataclass
class Installation:
    id: int
    github: Github
    auth: Auth.AppInstallationAuth

    @property
    def token(self) -> str:
        """A valid installation token (refreshed by PyGithub when close to expiry)."""
        return self.auth.token


class GitHubApp:
    """One per process; installation clients are cached (their tokens refresh themselves)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.app_id or not settings.private_key:
            raise EnvironmentProblem(
                "the GitHub App is not configured",
                hint="set REPAIRBOT_APP_ID and REPAIRBOT_PRIVATE_KEY (PEM text or path)",
            )
        self.settings = settings
        self.permissions = Permissions(settings.permission_cache_s)
        self.app_auth = Auth.AppAuth(settings.app_id, settings.private_key)
        self._lock = threading.Lock()
        self._installations: dict[int, Installation] = {}
        self.integration = GithubIntegration(
            auth=self.app_auth,
            base_url=settings.github_api_url,
            retry=make_retry(settings),
            seconds_between_requests=settings.seconds_between_requests,
            seconds_between_writes=settings.seconds_between_writes,
        )

    def installation(self, installation_id: int) -> Installation:
        with self._lock:
            found = self._installations.get(installation_id)
            if found is None:
                auth = self.app_auth.get_installation_auth(installation_id)
                gh = Github(
                    auth=auth,
                    base_url=self.settings.github_api_url,
                    retry=make_retry(self.settings),
                    seconds_between_requests=self.settings.seconds_between_requests,
                    seconds_between_writes=self.settings.seconds_between_writes,
                )
                # Github(auth=...) binds a requester to the auth object, which the token refresh needs.
                bound = gh.requester.auth
                assert isinstance(bound, Auth.AppInstallationAuth)
                found = Installation(installation_id, gh, bound)
                self._installations[installation_id] = found
            return found

    def installation_for_repo(self, full_name: str) -> Installation:
        owner, _, name = full_name.partition("/")
        return self.installation(self.integration.get_repo_installation(owner, name).id)
