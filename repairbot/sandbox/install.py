"""Dependency images, built as hardened as test runs (DESIGN §7).

A project's dependencies are installed into a virtualenv at /opt/repairbot/venv of the configured Python
image, in steps that never combine network and project code:

1. download (network, no project code): `pip download --only-binary=:all:` of the requirements repairbot
   read statically (repairbot/sandbox/deps.py), written by repairbot into a fresh requirements file; only the
   download folder is mounted. A requirement without a wheel has its sdist fetched from the configured index
   by repairbot itself (a file, never run), its build requirements downloaded as wheels the same way;
2. build (project code, no network): sdists are built into wheels with `pip wheel --no-index`, and the
   next download round resolves their dependencies (`--find-links` the built wheels), until the set is
   complete;
3. install (no network): the downloaded wheels, pinned with their hashes (the lock), into the virtualenv
   (no code of any package runs: wheels are unpacked); then, in a second layer, the wheels built from
   source and the project itself (`pip install --no-deps -e`, its build backend from the downloaded build
   requirements), from a copy without `.git` or credential files mounted at /repairbot/project.

Every step runs in a container as an unprivileged user, all capabilities dropped, no-new-privileges,
memory/pids/CPU limits, a read-only root with a tmpfs /tmp and only its own output folder writable; the
steps that run project code have no network. The image is assembled from those outputs without starting a
container (the folder is copied onto a created container, then committed).

Images are cached by tag (`repairbot/deps:…`):
- `w-<hash>`: the base image and the lock of downloaded wheels. No project code ran: it is shared by every
  repository whose resolved set is identical;
- `r-<hash>`: that plus wheels built from source and the project, private to one repository (the `origin`
  remote of its checkout, else its path) and keyed by its build files too;
- `i-<hash>`: an alias of the image a given input (base, requirements as read, repository when project code
  runs) led to, so a job with the same input skips the download; it expires after
  REPAIRBOT_DEPS_MAX_AGE_S (7 days), after which the set is resolved again.
"""

from __future__ import annotations

import contextlib
import hashlib
import html.parser
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidSdistFilename, canonicalize_name, parse_sdist_filename
from packaging.version import Version

from repairbot.errors import EnvironmentProblem
from repairbot.sandbox.deps import DependencySet, Indexes, repository_scope
from repairbot.testing.instruments import PROBE_SCRIPT
from repairbot.workspace import copy_project

DEPS_REPO = "repairbot/deps"
TARGET = "/opt/repairbot"
VENV = f"{TARGET}/venv"
PYTHON = f"{VENV}/bin/python"
PROJECT_ALIAS = "/repairbot/project"  # where the image saw the project (the tests import their own copy)
RUNNER_REQUIREMENTS = ("pytest", "coverage")  # what the fork server itself imports
JOB_LABEL = "repairbot.job"  # as the sandbox's containers: swept by their deadline if the owner dies
_RECIPE = "2"  # bump when the way images are built changes: old cache entries are then not reused
_IN, _WHEELS, _BUILD, _SDISTS, _BUILT = "/rb/in", "/rb/wheels", "/rb/build", "/rb/sdists", "/rb/built"
_MAX_ROUNDS = 4
_MAX_SDIST_BYTES = 100_000_000
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
# Build requirements a backend asks for at build time (get_requires_for_build_*), by backend package.
_DYNAMIC_BUILD = {"setuptools": ("wheel",), "hatchling": ("editables",), "pdm-backend": ("editables",)}


@dataclass(frozen=True, slots=True)
class StepLimits:
    """Limits of each install step's container. Environment: REPAIRBOT_INSTALL_MEMORY_MB, _CPUS, _PIDS,
    _TMPFS_MB, _TIMEOUT_S."""

    memory_mb: int = 4096
    cpus: float = 2.0
    pids: int = 1024
    tmpfs_mb: int = 4096
    timeout_s: float = 900.0

    @classmethod
    def from_env(cls) -> StepLimits:
        env, base = os.environ, cls()
        try:
            return cls(
                memory_mb=int(env.get("REPAIRBOT_INSTALL_MEMORY_MB", base.memory_mb)),
                cpus=float(env.get("REPAIRBOT_INSTALL_CPUS", base.cpus)),
                pids=int(env.get("REPAIRBOT_INSTALL_PIDS", base.pids)),
                tmpfs_mb=int(env.get("REPAIRBOT_INSTALL_TMPFS_MB", base.tmpfs_mb)),
                timeout_s=float(env.get("REPAIRBOT_INSTALL_TIMEOUT_S", base.timeout_s)),
            )
        except ValueError as exc:
            raise EnvironmentProblem(f"a REPAIRBOT_INSTALL_* setting is not a number: {exc}") from None


@dataclass(frozen=True, slots=True)
class LockEntry:
    name: str
    version: str
    sha256: str
    path: Path  # the downloaded (or built) wheel
    built: bool  # built from an sdist here (project code ran)

    @property
    def filename(self) -> str:
        return self.path.name


def lock_text(entries: Iterable[LockEntry]) -> str:
    """The lock as pip reads it: exact versions and hashes."""
    return "".join(f"{e.name}=={e.version} --hash=sha256:{e.sha256}\n" for e in entries)


@dataclass(frozen=True, slots=True)
class DepsImage:
    """A dependency image: its tag, what its interpreter sees, and what the report says about it."""

    ref: str
    probe: str | None  # the probe script's output inside the image (instruments.read_probe)
    shared: bool  # no project code ran: shared by every repository with the same lock
    notes: tuple[str, ...]


@dataclass
class _Context:
    client: Any
    base: str
    user: tuple[int, int]
    job_id: str
    limits: StepLimits
    indexes: Indexes
    work: Path
    python: str  # "3.X" of the image, for sdists' requires-python
    notes: list[str] = field(default_factory=list)

    def dir(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        _give(path, self.user)
        return path


def _key(*parts: object) -> str:
    h = hashlib.sha256(_RECIPE.encode())
    for part in parts:
        h.update(b"\0" + str(part).encode())
    return h.hexdigest()[:24]


def ensure_image(
    client: Any,
    base: str,
    dset: DependencySet,
    project: Path | None,
    *,
    user: tuple[int, int],
    job_id: str = "local",
    indexes: Indexes | None = None,
    limits: StepLimits | None = None,
) -> DepsImage:
    """The dependency image of `project` on `base` (cached, see the module docstring)."""
    import docker.errors

    indexes = indexes or Indexes.from_env()
    try:
        base_id = client.images.get(base).id
    except docker.errors.DockerException as exc:
        raise EnvironmentProblem(f"cannot inspect {base}: {short_error(exc)}") from None
    scope = repository_scope(project) if project is not None else "none"
    alias = input_alias(base_id, dset, indexes, scope)
    cached = _cached(client, alias)
    if cached is not None:
        return cached
    work = Path(tempfile.mkdtemp(prefix="repairbot-deps-"))
    os.chmod(work, 0o755)
    ctx = _Context(client, base, user, job_id, limits or StepLimits.from_env(), indexes, work, dset.python)
    try:
        image = _build(ctx, base_id, dset, project, scope)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with contextlib.suppress(docker.errors.DockerException):
        client.images.get(image.ref).tag(*alias.split(":", 1))
    return image


def input_alias(base_id: str, dset: DependencySet, indexes: Indexes, scope: str) -> str:
    """The cache tag of what a job asks for: the base image, every input of the install (requirements as
    read, constraints, indexes, the project's build files) and, when project code runs in the build, the
    repository: an image another repository's code was built into is never found under this tag."""
    private = dset.project is not None
    return f"{DEPS_REPO}:i-{_key('input', base_id, dset.digest(), indexes.urls, scope if private else '')}"


def _cached(client: Any, alias: str) -> DepsImage | None:
    import docker.errors

    try:
        image = client.images.get(alias)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.DockerException:
        return None
    labels = image.labels or {}
    max_age = float(os.environ.get("REPAIRBOT_DEPS_MAX_AGE_S", 7 * 86400))
    try:
        if time.time() - float(labels.get("repairbot.created", "0")) > max_age:
            return None
    except ValueError:
        return None
    ref = labels.get("repairbot.ref") or alias
    notes = json.loads(labels.get("repairbot.notes", "[]"))
    return DepsImage(
        ref,
        labels.get("repairbot.probe"),
        labels.get("repairbot.shared") == "1",
        tuple(str(n) for n in notes),
    )


def _build(ctx: _Context, base_id: str, dset: DependencySet, project: Path | None, scope: str) -> DepsImage:
    runner = list(RUNNER_REQUIREMENTS)
    build_reqs = _build_requirements(dset.project.build_requires if dset.project else ())
    lock = _resolve(ctx, sorted({*runner, *dset.requirements, *dset.dev}), dset, build_reqs)
    if lock is None and dset.dev:
        ctx.notes.append(
            f"dependencies: the dev requirements ({len(dset.dev)}) left out: the whole set "
            "could not be resolved"
        )
        lock = _resolve(ctx, sorted({*runner, *dset.requirements}), dset, build_reqs)
    if lock is None:
        raise EnvironmentProblem(
            f"the dependencies could not be resolved: {ctx.notes[-1] if ctx.notes else ''}"
        )
    wheels = [e for e in lock if not e.built]
    built = [e for e in lock if e.built]
    ctx.notes.append(
        f"dependencies: {len(wheels)} wheels downloaded (no code run)"
        + (f", {len(built)} built from source offline ({', '.join(e.name for e in built)})" if built else "")
    )
    layer1 = _wheels_layer(ctx, base_id, wheels)
    if not built and dset.project is None:
        return layer1
    return _project_layer(ctx, layer1, built, dset, project, scope)


def _build_requirements(declared: Iterable[str]) -> list[str]:
    reqs = list(declared)
    for text in list(reqs):
        with contextlib.suppress(InvalidRequirement):
            reqs += _DYNAMIC_BUILD.get(canonicalize_name(Requirement(text).name), ())
    return sorted(set(reqs))


# -- containers -----------------------------------------------------------------------------------------


def _give(path: Path, user: tuple[int, int]) -> None:
    """Hand a folder (and what is in it) to the step user, when that is another user (repairbot as root)."""
    if user[0] == os.geteuid():
        return
    with contextlib.suppress(PermissionError):
        os.chown(path, *user)
        for root, dirs, files in os.walk(path):
            for name in (*dirs, *files):
                with contextlib.suppress(FileNotFoundError):
                    os.chown(os.path.join(root, name), *user, follow_symlinks=False)


def _step(
    ctx: _Context,
    image: str,
    argv: Sequence[str],
    *,
    network: bool,
    binds: dict[Path, tuple[str, str]],
    role: str,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    """Run one install step (see the module docstring for its hardening); (exit status, output)."""
    import docker.errors

    limits = ctx.limits
    environment = {
        "HOME": "/tmp",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if network:  # the proxy a download needs (never given to a step that runs project code)
        environment.update({k: v for k, v in os.environ.items() if k in _PROXY_VARS})
    environment.update(env or {})
    volumes = [f"{host}:{target}:{mode}" for host, (target, mode) in binds.items()]
    container = None
    try:
        container = ctx.client.containers.create(
            image,
            list(argv),
            user=f"{ctx.user[0]}:{ctx.user[1]}",
            network_mode="bridge" if network else "none",
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777"},
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            nano_cpus=int(limits.cpus * 1e9),
            pids_limit=limits.pids,
            ipc_mode="private",
            environment=environment,
            working_dir="/tmp",
            volumes=volumes,
            labels={
                JOB_LABEL: ctx.job_id,
                "repairbot.role": role,
                "repairbot.deadline": f"{time.time() + limits.timeout_s + 60:.0f}",
            },
        )
        container.start()
        try:
            status = int(container.wait(timeout=limits.timeout_s).get("StatusCode", 1))
        except Exception:  # requests' read timeout: the step overran its limit
            with contextlib.suppress(docker.errors.DockerException):
                container.kill()
            status = 124
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        return status, output
    except docker.errors.DockerException as exc:
        raise EnvironmentProblem(f"an install step ({role}) could not run: {short_error(exc)}") from None
    finally:
        if container is not None:
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)


def short_error(exc: BaseException) -> str:
    # Engine errors nest the cause in quotes/parentheses at the end: that is the readable part.
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    inner = text.rsplit('("', 1)[-1].rstrip('")') if '("' in text else text
    return inner[:160]


def _last_error(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR:") or "Error" in ln]
    return (errors or lines or ["no output"])[-1][:200]


# -- 1. download, 2. build sdists -----------------------------------------------------------------------


def _download(
    ctx: _Context,
    reqs: Sequence[str],
    dest: Path,
    *,
    constraints: Sequence[str] = (),
    find_links: Path | None = None,
    extra_indexes: Sequence[str] = (),
) -> tuple[int, str]:
    """`pip download --only-binary=:all:` of `reqs` into `dest`, with network, nothing else mounted."""
    inputs = ctx.work / f"in-{hashlib.sha256(repr((reqs, constraints)).encode()).hexdigest()[:8]}"
    inputs.mkdir(exist_ok=True)
    (inputs / "requirements.txt").write_text("".join(f"{r}\n" for r in reqs), encoding="utf-8")
    (inputs / "constraints.txt").write_text("".join(f"{r}\n" for r in constraints), encoding="utf-8")
    os.chmod(inputs, 0o755)
    argv = [
        "python",
        "-m",
        "pip",
        "download",
        "--no-cache-dir",
        "--only-binary=:all:",
        "--dest",
        _WHEELS,
        "--index-url",
        ctx.indexes.main,
        "-r",
        f"{_IN}/requirements.txt",
        "-c",
        f"{_IN}/constraints.txt",
    ]
    for url in extra_indexes:
        argv += ["--extra-index-url", url]
    binds = {inputs: (_IN, "ro"), dest: (_WHEELS, "rw")}
    if find_links is not None:
        argv += ["--find-links", _BUILT]
        binds[find_links] = (_BUILT, "ro")
    return _step(ctx, ctx.base, argv, network=True, binds=binds, role="deps-download")


_MISSING = re.compile(r"No matching distribution found for (\S+)")


def _resolve(
    ctx: _Context, reqs: list[str], dset: DependencySet, build_reqs: list[str]
) -> list[LockEntry] | None:
    """Download rounds until every requirement has a wheel (see the module docstring); the lock, or None
    (with the reason in ctx.notes) when the set cannot be completed."""
    wheels = Path(tempfile.mkdtemp(prefix="wheels-", dir=ctx.work))
    _give(wheels, ctx.user)
    build = ctx.dir("build")
    sdists = ctx.dir("sdists")
    built = ctx.dir("built")
    tried: set[str] = set()
    pending_build = list(build_reqs)
    for _ in range(_MAX_ROUNDS + 1):
        if pending_build:
            status, output = _download(ctx, pending_build, build, extra_indexes=dset.indexes)
            if status != 0:
                ctx.notes.append(f"build requirements could not be downloaded: {_last_error(output)}")
                return None
            pending_build = []
        status, output = _download(
            ctx, reqs, wheels, constraints=dset.constraints, find_links=built, extra_indexes=dset.indexes
        )
        if status == 0:
            return _lock(output, wheels, built)
        missing = [m.rstrip(".") for m in _MISSING.findall(output)]
        fresh = [m for m in missing if canonicalize_name(_name(m)) not in tried]
        if not fresh:
            ctx.notes.append(_last_error(output))
            return None
        fetched: list[Path] = []
        for spec in fresh:
            tried.add(canonicalize_name(_name(spec)))
            path = fetch_sdist(spec, [ctx.indexes.main, *dset.indexes], sdists, ctx.python)
            if path is None:
                ctx.notes.append(f"{spec}: no wheel and no source distribution on the configured indexes")
                return None
            fetched.append(path)
            pending_build += _build_requirements(sdist_build_requires(path))
        _give(sdists, ctx.user)
        if pending_build:
            status, output = _download(ctx, sorted(set(pending_build)), build, extra_indexes=dset.indexes)
            if status != 0:
                ctx.notes.append(f"build requirements could not be downloaded: {_last_error(output)}")
                return None
            pending_build = []
        failed = _build_sdists(ctx, fetched, sdists, build, built)
        if failed:
            ctx.notes.append(f"building {', '.join(failed)} from source failed (offline, in a container)")
            return None
    ctx.notes.append("too many rounds of source builds")
    return None


def _name(spec: str) -> str:
    try:
        return Requirement(spec).name
    except InvalidRequirement:
        return re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]


_BUILD_SDISTS = r"""
import json, subprocess, sys
done = {}
for name in json.loads(sys.argv[1]):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-cache-dir", "--no-index", "--no-deps",
                           "--find-links", "/rb/build", "--wheel-dir", "/rb/built", "/rb/sdists/" + name],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sys.stdout.write(proc.stdout.decode("utf-8", "replace")[-4000:])
    done[name] = proc.returncode
print("REPAIRBOT-BUILT " + json.dumps(done))
"""


def _build_sdists(ctx: _Context, files: list[Path], sdists: Path, build: Path, built: Path) -> list[str]:
    """Build each sdist into a wheel: project code, so no network. The names that failed."""
    names = [f.name for f in files]
    status, output = _step(
        ctx,
        ctx.base,
        ["python", "-c", _BUILD_SDISTS, json.dumps(names)],
        network=False,
        binds={sdists: (_SDISTS, "ro"), build: (_BUILD, "ro"), built: (_BUILT, "rw")},
        role="deps-build",
    )
    done: dict[str, int] = {}
    for line in output.splitlines():
        if line.startswith("REPAIRBOT-BUILT "):
            done = json.loads(line.split(" ", 1)[1])
    return [n for n in names if done.get(n) != 0] if status == 0 or done else names


_SAVED = re.compile(r"(?:Saved|File was already downloaded) /rb/wheels/(\S+\.whl)")


def _lock(output: str, wheels: Path, built: Path) -> list[LockEntry]:
    """The resolved set: the wheels pip's successful round saved (or found already saved)."""
    built_names = {p.name for p in built.glob("*.whl")}
    entries = []
    for filename in sorted(set(_SAVED.findall(output))):
        path = wheels / filename
        if not path.is_file():
            continue
        name, version = filename.split("-")[:2]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        entries.append(LockEntry(canonicalize_name(name), version, digest, path, filename in built_names))
    return entries


# -- sdists: fetched by repairbot, never run here -------------------------------------------------------


class _Links(html.parser.HTMLParser):
    """Anchors of a PEP 503 simple page: (href, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            table = dict(attrs)
            if table.get("href"):
                self.links.append((str(table["href"]), table))


def _index_files(index: str, name: str) -> list[dict[str, Any]]:
    """The files of project `name` on a simple index (PEP 691 JSON, else PEP 503 HTML)."""
    url = f"{index.rstrip('/')}/{canonicalize_name(name)}/"
    request = urllib.request.Request(
        url, headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read(20_000_000)
            kind = response.headers.get("Content-Type", "")
    except (OSError, ValueError):
        return []
    if "json" in kind:
        try:
            files = json.loads(body).get("files", [])
        except (ValueError, AttributeError):
            return []
        return [
            {
                "filename": f.get("filename"),
                "url": urljoin(url, str(f.get("url"))),
                "sha256": (f.get("hashes") or {}).get("sha256"),
                "requires_python": f.get("requires-python"),
                "yanked": bool(f.get("yanked")),
            }
            for f in files
            if isinstance(f, dict) and f.get("filename") and f.get("url")
        ]
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    out = []
    for href, attrs in parser.links:
        link, _, fragment = urljoin(url, href).partition("#")
        sha = fragment.split("=", 1)[1] if fragment.startswith("sha256=") else None
        out.append(
            {
                "filename": urlsplit(link).path.rsplit("/", 1)[-1],
                "url": link,
                "sha256": sha,
                "requires_python": attrs.get("data-requires-python"),
                "yanked": "data-yanked" in attrs,
            }
        )
    return out


def fetch_sdist(spec: str, indexes: Sequence[str], dest: Path, python: str) -> Path | None:
    """The newest sdist that satisfies `spec` and `python`, downloaded into `dest` and checked against the
    index's sha256; None when there is none."""
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        return None
    best: tuple[Version, dict[str, Any]] | None = None
    for index in indexes:
        for f in _index_files(index, req.name):
            if f["yanked"] or not str(f["filename"]).endswith((".tar.gz", ".zip")):
                continue
            try:
                name, version = parse_sdist_filename(str(f["filename"]))
            except InvalidSdistFilename:
                continue
            if name != canonicalize_name(req.name) or not req.specifier.contains(version, prereleases=False):
                continue
            if f["requires_python"] and not _allows(str(f["requires_python"]), python):
                continue
            if best is None or version > best[0]:
                best = (version, f)
    if best is None:
        return None
    f = best[1]
    target = dest / os.path.basename(str(f["filename"]))
    try:
        with urllib.request.urlopen(str(f["url"]), timeout=120) as response:
            data = response.read(_MAX_SDIST_BYTES + 1)
    except (OSError, ValueError):
        return None
    if len(data) > _MAX_SDIST_BYTES:
        return None
    if f["sha256"] and hashlib.sha256(data).hexdigest() != f["sha256"]:
        return None
    target.write_bytes(data)
    target.chmod(0o644)
    return target


def _allows(requires_python: str, python: str) -> bool:
    try:
        return SpecifierSet(requires_python).contains(f"{python}.0", prereleases=True) or SpecifierSet(
            requires_python
        ).contains(f"{python}.99", prereleases=True)
    except ValueError:
        return True


def sdist_build_requires(path: Path) -> list[str]:
    """build-system.requires of an sdist's pyproject.toml, read from the archive (setuptools' legacy default
    without one)."""
    import tomllib

    default = ["setuptools>=40.8.0", "wheel"]
    text: bytes | None = None
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename.count("/") == 1 and info.filename.endswith("/pyproject.toml"):
                        if info.file_size < 1_000_000:
                            text = archive.read(info)
                        break
        else:
            with tarfile.open(path) as tar:
                for member in tar:
                    if (
                        member.isfile()
                        and member.name.count("/") == 1
                        and member.name.endswith("/pyproject.toml")
                    ):
                        if member.size < 1_000_000:
                            handle = tar.extractfile(member)
                            text = handle.read() if handle else None
                        break
    except (OSError, tarfile.TarError, zipfile.BadZipFile):
        return default
    if text is None:
        return default
    try:
        requires = tomllib.loads(text.decode("utf-8")).get("build-system", {}).get("requires")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return default
    return [str(r) for r in requires] if isinstance(requires, list) else default


# -- 3. install: the layers ------------------------------------------------------------------------------


_INSTALL = r"""
import json, os, subprocess, sys, venv
plan = json.loads(sys.argv[1])
report = {}
def pip(*args):
    argv = [sys.executable, "-m", "pip", "--python", plan["python"], "install", "--no-cache-dir",
            "--no-index", "--no-deps"]
    proc = subprocess.run(argv + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")
if plan.get("create"):
    venv.EnvBuilder(symlinks=True, with_pip=False).create(plan["venv"])
if plan.get("lock"):
    code, out = pip("--require-hashes", "--find-links", "/rb/wheels", "-r", plan["lock"])
    sys.stdout.write(out[-4000:])
    if code:
        sys.exit(code)
if plan.get("built"):
    code, out = pip(*plan["built"])
    sys.stdout.write(out[-4000:])
    if code:
        sys.exit(code)
if plan.get("project"):
    code, out = pip("--find-links", "/rb/build", "-e", plan["project"])
    report["project"] = code
    report["project_log"] = out[-3000:]
probe = subprocess.run([plan["python"], "-c", plan["probe"]], stdout=subprocess.PIPE, cwd="/")
report["probe"] = probe.stdout.decode("utf-8", "replace").strip().splitlines()[-1:]
print("REPAIRBOT-INSTALL " + json.dumps(report))
"""


def _install_step(
    ctx: _Context,
    image: str,
    target: Path,
    plan: dict[str, Any],
    binds: dict[Path, tuple[str, str]],
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    plan = {"venv": VENV, "python": PYTHON, "probe": PROBE_SCRIPT, **plan}
    binds = {target: (TARGET, "rw"), **binds}
    status, output = _step(
        ctx,
        image,
        ["python", "-c", _INSTALL, json.dumps(plan)],
        network=False,
        binds=binds,
        role="deps-install",
        env=env,
    )
    report: dict[str, Any] | None = None
    for line in output.splitlines():
        if line.startswith("REPAIRBOT-INSTALL "):
            report = json.loads(line.split(" ", 1)[1])
    if status != 0 or report is None:
        raise EnvironmentProblem(f"installing the dependencies failed: {_last_error(output)}")
    return report


def _wheels_layer(ctx: _Context, base_id: str, wheels: list[LockEntry]) -> DepsImage:
    """Base + the downloaded wheels in the virtualenv: no project code ran, shared by identical locks."""
    import docker.errors

    locked = lock_text(wheels)
    ref = f"{DEPS_REPO}:w-{_key('wheels', base_id, locked)}"
    with contextlib.suppress(docker.errors.ImageNotFound):
        image = ctx.client.images.get(ref)
        return DepsImage(ref, (image.labels or {}).get("repairbot.probe"), True, tuple(ctx.notes))
    inputs = ctx.dir("in-lock")
    (inputs / "lock.txt").write_text(locked, encoding="utf-8")
    wheel_dir = ctx.dir("lock-wheels")
    for entry in wheels:
        shutil.copyfile(entry.path, wheel_dir / entry.filename)
    _give(wheel_dir, ctx.user)
    target = ctx.dir("target")
    report = _install_step(
        ctx,
        ctx.base,
        target,
        {"create": True, "lock": f"{_IN}/lock.txt"},
        {inputs: (_IN, "ro"), wheel_dir: (_WHEELS, "ro")},
    )
    probe = _probe_line(report)
    notes = [
        *ctx.notes,
        f"dependency image {ref}: shared by repositories with the same lock (no project code ran)",
    ]
    labels = {"repairbot.kind": "wheels", "repairbot.shared": "1", "repairbot.lock": _key(locked)}
    _commit(ctx, ctx.base, target, ref, probe, notes, labels, changed=None)
    return DepsImage(ref, probe, True, tuple(notes))


def _project_layer(
    ctx: _Context,
    layer1: DepsImage,
    built: list[LockEntry],
    dset: DependencySet,
    project: Path | None,
    scope: str,
) -> DepsImage:
    """Layer 1 + wheels built from source + the project (editable): project code ran, so the image is this
    repository's alone."""
    import docker.errors

    layer1_id = ctx.client.images.get(layer1.ref).id
    built_dir = ctx.dir("built")
    build_dir = ctx.dir("build")
    built_lock = "".join(f"{e.filename} {e.sha256}\n" for e in built)
    build_lock = "".join(
        sorted(f"{p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}\n" for p in build_dir.glob("*.whl"))
    )
    digest = dset.project.digest if dset.project else ""
    ref = f"{DEPS_REPO}:r-{_key('project', layer1_id, scope, digest, built_lock, build_lock)}"
    with contextlib.suppress(docker.errors.ImageNotFound):
        image = ctx.client.images.get(ref)
        labels = image.labels or {}
        return DepsImage(
            ref, labels.get("repairbot.probe"), False, tuple(json.loads(labels.get("repairbot.notes", "[]")))
        )
    target = ctx.work / "layer2"
    _extract(ctx, layer1.ref, target)
    _give(target, ctx.user)
    before = _snapshot(target)
    binds: dict[Path, tuple[str, str]] = {built_dir: (_BUILT, "ro"), build_dir: (_BUILD, "ro")}
    plan: dict[str, Any] = {"built": [f"{_BUILT}/{e.filename}" for e in built]}
    env: dict[str, str] = {}
    notes = list(ctx.notes)
    if dset.project is not None and project is not None:
        copy = ctx.work / "project"
        copy_project(project, copy)
        _give(copy, ctx.user)
        binds[copy] = (PROJECT_ALIAS, "rw")
        plan["project"] = PROJECT_ALIAS
        env["SETUPTOOLS_SCM_PRETEND_VERSION"] = _scm_version(project)
    report = _install_step(ctx, layer1.ref, target, plan, binds, env)
    if plan.get("project"):
        if report.get("project") == 0:
            notes.append(
                "the project was installed editable in the image (its build ran offline, unprivileged; "
                "the tests import each run's own copy)"
            )
        else:
            why = _last_error(str(report.get("project_log", "")))
            notes.append(
                f"the project could not be installed in the image ({why}); "
                "its tests import it from the work copy"
            )
    notes.append(
        f"dependency image {ref}: private to this repository (its build ran project code), on the "
        f"shared {layer1.ref}"
    )
    probe = _probe_line(report)
    labels = {
        "repairbot.kind": "project",
        "repairbot.shared": "0",
        "repairbot.scope": _key(scope),
        "repairbot.lock": _key(built_lock),
    }
    _commit(ctx, layer1.ref, target, ref, probe, notes, labels, changed=_changed(target, before))
    return DepsImage(ref, probe, False, tuple(notes))


def _probe_line(report: dict[str, Any]) -> str | None:
    lines = report.get("probe") or []
    return str(lines[-1]) if lines else None


def _scm_version(project: Path) -> str:
    """The version setuptools-scm and hatch-vcs report without `.git` (which never enters a container): the
    latest tag when it is a version, else 0.0.0. Asked of git on the host, which reads no hook here."""
    try:
        proc = subprocess.run(
            ["git", "-c", "core.fsmonitor=false", "describe", "--tags", "--abbrev=0"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/"},
        )
        tag = proc.stdout.strip().lstrip("vV")
        return str(Version(tag)) if proc.returncode == 0 and tag else "0.0.0"
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return "0.0.0"


def _extract(ctx: _Context, image: str, target: Path) -> None:
    """The image's /opt/repairbot into `target` (read from a created, never started container)."""
    container = ctx.client.containers.create(image, ["true"], network_mode="none")
    try:
        stream, _ = container.get_archive(TARGET)
        with tempfile.TemporaryFile(dir=ctx.work) as fh:
            for chunk in stream:
                fh.write(chunk)
            fh.seek(0)
            holder = target.parent / f"{target.name}.x"
            holder.mkdir()
            with tarfile.open(fileobj=fh) as tar:
                # Our own image's files; "tar" keeps the venv's absolute interpreter link, drops set-id bits.
                if hasattr(tarfile, "tar_filter"):
                    tar.extractall(holder, filter="tar")
                else:  # Python < 3.11.4
                    tar.extractall(holder)
            (holder / os.path.basename(TARGET)).rename(target)
            holder.rmdir()
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            out[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return out


def _changed(root: Path, before: dict[str, tuple[int, int]]) -> set[str]:
    after = _snapshot(root)
    return {rel for rel, sig in after.items() if before.get(rel) != sig}


def _commit(
    ctx: _Context,
    image: str,
    target: Path,
    ref: str,
    probe: str | None,
    notes: list[str],
    labels: dict[str, str],
    changed: set[str] | None,
) -> None:
    """`image` + `target` at /opt/repairbot (only `changed` paths when given), as image `ref`; no container
    is started: the files are copied onto a created one, which is then committed."""
    import docker.errors

    (target / "probe.json").unlink(missing_ok=True)
    with tempfile.TemporaryFile(dir=ctx.work) as fh:
        with tarfile.open(fileobj=fh, mode="w") as tar:
            for directory in ("opt", TARGET.lstrip("/")):
                info = tarfile.TarInfo(directory)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            for dirpath, dirnames, filenames in os.walk(target):
                dirnames.sort()
                for name in (*dirnames, *sorted(filenames)):
                    path = os.path.join(dirpath, name)
                    rel = os.path.relpath(path, target)
                    if changed is not None and rel not in changed:
                        continue
                    info = tar.gettarinfo(path, arcname=f"{TARGET.lstrip('/')}/{rel}")
                    info.uid = info.gid = 0
                    info.uname = info.gname = "root"
                    info.mode &= 0o755  # the tests read it; nobody writes it
                    if info.isreg():
                        with open(path, "rb") as src:
                            tar.addfile(info, src)
                    else:
                        tar.addfile(info)
        fh.seek(0)
        container = None
        try:
            container = ctx.client.containers.create(image, ["true"], network_mode="none")
            container.put_archive("/", fh)
            repo, tag = ref.split(":", 1)
            container.commit(
                repository=repo,
                tag=tag,
                message="repairbot dependency image",
                conf={
                    "Labels": {
                        **labels,
                        "repairbot.base": ctx.base,
                        "repairbot.ref": ref,
                        "repairbot.created": f"{time.time():.0f}",
                        "repairbot.probe": probe or "",
                        "repairbot.notes": json.dumps(notes),
                    }
                },
            )
        except docker.errors.DockerException as exc:
            raise EnvironmentProblem(
                f"cannot assemble the dependency image {ref}: {short_error(exc)}"
            ) from None
        finally:
            if container is not None:
                with contextlib.suppress(docker.errors.DockerException):
                    container.remove(force=True)
