"""The behaviour probe in a real test run: pytest in a subprocess of the interpreter the tests use, on a tree
with the probe's files written over it (what the assessment stage runs in the sandbox)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from repairbot.assess.behaviour import PROBE_NODE, Limits, ProbeResult, module_name, probe_files, read_probe
from repairbot.assess.changes import all_changes
from tests.support.projects import write_project

LIB = '''def within(x, hi):
    """Is x at most hi?

    >>> within(1, 3)
    True
    """
    return x < hi


def spin(n):
    while n != 0:
        n -= 2
    return "even"


def countdown(n):
    if n <= 0:
        return []
    return [n] + countdown(n - 1)


def evens(xs):
    for x in xs:
        if x % 2 == 0:
            yield x


class Acc:
    def __init__(self):
        self.items = []

    def add(self, x):
        self.items.append(x)
        return len(self.items)
'''

TESTS = """import inspect
from lib import Acc, countdown, evens, spin, within


def test_edge():
    assert within(3, 3)


def test_inside():
    assert within(1, 3)


def test_spin():
    assert spin(4) == "even"
    assert spin(3) == "odd"


def test_countdown():
    assert countdown(3) == [3, 2, 1]


def test_evens():
    assert list(evens([1, 2, 3, 4])) == [2, 4]


def test_acc():
    a = Acc()
    assert a.add(5) == 1 and a.items


def test_signature_is_kept():
    assert list(inspect.signature(within).parameters) == ["x", "hi"]
"""


def _patched(lib: str) -> str:
    return (
        lib.replace("return x < hi", "return x <= hi")
        .replace(
            '    while n != 0:\n        n -= 2\n    return "even"',
            '    while n > 0:\n        n -= 2\n    return "even" if n == 0 else "odd"',
        )
        .replace("return [n] + countdown(n - 1)", "return [n] + countdown(n - 1) + []")
        .replace("if x % 2 == 0:", "if x % 2 == 0 and x:")
        .replace("self.items.append(x)", "self.items.append(x * 2)")
    )


def _probe(
    tmp_path: Path, lib: str, patched: str, tests: str, nodeids: list[str], **limits: float
) -> ProbeResult:
    root = write_project(tmp_path / "p", {"lib.py": lib, "test_lib.py": tests})
    originals = {"lib.py": lib.encode()}
    changes = list(all_changes(originals, {"lib.py": patched.encode()}))
    failing = [n for n in nodeids if n.endswith(("test_edge", "test_spin"))]
    files = probe_files(
        originals, {"lib.py": patched.encode()}, changes, failing, ["lib.py"], Limits(**limits)
    )
    write_project(root, files)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *nodeids, PROBE_NODE],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "passed" in run.stdout, run.stdout + run.stderr
    return read_probe(root)


def test_observed_and_generated_calls(tmp_path: Path) -> None:
    nodeids = [
        f"test_lib.py::{t}"
        for t in (
            "test_edge",
            "test_inside",
            "test_spin",
            "test_countdown",
            "test_evens",
            "test_acc",
            "test_signature_is_kept",
        )
    ]
    result = _probe(tmp_path, LIB, _patched(LIB), TESTS, nodeids, call_s=0.5, generated=40)
    assert result.ran and not result.unsupported, result.unsupported
    assert set(result.installed) == {
        f"lib.py::{n}" for n in ("within", "spin", "countdown", "evens", "Acc.add")
    }
    calls = {(c.function.split("::")[1], c.source, c.input): c for c in result.calls}

    edge = calls[("within", "observed", "3, 3")]
    assert edge.test == "test_lib.py::test_edge" and edge.same is False
    assert edge.orig["value"] == "False" and edge.patched["value"] == "True"
    assert calls[("within", "observed", "1, 3")].same is True
    assert calls[("within", "docstring", "1, 3")].same is True  # the docstring's example
    assert any(c.source == "generated" and c.function.endswith("within") and not c.same for c in result.calls)

    # The original loops forever on an odd number: cut at the per-call limit, the test still passes.
    odd = calls[("spin", "observed", "3")]
    assert odd.orig["status"] == "timeout" and odd.patched == {"status": "return", "value": "'odd'"}

    # Recursion: the original's inner calls run the original code (the same outcome: unchanged).
    assert calls[("countdown", "observed", "3")].same is True
    # A generator's items are compared, and the test still gets them.
    assert calls[("evens", "observed", "[1, 2, 3, 4]")].same is True
    # A method: same return value, but `self` changed differently in place.
    add = calls[("Acc.add", "observed", "Acc(items=[]), 5")]
    assert add.same is False and add.mutated is True
    assert result.generators["lib.py::within"] == "hypothesis"


def test_uncopyable_arguments_are_shared_not_skipped(tmp_path: Path) -> None:
    lib = "import threading\n\n\ndef locked(lock, x):\n    with lock:\n        return x + 1\n"
    patched = lib.replace("x + 1", "x + 2")
    tests = (
        "import threading\nfrom lib import locked\n\n\n"
        "def test_edge():\n    assert locked(threading.Lock(), 1) == 3\n"
    )
    result = _probe(tmp_path, lib, patched, tests, ["test_lib.py::test_edge"])
    (observed,) = [c for c in result.calls if c.source == "observed"]
    assert observed.same is False and observed.orig["value"] == "2"


def test_module_names_follow_packages() -> None:
    files = ["src/pkg/__init__.py", "src/pkg/sub/__init__.py"]
    assert module_name("src/pkg/sub/mod.py", files) == "pkg.sub.mod"
    assert module_name("src/pkg/__init__.py", files) == "pkg"
    assert module_name("lib.py", files) == "lib"
    assert module_name("tools/run.py", files) == "run"
