"""One writer at a time: a second sync says who holds the store, or waits (--wait); a dead holder's lock is
taken over. Real `sangkien sync` processes against one store (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from sandbox.servers.proxy import serve_json
from sangkien import store
from sangkien.store import lock
from sangkien.store.registry import add_connector
from tests.conftest import one_line_error
from tests.pipeline.test_sync_store import setup_store

RECORD = {"id": "HN-1", "title": "Giải pháp số hoá hồ sơ tín dụng", "authors": "Nguyễn Văn An", "unit": "G001",
          "type": "Giải pháp kỹ thuật", "recognized": "2022-02-01", "applied": "2022-01-15",
          "submitted": "2022-02-20", "status": "Hợp lệ"}
COLUMNS = {"source_record_id": "id", "title": "title", "authors": "authors", "unit": "unit",
           "solution_type": "type", "recognized_on": "recognized", "applied_on": "applied",
           "submitted_at": "submitted", "status": "status"}


class GatedSource:
    """A provincial REST system on loopback whose answers wait until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.asked = threading.Event()
        self.server = serve_json(self._answer)
        self.url = self.server.url

    def _answer(self, path: str, query: str) -> list[dict[str, str]]:
        self.asked.set()
        self.gate.wait(timeout=240)
        return [RECORD]

    def close(self) -> None:
        self.gate.set()
        self.server.stop()


@pytest.fixture
def gated() -> Iterator[GatedSource]:
    source = GatedSource()
    yield source
    source.close()


def sync(url: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sangkien.cli.main", "--db", url, "sync", "--in-process", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def prepared(db_url: str, world, gated: GatedSource) -> sa.Engine:  # type: ignore[no-untyped-def]
    engine = store.open_store(db_url)
    setup_store(engine, world)
    add_connector(engine, "hanoi-api", "rest", {"base_url": gated.url, "auth": "none", "pagination": "none",
                                                "date_format": "%Y-%m-%d", "timeout": 300, "columns": COLUMNS})
    return engine


def holding_run(engine: sa.Engine, first: subprocess.Popen[str], gated: GatedSource) -> lock.Holder:
    """Once ``first`` is inside its run (asking the source), who the store says holds it."""
    while not gated.asked.wait(timeout=1):
        assert first.poll() is None, first.communicate()
    found = lock.holder(engine)
    assert found is not None
    return found


def statuses(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.select(store.sync_runs.c.status).order_by(store.sync_runs.c.id)))


def test_a_second_sync_says_who_holds_the_store_and_a_waiting_one_runs_after(db_url, world, gated):
    engine = prepared(db_url, world, gated)
    first = sync(db_url)
    held = holding_run(engine, first, gated)
    assert (held.pid, held.host, held.run_id) == (first.pid, socket.gethostname(), 1)

    second = sync(db_url)
    second.wait(timeout=120)
    line = one_line_error(subprocess.CompletedProcess(second.args, second.returncode, *second.communicate()))
    assert re.fullmatch(rf"sangkien: error: another sync is running \(run 1, started \d\d:\d\d \(UTC\+7\) by pid "
                        rf"{first.pid} on {re.escape(socket.gethostname())}\); .*", line), line

    waiting = sync(db_url, "--wait")
    assert waiting.stderr is not None
    told = waiting.stderr.readline()
    assert told.startswith("waiting for another sync to end (run 1, started ") and f"pid {first.pid}" in told
    gated.gate.set()
    assert first.wait(timeout=300) == 0, first.communicate()
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert "sync run 2: completed" in out
    assert statuses(engine) == ["completed", "completed"]  # the refused sync opened no run
    assert lock.holder(engine) is None


def test_a_lock_left_by_a_killed_sync_is_taken_over(db_url, world, gated):
    engine = prepared(db_url, world, gated)
    victim = sync(db_url)
    holding_run(engine, victim, gated)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    gated.gate.set()
    after = sync(db_url)
    out, err = after.communicate(timeout=300)
    assert after.returncode == 0, err
    assert "sync run 2: completed" in out
    assert statuses(engine) == ["abandoned", "completed"]
    assert lock.holder(engine) is None


def test_a_lock_row_naming_a_reused_pid_is_not_mistaken_for_its_holder():
    me = lock.Holder(os.getpid(), socket.gethostname(), "another-boot:1", lock._me().acquired_at)
    assert lock.process_alive(os.getpid())
    assert not me.alive()  # this pid is alive, but it is not the process that took the lock
