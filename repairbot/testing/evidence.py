"""The runtime evidence of failures, as the pytest plugin recorded it (`observations` of a report event),
read into typed records (models.Observation). Malformed parts are dropped, never an error: evidence is a
help for test co-evolution, not a condition of a run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from repairbot.models import Call, Observation, Value


def _value(raw: Any) -> Value | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("repr"), str):
        return None
    source, ref, plain = raw.get("source"), raw.get("ref"), raw.get("plain")
    names = raw.get("names")
    return Value(
        repr=raw["repr"],
        type=str(raw.get("type", "")),
        source=source if isinstance(source, str) else None,
        ref=ref if isinstance(ref, str) else None,
        names=tuple(str(n) for n in names) if isinstance(names, list) else (),
        plain=plain if isinstance(plain, str) else None,
    )


def _values(raw: Any) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for k, v in raw.items() if isinstance(raw, Mapping) else ():
        value = _value(v)
        if value is not None:
            out[str(k)] = value
    return out


def _calls(raw: Any) -> tuple[Call, ...]:
    out: list[Call] = []
    for c in raw if isinstance(raw, list) else ():
        if not isinstance(c, dict):
            continue
        args = [_value(a) for a in c.get("args", [])] if isinstance(c.get("args"), list) else []
        if any(a is None for a in args):
            continue
        out.append(
            Call(str(c.get("name", "")), tuple(a for a in args if a is not None), _values(c.get("kwargs")))
        )
    return tuple(out)


def observations(raw: Any) -> tuple[Observation, ...]:
    """Observations from the plugin's JSON (a list of objects); what cannot be read is left out."""
    out: list[Observation] = []
    for o in raw if isinstance(raw, list) else ():
        if not isinstance(o, dict) or not isinstance(o.get("kind"), str):
            continue
        try:
            line = int(o.get("line", 0))
        except (TypeError, ValueError):
            line = 0
        pattern = o.get("pattern")
        out.append(
            Observation(
                kind=o["kind"],
                path=str(o.get("path", "")),
                line=line,
                op=str(o.get("op", "")),
                values=_values(o.get("values")),
                pattern=pattern if isinstance(pattern, str) else None,
                expected=_calls(o.get("expected")),
                calls=_calls(o.get("calls")),
            )
        )
    return tuple(out)
