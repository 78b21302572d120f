"""What the user reads: per-unit totals reconciled against quotas, and per-record links."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, TextIO

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.errors import UserError
from sangkien.present.clock import shown
from sangkien.reference.orgs import KIND_ORDER
from sangkien.reference.quotas import BASIS_COLUMN

REPORT_COLUMNS = ("unit_code", "unit_name", "phase", "records", "initiatives", "valid", "pending", "rejected",
                  "registrants", "target", "completion", "basis", "assigned_by", "counted")
LINK_COLUMNS = ("source", "source_record_id", "initiative_id", "outcome", "reason")
# Every CSV people open is UTF-8 with a byte-order mark: without it Excel on Windows reads the
# file as the local code page and garbles Vietnamese. Files get it from the encoding; CSV text
# rendered for `--out` starts with it (the terminal is spared it: see cli.common.print_or_write).
CSV_ENCODING = "utf-8-sig"
BOM = "\ufeff"
FORMULA_STARTS = frozenset(("=", "+", "-", "@", "\t", "\r"))  # a cell starting so is written as text ('...)


def _targets(conn: Connection, counts: pd.DataFrame, every_target: bool, program: str) -> pd.DataFrame:
    """The quotas (unit_code, phase, target, basis, assigned_by, share): every one, or one per unit and phase;
    ``share`` is the count of a share basis in percent (sangkien.pipeline.shares), NaN for other bases."""
    from sangkien.pipeline import reconcile, shares

    quotas = reconcile.quotas_frame(conn, program)
    if not every_target:
        quotas = reconcile.primary_quotas(quotas)
    quotas = quotas.assign(share=float("nan"))
    if quotas.empty or not shares.is_share(quotas["basis"]).any():
        return quotas
    rolled = counts.reindex(columns=["unit_code", "phase", "valid", "registrants"]).fillna(0)
    found = shares.share_counts(conn, reconcile.open_scope(conn, program=program), quotas, rolled)
    merged = quotas.drop(columns="share").merge(found[["unit_code", "phase", "basis", "counted"]],
                                                on=["unit_code", "phase", "basis"], how="left")
    return merged.rename(columns={"counted": "share"})


def report_rows(conn: Connection, phase: int | None = None, unit: str | None = None,
                every_target: bool = True, program: str | None = None) -> tuple[str | None, list[dict[str, Any]]]:
    """(as_of, rows) per unit, phase and target: counts from the last sync, joined to targets.

    A unit and phase with several targets (from different assigners, or on different bases) has a
    row for each (``every_target``; else only its primary one, reconcile.primary_quotas). Completion
    is the count on the basis (``counted``) over the target (valid / target when the basis is valid,
    the share in percent over the percentage for a share basis); empty where there is no target or
    the share cannot be worked out (a unit without a member count). ``program``: whose phases and
    quotas (default: the default program, counted by the last roll-up; another one is counted from
    the records' dates as of that roll-up, sangkien.pipeline.programs).
    """
    from sangkien.pipeline import reconcile
    from sangkien.reference.programs import get_program

    program = get_program(conn, program).code
    o = store.org_units.c
    units = pd.DataFrame(conn.execute(sa.select(o.code, o.name, o.kind)).all(),
                         columns=["unit_code", "unit_name", "kind"])
    if unit is not None and unit not in set(units["unit_code"]):
        raise UserError(f"unknown unit {unit!r}; unit codes are in the org tree (`sangkien orgs list`)")
    counts = pd.DataFrame(conn.execute(sa.select(store.unit_counts)).mappings().all())
    if program != store.DEFAULT_PROGRAM and not counts.empty:  # the same records, by the program's dates
        scope = reconcile.open_scope(conn, program=program)
        counts = reconcile.unit_counts(conn, scope).assign(as_of=counts["as_of"].max())
    as_of = None
    if counts.empty:
        counts = pd.DataFrame(columns=["unit_code", "phase", "records", "initiatives", "valid", "pending",
                                       "rejected", "registrants", "as_of"])
    else:
        stamp = pd.Timestamp(counts["as_of"].max())
        as_of = (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).isoformat(timespec="seconds")
    quotas = _targets(conn, counts, every_target, program)
    frame = counts.merge(quotas, on=["unit_code", "phase"], how="outer").merge(units, on="unit_code", how="left")
    if phase is not None:
        frame = frame[frame["phase"] == phase]
    if unit is not None:
        frame = frame[frame["unit_code"] == unit]
    for name in ("records", "initiatives", "valid", "pending", "rejected", "registrants"):
        frame[name] = frame[name].fillna(0).astype(int)
    frame["completion"] = None
    frame["counted"] = frame["share"]
    for basis, column in BASIS_COLUMN.items():
        frame.loc[frame["basis"] == basis, "counted"] = frame.loc[frame["basis"] == basis, column]
    hit = frame["counted"].notna() & (frame["target"] > 0)
    frame.loc[hit, "completion"] = (frame.loc[hit, "counted"] / frame.loc[hit, "target"]).round(4)
    frame["order"] = frame["kind"].map(KIND_ORDER).fillna(9)
    frame["self_set"] = frame["assigned_by"] == frame["unit_code"]
    frame["basis_order"] = frame["basis"].map({"valid": 0, "submissions": 1, "registrants": 2}).fillna(3)
    frame = frame.sort_values(["order", "unit_code", "phase", "self_set", "assigned_by", "basis_order", "basis"],
                              kind="stable")
    rows = []
    for rec in frame.to_dict("records"):
        row = {name: rec.get(name) for name in REPORT_COLUMNS}
        row["phase"] = int(row["phase"])
        row["target"] = None if pd.isna(row["target"]) else int(row["target"])
        for name in ("basis", "assigned_by"):
            row[name] = None if pd.isna(row[name]) else row[name]
        counted = row["counted"]
        row["counted"] = None if counted is None or pd.isna(counted) else \
            float(counted) if str(row["basis"]).startswith("share_of") else int(counted)
        done = row["completion"]
        row["completion"] = None if done is None or pd.isna(done) else float(done)
        rows.append(row)
    return as_of, rows


def safe_cell(value: Any) -> Any:
    """A cell that spreadsheet programs will not run as a formula."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def write_csv(out: TextIO, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """``rows`` under a header of ``columns``, each cell safe from formula injection.

    The caller owns the encoding: a file opened with CSV_ENCODING, or text made with csv_text.
    """
    writer = csv.writer(out)
    writer.writerow(columns)
    formula = FORMULA_STARTS
    for row in rows:  # safe_cell inlined: a national worklist is 100,000 rows of 18 cells
        writer.writerow(["" if v is None else "'" + v if v.__class__ is str and v[:1] in formula else v
                         for v in map(row.get, columns)])


def csv_text(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    """The CSV document as text, starting with the byte-order mark Excel needs (written out as UTF-8)."""
    buffer = io.StringIO()
    buffer.write(BOM)
    write_csv(buffer, columns, rows)
    return buffer.getvalue()


def target_cell(row: dict[str, Any]) -> str:
    """The target as a table shows it: the number, or for a share "now/target% members|units"."""
    if row["target"] is None:
        return ""
    if not str(row.get("basis")).startswith("share_of"):
        return f"{row['target']:,}"
    now = "?" if row.get("counted") is None else f"{row['counted']:.1f}"
    return f"{now}/{row['target']}% {'members' if row['basis'] == 'share_of_members' else 'units'}"


def set_by(row: dict[str, Any]) -> str:
    """Who set the row's target: the assigner's code, or "itself"."""
    by = row.get("assigned_by") or ""
    return "itself" if by and by == row["unit_code"] else by


def format_table(rows: list[dict[str, Any]], as_of: str | None) -> str:
    """A readable terminal table."""
    headers = ("unit", "name", "ph", "records", "initiatives", "valid", "pending", "rejected", "registrants",
               "target", "done", "set by")
    lines = []
    for r in rows:
        done = "" if r["completion"] is None else f"{r['completion'] * 100:.1f}%"
        name = (r["unit_name"] or "")[:38]
        lines.append((r["unit_code"], name, str(r["phase"]), f"{r['records']:,}", f"{r['initiatives']:,}",
                      f"{r['valid']:,}", f"{r['pending']:,}", f"{r['rejected']:,}", f"{r['registrants']:,}",
                      target_cell(r), done, set_by(r)))
    widths = [max([len(h)] + [len(line[i]) for line in lines]) for i, h in enumerate(headers)]
    numeric = set(range(3, len(headers) - 1))

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [f"As of {shown(as_of, 'never (run `sangkien sync`)')}", fmt(headers), fmt(tuple("-" * w for w in widths))]
    out += [fmt(line) for line in lines]
    if not lines:
        out.append("(no rows)")
    return "\n".join(out)


MODE_NAMES = {"incremental": "nightly, incremental"}  # what PullMode.describe() says, as people call it


def format_runs(conn: Connection, last: int = 5) -> str:
    """Recent runs (what kind: nightly, full refresh, a backfill and its window, a release) and, per source,
    received = accepted + ineligible + quarantined; then the recent pushes upward, if any."""
    runs = conn.execute(sa.select(store.sync_runs).order_by(store.sync_runs.c.id.desc()).limit(last)).mappings().all()
    if not runs:
        return "no sync has run yet; `sangkien sync` runs one"
    lines = []
    for run in runs:
        mode = MODE_NAMES.get(run["mode"], run["mode"]) if run["mode"] else None
        lines.append(f"run {run['id']}" + (f" ({mode})" if mode else "") + f": {run['status']}, started "
                     f"{shown(run['started_at'])}" + (f" ({run['message']})" if run["message"] else ""))
        sources = conn.execute(sa.select(store.sync_run_sources).where(store.sync_run_sources.c.run_id == run["id"])
                               .order_by(store.sync_run_sources.c.source)).mappings()
        for s in sources:
            ok = "ok" if s["received"] == s["accepted"] + s["ineligible"] + s["quarantined"] else "MISMATCH"
            error = f"  {s['error_type']} error: {s['error']}" if s["error"] else ""
            stale = f", stale {s['stale']:,}" if s["stale"] else ""
            lines.append(f"  {s['source']:16} received {s['received']:>9,} = accepted {s['accepted']:,} + ineligible "
                         f"{s['ineligible']:,} + quarantined {s['quarantined']:,} [{ok}]  new {s['new']:,}, "
                         f"changed {s['changed']:,}{stale}{error}")
            lines += [f"  {'':16} note: {note}" for note in (s["notes"] or "").splitlines() if note]
    p = store.pushes
    pushes = conn.execute(sa.select(p).order_by(p.c.id.desc()).limit(last)).mappings().all()
    for push in pushes:
        after = f" after run {push['run_id']}" if push["run_id"] else ""
        lines.append(f"push {push['id']}{after}: {push['status']}, {shown(push['attempted_at'])} to {push['upstream']}"
                     + (f" ({push['error']})" if push["error"] else ""))
    return "\n".join(lines)


def render_report(conn: Connection, fmt: str, phase: int | None = None, unit: str | None = None,
                  program: str | None = None) -> str:
    as_of, rows = report_rows(conn, phase, unit, program=program)
    if fmt == "json":
        return json.dumps({"as_of": as_of, "rows": rows}, ensure_ascii=False, indent=1)
    if fmt == "csv":
        return csv_text(REPORT_COLUMNS, rows)
    return format_table(rows, as_of) + "\n\n" + format_runs(conn, last=1)


def export_links(conn: Connection, out: Path) -> int:
    """Write one row per landed record (source, id, initiative, outcome, reason); returns the count."""
    query = (sa.select(store.raw_records.c.source, store.raw_records.c.source_record_id,
                       store.initiative_members.c.initiative_id, store.raw_records.c.outcome,
                       store.raw_records.c.reason)
             .join(store.initiative_members, store.initiative_members.c.raw_id == store.raw_records.c.id, isouter=True)
             .order_by(store.raw_records.c.source, store.raw_records.c.id))
    return write_query_csv(conn, query, LINK_COLUMNS, Path(out))


def write_query_csv(conn: Connection, query: sa.Select, columns: tuple[str, ...], out: Path,
                    encoding: str = CSV_ENCODING) -> int:
    """Stream ``query``'s rows to a CSV file safe to open in a spreadsheet; returns the row count."""
    n = 0
    with out.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in conn.execute(query).yield_per(50_000):
            writer.writerow(["" if v is None else safe_cell(v) for v in row])
            n += 1
    return n
