"""Push this node's consolidated counts to the node above (``sangkien push``, the nightly flow's last step).

The payload (schemas/push.py) covers this node's subtree, for its default program (named in the
payload unless it is ``1trieu``, which older nodes above take as they did): the counts per unit and
phase from the last roll-up, one entry per initiative with keyed hashes instead of
names, and the records that cannot count. Its idempotency key comes from (node,
as-of, content), so a retried or repeated push is answered with the first receipt;
pushing counts that have not changed since the last accepted push sends nothing.
Every attempt and its receipt are stored in ``pushes``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectors.base import ConnectorError
from connectors.http import HttpClient, RetryPolicy
from sangkien import store
from sangkien.errors import UserError
from sangkien.pipeline import tiers
from sangkien.reference import tree
from sangkien.store.settings import default_program, get_setting
from schemas.push import Receipt, Submission, content_hash, idempotency_key, wire_exclude

SUBMISSIONS_PATH = "/api/v1/submissions"
COUNT_FIELDS = ("records", "initiatives", "valid", "pending", "rejected", "ineligible", "registrants")


def node_code(conn: Connection) -> str:
    code = get_setting(conn, "code")
    if not code:
        raise UserError("this node has no code: `sangkien node set code=UNIT` (the org unit this node reports for)")
    return str(code)


def build_submission(conn: Connection, as_of: dt.datetime | None = None) -> Submission:
    """The payload for this node's subtree and default program, from the last roll-up."""
    code = node_code(conn)
    program = default_program(conn)
    units = tree.subtree(tree.ancestor_pairs(conn), code)
    if not units:
        raise UserError(f"this node's code {code!r} is not in the org tree; load the tree or fix `node set code=`")
    counts = store.read_frame(conn, sa.select(store.unit_counts), [c.name for c in store.unit_counts.columns])
    if counts.empty:
        raise UserError("nothing to push: no roll-up has run here yet (`sangkien sync` first)")
    stamp = as_of or pd.Timestamp(counts["as_of"].max()).to_pydatetime()
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    counts = counts[counts["unit_code"].isin(units)]
    dup = (counts["records"] - counts["ineligible"] - counts["initiatives"]).clip(lower=0)
    unit_rows = [{"unit_code": r["unit_code"], "phase": int(r["phase"]),
                  **{f: int(r[f]) for f in COUNT_FIELDS}, "benefit_vnd": float(r["benefit_vnd"]),
                  "duplicates_removed": int(d)}
                 for r, d in zip(counts.to_dict("records"), dup)]
    combined = tiers.combined(conn)
    inits = combined.initiatives[combined.initiatives["unit_code"].isin(units)]
    keys = combined.keys[combined.keys["id"].isin(inits["id"])].sort_values(["id", "key"])
    keys = keys.groupby("id")["key"].agg(lambda k: list(k)[:tiers.MAX_KEYS])
    people = combined.people[combined.people["id"].isin(inits["id"])].sort_values(["id", "person"])
    people = people.groupby("id")["person"].agg(lambda p: list(p)[:200])
    dated = bool(get_setting(conn, "push_dates"))  # the day each was submitted, for the quarter ranks above
    entries = [{"keys": keys.get(r["id"], []), "unit_code": r["unit_code"], "phase": int(r["phase"]),
                "status": r["status"],
                "benefit_vnd": None if pd.isna(r["benefit_vnd"]) else float(r["benefit_vnd"]),
                "records": int(r["records"]), "people": people.get(r["id"], []),
                "submitted_on": r["submitted_on"].date() if dated and not pd.isna(r["submitted_on"]) else None}
               for r in inits.to_dict("records")]
    inel = combined.ineligible[combined.ineligible["unit_code"].isin(units)]
    inel = inel.groupby(["unit_code", "phase"], as_index=False)["records"].sum()
    inel_rows = [{"unit_code": r["unit_code"], "phase": int(r["phase"]), "records": int(r["records"])}
                 for r in inel.to_dict("records") if r["records"] > 0]
    draft = Submission.model_validate({"node": code, "as_of": stamp, "idempotency_key": "x" * 16,
                                       "program": None if program == store.DEFAULT_PROGRAM else program,
                                       "units": unit_rows, "initiatives": entries, "ineligible": inel_rows})
    digest = content_hash(draft.units, draft.initiatives, draft.ineligible, draft.program)
    return draft.model_copy(update={"idempotency_key": idempotency_key(code, stamp, digest)})


def payload_json(submission: Submission, indent: int | None = None) -> str:
    """The body sent upward. Without a program (``1trieu``) it is the one nodes sent before programs existed: an
    older node above refuses a field it does not know."""
    return submission.model_dump_json(indent=indent, exclude=wire_exclude(submission))


@dataclass
class PushResult:
    status: str  # accepted, replayed, unchanged
    submission: Submission
    receipt: dict[str, Any] | None
    upstream: str


def _last_accepted(conn: Connection, upstream: str) -> Any:
    p = store.pushes.c
    return conn.execute(sa.select(p.content_hash, p.receipt).where(p.upstream == upstream,
                                                                   p.status.in_(("accepted", "replayed")))
                        .order_by(p.id.desc()).limit(1)).first()


def push(engine: Engine, run_id: int | None = None, policy: RetryPolicy | None = None,
         force: bool = False) -> PushResult:
    """Build and send this node's submission; store the attempt and its receipt. Raises UserError on failure."""
    from connectors.secrets import resolve

    with engine.connect() as conn:
        upstream = get_setting(conn, "upstream_url")
        if not upstream:
            raise UserError("no upstream configured: `sangkien node set upstream_url=https://...` and "
                            "`upstream_token=env:VARIABLE` (the token the node above issued with `nodes add`)")
        token_ref = get_setting(conn, "upstream_token")
        if not token_ref:
            raise UserError("upstream_token is not set: `sangkien node set upstream_token=env:VARIABLE`")
        submission = build_submission(conn)
        digest = content_hash(submission.units, submission.initiatives, submission.ineligible, submission.program)
        last = _last_accepted(conn, upstream)
    now = dt.datetime.now(dt.UTC)
    row = {"upstream": upstream, "as_of": submission.as_of, "idempotency_key": submission.idempotency_key,
           "content_hash": digest, "attempted_at": now, "run_id": run_id}
    if last is not None and last.content_hash == digest and not force:
        with engine.begin() as conn:
            conn.execute(store.pushes.insert().values(**row, status="unchanged", receipt=last.receipt))
        return PushResult("unchanged", submission, last.receipt, upstream)
    try:
        token = resolve(token_ref, "upstream_token")
    except ConnectorError as exc:
        raise UserError(str(exc)) from None
    client = HttpClient({"Authorization": f"Bearer {token}", "Idempotency-Key": submission.idempotency_key},
                        policy or RetryPolicy(attempts=5, initial_wait=1.0, max_wait=60.0, timeout=120.0))
    try:
        reply, _ = client.post_json(upstream + SUBMISSIONS_PATH, payload_json(submission).encode("utf-8"))
        receipt = Receipt.model_validate(reply).model_dump(mode="json")
    except (ConnectorError, ValueError) as exc:
        text = f"push to {upstream} failed ({getattr(exc, 'error_type', 'reply')} error): {exc}".splitlines()[0]
        with engine.begin() as conn:
            conn.execute(store.pushes.insert().values(**row, status="failed", error=text))
        raise UserError(text) from None
    status = "replayed" if receipt["replayed"] else "accepted"
    with engine.begin() as conn:
        conn.execute(store.pushes.insert().values(**row, status=status, receipt=receipt))
    return PushResult(status, submission, receipt, upstream)
