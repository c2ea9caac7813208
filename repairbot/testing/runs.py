"""Turn a RunSpec into a fork-server request, and the files a run leaves into a TestRun."""

from __future__ import annotations

import json
import os
import shlex
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repairbot.errors import BadInput
from repairbot.models import Outcome, RunSpec, TestOutcome, TestRun
from repairbot.testing.evidence import observations

SERVER_PATH = Path(__file__).with_name("server.py")
_PYTEST_NAMES = {"pytest", "py.test"}


@dataclass(frozen=True, slots=True)
class TestCommand:
    """How the project's tests run: under which interpreter, and pytest arguments or a raw command."""

    __test__ = False  # not a pytest test class

    interpreter: str
    pytest_args: tuple[str, ...] | None  # pytest mode: run in the fork server with our plugin
    argv: tuple[str, ...] | None = None  # anything else: run as a command, outcome from its exit code

    @property
    def display(self) -> str:
        if self.argv is not None:
            return shlex.join(self.argv)
        return shlex.join([self.interpreter, "-m", "pytest", *(self.pytest_args or ())])


def split_command(text: str) -> tuple[str, ...]:
    """The words of a test command, split as a POSIX shell would; ValueError on unbalanced quotes."""
    return tuple(shlex.split(text))


def split_test_cmd(text: str | None) -> tuple[str, ...] | None:
    """A --test-cmd (or the Action's test-command): None when not given; BadInput when it cannot be split."""
    if not text:
        return None
    try:
        return split_command(text)
    except ValueError as exc:
        raise BadInput(f"--test-cmd cannot be parsed: {exc}") from None


def parse_test_cmd(
    cmd: str | tuple[str, ...] | None, interpreter: str | None = None, root: Path | None = None
) -> TestCommand:
    """None: pytest under this interpreter. `python -m pytest ARGS` and `pytest ARGS` take the fast path;
    so do `python -m unittest ARGS` and `python setup.py test`, run through pytest's unittest support
    (per-test outcomes and coverage instead of one exit code). `root`: the project, to resolve the dotted
    names unittest takes."""
    python = interpreter or sys.executable
    if cmd is None:
        return TestCommand(python, ())
    argv = (split_test_cmd(cmd) or ()) if isinstance(cmd, str) else tuple(cmd)
    if not argv:
        raise BadInput("--test-cmd is empty")
    head = os.path.basename(argv[0])
    if head in _PYTEST_NAMES:
        return TestCommand(_interpreter_of(argv[0]) or python, argv[1:])
    if head.startswith("python") and len(argv) >= 3 and argv[1] == "-m" and argv[2] in _PYTEST_NAMES:
        return TestCommand(argv[0], argv[3:])
    if head.startswith("python") and len(argv) >= 3 and argv[1] == "-m" and argv[2] == "unittest":
        unittest_args = _from_unittest(argv[3:], root)
        if unittest_args is not None:
            return TestCommand(_absolute(argv[0]), unittest_args)
    if head.startswith("python") and argv[1:] == ("setup.py", "test"):
        # setuptools' test command ran unittest discovery over the tree (test*.py); pytest finds those too.
        return TestCommand(_absolute(argv[0]), ("-o", f"python_files={_UNITTEST_FILES}"))
    return TestCommand(python, None, argv)


_UNITTEST_FILES = "test*.py *_test.py"  # unittest's default pattern, and pytest's other default


def _absolute(interpreter: str) -> str:
    """The interpreter by its path: the fork server starts it where PATH is not the user's (a container)."""
    if os.sep in interpreter:
        return interpreter
    import shutil

    return shutil.which(interpreter) or interpreter


def _from_unittest(args: tuple[str, ...], root: Path | None) -> tuple[str, ...] | None:
    """pytest arguments for `python -m unittest ARGS`; None for what has no pytest equivalent (the command
    then runs as it is, judged by its exit code)."""
    pattern = "test*.py"
    start = "."
    names: list[str] = []
    keywords: list[str] = []
    rest = list(args)
    discover = bool(rest) and rest[0] == "discover"
    if discover:
        rest = rest[1:]
    i = 0
    while i < len(rest):
        arg = rest[i]
        value = rest[i + 1] if i + 1 < len(rest) else None
        if arg in ("-v", "--verbose", "-q", "--quiet", "-b", "--buffer", "-c", "--catch", "-f", "--failfast",
                   "--locals", "--durations"):  # fmt: skip
            i += 2 if arg == "--durations" else 1
        elif arg in ("-p", "--pattern", "-s", "--start-directory", "-t", "--top-level-directory", "-k"):
            if value is None:
                return None
            if arg in ("-p", "--pattern"):
                pattern = value
            elif arg in ("-s", "--start-directory"):
                start = value
            elif arg == "-k":
                keywords.append(value)
            i += 2
        elif arg.startswith("-"):
            return None
        elif discover:
            # positional: start directory, pattern, top-level directory
            start, pattern = (arg, pattern) if not names else (start, arg)
            names.append(arg)
            i += 1
        else:
            names.append(arg)
            i += 1
    out = ["-o", f"python_files={pattern}"]
    if keywords:
        out += ["-k", " or ".join(keywords)]
    if discover or not names:
        return (*out, start) if start != "." else tuple(out)
    for name in names:
        node = _unittest_node(name, root)
        if node is None:
            return None
        out.append(node)
    return tuple(out)


def _unittest_node(name: str, root: Path | None) -> str | None:
    """`pkg.test_mod.TestCase.test_x` (or a path) as a pytest node id: the longest prefix that is a module
    file of the project, then `::`-separated names."""
    if name.endswith(".py") or "/" in name:
        return name
    parts = name.split(".")
    if root is None:
        return "/".join(parts) + ".py"
    for cut in range(len(parts), 0, -1):
        path = "/".join(parts[:cut]) + ".py"
        if (root / path).is_file():
            return "::".join([path, *parts[cut:]])
        if cut == len(parts) and (root / "/".join(parts)).is_dir():
            return "/".join(parts)
    return None


def _interpreter_of(script: str) -> str | None:
    """The interpreter a `pytest` console script runs under (its shebang), if it is a file we can read."""
    path = Path(script) if os.sep in script else None
    if path is None:
        import shutil

        found = shutil.which(script)
        path = Path(found) if found else None
    if path is None or not path.is_file():
        return None
    try:
        first = path.read_bytes()[:200].split(b"\n", 1)[0].decode()
    except (OSError, UnicodeDecodeError):
        return None
    return first[2:].strip().split()[0] if first.startswith("#!") else None


# pytest options (and common plugins') whose value is the next word: a path there is the option's value, not a
# selection (`--deselect x.py::t`, `--ignore tests/slow`, `-c setup.cfg`, `--rootdir .`).
_VALUE_OPTIONS = frozenset(
    {
        "--deselect", "--ignore", "--ignore-glob", "-k", "-m", "-p", "-c", "--config-file", "--rootdir",
        "--confcutdir", "-o", "--override-ini", "--basetemp", "--junitxml", "--junit-xml", "--import-mode",
        "-W", "--pythonwarnings", "--tb", "--maxfail", "--durations", "--log-file", "--cov", "--cov-report",
        "--cov-config", "-n", "--numprocesses", "--dist", "--timeout", "--doctest-glob", "--log-level", "-r",
    }
)  # fmt: skip


def _split_positional(args: tuple[str, ...], workdir: Path) -> tuple[list[str], list[str]]:
    """Options (with their values) stay; existing paths are positional (replaced by a selection)."""
    options: list[str] = []
    positional: list[str] = []
    takes_value = False
    for arg in args:
        if takes_value:
            options.append(arg)
            takes_value = False
        elif arg.startswith("-"):
            options.append(arg)
            takes_value = arg in _VALUE_OPTIONS
        elif (workdir / arg.split("::", 1)[0]).exists():
            positional.append(arg)
        else:
            options.append(arg)
    return options, positional


def build_request(spec: RunSpec, command: TestCommand, out_dir: Path, req_id: str) -> dict[str, Any]:
    """The fork-server request for `spec`; result files go to `out_dir` (which must exist)."""
    env = {
        "REPAIRBOT_ROOT": str(spec.workdir),
        "REPAIRBOT_EVENTS": str(out_dir / "events.jsonl"),
        "REPAIRBOT_TEST_TIMEOUT": f"{spec.per_test_timeout_s:g}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "REPAIRBOT_JUNIT_XML": str(out_dir / "junit.xml"),
    }
    if spec.coverage:
        env["REPAIRBOT_COVERAGE"] = str(out_dir / "coverage.json")
    if spec.stop_on_first_failure:
        env["REPAIRBOT_STOP_ON_TIMEOUT"] = "1"
        if spec.must_pass:
            (out_dir / "must_pass.txt").write_text("\n".join(spec.must_pass), encoding="utf-8")
            env["REPAIRBOT_MUST_PASS"] = str(out_dir / "must_pass.txt")
    req: dict[str, Any] = {
        "id": req_id,
        "cwd": str(spec.workdir),
        "env": env,
        "timeout": spec.timeout_s,
        "log": str(out_dir / "output.txt"),
        "pytest": None,
        "argv": None,
    }
    if command.pytest_args is None:
        req["argv"] = list(command.argv or ())
        return req
    options, positional = _split_positional(command.pytest_args, spec.workdir)
    selection = list(spec.tests) if spec.tests else positional
    req["pytest"] = [
        *options,
        "-p",
        "_repairbot_plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--tb={spec.tb}",
        "-rN",
        # A test module that fails to import must not stop the others from running (testing/triage.py
        # decides whether it is a target or pre-existing).
        *(() if "--continue-on-collection-errors" in options else ("--continue-on-collection-errors",)),
        # JUnit XML backs up the events when our plugin could not load; a candidate run is judged against a
        # baseline that already showed the plugin working, so it skips the XML (a tenth of a small run).
        *(() if spec.stop_on_first_failure else (f"--junitxml={out_dir / 'junit.xml'}",)),
        *selection,
    ]
    return req


def collect(spec: RunSpec, command: TestCommand, out_dir: Path, reply: dict[str, Any]) -> TestRun:
    """Read what a run left in `out_dir` into a TestRun."""
    timed_out = bool(reply.get("timed_out"))
    sig = reply.get("signal")
    killed: str | None = None
    if timed_out:
        killed = "timeout"
    elif reply.get("killed"):  # the sandbox measured it (cgroup memory or pids limit)
        killed = str(reply["killed"])
    elif reply.get("server_died"):
        killed = "crash"
    elif sig is not None:
        killed = "memory" if sig == 9 else "crash"
    output = _tail(out_dir / "output.txt")
    events = _read_events(out_dir / "events.jsonl")
    if command.pytest_args is not None and events:
        outcomes, collection_errors = _outcomes_from_events(events, killed)
    else:
        outcomes = _outcomes_from_junit(out_dir / "junit.xml")
        collection_errors = []
        if not outcomes and command.pytest_args is None:
            passed = reply.get("exit_code") == 0
            outcome: Outcome = "passed" if passed else ("timeout" if timed_out else "failed")
            outcomes = [TestOutcome(command.display, outcome, "" if passed else output[-300:], output)]
    coverage = _read_coverage(out_dir / "coverage.json") if spec.coverage else {}
    exit_code = reply.get("exit_code")
    return TestRun(
        outcomes=tuple(outcomes),
        coverage=coverage,
        exit_code=-1 if exit_code is None else int(exit_code),
        timed_out=timed_out,
        killed=killed,
        collection_errors=tuple(collection_errors),
        output=output,
        seconds=float(reply.get("seconds", 0.0)),
    )


def _tail(path: Path, limit: int = 20000) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
    return events


def _outcomes_from_events(
    events: list[dict[str, Any]], killed: str | None
) -> tuple[list[TestOutcome], list[str]]:
    order: list[str] = []
    phases: dict[str, list[dict[str, Any]]] = {}
    collection_errors: list[str] = []
    for ev in events:
        kind = ev.get("event")
        if kind == "start":
            order.append(ev["nodeid"])
            phases.setdefault(ev["nodeid"], [])
        elif kind == "report":
            phases.setdefault(ev["nodeid"], []).append(ev)
            if ev["nodeid"] not in order:
                order.append(ev["nodeid"])
        elif kind == "collect_error":
            collection_errors.append(f"{ev.get('nodeid') or '<session>'}: {ev.get('longrepr', '')}")
    outcomes = []
    for nodeid in order:
        outcomes.append(_combine(nodeid, phases.get(nodeid, []), killed))
    return outcomes, collection_errors


def _combine(nodeid: str, reports: list[dict[str, Any]], killed: str | None) -> TestOutcome:
    duration = sum(float(r.get("duration", 0.0)) for r in reports)
    for r in reports:
        if r["outcome"] == "failed":
            outcome: Outcome
            if r.get("timeout"):
                outcome = "timeout"
            elif r["when"] == "call":
                outcome = "failed"
            else:
                outcome = "error"
            frames = tuple((str(p), int(n)) for p, n in r.get("frames", []))
            return TestOutcome(nodeid, outcome, r.get("message", ""), r.get("longrepr", ""), frames, duration,
                               observations(r.get("observations")))  # fmt: skip
    call = [r for r in reports if r["when"] == "call"]
    if call:
        return TestOutcome(
            nodeid, "passed" if call[0]["outcome"] == "passed" else "skipped", duration=duration
        )
    if any(r["outcome"] == "skipped" for r in reports):
        return TestOutcome(nodeid, "skipped", duration=duration)
    # Started but never reported: the run was killed while this test ran.
    outcome = "timeout" if killed == "timeout" else "crashed"
    return TestOutcome(nodeid, outcome, f"the test run was stopped ({killed or 'interpreter died'})")


def _last_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1].strip()[:300] if lines else ""


def _outcomes_from_junit(path: Path) -> list[TestOutcome]:
    """JUnit XML (pytest's, or any runner's that honours REPAIRBOT_JUNIT_XML)."""
    if not path.exists():
        return []
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return []
    outcomes = []
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        name = case.get("name", "")
        file = case.get("file")
        if file:
            nodeid = f"{file}::{name}"
        else:
            parts = classname.split(".")
            nodeid = "/".join(parts) + f".py::{name}" if classname else name
        duration = float(case.get("time", "0") or 0)
        outcome: Outcome = "passed"
        message = ""
        longrepr = ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "error"
                message = (child.get("message") or "").splitlines()[0][:500] if child.get("message") else ""
                longrepr = child.text or ""
            elif child.tag == "skipped":
                outcome = "skipped"
        outcomes.append(TestOutcome(nodeid, outcome, message, longrepr, duration=duration))
    return outcomes


def _read_coverage(path: Path) -> dict[str, frozenset[tuple[str, int]]]:
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return {
        nodeid: frozenset((p, int(line)) for p, lines in files.items() for line in lines)
        for nodeid, files in raw.items()
    }
