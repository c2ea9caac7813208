"""What the fix corpus taught (rules/learned.json, written by `python scripts/fixcorpus.py learn`): the order
of operator, literal and callee alternatives, the wrapping calls and guard forms real fixes use, the failure
symptoms' weights on fix families, and how often each rule makes a real fix (for repository-history priors).

The rules' own priors live in their files (the same script sets them). Without the file every ordering falls
back to the order the templates list (a degraded mode, logged once).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from repairbot.errors import EnvironmentProblem
from repairbot.generate.ruledir import RULES_ENV, default_rules_dir, rules_root

log = logging.getLogger(__name__)

LEARNED_VERSION = "1"
LEARNED_FILE = "learned.json"


@dataclass(frozen=True, slots=True)
class Learned:
    operators: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # old -> new -> fixes
    literals: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # kind -> alternative -> fixes
    callees: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # old name -> new name -> fixes
    wrappers: Mapping[str, float] = field(default_factory=dict)  # `len($)` -> fixes
    guards: Mapping[str, float] = field(default_factory=dict)  # `X is None` -> fixes
    symptoms: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # symptom -> family -> weight
    produce_rate: Mapping[str, float] = field(default_factory=dict)  # rule -> share of corpus fixes it makes
    source: str = ""

    @property
    def targets(self) -> Mapping[str, float]:
        """How often each operator is what a fix put in (over all replaced operators)."""
        out: dict[str, float] = {}
        for alts in self.operators.values():
            for new, n in alts.items():
                out[new] = out.get(new, 0.0) + n
        return out


def learned_path() -> Path:
    return _path_for(os.environ.get(RULES_ENV, ""))


@lru_cache(maxsize=8)
def _path_for(rules_env: str) -> Path:
    """Beside the rule files; for a folder of one's rules ($REPAIRBOT_RULES) without it, the shipped one."""
    own = default_rules_dir().parent / LEARNED_FILE
    if own.is_file() or not rules_env:
        return own
    try:
        return rules_root() / LEARNED_FILE
    except EnvironmentProblem:
        return own


@lru_cache(maxsize=4)
def _load(path: str) -> Learned:
    p = Path(path)
    if not p.is_file():
        log.warning("no learned orderings at %s: alternatives are tried in template order", p)
        return Learned()
    try:
        data: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        from repairbot.errors import BadInput

        raise BadInput(f"learned orderings {p}: cannot read JSON: {exc}") from exc
    symptoms = {
        s: {f: float(w) for f, w in fams.items() if not f.startswith("_")}
        for s, fams in data.get("symptoms", {}).items()
    }
    return Learned(
        operators=data.get("operators", {}),
        literals=data.get("literals", {}),
        callees=data.get("callees", {}),
        wrappers=data.get("wrappers", {}),
        guards=data.get("guards", {}),
        symptoms=symptoms,
        produce_rate=data.get("produce_rate", {}),
        source=str(p),
    )


def learned() -> Learned:
    return _load(str(learned_path()))


def by_counts(options: Sequence[str], count: Callable[[str], float]) -> list[str]:
    """`options` most counted first; ties (and options never seen) keep their given order."""
    return [o for _, o in sorted(enumerate(options), key=lambda io: (-count(io[1]), io[0]))]


def order_operators(op: str, options: Sequence[str]) -> list[str]:
    """Alternatives of `op` by how often real fixes made that replacement; replacements never seen for `op`
    by how often fixes put that operator in at all (a weaker signal, so it only breaks ties among zeros)."""
    lr = learned()
    seen = lr.operators.get(op, {})
    targets = lr.targets
    total = sum(targets.values()) or 1.0
    return by_counts(options, lambda o: seen.get(o, 0.0) + 0.5 * targets.get(o, 0.0) / total)


# ------------------------------------------------------------------------------- literal substitutions


def _int(text: str) -> int | None:
    try:
        return int(text.replace("_", "").replace(" ", ""), 0)
    except ValueError:
        return None


def literal_kind(text: str) -> str | None:
    """The kind of literal a substitution starts from (None: not one the rules mutate)."""
    t = text.strip()
    if _int(t) is not None:
        return "int"
    if t in ("True", "False", "None"):
        return t.lower()
    if t in ("[]", "()", "{}"):
        return t
    if t[:1].isdigit() or t[:2] in ("-.", "-0") or (t[:1] == "." and t[1:2].isdigit()):
        try:
            float(t)
            return "float"
        except ValueError:
            return None
    if t[-1:] in ("'", '"') and len(t) >= 2:
        return "str"
    return None


def literal_alternative_key(old: str, new: str) -> str | None:
    """How `new` relates to `old`, in the terms the literal alternatives are listed: `+1`, `-1`, `0`, `1`,
    `neg` and `None` for integers, the replacement's text otherwise (`other` when it is none of those)."""
    kind = literal_kind(old)
    n = new.strip()
    if kind is None:
        return None
    if kind == "int":
        v, w = _int(old.strip()), _int(n)
        if v is not None and w is not None:
            for key, value in (("+1", v + 1), ("-1", v - 1), ("0", 0), ("1", 1), ("neg", -v)):
                if w == value:
                    return key
        return "None" if n == "None" else "other"
    if kind == "str":
        return '""' if n in ('""', "''") else ("None" if n == "None" else "other")
    return n.replace("''", '""')


def order_literals(old: str, options: Sequence[str]) -> list[str]:
    kind = literal_kind(old)
    counts = learned().literals.get(kind or "", {})
    return by_counts(options, lambda o: counts.get(literal_alternative_key(old, o) or "", 0.0))


# ------------------------------------------------------------------------------------- other orderings


def callee_alternatives(name: str, catalogue: Sequence[str]) -> tuple[str, ...]:
    """Replacements for a callee or method name: those real fixes made (in at least two projects) by count,
    then the catalogue's well-known pairs."""
    seen = learned().callees.get(name, {})
    ordered = sorted(seen, key=lambda n: -seen[n])
    return tuple(dict.fromkeys([*ordered, *catalogue]))


def wrappers(limit: int = 8) -> list[tuple[str, float]]:
    """Wrapping calls real fixes added around an expression (`len($)`, `max(0,$)`), most frequent first."""
    w = learned().wrappers
    return sorted(w.items(), key=lambda kv: -kv[1])[:limit]


def order_guards(forms: Sequence[tuple[str, str]]) -> list[str]:
    """Guard conditions (text, abstract form such as `X is None`) by how often real fixes added that form."""
    g = learned().guards
    order = by_counts([f for _, f in forms], lambda f: g.get(f, 0.0))
    text = dict((f, t) for t, f in forms)
    return [text[f] for f in order]


__all__ = [
    "LEARNED_VERSION",
    "Learned",
    "by_counts",
    "callee_alternatives",
    "learned",
    "learned_path",
    "literal_alternative_key",
    "literal_kind",
    "order_guards",
    "order_literals",
    "order_operators",
    "wrappers",
]
