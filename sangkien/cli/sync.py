"""`sangkien sync` and `resolve`: run the nightly flow now, or re-run matching and the roll-up.

The flow (Prefect) and the pipeline are imported inside each command: Prefect takes seconds to
import and reads its settings then (after quiet_prefect), and the pipeline loads pandas."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from sangkien.cli import watch
from sangkien.cli.common import Subparsers, add_command, open_engine, print_run, quiet_prefect
from sangkien.cli.prefect_server import prefect_api
from sangkien.errors import UserError

if TYPE_CHECKING:
    from sangkien.pipeline.pullmode import BackfillWindow
    from sangkien.pipeline.run import RunSummary
    from sangkien.store.lock import Holder


def _tell_waiting(holder: Holder | None) -> None:
    who = f" ({holder.describe()})" if holder is not None else ""
    print(f"waiting for another sync to end{who} ...", file=sys.stderr, flush=True)


def cmd_sync(args: argparse.Namespace) -> int:
    from sangkien.store import lock
    from sangkien.store.registry import get_connector_row

    with open_engine(args).connect() as conn:  # fail early, in one line: the store, a mistyped --only name
        for name in args.only or []:
            get_connector_row(conn, name)
    # one writer at a time: held from here, before Prefect starts, to the end (the flow's run re-enters it)
    with lock.holding(open_engine(args), wait=args.wait, on_wait=_tell_waiting):
        summary = _sync(args)
    print(f"sync run {summary.run_id}: {summary.status}")
    print_run(summary.sources)
    if summary.resolved is not None:
        print(f"resolved {summary.resolved.records:,} accepted records into "
              f"{summary.resolved.initiatives:,} initiatives")
    if summary.status != "completed":
        failed = [s for s in summary.sources if s.errors]
        raise UserError("sync failed: " + "; ".join(f"{s.source} ({s.error_type} error)" for s in failed))
    return 0


def _sync(args: argparse.Namespace) -> RunSummary:
    """The sync in this process (--in-process), or the nightly flow run here; Prefect's local server is started
    for it unless PREFECT_API_URL names one."""
    import os

    import sqlalchemy as sa

    from sangkien.store import database_url, store_reference
    from sangkien.store.engine import PASSWORD_VARIABLE

    url = database_url(args.db)
    if args.in_process:
        from sangkien.pipeline.pullmode import PullMode
        from sangkien.pipeline.run import run_sync

        with watch.watching(not args.quiet):
            return run_sync(open_engine(args), args.only or None,
                            PullMode(full_refresh=args.full_refresh, window=args.backfill))
    quiet_prefect()
    watch.announce("loading Prefect ...")
    with prefect_api():
        from flows.nightly import SourcesFailed, nightly_sync

        # the flow gets the store's URL without the password (parameters are stored by Prefect); it runs in this
        # process and takes the password from this process's environment
        password = sa.engine.make_url(url).password
        if password:
            os.environ[PASSWORD_VARIABLE] = str(password)
        try:
            with watch.watching(not args.quiet):
                return nightly_sync(db_url=store_reference(url), connectors=args.only or None,
                                    full_refresh=args.full_refresh, window=args.backfill)
        except SourcesFailed as exc:
            if exc.summary:
                print_run(exc.summary.sources)
            raise UserError(f"sync failed: {exc}; the other sources were synced and counted") from None


def cmd_resolve(args: argparse.Namespace) -> int:
    from sangkien.pipeline.run import run_resolution

    run_id, counts = run_resolution(open_engine(args), full=args.full, refit=args.refit)
    print(f"run {run_id}: {counts.mode} resolution compared {counts.compared:,} record(s) in {counts.pairs:,} "
          f"candidate pair(s): {counts.records:,} accepted records are {counts.initiatives:,} initiatives; "
          f"{counts.review_open:,} pair(s) wait for review ({counts.seconds:.1f} s)")
    return 0


def _window(text: str) -> BackfillWindow:
    """A backfill window typed as START..END."""
    from pydantic import ValidationError

    from sangkien.pipeline.pullmode import BackfillWindow

    start, sep, end = text.partition("..")
    try:
        if not sep:
            raise ValueError
        return BackfillWindow(start=start.strip(), end=end.strip())  # type: ignore[arg-type]  # pydantic parses
    except (ValueError, ValidationError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a window START..END such as 2022-06-01..2022-06-30, "
                                         "start on or before end") from None


def register(sub: Subparsers) -> None:
    p = add_command(sub, "sync", cmd_sync, "run the nightly sync now (the Prefect flow): pull, validate, resolve, "
                    "roll up", examples=("sangkien sync", "sangkien sync --only hanoi --only portal",
                                         "sangkien sync --backfill 2022-06-01..2022-06-30",
                                         "sangkien sync --db postgresql+psycopg://sk@db/sk"))
    p.add_argument("--only", action="append", metavar="NAME", help="sync only this connector (repeatable)")
    p.add_argument("--full-refresh", action="store_true", help="read every source again from scratch")
    p.add_argument("--backfill", type=_window, metavar="START..END",
                   help="read again the records changed in this window (YYYY-MM-DD..YYYY-MM-DD, inclusive); the "
                        "incremental state is left as it is")
    p.add_argument("--in-process", action="store_true", help="run the stages without Prefect (for debugging)")
    p.add_argument("--wait", action="store_true",
                   help="when another sync holds the store, wait for it to end (else: exit saying who holds it)")
    p.add_argument("--quiet", action="store_true", help="no progress while it runs, only the final table")

    p = add_command(sub, "resolve", cmd_resolve, "re-run matching and the roll-up on what is stored (no pull)",
                    examples=("sangkien resolve", "sangkien resolve --full", "sangkien resolve --refit"))
    p.add_argument("--full", action="store_true", help="re-match every record, not only what changed")
    p.add_argument("--refit", action="store_true",
                   help="learn the match weights again from the records (implies --full)")
