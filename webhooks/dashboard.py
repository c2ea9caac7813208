"""GET /runs (temporary: public, as before; the sign-in comes next)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from repairbot.config import Settings
from repairbot.jobs.store import Store
from webhooks.runs_page import render_runs


def mount_dashboard(app: FastAPI, settings: Settings, store: Store) -> None:
    @app.get("/runs", response_class=HTMLResponse)
    def runs(limit: int = 50) -> HTMLResponse:
        return HTMLResponse(render_runs(store.recent_runs(max(1, min(limit, 500)))))
