from __future__ import annotations

from pathlib import Path

from repairbot.models import TestOutcome
from repairbot.reproduce import issue_locations, regression_test, reproduction_test
from tests.support.runs import run_tests

BUGGY = "def double(x):\n    return x + x if x < 3 else x * 3\n"
FIXED = "def double(x):\n    return x + x\n"
BROAD = (
    "import unittest\n\nfrom lib import double\n\n\n"
    "class DoubleTest(unittest.TestCase):\n"
    "    def test_many(self):\n"
    "        self.assertEqual(double(1), 2)\n"
    "        value = double(4)\n"
    "        self.assertEqual(value, 8)\n"
    "        self.assertEqual(double(0), 0)\n"
)


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)


def test_regression_test_fails_before_and_passes_after_the_fix(tmp_path: Path) -> None:
    _write(tmp_path, {"lib.py": BUGGY, "tests/test_lib.py": BROAD})
    failing = [o for o in run_tests(tmp_path).outcomes if not o.ok]
    assert [o.nodeid for o in failing] == ["tests/test_lib.py::DoubleTest::test_many"]
    res = regression_test(BROAD.encode(), failing[0])
    assert res is not None
    path, new, nodeid = res
    assert path == "tests/test_lib.py" and nodeid == "tests/test_lib.py::DoubleTest::test_many_regression"
    # The original is untouched; the new test sits in the same class and keeps what leads to the failure.
    assert new.startswith(BROAD.encode())
    added = new[len(BROAD) :].decode()
    assert (
        "    def test_many_regression(self):\n        value = double(4)\n        self.assertEqual(value, 8)"
        in added
    )
    assert "double(1)" not in added and "double(0)" not in added
    _write(tmp_path, {path: new})
    before = run_tests(tmp_path, [nodeid]).outcome(nodeid)
    assert before is not None and before.outcome == "failed"
    _write(tmp_path, {"lib.py": FIXED})
    after = run_tests(tmp_path, [nodeid]).outcome(nodeid)
    assert after is not None and after.outcome == "passed"


def test_a_test_that_already_pinpoints_the_bug_gets_no_copy() -> None:
    src = b"from lib import f\n\n\ndef test_f():\n    assert f(1) == 2\n"
    o = TestOutcome("tests/t.py::test_f", "failed", "assert 3 == 2", "", (("tests/t.py", 5),))
    assert regression_test(src, o) is None
    res = regression_test(src, o, always=True)
    assert res is not None and res[2] == "tests/t.py::test_f_regression"


def test_reproduction_from_a_snippet_with_expected_comment(tmp_path: Path) -> None:
    _write(tmp_path, {"lib.py": BUGGY, "tests/test_lib.py": BROAD})
    issue = (
        "double() is wrong for big numbers:\n\n```python\nfrom lib import double\n"
        "print(double(5))  # expected: 10\n```\n"
    )
    res = reproduction_test(issue, tmp_path)
    assert res is not None
    path, src = res
    assert path == "tests/test_issue_reproduction.py"
    assert b"assert double(5) == 10" in src and b"unittest.TestCase" in src  # the repository's style
    _write(tmp_path, {path: src})
    run = run_tests(tmp_path, [path])
    assert [o.outcome for o in run.outcomes] == ["failed"]
    _write(tmp_path, {"lib.py": FIXED})
    assert [o.outcome for o in run_tests(tmp_path, [path]).outcomes] == ["passed"]


def test_reproduction_from_a_session_and_prose(tmp_path: Path) -> None:
    issue = ">>> from lib import double\n>>> double(4)\n12\n\nIt should return `8`.\n"
    res = reproduction_test(issue, tmp_path)
    assert res is not None
    assert res[1] == b"from lib import double\n\n\ndef test_issue():\n    assert double(4) == 8\n"


def test_reproduction_from_a_crashing_snippet(tmp_path: Path) -> None:
    issue = (
        "```python\nfrom lib import parse\nparse('')\n```\n\n"
        '```\nTraceback (most recent call last):\n  File "lib.py", line 3, in parse\n'
        "IndexError: list index out of range\n```\n"
    )
    res = reproduction_test(issue, tmp_path)
    assert res is not None and b"def test_issue():\n    parse('')" in res[1]
    assert reproduction_test("It crashes sometimes, please fix.", tmp_path) is None


def test_issue_locations(tmp_path: Path) -> None:
    _write(tmp_path, {"pkg/mod.py": "x = 1\n", "pkg/other.py": "y = 2\n"})
    issue = (
        "Traceback (most recent call last):\n"
        '  File "/home/me/proj/pkg/other.py", line 9, in run\n'
        '  File "/usr/lib/python3.11/site-packages/requests/api.py", line 3, in get\n'
        '  File "C:\\\\work\\\\proj\\\\pkg\\\\mod.py", line 4, in f\n'
        "ValueError: boom\n"
    )
    assert issue_locations(issue, tmp_path) == [("pkg/other.py", 9), ("pkg/mod.py", 4)]


def test_a_crash_keeps_the_checks_after_the_crashing_call(tmp_path: Path) -> None:
    buggy = "def first(xs):\n    return xs[1]\n"
    test = (
        "from lib import first\n\n\n"
        "def test_first():\n    assert first([3, 3]) == 3\n    value = first([5])\n    assert value == 5\n"
    )
    _write(tmp_path, {"lib.py": buggy, "test_lib.py": test})
    failing = [o for o in run_tests(tmp_path).outcomes if not o.ok]
    assert [o.nodeid for o in failing] == ["test_lib.py::test_first"]
    res = regression_test(test.encode(), failing[0])
    assert res is not None
    added = res[1][len(test) :].decode()
    # Not a bare call that only has to stop raising: the check on its value comes along.
    assert "    value = first([5])\n    assert value == 5\n" in added and "[3, 3]" not in added
