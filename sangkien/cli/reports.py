"""`sangkien report`, `reconcile`, `export`: the figures, the discrepancies, the record-level links.

The present/ and pipeline modules are imported inside each command: they load pandas and
SQLAlchemy, which `sangkien --help` and the other commands need not wait for."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from sangkien.cli import console
from sangkien.cli.common import Subparsers, add_command, add_group, open_engine, print_or_write
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
        summary = write_workbook(conn, Path(args.out), lang=args.lang, program=args.program)
    sheets = ", ".join(f"{name} ({summary.rows[name]:,})" for name in summary.sheets)
    print(f"wrote {summary.path}: {sheets}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from sangkien.present.report import format_runs, render_report, report_rows

    if args.by == "cluster":
        return _report_by_cluster(args)
    if args.format == "xlsx":
        return _report_workbook(args)
    with open_engine(args).connect() as conn:
        if args.format == "table" and not args.out:  # on the terminal: fitted to its width
            as_of, rows = report_rows(conn, args.phase, args.unit, program=args.program)
            print_report_table(rows, as_of)
            print("\n" + format_runs(conn, last=1))
            return 0
        text = render_report(conn, args.format, args.phase, args.unit, args.program)
    return print_or_write(text, args.out)


def _report_by_cluster(args: argparse.Namespace) -> int:
    from sangkien.present.cluster_ranks import render_cluster_ranks

    if args.format == "xlsx" or args.unit:
        raise UserError("--by cluster takes --phase, --program, --format table, csv or json and --out (the workbook "
                        "has the cluster ranks on its sheet)")
    with open_engine(args).connect() as conn:
        text = render_cluster_ranks(conn, args.format, args.phase, args.program)
    return print_or_write(text, args.out)


def print_report_table(rows: list[dict[str, Any]], as_of: str | None) -> None:
    """The report's rows as a table fitted to the terminal (unit names cut with an ellipsis when narrow)."""
    from sangkien.present.clock import shown
    from sangkien.present.report import set_by, target_cell

    print(f"As of {shown(as_of, 'never (run `sangkien sync`)')}")
    numbers = ("records", "initiatives", "valid", "pending", "rejected", "registrants", "target", "done")
    console.table(("unit", "name", "ph", *numbers, "set by"),
                  [(r["unit_code"], r["unit_name"] or "", r["phase"], r["records"], r["initiatives"], r["valid"],
                    r["pending"], r["rejected"], r["registrants"],
                    r["target"] if r["target"] is None or not str(r["basis"]).startswith("share_of")
                    else target_cell(r),
                    "" if r["completion"] is None else f"{r['completion'] * 100:.1f}%", set_by(r)) for r in rows],
                  numeric=("ph", *numbers), wide=("name",))
    if not rows:
        print("(no rows)")


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2023-09-01") from None


def cmd_reconcile(args: argparse.Namespace) -> int:
    from sangkien.present.reconcile_render import render_reconciliation

    with open_engine(args).connect() as conn:
        text = render_reconciliation(conn, args.format, args.section, args.unit, args.phase, args.as_of, args.lang,
                                     args.program)
    return print_or_write(text, args.out)


def cmd_export_links(args: argparse.Namespace) -> int:
    from sangkien.present.report import export_links

    with open_engine(args).connect() as conn:
        n = export_links(conn, Path(args.out))
    print(f"wrote {n:,} rows to {args.out}")
    return 0


def register(sub: Subparsers) -> None:
    p = add_command(sub, "report", cmd_report,
                    "per-unit totals against quotas: a table, CSV, JSON or the Excel workbook",
                    examples=("sangkien report", "sangkien report --unit P01 --phase 1",
                              "sangkien report --format csv --out report.csv",
                              "sangkien report --format xlsx --out report.xlsx --lang en"))
    p.add_argument("--phase", type=int, help="only this phase (1, 2, ...; `sangkien phases list`)")
    p.add_argument("--unit", help="only this unit, by code (e.g. P01)")
    p.add_argument("--program", help="whose phases and targets (default: the default program; `sangkien programs "
                                     "list`); csv, json and the table")
    p.add_argument("--format", choices=("table", "csv", "json", "xlsx"), default="table",
                   help="table (default), csv, json, or xlsx (the workbook; needs --out)")
    p.add_argument("--by", choices=("unit", "cluster"), default="unit",
                   help="unit (default), or cluster: each competition cluster's ranks per phase and quarter")
    p.add_argument("--out", metavar="FILE", help="write to this file (required for xlsx)")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="xlsx: the workbook's language (default vi)")

    p = add_command(sub, "reconcile", cmd_reconcile,
                    "counts against quotas, and where sources disagree (by initiative)",
                    examples=("sangkien reconcile", "sangkien reconcile --unit P01 --phase 1",
                              "sangkien reconcile --section sources --format csv --out lacking.csv"))
    p.add_argument("--unit", help="this unit and the units below it (default: every unit)")
    p.add_argument("--phase", type=int, help="only this phase")
    p.add_argument("--program", help="whose phases and targets (default: the default program; another program: "
                                     "against its quotas only)")
    p.add_argument("--as-of", type=_iso_date, metavar="YYYY-MM-DD", help="the org tree on this date (default today)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="table (default), csv or json")
    p.add_argument("--section", choices=("quotas", "sources", "pushes", "all"), default="all",
                   help="against quotas, between sources, pushed figures, or all (default)")
    p.add_argument("--out", metavar="FILE", help="write to this file instead of the terminal")
    p.add_argument("--lang", choices=("en", "vi"), default="en", help="the explanations' language (default en)")

    export = add_group(sub, "export", "export data", examples=("sangkien export links --out links.csv",))
    p = add_command(export, "links", cmd_export_links, "one row per landed record: its initiative and outcome",
                    examples=("sangkien export links --out links.csv",))
    p.add_argument("--out", required=True, metavar="FILE.csv", help="the CSV file to write (UTF-8 with a BOM)")
