"""`repairbot action`: the GitHub Action entry point (action.yml runs it on the workflow's event).

Inputs arrive as environment variables (INPUT_*, set by action.yml); results go where GitHub Actions reads
them: the job summary ($GITHUB_STEP_SUMMARY), step outputs ($GITHUB_OUTPUT), a patch and a JSON report in
$RUNNER_TEMP. With `open-pr: true` on a push, the patch is pushed to `repairbot/<fingerprint>` and a pull
request is opened (or updated) against the pushed branch. The token is used only here, never in the sandbox.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from repairbot.errors import BadInput, RepairbotError
from repairbot.models import Job, Report
from repairbot.report import markdown_summary, write_json
from repairbot.testing.runs import split_test_cmd


def _input(name: str, default: str = "") -> str:
    return os.environ.get(f"INPUT_{name.upper().replace('-', '_')}", "").strip() or default


def _event() -> dict[str, object]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).is_file():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _base_of(event: dict[str, object], root: Path) -> str | None:
    """The revision whose changes this event makes intended: the PR's base, or the push's `before`."""
    explicit = _input("base")
    candidates = [explicit] if explicit else []
    pr = event.get("pull_request")
    if isinstance(pr, dict) and isinstance(pr.get("base"), dict):
        candidates.append(str(pr["base"].get("sha", "")))
    before = event.get("before")
    if isinstance(before, str) and before.strip("0"):
        candidates.append(before)
    for rev in candidates:
        if rev and _git_has(root, rev):
            return rev
    return None


def _git_has(root: Path, rev: str) -> bool:
    proc = subprocess.run(["git", "-C", str(root), "cat-file", "-e", f"{rev}^{{commit}}"],
                          capture_output=True, check=False)  # fmt: skip
    return proc.returncode == 0


def _write_outputs(values: dict[str, str]) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        for key, value in values.items():
            fh.write(f"{key}={value}\n")


def _summary(text: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")


def main() -> int:
    root = Path(_input("path", os.environ.get("GITHUB_WORKSPACE", "."))).resolve()
    out_dir = Path(os.environ.get("RUNNER_TEMP", root)).resolve()
    event = _event()
    try:
        budget = float(_input("budget", "600"))
    except ValueError:
        raise BadInput(f"input budget must be a number of seconds, not {_input('budget')!r}") from None
    test_cmd = _input("test-command")
    job = Job(
        root=root,
        test_cmd=split_test_cmd(test_cmd),
        base=_base_of(event, root),
        budget_s=budget,
        sandbox=_input("sandbox", "docker"),
        trigger=f"action:{os.environ.get('GITHUB_EVENT_NAME', 'manual')}",
        job_id=f"action-{os.environ.get('GITHUB_RUN_ID', 'local')}",
    )
    from repairbot.pipeline import repair

    try:
        report = repair(job, lambda msg: print(f"repairbot: {msg}", file=sys.stderr, flush=True))
    except RepairbotError as err:
        report = Report(status="not_fixed" if err.exit_code == 1 else "error", error=str(err))
    report_path = out_dir / "repairbot-report.json"
    write_json(report, report_path)
    outputs = {"status": report.status, "kind": report.kind, "report-file": str(report_path)}
    if report.patches:
        patch_path = out_dir / "repairbot.patch"
        patch_path.write_text(report.patches[0].diff, encoding="utf-8")
        outputs["patch-file"] = str(patch_path)
        sys.stdout.write(report.patches[0].diff)
    _summary("## repairbot\n\n" + markdown_summary(report))
    if report.patches and _input("open-pr", "false").lower() == "true":
        outputs["pull-request"] = _open_pr(root, report)
    _write_outputs(outputs)
    return 2 if report.status == "error" else 0


def _open_pr(root: Path, report: Report) -> str:
    """Push the patch to repairbot/<fingerprint> and open or update a PR against the current branch."""
    from github import Auth, Github

    from repairbot.github import git as gitops
    from repairbot.github.messages import pr_body, pr_title
    from repairbot.github.publish import open_or_update_pr

    token = os.environ.get("INPUT_GITHUB_TOKEN") or os.environ.get("GITHUB_TOKEN")
    repo_name = os.environ.get("GITHUB_REPOSITORY")
    base = os.environ.get("GITHUB_REF_NAME")
    if not token or not repo_name or not base:
        raise BadInput("open-pr needs github-token, GITHUB_REPOSITORY and GITHUB_REF_NAME")
    if os.environ.get("GITHUB_EVENT_NAME") == "pull_request":
        return ""  # never push to a contributor's branch; the job summary carries the patch
    patch = report.patches[0]
    fingerprint = hashlib.sha256(patch.diff.encode()).hexdigest()[:12]
    branch = f"repairbot/{fingerprint}"
    sha = os.environ.get("GITHUB_SHA", "")
    gitops.git(["checkout", "-B", branch], cwd=root)
    changed = gitops.apply_diff(root, patch.diff)
    gitops.commit(
        root, changed, pr_title(report), "repairbot[bot]", "repairbot[bot]@users.noreply.github.com"
    )
    gitops.push(root, branch, token)
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    gh = Github(auth=Auth.Token(token), base_url=api)
    body = pr_body(report, trigger="push", sha=sha, fingerprint=fingerprint)
    pr, _ = open_or_update_pr(
        gh.get_repo(repo_name), branch=branch, base=base, title=pr_title(report), body=body
    )
    return str(pr.html_url)
