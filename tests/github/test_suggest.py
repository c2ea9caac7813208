"""Repair diffs → ```suggestion comments on a PR's changed lines (repairbot/github/suggest.py)."""

from __future__ import annotations

from repairbot.github.suggest import blocks, pr_hunks, review_suggestions, thread_suggestion

DIFF = (
    "--- a/pkg/m.py\n+++ b/pkg/m.py\n@@ -1,6 +1,7 @@\n def f(a, b):\n-    if a < b:\n-        return a\n"
    "+    if a <= b:\n+        return b\n     return 0\n+\n \n def g():\n"
    "@@ -20,3 +21,3 @@\n x = 1\n-y = 2\n+y = 3\n z = 4\n"
)
ORIGINAL = (
    "def f(a, b):\n    if a < b:\n        return a\n    return 0\n\ndef g():\n"
    + "pass\n" * 13
    + "x = 1\ny = 2\nz = 4\n"
)


def test_blocks_anchor_on_old_lines() -> None:
    found = blocks(DIFF)
    assert [(b.start, b.end) for b in found] == [(2, 3), (4, 4), (21, 21)]
    assert found[0].new_lines == ("    if a <= b:\n", "        return b\n")
    assert found[1].new_lines == ("    return 0\n", "\n")  # an insertion keeps the line it hangs on


def test_review_suggestions_only_on_the_prs_diff() -> None:
    pr_files = {
        "pkg/m.py": "@@ -1,2 +1,5 @@\n def f(a, b):\n+    if a < b:\n+        return a\n+    return 0\n"
    }
    assert pr_hunks(pr_files["pkg/m.py"]) == [(1, 5)]
    placed, leftover = review_suggestions(DIFF, pr_files)
    assert [(s.start_line, s.line) for s in placed] == [(2, 3), (None, 4)]
    assert placed[0].as_review_comment() == {
        "path": "pkg/m.py",
        "line": 3,
        "side": "RIGHT",
        "start_line": 2,
        "start_side": "RIGHT",
        "body": "```suggestion\n    if a <= b:\n        return b\n```",
    }
    assert "start_line" not in placed[1].as_review_comment()
    assert [(b.start, b.end) for b in leftover] == [(21, 21)]  # outside the PR's hunks: goes to the body


def test_thread_suggestion_covers_exactly_the_thread_lines() -> None:
    assert (
        thread_suggestion(DIFF, "pkg/m.py", 2, 3, ORIGINAL)
        == "```suggestion\n    if a <= b:\n        return b\n```"
    )
    assert thread_suggestion(DIFF, "pkg/m.py", 1, 4, ORIGINAL) == (
        "```suggestion\ndef f(a, b):\n    if a <= b:\n        return b\n    return 0\n\n```"
    )
    assert thread_suggestion(DIFF, "pkg/m.py", 3, 3, ORIGINAL) is None  # the fix spans beyond the thread
    assert thread_suggestion(DIFF, "pkg/m.py", 10, 12, ORIGINAL) is None  # the fix does not touch it
