"""Turn a repair diff into GitHub ```suggestion comments.

The diff is relative to the PR's head, so its old-side line numbers are the RIGHT-side line numbers GitHub
uses. A review comment must sit on lines that appear in the PR's own diff (one hunk for a multi-line comment),
so each change block is checked against the PR's hunks; blocks that do not fit go to the review body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from repairbot import diffs


@dataclass(frozen=True, slots=True)
class Block:
    """Replace lines start..end (1-based, inclusive, old side) of `path` with `new_lines`."""

    path: str
    start: int
    end: int
    new_lines: tuple[str, ...]
    old_lines: tuple[str, ...]
    raw: str = ""  # a whole added or removed file's diff: never placed on a line, shown in the body


@dataclass(frozen=True, slots=True)
class Suggestion:
    path: str
    start_line: int | None  # None for a single line
    line: int
    body: str

    def as_review_comment(self) -> dict[str, object]:
        comment: dict[str, object] = {
            "path": self.path,
            "line": self.line,
            "side": "RIGHT",
            "body": self.body,
        }
        if self.start_line is not None:
            comment["start_line"] = self.start_line
            comment["start_side"] = "RIGHT"
        return comment


def blocks(diff: str) -> list[Block]:
    """Contiguous change blocks of a unified diff, each anchored on at least one old line; an added or
    removed file (a new regression test) is one block with its `raw` diff."""
    result: list[Block] = []
    for pf in diffs.parse(diff):
        if pf.is_added_file or pf.is_removed_file:
            result.append(Block(diffs.path_of(pf), 0, 0, (), (), raw=str(pf)))
            continue
        path = diffs.path_of(pf)
        for hunk in pf:
            lines = list(hunk)
            i = 0
            prev_old: tuple[int, str] | None = None
            while i < len(lines):
                line = lines[i]
                if line.is_context:
                    prev_old = (line.source_line_no or 0, line.value)
                    i += 1
                    continue
                removed: list[tuple[int, str]] = []
                added: list[str] = []
                while i < len(lines) and not lines[i].is_context:
                    cur = lines[i]
                    if cur.is_removed:
                        removed.append((cur.source_line_no or 0, cur.value))
                    elif cur.is_added:
                        added.append(cur.value)
                    i += 1
                if removed:
                    result.append(
                        Block(
                            path,
                            removed[0][0],
                            removed[-1][0],
                            tuple(added),
                            tuple(v for _, v in removed),
                        )
                    )
                elif prev_old is not None:
                    # A pure insertion: suggest replacing the line above with itself plus the new lines.
                    result.append(
                        Block(path, prev_old[0], prev_old[0], (prev_old[1], *added), (prev_old[1],))
                    )
                elif i < len(lines) and lines[i].is_context:
                    nxt = lines[i]
                    result.append(
                        Block(
                            path,
                            nxt.source_line_no or 1,
                            nxt.source_line_no or 1,
                            (*added, nxt.value),
                            (nxt.value,),
                        )
                    )
    return result


def pr_hunks(patch: str | None) -> list[tuple[int, int]]:
    """RIGHT-side line ranges (inclusive) of a PR file's patch, as GitHub's pulls/N/files returns it."""
    return diffs.target_ranges(patch or "")


def suggestion_body(new_lines: Iterable[str], note: str = "") -> str:
    text = "".join(line if line.endswith("\n") else line + "\n" for line in new_lines)
    fence = "````" if "```" in text else "```"
    head = f"{note}\n\n" if note else ""
    return f"{head}{fence}suggestion\n{text}{fence}"


def review_suggestions(
    diff: str, pr_files: Mapping[str, str | None], note: str = ""
) -> tuple[list[Suggestion], list[Block]]:
    """Suggestions on the PR's changed lines, and the blocks that cannot be placed there."""
    placed: list[Suggestion] = []
    leftover: list[Block] = []
    for block in blocks(diff):
        ranges = pr_hunks(pr_files.get(block.path)) if block.path in pr_files and not block.raw else []
        if any(lo <= block.start and block.end <= hi for lo, hi in ranges):
            start = block.start if block.end > block.start else None
            placed.append(Suggestion(block.path, start, block.end, suggestion_body(block.new_lines, note)))
        else:
            leftover.append(block)
    return placed, leftover


def thread_suggestion(diff: str, path: str, first: int, last: int, original: str) -> str | None:
    """The replacement text for lines first..last of `path` (a review thread's lines), or None when the
    repair does not touch them or also changes lines outside them (a reply's suggestion covers only them)."""
    inside = [b for b in blocks(diff) if not b.raw and b.path == path and b.end >= first and b.start <= last]
    if not inside or any(b.start < first or b.end > last for b in inside):
        return None
    lines = original.splitlines(keepends=True)
    out: list[str] = []
    n = first
    for b in sorted(inside, key=lambda b: b.start):
        out.extend(lines[n - 1 : b.start - 1])
        out.extend(b.new_lines)
        n = b.end + 1
    out.extend(lines[n - 1 : last])
    return suggestion_body(out)
