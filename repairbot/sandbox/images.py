"""Which image a job's container runs, and what it needs mounted.

Two modes (DESIGN §7):
- image: a configured image (default `python:3.<minor>-slim`), pulled when missing, with the project's test
  dependencies installed once per requirements hash and cached as a committed image
  (`repairbot/deps:<hash>`). The interpreter is the image's `python`.
- offline: no registry reachable (or `offline` asked for). A tiny base image made once with `docker import`
  (only /etc/passwd and /etc/group, so the sandbox user has a name), and the host's system directories and
  the test interpreter's installation (prefix, base prefix, virtualenv) bind-mounted read-only at the same
  paths, so no path needs translating.

The choice is automatic: try the configured image; fall back to offline only when that fails, and say so.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from repairbot.errors import EnvironmentProblem

OFFLINE = "offline"
EMPTY_IMAGE = "repairbot/empty:1"
DEPS_REPO = "repairbot/deps"
IMAGE_ENV = "REPAIRBOT_IMAGE"
# System directories the host interpreter needs (loader, libc, shared libraries, /bin/sh for subprocesses).
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_REQUIREMENT_FILES = (
    "requirements.txt",
    "requirements-dev.txt",
    "requirements-test.txt",
    "requirements_dev.txt",
    "requirements_test.txt",
    "dev-requirements.txt",
    "test-requirements.txt",
    "requirements/test.txt",
    "requirements/dev.txt",
)
_TEST_EXTRAS = ("test", "tests", "testing", "dev")
_RUNNER_REQUIREMENTS = ("pytest", "coverage")  # what the fork server itself imports
_INSTALL_TIMEOUT_S = 900


@dataclass(frozen=True, slots=True)
class ImageChoice:
    """The image a job's container runs, the interpreter inside it, and the host paths mounted read-only."""

    ref: str
    mode: Literal["offline", "image"]
    python: str  # the interpreter to start inside the container
    mounts: tuple[str, ...]  # host paths bind-mounted read-only at the same path
    description: str


def default_image() -> str:
    return f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"


def configured_image(image: str | None = None) -> str:
    """`image`, else $REPAIRBOT_IMAGE, else the default slim Python image; "offline" forces mounts."""
    return (image or os.environ.get(IMAGE_ENV) or "").strip() or default_image()


def choose_image(
    client: Any, interpreter: str, image: str | None = None, project: Path | None = None
) -> ImageChoice:
    """Pick the image for a job (see the module docstring)."""
    wanted = configured_image(image)
    if wanted == OFFLINE:
        return offline_image(client, interpreter, "offline mode asked for")
    try:
        base = ensure_pulled(client, wanted)
    except EnvironmentProblem as exc:
        return offline_image(client, interpreter, f"{wanted} unavailable: {exc.message}")
    try:
        ref = ensure_deps_image(client, base, project)
    except EnvironmentProblem as exc:
        reason = f"dependencies could not be installed in {wanted}: {exc.message}"
        return offline_image(client, interpreter, reason)
    return ImageChoice(
        ref=ref,
        mode="image",
        python="python",
        mounts=(),
        description=f"image {wanted} with test dependencies ({ref})",
    )


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
        raise EnvironmentProblem(f"pull failed ({_short(exc)})") from None
    return ref


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # Engine errors nest the cause in quotes/parentheses at the end: that is the readable part.
    inner = text.rsplit('("', 1)[-1].rstrip('")') if '("' in text else text
    return inner[:160]


def test_requirements(project: Path | None) -> tuple[list[str], list[str]]:
    """(requirement files relative to `project`, requirement strings) that the tests need."""
    files: list[str] = []
    reqs: list[str] = list(_RUNNER_REQUIREMENTS)
    if project is None:
        return files, reqs
    for name in _REQUIREMENT_FILES:
        if (project / name).is_file():
            files.append(name)
    pyproject = project / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        meta = data.get("project", {}) if isinstance(data, dict) else {}
        reqs.extend(str(r) for r in meta.get("dependencies", []) or [])
        extras = meta.get("optional-dependencies", {}) or {}
        for extra in _TEST_EXTRAS:
            reqs.extend(str(r) for r in extras.get(extra, []) or [])
    # Never the project itself: an installed copy would shadow the work tree under test.
    own = _project_name(project)
    reqs = [r for r in reqs if own is None or _req_name(r) != own]
    return files, sorted(set(reqs))


def _project_name(project: Path) -> str | None:
    try:
        data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        return _norm(str(data["project"]["name"]))
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None


def _req_name(req: str) -> str:
    name = req.split(";", 1)[0]
    for sep in "[<>=!~ ":
        name = name.split(sep, 1)[0]
    return _norm(name)


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def deps_hash(base: str, project: Path | None) -> str:
    """Cache key: the base image and every requirement (file contents included)."""
    files, reqs = test_requirements(project)
    h = hashlib.sha256(base.encode())
    for r in reqs:
        h.update(b"\0req\0" + r.encode())
    for name in files:
        assert project is not None
        h.update(b"\0file\0" + name.encode() + b"\0" + (project / name).read_bytes())
    return h.hexdigest()[:16]


def ensure_deps_image(client: Any, base: str, project: Path | None) -> str:
    """`base` with the test dependencies installed, committed once per requirements hash."""
    import docker.errors

    ref = f"{DEPS_REPO}:{deps_hash(base, project)}"
    try:
        client.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    files, reqs = test_requirements(project)
    args = ["python", "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", *reqs]
    for name in files:
        args += ["-r", f"/src/{name}"]
    volumes = {}
    if project is not None and files:
        volumes[str(project.resolve())] = {"bind": "/src", "mode": "ro"}
    container = None
    try:
        # Installing needs the network; nothing of the job runs here, only pip on declared requirements.
        container = client.containers.create(
            base, args, volumes=volumes, labels={"repairbot.role": "deps-install"}
        )
        container.start()
        result = container.wait(timeout=_INSTALL_TIMEOUT_S)
        if int(result.get("StatusCode", 1)) != 0:
            tail = container.logs(tail=5).decode("utf-8", "replace").strip().splitlines()
            raise EnvironmentProblem(f"pip install failed: {tail[-1] if tail else 'no output'}")
        repo, tag = ref.split(":", 1)
        container.commit(
            repository=repo,
            tag=tag,
            message=f"repairbot test dependencies on {base}",
            conf={"Labels": {"repairbot.base": base, "repairbot.created": str(int(time.time()))}},
        )
    except docker.errors.DockerException as exc:
        raise EnvironmentProblem(f"installing dependencies failed ({_short(exc)})") from None
    except Exception as exc:  # requests' read timeout on wait()
        if isinstance(exc, EnvironmentProblem):
            raise
        raise EnvironmentProblem(f"installing dependencies failed ({_short(exc)})") from None
    finally:
        if container is not None:
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
    return ref
