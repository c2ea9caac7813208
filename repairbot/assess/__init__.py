"""Patch assessment: a plausible patch is not yet a fix. Entry point: `assess(AssessmentRequest)`.

For each plausible patch (best first): static anti-patterns of overfitting patches (antipatterns.yml, with
their sources); a behaviour probe run in the job's sandbox that calls the original and the patched code on
the values the tests pass at run time and on generated inputs (behaviour.py, probe_runtime.py); the inputs
on which two plausible patches disagree; and a confidence (high / medium / low) with its reasons (judge.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from repairbot.assess.antipatterns import findings, literals
from repairbot.assess.behaviour import PROBE_NODE, Limits, ProbeResult, probe_files, read_probe
from repairbot.assess.changes import FunctionChange, all_changes
from repairbot.assess.judge import MIN_EXPLORED, Evidence, assessment, disagreements
from repairbot.models import Assessment, AssessmentRequest, PlausibleFix, TestRun

log = logging.getLogger("repairbot.assess")

MAX_PROBED = 4  # plausible patches whose behaviour is probed (the rest get the static checks)
MIN_PROBE_S = 4.0  # a probe run needs at least this much of the budget
MAX_PASSING = 120  # passing tests a probe run observes (those covering the changed code)

__all__ = ["MIN_EXPLORED", "assess"]


def assess(request: AssessmentRequest) -> tuple[Assessment, ...]:
    """One assessment per fix of `request`, in the same order."""
    failing = frozenset(request.baseline.failing)
    is_failing = _matcher(failing)
    test_files = set(request.test_files)
    failing_files = {n.split("::", 1)[0] for n in failing}
    test_literals: frozenset[object] = frozenset()
    for path in failing_files:
        try:
            test_literals |= literals((request.root / path).read_bytes())
        except OSError:
            continue
    evidence: list[Evidence] = []
    probed = 0
    for i, fix in enumerate(request.fixes):
        code = {p: d for p, d in fix.files.items() if p not in test_files}
        originals = {p: _read(request, p) for p in code}
        changes = tuple(all_changes(originals, code))
        found = tuple(findings(changes, test_literals)) if fix.patch.kind == "code" else ()
        probe, note = None, ""
        if fix.patch.kind == "code":
            if request.run is None:
                note = "the test command is not pytest, so the probe cannot join the run"
            elif probed >= MAX_PROBED:
                note = f"only the first {MAX_PROBED} plausible patches are probed"
            elif not any(c.probeable for c in changes):
                note = "no changed function can be called on its own (module-level code or nested functions)"
            else:
                left = request.deadline - time.monotonic()
                if left < MIN_PROBE_S:
                    note = "the budget was spent before the probe could run"
                else:
                    probed += 1
                    share = left / max(1, min(MAX_PROBED, len(request.fixes)) - probed + 1)
                    probe, note = _probe(request, fix, originals, changes, failing, share, i)
        evidence.append(Evidence(fix.patch.kind, changes, found, probe, note))
    found_disagreements = disagreements(evidence)
    others = len(request.fixes) - 1
    return tuple(
        assessment(ev, found_disagreements[i], request.exploration, others, is_failing)
        for i, ev in enumerate(evidence)
    )


def _read(request: AssessmentRequest, path: str) -> bytes | None:
    try:
        return (request.root / path).read_bytes()
    except OSError:
        return None


def _matcher(failing: frozenset[str]) -> Callable[[str], bool]:
    """Is a node id as the probe saw it (relative to pytest's rootdir) one of the failing tests?"""

    def is_failing(test: str) -> bool:
        if not test:
            return False
        if test in failing:
            return True
        return any(f.endswith("/" + test) or test.endswith("/" + f) for f in failing)

    return is_failing


def _tests_for(changes: Sequence[FunctionChange], baseline: TestRun, failing: frozenset[str]) -> list[str]:
    """The failing tests, then the passing tests that cover a changed function (those of the failing tests'
    files first); without coverage, the passing tests of the failing tests' files."""
    spans = [(c.path, c.first_line, c.last_line) for c in changes if c.probeable]
    failing_files = {n.split("::", 1)[0] for n in failing}
    covering: list[str] = []
    for nodeid in baseline.passing:
        lines = baseline.coverage.get(nodeid)
        if lines is None:
            continue
        if any(path == p and lo <= line <= hi for path, line in lines for p, lo, hi in spans):
            covering.append(nodeid)
    if not baseline.coverage:
        covering = [n for n in baseline.passing if n.split("::", 1)[0] in failing_files]
    covering.sort(key=lambda n: n.split("::", 1)[0] not in failing_files)
    ordered_failing = [n for n in baseline.failing]
    return ordered_failing + covering[:MAX_PASSING]


def _probe(
    request: AssessmentRequest,
    fix: PlausibleFix,
    originals: dict[str, bytes | None],
    changes: Sequence[FunctionChange],
    failing: frozenset[str],
    seconds: float,
    index: int,
) -> tuple[ProbeResult | None, str]:
    assert request.run is not None
    limits = Limits(generate_s=max(1.0, min(15.0, seconds / 3)))
    present = {p: d for p, d in originals.items() if d is not None}
    tests = _tests_for(changes, request.baseline, failing)
    files = probe_files(present, dict(fix.files), changes, tuple(failing), _tree_files(request), limits)
    try:
        run, tree = request.run(f"assess{index}", files, [*tests, PROBE_NODE])
    except Exception as exc:  # the sandbox failing here must not lose the patch: the check is skipped
        log.warning("behaviour probe failed: %s", exc)
        return None, f"the probe run failed ({type(exc).__name__})"
    result = read_probe(tree)
    if not result.ran:
        why = run.killed or (run.collection_errors[0][:120] if run.collection_errors else "nothing recorded")
        return None, f"the probe recorded nothing ({why})"
    return result, ""


def _tree_files(request: AssessmentRequest) -> list[str]:
    """The tree's `__init__.py` files (module names follow the packages)."""
    return [p.relative_to(request.root).as_posix() for p in request.root.rglob("__init__.py")]
