"""The Action as a runner runs it: action.yml's steps (tests/support/actions_runner.py), recorded `push` and
`pull_request` payloads adapted to a local repository, a bare git remote, PyGithub against the local GitHub
API server, the Docker sandbox on the real engine.

Scenarios: push → PR (and a second push updates it); PR → one review with suggestions; a second push to the
PR → the same review updated; the tests pass → the review resolved; a fork's PR with a read-only token →
summary and annotations only; bad inputs → one clear error.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.actions_runner import ActionRunner, Machine, RunResult, base_python, copy_action
from tests.support.github_server import GitHubServer, commit_push, init_remote, payload, run_git

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "moving_average"
FULL = "octo/stats"
TOKEN = "ghs_workflow_token_0123456789abcdef"
BUGGY_LINE = "    for start in range(len(values) - window):\n"
FIXED_LINE = "    for start in range(len(values) - window + 1):\n"
# The Action's default budget: the scenarios test what the Action does with a repair, not how fast the engine
# finds one (on a loaded machine the example's fix has taken over 120 s).
BUDGET = "300"
# What a workflow sets for the job (see the README): here, GitHub's write pacing off for speed, and the
# Docker sandbox in offline mode (no registry is reachable from this machine).
JOB_ENV = {
    "REPAIRBOT_GITHUB_WRITE_INTERVAL": "0",
    "REPAIRBOT_GITHUB_REQUEST_INTERVAL": "0",
    "REPAIRBOT_IMAGE": "offline",
}


def passes(stats_py: str, tmp: Path) -> bool:
    """The example's tests pass with this stats.py: any validated fix does, not only the one we would write
    (under load the engine may have validated another plausible patch first)."""
    tree = tmp / f"check-{hashlib.sha1(stats_py.encode()).hexdigest()[:8]}"
    shutil.copytree(EXAMPLE, tree, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "stats.py").write_text(stats_py)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tree,
                          capture_output=True, check=False)  # fmt: skip
    return proc.returncode == 0


def suggested(body: str) -> str:
    found = re.search(r"```suggestion\n(.*?)```", body, re.DOTALL)
    assert found, body
    return found.group(1)


def example(fixed: bool) -> dict[str, str]:
    files = {
        str(p.relative_to(EXAMPLE)): p.read_text()
        for p in EXAMPLE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    if fixed:
        files["stats.py"] = files["stats.py"].replace(BUGGY_LINE, FIXED_LINE)
    return files


@pytest.fixture(scope="session")
def action_runner(tmp_path_factory: pytest.TempPathFactory) -> ActionRunner:
    """One runner machine per checkout of this repository: its cache store outlives the session, as GitHub's
    cache service outlives a workflow run (a venv is not relocatable, so the machine's paths stay put)."""
    tag = hashlib.sha1(str(REPO_ROOT).encode()).hexdigest()[:10]
    root = Path(os.environ.get("REPAIRBOT_HARNESS_MACHINE", f"/tmp/repairbot-runner-{tag}"))
    machine = Machine(root, base_python())
    action = copy_action(REPO_ROOT, tmp_path_factory.mktemp("action") / "repairbot")
    return ActionRunner(action, machine)


@dataclass
class World:
    github: GitHubServer
    bare: Path
    dev: Path
    root: Path
    base_sha: str

    def checkout(self, sha: str, name: str = "ws") -> Path:
        """actions/checkout with fetch-depth: 0 and persist-credentials: false."""
        ws = self.root / name
        if ws.exists():
            shutil.rmtree(ws)
        run_git(self.root, "clone", "--quiet", str(self.bare), str(ws))
        run_git(ws, "checkout", "--quiet", "--detach", sha)
        return ws

    def writes(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.github.requests if r.method != "GET"]


def make_world(root: Path, github: GitHubServer, files: dict[str, str]) -> World:
    bare, dev, sha = init_remote(root, files)
    github.add_repo(FULL, bare)
    github.add_token(TOKEN, write=True)
    return World(github, bare, dev, root, sha)


@pytest.fixture
def world(tmp_path: Path, github: GitHubServer) -> Iterator[World]:
    yield make_world(tmp_path, github, example(fixed=True))


def run_action(
    runner: ActionRunner,
    world: World,
    ws: Path,
    event_name: str,
    event: dict[str, Any],
    sha: str,
    ref: str,
    **inputs: str,
) -> RunResult:
    result = runner.run(
        workspace=ws,
        event_name=event_name,
        event=event,
        repository=FULL,
        sha=sha,
        ref=ref,
        token=TOKEN,
        api_url=world.github.url,
        inputs={"budget": BUDGET, **inputs},
        env=JOB_ENV,
    )
    assert TOKEN not in result.log + result.summary, "the token leaked into the log or the summary"
    assert "Traceback" not in result.log, result.log
    return result


def push_event(world: World, before: str, after: str, changed: list[str]) -> dict[str, Any]:
    commit = {"id": after, "message": "change", "added": [], "removed": [], "modified": changed}
    return payload("push/payload.json", FULL, world.bare, ref="refs/heads/main", before=before, after=after,
                   commits=[commit], head_commit=commit)  # fmt: skip


def pr_event(
    world: World, number: int, head_sha: str, head_ref: str, head_repo: str = FULL
) -> dict[str, Any]:
    data = payload("pull_request/synchronize.payload.json", FULL, world.bare, number=number)
    pr = data["pull_request"]
    pr["number"] = number
    head_repository = copy.deepcopy(data["repository"])
    head_repository.update(full_name=head_repo, name=head_repo.split("/")[1])
    head_repository["owner"] = {**head_repository["owner"], "login": head_repo.split("/")[0]}
    pr["head"].update(sha=head_sha, ref=head_ref, label=f"{head_repo.split('/')[0]}:{head_ref}",
                      repo=head_repository)  # fmt: skip
    pr["base"].update(sha=world.base_sha, ref="main", repo=copy.deepcopy(data["repository"]))
    return data


def open_pr(world: World, number: int, branch: str, files: dict[str, str], user: str = "contributor") -> str:
    """A contributor's pull request: its head on `branch` (refs/pull/N/head, as GitHub keeps it)."""
    run_git(world.dev, "checkout", "--quiet", "-B", branch, world.base_sha)
    sha = commit_push(world.dev, files, branch, f"{branch}: change")
    run_git(world.bare, "update-ref", f"refs/pull/{number}/head", sha)
    world.github.add_pull(FULL, number, branch, sha, "main", world.base_sha, user=user)
    return sha


def push_to_pr(world: World, number: int, branch: str, files: dict[str, str]) -> str:
    sha = commit_push(world.dev, files, branch, f"{branch}: more")
    run_git(world.bare, "update-ref", f"refs/pull/{number}/head", sha)
    world.github.move_pull_head(FULL, number, sha)
    return sha


def summary_of(result: RunResult) -> str:
    assert result.summary.startswith("## repairbot"), result.log
    return result.summary


# -- push → pull request ---------------------------------------------------------------------------------


@pytest.mark.docker
def test_push_opens_a_pull_request_and_a_second_push_updates_it(
    action_runner: ActionRunner, world: World
) -> None:
    buggy = example(fixed=False)
    sha1 = commit_push(world.dev, {"stats.py": buggy["stats.py"]}, "main", "speed up moving_average")
    ws = world.checkout(sha1)
    event = push_event(world, world.base_sha, sha1, ["stats.py"])
    open_pr_input = {"open-pr": "true"}
    first = run_action(action_runner, world, ws, "push", event, sha1, "refs/heads/main", **open_pr_input)
    assert first.succeeded, first.log
    assert first.outputs["status"] == "fixed" and first.outputs["kind"] == "code", first.log
    pulls = world.github.pulls(FULL)
    assert len(pulls) == 1 and pulls[0]["base"]["ref"] == "main"
    branch = pulls[0]["head"]["ref"]
    assert re.fullmatch(r"repairbot/[0-9a-f]{12}", branch)
    assert first.outputs["pull-request"] == pulls[0]["html_url"]
    # The fix is a commit on repairbot's branch on top of the pushed commit; main was never pushed to.
    assert run_git(world.bare, "rev-parse", "refs/heads/main").strip() == sha1
    tip = run_git(world.bare, "rev-parse", f"refs/heads/{branch}").strip()
    assert run_git(world.bare, "rev-parse", f"{tip}^").strip() == sha1
    assert passes(run_git(world.bare, "show", f"{tip}:stats.py"), world.root)
    # The workspace is untouched: the commit was made in a worktree of its own.
    assert (ws / "stats.py").read_text() == buggy["stats.py"]
    assert run_git(ws, "status", "--porcelain").strip() == ""
    assert run_git(ws, "worktree", "list").count("\n") == 1
    text = summary_of(first)
    patch = Path(first.outputs["patch-file"]).read_text()
    assert patch.startswith("--- a/stats.py\n") and f"```diff\n{patch.rstrip()}\n```" in text
    assert f"Opened pull request [#{pulls[0]['number']}]" in text
    assert "| Failing tests before | 2 |" in text and "0 failing: the whole suite passes" in text
    artifact = r"https://github\.example/octo/stats/actions/runs/\d+/artifacts/1"
    assert re.search(rf"\[The JSON report and the patch \(artifact\)\]\({artifact}\)", text)
    assert (first.artifacts / "repairbot-report" / "repairbot-report.json").is_file()
    fixes = [a for a in first.annotations if a.title == "repairbot: validated fix"]
    assert [(a.level, a.file, a.line) for a in fixes] == [("error", "stats.py", 15)]
    suspicious = [a for a in first.annotations if (a.title or "").startswith("repairbot: suspicious line")]
    assert suspicious and suspicious[0].file == "stats.py" and 15 in [a.line for a in suspicious]

    # A later push that leaves the bug: the same failures on the same branch update the same pull request.
    sha2 = commit_push(world.dev, {"NOTES.md": "notes\n"}, "main", "notes")
    ws = world.checkout(sha2, "ws2")
    second = run_action(action_runner, world, ws, "push", push_event(world, sha1, sha2, ["NOTES.md"]), sha2,
                        "refs/heads/main", **{"open-pr": "true"})  # fmt: skip
    assert second.succeeded and second.outputs["status"] == "fixed", second.log
    pulls = world.github.pulls(FULL)
    assert len(pulls) == 1 and pulls[0]["head"]["ref"] == branch
    assert second.outputs["pull-request"] == pulls[0]["html_url"]
    assert f"Updated pull request [#{pulls[0]['number']}]" in summary_of(second)
    assert sha2[:12] in pulls[0]["body"]
    tip = run_git(world.bare, "rev-parse", f"refs/heads/{branch}").strip()
    assert run_git(world.bare, "rev-parse", f"{tip}^").strip() == sha2
    assert run_git(world.bare, "rev-parse", "refs/heads/main").strip() == sha2
    assert len(world.github.calls("PATCH", rf"^/repos/{FULL}/pulls/\d+$")) == 1


# -- pull request → one review, kept up to date, resolved ------------------------------------------------


@pytest.mark.docker
def test_pull_request_review_is_posted_updated_and_resolved(
    action_runner: ActionRunner, world: World
) -> None:
    buggy = example(fixed=False)
    sha1 = open_pr(world, 7, "faster-average", {"stats.py": buggy["stats.py"]})
    ws = world.checkout(sha1)
    first = run_action(action_runner, world, ws, "pull_request", pr_event(world, 7, sha1, "faster-average"),
                       sha1, "refs/pull/7/merge")  # fmt: skip
    assert first.succeeded and first.outputs["status"] == "fixed", first.log
    reviews = world.github.reviews(FULL, 7)
    assert len(reviews) == 1 and reviews[0]["state"] == "COMMENTED"
    review = reviews[0]
    assert first.outputs["review"] == review["html_url"] and first.outputs["summary-only"] == "false"
    assert f"repairbot ran the tests on {sha1[:12]}: 2 failing." in review["body"]
    assert "2 of them passed on the base" in review["body"]
    assert "**The code was judged wrong**" in review["body"]
    (comment,) = world.github.review_comments(FULL, 7)
    assert comment["path"] == "stats.py" and comment["line"] == 15 and comment["start_line"] is None
    assert passes(buggy["stats.py"].replace(BUGGY_LINE, suggested(comment["body"])), world.root)
    assert f"Posted [a review]({review['html_url']}) with 1 suggestion(s)." in summary_of(first)
    # Shown with `pytest -rP`: what a reviewer and the run's page show (the issue asks for both).
    print(f"--- job summary ---\n{first.summary}\n--- review body ---\n{review['body']}\n--- suggestion ---\n"
          f"{comment['body']}")  # fmt: skip
    # Never a push: the contributor's branch and every other ref are as they were.
    assert run_git(world.bare, "rev-parse", "refs/heads/faster-average").strip() == sha1
    assert run_git(world.bare, "for-each-ref", "--format=%(refname)", "refs/heads/repairbot") == ""

    # The contributor pushes again without fixing it: the same review is brought up to date.
    median = "\n\ndef median(values):\n    ordered = sorted(values)\n    return ordered[len(ordered) // 2]\n"
    sha2 = push_to_pr(world, 7, "faster-average", {"stats.py": buggy["stats.py"] + median})
    ws = world.checkout(sha2, "ws2")
    second = run_action(action_runner, world, ws, "pull_request", pr_event(world, 7, sha2, "faster-average"),
                        sha2, "refs/pull/7/merge")  # fmt: skip
    assert second.succeeded and second.outputs["status"] == "fixed", second.log
    reviews = world.github.reviews(FULL, 7)
    assert len(reviews) == 1, "a second review was added instead of updating the first"
    assert reviews[0]["id"] == review["id"] and f"on {sha2[:12]}: 2 failing" in reviews[0]["body"]
    assert len(world.github.calls("PUT", rf"^/repos/{FULL}/pulls/7/reviews/{review['id']}$")) == 1
    (moved,) = world.github.review_comments(FULL, 7)
    assert moved["id"] == comment["id"] and moved["line"] == 15 and moved["commit_id"] == sha2
    assert "1 suggestion(s) kept in place, 0 new, 0 marked outdated" in summary_of(second)

    # The contributor applies the suggestion: the tests pass and the review says so.
    sha3 = push_to_pr(world, 7, "faster-average", {"stats.py": example(fixed=True)["stats.py"] + median})
    ws = world.checkout(sha3, "ws3")
    third = run_action(action_runner, world, ws, "pull_request", pr_event(world, 7, sha3, "faster-average"),
                       sha3, "refs/pull/7/merge")  # fmt: skip
    assert third.succeeded and third.outputs["status"] == "passed", third.log
    (resolved,) = world.github.reviews(FULL, 7)
    assert resolved["body"].startswith(f"**Resolved** at {sha3[:12]}")
    (old,) = world.github.review_comments(FULL, 7)
    assert old["body"].startswith(f"**Outdated** at {sha3[:12]}: the tests pass.")
    assert "```suggestion" not in old["body"] and old["line"] is None  # outdated on GitHub's side too
    assert f"The tests pass at {sha3[:12]}: nothing to repair." in summary_of(third)


# -- a pull request that changes behaviour on purpose: the obsolete test's update is what gets suggested ---

UNITS = "def to_cm(inches):\n    return inches * 2.54\n"
UNITS_TEST = "from units import to_cm\n\n\ndef test_inches():\n    assert to_cm(2) == 5.08\n"


@pytest.mark.docker
def test_pull_request_with_an_intended_change_gets_the_test_update_with_the_reasoning(
    action_runner: ActionRunner, tmp_path: Path, github: GitHubServer
) -> None:
    world = make_world(tmp_path, github, {"units.py": UNITS, "test_units.py": UNITS_TEST})
    renamed = UNITS.replace("def to_cm", "def inches_to_cm")
    sha = open_pr(world, 9, "rename", {"units.py": renamed})
    ws = world.checkout(sha)
    result = run_action(action_runner, world, ws, "pull_request", pr_event(world, 9, sha, "rename"), sha,
                        "refs/pull/9/merge")  # fmt: skip
    assert result.succeeded and result.outputs["status"] == "fixed", result.log
    assert result.outputs["kind"] == "test", result.log
    (review,) = world.github.reviews(FULL, 9)
    body = review["body"]
    assert "**The test was judged wrong** (obsolete after an intended change), not the code." in body
    assert "1 of them passed on the base" in body
    # The pull request does not touch test_units.py, so the update is in the body rather than inline.
    assert "Changes outside this pull request's diff" in body and "inches_to_cm(2)" in body
    assert world.github.review_comments(FULL, 9) == []
    patch = Path(result.outputs["patch-file"]).read_text()
    assert re.findall(r"^\+\+\+ b/(\S+)", patch, re.MULTILINE) == ["test_units.py"]
    assert run_git(world.bare, "rev-parse", "refs/heads/rename").strip() == sha


# -- a pull request that did not break the failing tests: nothing proposed, and not called green -----------


@pytest.mark.docker
def test_pull_request_whose_failures_fail_the_same_on_the_base_gets_no_review(
    action_runner: ActionRunner, tmp_path: Path, github: GitHubServer
) -> None:
    world = make_world(tmp_path, github, example(fixed=False))  # main is broken already
    sha = open_pr(world, 10, "docs", {"NOTES.md": "notes\n"})
    ws = world.checkout(sha)
    result = run_action(action_runner, world, ws, "pull_request", pr_event(world, 10, sha, "docs"), sha,
                        "refs/pull/10/merge")  # fmt: skip
    assert result.succeeded, result.log
    assert result.outputs["status"] == "pre-existing" and result.outputs["failing-tests"] == "2", result.log
    assert world.github.reviews(FULL, 10) == [] and world.writes() == []
    text = summary_of(result)
    why = f"every failing test failed the same way at {world.base_sha[:12]}"
    assert f"2 test(s) fail at {sha[:12]}; {why}" in text
    assert "The tests pass" not in text


# -- a fork's pull request: read-only token → summary and annotations ------------------------------------


@pytest.mark.docker
def test_fork_pull_request_with_read_only_token_gets_summary_and_annotations(
    action_runner: ActionRunner, world: World
) -> None:
    read_only = "ghs_read_only_fork_token_abcdef"
    world.github.add_token(read_only, write=False)
    sha1 = open_pr(world, 8, "patch-1", {"stats.py": example(fixed=False)["stats.py"]}, user="outsider")
    ws = world.checkout(sha1)
    before = len(world.github.requests)
    result = action_runner.run(
        workspace=ws, event_name="pull_request", event=pr_event(world, 8, sha1, "patch-1", "outsider/stats"),
        repository=FULL, sha=sha1, ref="refs/pull/8/merge", token=read_only, api_url=world.github.url,
        inputs={"budget": BUDGET}, env=JOB_ENV,
    )  # fmt: skip
    assert result.succeeded and result.outputs["status"] == "fixed", result.log
    assert result.outputs["summary-only"] == "true" and result.outputs["review"] == ""
    assert world.github.reviews(FULL, 8) == [] and world.github.review_comments(FULL, 8) == []
    assert [r.method for r in world.github.requests[before:] if r.method != "GET"] == []
    text = summary_of(result)
    why = "(a pull request from a fork gets a read-only GITHUB_TOKEN)"
    assert f"The token cannot write to this pull request {why}" in text
    patch = Path(result.outputs["patch-file"]).read_text()
    assert f"```diff\n{patch.rstrip()}\n```" in text
    fixes = [a for a in result.annotations if a.title == "repairbot: validated fix"]
    new_line = next(x[1:] for x in patch.splitlines() if x.startswith("+") and not x.startswith("+++"))
    assert [(a.file, a.line) for a in fixes] == [("stats.py", 15)] and new_line.strip() in fixes[0].message
    assert read_only not in result.log + result.summary


# -- bad inputs → one clear error ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "config", "message"),
    [
        ({"budget": "soon"}, None, "input budget must be a number of seconds, not 'soon'"),
        ({"sandbox": "vm"}, None, "input sandbox must be docker or local, not 'vm'"),
        ({"path": "no/such/folder"}, None, "input path 'no/such/folder' is not a folder of the workspace"),
        ({}, "budgte: 30\n", ".github/repairbot.yml is invalid: unknown key `budgte`"),
    ],
    ids=["budget", "sandbox", "path", "config"],
)
def test_bad_input_is_one_clear_error(
    action_runner: ActionRunner, world: World, inputs: dict[str, str], config: str | None, message: str
) -> None:
    files = {".github/repairbot.yml": config} if config else {"NOTES.md": "x\n"}
    sha = commit_push(world.dev, files, "main", "config")
    ws = world.checkout(sha)
    event = push_event(world, world.base_sha, sha, list(files))
    result = run_action(action_runner, world, ws, "push", event, sha, "refs/heads/main", **inputs)
    repair = result.step("repair")
    assert not result.succeeded and repair.returncode == 2
    errors = [a for a in result.annotations if a.level == "error"]
    assert len(errors) == 1 and message in errors[0].message, result.log
    assert repair.stderr.strip() == "" and message in result.summary
    assert result.step("upload").outcome == "skipped"
    assert world.writes() == []
