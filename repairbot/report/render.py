"""Render a Report for people (terminal, Markdown) and machines (JSON)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from repairbot import diffs
from repairbot.models import Report


def write_json(report: Report, path: Path) -> None:
    """Write atomically: a reader never sees half a report."""
    data = json.dumps(report.to_json(), indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data)
    os.replace(tmp, path)


def terminal_summary(report: Report) -> str:
    s = report.stats
    lines = []
    if report.status == "fixed":
        p = report.patches[0]
        files, added, removed = diffs.stats(p.diff)
        what = "test update" if p.kind == "test" else "code fix"
        rule = f" rule {p.rule}" if p.rule else ""
        green = "; the whole suite passes" if p.suite_passed else ""
        lines.append(f"fixed: {what} by {p.generator}{rule} ({files} file(s), +{added} -{removed}){green}")
        if p.description:
            lines.append(f"  {p.description}")
        if p.assessment is not None:
            lines.append(f"confidence: {p.assessment.confidence}")
            for reason in p.assessment.reasons if p.assessment.confidence != "high" else ():
                lines.append(f"  - {reason}")
            for d in p.assessment.disagreements[:3]:
                lines.append(f"  patch #{d.other + 1} disagrees on `{_short(d.function)}({d.input})`: "
                             f"this patch {d.this}, #{d.other + 1} {d.that}")  # fmt: skip
    elif report.status == "not_fixed":
        lines.append("no validated patch found within the budget")
    else:
        lines.append(f"error: {report.error}")
    if report.failing_tests:
        shown = ", ".join(report.failing_tests[:3]) + (" …" if len(report.failing_tests) > 3 else "")
        lines.append(f"failing tests ({len(report.failing_tests)}): {shown}")
    if report.localization:
        top = ", ".join(f"{loc.path}:{loc.line} ({loc.score:.2f})" for loc in report.localization[:3])
        lines.append(f"most suspicious: {top}")
    npc = "-" if s.first_plausible_at is None else str(s.first_plausible_at)
    lines.append(
        f"{s.candidates_generated} candidate(s) generated, {s.candidates_validated} validated, "
        f"first plausible after {npc}, {s.rounds} round(s), {s.seconds:.1f}s"
    )
    for note in report.notes:
        lines.append(f"note: {note}")
    return "\n".join(x for x in lines if x)


def _short(function: str) -> str:
    return function.split("::", 1)[-1]


_STATUS = {"ok": "passed", "warning": "warning", "failed": "FAILED", "skipped": "not run"}
_EXPLAINED = {
    "high": "every check passed",
    "medium": "plausible, but the checks leave doubts: review it as a suggestion",
    "low": "the checks found signs of an overfitting patch: treat it as a hint, not a fix",
}


def assessment_markdown(report: Report, index: int = 0) -> str:
    """The confidence of `report.patches[index]`, its reasons, the checks and the inputs on which other
    plausible patches disagree (for PR bodies, reviews, comments and job summaries)."""
    a = report.patches[index].assessment if report.patches else None
    if a is None:
        return "**Confidence: not assessed.**"
    out = [f"**Confidence: {a.confidence}** ({_EXPLAINED[a.confidence]})."]
    if a.confidence != "high":
        out.append("\n".join(f"- {r}" for r in a.reasons))
    if a.checks:
        rows = ["| check | result | what it found |", "|---|---|---|"]
        for c in a.checks:
            found = c.summary.replace("|", "\\|")
            if c.examples:
                found += "<br>" + "<br>".join(e.replace("|", "\\|") for e in c.examples[:3])
            rows.append(f"| {c.name} | {_STATUS[c.status]} | {found} |")
        out.append("\n".join(rows))
    if a.disagreements:
        lines = ["Plausible patches that disagree (the tests do not decide; you do):"]
        for d in a.disagreements[:5]:
            other = report.patches[d.other] if d.other < len(report.patches) else None
            what = f" ({other.description})" if other is not None and other.description else ""
            call = f"`{_short(d.function)}({d.input})`"
            lines.append(f"- {call}: this patch {d.this}; patch #{d.other + 1}{what} {d.that}")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def markdown_summary(report: Report) -> str:
    """For PR bodies, comments and job summaries."""
    out = []
    if report.status == "fixed":
        p = report.patches[0]
        judged = "the test was obsolete" if p.kind == "test" else "the code was wrong"
        out.append(f"**repairbot found a validated patch** ({judged}; generator `{p.generator}`"
                   + (f", rule `{p.rule}`" if p.rule else "") + ").")  # fmt: skip
        if p.description:
            out.append(f"\n{p.description}")
        if p.evidence:
            out.append(f"\nEvidence: {p.evidence}")
        out.append(f"\n```diff\n{p.diff}```")
        out.append("\nValidation: " + ("the whole test suite passes with this patch." if p.suite_passed
                                         else "the failing tests pass with this patch."))  # fmt: skip
        out.append("\n" + assessment_markdown(report))
    else:
        out.append("**repairbot could not find a validated patch.**" if report.status == "not_fixed"
                   else f"**repairbot failed:** {report.error}")  # fmt: skip
    if report.failing_tests:
        out.append("\n**Failing tests**\n" + "\n".join(f"- `{t}`" for t in report.failing_tests[:20]))
    if report.localization:
        top = [f"- `{loc.path}:{loc.line}` (score {loc.score:.2f})" for loc in report.localization[:5]]
        out.append("\n**Suspicious locations**\n" + "\n".join(top))
    s = report.stats
    out.append(f"\n<sub>{s.candidates_validated} candidate(s) validated in {s.seconds:.0f}s, "
               f"{s.rounds} round(s); sandbox: {report.sandbox or 'n/a'}</sub>")  # fmt: skip
    return "\n".join(out)
