"""Fault localization: spectrum (Ochiai), traceback frames and changed lines → ranked Locations.

Entry point: `localize(Evidence(...))`."""

from repairbot.localize.rank import Evidence, localize

__all__ = ["Evidence", "localize"]
