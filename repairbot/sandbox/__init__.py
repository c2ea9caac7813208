"""Sandboxes: where tests and candidates run. `open_sandbox` picks a backend by name (built in: docker, local;
others from the entry point group `repairbot.sandboxes`, see repairbot.plugins)."""

from __future__ import annotations

from pathlib import Path

from repairbot.models import Sandbox
from repairbot.plugins import sandbox_factory
from repairbot.testing.runs import TestCommand


def open_sandbox(
    name: str,
    scratch: Path,
    command: TestCommand,
    *,
    parallel: int = 0,
    image: str | None = None,
    job_id: str = "local",
    project: Path | None = None,
) -> Sandbox:
    """The sandbox `name` ("docker", the default of the CLI, or "local": no isolation, explicit opt-in).

    Use it as a context manager. "docker" raises EnvironmentProblem when the engine is unreachable (never a
    silent fallback to local). `image`: an image reference, or "offline" to force the mounted-host mode
    (default: $REPAIRBOT_IMAGE, else python:3.X-slim when it can be pulled, else offline). `project`: the
    user's tree: never run, but what an editable install of the project points at (each run imports its own
    copy instead), and where the image mode finds the requirement files.
    """
    factory = sandbox_factory(name)
    return factory(scratch, command, parallel, image=image, job_id=job_id, project=project)


__all__ = ["Sandbox", "open_sandbox"]
