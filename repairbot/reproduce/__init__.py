"""Reproduce: tests that pin a bug down. An issue's snippet or traceback becomes a test that fails now
(`reproduction_test`, `issue_locations`); a code fix gets a minimal regression test sliced from the failing
test when no existing test pinpoints the bug (`regression_test`)."""

from __future__ import annotations

from repairbot.reproduce.issue import issue_locations, reproduction_test
from repairbot.reproduce.regression import regression_test, regression_tests_for

__all__ = ["issue_locations", "regression_test", "regression_tests_for", "reproduction_test"]
