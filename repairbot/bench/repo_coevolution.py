"""Co-evolution cases in repository form: a real commit whose production change made existing tests obsolete,
with the developer's own test update as the reference (README "Real commits: obsolete tests").

A case names a repository, the developer's commit and its parent, the production files (`src_files`) and test
files (`test_files`) the commit changed, and the tests it made obsolete (bench/repo-case.schema.json, kind
"coevolution"). It is materialized in the tree of the project's virtualenv (repairbot.bench.repos): a git
checkout of the parent (HEAD) whose working tree holds the commit's production files, uncommitted, and the
parent's tests; repairbot runs on it as a user would, `repairbot repair TREE --base HEAD --apply`.

Scores, per obsolete test (run after the repair, in the same virtualenv):
  * *developer's update*: the test passes on the new code and its unit (the test function with its decorators,
    plus the module-level names and class members it uses, normalized: docstrings, comments and formatting
    ignored) equals the developer's;
  * *valid update*: the test passes on the new code; it fails on the parent's production code wherever the
    developer's version does; its file passes repairbot's no-weakening guard; and every assertion of the
    original test is still there (the original's assertion forms are a subsequence of the updated one's).
*Updated correctly* is either. A case whose production code repairbot changed is a *code revert* (any code
patch on such a case undoes part of the intended change): none of its tests counts as updated.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repairbot.bench.repos import (
    _PYTHON,
    _REPO,
    _SHA,
    _relative_paths,
    _strings,
    checkout,
    file_at,
    overlay,
    project_env,
    venv_argv,
    venv_environ,
)
from repairbot.errors import BadInput, RepairbotError
from repairbot.models import Job, Report
from repairbot.parsing import split_nodeid
from repairbot.parsing.normalize import dump, parse_quiet
from repairbot.workspace import is_test_path

KIND = "coevolution"
CHANGE_KINDS = ("rename", "signature", "default", "return", "exception", "message", "move", "other")
_RUN_TIMEOUT_S = 600


# ------------------------------------------------------------------------------------------------ the format


@dataclass(frozen=True, slots=True)
class CommitCase:
    """One co-evolution case of the repository form (kind "coevolution" of bench/repo-case.schema.json)."""

    id: str
    repo: str  # owner/name
    commit: str  # the developer's commit: production change and test update
    parent: str
    src_files: tuple[str, ...]  # production files the commit changed (added, modified or deleted)
    test_files: tuple[str, ...]  # test files the commit changed: the reference
    obsolete_tests: tuple[str, ...]  # pass at parent, fail with the new code, pass with the commit's tests
    change_kinds: Mapping[str, str]  # obsolete test -> one of CHANGE_KINDS
    test_cmd: str  # runs pytest; a leading `python`/`pytest` is the case's virtualenv's
    install: tuple[str, ...]
    python: str
    kind: str = KIND
    url: str = ""
    env_commit: str = ""  # the tree the virtualenv is installed from (default: parent)
    notes: str = ""

    @property
    def slug(self) -> str:
        return self.repo.replace("/", "+")

    @property
    def env_at(self) -> str:
        return self.env_commit or self.parent


_REQUIRED = ("id", "kind", "repo", "commit", "parent", "src_files", "test_files", "obsolete_tests",
             "change_kinds", "test_cmd", "install", "python")  # fmt: skip
_FIELDS = {*_REQUIRED, "url", "env_commit", "notes"}


def is_commit_case(raw: Mapping[str, Any]) -> bool:
    return raw.get("kind") == KIND


def _runs_pytest(argv: Sequence[str]) -> bool:
    head = argv[0].rsplit("/", 1)[-1] if argv else ""
    return head.startswith("pytest") or (len(argv) > 2 and argv[1] == "-m" and argv[2] == "pytest")


def parse_commit_case(raw: Mapping[str, Any], where: str = "case") -> CommitCase:
    """A CommitCase from one JSON object; a missing or malformed field is a BadInput naming it."""
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise BadInput(f"{where}: case lacks {', '.join(missing)}")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise BadInput(f"{where}: unknown field(s) {', '.join(unknown)}")
    where = f"{where} ({raw['id']})"
    if raw["kind"] != KIND:
        raise BadInput(f"{where}: kind {raw['kind']!r} is not {KIND!r}")
    if not isinstance(raw["repo"], str) or not _REPO.match(raw["repo"]):
        raise BadInput(f"{where}: repo must be owner/name, not {raw['repo']!r}")
    for key in ("commit", "parent", *(("env_commit",) if raw.get("env_commit") else ())):
        if not isinstance(raw[key], str) or not _SHA.match(raw[key]):
            raise BadInput(f"{where}: {key} must be a commit id (hex), not {raw[key]!r}")
    if not isinstance(raw["python"], str) or not _PYTHON.match(raw["python"]):
        raise BadInput(f'{where}: python must be a version like "3.11", not {raw["python"]!r}')
    try:
        argv = shlex.split(raw["test_cmd"]) if isinstance(raw["test_cmd"], str) else []
        install = _strings(raw["install"], "install", where)
        if any(not shlex.split(cmd) for cmd in install):
            raise BadInput(f"{where}: an install command is empty")
    except ValueError as exc:
        raise BadInput(f"{where}: a command cannot be parsed: {exc}") from None
    if not _runs_pytest(argv):
        raise BadInput(f"{where}: test_cmd must run pytest (the scores need per-test outcomes)")
    obsolete = _strings(raw["obsolete_tests"], "obsolete_tests", where)
    kinds = raw["change_kinds"]
    if isinstance(kinds, str):
        kinds = dict.fromkeys(obsolete, kinds)
    if not isinstance(kinds, dict) or set(kinds) != set(obsolete):
        raise BadInput(f"{where}: change_kinds must be a kind, or one for each obsolete test and no other")
    bad = sorted({k for k in kinds.values() if k not in CHANGE_KINDS}, key=str)
    if bad:
        raise BadInput(f"{where}: change kind {bad[0]!r} is not one of {', '.join(CHANGE_KINDS)}")
    src = _relative_paths(_strings(raw["src_files"], "src_files", where), "src_files", where)
    tests = _relative_paths(_strings(raw["test_files"], "test_files", where), "test_files", where)
    if any(split_nodeid(n)[0] not in tests for n in obsolete):
        raise BadInput(f"{where}: every obsolete test must be in one of test_files")
    return CommitCase(
        id=str(raw["id"]),
        repo=raw["repo"],
        commit=raw["commit"],
        parent=raw["parent"],
        src_files=src,
        test_files=tests,
        obsolete_tests=obsolete,
        change_kinds=kinds,
        test_cmd=raw["test_cmd"],
        install=install,
        python=raw["python"],
        url=str(raw.get("url") or ""),
        env_commit=str(raw.get("env_commit") or ""),
        notes=str(raw.get("notes") or ""),
    )


# ------------------------------------------------------------------------------------------------ materialize


@dataclass(frozen=True, slots=True)
class CommitTree:
    """A materialized case: the tree under repair (HEAD = parent; the commit's production files uncommitted),
    its virtualenv and test command, and the files of both revisions."""

    tree: Path
    venv: Path
    test_cmd: tuple[str, ...]
    new_src: Mapping[str, bytes | None]  # the commit's production files (None: deleted by the commit)
    old_src: Mapping[str, bytes | None]  # the parent's
    new_tests: Mapping[str, bytes | None]  # the developer's test update (the reference)
    old_tests: Mapping[str, bytes | None]  # the parent's tests (what repairbot starts from)


@contextlib.contextmanager
def materialized(case: CommitCase, mirrors: Path | None, cache: Path) -> Iterator[CommitTree]:
    """Materialize `case` in its virtualenv's tree, holding the virtualenv's lock until the block ends."""
    with project_env(case, mirrors, cache) as (mirror, tree, venv):
        checkout(mirror, tree, case.parent)
        overlay(tree, case.commit, case.src_files)
        yield CommitTree(
            tree=tree,
            venv=venv,
            test_cmd=venv_argv(case.test_cmd, venv),
            new_src={p: file_at(tree, case.commit, p) for p in case.src_files},
            old_src={p: file_at(tree, case.parent, p) for p in case.src_files},
            new_tests={p: file_at(tree, case.commit, p) for p in case.test_files},
            old_tests={p: file_at(tree, case.parent, p) for p in case.test_files},
        )


def write_files(tree: Path, files: Mapping[str, bytes | None]) -> None:
    for rel, data in files.items():
        target = tree / rel
        if data is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


# ------------------------------------------------------------------------------------------------ test runs

# Outcomes come from a small pytest plugin rather than pytest's summary: parametrized ids may hold spaces.
_PLUGIN = """
import json, os

_PREFIX = []


def pytest_configure(config):
    # Node ids are relative to pytest's rootdir; the cases name them relative to the repository.
    rel = os.path.relpath(str(config.rootpath), os.getcwd()).replace(os.sep, "/")
    _PREFIX.append("" if rel == "." else rel + "/")
    with open(os.environ["REPAIRBOT_BENCH_OUTCOMES"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(["", "rootdir", _PREFIX[0]]) + "\\n")


def _put(nodeid, when, outcome):
    with open(os.environ["REPAIRBOT_BENCH_OUTCOMES"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps([(_PREFIX[0] if _PREFIX else "") + nodeid, when, outcome]) + "\\n")


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        _put(report.nodeid, report.when, report.outcome)


def pytest_collectreport(report):
    if report.failed:
        _put(report.nodeid, "collect", "failed")
"""
_PLUGIN_NAME = "_repairbot_bench_outcomes"


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Per-test outcomes of one run of a test command."""

    tests: Mapping[str, str] = field(default_factory=dict)  # node id -> passed, failed, error, skipped
    broken: frozenset[str] = frozenset()  # collectors (modules, classes) that failed to collect
    seconds: float = 0.0
    exit_code: int = 0
    output: str = ""
    rootdir: str = ""  # pytest's rootdir relative to the tree, "" or ending in "/": pytest's own ids lack it

    def of(self, nodeid: str) -> str:
        """The test's outcome; "error" when its module did not collect, "missing" when it did not run."""
        if nodeid in self.tests:
            return self.tests[nodeid]
        if any(nodeid == b or nodeid.startswith(b + "::") for b in self.broken):
            return "error"
        return "missing"

    @property
    def failing(self) -> frozenset[str]:
        return frozenset(n for n, o in self.tests.items() if o in ("failed", "error"))

    def counterpart(self, nodeid: str, before: Outcomes) -> str:
        """The test `nodeid` of the run `before`, as this run names it. When an update changes a parameter
        row, the id changes: it is the instance of the same function at the same position, when both runs
        have as many instances of it."""
        if nodeid in self.tests or "[" not in nodeid:
            return nodeid
        func = nodeid.partition("[")[0]
        old = [n for n in before.tests if n.partition("[")[0] == func]
        new = [n for n in self.tests if n.partition("[")[0] == func]
        return new[old.index(nodeid)] if nodeid in old and len(old) == len(new) else nodeid


def run_outcomes(argv: Sequence[str], tree: Path, venv: Path, timeout: float = _RUN_TIMEOUT_S) -> Outcomes:
    """Run `argv` (a pytest command) in `tree` with `venv` first on PATH; the outcome of every test."""
    work = Path(tempfile.mkdtemp(prefix="repairbot-outcomes-"))
    try:
        (work / f"{_PLUGIN_NAME}.py").write_text(_PLUGIN, encoding="utf-8")
        events = work / "outcomes.jsonl"
        env = {**venv_environ(venv), "PYTHONPATH": str(work), "REPAIRBOT_BENCH_OUTCOMES": str(events)}
        # A module that no longer imports must not hide the outcomes of the others.
        cmd = [*argv, "-p", _PLUGIN_NAME, "-p", "no:cacheprovider", "--continue-on-collection-errors"]
        start = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout,
                                  check=False)  # fmt: skip
            exit_code, output = proc.returncode, (proc.stdout + proc.stderr)[-2000:]
        except subprocess.TimeoutExpired:
            exit_code, output = -1, f"timed out after {timeout:.0f}s"
        seconds = time.monotonic() - start
        tests: dict[str, str] = {}
        broken: set[str] = set()
        rootdir = ""
        for line in events.read_text(encoding="utf-8").splitlines() if events.exists() else []:
            nodeid, when, outcome = json.loads(line)
            if when == "rootdir":
                rootdir = outcome
            elif when == "collect":
                broken.add(nodeid)
                continue
            verdict = outcome if outcome != "failed" else ("failed" if when == "call" else "error")
            if tests.get(nodeid) not in ("failed", "error"):
                tests[nodeid] = verdict
        return Outcomes(tests, frozenset(broken), seconds, exit_code, output, rootdir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ test units


def _find_def(module: ast.Module, names: Sequence[str]) -> tuple[list[ast.ClassDef], ast.AST] | None:
    """(enclosing classes, the test's def) for the name path of a node id; a method may be inherited from a
    class of the same module."""
    classes = {s.name: s for s in module.body if isinstance(s, ast.ClassDef)}

    def member(cls: ast.ClassDef, name: str, seen: set[str]) -> ast.AST | None:
        for s in cls.body:
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and s.name == name:
                return s
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
                seen.add(base.id)
                found = member(classes[base.id], name, seen)
                if found is not None:
                    return found
        return None

    chain: list[ast.ClassDef] = []
    node: ast.AST | None = None
    body: list[ast.stmt] = module.body
    for i, name in enumerate(names):
        if chain:
            node = member(chain[-1], name, {chain[-1].name})
        else:
            defs = (s for s in body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))
            node = next((s for s in defs if s.name == name), None)
        if node is None:
            return None
        if i < len(names) - 1:
            if not isinstance(node, ast.ClassDef):
                return None
            chain.append(node)
    return (chain, node) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None


def _used_names(node: ast.AST) -> set[str]:
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        names |= {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}  # fixtures
    return names


def _self_members(node: ast.AST) -> set[str]:
    return {
        n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in ("self", "cls")
    }


def _bindings(body: Sequence[ast.stmt]) -> dict[str, list[tuple[str, ast.AST | None]]]:
    """name -> (normalized piece, statement to follow) of what binds it in `body`; an import binds per name,
    not per statement (an unrelated name imported on the same line is not part of a test)."""
    out: dict[str, list[tuple[str, ast.AST | None]]] = {}
    for s in body:
        if isinstance(s, ast.Import | ast.ImportFrom):
            mod = s.module if isinstance(s, ast.ImportFrom) else None
            level = s.level if isinstance(s, ast.ImportFrom) else 0
            for a in s.names:
                bound = a.asname or a.name.split(".")[0]
                out.setdefault(bound, []).append((f"import {level}:{mod}:{a.name} as {a.asname}", None))
        elif isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.setdefault(s.name, []).append((dump(s), s))
        elif isinstance(s, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            for name in {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}:
                out.setdefault(name, []).append((dump(s), s))
    return out


_SETUP = ("setUp", "setUpClass", "tearDown", "tearDownClass", "setup_method", "setup_class", "asyncSetUp")


def unit_of(source: bytes | None, nodeid: str) -> str | None:
    """The normalized unit of the test `nodeid` in `source` (its module): the test's def with decorators, the
    module-level definitions, assignments and imported names it uses (transitively), and for a method the
    class headers, the members it uses through self/cls and the set-up methods. None when the test is not
    found or the module does not parse."""
    module = parse_quiet(source) if source is not None else None
    found = _find_def(module, split_nodeid(nodeid)[1]) if module is not None else None
    if module is None or found is None:
        return None
    chain, fn = found
    pieces: set[str] = {dump(fn)}
    follow: list[ast.AST] = [fn]
    for cls in chain:
        header = [dump(x) for x in (*cls.decorator_list, *cls.bases, *cls.keywords)]
        pieces.add(f"class {cls.name}({', '.join(header)})")
        follow.extend([*cls.decorator_list, *cls.bases])
        members = _bindings(cls.body)
        wanted, done = _self_members(fn) | set(_SETUP), set[str]()
        while wanted - done:
            name = min(wanted - done)
            done.add(name)
            for piece, stmt in members.get(name, []):
                pieces.add(piece)
                if stmt is not None:
                    follow.append(stmt)
                    wanted |= _self_members(stmt)
    top = _bindings(module.body)
    seen: set[str] = set()
    while follow:
        for name in _used_names(follow.pop()) - seen:
            seen.add(name)
            for piece, stmt in top.get(name, []):
                pieces.add(piece)
                if stmt is not None:
                    follow.append(stmt)
    return "\n".join(sorted(pieces))


_ASSERT_NAME = re.compile(r"^(assert\w*|fail\w*)$")
_PYTEST_CHECKS = ("raises", "warns", "approx", "deprecated_call")


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def assertion_forms(source: bytes | None, nodeid: str) -> list[str] | None:
    """The test's assertions in source order, each as its form: `assert` with the comparison operators or
    the kind of its condition, or the name of an assert*/fail* call or pytest check. None when not found."""
    module = parse_quiet(source) if source is not None else None
    found = _find_def(module, split_nodeid(nodeid)[1]) if module is not None else None
    if found is None:
        return None
    forms: list[tuple[int, int, str]] = []
    for n in ast.walk(found[1]):
        if isinstance(n, ast.Assert):
            test = n.test
            what = ("cmp " + " ".join(type(op).__name__ for op in test.ops) if isinstance(test, ast.Compare)
                    else type(test).__name__)  # fmt: skip
            forms.append((n.lineno, n.col_offset, f"assert {what}"))
        elif isinstance(n, ast.Call):
            name = _call_name(n.func)
            if _ASSERT_NAME.match(name) or name in _PYTEST_CHECKS:
                forms.append((n.lineno, n.col_offset, name))
    return [f for _, _, f in sorted(forms)]


def keeps_assertions(original: list[str] | None, updated: list[str] | None) -> bool:
    """Every assertion of `original` is still in `updated`, in order (new ones may be added anywhere)."""
    if original is None or updated is None:
        return False
    it = iter(updated)
    return all(any(u == o for u in it) for o in original)


# ------------------------------------------------------------------------------------------------ scoring


@dataclass(frozen=True, slots=True)
class TestScore:
    __test__ = False  # not a pytest test class
    nodeid: str
    kind: str  # the change kind
    judged_obsolete: bool  # the report's obsolete_tests has it
    passes: bool  # passes on the new code after the repair
    developer: bool  # (a) equals the developer's update
    valid: bool  # (b) a valid update
    why: str = ""  # why it is not updated correctly

    @property
    def updated(self) -> bool:
        return self.developer or self.valid


@dataclass(frozen=True, slots=True)
class CommitResult:
    id: str
    repo: str
    tests: tuple[TestScore, ...]
    code_reverted: bool
    env_error: bool
    seconds: float
    status: str = ""  # the report's status
    report_kind: str = "none"
    error: str | None = None

    @property
    def fully_updated(self) -> bool:
        return bool(self.tests) and all(t.updated for t in self.tests) and not self.code_reverted


def code_changed(tree: Path, case: CommitCase, prep: CommitTree) -> list[str]:
    """Production files of the repaired tree that are no longer as the materialization left them: the
    commit's `src_files`, the parent's version of every other tracked file, no new Python file outside the
    tests."""
    changed = [rel for rel, want in prep.new_src.items()
               if ((tree / rel).read_bytes() if (tree / rel).is_file() else None) != want]  # fmt: skip
    proc = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=all"],
                          capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    for line in proc.stdout.splitlines():
        rel = line[3:].split(" -> ")[-1].strip('"')
        if rel in prep.new_src or rel in prep.old_tests or is_test_path(rel) or not rel.endswith(".py"):
            continue  # files a test run leaves (caches, reports) are not code
        changed.append(rel)
    return sorted(set(changed))


def score_tests(
    case: CommitCase, prep: CommitTree, report: Report, reverted: bool, *, run: Any = run_outcomes
) -> tuple[TestScore, ...]:
    """Score each obsolete test in the repaired tree (left as `repairbot repair --apply` left it)."""
    from repairbot.coevolve import weakening

    tree = prep.tree
    judged = set(report.obsolete_tests)

    def is_judged(nid: str) -> bool:
        # A module that no longer imports is judged as a whole; ids relative to a pytest rootdir below the
        # repository (tests/ with no ini file above it) name the same tests.
        path, _, rest = nid.partition("::")
        parts = path.split("/")
        forms = ["/".join(parts[i:]) + "::" + rest for i in range(len(parts))]
        return any(f == j or f.startswith(j + "::") for f in forms for j in judged)

    repaired = {p: (tree / p).read_bytes() if (tree / p).is_file() else None for p in case.test_files}
    if reverted:
        why = "code reverted"
    elif report.status == "error":
        why = f"env: {report.error}"
    else:
        why = ""
    after = run(prep.test_cmd, tree, prep.venv) if not why else Outcomes()
    start = Outcomes()  # the parent's tests on the new code: what the ids of obsolete tests refer to
    if not why and any("[" in nid for nid in case.obsolete_tests):
        write_files(tree, prep.old_tests)
        start = run(prep.test_cmd, tree, prep.venv)
        write_files(tree, repaired)

    def outcome(of: Outcomes, nid: str) -> str:
        return of.of(of.counterpart(nid, start))

    partial: dict[str, dict[str, Any]] = {}
    for nid in case.obsolete_tests:
        path = split_nodeid(nid)[0]
        row: dict[str, Any] = {"nodeid": nid, "kind": case.change_kinds[nid], "passes": False,
                               "judged_obsolete": is_judged(nid), "developer": False, "valid": False,
                               "why": why}  # fmt: skip
        partial[nid] = row
        if why:
            continue
        if repaired[path] == prep.old_tests[path] and outcome(after, nid) != "passed":
            row["why"] = "no update" if row["judged_obsolete"] else "not judged obsolete"
            continue
        row["passes"] = outcome(after, nid) == "passed"
        if not row["passes"]:
            row["why"] = f"fails after the update ({outcome(after, nid)})"
            continue
        reference = unit_of(prep.new_tests[path], nid)
        row["developer"] = reference is not None and unit_of(repaired[path], nid) == reference
        if row["developer"]:
            continue
        weakened = weakening({path: prep.old_tests[path]}, {path: repaired[path] or b""})
        if weakened:
            row["why"] = f"weakened: {weakened}"
        elif not keeps_assertions(assertion_forms(prep.old_tests[path], nid),
                                  assertion_forms(repaired[path], nid)):  # fmt: skip
            row["why"] = "drops or changes the form of an assertion"
    pending = [nid for nid, r in partial.items() if r["passes"] and not r["developer"] and not r["why"]]
    if pending:
        # On the parent's production code the update must fail wherever the developer's does.
        write_files(tree, prep.old_src)
        ours = run(prep.test_cmd, tree, prep.venv)
        write_files(tree, prep.new_tests)
        theirs = run(prep.test_cmd, tree, prep.venv)
        write_files(tree, {**prep.new_src, **repaired})  # back as the repair left it
        for nid in pending:
            if outcome(theirs, nid) != "passed" and outcome(ours, nid) == "passed":
                partial[nid]["why"] = "passes on the parent's code too (no longer checks the change)"
            else:
                partial[nid]["valid"] = True
    return tuple(TestScore(**r) for r in partial.values())


def run_commit_case(
    case: CommitCase, *, budget: float, sandbox: str, mirrors: Path | None, cache: Path,
    llm_url: str | None = None,
) -> CommitResult:  # fmt: skip
    """Materialize, repair (as `repairbot repair TREE --base HEAD --test-cmd ... --apply`), score."""
    from repairbot.pipeline import repair

    start = time.monotonic()

    def env_failure(err: RepairbotError | str) -> CommitResult:
        tests = tuple(TestScore(n, case.change_kinds[n], False, False, False, False, f"env: {err}")
                      for n in case.obsolete_tests)  # fmt: skip
        return CommitResult(case.id, case.repo, tests, False, True, time.monotonic() - start, "error",
                            error=str(err))  # fmt: skip

    try:
        with materialized(case, mirrors, cache) as prep:
            job_id = re.sub(r"[^A-Za-z0-9_.-]", "-", case.id)
            job = Job(root=prep.tree, test_cmd=prep.test_cmd, base="HEAD", budget_s=budget, sandbox=sandbox,
                      apply=True, llm_url=llm_url, job_id=job_id)  # fmt: skip
            start = time.monotonic()  # materializing and installing are not the repair's time
            try:
                report = repair(job)
            except RepairbotError as err:
                if err.exit_code == 2:
                    return env_failure(err)
                report = Report(status="not_fixed", error=str(err))
            seconds = time.monotonic() - start
            reverted = report.kind == "code" or bool(code_changed(prep.tree, case, prep))
            tests = score_tests(case, prep, report, reverted)
            return CommitResult(case.id, case.repo, tests, reverted, report.status == "error", seconds,
                                report.status, report.kind, report.error)  # fmt: skip
    except RepairbotError as err:  # materializing or installing failed
        return env_failure(err)


# ------------------------------------------------------------------------------------------------ the bench


def summary_lines(results: Sequence[CommitResult], total_s: float) -> list[str]:
    tests = [t for r in results for t in r.tests]
    n, c = len(tests), len(results)
    lines = [
        f"summary: obsolete tests updated correctly {sum(t.updated for t in tests)}/{n} "
        f"(developer's update {sum(t.developer for t in tests)}/{n}), "
        f"not judged obsolete {sum(not t.judged_obsolete for t in tests)}/{n}, "
        f"cases fully updated {sum(r.fully_updated for r in results)}/{c}, "
        f"code reverted {sum(r.code_reverted for r in results)}/{c}, "
        f"env errors {sum(r.env_error for r in results)}/{c}, total {total_s:.0f}s"
    ]
    lines.append(f"{'change kind':<12} {'tests':>5} {'judged':>6} {'updated':>7} {'developer':>9}")
    kinds = Counter(t.kind for t in tests)
    for kind in [k for k in CHANGE_KINDS if k in kinds]:
        of = [t for t in tests if t.kind == kind]
        lines.append(f"{kind:<12} {len(of):>5} {sum(t.judged_obsolete for t in of):>6} "
                     f"{sum(t.updated for t in of):>7} {sum(t.developer for t in of):>9}")  # fmt: skip
    misses = Counter(re.sub(r" \(.*|: .*", "", t.why) for t in tests if not t.updated)
    if misses:
        lines.append("misses: " + "; ".join(f"{k} {v}" for k, v in misses.most_common()))
    return lines


def _row(res: CommitResult) -> str:
    n = len(res.tests)
    result = ("env error" if res.env_error else "REVERTED" if res.code_reverted
              else f"{sum(t.updated for t in res.tests)}/{n} upd")  # fmt: skip
    dev = sum(t.developer for t in res.tests)
    judged = sum(t.judged_obsolete for t in res.tests)
    detail = res.error or next((t.why for t in res.tests if not t.updated), "")
    return f"{res.id:<40} {result:<10} {res.seconds:6.1f}s {dev:>3} {judged:>6}  {detail[:110]}"


def run_commit_bench(
    cases: Sequence[CommitCase],
    *,
    budget: float,
    jobs: int,
    sandbox: str,
    mirrors: Path | None,
    cache: Path,
    json_out: Path | None = None,
    llm_url: str | None = None,
) -> int:
    """`repairbot bench` on co-evolution cases in repository form: a row per case, the summary lines."""
    from repairbot.bench.rows import run_rows

    start = time.monotonic()
    print(f"{'case':<40} {'result':<10} {'time':>7} {'dev':>3} {'judged':>6}  detail", flush=True)

    def run(case: CommitCase) -> CommitResult:
        return run_commit_case(case, budget=budget, sandbox=sandbox, mirrors=mirrors, cache=cache,
                               llm_url=llm_url)  # fmt: skip

    def failed(case: CommitCase, message: str) -> CommitResult:
        tests = tuple(TestScore(n, case.change_kinds[n], False, False, False, False, message)
                      for n in case.obsolete_tests)  # fmt: skip
        return CommitResult(case.id, case.repo, tests, False, False, 0.0, "error", error=message)

    results = run_rows(cases, run, jobs=jobs, row=_row, json_out=json_out, failed=failed)
    for line in summary_lines(results, time.monotonic() - start):
        print(line, flush=True)
    return 0
