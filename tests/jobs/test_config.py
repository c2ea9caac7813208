"""Settings from the environment and `.github/repairbot.yml` validation (repairbot/config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from repairbot.config import RepoConfig, RepoConfigError, Settings, load_repo_config
from repairbot.errors import BadInput


def test_settings_from_env_with_key_path(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    s = Settings.from_env(
        {
            "REPAIRBOT_WEBHOOK_SECRET": "s",
            "REPAIRBOT_APP_ID": "12",
            "REPAIRBOT_PRIVATE_KEY": str(key),
            "REPAIRBOT_GITHUB_API_URL": "http://127.0.0.1:9/",
            "REPAIRBOT_DATA_DIR": str(tmp_path / "d"),
            "REPAIRBOT_QUEUE_URL": "redis://localhost:6379/0",
        }
    )
    assert s.private_key is not None and s.private_key.startswith("-----BEGIN PRIVATE KEY-----")
    assert s.github_api_url == "http://127.0.0.1:9"
    assert s.db_url == f"sqlite:///{tmp_path / 'd' / 'repairbot.db'}"
    assert s.queue_url == "redis://localhost:6379/0"
    assert s.commit_email == "12+repairbot[bot]@users.noreply.github.com"


def test_settings_private_key_as_text_with_escaped_newlines() -> None:
    s = Settings.from_env(
        {"REPAIRBOT_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\\nx\\n-----END RSA PRIVATE KEY-----"}
    )
    assert s.private_key == "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----"


def test_settings_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="neither PEM text nor a readable file"):
        Settings.from_env({"REPAIRBOT_PRIVATE_KEY": str(tmp_path / "missing.pem")})
    with pytest.raises(BadInput, match="job_lease_s"):
        Settings.from_env({"REPAIRBOT_JOB_LEASE_S": "soon"})


def test_repo_config_defaults_and_values() -> None:
    assert load_repo_config(None) == RepoConfig()
    assert load_repo_config("") == RepoConfig()
    cfg = load_repo_config(
        "triggers: {issues: false}\nbranches: [main, 'release/*']\nlabels: crash\n"
        "test_command: pytest -x tests\n"
        "budget: 120\nmax_open_prs: 1\nprs_per_hour: 5\nignored_paths: ['docs/*']\ngenerators: [rules]\n"
        "image: python:3.12-slim\nprefer: test\n"
    )
    assert cfg.triggers.issues is False and cfg.triggers.push is True
    assert cfg.watches_branch("release/1.2", "main") and not cfg.watches_branch("dev", "main")
    assert RepoConfig().watches_branch("trunk", "trunk") and not RepoConfig().watches_branch("dev", "trunk")
    assert cfg.labels == ("crash",) and cfg.test_command == ("pytest", "-x", "tests")
    assert cfg.budget == 120 and cfg.max_open_prs == 1 and cfg.prs_per_hour == 5
    assert cfg.ignores("docs/index.md") and not cfg.ignores("src/x.py")
    assert cfg.generators == ("rules",) and cfg.image == "python:3.12-slim" and cfg.prefer == "test"
    assert RepoConfig().max_open_prs == 3 and RepoConfig().labels == ("bug",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("budget: -1\n", "`budget`: Input should be greater than 0 (got -1)"),
        ("colour: blue\n", "unknown key `colour`"),
        ("generators: [magic]\n", "unknown generator 'magic' (known: guards, llm, mask, rules, tests"),
        ("prefer: maybe\n", "`prefer`"),
        ("triggers: {push: perhaps}\n", "`triggers.push`"),
        ("- a\n- b\n", "must be a mapping"),
        ("budget: [1\n", "not valid YAML at line"),
    ],
)
def test_invalid_repo_config_gives_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(RepoConfigError) as info:
        load_repo_config(text)
    assert str(info.value).startswith(".github/repairbot.yml")
    assert message in str(info.value)
