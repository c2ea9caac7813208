"""Records of the change-awareness stage: definition-level changes between a base revision and the tree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from repairbot.parsing.definitions import Definition, Param
from repairbot.workspace import is_test_path

ChangeKind = Literal[
    "rename",  # same code, new name, same module
    "move",  # same name (or renamed) in another module
    "module_move",  # a module file renamed/moved
    "signature",  # parameters added/removed/renamed/reordered, defaults changed
    "return",  # return expressions changed
    "raise",  # raised exception types or messages changed
    "body",  # other behavioural change of the body
    "added",
    "removed",
]


@dataclass(frozen=True, slots=True)
class SignatureDiff:
    added: tuple[Param, ...] = ()
    removed: tuple[Param, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()  # (old name, new name) at the same position
    reordered: bool = False
    defaults: tuple[tuple[str, str | None, str | None], ...] = ()  # (name, old default, new default)
    old_order: tuple[str, ...] = ()  # positional parameter names at base
    new_order: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.renamed or self.reordered or self.defaults)

    def summary(self) -> str:
        parts: list[str] = []
        if self.added:
            parts.append("added " + ", ".join(p.name for p in self.added))
        if self.removed:
            parts.append("removed " + ", ".join(p.name for p in self.removed))
        if self.renamed:
            parts.append("renamed " + ", ".join(f"{a}->{b}" for a, b in self.renamed))
        if self.reordered:
            parts.append("reordered")
        if self.defaults:
            parts.append("defaults " + ", ".join(f"{n}: {a}->{b}" for n, a, b in self.defaults))
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class DefChange:
    kind: ChangeKind
    old: str  # dotted name at base: "pkg.mod.Class.meth" (the module for module_move); "" when added
    new: str  # dotted name in the tree; "" when removed
    path: str  # file in the tree ("" when removed)
    old_path: str  # file at base ("" when added)
    line: int  # 1-based line of the definition in the tree (0 when removed)
    summary: str
    old_def: Definition | None = None
    new_def: Definition | None = None
    signature: SignatureDiff | None = None
    shape: str = ""  # body changes: "mutation" (operator/off-by-one/variable swap), "literal", "rewrite"
    doc_changed: bool = False  # the docstring of the definition changed too (a sign of intent)

    @property
    def old_name(self) -> str:
        return self.old.rsplit(".", 1)[-1]

    @property
    def new_name(self) -> str:
        return self.new.rsplit(".", 1)[-1]

    @property
    def old_module(self) -> str:
        return self.old.rsplit(".", 1)[0] if self.old_def is not None else self.old

    @property
    def new_module(self) -> str:
        return self.new.rsplit(".", 1)[0] if self.new_def is not None else self.new


@dataclass(frozen=True)
class ChangeSet:
    """What changed from `base` to the working tree (DESIGN §1, test co-evolution)."""

    base: str
    changes: tuple[DefChange, ...] = ()
    changed_lines: dict[str, set[int]] = field(default_factory=dict)  # tree path -> 1-based lines
    renamed_files: Mapping[str, str] = field(default_factory=dict)  # base path -> tree path
    added_files: tuple[str, ...] = ()
    deleted_files: tuple[str, ...] = ()
    modified_files: tuple[str, ...] = ()
    old_sources: Mapping[str, bytes] = field(default_factory=dict)  # changed .py files at base (base paths)
    new_sources: Mapping[str, bytes] = field(default_factory=dict)  # changed .py files in the tree
    message: str = ""  # commit messages base..HEAD (empty for uncommitted changes)

    def of_kind(self, *kinds: ChangeKind) -> tuple[DefChange, ...]:
        return tuple(c for c in self.changes if c.kind in kinds)

    def renames(self) -> dict[str, DefChange]:
        """Old simple name (or old module) -> the rename/move change."""
        out: dict[str, DefChange] = {}
        for c in self.of_kind("rename", "move", "module_move"):
            if c.kind == "rename" and c.old_name == c.new_name:
                continue  # a member of a renamed class: the class rename covers it
            out.setdefault(c.old_name if c.kind != "module_move" else c.old, c)
        return out

    def for_name(self, name: str) -> tuple[DefChange, ...]:
        """Changes of the definition called `name` (simple or qualified) in the tree."""
        return tuple(
            c
            for c in self.changes
            if c.new and (c.new == name or c.new.endswith("." + name) or c.new_name == name)
        )

    @property
    def changed_test_files(self) -> tuple[str, ...]:
        return tuple(p for p in (*self.modified_files, *self.added_files) if is_test_path(p))

    def summary(self) -> str:
        return "; ".join(c.summary for c in self.changes if c.kind not in ("added",))[:500]


Kind = Literal["obsolete", "regression"]


@dataclass(frozen=True, slots=True)
class Classification:
    nodeid: str
    kind: Kind
    evidence: str  # one line: why
    change: DefChange | None = None  # the intended change the test trips over (obsolete)
    reason: str = ""  # "rename", "signature", "value", "exception", "message", "" (regression)
