"""Paginators for declaratively configured REST sources (after dlt's rest_client).

Each paginator turns the answer to one request into the request for the next page, or
None at the end. Positional styles advance by what they asked for (page + 1, offset +
limit), never by what came back, so a page that repeats records never skips any.
"""
from __future__ import annotations

from typing import Any

import requests


def dig(body: Any, path: str) -> Any:
    """The value at a dotted ``path`` in a JSON body ("" is the body itself); None if absent."""
    for part in filter(None, path.split(".")):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


class Paginator:
    """Base: a single request, no further pages."""

    def __init__(self, page_size: int, **names: str):
        self.page_size = page_size
        self.names = names

    def first(self) -> dict[str, Any]:
        """Parameters of the first page."""
        return {}

    def next(self, params: dict[str, Any], body: Any, response: requests.Response, count: int) -> dict[str, Any] | None:
        """Parameters of the page after ``params``, or None when there is none."""
        return None


class PageNumberPaginator(Paginator):
    def first(self) -> dict[str, Any]:
        return {self.names["page_param"]: 1, self.names["page_size_param"]: self.page_size}

    def next(self, params: dict[str, Any], body: Any, response: requests.Response,
             count: int) -> dict[str, Any] | None:
        total = dig(body, self.names.get("total_pages_path", "total_pages"))
        page = int(params[self.names["page_param"]])
        if (isinstance(total, int) and page >= total) or (total is None and count == 0):
            return None
        return {**params, self.names["page_param"]: page + 1}


class OffsetPaginator(Paginator):
    def first(self) -> dict[str, Any]:
        return {self.names["offset_param"]: 0, self.names["limit_param"]: self.page_size}

    def next(self, params: dict[str, Any], body: Any, response: requests.Response,
             count: int) -> dict[str, Any] | None:
        offset = int(params[self.names["offset_param"]]) + self.page_size
        total = dig(body, self.names.get("total_path", "total"))
        if (isinstance(total, int) and offset >= total) or (total is None and count == 0):
            return None
        return {**params, self.names["offset_param"]: offset}


class CursorPaginator(Paginator):
    def first(self) -> dict[str, Any]:
        return {self.names["limit_param"]: self.page_size}

    def next(self, params: dict[str, Any], body: Any, response: requests.Response,
             count: int) -> dict[str, Any] | None:
        cursor = dig(body, self.names["next_cursor_path"])
        return {**params, self.names["cursor_param"]: cursor} if cursor else None


class LinkHeaderPaginator(Paginator):
    """Follows ``Link: <url>; rel="next"``; the next request is that URL as given."""

    def first(self) -> dict[str, Any]:
        return {self.names["page_param"]: 1, self.names["page_size_param"]: self.page_size}

    def next(self, params: dict[str, Any], body: Any, response: requests.Response,
             count: int) -> dict[str, Any] | None:
        url = response.links.get("next", {}).get("url")
        return {"__url__": url} if url else None


PAGINATORS: dict[str, type[Paginator]] = {
    "none": Paginator, "page": PageNumberPaginator, "offset": OffsetPaginator, "cursor": CursorPaginator,
    "link": LinkHeaderPaginator,
}
