"""The store's tables (SQLAlchemy Core): reference data, connectors and their state, landed and
validated records, initiatives and their evidence, counts, and the tiers' submissions and pushes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from schemas.records import (
    SCHEMA_VERSION,  # of the canonical record contract, stored on every record row
)

if TYPE_CHECKING:
    pass



DEFAULT_URL = "sqlite:///sangkien.db"

metadata = sa.MetaData()

org_units = sa.Table(
    "org_units", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("parent_code", sa.String(64), nullable=True, index=True),
    sa.Column("sector_parent_code", sa.String(64), nullable=True, index=True),
    sa.Column("valid_from", sa.Date, nullable=True),
    sa.Column("valid_to", sa.Date, nullable=True),
    sa.Column("successor_code", sa.String(64), nullable=True),  # a merged unit's counts roll into this unit
)

org_aliases = sa.Table(
    "org_aliases", metadata,
    sa.Column("unit_code", sa.String(64), sa.ForeignKey("org_units.code", ondelete="CASCADE"), primary_key=True),
    sa.Column("alias", sa.Text, primary_key=True),
    sa.Column("alias_folded", sa.Text, nullable=False, index=True),
)

DEFAULT_PROGRAM = "1trieu"  # the 2022-2023 "01 triệu sáng kiến" program: what the nightly pipeline counts

programs = sa.Table(  # programs as configuration: a code, a name, an eligibility window; phases and quotas per program
    "programs", metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),  # initiatives applied from this day ...
    sa.Column("ends_on", sa.Date, nullable=False),  # ... to this one count for the program
)

phases = sa.Table(
    "phases", metadata,
    sa.Column("program", sa.String(32), primary_key=True, server_default=DEFAULT_PROGRAM),
    sa.Column("phase", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("counts_from", sa.Date, nullable=False),
)

quotas = sa.Table(  # a unit and phase may hold several targets: one per assigner and basis
    "quotas", metadata,
    sa.Column("program", sa.String(32), primary_key=True, server_default=DEFAULT_PROGRAM),
    sa.Column("unit_code", sa.String(64), primary_key=True),  # checked against org_units on load
    sa.Column("phase", sa.Integer, primary_key=True),
    sa.Column("assigned_by", sa.String(64), primary_key=True),  # the unit that set it: the parent unless named
    sa.Column("basis", sa.String(32), primary_key=True, server_default="valid"),
    sa.Column("target", sa.BigInteger, nullable=False),
)

clusters = sa.Table(  # competition clusters and blocks (cụm, khối thi đua): which units rank together, dated
    "clusters", metadata,
    sa.Column("cluster_code", sa.String(32), primary_key=True),
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=True),
    sa.Column("valid_to", sa.Date, nullable=True),
)

unit_members = sa.Table(  # member counts per unit, dated: a history, the count on a day is the latest before it
    "unit_members", metadata,
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("as_of", sa.Date, primary_key=True),
    sa.Column("members", sa.BigInteger, nullable=False),
)

connectors = sa.Table(
    "connectors", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

connector_state = sa.Table(
    "connector_state", metadata,
    sa.Column("connector", sa.String(64), sa.ForeignKey("connectors.name", ondelete="CASCADE"), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

sync_runs = sa.Table(
    "sync_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # running, completed, failed
    sa.Column("flow_run_id", sa.String(64), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    # what kind of run: incremental, full refresh, backfill 2022-06-01..2022-06-30, resolution, quarantine release
    sa.Column("mode", sa.String(64), nullable=True),
)

sync_run_sources = sa.Table(
    "sync_run_sources", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("received", sa.Integer, nullable=False, server_default="0"),
    sa.Column("new", sa.Integer, nullable=False, server_default="0"),
    sa.Column("changed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stale", sa.Integer, nullable=False, server_default="0"),  # older than the stored version: kept aside
    sa.Column("accepted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ineligible", sa.Integer, nullable=False, server_default="0"),
    sa.Column("quarantined", sa.Integer, nullable=False, server_default="0"),
    sa.Column("files", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_type", sa.String(32), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("seconds", sa.Float, nullable=True),
    sa.Column("notes", sa.Text, nullable=True),  # what the operator should know that is not an error (re-drops)
)

raw_records = sa.Table(
    "raw_records", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_record_id", sa.String(256), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # the row verbatim, as JSON text
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("origin", sa.Text, nullable=True),  # e.g. "export-2022-05.csv:17"
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),  # the run that last landed this content
    sa.Column("seen_run", sa.Integer, nullable=True, index=True),  # the last run that received it
    sa.Column("landing_problem", sa.Text, nullable=True),  # "column|check|message" when it could not be landed cleanly
    sa.Column("outcome", sa.String(16), nullable=True),  # accepted, ineligible, quarantined
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("clock", sa.Text, nullable=True),  # the source's change time of this content (pipeline/clock.py)
    sa.UniqueConstraint("source", "source_record_id", name="uq_raw_source_record"),
    # the rows waiting for validation: a night with nothing new finds none without reading the others
    sa.Index("ix_raw_records_undecided", "source", "id", sqlite_where=sa.text("outcome IS NULL"),
             postgresql_where=sa.text("outcome IS NULL")),
)

record_versions = sa.Table(  # append-only: every content of a record that is not (or no longer) its current one
    "record_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("raw_id", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False, index=True),
    sa.Column("clock", sa.Text, nullable=True),
    sa.Column("origin", sa.Text, nullable=True),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),  # the run that brought this content
    sa.Column("status", sa.String(16), nullable=False),  # superseded (was current), stale (older: never current)
    sa.Column("replaced_run", sa.Integer, nullable=True),  # superseded: the run whose newer content replaced it
)

store_lock = sa.Table(  # one writer at a time (store/lock.py): who holds the store, since when
    "store_lock", metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("process_start", sa.String(96), nullable=False),  # boot id and start tick: a reused pid is not it
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
)

records = sa.Table(
    "records", metadata,
    sa.Column("raw_id", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("source", sa.String(64), nullable=False),  # not indexed: no query looks records up by it (0014)
    sa.Column("source_record_id", sa.String(256), nullable=False),
    sa.Column("portal_id", sa.String(128), nullable=True),  # not indexed: no query looks records up by it (0014)
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("title_folded", sa.Text, nullable=False),
    sa.Column("authors", sa.Text, nullable=False),  # JSON list of NFC names
    sa.Column("author_keys", sa.Text, nullable=False),  # sorted folded name keys, "|"-joined
    sa.Column("submitted_by", sa.Text, nullable=True),
    sa.Column("unit_code", sa.String(64), nullable=False, index=True),
    sa.Column("unit_text", sa.Text, nullable=True),
    sa.Column("field", sa.String(32), nullable=False),
    sa.Column("field_raw", sa.Text, nullable=True),
    sa.Column("solution_type", sa.String(32), nullable=False),
    sa.Column("recognized_on", sa.Date, nullable=True),
    sa.Column("applied_on", sa.Date, nullable=False),
    sa.Column("submitted_at", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_raw", sa.Text, nullable=True),
    sa.Column("benefit_vnd", sa.Float, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=True),
    sa.Column("phase", sa.Integer, nullable=True),
    sa.Column("eligible", sa.Boolean, nullable=False),
    sa.Column("ineligible_reason", sa.Text, nullable=True),
    sa.Column("schema_version", sa.Integer, nullable=False, server_default=str(SCHEMA_VERSION)),
)

quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("raw_id", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("source", sa.String(64), nullable=False, index=True),
    sa.Column("column", sa.String(64), nullable=False),
    sa.Column("check", sa.String(64), nullable=False),
    sa.Column("value", sa.Text, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
)

initiatives = sa.Table(
    "initiatives", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("unit_code", sa.String(64), nullable=False, index=True),
    sa.Column("phase", sa.Integer, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("portal_id", sa.String(128), nullable=True),
    sa.Column("applied_on", sa.Date, nullable=False),
    sa.Column("submitted_at", sa.Date, nullable=False),
    sa.Column("benefit_vnd", sa.Float, nullable=True),
    sa.Column("members", sa.Integer, nullable=False),
    sa.Column("match_rule", sa.String(32), nullable=False),  # what joined the members
    sa.Column("created_run", sa.Integer, nullable=True),
    sa.Column("updated_run", sa.Integer, nullable=True),
)

initiative_members = sa.Table(
    "initiative_members", metadata,
    sa.Column("raw_id", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("initiative_id", sa.Integer, sa.ForeignKey("initiatives.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("matched_on", sa.String(32), nullable=False),  # model, reviewer, single
)

match_links = sa.Table(  # the scored pairs that hold an initiative together: its evidence
    "match_links", metadata,
    sa.Column("raw_id_a", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("raw_id_b", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("initiative_id", sa.Integer, nullable=False, index=True),
    sa.Column("weight", sa.Float, nullable=True),  # log2-odds; null for a reviewer's link
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("decided_by", sa.String(16), nullable=False),  # model, reviewer
    sa.Index("ix_match_links_raw_id_b", "raw_id_b"),
)

# the matcher's coded arrays of every resolved record, in segments (sangkien/pipeline/match/index.py)
match_index = sa.Table(
    "match_index", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scheme", sa.String(64), nullable=False),  # how the codes were made; another scheme means rebuild
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("created_run", sa.Integer, nullable=True),
    sa.Column("token", sa.String(32), nullable=True),  # random, per segment: names its file in the local cache
    sa.Column("payload", sa.LargeBinary, nullable=False),
)

match_models = sa.Table(  # the match weights learned from the store at a full run (sangkien/pipeline/match/learn.py)
    "match_models", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # the version: the latest is used
    sa.Column("fitted_run", sa.Integer, nullable=True),
    sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("records", sa.Integer, nullable=False),       # records the model was fitted on
    sa.Column("pairs", sa.Integer, nullable=False),         # blocked pairs the EM ran on
    sa.Column("random_pairs", sa.Integer, nullable=False),  # random pairs u was counted on
    sa.Column("scheme", sa.String(64), nullable=False),     # levels and codes it applies to
    sa.Column("params", sa.Text, nullable=False),           # JSON: levels, m, u, weights, prior, token counts
)

resolve_queue = sa.Table(  # records whose outcome was decided since they were last resolved
    "resolve_queue", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("raw_id", sa.Integer, nullable=False),
)

review_pairs = sa.Table(  # pairs the model was unsure of, and what a reviewer decided
    "review_pairs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("raw_id_a", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), nullable=False),
    sa.Column("raw_id_b", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), nullable=False),
    sa.Column("weight", sa.Float, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("model_merged", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),  # open, accepted, rejected
    sa.Column("created_run", sa.Integer, nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decided_by", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("applied", sa.Boolean, nullable=False, server_default=sa.false()),  # taken into a resolution run
    sa.UniqueConstraint("raw_id_a", "raw_id_b", name="uq_review_pair"),
)

node_settings = sa.Table(
    "node_settings", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

unit_counts = sa.Table(
    "unit_counts", metadata,
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("phase", sa.Integer, primary_key=True),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("initiatives", sa.Integer, nullable=False),
    sa.Column("valid", sa.Integer, nullable=False),
    sa.Column("pending", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("ineligible", sa.Integer, nullable=False),
    sa.Column("registrants", sa.Integer, nullable=False),
    sa.Column("benefit_vnd", sa.Float, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_unit_counts_as_of", "as_of"),  # the last roll-up's time, read at every dashboard request
)


def _count_columns() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer, nullable=False)
            for name in ("records", "initiatives", "valid", "pending", "rejected", "ineligible", "registrants")] + [
        sa.Column("benefit_vnd", sa.Float, nullable=False)]


count_history = sa.Table(  # unit_counts of every roll-up, kept: the trend a projection is drawn from
    "count_history", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Column("unit_code", sa.String(64), nullable=False),
    sa.Column("phase", sa.Integer, nullable=False),
    *_count_columns(),
    sa.Index("ix_count_history_unit_phase", "unit_code", "phase", "as_of"),
)

# --- what the last roll-up worked out for people to read (sangkien/pipeline/summary.py) ------------
# Rewritten whole at every roll-up, so the dashboard, the API and the workbook answer from here.

unit_own_counts = sa.Table(  # counts per (own unit, phase) before any roll-up: additive up the tree
    "unit_own_counts", metadata,
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("phase", sa.Integer, primary_key=True),
    *_count_columns(),
)

rollup_dirty = sa.Table(  # units whose own counts changed since the last roll-up (sangkien/pipeline/rollup.py)
    "rollup_dirty", metadata,
    sa.Column("unit_code", sa.String(64), nullable=False, index=True),  # repeats allowed: read DISTINCT
)

unit_figures = sa.Table(  # per (program, unit, phase): the counts, the target, its basis, counted on it, completion
    "unit_figures", metadata,
    sa.Column("program", sa.String(32), primary_key=True),  # the default program's, and others' worked out on request
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("phase", sa.Integer, primary_key=True),
    *[sa.Column(name, sa.Integer, nullable=False)
      for name in ("records", "initiatives", "valid", "pending", "rejected", "registrants")],
    sa.Column("basis", sa.String(32), nullable=True),
    sa.Column("target", sa.BigInteger, nullable=True),
    sa.Column("counted", sa.Integer, nullable=False),  # on the quota's basis (valid when there is no quota)
    sa.Column("completion", sa.Float, nullable=True),
)

unit_closure = sa.Table(  # (unit, ancestor) on the roll-up's date, both parent links, the unit itself included
    "unit_closure", metadata,
    sa.Column("ancestor", sa.String(64), primary_key=True),
    sa.Column("unit_code", sa.String(64), primary_key=True),
)

worklist = sa.Table(  # the discrepancies, one row per unit, phase, cause (and source), ranked
    "worklist", metadata,
    sa.Column("rank", sa.Integer, primary_key=True, autoincrement=False),  # 1 = what to fix first
    sa.Column("kind", sa.String(16), nullable=False),  # quota, sources, pushed
    sa.Column("cause", sa.String(32), nullable=False),
    sa.Column("unit_code", sa.String(64), nullable=False),
    sa.Column("phase", sa.Integer, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),  # "" when the cause names no source
    sa.Column("items", sa.Integer, nullable=False),  # initiatives behind the row (in worklist_items)
    sa.Column("expected", sa.BigInteger, nullable=True),
    sa.Column("actual", sa.BigInteger, nullable=True),
    sa.Column("basis", sa.String(32), nullable=True),  # the unit's quota in this phase
    sa.Column("target", sa.BigInteger, nullable=True),
    sa.Column("standing", sa.BigInteger, nullable=True),  # the unit's count on the basis, as the row's view has it
    sa.Column("effect", sa.BigInteger, nullable=False),  # what resolving the row adds to that count
    sa.Column("crosses", sa.Boolean, nullable=False),  # ... and whether that carries the unit over its target
    sa.Column("params", sa.Text, nullable=False),  # JSON: what the explanation names (holders, projection, ...)
    sa.Index("ix_worklist_unit_phase_kind_rank", "unit_code", "phase", "kind", "rank"),
)

worklist_items = sa.Table(  # the initiatives behind the worklist's rows, each under its own unit
    "worklist_items", metadata,
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("cause", sa.String(32), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("phase", sa.Integer, nullable=False),
    sa.Column("unit_code", sa.String(64), nullable=False),
    sa.Column("initiative_id", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=True),
    sa.Index("ix_worklist_items_row", "kind", "cause", "source", "phase", "unit_code", "initiative_id"),
)

unit_targets = sa.Table(  # every target (each assigner's, each basis) with its count and completion, for reading
    "unit_targets", metadata,
    sa.Column("program", sa.String(32), primary_key=True),
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("phase", sa.Integer, primary_key=True),
    sa.Column("assigned_by", sa.String(64), primary_key=True),
    sa.Column("basis", sa.String(32), primary_key=True),
    sa.Column("target", sa.BigInteger, nullable=False),
    sa.Column("counted", sa.Float, nullable=True),  # a share: in percent
    sa.Column("completion", sa.Float, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
)

cluster_ranks = sa.Table(  # ranks within each competition cluster, per phase ("" quarter) and quarter, for reading
    "cluster_ranks", metadata,
    sa.Column("program", sa.String(32), primary_key=True),
    sa.Column("cluster_code", sa.String(32), primary_key=True),
    sa.Column("phase", sa.Integer, primary_key=True),
    sa.Column("quarter", sa.String(8), primary_key=True),
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("cluster_name", sa.Text, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("of", sa.Integer, nullable=False),
    sa.Column("target", sa.BigInteger, nullable=True),
    sa.Column("valid", sa.Integer, nullable=False),
    sa.Column("completion", sa.Float, nullable=True),
)

summary_state = sa.Table(  # one row: which roll-up the tables above were worked out from
    "summary_state", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("tree_date", sa.Date, nullable=False),  # the org tree's date (Vietnam)
    sa.Column("counts_as_of", sa.DateTime(timezone=True), nullable=True),  # unit_counts' as_of it matches
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seconds", sa.Float, nullable=True),
)

child_nodes = sa.Table(  # at an upper node: the nodes below allowed to push here, with their token's hash
    "child_nodes", metadata,
    sa.Column("code", sa.String(64), primary_key=True),  # the child's org unit
    sa.Column("token_hash", sa.String(128), nullable=False),
    sa.Column("token_hint", sa.String(16), nullable=False),  # the token's first characters, to tell tokens apart
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

program_summaries = sa.Table(  # programs other than the default whose figures were worked out on request
    "program_summaries", metadata,
    sa.Column("program", sa.String(32), primary_key=True),
    sa.Column("counts_as_of", sa.DateTime(timezone=True), nullable=True),  # the kept summary's counts_as_of
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seconds", sa.Float, nullable=True),
)
submissions = sa.Table(  # at an upper node: every accepted push, append-only
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("node", sa.String(64), nullable=False),
    sa.Column("program", sa.String(32), nullable=False, server_default=DEFAULT_PROGRAM),  # an older child's: 1trieu
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Column("idempotency_key", sa.String(128), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("receipt", sa.JSON, nullable=False),
    sa.UniqueConstraint("idempotency_key", name="uq_submission_idempotency_key"),
    sa.Index("ix_submissions_node_as_of", "node", "as_of"),
)

submission_units = sa.Table(  # a submission's counts per unit and phase, as the child computed them
    "submission_units", metadata,
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("phase", sa.Integer, primary_key=True),
    *_count_columns(),
    sa.Column("duplicates_removed", sa.Integer, nullable=False),
)

submission_entries = sa.Table(  # a submission's initiatives: keyed hashes only, no names
    "submission_entries", metadata,
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("entry_no", sa.Integer, primary_key=True),
    sa.Column("unit_code", sa.String(64), nullable=False),
    sa.Column("phase", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("benefit_vnd", sa.Float, nullable=True),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("keys", sa.Text, nullable=False),  # "|"-joined HMAC match keys
    sa.Column("people", sa.Text, nullable=False),  # "|"-joined HMAC keys of the registrants
    sa.Column("submitted_on", sa.Date, nullable=True),  # sent by children whose push_dates is on
)

submission_ineligible = sa.Table(  # records the child holds that cannot count, by the unit they name
    "submission_ineligible", metadata,
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("phase", sa.Integer, primary_key=True),
    sa.Column("records", sa.Integer, nullable=False),
)

pushes = sa.Table(  # at a child node: every push attempted upward and what came back
    "pushes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("upstream", sa.Text, nullable=False),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Column("idempotency_key", sa.String(128), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # accepted, replayed, failed, unchanged
    sa.Column("receipt", sa.JSON, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("run_id", sa.Integer, nullable=True),
)

