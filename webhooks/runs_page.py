"""The runs page: recent runs as one self-contained HTML page (no scripts, no external assets). Who may see
which runs is `webhooks.dashboard`'s business."""

from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape

from repairbot.jobs.store import RunRecord

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2328}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:.4rem;text-align:left;
vertical-align:top}th{background:#f6f8fa}.status{font-weight:600}.succeeded{color:#1a7f37}.failed{color:#cf222e}
.running,.queued{color:#9a6700}.skipped{color:#57606a}pre{max-width:60rem;overflow:auto;background:#f6f8fa;
padding:.5rem}
"""


def _duration(run: RunRecord) -> str:
    d = run.duration
    return "—" if d is None else f"{d:.1f}s"


def _trigger(run: RunRecord) -> str:
    ref = f" #{run.number}" if run.number else (f" @{run.sha[:7]}" if run.sha else "")
    return f"{run.trigger}{ref}"


def _link(url: str | None, text: str) -> str:
    if not url or not url.startswith(("https://", "http://")):
        return "—"
    return f'<a href="{escape(url)}">{escape(text)}</a>'


def render_page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def render_runs(runs: Sequence[RunRecord], header: str = "") -> str:
    rows = []
    for run in runs:
        patch = (
            f"<details><summary>diff</summary><pre>{escape(run.patch)}</pre></details>" if run.patch else "—"
        )
        outcome = escape(run.outcome or "")
        if run.error:
            outcome += f'<br><small class="error">{escape(run.error[:300])}</small>'
        pr_text = "#" + run.pr_url.rstrip("/").rsplit("/", 1)[-1] if run.pr_url else ""
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(run.created_at))
        rows.append(
            f'<tr data-run="{escape(run.id)}">'
            f'<td class="status {escape(run.status)}">{escape(run.status)}</td>'
            f"<td>{escape(run.repo)}</td><td>{escape(_trigger(run))}</td>"
            f"<td>{when}</td><td>{_duration(run)}</td><td>{outcome}</td>"
            f'<td class="pr">{_link(run.pr_url, pr_text)}</td><td class="patch">{patch}</td></tr>'
        )
    body = "\n".join(rows) or '<tr><td colspan="8">No runs yet.</td></tr>'
    return render_page(
        "repairbot runs",
        f"<h1>Recent runs</h1>{header}"
        '<table id="runs"><thead><tr><th>status</th><th>repository</th><th>trigger</th><th>created (UTC)</th>'
        "<th>duration</th><th>outcome</th><th>pull request</th><th>patch</th></tr></thead>"
        f"<tbody>\n{body}\n</tbody></table>",
    )
