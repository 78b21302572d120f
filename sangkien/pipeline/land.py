"""Land raw rows verbatim: upsert on (source, source_record_id), the content hash decides "changed",
the source's clock decides whether a changed row is newer.

A batch's rows and the connector state that covers them commit in one transaction. No content is
lost: a replaced content moves to ``record_versions`` (superseded, with the run that replaced it),
and a row older than the stored version (by the source's clock) is kept there as ``stale`` without
replacing it. A source without a clock cannot tell older from newer, except when a whole delivery
repeats earlier contents exactly: then it is a re-drop of that older delivery, named in the run's
notes, and its rows are kept aside as stale too.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.base import RECEIVED, Batch
from sangkien import store
from sangkien.pipeline.source_clock import clock_of_payload, clocks, is_older
from sangkien.store.registry import save_state

_CHUNK = 5_000  # ids per IN list (well under every driver's parameter limit)
PARTIAL_READ = 4  # a batch reads only its own ids' stored versions when the source holds 4 times as many rows


@dataclass
class LandCounts:
    received: int = 0  # distinct records delivered (each lands as one raw row)
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    stale: int = 0  # older than the stored version (by the source's clock, or a re-drop): kept aside

    def add(self, other: LandCounts) -> None:
        for name in ("received", "new", "changed", "unchanged", "stale"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


#: source_record_id → (content hash, clock) of the stored (current) version
Known = dict[str, tuple[str, str | None]]


def existing_records(conn: Connection, source: str, srids: list[str] | None = None) -> Known:
    """source_record_id → (content hash, clock) for everything landed from ``source`` (or its ``srids`` only)."""
    t = store.raw_records.c
    query = sa.select(t.source_record_id, t.content_hash, t.clock).where(t.source == source)
    names = ["source_record_id", "content_hash", "clock"]
    if srids is None:
        frame = store.read_frame(conn, query, names)
    else:
        frame = pd.concat([store.read_frame(conn, query.where(t.source_record_id.in_(part)), names)
                           for part in _chunks(srids)] or [pd.DataFrame(columns=names)], ignore_index=True)
    clock_values = frame["clock"].astype(object).where(frame["clock"].notna(), None)
    return dict(zip(frame["source_record_id"], zip(frame["content_hash"], clock_values, strict=True), strict=False))


@dataclass
class Landing:
    """One source's landing in one run: what is stored (``known``, updated in place), the ids this run
    received (a record delivered twice counts once), how to read a row's id and clock, and the notes
    for the operator (re-drops)."""

    source: str
    run_id: int
    known: Known | None  # None: read from the store at the first batch (a night with nothing new reads none)
    id_column: str | None
    clock_column: str | None = None
    date_format: str = "%d/%m/%Y"
    save: bool = True  # save the connector state with each batch (not in a backfill)
    received: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    complete: bool = False  # ``known`` holds every stored record of the source, not only those asked for
    stored_rows: int | None = None

    def stored(self, conn: Connection, srids: list[str] | None = None) -> Known:
        """What is stored of the source: at least of ``srids`` (the ids of a batch about to land), else all.

        Read when first needed (a night with nothing new reads nothing). A batch much smaller than the stored
        rows reads its own ids only (a night's 2% reads 2%, not the whole source); else everything is read
        at once, and kept up to date as batches land."""
        if self.complete:
            assert self.known is not None
            return self.known
        if self.stored_rows is None:
            t = store.raw_records.c
            self.stored_rows = int(conn.scalar(sa.select(sa.func.count()).where(t.source == self.source)) or 0)
        self.known = self.known if self.known is not None else {}
        if srids is None or len(srids) * PARTIAL_READ > self.stored_rows:
            self.known.update(existing_records(conn, self.source))
            self.complete = True
        else:
            wanted = sorted({srid for srid in srids if srid not in self.known})
            self.known.update(existing_records(conn, self.source, wanted) if wanted else {})
        return self.known


@dataclass
class _Row:
    srid: str
    payload: str
    origin: str
    problem: str | None
    clock: str | None
    digest: str


_JSON_CHUNK = 20_000  # rows per to_json call: pandas' own JSON-lines pass grows faster than the text


def _payloads(rows: pd.DataFrame, headers: list[str]) -> list[str]:
    """Each row's cells under ``headers`` as a JSON object, as pandas writes it (the text is hashed:
    a store synced before must see the same text for the same row)."""
    out: list[str] = []
    for start in range(0, len(rows), _JSON_CHUNK):
        part = rows.iloc[start:start + _JSON_CHUNK][headers]
        out += _json_objects(part)
    return out


def _json_objects(part: pd.DataFrame) -> list[str]:
    """The rows of ``part`` as JSON objects (pandas writes them flat and without spaces).

    Cut from one JSON array at "},{": the same three characters inside a value make more parts
    than rows (a cut never misses a boundary), and then pandas writes the rows as JSON lines
    (slower: for 666k rows 9.9 s against 3.2 s), cut at line feeds only. Not ``str.splitlines``:
    it also cuts at U+2028, U+2029 and U+0085, which JSON leaves unescaped inside a value (a
    title pasted from a web page cut its row in two, and the batch failed to land)."""
    if part.empty:
        return []
    objects = part.to_json(orient="records", force_ascii=False)[2:-2].split("},{")
    if len(objects) == len(part):
        return ["{" + o + "}" for o in objects]
    return part.to_json(orient="records", lines=True, force_ascii=False).rstrip("\n").split("\n")


def _rows(batch: Batch, landing: Landing) -> list[_Row]:
    """The batch's rows with their ids, clocks and hashes. A row without an id, or repeating an id earlier in
    the same batch, and a row that could not be split into columns, get a synthetic id and a landing problem,
    so validation quarantines them: nothing is dropped."""
    rows, id_column = batch.rows, landing.id_column
    payloads = _payloads(rows, batch.headers)  # what is hashed: the row's text, as the validation reads it
    received = rows[RECEIVED].tolist() if RECEIVED in rows.columns else payloads  # what is kept and shown
    origins = rows["_origin"].tolist() if not rows.empty else []
    ids = (rows[id_column].astype(str).str.strip().tolist() if id_column in rows.columns
           else [""] * len(rows)) if not rows.empty else []
    stamps = (clocks(rows[landing.clock_column], landing.date_format)
              if not rows.empty and landing.clock_column in rows.columns else [None] * len(ids))
    problems: list[str | None] = [None] * len(ids)
    seen_here: set[str] = set()
    for i, (srid, origin) in enumerate(zip(ids, origins, strict=False)):
        if not srid:
            ids[i] = f"~{origin}"
            problems[i] = f"source_record_id|required|no record id ({id_column}) on {origin}"
        elif srid in seen_here:
            ids[i] = f"{srid}~{origin}"
            problems[i] = (f"source_record_id|unique_in_batch|record id {srid!r} repeats earlier in {batch.label} "
                           f"({origin})")
        seen_here.add(ids[i])
    received = list(received)
    for problem in batch.row_problems:
        payloads.append(json.dumps({"_raw_line": problem.raw}, ensure_ascii=False))
        received.append(payloads[-1])
        origins.append(problem.origin)
        ids.append(f"~{problem.origin}")
        problems.append(f"_row|field_count|{problem.origin}: {problem.message}")
        stamps.append(None)
    return [_Row(srid, kept, origin, problem, clock, hashlib.sha256(payload.encode("utf-8")).hexdigest())
            for srid, kept, payload, origin, problem, clock
            in zip(ids, received, payloads, origins, problems, stamps, strict=True)]



@dataclass
class LandingRows:
    """A batch as it lands: per row its record id, verbatim JSON payload, origin, and landing problem
    (``column|check|message``, or None), the rows that could not be split into columns included."""

    ids: list[str]
    payloads: list[str]
    origins: list[str]
    problems: list[str | None]


def landing_rows(batch: Batch, id_column: str | None) -> LandingRows:
    """What ``land_batch`` would land for ``batch``, without writing it (``connectors check`` and ``preview``):
    the same ids, payloads and landing problems (see ``_rows``)."""
    rows = _rows(batch, Landing(source="", run_id=0, known={}, id_column=id_column))
    return LandingRows([r.srid for r in rows], [r.payload for r in rows], [r.origin for r in rows],
                       [r.problem for r in rows])

def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _stored_clocks(conn: Connection, landing: Landing, srids: list[str]) -> dict[str, str | None]:
    """The clocks of stored rows landed before clocks were kept, read from their payloads."""
    t = store.raw_records.c
    out: dict[str, str | None] = {}
    for part in _chunks(srids):
        for srid, payload in conn.execute(sa.select(t.source_record_id, t.payload)
                                          .where(t.source == landing.source, t.source_record_id.in_(part))):
            out[srid] = clock_of_payload(payload, landing.clock_column or "", landing.date_format)
    return out


def _earlier_versions(conn: Connection, source: str, rows: list[_Row]) -> dict[tuple[str, str], tuple[str, int]]:
    """(source_record_id, content hash) → (origin, run) of the rows whose content is an earlier version."""
    v, r = store.record_versions.c, store.raw_records.c
    wanted = {(row.srid, row.digest) for row in rows}
    found: dict[tuple[str, str], tuple[str, int]] = {}
    for part in _chunks(sorted({row.digest for row in rows})):
        query = (sa.select(r.source_record_id, v.content_hash, v.origin, v.run_id)
                 .select_from(store.record_versions.join(store.raw_records, r.id == v.raw_id))
                 .where(r.source == source, v.content_hash.in_(part)).order_by(v.id))
        for srid, digest, origin, run_id in conn.execute(query):
            if (srid, digest) in wanted:
                found.setdefault((srid, digest), (origin or "", run_id))
    return found


def _redrop_note(label: str, matches: list[tuple[str, int]], n: int) -> str:
    names = sorted({origin.rsplit(":", 1)[0] for origin, _ in matches if origin})
    runs = sorted({run for _, run in matches if run is not None})
    return (f"{label} is a re-drop of {', '.join(names) or 'an earlier delivery'}"
            f"{' (run ' + ', '.join(map(str, runs)) + ')' if runs else ''}: its {n} changed row(s) match that older "
            "version exactly, so the newer stored content was kept (counted stale)")


def _split_changes(conn: Connection, landing: Landing, batch: Batch, changes: list[_Row],
                   any_new: bool) -> tuple[list[_Row], list[_Row]]:
    """(rows to apply, stale rows) among the rows whose content differs from the stored one."""
    if not changes:
        return [], []
    if landing.clock_column:
        known = landing.stored(conn, [row.srid for row in changes])
        stored = {row.srid: known[row.srid][1] for row in changes}
        missing = [srid for srid, clock in stored.items() if clock is None]
        stored.update(_stored_clocks(conn, landing, missing) if missing else {})
        stale = [row for row in changes if is_older(row.clock, stored.get(row.srid))]
    else:
        stale = []
    earlier = _earlier_versions(conn, landing.source, changes)
    if not any_new and all((row.srid, row.digest) in earlier for row in changes):
        landing.notes.append(_redrop_note(batch.label, [earlier[(r.srid, r.digest)] for r in changes], len(changes)))
        return [], changes
    stale_ids = {id(row) for row in stale}
    return [row for row in changes if id(row) not in stale_ids], stale


def land_batch(conn: Connection, landing: Landing, batch: Batch) -> LandCounts:
    """Land ``batch`` for ``landing`` inside the caller's transaction, and save its state (unless a backfill)."""
    now = dt.datetime.now(dt.UTC)
    rows = _rows(batch, landing)
    known = landing.stored(conn, [row.srid for row in rows])
    counts = LandCounts(received=len({row.srid for row in rows} - landing.received))
    landing.received.update(row.srid for row in rows)
    inserts, changes, touched = [], [], []
    for row in rows:
        previous = known.get(row.srid)
        if previous is None:
            inserts.append(row)
            known[row.srid] = (row.digest, row.clock)
        elif previous[0] != row.digest:
            changes.append(row)
        else:
            touched.append(row.srid)
    applied, stale = _split_changes(conn, landing, batch, changes, bool(inserts))
    stamp = now.strftime(store.sql_timestamp_text(conn, aware=True))
    if inserts:
        store.bulk_insert(conn, store.raw_records, ("source", "source_record_id", "payload", "content_hash", "origin",
                                                    "fetched_at", "run_id", "seen_run", "landing_problem", "clock"),
                          [(landing.source, r.srid, r.payload, r.digest, r.origin, stamp, landing.run_id,
                            landing.run_id, r.problem, r.clock) for r in inserts])
    if applied:
        _apply_changes(conn, landing, applied, stamp)
    if stale:
        _keep_stale(conn, landing, stale, stamp)
        touched += [row.srid for row in stale]
    if touched:
        store.bulk_update(conn, store.raw_records, ("seen_run",), ("source", "source_record_id"),
                          [(landing.run_id, landing.source, srid) for srid in touched])
    counts.new, counts.changed, counts.stale = len(inserts), len(applied), len(stale)
    counts.unchanged = len(touched) - len(stale)
    if landing.save:
        save_state(conn, landing.source, batch.state)
    return counts


def _apply_changes(conn: Connection, landing: Landing, applied: list[_Row], stamp: str) -> None:
    """Move the stored contents to the history (superseded by this run), then store the newer ones.

    An id appears once per batch (a repeat lands under a synthetic id), so each record changes once here."""
    r, v = store.raw_records.c, store.record_versions
    for part in _chunks([row.srid for row in applied]):
        current = (sa.select(r.id, r.payload, r.content_hash, r.clock, r.origin, r.fetched_at, r.run_id,
                             sa.literal("superseded"), sa.literal(landing.run_id))
                   .where(r.source == landing.source, r.source_record_id.in_(part)))
        conn.execute(v.insert().from_select(["raw_id", "payload", "content_hash", "clock", "origin", "fetched_at",
                                             "run_id", "status", "replaced_run"], current))
    store.bulk_update(conn, store.raw_records, ("payload", "content_hash", "origin", "landing_problem", "clock",
                                                "fetched_at", "run_id", "seen_run", "outcome", "reason"),
                      ("source", "source_record_id"),
                      [(row.payload, row.digest, row.origin, row.problem, row.clock, stamp, landing.run_id,
                        landing.run_id, None, None, landing.source, row.srid) for row in applied])
    known = landing.stored(conn, [row.srid for row in applied])
    for row in applied:
        known[row.srid] = (row.digest, row.clock)


def _keep_stale(conn: Connection, landing: Landing, stale: list[_Row], stamp: str) -> None:
    """Keep the older contents in the history (once per run that brings them), beside the newer stored ones they
    did not replace."""
    r, v = store.raw_records.c, store.record_versions.c
    ids: dict[str, int] = {}
    for part in _chunks(sorted({row.srid for row in stale})):
        ids.update(conn.execute(sa.select(r.source_record_id, r.id)
                                .where(r.source == landing.source, r.source_record_id.in_(part))).tuples().all())
    mine = set(ids.values())
    kept: set[tuple[int, str]] = set()
    for part in _chunks(sorted({row.digest for row in stale})):
        kept.update(key for key in conn.execute(sa.select(v.raw_id, v.content_hash)
                                                .where(v.content_hash.in_(part), v.run_id == landing.run_id))
                    .tuples() if key[0] in mine)
    fresh = []
    for row in stale:
        key = (ids[row.srid], row.digest)
        if key not in kept:
            kept.add(key)
            fresh.append((key[0], row.payload, row.digest, row.clock, row.origin, stamp, landing.run_id, "stale"))
    if fresh:
        store.bulk_insert(conn, store.record_versions, ("raw_id", "payload", "content_hash", "clock", "origin",
                                                        "fetched_at", "run_id", "status"), fresh)
