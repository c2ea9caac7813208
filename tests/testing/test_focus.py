"""Which test files a large suite measures with coverage (repairbot/testing/focus.py)."""

from __future__ import annotations

from repairbot.testing.focus import focus_files

TESTS = (
    "conftest.py",
    "pkg/tests/test_cycles.py",
    "pkg/tests/test_graph.py",
    "pkg/tests/test_paths.py",
    "other/tests/test_cycle.py",
    "other/tests/test_misc.py",
)


def test_own_files_first_then_named_after_the_suspects_then_their_folders() -> None:
    picked = focus_files(["pkg/tests/test_graph.py::test_add"], ["pkg/algorithms/cycles.py"], TESTS, 10)
    assert picked == (
        "pkg/tests/test_graph.py",
        "other/tests/test_cycle.py",
        "pkg/tests/test_cycles.py",
        "pkg/tests/test_paths.py",
    )


def test_the_limit_never_drops_the_failing_tests_own_files() -> None:
    failing = ["pkg/tests/test_graph.py::test_a", "other/tests/test_misc.py::test_b"]
    assert focus_files(failing, ["pkg/cycles.py"], TESTS, 1) == (
        "other/tests/test_misc.py",
        "pkg/tests/test_graph.py",
    )
