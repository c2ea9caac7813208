"""Security tests against the real engine: a hostile candidate is contained, reported, host unchanged.

Each hostile test file is written so that it PASSES if the attack worked; the sandbox must make it fail (or
kill it) and the host-side checks must find no trace.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repairbot.models import RunSpec
from repairbot.sandbox.docker import DockerSandbox, Limits
from repairbot.testing.runs import parse_test_cmd
from tests.sandbox.conftest import write_tree

pytestmark = pytest.mark.docker

SECRET = f"s3cr3t-{uuid.uuid4().hex}"
LIMITS = Limits(memory_mb=256, pids=64, cpus=1.0, tmpfs_mb=32)


@pytest.fixture(scope="module")
def box(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerSandbox]:
    """One hardened job container for all attacks: each attack must leave it usable for the next."""
    scratch = tmp_path_factory.mktemp("scratch")
    job = f"sec-{uuid.uuid4().hex[:8]}"
    # Secrets in the host environment must never reach the container.
    os.environ["REPAIRBOT_FAKE_SECRET"] = SECRET
    os.environ["GITHUB_TOKEN"] = SECRET
    try:
        with DockerSandbox(
            scratch, parse_test_cmd(None), 2, image="offline", job_id=job, limits=LIMITS
        ) as sb:
            yield sb
    finally:
        os.environ.pop("REPAIRBOT_FAKE_SECRET", None)
        os.environ.pop("GITHUB_TOKEN", None)
    assert not engine.api.containers(all=True, filters={"label": f"repairbot.job={job}"})


def _candidate(box: DockerSandbox, test_source: str) -> Path:
    scratch = box._scratch
    return write_tree(scratch / f"c-{uuid.uuid4().hex[:8]}", {"test_attack.py": test_source})


def _still_works(box: DockerSandbox) -> None:
    tree = _candidate(box, "def test_fine():\n    assert sum([1, 2]) == 3\n")
    run = box.run(RunSpec(workdir=tree, timeout_s=60))
    assert run.exit_code == 0 and run.passing == ("test_attack.py::test_fine",), run.output


def _host_addresses() -> list[str]:
    addrs = {"127.0.0.1"}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing interface
            addrs.add(s.getsockname()[0])
        except OSError:
            pass
    return sorted(addrs)


def test_hardening_of_the_container(box: DockerSandbox, engine: Any) -> None:
    info = engine.api.inspect_container(box.container_id)
    host = info["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["Memory"] == 256 * 1024 * 1024 and host["MemorySwap"] == host["Memory"]
    assert host["PidsLimit"] == 64 and host["NanoCpus"] == 10**9
    assert "/tmp" in host["Tmpfs"]
    assert all(
        mode.endswith(":ro") for b in host["Binds"] for mode in [b] if not b.startswith(str(box._scratch))
    )
    assert not info["Config"]["User"].startswith("0")
    env_names = {e.split("=", 1)[0] for e in info["Config"]["Env"]}
    assert env_names <= {"PATH", "HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}


def test_network_to_the_host_is_cut(box: DockerSandbox) -> None:
    servers, seen = [], []
    for addr in _host_addresses():
        srv = socket.create_server((addr, 0))
        srv.settimeout(0.2)
        servers.append((addr, srv.getsockname()[1], srv))

    def accept(srv: socket.socket) -> None:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                conn, peer = srv.accept()
            except (TimeoutError, OSError):
                continue
            seen.append(peer)
            conn.close()

    threads = [threading.Thread(target=accept, args=(s,), daemon=True) for _, _, s in servers]
    for t in threads:
        t.start()
    targets = [(a, p) for a, p, _ in servers] + [("172.17.0.1", servers[0][1]), ("pypi.org", 443)]
    test = (
        "import socket\n\n"
        f"TARGETS = {targets!r}\n\n"
        "def test_connect():\n"
        "    reached = []\n"
        "    for host, port in TARGETS:\n"
        "        try:\n"
        "            socket.create_connection((host, port), timeout=2).close()\n"
        "            reached.append(host)\n"
        "        except OSError as exc:\n"
        "            print(host, exc)\n"
        "    assert reached\n"
    )
    run = box.run(RunSpec(workdir=_candidate(box, test), timeout_s=60))
    for _, _, srv in servers:
        srv.close()
    assert run.failing == ("test_attack.py::test_connect",), run.output
    assert not seen, f"the container reached the host: {seen}"
    _still_works(box)


def test_writes_outside_the_workspace_leave_the_host_unchanged(box: DockerSandbox, tmp_path: Path) -> None:
    user_tree = write_tree(tmp_path / "user-project", {"mod.py": "X = 1\n"})
    before = (user_tree / "mod.py").read_text()
    host_tmp = Path("/tmp") / f"repairbot-escape-{uuid.uuid4().hex}"
    interpreter_dir = Path(os.__file__).parent
    targets = [
        user_tree / "mod.py",
        user_tree / "new.py",
        host_tmp,
        interpreter_dir / "evil.py",
        Path("/evil"),
    ]
    test = (
        "from pathlib import Path\n\n"
        f"TARGETS = {[str(t) for t in targets]!r}\n\n"
        "def test_write():\n"
        "    written = []\n"
        "    for t in TARGETS:\n"
        "        try:\n"
        "            Path(t).parent.mkdir(parents=True, exist_ok=True)\n"
        "            Path(t).write_text('pwned')\n"
        "            written.append(t)\n"
        "        except OSError as exc:\n"
        "            print(t, exc)\n"
        "    assert written == TARGETS\n"
    )
    run = box.run(RunSpec(workdir=_candidate(box, test), timeout_s=60))
    assert run.failing == ("test_attack.py::test_write",), run.output
    assert (user_tree / "mod.py").read_text() == before
    assert not (user_tree / "new.py").exists()
    assert not host_tmp.exists()
    assert not (interpreter_dir / "evil.py").exists()
    assert not Path("/evil").exists()
    _still_works(box)


def test_host_environment_and_token_files_are_unreadable(box: DockerSandbox, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(SECRET)
    test = (
        "import os\n\n"
        "def test_steal():\n"
        "    found = [k for k, v in os.environ.items() if 'SECRET' in k or 'TOKEN' in k]\n"
        "    for path in ['/proc/1/environ', '/proc/self/environ']:\n"
        "        try:\n"
        "            found += [open(path, 'rb').read().decode(errors='replace')]\n"
        "        except OSError:\n"
        "            pass\n"
        f"    for path in [{str(token)!r}, '/root/.docker/config.json', '/etc/shadow']:\n"
        "        try:\n"
        "            found.append(open(path).read())\n"
        "        except OSError as exc:\n"
        "            print(path, exc)\n"
        "    print('FOUND', found)\n"
        # The secret is written reversed, so that pytest's report of this source never contains it.
        f"    assert any({SECRET[::-1]!r}[::-1] in x for x in found)\n"
    )
    run = box.run(RunSpec(workdir=_candidate(box, test), timeout_s=60))
    assert run.failing == ("test_attack.py::test_steal",), run.output
    assert "FOUND" in run.output  # the probe ran...
    assert SECRET not in run.output  # ...and saw nothing


def test_fork_bomb_is_contained_and_reported(box: DockerSandbox) -> None:
    test = (
        "import os\n\n"
        "def test_bomb():\n"
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "        except OSError:\n"
        "            pass\n"
    )
    start = time.monotonic()
    run = box.run(RunSpec(workdir=_candidate(box, test), timeout_s=10, per_test_timeout_s=10))
    assert run.killed == "pids", (run.killed, run.output[-500:])
    assert not run.passing
    assert time.monotonic() - start < 60
    _still_works(box)


def test_memory_hog_is_contained_and_reported(box: DockerSandbox) -> None:
    test = "def test_hog():\n    blocks = []\n    while True:\n        blocks.append(b'x' * (64 << 20))\n"
    run = box.run(RunSpec(workdir=_candidate(box, test), timeout_s=60))
    assert run.killed == "memory", (run.killed, run.output[-500:])
    assert not run.passing
    _still_works(box)


def test_sleep_forever_is_stopped_by_the_timeout(box: DockerSandbox) -> None:
    test = "import time\n\ndef test_sleep():\n    time.sleep(10**6)\n"
    start = time.monotonic()
    run = box.run(RunSpec(workdir=_candidate(box, test), timeout_s=3, per_test_timeout_s=60))
    assert run.killed == "timeout" and run.timed_out
    assert time.monotonic() - start < 30
    _still_works(box)


def test_background_process_does_not_survive_its_run(box: DockerSandbox, engine: Any) -> None:
    test = (
        "import subprocess, sys\n\n"
        "def test_daemon():\n"
        "    cmd = [sys.executable, '-c', 'import time; time.sleep(10**6)']\n"
        "    subprocess.Popen(cmd, start_new_session=True)\n"
    )
    box.run(RunSpec(workdir=_candidate(box, test), timeout_s=30))
    # Whatever a candidate leaves behind stays in the job's container, which dies with the job.
    top = engine.api.top(box.container_id)
    assert all(str(os.getpid()) != p[1] for p in top["Processes"])
    _still_works(box)


def test_a_repair_still_validates_under_the_limits(box: DockerSandbox) -> None:
    scratch = box._scratch
    buggy = {
        "shop.py": "def total(prices, discount):\n    return sum(prices) * (1 + discount)\n",
        "test_shop.py": (
            "from shop import total\n\n"
            "def test_total():\n    assert total([10, 20], 0.5) == 15\n\n"
            "def test_no_discount():\n    assert total([1, 2], 0) == 3\n"
        ),
    }
    original = write_tree(scratch / "repair-orig", buggy)
    before = box.run(RunSpec(workdir=original, timeout_s=60))
    assert before.failing == ("test_shop.py::test_total",)
    candidate = write_tree(scratch / "repair-cand", buggy)
    (candidate / "shop.py").write_text(
        "def total(prices, discount):\n    return sum(prices) * (1 - discount)\n"
    )
    after = box.run(RunSpec(workdir=candidate, timeout_s=60, tests=("test_shop.py::test_total",)))
    assert after.passing == ("test_shop.py::test_total",) and after.exit_code == 0
    full = box.run(RunSpec(workdir=candidate, timeout_s=60))
    assert full.failing == () and len(full.passing) == 2


def test_no_sandboxed_process_escapes_the_container_cgroup(box: DockerSandbox) -> None:
    """Every host process running as the sandbox user lives in a container's cgroup (after all attacks)."""
    uid = Limits(user=LIMITS.user).resolved_user()[0]
    if uid == os.geteuid():
        pytest.skip("the sandbox user is the host user here: its host processes cannot be told apart")
    escaped = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            cgroup = Path(f"/proc/{pid}/cgroup").read_text()
        except OSError:
            continue
        if "docker" not in cgroup:
            escaped.append(pid)
    assert not escaped
