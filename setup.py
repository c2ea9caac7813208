"""The package list for setuptools; everything else is in pyproject.toml.

Why a setup.py at all: the fix-pattern rules live at the top of the repository (`rules/`, their source of
truth, edited and tested there) but must ship inside the wheel and the sdist, where repairbot reads them as
package data (`importlib.resources`, package `repairbot._rules`). Mapping that package onto the `rules/`
folder (`package_dir`) lets setuptools itself put the files in the sdist, the wheel and the editable
installs' finders; a build step that copies would need its own bookkeeping for each of those. The mapped
package cannot be declared next to `packages.find` in pyproject.toml (a found list and an explicit one do
not mix there), so the package list is computed here: every package under repairbot/ and webhooks/
(namespace folders such as repairbot/parsing/queries included), plus the mapped one.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["repairbot*", "webhooks*"], exclude=["*__pycache__*"]),
        "repairbot._rules",
    ],
    package_dir={"repairbot._rules": "rules"},
)
