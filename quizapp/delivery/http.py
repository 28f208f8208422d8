"""Outbound HTTP for adapters: explicit timeouts, no redirects, every call noted, every failure classified.

| response                           | raised        | the worker then                                  |
|------------------------------------|---------------|--------------------------------------------------|
| 2xx (or a status the step expects) | nothing       | goes on                                          |
| network error, timeout, 5xx, 408   | Transient     | retries on the schedule                          |
| 3xx                                | Transient     | retries (redirects are never followed)           |
| 429, or 503 with a wait header     | Throttled     | waits at least that long, for every worker       |
| 401, 403                           | AuthFailed    | pauses the destination, tells the creator        |
| 410                                | Gone          | disables the destination                         |
| other 4xx                          | Permanent     | dead-letters the message with the response body  |
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

EXCERPT = 2000
USER_AGENT = "quizapp-delivery/1"


class DeliveryFailure(Exception):
    """A send that did not succeed. ``status_code``/``body`` come from the response when there was one."""

    def __init__(self, message: str, status_code: int | None = None, body: str | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class Transient(DeliveryFailure):
    pass


class Throttled(DeliveryFailure):
    def __init__(
        self, message: str, retry_after: float | None, status_code: int | None = None, body: str | None = None
    ):
        super().__init__(message, status_code, body)
        self.retry_after = retry_after


class AuthFailed(DeliveryFailure):
    pass


class Gone(DeliveryFailure):
    pass


class Permanent(DeliveryFailure):
    pass


class ConfigProblem(DeliveryFailure):
    """The destination cannot work as configured (a missing environment variable, a malformed secret):
    the destination is paused with this message until the creator fixes it."""


class Deferred(Exception):  # noqa: N818 - not an error: the row goes back to wait for a rate-limit slot
    def __init__(self, until: datetime):
        super().__init__(f"waiting for a rate-limit slot until {until.isoformat()}")
        self.until = until


@dataclass
class Call:
    method: str
    url: str
    step: str
    status_code: int | None
    duration_ms: int
    excerpt: str | None
    error: str | None = None


def excerpt(response: requests.Response) -> str:
    try:
        text = response.content[: EXCERPT * 4].decode(response.encoding or "utf-8", errors="replace")
    except LookupError:
        text = response.content[: EXCERPT * 4].decode("utf-8", errors="replace")
    return text[:EXCERPT]


def retry_after(response: requests.Response, reset_headers: Iterable[str] = ()) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date) or a platform's reset header (seconds to
    go, or a Unix time when the value is that large)."""
    value = response.headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, (when - datetime.now(UTC)).total_seconds())
    for name in reset_headers:
        value = response.headers.get(name)
        if not value:
            continue
        try:
            number = float(value.strip())
        except ValueError:
            continue
        if number > 1e9:  # a Unix time, not a duration
            number -= time.time()
        return max(0.0, number)
    return None


def classify(response: requests.Response, where: str, reset_headers: Iterable[str] = ()) -> DeliveryFailure:
    status = response.status_code
    body = excerpt(response)
    message = f"{status} from {where}: {body[:300]}".rstrip(": ")
    if status == 429 or status == 503:
        wait = retry_after(response, reset_headers)
        if status == 429 or wait is not None:
            return Throttled(message, wait, status, body)
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        return Transient(
            f"{status} redirect from {where} to {location!r} (redirects are not followed)", status, body
        )
    if status in (401, 403):
        return AuthFailed(message, status, body)
    if status == 410:
        return Gone(message, status, body)
    if 400 <= status < 500 and status != 408:
        return Permanent(message, status, body)
    return Transient(message, status, body)


class Http:
    """One adapter's calls during one attempt. ``before_call`` runs before each request (rate-limit slot,
    lease renewal); ``calls`` keeps what happened for the attempt record."""

    def __init__(
        self,
        session: requests.Session,
        *,
        timeout: float,
        before_call: Callable[[], None] | None = None,
        reset_headers: Iterable[str] = (),
    ):
        self.session = session
        self.timeout = timeout
        self.before_call = before_call
        self.reset_headers = tuple(reset_headers)
        self.calls: list[Call] = []

    def request(
        self, method: str, url: str, *, step: str, expect: Iterable[int] = (), **kwargs: Any
    ) -> requests.Response:
        """Send one request; return the response when it is 2xx or a status in ``expect``, else raise."""
        if self.before_call is not None:
            self.before_call()
        headers = {"User-Agent": USER_AGENT, **(kwargs.pop("headers", None) or {})}
        where = f"{method} {url}"
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                headers=headers,
                allow_redirects=False,
                timeout=(min(5.0, self.timeout), self.timeout),
                **kwargs,
            )
        except requests.Timeout as err:
            self._note(method, url, step, None, started, None, f"timed out after {self.timeout:g} s")
            raise Transient(f"{where}: timed out after {self.timeout:g} s") from err
        except requests.RequestException as err:
            self._note(method, url, step, None, started, None, f"network error: {err}")
            raise Transient(f"{where}: network error: {type(err).__name__}: {err}") from err
        text = excerpt(response)
        self._note(method, url, step, response.status_code, started, text, None)
        if 200 <= response.status_code < 300 or response.status_code in set(expect):
            return response
        raise classify(response, where, self.reset_headers)

    def _note(self, method, url, step, status, started, text, error) -> None:
        self.calls.append(
            Call(method, url, step, status, int((time.monotonic() - started) * 1000), text, error)
        )
