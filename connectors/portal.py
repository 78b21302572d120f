"""The national portal (Cổng trực tuyến Công đoàn Việt Nam): bearer token, incremental pulls.

``GET {base_url}/api/v1/initiatives?updated_since=&cursor=&limit=`` answers
``{"data": [...], "next_cursor": ...}`` ordered by (updated_at, id). A sync pages from the
watermark of the last completed sync; every page lands with the state that resumes
after it, so a killed sync continues where it stopped. Records seen twice (pages that
shift while records change) land once: the store dedupes by id and content hash.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from connectors.base import Batch, Connector, ConnectorError, ErrorType, batch_from_records
from connectors.http import HttpClient, RetryPolicy
from connectors.secrets import SecretRef, resolve
from schemas.fields import SourceMapping

# the portal's fields, mapped to the canonical record (PRODUCT.md, data contract v1)
PORTAL_COLUMNS = {
    "source_record_id": "id", "portal_id": "id", "title": "title", "authors": "authors", "unit": "workplace",
    "submitted_by": "submitted_by", "field": "field", "solution_type": "solution_type",
    "recognized_on": "recognized_on", "applied_on": "applied_on", "submitted_at": "submitted_at",
    "status": "status", "benefit_vnd": "benefit_vnd", "updated_at": "updated_at",
}
PATH = "/api/v1/initiatives"


class PortalSettings(BaseModel):
    """Settings of the national portal connector."""

    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl = Field(description="The portal's address, e.g. https://congdoan.vn")
    token: SecretRef = Field(description="Bearer token: env:VARIABLE or prefect-secret:block-name")
    page_size: int = Field(200, ge=1, le=500, description="Records per page.")
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for one answer.")
    attempts: int = Field(6, ge=1, le=20, description="Tries per request before the source is marked failed.")
    updated_since: str | None = Field(None, description="Where a first sync starts (ISO time); empty = everything.")


class PortalConnector(Connector):
    """Pulls recognized initiatives from the national portal, incrementally."""

    kind: ClassVar[str] = "portal"
    description: ClassVar[str] = "The national online portal (bearer token, incremental by updated_since)."
    Settings: ClassVar[type[BaseModel]] = PortalSettings
    settings: PortalSettings

    @classmethod
    def mapping_of(cls, settings: BaseModel) -> SourceMapping:
        return SourceMapping(columns=dict(PORTAL_COLUMNS), date_format="%Y-%m-%d", authors_separator=";")

    def _client(self, attempts: int | None = None) -> HttpClient:
        token = resolve(self.settings.token, "token")
        policy = RetryPolicy(attempts=attempts or self.settings.attempts, timeout=self.settings.timeout)
        return HttpClient({"Authorization": f"Bearer {token}", "Accept": "application/json"}, policy)

    def _url(self) -> str:
        return str(self.settings.base_url).rstrip("/") + PATH

    def check(self) -> str:
        body, _ = self._client(attempts=2).get_json(self._url(), {"limit": 1})
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ConnectorError(f"{self._url()} answered JSON without a 'data' list; is base_url the portal?",
                                 ErrorType.CONFIGURATION)
        return f"the portal answers at {self._url()} and accepts the token"

    def backfill_state(self, start: dt.date) -> dict[str, Any]:
        return {"updated_since": f"{start.isoformat()}T00:00:00"}

    def read(self, state: dict[str, Any]) -> Iterator[Batch]:
        client = self._client()
        since = state.get("updated_since", self.settings.updated_since)
        cursor = state.get("cursor")
        newest = state.get("newest_seen") or since
        page = 0
        while True:
            params = {"limit": self.settings.page_size, **({"updated_since": since} if since else {}),
                      **({"cursor": cursor} if cursor else {})}
            body, _ = client.get_json(self._url(), params)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise ConnectorError(f"{self._url()} answered an unexpected shape (no 'data' list)", ErrorType.SOURCE)
            records = body["data"]
            cursor = body.get("next_cursor")
            stamps = [str(r.get("updated_at")) for r in records if r.get("updated_at")]
            newest = max([newest or "", *stamps]) or None
            page += 1
            # mid-sync the state resumes at the cursor; at the end the watermark moves to the newest record
            next_state = ({"updated_since": since, "cursor": cursor, "newest_seen": newest} if cursor
                          else {"updated_since": newest, "cursor": None})
            yield batch_from_records(f"page {page}", records, next_state)
            if not cursor:
                return
