"""A sync killed with SIGKILL mid-pull and run again ends where an uninterrupted one does (SQLite and
PostgreSQL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from sandbox.generate import generate_world
from sandbox.servers import serve
from sangkien import store
from sangkien.reference.orgs import load_orgs
from sangkien.store.registry import add_connector
from tests.conftest import _pg_database

TOKEN = "kill-test-token"
SLOW = "slow=0.5,slow_delay=0.15,seed=5"  # slow but successful answers: time to kill mid-pull


def prepare(url: str, world: Path, portal_url: str) -> sa.Engine:
    engine = store.open_store(url)
    load_orgs(engine, world / "orgs.csv")
    add_connector(engine, "portal", "portal", {"base_url": portal_url, "token": "env:SANGKIEN_KILL_TOKEN",
                                               "page_size": 10, "timeout": 5.0})
    return engine


def sync(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SANGKIEN_KILL_TOKEN": TOKEN}
    return subprocess.Popen([sys.executable, "-m", "sangkien.cli.main", "--db", url, "sync", "--in-process"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _without_read_at(state: object) -> object:
    """A connector state without the times files were read (two syncs read them at different times)."""
    if isinstance(state, dict):
        return {k: _without_read_at(v) for k, v in state.items() if k != "read_at"}
    return state


def snapshot(engine: sa.Engine, every_source: bool = False) -> dict[str, object]:
    with engine.connect() as conn:
        raw = sorted(conn.execute(sa.select(store.raw_records.c.source, store.raw_records.c.source_record_id,
                                            store.raw_records.c.content_hash, store.raw_records.c.outcome)).all())
        states = conn.execute(sa.select(store.connector_state.c.connector, store.connector_state.c.state)
                              .order_by(store.connector_state.c.connector)).all()
        state = [(name, _without_read_at(value)) for name, value in states] if every_source else states[0][1]
        initiatives = conn.scalar(sa.select(sa.func.count()).select_from(store.initiatives))
        counts = sorted(conn.execute(sa.select(store.unit_counts.c.unit_code, store.unit_counts.c.phase,
                                               store.unit_counts.c.initiatives, store.unit_counts.c.valid,
                                               store.unit_counts.c.records, store.unit_counts.c.registrants)).all())
        figures = conn.scalar(sa.select(sa.func.count()).select_from(store.unit_figures))
    return {"raw": raw, "state": state, "initiatives": initiatives, "counts": counts, "figures": figures}


def test_a_sync_killed_mid_pull_and_rerun_matches_an_uninterrupted_one(db_url, second_db_url, tmp_path):
    """On SQLite and on PostgreSQL."""
    world = tmp_path / "world"
    generate_world(world, 500, seed=9, noise="none")
    with serve("portal", world, faults=SLOW, token=TOKEN) as server:
        whole_url = second_db_url
        whole = prepare(whole_url, world, server.url)
        done = sync(whole_url)
        assert done.wait(timeout=300) == 0, done.stderr

        killed_url = db_url
        killed = prepare(killed_url, world, server.url)
        victim = sync(killed_url)
        landed = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and victim.poll() is None:
            with killed.connect() as conn:
                landed = conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records))
            if landed >= 60:
                break
            time.sleep(0.05)
        assert victim.poll() is None, "the sync ended before it could be killed"
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        assert 0 < landed < len(server.system.ids())
        rerun = sync(killed_url)
        assert rerun.wait(timeout=300) == 0, rerun.stderr
    with killed.connect() as conn:
        statuses = list(conn.scalars(sa.select(store.sync_runs.c.status).order_by(store.sync_runs.c.id)))
        received = conn.scalar(sa.select(sa.func.sum(store.sync_run_sources.c.received)))
        stored = conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records))
    killed.dispose()
    assert received == stored  # the rows the killed run landed are counted by the run that finished them
    whole.dispose()
    assert statuses == ["abandoned", "completed"]  # the killed run is not left "running"
    assert snapshot(store.open_store(killed_url)) == snapshot(store.open_store(whole_url))


# A sync SIGKILLed as it enters each later stage (the pulls' own batches are covered above): the process
# replaces the stage's function with one that kills it, then runs the sync as `sangkien sync` does.
KILLER = """
import os, signal, sys
from sangkien.pipeline import resolve, run, summary

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

stage = sys.argv[1]
if stage == "validate":        # every source pulled, landed and decided; the left-overs and totals not yet
    run.validate_pulled = die
elif stage == "resolve":       # every source counted; resolution not begun
    run.resolve_initiatives = die
elif stage == "resolve-write": # inside resolution's rewrite of the initiatives, before it commits
    resolve._insert_initiatives = die
elif stage == "roll-up":       # initiatives resolved and committed; the counts not made
    run.roll_up = die
elif stage == "summary":       # the counts made; what people read not worked out
    summary.refresh = die
from sangkien.cli.main import main
sys.exit(main(["--db", sys.argv[2], "sync", "--in-process"]))
"""


def _files_store(url: str, world: Path) -> sa.Engine:
    from sangkien.store.registry import read_config_file

    engine = store.open_store(url)
    load_orgs(engine, world / "orgs.csv")
    for config in sorted((world / "sources").glob("*.yaml")):
        add_connector(engine, config.stem, "files", read_config_file(config))
    return engine


STAGES = ["validate", "resolve", "resolve-write", "roll-up", "summary"]


@pytest.mark.parametrize("stage", STAGES)
def test_a_sync_killed_at_a_stage_boundary_and_rerun_matches_an_uninterrupted_one(tmp_path, stage):
    """On SQLite, every boundary."""
    _killed_and_rerun(f"sqlite:///{tmp_path / 'killed.db'}", f"sqlite:///{tmp_path / 'whole.db'}", tmp_path, stage)


@pytest.mark.postgres
@pytest.mark.parametrize("stage", ["resolve-write", "roll-up"])  # the transactional ones (each costs CI ~10 s)
def test_a_sync_killed_at_a_stage_boundary_on_postgresql_and_rerun_matches(pg_admin, tmp_path, stage):
    with _pg_database(pg_admin) as killed_url, _pg_database(pg_admin) as whole_url:
        _killed_and_rerun(killed_url, whole_url, tmp_path, stage)


def _killed_and_rerun(db_url: str, second_db_url: str, tmp_path: Path, stage: str) -> None:
    world = tmp_path / "world"
    generate_world(world, 150, seed=11, noise="light")
    whole = _files_store(second_db_url, world)
    done = subprocess.run([sys.executable, "-m", "sangkien.cli.main", "--db", second_db_url, "sync", "--in-process"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    killed = _files_store(db_url, world)
    victim = subprocess.run([sys.executable, "-c", KILLER, stage, db_url], capture_output=True, text=True,
                            timeout=300)
    assert victim.returncode == -signal.SIGKILL, victim.stderr
    rerun = subprocess.run([sys.executable, "-m", "sangkien.cli.main", "--db", db_url, "sync", "--in-process"],
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    with killed.connect() as conn:
        statuses = list(conn.scalars(sa.select(store.sync_runs.c.status).order_by(store.sync_runs.c.id)))
        received = conn.scalar(sa.select(sa.func.sum(store.sync_run_sources.c.received)))
        stored = conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records))
    assert statuses == ["abandoned", "completed"]
    assert received == stored  # every landed row counted once, by the run that counted its source
    killed.dispose()
    whole.dispose()
    assert snapshot(store.open_store(db_url), every_source=True) == snapshot(store.open_store(second_db_url),
                                                                           every_source=True)
