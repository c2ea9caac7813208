"""Image selection: offline base image, configured image, fallbacks (dependency images: test_install.py)."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from repairbot.errors import EnvironmentProblem
from repairbot.sandbox import images
from tests.sandbox.conftest import write_tree


def test_configured_image(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPAIRBOT_IMAGE", raising=False)
    assert images.configured_image() == "python:{python}-slim"  # the project's version fills it in
    assert images.default_image() == f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"
    monkeypatch.setenv("REPAIRBOT_IMAGE", "offline")
    assert images.configured_image() == "offline"
    assert images.configured_image("example/img:2") == "example/img:2"  # the argument wins


def test_host_mounts_cover_the_interpreter() -> None:
    mounts = images.host_mounts(sys.executable)
    assert "/" not in mounts
    real = os.path.realpath(sys.executable)
    assert any(real.startswith(m + "/") for m in mounts)
    for a in mounts:  # outermost only
        assert not any(a != b and a.startswith(b + "/") for b in mounts)


@pytest.mark.docker
def test_offline_base_image_is_tiny_and_reused(engine: Any) -> None:
    ref = images.ensure_empty_image(engine)
    assert ref == images.EMPTY_IMAGE
    img = engine.images.get(ref)
    assert img.attrs["Size"] < 10_000
    assert images.ensure_empty_image(engine) == ref and engine.images.get(ref).id == img.id


@pytest.mark.docker
def test_unpullable_image_falls_back_to_offline_and_says_so(engine: Any) -> None:
    missing = f"127.0.0.1:1/repairbot-missing-{uuid.uuid4().hex[:8]}:1"
    choice = images.choose_image(engine, sys.executable, missing)
    assert choice.mode == "offline" and choice.ref == images.EMPTY_IMAGE
    assert missing in choice.description and "offline" in choice.description


@pytest.mark.docker
def test_offline_can_be_forced(engine: Any) -> None:
    choice = images.choose_image(engine, sys.executable, "offline")
    assert choice.mode == "offline" and choice.python == sys.executable
    assert "offline mode asked for" in choice.description


@pytest.mark.docker
def test_offline_mode_is_refused_inside_a_container(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A compose worker would mount host paths the engine does not have: say so instead of hanging."""
    missing = f"127.0.0.1:1/repairbot-missing-{uuid.uuid4().hex[:8]}:1"
    monkeypatch.setenv("REPAIRBOT_IN_CONTAINER", "1")
    with pytest.raises(EnvironmentProblem, match="inside a container") as err:
        images.choose_image(engine, sys.executable, missing)
    assert missing in str(err.value)


@pytest.mark.docker
def test_failed_dependency_install_falls_back_to_offline(engine: Any, tmp_path: Path) -> None:
    """A cached image without Python: installing the test dependencies fails, offline mode is used."""
    project = write_tree(tmp_path / "p", {"requirements.txt": "pytest\n"})
    base = f"repairbot-test/nopython:{uuid.uuid4().hex[:8]}"
    engine.images.get(images.ensure_empty_image(engine)).tag(*base.split(":"))
    try:
        choice = images.choose_image(engine, sys.executable, base, project)
        assert choice.mode == "offline"
        assert "dependencies could not be installed" in choice.description and base in choice.description
        assert not engine.api.containers(all=True, filters={"label": "repairbot.role=deps-install"})
    finally:
        engine.images.remove(base)
