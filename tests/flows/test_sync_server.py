"""`sangkien sync` and Prefect's local server (issue 22, item 3): the sync completes with both cores busy, a
server that fails to start is tried again, and a SIGKILLed sync leaves no server behind. Real processes: the
CLI, Prefect's server (uvicorn), CPU hogs the test owns."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from sandbox.prefect_local import _descendants
from sangkien import store
from sangkien.cli import prefect_server
from sangkien.errors import UserError
from sangkien.store.registry import add_connector
from tests.conftest import run_cli
from tests.pipeline.test_store_lock import COLUMNS, GatedSource
from tests.pipeline.test_sync_store import BANK_ROW, SCHOOL_ROW, setup_store

SERVER_APP = "prefect.server.api.server:create_app"


@contextmanager
def both_cores_busy() -> Iterator[None]:
    """Two processes spinning (as many as this machine's cores in CI), stopped when the block ends."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(max(2, os.cpu_count() or 2))]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    # a fresh PREFECT_HOME: the server creates its database first, its slowest start
    return {"PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_API_URL": "", "SANGKIEN_DB_URL": url}


def test_a_sync_completes_with_both_cores_busy(world, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    setup_store(store.open_store(url), world)
    world.source("hanoi", BANK_ROW, SCHOOL_ROW)
    env = _env(tmp_path, url)
    # Prefect's own allowance for its temporary server, shorter than a start takes here under load (issue 22
    # saw its 20 s run out on a busy machine): the sync must not depend on it
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "3"
    assert run_cli("connectors", "add", "hanoi", "--kind", "files", "--config", str(world.config("hanoi")),
                   env=env).returncode == 0
    with both_cores_busy():
        synced = run_cli("sync", env=env)
    assert synced.returncode == 0, synced.stderr
    assert "sync run 1: completed" in synced.stdout
    started = re.search(r"Prefect's local server answered after ([\d.]+) s(?: \(try (\d) of \d\))?", synced.stdout)
    assert started, synced.stdout
    print(f"\nloaded machine: Prefect's local server answered after {started[1]} s, try {started[2] or 1}")


def test_a_server_that_cannot_start_is_tried_again_on_another_port(monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1]])
        real = prefect_server._free_port
        monkeypatch.setattr(prefect_server, "_free_port", lambda: next(ports, None) or real())
        server = prefect_server.LocalServer(timeout=120)
        try:
            server.start()
            started = server.wait()
            assert started.tries == 2 and started.url != f"http://127.0.0.1:{taken.getsockname()[1]}/api"
            assert server._healthy()
        finally:
            server.stop()


def test_the_startup_allowance_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv(prefect_server.STARTUP_VARIABLE, "45")
    assert prefect_server.startup_seconds() == 45
    monkeypatch.setenv(prefect_server.STARTUP_VARIABLE, "soon")
    with pytest.raises(UserError, match="positive number"):
        prefect_server.startup_seconds()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status waits for a parent


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_sigkilled_sync_leaves_no_prefect_server_running(world, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = store.open_store(url)
    setup_store(engine, world)
    gated = GatedSource()
    add_connector(engine, "hanoi-api", "rest", {"base_url": gated.url, "auth": "none", "pagination": "none",
                                                "date_format": "%Y-%m-%d", "timeout": 300, "columns": COLUMNS})
    env = {**os.environ, **_env(tmp_path, url)}
    sync = subprocess.Popen([sys.executable, "-m", "sangkien.cli.main", "sync"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not gated.asked.wait(timeout=1):  # the flow is running: its server is up
            assert sync.poll() is None, "the sync ended before it asked the source"
        below = _descendants(sync.pid)
        assert any(SERVER_APP in _cmdline(pid) for pid in below), [_cmdline(pid) for pid in below]
        sync.send_signal(signal.SIGKILL)
        sync.wait()
        deadline = time.monotonic() + 60
        while [pid for pid in below if _alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.2)
        left = {pid: _cmdline(pid) for pid in below if _alive(pid)}
        for pid in left:  # leave nothing behind for the next test
            os.kill(pid, signal.SIGKILL)
        assert not left, f"still running after the sync was killed: {left}"
    finally:
        gated.close()
        engine.dispose()
    with store.open_store(url).connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.sync_runs)) == 1
