"""installation / installation_repositories → bookkeeping of which repositories the App may act on."""

from __future__ import annotations

from repairbot.jobs.store import Store
from webhooks.handlers.base import Decision, Payload, ignore, number, obj

EVENTS = ("installation", "installation_repositories")


def _names(repos: object) -> list[str]:
    if not isinstance(repos, list):
        return []
    return [r["full_name"] for r in repos if isinstance(r, dict) and isinstance(r.get("full_name"), str)]


def handle(event: str, payload: Payload) -> Decision:
    inst = obj(payload, "installation")
    if "id" not in inst:
        return ignore("no installation")
    inst_id = number(inst, "id")
    account = str(obj(inst, "account").get("login") or "")
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
