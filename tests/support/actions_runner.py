"""Runs a composite action's steps as a GitHub Actions runner does, for tests.

What is real: action.yml is parsed and each `run:` step runs with `bash --noprofile --norc -eo pipefail` from
a script file, in the workspace (or its `working-directory`), with the runner's environment variables
(GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_PATH, GITHUB_ACTION_PATH,
RUNNER_TEMP, …), a fresh output file per step, `${{ }}` expressions evaluated against inputs (with
action.yml's defaults), `github`, `runner`, `steps` and `env`, `if:` conditions with the implicit
`success()`, a failed step skipping the rest unless they ask for `always()`, and the action's outputs
computed at the end. RUNNER_TEMP is emptied before each job, as on a runner.

What is emulated, minimally (`uses:` steps run no JavaScript here):
- actions/setup-python: the "hosted tool cache" holds one interpreter (the one given); its version must match
  `python-version` (major.minor) or the step fails; outputs `python-version` and `python-path`; with
  `update-environment: false` PATH is left alone, otherwise its bin folder goes first.
- actions/cache: a store folder stands for GitHub's cache service (it outlives the job, like the service). An
  exact key hit, or else the newest entry whose key starts with one of `restore-keys`, is copied back to
  `path`; `cache-hit` is true only for the exact key; after the job, anything but an exact hit is saved
  under `key` if every step succeeded (the post step). The copy is made of hard links (a venv is ~100 MB);
  that is faithful as long as nothing rewrites a restored file in place: pip replaces files, Python writes
  bytecode by rename, and the action writes its own marker file by rename.
- actions/upload-artifact: copies `path` into an artifacts folder under `name` (a name used twice in one run
  fails, as in v4) and outputs `artifact-id` and `artifact-url`.
Any other `uses:`, or an expression this evaluator does not know, fails the run loudly (a test must not pass
because the harness skipped something).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class HarnessError(Exception):
    """The action uses something this harness does not emulate."""


# -- expressions -------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|<=|>=|&&|\|\||[!<>(),.\[\]])"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_-]*))"
)
_STATUS_FUNCS = ("always", "success", "failure", "cancelled")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise HarnessError(f"cannot parse expression {text!r} at {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def to_str(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", 0.0)


def _number(value: Any) -> float:
    """GitHub's coercion to a number: null 0, booleans 1/0, a numeric string its value, else NaN."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return float("nan")
    return float("nan")


def _equal(a: Any, b: Any) -> bool:
    """GitHub's `==`: strings ignore case; values of different types are compared as numbers."""
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if type(a) is type(b) and not isinstance(a, str | int | float | bool):
        return a is b
    return _number(a) == _number(b)


class _Parser:
    def __init__(
        self, text: str, context: Mapping[str, Any], funcs: Mapping[str, Callable[..., Any]]
    ) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.context = context
        self.funcs = funcs
        self.text = text

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise HarnessError(f"unexpected end of expression {self.text!r}")
        tok = self.toks[self.i]
        if expected is not None and tok[1] != expected:
            raise HarnessError(f"expected {expected!r} in {self.text!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        value = self.or_()
        if self.i != len(self.toks):
            raise HarnessError(f"trailing tokens in expression {self.text!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            value = value if _truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.cmp()
        while self.peek() == "&&":
            self.take()
            right = self.cmp()
            value = right if _truthy(value) else value
        return value

    def cmp(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            right = self.unary()
            value = _equal(value, right) if op == "==" else not _equal(value, right)
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not _truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind != "id":
            raise HarnessError(f"unexpected {text!r} in {self.text!r}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self.peek() == "(":
            self.take("(")
            args = []
            while self.peek() != ")":
                args.append(self.or_())
                if self.peek() == ",":
                    self.take(",")
            self.take(")")
            if text not in self.funcs:
                raise HarnessError(f"function {text}() is not emulated")
            return self.funcs[text](*args)
        if text not in self.context:
            raise HarnessError(f"unknown context {text!r} in {self.text!r}")
        value: Any = self.context[text]
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = to_str(self.or_())
                self.take("]")
            value = value.get(key) if isinstance(value, dict) else None
        return value


_EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def evaluate(expr: str, context: Mapping[str, Any], funcs: Mapping[str, Callable[..., Any]]) -> Any:
    return _Parser(expr, context, funcs).parse()


def interpolate(text: str, context: Mapping[str, Any], funcs: Mapping[str, Callable[..., Any]]) -> str:
    return _EMBEDDED.sub(lambda m: to_str(evaluate(m.group(1), context, funcs)), text)


# -- results -----------------------------------------------------------------------------------------------


@dataclass
class StepResult:
    id: str
    name: str
    outcome: str  # success, failure, skipped
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Annotation:
    level: str
    message: str
    file: str | None = None
    line: int | None = None
    end_line: int | None = None
    title: str | None = None


@dataclass
class RunResult:
    steps: list[StepResult]
    outputs: dict[str, str]
    summary: str
    artifacts: Path
    seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        return all(s.outcome != "failure" for s in self.steps)

    def step(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.id == step_id)

    @property
    def log(self) -> str:
        return "\n".join(f"[{s.id}] {s.outcome} {s.seconds:.1f}s\n{s.stdout}{s.stderr}" for s in self.steps)

    @property
    def annotations(self) -> list[Annotation]:
        found = []
        for step in self.steps:
            for line in step.stdout.splitlines():
                a = parse_command(line)
                if a is not None:
                    found.append(a)
        return found


def _unescape(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def parse_command(line: str) -> Annotation | None:
    """An `::error file=…,line=…::message` workflow command (also warning, notice), as the runner reads it."""
    m = re.match(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$", line)
    if not m:
        return None
    props: dict[str, str] = {}
    for part in (m.group(2) or "").split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            props[key.strip()] = _unescape(value)
    return Annotation(
        level=m.group(1),
        message=_unescape(m.group(3)),
        file=props.get("file"),
        line=int(props["line"]) if "line" in props else None,
        end_line=int(props["endLine"]) if "endLine" in props else None,
        title=props.get("title"),
    )


def read_file_command(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV syntax: `name=value` lines and `name<<DELIMITER` blocks."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            while i < len(lines) and lines[i] != delimiter:
                block.append(lines[i])
                i += 1
            if i >= len(lines):
                raise HarnessError(f"{path.name}: no closing delimiter {delimiter!r} for {name}")
            i += 1
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise HarnessError(f"{path.name}: invalid line {line!r}")
    return values


# -- the runner --------------------------------------------------------------------------------------------


@dataclass
class Machine:
    """A runner machine's folders: kept between jobs (the tool cache, the cache service's store, the work
    folder), except RUNNER_TEMP, which every job starts empty."""

    root: Path
    python: str  # the interpreter setup-python finds in the tool cache

    @property
    def temp(self) -> Path:
        return self.root / "_temp"

    @property
    def cache_store(self) -> Path:
        return self.root / "_cache_service"

    @property
    def artifacts(self) -> Path:
        return self.root / "_artifacts"


class ActionRunner:
    def __init__(self, action_dir: Path, machine: Machine) -> None:
        self.action_dir = action_dir
        self.machine = machine
        self.spec = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))
        if self.spec.get("runs", {}).get("using") != "composite":
            raise HarnessError("only composite actions are emulated")
        self._run_counter = 0

    def run(
        self,
        *,
        workspace: Path,
        event_name: str,
        event: dict[str, Any],
        repository: str,
        sha: str,
        ref: str,
        token: str,
        api_url: str,
        inputs: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 900.0,
    ) -> RunResult:
        import time

        started = time.monotonic()
        self._run_counter += 1
        run_id = f"{os.getpid()}{self._run_counter:04d}"
        temp = self.machine.temp
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir(parents=True)
        files = temp / "_runner_file_commands"
        files.mkdir()
        event_path = temp / "_github_workflow" / "event.json"
        event_path.parent.mkdir()
        event_path.write_text(json.dumps(event), encoding="utf-8")
        summary_parts: list[str] = []
        server_url = "https://github.example"
        base_env: dict[str, str] = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": os.environ.get("HOME", str(self.machine.root)),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": repository,
            "GITHUB_REPOSITORY_OWNER": repository.split("/")[0],
            "GITHUB_SHA": sha,
            "GITHUB_REF": ref,
            "GITHUB_REF_NAME": ref.rsplit("/", 1)[-1] if ref.startswith("refs/heads/") else ref,
            "GITHUB_REF_TYPE": "branch" if ref.startswith("refs/heads/") else "",
            "GITHUB_RUN_ID": run_id,
            "GITHUB_RUN_NUMBER": str(self._run_counter),
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_JOB": "repair",
            "GITHUB_WORKFLOW": "repairbot",
            "GITHUB_ACTOR": "octocat",
            "GITHUB_SERVER_URL": server_url,
            "GITHUB_API_URL": api_url,
            "GITHUB_GRAPHQL_URL": f"{api_url}/graphql",
            "GITHUB_ACTION_PATH": str(self.action_dir),
            "GITHUB_ACTION": "__run",
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_NAME": "harness",
            "RUNNER_TEMP": str(temp),
            "RUNNER_TOOL_CACHE": str(self.machine.root / "_tool"),
        }
        for name in ("DOCKER_HOST", "DOCKER_CONFIG", "SSL_CERT_FILE"):
            if name in os.environ:
                base_env[name] = os.environ[name]
        if event_name in ("pull_request", "pull_request_target"):
            pr = event.get("pull_request") or {}
            base_env["GITHUB_HEAD_REF"] = str((pr.get("head") or {}).get("ref", ""))
            base_env["GITHUB_BASE_REF"] = str((pr.get("base") or {}).get("ref", ""))
        base_env.update(env or {})
        job_env = dict(base_env)
        steps_ctx: dict[str, Any] = {}
        results: list[StepResult] = []
        failed = False
        post: list[Callable[[bool], None]] = []

        inputs_ctx: dict[str, Any] = {}
        github_ctx: dict[str, Any] = {
            "token": token,
            "action_path": str(self.action_dir),
            "workspace": str(workspace),
            "event_name": event_name,
            "event": event,
            "repository": repository,
            "sha": sha,
            "ref": ref,
            "run_id": run_id,
            "job": "repair",
            "server_url": server_url,
            "api_url": api_url,
        }
        runner_ctx = {
            "os": "Linux",
            "arch": "X64",
            "temp": str(temp),
            "tool_cache": base_env["RUNNER_TOOL_CACHE"],
            "name": "harness",
        }

        def context() -> dict[str, Any]:
            return {
                "inputs": inputs_ctx,
                "github": github_ctx,
                "runner": runner_ctx,
                "steps": steps_ctx,
                "env": job_env,
            }

        funcs: dict[str, Callable[..., Any]] = {
            "always": lambda: True,
            "success": lambda: not failed,
            "failure": lambda: failed,
            "cancelled": lambda: False,
            "format": lambda fmt, *args: re.sub(r"\{(\d+)\}", lambda m: to_str(args[int(m.group(1))]), fmt),
            "contains": lambda hay, needle: to_str(needle).casefold() in to_str(hay).casefold(),
            "startsWith": lambda s, p: to_str(s).casefold().startswith(to_str(p).casefold()),
        }
        given = dict(inputs or {})
        for name, spec in (self.spec.get("inputs") or {}).items():
            if name in given:
                inputs_ctx[name] = given.pop(name)
            else:
                inputs_ctx[name] = interpolate(to_str((spec or {}).get("default", "")), context(), funcs)
        if given:
            # GitHub warns about unexpected inputs and ignores them; a test passing one has a typo.
            raise HarnessError(f"inputs not declared in action.yml: {sorted(given)}")

        for index, step in enumerate(self.spec["runs"]["steps"]):
            sid = str(step.get("id") or f"__step{index}")
            name = str(step.get("name") or step.get("uses") or sid)
            condition = str(step.get("if", "success()"))
            condition = _EMBEDDED.sub(lambda m: m.group(1), condition).strip()
            if not any(f"{f}(" in condition for f in _STATUS_FUNCS):
                condition = f"success() && ({condition})"
            if not _truthy(evaluate(condition, context(), funcs)):
                results.append(StepResult(sid, name, "skipped"))
                steps_ctx[sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            step_started = time.monotonic()
            step_env = dict(job_env)
            for key, value in (step.get("env") or {}).items():
                step_env[key] = interpolate(to_str(value), context(), funcs)
            if "uses" in step:
                with_ = {
                    k: interpolate(to_str(v), context(), funcs) for k, v in (step.get("with") or {}).items()
                }
                result = self._uses(
                    sid, name, str(step["uses"]), with_, step_env, post, run_id, repository, server_url
                )
            else:
                result = self._bash(sid, name, step, step_env, context(), funcs, files, timeout_s)
                summary_file = files / f"step_summary_{sid}"
                if summary_file.exists():
                    summary_parts.append(summary_file.read_text(encoding="utf-8"))
                job_env.update(read_file_command(files / f"set_env_{sid}"))
                path_file = files / f"add_path_{sid}"
                if path_file.exists():
                    extra = [p for p in path_file.read_text().splitlines() if p]
                    job_env["PATH"] = os.pathsep.join([*reversed(extra), job_env["PATH"]])
            result.seconds = time.monotonic() - step_started
            results.append(result)
            steps_ctx[sid] = {
                "outputs": result.outputs,
                "outcome": result.outcome,
                "conclusion": result.outcome,
            }
            failed = failed or result.outcome == "failure"
        for hook in post:
            hook(not failed)
        outputs = {
            name: interpolate(to_str((spec or {}).get("value", "")), context(), funcs)
            for name, spec in (self.spec.get("outputs") or {}).items()
        }
        return RunResult(
            results,
            outputs,
            "".join(summary_parts),
            self.machine.artifacts / run_id,
            time.monotonic() - started,
        )

    # -- run: steps ------------------------------------------------------------------------------------------

    def _bash(
        self,
        sid: str,
        name: str,
        step: Mapping[str, Any],
        env: dict[str, str],
        ctx: Mapping[str, Any],
        funcs: Mapping[str, Callable[..., Any]],
        files: Path,
        timeout_s: float,
    ) -> StepResult:
        if step.get("shell") != "bash":
            raise HarnessError(f"step {sid}: a composite step must name its shell; only bash is emulated")
        script = interpolate(str(step["run"]), ctx, funcs)
        path = self.machine.temp / f"{uuid.uuid4()}.sh"
        path.write_text(script, encoding="utf-8")
        for kind, var in (
            ("set_output", "GITHUB_OUTPUT"),
            ("step_summary", "GITHUB_STEP_SUMMARY"),
            ("set_env", "GITHUB_ENV"),
            ("add_path", "GITHUB_PATH"),
            ("save_state", "GITHUB_STATE"),
        ):
            target = files / f"{kind}_{sid}"
            target.touch()
            env[var] = str(target)
        cwd = Path(interpolate(str(step.get("working-directory") or env["GITHUB_WORKSPACE"]), ctx, funcs))
        if not cwd.is_absolute():
            cwd = Path(env["GITHUB_WORKSPACE"]) / cwd
        try:
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            return StepResult(sid, name, "failure", 124, out, f"step timed out after {timeout_s}s")
        outputs = read_file_command(files / f"set_output_{sid}")
        outcome = "success" if proc.returncode == 0 else "failure"
        return StepResult(sid, name, outcome, proc.returncode, proc.stdout, proc.stderr, outputs)

    # -- uses: steps -----------------------------------------------------------------------------------------

    def _uses(
        self,
        sid: str,
        name: str,
        uses: str,
        with_: dict[str, str],
        env: dict[str, str],
        post: list[Callable[[bool], None]],
        run_id: str,
        repository: str,
        server_url: str,
    ) -> StepResult:
        action = uses.split("@", 1)[0]
        if action == "actions/setup-python":
            return self._setup_python(sid, name, with_, env)
        if action == "actions/cache":
            return self._cache(sid, name, with_, post)
        if action == "actions/upload-artifact":
            return self._upload(sid, name, with_, run_id, repository, server_url)
        raise HarnessError(f"step {sid}: {uses} is not emulated")

    def _setup_python(self, sid: str, name: str, with_: dict[str, str], env: dict[str, str]) -> StepResult:
        want = with_.get("python-version", "")
        proc = subprocess.run(
            [self.machine.python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=True,
        )
        have = proc.stdout.strip()
        if want and not (have == want or have.startswith(want + ".")):
            return StepResult(
                sid, name, "failure", 1, "", f"Python {want} is not in this runner's tool cache"
            )
        if with_.get("update-environment", "true") != "false":
            env["PATH"] = f"{Path(self.machine.python).parent}{os.pathsep}{env['PATH']}"
        return StepResult(
            sid,
            name,
            "success",
            0,
            f"Python {have}\n",
            "",
            {"python-version": have, "python-path": self.machine.python},
        )

    def _cache(
        self, sid: str, name: str, with_: dict[str, str], post: list[Callable[[bool], None]]
    ) -> StepResult:
        key, path = with_.get("key", ""), with_.get("path", "")
        if not key or not path or "\n" in path.strip():
            raise HarnessError(f"step {sid}: actions/cache emulation needs one path and a key")
        saved = self.machine.cache_store / key
        target = Path(path)
        found = saved if saved.exists() else None
        if found is None:
            prefixes = [p.strip() for p in with_.get("restore-keys", "").splitlines() if p.strip()]
            for prefix in prefixes:
                entries = [e for e in self.machine.cache_store.glob("*") if e.name.startswith(prefix)]
                entries = [e for e in entries if ".tmp" not in e.name]
                if entries:
                    found = max(entries, key=lambda e: e.stat().st_mtime)
                    break
        if found is not None:
            shutil.rmtree(target, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-al", str(found), str(target)], check=True)
            os.utime(found)  # last used: what eviction goes by
        exact = found == saved

        def save(job_succeeded: bool) -> None:
            if job_succeeded and not exact and target.exists() and not saved.exists():
                tmp = saved.with_name(saved.name + f".tmp{os.getpid()}")
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(["cp", "-a", str(target), str(tmp)], check=True)
                tmp.rename(saved)
                self._evict(keep=saved)

        if exact:
            return StepResult(
                sid, name, "success", 0, f"Cache restored from key: {key}\n", "", {"cache-hit": "true"}
            )
        post.append(save)
        said = (
            f"Cache restored from key: {found.name}"
            if found is not None
            else f"Cache not found for key: {key}"
        )
        return StepResult(sid, name, "success", 0, said + "\n", "", {"cache-hit": "false"})

    def _evict(self, keep: Path, entries: int = 3) -> None:
        """GitHub evicts the least recently used caches past a size; here past a few entries."""
        found = [e for e in self.machine.cache_store.iterdir() if ".tmp" not in e.name and e != keep]
        for old in sorted(found, key=lambda e: e.stat().st_mtime, reverse=True)[entries - 1 :]:
            shutil.rmtree(old, ignore_errors=True)

    def _upload(
        self, sid: str, name: str, with_: dict[str, str], run_id: str, repository: str, server_url: str
    ) -> StepResult:
        artifact = with_.get("name") or "artifact"
        source = Path(with_.get("path", ""))
        dest = self.machine.artifacts / run_id / artifact
        if dest.exists():
            return StepResult(sid, name, "failure", 1, "", f"an artifact named {artifact} already exists")
        if not source.exists() or (source.is_dir() and not any(source.iterdir())):
            if with_.get("if-no-files-found", "warn") == "error":
                return StepResult(sid, name, "failure", 1, "", f"no files found at {source}")
            return StepResult(sid, name, "success", 0, f"No files were found at {source}\n", "", {})
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest)
        else:
            dest.mkdir()
            shutil.copy2(source, dest / source.name)
        artifact_id = str(len(list(dest.parent.iterdir())))
        url = f"{server_url}/{repository}/actions/runs/{run_id}/artifacts/{artifact_id}"
        return StepResult(
            sid,
            name,
            "success",
            0,
            f"Artifact {artifact} uploaded\n",
            "",
            {"artifact-id": artifact_id, "artifact-url": url},
        )


def copy_action(source: Path, dest: Path) -> Path:
    """The action as a runner downloads it: the repository's files at a ref (here the work tree's tracked and
    untracked-but-not-ignored files), without its .git or build output."""
    listed = (
        subprocess.run(
            ["git", "-C", str(source), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    shutil.rmtree(dest, ignore_errors=True)
    for rel in filter(None, listed):
        src = source / rel
        if src.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def base_python() -> str:
    """The interpreter that plays the runner's hosted Python (the one under this test's virtualenv)."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))
