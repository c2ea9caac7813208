"""repairbot brings its own instruments to the test interpreter (DESIGN §7).

Most projects' virtualenvs have pytest but not coverage; some (unittest suites) not even pytest. Without
coverage there is no per-test spectrum and localization is left with tracebacks. So the test interpreter is
probed once per job (on the host), and what it lacks, or has in a version the runner cannot use, is copied
from repairbot's own installation into the job's runner folder (`.runner/vendor/<instrument>`), which the
fork server puts on its own path: missing instruments after the interpreter's own packages, incompatible
ones before them. Nothing is ever installed into the user's environment, and the folder is read-only to
the tests. The server reports which copy it loaded; the job's report says so in its notes.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Dynamic contexts (`switch_context`) and `contexts_by_lineno` arrived in coverage 5.0.
MIN_COVERAGE = (5, 0)
MIN_PYTEST = (7, 0)
VENDOR = "vendor"

PROBE_SCRIPT = r"""
import json, sys
def version(name):
    try:
        import importlib.metadata as m
        return m.version(name)
    except Exception:
        return None
def present(name):
    import importlib.util
    try:
        return importlib.util.find_spec(name) is not None
    except Exception:
        return False
print(json.dumps({"path": sys.path, "python": list(sys.version_info[:2]),
                  "pytest": version("pytest") if present("pytest") else None,
                  "coverage": version("coverage") if present("coverage") else None}))
"""


@dataclass(frozen=True, slots=True)
class Probe:
    """What the test interpreter has, as its site.py sets it up (run from /, no PYTHONPATH)."""

    path: tuple[str, ...]
    python: tuple[int, int]
    pytest: str | None
    coverage: str | None


def probe(interpreter: str) -> Probe | None:
    """None when the interpreter cannot be run (the runner's start then reports it)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    try:
        proc = subprocess.run([interpreter, "-c", PROBE_SCRIPT], capture_output=True, text=True, timeout=60,
                              check=False, cwd="/", env=env)  # fmt: skip
        return read_probe(proc.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return None


def read_probe(text: str) -> Probe | None:
    """The probe script's output line (run here, or inside an image when it was built); None if garbled."""
    try:
        data = json.loads(text)
        return Probe(
            path=tuple(os.path.normpath(p) for p in data["path"] if isinstance(p, str) and p),
            python=(int(data["python"][0]), int(data["python"][1])),
            pytest=data.get("pytest"),
            coverage=data.get("coverage"),
        )
    except (ValueError, IndexError, KeyError, TypeError):
        return None


def _version(text: str | None) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in (text or "").split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def needed(found: Probe | None) -> dict[str, str]:
    """{instrument: "missing" | "incompatible"} for what repairbot must supply."""
    if found is None:
        return {}
    need: dict[str, str] = {}
    if found.pytest is None:
        need["pytest"] = "missing"
    elif _version(found.pytest) < MIN_PYTEST:
        need["pytest"] = "incompatible"
    if found.coverage is None:
        need["coverage"] = "missing"
    elif _version(found.coverage) < MIN_COVERAGE:
        need["coverage"] = "incompatible"
    return need


def stage(runner: Path, found: Probe | None) -> dict[str, str]:
    """Copy what the interpreter lacks into `runner`/vendor/<instrument>/ (readable by any sandbox user).

    The server reads `<instrument>.mode` ("missing": after the interpreter's packages, "incompatible":
    before them). Returns what was staged; an instrument repairbot itself lacks is left out (the server then
    reports the degraded mode)."""
    staged: dict[str, str] = {}
    for name, why in needed(found).items():
        dest = runner / VENDOR / name
        try:
            dists = _closure(name, found.python if found else None)
        except importlib.metadata.PackageNotFoundError:
            continue
        dest.mkdir(parents=True, exist_ok=True)
        for dist in dists:
            for top in _top_levels(dist):
                src = Path(str(dist.locate_file(top)))
                target = dest / top
                if target.exists():
                    continue
                if src.is_dir():
                    shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
                elif src.is_file():
                    shutil.copy2(src, target)
        (runner / VENDOR / f"{name}.mode").write_text(why, encoding="utf-8")
        staged[name] = why
    for root, dirs, files in os.walk(runner / VENDOR):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
        del dirs
    return staged


def _closure(name: str, python: tuple[int, int] | None) -> list[importlib.metadata.Distribution]:
    """`name` from repairbot's own installation and what it requires on the test interpreter's Python."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    if python is not None:
        env["python_version"] = f"{python[0]}.{python[1]}"
        env["python_full_version"] = f"{python[0]}.{python[1]}.0"
    env["extra"] = ""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        key = current.lower().replace("_", "-")
        if key in found:
            continue
        try:
            dist = importlib.metadata.distribution(current)
        except importlib.metadata.PackageNotFoundError:
            if current == name:
                raise
            continue  # a requirement only another Python needs, absent here: the server's import says
        found[key] = dist
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(req.name)
    return list(found.values())


def _top_levels(dist: importlib.metadata.Distribution) -> list[str]:
    """The importable top-level names of a distribution (packages, modules, compiled modules)."""
    names: list[str] = []
    for f in dist.files or ():
        top = f.parts[0]
        if top in names or top == ".." or top.endswith((".dist-info", ".pth", ".egg-info")) or top == "bin":
            continue
        if len(f.parts) > 1 or f.suffix in (".py", ".so", ".pyd"):
            names.append(top)
    return names


def notes(loaded: dict[str, str]) -> tuple[str, ...]:
    """Report lines for the servers' account of their instruments (`{"coverage": "repairbot 7.6.1"}`)."""
    out: list[str] = []
    for name in ("pytest", "coverage"):
        where = loaded.get(name, "")
        if where.startswith("repairbot "):
            out.append(f"the test interpreter lacks a usable {name}: repairbot supplied its own "
                       f"({name} {where.split(' ', 1)[1]}), without installing anything into it")  # fmt: skip
        elif where.startswith("unavailable") and name == "coverage":
            out.append(f"degraded: no per-test coverage ({where}); suspicious statements come from "
                       "tracebacks only")  # fmt: skip
    return tuple(out)
