"""Sandboxes: where tests and candidates run. `open_sandbox` picks a backend by name."""

from __future__ import annotations

from pathlib import Path

from repairbot.errors import BadInput
from repairbot.sandbox.base import Sandbox
from repairbot.testing.runs import TestCommand

BACKENDS = ("docker", "local")


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
    if name == "local":
        from repairbot.sandbox.local import LocalSandbox

        return LocalSandbox(scratch, command, parallel, project=project)
    if name == "docker":
        from repairbot.sandbox.docker import DockerSandbox

        return DockerSandbox(scratch, command, parallel, image=image, job_id=job_id, project=project)
    raise BadInput(f"unknown sandbox {name!r}", hint=f"use one of: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Sandbox", "open_sandbox"]
