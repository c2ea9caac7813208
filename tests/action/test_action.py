"""`repairbot action` called directly, as action.yml's repair step calls it: inputs from INPUT_*, results in
GITHUB_OUTPUT, the job summary and annotations. The runner-level scenarios are in test_runner_scenarios.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from repairbot.action import annotation
from tests.support.actions_runner import parse_command, read_file_command
from tests.support.github_server import run_git

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "moving_average"
TOKEN = "ghs_secret_token_value_42"

# A dependency that runs code when it is installed (setup.py): it records the environment it saw.
SPY_SETUP = """
import json, os, pathlib
from setuptools import setup
out = pathlib.Path(__file__).resolve().parent.parent / "seen-env.json"
out.write_text(json.dumps(dict(os.environ)))
setup(name="spydep", version="1.0", py_modules=["spydep"])
"""


def action_env(tmp_path: Path, root: Path, **inputs: str) -> tuple[dict[str, str], Path, Path]:
    summary, outputs, temp = tmp_path / "summary.md", tmp_path / "out.txt", tmp_path / "runner"
    temp.mkdir(exist_ok=True)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": "0" * 40, "ref": "refs/heads/main"}))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))},
        "GITHUB_WORKSPACE": str(root),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "RUNNER_TEMP": str(temp),
        "INPUT_GITHUB_TOKEN": TOKEN,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-secret",
        **{f"INPUT_{k.upper().replace('-', '_')}": v for k, v in inputs.items()},
    }
    return env, summary, outputs


def run_action(env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "repairbot", "action"], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)  # fmt: skip


def test_local_sandbox_installs_the_projects_dependencies_apart_and_without_the_token(tmp_path: Path) -> None:
    """sandbox: local runs the tests on the runner: their dependencies go into a virtualenv of their own
    (never repairbot's), installed by a process that has no token, and the tests import them from there."""
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    (root / "stats.py").write_text("import spydep  # noqa: F401\n" + (EXAMPLE / "stats.py").read_text())
    spy = tmp_path / "spydep"
    spy.mkdir()
    (spy / "setup.py").write_text(SPY_SETUP)
    (spy / "spydep.py").write_text("VALUE = 1\n")
    (root / "requirements.txt").write_text(f"{spy}\n")
    env, summary, outputs = action_env(tmp_path, root, sandbox="local", budget="120")
    proc = run_action(env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    values = read_file_command(outputs)
    assert values["status"] == "fixed" and values["kind"] == "code", proc.stdout + proc.stderr
    assert "+    for start in range(len(values) - window + 1):" in Path(values["patch-file"]).read_text()
    report = json.loads(Path(values["report-file"]).read_text())
    assert report["schema_version"] == 1 and report["status"] == "fixed"
    assert "repairbot-project-venv" in report["sandbox"]
    venv = tmp_path / "runner" / "repairbot-project-venv"
    found = subprocess.run([str(venv / "bin" / "python"), "-c", "import spydep, pytest"], check=False)
    assert found.returncode == 0
    mine = subprocess.run([sys.executable, "-c", "import spydep"], capture_output=True, check=False)
    assert mine.returncode != 0, "the project's dependency went into repairbot's interpreter"
    seen = json.loads((tmp_path / "seen-env.json").read_text())
    assert not [k for k, v in seen.items() if TOKEN in v or "oidc-request-secret" in v or "TOKEN" in k]
    text = summary.read_text()
    assert (
        text.startswith("## repairbot") and "```diff" in text and "0 failing: the whole suite passes" in text
    )
    assert TOKEN not in text + proc.stdout + proc.stderr
    assert (root / "stats.py").read_text().count("range(len(values) - window):") == 1  # never --apply


def test_bad_budget_is_one_annotated_error(tmp_path: Path) -> None:
    env, summary, outputs = action_env(tmp_path, tmp_path, budget="soon")
    proc = run_action(env, timeout=60)
    assert proc.returncode == 2 and proc.stderr == ""
    (line,) = proc.stdout.splitlines()
    found = parse_command(line)
    assert found is not None and found.level == "error" and found.title == "repairbot"
    assert found.message == "input budget must be a number of seconds, not 'soon'"
    assert read_file_command(outputs)["status"] == "error"
    assert "input budget must be a number" in summary.read_text()


def test_pull_request_target_refuses_a_forks_code_on_the_runner(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    env, _, _ = action_env(tmp_path, root, sandbox="local")
    head = {"sha": "a" * 40, "ref": "x", "repo": {"full_name": "evil/r"}}
    base = {"sha": "b" * 40, "ref": "main", "repo": {"full_name": "o/r"}}
    event = {"pull_request": {"number": 3, "head": head, "base": base}}
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps(event))
    env.update(GITHUB_EVENT_NAME="pull_request_target", GITHUB_REPOSITORY="o/r")
    proc = run_action(env, timeout=60)
    assert proc.returncode == 2
    assert "sandbox local would run a fork's code on the runner of a pull_request_target job" in proc.stdout


def test_persisted_credentials_are_kept_out_of_the_tree_under_repair(tmp_path: Path) -> None:
    """actions/checkout's default leaves the token in .git/config: repairbot repairs a worktree whose .git is
    a pointer file, so nothing that reads the tree (a dependency install mounting it) finds the token."""
    from repairbot.action import Results, Runner, _tree_to_repair

    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    run_git(root, "init", "--quiet")
    run_git(root, "add", "--all")
    run_git(root, "commit", "--quiet", "-m", "x")
    run_git(
        root, "config", "--local", "http.https://github.com/.extraheader", f"AUTHORIZATION: basic {TOKEN}"
    )
    (root / "stats.py").write_text((root / "stats.py").read_text() + "# uncommitted\n")
    runner = Runner("push", {}, "o/r", "", "refs/heads/main", root, tmp_path, "http://x", "", TOKEN)
    notes: list[str] = []
    tree = _tree_to_repair(runner, root, None, Results(), notes)
    assert tree != root and (tree / ".git").is_file()
    assert TOKEN not in "".join(p.read_text(errors="replace") for p in tree.rglob("*") if p.is_file())
    assert (tree / "stats.py").read_text().endswith("# uncommitted\n")
    assert "the checkout keeps the token in .git/config" in notes[0]


def test_annotations_escape_what_the_runner_would_misread() -> None:
    line = annotation("error", "100% wrong\nnext", "a: b, c", "pkg/a,b.py", 3, 5)
    assert line == "::error file=pkg/a%2Cb.py,line=3,endLine=5,title=a%3A b%2C c::100%25 wrong%0Anext"
    found = parse_command(line)
    assert found is not None
    assert (found.file, found.line, found.end_line, found.title, found.message) == (
        "pkg/a,b.py", 3, 5, "a: b, c", "100% wrong\nnext"
    )  # fmt: skip


def test_no_step_interpolates_an_input_into_its_script() -> None:
    """An input in a `run:` script is a script injection (a branch name, a PR title); they go through env."""
    spec = yaml.safe_load((REPO_ROOT / "action.yml").read_text())
    for step in spec["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("id")
    documented = spec["outputs"]
    assert {"status", "kind", "patch-file", "report-file", "report-url", "pull-request", "review"} <= set(
        documented
    )
    assert all(v.get("description") for v in documented.values())


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("sandbox", "vm", "input sandbox must be docker or local"),
        ("open-pr", "yes", "input open-pr must be true or false"),
        ("budget", "0", "input budget must be between 1 and 3600 seconds"),
        ("test-command", "pytest 'x", "input test-command cannot be parsed"),
        ("review-key", "a b", "input review-key must be letters"),
    ],
)
def test_inputs_are_checked(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    from repairbot.action import read_inputs
    from repairbot.errors import BadInput

    monkeypatch.setenv(f"INPUT_{name.upper().replace('-', '_')}", value)
    with pytest.raises(BadInput, match=message):
        read_inputs()


def test_inputs_override_the_repository_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    from repairbot.action import effective, read_inputs
    from repairbot.config import load_repo_config

    cfg = load_repo_config("budget: 60\nsandbox: local\ntest_command: python -m pytest -x tests\n")
    assert effective(read_inputs(), cfg) == ("local", ("python", "-m", "pytest", "-x", "tests"), 60.0)
    monkeypatch.setenv("INPUT_BUDGET", "30")
    monkeypatch.setenv("INPUT_SANDBOX", "docker")
    monkeypatch.setenv("INPUT_TEST_COMMAND", "pytest -q")
    assert effective(read_inputs(), cfg) == ("docker", ("pytest", "-q"), 30.0)
    assert effective(read_inputs(), load_repo_config(None))[0] == "docker"
    monkeypatch.delenv("INPUT_SANDBOX")
    assert effective(read_inputs(), load_repo_config(None)) == ("docker", ("pytest", "-q"), 30.0)


def _pull_request_checkout(tmp_path: Path, base_config: str, head_config: str) -> tuple[Path, dict[str, str]]:
    """A checkout of a pull request's head whose base and head carry different .github/repairbot.yml."""
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    (root / ".github").mkdir()
    (root / ".github" / "repairbot.yml").write_text(base_config)
    run_git(root, "init", "--quiet")
    run_git(root, "add", "--all")
    run_git(root, "commit", "--quiet", "-m", "base")
    base_sha = run_git(root, "rev-parse", "HEAD").strip()
    (root / ".github" / "repairbot.yml").write_text(head_config)
    run_git(root, "commit", "--quiet", "-am", "head")
    head_sha = run_git(root, "rev-parse", "HEAD").strip()
    env, _, _ = action_env(tmp_path, root)
    head = {"sha": head_sha, "ref": "x", "repo": {"full_name": "o/r"}}
    base = {"sha": base_sha, "ref": "main", "repo": {"full_name": "o/r"}}
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps({"pull_request": {"number": 3, "head": head,
                                                                            "base": base}}))  # fmt: skip
    env.update(GITHUB_EVENT_NAME="pull_request", GITHUB_REPOSITORY="o/r", GITHUB_SHA=head_sha)
    return root, env


def test_a_pull_request_is_configured_by_its_base_not_by_its_head(tmp_path: Path) -> None:
    """The base's .github/repairbot.yml applies, as in the App: a contributor cannot switch repairbot on (or
    reconfigure it) from the branch under review."""
    _, env = _pull_request_checkout(tmp_path, "triggers:\n  pull_request: false\n", "budget: 30\n")
    proc = run_action(env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert read_file_command(Path(env["GITHUB_OUTPUT"]))["status"] == "skipped"
    text = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "Skipped: triggers.pull_request is off in .github/repairbot.yml." in text


def test_a_push_is_skipped_as_the_configuration_says(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    (root / ".github").mkdir()
    (root / ".github" / "repairbot.yml").write_text("branches: [release/*]\n")
    env, summary, outputs = action_env(tmp_path, root)
    env.update(GITHUB_EVENT_NAME="push", GITHUB_REF="refs/heads/main")
    proc = run_action(env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert read_file_command(outputs)["status"] == "skipped"
    assert "the branch main is not among the branches of .github/repairbot.yml" in summary.read_text()
