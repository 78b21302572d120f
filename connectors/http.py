"""One HTTP client for every HTTP connector: timeouts, bounded retries, typed errors, redaction.

* 5xx, 429 (honouring ``Retry-After``), timeouts, dropped connections and replies that
  are not valid JSON are *transient*: retried with exponential backoff and jitter
  (tenacity), a bounded number of times.
* 401/403 (credentials), 404 (path) and other 4xx are *configuration* errors: no retry.
* Every message is one line and passes through ``secrets.redact``.
"""
from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any

import requests
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from connectors.base import ConnectorError, ErrorType
from connectors.secrets import redact


class TransientError(ConnectorError):
    """Worth retrying: the source is overloaded, slow or flaky."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message, ErrorType.TRANSIENT)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 30.0
    timeout: float = 30.0


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def _describe_connection_error(url: str, exc: Exception) -> str:
    text = str(exc)
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return f"cannot resolve the host of {url}; check base_url"
    if "Connection refused" in text:
        return f"nothing answers at {url} (connection refused); check the host and port in base_url"
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in type(exc).__name__:
        return f"TLS certificate of {url} is not trusted; check base_url (https) or the server's certificate"
    return f"connection to {url} failed: {type(exc).__name__}"


class HttpClient:
    """GETs JSON with the retry policy; one ``requests.Session`` per connector run."""

    def __init__(self, headers: dict[str, str] | None = None, policy: RetryPolicy | None = None):
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.policy = policy or RetryPolicy()
        self.requests = 0

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> tuple[Any, requests.Response]:
        """The decoded JSON body and the response, after retries; raises ConnectorError."""
        return self._with_retries(lambda: self._once(url, params))

    def post_json(self, url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[Any, requests.Response]:
        """POST ``body`` (JSON bytes); the decoded reply and the response, after retries; raises ConnectorError.

        Retrying is safe only for an idempotent endpoint: the caller sends an idempotency key."""
        return self._with_retries(lambda: self._once(url, None, body=body, headers=headers))

    def _with_retries(self, call: Any) -> tuple[Any, requests.Response]:
        policy = self.policy

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            backoff = wait_exponential_jitter(initial=policy.initial_wait, max=policy.max_wait)(state)
            if isinstance(exc, TransientError) and exc.retry_after is not None:
                return min(max(exc.retry_after, 0.0), policy.max_wait)
            return backoff

        @retry(retry=retry_if_exception(lambda e: isinstance(e, TransientError)), wait=wait,
               stop=stop_after_attempt(policy.attempts), reraise=True)
        def attempt() -> tuple[Any, requests.Response]:
            return call()

        return attempt()

    def _once(self, url: str, params: dict[str, Any] | None, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[Any, requests.Response]:
        self.requests += 1
        try:
            if body is None:
                response = self.session.get(url, params=params, timeout=self.policy.timeout)
            else:
                response = self.session.post(url, data=body, headers={"Content-Type": "application/json",
                                                                      **(headers or {})},
                                             timeout=self.policy.timeout)
            content = response.content  # reads the whole body: a drop mid-body raises here
        except requests.Timeout:
            raise TransientError(redact(f"{url} did not answer within {self.policy.timeout:g} s")) from None
        except requests.ConnectionError as exc:
            message = _describe_connection_error(url, exc)
            if "cannot resolve" in message or "TLS" in message:  # a refused port may be a system down for the night
                raise ConnectorError(redact(message), ErrorType.CONFIGURATION) from None
            raise TransientError(redact(message)) from None
        except requests.RequestException as exc:
            raise TransientError(redact(f"{url}: {type(exc).__name__}")) from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientError(redact(f"{url} answered {status}"),
                                 _retry_after_seconds(response.headers.get("Retry-After")))
        if status in (401, 403):
            raise ConnectorError(redact(f"{url} refused the credentials ({status}); check the token or key setting"),
                                 ErrorType.CONFIGURATION)
        if status == 404:
            raise ConnectorError(redact(f"{url} does not exist (404); check base_url and the path"),
                                 ErrorType.CONFIGURATION)
        if status >= 400:
            raise ConnectorError(redact(f"{url} rejected the request ({status}): {_detail(content)}"),
                                 ErrorType.CONFIGURATION)
        try:
            return json.loads(content), response
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown type")
            raise TransientError(redact(f"{url} answered {status} with a body that is not valid JSON ({kind}, "
                                        f"{len(content)} bytes)")) from None


def _detail(content: bytes) -> str:
    """A server's error body in one line: FastAPI's ``detail`` when there is one."""
    try:
        detail = json.loads(content).get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):  # validation errors: name the fields
        detail = "; ".join(f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" for d in detail[:5]
                           if isinstance(d, dict))
    text = str(detail) if detail else content[:200].decode("utf-8", "replace")
    return " ".join(text.split())[:300]
