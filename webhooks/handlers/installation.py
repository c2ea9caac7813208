"""installation / installation_repositories → bookkeeping of which repositories the App may act on."""

from __future__ import annotations

from repairbot.jobs.store import Store
from webhooks.handlers.base import Decision, Payload, ignore

EVENTS = ("installation", "installation_repositories")


def _names(repos: object) -> list[str]:
    return [str(r["full_name"]) for r in repos or [] if isinstance(r, dict) and "full_name" in r]  # type: ignore[attr-defined]


def handle(event: str, payload: Payload) -> Decision:
    inst = payload.get("installation") or {}
    if "id" not in inst:
        return ignore("no installation")
    inst_id = int(inst["id"])
    account = str((inst.get("account") or {}).get("login") or "")
    action = payload.get("action")

    if event == "installation":
        if action == "deleted":

            def record(store: Store) -> None:
                store.delete_installation(inst_id)

        elif action in ("created", "suspend", "unsuspend", "new_permissions_accepted"):
            repos = _names(payload.get("repositories")) if "repositories" in payload else None
            suspended = action == "suspend"

            def record(store: Store) -> None:
                store.upsert_installation(inst_id, account, repos, suspended=suspended)

        else:
            return ignore(f"installation.{action}")
    else:
        added = _names(payload.get("repositories_added"))
        removed = _names(payload.get("repositories_removed"))

        def record(store: Store) -> None:
            store.change_installation_repos(inst_id, added, removed)

    return Decision("recorded", record=record, reason=f"{event}.{action}")
