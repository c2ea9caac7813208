"""The dashboard, GET /runs, behind a GitHub sign-in: each user sees the runs of the repositories GitHub says
they can see through this App's installations, and nothing without signing in.

The sign-in is the App's own OAuth flow (the web application flow of a GitHub App: a user-to-server token):
`/login` sends the browser to GitHub with a random `state` (kept in a short-lived cookie, compared on return),
`/oauth/callback` exchanges the code for a token (PyGithub), asks GitHub for the user's installations of the
App and their repositories (`GET /user/installations`, `GET /user/installations/{id}/repositories`), and
keeps only that list in a session: the token itself is not stored. The session cookie is random, HttpOnly,
SameSite=Lax (Secure over https); the database keeps its hash. A session lasts `session_ttl_s`; a user who
loses access stops seeing the runs when it ends.

Without REPAIRBOT_OAUTH_CLIENT_ID and REPAIRBOT_OAUTH_CLIENT_SECRET the dashboard is off (404): the runs of
private repositories (errors, whole patches) are never public.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from html import escape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from github import Auth, Github, GithubException
from github.Installation import Installation
from github.PaginatedList import PaginatedList
from github.Repository import Repository

from repairbot.config import Settings
from repairbot.jobs.store import Store
from webhooks.runs_page import render_page, render_runs

log = logging.getLogger("repairbot.webhooks")
SESSION_COOKIE = "repairbot_session"
STATE_COOKIE = "repairbot_oauth_state"
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def _key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def _page(status: int, title: str, body: str) -> HTMLResponse:
    return HTMLResponse(render_page(title, body), status_code=status, headers=HEADERS)


class OAuth:
    """The App's OAuth client, through PyGithub (github.com, GitHub Enterprise, or the local test server)."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oauth_client_id and settings.oauth_client_secret
        self.settings = settings
        self.app = Github(base_url=settings.github_api_url).get_oauth_application(
            settings.oauth_client_id, settings.oauth_client_secret
        )

    def login_url(self, redirect_uri: str, state: str) -> str:
        return self.app.get_login_url(redirect_uri=redirect_uri, state=state)

    def sign_in(self, code: str) -> tuple[str, list[str]]:
        """(login, repositories the user can see through this App's installations)."""
        token = self.app.get_access_token(code)
        if not getattr(token, "token", None):
            raise PermissionError("GitHub refused the sign-in code")
        gh = Github(auth=Auth.Token(token.token), base_url=self.settings.github_api_url)
        user = gh.get_user()
        repos: set[str] = set()
        for inst in user.get_installations():
            repos |= {r.full_name for r in _installation_repos(gh, inst)}
        return user.login, sorted(repos)


def _installation_repos(gh: Github, inst: Installation) -> PaginatedList[Repository]:
    """GET /user/installations/{id}/repositories: the installation's repositories this user can access."""
    return PaginatedList(
        Repository,
        gh.requester,
        f"/user/installations/{inst.id}/repositories",
        None,
        list_item="repositories",
    )


def mount_dashboard(app: FastAPI, settings: Settings, store: Store) -> None:
    oauth = OAuth(settings) if settings.oauth_client_id and settings.oauth_client_secret else None

    def base_url(request: Request) -> str:
        return (settings.public_url or str(request.base_url)).rstrip("/")

    def secure(request: Request) -> bool:
        return base_url(request).startswith("https://")

    @app.get("/runs", response_class=HTMLResponse)
    def runs(request: Request, limit: int = 50) -> HTMLResponse:
        if oauth is None:
            return _page(404, "Not found", "<p>The dashboard is off: it needs the App's OAuth client.</p>")
        cookie = request.cookies.get(SESSION_COOKIE)
        found = store.session(_key(cookie)) if cookie else None
        if found is None:
            return _page(
                401,
                "Sign in",
                "<h1>repairbot</h1><p>The runs are shown to people who can see their repositories.</p>"
                '<p><a id="sign-in" href="login">Sign in with GitHub</a></p>',
            )
        login, repos = found
        shown = store.recent_runs_of(repos, max(1, min(limit, 500)))
        signed = (
            f'<p class="who">Signed in as <b id="login">{escape(login)}</b> ({len(repos)} repositories). '
            '<form method="post" action="logout" style="display:inline">'
            '<button type="submit">Sign out</button></form></p>'
        )
        return HTMLResponse(render_runs(shown, signed), headers=HEADERS)

    @app.get("/login")
    def login(request: Request) -> Response:
        if oauth is None:
            return _page(404, "Not found", "<p>The dashboard is off.</p>")
        state = secrets.token_urlsafe(24)
        response = RedirectResponse(oauth.login_url(f"{base_url(request)}/oauth/callback", state), 302)
        response.set_cookie(
            STATE_COOKIE, state, max_age=600, httponly=True, samesite="lax", secure=secure(request)
        )
        return response

    @app.get("/oauth/callback")
    def callback(request: Request, code: str = "", state: str = "") -> Response:
        if oauth is None:
            return _page(404, "Not found", "<p>The dashboard is off.</p>")
        expected = request.cookies.get(STATE_COOKIE) or ""
        if not code or not state or not hmac.compare_digest(state.encode(), expected.encode()):
            return _page(400, "Sign-in failed", "<p>The sign-in did not start here; start it again.</p>")
        try:
            user, repos = oauth.sign_in(code)
        except (GithubException, PermissionError, KeyError, ValueError) as err:
            log.warning("dashboard sign-in failed: %s", err)
            return _page(403, "Sign-in failed", "<p>GitHub did not confirm the sign-in.</p>")
        cookie = secrets.token_urlsafe(32)
        store.create_session(_key(cookie), user, repos, settings.session_ttl_s)
        log.info("dashboard: %s signed in (%d repositories)", user, len(repos))
        response = RedirectResponse(f"{base_url(request)}/runs", 302)
        response.delete_cookie(STATE_COOKIE)
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=int(settings.session_ttl_s),
            httponly=True,
            samesite="lax",
            secure=secure(request),
        )
        return response

    @app.post("/logout")
    def logout(request: Request) -> Response:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            store.delete_session(_key(cookie))
        response = RedirectResponse(f"{base_url(request)}/runs", 303)
        response.delete_cookie(SESSION_COOKIE)
        return response


__all__ = ["HEADERS", "OAuth", "mount_dashboard"]
