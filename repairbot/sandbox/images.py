"""Which image a job's container runs, and what it needs mounted.

Two modes (DESIGN §7):
- image: a configured image (default `python:{python}-slim`, the Python version chosen for the project from
  its `.python-version` or `requires-python`, see deps.py), pulled when missing, with the project's test
  dependencies and the project itself installed into a virtualenv at /opt/repairbot/venv by hardened
  steps and cached per resolved set (install.py). The interpreter is that virtualenv's.
- offline: no registry reachable (or `offline` asked for). A tiny base image made once with `docker import`
  (only /etc/passwd and /etc/group, so the sandbox user has a name), and the host's system directories and
  the test interpreter's installation (prefix, base prefix, virtualenv) bind-mounted read-only at the same
  paths, so no path needs translating.

The choice is automatic: try the configured image; fall back to offline only when that fails, and say so.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from repairbot.errors import EnvironmentProblem
from repairbot.sandbox import deps, install

OFFLINE = "offline"
EMPTY_IMAGE = "repairbot/empty:1"
DEPS_REPO = install.DEPS_REPO
IMAGE_ENV = "REPAIRBOT_IMAGE"
DEFAULT_TEMPLATE = "python:{python}-slim"
# System directories the host interpreter needs (loader, libc, shared libraries, /bin/sh for subprocesses).
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass(frozen=True, slots=True)
class ImageChoice:
    """The image a job's container runs, the interpreter inside it, and the host paths mounted read-only."""

    ref: str
    mode: Literal["offline", "image"]
    python: str  # the interpreter to start inside the container
    mounts: tuple[str, ...]  # host paths bind-mounted read-only at the same path
    description: str
    probe: str | None = None  # image mode: what the image's interpreter reported when the image was built
    origins: tuple[str, ...] = ()  # other paths of the user's tree inside the image (the editable install's)
    notes: tuple[str, ...] = ()  # for the report: what was installed, refused, left out


def default_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def default_image() -> str:
    return DEFAULT_TEMPLATE.format(python=default_python())


def configured_image(image: str | None = None) -> str:
    """`image`, else $REPAIRBOT_IMAGE, else `python:{python}-slim`; "offline" forces mounts. `{python}` in
    it is replaced by the project's Python version."""
    return (image or os.environ.get(IMAGE_ENV) or "").strip() or DEFAULT_TEMPLATE


def _supported() -> tuple[str, ...]:
    listed = os.environ.get("REPAIRBOT_PYTHONS", "").replace(",", " ").split()
    return tuple(listed) or deps.DEFAULT_PYTHONS


def choose_image(
    client: Any,
    interpreter: str,
    image: str | None = None,
    project: Path | None = None,
    *,
    user: tuple[int, int] | None = None,
    job_id: str = "local",
) -> ImageChoice:
    """Pick the image for a job (see the module docstring). `user`: who the install steps run as."""
    wanted = configured_image(image)
    if wanted == OFFLINE:
        return offline_image(client, interpreter, "offline mode asked for")
    dset = _discover(project)
    ref = wanted.format(python=dset.python) if "{python}" in wanted else wanted
    try:
        base = ensure_pulled(client, ref)
    except EnvironmentProblem as exc:
        fallback = wanted.format(python=default_python()) if "{python}" in wanted else ref
        if fallback == ref:
            return offline_image(client, interpreter, f"{ref} unavailable: {exc.message}")
        try:
            base = ensure_pulled(client, fallback)
        except EnvironmentProblem:
            return offline_image(client, interpreter, f"{ref} unavailable: {exc.message}")
        dset = _with_note(dset, f"{ref} unavailable ({exc.message}): using {fallback}")
    try:
        built = install.ensure_image(client, base, dset, project, user=user or _install_user(), job_id=job_id)
    except EnvironmentProblem as exc:
        reason = f"dependencies could not be installed in {base}: {exc.message}"
        return offline_image(client, interpreter, reason)
    notes = (
        f"dependencies: {deps.describe(dset)}",
        *(f"dependencies: {p}" for p in dset.problems),
        *built.notes,
    )
    return ImageChoice(
        ref=built.ref,
        mode="image",
        python=install.PYTHON,
        mounts=(),
        description=f"image {base} with the project's dependencies ({built.ref})",
        probe=built.probe,
        origins=(install.PROJECT_ALIAS,),
        notes=tuple(dict.fromkeys(notes)),
    )


def _discover(project: Path | None) -> deps.DependencySet:
    if project is None:
        return deps.DependencySet(default_python(), "the worker's default", (), (), (), (), (), (), None)
    return deps.discover(project, default_python=default_python(), supported=_supported())


def _with_note(dset: deps.DependencySet, note: str) -> deps.DependencySet:
    from dataclasses import replace

    return replace(dset, problems=(*dset.problems, note))


def _install_user() -> tuple[int, int]:
    uid = os.geteuid()
    return (65534, 65534) if uid == 0 else (uid, os.getegid())


def offline_image(client: Any, interpreter: str, reason: str) -> ImageChoice:
    if _inside_container():
        # Offline mode mounts this interpreter's host paths; from inside a container (a compose worker) the
        # engine would look for them on its own host and the runner would never start.
        raise EnvironmentProblem(
            f"no usable test image ({reason}), and offline mode cannot work from inside a container",
            hint="set REPAIRBOT_IMAGE to a Python image the Docker engine has or can pull",
        )
    ref = ensure_empty_image(client)
    mounts = host_mounts(interpreter)
    return ImageChoice(
        ref=ref,
        mode="offline",
        python=interpreter,
        mounts=mounts,
        description=f"offline image {ref}, host interpreter {interpreter} mounted read-only ({reason})",
    )


def _inside_container() -> bool:
    # Set by repairbot's own image; /.dockerenv would be wrong for an engine started inside the container.
    return os.environ.get("REPAIRBOT_IN_CONTAINER") == "1"


def _base_tarball() -> bytes:
    """A root filesystem with nothing but user names: everything else is mounted read-only."""
    files = {
        "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n",
        "etc/group": b"root:x:0:\nnogroup:x:65534:\n",
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("etc")
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def ensure_empty_image(client: Any) -> str:
    """Create the offline base image once (idempotent; concurrent creators produce the same content)."""
    import docker.errors

    try:
        client.images.get(EMPTY_IMAGE)
        return EMPTY_IMAGE
    except docker.errors.ImageNotFound:
        pass
    repo, tag = EMPTY_IMAGE.rsplit(":", 1)
    try:
        client.api.import_image_from_data(_base_tarball(), repository=repo, tag=tag)
        client.images.get(EMPTY_IMAGE)
    except docker.errors.DockerException as exc:
        raise EnvironmentProblem(
            f"cannot create the offline base image {EMPTY_IMAGE}: {exc}",
            hint="check that the Docker engine accepts `docker import`",
        ) from None
    return EMPTY_IMAGE


def interpreter_info(interpreter: str) -> dict[str, Any]:
    """Ask the test interpreter where it lives (prefix, base prefix, the executable's real path)."""
    code = (
        "import json, os, sys; print(json.dumps({'prefix': sys.prefix, 'base_prefix': sys.base_prefix, "
        "'exec_prefix': sys.exec_prefix, 'base_exec_prefix': sys.base_exec_prefix, "
        "'executable': os.path.realpath(sys.executable)}))"
    )
    try:
        proc = subprocess.run(
            [interpreter, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=_plain_env(),
        )
        info: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError, IndexError):
        raise EnvironmentProblem(
            f"the test interpreter {interpreter} cannot be run",
            hint="pass --test-cmd with an interpreter that exists on this machine",
        ) from None
    return info


def _plain_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def host_mounts(interpreter: str) -> tuple[str, ...]:
    """Host paths the offline container needs read-only: system dirs and the interpreter's installation (the
    test runner comes from the job's scratch directory, see docker.py). Nested paths are dropped (their parent
    is already mounted)."""
    info = interpreter_info(interpreter)
    candidates = [d for d in _SYSTEM_DIRS if os.path.exists(d)]
    for key in ("prefix", "base_prefix", "exec_prefix", "base_exec_prefix"):
        candidates.append(str(info[key]))
    exe_dir = Path(info["executable"]).parent
    candidates.append(str(exe_dir.parent if exe_dir.name == "bin" else exe_dir))
    interp = Path(interpreter)
    if interp.is_absolute():
        # A virtualenv's bin/python is a symlink: mount the venv by the path it is named with, too.
        candidates.append(str(interp.parent.parent if interp.parent.name == "bin" else interp.parent))
    return _outermost(candidates)


def _outermost(paths: list[str]) -> tuple[str, ...]:
    clean = sorted({os.path.normpath(p) for p in paths if p and os.path.isabs(p) and os.path.exists(p)})
    kept: list[str] = []
    for path in clean:
        if path == "/":
            continue  # never the whole host
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return tuple(kept)


def ensure_pulled(client: Any, ref: str) -> str:
    """The image `ref`, from the local cache or pulled; EnvironmentProblem when neither works."""
    import docker.errors

    try:
        client.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    except docker.errors.DockerException as exc:
        raise EnvironmentProblem(f"cannot inspect {ref}: {exc}") from None
    repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
    try:
        client.images.pull(repo, tag=tag or "latest")
    except docker.errors.DockerException as exc:
        raise EnvironmentProblem(f"pull failed ({install.short_error(exc)})") from None
    return ref
