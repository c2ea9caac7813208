"""GET /runs rendered by a real headless Chromium against the real server."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from repairbot.config import Settings
from repairbot.jobs.queue import build_queue
from repairbot.jobs.store import NewRun
from tests.support.github_server import LiveServer
from webhooks.app import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _run(repo: str, trigger: str) -> NewRun:
    return NewRun(
        event="push", trigger=trigger, repo=repo, installation_id=1, lock_key=repo, payload={}, sha="f" * 40
    )


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)"
)
def test_runs_page_in_headless_chromium(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings()
    queue = build_queue(settings)
    store = queue.store
    done, failed, waiting = (
        _run("octo/widgets", "push"),
        _run("octo/<script>", "issue"),
        _run("octo/q", "push"),
    )
    for run in (done, failed, waiting):
        store.create_run(run)
    store.claim(done.id, "w", 60)
    store.finish(
        done.id,
        "succeeded",
        "pr_opened",
        pr_url="https://github.example/octo/widgets/pull/12",
        patch="--- a/lib.py\n+++ b/lib.py\n@@ -1 +1 @@\n-return x < hi\n+return x <= hi\n",
    )
    store.claim(failed.id, "w", 60)
    store.finish(failed.id, "failed", "error", error="engine exploded")

    with LiveServer(create_app(settings, queue)) as live:
        dom = subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={tmp_path / 'chromium'}",
                "--dump-dom",
                f"{live.url}/runs",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    assert "<h1>Recent runs</h1>" in dom
    row = dom[dom.index(f'data-run="{done.id}"') :]
    row = row[: row.index("</tr>")]
    assert "succeeded" in row and "octo/widgets" in row and "push" in row and "pr_opened" in row
    assert 'href="https://github.example/octo/widgets/pull/12"' in row and "#12" in row
    assert "+return x &lt;= hi" in row  # the patch, escaped
    assert "engine exploded" in dom
    assert "octo/&lt;script&gt;" in dom and "<script>" not in dom  # no injection from a repository name
    assert f'data-run="{waiting.id}"' in dom and "queued" in dom
