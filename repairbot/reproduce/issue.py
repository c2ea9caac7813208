"""Reproduction tests from issue text.

* `reproduction_test(issue_text, root)`: a pytest (or unittest, following the repository) test built from an
  issue's code snippet: expected values stated in comments or prose become assertions; a snippet whose
  traceback is quoted becomes a test that must run without raising.
* `issue_locations(issue_text, root)`: (path, line) of the repository frames of an issue's traceback.
* `reproduce_issue(issue_text, root)`: both, as a Reproduction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from repairbot.parsing import syntax_ok

_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
_BLOCK = re.compile(r"```[ \t]*(?:python|py|pycon|python3)?[ \t]*\r?\n(.*?)```", re.S | re.I)
_EXPECT_COMMENT = re.compile(
    r"#\s*(?:expected|expect|should\s+(?:be|return|give)|want(?:ed)?|correct(?:\s+result)?)\s*:?\s*(.+?)\s*$",
    re.I,
)
_EXPECT_PROSE = re.compile(
    r"(?:expected|should\s+(?:be|return|give|print)|instead\s+of)\s*(?:output|result|value)?\s*:?\s*`([^`]+)`",
    re.I,
)


def issue_locations(issue_text: str, root: Path) -> list[tuple[str, int]]:
    """(repository path, line) of each traceback frame of the issue that lies in the repository, in
    traceback order (innermost last), without duplicates."""
    out: list[tuple[str, int]] = []
    files = None
    for m in _FRAME.finditer(issue_text):
        raw, line = m.group(1).replace("\\", "/"), int(m.group(2))
        rel = _to_repo_path(raw, root)
        if rel is None:
            if files is None:
                files = [p.relative_to(root).as_posix() for p in root.rglob("*.py") if ".git" not in p.parts]
            tail = raw.rsplit("/", 1)[-1]
            hits = [
                f
                for f in files
                if raw.endswith("/" + f) or f == raw or (f.endswith("/" + tail) and "/" not in raw)
            ]
            rel = hits[0] if len(hits) == 1 else None
        if rel is not None and "site-packages" not in raw and (rel, line) not in out:
            out.append((rel, line))
    return out


def _to_repo_path(raw: str, root: Path) -> str | None:
    parts = [p for p in raw.split("/") if p]
    for i in range(len(parts)):
        cand = "/".join(parts[i:])
        if (root / cand).is_file():
            return cand
    return None


def _code_blocks(issue_text: str) -> list[str]:
    blocks = [m.group(1) for m in _BLOCK.finditer(issue_text)]
    if not blocks:
        # An unfenced interactive session.
        session = [ln for ln in issue_text.splitlines() if ln.startswith((">>> ", "... "))]
        if session:
            blocks = ["\n".join(issue_text.splitlines())]
    return blocks


def _session_to_code(block: str) -> tuple[list[str], list[tuple[str, str]]]:
    """A `>>>` session: (statements, [(expression, printed output)])."""
    stmts: list[str] = []
    pairs: list[tuple[str, str]] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith(">>> "):
            code = ln[4:]
            i += 1
            while i < len(lines) and lines[i].startswith("... "):
                code += "\n" + lines[i][4:]
                i += 1
            out: list[str] = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(">>> "):
                out.append(lines[i])
                i += 1
            if out and not out[0].startswith("Traceback"):
                pairs.append((code, "\n".join(out)))
            stmts.append(code)
        else:
            i += 1
    return stmts, pairs


def _is_expression(code: str) -> bool:
    try:
        import ast

        tree = ast.parse(code)
    except SyntaxError:
        return False
    return len(tree.body) == 1 and isinstance(tree.body[0], __import__("ast").Expr)


def _literal_ok(s: str) -> bool:
    import ast

    try:
        ast.literal_eval(s)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _test_dir(root: Path) -> str:
    for cand in ("tests", "test", "testing"):
        if (root / cand).is_dir():
            return cand
    return "tests"


def _uses_unittest(root: Path, test_dir: str) -> bool:
    files = list((root / test_dir).rglob("test*.py"))[:50] if (root / test_dir).is_dir() else []
    if not files:
        return False
    uni = sum(1 for f in files if b"unittest.TestCase" in f.read_bytes() or b"(TestCase)" in f.read_bytes())
    return uni * 2 > len(files)


def reproduction_test(issue_text: str, root: Path) -> tuple[str, bytes] | None:
    """(path, source) of a test reproducing the issue, or None when the issue has no usable snippet.

    Assertions come from expected values the issue states: `# expected: X` comments on a line of the
    snippet, or prose such as "should return `X`" about the snippet's last expression. Without one, a snippet
    quoted together with a traceback becomes a test that runs it (it fails while the exception is raised).
    The pipeline must check that the test fails on the current code before using it."""
    blocks = _code_blocks(issue_text)
    body: list[str] = []
    asserted = False
    for block in blocks:
        if block.lstrip().startswith("Traceback"):
            continue
        if ">>> " in block:
            stmts, pairs = _session_to_code(block)
            body.extend(stmts)
            expected_prose = _EXPECT_PROSE.findall(issue_text)
            if pairs and expected_prose and _literal_ok(expected_prose[-1]):
                expr = pairs[-1][0]
                if _is_expression(expr):
                    body[body.index(expr)] = f"assert {expr} == {expected_prose[-1]}"
                    asserted = True
            continue
        for raw in block.splitlines():
            if not raw.strip() or raw.lstrip().startswith("Traceback"):
                continue
            m = _EXPECT_COMMENT.search(raw)
            code = raw[: m.start()].rstrip() if m else raw.rstrip()
            if m and _literal_ok(m.group(1).strip("` ")):
                expected = m.group(1).strip("` ")
                pm = re.fullmatch(r"(\s*)print\((.*)\)", code)
                expr = pm.group(2) if pm else code.strip()
                lead = pm.group(1) if pm else code[: len(code) - len(code.lstrip())]
                if _is_expression(expr):
                    body.append(f"{lead}assert {expr} == {expected}")
                    asserted = True
                    continue
            body.append(code)
        if not asserted:
            prose = _EXPECT_PROSE.findall(issue_text)
            last = next((ln for ln in reversed(body) if ln.strip() and not ln.startswith((" ", "\t"))), "")
            pm = re.fullmatch(r"print\((.*)\)", last)
            expr = pm.group(1) if pm else last
            if prose and _literal_ok(prose[-1]) and _is_expression(expr):
                body[len(body) - 1 - body[::-1].index(last)] = f"assert {expr} == {prose[-1]}"
                asserted = True
    has_traceback = "Traceback (most recent call last)" in issue_text or bool(_FRAME.search(issue_text))
    if not body or not (asserted or has_traceback):
        return None
    code = "\n".join(body)
    if not syntax_ok(code.encode()):
        return None
    imports = [ln for ln in body if re.match(r"(from \S+ )?import ", ln)]
    rest = [ln for ln in body if ln not in imports]
    test_dir = _test_dir(root)
    name = "test_issue_reproduction"
    path = f"{test_dir}/{name}.py"
    i = 2
    while (root / path).exists():
        path, i = f"{test_dir}/{name}_{i}.py", i + 1
    if _uses_unittest(root, test_dir):
        lines = [
            "import unittest",
            *imports,
            "",
            "",
            "class IssueReproductionTest(unittest.TestCase):",
            "    def test_issue(self):",
            *("        " + ln if ln.strip() else "" for ln in rest),
        ]
    else:
        lines = [*imports, "", "", "def test_issue():", *("    " + ln if ln.strip() else "" for ln in rest)]
    src = ("\n".join(lines).strip("\n") + "\n").encode()
    if not syntax_ok(src):
        return None
    return path, src


@dataclass(frozen=True, slots=True)
class Reproduction:
    """What an issue gives the repair: a test that reproduces it (when one could be made), and the
    repository frames of its traceback (localization evidence)."""

    frames: tuple[tuple[str, int], ...]
    path: str | None = None  # the added test file
    source: bytes = b""

    @property
    def files(self) -> dict[str, bytes]:
        return {self.path: self.source} if self.path is not None else {}


def reproduce_issue(issue_text: str, root: Path, code: bool = True) -> Reproduction:
    """The reproduction of an issue in the project at `root` (the test still has to fail on the code).
    `code` False: the issue's code blocks are untrusted (no maintainer approved them): frames only."""
    frames = tuple(issue_locations(issue_text, root))
    if not code:
        return Reproduction(frames)
    made = reproduction_test(issue_text, root)
    if made is None:
        return Reproduction(frames)
    return Reproduction(frames, made[0], made[1])
