"""The national portal: bearer token, keyset cursor, English keys (see the ``sandbox.servers`` docstring)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

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
from sandbox.servers.values import _iso_date, _source_moment, _vn_number


class PortalServer(SimulatedSystem):
    """The national portal: bearer token, keyset cursor, English keys (see the ``sandbox.servers`` docstring)."""

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

    def _authorized(self, headers: Headers, params: dict[str, list[str]]) -> bool:
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
