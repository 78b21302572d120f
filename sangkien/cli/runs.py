"""`sangkien quarantine` and `runs`: what the runs held back (and releasing it), and the runs' history.

The pipeline and present/ are imported inside each command: they load pandas and SQLAlchemy,
which `sangkien --help` and the other commands need not wait for."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from sangkien.cli.common import Subparsers, add_group, open_engine


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from sangkien.pipeline import quarantine

    with open_engine(args).connect() as conn:
        rows = quarantine.groups(conn, args.source, args.reason)
    if not rows:
        print("nothing is held in quarantine" + (" for that filter" if args.source or args.reason else ""))
        return 0
    print(f"{'source':16} {'column':16} {'check':18} {'rows':>8}  {'first id':>8}  example value")
    for r in rows:
        example = (r["example"] or "")[:40]
        print(f"{r['source']:16} {r['column']:16} {r['check']:18} {r['rows']:>8,}  {r['first_id']:>8}  {example!r}")
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
    held = add_group(sub, "quarantine", "rows held back, and why")
    for action, func, text in (("list", cmd_quarantine_list, "held rows counted by source, column and check"),
                               ("export", cmd_quarantine_export, "every failure of every held row, as CSV"),
                               ("release", cmd_quarantine_release,
                                "re-validate held rows after fixing a mapping or the org tree (no new pull)")):
        p = held.add_parser(action, help=text)
        p.add_argument("--source", help="only this connector's rows")
        p.add_argument("--reason", help="only rows failing this check or column (e.g. unit_known, applied_on)")
        if action == "export":
            p.add_argument("--out", required=True)
        p.set_defaults(func=func)
    p = held.add_parser("show", help="one held row: its payload as received and every failure")
    p.add_argument("id", type=int, help="the row id shown by `quarantine list`")
    p.set_defaults(func=cmd_quarantine_show)

    p = sub.add_parser("runs", help="recent sync runs with per-source control totals")
    p.add_argument("--last", type=int, default=5, help="how many runs (default 5)")
    p.set_defaults(func=cmd_runs)
