"""What a job does for each trigger: check out, run the engine, publish the result on GitHub.

Every path ends with something the user sees — a check run, a pull request, a review, a comment or a reply —
including the failures (`report_failure`). Writes are idempotent (see `repairbot.github.publish`), so a job
retried after a crash converges on the same PR instead of opening another.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from github.CheckRun import CheckRun
from github.Repository import Repository

from repairbot.config import RepoConfig, RepoConfigError, Settings, load_repo_config
from repairbot.errors import NothingToRepair
from repairbot.github import git, messages, publish
from repairbot.github.app import GitHubApp, Installation
from repairbot.github.suggest import review_suggestions, thread_suggestion
from repairbot.jobs.engine import Engine
from repairbot.jobs.store import Limits, RunRecord, Store
from repairbot.models import Job, Report
from repairbot.paths import read_inside

log = logging.getLogger("repairbot.jobs")


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # succeeded | skipped | failed
    outcome: str  # pr_opened, pr_updated, suite_green, not_fixed, review_posted, replied, commented, …
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    settings: Settings
    store: Store
    app: GitHubApp
    engine: Engine
    run: RunRecord
    progress: Callable[[str], None]

    @property
    def workdir(self) -> Path:
        return self.settings.data_dir / "work" / self.run.id


def _installation(ctx: Context) -> Installation:
    if ctx.run.installation_id:
        return ctx.app.installation(ctx.run.installation_id)
    return ctx.app.installation_for_repo(ctx.run.repo)


def _clone_url(payload: dict[str, Any]) -> str:
    return str(payload["repository"]["clone_url"])


def _config(ctx: Context, repo: Repository, ref: str) -> RepoConfig:
    cfg = load_repo_config(publish.read_config_text(repo, ref))
    # The webhook applies the repository's caps to its next deliveries (it reads no repository files).
    ctx.store.set_limits(ctx.run.repo, Limits(cfg.max_jobs, cfg.max_jobs_per_author))
    return cfg


# -- who may make repairbot run code ---------------------------------------------------------------------
#
# GitHub's collaborator permission (write, maintain or admin), asked in the job and cached briefly; never the
# payload's author_association. A pull request's head and an issue's code blocks are untrusted code: they run
# when their author has write access, or once a maintainer approved them (a `/repairbot fix` comment or the
# repository's approval label), as GitHub Actions waits for approval of first-time contributors' runs.


def _login(data: Any) -> str | None:
    user = data.get("user") if isinstance(data, dict) else None
    login = user.get("login") if isinstance(user, dict) else None
    return str(login) if login else None


def _writer(ctx: Context, repo: Repository, login: str | None) -> bool:
    return ctx.app.permissions.can_write(repo, login)


def _not_permitted(login: str | None, what: str) -> Outcome:
    detail = f"@{login or 'unknown'} has no write access to the repository: {what} ignored"
    log.info("%s", detail)
    return Outcome("skipped", "not_permitted", {"detail": detail})


def _approval_hint(cfg: RepoConfig) -> str:
    return f"a maintainer can approve it with a `/repairbot fix` comment or the `{cfg.approval_label}` label"


def _job(ctx: Context, cfg: RepoConfig, trigger: str, **extra: Any) -> Job:
    kwargs: dict[str, Any] = {
        "root": ctx.workdir,
        "test_cmd": cfg.test_command,
        "budget_s": cfg.budget,
        "sandbox": ctx.settings.sandbox,
        "generators": tuple(cfg.generators),
        "prefer": cfg.prefer,
        "image": cfg.image,
        "trigger": trigger,
        "job_id": ctx.run.id,
    }
    kwargs.update(extra)
    return Job(**kwargs)


def _repair(ctx: Context, job: Job) -> Report | None:
    """The engine's report; None when the suite already passes."""
    try:
        report = ctx.engine(job, ctx.progress)
    except NothingToRepair:
        return None
    if report.status != "fixed" and not report.failing_tests and report.error is None:
        return None
    return report


def _fixed(report: Report) -> bool:
    return report.status == "fixed" and bool(report.patches) and bool(report.patches[0].diff.strip())


def _without_patch(check: CheckRun, report: Report | None, green: str, failing: str) -> Outcome:
    """Conclude the check run when there is nothing to propose: the suite is green (no report), or no repair
    was found."""
    if report is None:
        publish.finish_check(check, "success", "All tests pass", green)
        return Outcome("succeeded", "suite_green")
    summary = messages.not_fixed_comment(report, "", f"status {report.status}")
    publish.finish_check(check, "failure", failing, summary)
    return Outcome("succeeded", "not_fixed")


def execute(ctx: Context) -> Outcome:
    handler = {
        "push": push_job,
        "issue": issue_job,
        "issue_command": issue_job,
        "pull_request": pull_request_job,
        "review_command": review_comment_job,
    }.get(ctx.run.trigger)
    if handler is None:
        return Outcome("skipped", f"unknown trigger {ctx.run.trigger}")
    shutil.rmtree(ctx.workdir, ignore_errors=True)  # left behind by an attempt whose worker died
    try:
        return handler(ctx)
    finally:
        shutil.rmtree(ctx.workdir, ignore_errors=True)


# -- push --------------------------------------------------------------------------------------------------


def push_job(ctx: Context) -> Outcome:
    p = ctx.run.payload
    branch = str(p["ref"]).removeprefix("refs/heads/")
    sha = str(p["after"])
    default = str(p["repository"].get("default_branch") or p["repository"].get("master_branch") or "main")
    inst = _installation(ctx)
    repo = inst.github.get_repo(ctx.run.repo)
    try:
        cfg = _config(ctx, repo, sha)
    except RepoConfigError as err:
        url = repo.get_commit(sha).create_comment(_config_message(err)).html_url
        check = publish.start_check(repo, sha, ctx.run.id, ctx.run.check_run_id)
        publish.finish_check(check, "failure", "Invalid .github/repairbot.yml", str(err))
        return Outcome("failed", "config_error", {"comment_url": url, "error": str(err)})
    if not cfg.triggers.push or not cfg.watches_branch(branch, default):
        return Outcome("skipped", "branch_not_watched")
    changed = {
        f for c in p.get("commits") or [] for k in ("added", "modified", "removed") for f in c.get(k, [])
    }
    if changed and cfg.ignored_paths and all(cfg.ignores(f) for f in changed):
        return Outcome("skipped", "ignored_paths")

    check = publish.start_check(repo, sha, ctx.run.id, ctx.run.check_run_id)
    ctx.store.note(ctx.run.id, check_run_id=check.id)
    git.checkout(_clone_url(p), ctx.workdir, sha, inst.token)
    report = _repair(ctx, _job(ctx, cfg, "push"))
    if report is None or not _fixed(report):
        return _without_patch(check, report, "The whole suite passed; nothing to repair.",
                              "Tests fail; no validated repair found")  # fmt: skip
    patch = report.patches[0]
    if any(cfg.ignores(f) for f in patch.files):
        summary = messages.check_summary(report, "The repair touches ignored paths; not proposed.")
        publish.finish_check(check, "failure", "Tests fail; repair touches ignored paths", summary)
        return Outcome("succeeded", "not_fixed", {"patch": patch.diff})

    fp = publish.push_fingerprint(branch, report.failing_tests)
    if not cfg.opens_pr(patch.confidence):
        body = messages.patch_comment(report, cfg.min_confidence, f"push to `{branch}`")
        url = publish.comment_commit(repo, sha, body, messages.marker("suggestion", fp))
        summary = messages.check_summary(report, "A plausible patch is posted as a commit comment.", url)
        publish.finish_check(
            check, "failure", f"Tests fail; patch suggested (confidence {patch.confidence})", summary
        )
        fields = {"comment_url": url, "patch": patch.diff, "detail": f"confidence {patch.confidence}"}
        return Outcome("succeeded", "patch_commented", fields)
    pr_branch = f"{publish.BRANCH_PREFIX}{fp}"
    title = messages.pr_title(report)
    body = messages.pr_body(report, trigger=f"push to `{branch}`", sha=sha, fingerprint=fp)
    gate = _rate_limited(ctx, repo, cfg, pr_branch)
    if gate:
        summary = messages.check_summary(
            report, f"{gate}. The validated patch:\n\n```diff\n{patch.diff}\n```"
        )
        publish.finish_check(check, "failure", "Tests fail; repair not proposed (limit)", summary)
        return Outcome("succeeded", "rate_limited", {"patch": patch.diff})
    pr, created = _propose(ctx, inst, repo, pr_branch, base=branch, title=title, body=body, diff=patch.diff)
    publish.finish_check(
        check,
        "failure",
        f"Tests fail; repair proposed in #{pr.number}",
        messages.check_summary(report, "A validated repair is proposed.", pr.html_url),
    )
    return Outcome(
        "succeeded", "pr_opened" if created else "pr_updated", {"pr_url": pr.html_url, "patch": patch.diff}
    )


def _rate_limited(ctx: Context, repo: Repository, cfg: RepoConfig, branch: str) -> str | None:
    return publish.pr_limit(repo, cfg, branch, ctx.store.prs_opened_since(ctx.run.repo, time.time() - 3600))


def _propose(
    ctx: Context,
    inst: Installation,
    repo: Repository,
    branch: str,
    *,
    base: str,
    title: str,
    body: str,
    diff: str,
) -> tuple[Any, bool]:
    paths = git.apply_diff(ctx.workdir, diff)
    git.commit(ctx.workdir, paths, title, ctx.settings.bot_name, ctx.settings.commit_email)
    git.push(ctx.workdir, branch, inst.token)
    pr, created = publish.open_or_update_pr(repo, branch=branch, base=base, title=title, body=body)
    ctx.store.note(ctx.run.id, pr_url=pr.html_url)
    return pr, created


def _config_message(err: RepoConfigError) -> str:
    return (
        f"repairbot cannot use this repository's configuration:\n\n> {err}\n\n"
        "Fix the file (every key is optional; see the repairbot documentation) and push again."
    )


# -- issues ------------------------------------------------------------------------------------------------


def issue_job(ctx: Context) -> Outcome:
    p = ctx.run.payload
    issue = p["issue"]
    number = int(issue["number"])
    default = str(p["repository"].get("default_branch") or "main")
    inst = _installation(ctx)
    repo = inst.github.get_repo(ctx.run.repo)
    mark = messages.marker("run", ctx.run.id)
    try:
        cfg = _config(ctx, repo, default)
    except RepoConfigError as err:
        url = publish.comment_issue(repo, number, _config_message(err), mark)
        return Outcome("failed", "config_error", {"comment_url": url, "error": str(err)})
    if ctx.run.trigger == "issue":
        if not cfg.triggers.issues:
            return Outcome("skipped", "trigger_disabled")
        label = (p.get("label") or {}).get("name") if p.get("action") == "labeled" else None
        if label is not None and label == cfg.approval_label:
            approver = _login({"user": p.get("sender")})
            if not _writer(ctx, repo, approver):
                return _not_permitted(approver, f"the {label!r} label")
            code_ok = True
        else:
            wanted = set(cfg.labels)
            if label is not None:
                if label not in wanted:
                    return Outcome("skipped", "label_not_configured")
            elif not wanted & {lab.get("name") for lab in issue.get("labels") or []}:
                return Outcome("skipped", "label_not_configured")
            code_ok = _writer(ctx, repo, _login(issue))
    else:
        if not cfg.triggers.comments:
            return Outcome("skipped", "trigger_disabled")
        commenter = _login(p.get("comment"))
        if not _writer(ctx, repo, commenter):
            return _not_permitted(commenter, "`/repairbot fix`")
        if issue.get("pull_request"):
            return approved_pull_request(ctx, inst, repo, cfg, number, str(commenter))
        code_ok = True  # a maintainer asked: that approves the issue's code

    text = f"{issue.get('title') or ''}\n\n{issue.get('body') or ''}"
    sha = git.remote_sha(_clone_url(p), default, inst.token)
    if sha is None:
        raise git.GitError(f"the default branch {default!r} was not found")
    git.checkout(_clone_url(p), ctx.workdir, sha, inst.token)
    report = _repair(ctx, _job(ctx, cfg, "issue", issue_text=text, issue_code=code_ok))
    unrun = (
        ""
        if code_ok
        else f"\n\nThe code in this issue was not run: @{_login(issue)} has no write access to this "
        f"repository; {_approval_hint(cfg)}."
    )
    if report is None or not _fixed(report):
        reason = (
            "the tests pass and the issue could not be reproduced" if report is None else "no patch validated"
        )
        body = messages.not_fixed_comment(report, text, reason) + unrun
        url = publish.comment_issue(repo, number, body, mark)
        return Outcome("succeeded", "not_fixed", {"comment_url": url})
    patch = report.patches[0]
    if not cfg.opens_pr(patch.confidence):
        body = messages.patch_comment(report, cfg.min_confidence, f"issue #{number}") + unrun
        url = publish.comment_issue(repo, number, body, mark)
        fields = {"comment_url": url, "patch": patch.diff, "detail": f"confidence {patch.confidence}"}
        return Outcome("succeeded", "patch_commented", fields)
    fp = f"issue-{number}"
    title = messages.pr_title(report, issue=number)
    body = messages.pr_body(report, trigger=f"issue #{number}", sha=sha, fingerprint=fp, issue=number)
    pr, created = _propose(
        ctx, inst, repo, f"{publish.BRANCH_PREFIX}{fp}", base=default, title=title, body=body, diff=patch.diff
    )
    url = publish.comment_issue(
        repo, number, f"repairbot proposes a validated fix in #{pr.number}.{unrun}", mark
    )
    return Outcome(
        "succeeded",
        "pr_opened" if created else "pr_updated",
        {"pr_url": pr.html_url, "comment_url": url, "patch": patch.diff},
    )


# -- pull requests -----------------------------------------------------------------------------------------


def _checkout_pr(ctx: Context, inst: Installation, number: int, head_sha: str) -> None:
    """The PR's head, fetched from the base repository (refs/pull/N/head works for forks too).
    Contributors' branches are never pushed to."""
    git.checkout(_clone_url(ctx.run.payload), ctx.workdir, head_sha, inst.token, [f"refs/pull/{number}/head"])


def pull_request_job(ctx: Context) -> Outcome:
    p = ctx.run.payload
    pr_data = p["pull_request"]
    number = int(pr_data["number"])
    inst = _installation(ctx)
    repo = inst.github.get_repo(ctx.run.repo)
    try:
        # The base's configuration, not the head's: a contributor's branch must not reconfigure the bot.
        cfg = _config(ctx, repo, str(pr_data["base"]["sha"]))
    except RepoConfigError as err:
        url = publish.comment_issue(repo, number, _config_message(err), messages.marker("run", ctx.run.id))
        return Outcome("failed", "config_error", {"comment_url": url, "error": str(err)})
    if not cfg.triggers.pull_request:
        return Outcome("skipped", "trigger_disabled")
    if p.get("action") == "labeled":
        label = (p.get("label") or {}).get("name")
        if label != cfg.approval_label:
            return Outcome("skipped", "label_not_configured")
        approver = _login({"user": p.get("sender")})
        if not _writer(ctx, repo, approver):
            return _not_permitted(approver, f"the {label!r} label")
        # The event's head is what the maintainer saw when labelling: that commit runs, not a later push.
    else:
        author = _login(pr_data)
        if not _writer(ctx, repo, author):
            return _awaiting_approval(ctx, repo, cfg, number, author)
    return _review_head(
        ctx, inst, repo, cfg, number, str(pr_data["head"]["sha"]), str(pr_data["base"]["sha"])
    )


def _awaiting_approval(
    ctx: Context, repo: Repository, cfg: RepoConfig, number: int, author: str | None
) -> Outcome:
    """An outsider's pull request (a fork's, a first-time contributor's): its code does not run until a
    maintainer approves; one short comment says so (once per pull request)."""
    body = (
        f"repairbot has not run this pull request's code: @{author or 'its author'} has no write access to "
        f"this repository. {_approval_hint(cfg).capitalize()}; each new push needs a new approval."
    )
    url = publish.comment_issue(repo, number, body, messages.marker("approval", str(number)))
    return Outcome(
        "skipped", "awaiting_approval", {"comment_url": url, "detail": f"@{author} has no write access"}
    )


def approved_pull_request(
    ctx: Context, inst: Installation, repo: Repository, cfg: RepoConfig, number: int, approver: str
) -> Outcome:
    """`/repairbot fix` on a pull request by a maintainer: run its head as it was when they commented. That
    head is the one named in the comment (`/repairbot fix abc1234`), else the last one a pull_request event
    announced before the comment; if the pull request has moved on since, nothing runs (a push right after
    an approval must not ride on it)."""
    if not cfg.triggers.pull_request:
        return Outcome("skipped", "trigger_disabled")
    pr = repo.get_pull(number)
    head, base = pr.head.sha, pr.base.sha
    pinned = _pinned_sha(str((ctx.run.payload.get("comment") or {}).get("body") or ""))
    approved = pinned or ctx.store.last_head(ctx.run.repo, number, before=ctx.run.created_at)
    if approved is None or not head.startswith(approved):
        seen = f"`{approved[:12]}`" if approved else "no head of it"
        reply = (
            f"repairbot did not run this pull request: the approval was for {seen}, and its head is now "
            f"`{head[:12]}`. Approve the current head with `/repairbot fix {head[:12]}`."
        )
        url = publish.comment_issue(repo, number, reply, messages.marker("run", ctx.run.id))
        return Outcome("skipped", "approval_outdated", {"comment_url": url, "detail": reply})
    log.info("run %s: pull request #%d at %s approved by @%s", ctx.run.id, number, head[:12], approver)
    return _review_head(ctx, inst, repo, cfg, number, head, base)


def _pinned_sha(body: str) -> str | None:
    for line in body.splitlines():
        words = line.strip().split()
        if len(words) >= 3 and [w.lower() for w in words[:2]] == ["/repairbot", "fix"]:
            sha = words[2].lower()
            if 7 <= len(sha) <= 40 and all(c in "0123456789abcdef" for c in sha):
                return sha
    return None


def _review_head(
    ctx: Context,
    inst: Installation,
    repo: Repository,
    cfg: RepoConfig,
    number: int,
    head_sha: str,
    base_sha: str,
) -> Outcome:
    check = publish.start_check(repo, head_sha, ctx.run.id, ctx.run.check_run_id)
    ctx.store.note(ctx.run.id, check_run_id=check.id)
    _checkout_pr(ctx, inst, number, head_sha)
    report = _repair(ctx, _job(ctx, cfg, "pull_request", base=base_sha))
    if report is None or not _fixed(report):
        return _without_patch(check, report, "The whole suite passed on the head commit.",
                              "Tests fail on the head; no validated repair")  # fmt: skip
    patch = report.patches[0]
    pr = repo.get_pull(number)
    files = {f.filename: f.patch for f in pr.get_files()}
    placed, leftover = review_suggestions(patch.diff, files)
    body = messages.review_body(report, len(placed), leftover, head_sha)
    comments = [s.as_review_comment() for s in placed]
    review_url = publish.post_review(pr, head_sha, body, comments, messages.marker("review", head_sha))
    url = review_url or pr.html_url
    publish.finish_check(
        check,
        "failure",
        "Tests fail on the head; suggestions posted",
        messages.check_summary(
            report, f"{len(placed)} suggestion(s) posted in a review.", url or pr.html_url
        ),
    )
    return Outcome("succeeded", "review_posted", {"comment_url": url, "patch": patch.diff})


def review_comment_job(ctx: Context) -> Outcome:
    p = ctx.run.payload
    comment = p["comment"]
    pr_data = p["pull_request"]
    number = int(pr_data["number"])
    inst = _installation(ctx)
    repo = inst.github.get_repo(ctx.run.repo)
    pr = repo.get_pull(number)
    mark = messages.marker("run", ctx.run.id)
    root_id = int(comment.get("in_reply_to_id") or comment["id"])
    try:
        cfg = _config(ctx, repo, str(pr_data["base"]["sha"]))
    except RepoConfigError as err:
        url = publish.reply_in_thread(pr, root_id, _config_message(err), mark)
        return Outcome("failed", "config_error", {"comment_url": url, "error": str(err)})
    if not cfg.triggers.comments:
        return Outcome("skipped", "trigger_disabled")
    commenter = _login(comment)
    if not _writer(ctx, repo, commenter):
        return _not_permitted(commenter, "`/repairbot suggest`")
    # The head the comment's event names: the one the maintainer looked at, not a later push.
    base_sha = str(pr_data["base"]["sha"])
    _checkout_pr(ctx, inst, number, str(pr_data["head"]["sha"]))
    path = str(comment["path"])
    last = int(comment.get("line") or comment.get("original_line") or 0)
    first = int(comment.get("start_line") or last)
    report = _repair(ctx, _job(ctx, cfg, "review_comment", base=base_sha))
    if report is None:
        body = "The tests pass on this pull request's head; repairbot has nothing to suggest here."
        outcome = "suite_green"
    elif not _fixed(report):
        body = messages.not_fixed_comment(report, "", "no patch validated")
        outcome = "not_fixed"
    else:
        diff = report.patches[0].diff
        try:  # the path is the payload's: read only inside the checkout
            original = read_inside(ctx.workdir, path).decode("utf-8", errors="replace")
        except OSError:
            original = ""
        suggestion = thread_suggestion(diff, path, first, last, original)
        confidence = f" Confidence: **{report.patches[0].confidence or 'not assessed'}**."
        if suggestion is not None:
            body = (f"repairbot's validated repair for these lines (the whole suite passes).{confidence}"
                    f"\n\n{suggestion}")  # fmt: skip
        else:
            body = (
                "repairbot's validated repair changes lines outside this thread, so it cannot be a "
                f"suggestion here.{confidence}\n\n```diff\n{diff.rstrip()}\n```"
            )
        outcome = "replied"
    url = publish.reply_in_thread(pr, root_id, body, mark)
    fields: dict[str, Any] = {"comment_url": url}
    if report is not None and _fixed(report):
        fields["patch"] = report.patches[0].diff
    return Outcome("succeeded", outcome, fields)


# -- failures ----------------------------------------------------------------------------------------------


def report_failure(ctx: Context, error: str) -> str | None:
    """Tell the user a job failed, where they would look for its result. Returns a link when there is one."""
    run = ctx.run
    message = f"repairbot failed on this job after {run.attempts} attempt(s): {error}"
    inst = _installation(ctx)
    repo = inst.github.get_repo(run.repo)
    mark = messages.marker("failed", run.id)
    if run.trigger in ("push", "pull_request"):
        p = run.payload
        sha = str(p["after"]) if run.trigger == "push" else str(p["pull_request"]["head"]["sha"])
        check = publish.start_check(repo, sha, run.id, run.check_run_id)
        publish.finish_check(check, "failure", "repairbot failed", message)
        return str(check.html_url)
    if run.trigger in ("issue", "issue_command"):
        return publish.comment_issue(repo, int(run.payload["issue"]["number"]), message, mark)
    if run.trigger == "review_command":
        comment = run.payload["comment"]
        pr = repo.get_pull(int(run.payload["pull_request"]["number"]))
        return publish.reply_in_thread(pr, int(comment.get("in_reply_to_id") or comment["id"]), message, mark)
    return None
