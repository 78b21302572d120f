"""Simulated source systems: real HTTP servers on loopback serving a generated world, with faults.

``serve(kind, world, ...)`` starts, in a background thread, a standard-library
``ThreadingHTTPServer`` on 127.0.0.1 that serves the records of one source of a world
written by :func:`sandbox.generate.generate_world`. The same records (same ids, same
content) as the world's file export are served, so ``truth.csv`` checks what a
connector landed. ``python -m sandbox.servers portal|rest --world DIR`` runs one in the
foreground.

Common to both servers
======================
* ``GET /`` answers 200 with a small HTML page (not JSON); any other path than the data
  endpoint answers 404 ``{"error": "not found: /path"}``; methods other than GET: 501.
* Checks run in this order, before any fault: path (404), credentials (401), query
  parameters (400 ``{"error": "bad parameter NAME: why"}``; an unknown or repeated
  parameter is a 400 naming it too). Faults only hit authorized, well-formed requests to
  the data endpoint, so a wrong token or path is always a clean 401/404.
* Times are UTC ``"YYYY-MM-DDTHH:MM:SSZ"`` (whole seconds). A time parameter
  (``updated_since``, ``modified_after``) accepts ISO 8601 with ``Z``, an offset
  (``+07:00``; an unencoded ``+`` read as a space is tolerated), no zone (taken as UTC) or
  a bare date; fractions of a second are dropped. **It is inclusive**: records with a
  modification time ``>=`` it are served. A client that resumes from the last time it
  saw gets that record (and its ties) again and dedupes by id.
* Records are ordered by (modification time, id) ascending. A changed record gets the
  time ``max(now, newest time held + 1 s)``, so changes are strictly increasing and a
  changed record always moves to the end of the order (these times may run a few
  seconds ahead of the clock when many records change at once: use the server's
  times, never the client's clock, as the watermark).
* Page sizes: default 100, 1..500, else 400.

Portal (``kind="portal"``): the national portal
------------------------------------------------
``GET /api/v1/initiatives?updated_since=<time>&cursor=<opaque>&limit=<n>`` with
``Authorization: Bearer <token>`` (else 401 ``{"error": "invalid token"}`` and
``WWW-Authenticate: Bearer``). All parameters are optional.

200 ``{"data": [record, ...], "next_cursor": "<opaque>" | null}``. The cursor is keyset:
it names the last record of the page, and the next page holds the records after it in
(updated_at, id) order (and ``>= updated_since`` when given, so send both or only the
cursor). ``next_cursor`` is null when no record followed the page when it was served.
A record ::

    {"id": "SK0007919", "title": "...", "authors": ["Lưu Kim Xuân", "Nguyễn Tiến Phúc"],
     "workplace": "Công đoàn cơ sở Bệnh viện Đa khoa Quận 4", "submitted_by": "Lưu Kim Xuân",
     "field": "Y tế", "solution_type": "Giải pháp quản lý", "recognized_on": "2021-09-07",
     "applied_on": "2021-09-07", "submitted_at": "2021-10-03", "status": "Hợp lệ",
     "benefit_vnd": 641213000, "updated_at": "2021-12-18T08:47:51Z"}

Built from the world's ``portal`` source (``sources/portal.yaml`` and its files): ``id``
is the ``portal_id`` column (the portal's own id, "SK…") when the source maps one and the
row has it, else the ``source_record_id`` column. ``truth.csv`` names portal rows by the
export's ``source_record_id`` ("ID" column, e.g. "1000001"): ``system.truth_id(id)``
maps one served id to it and ``system.truth_ids()`` gives the set for every record held.
Dates are re-written as ``YYYY-MM-DD`` (kept as typed when they do not parse);
``benefit_vnd`` is a number (Vietnamese separators read) or null when empty; labels are
the Vietnamese ones of the export ("Hợp lệ", "Chờ duyệt", "Không hợp lệ").

REST simulator (``kind="rest"``): a provincial system
-----------------------------------------------------
Serves one world source (``source``, default ``"hanoi"``). Each record is a JSON object
whose keys are the source's own column headers as mapped in ``sources/<source>.yaml``
(e.g. ``"Số hồ sơ"``, ``"Tên giải pháp"``, ``"Tình trạng"``), values the strings of the
export (NFC, dates in the source's ``date_format``, numbers as typed), except:

* the id field is the header mapped to ``source_record_id`` (hanoi: ``"Số hồ sơ"``);
  ``system.id_field`` names it; ids equal ``truth.csv``'s ``source_record_id``;
* the modification time field is the header mapped to ``updated_at`` when the source has
  one (hanoi: ``"Ngày cập nhật"``), else an added ``"modified_at"``; ``system.modified_field``
  names it; its value is always UTC ``"YYYY-MM-DDTHH:MM:SSZ"`` (a source without one, or a
  value that does not parse, gets ``2023-09-30T00:00:00Z``, dates at midnight).

Auth (``auth=``): ``"header"`` (default) ``X-API-Key: <token>``; ``"query"``
``?api_key=<token>``; ``"bearer"`` ``Authorization: Bearer <token>``; ``"basic"``
``Authorization: Basic`` of ``user:password`` where the token is ``"user:password"`` (a
token without a colon means user ``api``). Otherwise 401 ``{"error": "invalid API key"}``.

``GET /api/records?modified_after=<time>`` plus, by ``style`` (fixed at start; the other
styles' parameters are a 400):

* ``page``:   ``page=1..`` ``page_size=`` → ``{"items": [...], "page": n, "total_pages": N}``
  (a page past the end is empty; ``total_pages`` is 0 when nothing matches);
* ``offset``: ``offset=0..`` ``limit=`` → ``{"results": [...], "total": T}``;
* ``cursor``: ``cursor=`` ``limit=`` → ``{"data": {"records": [...]}, "next": "<cursor>" | null}``
  (records nested under ``data.records``; keyset cursor as on the portal);
* ``link``:   ``page=1..`` ``page_size=`` → a bare JSON array, with
  ``Link: <http://HOST/api/records?...&page=n+1>; rel="next"`` while pages remain (the
  URL repeats the request's parameters except credentials: send the key on every request).

Positional clients (``page``, ``offset``, ``link``) must advance by what they asked for
(page + 1, offset + limit), never by the number of records received: a ``shift`` fault
returns longer pages (see below).

Faults
======
``FaultSpec.parse("5xx=0.05,429=0.05,slow=0.02,truncated=0.03,drop=0.02,shift=0.02,update=0.01")``;
also ``retry_after=1`` (whole seconds), ``slow_delay=3`` (seconds), ``seed=0``. Rates add up
to at most 1: one seeded draw per eligible request picks at most one fault.

* ``5xx``: 500 (JSON), 502 or 503 (HTML, as a proxy sends) instead of the answer.
* ``429``: 429 ``{"error": "rate limited"}`` with ``Retry-After: <retry_after>``.
* ``slow``: the full, correct answer after ``slow_delay`` seconds (past a client timeout).
* ``truncated``: 200 whose body is the first half of the answer, with a Content-Length
  that matches it: the HTTP exchange succeeds, the JSON does not parse.
* ``drop``: headers with the full Content-Length, half the body, then the socket is
  closed. ``requests`` raises ``requests.exceptions.ChunkedEncodingError``
  ("Connection broken: IncompleteRead"), **not** ``ConnectionError``: retry both.
* ``shift``: the page starts 1..size-1 records early, repeating the tail of the previous
  page, as when records moved during the sync. Keyset styles (portal, ``cursor``) return
  ``size`` records and the cursor after the last; positional styles (``page``,
  ``offset``, ``link``) still end where the page should, so the page holds up to
  ``size - 1`` extra records. No record is skipped; dedupe by id.
* ``update``: before answering, one record changes (as ``change_records``) and moves to
  the end of the order. Keyset styles pick any record (one already served comes again
  later in the sync); positional styles pick one at or after the requested page's start,
  so no other record slides back into a page already served.

No fault loses or corrupts stored data: a client that retries transient errors (5xx,
429, timeouts, broken connections, unparsable bodies) and dedupes by id gets every record.

Counters (on ``system``, i.e. ``RunningServer.system``): ``requests`` (every request),
``path_counts`` (per path), ``fault_counts`` (per fault injected), ``records_served``
(records put into 200 answers, truncated or dropped ones included).
``RunningServer`` has ``url`` (``http://127.0.0.1:PORT``), ``endpoint`` (url + data path),
``system`` and ``stop()`` (also on leaving a ``with`` block; it cuts slow answers short).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import json
import math
import random
import re
import signal
import socket
import socketserver
import sys
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

import pandas as pd
import yaml

from connectors.tabular import FileFormatError, read_table
from sandbox.generate import fold_text, strip_diacritics

__all__ = ["FaultSpec", "PortalServer", "RestServer", "RunningServer", "SimulatedSystem", "build_system", "main",
           "serve"]

KINDS = ("portal", "rest")
STYLES = ("page", "offset", "cursor", "link")
AUTH_MODES = ("header", "query", "bearer", "basic")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 500
DEFAULT_MODIFIED = "2023-09-30T00:00:00Z"  # for sources that keep no modification time
MODIFIED_AT = "modified_at"
EDIT_MARK = " (đã chỉnh sửa)"
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_PENDING_TO_VALID = {"cho duyet": "Hợp lệ", "dang xet duyet": "Đã duyệt"}
_TRANSPORT_FAULTS = frozenset({"slow", "truncated", "drop"})


# --------------------------------------------------------------------------- faults


@dataclass
class FaultSpec:
    """Fault rates (fractions of eligible requests, each in [0, 1], summing to at most 1) and settings."""

    server_error: float = 0.0   # "5xx"
    rate_limited: float = 0.0   # "429"
    slow: float = 0.0
    truncated: float = 0.0
    drop: float = 0.0
    shift: float = 0.0
    update: float = 0.0
    retry_after: int = 1        # seconds, sent in Retry-After
    slow_delay: float = 3.0     # seconds a slow answer waits
    seed: int = 0               # seeds the per-request draw

    NAMES: ClassVar[dict[str, str]] = {
        "5xx": "server_error", "429": "rate_limited", "slow": "slow", "truncated": "truncated",
        "drop": "drop", "shift": "shift", "update": "update",
    }
    SETTINGS: ClassVar[tuple[str, ...]] = ("retry_after", "slow_delay", "seed")

    def __post_init__(self) -> None:
        for name, attr in self.NAMES.items():
            rate = getattr(self, attr)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {name}={rate} is outside [0, 1]")
        if self.total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {self.total:g}; at most 1 (one fault per request)")
        if self.retry_after < 0 or self.slow_delay < 0 or self.seed < 0:
            raise ValueError("retry_after, slow_delay and seed must not be negative")

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Read ``"5xx=0.05,429=0.05,...,retry_after=1,slow_delay=3,seed=0"``; "" or "none" means no faults.

        Raises ValueError with a one-line message naming the bad item.
        """
        values: dict[str, float | int] = {}
        text = text.strip()
        if text.lower() in ("", "none"):
            return cls()
        for item in (part.strip() for part in text.split(",")):
            key, value = cls._parse_item(item)
            if key in values:
                raise ValueError(f"fault item {item!r}: given twice")
            values[key] = value
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def _parse_item(cls, item: str) -> tuple[str, float | int]:
        known = ", ".join([*cls.NAMES, *cls.SETTINGS])
        name, sep, raw = item.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise ValueError(f"fault item {item!r}: expected name=value (names: {known})")
        if name not in cls.NAMES and name not in cls.SETTINGS:
            raise ValueError(f"fault item {item!r}: unknown name {name!r} (names: {known})")
        try:
            value = float(raw) if name not in ("retry_after", "seed") else int(raw)
        except ValueError:
            kind = "a whole number" if name in ("retry_after", "seed") else "a number"
            raise ValueError(f"fault item {item!r}: {raw.strip()!r} is not {kind}") from None
        if name in cls.NAMES and not 0.0 <= value <= 1.0:
            raise ValueError(f"fault item {item!r}: a rate must be between 0 and 1")
        if value < 0:
            raise ValueError(f"fault item {item!r}: must not be negative")
        return cls.NAMES.get(name, name), value

    @property
    def total(self) -> float:
        """The share of eligible requests that get some fault."""
        return sum(getattr(self, attr) for attr in self.NAMES.values())

    def rates(self) -> dict[str, float]:
        """Fault name ("5xx", "429", ...) -> rate."""
        return {name: getattr(self, attr) for name, attr in self.NAMES.items()}

    def draw(self, rng: random.Random) -> str | None:
        """Pick this request's fault name, or None, with one uniform draw from ``rng``."""
        if self.total <= 0:
            return None
        u, edge = rng.random(), 0.0
        for name, rate in self.rates().items():
            edge += rate
            if u < edge:
                return name
        return None

    def __str__(self) -> str:
        parts = [f"{name}={rate:g}" for name, rate in self.rates().items() if rate]
        defaults = {f.name: f.default for f in fields(self)}
        parts += [f"{name}={getattr(self, name):g}" for name in self.SETTINGS if getattr(self, name) != defaults[name]]
        return ",".join(parts) or "none"


# --------------------------------------------------------------------------- time and values


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(_ISO_FORMAT)


def _parse_moment(text: str) -> datetime:
    """ISO 8601 (Z, offset, naive = UTC, bare date) -> aware UTC datetime; ValueError if it is none of these."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if " " not in text.strip():
            raise
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))  # an unencoded "+07:00"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _source_moment(text: str, date_format: str) -> str:
    """A source's modification time (ISO-like, or a date in its format) as UTC ISO; DEFAULT_MODIFIED if neither."""
    text = text.strip()
    if not text:
        return DEFAULT_MODIFIED
    try:
        return _iso(_parse_moment(text))
    except ValueError:
        pass
    try:
        return _iso(datetime.strptime(text, date_format).replace(tzinfo=timezone.utc))
    except ValueError:
        return DEFAULT_MODIFIED


def _iso_date(text: str, date_format: str) -> str:
    """A date in the source's format as YYYY-MM-DD; kept as typed when it does not parse."""
    try:
        return datetime.strptime(text.strip(), date_format).date().isoformat()
    except ValueError:
        return text


def _vn_number(text: str) -> int | float | str | None:
    """"1.500.000" / "2.500,5" / "1500000" -> number; "" -> None; anything else kept as typed."""
    raw = text.strip().replace(" ", "")
    if not raw:
        return None
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", raw):
        raw = raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d+,\d+", raw):
        raw = raw.replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def _approved(label: str) -> str | None:
    """The valid label matching a pending status label, in the same style; None if it is not pending."""
    new = _PENDING_TO_VALID.get(fold_text(label))
    if new is None:
        return None
    if label == strip_diacritics(label):
        new = strip_diacritics(new)
    if label.isupper():
        return new.upper()
    return new.lower() if label == label.lower() else new


def _edited(title: str) -> str:
    """Toggle a visible edit mark on a title, so repeated edits stay bounded."""
    return title[: -len(EDIT_MARK)] if title.endswith(EDIT_MARK) else title + EDIT_MARK


def _encode_cursor(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _decode_cursor(text: str) -> tuple[str, str]:
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        value = None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise _BadParam("cursor", "not a cursor this server issued")
    return value[0], value[1]


# --------------------------------------------------------------------------- loading a world source


@dataclass(frozen=True)
class _Source:
    """One world source: its YAML settings, canonical field -> header, and rows of strings."""

    name: str
    date_format: str
    authors_separator: str
    columns: dict[str, str]
    rows: list[dict[str, str]]


def _load_source(world: Path, name: str) -> _Source:
    """Read ``sources/<name>.yaml`` and its files with the tabular reader; ValueError if absent or malformed."""
    config_path = Path(world) / "sources" / f"{name}.yaml"
    if not config_path.is_file():
        raise ValueError(f"no source {name!r} in world {world}: {config_path} not found")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    columns = {k: unicodedata.normalize("NFC", str(v)) for k, v in (config.get("columns") or {}).items()}
    if "source_record_id" not in columns:
        raise ValueError(f"{config_path}: columns has no source_record_id")
    folder = config_path.parent / str(config.get("path", name))
    files = sorted(folder.glob(str(config.get("pattern", "*"))))
    if not files:
        raise ValueError(f"source {name!r}: no files match {config.get('pattern')!r} in {folder}")
    date_format = str(config.get("date_format", "%d/%m/%Y"))
    frames = [_read_frame(path, config, columns, date_format) for path in files]
    rows = pd.concat(frames, ignore_index=True).to_dict("records")
    return _Source(name, date_format, str(config.get("authors_separator", ";")), columns, rows)


def _read_frame(path: Path, config: Mapping[str, Any], columns: Mapping[str, str], date_format: str) -> pd.DataFrame:
    """The mapped columns of one export file (rows the reader cannot split are left out)."""
    try:
        table = read_table(path, encoding=str(config.get("encoding", "auto")),
                           delimiter=str(config.get("delimiter", "auto")), date_format=date_format)
    except FileFormatError as exc:
        raise ValueError(str(exc)) from None
    headers = list(dict.fromkeys(columns.values()))
    missing = [h for h in headers if h not in table.frame.columns]
    if missing:
        raise ValueError(f"{path.name}: column(s) {', '.join(missing)} not in the file")
    return table.frame[headers]


# --------------------------------------------------------------------------- the systems


class _BadParam(Exception):
    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"bad parameter {name}: {why}")


@dataclass
class Reply:
    """What to send: status, JSON/HTML body, extra headers, and a transport fault to apply while sending."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    transport: str | None = None  # "slow", "truncated" or "drop"


def _json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Reply(status, body, headers=headers or {})


def _html_reply(status: int, title: str, text: str) -> Reply:
    page = f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
    return Reply(status, page.encode("utf-8"), "text/html; charset=utf-8")


@dataclass(frozen=True)
class _Window:
    """One page request: where it starts (absolute index), how many, and whether it is keyset-paged."""

    since: str | None
    size: int
    offset: int = 0               # positional: records to skip after the since boundary
    cursor: tuple[str, str] | None = None
    keyset: bool = False


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
        if approved is not None:
            record[self._status_field] = approved  # type: ignore[index]
        elif self._title_field and isinstance(record.get(self._title_field), str):
            record[self._title_field] = _edited(record[self._title_field])
        stamp = self._next_stamp()
        del self._keys[bisect_left(self._keys, (record[self.modified_field], record_id))]
        record[self.modified_field] = stamp
        self._keys.append((stamp, record_id))

    def _next_stamp(self) -> str:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        if self._keys:
            now = max(now, _parse_moment(self._keys[-1][0]) + timedelta(seconds=1))
        return _iso(now)

    def _change_random(self, lowest: int) -> None:
        """The ``update`` fault: change one record at index >= ``lowest`` of the order (none if there is none)."""
        if lowest < len(self._keys):
            self._change(self._keys[self._rng.randrange(lowest, len(self._keys))][1])

    # ----- serving

    def handle(self, path: str, query: str, headers: Mapping[str, str], host: str) -> Reply:
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

    def _authorized(self, headers: Mapping[str, str], params: dict[str, list[str]]) -> bool:
        raise NotImplementedError

    def _unauthorized(self) -> Reply:
        raise NotImplementedError

    def _window(self, params: dict[str, str]) -> _Window:
        raise NotImplementedError

    def _page_reply(self, window: _Window, records: list[dict[str, Any]], end: int, host: str,
                    params: Mapping[str, list[str]]) -> Reply:
        raise NotImplementedError


def _token_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class PortalServer(SimulatedSystem):
    """The national portal: bearer token, keyset cursor, English keys (see the module docstring)."""

    data_path: ClassVar[str] = "/api/v1/initiatives"
    title: ClassVar[str] = "Cổng trực tuyến Công đoàn Việt Nam (mô phỏng)"
    PARAMS: ClassVar[tuple[str, ...]] = ("updated_since", "cursor", "limit")

    def __init__(self, source: _Source, faults: FaultSpec | None = None, token: str = "demo-token") -> None:
        records, self._truth = _portal_records(source)
        super().__init__(records, id_field="id", modified_field="updated_at", status_field="status",
                         title_field="title", faults=faults, token=token)

    @classmethod
    def from_world(cls, world: Path, faults: FaultSpec | None = None, token: str = "demo-token",
                   source: str = "portal") -> PortalServer:
        """The portal serving ``world``'s ``source`` (default: its portal export)."""
        return cls(_load_source(world, source), faults, token)

    def truth_id(self, record_id: str) -> str:
        """The export's source_record_id ("ID" column) of the record served as ``record_id``."""
        return self._truth[record_id]

    def _authorized(self, headers: Mapping[str, str], params: dict[str, list[str]]) -> bool:
        scheme, _, credentials = (headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and _token_matches(credentials.strip(), self.token)

    def _unauthorized(self) -> Reply:
        return _json_reply(401, {"error": "invalid token"}, {"WWW-Authenticate": 'Bearer realm="portal"'})

    def _window(self, params: dict[str, str]) -> _Window:
        self._check_names(params, self.PARAMS)
        cursor = _decode_cursor(params["cursor"]) if params.get("cursor") else None
        size = self._int_param(params, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        return _Window(self._time_param(params, "updated_since"), size, cursor=cursor, keyset=True)

    def _page_reply(self, window: _Window, records: list[dict[str, Any]], end: int, host: str,
                    params: Mapping[str, list[str]]) -> Reply:
        return _json_reply(200, {"data": records, "next_cursor": self._next_cursor(records, end)})


def _portal_records(source: _Source) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Portal-shaped records from a source's rows, and served id -> truth source_record_id."""
    records, truth = [], {}
    for row in source.rows:
        values = {name: row[header] for name, header in source.columns.items()}
        record = _portal_record(values, source)
        truth[record["id"]] = values["source_record_id"]
        records.append(record)
    return records, truth


def _portal_record(values: Mapping[str, str], source: _Source) -> dict[str, Any]:
    """One portal record from a row's canonical field -> text (absent fields are null)."""
    def day(name: str) -> str | None:
        text = values.get(name)
        return _iso_date(text, source.date_format) if text else None
    authors = [a.strip() for a in values.get("authors", "").split(source.authors_separator) if a.strip()]
    return {
        "id": values.get("portal_id") or values["source_record_id"], "title": values.get("title"),
        "authors": authors, "workplace": values.get("unit"), "submitted_by": values.get("submitted_by"),
        "field": values.get("field"), "solution_type": values.get("solution_type"),
        "recognized_on": day("recognized_on"), "applied_on": day("applied_on"), "submitted_at": day("submitted_at"),
        "status": values.get("status"), "benefit_vnd": _vn_number(values.get("benefit_vnd", "")),
        "updated_at": _source_moment(values.get("updated_at", ""), source.date_format),
    }


class RestServer(SimulatedSystem):
    """A provincial system: the source's own headers as keys, API key auth, one pagination style."""

    data_path: ClassVar[str] = "/api/records"
    title: ClassVar[str] = "Hệ thống quản lý sáng kiến (mô phỏng)"
    PARAMS: ClassVar[dict[str, tuple[str, ...]]] = {
        "page": ("modified_after", "page", "page_size"), "offset": ("modified_after", "offset", "limit"),
        "cursor": ("modified_after", "cursor", "limit"), "link": ("modified_after", "page", "page_size"),
    }

    def __init__(self, source: _Source, style: str = "page", faults: FaultSpec | None = None,
                 token: str = "demo-token", auth: str = "header") -> None:
        if style not in STYLES:
            raise ValueError(f"unknown pagination style {style!r}; one of {', '.join(STYLES)}")
        if auth not in AUTH_MODES:
            raise ValueError(f"unknown auth {auth!r}; one of {', '.join(AUTH_MODES)}")
        self.style, self.auth, self.source = style, auth, source.name
        cols = source.columns
        modified = cols.get("updated_at", MODIFIED_AT)
        records = [_rest_record(row, cols, modified, source.date_format) for row in source.rows]
        super().__init__(records, id_field=cols["source_record_id"], modified_field=modified,
                         status_field=cols.get("status"), title_field=cols.get("title"), faults=faults, token=token)

    @classmethod
    def from_world(cls, world: Path, source: str = "hanoi", style: str = "page", faults: FaultSpec | None = None,
                   token: str = "demo-token", auth: str = "header") -> RestServer:
        """The REST simulator serving ``world``'s ``source``."""
        return cls(_load_source(world, source), style, faults, token, auth)

    def _authorized(self, headers: Mapping[str, str], params: dict[str, list[str]]) -> bool:
        if self.auth == "query":
            return _token_matches((params.pop("api_key", None) or [""])[0], self.token)
        if self.auth == "header":
            return _token_matches(headers.get("X-API-Key") or "", self.token)
        scheme, _, credentials = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != self.auth:
            return False
        return _token_matches(credentials.strip(), self._basic() if self.auth == "basic" else self.token)

    def _basic(self) -> str:
        pair = self.token if ":" in self.token else f"api:{self.token}"
        return base64.b64encode(pair.encode("utf-8")).decode()

    def _unauthorized(self) -> Reply:
        return _json_reply(401, {"error": "invalid API key"})

    def _window(self, params: dict[str, str]) -> _Window:
        self._check_names(params, self.PARAMS[self.style])
        since = self._time_param(params, "modified_after")
        if self.style == "cursor":
            cursor = _decode_cursor(params["cursor"]) if params.get("cursor") else None
            return _Window(since, self._int_param(params, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
                           cursor=cursor, keyset=True)
        if self.style == "offset":
            size = self._int_param(params, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
            return _Window(since, size, offset=self._int_param(params, "offset", 0, 0, None))
        size = self._int_param(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        page = self._int_param(params, "page", 1, 1, None)
        return _Window(since, size, offset=(page - 1) * size)

    def _page_reply(self, window: _Window, records: list[dict[str, Any]], end: int, host: str,
                    params: Mapping[str, list[str]]) -> Reply:
        total = len(self._keys) - self._since_index(window.since)
        if self.style == "offset":
            return _json_reply(200, {"results": records, "total": total})
        if self.style == "cursor":
            return _json_reply(200, {"data": {"records": records}, "next": self._next_cursor(records, end)})
        page = window.offset // window.size + 1
        pages = math.ceil(total / window.size)
        if self.style == "page":
            return _json_reply(200, {"items": records, "page": page, "total_pages": pages})
        headers = {"Link": self._link(host, params, page + 1)} if page < pages else {}
        return _json_reply(200, records, headers)

    def _link(self, host: str, params: Mapping[str, list[str]], page: int) -> str:
        query = {name: values[0] for name, values in params.items()} | {"page": str(page)}
        return f'<http://{host}{self.data_path}?{urlencode(query)}>; rel="next"'


def _rest_record(row: Mapping[str, str], cols: Mapping[str, str], modified: str, date_format: str) -> dict[str, Any]:
    record: dict[str, Any] = {header: row[header] for header in dict.fromkeys(cols.values())}
    record[modified] = _source_moment(record.get(modified, ""), date_format)
    return record


# --------------------------------------------------------------------------- HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    """Turns one HTTP request into ``system.handle`` and sends the reply, applying transport faults."""

    protocol_version = "HTTP/1.1"
    server_version = "sangkien-sandbox/1"
    timeout = 60  # idle keep-alive connections close after this many seconds
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body: no Nagle wait
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        reply = self.server.system.handle(url.path, url.query, self.headers, host)
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, reply: Reply) -> None:
        if reply.transport == "slow" and self.server.stopping.wait(self.server.system.faults.slow_delay):
            self.close_connection = True
            return
        body = reply.body
        if reply.transport == "truncated":
            body = body[: len(body) // 2]
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if reply.transport == "drop":
            self.wfile.write(body[: len(body) // 2])
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, system: SimulatedSystem, verbose: bool = False) -> None:
        self.system, self.verbose = system, verbose
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skip HTTPServer's reverse DNS lookup
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        """Shut down open client connections, so handler threads waiting on keep-alive end."""
        with self._connections_lock:
            for connection in list(self._connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client went away: expected with timeouts and faults
        super().handle_error(request, client_address)


@dataclass
class RunningServer:
    """A simulator serving in a background thread; ``stop()`` (or leaving the ``with`` block) ends it."""

    url: str
    system: SimulatedSystem
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

    def __enter__(self) -> RunningServer:
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
          verbose: bool = False) -> RunningServer:
    """Start a simulator on 127.0.0.1:``port`` (0: any free port) in a background thread.

    ``kind`` is "portal" (serves ``source`` or the world's portal export) or "rest" (serves
    ``source``, default "hanoi", paged by ``style`` and authenticated by ``auth``). ``faults``
    is a spec string or a FaultSpec. Raises ValueError for a bad argument or world, OSError
    when the port is taken.
    """
    system = build_system(kind, world, faults, token, style, source, auth)
    server = _Server(port, system, verbose)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"sandbox-{kind}", daemon=True)
    thread.start()
    return RunningServer(f"http://127.0.0.1:{server.server_address[1]}", system, server, thread)


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox.servers",
                                     description="Serve a simulated world over HTTP on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("kind", choices=KINDS, help="portal: the national portal; rest: a provincial system")
    parser.add_argument("--world", type=Path, required=True, help="a folder written by `sangkien sandbox generate`")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    parser.add_argument("--faults", default="", help='e.g. "5xx=0.05,429=0.05,slow=0.02,truncated=0.03,'
                                                     'drop=0.02,shift=0.02,update=0.01,retry_after=1,slow_delay=3"')
    parser.add_argument("--token", default="demo-token", help="the bearer token / API key clients must send")
    parser.add_argument("--style", choices=STYLES, default="page", help="rest: pagination style (default page)")
    parser.add_argument("--source", default=None, help="world source to serve (default: portal / hanoi)")
    parser.add_argument("--auth", choices=AUTH_MODES, default="header", help="rest: how the key is sent")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one simulator in the foreground until Ctrl-C or SIGTERM, printing its URL first.

    Returns 0 on a clean stop, 2 (one line on stderr) for a bad argument, world or port.
    """
    args = _parser().parse_args(argv)
    try:
        running = serve(args.kind, args.world, args.port, args.faults, args.token, args.style, args.source,
                        auth=args.auth, verbose=args.verbose)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    system = running.system
    print(f"{args.kind} simulator at {running.url} (GET {system.data_path}): {len(system)} records, "
          f"faults: {system.faults}; Ctrl-C to stop", flush=True)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
