"""Settings from the environment and the repository configuration `.github/repairbot.yml`, as typed models.

Both are validated with pydantic; a bad value becomes a `BadInput` whose message names the key and the problem
(an invalid repository file is shown to users in a comment, so the message must be readable on its own).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from fnmatch import fnmatch
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from repairbot.errors import BadInput
from repairbot.plugins import generator_names
from repairbot.testing.runs import split_command

DEFAULT_API_URL = "https://api.github.com"
REPO_CONFIG_PATH = ".github/repairbot.yml"
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MiB


class RepoConfigError(BadInput):
    """`.github/repairbot.yml` cannot be used; the message is meant for a comment on GitHub."""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "repairbot"


class Settings(BaseModel):
    """Process settings, read from REPAIRBOT_* environment variables by `Settings.from_env`."""

    model_config = ConfigDict(frozen=True)

    webhook_secret: str = ""
    app_id: str | None = None
    private_key: str | None = None  # PEM text (a path in the environment is read by from_env)
    github_api_url: str = DEFAULT_API_URL
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None  # None: sqlite file in data_dir
    queue_url: str | None = None  # None: embedded SqliteHuey in data_dir; redis://… for RedisHuey
    sandbox: str = "docker"
    engine: str | None = None  # "module:function" replacing repairbot.pipeline.repair (deployments, tests)
    # GitHub asks integrators to space writes (content-creating requests) by at least a second.
    seconds_between_writes: float = 1.0
    seconds_between_requests: float = 0.25
    secondary_rate_wait: float = 60.0
    http_retries: int = 5
    job_lease_s: float = 120.0  # a running job renews its lease; an expired lease means its worker died
    job_attempts: int = 4
    retry_base_s: float = 15.0  # backoff: base, 2·base, 4·base, …
    bot_name: str = "repairbot[bot]"
    bot_email: str | None = None
    # The webhook answers with the recorded outcome when the database records it within this wait, and 202
    # "accepted" (recording continues) when it does not: a slow database never slows the acknowledgement.
    webhook_ack_wait_s: float = Field(default=0.01, ge=0, le=10)
    # A signed body whose event happened longer ago than this is a replay (GitHub lets an owner redeliver
    # for 3 days).
    max_delivery_age_s: float = Field(default=4 * 86400, gt=0)
    permission_cache_s: float = Field(default=60.0, ge=0)  # collaborator permissions, per repo and user
    # The dashboard (GET /runs): a GitHub OAuth sign-in with the App's client id and secret.
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    public_url: str | None = None  # how browsers reach this server (the OAuth callback); None: the request's
    session_ttl_s: float = Field(default=8 * 3600, gt=0)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'repairbot.db'}"

    @property
    def commit_email(self) -> str:
        if self.bot_email:
            return self.bot_email
        # GitHub attributes commits to an App's bot account through this noreply form.
        return f"{self.app_id or '0'}+{self.bot_name}@users.noreply.github.com"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(f"REPAIRBOT_{name}")
            return value if value not in (None, "") else None

        values: dict[str, object] = {}
        plain = {
            "WEBHOOK_SECRET": "webhook_secret",
            "APP_ID": "app_id",
            "GITHUB_API_URL": "github_api_url",
            "DATA_DIR": "data_dir",
            "DATABASE_URL": "database_url",
            "QUEUE_URL": "queue_url",
            "SANDBOX": "sandbox",
            "ENGINE": "engine",
            "GITHUB_WRITE_INTERVAL": "seconds_between_writes",
            "GITHUB_REQUEST_INTERVAL": "seconds_between_requests",
            "GITHUB_SECONDARY_RATE_WAIT": "secondary_rate_wait",
            "GITHUB_RETRIES": "http_retries",
            "JOB_LEASE_S": "job_lease_s",
            "JOB_ATTEMPTS": "job_attempts",
            "RETRY_BASE_S": "retry_base_s",
            "BOT_NAME": "bot_name",
            "BOT_EMAIL": "bot_email",
            "WEBHOOK_ACK_WAIT_S": "webhook_ack_wait_s",
            "MAX_DELIVERY_AGE_S": "max_delivery_age_s",
            "PERMISSION_CACHE_S": "permission_cache_s",
            "OAUTH_CLIENT_ID": "oauth_client_id",
            "OAUTH_CLIENT_SECRET": "oauth_client_secret",
            "PUBLIC_URL": "public_url",
            "SESSION_TTL_S": "session_ttl_s",
        }
        for var, key in plain.items():
            value = get(var)
            if value is not None:
                values[key] = value
        key_value = get("PRIVATE_KEY")
        if key_value is not None:
            values["private_key"] = _read_private_key(key_value)
        try:
            return cls.model_validate(values)
        except ValidationError as err:
            raise BadInput(f"invalid REPAIRBOT_* setting: {_first_error(err)}") from None

    @field_validator("github_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


def _read_private_key(value: str) -> str:
    if "-----BEGIN" in value:
        # Environments often flatten newlines into literal "\n".
        return value.replace("\\n", "\n")
    path = Path(value).expanduser()
    if not path.is_file():
        raise BadInput(
            f"REPAIRBOT_PRIVATE_KEY is neither PEM text nor a readable file: {value}",
            hint="download the App's private key (.pem) and give its path or contents",
        )
    return path.read_text()


Trigger = Literal["push", "issues", "pull_request", "comments"]


class Triggers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    push: bool = True
    issues: bool = True
    pull_request: bool = True
    comments: bool = True  # `/repairbot fix` and `/repairbot suggest`


class RepoConfig(BaseModel):
    """`.github/repairbot.yml`. Every key is optional; unknown keys are errors (typos must not pass
    silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    triggers: Triggers = Field(default_factory=Triggers)
    branches: tuple[str, ...] = ()  # push branches (fnmatch patterns); empty: the default branch only
    labels: tuple[str, ...] = ("bug",)
    test_command: tuple[str, ...] | None = None
    budget: float = Field(default=300.0, gt=0, le=3600)
    max_open_prs: int = Field(default=3, ge=0, le=100)
    prs_per_hour: int = Field(default=2, ge=0, le=100)
    # Queued and running jobs at once, of the repository and of one author in it; more are recorded as
    # skipped ("limited") and not run.
    max_jobs: int = Field(default=30, ge=1, le=10_000)
    max_jobs_per_author: int = Field(default=10, ge=1, le=10_000)
    # A maintainer's label that approves running an outsider's pull request head or issue code.
    approval_label: str = Field(default="repairbot:approved", min_length=1, max_length=50)
    ignored_paths: tuple[str, ...] = ()
    generators: tuple[str, ...] = ("rules", "mask", "tests")
    image: str | None = None
    prefer: Literal["code", "test", "auto"] = "auto"
    # Where the Action runs the tests (its `sandbox` input overrides this). The App ignores the key: its
    # operator chooses where a server runs other people's code, never a repository.
    sandbox: Literal["docker", "local"] | None = None
    # Pull requests only for patches assessed at least this confident; below it the patch is posted as a
    # comment (push: on the commit; issue: on the issue) for a person to judge.
    min_confidence: Literal["low", "medium", "high"] = "high"

    def opens_pr(self, confidence: str | None) -> bool:
        """Is a patch of this confidence proposed as a pull request? (Not assessed counts as medium.)"""
        levels = {"low": 0, "medium": 1, "high": 2}
        return levels.get(confidence or "medium", 1) >= levels[self.min_confidence]

    @field_validator("test_command", mode="before")
    @classmethod
    def _split_command(cls, value: object) -> object:
        if isinstance(value, str):
            parts = split_command(value)
            if not parts:
                raise ValueError("must not be empty")
            return tuple(parts)
        return value

    @field_validator("branches", "labels", "ignored_paths", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("generators")
    @classmethod
    def _some_generator(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one generator")
        # Plugins registered under the `repairbot.generators` entry point are as valid as the built-ins.
        known = generator_names()
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown generator {unknown[0]!r} (known: {', '.join(known)})")
        return value

    def watches_branch(self, branch: str, default_branch: str) -> bool:
        if not self.branches:
            return branch == default_branch
        return any(fnmatch(branch, pattern) for pattern in self.branches)

    def ignores(self, path: str) -> bool:
        return any(fnmatch(path, pattern) for pattern in self.ignored_paths)


def _first_error(err: ValidationError) -> str:
    return "; ".join(_describe(e) for e in err.errors()[:5])


def _describe(error: Mapping[str, object]) -> str:
    loc = error.get("loc") or ()
    where = (
        ".".join(str(part) for part in loc if isinstance(part, str | int)) if isinstance(loc, tuple) else ""
    )
    if error.get("type") == "extra_forbidden":
        return f"unknown key `{where}`"
    got = error.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    return f"`{where or 'file'}`: {error.get('msg')}{shown}"


def load_repo_config(text: str | bytes | None) -> RepoConfig:
    """Parse and validate `.github/repairbot.yml`; None (no file) gives the defaults."""
    if text is None:
        return RepoConfig()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise RepoConfigError(f"{REPO_CONFIG_PATH} is not valid YAML{where}: {problem}") from None
    if data is None:
        return RepoConfig()
    if not isinstance(data, dict):
        raise RepoConfigError(
            f"{REPO_CONFIG_PATH} must be a mapping of keys to values, not {type(data).__name__}"
        )
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as err:
        raise RepoConfigError(f"{REPO_CONFIG_PATH} is invalid: {_first_error(err)}") from None
