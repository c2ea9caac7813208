"""Reproduce: tests that pin a bug down. An issue's snippet or traceback becomes a test that fails now
(`reproduce_issue`); a code fix gets a minimal regression test sliced from the failing test when no existing
test pinpoints the bug (`regression_test_for`)."""

from __future__ import annotations

from repairbot.reproduce.issue import Reproduction, issue_locations, reproduce_issue, reproduction_test
from repairbot.reproduce.regression import RegressionTest, regression_test, regression_test_for

__all__ = [
    "RegressionTest",
    "Reproduction",
    "issue_locations",
    "regression_test",
    "regression_test_for",
    "reproduce_issue",
    "reproduction_test",
]
