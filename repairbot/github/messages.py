"""Markdown for pull requests, reviews, comments and check runs, from a `Report`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from repairbot.github.suggest import Block
from repairbot.models import Location, Patch, Report

MAX_BODY = 60_000  # GitHub rejects bodies over 65,536 characters
_FRAME = re.compile(r'File "([^"]+)", line (\d+)(?:, in (\S+))?')


def marker(kind: str, value: str) -> str:
    """A hidden tag that lets a retried job find what an earlier attempt already posted."""
    return f"<!-- repairbot:{kind}={value} -->"


def _fence(text: str, lang: str = "") -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "\n… (truncated)\n"


def _tests(names: Sequence[str], limit: int = 20) -> str:
    lines = [f"- `{n}`" for n in names[:limit]]
    if len(names) > limit:
        lines.append(f"- … and {len(names) - limit} more")
    return "\n".join(lines) or "- (none reported)"


def _locations(locs: Sequence[Location], limit: int = 5) -> str:
    if not locs:
        return "No ranked locations were reported."
    rows = ["| file | line | suspiciousness | evidence |", "|---|---:|---:|---|"]
    for loc in locs[:limit]:
        rows.append(f"| `{loc.path}` | {loc.line} | {loc.score:.2f} | {', '.join(loc.sources) or '—'} |")
    return "\n".join(rows)


def _judgement(report: Report, patch: Patch) -> str:
    if patch.kind == "test" or report.kind == "test":
        why = f" {patch.evidence}" if patch.evidence else ""
        return f"**The test was judged wrong** (obsolete after an intended change), not the code.{why}"
    return "**The code was judged wrong**: the tests describe the intended behaviour and were left unchanged."


def _test_changes(patch: Patch) -> str:
    lines: list[str] = []
    if patch.kind == "test":
        files = ", ".join(f"`{f}`" for f in patch.files)
        lines.append(
            f"- Updated {files}: {patch.evidence or 'the test encoded behaviour the change removed.'}"
        )
    for test in patch.added_tests:
        lines.append(f"- Added regression test `{test}`: it fails before the patch and passes after it.")
    return "\n".join(lines) or "- No test was changed or added."


def pr_title(report: Report, issue: int | None = None) -> str:
    patch = report.patches[0]
    what = patch.description.strip().splitlines()[0] if patch.description.strip() else ""
    if issue is not None:
        return f"repairbot: fix #{issue}" + (f" ({what})" if what else "")
    failing = report.failing_tests
    target = failing[0].split("::")[-1] if failing else ", ".join(patch.files)
    more = f" and {len(failing) - 1} more" if len(failing) > 1 else ""
    return f"repairbot: fix failing {target}{more}"[:250]


def pr_body(
    report: Report,
    *,
    trigger: str,
    sha: str,
    fingerprint: str,
    issue: int | None = None,
    run_url: str | None = None,
) -> str:
    patch = report.patches[0]
    stats = report.stats
    evidence = [
        f"- Whole suite after the patch: **{'green' if patch.suite_passed else 'NOT green'}**"
        + (f" (sandbox `{report.sandbox}`)" if report.sandbox else ""),
        f"- Candidates generated: {stats.candidates_generated}, validated: {stats.candidates_validated}"
        + (
            f", first plausible at #{stats.first_plausible_at}"
            if stats.first_plausible_at is not None
            else ""
        ),
        f"- Rounds: {stats.rounds}, time: {stats.seconds:.1f}s; generator `{patch.generator}`"
        + (f", rule `{patch.rule}`" if patch.rule else ""),
    ]
    parts = [
        f"Fixes #{issue}\n" if issue is not None else "",
        f"repairbot repaired the failure found at {sha[:12]} ({trigger}).",
        "### What failed",
        _tests(report.failing_tests),
        "### Where the fault was localized",
        _locations(report.localization),
        "### The patch",
        _fence(_clip(patch.diff, 30_000), "diff"),
        "### Validation",
        "\n".join(evidence),
        "### Tests updated or added",
        _test_changes(patch),
        "### Code or test?",
        _judgement(report, patch),
        f"\n[run details]({run_url})" if run_url else "",
        marker("fingerprint", fingerprint),
    ]
    return _clip("\n\n".join(p for p in parts if p), MAX_BODY)


def traceback_frames(text: str) -> list[tuple[str, int, str]]:
    """(file, line, function) of the frames quoted in an issue, innermost last."""
    return [(m.group(1), int(m.group(2)), m.group(3) or "") for m in _FRAME.finditer(text or "")]


def not_fixed_comment(report: Report | None, issue_text: str, reason: str) -> str:
    """An issue comment saying what repairbot found when it could not fix: never silence."""
    parts = [f"repairbot could not produce a validated fix: {reason}"]
    if report is not None and report.failing_tests:
        parts += ["**Failing tests it ran:**", _tests(report.failing_tests)]
    if report is not None and report.localization:
        parts += ["**Most suspicious locations:**", _locations(report.localization)]
    frames = traceback_frames(issue_text)
    if frames:
        rows = [f"- `{path}` line {line}" + (f" in `{fn}`" if fn else "") for path, line, fn in frames[-8:]]
        parts += ["**Frames from the traceback in this issue (innermost last):**", "\n".join(rows)]
    if report is not None and report.notes:
        parts += ["**Notes:**", "\n".join(f"- {n}" for n in report.notes[:10])]
    if report is not None and report.error:
        parts += [f"**Engine error:** {report.error}"]
    if len(parts) == 1:
        parts.append("The issue has no traceback or code block to reproduce from; adding one helps.")
    return _clip("\n\n".join(parts), MAX_BODY)


def review_body(report: Report, placed: int, leftover: Iterable[Block], sha: str) -> str:
    rest = list(leftover)
    parts = [
        f"repairbot ran the tests on {sha[:12]}: {len(report.failing_tests)} failing.",
        "**Failing tests:**",
        _tests(report.failing_tests),
    ]
    if placed:
        parts.append(f"A validated repair is attached as {placed} suggestion(s) on the changed lines.")
    if rest:
        diff = "".join(
            f"--- {b.path} lines {b.start}-{b.end}\n"
            + "".join("-" + line for line in b.old_lines)
            + "".join("+" + line for line in b.new_lines)
            for b in rest
        )
        parts += [
            "Changes outside this pull request's diff (cannot be suggested inline):",
            _fence(diff, "diff"),
        ]
    if report.patches:
        parts.append(_judgement(report, report.patches[0]))
    parts.append(marker("review", sha))
    return _clip("\n\n".join(parts), MAX_BODY)


def check_summary(report: Report | None, outcome: str, link: str | None = None) -> str:
    parts = [outcome]
    if report is not None and report.failing_tests:
        parts += ["Failing tests:", _tests(report.failing_tests)]
    if link:
        parts.append(f"See {link}")
    return _clip("\n\n".join(parts), MAX_BODY)
