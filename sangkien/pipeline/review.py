"""Why records were joined, and the reviewers' say: `sangkien explain` and `sangkien review`.

Read-only views over ``initiatives``, ``initiative_members``, ``match_links`` and
``review_pairs``, plus the one write a reviewer makes: accepting or rejecting a pair.
A decision is stored with who made it and when; the next resolution run (a sync, or
``sangkien resolve``) re-resolves with it, and every later run keeps honouring it.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.errors import UserError
from sangkien.pipeline.history import record_history

_RECORD_FIELDS = ("raw_id", "source", "source_record_id", "portal_id", "title", "authors", "unit_code", "unit_text",
                  "applied_on", "recognized_on", "submitted_at", "status")


def _records(conn: Connection, raw_ids: list[int]) -> dict[int, dict[str, Any]]:
    r = store.records.c
    rows = conn.execute(sa.select(*(r[c] for c in _RECORD_FIELDS)).where(r.raw_id.in_(raw_ids))).all()
    out = {}
    for row in rows:
        rec = dict(zip(_RECORD_FIELDS, row, strict=False))
        rec["authors"] = json.loads(rec["authors"]) if rec["authors"] else []
        for k in ("applied_on", "recognized_on", "submitted_at"):
            rec[k] = str(rec[k]) if rec[k] is not None else None
        out[rec["raw_id"]] = rec
    return out


def explain(conn: Connection, initiative_id: int) -> dict[str, Any]:
    """The initiative, its member records and the evidence that joined them."""
    i = store.initiatives.c
    row = conn.execute(sa.select(store.initiatives).where(i.id == initiative_id)).mappings().first()
    if row is None:
        raise UserError(f"no initiative {initiative_id}; ids are in `sangkien export links --out FILE.csv`")
    m = store.initiative_members.c
    members = conn.execute(sa.select(m.raw_id, m.matched_on).where(m.initiative_id == initiative_id)
                           .order_by(m.raw_id)).all()
    raw_ids = [r for r, _ in members]
    records = _records(conn, raw_ids)
    k = store.match_links.c
    links = conn.execute(sa.select(k.raw_id_a, k.raw_id_b, k.weight, k.evidence, k.decided_by)
                         .where(k.raw_id_a.in_(raw_ids) | k.raw_id_b.in_(raw_ids))
                         .order_by(k.raw_id_a, k.raw_id_b)).all()
    q = store.review_pairs.c
    reviews = conn.execute(sa.select(q.id, q.raw_id_a, q.raw_id_b, q.weight, q.status, q.model_merged)
                           .where(q.raw_id_a.in_(raw_ids) | q.raw_id_b.in_(raw_ids)).order_by(q.id)).all()
    statuses = {rec["status"] for rec in records.values()}
    return {
        "initiative": {k: (str(v) if isinstance(v, (dt.date, dt.datetime)) else v) for k, v in dict(row).items()},
        "members": [{**records[r], "matched_on": how} for r, how in members if r in records],
        "links": [{"a": a, "b": b, "weight": w, "evidence": e, "decided_by": by} for a, b, w, e, by in links],
        "reviews": [{"id": rid, "a": a, "b": b, "weight": w, "status": s, "model_merged": mm}
                    for rid, a, b, w, s, mm in reviews],
        "status_conflict": len(statuses) > 1,
        "model": _model_line(conn),
        "history": record_history(conn, raw_ids),  # raw id → every content it has had, with the runs
    }


def _model_line(conn: Connection) -> str:
    """Which weights scored the links: the store's latest learned model, or the hand-set priors."""
    from sangkien.pipeline.match_models import latest_model

    latest = latest_model(conn)
    if latest is None:
        return "weights: the hand-set priors (no model learned yet)"
    version, model = latest
    fitted = model.fitted or {}
    how = (f"the priors kept ({fitted['fallback']})" if fitted.get("fallback") else
           f"learned from {fitted.get('pairs', 0):,} blocked pairs of {fitted.get('records', 0):,} records")
    return f"weights: match model #{version}, {how} (`sangkien match model` shows them)"


def _ref(rec: dict[str, Any]) -> str:
    return f"{rec['source']}:{rec['source_record_id']}"


def format_explain(info: dict[str, Any]) -> str:
    ini = info["initiative"]
    refs = {m["raw_id"]: _ref(m) for m in info["members"]}
    out = [f"initiative {ini['id']}: {ini['title']}",
           f"  unit {ini['unit_code']}, phase {ini['phase']}, status {ini['status']}, applied {ini['applied_on']}, "
           f"{ini['members']} record(s), joined by {ini['match_rule']}"]
    if info["status_conflict"]:
        out.append("  status conflict: its records disagree (the node's status_priority decides; "
                   "see `sangkien node show`)")
    out.append("records:")
    for m in info["members"]:
        out.append(f"  {refs[m['raw_id']]:28} {m['status']:8} unit {m['unit_code']} (typed {m['unit_text']!r}), "
                   f"applied {m['applied_on']}, recognized {m['recognized_on']}, submitted {m['submitted_at']}")
        out.append(f"  {'':28} title: {m['title']}")
        out.append(f"  {'':28} authors: {'; '.join(m['authors'])}" + (f"; portal id {m['portal_id']}"
                                                                       if m["portal_id"] else ""))
    if len(info["members"]) > 1:
        out.append("why they are one initiative (score = log2-odds of a match; 0 or more joins):")
        if info.get("model"):
            out.append(f"  {info['model']}")
    for link in info["links"]:
        a, b = refs.get(link["a"], f"record {link['a']}"), refs.get(link["b"], f"record {link['b']}")
        score = "reviewer" if link["weight"] is None else f"score {link['weight']:+.1f}"
        out.append(f"  {a} = {b}  ({score})")
        out.append(f"    {link['evidence']}")
    for r in info["reviews"]:
        a, b = refs.get(r["a"], f"record {r['a']}"), refs.get(r["b"], f"record {r['b']}")
        out.append(f"  review #{r['id']} ({r['status']}): {a} vs {b}, score {r['weight']:+.1f}, "
                   f"model {'joined' if r['model_merged'] else 'kept apart'}")
    return "\n".join(out)


def list_reviews(conn: Connection, status: str = "open", limit: int = 50) -> list[dict[str, Any]]:
    q = store.review_pairs.c
    query = sa.select(q.id, q.raw_id_a, q.raw_id_b, q.weight, q.evidence, q.model_merged, q.status, q.decided_by,
                      q.decided_at, q.note).order_by(q.id).limit(limit)
    if status != "all":
        query = query.where(q.status == status)
    rows = [dict(r) for r in conn.execute(query).mappings().all()]
    records = _records(conn, [r["raw_id_a"] for r in rows] + [r["raw_id_b"] for r in rows])
    for r in rows:
        r["a"], r["b"] = records.get(r["raw_id_a"]), records.get(r["raw_id_b"])
    return rows


def format_reviews(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no pairs to review"
    out = []
    for r in rows:
        verdict = "joined" if r["model_merged"] else "kept apart"
        out.append(f"#{r['id']}  score {r['weight']:+.1f}, the model {verdict} them; status {r['status']}"
                   + (f" by {r['decided_by']}" if r["decided_by"] else ""))
        for side in ("a", "b"):
            rec = r[side]
            if rec:
                out.append(f"    {_ref(rec):28} {rec['unit_code']:10} {rec['applied_on']}  {rec['title']}  "
                           f"[{'; '.join(rec['authors'])}]")
        out.append(f"    {r['evidence']}")
    return "\n".join(out)


def _raw_id(conn: Connection, ref: str) -> int:
    source, sep, record_id = ref.partition(":")
    if not sep or not source or not record_id:
        raise UserError(f"a record is named SOURCE:RECORD_ID (e.g. hanoi:HN-2022-000017); got {ref!r}")
    w = store.raw_records.c
    row = conn.execute(sa.select(w.id, w.outcome).where(w.source == source, w.source_record_id == record_id)).first()
    if row is None:
        raise UserError(f"no record {record_id!r} from source {source!r}")
    if row[1] != "accepted":
        raise UserError(f"record {ref} is {row[1] or 'not validated'}, not accepted: it is not matched")
    return int(row[0])


def decide(engine: Engine, accept: bool, pair_id: int | None = None, records: tuple[str, str] | None = None,
           by: str | None = None, note: str | None = None) -> dict[str, Any]:
    """Record a reviewer's decision on a queued pair (``pair_id``) or on any two records."""
    q = store.review_pairs.c
    now = dt.datetime.now(dt.UTC)
    who = by or os.environ.get("USER") or "reviewer"
    status = "accepted" if accept else "rejected"
    with engine.begin() as conn:
        if pair_id is not None:
            row: tuple[int, str] | None = conn.execute(
                sa.select(q.id, q.status).where(q.id == pair_id)).tuples().first()
            if row is None:
                raise UserError(f"no review pair #{pair_id}; `sangkien review list` shows the open ones")
        else:
            assert records is not None
            a, b = sorted((_raw_id(conn, records[0]), _raw_id(conn, records[1])))
            if a == b:
                raise UserError("a pair needs two different records")
            row = conn.execute(sa.select(q.id, q.status).where(q.raw_id_a == a, q.raw_id_b == b)).tuples().first()
            if row is None:
                together = conn.execute(
                    sa.select(sa.func.count(sa.distinct(store.initiative_members.c.initiative_id)))
                    .where(store.initiative_members.c.raw_id.in_([a, b]))).scalar_one() == 1
                pair_id = conn.execute(store.review_pairs.insert().values(
                    raw_id_a=a, raw_id_b=b, weight=0.0, evidence="named by a reviewer", model_merged=together,
                    status="open").returning(q.id)).scalar_one()
                row = (pair_id, "open")
        conn.execute(store.review_pairs.update().where(q.id == row[0]).values(
            status=status, decided_at=now, decided_by=who, note=note, applied=False))
    return {"id": row[0], "status": status, "was": row[1], "by": who}
