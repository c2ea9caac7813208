"""webhooks/compose.yml as Docker Compose reads it (`docker compose config`, or docker-compose v1).

The whole stack coming up is scripts/compose_smoke.py (it builds the image; too slow for every test run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.servers import unavailable

ROOT = Path(__file__).resolve().parents[2]


def compose_command() -> list[str]:
    """The Compose CLI: the docker plugin (v2), else docker-compose (v1)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    unavailable("Docker Compose", "no `docker compose`, no docker-compose (apt-get install docker-compose)")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The compose file and Dockerfile where they sit in a checkout, with the files an operator adds."""
    (tmp_path / "webhooks").mkdir()
    for name in ("compose.yml", "Dockerfile"):
        shutil.copy(ROOT / "webhooks" / name, tmp_path / "webhooks" / name)
    env = "REPAIRBOT_WEBHOOK_SECRET=s\nREPAIRBOT_APP_ID=1\nDOCKER_GID=991\n"
    (tmp_path / "webhooks" / ".env").write_text(env)
    (tmp_path / "webhooks" / "repairbot.private-key.pem").write_text("not a key\n")
    return tmp_path


def config(checkout: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REPAIRBOT_", "DOCKER_GID"))}
    return subprocess.run(
        [*compose_command(), "-f", str(checkout / "webhooks" / "compose.yml"), "config"],
        cwd=checkout,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _volume_pairs(service: dict[str, Any]) -> set[tuple[str, str]]:
    pairs = set()
    for v in service.get("volumes", []):
        if isinstance(v, str):
            source, _, rest = v.partition(":")
            pairs.add((source, rest.split(":")[0]))
        else:
            pairs.add((str(v.get("source")), str(v.get("target"))))
    return pairs


def test_compose_file_is_valid_and_wires_the_stack(checkout: Path) -> None:
    done = config(checkout, REPAIRBOT_HOST_DIR="/srv/rb-test")
    assert done.returncode == 0, done.stderr
    stack = yaml.safe_load(done.stdout)
    server, worker, redis = (stack["services"][name] for name in ("server", "worker", "redis"))

    # One image, built from the checkout, for the server and every worker replica.
    assert server["image"] == worker["image"] == "repairbot:latest"
    for service in (server, worker):
        assert Path(service["build"]["context"]).resolve() == checkout.resolve()
        assert service["build"]["dockerfile"].endswith("Dockerfile")
        env = service["environment"]
        assert env["REPAIRBOT_QUEUE_URL"] == "redis://redis:6379/0"
        assert env["REPAIRBOT_DATA_DIR"] == "/srv/rb-test/data" and env["TMPDIR"] == "/srv/rb-test/tmp"
        # The host directory sits at its own path: the host's engine finds the scratch directories there.
        assert ("/srv/rb-test", "/srv/rb-test") in _volume_pairs(service)
        assert env["REPAIRBOT_WEBHOOK_SECRET"] == "s"  # from webhooks/.env
        assert "redis" in service["depends_on"]

    # Only workers hold the App's key and the Docker socket.
    assert worker["environment"]["REPAIRBOT_PRIVATE_KEY"] == "/run/secrets/repairbot_private_key"
    assert "REPAIRBOT_PRIVATE_KEY" not in server["environment"]
    assert not server.get("secrets") and worker["secrets"]
    assert ("/var/run/docker.sock", "/var/run/docker.sock") in _volume_pairs(worker)
    assert worker["environment"]["REPAIRBOT_SANDBOX"] == "docker"  # untrusted tests never run beside the key
    assert [str(g) for g in worker["group_add"]] == ["991"]
    assert "repairbot worker" in " ".join(worker["command"])
    assert server["command"][:2] == ["repairbot", "serve"]
    assert "redis-server" in redis["command"] and "healthcheck" in redis


def test_compose_says_what_is_missing(checkout: Path) -> None:
    (checkout / "webhooks" / ".env").write_text("REPAIRBOT_WEBHOOK_SECRET=s\n")
    done = config(checkout)
    assert done.returncode != 0
    assert "set DOCKER_GID in webhooks/.env" in done.stderr
