"""Repository-history priors (Getafix-style): the fix patterns a project used in its own past small fixes are
likelier for its next bug.

The project's fix commits reachable from HEAD are mined with the fix corpus's selection (fixmine), newest
first; each one's producing rules are found with the corpus's matcher (fixmatch) and cached by commit. A
rule's multiplier is its rate among those fixes, shrunk towards its corpus-wide rate (rules/learned.json),
over that corpus-wide rate. Only history before HEAD is read: a repair of a checkout at a bug's parent
commit never sees the bug's own fix, so leave-one-out measurement on a real-bug set is what a plain run
does.

REPAIRBOT_HISTORY=0 turns it off; REPAIRBOT_HISTORY_FIXES bounds how many past fixes are read (default 30).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from repairbot.generate.patterns import Rule

log = logging.getLogger(__name__)

HISTORY_ENV = "REPAIRBOT_HISTORY"
FIXES_ENV = "REPAIRBOT_HISTORY_FIXES"
MAX_LOG_COMMITS = 5000
DEFAULT_FIXES = 30
STRENGTH = 20.0  # pseudo-fixes at the corpus-wide rate
BOUNDS = (0.5, 3.0)


@dataclass(frozen=True, slots=True)
class HistoryPriors:
    weights: Mapping[str, float] = field(default_factory=dict)  # rule -> multiplier on its prior
    fixes: int = 0  # past fixes read
    counts: Mapping[str, int] = field(default_factory=dict)  # rule -> past fixes it makes
    note: str = ""


def enabled() -> bool:
    return os.environ.get(HISTORY_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _git_dir(root: Path) -> Path | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--absolute-git-dir"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "repairbot" / "history"


def rules_key(rules: Sequence[Rule]) -> str:
    h = hashlib.sha256()
    for r in sorted(rules, key=lambda r: r.id):
        h.update(f"{r.id}\0{r.query}\0{r.fixes}\0{r.constraints}\0".encode())
    return h.hexdigest()[:16]


def weights_from_counts(
    counts: Mapping[str, int], fixes: int, rates: Mapping[str, float], rules: Sequence[str]
) -> dict[str, float]:
    """Multiplier per rule: (count + STRENGTH * rate) / (fixes + STRENGTH) over rate, normalized so that the
    corpus-weighted mean multiplier is 1 (the project's history reorders rules, it does not inflate them)."""
    if fixes <= 0:
        return {}
    raw: dict[str, float] = {}
    for r in rules:
        q = max(rates.get(r, 0.0), 1e-4)
        raw[r] = ((counts.get(r, 0) + STRENGTH * q) / (fixes + STRENGTH)) / q
    total_q = sum(max(rates.get(r, 0.0), 1e-4) for r in rules)
    mean = sum(raw[r] * max(rates.get(r, 0.0), 1e-4) for r in rules) / total_q
    lo, hi = BOUNDS
    return {r: round(min(hi, max(lo, w / mean)), 4) for r, w in raw.items()}


def history_priors(
    root: Path, rules: Sequence[Rule], *, seconds: float = 10.0, rev: str = "HEAD"
) -> HistoryPriors:
    """The project's own past fixes (reachable from `rev`, HEAD by default) as multipliers on the rules'
    priors; empty without git history. Reads at most `seconds` of new matching (cached per commit for later
    runs, and per HEAD for the rest of the process)."""
    if not enabled():
        return HistoryPriors(note="repository history off (REPAIRBOT_HISTORY=0)")
    git_dir = _git_dir(root)
    if git_dir is None:
        return HistoryPriors(note="no git history: rule priors from the fix corpus only")
    try:
        head = subprocess.run(
            ["git", f"--git-dir={git_dir}", "rev-parse", "--verify", "-q", f"{rev}^{{commit}}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        head = ""
    if not head:
        return HistoryPriors(note="no commit at HEAD: rule priors from the fix corpus only")
    memo_key = (str(git_dir), head, rules_key(rules))
    if memo_key in _MEMO:
        return _MEMO[memo_key]
    found = _read_history(git_dir, head, root, rules, seconds)
    if found.fixes or not found.note.startswith("repository history not read"):
        _MEMO[memo_key] = found
    return found


_MEMO: dict[tuple[str, str, str], HistoryPriors] = {}


def _read_history(
    git_dir: Path, head: str, root: Path, rules: Sequence[Rule], seconds: float
) -> HistoryPriors:
    from repairbot.generate.fixmatch import match_fix
    from repairbot.generate.fixmine import Git, fix_commits
    from repairbot.generate.learned import learned

    try:
        limit = int(os.environ.get(FIXES_ENV, DEFAULT_FIXES))
    except ValueError:
        limit = DEFAULT_FIXES
    stop = time.monotonic() + seconds
    store = cache_dir() / rules_key(rules)
    counts: dict[str, int] = {}
    read = 0
    try:
        with Git(str(git_dir)) as git:
            for fix in fix_commits(git, str(root), head, max_commits=MAX_LOG_COMMITS):
                if read >= limit or time.monotonic() > stop:
                    break
                if fix.sha == head:
                    continue  # the commit under repair is where the failure may come from, not history
                key = hashlib.sha256(f"{fix.sha}:{fix.path}".encode()).hexdigest()[:24]
                cached = store / f"{key}.json"
                producers: list[str] | None = None
                if cached.is_file():
                    try:
                        producers = list(json.loads(cached.read_text(encoding="utf-8")))
                    except ValueError:
                        producers = None
                if producers is None:
                    pair = (git.blob(fix.parent, fix.path), git.blob(fix.sha, fix.path))
                    if pair[0] is None or pair[1] is None:
                        continue
                    res = match_fix(pair[0], pair[1], fix.hunks, rules, fix.path)
                    makers = set(res.whole.producers)
                    for h in res.hunks:
                        makers |= set(h.producers)
                    producers = sorted(makers)
                    try:
                        store.mkdir(parents=True, exist_ok=True)
                        cached.write_text(json.dumps(producers), encoding="utf-8")
                    except OSError:
                        pass  # a read-only home only costs the cache
                read += 1
                for r in producers:
                    counts[r] = counts.get(r, 0) + 1
    except (OSError, subprocess.CalledProcessError) as exc:
        log.warning("repository history not read: %s", exc)
        return HistoryPriors(note=f"repository history not read: {exc}")
    weights = weights_from_counts(counts, read, learned().produce_rate, [r.id for r in rules])
    used = ", ".join(f"{r} ({n})" for r, n in sorted(counts.items(), key=lambda kv: -kv[1])[:5])
    note = f"repository history: {read} past fix(es) read" + (f"; rules they used: {used}" if used else "")
    return HistoryPriors(weights, read, counts, note)


__all__ = ["HistoryPriors", "enabled", "history_priors", "weights_from_counts"]
