"""Unified diffs, the one place for them: built from two versions of a file, parsed with unidiff.

Every reader goes through `parse` (unidiff's PatchSet). `parse_lenient` first repairs what hand-written diffs
(a language model's) get wrong — hunk headers whose counts do not match their lines, context lines without
their leading space, a missing `---` line — so that unidiff can read them too.
"""

from __future__ import annotations

import difflib
from re import Match

from unidiff.constants import RE_HUNK_HEADER
from unidiff.patch import Hunk, PatchedFile, PatchSet

from repairbot.workspace import encoding_of


def unified_diff(path: str, old: bytes | None, new: bytes, context: int = 3) -> str:
    """A unified diff of one file (a/ b/ prefixes, `git apply` compatible); line endings kept as they are.
    `old` None: a new file."""
    a = old.decode(encoding_of(old)).splitlines(keepends=True) if old is not None else []
    b = new.decode(encoding_of(new)).splitlines(keepends=True)
    lines = list(
        difflib.unified_diff(a, b, f"a/{path}" if old is not None else "/dev/null", f"b/{path}", n=context)
    )
    if not lines:
        return ""
    out = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    # difflib puts no newline after the ---/+++ headers when given lines without them; normalize
    out[0] = out[0].rstrip("\n") + "\n"
    out[1] = out[1].rstrip("\n") + "\n"
    return "".join(out)


def parse(diff: str) -> PatchSet:
    """The files and hunks of a well-formed unified diff (UnidiffParseError when it is not)."""
    return PatchSet(diff)


def parse_lenient(diff: str) -> PatchSet:
    """`parse` after repairing hunk headers and context lines (see the module docstring)."""
    return PatchSet(_repair(diff))


def path_of(patched: PatchedFile) -> str:
    """The file's path in the tree: the target name (the source name for a deleted file), no a/ b/ prefix."""
    name = patched.source_file if patched.is_removed_file else patched.target_file
    name = name.split("\t")[0].strip()
    return name[2:] if name[:2] in ("a/", "b/") else name


def paths(diff: str) -> list[str]:
    """Every path a diff touches (old and new names of a rename), without a/ b/ prefixes, in order."""
    out: list[str] = []
    for patched in parse(diff):
        for name in (patched.source_file, patched.target_file):
            if name and name != "/dev/null":
                stripped = name[2:] if name[:2] in ("a/", "b/") else name
                if stripped not in out:
                    out.append(stripped)
    return out


def under(diff: str, folder: str) -> str:
    """A diff whose paths are relative to `folder` made relative to its parent tree (the project in a
    repository's subfolder → paths the repository's pull requests and annotations use)."""
    folder = folder.strip("/")
    if folder in ("", "."):
        return diff
    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("--- a/", "+++ b/")):
            line = f"{line[:6]}{folder}/{line[6:]}"
        out.append(line)
    return "".join(out)


def stats(diff: str) -> tuple[int, int, int]:
    """(files, lines added, lines removed)."""
    if not diff:
        return (0, 0, 0)
    patch = parse(diff)
    return (len(patch), patch.added, patch.removed)


def changed_lines(diff: str) -> dict[str, set[int]]:
    """Per target path, the 1-based lines a diff adds or changes; a pure deletion marks the line after which
    text was removed. For `git diff -U0` output."""
    out: dict[str, set[int]] = {}
    for patched in parse(diff):
        lines = out.setdefault(path_of(patched), set())
        for hunk in patched:
            start, count = hunk.target_start, hunk.target_length
            lines.update(range(start, start + count) if count else (max(start, 1),))
    return out


def target_ranges(hunks_only: str) -> list[tuple[int, int]]:
    """The new-side line ranges (inclusive) of a file's hunks given without file headers, as GitHub's
    pulls/N/files returns a file's `patch`. Read from the hunk headers alone: GitHub cuts long patches short,
    and the headers still say where the PR's changes are."""
    ranges = []
    for line in hunks_only.splitlines():
        match = RE_HUNK_HEADER.match(line)
        if match is not None:
            start, count = int(match.group(3)), int(match.group(4) or 1)
            if count > 0:
                ranges.append((start, start + count - 1))
    return ranges


def old_and_new(hunk: Hunk) -> tuple[list[str], list[str]]:
    """The hunk's old-side lines (context and removed) and new-side lines (context and added), no newlines."""
    old = [line.value.rstrip("\r\n") for line in hunk if line.is_context or line.is_removed]
    new = [line.value.rstrip("\r\n") for line in hunk if line.is_context or line.is_added]
    return old, new


def _repair(diff: str) -> str:
    """Recount every hunk header from its lines, give bare context lines their space, pair a lone `+++` with a
    `---`; hunks before any file header and backslash lines are dropped. Like `patch`, a line that starts
    with `---` or `+++` ends a hunk."""
    out: list[str] = []
    pending: list[str] = []
    header: Match[str] | None = None

    def flush() -> None:
        if header is not None:
            old = sum(1 for x in pending if x[:1] in (" ", "-"))
            new = sum(1 for x in pending if x[:1] in (" ", "+"))
            section = f" {header.group(5)}" if header.group(5) else ""
            out.append(f"@@ -{header.group(1)},{old} +{header.group(3)},{new} @@{section}")
            out.extend(pending)

    for line in diff.splitlines():
        if line.startswith(("--- ", "+++ ", "@@")):
            flush()
            header, pending = None, []
            if line.startswith("@@"):
                if any(x.startswith("+++ ") for x in out):
                    header = RE_HUNK_HEADER.match(line)
                continue
            if line.startswith("+++ ") and not (out and out[-1].startswith("--- ")):
                out.append("--- " + line[4:])
            out.append(line)
        elif header is None:
            if not line.startswith(("+", "-", " ", "\\")):
                out.append(line)  # what comes between files (diff --git, index lines, prose)
        elif not line.startswith("\\"):
            pending.append(line if line[:1] in ("+", "-", " ") else " " + line)
    flush()
    return "\n".join(out) + "\n"
