"""GET /runs rendered by a real headless Chromium against the real server, for a user signed in with GitHub
(who may see it is tests/security/test_dashboard.py's subject)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from repairbot.config import Settings
from repairbot.jobs.queue import build_queue
from repairbot.jobs.store import NewRun
from tests.support.browser import dump_dom, needs_chromium
from tests.support.github_server import GitHubServer, LiveServer
from webhooks.app import create_app


def _run(repo: str, trigger: str) -> NewRun:
    return NewRun(
        event="push", trigger=trigger, repo=repo, installation_id=1, lock_key=repo, payload={}, sha="f" * 40
    )


@needs_chromium
def test_runs_page_in_headless_chromium(
    make_settings: Callable[..., Settings], github: GitHubServer, tmp_path: Path
) -> None:
    settings = make_settings(oauth_client_id="Iv1.x", oauth_client_secret="s")
    github.enable_oauth("Iv1.x", "s")
    names = ("octo/widgets", "octo/<script>", "octo/q")
    for name in names:
        github.add_repo(name, tmp_path / "unused.git")
    github.sign_in_browser("octocat", set(names))
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
        dom = dump_dom(f"{live.url}/login", tmp_path / "chromium")  # signs in, lands on /runs
    assert "<h1>Recent runs</h1>" in dom
    row = dom[dom.index(f'data-run="{done.id}"') :]
    row = row[: row.index("</tr>")]
    assert "succeeded" in row and "octo/widgets" in row and "push" in row and "pr_opened" in row
    assert 'href="https://github.example/octo/widgets/pull/12"' in row and "#12" in row
    assert "+return x &lt;= hi" in row  # the patch, escaped
    assert "engine exploded" in dom
    assert "octo/&lt;script&gt;" in dom and "<script>" not in dom  # no injection from a repository name
    assert f'data-run="{waiting.id}"' in dom and "queued" in dom
