"""The behaviour probe from the engine's side: the files that install it in a tree, and what it recorded.

The probe itself (probe_runtime.py) runs inside the sandbox, in the project's test interpreter. This module
writes, over the tree of one plausible patch: the runtime and its plan under `.repairbot-probe/`, a few lines
at the end of each patched module that install it when the module is imported, and a test module that runs
the generated inputs after the project's tests. It then reads `.repairbot-probe/out.jsonl` back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from repairbot.assess.changes import FunctionChange

PROBE_DIR = ".repairbot-probe"
PROBE_TEST = f"{PROBE_DIR}/test_repairbot_probe.py"
PROBE_NODE = f"{PROBE_TEST}::test_repairbot_behaviour"
RUNTIME_NAME = "_repairbot_probe_runtime"

_LOADER = """
def _load_repairbot_probe(here):
    import importlib.util
    import sys

    runtime = sys.modules.get({name!r})
    if runtime is None:
        spec = importlib.util.spec_from_file_location({name!r}, here)
        runtime = importlib.util.module_from_spec(spec)
        sys.modules[{name!r}] = runtime
        spec.loader.exec_module(runtime)
    return runtime
"""

_INSTALL = """

# repairbot assessment probe (only in the assessment's copy of the tree, never in a patch)
def __repairbot_probe_install():
    import os
{loader}
    here = os.path.dirname(os.path.abspath(__file__))
    runtime = os.path.join(here, {up}{probe_dir!r}, "probe_runtime.py")
    _load_repairbot_probe(runtime).install(globals(), {path!r})


__repairbot_probe_install()
del __repairbot_probe_install
"""

_TEST = '''"""repairbot's behaviour probe: generated inputs, run after the project's tests."""
{loader}

def test_repairbot_behaviour():
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    _load_repairbot_probe(os.path.join(here, "probe_runtime.py")).generate()
'''


@dataclass(frozen=True, slots=True)
class Limits:
    call_s: float = 1.0
    per_test: int = 25
    observed_kept: int = 30
    generated: int = 120
    generate_s: float = 15.0


def module_name(path: str, exists: Iterable[str]) -> str:
    """The dotted name the module at `path` is imported as: its chain of packages (directories with an
    `__init__.py`) up to the first directory without one, which is the one on sys.path."""
    present = set(exists)
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    start = len(parts) - 1
    while start > 0 and "/".join([*parts[:start], "__init__.py"]) in present:
        start -= 1
    return ".".join(parts[start:])


def probe_files(
    originals: Mapping[str, bytes],
    patched: Mapping[str, bytes],
    changes: Sequence[FunctionChange],
    failing: Sequence[str],
    tree_files: Iterable[str],
    limits: Limits = Limits(),
) -> dict[str, bytes]:
    """Files to write over the tree (the patched files included) so that one run of the tests observes the
    changed functions. Only the probeable functions of modules the patch changed are planned."""
    plan: dict[str, object] = {
        "modules": {},
        "failing": list(failing),
        "limits": {
            "call_s": limits.call_s,
            "per_test": limits.per_test,
            "observed_kept": limits.observed_kept,
            "generated": limits.generated,
            "generate_s": limits.generate_s,
        },
        "imports": [],
    }
    modules: dict[str, object] = {}
    imports: list[str] = []
    out = dict(patched)
    files = set(tree_files) | set(patched)
    for path in sorted({c.path for c in changes if c.probeable}):
        fns = [
            {"key": c.key, "qualname": c.qualname, "line": c.first_line}
            for c in changes
            if c.path == path and c.probeable
        ]
        original = originals.get(path)
        if original is None:
            continue
        modules[path] = {"original": original.decode("utf-8", "replace"), "functions": fns}
        imports.append(module_name(path, files))
        depth = path.count("/")
        loader = "\n".join(
            "    " + line if line else "" for line in _LOADER.format(name=RUNTIME_NAME).splitlines()
        )
        data = patched[path]
        if not data.endswith(b"\n"):
            data += b"\n"
        up = "".join('"..", ' for _ in range(depth))
        out[path] = data + _INSTALL.format(loader=loader, up=up, probe_dir=PROBE_DIR, path=path).encode()
    plan["modules"] = modules
    plan["imports"] = imports
    out[f"{PROBE_DIR}/plan.json"] = json.dumps(plan).encode()
    out[f"{PROBE_DIR}/probe_runtime.py"] = (
        resources.files("repairbot.assess").joinpath("probe_runtime.py").read_bytes()
    )
    out[PROBE_TEST] = _TEST.format(loader=_LOADER.format(name=RUNTIME_NAME)).encode()
    return out


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a changed function on the original and on the patched code."""

    function: str  # path::qualname
    source: str  # "observed" (a test called it), "docstring", "generated"
    test: str  # node id of the test that made the call ("" for generated inputs)
    input: str  # the arguments, as repr
    ident: str  # the same input in another run has the same ident
    orig: Mapping[str, str]  # {"status": "return|raise|timeout|uncopyable", "value": ..., "message": ...}
    patched: Mapping[str, str]
    patched_key: str  # what the patched code did, comparable across runs
    same: bool | None  # None: not comparable (the arguments could not be copied)
    mutated: bool  # same value, different arguments afterwards (in-place change)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ran: bool  # the probe wrote anything at all
    calls: tuple[Call, ...] = ()
    installed: tuple[str, ...] = ()
    unsupported: Mapping[str, str] = field(default_factory=dict)  # function or module -> why
    generators: Mapping[str, str] = field(default_factory=dict)  # function -> how inputs were generated
    cut: tuple[str, ...] = ()  # functions whose generated inputs ran out of time
    errors: tuple[str, ...] = ()


def read_probe(tree: Path) -> ProbeResult:
    path = tree / PROBE_DIR / "out.jsonl"
    if not path.is_file():
        return ProbeResult(False)
    calls: list[Call] = []
    installed: list[str] = []
    unsupported: dict[str, str] = {}
    generators: dict[str, str] = {}
    cut: list[str] = []
    errors: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a record cut short by a killed run
        event = rec.get("event")
        if event == "call":
            calls.append(
                Call(
                    str(rec["fn"]),
                    str(rec["source"]),
                    str(rec.get("test") or ""),
                    str(rec["input"]),
                    str(rec["id"]),
                    rec["orig"],
                    rec["patched"],
                    str(rec["patched_key"]),
                    rec["same"],
                    bool(rec.get("mutated")),
                )
            )
        elif event == "installed":
            installed.append(str(rec["fn"]))
        elif event == "unsupported":
            unsupported[str(rec.get("fn") or rec.get("module"))] = str(rec["why"])
        elif event == "generator":
            generators[str(rec["fn"])] = str(rec["how"])
        elif event == "generator_cut":
            cut.append(str(rec["fn"]))
        elif event == "import_error":
            errors.append(f"{rec['module']}: {rec['why']}")
    return ProbeResult(
        True, tuple(calls), tuple(installed), unsupported, generators, tuple(cut), tuple(errors)
    )
