"""A provincial or sector system's REST API, configured declaratively (no code per province).

Settings say where the API is, how to authenticate (bearer, API key in a header or the
query, basic), how it pages (page number, offset, cursor in the body, Link header),
where the records sit in the answer, which record field maps to which canonical field,
and which field is the change time used to pull only what changed.
"""
from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, HttpUrl, model_validator

from connectors.base import Batch, Connector, ConnectorError, ErrorType, MappedSourceSettings, batch_from_records
from connectors.http import HttpClient, RetryPolicy
from connectors.paginators import PAGINATORS, dig
from connectors.secrets import SecretRef, resolve


class RestSettings(MappedSourceSettings):
    """Settings of a REST source."""

    base_url: HttpUrl = Field(description="The system's address, e.g. https://sangkien.hanoi.gov.vn")
    path: str = Field("/api/records", description="Path of the records endpoint.")
    auth: Literal["none", "bearer", "api_key_header", "api_key_query", "basic"] = Field(
        "api_key_header", description="How to authenticate.")
    token: SecretRef | None = Field(None, description="Token, API key, or 'user:password' for basic: env:VAR or "
                                                      "prefect-secret:block")
    api_key_name: str = Field("X-API-Key", description="Header or query parameter carrying the API key.")
    pagination: Literal["none", "page", "offset", "cursor", "link"] = Field("page", description="Paging style.")
    page_size: int = Field(100, ge=1, le=10_000, description="Records asked for per page.")
    page_param: str = Field("page", description="page / link: the page number parameter.")
    page_size_param: str = Field("page_size", description="page / link: the page size parameter.")
    offset_param: str = Field("offset", description="offset: the offset parameter.")
    limit_param: str = Field("limit", description="offset / cursor: the page size parameter.")
    cursor_param: str = Field("cursor", description="cursor: the parameter carrying the cursor.")
    next_cursor_path: str = Field("next", description="cursor: dotted path of the next cursor in the answer.")
    records_path: str = Field("", description="Dotted path of the record list in the answer ('' = the answer).")
    incremental_param: str | None = Field(None, description="Parameter asking for records changed since a time.")
    change_field: str | None = Field(None, description="Record field holding its change time (the watermark).")
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for one answer.")
    attempts: int = Field(6, ge=1, le=20, description="Tries per request before the source is marked failed.")

    @model_validator(mode="after")
    def _needs_token(self) -> RestSettings:
        if self.auth != "none" and not self.token:
            raise ValueError(f"auth {self.auth} needs a token (env:VAR or prefect-secret:block)")
        if bool(self.incremental_param) != bool(self.change_field):
            raise ValueError("incremental_param and change_field go together (or neither)")
        return self


class RestConnector(Connector):
    """Reads records page by page; each page lands with the state that resumes after it."""

    kind: ClassVar[str] = "rest"
    description: ClassVar[str] = "A provincial or sector system's REST API, configured declaratively."
    Settings: ClassVar[type[BaseModel]] = RestSettings
    settings: RestSettings

    def _client(self, attempts: int | None = None) -> tuple[HttpClient, dict[str, str]]:
        s = self.settings
        headers, query = {"Accept": "application/json"}, {}
        secret = resolve(s.token, "token") if s.token else ""
        if s.auth == "bearer":
            headers["Authorization"] = f"Bearer {secret}"
        elif s.auth == "api_key_header":
            headers[s.api_key_name] = secret
        elif s.auth == "api_key_query":
            query[s.api_key_name] = secret
        elif s.auth == "basic":
            user_password = secret if ":" in secret else f"api:{secret}"
            headers["Authorization"] = "Basic " + base64.b64encode(user_password.encode()).decode()
        policy = RetryPolicy(attempts=attempts or s.attempts, timeout=s.timeout)
        return HttpClient(headers, policy), query

    def _url(self) -> str:
        return str(self.settings.base_url).rstrip("/") + "/" + self.settings.path.lstrip("/")

    def _records(self, body: Any) -> list[dict[str, Any]]:
        records = dig(body, self.settings.records_path)
        if not isinstance(records, list):
            where = f"at '{self.settings.records_path}'" if self.settings.records_path else "as the answer"
            raise ConnectorError(f"{self._url()}: no list of records {where}; check records_path",
                                 ErrorType.CONFIGURATION)
        return records

    def check(self) -> str:
        client, query = self._client(attempts=2)
        paginator = PAGINATORS[self.settings.pagination](self.settings.page_size, **self._names())
        body, _ = client.get_json(self._url(), {**paginator.first(), **query})
        records = self._records(body)
        missing = sorted({v for v in self.columns.values()} - set(records[0])) if records else []
        if missing:
            raise ConnectorError(f"records have no field(s) {', '.join(map(repr, missing))}; "
                                 f"they have {', '.join(map(repr, records[0]))}", ErrorType.CONFIGURATION)
        return f"{self._url()} answers with records" + (" carrying every mapped field" if records else " (none yet)")

    def discover(self, rows: int) -> Iterator[Batch]:
        """The first page, every field of its records (no mapped field is required)."""
        client, query = self._client(attempts=2)
        paginator = PAGINATORS[self.settings.pagination](min(self.settings.page_size, rows), **self._names())
        body, _ = client.get_json(self._url(), {**paginator.first(), **query})
        yield batch_from_records("page 1", self._records(body)[:rows], {})

    def _names(self) -> dict[str, str]:
        s = self.settings
        return {"page_param": s.page_param, "page_size_param": s.page_size_param, "offset_param": s.offset_param,
                "limit_param": s.limit_param, "cursor_param": s.cursor_param, "next_cursor_path": s.next_cursor_path}

    @property
    def clock_column(self) -> str | None:
        return self.settings.change_field or super().clock_column

    def backfill_state(self, start: dt.date) -> dict[str, Any]:
        return {"since": f"{start.isoformat()}T00:00:00"} if self.settings.incremental_param else {}

    def read(self, state: dict[str, Any]) -> Iterator[Batch]:
        s = self.settings
        client, query = self._client()
        paginator = PAGINATORS[s.pagination](s.page_size, **self._names())
        since = state.get("since")
        params = state.get("next") or {**paginator.first(), **({s.incremental_param: since} if since else {})}
        newest = state.get("newest") or since
        page = int(state.get("page", 0))
        id_field = self.columns["source_record_id"]
        while params is not None:
            url = params.get("__url__")  # a Link header's next URL, followed as given
            request = {} if url else params
            body, response = client.get_json(url or self._url(), {**request, **query})
            records = self._records(body)
            page += 1
            if s.change_field:
                stamps = [str(r[s.change_field]) for r in records if r.get(s.change_field)]
                newest = max([newest or "", *stamps]) or None
            following = paginator.next(request, body, response, len(records))
            next_state = ({"since": since, "next": following, "newest": newest, "page": page} if following
                          else {"since": newest if s.change_field else None})
            yield batch_from_records(f"page {page}", records, next_state, id_field)
            params = following
