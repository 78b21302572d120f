"""`sangkien report`, `reconcile`, `export`: the figures, the discrepancies, the record-level links.

The present/ and pipeline modules are imported inside each command: they load pandas and
SQLAlchemy, which `sangkien --help` and the other commands need not wait for."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sangkien.cli.common import Subparsers, add_group, open_engine, print_or_write
from sangkien.errors import UserError


def _report_workbook(args: argparse.Namespace) -> int:
    from sangkien.pipeline.summary import ensure_current
    from sangkien.present.workbook.book import write_workbook

    if not args.out:
        raise UserError("--format xlsx writes a file: give its path with --out FILE.xlsx")
    if Path(args.out).suffix.lower() != ".xlsx":
        raise UserError(f"--out {args.out!r}: a workbook's name must end in .xlsx, or Excel will not open it")
    if args.phase is not None or args.unit:
        raise UserError("the workbook holds every unit and phase; --phase and --unit apply to table, csv and json")
    engine = open_engine(args)
    ensure_current(engine)  # the worklist the last roll-up kept (worked out again if a load came since)
    with engine.connect() as conn:
        summary = write_workbook(conn, Path(args.out), lang=args.lang)
    sheets = ", ".join(f"{name} ({summary.rows[name]:,})" for name in summary.sheets)
    print(f"wrote {summary.path}: {sheets}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from sangkien.present.report import render_report

    if args.format == "xlsx":
        return _report_workbook(args)
    with open_engine(args).connect() as conn:
        text = render_report(conn, args.format, args.phase, args.unit)
    return print_or_write(text, args.out)


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2023-09-01") from None


def cmd_reconcile(args: argparse.Namespace) -> int:
    from sangkien.present.reconcile_render import render_reconciliation

    with open_engine(args).connect() as conn:
        text = render_reconciliation(conn, args.format, args.section, args.unit, args.phase, args.as_of, args.lang)
    return print_or_write(text, args.out)


def cmd_export_links(args: argparse.Namespace) -> int:
    from sangkien.present.report import export_links

    with open_engine(args).connect() as conn:
        n = export_links(conn, Path(args.out))
    print(f"wrote {n:,} rows to {args.out}")
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser("report", help="per-unit totals against quotas")
    p.add_argument("--phase", type=int)
    p.add_argument("--unit")
    p.add_argument("--format", choices=("table", "csv", "json", "xlsx"), default="table")
    p.add_argument("--out", help="write to this file (required for xlsx)")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="xlsx: the workbook's language (default vi)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("reconcile", help="counts against quotas, and where sources disagree (by initiative)")
    p.add_argument("--unit", help="this unit and the units below it (default: every unit)")
    p.add_argument("--phase", type=int)
    p.add_argument("--as-of", type=_iso_date, metavar="YYYY-MM-DD", help="the org tree on this date (default today)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--section", choices=("quotas", "sources", "pushes", "all"), default="all")
    p.add_argument("--out", help="write to this file instead of the terminal")
    p.add_argument("--lang", choices=("en", "vi"), default="en", help="the explanations' language (default en)")
    p.set_defaults(func=cmd_reconcile)

    export = add_group(sub, "export", "export data")
    p = export.add_parser("links", help="one row per landed record: its initiative and outcome")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export_links)
