"""What a project's tests need installed, read statically from its metadata (DESIGN §7, image mode).

Nothing of the project is executed: `setup.py` is parsed with `ast`, never run; requirement files are read by
repairbot's own parser, which keeps every include (`-r`, `-c`) inside the repository (no absolute paths, no
`..` or symlink leading out of it, no URLs), never expands `${VARIABLES}`, and accepts `--index-url`,
`--extra-index-url` and `--trusted-host` only for indexes the operator configured. What it refuses is named
in `DependencySet.problems`, which the job's report carries.

Sources, by tier (a full set that cannot be resolved is retried without the `dev` tier):
- runtime: PEP 621 `[project] dependencies` (also setuptools' `dynamic` file lists), `setup.cfg`
  `install_requires`, `setup.py` `install_requires`, the plain `requirements.txt`-like files;
- test: the extras and PEP 735 dependency groups named test/tests/testing, `tests_require`, tox's
  `[testenv]` deps and extras, requirement files named for tests;
- dev: the extras and groups named dev, requirement files named for development.
The Python version comes from `.python-version`, else `requires-python` (narrowed by the version
classifiers), preferring the worker's own version when the project allows it.
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import hashlib
import os
import re
import shlex
import stat
import tomllib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

Tier = Literal["runtime", "test", "dev"]
TEST_NAMES = ("test", "tests", "testing")
DEV_NAMES = ("dev", "develop", "development")
DEFAULT_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
# Where the project's build is defined: an image with the project installed is rebuilt when one changes.
BUILD_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
_MAX_FILE_BYTES = 1_000_000
_MAX_INCLUDE_DEPTH = 8
_MAX_FILES = 64
_RUNTIME_WORDS = {"requirements", "base", "common", "install", "runtime", "main", "core", "default", "prod"}
_TEST_WORDS = {"test", "tests", "testing", "ci", "check"}
_DEV_WORDS = {"dev", "develop", "development"}
_HARMLESS_OPTIONS = {
    "--pre", "--prefer-binary", "--only-binary", "--no-binary", "--require-hashes", "--use-feature",
    "--no-deps", "--upgrade", "-U", "--progress-bar",
}  # fmt: skip
_REQ_OPTIONS = ("--hash",)  # per-requirement options dropped silently (repairbot locks its own hashes)
_PY_MINOR = re.compile(r"^(?:cpython-|python)?3\.(\d+)")
_CLASSIFIER = re.compile(r"^Programming Language :: Python :: 3\.(\d+)$")


@dataclass(frozen=True, slots=True)
class ProjectBuild:
    """How the project itself is installed in the image: editable, built by its own backend, offline."""

    name: str | None
    build_requires: tuple[str, ...]  # build-system.requires (setuptools' legacy default without one)
    digest: str  # over BUILD_FILES: the image with the project installed is rebuilt when they change


@dataclass(frozen=True, slots=True)
class DependencySet:
    """The project's test dependencies and Python version, as read from its files."""

    python: str  # "3.X"
    python_source: str  # why that version, for the report
    requirements: tuple[str, ...]  # PEP 508 strings (runtime and test tiers), sorted
    dev: tuple[str, ...]  # the dev tier, dropped when the whole set cannot be resolved
    constraints: tuple[str, ...]  # from `-c` includes
    indexes: tuple[str, ...]  # configured extra indexes a requirement file asked for
    sources: tuple[str, ...]  # what was read, for the report
    problems: tuple[str, ...]  # what was refused or could not be read, one line each
    project: ProjectBuild | None  # None: nothing to install (no pyproject.toml / setup.py)

    def digest(self) -> str:
        """Over everything that decides what gets installed (not the notes)."""
        h = hashlib.sha256()
        for part in (self.python, *self.requirements, "\0dev", *self.dev, "\0c", *self.constraints,
                     "\0i", *self.indexes):  # fmt: skip
            h.update(part.encode() + b"\0")
        if self.project is not None:
            h.update(b"\0project\0" + self.project.digest.encode())
        return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Indexes:
    """The package indexes the operator allows (the first is the main one)."""

    urls: tuple[str, ...] = ("https://pypi.org/simple",)

    @classmethod
    def from_env(cls) -> Indexes:
        main = os.environ.get("REPAIRBOT_INDEX_URL", "").strip() or cls().urls[0]
        extra = os.environ.get("REPAIRBOT_EXTRA_INDEX_URLS", "").replace(",", " ").split()
        return cls(tuple(dict.fromkeys(_norm_url(u) for u in (main, *extra))))

    @property
    def main(self) -> str:
        return self.urls[0]

    def allows(self, url: str) -> bool:
        return _norm_url(url) in self.urls

    def hosts(self) -> set[str]:
        return {urlsplit(u).hostname or "" for u in self.urls}


def _norm_url(url: str) -> str:
    return url.strip().rstrip("/")


# -- requirement files ---------------------------------------------------------------------------------


@dataclass
class _Collected:
    """Requirements gathered while reading, per tier, with what was refused."""

    root: Path
    indexes: Indexes
    tiers: dict[str, list[str]] = field(default_factory=lambda: {"runtime": [], "test": [], "dev": []})
    constraints: list[str] = field(default_factory=list)
    asked_indexes: list[str] = field(default_factory=list)
    self_extras: dict[str, set[str]] = field(default_factory=lambda: {"runtime": set(), "test": set(),
                                                                        "dev": set()})  # fmt: skip
    sources: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files_read: int = 0

    def refuse(self, where: str, what: str) -> None:
        note = f"{where}: {what}"
        if note not in self.problems:
            self.problems.append(note)

    def add(self, tier: str, req: str) -> None:
        self.tiers[tier].append(req)


def inside(root: Path, base_dir: Path, reference: str) -> Path | None:
    """`reference` (as written in a file under `base_dir`) as a regular file inside `root`, following
    symlinks; None when it is absolute, a URL, leaves the repository or is not a regular file."""
    if not reference or os.path.isabs(reference) or reference.startswith("~") or "://" in reference:
        return None
    if reference.startswith("file:"):
        return None
    real_root = os.path.realpath(root)
    real = os.path.realpath(base_dir / reference)
    if not real.startswith(real_root.rstrip(os.sep) + os.sep):
        return None
    try:
        st = os.stat(real)
    except OSError:
        return None
    return Path(real) if stat.S_ISREG(st.st_mode) else None


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return path.name


def read_requirements(c: _Collected, reference: str, tier: str, *, base_dir: Path | None = None,
                      constraint: bool = False, depth: int = 0, via: str = "") -> None:  # fmt: skip
    """Read one requirement file (and what it includes) into `c`."""
    where = via or reference
    path = inside(c.root, base_dir or c.root, reference)
    if path is None:
        c.refuse(where, f"`{reference}` refused (a file outside the repository, a URL or not a regular file)")
        return
    rel = _rel(c.root, path)
    if depth > _MAX_INCLUDE_DEPTH or c.files_read >= _MAX_FILES:
        c.refuse(rel, "too many nested requirement files")
        return
    if path.stat().st_size > _MAX_FILE_BYTES:
        c.refuse(rel, "larger than 1 MB, not read")
        return
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        c.refuse(rel, "unreadable")
        return
    c.files_read += 1
    c.sources.append(f"{rel} ({'constraints' if constraint else tier})")
    for number, line in _logical_lines(text):
        _requirement_line(c, line, tier, path, rel, number, constraint=constraint, depth=depth)


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """(line number, line) with continuations joined and comments removed, as pip reads them."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line = re.sub(r"(^|\s)#.*$", "", pending + raw).strip()
        pending = ""
        if line:
            yield start, line
    if pending.strip():
        yield start, pending.strip()


def _requirement_line(c: _Collected, line: str, tier: str, path: Path, rel: str, number: int, *,
                      constraint: bool, depth: int) -> None:  # fmt: skip
    where = f"{rel}:{number}"
    if "${" in line:
        c.refuse(where, "environment variables are never expanded; line ignored")
        return
    if line.startswith("-"):
        try:
            words = shlex.split(line)
        except ValueError:
            c.refuse(where, "unparsable option line ignored")
            return
        option, _, value = words[0].partition("=")
        if not value and len(words) > 1:
            value = words[1]
        if option.startswith("-r") and option not in ("-r",) and not option.startswith("--"):
            option, value = "-r", option[2:]
        elif option.startswith("-c") and option != "-c" and not option.startswith("--"):
            option, value = "-c", option[2:]
        elif option.startswith("-e") and option != "-e" and not option.startswith("--"):
            option, value = "-e", option[2:]
        if option in ("-r", "--requirement", "-c", "--constraint"):
            read_requirements(c, value, tier, base_dir=path.parent, depth=depth + 1, via=where,
                              constraint=constraint or option in ("-c", "--constraint"))  # fmt: skip
        elif option in ("-e", "--editable"):
            _local(c, value, tier, path.parent, where)
        elif option in ("-i", "--index-url", "--extra-index-url"):
            if c.indexes.allows(value):
                c.asked_indexes.append(_norm_url(value))
            else:
                c.refuse(where, f"index {value} refused (not a configured index; see REPAIRBOT_INDEX_URL)")
        elif option == "--trusted-host":
            if value not in c.indexes.hosts():
                c.refuse(where, f"--trusted-host {value} refused (not a configured index's host)")
        elif option in ("-f", "--find-links", "--no-index"):
            c.refuse(where, f"{option} refused (packages come from the configured indexes only)")
        elif option not in _HARMLESS_OPTIONS:
            c.refuse(where, f"option {option} ignored")
        return
    spec = re.split(r"\s+(?=--)", line, maxsplit=1)
    text = spec[0].strip()
    if len(spec) > 1 and not all(w.startswith(_REQ_OPTIONS) for w in spec[1].split()):
        c.refuse(where, "per-requirement options other than --hash ignored")
    if _looks_local(text):
        _local(c, text, tier, path.parent, where)
        return
    req = _parse(c, text, where)
    if req is not None:
        (c.constraints if constraint else c.tiers[tier]).append(req)


def _looks_local(text: str) -> bool:
    if re.match(r"^[A-Za-z0-9][\w.\-]*(\[[^\]]*\])?\s*@", text):
        return False  # `name @ url`: a direct reference (refused by _parse with its own reason)
    return (
        text.startswith((".", "/", "~", "file:"))
        or "://" in text.split(";", 1)[0]
        or text.split("[", 1)[0].endswith((".whl", ".tar.gz", ".zip", ".tar.bz2"))
    )


def _local(c: _Collected, text: str, tier: str, base_dir: Path, where: str) -> None:
    """`-e .[test]` or `.[test]`: the project itself (its extras count); anything else local is refused."""
    target, _, extras = text.partition("[")
    target = target.removeprefix("file:").strip() or "."
    if "://" not in target and not os.path.isabs(target):
        real = os.path.realpath(base_dir / target)
        if real == os.path.realpath(c.root):
            c.self_extras[tier].update(e.strip() for e in extras.rstrip("]").split(",") if e.strip())
            return
    c.refuse(where, f"`{text}` refused (only the project itself may be installed from a path or URL)")


def _parse(c: _Collected, text: str, where: str) -> str | None:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        c.refuse(where, f"`{text[:80]}` is not a requirement; ignored")
        return None
    if req.url:
        c.refuse(where, f"`{req.name} @ …` refused (direct references are never fetched)")
        return None
    return str(req)


# -- project metadata ----------------------------------------------------------------------------------


@dataclass
class _Metadata:
    """The project's own declarations, from whichever of pyproject.toml, setup.cfg, setup.py has them."""

    name: str | None = None
    dependencies: list[str] = field(default_factory=list)
    extras: dict[str, list[str]] = field(default_factory=dict)
    groups: dict[str, list[Any]] = field(default_factory=dict)
    requires_python: str | None = None
    classifiers: list[str] = field(default_factory=list)
    build_requires: list[str] | None = None
    installable: bool = False


def _load_toml(c: _Collected, name: str) -> dict[str, Any]:
    path = inside(c.root, c.root, name)
    if path is None:
        if os.path.lexists(c.root / name):
            c.refuse(name, "a link leading outside the repository (or not a file), ignored")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        c.refuse(name, f"unreadable ({str(exc)[:80]})")
        return {}
    return data


def _pyproject(c: _Collected, meta: _Metadata) -> dict[str, Any]:
    data = _load_toml(c, "pyproject.toml")
    if not data:
        return {}
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    assert isinstance(project, dict)
    build = data.get("build-system")
    if isinstance(build, dict):
        meta.installable = True
        if isinstance(build.get("requires"), list):
            meta.build_requires = [str(r) for r in build["requires"]]
    if project:
        meta.installable = True
        meta.name = str(project.get("name") or "") or meta.name
        meta.dependencies += [str(r) for r in project.get("dependencies") or [] if isinstance(r, str)]
        for extra, reqs in (project.get("optional-dependencies") or {}).items():
            if isinstance(reqs, list):
                meta.extras.setdefault(str(extra), []).extend(str(r) for r in reqs)
        if isinstance(project.get("requires-python"), str):
            meta.requires_python = project["requires-python"]
        meta.classifiers += [str(x) for x in project.get("classifiers") or []]
        _setuptools_dynamic(c, data, meta)
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        meta.groups = {str(k): list(v) for k, v in groups.items() if isinstance(v, list)}
    return data


def _setuptools_dynamic(c: _Collected, data: dict[str, Any], meta: _Metadata) -> None:
    """`[tool.setuptools.dynamic] dependencies = {file = [...]}` and the same for optional-dependencies."""
    dynamic = data.get("tool", {}).get("setuptools", {}).get("dynamic", {})
    if not isinstance(dynamic, dict):
        return
    deps = dynamic.get("dependencies")
    if isinstance(deps, dict):
        meta.dependencies += _file_list(c, deps.get("file"), "pyproject.toml dynamic dependencies")
    optional = dynamic.get("optional-dependencies")
    if isinstance(optional, dict):
        for extra, spec in optional.items():
            if isinstance(spec, dict):
                meta.extras.setdefault(str(extra), []).extend(
                    _file_list(c, spec.get("file"), f"pyproject.toml dynamic extra {extra}")
                )


def _file_list(c: _Collected, files: Any, where: str) -> list[str]:
    """Requirements of the files a `file:` directive names (read with the safe parser, tier-less)."""
    names = [files] if isinstance(files, str) else [str(f) for f in files or [] if isinstance(f, str)]
    scratch = _Collected(c.root, c.indexes, files_read=c.files_read)
    for name in names:
        read_requirements(scratch, name.strip(), "runtime", via=where)
    c.problems.extend(p for p in scratch.problems if p not in c.problems)
    c.sources.extend(scratch.sources)
    c.files_read = scratch.files_read
    return scratch.tiers["runtime"]


def _setup_cfg(c: _Collected, meta: _Metadata) -> configparser.ConfigParser | None:
    cfg = _load_ini(c, "setup.cfg")
    if cfg is None:
        return None
    if cfg.has_section("metadata") or cfg.has_section("options"):
        meta.installable = True
    meta.name = meta.name or cfg.get("metadata", "name", fallback="").strip() or None
    meta.classifiers += _lines(cfg.get("metadata", "classifiers", fallback=""))
    meta.requires_python = meta.requires_python or cfg.get("options", "python_requires", fallback="") or None
    meta.dependencies += _cfg_requirements(c, cfg.get("options", "install_requires", fallback=""),
                                           "setup.cfg install_requires")  # fmt: skip
    if cfg.has_section("options.extras_require"):
        for key, value in cfg.items("options.extras_require"):
            extra, marker = _split_extra_key(key)
            reqs = _cfg_requirements(c, value, f"setup.cfg extras_require {extra}")
            meta.extras.setdefault(extra, []).extend(_with_marker(r, marker) for r in reqs)
    return cfg


def _cfg_requirements(c: _Collected, value: str, where: str) -> list[str]:
    value = value.strip()
    if value.startswith("file:"):
        return _file_list(c, [f.strip() for f in value[5:].split(",")], where)
    return _lines(value)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def _split_extra_key(key: str) -> tuple[str, str]:
    extra, _, marker = key.partition(":")
    return extra.strip(), marker.strip()


def _with_marker(req: str, marker: str) -> str:
    if not marker:
        return req
    head, sep, own = req.partition(";")
    return f"{head.strip()}; ({own.strip()}) and ({marker})" if sep else f"{req}; {marker}"


def _load_ini(c: _Collected, name: str) -> configparser.ConfigParser | None:
    path = inside(c.root, c.root, name)
    if path is None:
        if os.path.lexists(c.root / name):
            c.refuse(name, "a link leading outside the repository (or not a file), ignored")
        return None
    cfg = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        cfg.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        c.refuse(name, f"unreadable ({str(exc).splitlines()[0][:80]})")
        return None
    return cfg


class _Dynamic(Exception):
    """A setup() argument that cannot be read without running code."""


@dataclass(frozen=True, slots=True)
class _FileRef:
    name: str  # a requirements file that setup.py reads at run time


def _setup_py(c: _Collected, meta: _Metadata) -> None:
    """setup.py's literal arguments, read with `ast` (never executed)."""
    path = inside(c.root, c.root, "setup.py")
    if path is None:
        if os.path.lexists(c.root / "setup.py"):
            c.refuse("setup.py", "a link leading outside the repository (or not a file), ignored")
        return
    meta.installable = True
    try:
        module = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        c.refuse("setup.py", "not parsable; its requirements are not known")
        return
    names: dict[str, ast.expr] = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            names[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            names[node.target.id] = node.value
    call = next((n for n in ast.walk(module) if isinstance(n, ast.Call) and _is_setup(n.func)), None)
    if call is None:
        return
    kwargs: dict[str, ast.expr] = {}
    for kw in call.keywords:
        if kw.arg is not None:
            kwargs[kw.arg] = kw.value
        else:  # setup(**options): a literal dict (or a name bound to one) still counts
            with contextlib.suppress(_Dynamic):
                table = _value(kw.value, names, 0)
                if isinstance(table, dict):
                    for key, value in table.items():
                        kwargs.setdefault(str(key), ast.Constant(value))

    def read(key: str) -> Any:
        if key not in kwargs:
            return None
        try:
            return _value(kwargs[key], names, 0)
        except _Dynamic:
            c.refuse("setup.py", f"{key} is computed at run time; not read")
            return None

    name = read("name")
    if isinstance(name, str):
        meta.name = meta.name or name
    py = read("python_requires")
    if isinstance(py, str):
        meta.requires_python = meta.requires_python or py
    classifiers = read("classifiers")
    if isinstance(classifiers, list):
        meta.classifiers += [str(x) for x in classifiers]
    meta.dependencies += _reqs_of(c, read("install_requires"), "setup.py install_requires")
    tests = _reqs_of(c, read("tests_require"), "setup.py tests_require")
    if tests:
        meta.extras.setdefault("tests_require", []).extend(tests)
    extras = _read_extras(c, kwargs.get("extras_require"), names)
    if isinstance(extras, dict):
        for key, value in extras.items():
            extra, marker = _split_extra_key(str(key))
            reqs = _reqs_of(c, value, f"setup.py extras_require {extra}")
            meta.extras.setdefault(extra, []).extend(_with_marker(r, marker) for r in reqs)


def _read_extras(c: _Collected, node: ast.expr | None, names: dict[str, ast.expr]) -> dict[Any, Any] | None:
    """extras_require entry by entry: one computed extra does not hide the literal ones."""
    depth = 0
    while isinstance(node, ast.Name) and node.id in names and depth < 20:
        node, depth = names[node.id], depth + 1
    if node is None:
        return None
    if not isinstance(node, ast.Dict) or any(k is None for k in node.keys):
        try:
            value = _value(node, names, 0)
        except _Dynamic:
            c.refuse("setup.py", "extras_require is computed at run time; not read")
            return None
        return value if isinstance(value, dict) else None
    out: dict[Any, Any] = {}
    for key, value in zip(node.keys, node.values, strict=True):
        try:
            name = _value(key, names, 0) if key is not None else None
            out[name] = _value(value, names, 0)
        except _Dynamic:
            c.refuse("setup.py", "extras_require is computed at run time for one extra; not read")
    return out


def _is_setup(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "setup") or (
        isinstance(func, ast.Attribute) and func.attr == "setup"
    )


def _reqs_of(c: _Collected, value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, _FileRef):
        return _file_list(c, [value.name], where)
    if isinstance(value, str):
        return _lines(value)
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out += _reqs_of(c, item, where)
        return out
    c.refuse("setup.py", f"{where} is not a list of requirements; not read")
    return []


def _value(node: ast.expr, names: dict[str, ast.expr], depth: int) -> Any:
    """A literal value of setup.py, following module-level names and `+`; a call that reads a requirement
    file by a literal name becomes a _FileRef (the file is read with the safe parser instead)."""
    if depth > 20:
        raise _Dynamic
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_value(e, names, depth + 1) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise _Dynamic
        return {_value(k, names, depth + 1): _value(v, names, depth + 1)
                for k, v in zip(node.keys, node.values, strict=True) if k is not None}  # fmt: skip
    if isinstance(node, ast.Name) and node.id in names:
        return _value(names[node.id], names, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _value(node.left, names, depth + 1), _value(node.right, names, depth + 1)
        if isinstance(left, list) and isinstance(right, list):
            return left + right
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        raise _Dynamic
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
            return {kw.arg: _value(kw.value, names, depth + 1) for kw in node.keywords if kw.arg}
        ref = _file_reference(node)
        if ref is not None:
            return _FileRef(ref)
    raise _Dynamic


def _file_reference(node: ast.Call) -> str | None:
    """The one literal file name (`*.txt`, `*.in`) inside a call expression: `open("requirements.txt")
    .read().splitlines()`, `parse_requirements("requirements/test.txt")`, `read("requirements.txt")`."""
    found = {
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.endswith((".txt", ".in"))
    }
    return found.pop() if len(found) == 1 else None


# -- tox -----------------------------------------------------------------------------------------------


def _tox(c: _Collected, data: dict[str, Any], setup_cfg: configparser.ConfigParser | None,
         python: str) -> set[str]:  # fmt: skip
    """tox's `[testenv]` deps (into the test tier) and extras (returned)."""
    configs: list[tuple[str, configparser.ConfigParser, str]] = []
    tox_ini = _load_ini(c, "tox.ini") if os.path.lexists(c.root / "tox.ini") else None
    if tox_ini is not None:
        configs.append(("tox.ini", tox_ini, "testenv"))
    legacy = data.get("tool", {}).get("tox", {}).get("legacy_tox_ini") if data else None
    if isinstance(legacy, str):
        cfg = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            cfg.read_string(legacy)
            configs.append(("pyproject.toml [tool.tox]", cfg, "testenv"))
        except configparser.Error:
            c.refuse("pyproject.toml [tool.tox]", "unparsable; ignored")
    if setup_cfg is not None and setup_cfg.has_section("testenv"):
        configs.append(("setup.cfg [testenv]", setup_cfg, "testenv"))
    extras: set[str] = set()
    if not configs:
        return _tox_toml(c, data)
    name, cfg, section = configs[0]
    factors = {f"py{python.replace('.', '')}", "py3", "py"}
    sections = [s for s in (section, f"{section}:test", f"{section}:tests",
                            f"{section}:py{python.replace('.', '')}") if cfg.has_section(s)]  # fmt: skip
    for sec in sections:
        c.sources.append(f"{name} [{sec}]")
        deps = _tox_value(cfg, sec, "deps")
        for line in _tox_lines(deps, factors):
            _tox_dep(c, line, "{toxinidir}", f"{name} [{sec}]")
        for line in _tox_lines(_tox_value(cfg, sec, "extras"), factors):
            extras.update(e.strip() for e in line.split(",") if e.strip())
    return extras


def _tox_toml(c: _Collected, data: dict[str, Any]) -> set[str]:
    """tox 4's native TOML form (`tox.toml`, or `[tool.tox]` in pyproject.toml): `env_run_base` and the
    test environments' `deps` (requirement lines) and `extras`."""
    table: dict[str, Any] = {}
    where = "tox.toml"
    if os.path.lexists(c.root / "tox.toml"):
        table = _load_toml(c, "tox.toml")
    elif isinstance(data.get("tool", {}).get("tox"), dict):
        table, where = data["tool"]["tox"], "pyproject.toml [tool.tox]"
    envs = table.get("env") if isinstance(table.get("env"), dict) else {}
    assert isinstance(envs, dict)
    sections = [("env_run_base", table.get("env_run_base"))] + [
        (f"env.{n}", envs.get(n)) for n in TEST_NAMES if isinstance(envs.get(n), dict)
    ]
    extras: set[str] = set()
    for label, env in sections:
        if not isinstance(env, dict):
            continue
        c.sources.append(f"{where} [{label}]")
        for line in env.get("deps") or []:
            if isinstance(line, str):
                _tox_dep(c, line, "{tox_root}", f"{where} [{label}]")
        extras.update(str(e) for e in env.get("extras") or [] if isinstance(e, str))
    return extras


def _tox_dep(c: _Collected, line: str, root_var: str, where: str) -> None:
    """One tox deps line, as a requirement line of the test tier (the tox root is the repository's)."""
    line = line.replace(root_var + "/", "").replace(root_var, ".")
    if "{" in line:
        c.refuse(where, f"`{line[:60]}` uses a substitution; ignored")
        return
    _requirement_line(c, line, "test", c.root / "tox.ini", where, 0, constraint=False, depth=0)


def _tox_value(cfg: configparser.ConfigParser, section: str, key: str) -> str:
    value = cfg.get(section, key, fallback="")
    # `{[testenv]deps}`: the value of another section's key, once.
    return re.sub(r"\{\[([^\]]+)\](\w+)\}", lambda m: cfg.get(m.group(1), m.group(2), fallback=""), value)


def _tox_lines(value: str, factors: set[str]) -> list[str]:
    """The lines that apply to the chosen Python: `py311,py312: dep` and `!py38: dep` are evaluated; a
    condition on any other factor (a framework version) is left out."""
    out: list[str] = []
    for line in _lines(value):
        m = re.match(r"^([\w!,.\-]+):\s+(.*)$", line)
        if m is None:
            out.append(line)
            continue
        condition, rest = m.groups()
        keep = False
        for alternative in condition.split(","):
            parts = alternative.split("-")
            if all((p[1:] not in factors) if p.startswith("!") else (p in factors) for p in parts):
                keep = True
        if keep:
            out.append(rest)
    return out


# -- Python version ------------------------------------------------------------------------------------


def choose_python(root: Path, meta: _Metadata, default: str, supported: Sequence[str],
                  problems: list[str]) -> tuple[str, str]:  # fmt: skip
    """(version "3.X", why) for the project (see the module docstring)."""
    forced = os.environ.get("REPAIRBOT_PYTHON", "").strip()
    if forced:
        return forced, "REPAIRBOT_PYTHON"
    pinned = inside(root, root, ".python-version")
    if pinned is not None:
        try:
            first = next(iter(_lines(pinned.read_text(encoding="utf-8")[:1000])), "")
        except (OSError, UnicodeDecodeError):
            first = ""
        m = _PY_MINOR.match(first)
        if m:
            return f"3.{m.group(1)}", f".python-version ({first})"
    candidates = list(supported)
    why = "the worker's default"
    if meta.requires_python:
        try:
            spec = SpecifierSet(meta.requires_python)
        except InvalidSpecifier:
            problems.append(f"requires-python `{meta.requires_python}` is not a specifier; ignored")
        else:
            candidates = [v for v in supported if any(spec.contains(f"{v}.{p}") for p in (0, 1, 5, 10, 20))]
            why = f"requires-python {meta.requires_python}"
            if not candidates:
                problems.append(
                    f"requires-python {meta.requires_python} allows none of {', '.join(supported)}"
                )
                return default, "the worker's default"
    listed = {f"3.{m.group(1)}" for x in meta.classifiers if (m := _CLASSIFIER.match(x.strip()))}
    narrowed = [v for v in candidates if v in listed]
    if narrowed:
        candidates, why = narrowed, f"{why}, classifiers" if meta.requires_python else "classifiers"
    if default in candidates:
        return default, why
    return max(candidates, key=lambda v: tuple(int(p) for p in v.split("."))), why


# -- discovery -----------------------------------------------------------------------------------------


def requirement_files(root: Path) -> list[tuple[str, str]]:
    """(relative name, tier) of the requirement files whose names say runtime, test or development."""
    found: list[tuple[str, str]] = []
    candidates = sorted(p.name for p in root.glob("*requirements*.txt")) + sorted(
        f"requirements/{p.name}" for p in root.glob("requirements/*.txt")
    )
    for name in candidates:
        words = set(re.split(r"[-_./]+", name.removesuffix(".txt").lower())) - {""}
        if words & _TEST_WORDS:
            found.append((name, "test"))
        elif words & _DEV_WORDS:
            found.append((name, "dev"))
        elif words <= _RUNTIME_WORDS:
            found.append((name, "runtime"))
    return found


def _expand(meta: _Metadata, names: Iterable[str], own: str | None, c: _Collected, tier: str,
            seen: set[str]) -> None:  # fmt: skip
    """Add the requirements of the project's extras `names`, following `own[extra]` self references."""
    for extra in names:
        key = canonicalize_name(extra)
        if key in seen:
            continue
        seen.add(key)
        for extra_name, reqs in meta.extras.items():
            if canonicalize_name(extra_name) != key:
                continue
            c.sources.append(f"extra [{extra_name}] ({tier})")
            for text in reqs:
                _add_spec(c, text, tier, own, meta, seen, f"extra {extra_name}")


def _add_spec(c: _Collected, text: str, tier: str, own: str | None, meta: _Metadata, seen: set[str],
              where: str) -> None:  # fmt: skip
    req = _parse(c, text, where)
    if req is None:
        return
    parsed = Requirement(req)
    if own is not None and canonicalize_name(parsed.name) == own:
        _expand(meta, parsed.extras, own, c, tier, seen)
    else:
        c.add(tier, req)


def _groups(c: _Collected, meta: _Metadata, names: Sequence[str], tier: str, own: str | None) -> None:
    """PEP 735 groups `names`, with `{include-group = "..."}` followed (cycles stop)."""
    seen_groups: set[str] = set()
    table = {canonicalize_name(k): v for k, v in meta.groups.items()}

    def walk(name: str) -> None:
        key = canonicalize_name(name)
        if key in seen_groups or key not in table:
            return
        seen_groups.add(key)
        c.sources.append(f"pyproject.toml [dependency-groups] {name} ({tier})")
        for item in table[key]:
            if isinstance(item, str):
                _add_spec(c, item, tier, own, meta, set(), f"dependency group {name}")
            elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
                walk(item["include-group"])

    for name in names:
        walk(name)


def project_digest(root: Path) -> str:
    h = hashlib.sha256()
    for name in BUILD_FILES:
        path = inside(root, root, name)
        h.update(name.encode() + b"\0" + (path.read_bytes() if path is not None else b"-") + b"\0")
    return h.hexdigest()


def discover(root: Path, *, default_python: str, supported: Sequence[str] = DEFAULT_PYTHONS,
             indexes: Indexes | None = None) -> DependencySet:  # fmt: skip
    """Everything the project's tests need, read statically (see the module docstring)."""
    c = _Collected(root, indexes or Indexes.from_env())
    meta = _Metadata()
    data = _pyproject(c, meta)
    cfg = _setup_cfg(c, meta)
    if not data.get("project"):
        _setup_py(c, meta)
    elif os.path.lexists(root / "setup.py"):
        meta.installable = True
    own = canonicalize_name(meta.name) if meta.name else None
    problems: list[str] = []
    python, why = choose_python(root, meta, default_python, supported, problems)
    if meta.dependencies:
        c.sources.append("project dependencies (runtime)")
    for text in meta.dependencies:
        _add_spec(c, text, "runtime", own, meta, set(), "project dependencies")
    seen: set[str] = set()
    _expand(meta, (*TEST_NAMES, "tests_require"), own, c, "test", seen)
    _expand(meta, DEV_NAMES, own, c, "dev", seen)
    _groups(c, meta, TEST_NAMES, "test", own)
    _groups(c, meta, DEV_NAMES, "dev", own)
    for name, tier in requirement_files(root):
        read_requirements(c, name, tier)
    _expand(meta, _tox(c, data, cfg, python), own, c, "test", seen)
    for tier, extras in c.self_extras.items():
        _expand(meta, extras, own, c, tier, seen)
    requirements = _dedupe(c.tiers["runtime"] + c.tiers["test"], own)
    dev = [r for r in _dedupe(c.tiers["dev"], own) if r not in requirements]
    project = None
    if meta.installable:
        build = meta.build_requires if meta.build_requires is not None else ["setuptools>=40.8.0", "wheel"]
        project = ProjectBuild(meta.name, tuple(build), project_digest(root))
    return DependencySet(
        python=python,
        python_source=why,
        requirements=tuple(requirements),
        dev=tuple(dev),
        constraints=tuple(_dedupe(c.constraints, None)),
        indexes=tuple(dict.fromkeys(u for u in c.asked_indexes if u != c.indexes.main)),
        sources=tuple(dict.fromkeys(c.sources)),
        problems=tuple([*c.problems, *problems]),
        project=project,
    )


def _dedupe(reqs: Iterable[str], own: str | None) -> list[str]:
    out = []
    for r in reqs:
        if own is not None and canonicalize_name(Requirement(r).name) == own:
            continue
        out.append(r)
    return sorted(set(out))


def repository_scope(root: Path) -> str:
    """Which repository an image with project code in it belongs to: the `origin` remote's URL without
    credentials (a clone's, set by whoever cloned it, not by the repository's content), else the path."""
    config = root / ".git" / "config"
    url = ""
    try:
        if config.is_file() and not config.is_symlink() and config.stat().st_size < _MAX_FILE_BYTES:
            parser = configparser.ConfigParser(interpolation=None, strict=False)
            parser.read_string(config.read_text(encoding="utf-8", errors="replace"))
            url = parser.get('remote "origin"', "url", fallback="").strip()
    except configparser.Error:
        url = ""
    if url:
        parts = urlsplit(url)
        if parts.scheme and parts.hostname:
            url = f"{parts.scheme}://{parts.hostname}{parts.path}".removesuffix(".git")
        return f"remote:{url}"
    return f"path:{os.path.realpath(root)}"


def describe(dset: DependencySet) -> str:
    """One line for the report: how many requirements from where, and the Python version."""
    count = len(dset.requirements) + len(dset.dev)
    return f"Python {dset.python} ({dset.python_source}); {count} requirements"


def all_requirements(dset: DependencySet, runner: Collection[str], *, with_dev: bool) -> list[str]:
    return sorted({*runner, *dset.requirements, *(dset.dev if with_dev else ())})
