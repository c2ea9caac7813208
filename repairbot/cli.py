"""The command line (DESIGN §3). Exit status: 0 patch found, 1 none found, 2 bad input or environment."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from repairbot.errors import RepairbotError, missing_extra
from repairbot.models import Job, Report
from repairbot.plugins import sandbox_names
from repairbot.testing.runs import split_test_cmd


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="repairbot", description="Find, localize and fix failing Python tests.")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("repair", help="repair the failing tests of a project; print the patch as a diff")
    r.add_argument("path", type=Path)
    _common(r)
    r.add_argument("--base", help="the changes from this revision to the tree are intended")
    r.add_argument("--budget", type=float, default=300.0, metavar="SECONDS", help="wall time of the repair")
    r.add_argument("--max-candidates", type=int, default=2000, metavar="N")
    r.add_argument("--apply", action="store_true", help="leave PATH with the best validated patch applied")
    r.add_argument("--llm", metavar="URL", help="OpenAI-compatible endpoint for the llm generator")
    r.add_argument("--predictor", metavar="MODEL", help="masked LM name or path to fill <mask> holes")
    r.add_argument("--generators", default="rules,mask,tests", help="comma-separated generator names")
    r.add_argument("--prefer", choices=["auto", "code", "test"], default="auto")
    r.add_argument("--rounds", type=int, default=3, help="self-debugging rounds")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress output")

    loc = sub.add_parser("localize", help="run the tests and print the ranked suspicious statements")
    loc.add_argument("path", type=Path)
    _common(loc)
    loc.add_argument("--limit", type=int, default=20)

    b = sub.add_parser("bench", help="run a benchmark file (DESIGN §6)")
    b.add_argument("file", type=Path)
    b.add_argument("--budget", type=float, default=60.0, metavar="SECONDS", help="per case")
    b.add_argument("--jobs", type=int, default=1, metavar="N", help="cases run at once")
    b.add_argument("--sandbox", choices=sandbox_names(), default="docker")
    b.add_argument("--only", default="", help="comma-separated case ids (or suffixes) to run")
    b.add_argument("--json", type=Path, metavar="FILE", help="write one JSON object per case")
    b.add_argument("--predictor", metavar="MODEL", help="masked LM name or path")
    b.add_argument("--llm", metavar="URL")
    b.add_argument(
        "--mirrors",
        type=Path,
        metavar="DIR",
        help="git mirrors of repository cases, as owner+name (default: $REPAIRBOT_MIRRORS)",
    )
    b.add_argument("--cache", type=Path, metavar="DIR",
                   help="virtualenvs and checkouts of repository cases (default: $REPAIRBOT_BENCH_CACHE or "
                   "~/.cache/repairbot/bench)")  # fmt: skip

    s = sub.add_parser("serve", help="run the GitHub App webhook server")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    w = sub.add_parser("worker", help="run a job queue worker")
    w.add_argument("--concurrency", type=int, default=1)
    sub.add_parser("action", help="entry point of the GitHub Action")
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--test-cmd", help="how the project's tests run (default: pytest under this interpreter)")
    p.add_argument("--sandbox", choices=sandbox_names(), default="docker")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report here")


def _progress(quiet: bool) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A live status line on a terminal, plain lines otherwise; (update, finish)."""
    if quiet:
        return (lambda _m: None), (lambda: None)
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_terminal:
        status = console.status("starting")
        status.start()
        return (lambda m: status.update(m)), status.stop
    return (lambda m: print(f"repairbot: {m}", file=sys.stderr, flush=True)), (lambda: None)


def _cmd_repair(args: argparse.Namespace) -> int:
    from repairbot.pipeline import repair
    from repairbot.report import terminal_summary, write_json

    job = Job(
        root=args.path.resolve(),
        test_cmd=split_test_cmd(args.test_cmd),
        base=args.base,
        budget_s=args.budget,
        max_candidates=args.max_candidates,
        sandbox=args.sandbox,
        apply=args.apply,
        llm_url=args.llm,
        predictor=args.predictor,
        generators=tuple(g.strip() for g in args.generators.split(",") if g.strip()),
        prefer=args.prefer,
        max_rounds=max(1, args.rounds),
    )
    update, finish = _progress(args.quiet)
    try:
        report = repair(job, update)
    except RepairbotError as err:
        finish()
        if args.json:
            failed = Report(status="not_fixed" if err.exit_code == 1 else "error", error=str(err))
            write_json(failed, args.json)
        raise
    finish()
    if args.json:
        write_json(report, args.json)
    if report.patches:
        sys.stdout.write(report.patches[0].diff)
    if not args.quiet:
        print(terminal_summary(report), file=sys.stderr)
    return 0 if report.status == "fixed" else 1


def _cmd_localize(args: argparse.Namespace) -> int:
    from repairbot.pipeline import locate
    from repairbot.report import write_json

    job = Job(root=args.path.resolve(), test_cmd=split_test_cmd(args.test_cmd), sandbox=args.sandbox)
    update, finish = _progress(False)
    try:
        report = locate(job, update)
    finally:
        finish()
    if args.json:
        write_json(report, args.json)
    print(f"{'score':>6}  location")
    for loc in report.localization[: args.limit]:
        print(f"{loc.score:6.3f}  {loc.path}:{loc.line}  [{', '.join(loc.sources)}]")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from repairbot.bench import run_bench

    return run_bench(args.file, budget=args.budget, jobs=args.jobs, sandbox=args.sandbox,
                     only=[x for x in args.only.split(",") if x], json_out=args.json,
                     predictor=args.predictor, llm_url=args.llm, mirrors=args.mirrors,
                     cache=args.cache)  # fmt: skip


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from webhooks.app import serve
    except ImportError as err:
        raise missing_extra(err, "app", "repairbot serve") from None

    serve(args.host, args.port)
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    try:
        from repairbot.jobs.worker import run_worker
    except ImportError as err:
        raise missing_extra(err, "app", "repairbot worker") from None

    run_worker(args.concurrency)
    return 0


def _cmd_action(args: argparse.Namespace) -> int:
    from repairbot.action import main as action_main

    return int(action_main())


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "repair": _cmd_repair,
    "localize": _cmd_localize,
    "bench": _cmd_bench,
    "serve": _cmd_serve,
    "worker": _cmd_worker,
    "action": _cmd_action,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING, format="repairbot: %(message)s"
    )
    try:
        return _COMMANDS[args.command](args)
    except RepairbotError as err:
        print(f"repairbot: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("repairbot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for the user; --debug shows it
        if args.debug:
            raise
        print(f"repairbot: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
              file=sys.stderr)  # fmt: skip
        return 2


if __name__ == "__main__":
    sys.exit(main())
