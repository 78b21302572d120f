"""A local Prefect server and process workers, started as subprocesses (tests and scripts).

Each server gets its own PREFECT_HOME and a free loopback port; its database is SQLite in
that home, or PostgreSQL when ``database_url`` is given
(``postgresql+asyncpg://postgres@127.0.0.1:5432/prefect_x``). Workers run in their own
process group, so killing one (SIGKILL) also kills the flow runs it started, as when a
machine or container dies.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).with_name("prefect"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc), children first listed after their parent."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class PrefectServer:
    """``prefect server start`` on 127.0.0.1; ``env`` is what a client or worker of it needs."""

    def __init__(self, home: Path, database_url: str | None = None, port: int | None = None):
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.env = {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_API_URL": self.url,
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false",
                    "PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_WORKER_QUERY_SECONDS": "1",
                    "PREFECT_WORKER_PREFETCH_SECONDS": "5", "PYTHONUNBUFFERED": "1"}
        self.env.pop("PREFECT_PROFILE", None)
        self.server_env = dict(self.env)
        if database_url:
            self.server_env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.home / "server.log"

    def __enter__(self) -> PrefectServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 120) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, env=self.server_env,
                cwd=self.home, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prefect server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"prefect server did not answer within {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def prefect(self, *args: str, env: dict[str, str] | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run a ``prefect`` command against this server."""
        return subprocess.run([PREFECT, "--no-prompt", *args], capture_output=True, text=True, cwd=ROOT,
                              env={**self.env, **(env or {})}, timeout=timeout)


class Worker:
    """``prefect worker start --pool POOL --name NAME`` with its own environment and log file."""

    def __init__(self, server: PrefectServer, name: str, pool: str = "sangkien", limit: int | None = None,
                 env: dict[str, str] | None = None):
        self.server, self.name, self.pool = server, name, pool
        self.log = server.home / f"worker-{name}.log"
        args = [PREFECT, "worker", "start", "--pool", pool, "--name", name, "--type", "process"]
        if limit:
            args += ["--limit", str(limit)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                            env={**server.env, "SANGKIEN_HOME": str(ROOT), **(env or {})},
                                            start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and every process under it: flow runs start in sessions of their own,
        so they are found by walking /proc, then killed with it, as when the machine dies."""
        for pid in [*_descendants(self.process.pid), self.process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
