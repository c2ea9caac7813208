"""Benchmark cases in repository form: coordinates of a real bug in a real project, not copies of its code.

A case names a repository, a bug-fix commit and its parent, the files the fix changed and the test command
(bench/realbugs/case.schema.json, README "Real-bug benchmark"). It is materialized as the classic bug
benchmarks do: a git checkout of the buggy commit with the fix commit's version of the test files; the fix
commit's version of `src_files` is the reference. The project runs in its own virtualenv as a user has it (the
case's own install commands, nothing added), cached per repository + install commands + Python version +
environment commit.

Why a fixed tree per virtualenv: a user's virtualenv has the project installed editable, pointing at the
user's checkout. The cached virtualenv is built in `<cache>/envs/<key>/tree` and every case of that project is
checked out there, so the editable install points at the tree under repair, as it would for a user; cases that
share a virtualenv therefore run one at a time (a file lock), different projects in parallel.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import fcntl
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from repairbot.bench.rows import INTERNAL, confidence_line
from repairbot.errors import BadInput, EnvironmentProblem, RepairbotError
from repairbot.models import Job, Location, Report
from repairbot.paths import remove_inside, write_inside

MIRRORS_ENV = "REPAIRBOT_MIRRORS"
CACHE_ENV = "REPAIRBOT_BENCH_CACHE"
TOP = 5  # localization is scored in the report's first TOP locations
_INSTALL_TIMEOUT_S = 1800
_GIT_TIMEOUT_S = 600
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_PYTHON = re.compile(r"^3\.\d+$")
_PY_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")
KINDS = ("repair",)


# ------------------------------------------------------------------------------------------------ the format


@dataclass(frozen=True, slots=True)
class RepoCase:
    """One case of the repository form (the fields of bench/realbugs/case.schema.json)."""

    id: str
    repo: str  # owner/name
    fix_commit: str
    buggy_commit: str
    src_files: tuple[str, ...]
    test_files: tuple[str, ...]
    failing_tests: tuple[str, ...]
    test_cmd: str  # a leading `python`/`pytest` means the case's virtualenv
    install: tuple[str, ...]  # run in the tree, with the virtualenv first on PATH
    python: str  # "3.11"
    kind: str = "repair"
    url: str = ""
    env_commit: str = ""  # the tree the virtualenv is installed from (default: buggy_commit)
    hunks: int = 0
    lines_changed: int = 0
    notes: str = ""

    @property
    def slug(self) -> str:
        return self.repo.replace("/", "+")

    @property
    def env_at(self) -> str:
        return self.env_commit or self.buggy_commit


class ProjectCase(Protocol):
    """What the mirror and the virtualenv of a case depend on (a repair case or a co-evolution case)."""

    @property
    def repo(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def python(self) -> str: ...
    @property
    def install(self) -> tuple[str, ...]: ...
    @property
    def slug(self) -> str: ...
    @property
    def env_at(self) -> str: ...


def _strings(raw: Any, field: str, where: str, *, empty: bool = False) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise BadInput(f"{where}: {field} must be a list of non-empty strings")
    if not raw and not empty:
        raise BadInput(f"{where}: {field} is empty")
    return tuple(raw)


def _relative_paths(paths: tuple[str, ...], field: str, where: str) -> tuple[str, ...]:
    for p in paths:
        if p.startswith("/") or ".." in p.split("/") or "\\" in p:
            raise BadInput(f"{where}: {field} entry {p!r} is not a relative POSIX path inside the repository")
    return paths


def parse_case(raw: Mapping[str, Any], where: str = "case") -> RepoCase:
    """A RepoCase from one JSON object; a missing or malformed field is a BadInput naming it."""
    required = ("id", "repo", "fix_commit", "buggy_commit", "src_files", "test_files", "failing_tests",
                "test_cmd", "install", "python")  # fmt: skip
    missing = [k for k in required if k not in raw]
    if missing:
        raise BadInput(f"{where}: case lacks {', '.join(missing)}")
    unknown = sorted(set(raw) - set(RepoCase.__dataclass_fields__))
    if unknown:
        raise BadInput(f"{where}: unknown field(s) {', '.join(unknown)}")
    where = f"{where} ({raw['id']})"
    kind = raw.get("kind", "repair")
    if kind not in KINDS:
        raise BadInput(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    repo = raw["repo"]
    if not isinstance(repo, str) or not _REPO.match(repo):
        raise BadInput(f"{where}: repo must be owner/name, not {repo!r}")
    for key in ("fix_commit", "buggy_commit", *(("env_commit",) if raw.get("env_commit") else ())):
        if not isinstance(raw[key], str) or not _SHA.match(raw[key]):
            raise BadInput(f"{where}: {key} must be a commit id (hex), not {raw[key]!r}")
    python = raw["python"]
    if not isinstance(python, str) or not _PYTHON.match(python):
        raise BadInput(f'{where}: python must be a version like "3.11", not {python!r}')
    if not isinstance(raw["test_cmd"], str) or not raw["test_cmd"].strip():
        raise BadInput(f"{where}: test_cmd must be a non-empty command line")
    try:
        shlex.split(raw["test_cmd"])
        install = _strings(raw["install"], "install", where)
        for cmd in install:
            if not shlex.split(cmd):
                raise BadInput(f"{where}: an install command is empty")
    except ValueError as exc:
        raise BadInput(f"{where}: a command cannot be parsed: {exc}") from None
    numbers = {k: raw.get(k, 0) for k in ("hunks", "lines_changed")}
    for k, v in numbers.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise BadInput(f"{where}: {k} must be a non-negative integer")
    return RepoCase(
        id=str(raw["id"]),
        repo=repo,
        fix_commit=raw["fix_commit"],
        buggy_commit=raw["buggy_commit"],
        src_files=_relative_paths(_strings(raw["src_files"], "src_files", where), "src_files", where),
        test_files=_relative_paths(_strings(raw["test_files"], "test_files", where), "test_files", where),
        failing_tests=_strings(raw["failing_tests"], "failing_tests", where),
        test_cmd=raw["test_cmd"],
        install=install,
        python=python,
        kind=kind,
        url=str(raw.get("url") or ""),
        env_commit=str(raw.get("env_commit") or ""),
        hunks=numbers["hunks"],
        lines_changed=numbers["lines_changed"],
        notes=str(raw.get("notes") or ""),
    )


def is_repo_case(raw: Mapping[str, Any]) -> bool:
    """A case given as coordinates in a repository (a real bug, or a real commit with obsolete tests)."""
    return "repo" in raw and ("fix_commit" in raw or raw.get("kind") == "coevolution")


# ------------------------------------------------------------------------------------------------ git


def _git(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=env, timeout=_GIT_TIMEOUT_S)
    except FileNotFoundError:
        raise EnvironmentProblem("git is not installed", hint="install git to run repository cases") from None
    except subprocess.TimeoutExpired:
        raise EnvironmentProblem(f"git {args[0]} took longer than {_GIT_TIMEOUT_S}s") from None
    if check and proc.returncode:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise EnvironmentProblem(f"git {' '.join(args[:2])} failed: {msg[-1] if msg else proc.returncode}")
    return proc


def _is_git_dir(path: Path) -> bool:
    return path.is_dir() and _git("-C", str(path), "rev-parse", "--git-dir", check=False).returncode == 0


def find_mirror(case: ProjectCase, mirrors: Path | None, cache: Path) -> Path:
    """The git repository holding the case's commits: under `mirrors` as owner+name (or owner+name/repo,
    owner/name, with or without .git), else a bare clone of `url` made once under the cache."""
    owner, name = case.repo.split("/")
    if mirrors is not None:
        for rel in (f"{owner}+{name}", f"{owner}+{name}/repo", f"{owner}+{name}.git", f"{owner}/{name}",
                    f"{owner}/{name}.git"):  # fmt: skip
            if _is_git_dir(mirrors / rel):
                return mirrors / rel
    cloned = cache / "mirrors" / f"{case.slug}.git"
    if _is_git_dir(cloned):
        return cloned
    if not case.url:
        where = f"in {mirrors}" if mirrors else f"(no --mirrors and no ${MIRRORS_ENV})"
        raise EnvironmentProblem(f"no mirror of {case.repo} {where} and the case has no url")
    cloned.parent.mkdir(parents=True, exist_ok=True)
    partial = cloned.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        _git("clone", "-q", "--bare", case.url, str(partial))
    except EnvironmentProblem as exc:
        raise EnvironmentProblem(
            f"cannot clone {case.url}: {exc.message}",
            hint=f"pass --mirrors DIR with a mirror of {case.repo} as {case.slug}",
        ) from None
    partial.rename(cloned)
    return cloned


def checkout(mirror: Path, tree: Path, commit: str) -> None:
    """`tree` becomes a clean checkout of `commit` (a clone sharing the mirror's objects). Ignored files stay:
    they include what an editable install left in the tree (egg-info, built extensions)."""
    if not (tree / ".git").is_dir():
        shutil.rmtree(tree, ignore_errors=True)
        tree.parent.mkdir(parents=True, exist_ok=True)
        _git("clone", "-q", "--shared", "--no-checkout", str(mirror.resolve()), str(tree))
    if _git("-C", str(tree), "cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode:
        raise EnvironmentProblem(f"commit {commit} is not in the mirror {mirror}")
    _git("-C", str(tree), "checkout", "-q", "-f", "--detach", commit)
    _git("-C", str(tree), "clean", "-q", "-fd")


def file_at(tree: Path, commit: str, path: str) -> bytes | None:
    proc = _git("-C", str(tree), "show", f"{commit}:{path}", check=False)
    return proc.stdout if proc.returncode == 0 else None


def overlay(tree: Path, commit: str, paths: Sequence[str]) -> None:
    """Files of `paths` as they are at `commit` (deleted there: deleted here)."""
    for rel in paths:
        data = file_at(tree, commit, rel)
        if data is None:  # the repository's paths: a symlinked directory in it must not carry a write out
            remove_inside(tree, rel)
            continue
        write_inside(tree, rel, data)


# ------------------------------------------------------------------------------------------------ virtualenvs


def find_python(version: str) -> str:
    """An interpreter of `version` ("3.11"): on PATH, under pyenv, or this one."""
    candidates = [shutil.which(f"python{version}") or ""]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(str(pyenv / "versions" / f"{version}.*" / "bin" / f"python{version}")))
    candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}", sys.executable]
    for cand in candidates:
        if not cand or not os.access(cand, os.X_OK):
            continue
        probe = subprocess.run([cand, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return cand
    raise EnvironmentProblem(f"no Python {version} interpreter found",
                             hint=f"install python{version} or change the case's python")  # fmt: skip


def env_key(case: ProjectCase) -> str:
    text = json.dumps([case.repo, case.python, list(case.install), case.env_at])
    return f"{case.slug}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def venv_environ(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def ensure_env(case: ProjectCase, mirror: Path, home: Path) -> Path:
    """The case's virtualenv under `home` (made once: `python -m venv`, then the install commands run in the
    tree at env_commit); returns its directory. A failed install is an EnvironmentProblem naming the log."""
    venv = home / "venv"
    marker = venv / ".repairbot-env.json"
    if marker.is_file():
        return venv
    tree = home / "tree"
    checkout(mirror, tree, case.env_at)
    shutil.rmtree(venv, ignore_errors=True)
    python = find_python(case.python)
    log = home / "install.log"
    with log.open("wb") as out:
        made = subprocess.run([python, "-m", "venv", str(venv)], stdout=out, stderr=subprocess.STDOUT,
                              check=False)  # fmt: skip
        if made.returncode:
            raise EnvironmentProblem(f"{case.repo}: `{python} -m venv` failed (see {log})")
        env = venv_environ(venv)
        for cmd in case.install:
            out.write(f"$ {cmd}\n".encode())
            out.flush()
            argv = shlex.split(cmd)
            exe = venv / "bin" / argv[0]
            if exe.exists():
                argv[0] = str(exe)
            try:
                proc = subprocess.run(argv, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      timeout=_INSTALL_TIMEOUT_S, check=False)  # fmt: skip
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise EnvironmentProblem(
                    f"{case.repo}: install command `{cmd}` failed: {exc} (see {log})"
                ) from None
            if proc.returncode:
                raise EnvironmentProblem(
                    f"{case.repo}: install command `{cmd}` exited {proc.returncode} (see {log})"
                )
    made_from = {"repo": case.repo, "python": case.python, "install": list(case.install),
                 "env_commit": case.env_at}  # fmt: skip
    marker.write_text(json.dumps(made_from), encoding="utf-8")
    return venv


def venv_argv(test_cmd: str, venv: Path) -> tuple[str, ...]:
    """`test_cmd` with a leading `python`/`pytest` (or any script of the virtualenv) taken from `venv`."""
    argv = shlex.split(test_cmd)
    head = argv[0]
    if _PY_NAME.match(head):
        argv[0] = str(venv / "bin" / "python")
    elif "/" not in head and (venv / "bin" / head).exists():
        argv[0] = str(venv / "bin" / head)
    return tuple(argv)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A materialized case: the tree under repair, its virtualenv, the test command and the reference."""

    tree: Path
    venv: Path
    test_cmd: tuple[str, ...]
    reference: Mapping[str, bytes | None]  # src file -> the fix commit's version (None: deleted by the fix)
    buggy: Mapping[str, bytes | None]  # src file -> the buggy commit's version


@contextlib.contextmanager
def project_env(case: ProjectCase, mirrors: Path | None, cache: Path) -> Iterator[tuple[Path, Path, Path]]:
    """(mirror, tree, virtualenv) of the case's project, the virtualenv made once, holding its lock until the
    block ends: the tree is the one the editable install points at, for the caller to check out."""
    cache.mkdir(parents=True, exist_ok=True)
    mirror = find_mirror(case, mirrors, cache)
    home = cache / "envs" / env_key(case)
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            venv = ensure_env(case, mirror, home)
            yield mirror, home / "tree", venv
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def prepared(case: RepoCase, mirrors: Path | None, cache: Path, *, fixed: bool = False) -> Iterator[Prepared]:
    """Materialize `case` (the buggy tree with the fix's tests; with `fixed`, the fix's sources too) in the
    tree of its virtualenv, holding that virtualenv's lock until the block ends."""
    with project_env(case, mirrors, cache) as (mirror, tree, venv):
        checkout(mirror, tree, case.buggy_commit)
        overlay(tree, case.fix_commit, case.test_files)
        reference = {p: file_at(tree, case.fix_commit, p) for p in case.src_files}
        buggy = {p: file_at(tree, case.buggy_commit, p) for p in case.src_files}
        if fixed:
            overlay(tree, case.fix_commit, case.src_files)
        yield Prepared(tree, venv, venv_argv(case.test_cmd, venv), reference, buggy)


# ------------------------------------------------------------------------------------------------ scoring


def changed_lines(old: bytes, new: bytes | None) -> set[int]:
    """1-based lines of `old` that the change to `new` replaced or deleted; for a pure insertion, the lines
    on either side of it (a fault of omission is localized next to where the code is missing)."""
    a = old.decode("utf-8", "replace").splitlines()
    b = (new or b"").decode("utf-8", "replace").splitlines()
    lines: set[int] = set()
    for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            lines.update(range(i1 + 1, i2 + 1))
        elif tag == "insert":
            lines.update(n for n in (i1, i1 + 1) if 1 <= n <= len(a))
    return lines


def scopes(source: bytes) -> Callable[[int], str]:
    """line -> the qualified name of the innermost function (else class) around it, "<module>" outside."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return lambda _line: "<module>"
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                spans.append((first, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")

    def scope(line: int) -> str:
        inner = [(end - start, name) for start, end, name in spans if start <= line <= end]
        return min(inner)[1] if inner else "<module>"

    return scope


def localization_hits(
    locations: Sequence[Location], buggy: Mapping[str, bytes | None], reference: Mapping[str, bytes | None]
) -> tuple[bool, bool]:
    """(file, function): whether one of the first TOP locations is in a file the fix changed, and in a
    function (or class body, or module level) the fix changed."""
    changed: dict[str, set[str]] = {}
    for path, old in buggy.items():
        if old is None:
            continue
        scope = scopes(old)
        changed[path] = {scope(n) for n in changed_lines(old, reference.get(path))}
    top = locations[:TOP]
    in_file = [loc for loc in top if loc.path in changed]
    in_function = any(
        scopes(old)(loc.line) in changed[loc.path]
        for loc in in_file
        if (old := buggy.get(loc.path)) is not None
    )
    return bool(in_file), in_function


def exact_match(tree: Path, reference: Mapping[str, bytes | None]) -> bool:
    """Every source file the fix changed equals the fix's version after DESIGN §6 normalization."""
    from repairbot.parsing import normalized_key

    for rel, want in reference.items():
        path = tree / rel
        if want is None:
            if path.exists():
                return False
            continue
        if not path.is_file():
            return False
        ours = normalized_key(path.read_bytes())
        if ours is None or ours != normalized_key(want):
            return False
    return True


@dataclass(frozen=True, slots=True)
class RepoResult:
    id: str
    repo: str
    plausible: bool
    exact: bool
    env_error: bool
    localized_file: bool
    localized_function: bool
    seconds: float
    first_plausible_s: float | None
    npc: int | None
    validated: int
    hunks: int
    rule: str | None = None
    generator: str | None = None
    error: str | None = None
    failing_found: bool = False  # the report's failing tests include the case's
    confidence: str | None = None  # the assessment of the chosen patch
    diff: str = ""  # the chosen patch (in the JSON rows, for inspection)


def run_repo_case(
    case: RepoCase,
    *,
    budget: float,
    sandbox: str,
    mirrors: Path | None,
    cache: Path,
    predictor: str | None = None,
    llm_url: str | None = None,
) -> RepoResult:
    """Materialize, repair (as `repairbot repair TREE --test-cmd ... --apply`), score."""
    from repairbot.pipeline import repair

    start = time.monotonic()

    def failed(err: RepairbotError) -> RepoResult:
        return RepoResult(case.id, case.repo, False, False, err.exit_code == 2, False, False,
                          time.monotonic() - start, None, None, 0, case.hunks, error=str(err))  # fmt: skip

    try:
        with prepared(case, mirrors, cache) as prep:
            job = Job(
                root=prep.tree,
                test_cmd=prep.test_cmd,
                budget_s=budget,
                sandbox=sandbox,
                apply=True,
                predictor=predictor,
                llm_url=llm_url,
                job_id=re.sub(r"[^A-Za-z0-9_.-]", "-", case.id),
            )
            start = time.monotonic()  # materializing and installing are not the repair's time
            try:
                report: Report = repair(job)
            except RepairbotError as err:
                return failed(err)
            plausible = report.status == "fixed" and bool(report.patches) and report.patches[0].suite_passed
            in_file, in_function = localization_hits(report.localization, prep.buggy, prep.reference)
            best = report.patches[0] if report.patches else None
            return RepoResult(
                id=case.id,
                repo=case.repo,
                plausible=plausible,
                exact=plausible and exact_match(prep.tree, prep.reference),
                env_error=report.status == "error",
                localized_file=in_file,
                localized_function=in_function,
                seconds=time.monotonic() - start,
                first_plausible_s=report.stats.first_plausible_s if plausible else None,
                npc=report.stats.first_plausible_at if plausible else None,
                validated=report.stats.candidates_validated,
                hunks=case.hunks,
                rule=best.rule if best else None,
                generator=best.generator if best else None,
                error=report.error,
                failing_found=set(case.failing_tests) <= set(report.failing_tests),
                confidence=best.confidence if best and plausible else None,
                diff=best.diff if best else "",
            )
    except RepairbotError as err:  # materializing or installing failed
        return failed(err)


def error_cause(message: str) -> str:
    """A short label for grouping environment errors: no paths, commands, numbers or commit ids."""
    text = message
    while (shorter := re.sub(r"\s*\([^()]*\)", "", text)) != text:  # the command, the log file, hints
        text = shorter
    text = re.sub(r" in [\w./-]+\.py\b|(?<=: )E\s+", "", text)  # which test module; pytest's "E" marker
    text = re.sub(r"(?<![\w.-])/\S+|\b[0-9a-f]{7,40}\b|\b\d+(\.\d+)?s?\b", "…", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:100]


def summary_lines(results: Sequence[RepoResult], total_s: float) -> list[str]:
    n = len(results)
    plausible = [r for r in results if r.plausible]
    npcs = [r.npc for r in plausible if r.npc is not None]
    ttf = [r.first_plausible_s for r in plausible if r.first_plausible_s is not None]
    npc = f"{statistics.median(npcs):g}" if npcs else "-"
    ttf_s = f"{statistics.median(ttf):.1f}s" if ttf else "-"
    lines = [
        f"summary: plausible {len(plausible)}/{n}, exact {sum(r.exact for r in results)}/{n}, "
        f"env errors {sum(r.env_error for r in results)}/{n}, localized file "
        f"{sum(r.localized_file for r in results)}/{n} "
        f"function {sum(r.localized_function for r in results)}/{n} "
        f"(top {TOP}), NPC median {npc}, median time to first plausible {ttf_s}, total {total_s:.0f}s"
    ]
    single = [r for r in results if r.hunks == 1]
    multi = [r for r in results if r.hunks > 1]
    if single and multi:
        lines.append(
            f"by hunks: single {sum(r.plausible for r in single)}/{len(single)} plausible "
            f"({sum(r.exact for r in single)} exact), multi {sum(r.plausible for r in multi)}/{len(multi)} "
            f"plausible ({sum(r.exact for r in multi)} exact)"
        )
    internal = [r.id for r in results if (r.error or "").startswith(INTERNAL)]
    if internal:
        lines.append(
            f"internal errors (repairbot's bugs, see the log) {len(internal)}/{n}: {', '.join(internal)}"
        )
    causes = Counter(error_cause(r.error or "") for r in results if r.env_error)
    if causes:
        lines.append("env errors by cause: " + "; ".join(f"{c}× {k}" for k, c in causes.most_common()))
    lines.append(confidence_line(results))
    return lines


def _row(res: RepoResult) -> str:
    status = ("exact" if res.exact else "plausible" if res.plausible else "env error" if res.env_error
              else "internal" if (res.error or "").startswith(INTERNAL) else "no fix")  # fmt: skip
    loc = ("F" if res.localized_file else "-") + ("f" if res.localized_function else "-")
    ttf = "-" if res.first_plausible_s is None else f"{res.first_plausible_s:.1f}"
    npc = "-" if res.npc is None else str(res.npc)
    detail = res.rule or res.error or ""
    head = f"{res.id:<44} {status:<10} {res.seconds:6.1f}s"
    return f"{head} {ttf:>6} {npc:>5} {res.validated:>6} {loc:>3} {res.confidence or '-':<6}  {detail}"


def default_cache() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "repairbot" / "bench"


def default_mirrors() -> Path | None:
    env = os.environ.get(MIRRORS_ENV)
    return Path(env) if env else None


def resolve_mirrors(mirrors: Path | None) -> Path | None:
    """--mirrors, else $REPAIRBOT_MIRRORS; a directory that does not exist is bad input."""
    mirrors = mirrors or default_mirrors()
    if mirrors is not None and not mirrors.is_dir():
        raise BadInput(f"--mirrors {mirrors}: no such directory")
    return mirrors


def run_repo_bench(
    raw_cases: Sequence[Mapping[str, Any]],
    *,
    source: Path,
    budget: float,
    jobs: int,
    sandbox: str,
    mirrors: Path | None = None,
    cache: Path | None = None,
    json_out: Path | None = None,
    predictor: str | None = None,
    llm_url: str | None = None,
) -> int:
    """`repairbot bench` on repository-form cases: a row per case, the summary lines."""
    from repairbot.bench.rows import run_rows

    cases = [parse_case(c, f"{source}: case {n}") for n, c in enumerate(raw_cases, 1)]
    mirrors = resolve_mirrors(mirrors)
    cache = (cache or default_cache()).resolve()
    start = time.monotonic()
    print(f"{'case':<44} {'result':<10} {'time':>7} {'ttfp':>6} {'NPC':>5} {'valid.':>6} loc conf.   detail",
          flush=True)  # fmt: skip

    def run(case: RepoCase) -> RepoResult:
        return run_repo_case(case, budget=budget, sandbox=sandbox, mirrors=mirrors, cache=cache,
                             predictor=predictor, llm_url=llm_url)  # fmt: skip

    def failed(case: RepoCase, message: str) -> RepoResult:
        return RepoResult(case.id, case.repo, False, False, False, False, False, 0.0, None, None, 0,
                          case.hunks, error=message)  # fmt: skip

    results = run_rows(cases, run, jobs=jobs, row=_row, json_out=json_out, failed=failed)
    for line in summary_lines(results, time.monotonic() - start):
        print(line, flush=True)
    return 0
