"""Which failures of a real suite are the repair's targets, and which are kept apart.

The rules (README, "Real suites"):
- A test module that fails to import is a target when the project is at fault: its traceback passes through
  a source file of the project, or it is `ImportError: cannot import name X from <a project module>` (the
  test wants a name the code lacks). Any other collection error (a missing third-party package, an API
  the interpreter removed, a syntax error in an old test module) is pre-existing: the rest of the suite
  runs (`--continue-on-collection-errors`), the module is never a target and never blocks a fix, and a
  candidate is only blamed for collection errors the baseline did not have.
- A failing test that passes when run again is flaky: reported, never a target, never "fixed".
- With a base revision, a test that fails at the base with the same message as now is pre-existing: the
  intended change does not explain it, so it is kept apart (reported, not a target). A test whose failure
  changed with the change stays a target.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from repairbot.models import TestOutcome, TestRun

_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')
_LOCATION = re.compile(r"^([^\s:][^:]*\.py):(\d+): ", re.MULTILINE)  # pytest's --tb=short/line locations
_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'(?: \(([^)]*)\))?")
_DEF = re.compile(rb"^(?:async\s+)?(?:def|class)\s+(\w+)|^(\w+)\s*[:=]", re.MULTILINE)


def module_of(error: str) -> str:
    """The node id (module path) of a collection error line `nodeid: longrepr`."""
    return error.split(":", 1)[0].strip() or "<collection>"


def split_collection_errors(
    run: TestRun, source_files: Iterable[str], root: Path | None = None
) -> tuple[TestRun, tuple[str, ...]]:
    """(the run with its target collection errors as failing outcomes, the pre-existing error modules)."""
    if not run.collection_errors:
        return run, ()
    sources = set(source_files)
    targets: list[TestOutcome] = []
    preexisting: list[str] = []
    for err in run.collection_errors:
        nodeid = module_of(err)
        frames = _source_frames(err, sources)
        if not frames:
            frames = _missing_name(err, sources, root)
        if frames:
            targets.append(TestOutcome(nodeid, "error", _message(err), err, frames))
        elif nodeid not in preexisting:
            preexisting.append(nodeid)
    return replace(run, outcomes=run.outcomes + tuple(targets)), tuple(preexisting)


def _message(err: str) -> str:
    lines = [x.strip() for x in err.splitlines() if x.strip().startswith(("E ", "ImportError", "Error"))]
    return (lines[-1].removeprefix("E").strip() if lines else err.splitlines()[-1] if err else "")[:500]


def _relative(path: str, sources: set[str]) -> str | None:
    path = path.replace("\\", "/")
    for rel in sources:
        if path == rel or path.endswith("/" + rel):
            return rel
    return None


def _source_frames(err: str, sources: set[str]) -> tuple[tuple[str, int], ...]:
    found: list[tuple[str, int]] = []
    for m in (*_FILE_LINE.finditer(err), *_LOCATION.finditer(err)):
        rel = _relative(m.group(1), sources)
        if rel and (rel, int(m.group(2))) not in found:
            found.append((rel, int(m.group(2))))
    return tuple(found)


def _missing_name(err: str, sources: set[str], root: Path | None) -> tuple[tuple[str, int], ...]:
    """`cannot import name X from <project module>`: the module's definition most like X (or its top),
    then the test module's import as the innermost frame (where the error is raised: the test, not the
    library, holds the name that is missing; co-evolution reads it so)."""
    m = _CANNOT_IMPORT.search(err)
    if m is None:
        return ()
    name, module, path = m.group(1), m.group(2), m.group(3) or ""
    rel = _relative(path, sources) if path else None
    if rel is None:
        tails = (module.replace(".", "/") + ".py", module.replace(".", "/") + "/__init__.py")
        rel = next((s for s in sorted(sources) for t in tails if s == t or s.endswith("/" + t)), None)
    if rel is None:
        return ()
    line = 1
    if root is not None:
        try:
            data = (root / rel).read_bytes()
        except OSError:
            data = b""
        defs = {}
        for d in _DEF.finditer(data):
            defs[(d.group(1) or d.group(2)).decode()] = data.count(b"\n", 0, d.start()) + 1
        close = difflib.get_close_matches(name, list(defs), n=1, cutoff=0.5)
        if close:
            line = defs[close[0]]
    importer = [
        (m.group(1), int(m.group(2)))
        for m in _LOCATION.finditer(err)
        if _relative(m.group(1), sources) is None and not m.group(1).startswith("/")
    ]
    return ((rel, line), *importer[-1:])


def flaky(first: TestRun, again: TestRun) -> tuple[str, ...]:
    """Tests that failed in `first` and passed when run again."""
    failed = {o.nodeid for o in first.outcomes if not o.ok}
    return tuple(sorted(o.nodeid for o in again.outcomes if o.outcome == "passed" and o.nodeid in failed))


def flipped(again: TestRun, ignored: Iterable[str], known_errors: Iterable[str]) -> tuple[str, ...]:
    """What fails in a confirmation run of a patch whose suite passed (besides what is kept apart)."""
    skip = set(ignored)
    modules = set(known_errors)
    failed = [o.nodeid for o in again.outcomes if not o.ok and o.nodeid not in skip]
    failed += [module_of(e) for e in again.collection_errors if module_of(e) not in modules]
    return tuple(sorted(set(failed)))


def failing_the_same_at_base(now: TestRun, at_base: TestRun) -> tuple[str, ...]:
    """Tests that fail now and failed at the base with the same message: the change does not explain them."""
    before = {o.nodeid: o for o in at_base.outcomes if not o.ok}
    return tuple(
        sorted(
            o.nodeid
            for o in now.outcomes
            if not o.ok and o.nodeid in before and _same(o.message, before[o.nodeid].message)
        )
    )


def _same(a: str, b: str) -> bool:
    # Addresses and temporary paths differ between runs of the same failure.
    norm = re.compile(r"0x[0-9a-f]+|/tmp/\S+|\d+\.\d+s")
    return norm.sub("", a.strip()) == norm.sub("", b.strip())


def without(run: TestRun, nodeids: Iterable[str]) -> TestRun:
    drop = set(nodeids)
    if not drop:
        return run
    return replace(run, outcomes=tuple(o for o in run.outcomes if o.nodeid not in drop))
