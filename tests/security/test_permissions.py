"""Who may make repairbot run code (issue 11, item 1), through the App end to end in the Docker sandbox.

Permission comes from GitHub's collaborator permission endpoint (write, maintain, admin), never from the
payload's `author_association`: outsiders' pull requests and issue code wait for a maintainer's approval,
commands from read and triage users are ignored, and per-repository and per-author caps bound what anyone
can queue.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.conftest import MAINTAINER, OUTSIDER, REPO, AppWorld
from tests.security.malicious import FIXED_LINE, issue_code
from tests.support.github_server import commit_push, run_git

FIXED_LIB = "def within(x, hi):\n" + FIXED_LINE
# A contribution that breaks the bound again; its conftest is the "code" an attacker would run.
HOSTILE_HEAD = {
    "lib.py": "def within(x, hi):\n    # strict\n    return x < hi\n",
    "conftest.py": "import os\nos.environ.get('GITHUB_TOKEN')  # whatever a hostile head would do\n",
}


def _fix_main(w: AppWorld) -> None:
    w.sha = commit_push(w.clone, {"lib.py": FIXED_LIB}, "main", "fix main")


def _issue(w: AppWorld, author: str, number: int, text: str, association: str = "NONE") -> dict[str, Any]:
    title = "within() rejects the upper bound"
    w.github.add_issue(REPO, number, title, text)
    body = w.event("issues/opened.payload.json", author)
    body["issue"].update(
        number=number,
        title=title,
        body=text,
        labels=[{"name": "bug"}],  # an issue template adds it for anyone
        user={"login": author, "id": 77, "type": "User"},
        author_association=association,
    )
    return body


def _comment(
    w: AppWorld,
    commenter: str,
    number: int,
    text: str,
    association: str,
    on_pr: bool = False,
    issue_text: str = "",
) -> Any:
    body = w.event("issue_comment/created.payload.json", commenter)
    body["issue"].update(number=number, body=issue_text, user={"login": OUTSIDER, "id": 77, "type": "User"})
    body["issue"]["pull_request"] = (
        {"url": f"https://api.github.example/repos/{REPO}/pulls/{number}"} if on_pr else None
    )
    body["comment"].update(body=text, user={"login": commenter, "id": 78, "type": "User"})
    body["comment"]["id"] = 9_000_000 + w.deliveries
    body["comment"]["author_association"] = association
    return body


# -- pull requests -----------------------------------------------------------------------------------------


def test_an_outsiders_fork_pull_request_does_not_run_and_says_it_waits(app_world: AppWorld) -> None:
    w = app_world
    _fix_main(w)
    opened = w.pull_request(OUTSIDER, HOSTILE_HEAD)
    job = w.post("pull_request", opened).json()["job"]
    w.drain()
    run = w.run(job)
    assert not w.ran_code_of(job), "a fork's pull request by an outsider ran its code"
    assert (run.status, run.outcome) == ("skipped", "awaiting_approval"), (run.outcome, run.error)
    assert not w.github.state.check_runs and not w.github.state.reviews
    (comment,) = w.github.state.issue_comments[(REPO, 5)]
    assert "has not run this pull request's code" in comment["body"] and "/repairbot fix" in comment["body"]
    # Another push by the outsider: still waiting, and no second comment.
    sync = dict(opened, action="synchronize")
    again = w.post("pull_request", sync).json()["job"]
    w.drain()
    assert not w.ran_code_of(again) and len(w.github.state.issue_comments[(REPO, 5)]) == 1


def test_a_maintainers_fix_command_approves_the_head_it_saw(app_world: AppWorld) -> None:
    w = app_world
    _fix_main(w)
    w.post("pull_request", w.pull_request(OUTSIDER, HOSTILE_HEAD))
    approve = w.post("issue_comment", _comment(w, MAINTAINER, 5, "/repairbot fix", "MEMBER", on_pr=True))
    w.drain()
    run = w.run(approve.json()["job"])
    assert (run.status, run.outcome) == ("succeeded", "review_posted"), (run.outcome, run.error, run.detail)
    assert w.ran_code_of(run.id)
    (review,) = w.github.state.reviews[(REPO, 5)]
    (comment,) = w.github.review_comments(REPO, 5)
    assert comment["pull_request_review_id"] == review["id"]
    assert "```suggestion\n    return x <= hi\n```" in comment["body"]


def test_a_push_after_the_approval_does_not_ride_on_it(app_world: AppWorld) -> None:
    w = app_world
    _fix_main(w)
    opened = w.pull_request(OUTSIDER, HOSTILE_HEAD)
    w.post("pull_request", opened)
    approve = w.post("issue_comment", _comment(w, MAINTAINER, 5, "/repairbot fix", "OWNER", on_pr=True))
    # Before the job runs, the outsider pushes something else to the approved pull request.
    run_git(w.clone, "checkout", "--quiet", "pr-5")
    sneaky = commit_push(w.clone, {"conftest.py": "print('not what was approved')\n"}, "pr-5", "sneak")
    run_git(w.clone, "checkout", "--quiet", "main")
    run_git(w.bare, "update-ref", "refs/pull/5/head", sneaky)
    w.github.state.pulls[REPO][5]["head"]["sha"] = sneaky
    sync = dict(opened, action="synchronize")
    sync["pull_request"] = {
        **opened["pull_request"],
        "head": {**opened["pull_request"]["head"], "sha": sneaky},
    }
    w.post("pull_request", sync)
    w.drain()
    run = w.run(approve.json()["job"])
    assert (run.status, run.outcome) == ("skipped", "approval_outdated"), (run.outcome, run.error)
    assert w.engine_jobs() == [] and not w.github.state.reviews
    assert any(sneaky[:12] in c["body"] for c in w.github.state.issue_comments[(REPO, 5)])


@pytest.mark.parametrize(("labeller", "role", "runs"), [(MAINTAINER, None, True), ("tria", "triage", False)])
def test_the_approval_label_counts_only_from_users_with_write_access(
    app_world: AppWorld, labeller: str, role: str | None, runs: bool
) -> None:
    w = app_world
    if role:
        w.github.set_role(REPO, labeller, role)  # triage may label, but not write
    _fix_main(w)
    opened = w.pull_request(OUTSIDER, HOSTILE_HEAD)
    w.post("pull_request", opened)
    labeled = dict(opened, action="labeled", label={"name": "repairbot:approved"})
    labeled["sender"] = {"login": labeller, "id": 5, "type": "User"}
    job = w.post("pull_request", labeled).json()["job"]
    w.drain()
    run = w.run(job)
    assert w.ran_code_of(job) is runs, (run.outcome, run.detail)
    assert run.outcome == ("review_posted" if runs else "not_permitted")


# -- commands ----------------------------------------------------------------------------------------------


def test_a_read_only_collaborator_cannot_make_repairbot_run(app_world: AppWorld) -> None:
    """author_association COLLABORATOR is also a collaborator with read access only."""
    w = app_world
    w.github.set_role(REPO, "reader", "read")
    w.github.add_issue(REPO, 8, "x", "y")
    job = w.post("issue_comment", _comment(w, "reader", 8, "/repairbot fix", "COLLABORATOR")).json()["job"]
    w.drain()
    run = w.run(job)
    assert not w.ran_code_of(job), "a read-only collaborator's command ran"
    assert (run.status, run.outcome) == ("skipped", "not_permitted")
    assert not w.github.state.issue_comments.get((REPO, 8)) and w.github.pulls(REPO) == []


def test_a_triage_member_cannot_ask_for_suggestions(app_world: AppWorld) -> None:
    """author_association MEMBER is any organization member, whatever their access to this repository."""
    w = app_world
    w.github.set_role(REPO, "tria", "triage")
    _fix_main(w)
    opened = w.pull_request(MAINTAINER, HOSTILE_HEAD)
    root = w.github.add_review_comment(REPO, 5, "/repairbot suggest", "lib.py", 3)
    event = w.event("pull_request_review_comment/created.payload.json", "tria")
    event["pull_request"] = opened["pull_request"]
    event["comment"].update(id=root["id"], body="/repairbot suggest", path="lib.py", line=3, start_line=None)
    event["comment"].update(user={"login": "tria", "id": 6, "type": "User"}, author_association="MEMBER")
    job = w.post("pull_request_review_comment", event).json()["job"]
    w.drain()
    run = w.run(job)
    assert not w.ran_code_of(job), "a triage member's command ran"
    assert (run.status, run.outcome) == ("skipped", "not_permitted")


# -- issues ------------------------------------------------------------------------------------------------


def test_an_outsiders_issue_is_answered_but_its_code_is_not_run(app_world: AppWorld) -> None:
    w = app_world
    text = issue_code(w.settings.data_dir / "marker")
    job = w.post("issues", _issue(w, OUTSIDER, 3, text)).json()["job"]
    w.drain()
    run = w.run(job)
    (entry,) = w.engine_jobs()
    assert entry["issue_code"] is False and not any("reproduced the issue" in n for n in entry["notes"])
    assert run.status == "succeeded", (run.outcome, run.error)
    for pr in w.github.pulls(REPO):  # the fix (from the repository's own failing test) carries no issue code
        files = run_git(w.bare, "ls-tree", "-r", "--name-only", f"refs/heads/{pr['head']['ref']}")
        assert "test_issue_reproduction" not in files
    comments = w.github.state.issue_comments[(REPO, 3)]
    assert any("The code in this issue was not run" in c["body"] for c in comments)


def test_a_maintainers_command_approves_an_issues_code(app_world: AppWorld) -> None:
    w = app_world
    text = issue_code(w.settings.data_dir / "marker")
    w.post("issues", _issue(w, OUTSIDER, 3, text))
    command = _comment(w, MAINTAINER, 3, "/repairbot fix", "MEMBER", issue_text=text)
    job = w.post("issue_comment", command).json()["job"]
    w.drain()
    approved = next(e for e in w.engine_jobs() if e["job"] == job)
    assert approved["issue_code"] is True
    assert any("reproduced the issue" in n for n in approved["notes"])


# -- caps --------------------------------------------------------------------------------------------------


def test_one_author_cannot_flood_the_queue(app_world: AppWorld) -> None:
    """Fifteen issues from one outsider at once: ten queue (max_jobs_per_author), the rest are refused and
    the answer says why."""
    w = app_world
    answers = [w.post("issues", _issue(w, OUTSIDER, 100 + i, "it breaks\n")).json() for i in range(15)]
    statuses = [a["status"] for a in answers]
    assert statuses.count("queued") == 10 and statuses.count("limited") == 5, statuses
    assert all("max_jobs_per_author: 10" in a["reason"] for a in answers if a["status"] == "limited")
    assert w.queue.pending() == 10
    limited = w.run(next(a["job"] for a in answers if a["status"] == "limited"))
    assert (limited.status, limited.outcome) == ("skipped", "limited") and "@mallory" in (
        limited.detail or ""
    )


def test_the_repository_configures_its_caps(app_world: AppWorld) -> None:
    w = app_world
    sha = commit_push(w.clone, {".github/repairbot.yml": "max_jobs: 2\n"}, "main", "at most two jobs")
    push = w.event("push/payload.json", MAINTAINER, ref="refs/heads/main", after=sha, deleted=False)
    w.post("push", push)
    w.drain()  # the job read the configuration
    answers = [w.post("issues", _issue(w, f"user{i}", 200 + i, "it breaks\n")).json() for i in range(3)]
    assert [a["status"] for a in answers] == ["queued", "queued", "limited"], answers
    assert "(max_jobs: 2)" in answers[2]["reason"]
