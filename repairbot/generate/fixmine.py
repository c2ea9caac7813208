"""Small bug-fix commits mined from git history: the selection shared by the fix corpus (scripts/fixcorpus.py)
and by the repository-history priors of a repair (repairbot/generate/priors.py).

A commit is a small fix when its subject says so (fix, bug, wrong, typo, crash, regression, ...) and not
that it
is a refactoring, style or release change; when it changes exactly one Python source file that is not a test
(tests and other files may change with it); and when that file's change is 1 to 3 hunks of few lines, each of
which changes the file's code (docstrings, comments and layout are not code) and both versions parse.
"""

from __future__ import annotations

import difflib
import re
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from repairbot.parsing.normalize import normalized_key

MINER_VERSION = "1"

FIX_SUBJECT = re.compile(
    r"\b(fix(e[sd]|ing)?|bug(s|fix(es)?)?|hotfix|issue|wrong(ly)?|typo|crash(es|ed|ing)?|regression|"
    r"incorrect(ly)?|broken|mistake|oops|erroneous(ly)?|faulty|correct(s|ed|ly|ion)?)\b",
    re.IGNORECASE,
)
NOT_FIX_SUBJECT = re.compile(
    r"\b(refactor\w*|style|lint(ing|er)?|pep ?8|flake8|pylint|mypy|ruff|typing|type hints?|annotations?|"
    r"reformat\w*|formatting|whitespace|clean ?up|revert\w*|bump\w*|release[sd]?|changelog|merge[sd]?)\b",
    re.IGNORECASE,
)
_TEST_PARTS = frozenset({"test", "tests", "testing", "testsuite", "unittests", "unit_tests", "t"})
_SKIPPED_PARTS = frozenset(
    {
        "doc", "docs", "example", "examples", "benchmark", "benchmarks", "_vendor", "vendor", "vendored",
        "extern", "externals", "third_party", "thirdparty", "migrations", "fixtures",
    }
)  # fmt: skip
MAX_HUNKS = 3
MAX_REMOVED = 6
MAX_ADDED = 6
MAX_CHANGED = 8


def is_fix_subject(subject: str) -> bool:
    return bool(FIX_SUBJECT.search(subject)) and not NOT_FIX_SUBJECT.search(subject)


def is_test_path(path: str) -> bool:
    p = PurePosixPath(path)
    name = p.name
    return (
        any(part.lower() in _TEST_PARTS for part in p.parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name in ("conftest.py", "tests.py", "test.py")
    )


def is_source_path(path: str) -> bool:
    """A Python source file a repair may edit: not a test, not docs, examples or vendored code."""
    p = PurePosixPath(path)
    return (
        p.suffix == ".py"
        and not is_test_path(path)
        and not any(part.lower() in _SKIPPED_PARTS for part in p.parts[:-1])
        and p.name not in ("setup.py", "noxfile.py", "conftest.py")
    )


@dataclass(frozen=True, slots=True)
class Hunk:
    """One `git diff -U0` hunk: lines [old_start, old_start + old_count) of the buggy file become
    [new_start, new_start + new_count) of the fixed one; with old_count 0 the lines go after old_start."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int

    def as_list(self) -> list[int]:
        return [self.old_start, self.old_count, self.new_start, self.new_count]

    def buggy_lines(self) -> tuple[int, ...]:
        """The buggy version's lines the engine must reach: the changed ones, or the neighbours of an
        insertion (insertion rules act before, after or at the start of the body of a statement)."""
        if self.old_count:
            return tuple(range(self.old_start, self.old_start + self.old_count))
        return tuple(x for x in (self.old_start, self.old_start + 1) if x >= 1)


@dataclass(frozen=True, slots=True)
class FixCommit:
    repo: str
    sha: str
    parent: str
    path: str
    hunks: tuple[Hunk, ...]
    subject: str
    date: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "repo": self.repo,
            "sha": self.sha,
            "parent": self.parent,
            "path": self.path,
            "hunks": [h.as_list() for h in self.hunks],
            "subject": self.subject,
            "date": self.date,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FixCommit:
        hunks = data["hunks"]
        assert isinstance(hunks, list)
        return cls(
            repo=str(data["repo"]),
            sha=str(data["sha"]),
            parent=str(data["parent"]),
            path=str(data["path"]),
            hunks=tuple(Hunk(*h) for h in hunks),
            subject=str(data.get("subject", "")),
            date=str(data.get("date", "")),
        )


_HUNK_HEADER = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


def parse_hunks(diff: bytes) -> tuple[Hunk, ...]:
    return tuple(
        Hunk(int(a), int(b) if b else 1, int(c), int(d) if d else 1)
        for a, b, c, d in _HUNK_HEADER.findall(diff)
    )


def apply_hunks(buggy: bytes, fixed: bytes, hunks: Sequence[Hunk]) -> bytes:
    """The buggy file with only `hunks` (of the buggy → fixed diff) applied."""
    old = buggy.splitlines(keepends=True)
    new = fixed.splitlines(keepends=True)
    for h in sorted(hunks, key=lambda h: -h.old_start):
        repl = new[h.new_start - 1 : h.new_start - 1 + h.new_count]
        if h.old_count == 0:
            old[h.old_start : h.old_start] = repl
        else:
            old[h.old_start - 1 : h.old_start - 1 + h.old_count] = repl
    return b"".join(old)


def diff_hunks(buggy: bytes, fixed: bytes) -> tuple[Hunk, ...]:
    """The hunks `git diff -U0` would show between two versions (line-based, no context)."""
    old = buggy.splitlines(keepends=True)
    new = fixed.splitlines(keepends=True)
    out: list[Hunk] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        # git's convention: an empty side names the line before it.
        out.append(Hunk(i1 + 1 if i2 > i1 else i1, i2 - i1, j1 + 1 if j2 > j1 else j1, j2 - j1))
    return tuple(out)


def code_hunks(buggy: bytes, fixed: bytes, hunks: Sequence[Hunk]) -> tuple[Hunk, ...] | None:
    """The hunks that change code (each alone changes the normalized AST), or None when the whole change
    does not: both versions must parse (Python 3) and differ beyond docstrings, comments and layout."""
    base = normalized_key(buggy)
    after = normalized_key(fixed)
    if base is None or after is None or base == after:
        return None
    kept = tuple(h for h in hunks if normalized_key(apply_hunks(buggy, fixed, [h])) != base)
    return kept or None


# ------------------------------------------------------------------------------------------------- git


class Git:
    """Read-only access to one repository's objects (a bare mirror or a work tree's .git)."""

    def __init__(self, git_dir: str) -> None:
        self.git_dir = git_dir
        self._cat: subprocess.Popen[bytes] | None = None

    def run(self, *args: str) -> bytes:
        return subprocess.run(
            ["git", f"--git-dir={self.git_dir}", *args], capture_output=True, check=True
        ).stdout

    def blob(self, rev: str, path: str) -> bytes | None:
        """The file at `rev:path` (None when absent), through one long-lived `cat-file --batch`."""
        if self._cat is None:
            self._cat = subprocess.Popen(
                ["git", f"--git-dir={self.git_dir}", "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        assert self._cat.stdin is not None and self._cat.stdout is not None
        self._cat.stdin.write(f"{rev}:{path}\n".encode())
        self._cat.stdin.flush()
        header = self._cat.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            return None
        size = int(header[2])
        data = self._cat.stdout.read(size)
        self._cat.stdout.read(1)
        return data

    def close(self) -> None:
        if self._cat is not None:
            if self._cat.stdin is not None:
                self._cat.stdin.close()
            self._cat.wait()
            self._cat = None

    def __enter__(self) -> Git:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class LogCandidate:
    sha: str
    parent: str
    subject: str
    date: str
    path: str


def log_candidates(git: Git, rev: str = "HEAD", *, max_commits: int | None = None) -> Iterator[LogCandidate]:
    """Commits reachable from `rev` (newest first) whose subject says fix and that modify exactly one Python
    source file (one `git log --raw`, which reads no file contents); `select` checks their diffs."""
    args = ["log", "--no-merges", "--no-renames", "--raw", "--format=%x1e%H %P%x1f%cs%x1f%s"]
    if max_commits:
        args.append(f"--max-count={max_commits}")
    out = git.run(*args, rev, "--")
    for record in out.split(b"\x1e")[1:]:
        head, _, raw = record.partition(b"\n")
        ids, date, subject = head.decode("utf-8", "replace").split("\x1f", 2)
        shas = ids.split()
        if len(shas) != 2 or not is_fix_subject(subject):
            continue
        sources: list[tuple[str, str]] = []
        for line in raw.decode("utf-8", "replace").splitlines():
            meta, _, path = line.partition("\t")
            if meta.startswith(":") and is_source_path(path):
                sources.append((meta.split()[-1], path))
        if len(sources) == 1 and sources[0][0] == "M":
            yield LogCandidate(shas[0], shas[1], subject.strip()[:200], date, sources[0][1])


def fix_commits(
    git: Git, repo: str, rev: str = "HEAD", *, max_commits: int | None = None
) -> Iterator[FixCommit]:
    """The small fix commits reachable from `rev` (newest first), with their code-changing hunks."""
    return select(git, repo, log_candidates(git, rev, max_commits=max_commits))


def _changed_lines(diff: bytes) -> tuple[int, int]:
    added = removed = 0
    for line in diff.split(b"\n"):
        if line.startswith(b"+") and not line.startswith(b"+++"):
            added += 1
        elif line.startswith(b"-") and not line.startswith(b"---"):
            removed += 1
    return added, removed


def select(git: Git, repo: str, candidates: Iterable[LogCandidate]) -> Iterator[FixCommit]:
    """The candidates whose change is 1-3 small hunks, each changing the code of a file that parses before
    and after (a commit whose objects are missing from a partial mirror is skipped)."""
    seen: set[bytes] = set()
    for cand in candidates:
        try:
            diff = git.run(
                "diff", "-U0", "--no-color", "--no-ext-diff", cand.parent, cand.sha, "--", cand.path
            )
        except subprocess.CalledProcessError:
            continue
        body = diff[diff.find(b"\n@@") :]
        added, removed = _changed_lines(body)
        if added > MAX_ADDED or removed > MAX_REMOVED or not 0 < added + removed <= MAX_CHANGED:
            continue
        if body in seen:  # the same change again (a backport merged back)
            continue
        seen.add(body)
        hunks = parse_hunks(diff)
        if not 1 <= len(hunks) <= MAX_HUNKS:
            continue
        buggy = git.blob(cand.parent, cand.path)
        fixed = git.blob(cand.sha, cand.path)
        if buggy is None or fixed is None:
            continue
        kept = code_hunks(buggy, fixed, hunks)
        if kept is None:
            continue
        yield FixCommit(repo, cand.sha, cand.parent, cand.path, kept, cand.subject, cand.date)


def materialize(git: Git, fix: FixCommit) -> tuple[bytes, bytes] | None:
    """(buggy, fixed) contents of the fix's file."""
    buggy = git.blob(fix.parent, fix.path)
    fixed = git.blob(fix.sha, fix.path)
    if buggy is None or fixed is None:
        return None
    return buggy, fixed


__all__ = [
    "MINER_VERSION",
    "FixCommit",
    "Git",
    "Hunk",
    "apply_hunks",
    "code_hunks",
    "diff_hunks",
    "fix_commits",
    "is_fix_subject",
    "is_source_path",
    "is_test_path",
    "log_candidates",
    "materialize",
    "parse_hunks",
    "select",
]
