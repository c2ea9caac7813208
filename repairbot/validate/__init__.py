"""Staged validation of candidates: cheap gates, the failing tests, then the whole suite (in a sandbox)."""

from repairbot.validate.staged import Baseline, Gate, Validator, changed_files

__all__ = ["Baseline", "Gate", "Validator", "changed_files"]
