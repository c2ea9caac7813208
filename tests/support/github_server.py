"""A local GitHub REST API for tests: the subset PyGithub calls for a GitHub App, over real HTTP on loopback.

It keeps state in memory (repositories backed by local bare git repositories, pull requests, reviews, review
comments, issue comments, check runs, commit comments), checks authentication the way GitHub does (an RS256
JWT signed by the App's key for /app endpoints, an installation token elsewhere), validates what GitHub
validates for the calls we make (a PR's head branch must exist; one open PR per head; review comments must sit
on the PR's diff), lists pull requests in GitHub's order and pages, records every request, and can inject
failures: 5xx, 403 secondary rate limits with Retry-After, and 422 "A pull request already exists".

Workflow tokens (`add_token`) stand for an Action's GITHUB_TOKEN: a read-only one (a fork's pull request)
gets GitHub's 403 "Resource not accessible by integration" on every write. Review comments move with later
pushes as GitHub moves them: on a new head a comment's `line` follows the lines inserted or removed above it,
and becomes null (outdated) when its own lines changed; `original_line` and `original_commit_id` stay.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import jwt
import pytest

# Role → the `permission` the collaborator permission endpoint reports (maintain reads as write, triage as
# read: GitHub's legacy permission levels).
ROLES = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: Any


@dataclass
class RepoState:
    full_name: str
    git_dir: Path
    default_branch: str = "main"
    id: int = 0
    installation_id: int = 1


@dataclass
class State:
    repos: dict[str, RepoState] = field(default_factory=dict)
    installations: dict[int, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    read_only: set[str] = field(default_factory=set)
    pulls: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    reviews: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    review_comments: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    issue_comments: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    commit_comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    # (repository, login lowercased) → role: admin | maintain | write | triage | read | none
    roles: dict[tuple[str, str], str] = field(default_factory=dict)
    # The App's OAuth (user sign-in): its client, who is signed in to "GitHub" in the browser, what each user
    # can see, and the codes and user tokens handed out.
    oauth_client: tuple[str, str] | None = None
    browser_user: str | None = None
    user_repos: dict[str, set[str]] = field(default_factory=dict)
    oauth_codes: dict[str, tuple[str, float]] = field(default_factory=dict)
    user_tokens: dict[str, str] = field(default_factory=dict)
    next_id: int = 1000


@dataclass
class Page:
    """One page of a list answer; `next_url` becomes the Link header PyGithub follows for the next page."""

    items: list[Any]
    next_url: str | None


def paginate(url: str, query: dict[str, str], items: list[Any]) -> Page:
    """GitHub's pagination: `per_page` (default 30, at most 100) and `page` (from 1)."""
    per_page = max(1, min(int(query.get("per_page") or 30), 100))
    page = max(1, int(query.get("page") or 1))
    chunk = items[(page - 1) * per_page : page * per_page]
    more = len(items) > page * per_page
    next_query = "&".join(f"{k}={v}" for k, v in {**query, "page": str(page + 1)}.items())
    return Page(chunk, f"{url}?{next_query}" if more else None)


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        if errors:
            self.body["errors"] = errors


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), *args], capture_output=True, text=True, check=True
    ).stdout


class GitHubServer:
    """Start with `with GitHubServer(app_id, public_key_pem) as gh:`; `gh.url` is PyGithub's base_url."""

    def __init__(
        self,
        app_id: str,
        public_key_pem: str,
        token_ttl_s: float = 3600.0,
        bind: str = "127.0.0.1",
        public_host: str | None = None,
    ) -> None:
        """`bind` and `public_host` serve clients elsewhere (containers: bind 0.0.0.0, public_host the name
        they reach this machine by); the URLs in answers use `public_host`."""
        self.app_id = str(app_id)
        self.public_host = public_host
        self.public_key = public_key_pem
        self.token_ttl_s = token_ttl_s
        self.state = State()
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self._httpd = ThreadingHTTPServer((bind, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{self.public_host or host!s}:{port}"

    def __enter__(self) -> GitHubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- test set-up -------------------------------------------------------------------------------------

    def add_repo(
        self, full_name: str, git_dir: Path, default_branch: str = "main", installation_id: int = 1
    ) -> None:
        with self.lock:
            self.state.repos[full_name] = RepoState(
                full_name, git_dir, default_branch, len(self.state.repos) + 1, installation_id
            )
            inst = self.state.installations.setdefault(installation_id, {"id": installation_id, "repos": []})
            inst["repos"].append(full_name)
            self.state.pulls.setdefault(full_name, {})

    def add_pull(
        self,
        full_name: str,
        number: int,
        head_ref: str,
        head_sha: str,
        base_ref: str,
        base_sha: str,
        user: str = "octocat",
        created_at: datetime | None = None,
        state: str = "open",
    ) -> dict[str, Any]:
        with self.lock:
            pr = self._pull_json(full_name, number, head_ref, head_sha, base_ref, base_sha, "", "", user)
            if created_at is not None:
                pr["created_at"] = pr["updated_at"] = created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            pr["state"] = state
            self.state.pulls[full_name][number] = pr
            return pr

    def add_token(self, token: str, installation_id: int = 1, write: bool = True) -> None:
        """A workflow's GITHUB_TOKEN for the repositories of `installation_id`; read-only unless `write`."""
        with self.lock:
            self.state.tokens[token] = (installation_id, datetime.now(UTC) + timedelta(hours=6))
            if not write:
                self.state.read_only.add(token)

    def move_pull_head(self, full_name: str, number: int, head_sha: str) -> None:
        """A push to the pull request's branch (GitHub re-reads the head ref)."""
        with self.lock:
            pr = self.state.pulls[full_name][number]
            pr["head"]["sha"] = head_sha
            pr["updated_at"] = _now()

    def reviews(self, full_name: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.state.reviews.get((full_name, number), [])]

    def review_comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        """The pull request's review comments as GitHub shows them now (moved or outdated)."""
        with self.lock:
            pr = self.state.pulls[full_name][number]
            return [
                self._comment_view(full_name, pr, c)
                for c in self.state.review_comments.get((full_name, number), [])
            ]

    def add_issue(self, full_name: str, number: int, title: str, body: str) -> dict[str, Any]:
        with self.lock:
            issue = {
                "id": 70_000 + number,
                "number": number,
                "title": title,
                "body": body,
                "state": "open",
                "url": f"{self.url}/repos/{full_name}/issues/{number}",
                "html_url": f"https://github.example/{full_name}/issues/{number}",
                "user": {"login": "octocat", "id": 2, "type": "User"},
                "labels": [],
            }
            self.state.issues[(full_name, number)] = issue
            return issue

    def enable_oauth(self, client_id: str, client_secret: str) -> None:
        with self.lock:
            self.state.oauth_client = (client_id, client_secret)

    def sign_in_browser(self, login: str | None, repos: set[str] | None = None) -> None:
        """`login` is signed in to GitHub in the browser (and authorizes the App when asked); `repos` are
        the repositories they can access."""
        with self.lock:
            self.state.browser_user = login
            if login is not None:
                self.state.user_repos[login.lower()] = set(repos or ())

    def set_role(self, full_name: str, login: str, role: str) -> None:
        """The user's role on the repository, as the collaborator permission endpoint reports it (anyone else
        is `read`: what GitHub answers for a public repository's outsiders)."""
        assert role in ROLES, role
        with self.lock:
            self.state.roles[(full_name, login.lower())] = role

    def add_review_comment(
        self, full_name: str, number: int, body: str, path: str, line: int, start_line: int | None = None
    ) -> dict[str, Any]:
        with self.lock:
            pr = self.state.pulls[full_name][number]
            comment = self._review_comment(
                full_name, number, body, path, line, start_line, pr["head"]["sha"], None
            )
            return comment

    def inject(
        self,
        method: str,
        pattern: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """The next `times` requests matching METHOD and the path regex get this answer instead."""
        with self.lock:
            self.faults.append(
                Fault(
                    method.upper(),
                    re.compile(pattern),
                    status,
                    times,
                    headers or {},
                    body if body is not None else {"message": "boom"},
                )
            )

    def inject_secondary_rate_limit(
        self, method: str, pattern: str, retry_after: int = 1, times: int = 1
    ) -> None:
        self.inject(
            method,
            pattern,
            403,
            times,
            {"Retry-After": str(retry_after)},
            {
                "message": "You have exceeded a secondary rate limit. "
                "Please wait a few minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            },
        )

    def inject_pr_exists(self, full_name: str, times: int = 1) -> None:
        owner = full_name.split("/")[0]
        self.inject(
            "POST",
            rf"^/repos/{re.escape(full_name)}/pulls$",
            422,
            times,
            body={
                "message": "Validation Failed",
                "errors": [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {owner}:x.",
                    }
                ],
            },
        )

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        rx = re.compile(pattern)
        with self.lock:
            return [r for r in self.requests if r.method == method and rx.search(r.path)]

    def pulls(self, full_name: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.state.pulls.get(full_name, {}).values())

    # -- JSON shapes -------------------------------------------------------------------------------------

    def _repo_json(self, full_name: str) -> dict[str, Any]:
        repo = self.state.repos[full_name]
        owner, name = full_name.split("/")
        return {
            "id": repo.id,
            "name": name,
            "full_name": full_name,
            "private": False,
            "owner": {"login": owner, "id": 1, "type": "User", "url": f"{self.url}/users/{owner}"},
            "url": f"{self.url}/repos/{full_name}",
            "html_url": f"https://github.example/{full_name}",
            "clone_url": str(repo.git_dir),
            "default_branch": repo.default_branch,
        }

    def _pull_json(
        self,
        full_name: str,
        number: int,
        head_ref: str,
        head_sha: str,
        base_ref: str,
        base_sha: str,
        title: str,
        body: str,
        user: str,
    ) -> dict[str, Any]:
        repo = self._repo_json(full_name)
        return {
            "id": 50_000 + number,
            "number": number,
            "state": "open",
            "title": title,
            "body": body,
            "user": {"login": user, "id": 2, "type": "User"},
            "url": f"{self.url}/repos/{full_name}/pulls/{number}",
            "html_url": f"https://github.example/{full_name}/pull/{number}",
            "head": {
                "ref": head_ref,
                "sha": head_sha,
                "label": f"{full_name.split('/')[0]}:{head_ref}",
                "repo": repo,
            },
            "base": {
                "ref": base_ref,
                "sha": base_sha,
                "label": f"{full_name.split('/')[0]}:{base_ref}",
                "repo": repo,
            },
            "maintainer_can_modify": True,
            "created_at": _now(),
            "updated_at": _now(),
        }

    def _new_id(self) -> int:
        self.state.next_id += 1
        return self.state.next_id

    def _review_comment(
        self,
        full_name: str,
        number: int,
        body: str,
        path: str,
        line: int,
        start_line: int | None,
        commit_id: str,
        in_reply_to: int | None,
        review_id: int | None = None,
    ) -> dict[str, Any]:
        cid = self._new_id()
        comment = {
            "id": cid,
            "pull_request_review_id": review_id,
            "body": body,
            "path": path,
            "line": line,
            "start_line": start_line,
            "original_line": line,
            "original_start_line": start_line,
            "side": "RIGHT",
            "commit_id": commit_id,
            "original_commit_id": commit_id,
            "in_reply_to_id": in_reply_to,
            "user": {
                "login": "repairbot[bot]" if review_id or in_reply_to else "octocat",
                "type": "User",
                "id": 3,
            },
            "url": f"{self.url}/repos/{full_name}/pulls/comments/{cid}",
            "html_url": f"https://github.example/{full_name}/pull/{number}#discussion_r{cid}",
            "pull_request_url": f"{self.url}/repos/{full_name}/pulls/{number}",
            "created_at": _now(),
        }
        self.state.review_comments.setdefault((full_name, number), []).append(comment)
        return comment

    # -- routing -----------------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                path = unquote(parts.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                record = Recorded(method, path, query, {k.lower(): v for k, v in self.headers.items()}, body)
                with server.lock:
                    server.requests.append(record)
                    fault = next(
                        (
                            f
                            for f in server.faults
                            if f.times > 0 and f.method == method and f.pattern.search(path)
                        ),
                        None,
                    )
                    if fault is not None:
                        fault.times -= 1
                if fault is not None:
                    record.status = fault.status
                    self._send(fault.status, fault.body, fault.headers)
                    return
                if path == "/login/oauth/authorize" and method == "GET":  # a browser page, not the API
                    status, location = server._authorize(query)
                    record.status = status
                    if location:
                        self._send(status, None, {"Location": location})
                    else:
                        self._send(status, {"message": "not signed in to GitHub, or an unknown client"})
                    return
                try:
                    status, payload = server._dispatch(method, path, query, body, record.headers)
                except ApiError as err:
                    status, payload = err.status, err.body
                except Exception as err:  # a bug in the test server must be visible, not a hang
                    status, payload = 500, {"message": f"test server error: {type(err).__name__}: {err}"}
                record.status = status
                if isinstance(payload, Page):
                    link = {"Link": f'<{payload.next_url}>; rel="next"'} if payload.next_url else {}
                    self._send(status, payload.items, link)
                else:
                    self._send(status, payload)

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler

    def _auth_jwt(self, headers: dict[str, str]) -> None:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            raise ApiError(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(
                auth[7:], self.public_key, algorithms=["RS256"], options={"require": ["exp", "iat"]}
            )
        except jwt.PyJWTError as err:
            raise ApiError(401, f"A JSON web token could not be decoded: {err}") from None
        if str(claims.get("iss")) != self.app_id:
            raise ApiError(401, "'Issuer' claim ('iss') must be an Integer")

    def _auth_token(self, headers: dict[str, str], full_name: str | None) -> None:
        auth = headers.get("authorization", "")
        if not auth.startswith("token "):
            raise ApiError(401, "Bad credentials")
        found = self.state.tokens.get(auth[6:])
        if found is None or found[1] < datetime.now(UTC):
            raise ApiError(401, "Bad credentials")
        if full_name is not None:
            repo = self.state.repos.get(full_name)
            if repo is None:
                raise ApiError(404, "Not Found")
            if repo.installation_id != found[0]:
                raise ApiError(403, "Resource not accessible by integration")

    def _check_write(self, method: str, headers: dict[str, str]) -> None:
        token = headers.get("authorization", "")[6:]
        if method != "GET" and token in self.state.read_only:
            raise ApiError(403, "Resource not accessible by integration")

    def _authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """GitHub's authorize page for a user who is signed in and approves: straight back with a code."""
        with self.lock:
            client = self.state.oauth_client
            user = self.state.browser_user
            if client is None or query.get("client_id") != client[0] or user is None:
                return 403, ""
            code = secrets.token_hex(10)
            self.state.oauth_codes[code] = (user, time.time() + 600)
        redirect = query.get("redirect_uri", "")
        sep = "&" if "?" in redirect else "?"
        return 302, f"{redirect}{sep}code={code}&state={query.get('state', '')}"

    def _oauth_route(
        self, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, Any] | None:
        if path == "/login/oauth/access_token" and method == "POST":
            client = self.state.oauth_client
            form = body if isinstance(body, dict) else {}
            if client is None or (form.get("client_id"), form.get("client_secret")) != client:
                return 200, {"error": "incorrect_client_credentials"}
            found = self.state.oauth_codes.pop(str(form.get("code")), None)
            if found is None or found[1] < time.time():
                return 200, {"error": "bad_verification_code"}
            token = "ghu_" + secrets.token_hex(18)
            self.state.user_tokens[token] = found[0]
            return 200, {"access_token": token, "token_type": "bearer", "scope": ""}
        if not (path == "/user" or path.startswith("/user/")):
            return None
        auth = headers.get("authorization", "")
        login = self.state.user_tokens.get(auth.split(" ", 1)[-1]) if " " in auth else None
        if login is None:
            raise ApiError(401, "Bad credentials")
        visible = {r for r in self.state.user_repos.get(login.lower(), set()) if r in self.state.repos}
        if path == "/user" and method == "GET":
            return 200, {"login": login, "id": 500, "type": "User"}
        if path == "/user/installations" and method == "GET":
            ids = sorted({self.state.repos[r].installation_id for r in visible})
            installs = [
                {
                    "id": i,
                    "app_id": int(self.app_id),
                    "target_type": "Organization",
                    "account": {"login": "x"},
                }
                for i in ids
            ]
            return 200, {"total_count": len(installs), "installations": installs}
        m = re.fullmatch(r"/user/installations/(\d+)/repositories", path)
        if m and method == "GET":
            repos = [
                self._repo_json(r)
                for r in sorted(visible)
                if self.state.repos[r].installation_id == int(m.group(1))
            ]
            return 200, {"total_count": len(repos), "repositories": repos}
        raise ApiError(404, "Not Found")

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        with self.lock:
            oauth = self._oauth_route(method, path, body, headers)
            if oauth is not None:
                return oauth
            m = re.fullmatch(r"/app/installations/(\d+)/access_tokens", path)
            if m and method == "POST":
                self._auth_jwt(headers)
                inst = int(m.group(1))
                if inst not in self.state.installations:
                    raise ApiError(404, "Not Found")
                token = "ghs_" + secrets.token_hex(18)
                expires = datetime.now(UTC) + timedelta(seconds=self.token_ttl_s)
                self.state.tokens[token] = (inst, expires)
                return 201, {
                    "token": token,
                    "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "permissions": {"contents": "write", "pull_requests": "write"},
                    "repository_selection": "selected",
                }
            m = re.fullmatch(r"/repos/([^/]+/[^/]+)/installation", path)
            if m and method == "GET":
                self._auth_jwt(headers)
                repo = self.state.repos.get(m.group(1))
                if repo is None:
                    raise ApiError(404, "Not Found")
                return 200, {
                    "id": repo.installation_id,
                    "app_id": int(self.app_id),
                    "account": {"login": "x"},
                }
            m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
            if not m:
                raise ApiError(404, "Not Found")
            full_name, rest = m.group(1), m.group(2) or ""
            self._auth_token(headers, full_name)
            self._check_write(method, headers)
            return self._repo_route(method, full_name, rest, query, body)

    def _repo_route(
        self, method: str, full: str, rest: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        repo = self.state.repos[full]
        owner = full.split("/")[0]
        if rest == "" and method == "GET":
            return 200, self._repo_json(full)
        m = re.fullmatch(r"/contents/(.+)", rest)
        if m and method == "GET":
            ref = query.get("ref") or repo.default_branch
            try:
                data = subprocess.run(
                    ["git", "--git-dir", str(repo.git_dir), "show", f"{ref}:{m.group(1)}"],
                    capture_output=True,
                    check=True,
                ).stdout
            except subprocess.CalledProcessError:
                raise ApiError(404, "Not Found") from None
            return 200, {
                "type": "file",
                "encoding": "base64",
                "size": len(data),
                "name": m.group(1).rsplit("/", 1)[-1],
                "path": m.group(1),
                "content": base64.b64encode(data).decode(),
                "sha": "0" * 40,
                "url": f"{self.url}/repos/{full}/contents/{m.group(1)}",
            }
        m = re.fullmatch(r"/collaborators/([^/]+)/permission", rest)
        if m and method == "GET":
            login = m.group(1)
            role = self.state.roles.get((full, login.lower()), "read")
            return 200, {
                "permission": ROLES[role],
                "role_name": role,
                "user": {"login": login, "id": 7, "type": "User"},
            }
        m = re.fullmatch(r"/commits/([0-9a-f]{7,40})", rest)
        if m and method == "GET":
            return 200, {
                "sha": m.group(1),
                "url": f"{self.url}/repos/{full}/commits/{m.group(1)}",
                "html_url": f"https://github.example/{full}/commit/{m.group(1)}",
                "commit": {"message": ""},
            }
        m = re.fullmatch(r"/commits/([0-9a-f]{7,40})/comments", rest)
        if m and method == "GET":
            found = [c for c in self.state.commit_comments.get(full, []) if c["commit_id"] == m.group(1)]
            return 200, paginate(f"{self.url}/repos/{full}/commits/{m.group(1)}/comments", query, found)
        if m and method == "POST":
            cid = self._new_id()
            comment = {
                "id": cid,
                "body": body["body"],
                "commit_id": m.group(1),
                "url": f"{self.url}/repos/{full}/comments/{cid}",
                "html_url": f"https://github.example/{full}/commit/{m.group(1)}#commitcomment-{cid}",
            }
            self.state.commit_comments.setdefault(full, []).append(comment)
            return 201, comment
        if rest == "/pulls" and method == "GET":
            state = query.get("state", "open")
            head = query.get("head")
            found = [
                p
                for p in self.state.pulls[full].values()
                if (state == "all" or p["state"] == state)
                and (head is None or f"{owner}:{p['head']['ref']}" == head)
            ]
            # GitHub's order: by creation (or update), newest first unless direction=asc, number breaks ties.
            key = "updated_at" if query.get("sort") == "updated" else "created_at"
            found.sort(key=lambda p: (p[key], p["number"]), reverse=query.get("direction", "desc") == "desc")
            return 200, paginate(f"{self.url}/repos/{full}/pulls", query, found)
        if rest == "/pulls" and method == "POST":
            return self._create_pull(full, body)
        m = re.fullmatch(r"/pulls/comments/(\d+)", rest)
        if m:
            return self._comment_route(method, full, int(m.group(1)), body)
        m = re.fullmatch(r"/pulls/(\d+)(/.*)?", rest)
        if m:
            return self._pull_route(method, full, int(m.group(1)), m.group(2) or "", body)
        m = re.fullmatch(r"/issues/(\d+)(/comments)?", rest)
        if m:
            number = int(m.group(1))
            if m.group(2) is None and method == "GET":
                issue = self.state.issues.get((full, number))
                pull = self.state.pulls[full].get(number)
                if issue is None and pull is not None:  # every pull request is an issue too
                    issue = {
                        **{k: pull[k] for k in ("id", "number", "title", "body", "state", "user")},
                        "url": f"{self.url}/repos/{full}/issues/{number}",
                        "html_url": pull["html_url"],
                        "labels": [],
                        "pull_request": {"url": pull["url"]},
                    }
                if issue is None:
                    raise ApiError(404, "Not Found")
                return 200, issue
            if m.group(2) and method == "GET":
                return 200, self.state.issue_comments.get((full, number), [])
            if m.group(2) and method == "POST":
                cid = self._new_id()
                comment = {
                    "id": cid,
                    "body": body["body"],
                    "user": {"login": "repairbot[bot]", "type": "Bot", "id": 9},
                    "url": f"{self.url}/repos/{full}/issues/comments/{cid}",
                    "html_url": f"https://github.example/{full}/issues/{number}#issuecomment-{cid}",
                    "created_at": _now(),
                }
                self.state.issue_comments.setdefault((full, number), []).append(comment)
                return 201, comment
        if rest == "/check-runs" and method == "POST":
            rid = self._new_id()
            run = {
                **body,
                "id": rid,
                "url": f"{self.url}/repos/{full}/check-runs/{rid}",
                "html_url": f"https://github.example/{full}/runs/{rid}",
                "status": body.get("status", "queued"),
                "conclusion": body.get("conclusion"),
            }
            self.state.check_runs[rid] = run
            return 201, run
        m = re.fullmatch(r"/check-runs/(\d+)", rest)
        if m:
            check = self.state.check_runs.get(int(m.group(1)))
            if check is None:
                raise ApiError(404, "Not Found")
            if method == "PATCH":
                check.update(body)
            return 200, check
        raise ApiError(404, f"Not Found: {method} {rest}")

    def _create_pull(self, full: str, body: dict[str, Any]) -> tuple[int, Any]:
        repo = self.state.repos[full]
        owner = full.split("/")[0]
        head, base = body.get("head"), body.get("base")
        if not head or not base or not body.get("title"):
            raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "missing_field"}])
        head_ref = str(head).split(":")[-1]
        try:
            head_sha = _git(repo.git_dir, "rev-parse", f"refs/heads/{head_ref}").strip()
            base_sha = _git(repo.git_dir, "rev-parse", f"refs/heads/{base}").strip()
        except subprocess.CalledProcessError:
            raise ApiError(
                422, "Validation Failed", [{"resource": "PullRequest", "field": "head", "code": "invalid"}]
            ) from None
        for pr in self.state.pulls[full].values():
            if pr["state"] == "open" and pr["head"]["ref"] == head_ref:
                raise ApiError(
                    422,
                    "Validation Failed",
                    [
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": f"A pull request already exists for {owner}:{head_ref}.",
                        }
                    ],
                )
        number = max([*self.state.pulls[full], *(n for (f, n) in self.state.issues if f == full), 0]) + 1
        pr = self._pull_json(
            full,
            number,
            head_ref,
            head_sha,
            base,
            base_sha,
            body["title"],
            body.get("body") or "",
            "repairbot[bot]",
        )
        self.state.pulls[full][number] = pr
        return 201, pr

    def pr_files(self, full: str, number: int) -> list[dict[str, Any]]:
        repo = self.state.repos[full]
        pr = self.state.pulls[full][number]
        rng = f"{pr['base']['sha']}...{pr['head']['sha']}"
        files = []
        for name in _git(repo.git_dir, "diff", "--name-only", rng).split():
            diff = _git(repo.git_dir, "diff", "--no-color", "-U3", rng, "--", name)
            at = diff.find("\n@@")
            files.append(
                {
                    "filename": name,
                    "status": "modified",
                    "patch": diff[at + 1 :] if at >= 0 else "",
                    "sha": "0" * 40,
                }
            )
        return files

    def _pull_route(self, method: str, full: str, number: int, rest: str, body: Any) -> tuple[int, Any]:
        pr = self.state.pulls[full].get(number)
        if pr is None:
            raise ApiError(404, "Not Found")
        if rest == "" and method == "GET":
            return 200, pr
        if rest == "" and method == "PATCH":
            for key in ("title", "body", "state", "base"):
                if key in body:
                    pr[key] = body[key]
            pr["updated_at"] = _now()
            return 200, pr
        if rest == "/files" and method == "GET":
            return 200, self.pr_files(full, number)
        if rest == "/reviews" and method == "GET":
            return 200, self.state.reviews.get((full, number), [])
        if rest == "/reviews" and method == "POST":
            return self._create_review(full, number, pr, body)
        if rest == "/comments" and method == "GET":
            comments = self.state.review_comments.get((full, number), [])
            return 200, [self._comment_view(full, pr, c) for c in comments]
        if rest == "/comments" and method == "POST" and not body.get("in_reply_to"):
            return self._single_comment(full, number, pr, body)
        m = re.fullmatch(r"/reviews/(\d+)(/comments|/dismissals)?", rest)
        if m:
            return self._review_route(method, full, number, pr, int(m.group(1)), m.group(2) or "", body)
        m = re.fullmatch(r"/comments/(\d+)/replies", rest)
        if m and method == "POST":
            root = next(
                (c for c in self.state.review_comments.get((full, number), []) if c["id"] == int(m.group(1))),
                None,
            )
            if root is None:
                raise ApiError(404, "Not Found")
            return 201, self._review_comment(
                full,
                number,
                body["body"],
                root["path"],
                root["line"],
                root["start_line"],
                root["commit_id"],
                root["id"],
            )
        raise ApiError(404, f"Not Found: {method} pulls/{number}{rest}")

    def _diff_ranges(self, full: str, number: int) -> dict[str, list[tuple[int, int]]]:
        ranges: dict[str, list[tuple[int, int]]] = {}
        for f in self.pr_files(full, number):
            for m in HUNK.finditer(f["patch"]):
                start, count = int(m.group(1)), int(m.group(2) or 1)
                ranges.setdefault(f["filename"], []).append((start, start + count - 1))
        return ranges

    def _check_on_diff(self, ranges: dict[str, list[tuple[int, int]]], c: dict[str, Any]) -> None:
        line, start = int(c["line"]), int(c.get("start_line") or c["line"])
        if c.get("side", "RIGHT") != "RIGHT" or not any(
            lo <= start and line <= hi for lo, hi in ranges.get(c["path"], [])
        ):
            raise ApiError(
                422,
                "Unprocessable Entity",
                [{"message": "pull_request_review_thread.line must be part of the diff", "code": "custom"}],
            )
        if start > line:
            raise ApiError(422, "Unprocessable Entity", [{"message": "start_line must precede line"}])

    def _new_review(self, full: str, number: int, body: str, state: str, commit_id: str) -> dict[str, Any]:
        review_id = self._new_id()
        review = {
            "id": review_id,
            "body": body,
            "state": state,
            "commit_id": commit_id,
            "user": {"login": "repairbot[bot]", "type": "Bot", "id": 9},
            "html_url": f"https://github.example/{full}/pull/{number}#pullrequestreview-{review_id}",
            "pull_request_url": f"{self.url}/repos/{full}/pulls/{number}",
            "submitted_at": _now(),
        }
        self.state.reviews.setdefault((full, number), []).append(review)
        return review

    def _create_review(
        self, full: str, number: int, pr: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, Any]:
        ranges = self._diff_ranges(full, number)
        commit_id = body.get("commit_id") or pr["head"]["sha"]
        comments = body.get("comments") or []
        for c in comments:
            self._check_on_diff(ranges, c)
        state = "COMMENTED" if body.get("event") == "COMMENT" else "PENDING"
        review = self._new_review(full, number, body.get("body") or "", state, commit_id)
        for c in comments:
            self._review_comment(
                full,
                number,
                c["body"],
                c["path"],
                int(c["line"]),
                c.get("start_line"),
                commit_id,
                None,
                review["id"],
            )
        return 200, review

    def _single_comment(
        self, full: str, number: int, pr: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, Any]:
        """A review comment posted on its own: GitHub files it under a new review with an empty body."""
        if body.get("commit_id") != pr["head"]["sha"]:
            raise ApiError(422, "Validation Failed", [{"field": "commit_id", "code": "invalid"}])
        self._check_on_diff(self._diff_ranges(full, number), body)
        review = self._new_review(full, number, "", "COMMENTED", body["commit_id"])
        comment = self._review_comment(
            full,
            number,
            body["body"],
            body["path"],
            int(body["line"]),
            body.get("start_line"),
            body["commit_id"],
            None,
            review["id"],
        )
        return 201, self._comment_view(full, pr, comment)

    def _review_route(
        self, method: str, full: str, number: int, pr: dict[str, Any], review_id: int, rest: str, body: Any
    ) -> tuple[int, Any]:
        review = next((r for r in self.state.reviews.get((full, number), []) if r["id"] == review_id), None)
        if review is None:
            raise ApiError(404, "Not Found")
        if rest == "" and method == "GET":
            return 200, review
        if rest == "" and method == "PUT":
            if not isinstance(body, dict) or "body" not in body:
                raise ApiError(422, "Validation Failed", [{"field": "body", "code": "missing_field"}])
            review["body"] = body["body"]
            return 200, review
        if rest == "/comments" and method == "GET":
            comments = self.state.review_comments.get((full, number), [])
            return 200, [
                self._comment_view(full, pr, c) for c in comments if c["pull_request_review_id"] == review_id
            ]
        if rest == "/dismissals" and method == "PUT":
            if review["state"] not in ("APPROVED", "CHANGES_REQUESTED"):
                raise ApiError(422, "Can not dismiss a commented pull request review")
            review["state"] = "DISMISSED"
            return 200, review
        raise ApiError(404, f"Not Found: {method} reviews/{review_id}{rest}")

    def _comment_route(self, method: str, full: str, cid: int, body: Any) -> tuple[int, Any]:
        for (name, number), comments in self.state.review_comments.items():
            for comment in comments:
                if name != full or comment["id"] != cid:
                    continue
                pr = self.state.pulls[full][number]
                if method == "GET":
                    return 200, self._comment_view(full, pr, comment)
                if method == "PATCH":
                    comment["body"] = body["body"]
                    return 200, self._comment_view(full, pr, comment)
                if method == "DELETE":
                    comments.remove(comment)
                    return 204, None
                raise ApiError(404, f"Not Found: {method} pulls/comments/{cid}")
        raise ApiError(404, "Not Found")

    def _comment_view(self, full: str, pr: dict[str, Any], comment: dict[str, Any]) -> dict[str, Any]:
        """The comment where GitHub shows it on the pull request's current head."""
        view = dict(comment)
        head = pr["head"]["sha"]
        if comment["original_commit_id"] == head:
            return view
        diff = _git(
            self.state.repos[full].git_dir,
            "diff", "--no-color", "-U0", comment["original_commit_id"], head, "--", comment["path"],
        )  # fmt: skip
        first = comment["original_start_line"] or comment["original_line"]
        moved = [_moved_line(diff, n) for n in (first, comment["original_line"])]
        if None in moved:
            view.update(line=None, start_line=None, position=None, commit_id=comment["original_commit_id"])
        else:
            start = moved[0] if comment["original_start_line"] else None
            view.update(line=moved[1], start_line=start, commit_id=head)
        return view


def _moved_line(diff: str, line: int) -> int | None:
    """Where old line `line` is after `diff` (unified, -U0), or None when the diff changed it."""
    shift = 0
    for m in re.finditer(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@", diff, re.MULTILINE):
        start, old = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
        new = int(m.group(3) if m.group(3) is not None else 1)
        if old == 0:  # an insertion after old line `start`
            if line > start:
                shift += new
        elif start <= line < start + old:
            return None
        elif line >= start + old:
            shift += new - old
    return line + shift


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


Callback = Callable[[Recorded], None]


# -- helpers shared by the App's tests ---------------------------------------------------------------------


def _payloads_dir() -> Path:
    """The recorded payloads: $REPAIRBOT_PAYLOADS, else ../shared beside the checkout (as CI lays it out)."""
    import os

    here = Path(__file__).resolve().parents[2]
    beside = here.parent / "shared" / "github-webhook-payloads"
    fixed = Path("/work/shared/github-webhook-payloads")
    for candidate in (os.environ.get("REPAIRBOT_PAYLOADS"), beside, fixed):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return here.parent / "shared" / "github-webhook-payloads"


PAYLOADS = _payloads_dir()


def make_app_key() -> tuple[str, str]:
    """A throwaway RSA key pair for the App: (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def run_git(cwd: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(cwd),
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def init_remote(root: Path, files: dict[str, str], branch: str = "main") -> tuple[Path, Path, str]:
    """A bare repository (the "GitHub" remote) and a developer clone with `files` committed and pushed.
    Returns (bare, clone, sha)."""
    bare = root / "remote.git"
    clone = root / "dev"
    bare.mkdir(parents=True)
    run_git(bare, "init", "--quiet", "--bare", f"--initial-branch={branch}")
    clone.mkdir()
    run_git(clone, "init", "--quiet", f"--initial-branch={branch}")
    run_git(clone, "remote", "add", "origin", str(bare))
    return bare, clone, commit_push(clone, files, branch, "initial")


def commit_push(clone: Path, files: dict[str, str], branch: str, message: str) -> str:
    for rel, text in files.items():
        path = clone / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    run_git(clone, "add", "--all")
    run_git(clone, "commit", "--quiet", "-m", message)
    run_git(clone, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
    return run_git(clone, "rev-parse", "HEAD").strip()


def payload(
    relative: str, full_name: str, clone_url: Path | str, installation_id: int = 1, **top: Any
) -> dict[str, Any]:
    """A recorded webhook payload pointed at our repository, remote and installation; `top` overrides keys."""
    data = json.loads((PAYLOADS / relative).read_text())
    owner, name = full_name.split("/")
    repo = data.get("repository")
    if isinstance(repo, dict):
        repo.update(
            full_name=full_name,
            name=name,
            clone_url=str(clone_url),
            default_branch="main",
            url=f"https://api.github.example/repos/{full_name}",
        )
        repo["owner"] = {**repo.get("owner", {}), "login": owner}
    data["installation"] = {"id": installation_id, "node_id": "x"}
    data.update(top)
    return fresh(data)


def push_event(
    clone_url: Path | str, after: str, full_name: str = "octo/widgets", **top: Any
) -> dict[str, Any]:
    """A push of `after` to main (recorded payload, fresh)."""
    return payload(
        "push/payload.json", full_name, clone_url, ref="refs/heads/main", after=after, deleted=False, **top
    )


def post_webhook(url: str, event: str, body: dict[str, Any] | bytes, delivery: str) -> httpx.Response:
    """POST a delivery signed with the App's secret, as GitHub sends it."""
    from webhooks.app import signature

    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature(SECRET, raw),
        "Content-Type": "application/json",
    }
    return httpx.post(f"{url}/webhook", content=raw, headers=headers, timeout=30)


def drain(huey: Any, timeout: float = 300) -> None:
    """Run queued and scheduled tasks in this process through Huey until nothing is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = huey.dequeue()
        if task is not None:
            huey.execute(task)
            continue
        for due in huey.read_schedule(huey._get_timestamp()):
            huey.enqueue(due)
        if huey.pending_count() == 0 and huey.scheduled_count() == 0:
            return
        time.sleep(0.05)
    raise AssertionError("queue did not drain")


def fresh(data: dict[str, Any], at: float | None = None) -> dict[str, Any]:
    """The event's time fields set to `at` (now): GitHub delivers events as they happen, and the App refuses
    a signed body whose event is days old (a replay)."""
    when = time.time() if at is None else at
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
    repo = data.get("repository")
    if isinstance(repo, dict) and "pushed_at" in repo:
        repo["pushed_at"] = int(when)
    for key in ("issue", "pull_request", "comment"):
        item = data.get(key)
        if isinstance(item, dict):
            for stamp in ("created_at", "updated_at"):
                if stamp in item:
                    item[stamp] = iso
    return data


class LiveServer:
    """An ASGI app under a real uvicorn server on 127.0.0.1:random port, in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


APP_ID = "4242"
SECRET = "It's a Secret to Everybody"


@pytest.fixture(scope="session")
def app_key() -> tuple[str, str]:
    return make_app_key()


@pytest.fixture
def github(app_key: tuple[str, str]) -> Iterator[GitHubServer]:
    with GitHubServer(APP_ID, app_key[1]) as server:
        yield server


@pytest.fixture
def make_settings(tmp_path: Path, github: GitHubServer, app_key: tuple[str, str]) -> Callable[..., Any]:
    from repairbot.config import Settings

    def make(**over: Any) -> Settings:
        values: dict[str, Any] = {
            "webhook_secret": SECRET,
            "app_id": APP_ID,
            "private_key": app_key[0],
            "github_api_url": github.url,
            "data_dir": tmp_path / "data",
            "sandbox": "local",
            "seconds_between_writes": 0.0,
            "seconds_between_requests": 0.0,
            "secondary_rate_wait": 1.0,
            "http_retries": 3,
            "retry_base_s": 0.2,
            "job_lease_s": 30.0,
            # Tests read the outcome from the answer: wait for the recording however loaded the machine is.
            "webhook_ack_wait_s": 10.0,
        }
        values.update(over)
        return Settings(**values)

    return make


def settings_env(settings: Any) -> dict[str, str]:
    """The REPAIRBOT_* environment that reproduces `settings` in a subprocess."""
    return {
        "REPAIRBOT_WEBHOOK_SECRET": settings.webhook_secret,
        "REPAIRBOT_APP_ID": str(settings.app_id),
        "REPAIRBOT_PRIVATE_KEY": settings.private_key,
        "REPAIRBOT_GITHUB_API_URL": settings.github_api_url,
        "REPAIRBOT_DATA_DIR": str(settings.data_dir),
        "REPAIRBOT_SANDBOX": settings.sandbox,
        "REPAIRBOT_GITHUB_WRITE_INTERVAL": str(settings.seconds_between_writes),
        "REPAIRBOT_GITHUB_REQUEST_INTERVAL": str(settings.seconds_between_requests),
        "REPAIRBOT_GITHUB_SECONDARY_RATE_WAIT": str(settings.secondary_rate_wait),
        "REPAIRBOT_RETRY_BASE_S": str(settings.retry_base_s),
        "REPAIRBOT_JOB_LEASE_S": str(settings.job_lease_s),
        **({"REPAIRBOT_ENGINE": settings.engine} if settings.engine else {}),
        **({"REPAIRBOT_DATABASE_URL": settings.database_url} if settings.database_url else {}),
        **({"REPAIRBOT_QUEUE_URL": settings.queue_url} if settings.queue_url else {}),
    }
