"""Counting across tiers: this node's initiatives, what its children pushed, and the two combined.

Every initiative is described by *entries*: one per initiative a node counts, carrying
keyed hashes (HMAC-SHA256 under the program key) of its match keys (the portal id when
known; the unit, the folded title and the applied date of each of its records) and of
its registrants (unit and folded name). Nothing else identifies it, so no personal
data leaves a node.

At a node with children, this node's own entries and the entries of each child's
latest submission are clustered: two entries sharing a key are one initiative (an
initiative a Hà Nội bank branch reported through both Hà Nội and the Banking Union
arrives twice and is counted once). The roll-up then counts clusters, not entries.

Pure pandas/numpy, no Prefect: the roll-up, the push and the intake all call this.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.base import ConnectorError
from sangkien import store
from sangkien.errors import UserError
from sangkien.reference import tree
from sangkien.store.settings import default_program, get_setting
from schemas.push import KEY_SEPARATOR

KEY_CHARS = 32  # hex characters kept of each HMAC-SHA256 (128 bits)
MAX_KEYS = 64  # per entry, as the payload allows
STATUS_RANK = {"valid": 0, "pending": 1, "rejected": 2}
SELF = "(this node)"


def program_key(conn: Connection) -> bytes:
    """The program's shared hashing key, resolved from the ``program_key`` setting."""
    from connectors.secrets import resolve

    ref = get_setting(conn, "program_key")
    if not ref:
        raise UserError("program_key is not set: every node of the program hashes match keys with the same key; "
                        "`sangkien node set program_key=env:SANGKIEN_PROGRAM_KEY` and set that variable")
    try:
        return resolve(ref, "program_key").encode("utf-8")
    except ConnectorError as exc:
        raise UserError(str(exc)) from None


def hash_texts(key: bytes, texts: pd.Series) -> pd.Series:
    """HMAC-SHA256 of each text under ``key``, as KEY_CHARS hex characters."""
    digest = hmac.digest
    return pd.Series([digest(key, t.encode("utf-8"), "sha256").hex()[:KEY_CHARS] for t in texts],
                     index=texts.index, dtype=object)


@dataclass
class Entries:
    """Initiatives as entries, and what is needed to count records and people alongside them.

    ``entries``: entry (int), origin (SELF or a child's code), unit_code, phase, status, benefit_vnd, records,
    submitted_on (the day, NaT where a child did not send it).
    ``keys``: entry, key. ``people``: entry, person. ``ineligible``: origin, unit_code, phase, records.
    """

    entries: pd.DataFrame
    keys: pd.DataFrame
    people: pd.DataFrame
    ineligible: pd.DataFrame


def _empty() -> Entries:
    return Entries(pd.DataFrame(columns=["entry", "origin", "unit_code", "phase", "status", "benefit_vnd", "records",
                                         "submitted_on"]),
                   pd.DataFrame(columns=["entry", "key"]), pd.DataFrame(columns=["entry", "person"]),
                   pd.DataFrame(columns=["origin", "unit_code", "phase", "records"]))


def own_entries(conn: Connection, key: bytes, phase: pd.Series | None = None,
                ineligible: pd.DataFrame | None = None) -> Entries:
    """This node's resolved initiatives as entries (entry = initiative id). ``phase`` and ``ineligible``: another
    program's phase of each initiative that counts for it (by id) and its ineligible records (unit_code, phase,
    records), in place of the default program's."""
    i, m, r = store.initiatives.c, store.initiative_members.c, store.records.c
    inits = store.read_frame(conn, sa.select(i.id, i.unit_code, i.phase, i.status, i.benefit_vnd, i.members,
                                             i.submitted_at)
                             .where(i.phase.is_not(None) if phase is None else sa.true()),
                             ["entry", "unit_code", "phase", "status", "benefit_vnd", "records", "submitted_on"])
    inits["submitted_on"] = pd.to_datetime(inits["submitted_on"]).dt.normalize()
    if phase is not None:
        inits = inits[inits["entry"].isin(phase.index)].assign(phase=lambda f: f["entry"].map(phase))
    members = store.read_frame(conn, sa.select(m.initiative_id, r.portal_id, r.unit_code, r.title_folded, r.applied_on,
                                               r.author_keys)
                               .join(store.records, r.raw_id == m.raw_id),
                               ["entry", "portal_id", "unit_code", "title_folded", "applied_on", "author_keys"])
    members = members[members["entry"].isin(inits["entry"])]
    applied = pd.to_datetime(members["applied_on"]).dt.strftime("%Y-%m-%d")
    texts = pd.concat([
        pd.DataFrame({"entry": members["entry"], "text": "t|" + members["unit_code"] + "|" + members["title_folded"]
                      + "|" + applied}),
        pd.DataFrame({"entry": members["entry"], "text": "p|" + members["portal_id"]}).dropna(),
    ], ignore_index=True).drop_duplicates()
    keys = pd.DataFrame({"entry": texts["entry"].to_numpy(), "key": hash_texts(key, texts["text"]).to_numpy()})
    people = members.assign(name=members["author_keys"].str.split("|")).explode("name")
    people = people[people["name"].notna() & (people["name"] != "")]
    people = people.assign(text="u|" + people["unit_code"] + "/" + people["name"])[["entry", "text"]].drop_duplicates()
    people = pd.DataFrame({"entry": people["entry"].to_numpy(), "person": hash_texts(key, people["text"]).to_numpy()})
    inits["origin"] = SELF
    inits["phase"] = inits["phase"].astype(np.int64)
    inel = store.read_frame(conn, sa.select(r.unit_code, r.phase, sa.func.count().label("n"))
                            .where(r.eligible.is_(False), r.phase.is_not(None))
                            .group_by(r.unit_code, r.phase), ["unit_code", "phase", "records"]) \
        if ineligible is None else ineligible[["unit_code", "phase", "records"]].copy()
    inel.insert(0, "origin", SELF)
    return Entries(inits[["entry", "origin", "unit_code", "phase", "status", "benefit_vnd", "records",
                          "submitted_on"]], keys, people, inel)


def latest_submissions(conn: Connection, program: str | None = None) -> pd.DataFrame:
    """Per child node, the submission that counts for ``program`` (default: the node's default program): the
    latest as-of (the last received among equal as-ofs). A submission without a program is the default ``1trieu``
    one (the intake stores it so)."""
    s = store.submissions.c
    subs = store.read_frame(conn, sa.select(s.id, s.node, s.as_of, s.received_at)
                            .where(s.program == (program or default_program(conn))),
                            ["id", "node", "as_of", "received_at"])
    if subs.empty:
        return subs
    subs = subs.sort_values(["node", "as_of", "id"])
    return subs.drop_duplicates("node", keep="last").reset_index(drop=True)


def child_entries(conn: Connection, offset: int = 0, program: str | None = None) -> Entries:
    """The entries of each child's latest submission for ``program``, numbered from ``offset``."""
    latest = latest_submissions(conn, program)
    if latest.empty:
        return _empty()
    ids = [int(v) for v in latest["id"]]
    e = store.submission_entries.c
    origin = dict(zip(latest["id"].astype(int), latest["node"], strict=False))
    entries = store.read_frame(conn, sa.select(e.submission_id, e.entry_no, e.unit_code, e.phase, e.status,
                                               e.benefit_vnd, e.records, e["keys"], e.people, e.submitted_on)
                               .where(e.submission_id.in_(ids)).order_by(e.submission_id, e.entry_no),
                               ["submission_id", "entry_no", "unit_code", "phase", "status", "benefit_vnd", "records",
                                "keys", "people", "submitted_on"])
    entries["submitted_on"] = pd.to_datetime(entries["submitted_on"])
    entries["entry"] = np.arange(offset, offset + len(entries), dtype=np.int64)
    entries["origin"] = entries["submission_id"].astype(int).map(origin)
    keys = entries[["entry", "keys"]].assign(key=entries["keys"].str.split(KEY_SEPARATOR)).explode("key")
    keys = keys[["entry", "key"]]
    people = entries[["entry", "people"]].assign(person=entries["people"].str.split(KEY_SEPARATOR)).explode("person")
    people = people[people["person"].notna() & (people["person"] != "")][["entry", "person"]]
    i = store.submission_ineligible.c
    inel = store.read_frame(conn, sa.select(i.submission_id, i.unit_code, i.phase, i.records)
                            .where(i.submission_id.in_(ids)), ["submission_id", "unit_code", "phase", "records"])
    inel["origin"] = inel["submission_id"].astype(int).map(origin)
    entries["phase"] = entries["phase"].astype(np.int64)
    return Entries(entries[["entry", "origin", "unit_code", "phase", "status", "benefit_vnd", "records",
                            "submitted_on"]], keys.reset_index(drop=True), people.reset_index(drop=True),
                   inel[["origin", "unit_code", "phase", "records"]])


def cluster(entry_ids: np.ndarray, keys: pd.DataFrame) -> np.ndarray:
    """For each of ``entry_ids``, the smallest entry id it is connected to through shared keys."""
    n = len(entry_ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    position = pd.Series(np.arange(n), index=entry_ids)
    e = position.reindex(keys["entry"].to_numpy()).to_numpy()
    k, _ = pd.factorize(keys["key"].to_numpy())
    keep = ~np.isnan(e.astype(float))
    e, k = e[keep].astype(np.int64), k[keep]
    label = np.arange(n, dtype=np.int64)
    for _ in range(1000):  # label propagation; converges in as many rounds as the longest chain of shared keys
        per_key = np.full(k.max() + 1 if len(k) else 0, n, dtype=np.int64)
        np.minimum.at(per_key, k, label[e])
        new = label.copy()
        np.minimum.at(new, e, per_key[k])
        new = new[new]  # jump to the root's label: halves the rounds on long chains
        if np.array_equal(new, label):
            break
        label = new
    return np.asarray(entry_ids)[label]


@dataclass
class Combined:
    """Initiatives counted once across this node and its children.

    ``initiatives``: id, unit_code, phase, status, benefit_vnd, records, origins ("|"-joined), sources (count),
    submitted_on (the earliest day any of its entries gives; NaT when none gives one).
    ``members``: every entry (entry, origin, unit_code, phase, status, records) and id, the cluster it fell in.
    ``keys``, ``people``: id, key / person.
    ``ineligible``: origin, unit_code, phase, records.
    """

    initiatives: pd.DataFrame
    members: pd.DataFrame
    keys: pd.DataFrame
    people: pd.DataFrame
    ineligible: pd.DataFrame


def combine(own: Entries, children: Entries, priority: list[str] | None = None) -> Combined:
    """Cluster this node's entries with its children's; a cluster's unit, phase and status come from its most
    trusted entry: origins in ``priority`` (child codes, or SELF) first, then this node, then children in code
    order; among equals valid beats pending beats rejected."""
    entries = pd.concat([own.entries, children.entries], ignore_index=True)
    keys = pd.concat([own.keys, children.keys], ignore_index=True)
    people = pd.concat([own.people, children.people], ignore_index=True)
    entries["id"] = cluster(entries["entry"].to_numpy(), keys)
    order = {name: i for i, name in enumerate(priority or [])}
    entries["rank_origin"] = entries["origin"].map(lambda o: order.get(o, len(order) + (0 if o == SELF else 1)))
    entries["rank_status"] = entries["status"].map(STATUS_RANK).fillna(3)
    best = entries.sort_values(["id", "rank_origin", "origin", "rank_status", "entry"]).drop_duplicates("id")
    entries["submitted_on"] = pd.to_datetime(entries["submitted_on"])
    agg = entries.groupby("id").agg(records=("records", "sum"), sources=("origin", "nunique"),
                                    origins=("origin", lambda o: "|".join(sorted(set(o)))),
                                    submitted_on=("submitted_on", "min"))
    initiatives = best[["id", "unit_code", "phase", "status", "benefit_vnd"]].merge(agg, on="id")
    to_id = entries.set_index("entry")["id"]
    keys = pd.DataFrame({"id": to_id.reindex(keys["entry"]).to_numpy(),
                         "key": keys["key"].to_numpy()}).drop_duplicates()
    people = pd.DataFrame({"id": to_id.reindex(people["entry"]).to_numpy(),
                           "person": people["person"].to_numpy()}).drop_duplicates()
    members = entries[["entry", "origin", "unit_code", "phase", "status", "records", "id"]]
    return Combined(initiatives.reset_index(drop=True), members, keys, people,
                    pd.concat([own.ineligible, children.ineligible], ignore_index=True))


def has_submissions(conn: Connection, program: str | None = None) -> bool:
    """Whether a child pushed for ``program`` (default: the node's default program)."""
    s = store.submissions.c
    return conn.execute(sa.select(s.id).where(s.program == (program or default_program(conn))).limit(1)
                        ).first() is not None


def combined(conn: Connection, program: str | None = None, phase: pd.Series | None = None,
             ineligible: pd.DataFrame | None = None) -> Combined:
    """This node's initiatives and its children's latest submissions for ``program`` (default: the node's default
    program), counted once; another program passes its own ``phase`` and ``ineligible`` (own_entries)."""
    key = program_key(conn)
    own = own_entries(conn, key, phase, ineligible)
    offset = int(own.entries["entry"].max()) + 1 if not own.entries.empty else 0
    return combine(own, child_entries(conn, offset, program), get_setting(conn, "status_priority"))


@dataclass
class _PushContext:
    """What comparing one child's push needs from the whole node: names, titles, who pushed what."""

    names: dict[str, str]
    titles: dict[int, str]
    own_unit: dict[int, str]
    pushed_by: pd.Series  # initiative id -> the children that pushed it
    held: int  # records held in quarantine here

    def others(self, cid: int, child: str) -> list[str]:
        return [o for o in self.pushed_by.get(cid, []) if o != child]


def against_pushes(conn: Connection, unit: str | None = None, phase: int | None = None, program: str | None = None,
                   counted: Combined | None = None) -> list[dict]:
    """For each child: what it pushed against what this node computes for the child's subtree from its own
    sources, per phase, then every initiative that differs with its likely cause. ``program`` and ``counted``:
    another program's pushes and its combined count (sangkien.pipeline.programs.program_combined).

    Rows have kind ``pushed``, unit_code (the child's code), unit_name, phase, measure, expected, actual,
    difference, cause and detail in words, and ``cause_code`` (``pushed_count``, ``pushed_elsewhere_here``,
    ``pushed_not_here``, ``pushed_by_other``, ``pushed_missing``, ``pushed_twice``); a row about one initiative
    also has ``initiative_id``, ``initiative_unit`` and ``initiative_status`` (sangkien.pipeline.worklist groups
    them)."""
    latest = latest_submissions(conn, program)
    if latest.empty:
        return []
    members = (counted or combined(conn)).members
    closure = tree.ancestor_pairs(conn)
    own = members[members["origin"] == SELF]
    q = store.quarantine.c
    context = _PushContext(
        names=dict(conn.execute(sa.select(store.org_units.c.code, store.org_units.c.name)).tuples().all()),
        titles=dict(conn.execute(sa.select(store.initiatives.c.id, store.initiatives.c.title)).tuples().all()),
        own_unit=own.drop_duplicates("id").set_index("id")["unit_code"].to_dict(),
        pushed_by=members[members["origin"] != SELF].groupby("id")["origin"].agg(lambda o: sorted(set(o))),
        held=int(conn.execute(sa.select(sa.func.count(sa.distinct(q.raw_id)))).scalar_one()))
    rows: list[dict] = []
    for child in sorted(latest["node"]):
        if unit is not None and unit != child:
            continue
        mine = own[own["unit_code"].isin(tree.subtree(closure, child))]
        theirs = members[members["origin"] == child]
        for ph in sorted(set(mine["phase"]) | set(theirs["phase"])):
            if phase is None or ph == phase:
                rows += _push_differences(context, child, int(ph), mine[mine["phase"] == ph],
                                          theirs[theirs["phase"] == ph])
    return rows


def _push_differences(context: _PushContext, child: str, phase: int, mine: pd.DataFrame,
                      theirs: pd.DataFrame) -> list[dict]:
    """One child's push against this node's own initiatives for its subtree, in one phase."""
    base = {"kind": "pushed", "unit_code": child, "unit_name": context.names.get(child), "phase": phase}
    rows: list[dict] = []
    for measure, status in (("initiatives", None), ("valid", "valid")):
        expected = len(mine) if status is None else int((mine["status"] == status).sum())
        actual = len(theirs) if status is None else int((theirs["status"] == status).sum())
        if expected != actual:
            rows.append({**base, "measure": measure, "expected": expected, "actual": actual,
                         "difference": actual - expected, "cause_code": "pushed_count",
                         "cause": f"{child} pushed {actual:,}; this node's own sources hold {expected:,} "
                                  f"for {child}'s subtree",
                         "detail": "the initiatives that differ are listed below"})
    ids_mine, ids_theirs = set(mine["id"]), set(theirs["id"])
    entries = theirs.drop_duplicates("id").set_index("id")[["unit_code", "status"]].to_dict("index")
    for cid in sorted(ids_theirs - ids_mine):
        entry, others = entries[cid], context.others(cid, child)
        one = {"initiative_id": int(cid), "initiative_unit": entry["unit_code"], "initiative_status": entry["status"]}
        if cid in context.own_unit:
            one["cause_code"] = "pushed_elsewhere_here"
            cause = f"counted under another parent here: this node's sources place it in {context.own_unit[cid]}"
            detail = f"initiative {cid}: {context.titles.get(cid, '')}"
        else:
            one["cause_code"] = "pushed_not_here"
            cause = ("not in this node's sources (e.g. not yet on the portal"
                     + (f", or among the {context.held:,} records held in quarantine here" if context.held else "")
                     + ")")
            detail = f"{child}'s initiative in unit {entry['unit_code']}, status {entry['status']}"
        if others:
            cause += f"; also pushed by {', '.join(others)} (a duplicate across two parents, counted once)"
        rows.append({**base, "measure": "initiative", "expected": 0, "actual": 1, "difference": 1,
                     "cause": cause, "detail": detail, **one})
    status_here = mine.drop_duplicates("id").set_index("id")["status"].to_dict()
    for cid in sorted(ids_mine - ids_theirs):
        others = context.others(cid, child)
        cause = (f"reported by {', '.join(others)} instead: counted under another parent" if others else
                 f"missing from {child}'s push (not in its sources, or quarantined there)")
        rows.append({**base, "measure": "initiative", "expected": 1, "actual": 0, "difference": -1, "cause": cause,
                     "detail": f"initiative {cid}: {context.titles.get(cid, '')}",
                     "cause_code": "pushed_by_other" if others else "pushed_missing", "initiative_id": int(cid),
                     "initiative_unit": context.own_unit.get(cid), "initiative_status": status_here.get(cid)})
    for cid in sorted(ids_mine & ids_theirs):
        others = context.others(cid, child)
        if others:
            rows.append({**base, "measure": "initiative", "expected": 1, "actual": 1, "difference": 0,
                         "cause": f"duplicate across two parents: also pushed by {', '.join(others)}; "
                                  "counted once here",
                         "detail": f"initiative {cid}: {context.titles.get(cid, '')}", "cause_code": "pushed_twice",
                         "initiative_id": int(cid), "initiative_unit": context.own_unit.get(cid),
                         "initiative_status": status_here.get(cid)})
    return rows
