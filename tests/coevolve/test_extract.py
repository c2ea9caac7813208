from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from repairbot.bench.cases import make_repo
from repairbot.coevolve.extract import body_shape, default_base, extract_changes, materialize, signature_diff
from repairbot.errors import BadInput
from repairbot.parsing.definitions import Param, definitions

BASE = {
    "pkg/__init__.py": "",
    "pkg/util.py": (
        "def slugify(s, sep='-'):\n"
        "    return s.lower().replace(' ', sep)\n"
        "\n"
        "def total(xs):\n"
        "    return sum(xs)\n"
        "\n"
        "class Box:\n"
        "    def __init__(self, w):\n"
        "        self.w = w\n"
        "\n"
        "    def area(self):\n"
        "        if self.w < 0:\n"
        "            raise ValueError('negative')\n"
        "        return self.w * self.w\n"
    ),
    "pkg/old.py": "def helper(a, b):\n    '''Add.'''\n    return a + b\n\n\ndef other():\n    return 1\n",
    "tests/test_u.py": "from pkg.util import slugify\n",
}


def changed(base: dict[str, str], tree: dict[str, str], tmp_path: Path) -> dict[str, list[str]]:
    rev = make_repo(tmp_path / "r", base, tree)
    cs = extract_changes(tmp_path / "r", rev)
    out: dict[str, list[str]] = {}
    for c in cs.changes:
        out.setdefault(c.kind, []).append(f"{c.old}>{c.new}")
    return out


def test_rename_signature_default_and_params(tmp_path: Path) -> None:
    tree = dict(BASE)
    tree["pkg/util.py"] = BASE["pkg/util.py"].replace(
        "def slugify(s, sep='-'):\n    return s.lower()",
        "def make_slug(text, sep='_', lower=True):\n    return text.lower()",
    )
    rev = make_repo(tmp_path / "r", BASE, tree)
    cs = extract_changes(tmp_path / "r", rev)
    kinds = {c.kind: c for c in cs.changes}
    assert kinds["rename"].old == "pkg.util.slugify" and kinds["rename"].new == "pkg.util.make_slug"
    sig = kinds["signature"].signature
    assert sig is not None
    assert [p.name for p in sig.added] == ["lower"]
    assert sig.renamed == (("s", "text"),)
    assert sig.defaults == (("sep", "'-'", "'_'"),)
    # A renamed parameter is not a behavioural change of the body.
    assert "return" not in kinds and "body" not in kinds
    assert cs.changed_lines["pkg/util.py"] == {1, 2}


def test_return_and_raise_changes(tmp_path: Path) -> None:
    tree = dict(BASE)
    tree["pkg/util.py"] = (
        BASE["pkg/util.py"].replace("return sum(xs)", "return sum(xs) + 1").replace("ValueError", "TypeError")
    )
    got = changed(BASE, tree, tmp_path)
    assert got["return"] == ["pkg.util.total>pkg.util.total"]
    assert got["raise"] == ["pkg.util.Box.area>pkg.util.Box.area"]


def test_module_move_for_an_untracked_new_file(tmp_path: Path) -> None:
    tree = dict(BASE)
    tree["pkg/new.py"] = tree.pop("pkg/old.py")
    got = changed(BASE, tree, tmp_path)
    assert got["module_move"] == ["pkg.old>pkg.new"]


def test_function_moved_to_another_module(tmp_path: Path) -> None:
    tree = dict(BASE)
    tree["pkg/old.py"] = "def other():\n    return 1\n"
    tree["pkg/extra.py"] = "def helper(a, b):\n    '''Add.'''\n    return a + b\n"
    got = changed(BASE, tree, tmp_path)
    assert got["move"] == ["pkg.old.helper>pkg.extra.helper"]


def test_removed_definition(tmp_path: Path) -> None:
    tree = dict(BASE)
    tree["pkg/old.py"] = "def other():\n    return 1\n"
    got = changed(BASE, tree, tmp_path)
    assert got["removed"] == ["pkg.old.helper>"]


def test_method_rename_keeps_class(tmp_path: Path) -> None:
    tree = dict(BASE)
    tree["pkg/util.py"] = BASE["pkg/util.py"].replace("def area(", "def surface(")
    got = changed(BASE, tree, tmp_path)
    assert got["rename"] == ["pkg.util.Box.area>pkg.util.Box.surface"]


def test_signature_diff_reorder_and_remove() -> None:
    a = (Param("value", "pos"), Param("lo", "pos"), Param("hi", "pos"))
    b = (Param("lo", "pos"), Param("hi", "pos"), Param("value", "pos"))
    assert signature_diff(a, b).reordered
    c = signature_diff(a, a[:2])
    assert [p.name for p in c.removed] == ["hi"] and not c.reordered


def test_definitions_class_takes_init_signature() -> None:
    defs = definitions(BASE["pkg/util.py"].encode(), "pkg/util.py")
    assert [p.name for p in defs["Box"].params] == ["w"]
    assert defs["Box.area"].raises == (("ValueError", "'negative'"),)
    assert defs["Box.area"].kind == "method"


@pytest.mark.parametrize(
    "old, new, shape",
    [
        ("return a + b", "return a - b", "mutation"),
        ("if age >= 18: return True", "if age > 18: return True", "mutation"),
        ("return name.strip().lower()", "return name.lower()", "mutation"),
        ("return items[s:s + n]", "return items[s:s + n - 1]", "mutation"),
        ("t = 0 for x in xs: t += x return t", "acc = 0 for x in xs: acc += x return acc", ""),
        ("return 'Hello, ' + name", "return f'Hello, {name}!'", "literal"),
        ("out = [] for n in xs: out.append(n) return out", "return [n * n for n in xs if n]", "rewrite"),
    ],
)
def test_body_shape(old: str, new: str, shape: str) -> None:
    assert body_shape(old, new) == shape


def test_default_base_and_materialize(tmp_path: Path) -> None:
    root = tmp_path / "r"
    rev = make_repo(root, BASE, BASE)
    assert default_base(root) is None  # one commit, clean tree: no parent to compare with
    (root / "pkg/util.py").write_text("x = 1\n")
    assert default_base(root) == "HEAD"
    make_repo(tmp_path / "r2", BASE, {**BASE, "pkg/util.py": "x = 2\n"}, commit_tree=True)
    assert default_base(tmp_path / "r2") == "HEAD~1"
    dest = materialize(root, rev, tmp_path / "base")
    assert (dest / "pkg/util.py").read_text() == BASE["pkg/util.py"]
    # The repository itself is untouched.
    assert (root / "pkg/util.py").read_text() == "x = 1\n"
    status = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout.strip() == "M pkg/util.py"


def test_bad_base_is_bad_input(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, BASE, BASE)
    with pytest.raises(BadInput, match="not a commit"):
        extract_changes(root, "no-such-rev")


def test_renamed_module_constant(tmp_path: Path) -> None:
    base = {"cfg.py": "DEFAULT_TIMEOUT = 30\nOTHER = 1\n"}
    got = changed(base, {"cfg.py": "TIMEOUT_SECONDS = 30\nOTHER = 1\n"}, tmp_path)
    assert got["rename"] == ["cfg.DEFAULT_TIMEOUT>cfg.TIMEOUT_SECONDS"]


@pytest.mark.parametrize(
    "old, new",
    [
        ("x = 86400", "x = 8640"),  # a digit lost
        ("return round(100 * ratio(part, total), 1)", "return round(100 * ratio(total, part), 1)"),  # swap
    ],
)
def test_bug_like_shapes(old: str, new: str) -> None:
    assert body_shape(old, new) == "mutation"
