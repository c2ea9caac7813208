"""Definition-level changes between a base revision and the working tree, from git and tree-sitter."""

from __future__ import annotations

import difflib
import io
import re
import subprocess
import tarfile
from pathlib import Path

from repairbot import diffs
from repairbot.errors import BadInput, EnvironmentProblem
from repairbot.models import ChangeKind, ChangeSet, DefChange, Definition, Param, SignatureDiff
from repairbot.parsing.definitions import definitions, module_name
from repairbot.workspace import is_test_path


def _git(root: Path, *args: str, check: bool = True) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60, check=False)
    except FileNotFoundError as exc:  # pragma: no cover - git is a hard dependency
        raise EnvironmentProblem("git is not installed", hint="install git") from exc
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BadInput(f"git {args[0]} failed in {root}: {msg[-1] if msg else proc.returncode}")
    return proc.stdout.decode("utf-8", "replace")


def _git_bytes(root: Path, *args: str) -> bytes | None:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60, check=False)
    return proc.stdout if proc.returncode == 0 else None


def resolve(root: Path, base: str) -> str:
    """The commit id of `base`; BadInput when it names no commit."""
    if not (root / ".git").exists() and _git(root, "rev-parse", "--git-dir", check=False) == "":
        raise BadInput(f"{root} is not a git repository", hint="--base needs the project's git history")
    out = _git_bytes(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    if not out:
        raise BadInput(f"--base {base!r} is not a commit of {root}", hint="give a branch, tag or sha")
    return out.decode().strip()


def default_base(root: Path) -> str | None:
    """The revision whose changes are presumed intended when no --base is given.

    Uncommitted changes to tracked files: HEAD (the edits since the last commit are the change).
    A clean tree: HEAD~1 (the last commit is the change). None without git history or a parent commit.
    The pipeline must still check that the failing tests passed at that base before trusting it.
    """
    if _git_bytes(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}") is None:
        return None
    dirty = _git(root, "status", "--porcelain", "--untracked-files=no", check=False).strip()
    if dirty:
        return "HEAD"
    if _git_bytes(root, "rev-parse", "--verify", "--quiet", "HEAD~1^{commit}") is None:
        return None
    return "HEAD~1"


def materialize(root: Path, base: str, dest: Path) -> Path:
    """Write the tree of `base` into `dest` (created) without touching the repository's state."""
    rev = resolve(root, base)
    proc = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", rev],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise BadInput(f"cannot export {base} of {root}: {proc.stderr.decode(errors='replace').strip()}")
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _changed_lines(root: Path, rev: str, path: str) -> frozenset[int]:
    out = _git_bytes(root, "diff", "-U0", "--no-color", rev, "--", path) or b""
    per_path = diffs.changed_lines(out.decode("utf-8", "replace"))
    return frozenset(line for lines in per_path.values() for line in lines)


def extract_changes(root: Path, base: str) -> ChangeSet:
    """Definition-level changes from `base` to the working tree of the git repository `root`."""
    rev = resolve(root, base)
    renamed: dict[str, str] = {}
    added: list[str] = []
    deleted: list[str] = []
    modified: list[str] = []
    for line in _git(root, "diff", "--name-status", "-M", "--no-color", rev).splitlines():
        parts = line.split("\t")
        status = parts[0]
        if status.startswith("R") and len(parts) == 3:
            renamed[parts[1]] = parts[2]
            if not status.startswith("R100"):
                modified.append(parts[2])
        elif status.startswith("A"):
            added.append(parts[1])
        elif status.startswith("D"):
            deleted.append(parts[1])
        elif status[:1] in ("M", "T") and len(parts) >= 2:
            modified.append(parts[1])
        elif status.startswith("C") and len(parts) == 3:
            added.append(parts[2])
    for p in _git(root, "ls-files", "--others", "--exclude-standard").splitlines():
        if p and p not in added:
            added.append(p)
    # git pairs renames only among tracked files: pair a deleted module with a similar new (untracked) one.
    for old in [d for d in deleted if d.endswith(".py")]:
        data = _git_bytes(root, "show", f"{rev}:{old}") or b""
        best: tuple[float, str] | None = None
        for new in [a for a in added if a.endswith(".py") and (root / a).is_file()]:
            r = difflib.SequenceMatcher(None, data, (root / new).read_bytes(), autojunk=False).ratio()
            if r >= 0.6 and (best is None or r > best[0]):
                best = (r, new)
        if best is not None:
            renamed[old] = best[1]
            deleted.remove(old)
            added.remove(best[1])
            modified.append(best[1])

    old_sources: dict[str, bytes] = {}
    new_sources: dict[str, bytes] = {}
    for p in [*deleted, *renamed, *(m for m in modified if m not in renamed.values())]:
        if p.endswith(".py"):
            old_data = _git_bytes(root, "show", f"{rev}:{p}")
            if old_data is not None:
                old_sources[p] = old_data
    for p in [*added, *renamed.values(), *modified]:
        if p.endswith(".py") and (root / p).is_file():
            new_sources[p] = (root / p).read_bytes()

    changed_lines = {p: _changed_lines(root, rev, p) for p in new_sources if p not in added}
    for p in added:
        if p in new_sources:
            changed_lines[p] = frozenset(range(1, new_sources[p].count(b"\n") + 2))

    message = _git(root, "log", "--format=%B", f"{rev}..HEAD", check=False).strip()
    changes = diff_sources(old_sources, new_sources, renamed)
    return ChangeSet(
        base=base,
        changes=tuple(changes),
        changed_lines=changed_lines,
        renamed_files=renamed,
        added_files=tuple(added),
        deleted_files=tuple(deleted),
        modified_files=tuple(modified),
        old_sources=old_sources,
        new_sources=new_sources,
        message=message,
    )


def diff_sources(
    old_sources: dict[str, bytes], new_sources: dict[str, bytes], renamed: dict[str, str]
) -> list[DefChange]:
    """Definition-level changes between module sources (base path -> bytes, tree path -> bytes)."""
    changes: list[DefChange] = []
    for old_path, new_path in renamed.items():
        if old_path.endswith(".py") and new_path.endswith(".py") and not is_test_path(new_path):
            om, nm = module_name(old_path), module_name(new_path)
            if om != nm:
                changes.append(
                    DefChange("module_move", om, nm, new_path, old_path, 1, f"module {om} moved to {nm}")
                )
    # Pair files: same path, or git's rename pairing.
    inverse = {v: k for k, v in renamed.items()}
    olddefs: dict[str, dict[str, Definition]] = {}
    newdefs: dict[str, dict[str, Definition]] = {}
    for p, src in old_sources.items():
        if not is_test_path(p):
            olddefs[p] = definitions(src, p)
    for p, src in new_sources.items():
        if not is_test_path(p):
            newdefs[p] = definitions(src, p)

    vanished: list[tuple[str, Definition]] = []  # (old path, def) missing from its paired file
    appeared: list[tuple[str, Definition]] = []
    for new_path, nd in newdefs.items():
        old_path = inverse.get(new_path, new_path)
        od = olddefs.get(old_path, {})
        for q, d in nd.items():
            if q in od:
                changes.extend(_compare(od[q], d, old_path, new_path))
            else:
                appeared.append((new_path, d))
        for q, d in od.items():
            if q not in nd:
                vanished.append((old_path, d))
    for old_path, od in olddefs.items():
        if old_path not in renamed and old_path not in newdefs:
            vanished.extend((old_path, d) for d in od.values())

    # Renames and moves: a vanished definition whose body reappears (exactly, or nearly) elsewhere.
    used: set[int] = set()
    for old_path, od_ in vanished:
        best: tuple[float, int] | None = None
        for i, (new_path, nd_) in enumerate(appeared):
            if i in used or nd_.kind != od_.kind or _nesting(nd_) != _nesting(od_):
                continue
            score = _similarity(od_, nd_, same_file=inverse.get(new_path, new_path) == old_path)
            if score >= 0.75 and (best is None or score > best[0]):
                best = (score, i)
        om = module_name(old_path)
        if best is None:
            changes.append(
                DefChange(
                    "removed",
                    f"{om}.{od_.qualname}",
                    "",
                    "",
                    old_path,
                    0,
                    f"{om}.{od_.qualname} removed",
                    old_def=od_,
                )
            )
            continue
        used.add(best[1])
        new_path, nd_ = appeared[best[1]]
        nm = module_name(new_path)
        kind: ChangeKind = "rename" if om == nm else "move"
        old_full, new_full = f"{om}.{od_.qualname}", f"{nm}.{nd_.qualname}"
        changes.append(
            DefChange(
                kind,
                old_full,
                new_full,
                new_path,
                old_path,
                nd_.start_line,
                f"{old_full} {'renamed' if kind == 'rename' else 'moved'} to {new_full}",
                old_def=od_,
                new_def=nd_,
            )
        )
        # A renamed definition may also change its signature or behaviour.
        changes.extend(c for c in _compare(od_, nd_, old_path, new_path) if c.kind != "body" or c.shape)
    for i, (new_path, nd_) in enumerate(appeared):
        if i not in used:
            nm = module_name(new_path)
            changes.append(
                DefChange(
                    "added",
                    "",
                    f"{nm}.{nd_.qualname}",
                    new_path,
                    "",
                    nd_.start_line,
                    f"{nm}.{nd_.qualname} added",
                    new_def=nd_,
                )
            )
    return changes


def _nesting(d: Definition) -> int:
    return d.qualname.count(".")


def _similarity(a: Definition, b: Definition, same_file: bool) -> float:
    if a.body_key == b.body_key and a.body_text:
        return 1.0
    if a.kind == "variable":
        return 0.0  # a renamed constant keeps its value
    ratio = difflib.SequenceMatcher(None, a.body_text, b.body_text, autojunk=False).ratio()
    # A rename that also edits the body a little stays a rename; across files, ask for more.
    return ratio if same_file else ratio - 0.1


def signature_diff(old: tuple[Param, ...], new: tuple[Param, ...]) -> SignatureDiff:
    oldn = [p.name for p in old]
    newn = [p.name for p in new]
    removed = [p for p in old if p.name not in newn]
    added = [p for p in new if p.name not in oldn]
    renamed: list[tuple[str, str]] = []
    # A vanished parameter was renamed to an appeared one when their names are alike (width -> max_width),
    # or when it sits at the same position with the same kind and default-ness; alike names pair first.
    pairs: list[tuple[float, Param, Param]] = []
    for p in removed:
        for q in added:
            if q.kind != p.kind:
                continue
            sim = difflib.SequenceMatcher(None, p.name, q.name).ratio()
            if p.name in q.name or q.name in p.name:
                sim = max(sim, 0.8)
            same_pos = oldn.index(p.name) == newn.index(q.name)
            same_default = (p.default is None) == (q.default is None)
            score = sim + (0.3 if same_pos else 0) + (0.2 if same_default and p.default == q.default else 0)
            if sim >= 0.5 or (same_pos and same_default):
                pairs.append((score, p, q))
    for _, p, q in sorted(pairs, key=lambda t: -t[0]):
        if p in removed and q in added:
            renamed.append((p.name, q.name))
            removed.remove(p)
            added.remove(q)
    common_old = [n for n in oldn if n in newn]
    common_new = [n for n in newn if n in oldn]
    pos_kinds = ("pos", "posonly")
    reordered = [n for n in common_old if old[oldn.index(n)].kind in pos_kinds] != [
        n for n in common_new if new[newn.index(n)].kind in pos_kinds
    ]
    defaults = tuple(
        (n, old[oldn.index(n)].default, new[newn.index(n)].default)
        for n in common_new
        if old[oldn.index(n)].default != new[newn.index(n)].default
    )
    return SignatureDiff(
        tuple(added),
        tuple(removed),
        tuple(renamed),
        reordered,
        defaults,
        tuple(p.name for p in old if p.kind in pos_kinds),
        tuple(p.name for p in new if p.kind in pos_kinds),
    )


_TOKEN = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|\d+(?:\.\d+)?|\w+|==|!=|<=|>=|//|\*\*|\S")
_OPS = {
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "<",
    ">",
    "<=",
    ">=",
    "==",
    "!=",
    "and",
    "or",
    "not",
    "in",
    "is",
    "&",
    "|",
    "^",
    "min",
    "max",
    "True",
    "False",
    "None",
    "any",
    "all",
}


def body_shape(old_body: str, new_body: str) -> str:
    """'mutation' when the body changed the way bugs look (operators, off-by-one, swapped or dropped names),
    'literal' when string/number literals changed, 'rewrite' otherwise; '' when equal."""
    a, b = _TOKEN.findall(old_body), _TOKEN.findall(new_body)
    if a == b:
        return ""
    a = _alpha_rename(a, b)
    if a == b:
        return ""  # only local names were renamed
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    edits = [(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in ops if tag != "equal"]
    changed = sum(max(len(x), len(y)) for _, x, y in edits)
    if any(t.startswith(("'", '"')) for _, x, y in edits for t in (*x, *y)):
        return "literal"
    if sorted(a) == sorted(b) and changed <= 6:
        return "mutation"  # the same tokens reordered: swapped arguments or operands
    if len(edits) <= 2 and changed <= 4:
        mutation = True
        for _, x, y in edits:
            toks = [*x, *y]
            if all(t in _OPS for t in toks):
                continue
            if (
                len(x) == 1
                and len(y) == 1
                and x[0].isdigit()
                and y[0].isdigit()
                and (abs(int(x[0]) - int(y[0])) == 1 or _digit_typo(x[0], y[0]))
            ):
                continue
            if len(x) == 1 and len(y) == 1 and x[0].isidentifier() and y[0].isidentifier():
                continue  # one name swapped for another
            if set(toks) <= _OPS | {"1", "(", ")", ".", "strip", "lower", "upper", "[", "]", "-1", "0"}:
                continue
            mutation = False
        if mutation:
            return "mutation"
    if all(t.replace(".", "").isdigit() for _, x, y in edits for t in (*x, *y)):
        return "literal"
    return "rewrite"


def _digit_typo(a: str, b: str) -> bool:
    """One digit dropped or doubled (86400 -> 8640, 100 -> 1000): how numbers get mistyped."""
    short, long_ = sorted((a, b), key=len)
    if len(long_) != len(short) + 1 or len(short) < 2:
        return False
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _alpha_rename(a: list[str], b: list[str]) -> list[str]:
    """Apply consistent one-to-one identifier renames (old -> new) found by aligning `a` with `b`."""
    mapping: dict[str, str] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            for x, y in zip(a[i1:i2], b[j1:j2], strict=True):
                ident = x.isidentifier() and y.isidentifier() and x not in _OPS and y not in _OPS
                if ident and mapping.setdefault(x, y) != y:
                    return a
    # A rename must be consistent: the new name did not occur before and the old one no longer does.
    mapping = {x: y for x, y in mapping.items() if x not in b and y not in a}
    renamed = [mapping.get(t, t) for t in a]
    # One occurrence swapped for another name is a possible bug, not a rename: ask for >= 2 occurrences.
    if any(a.count(x) < 2 for x in mapping):
        return a
    return renamed


def _compare(od: Definition, nd: Definition, old_path: str, new_path: str) -> list[DefChange]:
    om, nm = module_name(old_path), module_name(new_path)
    old_full, new_full = f"{om}.{od.qualname}", f"{nm}.{nd.qualname}"
    doc_changed = od.docstring != nd.docstring
    out: list[DefChange] = []

    def mk(
        kind: ChangeKind, summary: str, signature: SignatureDiff | None = None, shape: str = ""
    ) -> DefChange:
        return DefChange(
            kind,
            old_full,
            new_full,
            new_path,
            old_path,
            nd.start_line,
            summary,
            old_def=od,
            new_def=nd,
            signature=signature,
            shape=shape,
            doc_changed=doc_changed,
        )

    sig = signature_diff(od.params, nd.params)
    if sig:
        out.append(mk("signature", f"signature of {new_full}: {sig.summary()}", signature=sig))
    if nd.kind == "class":
        return out
    raised = od.raises != nd.raises
    if raised:
        out.append(mk("raise", f"{new_full} raises {_raises(od)} -> {_raises(nd)}"))
    old_body = od.body_text
    for a, b in sig.renamed:  # a renamed parameter is not a behavioural change
        old_body = re.sub(rf"\b{re.escape(a)}\b", b, old_body)
    if old_body != nd.body_text and not (raised and od.returns == nd.returns):
        shape = body_shape(old_body, nd.body_text)
        if shape:
            kind: ChangeKind = "return" if od.returns != nd.returns else "body"
            out.append(
                mk(
                    kind,
                    f"{new_full} {'returns' if kind == 'return' else 'body'} changed ({shape})",
                    shape=shape,
                )
            )
    return out


def _raises(d: Definition) -> str:
    return ", ".join(f"{t}({m})" if m else t for t, m in d.raises) or "nothing"
