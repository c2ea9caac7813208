"""The Docker backend against the real engine: runs, parallelism, restarts, cleanup, selection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from repairbot.errors import BadInput, EnvironmentProblem
from repairbot.models import RunSpec
from repairbot.sandbox import open_sandbox
from repairbot.sandbox.docker import DockerSandbox, Limits, sweep_stale
from repairbot.sandbox.local import LocalSandbox
from repairbot.testing.runs import SERVER_PATH, parse_test_cmd
from tests.sandbox.conftest import write_tree

pytestmark = pytest.mark.docker

PROJECT = {
    "calc.py": """
        def add(a, b):
            return a - b
    """,
    "test_calc.py": """
        from calc import add

        def test_add():
            assert add(2, 3) == 5

        def test_zero():
            assert add(0, 0) == 0
    """,
}


def _job() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_runs_tests_and_reports_outcomes(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    scratch = tmp_path / "scratch"
    tree = write_tree(scratch / "w", PROJECT)
    job_labels.append(job := _job())
    with open_sandbox("docker", scratch, parse_test_cmd(None), parallel=1, image="offline", job_id=job) as sb:
        assert sb.name == "docker"
        assert "offline" in sb.description and "no network" in sb.description
        run = sb.run(RunSpec(workdir=tree))
        assert {o.nodeid: o.outcome for o in run.outcomes} == {
            "test_calc.py::test_add": "failed",
            "test_calc.py::test_zero": "passed",
        }
        assert run.killed is None
        (tree / "calc.py").write_text("def add(a, b):\n    return a + b\n")
        run = sb.run(RunSpec(workdir=tree))
        assert run.exit_code == 0 and run.failing == ()


def test_parallel_runs_share_one_container(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    scratch = tmp_path / "scratch"
    trees = [write_tree(scratch / f"w{i}", PROJECT) for i in range(4)]
    job_labels.append(job := _job())
    with DockerSandbox(scratch, parse_test_cmd(None), 2, image="offline", job_id=job) as sb:
        assert sb.max_parallel == 2
        results: list[Any] = [None] * 4

        def work(i: int) -> None:
            results[i] = sb.run(RunSpec(workdir=trees[i]))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.failing == ("test_calc.py::test_add",) for r in results)
        assert len(engine.api.containers(filters={"label": f"repairbot.job={job}"})) == 1


def test_coverage_comes_back(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    scratch = tmp_path / "scratch"
    tree = write_tree(scratch / "w", PROJECT)
    job_labels.append(job := _job())
    with DockerSandbox(scratch, parse_test_cmd(None), 1, image="offline", job_id=job) as sb:
        run = sb.run(RunSpec(workdir=tree, coverage=True))
    lines = run.coverage.get("test_calc.py::test_add", frozenset())
    assert any(path.endswith("calc.py") and line == 3 for path, line in lines), run.coverage


def test_server_that_dies_is_replaced(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    scratch = tmp_path / "scratch"
    killer = write_tree(
        scratch / "k",
        {"test_k.py": "import os, signal\n\ndef test_k():\n    os.kill(os.getppid(), signal.SIGKILL)\n"},
    )
    tree = write_tree(scratch / "w", PROJECT)
    job_labels.append(job := _job())
    with DockerSandbox(scratch, parse_test_cmd(None), 1, image="offline", job_id=job) as sb:
        dead = sb.run(RunSpec(workdir=killer, timeout_s=20))
        assert dead.failing or dead.killed
        run = sb.run(RunSpec(workdir=tree))
        assert run.failing == ("test_calc.py::test_add",)
        assert sb.restarts == 0  # the container survived; only the server was replaced


def test_container_that_dies_is_restarted(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    scratch = tmp_path / "scratch"
    tree = write_tree(scratch / "w", PROJECT)
    job_labels.append(job := _job())
    with DockerSandbox(scratch, parse_test_cmd(None), 1, image="offline", job_id=job) as sb:
        assert sb.run(RunSpec(workdir=tree)).failing == ("test_calc.py::test_add",)
        first = sb.container_id
        engine.api.kill(first)
        run = sb.run(RunSpec(workdir=tree))
        assert run.failing == ("test_calc.py::test_add",), run.output
        assert run.killed is None
        assert sb.restarts == 1 and sb.container_id != first


def test_container_removed_on_exit(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    job_labels.append(job := _job())
    with DockerSandbox(tmp_path / "s", parse_test_cmd(None), 1, image="offline", job_id=job) as sb:
        cid = sb.container_id
        assert engine.api.inspect_container(cid)["State"]["Running"]
    with pytest.raises(docker.errors.NotFound):
        engine.api.inspect_container(cid)


_OWNER = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    from repairbot.sandbox.docker import DockerSandbox
    from repairbot.testing.runs import parse_test_cmd
    # A shell starts background jobs with SIGINT ignored, and Python then installs no handler: the owner
    # stands for an interactive user's process, where Ctrl-C raises KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with DockerSandbox(Path(sys.argv[1]), parse_test_cmd(None), 1, image="offline", job_id=sys.argv[2]) as sb:
        print(sb.container_id, flush=True)
        time.sleep(600)
    """
)


def _owner(tmp_path: Path, job: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(tmp_path / "s"), job],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert proc.stdout is not None
    cid = proc.stdout.readline().strip()
    assert cid, "the owner process did not open its sandbox"
    return proc, cid


def _gone(engine: Any, cid: str, wait_s: float = 20.0) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            engine.api.inspect_container(cid)
        except docker.errors.NotFound:
            return True
        time.sleep(0.2)
    return False


def test_sigterm_removes_the_container(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    job_labels.append(job := _job())
    proc, cid = _owner(tmp_path, job)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert _gone(engine, cid)


def test_sigint_removes_the_container(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    job_labels.append(job := _job())
    proc, cid = _owner(tmp_path, job)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    assert _gone(engine, cid)


def test_killed_owner_is_swept_at_next_start(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    job_labels.append(job := _job())
    proc, cid = _owner(tmp_path, job)
    proc.kill()
    proc.wait(timeout=30)
    assert engine.api.inspect_container(cid)["State"]["Running"]  # SIGKILL cannot clean up...
    assert cid in sweep_stale(engine)  # ...the next repairbot start does
    assert _gone(engine, cid)


_KILLED_OWNER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from repairbot.models import RunSpec
    from repairbot.sandbox.docker import DockerSandbox, Limits
    from repairbot.testing.runs import parse_test_cmd
    scratch = Path(sys.argv[1])
    (scratch / "w").mkdir(parents=True)
    (scratch / "w" / "test_x.py").write_text("def test_x():\\n    pass\\n")
    box = DockerSandbox(
        scratch, parse_test_cmd(None), 1, image="offline", job_id=sys.argv[2], limits=Limits(idle_exit_s=2)
    )
    with box as sb:
        sb.run(RunSpec(workdir=scratch / "w"))
        print(sb.container_id, flush=True)
        os.kill(os.getpid(), 9)
    """
)


def test_container_of_a_killed_owner_stops_by_itself(
    engine: Any, tmp_path: Path, job_labels: list[str]
) -> None:
    """Without any sweep: the owner's exec sockets close, the servers exit, and PID 1 ends the container."""
    job_labels.append(job := _job())
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_OWNER, str(tmp_path / "s"), job],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=120,
    )
    cid = proc.stdout.strip()
    assert proc.returncode == -signal.SIGKILL and cid, proc.stderr
    assert _gone(engine, cid, wait_s=30)


def test_runner_is_mounted_from_the_scratch_directory(
    engine: Any, tmp_path: Path, job_labels: list[str]
) -> None:
    """The engine may not see repairbot's installation (a worker in a container, on the host's engine): the
    runner is a copy in the scratch directory, mounted read-only at the package's path and over its own."""
    scratch = tmp_path / "scratch"
    places = [str(SERVER_PATH.parent), str(scratch / ".runner")]
    tree = write_tree(
        scratch / "w",
        {
            "test_r.py": f"""
                import os
                import pytest

                @pytest.mark.parametrize("where", {places!r})
                def test_runner_cannot_be_changed(where):
                    assert os.path.isfile(os.path.join(where, "_repairbot_plugin.py"))
                    for name in ("_repairbot_plugin.py", "server.py", "new.py"):
                        with pytest.raises(OSError):
                            open(os.path.join(where, name), "a").close()
                    with pytest.raises(OSError):
                        os.rename(where, where + ".moved")
            """
        },
    )
    job_labels.append(job := _job())
    with DockerSandbox(scratch, parse_test_cmd(None), 1, image="offline", job_id=job) as sb:
        mounts = {m["Destination"]: m for m in engine.api.inspect_container(sb.container_id)["Mounts"]}
        staged = scratch.resolve() / ".runner"
        for where in places:
            assert (mounts[where]["Source"], mounts[where]["RW"]) == (str(staged), False)
        for name in ("server.py", "_repairbot_plugin.py"):
            assert (staged / name).read_bytes() == SERVER_PATH.with_name(name).read_bytes()
        run = sb.run(RunSpec(workdir=tree))
        assert len(run.passing) == 2 and not run.failing, run.output


def test_workdir_outside_scratch_is_refused(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    outside = write_tree(tmp_path / "user", PROJECT)
    job_labels.append(job := _job())
    with (
        DockerSandbox(tmp_path / "s", parse_test_cmd(None), 1, image="offline", job_id=job) as sb,
        pytest.raises(BadInput, match="outside"),
    ):
        sb.run(RunSpec(workdir=outside))


def test_unreachable_engine_is_an_environment_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(EnvironmentProblem) as err:
        open_sandbox("docker", tmp_path / "s", parse_test_cmd(None))
    assert err.value.message == "the Docker engine is not reachable"
    assert "dockerd" in err.value.hint and "--sandbox local" in err.value.hint
    assert err.value.exit_code == 2


def test_selection_by_name(tmp_path: Path) -> None:
    with open_sandbox("local", tmp_path / "s", parse_test_cmd(None), parallel=1) as sb:
        assert isinstance(sb, LocalSandbox)
    with pytest.raises(BadInput, match="unknown sandbox"):
        open_sandbox("vm", tmp_path / "s", parse_test_cmd(None))


def test_limits_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPAIRBOT_SANDBOX_MEMORY_MB", "300")
    monkeypatch.setenv("REPAIRBOT_SANDBOX_PIDS", "99")
    monkeypatch.setenv("REPAIRBOT_SANDBOX_USER", "1234:5678")
    limits = Limits.from_env()
    assert (limits.memory_mb, limits.pids, limits.resolved_user()) == (300, 99, (1234, 5678))
    monkeypatch.setenv("REPAIRBOT_SANDBOX_USER", "0")
    with pytest.raises(BadInput, match="root"):
        Limits.from_env().resolved_user()
    monkeypatch.setenv("REPAIRBOT_SANDBOX_PIDS", "many")
    with pytest.raises(BadInput):
        Limits.from_env()


def test_default_user_is_not_root() -> None:
    uid, _ = Limits().resolved_user()
    assert uid != 0
    assert uid == (65534 if os.geteuid() == 0 else os.geteuid())


def test_tests_can_write_in_their_tree_even_when_recreated(
    engine: Any, tmp_path: Path, job_labels: list[str]
) -> None:
    scratch = tmp_path / "scratch"
    files = {"test_w.py": "from pathlib import Path\n\ndef test_w():\n    Path('out.txt').write_text('ok')\n"}
    job_labels.append(job := _job())
    with DockerSandbox(scratch, parse_test_cmd(None), 1, image="offline", job_id=job) as sb:
        for _ in range(2):
            tree = write_tree(scratch / "w", files)
            run = sb.run(RunSpec(workdir=tree))
            assert run.passing == ("test_w.py::test_w",), run.output
            assert (tree / "out.txt").read_text() == "ok"
            for path in sorted(tree.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            tree.rmdir()


def test_custom_test_command(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    scratch = tmp_path / "scratch"
    tree = write_tree(
        scratch / "w",
        {
            "test_u.py": """
                import unittest

                class T(unittest.TestCase):
                    def test_fails(self):
                        self.assertEqual(1, 2)

                unittest.main()
            """
        },
    )
    job_labels.append(job := _job())
    # A command that is not pytest's nor unittest's (those run through pytest): judged by its exit status.
    command = parse_test_cmd("python test_u.py")
    with DockerSandbox(scratch, command, 1, image="offline", job_id=job) as sb:
        run = sb.run(RunSpec(workdir=tree))
        assert run.exit_code != 0 and run.killed is None
        assert "AssertionError" in run.output
        (tree / "test_u.py").write_text(
            "import unittest\n\nclass T(unittest.TestCase):\n    def test_ok(self):\n        pass\n\n"
            "unittest.main()\n"
        )
        assert sb.run(RunSpec(workdir=tree)).exit_code == 0


def test_project_virtualenv_is_mounted_read_only(engine: Any, tmp_path: Path, job_labels: list[str]) -> None:
    """--test-cmd with a virtualenv's interpreter: the venv and its base installation are mounted."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True
    )
    scratch = tmp_path / "scratch"
    tree = write_tree(
        scratch / "w",
        {"test_v.py": "import sys\n\ndef test_v():\n    assert sys.prefix != sys.base_prefix\n"},
    )
    job_labels.append(job := _job())
    command = parse_test_cmd(f"{venv}/bin/python -m pytest")
    with DockerSandbox(scratch, command, 1, image="offline", job_id=job) as sb:
        binds = engine.api.inspect_container(sb.container_id)["HostConfig"]["Binds"]
        assert f"{venv}:{venv}:ro" in binds
        run = sb.run(RunSpec(workdir=tree))
        assert run.passing == ("test_v.py::test_v",), run.output
