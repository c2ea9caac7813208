"""The CLI contract on bad input: one clear line on stderr, exit 2 (or 1 for "no fix"), never a traceback,
and the user's files unchanged."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.projects import write_project


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


def repairbot(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "repairbot", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip


def _assert_clean_error(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    assert needle in proc.stderr, proc.stderr


def _repair(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return repairbot("repair", str(root), "--sandbox", "local", "--quiet", "--budget", "60", *extra)


def test_missing_path(tmp_path: Path) -> None:
    _assert_clean_error(_repair(tmp_path / "nope"), 2, "no such directory")


def test_path_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("x = 1\n")
    _assert_clean_error(_repair(tmp_path / "x.py"), 2, "not a directory")


def test_no_python_files(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("hi\n")
    _assert_clean_error(_repair(tmp_path), 2, "no Python files")


def test_no_tests_collected(tmp_path: Path) -> None:
    write_project(tmp_path, {"m.py": "def f():\n    return 1\n"})
    before = _hashes(tmp_path)
    _assert_clean_error(_repair(tmp_path), 2, "no tests collected")
    assert _hashes(tmp_path) == before


def test_suite_already_passes(tmp_path: Path) -> None:
    write_project(tmp_path, {"m.py": "def f():\n    return 1\n", "test_m.py": "from m import f\n\n\n"
                             "def test_f():\n    assert f() == 1\n"})  # fmt: skip
    _assert_clean_error(_repair(tmp_path), 1, "nothing to repair")


def test_collection_error_from_the_environment(tmp_path: Path) -> None:
    write_project(tmp_path, {"m.py": "x = 1\n", "test_m.py": "import not_installed_anywhere\n\n\n"
                             "def test_x():\n    pass\n"})  # fmt: skip
    _assert_clean_error(_repair(tmp_path), 2, "test collection failed in test_m.py")


def test_syntax_error_in_code_is_a_bug_not_a_crash(tmp_path: Path) -> None:
    write_project(tmp_path, {"m.py": "def f(x)\n    return x\n", "test_m.py": "from m import f\n\n\n"
                             "def test_f():\n    assert f(1) == 1\n"})  # fmt: skip
    before = _hashes(tmp_path)
    proc = _repair(tmp_path, "--json", str(tmp_path.parent / "r.json"))
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr
    import json

    report = json.loads((tmp_path.parent / "r.json").read_text())
    assert report["failing_tests"] == ["test_m.py"]
    assert report["localization"][0]["path"] == "m.py"
    assert _hashes(tmp_path) == before


def test_hanging_and_memory_hungry_tests_end_cleanly(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "m.py": "def f(n):\n    while n > 0:\n        n = n + 1\n    return n\n",
        "test_m.py": "from m import f\n\n\ndef test_hang():\n    assert f(1) == 0\n\n\n"
        "def test_memory():\n    blob = bytearray(64 * 1024 ** 3)\n    assert blob\n",
    })  # fmt: skip
    before = _hashes(tmp_path)
    proc = repairbot("repair", str(tmp_path), "--sandbox", "local", "--quiet", "--budget", "30")
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr
    assert _hashes(tmp_path) == before


def test_undecodable_and_huge_files_are_left_alone(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "bad.py": b"s = '\xff\xfe'\n",
        "huge.py": "x = 1\n" * 200_000,
        "m.py": "def inc(x):\n    return x - 1\n",
        "test_m.py": "from m import inc\n\n\ndef test_inc():\n    assert inc(1) == 2\n",
    })  # fmt: skip
    before = _hashes(tmp_path)
    proc = _repair(tmp_path, "--json", str(tmp_path.parent / "r.json"))
    assert "Traceback" not in proc.stderr and proc.returncode in (0, 1)
    import json

    report = json.loads((tmp_path.parent / "r.json").read_text())
    for patch in report["patches"]:
        assert set(patch["files"]) == {"m.py"}
    assert _hashes(tmp_path) == before


@pytest.mark.parametrize("args,needle", [
    (["bench", "/nonexistent.jsonl", "--sandbox", "local"], "no such benchmark file"),
    (["repair", ".", "--test-cmd", "pytest 'oops", "--sandbox", "local"], "cannot be parsed"),
])  # fmt: skip
def test_bad_options(args: list[str], needle: str) -> None:
    _assert_clean_error(repairbot(*args), 2, needle)


def test_bad_benchmark_line(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text('{"id": "x", "files": {}}\n')
    _assert_clean_error(repairbot("bench", str(tmp_path / "b.jsonl"), "--sandbox", "local"), 2, "lacks tests")
