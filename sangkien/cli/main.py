"""The `sangkien` command line. Errors are one line; the traceback only with --debug."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sangkien.errors import ControlTotalError, UserError

if TYPE_CHECKING:
    from sangkien.pipeline.run import SourceResult


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + error
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from sangkien.store import database_url, open_store

    return open_store(database_url(args.db))


def cmd_orgs_load(args: argparse.Namespace) -> int:
    from sangkien.reference.orgs import load_orgs

    n = load_orgs(_engine(args), Path(args.file))
    print(f"loaded {n} org units from {args.file}")
    return 0


def cmd_orgs_list(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from sangkien import store

    with _engine(args).connect() as conn:
        kinds = conn.execute(sa.select(store.org_units.c.kind, sa.func.count()).group_by(store.org_units.c.kind)).all()
        top = conn.execute(sa.select(store.org_units.c.code, store.org_units.c.name, store.org_units.c.kind)
                           .where(store.org_units.c.kind.in_(["national", "province", "national_sector", "corporation"]))
                           .order_by(store.org_units.c.code)).all()
    if not kinds:
        print("no org tree loaded; run `sangkien orgs load FILE.csv`")
        return 0
    print(", ".join(f"{k}: {n}" for k, n in sorted(kinds)))
    for code, name, kind in top:
        print(f"{code:12} {kind:16} {name}")
    return 0


def cmd_quotas_load(args: argparse.Namespace) -> int:
    from sangkien.reference.quotas import load_quotas

    n = load_quotas(_engine(args), Path(args.file))
    print(f"loaded {n} quotas from {args.file}")
    return 0


def cmd_phases_load(args: argparse.Namespace) -> int:
    from sangkien.reference.phases import load_phases

    n = load_phases(_engine(args), Path(args.file))
    print(f"loaded {n} phases from {args.file}")
    return 0


def cmd_phases_list(args: argparse.Namespace) -> int:
    from sangkien.reference.phases import get_phases

    with _engine(args).connect() as conn:
        for p in get_phases(conn):
            print(f"phase {p.phase}: submitted {p.starts_on} to {p.ends_on}, counting initiatives applied from "
                  f"{p.counts_from} ({p.name})")
    return 0


def cmd_connectors_kinds(args: argparse.Namespace) -> int:
    from connectors.base import connector_kinds

    for name, kind in sorted(connector_kinds().items()):
        print(f"{name}: {kind.description}")
        for field, info in kind.Settings.model_fields.items():
            default = "" if info.is_required() else f" (default {info.default!r})"
            print(f"  {field}{default}: {info.description or ''}")
    return 0


def cmd_connectors_add(args: argparse.Namespace) -> int:
    from sangkien.store.registry import add_connector, merge_settings, parse_assignments, read_config_file

    if not args.config and not args.set:
        raise UserError("give the settings with --config FILE.yaml or --set key=value (see `sangkien connectors kinds`)")
    config = read_config_file(Path(args.config)) if args.config else {}
    config = merge_settings(config, parse_assignments(args.set or []))
    add_connector(_engine(args), args.name, args.kind, config)
    print(f"registered {args.kind} connector {args.name!r}")
    return 0


def cmd_connectors_edit(args: argparse.Namespace) -> int:
    from sangkien.store.registry import edit_connector, parse_assignments

    edit_connector(_engine(args), args.name, parse_assignments(args.set))
    print(f"updated connector {args.name!r}")
    return 0


def cmd_connectors_list(args: argparse.Namespace) -> int:
    from sangkien.store.registry import list_connectors

    with _engine(args).connect() as conn:
        rows = list_connectors(conn)
    if not rows:
        print("no connectors registered; add one with `sangkien connectors add NAME --kind files --config FILE.yaml`")
    for row in rows:
        state = row["state"] or {}
        where = row["config"].get("path") or row["config"].get("base_url") or ""
        progress = (f"{len(state['files'])} file(s) read" if "files" in state
                    else f"synced up to {state['updated_since']}" if state.get("updated_since") else "not synced yet")
        print(f"{row['name']:20} {row['kind']:8} {where}  ({progress})")
    return 0


def cmd_connectors_show(args: argparse.Namespace) -> int:
    from sangkien.store.registry import get_connector_row

    with _engine(args).connect() as conn:
        row = get_connector_row(conn, args.name)
    print(json.dumps({"name": row["name"], "kind": row["kind"], "settings": row["config"],
                      "state": row["state"] or {}}, ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_connectors_check(args: argparse.Namespace) -> int:
    from connectors.base import ConnectorError
    from sangkien.store.registry import build_connector, get_connector_row

    with _engine(args).connect() as conn:
        row = get_connector_row(conn, args.name)
    try:
        print(f"{args.name}: ok: {build_connector(row).check()}")
    except ConnectorError as exc:
        raise UserError(f"{args.name}: {exc.error_type} error: {exc}") from None
    return 0


def cmd_connectors_remove(args: argparse.Namespace) -> int:
    from sangkien.store.registry import remove_connector

    remove_connector(_engine(args), args.name)
    print(f"removed connector {args.name!r} (its landed records stay in the store)")
    return 0


def _quiet_prefect() -> None:
    """Keep Prefect's engine chatter off a person's terminal; the CLI prints its own one-line errors.

    Call before Prefect is imported (its settings are read then). ``--debug`` skips it.
    """
    if "--debug" in sys.argv:
        return
    # a failed source is reported by the CLI in one line; the flow's traceback stays for --debug
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def print_run(results: list[SourceResult]) -> None:
    print(f"{'source':16} {'received':>9} {'new':>8} {'changed':>8} {'accepted':>9} {'ineligible':>10} "
          f"{'quarantined':>11}  errors")
    for r in results:
        print(f"{r.source:16} {r.received:>9,} {r.land.new:>8,} {r.land.changed:>8,} {r.accepted:>9,} "
              f"{r.ineligible:>10,} {r.quarantined:>11,}  {'; '.join(r.errors)}")


def cmd_sync(args: argparse.Namespace) -> int:
    from sangkien.store import database_url

    url = database_url(args.db)
    _engine(args)  # fail early, in one line, when the store cannot be opened
    if args.in_process:
        from sangkien.pipeline.run import run_sync

        summary = run_sync(_engine(args), args.only or None)
    else:
        _quiet_prefect()
        from flows.nightly import SourcesFailed, nightly_sync

        try:
            summary = nightly_sync(db_url=url, connectors=args.only or None)
        except SourcesFailed as exc:
            if exc.summary:
                print_run(exc.summary.sources)
            raise UserError(f"sync failed: {exc}; the other sources were synced and counted") from None
    print(f"sync run {summary.run_id}: {summary.status}")
    print_run(summary.sources)
    if summary.resolved is not None:
        print(f"resolved {summary.resolved.records:,} accepted records into "
              f"{summary.resolved.initiatives:,} initiatives")
    if summary.status != "completed":
        failed = [s for s in summary.sources if s.errors]
        raise UserError("sync failed: " + "; ".join(f"{s.source} ({s.error_type} error)" for s in failed))
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    from sangkien.pipeline.run import run_resolution

    run_id, counts = run_resolution(_engine(args), full=args.full, refit=args.refit)
    print(f"run {run_id}: {counts.mode} resolution compared {counts.compared:,} record(s) in {counts.pairs:,} "
          f"candidate pair(s): {counts.records:,} accepted records are {counts.initiatives:,} initiatives; "
          f"{counts.review_open:,} pair(s) wait for review ({counts.seconds:.1f} s)")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from sangkien.pipeline import review

    with _engine(args).connect() as conn:
        info = review.explain(conn, args.initiative_id)
    print(json.dumps(info, ensure_ascii=False, indent=1) if args.format == "json" else review.format_explain(info))
    return 0


def cmd_review_list(args: argparse.Namespace) -> int:
    from sangkien.pipeline import review

    with _engine(args).connect() as conn:
        print(review.format_reviews(review.list_reviews(conn, args.status, args.limit)))
    return 0


def cmd_review_decide(args: argparse.Namespace) -> int:
    from sangkien.pipeline import review

    if (args.id is None) == (args.records is None):
        raise UserError("name a queued pair by its number, or two records with --records A B")
    done = review.decide(_engine(args), args.action == "accept", args.id, tuple(args.records) if args.records else None,
                         args.by, args.note)
    print(f"pair #{done['id']} {done['status']} by {done['by']} (was {done['was']}); it overrides the model from the "
          "next run on (`sangkien resolve` applies it now)")
    return 0


def cmd_review_conflicts(args: argparse.Namespace) -> int:
    from sangkien.pipeline.resolve import status_conflicts
    from sangkien.store.settings import get_setting

    with _engine(args).connect() as conn:
        frame = status_conflicts(conn, args.limit)
        priority = get_setting(conn, "status_priority") or []
    if frame.empty:
        print("no initiative has records that disagree on status")
        return 0
    print(f"status priority: {', '.join(priority) if priority else '(none set: valid > pending > rejected)'}")
    for iid, group in frame.groupby("initiative_id", sort=False):
        first = group.iloc[0]
        copies = ", ".join(f"{r.source}:{r.source_record_id}={r.source_status}" for r in group.itertuples())
        print(f"initiative {iid} ({first['unit_code']}): counted as {first['status']}; {copies}")
    return 0


def cmd_node_show(args: argparse.Namespace) -> int:
    from sangkien.store.settings import KNOWN, all_settings

    with _engine(args).connect() as conn:
        values = all_settings(conn)
    for key, (_, text) in sorted(KNOWN.items()):
        value = values.get(key)
        shown = ", ".join(value) if isinstance(value, list) else ("(not set)" if value is None else str(value))
        print(f"{key} = {shown}\n    {text}")
    return 0


def cmd_node_set(args: argparse.Namespace) -> int:
    from sangkien.store.settings import set_setting

    key, sep, text = args.assignment.partition("=")
    if not sep:
        raise UserError(f"write KEY=VALUE, e.g. status_priority=portal,hanoi; got {args.assignment!r}")
    with _engine(args).begin() as conn:
        value = set_setting(conn, key.strip(), text)
    print(f"{key.strip()} = {', '.join(value) if isinstance(value, list) else value}")
    return 0

def cmd_nodes_add(args: argparse.Namespace) -> int:
    from sangkien.store.nodes import add_child

    with _engine(args).begin() as conn:
        token = add_child(conn, args.code)
    print(f"node {args.code} may now push here. Its token (shown this once; only its hash is kept):\n\n  {token}\n\n"
          f"On node {args.code}: put the token in an environment variable, e.g. SANGKIEN_UPSTREAM_TOKEN, then\n"
          f"  sangkien node set upstream_url=<this node's address>\n"
          f"  sangkien node set upstream_token=env:SANGKIEN_UPSTREAM_TOKEN")
    return 0


def cmd_nodes_list(args: argparse.Namespace) -> int:
    from sangkien.store.nodes import list_children, submissions_by_node

    with _engine(args).connect() as conn:
        children = list_children(conn)
        latest = submissions_by_node(conn)
    if not children:
        print("no child nodes; `sangkien nodes add CODE` issues a token for one")
    for c in children:
        state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "active"
        last = latest.get(c.code)
        pushed = f"{last[0]} submission(s), latest as of {last[1]:%Y-%m-%d %H:%M}" if last else "nothing pushed yet"
        print(f"{c.code:16} {state:24} token {c.token_hint}…  {pushed}")
    return 0


def cmd_nodes_revoke(args: argparse.Namespace) -> int:
    from sangkien.store.nodes import revoke_child

    with _engine(args).begin() as conn:
        revoke_child(conn, args.code)
    print(f"node {args.code}'s token is revoked; its submissions are kept")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from sangkien.pipeline.push import build_submission, push

    engine = _engine(args)
    if args.dry_run:
        with engine.connect() as conn:
            submission = build_submission(conn)
        if args.out:
            Path(args.out).write_text(submission.model_dump_json(indent=1), encoding="utf-8")
        print(f"would push {len(submission.units):,} unit rows and {len(submission.initiatives):,} initiatives "
              f"as of {submission.as_of:%Y-%m-%d %H:%M:%S %Z} (key {submission.idempotency_key})"
              + (f"; payload written to {args.out}" if args.out else ""))
        return 0
    result = push(engine, force=args.force)
    receipt = result.receipt or {}
    text = {"accepted": "pushed", "replayed": "already received (the first receipt came back)",
            "unchanged": "unchanged since the last accepted push: nothing sent"}[result.status]
    print(f"{text}: {len(result.submission.units):,} unit rows, {len(result.submission.initiatives):,} initiatives "
          f"as of {result.submission.as_of:%Y-%m-%d %H:%M:%S %Z} to {result.upstream}; receipt "
          f"{receipt.get('submission_id')} received {receipt.get('received_at')}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from sangkien.serve.api import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import threading

    from sangkien.serve.dashboard import warm_cache

    engine = _engine(args)
    app = create_app(engine, max_bytes=args.max_bytes)
    threading.Thread(target=warm_cache, args=(engine,), daemon=True).start()  # the first viewer need not wait
    print(f"serving on http://{args.host}:{args.port}: the dashboard at /, the intake API's docs at /docs; "
          "Ctrl-C stops", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if not args.debug else "info")
    return 0

# --- deploy (ops): Prefect deployments, work pool, failure alerts -----------------------------
def cmd_deploy(args: argparse.Namespace) -> int:
    _quiet_prefect()
    from flows.deploy import DEFAULT_FILE, check_webhook_url, deploy, notify_on_failure

    if args.notify_webhook:
        check_webhook_url(args.notify_webhook)
    names = deploy(Path(args.prefect_file) if args.prefect_file else DEFAULT_FILE, args.pool)
    print(f"deployed {', '.join(names)} to work pool {args.pool!r}; start a worker with "
          f"`prefect worker start --pool {args.pool}`")
    if args.notify_webhook:
        print(f"failed runs now post to the webhook (automation {notify_on_failure(args.notify_webhook)!r})")
    return 0


def add_deploy_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="create the work pool if missing and deploy the flows to the Prefect server")
    p.add_argument("--prefect-file", help="default: deployments/prefect.yaml of this installation")
    p.add_argument("--pool", default="sangkien", help="process work pool (created if missing; default sangkien)")
    p.add_argument("--notify-webhook", metavar="URL", help="also post to this webhook when a run fails")
    p.set_defaults(func=cmd_deploy)
# --- end deploy -------------------------------------------------------------------------------


def _report_workbook(args: argparse.Namespace) -> int:
    from sangkien.pipeline.reconcile import discrepancies as find_discrepancies
    from sangkien.present.workbook.book import write_workbook

    if not args.out:
        raise UserError("--format xlsx writes a file: give its path with --out FILE.xlsx")
    if Path(args.out).suffix.lower() != ".xlsx":
        raise UserError(f"--out {args.out!r}: a workbook's name must end in .xlsx, or Excel will not open it")
    if args.phase is not None or args.unit:
        raise UserError("the workbook holds every unit and phase; --phase and --unit apply to table, csv and json")
    with _engine(args).connect() as conn:
        discrepancies = find_discrepancies(conn, kinds=("sources", "pushed"))  # between sources, pushed vs here
        summary = write_workbook(conn, Path(args.out), lang=args.lang, discrepancies=discrepancies)
    sheets = ", ".join(f"{name} ({summary.rows[name]:,})" for name in summary.sheets)
    print(f"wrote {summary.path}: {sheets}")
    return 0


def _print_or_write(text: str, out: str | None) -> int:
    """Print ``text``, or write it to ``out`` and say so."""
    if out:
        Path(out).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(f"wrote {out}")
    else:
        print(text)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from sangkien.present.report import render_report

    if args.format == "xlsx":
        return _report_workbook(args)
    with _engine(args).connect() as conn:
        text = render_report(conn, args.format, args.phase, args.unit)
    return _print_or_write(text, args.out)


# --- reconcile ---------------------------------------------------------------------------------
def _iso_date(text: str):  # type: ignore[no-untyped-def]
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2023-09-01") from None


def cmd_reconcile(args: argparse.Namespace) -> int:
    from sangkien.present.reconcile_render import render_reconciliation

    with _engine(args).connect() as conn:
        text = render_reconciliation(conn, args.format, args.section, args.unit, args.phase, args.as_of)
    return _print_or_write(text, args.out)


def add_reconcile_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reconcile", help="counts against quotas, and where sources disagree (by initiative)")
    p.add_argument("--unit", help="this unit and the units below it (default: every unit)")
    p.add_argument("--phase", type=int)
    p.add_argument("--as-of", type=_iso_date, metavar="YYYY-MM-DD", help="the org tree on this date (default today)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--section", choices=("quotas", "sources", "pushes", "all"), default="all")
    p.add_argument("--out", help="write to this file instead of the terminal")
    p.set_defaults(func=cmd_reconcile)
# --- end reconcile -----------------------------------------------------------------------------


def cmd_export_links(args: argparse.Namespace) -> int:
    from sangkien.present.report import export_links

    with _engine(args).connect() as conn:
        n = export_links(conn, Path(args.out))
    print(f"wrote {n:,} rows to {args.out}")
    return 0


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from sangkien.pipeline import quarantine

    with _engine(args).connect() as conn:
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

    with _engine(args).connect() as conn:
        entry = quarantine.entry(conn, args.id)
    print(f"row {entry['id']} from {entry['source']} (record {entry['source_record_id']!r}, {entry['origin']}), "
          f"landed {entry['fetched_at']}, outcome {entry['outcome']}")
    print("failures:" if entry["failures"] else "failures: none")
    for f in entry["failures"]:
        print(f"  - {f['column']} / {f['check']}: {f['message']}")
    print("payload, as received:")
    print(json.dumps(entry["payload"], ensure_ascii=False, indent=2))
    return 0


def cmd_quarantine_export(args: argparse.Namespace) -> int:
    from sangkien.present import quarantine

    with _engine(args).connect() as conn:
        n = quarantine.export(conn, Path(args.out), args.source, args.reason)
    print(f"wrote {n:,} failure row(s) to {args.out}")
    return 0


def cmd_quarantine_release(args: argparse.Namespace) -> int:
    from sangkien.pipeline import quarantine

    result = quarantine.release(_engine(args), args.source, args.reason)
    for name in result.skipped_sources:
        print(f"kept {name}'s rows: that connector is no longer registered, so its mapping is unknown")
    print(f"released {result.released:,} row(s): now {result.accepted:,} accepted, {result.ineligible:,} ineligible, "
          f"{result.quarantined:,} still quarantined")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from sangkien.present.report import format_runs
    from sangkien.pipeline.run import mark_abandoned_runs

    mark_abandoned_runs(_engine(args))  # runs whose process was killed show as abandoned, not running
    with _engine(args).connect() as conn:
        print(format_runs(conn, args.last))
    return 0


def cmd_sandbox_generate(args: argparse.Namespace) -> int:
    from sandbox.generate import generate_world

    try:
        summary = generate_world(Path(args.out), args.initiatives, seed=args.seed, noise=args.noise)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f"wrote a world of {args.initiatives:,} initiatives ({summary.total_rows:,} source rows, "
          f"{summary.units:,} units) to {args.out}")
    print(f"  orgs: {summary.orgs_path}\n  quotas: {summary.quotas_path}\n  truth: {summary.truth_path}")
    for name, config in sorted(summary.source_configs.items()):
        print(f"  source {name}: {config} ({summary.rows_per_source[name]:,} rows)")
    return 0


def cmd_sandbox_serve(args: argparse.Namespace) -> int:
    from sandbox.servers.cli import main as serve_main

    argv = [args.kind, "--world", args.world, "--port", str(args.port), "--faults", args.faults or "",
            "--token", args.token, "--style", args.style]
    if args.source:
        argv += ["--source", args.source]
    return serve_main(argv)


def cmd_demo(args: argparse.Namespace) -> int:
    from sangkien.cli.demo import run_demo

    return run_demo(Path(args.dir), args.initiatives, args.seed, args.db)


def add_match_commands(match_group: argparse._SubParsersAction) -> None:
    from sangkien.cli.match import add_commands

    add_commands(match_group, _engine)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sangkien", description="Sync, deduplicate, roll up and reconcile initiative records "
                     "between the tiers of the Vietnamese trade-union system.")
    parser.add_argument("--db", help="database URL (default: $SANGKIEN_DB_URL or sqlite:///sangkien.db)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def group(name: str, help_text: str) -> argparse._SubParsersAction:
        return sub.add_parser(name, help=help_text).add_subparsers(dest="action", required=True, parser_class=_Parser)

    orgs = group("orgs", "the union org tree")
    p = orgs.add_parser("load", help="replace the org tree with a CSV file")
    p.add_argument("file")
    p.set_defaults(func=cmd_orgs_load)
    orgs.add_parser("list", help="counts by kind and the top-level units").set_defaults(func=cmd_orgs_list)

    quotas = group("quotas", "targets per unit and phase")
    p = quotas.add_parser("load", help="replace the quotas with a CSV file")
    p.add_argument("file")
    p.set_defaults(func=cmd_quotas_load)

    phases = group("phases", "the program's phases")
    p = phases.add_parser("load", help="replace the phases with a CSV file")
    p.add_argument("file")
    p.set_defaults(func=cmd_phases_load)
    phases.add_parser("list", help="show the phases in force").set_defaults(func=cmd_phases_list)

    conns = group("connectors", "registered sources")
    conns.add_parser("kinds", help="installed connector kinds and their settings").set_defaults(func=cmd_connectors_kinds)
    p = conns.add_parser("add", help="register a source")
    p.add_argument("name")
    p.add_argument("--kind", required=True)
    p.add_argument("--config", help="YAML file of settings")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="a setting (repeatable; columns.title=Tên for nested ones; secrets as env:VAR)")
    p.set_defaults(func=cmd_connectors_add)
    p = conns.add_parser("edit", help="change settings of a registered source")
    p.add_argument("name")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", required=True)
    p.set_defaults(func=cmd_connectors_edit)
    conns.add_parser("list", help="registered sources").set_defaults(func=cmd_connectors_list)
    for action, func, text in (("show", cmd_connectors_show, "settings and state of a source"),
                               ("check", cmd_connectors_check, "test that a source can be read"),
                               ("remove", cmd_connectors_remove, "unregister a source (its records stay)")):
        p = conns.add_parser(action, help=text)
        p.add_argument("name")
        p.set_defaults(func=func)

    p = sub.add_parser("sync", help="run the nightly sync now (the Prefect flow)")
    p.add_argument("--only", action="append", metavar="NAME", help="sync only this connector (repeatable)")
    p.add_argument("--in-process", action="store_true", help="run the stages without Prefect (for debugging)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("resolve", help="re-run matching and the roll-up on what is stored (no pull)")
    p.add_argument("--full", action="store_true", help="re-match every record, not only what changed")
    p.add_argument("--refit", action="store_true", help="learn the match weights again from the records (implies --full)")
    p.set_defaults(func=cmd_resolve)
    add_match_commands(group("match", "the match model: the weights learned from this store's records"))

    p = sub.add_parser("explain", help="an initiative's records, their sources, and why they were joined")
    p.add_argument("initiative_id", type=int)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_explain)

    rev = group("review", "pairs the matcher was unsure of, and reviewers' decisions")
    p = rev.add_parser("list", help="pairs waiting for a decision (or --status accepted|rejected|all)")
    p.add_argument("--status", choices=("open", "accepted", "rejected", "all"), default="open")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_review_list)
    for action, text in (("accept", "these two records are one initiative"),
                         ("reject", "these two records are different initiatives")):
        p = rev.add_parser(action, help=text)
        p.add_argument("id", type=int, nargs="?", help="the pair's number in `review list`")
        p.add_argument("--records", nargs=2, metavar="SOURCE:RECORD_ID", help="or any two records, by source and id")
        p.add_argument("--by", help="who decides (default $USER)")
        p.add_argument("--note")
        p.set_defaults(func=cmd_review_decide)
    p = rev.add_parser("conflicts", help="initiatives whose records disagree on status")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_review_conflicts)

    node = group("node", "this node's settings")
    node.add_parser("show", help="every setting and its value").set_defaults(func=cmd_node_show)
    p = node.add_parser("set", help="change a setting, e.g. status_priority=portal,hanoi")
    p.add_argument("assignment", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_node_set)

    nodes = group("nodes", "at an upper node: the child nodes allowed to push here")
    p = nodes.add_parser("add", help="issue a token for a child node (shown once)")
    p.add_argument("code", help="the child's org unit code")
    p.set_defaults(func=cmd_nodes_add)
    nodes.add_parser("list", help="child nodes, their token state and their latest push").set_defaults(
        func=cmd_nodes_list)
    p = nodes.add_parser("revoke", help="stop a child's token from working")
    p.add_argument("code")
    p.set_defaults(func=cmd_nodes_revoke)

    p = sub.add_parser("push", help="push this node's counts to the node above (upstream_url)")
    p.add_argument("--dry-run", action="store_true", help="build the payload and say what would be sent")
    p.add_argument("--out", help="with --dry-run: write the payload (JSON) here")
    p.add_argument("--force", action="store_true", help="send even when nothing changed since the last push")
    p.set_defaults(func=cmd_push)

    p = sub.add_parser("serve", help="serve the intake API for child nodes, the totals and the reconciliation")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8700)
    p.add_argument("--max-bytes", type=int, help="largest submission accepted (default: intake_max_bytes, 64M)")
    p.set_defaults(func=cmd_serve)

    add_deploy_command(sub)

    p = sub.add_parser("report", help="per-unit totals against quotas")
    p.add_argument("--phase", type=int)
    p.add_argument("--unit")
    p.add_argument("--format", choices=("table", "csv", "json", "xlsx"), default="table")
    p.add_argument("--out", help="write to this file (required for xlsx)")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="xlsx: the workbook's language (default vi)")
    p.set_defaults(func=cmd_report)
    add_reconcile_command(sub)

    export = group("export", "export data")
    p = export.add_parser("links", help="one row per landed record: its initiative and outcome")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export_links)

    held = group("quarantine", "rows held back, and why")
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

    sandbox = group("sandbox", "the simulated world")
    p = sandbox.add_parser("generate", help="write a simulated world (org tree, quotas, sources, truth)")
    p.add_argument("--out", required=True)
    p.add_argument("--initiatives", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise", default="none", help="none, light, hard, real, or real:KIND (one kind of real noise)")
    p.set_defaults(func=cmd_sandbox_generate)

    p = sandbox.add_parser("serve", help="serve a world's portal or a provincial REST system on 127.0.0.1")
    p.add_argument("kind", choices=("portal", "rest"))
    p.add_argument("--world", required=True, help="a folder written by `sandbox generate`")
    p.add_argument("--port", type=int, default=0, help="default: any free port (printed)")
    p.add_argument("--faults", help='e.g. "5xx=0.05,429=0.05,slow=0.02,truncated=0.03,drop=0.02,shift=0.02,update=0.01"')
    p.add_argument("--token", default="demo-token", help="the token / API key clients must send")
    p.add_argument("--style", choices=("page", "offset", "cursor", "link"), default="page", help="rest paging style")
    p.add_argument("--source", help="rest: which world source to serve (default hanoi)")
    p.set_defaults(func=cmd_sandbox_serve)

    p = sub.add_parser("demo", help="generate a small world, sync it, print the report")
    p.add_argument("--dir", default="sangkien-demo", help="work folder (default ./sangkien-demo)")
    p.add_argument("--initiatives", type=int, default=3000)
    p.add_argument("--seed", type=int, default=2022)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        if args.debug:
            raise
        print(f"sangkien: error: {exc}", file=sys.stderr)
        return 2
    except ControlTotalError as exc:
        if args.debug:
            raise
        print(f"sangkien: error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("sangkien: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence for people
        if args.debug:
            raise
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"sangkien: error: unexpected {type(exc).__name__}: {text} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
