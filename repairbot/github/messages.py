"""Markdown for pull requests, reviews, comments and check runs, from a `Report`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from repairbot.github.suggest import Block
from repairbot.models import Location, Patch, Report
from repairbot.report import assessment_markdown

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
        "### Confidence",
        assessment_markdown(report),
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


def review_body(
    report: Report, placed: int, leftover: Iterable[Block], sha: str, mark: str | None = None
) -> str:
    """A review of the pull request's head `sha`: what fails, the suggestions, what could not be placed
    inline, and whether the code or the test was judged wrong. `mark` names the review (default: the head)."""
    rest = list(leftover)
    parts = [
        f"repairbot ran the tests on {sha[:12]}: {len(report.failing_tests)} failing.",
        "**Failing tests:**",
        _tests(report.failing_tests),
    ]
    if report.newly_failing:
        parts.append(
            f"{len(report.newly_failing)} of them passed on the base ({(report.base or '')[:12]}): "
            "this pull request's changes broke them."
        )
    if placed:
        parts.append(f"A validated repair is attached as {placed} suggestion(s) on the changed lines.")
    if rest:
        parts += [
            "Changes outside this pull request's diff (cannot be suggested inline):",
            _fence(blocks_diff(rest), "diff"),
        ]
    if report.patches:
        parts += [
            _validation(report.patches[0]),
            _judgement(report, report.patches[0]),
            assessment_markdown(report),
        ]
    parts.append(mark or marker("review", sha))
    return _clip("\n\n".join(parts), MAX_BODY)


def blocks_diff(blocks: Iterable[Block]) -> str:
    """Change blocks as diff text for a body (those a review cannot place on the pull request's lines)."""
    out = []
    for b in blocks:
        if b.raw:
            out.append(b.raw if b.raw.endswith("\n") else b.raw + "\n")
            continue
        out.append(
            f"--- {b.path} lines {b.start}-{b.end}\n"
            + "".join("-" + _eol(line) for line in b.old_lines)
            + "".join("+" + _eol(line) for line in b.new_lines)
        )
    return "".join(out)


def _eol(line: str) -> str:
    return line if line.endswith("\n") else line + "\n"


def _validation(patch: Patch) -> str:
    if patch.suite_passed:
        return "Validated: with the suggestions applied, the whole test suite passes."
    return "Validated: with the suggestions applied, the failing tests pass (the whole suite was not green)."


def suggestion_note(report: Report) -> str:
    """The line above each ```suggestion: for a test update, why the test (and not the code) changes."""
    patch = report.patches[0] if report.patches else None
    if patch is None or patch.kind != "test":
        return ""
    why = patch.evidence or "the test encoded behaviour this pull request changed on purpose"
    return f"Test update (the test is obsolete, not the code wrong): {why}"


def review_resolved_body(sha: str, mark: str, why: str = "the tests pass") -> str:
    """The review once its suggestions no longer apply, though no repair is needed: the suite passes, or the
    failing tests fail the same way on the base (so the pull request did not break them)."""
    what = "the whole test suite passes on this pull request's head" if why == "the tests pass" else why
    return f"**Resolved** at {sha[:12]}: {what}. Earlier suggestions are marked outdated.\n\n{mark}"


def review_unfixed_body(report: Report, sha: str, mark: str, why: str) -> str:
    parts = [
        f"repairbot ran the tests on {sha[:12]}: {len(report.failing_tests)} failing; {why}.",
        "**Failing tests:**",
        _tests(report.failing_tests),
        "Earlier suggestions are marked outdated.",
        mark,
    ]
    return _clip("\n\n".join(parts), MAX_BODY)


def outdated_comment(body: str, sha: str, reason: str, mark: str) -> str:
    """An earlier suggestion, kept for the record without its "Commit suggestion" button."""
    old = body.split("<!-- repairbot:", 1)[0].rstrip()
    old = old.replace("````suggestion", "````python").replace("```suggestion", "```python")
    return (
        f"**Outdated** at {sha[:12]}: {reason}.\n\n<details><summary>Earlier suggestion</summary>\n\n"
        f"{old}\n\n</details>\n\n{mark}"
    )


def patch_comment(report: Report, min_confidence: str, where: str) -> str:
    """A plausible patch below the repository's `min_confidence`: posted for a person to judge, not a PR."""
    patch = report.patches[0]
    parts = [
        f"repairbot found a patch that makes the failing tests pass ({where}), but its confidence is "
        f"**{patch.confidence or 'not assessed'}**, below this repository's "
        f"`min_confidence: {min_confidence}`, so it is posted here as a suggestion, not as a pull request.",
        "### What failed",
        _tests(report.failing_tests),
        "### The suggested patch",
        _fence(_clip(patch.diff, 30_000), "diff"),
        "### Confidence",
        assessment_markdown(report),
        _judgement(report, patch),
    ]
    return _clip("\n\n".join(parts), MAX_BODY)


def check_summary(report: Report | None, outcome: str, link: str | None = None) -> str:
    parts = [outcome]
    if report is not None and report.failing_tests:
        parts += ["Failing tests:", _tests(report.failing_tests)]
    if report is not None and report.patches:
        parts.append(assessment_markdown(report))
    if link:
        parts.append(f"See {link}")
    return _clip("\n\n".join(parts), MAX_BODY)


def job_summary(report: Report | None, headline: str, notes: Sequence[str] = ()) -> str:
    """The Action's job summary: what happened, the patch, the evidence, where the fault was localized."""
    parts = ["## repairbot", headline, *notes]
    if report is None:
        return "\n\n".join(parts)
    patch = report.patches[0] if report.patches else None
    if patch is not None:
        parts += ["### The patch", _fence(_clip(patch.diff, 30_000), "diff")]
    parts += ["### Evidence", _evidence(report, patch)]
    parts += ["### Failing tests", _tests(report.failing_tests)]
    parts += ["### Where the fault was localized", _locations(report.localization)]
    if patch is not None:
        parts += ["### Code or test?", _judgement(report, patch)]
        parts += ["### Tests updated or added", _test_changes(patch)]
    if report.notes:
        parts += ["### Notes", "\n".join(f"- {n}" for n in report.notes[:10])]
    if report.error:
        parts.append(f"**Engine error:** {report.error}")
    return _clip("\n\n".join(p for p in parts if p), MAX_BODY)


def _evidence(report: Report, patch: Patch | None) -> str:
    s = report.stats
    before = len(report.failing_tests)
    if patch is None:
        after = "no validated patch"
    elif patch.suite_passed:
        after = "0 failing: the whole suite passes"
    else:
        after = f"the {before} failing test(s) pass; the whole suite did not pass"
    rows = [
        ("Failing tests before", str(before)),
        ("Failing tests after the patch", after),
    ]
    if report.newly_failing is not None:
        base = (report.base or "")[:12]
        rows.append((f"Of those, passing on the base {base}", str(len(report.newly_failing))))
    rounds = f"{s.rounds}" + "".join(
        f"; round {r.round}: {r.candidates} generated, {r.validated} validated, {r.plausible} plausible"
        for r in report.rounds
    )
    rows.append(("Rounds", rounds))
    npc = "—" if s.first_plausible_at is None else f"#{s.first_plausible_at}"
    rows.append(("Candidates", f"{s.candidates_generated} generated, {s.candidates_validated} validated, "
                               f"first plausible at {npc}"))  # fmt: skip
    confidence = getattr(patch, "confidence", None) or getattr(report, "confidence", None)
    if confidence:
        rows.append(("Confidence", str(confidence)))
    if patch is not None:
        rows.append(("Generator", f"`{patch.generator}`" + (f", rule `{patch.rule}`" if patch.rule else "")))
    rows.append(("Time", f"{s.seconds:.1f}s" + (f" (sandbox: {report.sandbox})" if report.sandbox else "")))
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])
