"""Prefect's API server for one `sangkien sync`, started by the CLI itself when no PREFECT_API_URL names one.

Prefect would start a temporary ("ephemeral") server on its own, but waits only 20 s for it (the sync then
dies with "Timed out while attempting to connect to ephemeral Prefect API server"), never tries again, and
leaves it running when the sync is SIGKILLed. This starts the same server (uvicorn serving Prefect's app in
ephemeral mode, as Prefect does) with:

* a startup allowance that fits a loaded machine: ``$SANGKIEN_PREFECT_STARTUP_SECONDS`` (default 90; measured
  on 2 cores: ~6 s idle, ~12-20 s with both cores busy, see docs/operations.md), and more tries
  (``TRIES``, on a fresh port) when a start fails or times out;
* a parent-death signal (Linux ``prctl(PR_SET_PDEATHSIG, SIGTERM)``, set in the child before it runs the
  server): when the sync dies, SIGKILL included, the kernel ends its server too;
* no store credential in the server's environment.

The server is stopped when the sync's process exits (atexit, after Prefect's own exit handlers, which send
its last events and logs to it), as Prefect does for its own.
"""
from __future__ import annotations

import atexit
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sangkien.cli import watch
from sangkien.errors import UserError

STARTUP_VARIABLE = "SANGKIEN_PREFECT_STARTUP_SECONDS"
DEFAULT_STARTUP_SECONDS = 90.0
TRIES = 3
PR_SET_PDEATHSIG = 1
# what the server must not see: the store's credentials (it needs none)
HIDDEN_VARIABLES = ("SANGKIEN_DB_URL", "SANGKIEN_DB_PASSWORD")


def startup_seconds() -> float:
    """The startup allowance per try, from $SANGKIEN_PREFECT_STARTUP_SECONDS (a positive number)."""
    raw = os.environ.get(STARTUP_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_STARTUP_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise UserError(f"${STARTUP_VARIABLE} is {raw!r}: give the seconds to wait for Prefect's local server "
                        f"to start, a positive number (default {DEFAULT_STARTUP_SECONDS:g})")
    return value


def _die_with(parent: int) -> Callable[[], None]:
    """The child's preexec: SIGTERM when the thread that started it dies; exit at once if it already has."""

    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None  # before fork

    def preexec() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os._exit(1)

    return preexec


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Started:
    """A server that answered: its API URL, the seconds its last try took and how many tries it needed."""

    url: str
    seconds: float
    tries: int
    process: subprocess.Popen[bytes]


class LocalServer:
    """One server process per try; ``start()`` spawns it (returns at once), ``wait()`` waits for /health."""

    def __init__(self, timeout: float | None = None, tries: int = TRIES) -> None:
        self.timeout = startup_seconds() if timeout is None else timeout
        self.tries = tries
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.began = 0.0
        self.log = Path(tempfile.mkstemp(prefix="sangkien-prefect-", suffix=".log")[1])
        self._registered = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        self.port = _free_port()
        env = {key: value for key, value in os.environ.items() if key not in HIDDEN_VARIABLES}
        env.update({"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
        import prefect  # only to find its app; the server imports the rest

        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(prefect.__file__).parent.parent),
                 "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                preexec_fn=_die_with(os.getpid()))  # the CLI's main thread, before threads matter
        self.began = time.monotonic()
        if not self._registered:
            atexit.register(self.stop)
            self._registered = True

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=5) as reply:
                return bool(reply.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def _wait_once(self) -> bool:
        assert self.process is not None
        deadline = self.began + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if self._healthy():
                return True
            time.sleep(0.1)
        return False

    def wait(self) -> Started:
        """Wait for the server started by ``start()``; on a failed or slow start, stop it and try again."""
        if self.process is None:
            self.start()
        for attempt in range(1, self.tries + 1):
            if attempt > 1:
                self.stop()
                self.start()
            if self._wait_once():
                assert self.process is not None
                return Started(self.url, time.monotonic() - self.began, attempt, self.process)
        tail = self.log.read_text(errors="replace").strip().splitlines()[-1:] if self.log.exists() else []
        self.stop()
        raise UserError(f"Prefect's local server did not start in {self.tries} tries of {self.timeout:g} s"
                        + (f" (its last line: {tail[0][:200]})" if tail else "")
                        + f"; raise ${STARTUP_VARIABLE}, or run `prefect server start` and set PREFECT_API_URL")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.log.unlink(missing_ok=True)


@contextmanager
def prefect_api() -> Iterator[None]:
    """Prefect's server for the flow run (`sangkien sync`, `sangkien demo`): the one PREFECT_API_URL names, else
    a LocalServer started here (an allowance that fits a loaded machine, more tries, dies with this process),
    which starts while the flows are imported."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api = PREFECT_API_URL.value()
    if api:
        watch.announce(f"running the nightly flow on Prefect's server at {api}")
        yield
        return
    server = LocalServer()
    watch.announce("starting Prefect's local server (a few seconds; `prefect server start` and PREFECT_API_URL "
                   "keep one running) ...")
    server.start()
    import flows.nightly  # noqa: F401  # imported while the server starts

    started = server.wait()
    watch.announce(f"Prefect's local server answered after {started.seconds:.1f} s"
                   + (f" (try {started.tries} of {server.tries})" if started.tries > 1 else ""))
    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = started.url  # also for what this process starts meanwhile
    try:
        with temporary_settings({PREFECT_API_URL: started.url}):
            yield
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
