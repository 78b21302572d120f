"""One writer at a time: the store's sync lock.

A sync (or a resolution, or a quarantine release) holds the store from before its run opens until
it closes. On PostgreSQL the lock is a session advisory lock on a connection of its own: the
server frees it when the holder's connection ends, so a killed process never leaves it behind.
On SQLite it is a row in ``store_lock`` naming its holder (pid, host, the process's start); a row
whose process is gone (the pid is not alive on this host, or is now another process) is taken
over by a compare-and-swap update, so two newcomers cannot both take it. On both, the row tells a
second writer who holds the store: "another sync is running (run N, started HH:MM by pid P on HOST)".

A process holds the lock at most once per store: the CLI takes it before starting Prefect's flow,
and the flow's run, in the same process, finds it held and goes on.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien.errors import UserError
from sangkien.store.tables import store_lock

NAME = "sync"
PG_KEY = 0x53_4B_53_59_4E_43  # "SKSYNC": the advisory lock's key, in this store's database
FOREIGN_STALE_AFTER = dt.timedelta(hours=24)  # a lock row from another host is presumed dead after this
POLL_SECONDS = 1.0
_VIETNAM = dt.timezone(dt.timedelta(hours=7))


def _process_start(pid: int) -> str:
    """The boot and start tick of process ``pid`` ('' where /proc cannot tell): with the pid, who it is."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""
    return f"{boot}:{start}"


def process_alive(pid: int, start: str = "") -> bool:
    """Whether process ``pid`` on this host is alive (a zombie is not) and, when ``start`` is known, is still the
    same process (not another one that reused the pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    except (OSError, IndexError):
        return True
    return not start or _process_start(pid) in ("", start)


@dataclass(frozen=True)
class Holder:
    """Who holds the store."""

    pid: int
    host: str
    process_start: str
    acquired_at: dt.datetime
    run_id: int | None = None

    def describe(self) -> str:
        when = (self.acquired_at if self.acquired_at.tzinfo else self.acquired_at.replace(tzinfo=dt.UTC))
        local = when.astimezone(_VIETNAM)
        day = "" if local.date() == dt.datetime.now(_VIETNAM).date() else f"{local:%d/%m} "
        run = f"run {self.run_id}, " if self.run_id is not None else ""
        return f"{run}started {day}{local:%H:%M} (UTC+7) by pid {self.pid} on {self.host}"

    def alive(self) -> bool:
        if self.host == socket.gethostname():
            return process_alive(self.pid, self.process_start)
        started = self.acquired_at if self.acquired_at.tzinfo else self.acquired_at.replace(tzinfo=dt.UTC)
        return dt.datetime.now(dt.UTC) - started < FOREIGN_STALE_AFTER


class StoreBusy(UserError):
    """Another process holds the store."""

    def __init__(self, holder: Holder | None):
        self.holder = holder
        who = f" ({holder.describe()})" if holder else ""
        super().__init__(f"another sync is running{who}; wait for it with `sangkien sync --wait`, "
                         "or see `sangkien runs`")


def _me() -> Holder:
    return Holder(os.getpid(), socket.gethostname(), _process_start(os.getpid()), dt.datetime.now(dt.UTC))


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@dataclass
class _Held:
    holder: Holder
    depth: int
    connection: Connection | None  # PostgreSQL: the session holding the advisory lock


_HELD: dict[str, _Held] = {}  # this process's locks, by store


def holder(engine: Engine) -> Holder | None:
    """Who the lock row names (None when no one holds the store, as far as the row tells)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(store_lock).where(store_lock.c.name == NAME)).mappings().first()
    if row is None:
        return None
    return Holder(row["pid"], row["host"], row["process_start"], row["acquired_at"], row["run_id"])


def _values(me: Holder) -> dict[str, Any]:
    return {"pid": me.pid, "host": me.host, "process_start": me.process_start, "acquired_at": me.acquired_at,
            "run_id": None}


def _same_process(a: Holder, b: Holder) -> bool:
    return (a.pid, a.host, a.process_start) == (b.pid, b.host, b.process_start)


def _take_row(engine: Engine, me: Holder, force: bool) -> Holder | None:
    """Write ``me`` into the lock row; None when taken, else the live holder. ``force``: the caller holds the
    advisory lock (PostgreSQL), so whatever the row says is left over."""
    t = store_lock.c
    for _ in range(20):
        try:
            with engine.begin() as conn:
                conn.execute(store_lock.insert().values(name=NAME, **_values(me)))
            return None
        except sa.exc.IntegrityError:
            pass
        except sa.exc.OperationalError:  # SQLite: a writer raced us; look again
            time.sleep(0.05)
            continue
        current = holder(engine)
        if current is None:
            continue
        # a row of our own is left over from a failed release: take it
        if not force and not _same_process(current, me) and current.alive():
            return current
        with engine.begin() as conn:  # compare and swap: only one newcomer replaces the row it read
            swapped = conn.execute(store_lock.update().where(
                t.name == NAME, t.pid == current.pid, t.host == current.host,
                t.process_start == current.process_start, t.acquired_at == current.acquired_at)
                .values(**_values(me))).rowcount
        if swapped == 1:
            return None
    return holder(engine)


def _try_acquire(engine: Engine, me: Holder) -> tuple[bool, Connection | None]:
    if engine.dialect.name != "postgresql":
        current = holder(engine)  # a read first: a waiting process does not queue for SQLite's write lock each time
        if current is not None and not _same_process(current, me) and current.alive():
            return False, None
        return _take_row(engine, me, force=False) is None, None
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    if not conn.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_KEY}):
        conn.close()
        return False, None
    _take_row(engine, me, force=True)
    return True, conn


def acquire(engine: Engine, wait: bool = False, on_wait: Callable[[Holder | None], None] | None = None,
            poll: float = POLL_SECONDS) -> None:
    """Hold the store for this process; StoreBusy when another holds it (or, with ``wait``, wait for it,
    calling ``on_wait`` once with the holder)."""
    key = _key(engine)
    if key in _HELD:
        _HELD[key].depth += 1
        return
    told = False
    while True:
        me = _me()
        taken, conn = _try_acquire(engine, me)
        if taken:
            _HELD[key] = _Held(me, 1, conn)
            return
        current = holder(engine)
        if not wait:
            raise StoreBusy(current)
        if not told and on_wait is not None:
            on_wait(current)
            told = True
        time.sleep(poll)


def release(engine: Engine) -> None:
    """Let go of the store (when this process's outermost hold ends)."""
    key = _key(engine)
    held = _HELD.get(key)
    if held is None:
        return
    held.depth -= 1
    if held.depth > 0:
        return
    del _HELD[key]
    t, me = store_lock.c, held.holder
    try:
        with engine.begin() as conn:
            conn.execute(store_lock.delete().where(t.name == NAME, t.pid == me.pid, t.host == me.host,
                                                   t.process_start == me.process_start))
    finally:
        if held.connection is not None:
            held.connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": PG_KEY})
            held.connection.close()


def set_run(engine: Engine, run_id: int) -> None:
    """Name the run this process's hold is for (shown to whoever finds the store busy)."""
    held = _HELD.get(_key(engine))
    if held is None:
        return
    t, me = store_lock.c, held.holder
    with engine.begin() as conn:
        conn.execute(store_lock.update().where(t.name == NAME, t.pid == me.pid, t.host == me.host,
                                               t.process_start == me.process_start).values(run_id=run_id))


@contextmanager
def holding(engine: Engine, wait: bool = False,
            on_wait: Callable[[Holder | None], None] | None = None) -> Iterator[None]:
    """``with holding(engine):`` the store is this process's until the block ends."""
    acquire(engine, wait=wait, on_wait=on_wait)
    try:
        yield
    finally:
        release(engine)
