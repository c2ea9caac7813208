"""Image mode against the real engine: the project and its test dependencies installed in hardened steps.

Base images come from the `python_images` fixture (repairbot-test/python:{python}-slim: 3.11 from a local
python:3.11-slim or its Debian stand-in, 3.12 layered from this host's CPython 3.12); no registry is asked.
The download step fetches wheels from the configured index (PyPI by default) through the bridge network.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import socket
import sys
import tarfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repairbot.models import RunSpec
from repairbot.sandbox import deps, images, install
from repairbot.sandbox.docker import DockerSandbox
from repairbot.testing.runs import parse_test_cmd
from tests.sandbox.conftest import write_tree

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SRC_LAYOUT = {
    "setup.cfg": """
        [metadata]
        name = cfgpkg
        version = 0.1
        [options]
        package_dir =
            = src
        packages = find:
        install_requires =
            six>=1.16
        [options.packages.find]
        where = src
        [options.extras_require]
        testing =
            idna
    """,
    "setup.py": "from setuptools import setup\nsetup()\n",
    "src/cfgpkg/__init__.py": "import six\n\n\ndef double(x):\n    return x * 3\n",
    "tests/test_double.py": """
        import idna
        import six

        import cfgpkg


        def test_double():
            assert cfgpkg.double(2) == 4


        def test_where():
            assert "/opt/repairbot/venv/" in six.__file__ and idna.__name__ == "idna"
    """,
}

GROUPS_312 = {
    ".python-version": "3.12\n",
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "grouped"
        version = "0.1"
        requires-python = ">=3.9"
        [dependency-groups]
        base = ["six"]
        test = ["idna", {include-group = "base"}]
        [tool.setuptools]
        packages = ["grouped"]
    """,
    "grouped/__init__.py": "def tag():\n    return 'ok'\n",
    "tests/test_grouped.py": """
        import sys

        import idna
        import six

        import grouped


        def test_python():
            assert sys.version_info[:2] == (3, 12)


        def test_tag():
            assert grouped.tag() == "ok" and six.PY3 and idna
    """,
}


def _job() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def _clone(root: Path, files: dict[str, str], origin: str) -> Path:
    """A checkout as a user or the App has it: the files, a `.git` with a token in its remote, a `.netrc`."""
    tree = write_tree(root, files)
    (tree / ".git").mkdir()
    (tree / ".git" / "config").write_text(
        f'[remote "origin"]\n\turl = https://x-access-token:SECRET@{origin}\n'
    )
    (tree / ".netrc").write_text("machine example.com login x password SECRET\n")
    return tree


def _read_from_image(engine: Any, ref: str, path: str) -> bytes | None:
    """A file of an image, read from a created (never started) container."""
    import docker.errors

    container = engine.containers.create(ref, ["true"], network_mode="none")
    try:
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.getmembers()[0]
            handle = tar.extractfile(member)
            return handle.read() if handle else None
    except docker.errors.NotFound:
        return None
    finally:
        container.remove(force=True)


def test_src_layout_project_with_setup_cfg_runs_in_its_image(
    engine: Any, python_images: str, tmp_path: Path, job_labels: list[str]
) -> None:
    """setup.cfg's install_requires and its `testing` extra are installed, the project editable (src/), and
    the tests import the run's copy (fixed there, buggy in the user's tree), not the image's."""
    project = _clone(tmp_path / "user", SRC_LAYOUT, "example.com/o/cfgpkg.git")
    scratch = tmp_path / "scratch"
    tree = write_tree(scratch / "w", SRC_LAYOUT)
    (tree / "src/cfgpkg/__init__.py").write_text("import six\n\n\ndef double(x):\n    return x * 2\n")
    job_labels.append(job := _job())
    with DockerSandbox(
        scratch, parse_test_cmd(None), 1, image=python_images, job_id=job, project=project
    ) as sb:
        assert f"{install.DEPS_REPO}:r-" in sb.description
        notes = "\n".join(sb.notes)
        assert "the project was installed editable in the image" in notes, notes
        assert "Python 3.11" in notes
        run = sb.run(RunSpec(workdir=tree))
        assert set(run.passing) == {
            "tests/test_double.py::test_double",
            "tests/test_double.py::test_where",
        }, run.output
        (tree / "src/cfgpkg/__init__.py").write_text("import six\n\n\ndef double(x):\n    return x * 3\n")
        assert sb.run(RunSpec(workdir=tree)).failing == ("tests/test_double.py::test_double",)
    # Cached: the same input finds its image without any install step.
    dset = deps.discover(project, default_python=images.default_python())
    again = install.ensure_image(
        engine, python_images.format(python="3.11"), dset, project, user=(65534, 65534)
    )
    assert f"{install.DEPS_REPO}:r-" in again.ref and not again.shared


def test_dependency_groups_and_the_requested_python(
    engine: Any, python_images: str, tmp_path: Path, job_labels: list[str]
) -> None:
    """PEP 735 groups (with an include) and `.python-version` 3.12: the image and the runs are 3.12."""
    project = _clone(tmp_path / "user", GROUPS_312, "example.com/o/grouped.git")
    scratch = tmp_path / "scratch"
    tree = write_tree(scratch / "w", GROUPS_312)
    job_labels.append(job := _job())
    with DockerSandbox(
        scratch, parse_test_cmd(None), 1, image=python_images, job_id=job, project=project
    ) as sb:
        assert "repairbot-test/python:3.12-slim" in sb.description
        assert "Python 3.12 (.python-version (3.12))" in "\n".join(sb.notes)
        run = sb.run(RunSpec(workdir=tree))
        assert run.exit_code == 0 and len(run.passing) == 2, run.output


# What the attacking build scripts below try: a TCP connection (to the host's listener, to PyPI).
_ATTEMPT = """
def attempt(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__
"""


def _attack(script: str, host: str, port: int) -> str:
    return (
        script.replace("__ATTEMPT__", _ATTEMPT).replace("__HOST__", repr(host)).replace("__PORT__", str(port))
    )


EVIL_SETUP = """
import json, os, pathlib, socket
from setuptools import setup

here = pathlib.Path(__file__).resolve().parent
status = pathlib.Path("/proc/self/status").read_text()
field = lambda name: next(l.split()[1] for l in status.splitlines() if l.startswith(name + ":"))

__ATTEMPT__

def write(path):
    try:
        pathlib.Path(path).write_text("x")
        return "written"
    except OSError as exc:
        return type(exc).__name__

def cgroup(*names):  # cgroup v2's file, then v1's
    for name in names:
        try:
            return pathlib.Path("/sys/fs/cgroup", name).read_text().strip()
        except OSError:
            pass
    return None

report = {
    "uid": os.getuid(),
    "cap_eff": field("CapEff"),
    "no_new_privs": field("NoNewPrivs"),
    "listener": attempt(__HOST__, __PORT__),
    "pypi": attempt("pypi.org", 443),
    "seen": sorted(p.name for p in here.iterdir()),
    "etc": write("/etc/repairbot-owned"),
    "usr": write("/usr/lib/repairbot-owned"),
    "memory_max": cgroup("memory.max", "memory/memory.limit_in_bytes"),
    "pids_max": cgroup("pids.max", "pids/pids.max"),
    "secret": any(b"SEC" b"RET" in p.read_bytes() for p in here.rglob("*") if p.is_file()),
}
pathlib.Path("/opt/repairbot/attack.json").write_text(json.dumps(report))
setup(name="evil", version="0.1", py_modules=["evil"])
"""


@pytest.fixture
def listener() -> Iterator[tuple[str, int, list[str]]]:
    """A TCP listener on every host address (the bridge gateway included): whoever connects is recorded."""
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen(8)
    server.settimeout(0.5)
    seen: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except OSError:
                continue
            seen.append(addr[0])
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield "0.0.0.0", server.getsockname()[1], seen
    stop.set()
    thread.join(5)
    server.close()


@pytest.fixture
def private_images(engine: Any) -> Iterator[list[str]]:
    """Refs of private images a test built from inputs no later run repeats (a fresh port in them): their
    tags (and the aliases on them) are removed afterwards, so that runs do not pile images up."""
    import docker.errors

    refs: list[str] = []
    yield refs
    for ref in refs:
        try:
            tags = engine.images.get(ref).tags
        except docker.errors.ImageNotFound:
            continue
        for tag in tags:
            if tag.startswith((f"{install.DEPS_REPO}:r-", f"{install.DEPS_REPO}:i-")):
                with contextlib.suppress(docker.errors.APIError):
                    engine.images.remove(tag)


def test_project_code_runs_contained_and_images_stay_per_repository(
    engine: Any,
    python_images: str,
    tmp_path: Path,
    listener: tuple[str, int, list[str]],
    private_images: list[str],
) -> None:
    """A setup.py that phones home, looks for the token and tries to write outside its target, built as
    the project is installed: no network, not root, no capabilities, limits set, no `.git` or credential
    file, root read-only. The same files in another repository get an image of their own."""
    gateway = engine.networks.get("bridge").attrs["IPAM"]["Config"][0]["Gateway"]
    _, port, seen = listener
    files = {
        "setup.py": _attack(EVIL_SETUP, gateway, port),
        "evil.py": "VALUE = 1\n",
        "test_evil.py": "import evil\n\n\ndef test_value():\n    assert evil.VALUE == 1\n",
    }
    base = python_images.format(python="3.11")
    project = _clone(tmp_path / "a", files, "example.com/a/evil.git")
    dset = deps.discover(project, default_python="3.11")
    built = install.ensure_image(engine, base, dset, project, user=(65534, 65534), job_id=_job())
    private_images.append(built.ref)
    raw = _read_from_image(engine, built.ref, "/opt/repairbot/attack.json")
    assert raw is not None, built.notes
    report = json.loads(raw)
    assert report["listener"] != "connected" and report["pypi"] != "connected", report
    assert not seen, f"the install step reached the host: {seen}"
    assert report["uid"] == 65534 and int(report["cap_eff"], 16) == 0 and report["no_new_privs"] == "1"
    assert report["etc"] != "written" and report["usr"] != "written"
    limits = install.StepLimits.from_env()
    assert report["memory_max"] == str(limits.memory_mb * 2**20) and report["pids_max"] == str(limits.pids)
    assert ".git" not in report["seen"] and ".netrc" not in report["seen"] and "setup.py" in report["seen"]
    assert report["secret"] is False
    assert not built.shared and any("private to this repository" in n for n in built.notes)

    # The same files under another remote: its own image, never the first repository's.
    other = _clone(tmp_path / "b", files, "example.com/b/evil.git")
    other_set = deps.discover(other, default_python="3.11")
    assert other_set.digest() == dset.digest()
    base_id = engine.images.get(base).id
    indexes = deps.Indexes.from_env()
    assert install.input_alias(
        base_id, other_set, indexes, deps.repository_scope(other)
    ) != install.input_alias(base_id, dset, indexes, deps.repository_scope(project))
    second = install.ensure_image(engine, base, other_set, other, user=(65534, 65534), job_id=_job())
    private_images.append(second.ref)
    assert second.ref != built.ref
    # Both stand on the same shared layer, in which no project code ran.
    shared = {n.rsplit("shared ", 1)[1] for n in (*built.notes, *second.notes) if "on the shared" in n}
    assert len(shared) == 1
    assert _read_from_image(engine, shared.pop(), "/opt/repairbot/attack.json") is None


def test_shared_layer_key_ignores_the_repository_only_without_project_code(tmp_path: Path) -> None:
    """Requirements alone (nothing of the project is built): the cache entry is shared across repositories;
    as soon as the project is installed, the repository is part of the key."""
    plain = {"requirements-test.txt": "six\n"}
    a = _clone(tmp_path / "a", plain, "example.com/a/r.git")
    b = _clone(tmp_path / "b", plain, "example.com/b/r.git")
    indexes = deps.Indexes()
    sa, sb = (deps.discover(p, default_python="3.11", indexes=indexes) for p in (a, b))
    assert sa.project is None
    key = install.input_alias
    assert key("base", sa, indexes, deps.repository_scope(a)) == key(
        "base", sb, indexes, deps.repository_scope(b)
    )
    for p in (a, b):
        (p / "setup.py").write_text("from setuptools import setup\nsetup(name='r')\n")
    sa, sb = (deps.discover(p, default_python="3.11", indexes=indexes) for p in (a, b))
    assert key("base", sa, indexes, deps.repository_scope(a)) != key(
        "base", sb, indexes, deps.repository_scope(b)
    )
    assert key("base", sa, indexes, deps.repository_scope(a)) != key(
        "other", sa, indexes, deps.repository_scope(a)
    )


def test_worker_default_python_is_used_when_the_requested_image_is_missing(
    engine: Any, python_images: str, tmp_path: Path
) -> None:
    """`.python-version` asks for a version no image exists for: the worker's own version, and the
    report says so (the choice is made before any install, so no build here when the cache has it)."""
    project = write_tree(tmp_path / "p", {".python-version": "3.9\n", "requirements-test.txt": "six\n"})
    choice = images.choose_image(engine, sys.executable, python_images, project, user=(65534, 65534))
    assert choice.mode == "image", choice.description
    notes = "\n".join(choice.notes)
    assert "repairbot-test/python:3.9-slim unavailable" in notes
    assert f"using repairbot-test/python:{images.default_python()}-slim" in notes


PHONE_HOME_SETUP = """
import pathlib, socket
from setuptools import setup

__ATTEMPT__

report = {"listener": attempt(__HOST__, __PORT__), "pypi": attempt("pypi.org", 443)}
pathlib.Path("phonehome.py").write_text("REPORT = %r\\n" % (report,))
setup(name="phonehome", version="0.1", py_modules=["phonehome"])
"""


def _sdist(where: Path, setup_py: str) -> Path:
    """phonehome-0.1.tar.gz: a source distribution whose setup.py runs when it is built."""
    path = where / "phonehome-0.1.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in {
            "setup.py": setup_py,
            "PKG-INFO": "Metadata-Version: 2.1\nName: phonehome\nVersion: 0.1\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(f"phonehome-0.1/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def index(tmp_path: Path, engine: Any) -> Iterator[tuple[str, Path]]:
    """A PEP 503 simple index over HTTP on every host address: (its URL as the bridge network sees it, the
    folder whose files it lists)."""
    import http.server

    files = tmp_path / "index"
    files.mkdir()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = [p for p in self.path.split("/") if p]
            if parts[:1] == ["simple"] and len(parts) == 2:
                links = "".join(
                    f'<a href="/files/{p.name}#sha256={_sha256(p)}">{p.name}</a>'
                    for p in files.iterdir()
                    if p.name.startswith(parts[1].replace("-", "_")) or p.name.startswith(parts[1])
                )
                body = f"<html><body>{links}</body></html>".encode() if links else b""
            elif parts[:1] == ["files"] and len(parts) == 2 and (files / parts[1]).is_file():
                body = (files / parts[1]).read_bytes()
            else:
                body = b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway = engine.networks.get("bridge").attrs["IPAM"]["Config"][0]["Gateway"]
    yield f"http://{gateway}:{server.server_address[1]}/simple", files
    server.shutdown()
    server.server_close()


def test_a_requirement_that_phones_home_is_built_offline(
    engine: Any,
    python_images: str,
    tmp_path: Path,
    index: tuple[str, Path],
    listener: tuple[str, int, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    private_images: list[str],
) -> None:
    """A requirement with no wheel, only an sdist whose setup.py phones home: repairbot fetches the sdist
    (never run), builds it without network, and the image holding it is this repository's alone."""
    url, folder = index
    gateway = url.split("//", 1)[1].split(":", 1)[0]
    _, port, seen = listener
    _sdist(folder, _attack(PHONE_HOME_SETUP, gateway, port))
    monkeypatch.setenv("REPAIRBOT_EXTRA_INDEX_URLS", url)
    project = _clone(
        tmp_path / "p",
        {"requirements-test.txt": f"--extra-index-url {url}\nphonehome\n"},
        "example.com/o/p.git",
    )
    dset = deps.discover(project, default_python="3.11")
    assert "phonehome" in dset.requirements and dset.indexes == (url,), dset.problems
    built = install.ensure_image(
        engine, python_images.format(python="3.11"), dset, project, user=(65534, 65534), job_id=_job()
    )
    private_images.append(built.ref)
    notes = "\n".join(built.notes)
    assert "built from source offline (phonehome)" in notes and not built.shared, notes
    module = _read_from_image(
        engine, built.ref, "/opt/repairbot/venv/lib/python3.11/site-packages/phonehome.py"
    )
    assert module is not None
    report = ast.literal_eval(module.decode().split("=", 1)[1].strip())
    assert report["listener"] != "connected" and report["pypi"] != "connected", report
    assert not seen, f"the build reached the host: {seen}"
