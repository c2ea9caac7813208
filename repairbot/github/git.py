"""Git with an installation token that is never written to disk.

The token travels in an `http.extraHeader` given through GIT_CONFIG_COUNT/KEY/VALUE environment variables
(git ≥ 2.31): it is not in the remote URL, not in `.git/config`, not in the process arguments, and the
checkout handed to a sandbox carries no credential.
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from repairbot import diffs
from repairbot.errors import RepairbotError
from repairbot.paths import UnsafePath, inside


class GitError(RepairbotError):
    """A git command failed (the message carries git's own words, never the token)."""


def _env(token: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_CONFIG")}
    env["GIT_TERMINAL_PROMPT"] = "0"
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env["GIT_CONFIG_COUNT"] = "1"
        env["GIT_CONFIG_KEY_0"] = "http.extraHeader"
        env["GIT_CONFIG_VALUE_0"] = f"Authorization: Basic {basic}"
    return env


def git(
    args: Sequence[str], cwd: Path | None = None, token: str | None = None, stdin: str | None = None
) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=_env(token),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        message = detail[-1] if detail else f"exit {proc.returncode}"
        if token:
            message = message.replace(token, "***")
        raise GitError(f"git {args[0]} failed: {message}")
    return proc.stdout


def checkout(url: str, dest: Path, sha: str, token: str | None, extra_refs: Sequence[str] = ()) -> Path:
    """A fresh clone of `url` at `sha` in `dest` (detached). `extra_refs` are fetched too (pull/N/head)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    git(["clone", "--quiet", "--no-checkout", url, str(dest)], token=token)
    for ref in extra_refs:
        git(
            ["fetch", "--quiet", "origin", f"+{ref}:refs/remotes/origin/{ref.removeprefix('refs/')}"],
            dest,
            token,
        )
    git(["checkout", "--quiet", "--detach", sha], dest)
    return dest


def apply_diff(repo: Path, diff: str) -> list[str]:
    """Apply a unified diff (a/ b/ prefixes) to the work tree; returns the paths it touches. Every path is
    checked to stay in the work tree first (git refuses `..` and writes beyond a symlink too; this says
    which path and why, before anything is written)."""
    paths = diffs.paths(diff)
    for path in paths:
        if inside(repo, path).is_symlink():
            raise UnsafePath(f"refusing to patch {path!r}: it is a symlink in the repository")
    git(["apply", "--whitespace=nowarn", "-"], repo, stdin=diff if diff.endswith("\n") else diff + "\n")
    return paths


def commit(repo: Path, paths: Sequence[str], message: str, name: str, email: str) -> str:
    git(["add", "--all", "--", *paths], repo)
    identity = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
    git([*identity, "commit", "--quiet", "--no-verify", "-m", message], repo)
    return git(["rev-parse", "HEAD"], repo).strip()


def push(repo: Path, branch: str, token: str | None) -> None:
    """Force-push HEAD to `branch`: the branch belongs to repairbot, and a retried job must converge."""
    git(["push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{branch}"], repo, token)


def remote_sha(url: str, branch: str, token: str | None) -> str | None:
    out = git(["ls-remote", url, f"refs/heads/{branch}"], token=token).split()
    return out[0] if out else None
