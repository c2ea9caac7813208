"""Generators and sandboxes from another distribution, found through its entry points: the README's example
generator is installed with pip (as a real distribution) and repairs a project end to end."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from repairbot.errors import BadInput
from repairbot.models import Job
from repairbot.pipeline import repair
from repairbot.plugins import generator_names, load_generator, sandbox_names
from tests.support.projects import write_project

README = Path(__file__).resolve().parents[1] / "README.md"

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "repairbot-flip-example"
version = "0.1"

[project.entry-points."repairbot.generators"]
flip = "repairbot_flip:FlipComparison"

[project.entry-points."repairbot.sandboxes"]
local-copy = "repairbot.sandbox.local:LocalSandbox"

[tool.setuptools]
py-modules = ["repairbot_flip"]
"""


def _example_generator() -> str:
    """The example generator of the README (the first Python block of its "Extending" section)."""
    section = README.read_text(encoding="utf-8").split("## Extending", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "the README lost its example generator"
    return match.group(1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site directory holding the example distribution, installed by pip from its source."""
    root = tmp_path_factory.mktemp("plugin")
    src = write_project(
        root / "src", {"pyproject.toml": PYPROJECT, "repairbot_flip.py": _example_generator()}
    )
    site = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(src)],
        check=True,
    )  # fmt: skip
    return site


@pytest.fixture
def on_path(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(installed))
    importlib.invalidate_caches()
    return installed


def test_entry_points_are_found_by_name(on_path: Path) -> None:
    assert "flip" in generator_names() and "local-copy" in sandbox_names()
    assert load_generator("flip").name == "flip"
    assert type(load_generator("flip")).__module__ == "repairbot_flip"


def test_without_the_distribution_the_name_is_unknown() -> None:
    assert "flip" not in generator_names()
    with pytest.raises(BadInput, match="unknown generator 'flip'"):
        load_generator("flip")


def test_a_plugin_generator_repairs_through_a_plugin_sandbox(on_path: Path, tmp_path: Path) -> None:
    code = "def below(xs, limit):\n    return [x for x in xs if x < limit]\n"
    test = (
        "from clip import below\n\n\ndef test_limit_included():\n    assert below([1, 2, 3], 2) == [1, 2]\n"
    )
    root = write_project(tmp_path / "p", {"clip.py": code, "test_clip.py": test})
    job = Job(root=root, sandbox="local-copy", generators=("flip",), budget_s=120.0)
    report = repair(job)
    assert report.status == "fixed", report.notes
    assert report.patches[0].generator == "flip"
    assert "+    return [x for x in xs if x <= limit]" in report.patches[0].diff
    assert report.sandbox.startswith("local subprocesses")
    assert (root / "clip.py").read_text().count("x < limit") == 1  # no --apply: the tree is untouched


def test_repository_config_names_plugin_generators(on_path: Path) -> None:
    from repairbot.config import RepoConfig

    assert RepoConfig.model_validate({"generators": ["rules", "flip"]}).generators == ("rules", "flip")


def test_repository_config_refuses_an_unknown_generator() -> None:
    from pydantic import ValidationError

    from repairbot.config import RepoConfig

    with pytest.raises(ValidationError, match="unknown generator 'flip'"):
        RepoConfig.model_validate({"generators": ["flip"]})
