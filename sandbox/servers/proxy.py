"""Loopback servers for tests and drills: the fault proxy, and a little JSON source.

``fault_proxy(upstream, faults)`` puts any HTTP source (a simulator, a real system, a tunnel to one) behind
seeded transport faults: each GET is forwarded to ``upstream`` (same path, query and headers, and the
client's Host, so links the source writes point back at the proxy) and one draw per request picks at most
one fault of the spec: ``5xx`` (500, 502 or 503 instead of the answer; upstream is not asked), ``429``
(with Retry-After), ``slow`` (the full answer after ``slow_delay``), ``truncated`` (200, half the body, a
matching Content-Length) or ``drop`` (half the body, then the connection is cut). ``shift`` and ``update``
change a source's data and need the simulator itself (``serve(..., faults=...)``): the proxy refuses them.
Counters on ``RunningServer.system``: ``requests``, ``forwarded``, ``fault_counts``.

``serve_json(answer)`` answers every GET with ``answer(path, query)`` as JSON (status 200): a test's source
whose records it changes between syncs, or one that blocks until the test lets it answer.
"""
from __future__ import annotations

import json
import random
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any

from sandbox.servers.faults import FaultSpec
from sandbox.servers.protocol import Headers, Reply, _json_reply
from sandbox.servers.running import RunningServer, serve_system

PASSED_HEADERS = ("Authorization", "X-API-Key", "Accept", "If-None-Match")
RETURNED_HEADERS = ("Link", "Retry-After", "WWW-Authenticate", "ETag")
DATA_FAULTS = ("shift", "update")


class FaultProxy:
    """Forwards GETs to ``upstream`` and applies the transport faults drawn from ``faults``."""

    data_path = ""

    def __init__(self, upstream: str, faults: FaultSpec, timeout: float = 60.0) -> None:
        refused = [name for name in DATA_FAULTS if faults.rates()[name]]
        if refused:
            raise ValueError(f"the fault proxy cannot inject {', '.join(refused)} (they change the source's data): "
                             "give them to the simulator (serve(..., faults=...)) instead")
        self.upstream, self.faults, self.timeout = upstream.rstrip("/"), faults, timeout
        self.requests = 0
        self.forwarded = 0
        self.fault_counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._rng = random.Random(faults.seed)

    @property
    def slow_delay(self) -> float:
        return self.faults.slow_delay

    @property
    def faults_injected(self) -> int:
        return sum(self.fault_counts.values())

    def handle(self, path: str, query: str, headers: Headers, host: str) -> Reply:
        with self.lock:
            self.requests += 1
            fault = self.faults.draw(self._rng)
            if fault is not None:
                self.fault_counts[fault] += 1
            status = self._rng.choice((500, 502, 503))
        if fault == "429":
            return _json_reply(429, {"error": "rate limited"}, {"Retry-After": str(self.faults.retry_after)})
        if fault == "5xx":
            return _json_reply(status, {"error": f"upstream unavailable ({status})"})
        reply = self._forward(path, query, headers, host)
        reply.transport = fault
        return reply

    def _forward(self, path: str, query: str, headers: Headers, host: str) -> Reply:
        sent = {name: value for name in PASSED_HEADERS if (value := headers.get(name)) is not None}
        request = urllib.request.Request(self.upstream + path + (f"?{query}" if query else ""),
                                         headers={**sent, "Host": host})
        with self.lock:
            self.forwarded += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return self._reply(answer.status, answer.read(), answer.headers)
        except urllib.error.HTTPError as answer:
            return self._reply(answer.code, answer.read(), answer.headers)

    @staticmethod
    def _reply(status: int, body: bytes, headers: Any) -> Reply:
        kept = {name: value for name in RETURNED_HEADERS if (value := headers.get(name)) is not None}
        return Reply(status, body, headers.get("Content-Type") or "application/octet-stream", kept)


def fault_proxy(upstream: str, faults: str | FaultSpec, port: int = 0) -> RunningServer[FaultProxy]:
    """Start a FaultProxy in front of ``upstream`` (e.g. ``http://127.0.0.1:8001``) on 127.0.0.1:``port``."""
    spec = FaultSpec.parse(faults) if isinstance(faults, str) else faults
    return serve_system(FaultProxy(upstream, spec), port, "proxy")


class JsonAnswers:
    """Answers every GET with ``answer(path, query)`` as JSON."""

    data_path = ""
    slow_delay = 0.0

    def __init__(self, answer: Callable[[str, str], object]) -> None:
        self.answer = answer
        self.requests = 0

    def handle(self, path: str, query: str, headers: Headers, host: str) -> Reply:
        self.requests += 1
        body = json.dumps(self.answer(path, query), ensure_ascii=False).encode("utf-8")
        return Reply(200, body)


def serve_json(answer: Callable[[str, str], object]) -> RunningServer[JsonAnswers]:
    """A loopback source answering ``answer(path, query)`` as JSON to every GET."""
    return serve_system(JsonAnswers(answer), 0, "json")
