"""`repairbot action`: the GitHub Action's entry point (action.yml runs it from repairbot's own virtualenv).

Inputs arrive as INPUT_* environment variables (action.yml passes them; none is ever interpolated into a
script); `.github/repairbot.yml` is read as the App reads it and the inputs override it. Results go where a
runner reads them: step outputs ($GITHUB_OUTPUT), the job summary ($GITHUB_STEP_SUMMARY), annotations
(`::error file=…` workflow commands on stdout), and the JSON report and patch in $RUNNER_TEMP/repairbot.

- push (and workflow_dispatch, schedule): with `open-pr`, the validated patch is committed in a separate
  worktree, pushed to `repairbot/<fingerprint>` and proposed as a pull request against the pushed branch; a
  later run with the same failures updates that pull request. The triggering branch is never pushed to.
- pull_request / pull_request_target: when the head breaks tests that pass on the base, one review with
  ```suggestion blocks on the changed lines, kept up to date on later pushes and marked resolved once the
  tests pass. With a read-only token (a fork's pull request) the summary and the annotations carry them.

The token is read once and removed from this process's environment before anything else runs, so no child
(dependency install, test run) inherits it; git gets it through environment configuration only (see
`repairbot.github.git`). The tests never run in a tree whose `.git` holds credentials.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repairbot import diffs
from repairbot.config import REPO_CONFIG_PATH, RepoConfig, Settings, load_repo_config
from repairbot.errors import BadInput, EnvironmentProblem, FailingAtBase, NothingToRepair, RepairbotError
from repairbot.models import Job, Report
from repairbot.report import write_json
from repairbot.testing.runs import split_command

# Secrets a runner may put in a step's environment: none of them may reach a dependency install or a test.
_SECRET_VARS = (
    "INPUT_GITHUB_TOKEN",
    "GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
)
_PR_EVENTS = ("pull_request", "pull_request_target")
_BRANCH_EVENTS = ("push", "workflow_dispatch", "schedule", "repository_dispatch")
_MAX_ANNOTATIONS = 10  # GitHub shows at most 10 error annotations per step
_SUSPICIOUS_ANNOTATIONS = 3
_BOT = ("repairbot[bot]", "repairbot[bot]@users.noreply.github.com")
_INSTALL_TIMEOUT_S = 900


# -- what the runner and the workflow give us ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inputs:
    path: str
    test_command: tuple[str, ...] | None
    budget: float | None
    sandbox: str | None
    base: str | None
    open_pr: bool
    review: bool
    review_key: str


def _raw(name: str) -> str:
    return os.environ.get(f"INPUT_{name.upper().replace('-', '_')}", "").strip()


def _flag(name: str, default: bool) -> bool:
    value = _raw(name).lower()
    if not value:
        return default
    if value not in ("true", "false"):
        raise BadInput(f"input {name} must be true or false, not {_raw(name)!r}")
    return value == "true"


def read_inputs() -> Inputs:
    """The action's inputs, each checked: a bad one is one clear error before anything runs."""
    budget: float | None = None
    if _raw("budget"):
        try:
            budget = float(_raw("budget"))
        except ValueError:
            raise BadInput(f"input budget must be a number of seconds, not {_raw('budget')!r}") from None
        if not 0 < budget <= 3600:
            raise BadInput(f"input budget must be between 1 and 3600 seconds, not {_raw('budget')}")
    sandbox = _raw("sandbox") or None
    if sandbox not in (None, "docker", "local"):
        raise BadInput(f"input sandbox must be docker or local, not {sandbox!r}")
    test_command: tuple[str, ...] | None = None
    if _raw("test-command"):
        try:
            test_command = split_command(_raw("test-command"))
        except ValueError as exc:
            raise BadInput(f"input test-command cannot be parsed: {exc}") from None
    key = _raw("review-key") or "repairbot"
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", key):
        raise BadInput(f"input review-key must be letters, digits, '.', '_' or '-', not {key!r}")
    return Inputs(
        path=_raw("path") or ".",
        test_command=test_command,
        budget=budget,
        sandbox=sandbox,
        base=_raw("base") or None,
        open_pr=_flag("open-pr", False),
        review=_flag("review", True),
        review_key=key,
    )


@dataclass(frozen=True, slots=True)
class PullRequestInfo:
    number: int
    head_sha: str
    head_ref: str
    base_sha: str
    base_ref: str
    fork: bool  # the head lives in another repository


@dataclass
class Runner:
    """The run's context, from the runner's environment variables."""

    event_name: str
    event: dict[str, Any]
    repo: str
    sha: str
    ref: str
    workspace: Path
    temp: Path
    api_url: str
    run_url: str
    token: str = field(repr=False)

    @classmethod
    def from_env(cls) -> Runner:
        # Read the token, then drop every secret from the environment that children inherit.
        token = os.environ.get("INPUT_GITHUB_TOKEN", "").strip() or os.environ.get("GITHUB_TOKEN", "").strip()
        for name in _SECRET_VARS:
            os.environ.pop(name, None)
        env = os.environ
        workspace = Path(env.get("GITHUB_WORKSPACE") or ".").resolve()
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        repo = env.get("GITHUB_REPOSITORY", "")
        run_id = env.get("GITHUB_RUN_ID", "")
        return cls(
            event_name=env.get("GITHUB_EVENT_NAME", "manual"),
            event=_event(env.get("GITHUB_EVENT_PATH")),
            repo=repo,
            sha=env.get("GITHUB_SHA", ""),
            ref=env.get("GITHUB_REF", ""),
            workspace=workspace,
            temp=Path(env.get("RUNNER_TEMP") or workspace).resolve(),
            api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
            run_url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else "",
            token=token,
        )

    @property
    def job_id(self) -> str:
        env = os.environ
        return f"action-{env.get('GITHUB_RUN_ID', 'local')}-{env.get('GITHUB_RUN_ATTEMPT', '1')}"

    def pull_request(self) -> PullRequestInfo | None:
        if self.event_name not in _PR_EVENTS:
            return None
        pr = self.event.get("pull_request")
        if not isinstance(pr, dict):
            raise BadInput(f"the {self.event_name} event at GITHUB_EVENT_PATH has no pull_request")
        try:
            head, base = pr["head"], pr["base"]
            head_repo = (head.get("repo") or {}).get("full_name")  # None: the fork was deleted
            return PullRequestInfo(
                number=int(pr["number"]),
                head_sha=str(head["sha"]),
                head_ref=str(head["ref"]),
                base_sha=str(base["sha"]),
                base_ref=str(base["ref"]),
                fork=head_repo != (base.get("repo") or {}).get("full_name", self.repo),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInput(f"the {self.event_name} event lacks pull_request field {exc}") from None


def _event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput(f"GITHUB_EVENT_PATH {path} is not a readable JSON event: {exc}") from None
    return data if isinstance(data, dict) else {}


# -- what we give back to the runner ---------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, title: str, path: str | None = None, line: int | None = None,
               end_line: int | None = None) -> str:  # fmt: skip
    """A workflow command that GitHub shows as an annotation on the file and line (or on the run)."""
    props = [f"title={_escape_property(title)}"]
    if path:
        props.insert(0, f"file={_escape_property(path)}")
        if line:
            props.insert(1, f"line={line}")
            if end_line and end_line != line:
                props.insert(2, f"endLine={end_line}")
    return f"::{level} {','.join(props)}::{_escape_data(message)}"


class Results:
    """Outputs, summary and annotations, written where the runner reads them."""

    def __init__(self) -> None:
        self.outputs: dict[str, str] = {}
        self.annotations = 0

    def set(self, **values: str) -> None:
        self.outputs.update({k.replace("_", "-"): v for k, v in values.items()})

    def annotate(self, level: str, message: str, title: str, path: str | None = None,
                 line: int | None = None, end_line: int | None = None) -> None:  # fmt: skip
        if level == "error" and self.annotations >= _MAX_ANNOTATIONS:
            return
        self.annotations += level == "error"
        print(annotation(level, message, title, path, line, end_line), flush=True)

    def summary(self, text: str) -> None:
        path = os.environ.get("GITHUB_STEP_SUMMARY")
        if path:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text.rstrip() + "\n")

    def flush(self) -> None:
        path = os.environ.get("GITHUB_OUTPUT")
        if not path:
            return
        with open(path, "a", encoding="utf-8") as fh:
            for key, value in self.outputs.items():
                delimiter = f"repairbot_{uuid.uuid4().hex}"  # multi-line safe, unguessable
                fh.write(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")


# -- the run ---------------------------------------------------------------------------------------------


def main() -> int:
    results = Results()
    try:
        code = _run(Runner.from_env(), results)
    except RepairbotError as err:
        # One clear message: GitHub shows the command as the step's error and as an annotation.
        results.annotate("error", str(err), "repairbot")
        results.summary(f"## repairbot\n\n**repairbot stopped:** {err}")
        results.set(status="error", error=str(err))
        code = 2
    results.flush()
    return code


def _run(runner: Runner, results: Results) -> int:
    inputs = read_inputs()
    root = (runner.workspace / inputs.path).resolve()
    if not root.is_dir():
        raise BadInput(f"input path {inputs.path!r} is not a folder of the workspace ({root})")
    top = _toplevel(root)
    rel = root.relative_to(top).as_posix() if top is not None else "."
    pr = runner.pull_request()
    if pr is not None and top is not None:
        # The base's configuration, as the App reads it: a contributor's branch must not reconfigure the bot.
        _ensure_commit(top, pr.base_sha, runner.token, f"the pull request's base {pr.base_sha[:12]}")
        cfg = load_repo_config(_git_show(top, pr.base_sha, REPO_CONFIG_PATH))
    else:
        path = (top or root) / REPO_CONFIG_PATH
        cfg = load_repo_config(path.read_text(encoding="utf-8") if path.is_file() else None)
    sandbox, test_cmd, budget = effective(inputs, cfg)
    skipped = _skip_reason(runner, cfg)
    if skipped:
        results.summary(f"## repairbot\n\nSkipped: {skipped}.")
        results.set(status="skipped")
        return 0
    if pr is not None and pr.fork and runner.event_name == "pull_request_target" and sandbox == "local":
        raise BadInput(
            "sandbox local would run a fork's code on the runner of a pull_request_target job, whose token "
            "can write; use sandbox docker, or the pull_request event"
        )

    with contextlib.ExitStack() as stack:
        project = root
        notes: list[str] = []
        if top is not None:
            tree = _tree_to_repair(runner, top, pr, results, notes)
            if tree != top:
                stack.callback(_remove_worktree, top, tree)
                project = tree / rel
        if sandbox == "local":
            test_cmd = _project_environment(project, runner.temp, test_cmd)
        base = inputs.base or _event_base(runner, pr)
        if base is not None and top is not None and not _has_commit(top, base):
            notes.append(f"the base {base[:12]} is not in the checkout (fetch-depth: 0 brings it); "
                         "every change is judged, none is taken as intended")  # fmt: skip
            base = None
        job = Job(
            root=project,
            test_cmd=test_cmd,
            base=base,
            budget_s=budget,
            sandbox=sandbox,
            generators=tuple(cfg.generators),
            prefer=cfg.prefer,
            image=cfg.image,
            trigger=f"action:{runner.event_name}",
            job_id=runner.job_id,
        )
        from repairbot.pipeline import repair

        print("::group::repairbot progress", flush=True)
        nothing: NothingToRepair | None = None
        try:
            report: Report | None = repair(
                job, lambda m: print(f"repairbot: {m}", file=sys.stderr, flush=True)
            )
        except NothingToRepair as exc:
            report, nothing = None, exc
        finally:
            print("::endgroup::", flush=True)
        if report is None:
            return _publish_nothing(runner, inputs, pr, nothing, notes, results)
        return _publish(runner, inputs, cfg, pr, report, rel, project, notes, results)


def effective(inputs: Inputs, cfg: RepoConfig) -> tuple[str, tuple[str, ...] | None, float]:
    """The sandbox, test command and budget of this run: an input that is set wins over
    `.github/repairbot.yml`, which wins over the defaults."""
    return (
        inputs.sandbox or cfg.sandbox or "docker",
        inputs.test_command or cfg.test_command,
        inputs.budget or cfg.budget,
    )


def _skip_reason(runner: Runner, cfg: RepoConfig) -> str | None:
    """The App's triggers apply to the Action as well (the workflow's `on:` chooses the events)."""
    if runner.event_name in _PR_EVENTS and not cfg.triggers.pull_request:
        return f"triggers.pull_request is off in {REPO_CONFIG_PATH}"
    if runner.event_name != "push":
        return None
    if not cfg.triggers.push:
        return f"triggers.push is off in {REPO_CONFIG_PATH}"
    branch = runner.ref.removeprefix("refs/heads/")
    repository = runner.event.get("repository") or {}
    default = str(repository.get("default_branch") or repository.get("master_branch") or "main")
    if runner.ref.startswith("refs/heads/") and not cfg.watches_branch(branch, default):
        return f"the branch {branch} is not among the branches of {REPO_CONFIG_PATH}"
    changed = {
        f
        for c in runner.event.get("commits") or []
        for k in ("added", "modified", "removed")
        for f in c.get(k) or []
    }
    if changed and cfg.ignored_paths and all(cfg.ignores(f) for f in changed):
        return f"the push changes only ignored_paths of {REPO_CONFIG_PATH}"
    return None


def _event_base(runner: Runner, pr: PullRequestInfo | None) -> str | None:
    """The revision whose changes this event makes intended: a pull request's base. A push names none, as in
    the App: the engine then presumes the last commit intended when the failing tests passed before it. (The
    push's `before` would make every failure already there at `before` pre-existing, so a later push with the
    same failures would never update repairbot's pull request.)"""
    return pr.base_sha if pr is not None else None


# -- git: the tree under repair holds no credential --------------------------------------------------------


def _git(top: Path, *args: str, token: str | None = None) -> str:
    from repairbot.github import git as gitops

    return gitops.git(list(args), cwd=top, token=token)


def _toplevel(root: Path) -> Path | None:
    proc = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    return Path(proc.stdout.strip()).resolve() if proc.returncode == 0 else None


def _has_commit(top: Path, rev: str) -> bool:
    proc = subprocess.run(["git", "-C", str(top), "cat-file", "-e", f"{rev}^{{commit}}"],
                          capture_output=True, check=False)  # fmt: skip
    return proc.returncode == 0


def _ensure_commit(top: Path, sha: str, token: str, what: str, ref: str | None = None) -> None:
    """Fetch `sha` (or `ref`) from origin when the checkout lacks it: fetching runs no project code."""
    if _has_commit(top, sha):
        return
    with contextlib.suppress(RepairbotError):
        _git(top, "fetch", "--quiet", "--no-tags", "origin", ref or sha, token=token or None)
    if not _has_commit(top, sha):
        raise BadInput(f"{what} is not in the checkout and could not be fetched",
                       hint="check out with actions/checkout's fetch-depth: 0")  # fmt: skip


def _git_show(top: Path, rev: str, path: str) -> str | None:
    proc = subprocess.run(["git", "-C", str(top), "show", f"{rev}:{path}"], capture_output=True, text=True,
                          check=False)  # fmt: skip
    return proc.stdout if proc.returncode == 0 else None


def persisted_credentials(top: Path) -> bool:
    """actions/checkout leaves the token in .git/config unless `persist-credentials: false`."""
    proc = subprocess.run(
        ["git", "-C", str(top), "config", "--local", "--get-regexp", r"^http\..*\.extraheader$"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    urls = subprocess.run(
        ["git", "-C", str(top), "remote", "-v"], capture_output=True, text=True, check=False
    )
    return bool(proc.stdout.strip()) or bool(re.search(r"://[^/\s]*:[^/\s]*@", urls.stdout))


def _tree_to_repair(
    runner: Runner, top: Path, pr: PullRequestInfo | None, results: Results, notes: list[str]
) -> Path:
    """The checkout itself, or a detached worktree (under RUNNER_TEMP) when the checkout is not the pull
    request's head (actions/checkout's default is the merge commit) or its .git/config holds a token: a
    worktree's .git is a pointer file, so nothing that reads the tree under repair can find the token."""
    head = _git(top, "rev-parse", "HEAD").strip()
    want = head
    if pr is not None and head != pr.head_sha:
        _ensure_commit(top, pr.head_sha, runner.token, f"the pull request's head {pr.head_sha[:12]}",
                       ref=f"+refs/pull/{pr.number}/head:refs/remotes/origin/pr/{pr.number}")  # fmt: skip
        want = pr.head_sha
        notes.append(f"repaired the pull request's head {want[:12]} (the checkout is {head[:12]})")
    if persisted_credentials(top):
        results.annotate(
            "warning",
            "actions/checkout left the token in .git/config; repairbot repairs a worktree without it. "
            "Set persist-credentials: false.",
            "repairbot: persisted credentials",
        )
        if want == head:
            # Uncommitted changes to tracked files come along (a stash commit touches nothing).
            want = _git(top, "stash", "create").strip() or head
            notes.append("the checkout keeps the token in .git/config: repaired a worktree without it "
                         "(untracked files of the checkout are not in it)")  # fmt: skip
    if want == head:
        return top
    tree = runner.temp / f"repairbot-tree-{uuid.uuid4().hex[:8]}"
    _git(top, "worktree", "add", "--quiet", "--detach", str(tree), want)
    return tree


def _remove_worktree(top: Path, tree: Path) -> None:
    with contextlib.suppress(RepairbotError):
        _git(top, "worktree", "remove", "--force", str(tree))


# -- the project's test dependencies (local sandbox only) ------------------------------------------------


def _install_env() -> dict[str, str]:
    """What a dependency install sees: no token, no runner secret (it runs the project's build code)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
            "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("PIP_")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _project_environment(project: Path, temp: Path, test_cmd: tuple[str, ...] | None) -> tuple[str, ...]:
    """With the local sandbox the tests run on the runner: their dependencies go into a virtualenv of their
    own, which only the test command uses (repairbot's virtualenv never gets the project's packages)."""
    from repairbot.sandbox import deps
    from repairbot.sandbox.images import default_python
    from repairbot.sandbox.install import RUNNER_REQUIREMENTS

    venv = temp / "repairbot-project-venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    # What image mode reads (nothing of the project runs), plus the requirement files themselves for pip:
    # on the runner, a path or URL in them is the user's own choice.
    found = deps.discover(project, default_python=default_python())
    reqs = deps.all_requirements(found, RUNNER_REQUIREMENTS, with_dev=True)
    files = [name for name, _ in deps.requirement_files(project)]
    env = _install_env()
    print("::group::repairbot: the project's test dependencies (separate virtualenv)", flush=True)
    try:
        _install([base_python, "-m", "venv", "--clear", str(venv)], project, env, "creating the virtualenv")
        python = str(venv / "bin" / "python")
        args = [python, "-m", "pip", "install", "--quiet", *reqs]
        if found.constraints:
            constraints = temp / "repairbot-constraints.txt"
            constraints.write_text("".join(f"{c}\n" for c in found.constraints), encoding="utf-8")
            args += ["-c", str(constraints)]
        for url in found.indexes:
            args += ["--extra-index-url", url]
        for name in files:
            args += ["-r", name]
        _install(args, project, env, "installing the project's test dependencies")
    finally:
        print("::endgroup::", flush=True)
    # A test command that names `python` or `pytest` finds the project's virtualenv first.
    os.environ["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["VIRTUAL_ENV"] = str(venv)
    return test_cmd or (python, "-m", "pytest")


def _install(args: list[str], cwd: Path, env: Mapping[str, str], what: str) -> None:
    try:
        proc = subprocess.run(args, cwd=cwd, env=dict(env), capture_output=True, text=True,
                              timeout=_INSTALL_TIMEOUT_S, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise EnvironmentProblem(f"{what} took over {_INSTALL_TIMEOUT_S}s") from None
    sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    if proc.returncode != 0:
        lines = [x for x in (proc.stderr or proc.stdout).strip().splitlines() if x.strip()]
        raise EnvironmentProblem(f"{what} failed: {lines[-1] if lines else f'exit {proc.returncode}'}")


# -- publishing ------------------------------------------------------------------------------------------


def _repo_path(rel: str, path: str) -> str:
    return path if rel in ("", ".") else f"{rel.rstrip('/')}/{path}"


def _annotate_report(report: Report, rel: str, diff: str, results: Results) -> None:
    from repairbot.github.suggest import blocks

    for n, loc in enumerate(report.localization[:_SUSPICIOUS_ANNOTATIONS], 1):
        if loc.score <= 0:
            break
        evidence = ", ".join(loc.sources) or "spectrum"
        results.annotate("error", f"Suspicious statement #{n} for the failing tests ({evidence}).",
                         f"repairbot: suspicious line (score {loc.score:.2f})",
                         _repo_path(rel, loc.path), loc.line)  # fmt: skip
    for block in blocks(diff) if diff else []:
        if block.raw:
            results.annotate("error", f"The validated repair adds or removes {block.path}.",
                             "repairbot: validated fix", block.path)  # fmt: skip
            continue
        new = "".join(block.new_lines).rstrip("\n") or "(delete these lines)"
        results.annotate("error", f"Validated fix, replace with:\n{new}", "repairbot: validated fix",
                         block.path, block.start, block.end)  # fmt: skip


def _publish_nothing(
    runner: Runner,
    inputs: Inputs,
    pr: PullRequestInfo | None,
    nothing: NothingToRepair | None,
    notes: list[str],
    results: Results,
) -> int:
    """No repair was attempted: the tests pass, or every failing test failed the same way at the base."""
    from repairbot.github import messages

    head = pr.head_sha if pr is not None else runner.sha
    results.set(review="", pull_request="", summary_only="false", kind="none")
    if isinstance(nothing, FailingAtBase):
        at = nothing.base[:12] or "the base"
        why = f"every failing test failed the same way at {at}, so these changes did not break them"
        results.set(status="pre-existing", failing_tests=str(len(nothing.failing)))
        headline = f"{len(nothing.failing)} test(s) fail at {head[:12]}; {why}: nothing proposed."
        notes.append(f"Failing at the base too: {', '.join(f'`{t}`' for t in nothing.failing[:10])}"
                     + (" …" if len(nothing.failing) > 10 else ""))  # fmt: skip
    else:
        why = "the tests pass"
        results.set(status="passed", failing_tests="0")
        headline = f"The tests pass at {head[:12]}: nothing to repair."
        if nothing is not None and nothing.message != "nothing to repair: every test passes":
            notes.append(nothing.message[:1].upper() + nothing.message[1:] + ".")
    if pr is not None and inputs.review:
        notes += _retire_review(runner, inputs, pr, None, results, why)
    results.summary(messages.job_summary(None, headline, notes))
    return 0


def _publish(
    runner: Runner,
    inputs: Inputs,
    cfg: RepoConfig,
    pr: PullRequestInfo | None,
    report: Report,
    rel: str,
    project: Path,
    notes: list[str],
    results: Results,
) -> int:
    from repairbot.github import messages

    out_dir = runner.temp / "repairbot"
    out_dir.mkdir(parents=True, exist_ok=True)
    head = pr.head_sha if pr is not None else runner.sha
    results.set(report_dir=str(out_dir), review="", pull_request="", summary_only="false")
    report_path = out_dir / "repairbot-report.json"
    write_json(report, report_path)
    results.set(status=report.status, kind=report.kind, report_file=str(report_path),
                failing_tests=str(len(report.failing_tests)))  # fmt: skip
    patch = report.patches[0] if report.patches and report.patches[0].diff.strip() else None
    diff = diffs.under(patch.diff, rel) if patch is not None else ""
    if patch is not None:
        patch_path = out_dir / "repairbot.patch"
        patch_path.write_text(diff, encoding="utf-8")
        results.set(patch_file=str(patch_path))
        sys.stdout.write(diff)
    _annotate_report(report, rel, diff, results)

    if report.status == "error":
        headline = f"**repairbot failed:** {report.error}"
    elif patch is None:
        headline = f"{len(report.failing_tests)} test(s) fail at {head[:12]}; no validated patch was found."
    else:
        headline = (
            f"{len(report.failing_tests)} test(s) fail at {head[:12]}; repairbot found a validated patch."
        )
    if pr is not None and inputs.review:
        notes += _review(runner, inputs, pr, report, diff, results)
    elif pr is None and patch is not None and inputs.open_pr:
        notes += _propose(runner, cfg, report, diff, project, results)
    if runner.run_url:
        notes.append(f"[Workflow run]({runner.run_url}); the JSON report and the patch are in the run's "
                     "artifacts (link below).")  # fmt: skip
    results.summary(messages.job_summary(report, headline, notes))
    return 2 if report.status == "error" else 0


def _client(runner: Runner) -> Any:
    from github import Auth, Github

    from repairbot.github.app import make_retry

    if not runner.token or not runner.repo:
        raise BadInput("publishing needs the github-token input and GITHUB_REPOSITORY")
    settings = Settings.from_env()
    return Github(
        auth=Auth.Token(runner.token),
        base_url=runner.api_url,
        retry=make_retry(settings),
        seconds_between_requests=settings.seconds_between_requests,
        seconds_between_writes=settings.seconds_between_writes,
    )


_READ_ONLY = (
    "The token cannot write to this pull request ({why}): the suggestions are in this summary and in the "
    "annotations on the changed lines instead of a review."
)


def _read_only_reason(runner: Runner, pr: PullRequestInfo) -> str | None:
    if pr.fork and runner.event_name == "pull_request":
        return "a pull request from a fork gets a read-only GITHUB_TOKEN"
    return None


@contextlib.contextmanager
def _writes(results: Results, notes: list[str]) -> Iterator[None]:
    """GitHub's 403 on a write means a read-only token: fall back to the summary and say so."""
    from github import GithubException

    try:
        yield
    except GithubException as err:
        if err.status != 403:
            raise EnvironmentProblem(f"GitHub answered {err.status}: {_gh_message(err)}") from None
        notes.append(_READ_ONLY.format(why=f"GitHub answered 403: {_gh_message(err)}"))
        results.set(summary_only="true")


def _gh_message(err: Any) -> str:
    data = getattr(err, "data", None)
    return str(data.get("message")) if isinstance(data, dict) and data.get("message") else str(err)


def _review(
    runner: Runner, inputs: Inputs, pr: PullRequestInfo, report: Report, diff: str, results: Results
) -> list[str]:
    from repairbot.github import messages, publish
    from repairbot.github.suggest import review_suggestions

    notes: list[str] = []
    if not diff or (report.newly_failing is not None and not report.newly_failing):
        why = (
            "no validated repair at this commit"
            if not diff
            else "the failing tests fail on the base too, so this pull request did not break them"
        )
        if diff:
            notes.append(f"No review: {why}.")
        return notes + _retire_review(runner, inputs, pr, report, results, why)
    read_only = _read_only_reason(runner, pr)
    if read_only is not None:
        results.set(summary_only="true")
        return [_READ_ONLY.format(why=read_only)]
    with _writes(results, notes):
        pull = _client(runner).get_repo(runner.repo).get_pull(pr.number)
        files = {f.filename: f.patch for f in pull.get_files()}
        placed, leftover = review_suggestions(diff, files, messages.suggestion_note(report))
        mark = publish.review_marks(inputs.review_key)[0]
        body = messages.review_body(report, len(placed), leftover, pr.head_sha, mark)
        synced = publish.sync_review(pull, pr.head_sha, body, placed, inputs.review_key)
        results.set(review=synced.url)
        if synced.created:
            notes.append(f"Posted [a review]({synced.url}) with {len(placed)} suggestion(s).")
        else:
            notes.append(f"Updated [the review]({synced.url}): {synced.kept} suggestion(s) kept in place, "
                         f"{synced.posted} new, {synced.outdated} marked outdated.")  # fmt: skip
    return notes


def _retire_review(
    runner: Runner,
    inputs: Inputs,
    pr: PullRequestInfo,
    report: Report | None,
    results: Results,
    why: str,
) -> list[str]:
    """An earlier review of this pull request says why its suggestions no longer apply (the tests pass, the
    failures are not this pull request's doing, no validated repair), and its suggestions are marked
    outdated."""
    from repairbot.github import messages, publish

    notes: list[str] = []
    if _read_only_reason(runner, pr) is not None or not runner.token:
        return notes  # nothing could have been posted
    with _writes(results, notes):
        pull = _client(runner).get_repo(runner.repo).get_pull(pr.number)
        mark = publish.review_marks(inputs.review_key)[0]
        if report is None:
            body, reason = messages.review_resolved_body(pr.head_sha, mark, why), why
        else:
            body, reason = messages.review_unfixed_body(report, pr.head_sha, mark, why), why
        retired = publish.retire_review(pull, pr.head_sha, body, inputs.review_key, reason)
        if retired is not None:
            results.set(review=retired.url)
            notes.append(f"Updated [the earlier review]({retired.url}): {reason}; "
                         f"{retired.outdated} suggestion(s) marked outdated.")  # fmt: skip
    return notes


def _propose(
    runner: Runner, cfg: RepoConfig, report: Report, diff: str, project: Path, results: Results
) -> list[str]:
    """Commit the patch in a worktree at the pushed commit and push it to repairbot/<fingerprint>."""
    from repairbot.github import git as gitops
    from repairbot.github import messages, publish

    if runner.event_name not in _BRANCH_EVENTS or not runner.ref.startswith("refs/heads/"):
        return [f"open-pr applies to pushes to a branch; this is {runner.event_name} on {runner.ref or '?'}."]
    branch = runner.ref.removeprefix("refs/heads/")
    fingerprint = publish.push_fingerprint(branch, report.failing_tests)
    pr_branch = f"{publish.BRANCH_PREFIX}{fingerprint}"
    if pr_branch == branch:
        raise BadInput(f"refusing to push to the triggering branch {branch}")
    if any(cfg.ignores(path) for path in diffs.paths(diff)):
        return [f"The patch touches ignored_paths of {REPO_CONFIG_PATH}: not proposed."]
    notes: list[str] = []
    with _writes(results, notes):
        repo = _client(runner).get_repo(runner.repo)
        limit = publish.pr_limit(repo, cfg, pr_branch)
        if limit:
            return [f"Not proposed: {limit}."]
        top = _toplevel(project)
        assert top is not None, "a push is always a git checkout"
        tree = runner.temp / f"repairbot-pr-{uuid.uuid4().hex[:8]}"
        _git(top, "worktree", "add", "--quiet", "--detach", str(tree), runner.sha)
        try:
            changed = gitops.apply_diff(tree, diff)
            gitops.commit(tree, changed, messages.pr_title(report), *_BOT)
            gitops.push(tree, pr_branch, runner.token)
        finally:
            _remove_worktree(top, tree)
        body = messages.pr_body(report, trigger=f"push to `{branch}`", sha=runner.sha,
                                fingerprint=fingerprint, run_url=runner.run_url or None)  # fmt: skip
        pull, created = publish.open_or_update_pr(repo, branch=pr_branch, base=branch,
                                                  title=messages.pr_title(report), body=body)  # fmt: skip
        results.set(pull_request=str(pull.html_url))
        verb = "Opened" if created else "Updated"
        notes.append(f"{verb} pull request [#{pull.number}]({pull.html_url}) from `{pr_branch}`.")
    return notes
