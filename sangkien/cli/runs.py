"""`sangkien quarantine` and `runs`: what the runs held back (and releasing it), and the runs' history.

The pipeline and present/ are imported inside each command: they load pandas and SQLAlchemy,
which `sangkien --help` and the other commands need not wait for."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from sangkien.cli import console
from sangkien.cli.common import Subparsers, add_command, add_group, open_engine


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from sangkien.pipeline import quarantine

    with open_engine(args).connect() as conn:
        rows = quarantine.groups(conn, args.source, args.reason)
    if not rows:
        print("nothing is held in quarantine" + (" for that filter" if args.source or args.reason else ""))
        return 0
    console.table(("source", "column", "check", "rows", "first id", "example value"),
                  [(r["source"], r["column"], r["check"], r["rows"], str(r["first_id"]), repr(r["example"] or ""))
                   for r in rows], numeric=("rows", "first id"), wide=("example value",))
    print(f"{sum(r['rows'] for r in rows):,} failure(s) in all; `sangkien quarantine show ID` shows a row")
    return 0


def cmd_quarantine_show(args: argparse.Namespace) -> int:
    from sangkien.pipeline import quarantine
    from sangkien.present.clock import shown

    with open_engine(args).connect() as conn:
        entry = quarantine.entry(conn, args.id)
    print(f"row {entry['id']} from {entry['source']} (record {entry['source_record_id']!r}, {entry['origin']}), "
          f"landed {shown(entry['fetched_at'])}, outcome {entry['outcome']}")
    print("failures:" if entry["failures"] else "failures: none")
    for f in entry["failures"]:
        print(f"  - {f['column']} / {f['check']}: {f['message']}")
    print("payload, as received:")
    print(json.dumps(entry["payload"], ensure_ascii=False, indent=2))
    return 0


def cmd_quarantine_export(args: argparse.Namespace) -> int:
    from sangkien.present import quarantine

    with open_engine(args).connect() as conn:
        n = quarantine.export(conn, Path(args.out), args.source, args.reason)
    print(f"wrote {n:,} failure row(s) to {args.out}")
    return 0


def cmd_quarantine_release(args: argparse.Namespace) -> int:
    from sangkien.pipeline import quarantine

    result = quarantine.release(open_engine(args), args.source, args.reason)
    for name in result.skipped_sources:
        print(f"kept {name}'s rows: that connector is no longer registered, so its mapping is unknown")
    print(f"released {result.released:,} row(s): now {result.accepted:,} accepted, {result.ineligible:,} ineligible, "
          f"{result.quarantined:,} still quarantined")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from sangkien.pipeline.run import mark_abandoned_runs
    from sangkien.present.report import format_runs

    mark_abandoned_runs(open_engine(args))  # runs whose process was killed show as abandoned, not running
    with open_engine(args).connect() as conn:
        print(format_runs(conn, args.last))
    return 0


def register(sub: Subparsers) -> None:
    held = add_group(sub, "quarantine", "rows held back, and why",
                     examples=("sangkien quarantine list", "sangkien quarantine release --reason unit_known"))
    for action, func, text in (("list", cmd_quarantine_list, "held rows counted by source, column and check"),
                               ("export", cmd_quarantine_export, "every failure of every held row, as CSV"),
                               ("release", cmd_quarantine_release,
                                "re-validate held rows after fixing a mapping or the org tree (no new pull)")):
        out = " --out held.csv" if action == "export" else ""
        p = add_command(held, action, func, text,
                        examples=(f"sangkien quarantine {action}{out}",
                                  f"sangkien quarantine {action} --source hanoi --reason unit_known{out}"))
        p.add_argument("--source", help="only this connector's rows")
        p.add_argument("--reason", help="only rows failing this check or column (e.g. unit_known, applied_on)")
        if action == "export":
            p.add_argument("--out", required=True, metavar="FILE.csv", help="the CSV file to write")
    p = add_command(held, "show", cmd_quarantine_show, "one held row: its payload as received and every failure",
                    examples=("sangkien quarantine show 1234",))
    p.add_argument("id", type=int, help="the row id shown by `quarantine list`")

    p = add_command(sub, "runs", cmd_runs, "recent runs (nightly, full refresh, backfill, release) with per-source "
                    "control totals, and recent pushes", examples=("sangkien runs", "sangkien runs --last 20"))
    p.add_argument("--last", type=int, default=5, help="how many runs (default 5)")
