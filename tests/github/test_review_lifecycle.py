"""One review per pull request, kept current (repairbot/github/publish.py), over HTTP against the local GitHub
API server: created once, edited in place, its suggestions kept, superseded or marked outdated; and what the
review says for a test update (repairbot/github/messages.py)."""

from __future__ import annotations

from pathlib import Path

from github import Auth, Github
from github.PullRequest import PullRequest

from repairbot.github import messages, publish
from repairbot.github.suggest import review_suggestions
from repairbot.models import Patch, Report
from tests.support.github_server import GitHubServer, commit_push, init_remote, run_git

REPO = "octo/lib"
TOKEN = "ghs_lifecycle_token"
BASE = "def f(x):\n    return x\n\n\ndef g(y):\n    return y\n"
HEAD = "def f(x):\n    return x + 1\n\n\ndef g(y):\n    return y * 2\n"


def _diff(old: str, new: str, line: int) -> str:
    return f"--- a/lib.py\n+++ b/lib.py\n@@ -{line} +{line} @@\n-{old}\n+{new}\n"


def _pull(tmp_path: Path, github: GitHubServer) -> tuple[PullRequest, str]:
    bare, dev, base = init_remote(tmp_path, {"lib.py": BASE})
    run_git(dev, "checkout", "--quiet", "-b", "topic")
    head = commit_push(dev, {"lib.py": HEAD}, "topic", "change f and g")
    github.add_repo(REPO, bare)
    github.add_token(TOKEN)
    github.add_pull(REPO, 3, "topic", head, "main", base)
    gh = Github(auth=Auth.Token(TOKEN), base_url=github.url, seconds_between_writes=0)
    return gh.get_repo(REPO).get_pull(3), head


def test_review_is_updated_in_place_and_a_moved_fix_supersedes_the_old_suggestion(
    tmp_path: Path, github: GitHubServer
) -> None:
    pull, head = _pull(tmp_path, github)
    files = {f.filename: f.patch for f in pull.get_files()}
    placed, _ = review_suggestions(_diff("    return x + 1", "    return x - 1", 2), files)
    first = publish.sync_review(pull, head, "first body " + publish.review_marks("k")[0], placed, "k")
    assert first.created and first.posted == 1

    # The same fix again: the review body is edited, the suggestion stays where it is.
    again = publish.sync_review(pull, head, "second body " + publish.review_marks("k")[0], placed, "k")
    assert (again.created, again.kept, again.posted, again.outdated) == (False, 1, 0, 0)
    (review,) = github.reviews(REPO, 3)
    assert review["body"].startswith("second body") and again.url == first.url

    # A different fix on another line: the old suggestion is marked outdated, the new one is posted (GitHub
    # files a lone comment under an empty-bodied review; the review with the verdict stays the one).
    moved, _ = review_suggestions(_diff("    return y * 2", "    return y * 3", 6), files)
    third = publish.sync_review(pull, head, "third body " + publish.review_marks("k")[0], moved, "k")
    assert (third.kept, third.posted, third.outdated) == (0, 1, 1)
    assert [r["body"][:10] for r in github.reviews(REPO, 3) if r["body"]] == ["third body"]
    old, new = github.review_comments(REPO, 3)
    assert (
        old["body"].startswith(f"**Outdated** at {head[:12]}: superseded")
        and "```suggestion" not in old["body"]
    )
    assert "```python\n    return x - 1\n```" in old["body"]  # kept for the record, without the button
    assert new["line"] == 6 and "```suggestion\n    return y * 3\n```" in new["body"]

    retired = publish.retire_review(
        pull, head, "all green " + publish.review_marks("k")[0], "k", "the tests pass"
    )
    assert retired is not None and retired.outdated == 1
    assert all(c["body"].startswith("**Outdated**") for c in github.review_comments(REPO, 3))
    assert publish.retire_review(pull, head, "x", "another-key", "the tests pass") is None


def test_a_test_update_is_suggested_with_the_code_versus_test_reasoning() -> None:
    evidence = "the change renamed total() to sum_all() on purpose; the test still called total()"
    patch = Patch(
        diff=_diff("    assert total([1]) == 1", "    assert sum_all([1]) == 1", 4)
        + "--- /dev/null\n+++ b/tests/test_new.py\n@@ -0,0 +1,2 @@\n+def test_new():\n+    assert True\n",
        generator="tests", rule=None, files=("lib.py",), suite_passed=True, score=0.9, kind="test",
        evidence=evidence,
    )  # fmt: skip
    report = Report("fixed", kind="test", failing_tests=("tests/test_lib.py::test_total",), patches=(patch,),
                    base="b" * 40, newly_failing=("tests/test_lib.py::test_total",))  # fmt: skip
    note = messages.suggestion_note(report)
    assert note == f"Test update (the test is obsolete, not the code wrong): {evidence}"
    placed, leftover = review_suggestions(patch.diff, {"lib.py": "@@ -1,6 +1,6 @@\n"}, note)
    assert (
        placed[0].body.startswith(note)
        and "```suggestion\n    assert sum_all([1]) == 1\n```" in placed[0].body
    )
    body = messages.review_body(report, len(placed), leftover, "a" * 40, "<!-- m -->")
    assert "**The test was judged wrong** (obsolete after an intended change), not the code." in body
    assert evidence in body and "1 of them passed on the base (bbbbbbbbbbbb)" in body
    # A new file (a regression test) cannot sit on a line of the pull request: the body carries it.
    assert "+++ b/tests/test_new.py" in body and "+def test_new():" in body
