"""`sangkien connectors check | discover | preview`: look at a source before it is synced, writing nothing.

``check`` reads it (every file the pattern picks, CSV and XLSX alike, or an API's first page) and judges a
sample through the real validation; ``discover`` lists what the source offers and proposes a mapping;
``preview`` shows the first rows as they would land. The pipeline is imported inside each command.
"""
from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sangkien.cli import console
from sangkien.cli.common import Subparsers, add_command, open_engine
from sangkien.errors import UserError

if TYPE_CHECKING:
    from connectors.base import Connector
    from sangkien.pipeline.sample import SampleReport

PREVIEW_FIELDS = ("title", "unit", "submitted_at", "status")


@contextmanager
def _as_user_error(name: str) -> Iterator[None]:
    """A source that cannot be read is one line for the user: its name, the error type, the message."""
    from connectors.base import ConnectorError

    try:
        yield
    except ConnectorError as exc:
        raise UserError(f"{name}: {exc.error_type} error: {exc}") from None


def _registered(args: argparse.Namespace) -> Connector:
    from sangkien.store.registry import build_connector, get_connector_row

    with open_engine(args).connect() as conn:
        return build_connector(get_connector_row(conn, args.name))


def _sample(args: argparse.Namespace, connector: Connector) -> SampleReport:
    from sangkien.pipeline.sample import sample_source

    with _as_user_error(connector.name):
        return sample_source(open_engine(args), connector, args.rows)


def _print_sample(report: SampleReport) -> None:
    parts = len([u for u in report.units if u.problem is None])
    if not report.total:
        print("sample: no rows to judge yet")
        return
    shares = ", ".join(f"{report.counts[o]:,} {o} ({report.share(o):.0%})"
                       for o in ("accepted", "ineligible", "quarantined"))
    print(f"sample of {report.total:,} row(s) from {parts} part(s) ({', '.join(u.label for u in report.units)}): "
          f"{shares}")
    if report.reasons:
        console.table(("column", "check", "rows", "first failure"),
                      [(r.column, r.check, r.rows, r.message) for r in report.reasons[:5]],
                      numeric=("rows",), wide=("first failure",), title="top reasons for quarantine")


def cmd_check(args: argparse.Namespace) -> int:
    connector = _registered(args)
    with _as_user_error(args.name):
        print(f"{args.name}: ok: {connector.check()}")
    report = _sample(args, connector)
    _print_sample(report)
    for unit in report.unreadable:
        raise UserError(f"{args.name}: {unit.label}: {unit.problem}")
    if report.failure:
        raise UserError(f"{args.name}: {report.failure}; fix the mapping (`sangkien connectors edit {args.name} "
                        "--set KEY=VALUE`), then check again")
    return 0


def _discovery_connector(args: argparse.Namespace) -> tuple[Connector, dict[str, Any]]:
    """The connector to discover with, and the settings to write out: a registered source's, or --kind/--config."""
    from sangkien.store.registry import (
        connector_for_discovery,
        get_connector_row,
        merge_settings,
        parse_assignments,
        read_config_file,
    )

    if args.kind is None:
        if not args.name:
            raise UserError("name a registered source, or give --kind and --config FILE.yaml (or --set) for one "
                            "not registered yet")
        with open_engine(args).connect() as conn:
            row = get_connector_row(conn, args.name)
        kind, config = row["kind"], dict(row["config"])
    else:
        kind = args.kind
        config = read_config_file(Path(args.config)) if args.config else {}
    config = merge_settings(config, parse_assignments(args.set or []))
    return connector_for_discovery(args.name or "new-source", kind, config), config


def cmd_discover(args: argparse.Namespace) -> int:
    import pandas as pd

    from sangkien.pipeline.discover import columns_of, propose

    connector, config = _discovery_connector(args)
    with _as_user_error(connector.name):
        batches = [b for b in connector.discover(args.rows) if b.problem is None]
    headers = list(dict.fromkeys(h for b in batches for h in b.headers))
    rows = pd.concat([b.rows for b in batches], ignore_index=True) if batches else pd.DataFrame()
    if not headers:
        raise UserError(f"{connector.name}: the source offers no rows to discover columns from yet")
    columns = columns_of(rows, headers)
    proposal = propose(columns)
    field_of = {column: name for name, column in proposal.columns.items()}
    print(f"{connector.name} ({connector.kind}): {len(headers)} column(s) in {len(batches)} part(s), "
          f"{len(rows):,} sampled row(s)")
    console.table(("column", "filled", "proposed field", "sample values"),
                  [(c.name, f"{c.filled}/{c.rows}", field_of.get(c.name, ""), " | ".join(c.samples))
                   for c in columns], wide=("sample values",))
    for name in proposal.missing_required:
        print(f"no column found for the required field {name}: set columns.{name} by hand")
    settings = _proposed_settings(config, proposal)
    return _write_or_print(settings, args.write)


def _proposed_settings(config: dict[str, Any], proposal: Any) -> dict[str, Any]:
    settings = {k: v for k, v in config.items() if k != "columns"}
    if "columns" in config or "date_format" in config or proposal.columns:
        if proposal.date_format:
            settings["date_format"] = proposal.date_format
        if proposal.authors_separator:
            settings["authors_separator"] = proposal.authors_separator
        settings["columns"] = proposal.columns
    return settings


def _write_or_print(settings: dict[str, Any], out: str | None) -> int:
    import yaml

    text = yaml.safe_dump(settings, allow_unicode=True, sort_keys=False, default_flow_style=False)
    if out:
        Path(out).write_text("# proposed by `sangkien connectors discover`: check the columns, then\n"
                             f"# sangkien connectors add NAME --kind KIND --config {out}\n" + text, encoding="utf-8")
        print(f"wrote the proposed settings to {out}")
    else:
        print("\nproposed settings (`--write FILE.yaml` writes them for `connectors add --config`):\n")
        print(text.rstrip())
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    connector = _registered(args)
    report = _sample(args, connector)
    for unit in report.unreadable:
        print(f"{unit.label}: cannot be read: {unit.problem}")
    rows = report.rows
    shown = [f for f in PREVIEW_FIELDS if f in rows.columns]
    console.table(("row", "record id", "outcome", *shown, "reason"),
                  [(r["origin"], r["record_id"], r["outcome"], *(r[f] for f in shown), r["reason"])
                   for r in rows.fillna("").to_dict("records")], wide=("reason", "title"))
    _print_sample(report)
    print("nothing was written: `sangkien sync --only " + args.name + "` lands these rows")
    return 0


def register(conns: Subparsers) -> None:
    """Add check, discover and preview to `sangkien connectors`."""

    p = add_command(conns, "check", cmd_check, "test that a source can be read and that its mapping fits",
                    examples=("sangkien connectors check hanoi", "sangkien connectors check hanoi --rows 1000"))
    p.add_argument("name", help="a registered source (`sangkien connectors list`)")
    p.add_argument("--rows", type=int, default=200, metavar="N",
                   help="rows judged per file, or in all from an API or a database (default 200)")
    p = add_command(conns, "discover", cmd_discover,
                    "the columns a source offers, with sample values, and a proposed mapping",
                    examples=("sangkien connectors discover hanoi",
                              "sangkien connectors discover --kind files --set path=/data/drop/hanoi "
                              "--write hanoi.yaml",
                              "sangkien connectors add hanoi --kind files --config hanoi.yaml"))
    p.add_argument("name", nargs="?", help="a registered source; or give --kind and --config / --set")
    p.add_argument("--kind", help="the kind of a source not registered yet (`sangkien connectors kinds`)")
    p.add_argument("--config", metavar="FILE.yaml", help="its settings (columns may be left out)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a setting (repeatable)")
    p.add_argument("--rows", type=int, default=50, metavar="N", help="rows read per file or page (default 50)")
    p.add_argument("--write", metavar="FILE.yaml", help="write the settings with the proposed mapping to this file")
    p = add_command(conns, "preview", cmd_preview, "the first rows as a sync would land and judge them "
                    "(nothing is written)",
                    examples=("sangkien connectors preview hanoi", "sangkien connectors preview hanoi --rows 50"))
    p.add_argument("name", help="a registered source")
    p.add_argument("--rows", type=int, default=10, metavar="N", help="rows per file, or in all (default 10)")
