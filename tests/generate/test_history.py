"""Fix commits mined from git history (the corpus's selection) and the repository-history priors built on
them, checked against real git repositories made in the test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from repairbot.generate.fixmine import Git, fix_commits, is_fix_subject, is_source_path
from repairbot.generate.history import history_priors, weights_from_counts
from repairbot.generate.patterns import load_rules

RULES = load_rules()

BUGGY = """def count_up(n):
    out = []
    for i in range(n):
        out.append(i)
    return out


def first_word(text):
    # the first word
    return text.split()[0]


def pick(a, b):
    if a < b:
        return a
    return b
"""


def git(root: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(root),
    }  # fmt: skip
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                          env=env).stdout  # fmt: skip


def commit(root: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q")
    commit(root, {"pkg/core.py": BUGGY, "tests/test_core.py": "def test_x():\n    pass\n"}, "Initial import")
    src = BUGGY
    src = src.replace("range(n)", "range(n + 1)")
    commit(root, {"pkg/core.py": src}, "Fix off-by-one in count_up")
    src = src.replace("# the first word", "# the first word of the text")
    commit(root, {"pkg/core.py": src}, "Fix comment typo")  # no code change: not a fix
    commit(root, {"tests/test_core.py": "def test_x():\n    assert True\n"}, "Fix flaky test")  # tests only
    src2 = src.replace("if a < b:", "if a <= b:")
    commit(root, {"pkg/core.py": src2}, "Refactor pick and fix style")  # a refactoring, whatever it changes
    src3 = src2.replace("if a <= b:", "if a > b:")
    commit(root, {"pkg/core.py": src3}, "pick: wrong comparison (fixes #3)")
    commit(root, {"README.md": "core\n"}, "Add a README")
    return root


def test_subjects_and_paths_of_the_selection() -> None:
    assert is_fix_subject("Fix crash on empty input (#12)")
    assert is_fix_subject("handle None: wrong default")
    assert not is_fix_subject("Refactor the parser to fix naming")
    assert not is_fix_subject("Add a feature")
    assert is_source_path("src/pkg/mod.py")
    assert not is_source_path("tests/test_mod.py") and not is_source_path("pkg/mod_test.py")
    assert not is_source_path("docs/conf.py") and not is_source_path("pkg/_vendor/six.py")
    assert not is_source_path("setup.py") and not is_source_path("README.rst")


def test_fix_commits_keep_only_small_code_fixes_of_source_files(repo: Path) -> None:
    with Git(str(repo / ".git")) as g:
        fixes = list(fix_commits(g, "t/proj"))
    assert [f.subject for f in fixes] == ["pick: wrong comparison (fixes #3)", "Fix off-by-one in count_up"]
    assert all(f.path == "pkg/core.py" and len(f.hunks) == 1 for f in fixes)


def test_history_priors_raise_the_rules_of_past_fixes_and_read_only_before_head(repo: Path) -> None:
    found = history_priors(repo, RULES)
    assert found.fixes == 2
    assert found.counts.get("comparison-operator") == 1
    assert "range-bound" in found.counts or "expression-off-by-one" in found.counts
    assert found.weights["comparison-operator"] > 1.0
    assert found.weights["comparison-operator"] > found.weights["swap-arguments"]
    # At the parent of the last fix (a leave-one-out checkout of that bug), that fix is not history; nor is
    # the commit under repair itself.
    git(repo, "checkout", "-q", "HEAD~2")
    before = history_priors(repo, RULES)
    assert before.fixes == 1 and "comparison-operator" not in before.counts
    git(repo, "checkout", "-q", "HEAD@{1}")
    git(repo, "checkout", "-q", "HEAD~1")
    assert history_priors(repo, RULES).fixes == 1
    # The same history read from elsewhere (a bare mirror) at the bug's parent commit.
    parent = git(repo, "rev-parse", "HEAD~1").strip()
    assert history_priors(repo, RULES, rev=parent).counts == before.counts


def test_no_history_without_git_and_when_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "m.py").write_text("x = 1\n")
    assert history_priors(tmp_path, RULES).weights == {}
    monkeypatch.setenv("REPAIRBOT_HISTORY", "0")
    assert "off" in history_priors(tmp_path, RULES).note


def test_weights_reorder_rules_without_inflating_them() -> None:
    rates = {"a": 0.1, "b": 0.1, "c": 0.1}
    w = weights_from_counts({"c": 2}, 10, rates, ["a", "b", "c"])
    assert w["c"] > 1.0 > w["a"] and w["a"] == w["b"]
    assert abs(sum(w[r] * rates[r] for r in rates) / sum(rates.values()) - 1.0) < 0.01
    assert weights_from_counts({"c": 30}, 30, {"a": 0.1, "c": 0.001}, ["a", "c"])["c"] == 3.0  # bounded
    assert weights_from_counts({}, 0, rates, ["a"]) == {}
