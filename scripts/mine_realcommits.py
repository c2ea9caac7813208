"""Mine verified co-evolution cases (repository form, kind "coevolution") from git mirrors of real projects.

    python scripts/mine_realcommits.py --mirrors DIR --cache DIR [--out bench/realcommits/cases.jsonl]
                                       [--projects bench/realcommits/projects.json] [--only owner/name,...]
                                       [--max-cases N] [--max-tries N] [--count]

A candidate is a commit (one parent, since the project's `since`) that changes production Python files and, in
the same commit, edits existing tests: a test module of the parent loses or changes lines inside a test
function. Commits that touch packaging or requirements (the one virtualenv per project must fit every case),
test data other than Python files, or more than 8 production files are skipped. Each candidate is verified in
the project's virtualenv as `repairbot bench` makes it (repairbot.bench.repos), with the commit's modified
test modules as the test command:

  1. the parent's code and tests: every test passes;
  2. the commit's production files and the parent's tests: some tests fail (a module that no longer imports
     fails all its tests); twice, the same tests;
  3. the commit's production files and tests: every test passes, and each test that failed in 2 passes under
     the same node id (a case whose failing tests the developer deleted or renamed is dropped: no update of
     the test can make that suite pass).

The tests that failed in 2 are the case's `obsolete_tests`; `change_kinds` is decided per test from the diff
(see `change_kind`). Verified cases are appended to --out as they are found; every decision goes to
<cache>/mine-log.jsonl. --count only lists how many candidates each project has.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import re
import shlex
import sys
import time
import tokenize
from pathlib import Path
from typing import Any

from repairbot.bench.repo_coevolution import (
    CommitCase,
    materialized,
    parse_commit_case,
    run_outcomes,
    unit_of,
    write_files,
)
from repairbot.bench.repos import RepoCase, _git, find_mirror
from repairbot.parsing import split_nodeid
from repairbot.workspace import is_test_path

TEST_MODULE = re.compile(r"(^|/)test_[^/]*\.py$|_test\.py$")
NOT_SOURCE = re.compile(
    r"^(docs?|examples?|benchmarks?|bench|scripts|tools|ci|dev|\.github|\.ci)/|(^|/)(setup|noxfile|conftest|"
    r"fabfile|tasks)\.py$"
)
DOCS = re.compile(
    r"^(docs?|changelog\.d|changes|newsfragments|\.github)/|(^|/)[^/]+\.(md|rst|txt)$|^[A-Z]+[A-Z_]*(\.\w+)?$"
)
PACKAGING = re.compile(
    r"(^|/)(requirements[^/]*|pyproject\.toml|setup\.(py|cfg)|tox\.ini|pytest\.ini|noxfile\.py|Pipfile.*|"
    r"poetry\.lock|.*\.lock|MANIFEST\.in)$"
)
MAX_SRC_FILES = 8
MAX_SRC_LINES = 600
MAX_DESELECTED = 5  # tests that fail at the parent already (this environment): deselected, at most this many
MAX_RUN_S = 90.0  # measured on the loaded 2-core machine; the same runs take well under 60 s when idle
MAX_OWN_ENVS = 5  # cases per project verified in a virtualenv of their own parent (older dependencies)
NO_COLLECT = "does not collect at the parent:"


# ------------------------------------------------------------------------------------------------ candidates


def _lines_deleted_in_tests(mirror: Path, parent: str, sha: str, path: str) -> bool:
    """Whether the commit deletes or changes a line inside a test function of `path` at the parent."""
    old = _git("-C", str(mirror), "show", f"{parent}:{path}", check=False).stdout
    tree = None
    try:
        tree = ast.parse(old)
    except (SyntaxError, ValueError):
        return False
    spans = [
        (n.lineno, n.end_lineno or n.lineno)
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
    ]
    diff = _git("-C", str(mirror), "diff", "-U0", parent, sha, "--", path).stdout.decode("utf-8", "replace")
    for line in diff.splitlines():
        m = re.match(r"^@@ -(\d+)(?:,(\d+))? ", line)
        if not m:
            continue
        start, count = int(m.group(1)), int(m.group(2) or "1")
        if count and any(a <= ln <= b for ln in range(start, start + count) for a, b in spans):
            return True
    return False


def candidates(mirror: Path, since: str) -> list[dict[str, Any]]:
    """Commits since `since` (newest first) that change production code and edit existing tests."""
    log = _git("-C", str(mirror), "log", "--no-merges", f"--since={since}", "--format=%H%x00%P%x00%s%x1e",
               "HEAD").stdout.decode("utf-8", "replace")  # fmt: skip
    found = []
    for record in log.split("\x1e"):
        parts = record.strip("\n").split("\x00")
        if len(parts) != 3 or len(parts[1].split()) != 1:
            continue
        sha, parent, subject = parts[0], parts[1].strip(), parts[2]
        status = _git("-C", str(mirror), "diff-tree", "-r", "--no-commit-id", "--name-status", "--no-renames",
                      parent, sha).stdout.decode("utf-8", "replace")  # fmt: skip
        src: list[str] = []
        tests: list[str] = []
        modified_modules: list[str] = []
        ok = True
        for line in status.splitlines():
            code, _, path = line.partition("\t")
            if PACKAGING.search(path):
                ok = False
            elif is_test_path(path):
                if not path.endswith(".py"):
                    ok = ok and bool(DOCS.search(path))
                    continue
                tests.append(path)
                if code == "M" and TEST_MODULE.search(path):
                    modified_modules.append(path)
            elif DOCS.search(path) or NOT_SOURCE.search(path):
                continue
            elif path.endswith(".py"):
                src.append(path)
            else:
                ok = False  # package data, build files: not worth a case of its own
        if not ok or not src or len(src) > MAX_SRC_FILES or not modified_modules:
            continue
        numstat = _git("-C", str(mirror), "diff", "--numstat", parent, sha, "--", *src).stdout.decode()
        lines = sum(int(a) + int(d) for a, d, _ in (x.split("\t") for x in numstat.splitlines()) if a != "-")
        if lines > MAX_SRC_LINES:
            continue
        edited = [m for m in modified_modules if _lines_deleted_in_tests(mirror, parent, sha, m)]
        if not edited:
            continue
        shared = _shared_words(mirror, parent, sha, src, edited)
        if not shared:
            continue
        found.append({"commit": sha, "parent": parent, "src": src, "tests": tests, "modules": edited,
                      "lines": lines, "subject": subject[:100], "shared": shared})  # fmt: skip
    return found


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{3,}|\"[^\"]{4,}\"|'[^']{4,}'")
_COMMON = frozenset(
    [
        "self",
        "None",
        "True",
        "False",
        "return",
        "assert",
        "import",
        "from",
        "with",
        "class",
        "def",
        "lambda",
        "raise",
        "pytest",
        "assertEqual",
        "assertTrue",
        "assertFalse",
        "assertRaises",
        "kwargs",
        "args",
        "value",
        "values",
        "result",
        "expected",
        "data",
        "name",
        "type",
    ]
)


def _shared_words(mirror: Path, parent: str, sha: str, src: list[str], tests: list[str]) -> int:
    """How many words (identifiers of 4+ characters, quoted strings) the lines the commit removed from the
    tests share with the lines it removed or added in the production code: a test that was changed because
    the code changed mentions what changed."""

    def removed(paths: list[str], added: bool) -> set[str]:
        diff = _git("-C", str(mirror), "diff", "-U0", parent, sha, "--", *paths).stdout.decode(
            "utf-8", "replace"
        )
        marks = ("-", "+") if added else ("-",)
        words: set[str] = set()
        for line in diff.splitlines():
            if line.startswith(marks) and not line.startswith(("---", "+++")):
                words |= set(_WORD.findall(line[1:]))
        return words - _COMMON

    return len(removed(tests, False) & removed(src, True))


# ----------------------------------------------------------------------------------------------- change kinds


def _tokens(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING):
                out.append((tok.type, tok.string))
            elif tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                out.append((tokenize.STRING, tok.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def _unit_text(source: bytes, nodeid: str) -> str:
    """The source text of the test's def and of the module-level statements it uses (imports included)."""
    try:
        module = ast.parse(source)
    except (SyntaxError, ValueError):
        return ""
    text = source.decode("utf-8", "replace")
    names = split_nodeid(nodeid)[1]
    body: list[ast.stmt] = module.body
    fn: ast.AST | None = None
    for name in names:
        fn = next((s for s in body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                   and s.name == name), None)  # fmt: skip
        if fn is None:
            return ""
        body = getattr(fn, "body", [])
    used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} if fn is not None else set()
    parts = [ast.get_source_segment(text, fn) or ""] if fn is not None else []
    for s in module.body:
        bound: set[str] = set()
        if isinstance(s, ast.Import | ast.ImportFrom):
            bound = {a.asname or a.name.split(".")[0] for a in s.names}
        elif isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and s is not fn:
            bound = {s.name}
        if bound & used:
            parts.append(ast.get_source_segment(text, s) or "")
    return "\n".join(parts)


def _imports_text(source: bytes) -> str:
    try:
        module = ast.parse(source)
    except (SyntaxError, ValueError):
        return ""
    text = source.decode("utf-8", "replace")
    imports = [s for s in module.body if isinstance(s, ast.Import | ast.ImportFrom)]
    return "\n".join(ast.get_source_segment(text, s) or "" for s in imports)


def _defs(source: bytes | None) -> dict[str, ast.AST]:
    """Qualified name -> def/class of a module."""
    out: dict[str, ast.AST] = {}
    try:
        module = ast.parse(source or b"")
    except (SyntaxError, ValueError):
        return out

    def visit(node: ast.AST, prefix: str) -> None:
        for c in ast.iter_child_nodes(node):
            if isinstance(c, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                out[prefix + c.name] = c
                visit(c, prefix + c.name + ".")

    visit(module, "")
    return out


def _params(fn: ast.AST) -> tuple[list[str], list[str]]:
    if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
        return [], []
    a = fn.args
    names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    defaults = [ast.dump(d) for d in a.defaults] + [ast.dump(d) if d else "-" for d in a.kw_defaults]
    return names, defaults


def _names(sources: dict[str, bytes | None]) -> set[str]:
    out: set[str] = set()
    for data in sources.values():
        out |= {t for k, t in _tokens((data or b"").decode("utf-8", "replace")) if k == tokenize.NAME}
    return out


def _literals(sources: dict[str, bytes | None]) -> set[str]:
    out: set[str] = set()
    for data in sources.values():
        try:
            module = ast.parse(data or b"")
        except (SyntaxError, ValueError):
            continue
        out |= {n.value for n in ast.walk(module) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return out


def _words(texts: set[str]) -> set[str]:
    return {w.lower() for t in texts for w in re.findall(r"[A-Za-z]{4,}", t)}


def _raises(node: ast.AST) -> list[str]:
    return [ast.dump(n) for n in ast.walk(node) if isinstance(n, ast.Raise)]


_EXC_WORDS = {
    "raises",
    "assertRaises",
    "assertRaisesRegex",
    "assertRaisesRegexp",
    "match",
    "Error",
    "Exception",
}


def change_kind(old_test: bytes, new_test: bytes, nodeid: str, old_src: dict[str, bytes | None],
                new_src: dict[str, bytes | None]) -> str:  # fmt: skip
    """One of the CHANGE_KINDS for an obsolete test, from what its update changed and what the production
    change did (first match: move, rename, exception, signature, default, message, return, other)."""
    old_tokens, new_tokens = _tokens(_unit_text(old_test, nodeid)), _tokens(_unit_text(new_test, nodeid))
    if old_tokens == new_tokens:  # the test itself is unchanged: its module's imports were what broke it
        old_tokens, new_tokens = _tokens(_imports_text(old_test)), _tokens(_imports_text(new_test))
    removed: list[tuple[int, str]] = []
    added: list[tuple[int, str]] = []
    context: list[str] = []
    sm = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "equal":
            removed += old_tokens[i1:i2]
            added += new_tokens[j1:j2]
            context += [t for _, t in old_tokens[max(0, i1 - 12) : i2 + 2]]
    old_defs: dict[str, ast.AST] = {}
    new_defs: dict[str, ast.AST] = {}
    old_mods: dict[str, str] = {}
    new_mods: dict[str, str] = {}
    for path, data in old_src.items():
        for name, node in _defs(data).items():
            old_defs[name] = node
            old_mods[name.split(".")[-1]] = path
    for path, data in new_src.items():
        for name, node in _defs(data).items():
            new_defs[name] = node
            new_mods[name.split(".")[-1]] = path
    old_simple = {n.split(".")[-1] for n in old_defs}
    new_simple = {n.split(".")[-1] for n in new_defs}
    gone, born = old_simple - new_simple, new_simple - old_simple
    removed_names = {t for k, t in removed if k == tokenize.NAME}
    added_names = {t for k, t in added if k == tokenize.NAME}
    # A name imported from another module than before, and defined in another file now.
    moved = {n for n in old_mods.keys() & new_mods.keys() if old_mods[n] != new_mods[n]}
    if (moved & {t for _, t in old_tokens}) and ("import" in context or "from" in context):
        return "move"
    if removed_names & gone and added_names & born:
        return "rename"
    if _EXC_WORDS & set(context) or any(t.endswith(("Error", "Exception", "Warning")) for t in removed_names):
        changed_raises = any(
            _raises(old_defs[n]) != _raises(new_defs[n]) for n in old_defs.keys() & new_defs.keys()
        )
        if changed_raises:
            return "exception"
    changed_sigs = [
        n for n in old_defs.keys() & new_defs.keys() if _params(old_defs[n])[0] != _params(new_defs[n])[0]
    ]
    changed_defaults = [
        n for n in old_defs.keys() & new_defs.keys() if _params(old_defs[n])[1] != _params(new_defs[n])[1]
    ]
    used = {t for _, t in old_tokens} | {t for _, t in new_tokens}
    call_edit = any(t in ("=", ",") for _, t in (*removed, *added)) or bool(removed_names ^ added_names)
    if call_edit and any(n.split(".")[-1] in used for n in changed_sigs):
        return "signature"
    # A keyword the test now passes that the code just gained (a parameter, a field of a record class).
    new_code_names = _names(new_src) - _names(old_src)
    keywords = {
        added[i][1] for i in range(len(added) - 1) if added[i + 1][1] == "=" and added[i][0] == tokenize.NAME
    }
    if keywords & new_code_names:
        return "signature"
    if any(n.split(".")[-1] in used for n in changed_defaults):
        return "default"
    # The expected text now says what strings the code gained say (a message, a log line, a rendered error).
    new_code_words = _words(_literals(new_src) - _literals(old_src))
    if _words({t for k, t in added if k == tokenize.STRING}) & new_code_words:
        return "message"
    if removed or added:
        return "return"
    return "other"


# ------------------------------------------------------------------------------------------------ verify


def verify(case: CommitCase, mirrors: Path | None, cache: Path) -> tuple[dict[str, Any] | None, str]:
    """{obsolete_tests, change_kinds} when the case verifies, else None and why."""
    with materialized(case, mirrors, cache) as prep:
        tree = prep.tree
        # Most candidates fail no test with the new code: that run first.
        new = run_outcomes(prep.test_cmd, tree, prep.venv, timeout=MAX_RUN_S * 2)
        if not new.tests and not new.broken:
            return None, f"{NO_COLLECT} no test ran: {new.output[-150:]!r}"
        if not new.failing and not new.broken:
            return None, "no test fails with the new code"
        write_files(tree, prep.old_src)
        parent = run_outcomes(prep.test_cmd, tree, prep.venv, timeout=MAX_RUN_S * 2)
        if not parent.tests:
            return None, f"{NO_COLLECT} no outcome: {parent.output[-150:]!r}"
        if parent.broken:
            return None, f"{NO_COLLECT} {sorted(parent.broken)[:3]}"
        if len(parent.failing) > MAX_DESELECTED:
            return None, f"fails at the parent: {sorted(parent.failing)[:3]}"
        if parent.seconds > MAX_RUN_S:
            return None, f"test command takes {parent.seconds:.0f}s"
        write_files(tree, prep.new_src)
        passed = [n for n in parent.tests if parent.of(n) == "passed"]
        failing = sorted(n for n in passed if new.of(n) in ("failed", "error"))
        if not failing:
            return None, "no test that passed at the parent fails with the new code"
        write_files(tree, prep.new_tests)
        theirs = run_outcomes(prep.test_cmd, tree, prep.venv, timeout=MAX_RUN_S * 2)
        if theirs.failing - parent.failing or theirs.broken or not theirs.tests:
            return (
                None,
                f"the commit's tests fail: {sorted((theirs.failing - parent.failing) | theirs.broken)[:3]}",
            )
        # A failing test the commit deleted (or renamed) is not obsolete: no update makes it pass as the
        # developer's suite does. A few of them are deselected from the case's command.
        gone = [n for n in failing if theirs.of(theirs.counterpart(n, parent)) != "passed"]
        if len(gone) == len(failing) or len(gone) > MAX_DESELECTED:
            return None, f"{len(gone)} failing test(s) deleted or renamed by the commit, e.g. {gone[0]}"
        write_files(tree, prep.old_tests)
        again = run_outcomes(prep.test_cmd, tree, prep.venv, timeout=MAX_RUN_S * 2)
        if sorted(n for n in passed if again.of(n) in ("failed", "error")) != failing:
            return None, "flaky: the new code's failures differ between two runs"
        obsolete = [n for n in failing if n not in gone]
        paths = {n: split_nodeid(n)[0] for n in obsolete}
        old_src, new_src = dict(prep.old_src), dict(prep.new_src)
        kinds = {
            n: change_kind(
                prep.old_tests[paths[n]] or b"", prep.new_tests[paths[n]] or b"", n, old_src, new_src
            )
            for n in obsolete
        }
        same = sum(
            unit_of(prep.old_tests[paths[n]], n) == unit_of(prep.new_tests[paths[n]], n) for n in obsolete
        )
    # Tests that already fail at the parent in this environment, and failing tests the commit deleted, are
    # deselected from the case's command (pytest's own ids: relative to its rootdir).
    rootdir = parent.rootdir
    deselect = [n[len(rootdir) :] if rootdir and n.startswith(rootdir) else n for n in sorted(parent.failing)]
    dropped = [n[len(rootdir) :] if rootdir and n.startswith(rootdir) else n for n in gone]
    return {"obsolete_tests": obsolete, "change_kinds": kinds, "unchanged_units": same, "deselect": deselect,
            "dropped": dropped}, "verified"  # fmt: skip


def attempt(raw: dict[str, Any], mirrors: Path | None, cache: Path) -> tuple[dict[str, Any] | None, str]:
    try:
        return verify(parse_commit_case(raw), mirrors, cache)
    except Exception as exc:  # one bad candidate never stops the mining
        return None, f"{type(exc).__name__}: {exc}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirrors", type=Path, required=True)
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--projects", type=Path, default=Path("bench/realcommits/projects.json"))
    ap.add_argument("--out", type=Path, default=Path("bench/realcommits/cases.jsonl"))
    ap.add_argument("--only", default="")
    ap.add_argument("--max-cases", type=int, default=8, help="verified cases per project")
    ap.add_argument("--max-tries", type=int, default=25, help="candidates verified per project")
    ap.add_argument("--count", action="store_true", help="only count the candidates of each project")
    args = ap.parse_args()
    spec = json.loads(args.projects.read_text(encoding="utf-8"))
    only = {x for x in args.only.split(",") if x}
    done: set[str] = set()
    if args.out.exists():
        done = {json.loads(line)["commit"] for line in args.out.read_text().splitlines() if line.strip()}
    args.cache.mkdir(parents=True, exist_ok=True)
    tried = set()
    log_path = args.cache / "mine-log.jsonl"
    if log_path.exists():
        tried = {json.loads(line)["commit"] for line in log_path.read_text().splitlines() if line.strip()}
    log = log_path.open("a", encoding="utf-8")
    for project in spec["projects"]:
        repo = project["repo"]
        if only and repo not in only:
            continue
        name = repo.split("/")[1]
        stub = RepoCase("probe", repo, "0" * 40, "0" * 40, ("x",), ("x",), ("x",), "python", (), "3")
        mirror = find_mirror(stub, args.mirrors, args.cache)
        env_commit = (
            project.get("env_commit") or _git("-C", str(mirror), "rev-parse", "HEAD").stdout.decode().strip()
        )
        # The commits whose test edits mention most of what the code change touched first (newest first
        # among equals): they are the likeliest to have made tests obsolete.
        found = sorted(
            candidates(mirror, project.get("since", spec["since"])), key=lambda c: -min(c["shared"], 4)
        )
        print(f"{repo}: {len(found)} candidate(s)", flush=True)
        if args.count:
            continue
        own_envs = 0
        kept = sum(1 for c in found if c["commit"] in done)
        tries = sum(1 for c in found if c["commit"] in tried)
        for cand in found:
            if kept >= args.max_cases or tries >= args.max_tries:
                break
            if cand["commit"] in done or cand["commit"] in tried:
                continue
            tries += 1
            raw: dict[str, Any] = {
                "id": f"{name}-{cand['commit'][:8]}",
                "kind": "coevolution",
                "repo": repo,
                "url": f"https://github.com/{repo}",
                "commit": cand["commit"],
                "parent": cand["parent"],
                "env_commit": env_commit,
                "src_files": cand["src"],
                "test_files": cand["tests"],
                "obsolete_tests": ["pending"],
                "change_kinds": "other",
                "test_cmd": "python -m pytest " + " ".join(cand["modules"]),
                "install": project["install"],
                "python": spec["python"],
                "notes": cand["subject"],
            }
            raw["obsolete_tests"] = [cand["modules"][0] + "::pending"]
            t0 = time.monotonic()
            found_case, why = attempt(raw, args.mirrors, args.cache)
            if why.startswith(NO_COLLECT) and own_envs < MAX_OWN_ENVS:
                # The project's virtualenv is too new for this commit's tests: one made at the parent, as a
                # user working on that commit would have it.
                own_envs += 1
                print(f"  {raw['id']:<32} {why[:110]}; again in a virtualenv of its parent", flush=True)
                raw["env_commit"] = cand["parent"]
                found_case, why = attempt(raw, args.mirrors, args.cache)
            log.write(json.dumps({"id": raw["id"], "commit": cand["commit"], "verdict": why,
                                  "s": round(time.monotonic() - t0, 1)}) + "\n")  # fmt: skip
            log.flush()
            print(f"  {raw['id']:<32} {why[:110]}", flush=True)
            if found_case is None:
                continue
            if found_case["deselect"] or found_case["dropped"]:
                deselect = [*found_case["deselect"], *found_case["dropped"]]
                # One word each: repairbot's runner takes words naming existing paths as the selection.
                raw["test_cmd"] += "".join(f" {shlex.quote('--deselect=' + n)}" for n in deselect)
            if found_case["deselect"]:
                raw["notes"] += f" [{len(found_case['deselect'])} test(s) failing at the parent deselected]"
            if found_case["dropped"]:
                raw["notes"] += (
                    f" [{len(found_case['dropped'])} failing test(s) the commit deleted deselected]"
                )
            raw["obsolete_tests"] = found_case["obsolete_tests"]
            raw["change_kinds"] = found_case["change_kinds"]
            if found_case["unchanged_units"]:
                raw["notes"] += (
                    f" [{found_case['unchanged_units']} obsolete test(s) updated outside the test unit]"
                )
            with args.out.open("a", encoding="utf-8") as out:
                out.write(json.dumps(raw) + "\n")
            kept += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
