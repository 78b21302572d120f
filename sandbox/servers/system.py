"""SimulatedSystem: records ordered by (modification time, id) behind one endpoint, with faults."""

from __future__ import annotations

import random
import threading
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs

from sandbox.servers.faults import FaultSpec
from sandbox.servers.protocol import Headers, Reply, _BadParam, _encode_cursor, _html_reply, _json_reply, _Window
from sandbox.servers.values import _approved, _edited, _iso, _parse_moment

_TRANSPORT_FAULTS = frozenset({"slow", "truncated", "drop"})


class SimulatedSystem:
    """Records with a stable id and a UTC modification time, ordered by (time, id), behind one HTTP endpoint.

    Subclasses say which path serves data, how clients authenticate, which parameters
    they take and how a page looks. All state changes happen under ``lock``.
    """

    data_path: ClassVar[str] = "/"
    title: ClassVar[str] = "Simulated system"

    def __init__(self, records: list[dict[str, Any]], *, id_field: str, modified_field: str,
                 status_field: str | None, title_field: str | None,
                 faults: FaultSpec | None = None, token: str = "demo-token") -> None:
        self.id_field, self.modified_field = id_field, modified_field
        self._status_field, self._title_field = status_field, title_field
        self.faults = faults or FaultSpec()
        self.token = token
        self.lock = threading.RLock()
        self._rng = random.Random(self.faults.seed)
        self._records: dict[str, dict[str, Any]] = {}
        for record in records:
            if record[id_field] in self._records:
                raise ValueError(f"record id {record[id_field]!r} appears twice")
            self._records[record[id_field]] = record
        self._keys = sorted((r[modified_field], r[id_field]) for r in records)
        self.requests = 0
        self.path_counts: Counter[str] = Counter()
        self.fault_counts: Counter[str] = Counter()
        self.records_served = 0

    # ----- reading the data

    def __len__(self) -> int:
        return len(self._records)

    @property
    def slow_delay(self) -> float:
        """Seconds a "slow" answer waits (the transport reads it)."""
        return self.faults.slow_delay

    def ids(self) -> set[str]:
        """The ids of every record held (what a full sync must end with)."""
        with self.lock:
            return set(self._records)

    def truth_id(self, record_id: str) -> str:
        """``truth.csv``'s source_record_id of a served record (the same id unless a subclass says otherwise)."""
        return record_id

    def truth_ids(self) -> set[str]:
        """``truth.csv``'s source_record_id of every record held."""
        return {self.truth_id(i) for i in self.ids()}

    def records(self) -> list[dict[str, Any]]:
        """Copies of every record, in serving order."""
        with self.lock:
            return [dict(self._records[i]) for _, i in self._keys]

    def record(self, record_id: str) -> dict[str, Any]:
        """A copy of one record (KeyError if absent)."""
        with self.lock:
            return dict(self._records[record_id])

    # ----- changing the data

    def change_records(self, fraction: float, seed: int = 0) -> list[str]:
        """Change ``fraction`` of the records (at least one when > 0), chosen by ``seed``; return their ids.

        A pending status becomes valid, otherwise the title gets (or loses) an edit mark;
        either way the record's modification time becomes the newest, in the order of the list.
        """
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be between 0 and 1; got {fraction}")
        with self.lock:
            count = round(fraction * len(self._records))
            count = max(count, 1) if fraction > 0 and self._records else count
            chosen = random.Random(seed).sample(sorted(self._records), count)
            for record_id in chosen:
                self._change(record_id)
        return chosen

    def _change(self, record_id: str) -> None:
        record = self._records[record_id]
        label = record.get(self._status_field) if self._status_field else None
        approved = _approved(label) if isinstance(label, str) else None
        if approved is not None and self._status_field:
            record[self._status_field] = approved
        elif self._title_field and isinstance(record.get(self._title_field), str):
            record[self._title_field] = _edited(record[self._title_field])
        stamp = self._next_stamp()
        del self._keys[bisect_left(self._keys, (record[self.modified_field], record_id))]
        record[self.modified_field] = stamp
        self._keys.append((stamp, record_id))

    def _next_stamp(self) -> str:
        now = datetime.now(UTC).replace(microsecond=0)
        if self._keys:
            now = max(now, _parse_moment(self._keys[-1][0]) + timedelta(seconds=1))
        return _iso(now)

    def _change_random(self, lowest: int) -> None:
        """The ``update`` fault: change one record at index >= ``lowest`` of the order (none if there is none)."""
        if lowest < len(self._keys):
            self._change(self._keys[self._rng.randrange(lowest, len(self._keys))][1])

    # ----- serving

    def handle(self, path: str, query: str, headers: Headers, host: str) -> Reply:
        """Answer one GET: 404/401/400 checks, then a fault drawn at the configured rates, then the page."""
        with self.lock:
            self.requests += 1
            self.path_counts[path] += 1
        if path == "/":
            return _html_reply(200, self.title, f"API: GET {self.data_path}")
        if path != self.data_path:
            return _json_reply(404, {"error": f"not found: {path}"})
        params = parse_qs(query, keep_blank_values=True)
        if not self._authorized(headers, params):
            return self._unauthorized()
        try:
            window = self._window(self._single_values(params))
        except _BadParam as exc:
            return _json_reply(400, {"error": str(exc)})
        with self.lock:
            return self._answer_with_fault(window, host, params)

    def _answer_with_fault(self, window: _Window, host: str, params: Mapping[str, list[str]]) -> Reply:
        fault = self.faults.draw(self._rng)
        if fault is not None:
            self.fault_counts[fault] += 1
        if fault in ("5xx", "429"):
            return self._error_reply(fault)
        start = self._start(window)
        if fault == "update":
            self._change_random(0 if window.keyset else start)
            start = self._start(window)
        end = min(start + window.size, len(self._keys))
        if fault == "shift" and window.size > 1:
            start = max(self._since_index(window.since), start - self._rng.randint(1, window.size - 1))
            end = min(start + window.size, len(self._keys)) if window.keyset else end
        records = [self._records[i] for _, i in self._keys[start:end]]
        self.records_served += len(records)
        reply = self._page_reply(window, records, end, host, params)
        reply.transport = fault if fault in _TRANSPORT_FAULTS else None
        return reply

    def _error_reply(self, fault: str) -> Reply:
        if fault == "429":
            return _json_reply(429, {"error": "rate limited"}, {"Retry-After": str(self.faults.retry_after)})
        status = self._rng.choice((500, 502, 503))
        if status == 500:
            return _json_reply(500, {"error": "internal server error"})
        reason = "Bad Gateway" if status == 502 else "Service Temporarily Unavailable"
        return _html_reply(status, f"{status} {reason}", "nginx")

    def _since_index(self, since: str | None) -> int:
        return bisect_left(self._keys, (since, "")) if since else 0

    def _start(self, window: _Window) -> int:
        """Absolute index of the page's first record (before any shift)."""
        start = self._since_index(window.since)
        if window.keyset:
            return max(start, bisect_right(self._keys, window.cursor)) if window.cursor else start
        return min(start + window.offset, len(self._keys))

    def _next_cursor(self, records: list[dict[str, Any]], end: int) -> str | None:
        if not records or end >= len(self._keys):
            return None
        last = records[-1]
        return _encode_cursor((last[self.modified_field], last[self.id_field]))

    # ----- parameters

    @staticmethod
    def _single_values(params: Mapping[str, list[str]]) -> dict[str, str]:
        for name, values in params.items():
            if len(values) > 1:
                raise _BadParam(name, "given more than once")
        return {name: values[0] for name, values in params.items()}

    def _check_names(self, params: Mapping[str, str], allowed: Sequence[str]) -> None:
        for name in params:
            if name not in allowed:
                raise _BadParam(name, f"unknown (this endpoint takes {', '.join(allowed)})")

    @staticmethod
    def _int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
        raw = params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if value < low or (high is not None and value > high):
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            raise _BadParam(name, f"{raw!r} is not a whole number {bounds}")
        return value

    @staticmethod
    def _time_param(params: Mapping[str, str], name: str) -> str | None:
        raw = params.get(name)
        if raw is None or raw == "":
            return None
        try:
            return _iso(_parse_moment(raw))
        except ValueError:
            raise _BadParam(name, f"{raw!r} is not an ISO 8601 time such as 2023-01-02T03:04:05Z") from None

    # ----- hooks

    def _authorized(self, headers: Headers, params: dict[str, list[str]]) -> bool:
        raise NotImplementedError

    def _unauthorized(self) -> Reply:
        raise NotImplementedError

    def _window(self, params: dict[str, str]) -> _Window:
        raise NotImplementedError

    def _page_reply(self, window: _Window, records: list[dict[str, Any]], end: int, host: str,
                    params: Mapping[str, list[str]]) -> Reply:
        raise NotImplementedError
