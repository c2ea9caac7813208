"""Which real fixes of the fix corpus the `guards` generator reproduces exactly.

    python benchmarks/shape_coverage.py --corpus bench/fixcorpus/corpus.jsonl
        [--mirrors /work/.mirror] [--json out.jsonl] [--limit N]

The corpus is rules' (coordinates of small fix commits of 126 projects, none held out); each fix is read from
the project's git mirror: the file at the parent and at the fix. Every hunk is tried on its own (the repair
loop fixes one hunk per round): the generator runs, without any failing test (no exception cue: every
template, at its uncued weight), at the statements of the hunk's changed lines in the parent version (for a
pure insertion, the statements on both sides), each proposal is applied, and the result is compared with the
parent plus that hunk after normalization (the AST without docstrings, DESIGN §6). Prints per template how
many fixes it produces, in how many projects, and the first few as owner/repo@sha (the sources of guards.yml).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from tree_sitter import Node

from repairbot.generate.guards import proposals
from repairbot.parsing import normalized_key
from repairbot.parsing.tree import Source, statement_at


def _git_dir(mirrors: Path, repo: str) -> str | None:
    base = mirrors / repo.replace("/", "+")
    for cand in (base / "repo" / ".git", base / "repo", base):
        if (cand / "objects").is_dir():
            return str(cand)
    return None


def _show(git_dir: str, rev: str, path: str) -> bytes | None:
    proc = subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{rev}:{path}"], capture_output=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None


def _with_hunk(before: bytes, after: bytes, hunk: list[int]) -> bytes:
    old_start, old_len, new_start, new_len = hunk
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    at = old_start if old_len == 0 else old_start - 1
    return b"".join(a[:at] + b[new_start - 1 : new_start - 1 + new_len] + a[at + old_len :])


def _lines(hunk: list[int]) -> list[int]:
    old_start, old_len, _, _ = hunk
    return [old_start, old_start + 1] if old_len == 0 else list(range(old_start, old_start + old_len))


def _propose(src: Source, stmt: Node) -> list[tuple[int, int, bytes, str]]:
    return [(p.start, p.end, p.text, p.template) for p in proposals(src, stmt, [])]


def fixes(corpus: Path) -> Iterator[dict[str, object]]:
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument(
        "--mirrors", type=Path, default=Path(os.environ.get("REPAIRBOT_MIRRORS", "/work/.mirror"))
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--every", type=int, default=1, help="read every Nth fix only (a reproducible sample)")
    ap.add_argument("--write", action="store_true", help="write priors and sources into guards.yml")
    ns = ap.parse_args(argv)
    produced: dict[str, list[str]] = defaultdict(list)
    projects: dict[str, set[str]] = defaultdict(set)
    fired: Counter[str] = Counter()
    total = missing = 0
    out = ns.json.open("w", encoding="utf-8") if ns.json else None
    for n, fix in enumerate(fixes(ns.corpus)):
        if ns.limit and n >= ns.limit:
            break
        if n % ns.every:
            continue
        repo, sha, parent, path = str(fix["repo"]), str(fix["sha"]), str(fix["parent"]), str(fix["path"])
        git_dir = _git_dir(ns.mirrors, repo)
        before = _show(git_dir, parent, path) if git_dir else None
        after = _show(git_dir, sha, path) if git_dir else None
        if before is None or after is None:
            missing += 1
            continue
        total += 1
        src = Source.of(before)
        hits: set[str] = set()
        for hunk in fix["hunks"]:  # type: ignore[attr-defined]
            target = normalized_key(_with_hunk(before, after, hunk))
            if target is None:
                continue
            stmts = {}
            for line in _lines(hunk):
                stmt = statement_at(src.tree, line)
                if stmt is not None:
                    stmts[stmt.start_byte] = stmt
            for stmt in stmts.values():
                for start, end, text, template in _propose(src, stmt):
                    fired[template] += 1
                    if (
                        template not in hits
                        and normalized_key(before[:start] + text + before[end:]) == target
                    ):
                        hits.add(template)
        for template in hits:
            produced[template].append(f"{repo}@{sha[:10]}")
            projects[template].add(repo)
        if out is not None:
            out.write(json.dumps({"repo": repo, "sha": sha, "produced": sorted(hits)}) + "\n")
        if total % 500 == 0:
            print(f"... {total} fixes", file=sys.stderr, flush=True)
    if out is not None:
        out.close()
    any_fix = len({f for fs in produced.values() for f in fs})
    print(f"guards: {total} fixes read ({missing} not in the mirrors); {any_fix} produced by some template")
    print("| template | fixes it produces | projects | proposals made | examples |")
    print("| --- | ---: | ---: | ---: | --- |")
    for template in sorted(fired, key=lambda t: -len(produced[t])):
        examples = ", ".join(produced[template][:4])
        counts = f"{len(produced[template])} | {len(projects[template])} | {fired[template]}"
        print(f"| `{template}` | {counts} | {examples} |")
    if ns.write:
        sample = f"every {ns.every}th fix of {ns.corpus.name}" if ns.every > 1 else ns.corpus.name
        write_priors(GUARDS_YML, fired, produced, f"{total} fixes ({sample})")
    return 0


GUARDS_YML = Path(__file__).resolve().parents[1] / "repairbot" / "generate" / "guards.yml"
VERSION = 1


def write_priors(path: Path, fired: Counter[str], produced: dict[str, list[str]], corpus: str) -> None:
    """Each template's prior becomes its precision on the corpus, (produced + 1) / (proposals + 2), and the
    first fixes it reproduces join its sources; the file's comments and layout stay as they are."""
    text = path.read_text(encoding="utf-8")
    learned = (
        f"learned: {{script: benchmarks/shape_coverage.py, version: {VERSION}, corpus: {json.dumps(corpus)}}}"
    )
    text = re.sub(r"^learned: .*$", learned, text, flags=re.M)
    for template in re.findall(r"^  - id: (\S+)$", text, flags=re.M):
        block = re.search(rf"^  - id: {re.escape(template)}\n(?:    .*\n|\s*#.*\n|\n)*", text, flags=re.M)
        if block is None:
            continue
        prior = (len(produced[template]) + 1) / (fired[template] + 2)
        old = re.search(r"^    sources: \[(.*)\]$", block.group(0), flags=re.M)
        kept = [x.strip() for x in old.group(1).split(",") if x.strip()] if old else []
        sources = ", ".join(dict.fromkeys([*kept, *produced[template][:3]]))
        new = re.sub(r"^    prior: .*$", f"    prior: {prior:.4f}", block.group(0), flags=re.M)
        new = re.sub(r"^    sources: .*$", f"    sources: [{sources}]", new, flags=re.M)
        text = text[: block.start()] + new + text[block.end() :]
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
