"""What one exchange is made of: page windows, bad parameters, replies, keyset cursors, token checks."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 500


class Headers(Protocol):
    """A request's headers as the systems read them: http.server's Message, or a plain mapping."""

    def get(self, name: str, /) -> str | None: ...


class Answering(Protocol):
    """What a loopback server serves: a simulated system, the fault proxy, or a test's little JSON source."""

    @property
    def data_path(self) -> str: ...

    @property
    def slow_delay(self) -> float: ...

    def handle(self, path: str, query: str, headers: Headers, host: str) -> Reply: ...


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


def _token_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
