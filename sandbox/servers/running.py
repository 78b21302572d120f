"""Starting a simulator: ``serve`` runs one in a background thread and returns a ``RunningServer``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Generic, TypeVar

from sandbox.servers.faults import FaultSpec
from sandbox.servers.portal import PortalServer
from sandbox.servers.protocol import Answering
from sandbox.servers.rest import RestServer
from sandbox.servers.system import SimulatedSystem
from sandbox.servers.transport import _Server

KINDS = ("portal", "rest")
S = TypeVar("S", bound=Answering)


@dataclass
class RunningServer(Generic[S]):
    """A simulator (or any Answering) serving in a background thread; ``stop()`` (or leaving the ``with``
    block) ends it."""

    url: str
    system: S
    _server: _Server
    _thread: threading.Thread

    @property
    def endpoint(self) -> str:
        """The data endpoint's full URL."""
        return self.url + self.system.data_path

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def stop(self) -> None:
        """Stop serving: interrupt slow answers, close connections, release the port. Idempotent."""
        if self._server.stopping.is_set():
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningServer[S]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def build_system(kind: str, world: Path, faults: str | FaultSpec | None = None, token: str = "demo-token",
                 style: str = "page", source: str | None = None, auth: str = "header") -> SimulatedSystem:
    """The system for ``kind`` ("portal" or "rest") over ``world``; ValueError for a bad argument."""
    spec = FaultSpec.parse(faults) if isinstance(faults, str) else faults or FaultSpec()
    if kind == "portal":
        return PortalServer.from_world(Path(world), spec, token, source or "portal")
    if kind == "rest":
        return RestServer.from_world(Path(world), source or "hanoi", style, spec, token, auth)
    raise ValueError(f"unknown simulator kind {kind!r}; one of {', '.join(KINDS)}")


def serve(kind: str, world: Path, port: int = 0, faults: str | FaultSpec | None = None, token: str = "demo-token",
          style: str = "page", source: str | None = None, *, auth: str = "header",
          verbose: bool = False) -> RunningServer[SimulatedSystem]:
    """Start a simulator on 127.0.0.1:``port`` (0: any free port) in a background thread.

    ``kind`` is "portal" (serves ``source`` or the world's portal export) or "rest" (serves
    ``source``, default "hanoi", paged by ``style`` and authenticated by ``auth``). ``faults``
    is a spec string or a FaultSpec. Raises ValueError for a bad argument or world, OSError
    when the port is taken.
    """
    return serve_system(build_system(kind, world, faults, token, style, source, auth), port, kind, verbose)


def serve_system(system: S, port: int = 0, name: str = "loopback", verbose: bool = False) -> RunningServer[S]:
    """Serve ``system`` on 127.0.0.1:``port`` (0: any free port) in a background thread."""
    server = _Server(port, system, verbose)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"sandbox-{name}", daemon=True)
    thread.start()
    return RunningServer(f"http://127.0.0.1:{server.server_address[1]}", system, server, thread)
