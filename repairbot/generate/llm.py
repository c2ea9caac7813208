"""Generator "llm": Self-Debugging prompts to an OpenAI-compatible chat endpoint (`--llm URL`), optional.

Each round sends one chat request (`POST {URL}/v1/chat/completions`) with
* the suspicious definitions around `ctx.locations` (the enclosing function, else the top-level statement),
  with line numbers,
* the failing tests' output (`TestOutcome.longrepr`, trimmed),
* the feedback of earlier rounds (`ctx.feedback`): which tests each previous candidate fixed, which still
  fail, which it broke, and the code an earlier LLM reply proposed,
and asks for each corrected definition in a ```python block (a unified diff in a ```diff block is accepted
too).
A returned definition replaces the byte range of the definition node with the same name, re-indented to its
place; the rest of the file stays byte-identical, and a result that does not parse is dropped.

Configuration: the URL from the constructor or `Job.llm_url` (none: the generator proposes nothing);
`REPAIRBOT_LLM_MODEL` (default: the first model the endpoint lists at /v1/models), `REPAIRBOT_LLM_KEY` or
`OPENAI_API_KEY` (sent only as `Authorization: Bearer` to that URL; redirects are not followed),
`REPAIRBOT_LLM_TIMEOUT` seconds per request (default 60, further bounded by `ctx.budget.deadline`, a
`time.monotonic()` value), `REPAIRBOT_LLM_SAMPLES` completions per request (default 1). Turns are bounded by
`max_turns` (rounds with `ctx.round > max_turns` send nothing). Endpoint errors and malformed replies give no
candidates and one warning line, never an exception.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import os
import re
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from tree_sitter import Node
from unidiff.errors import UnidiffParseError

from repairbot import diffs
from repairbot.models import Candidate, Edit, GenerationContext, Verdict
from repairbot.parsing import parse

log = logging.getLogger(__name__)

_DEFINITIONS = frozenset({"function_definition", "class_definition", "decorated_definition"})

SYSTEM_PROMPT = (
    "You are an expert Python developer. You repair bugs with the smallest correct change, "
    "keeping names, signatures and style. You never change the tests."
)
MAX_TESTS_SHOWN = 5
MAX_REPR_LINES = 60
MAX_REPR_CHARS = 3000
MAX_FEEDBACK = 5

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_NUMBERED = re.compile(r"^\s*\d+ ?\| ?")


@dataclass(frozen=True, slots=True)
class Target:
    """A definition (or top-level statement) shown to the model and replaceable by its reply."""

    path: str
    start: int  # byte range of the node in the snapshot's file
    end: int
    first_line: int  # 1-based, of the node's first line
    name: str | None  # the function or class name; None for another statement
    indent: bytes  # leading whitespace of the node's first line
    newline: bytes

    def label(self) -> str:
        return f"`{self.name}`" if self.name else "statement"


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def chat_url(url: str) -> str:
    """`URL/v1/chat/completions` whether or not `url` already ends in /v1 (or is the full endpoint)."""
    base = url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if base.endswith("/v1"):
        return base + "/chat/completions"
    return base + "/v1/chat/completions"


def _definition_name(node: Node) -> str | None:
    if node.type == "decorated_definition":
        inner = node.child_by_field_name("definition")
        return _definition_name(inner) if inner is not None else None
    name = node.child_by_field_name("name")
    return name.text.decode("utf-8", "replace") if name is not None and name.text is not None else None


def enclosing_target(path: str, source: bytes, line: int) -> Target | None:
    """The innermost function definition containing 1-based `line` (with its decorators); else the innermost
    class; else the top-level statement there."""
    tree = parse(source)
    row = line - 1
    node: Node | None = tree.root_node
    best: Node | None = None
    top: Node | None = None
    while node is not None:
        child = next(
            (c for c in node.children if c.start_point[0] <= row <= c.end_point[0] and c.type != "comment"),
            None,
        )
        if child is None:
            break
        if top is None:
            top = child
        # The innermost function wins; a class only when no function encloses the line.
        if child.type == "function_definition" or (
            child.type == "class_definition" and (best is None or best.type == "class_definition")
        ):
            best = child
        node = child
    chosen = best or top
    if chosen is None:
        return None
    parent = chosen.parent
    if parent is not None and parent.type == "decorated_definition":
        chosen = parent
    line_start = source.rfind(b"\n", 0, chosen.start_byte) + 1
    indent = source[line_start : chosen.start_byte]
    if indent.strip():  # something else precedes the node on its line (`x = 1; y = 2`): not replaceable
        return None
    eol = source.find(b"\n", chosen.start_byte)
    newline = b"\r\n" if eol > 0 and source[eol - 1 : eol] == b"\r" else b"\n"
    return Target(
        path=path,
        start=chosen.start_byte,
        end=chosen.end_byte,
        first_line=chosen.start_point[0] + 1,
        name=_definition_name(chosen) if chosen.type in _DEFINITIONS else None,
        indent=indent,
        newline=newline,
    )


def numbered(text: str, first_line: int) -> str:
    return "\n".join(f"{first_line + i:>4} | {line}" for i, line in enumerate(text.splitlines()))


def trim_repr(text: str) -> str:
    """Head and tail of a long traceback: pytest puts the test code first and the error last."""
    lines = text.rstrip().splitlines()
    if len(lines) > MAX_REPR_LINES:
        head, tail = MAX_REPR_LINES // 3, MAX_REPR_LINES - MAX_REPR_LINES // 3
        lines = [*lines[:head], f"... ({len(lines) - head - tail} lines cut) ...", *lines[-tail:]]
    out = "\n".join(lines)
    if len(out) > MAX_REPR_CHARS:
        out = "... " + out[-MAX_REPR_CHARS:]
    return out


def _describe(verdict: Verdict) -> str:
    cand = verdict.candidate
    head = f"- {cand.generator} candidate at line {cand.line}" + (
        f" ({cand.description})" if cand.description else ""
    )
    facts = [f"result: {verdict.status}"]
    if verdict.fixed:
        facts.append("now passing: " + ", ".join(verdict.fixed[:5]))
    if verdict.still_failing:
        facts.append("still failing: " + ", ".join(verdict.still_failing[:5]))
    if verdict.broken:
        facts.append("newly failing: " + ", ".join(verdict.broken[:5]))
    if verdict.detail:
        facts.append("error: " + verdict.detail.strip().splitlines()[-1][:300])
    text = head + "; " + "; ".join(facts)
    if cand.generator == "llm" and cand.edits:
        code = cand.edits[0].text.decode("utf-8", "replace").rstrip()
        code_lines = code.splitlines()
        if len(code_lines) > 40:
            code = "\n".join([*code_lines[:40], "..."])
        text += f"\n  It proposed:\n```python\n{code}\n```"
    return text


def build_messages(
    ctx: GenerationContext, targets: Sequence[Target], sources: dict[str, bytes]
) -> list[dict[str, str]]:
    """The Self-Debugging prompt: failing output, suspicious code, feedback of earlier rounds."""
    parts = [
        "The tests of a Python project fail. Find the bug in the code below and fix it "
        "(do not change the tests)."
    ]
    if ctx.failing:
        parts.append("## Failing tests")
        for outcome in ctx.failing[:MAX_TESTS_SHOWN]:
            detail = trim_repr(outcome.longrepr or outcome.message or outcome.outcome)
            parts.append(f"### {outcome.nodeid} ({outcome.outcome})\n```\n{detail}\n```")
        if len(ctx.failing) > MAX_TESTS_SHOWN:
            parts.append(f"(and {len(ctx.failing) - MAX_TESTS_SHOWN} more failing tests)")
    if ctx.job.issue_text:
        parts.append("## Issue\n" + ctx.job.issue_text.strip()[:MAX_REPR_CHARS])
    parts.append("## Suspicious code")
    for t in targets:
        text = (t.indent + sources[t.path][t.start : t.end]).decode("utf-8", "replace")
        last = t.first_line + text.count("\n")
        header = f"### {t.path}, lines {t.first_line}-{last} ({t.label()})"
        parts.append(f"{header}\n```python\n{numbered(text, t.first_line)}\n```")
    if ctx.feedback:
        parts.append(f"## Earlier attempts (this is round {ctx.round}) and what the tests said")
        parts.extend(_describe(v) for v in ctx.feedback[:MAX_FEEDBACK])
        parts.append("Do not repeat an attempt that did not work; explain to yourself why it failed first.")
    if ctx.snapshot.changed:
        parts.append(
            "The code shown already includes a partial fix from an earlier round in: "
            + ", ".join(sorted(ctx.snapshot.changed))
        )
    parts.append(
        "Reply with the complete corrected version of each function you change, each in its own ```python "
        "block, with the same name and signature and without line numbers. A unified diff in a ```diff block "
        "is accepted too."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n\n".join(parts)}]


def _strip_numbers(code: str) -> str:
    lines = code.splitlines()
    body = [ln for ln in lines if ln.strip()]
    if body and all(_NUMBERED.match(ln) for ln in body):
        return "\n".join(_NUMBERED.sub("", ln, count=1) for ln in lines)
    return code


def _segment(code: str, name: str | None) -> str | None:
    """The source of the definition called `name` in `code` (decorators included), dedented; the whole code
    when `name` is None. None when `code` does not parse or holds no such definition."""
    try:
        module = ast.parse(code)
    except SyntaxError:
        return None
    if name is None:
        return code
    lines = code.splitlines()
    found: ast.AST | None = None
    for node in ast.walk(module):  # breadth-first: a top-level definition wins over a nested one
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            found = node
            break
    if found is None:
        return None
    assert isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    first = min([found.lineno, *(d.lineno for d in found.decorator_list)])
    last = found.end_lineno or found.lineno
    return textwrap.dedent("\n".join(lines[first - 1 : last]))


def _place(segment: str, target: Target) -> bytes:
    """Re-indent a dedented definition to the target's column, with the file's line endings."""
    lines = segment.strip("\n").rstrip().splitlines()
    indent = target.indent.decode("utf-8", "replace")
    placed = [lines[0], *((indent + ln) if ln.strip() else "" for ln in lines[1:])]
    return target.newline.join(ln.rstrip().encode("utf-8") for ln in placed)


def _parses(source: bytes) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def _first_changed_line(old: bytes, new: bytes, first_line: int) -> int:
    for i, (a, b) in enumerate(zip(old.splitlines(), new.splitlines(), strict=False)):
        if a.rstrip() != b.rstrip():
            return first_line + i
    return first_line + min(len(old.splitlines()), len(new.splitlines()))


def apply_diff(diff: str, sources: dict[str, bytes]) -> dict[str, bytes]:
    """Apply a unified diff to the files in `sources` (paths relative to the project). Hunks are located by
    their old lines, nearest to the line the header names. Raises ValueError when a hunk does not apply."""
    result: dict[str, bytes] = {}
    try:
        patch = diffs.parse_lenient(diff)
    except UnidiffParseError as err:
        raise ValueError(f"the diff cannot be read: {err}") from None
    for patched in patch:
        name = patched.target_file.split("\t")[0].strip()
        path = name[2:] if name.startswith(("a/", "b/")) else name
        if path not in sources:
            raise ValueError(f"diff names a file that cannot be edited: {path}")
        for hunk in patched:
            old, new = diffs.old_and_new(hunk)
            current = result.get(path, sources[path])
            newline = b"\r\n" if b"\r\n" in current else b"\n"
            text = current.decode("utf-8").splitlines()
            want = hunk.source_start - 1
            spots = [
                s
                for s in range(len(text) - len(old) + 1)
                if [t.rstrip() for t in text[s : s + len(old)]] == [o.rstrip() for o in old]
            ]
            if not spots:
                raise ValueError(f"a hunk does not apply to {path}")
            at = min(spots, key=lambda s: abs(s - want))
            text[at : at + len(old)] = new
            ending = newline if current.endswith((b"\n", b"\r")) else b""
            result[path] = newline.join(t.encode("utf-8") for t in text) + ending
    return result


def _minimal_edit(path: str, old: bytes, new: bytes) -> tuple[Edit, int] | None:
    """One edit covering the changed lines only, and the first changed line (1-based)."""
    if old == new:
        return None
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    start = sum(len(x) for x in a[:head])
    end = len(old) - sum(len(x) for x in a[len(a) - tail :])
    text = b"".join(b[head : len(b) - tail])
    return Edit(path, start, end, text), head + 1


class LLMGenerator:
    """Candidates from an OpenAI-compatible chat model (see the module docstring)."""

    name = "llm"

    def __init__(
        self,
        url: str | None = None,
        *,
        model: str | None = None,
        key: str | None = None,
        timeout_s: float | None = None,
        max_turns: int = 3,
        max_functions: int = 3,
        samples: int | None = None,
        temperature: float = 0.2,
    ) -> None:
        self.url = url
        self.model = model or os.environ.get("REPAIRBOT_LLM_MODEL") or None
        self.key = key or os.environ.get("REPAIRBOT_LLM_KEY") or os.environ.get("OPENAI_API_KEY") or None
        self.timeout_s = timeout_s if timeout_s is not None else _env_float("REPAIRBOT_LLM_TIMEOUT", 60.0)
        self.max_turns = max_turns
        self.max_functions = max_functions
        self.samples = samples if samples is not None else max(1, int(_env_float("REPAIRBOT_LLM_SAMPLES", 1)))
        self.temperature = temperature
        self.requests = 0  # chat requests sent (for stats and tests)

    # -- endpoint -------------------------------------------------------------------------------------------

    def _client(self, timeout: float) -> httpx.Client:
        # No redirects and no proxies/netrc from the environment: the key goes to the configured URL only.
        return httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        return headers

    def _model_name(self, client: httpx.Client, url: str) -> str:
        if self.model:
            return self.model
        models_url = chat_url(url).removesuffix("/chat/completions") + "/models"
        try:
            reply = client.get(models_url, headers=self._headers())
            data = reply.json().get("data") if reply.status_code == 200 else None
            if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get("id"):
                self.model = str(data[0]["id"])
                return self.model
        except (httpx.HTTPError, ValueError, AttributeError):
            pass
        self.model = "default"
        return self.model

    def complete(self, url: str, messages: list[dict[str, str]], timeout: float) -> list[str]:
        """The reply texts of one chat request; raises httpx.HTTPError or ValueError on any failure."""
        with self._client(timeout) as client:
            body: dict[str, Any] = {
                "model": self._model_name(client, url),
                "messages": messages,
                "temperature": self.temperature if self.samples == 1 else max(self.temperature, 0.7),
            }
            if self.samples > 1:
                body["n"] = self.samples
            self.requests += 1
            reply = client.post(chat_url(url), headers=self._headers(), content=json.dumps(body))
        if reply.status_code != 200:
            raise ValueError(f"HTTP {reply.status_code}: {reply.text.strip()[:120]!r}")
        payload = reply.json()
        choices = payload.get("choices") if isinstance(payload, dict) else None
        if not isinstance(choices, list) or not choices:
            raise ValueError("reply has no choices")
        texts = []
        for choice in choices:
            message = choice.get("message") if isinstance(choice, dict) else None
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str) and content.strip():
                texts.append(content)
        if not texts:
            raise ValueError("reply has no message content")
        return texts

    # -- generation -----------------------------------------------------------------------------------------

    def targets(self, ctx: GenerationContext) -> tuple[list[Target], dict[str, bytes]]:
        """Distinct definitions around the most suspicious locations (traceback frames when none)."""
        editable = set(ctx.source_files)
        tests = set(ctx.test_files)
        spots = [(loc.path, loc.line) for loc in ctx.locations]
        if not spots:
            spots = [frame for outcome in ctx.failing for frame in reversed(outcome.frames)]
        found: list[Target] = []
        sources: dict[str, bytes] = {}
        for path, line in spots:
            if len(found) >= self.max_functions:
                break
            if path in tests or (editable and path not in editable) or not path.endswith(".py"):
                continue
            if path not in sources:
                try:
                    sources[path] = ctx.snapshot.read(path)
                except OSError:
                    continue
            target = enclosing_target(path, sources[path], line)
            if target is None or any(
                t.path == target.path and t.start <= target.start and target.end <= t.end for t in found
            ):
                continue
            # A new target that contains an earlier one replaces it (a method then its class: keep the class).
            found = [
                t for t in found if not (t.path == path and target.start <= t.start and t.end <= target.end)
            ]
            found.append(target)
        return found, sources

    def generate(self, ctx: GenerationContext) -> list[Candidate]:
        url = self.url or ctx.job.llm_url
        if not url or ctx.round > self.max_turns or ctx.limit <= 0:
            return []
        targets, sources = self.targets(ctx)
        if not targets:
            return []
        timeout = self.timeout_s
        deadline = ctx.budget.deadline
        if deadline < math.inf:
            timeout = min(timeout, deadline - time.monotonic() - 1.0)
            if timeout < 1.0:
                return []
        messages = build_messages(ctx, targets, sources)
        try:
            replies = self.complete(url, messages, timeout)
        except (httpx.HTTPError, ValueError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            log.warning("[%s] llm: no candidates from %s: %s", ctx.job.job_id, chat_url(url), reason)
            return []
        candidates: list[Candidate] = []
        seen: set[tuple[str, int, int, bytes]] = set()
        for reply in replies:
            for cand in self.parse_reply(reply, targets, sources, ctx):
                key = (cand.edits[0].path, cand.edits[0].start, cand.edits[0].end, cand.edits[0].text)
                if key not in seen:
                    seen.add(key)
                    candidates.append(cand)
        if not candidates:
            log.warning("[%s] llm: the reply held no usable code (round %d)", ctx.job.job_id, ctx.round)
        return candidates[: ctx.limit]

    def parse_reply(
        self, reply: str, targets: Sequence[Target], sources: dict[str, bytes], ctx: GenerationContext
    ) -> list[Candidate]:
        """Candidates from the fenced blocks of one reply, best (first) first."""
        out: list[Candidate] = []
        blocks = _FENCE.findall(reply)
        if not blocks and reply.lstrip().startswith(("def ", "async def ", "class ", "@")):
            blocks = [("python", reply)]  # a bare definition without a fence
        for lang, code in blocks:
            if lang.lower() in ("diff", "patch", "udiff") or code.lstrip().startswith(
                ("--- ", "diff --git", "@@ ")
            ):
                out.extend(self._from_diff(code, targets, sources, ctx))
            elif lang.lower() in ("", "python", "py", "python3"):
                cand = self._from_code(code, targets, sources, ctx, rank=len(out))
                if cand is not None:
                    out.append(cand)
        return out

    def _from_code(
        self,
        code: str,
        targets: Sequence[Target],
        sources: dict[str, bytes],
        ctx: GenerationContext,
        rank: int,
    ) -> Candidate | None:
        code = _strip_numbers(code)
        for target in targets:
            if target.name is None and len(targets) > 1:
                continue  # a bare statement can only be matched when it is the only thing shown
            segment = _segment(code, target.name)
            if segment is None or not segment.strip():
                continue
            source = sources[target.path]
            new = _place(segment, target)
            old = source[target.start : target.end]
            if new == old:
                continue
            patched = source[: target.start] + new + source[target.end :]
            if not _parses(patched):
                continue
            return Candidate(
                edits=(Edit(target.path, target.start, target.end, new),),
                generator="llm",
                rule=None,
                score=max(0.1, 0.6 - 0.05 * rank),
                description=f"LLM rewrite of {target.label()} (round {ctx.round})",
                kind="code",
                line=_first_changed_line(old, new, target.first_line),
            )
        return None

    def _from_diff(
        self, diff: str, targets: Sequence[Target], sources: dict[str, bytes], ctx: GenerationContext
    ) -> list[Candidate]:
        editable = {p: sources[p] for p in {t.path for t in targets}}
        for path in ctx.source_files:
            if path not in editable:
                try:
                    editable[path] = ctx.snapshot.read(path)
                except OSError:
                    continue
        try:
            patched = apply_diff(diff, editable)
        except (ValueError, UnicodeDecodeError):
            return []
        edits: list[Edit] = []
        first = 0
        for path, new in sorted(patched.items()):
            if not _parses(new):
                return []
            made = _minimal_edit(path, editable[path], new)
            if made is not None:
                edits.append(made[0])
                first = first or made[1]
        if not edits:
            return []
        return [
            Candidate(
                edits=tuple(edits),
                generator="llm",
                rule=None,
                score=0.5,
                description=f"LLM diff (round {ctx.round})",
                kind="code",
                line=first,
            )
        ]
