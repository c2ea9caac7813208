"""Where the rule files are: $REPAIRBOT_RULES, the package data shipped in the wheel, or the checkout's
`rules/` folder. A module of its own because both the rule engine (patterns) and the learned orderings
(learned, which the engine's template functions read) need it.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from repairbot.errors import EnvironmentProblem

RULES_ENV = "REPAIRBOT_RULES"


def default_rules_dir() -> Path:
    """$REPAIRBOT_RULES, else the rules shipped as package data (`repairbot._rules`, see setup.py), else the
    repository's `rules/` folder (a checkout whose editable install predates the package mapping)."""
    env = os.environ.get(RULES_ENV)
    if env:
        return Path(env)
    return rules_root() / "python"


def rules_root() -> Path:
    try:
        shipped = Path(str(files("repairbot._rules")))
    except (ModuleNotFoundError, TypeError):  # not installed as a package (a plain checkout)
        shipped = None
    if shipped is not None and (shipped / "python").is_dir():
        return shipped
    checkout = Path(__file__).resolve().parents[2] / "rules"
    if (checkout / "python").is_dir():
        return checkout
    raise EnvironmentProblem(
        "repairbot's fix-pattern rules are missing from its installation",
        hint=f"reinstall repairbot, or set {RULES_ENV} to a folder of rule files",
    )
