"""The REST simulator of a provincial system: the source's own headers, API key auth, four paging styles."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

from sandbox.servers.faults import FaultSpec
from sandbox.servers.protocol import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Headers,
    Reply,
    _decode_cursor,
    _json_reply,
    _token_matches,
    _Window,
)
from sandbox.servers.source import _load_source, _Source
from sandbox.servers.system import SimulatedSystem
from sandbox.servers.values import _source_moment

STYLES = ("page", "offset", "cursor", "link")
AUTH_MODES = ("header", "query", "bearer", "basic")
MODIFIED_AT = "modified_at"


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

    def _authorized(self, headers: Headers, params: dict[str, list[str]]) -> bool:
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
