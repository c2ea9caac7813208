"""Bring up webhooks/compose.yml for real and push a failing commit through it (a smoke run, not a test).

Builds the image (webhooks/Dockerfile), starts the server, two workers and Redis on the local Docker engine,
and points them at the local GitHub API test server (tests/support/github_server.py) on this machine, with
a bare git repository in the stack's host directory as the "GitHub" remote. A signed push webhook must end
in exactly one pull request whose branch has the fix. Then the stack is removed.

    python scripts/compose_smoke.py [--keep] [--sandbox docker|local] [--base-image IMG] [--redis-image IMG]

With `--sandbox docker` (the default, as in webhooks/compose.yml) the workers validate in job containers of
the host's engine, started through the mounted socket: the pull request must say its suite ran in the docker
sandbox, and the engine must have created a labelled job container. Their image is python:3.11-slim, or the
base image below where that cannot be pulled (pytest and coverage are pip-installed into it once, so PyPI must
be reachable from containers). `--sandbox local` runs the tests inside the workers instead.

Needs root (the host directory goes to the image's uid 10001) and Docker Compose (`docker compose` or
docker-compose). Where python:3.11-slim and redis:7-alpine cannot be pulled, scripts/local-base-image.sh
makes one stand-in for both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.github_server import (  # noqa: E402
    APP_ID,
    SECRET,
    GitHubServer,
    init_remote,
    make_app_key,
    payload,
)
from webhooks.app import signature  # noqa: E402

REPO = "octo/widgets"
BUGGY = {
    "lib.py": "def within(x, hi):\n    return x < hi\n",
    "test_lib.py": "from lib import within\n\n\ndef test_edge():\n    assert within(3, 3)\n\n\n"
    "def test_inside():\n    assert within(1, 3)\n",
}
IMAGE_UID = 10001
LOCAL_BASE = "repairbot-local/bookworm-python:3.11"


def sh(*cmd: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, **kw)


def compose_cli() -> list[str]:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    sys.exit("compose_smoke: no Docker Compose (apt-get install docker-compose)")


def have_image(ref: str) -> bool:
    if subprocess.run(["docker", "image", "inspect", ref], capture_output=True).returncode == 0:
        return True
    return subprocess.run(["docker", "pull", "-q", ref], capture_output=True).returncode == 0


def images(base: str | None, redis: str | None) -> tuple[str, str]:
    base = base or ("python:3.11-slim" if have_image("python:3.11-slim") else None)
    redis = redis or ("redis:7-alpine" if have_image("redis:7-alpine") else None)
    if base is None or redis is None:
        print("compose_smoke: no registry image; making a local stand-in", flush=True)
        sh(str(ROOT / "scripts" / "local-base-image.sh"), LOCAL_BASE)
    return base or LOCAL_BASE, redis or LOCAL_BASE


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(1)
    raise SystemExit(f"compose_smoke: timed out waiting for {what}")


def job_containers(since: str) -> list[str]:
    """Images of the sandbox containers (label repairbot.job) the engine created since `since`."""
    out = sh(
        "docker", "events", "--since", since, "--until", str(int(time.time()) + 1),
        "--filter", "type=container", "--filter", "event=create", "--filter", "label=repairbot.job",
        "--format", "{{.Actor.Attributes.image}}",
        capture_output=True,
    ).stdout  # fmt: skip
    return out.split()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the stack and its directory")
    parser.add_argument("--base-image", help="BASE_IMAGE for webhooks/Dockerfile")
    parser.add_argument("--redis-image")
    parser.add_argument("--sandbox", choices=("docker", "local"), default="docker", help="REPAIRBOT_SANDBOX")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("compose_smoke: run as root (the host directory is given to the image's uid 10001)")
    base, redis = images(args.base_image, args.redis_image)
    compose = compose_cli()

    # The host directory, mounted at its own path in the containers: run records, scratch, the git remote.
    host = Path(tempfile.mkdtemp(prefix="repairbot-compose-"))
    host.chmod(0o755)
    src = host / "src"  # what the image is built from: a copy, so the checkout's webhooks/.env is untouched
    src.mkdir()
    for name in ("pyproject.toml", "README.md", ".dockerignore"):
        shutil.copy(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", ".env", "*.pem")
    for name in ("repairbot", "webhooks", "rules"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    # The host side reads the remote the workers (uid 10001) own.
    gitconfig = host / "gitconfig"
    gitconfig.write_text("[safe]\n\tdirectory = *\n")
    os.environ["GIT_CONFIG_GLOBAL"] = str(gitconfig)
    bare, _clone, sha = init_remote(host / "git", BUGGY)
    sh("chown", "-R", f"{IMAGE_UID}:{IMAGE_UID}", str(host / "git"))
    for sub in ("data", "tmp"):
        (host / sub).mkdir()
        os.chown(host / sub, IMAGE_UID, IMAGE_UID)

    private, public = make_app_key()
    port = free_port()
    project = f"rbsmoke{uuid.uuid4().hex[:6]}"
    with GitHubServer(APP_ID, public, bind="0.0.0.0", public_host="host.docker.internal") as github:
        github.add_repo(REPO, bare)
        api_port = github.url.rsplit(":", 1)[1]
        (src / "webhooks" / "repairbot.private-key.pem").write_text(private)
        os.chmod(src / "webhooks" / "repairbot.private-key.pem", 0o644)  # the file is the container's secret
        env_lines = {
            "REPAIRBOT_WEBHOOK_SECRET": SECRET,
            "REPAIRBOT_APP_ID": APP_ID,
            "REPAIRBOT_GITHUB_API_URL": f"http://host.docker.internal:{api_port}",
            "REPAIRBOT_SANDBOX": args.sandbox,
            "REPAIRBOT_GITHUB_WRITE_INTERVAL": "0",
            "REPAIRBOT_RETRY_BASE_S": "2",
            "DOCKER_GID": str(os.stat("/var/run/docker.sock").st_gid),
            "REPAIRBOT_HOST_DIR": str(host),
            "REPAIRBOT_PORT": str(port),
            "REPAIRBOT_BASE_IMAGE": base,
            "REPAIRBOT_REDIS_IMAGE": redis,
            "REPAIRBOT_APP_IMAGE": "repairbot-smoke:latest",
        }
        if args.sandbox == "docker" and base != "python:3.11-slim":
            env_lines["REPAIRBOT_IMAGE"] = base  # the job containers' image (the default cannot be pulled)
        (src / "webhooks" / ".env").write_text("".join(f"{k}={v}\n" for k, v in env_lines.items()))
        gateway = {"extra_hosts": ["host.docker.internal:host-gateway"]}
        override = src / "webhooks" / "compose.smoke.yml"
        override.write_text(json.dumps({"services": {"server": gateway, "worker": gateway}}))
        files = ["-f", str(src / "webhooks" / "compose.yml"), "-f", str(override)]
        cli = [*compose, "-p", project, *files]
        env = {**os.environ, **env_lines}
        t0 = time.monotonic()
        since = str(int(time.time()))  # the engine's events from here on: which job containers it created
        try:
            print(f"compose_smoke: building the image from {base}", flush=True)
            sh(*cli, "build", cwd=src / "webhooks", env=env)
            built = time.monotonic()
            sh(*cli, "up", "-d", "--scale", "worker=2", cwd=src / "webhooks", env=env)
            url = f"http://127.0.0.1:{port}"
            wait_for("the server", lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200, 120)
            up = time.monotonic()
            body = payload(
                "push/payload.json",
                REPO,
                bare,
                ref="refs/heads/main",
                after=sha,
                deleted=False,
                commits=[{"added": [], "modified": ["lib.py"], "removed": []}],
            )
            raw = json.dumps(body).encode()
            headers = {
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": "smoke-1",
                "X-Hub-Signature-256": signature(SECRET, raw),
                "Content-Type": "application/json",
            }
            answer = httpx.post(f"{url}/webhook", content=raw, headers=headers, timeout=10)
            print(f"compose_smoke: webhook answered {answer.status_code} {answer.text}", flush=True)
            assert answer.status_code == 202, answer.text
            wait_for("the pull request", lambda: len(github.pulls(REPO)) == 1, args.timeout)
            (pr,) = github.pulls(REPO)
            show = ["git", "--git-dir", str(bare), "show", f"refs/heads/{pr['head']['ref']}:lib.py"]
            fixed = sh(*show, capture_output=True).stdout  # with GIT_CONFIG_GLOBAL: the workers own it
            assert "x <= hi" in fixed, fixed
            assert len(github.calls("POST", rf"^/repos/{REPO}/pulls$")) == 1
            done = time.monotonic()
            where = f"sandbox {args.sandbox}"
            if args.sandbox == "docker":
                assert "(sandbox `docker," in pr["body"], pr["body"]
                jobs = job_containers(since)
                assert jobs, "the host's engine created no job container"
                detail = pr["body"].split("(sandbox `", 1)[1].split("`", 1)[0]
                where = f"{len(jobs)} job container(s) of the host's engine: {detail}"
            print(
                f"compose_smoke: OK: {pr['html_url']} from {pr['head']['ref']} (build {built - t0:.0f}s, "
                f"up {up - built:.0f}s, push to PR {done - up:.0f}s); {where}",
                flush=True,
            )
            return 0
        except BaseException:
            subprocess.run([*cli, "logs", "--tail", "40"], cwd=src / "webhooks", env=env)
            raise
        finally:
            if not args.keep:
                subprocess.run([*cli, "down", "-v", "--remove-orphans"], cwd=src / "webhooks", env=env)
                shutil.rmtree(host, ignore_errors=True)
            else:
                print(f"compose_smoke: kept project {project}, directory {host}")


if __name__ == "__main__":
    sys.exit(main())
