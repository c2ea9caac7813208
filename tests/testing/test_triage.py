"""The triage rules on real runs of the fork-server runner (local backend)."""

from __future__ import annotations

from pathlib import Path

import pytest

from repairbot.models import RunSpec
from repairbot.sandbox.local import LocalSandbox
from repairbot.testing import triage
from repairbot.testing.runs import parse_test_cmd
from tests.support.projects import write_project


@pytest.fixture
def sandbox(tmp_path: Path):
    with LocalSandbox(tmp_path / "scratch", parse_test_cmd(None), parallel=1) as sb:
        yield sb


def test_collection_errors_are_targets_only_when_the_project_is_at_fault(tmp_path: Path, sandbox) -> None:
    t = "\n\n\ndef test_it():\n    pass\n"
    root = write_project(tmp_path / "p", {
        "pkg/__init__.py": "",
        "pkg/core.py": "def double(x):\n    return 2 * x\n\n\ndef halve(x):\n    return x / 2\n",
        "pkg/broken.py": "VALUE = 1 / 0\n",
        "tests/test_ok.py": "from pkg.core import double\n\n\ndef test_double():\n    assert double(2)\n",
        "tests/test_missing_name.py": "from pkg.core import halved" + t,
        "tests/test_module_level_bug.py": "import pkg.broken" + t,
        "tests/test_third_party.py": "import not_installed_anywhere" + t,
        "tests/test_syntax.py": "def test_s(:\n    pass\n",
    })  # fmt: skip
    run = sandbox.run(RunSpec(root, timeout_s=60))
    # pytest went on past the collection errors
    assert run.outcome("tests/test_ok.py::test_double").outcome == "passed"  # type: ignore[union-attr]
    sources = ("pkg/__init__.py", "pkg/core.py", "pkg/broken.py")
    split, preexisting = triage.split_collection_errors(run, sources, root)
    targets = {o.nodeid: o for o in split.outcomes if o.outcome == "error"}
    assert set(targets) == {"tests/test_missing_name.py", "tests/test_module_level_bug.py"}
    # `halve`, the closest name; innermost, the test's own import
    missing = targets["tests/test_missing_name.py"]
    assert missing.frames == (("pkg/core.py", 5), ("tests/test_missing_name.py", 1))
    assert ("pkg/broken.py", 1) in targets["tests/test_module_level_bug.py"].frames
    assert set(preexisting) == {"tests/test_third_party.py", "tests/test_syntax.py"}


def test_flaky_flipped_and_failing_the_same_at_base(tmp_path: Path, sandbox) -> None:
    state = tmp_path / "state"
    root = write_project(tmp_path / "p", {
        "test_a.py": f"import pathlib\nS = pathlib.Path({str(state)!r})\n\n\ndef test_once():\n"
        "    first = not S.exists()\n    S.write_text('1')\n    assert not first\n\n\n"
        "def test_always():\n    assert 1 == 2\n",
    })  # fmt: skip
    first = sandbox.run(RunSpec(root))
    again = sandbox.run(RunSpec(root, tests=tuple(first.failing)))
    assert triage.flaky(first, again) == ("test_a.py::test_once",)
    assert triage.flipped(again, ignored=(), known_errors=()) == ("test_a.py::test_always",)
    assert triage.flipped(again, ignored=("test_a.py::test_always",), known_errors=()) == ()
    assert triage.failing_the_same_at_base(again, first) == ("test_a.py::test_always",)
    changed = write_project(tmp_path / "q", {"test_a.py": "def test_always():\n    assert 1 == 3\n"})
    assert triage.failing_the_same_at_base(sandbox.run(RunSpec(changed)), first) == ()
