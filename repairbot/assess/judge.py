"""From evidence to checks, and from checks to a confidence.

The rule is deliberately strict, because a wrong pull request costs a maintainer more than a missing one:
- **low**: the patch shows an anti-pattern, or it makes the function raise or hang where the original returned
  (on any input, observed or generated, other than what the failing tests demand);
- **high**: every check passed and none was skipped: the failing tests reach the changed code and its outcome
  changes there; the passing tests' calls behave as before; generated inputs show the change beyond the tests'
  own inputs without a new exception; no other plausible patch behaves differently; and the search went on
  past the first plausible patch long enough to look for such alternatives;
- **medium**: anything in between (a warning, or a check that could not run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from repairbot.assess.antipatterns import Finding
from repairbot.assess.behaviour import Call, ProbeResult
from repairbot.assess.changes import FunctionChange
from repairbot.models import Assessment, Check, Confidence, Disagreement, Exploration

MIN_EXPLORED = 10  # candidates validated after the first plausible one before alternatives count as searched
EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the assessment found out about one plausible patch."""

    kind: str  # "code" or "test"
    changes: tuple[FunctionChange, ...]
    findings: tuple[Finding, ...]
    probe: ProbeResult | None
    probe_note: str  # why the probe did not run ("" when it did)


def _fmt(outcome: dict[str, str] | object) -> str:
    if not isinstance(outcome, dict):
        return str(outcome)
    status = outcome.get("status", "?")
    if status == "return":
        return f"returns {outcome.get('value', '')}"
    if status == "raise":
        message = outcome.get("message") or ""
        return f"raises {outcome.get('value', '')}" + (f" ({message[:80]})" if message else "")
    if status == "timeout":
        return "does not return within the limit"
    return status


def _example(call: Call) -> str:
    name = call.function.split("::", 1)[-1]
    if call.mutated:
        return f"`{name}({call.input})`: same value, but the arguments are changed differently in place"
    return f"`{name}({call.input})`: original {_fmt(call.orig)}, patched {_fmt(call.patched)}"


def _returned(outcome: object) -> bool:
    return isinstance(outcome, dict) and outcome.get("status") == "return"


def _failed(outcome: object) -> bool:
    return isinstance(outcome, dict) and outcome.get("status") in ("raise", "timeout")


def _exception(outcome: object) -> str:
    if not isinstance(outcome, dict):
        return ""
    return str(outcome.get("value") or "timeout") if outcome.get("status") == "raise" else "timeout"


def check_antipatterns(ev: Evidence) -> Check:
    if not ev.findings:
        return Check("anti-patterns", "ok", "no anti-pattern of overfitting patches found")
    texts = tuple(f.text() for f in ev.findings)
    return Check("anti-patterns", "failed", "the patch " + "; ".join(texts[:3]), texts[:EXAMPLES])


def behaviour_checks(ev: Evidence, is_failing: Callable[[str], bool]) -> list[Check]:
    """The failing tests', the passing tests' and the generated inputs' checks, from one probe run."""
    probe = ev.probe
    probeable = [c for c in ev.changes if c.probeable]
    names = ("failing tests", "passing tests", "generated inputs")
    if probe is None or not probe.ran:
        why = ev.probe_note or (
            "no changed function can be called on its own (module-level code, nested functions)"
            if not probeable
            else "the probe recorded nothing (the changed module was not imported)"
        )
        return [Check(n, "skipped", f"not run: {why}") for n in names]
    calls = [c for c in probe.calls if c.same is not None]
    observed = [c for c in calls if c.source == "observed"]
    failing_calls = [c for c in observed if is_failing(c.test)]
    passing_calls = [c for c in observed if not is_failing(c.test)]
    generated = [c for c in calls if c.source in ("generated", "docstring")]
    unsupported = "; ".join(f"`{k.split('::', 1)[-1]}`: {v}" for k, v in probe.unsupported.items())
    out: list[Check] = []

    # The failing tests: they must reach the changed code, and its outcome must change there.
    changed = [c for c in failing_calls if not c.same]
    if not failing_calls:
        why = f" ({unsupported})" if unsupported else ""
        out.append(
            Check(
                "failing tests",
                "warning",
                "the failing tests never called a changed function the "
                f"probe could observe{why}: the patch acts through something else",
            )
        )
    elif not changed:
        out.append(
            Check(
                "failing tests",
                "warning",
                f"the failing tests called the changed code "
                f"{len(failing_calls)} time(s) and got the same outcome as before every time",
            )
        )
    else:
        out.append(
            Check(
                "failing tests",
                "ok",
                f"the failing tests called the changed code {len(failing_calls)} "
                f"time(s); the outcome changed on {len(changed)}",
                tuple(_example(c) for c in changed[:1]),
            )
        )
    demanded = {_exception(c.patched) for c in failing_calls if _failed(c.patched)}

    # The passing tests: their calls should behave as before (PATCH-SIM's similarity of passing executions).
    moved = [c for c in passing_calls if not c.same]
    crashes = [c for c in passing_calls if _returned(c.orig) and _failed(c.patched)]
    tests = len({c.test for c in passing_calls})
    if not passing_calls:
        out.append(Check("passing tests", "skipped", "no passing test calls the changed code"))
    elif crashes:
        out.append(
            Check(
                "passing tests",
                "failed",
                f"on {len(crashes)} call(s) from passing tests the patched "
                "code raises where the original returned",
                tuple(_example(c) for c in crashes[:EXAMPLES]),
            )
        )
    elif moved:
        out.append(
            Check(
                "passing tests",
                "warning",
                f"{len(moved)} of {len(passing_calls)} call(s) from {tests} "
                "passing test(s) now behave differently, and no test checks it",
                tuple(_example(c) for c in moved[:EXAMPLES]),
            )
        )
    else:
        out.append(
            Check(
                "passing tests",
                "ok",
                f"{len(passing_calls)} call(s) from {tests} passing test(s) behave exactly as before",
            )
        )

    # Generated inputs: no new exception or hang (beyond what the failing tests demand), and a change that
    # reaches past the tests' own inputs (a change visible only on them is a special case).
    how = "; ".join(sorted(set(probe.generators.values()))) or "none"
    if not generated:
        why = unsupported or (f"inputs: {how}" if probe.generators else "no function could be called")
        out.append(Check("generated inputs", "skipped", f"no generated input ran ({why})"))
        return out
    own = {c.ident for c in failing_calls}
    diff = [c for c in generated if not c.same]
    beyond = [c for c in diff if c.ident not in own]
    new_failures = [
        c
        for c in generated
        if _returned(c.orig) and _failed(c.patched) and _exception(c.patched) not in demanded
    ]
    head = f"{len(generated)} input(s) ({how}); the outcome changed on {len(diff)}"
    if new_failures:
        out.append(
            Check(
                "generated inputs",
                "failed",
                f"{head}; the patched code raises or hangs where the "
                f"original returned on {len(new_failures)}",
                tuple(_example(c) for c in new_failures[:EXAMPLES]),
            )
        )
    elif not beyond:
        out.append(
            Check(
                "generated inputs",
                "warning",
                f"{head}: the change shows only on the failing tests' own "
                "inputs (a special case of the tests?)",
            )
        )
    else:
        out.append(
            Check(
                "generated inputs",
                "ok",
                f"{head}, {len(beyond)} beyond the tests' own inputs, and no new exception",
                tuple(_example(c) for c in beyond[:2]),
            )
        )
    return out


def disagreements(evidence: Sequence[Evidence]) -> list[list[Disagreement]]:
    """For each patch, the inputs on which another plausible patch's code does something else."""
    out: list[list[Disagreement]] = [[] for _ in evidence]
    tables = []
    for ev in evidence:
        table: dict[tuple[str, str], Call] = {}
        if ev.probe is not None:
            for c in ev.probe.calls:
                table.setdefault((c.function, c.ident), c)
        tables.append(table)
    for i, a in enumerate(tables):
        for j, b in enumerate(tables):
            if i == j:
                continue
            for key, call in a.items():
                other = b.get(key)
                if other is not None and other.patched_key != call.patched_key:
                    out[i].append(
                        Disagreement(j, call.function, call.input, _fmt(call.patched), _fmt(other.patched))
                    )
                    if sum(1 for d in out[i] if d.other == j) >= EXAMPLES:
                        break
    return out


def alternatives_check(found: Sequence[Disagreement], exploration: Exploration, others: int) -> Check:
    if found:
        return Check(
            "alternatives",
            "warning",
            "another plausible patch behaves differently: the tests do not "
            "decide between them (the maintainer does)",
            tuple(
                f"`{d.function.split('::', 1)[-1]}({d.input})`: this patch {d.this}, the other {d.that}"
                for d in found[:EXAMPLES]
            ),
        )
    searched = exploration.exhausted or exploration.validated_after_first >= MIN_EXPLORED
    if not searched:
        why = "the budget ran out" if exploration.cut_by_budget else "the search stopped"
        return Check(
            "alternatives",
            "skipped",
            f"{why} {exploration.validated_after_first} candidate(s) after the "
            "first plausible patch, before alternatives were explored",
        )
    more = f"; {others} other plausible patch(es) behave the same where compared" if others else ""
    every = " (all there were)" if exploration.exhausted else ""
    return Check(
        "alternatives",
        "ok",
        f"{exploration.validated_after_first} more candidate(s) validated after the "
        f"first plausible patch{every}; none disagrees{more}",
    )


def confidence(checks: Iterable[Check]) -> tuple[Confidence, tuple[str, ...]]:
    checks = list(checks)
    failed = [c for c in checks if c.status == "failed"]
    if failed:
        return "low", tuple(f"{c.name}: {c.summary}" for c in failed)
    weak = [c for c in checks if c.status in ("warning", "skipped")]
    if weak:
        return "medium", tuple(f"{c.name}: {c.summary}" for c in weak)
    return "high", tuple(f"{c.name}: {c.summary}" for c in checks)


def assessment(
    ev: Evidence,
    found: Sequence[Disagreement],
    exploration: Exploration,
    others: int,
    is_failing: Callable[[str], bool],
) -> Assessment:
    if ev.kind == "test":
        check = Check(
            "test update",
            "ok",
            "a test update that co-evolution's guards accepted: it fails on the code "
            "before the intended change, passes after it, and weakens no assertion",
        )
        return Assessment("high", (f"{check.name}: {check.summary}",), (check,))
    checks = [
        check_antipatterns(ev),
        *behaviour_checks(ev, is_failing),
        alternatives_check(found, exploration, others),
    ]
    level, reasons = confidence(checks)
    return Assessment(level, reasons, tuple(checks), tuple(sorted({f.id for f in ev.findings})), tuple(found))
