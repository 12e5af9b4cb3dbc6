"""Requests of `migrate`: the doctor's guarded client (components/genesys_api.py) with a migration's retry policy.

Every request goes through GenesysApi's single-request path, so it keeps the doctor's guards: the URL check
(https, plain http only to loopback, no user info, one host for every parser), no redirect followed, a
wall-clock limit per request, bodies read up to MAX_BODY_BYTES, secrets redacted from every message.

What differs is the patience. The doctor gives up after a few short waits; a migration of a million rows must
outlast a 429 storm. Here a `Throttle`, shared by every worker, spaces requests to the configured rate, and a
429 pauses every worker until its Retry-After has passed (Genesys answers 429 with Retry-After when a client
goes over its rate limit; Sunshine asks for "429 retry logic using exponential backoff and jitter",
sunshine-conversations-api-spec openapi.yaml, "Rate Limits"). A 5xx or a timeout is retried only for a call
that changes nothing (a lookup); a write whose outcome is unknown is left to the caller, which looks it up.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from components.genesys_api import ApiError, GenesysApi, retry_after_seconds, segment, url_problem

C = TypeVar("C", bound=GenesysApi)
MAX_ATTEMPTS = 8
"""Tries of one call after a timeout, a refused connection or a 5xx (idempotent calls only)."""
MAX_THROTTLED = 100
MAX_THROTTLED_SECONDS = 900.0
"""A 429 is not a failure but a request to wait: one call waits out up to this many 429s and this long in all."""
MAX_RETRY_AFTER_SECONDS = 120.0
"""A longer Retry-After is not a rate limit but an outage: the call fails and the journal keeps the row."""
BACKOFF_SECONDS = 0.5
SERVER_ERRORS = frozenset({500, 502, 503, 504})
RETRYABLE_KINDS = frozenset({"timeout", "connect"})


def scrub(text: str, private: tuple[str, ...]) -> str:
    """Text without the customer values given, whole or as a path segment."""
    for value in sorted((v for v in private if v), key=len, reverse=True):
        text = text.replace(value, "<customer>").replace(segment(value), "<customer>")
    return text


class Throttle:
    """At most `rate` requests per second across threads, and a shared pause after a 429."""

    def __init__(
        self, rate: float, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._next = 0.0
        self.paused_until = 0.0
        self.throttled = 0
        """429 answers seen (a count for the report)."""

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next, self.paused_until)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self.throttled += 1
            self.paused_until = max(self.paused_until, self._clock() + seconds)


class PerThread(Generic[C]):
    """One client per worker thread, made on first use: GenesysApi arms one watchdog per request, and a watchdog
    that fires shuts every socket of its client, so one client must never carry two threads' requests."""

    def __init__(self, make: Callable[[], C]) -> None:
        self._make = make
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[C] = []

    def here(self) -> C:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._make()
            self._local.client = client
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()


class MigrationClient(GenesysApi):
    """GenesysApi's guarded single request, retried for a migration (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        throttle: Throttle,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, timeout=timeout, sleep=sleep, **kwargs)
        self.throttle = throttle

    def call(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        auth: Any = None,
        headers: dict[str, str] | None = None,
        private: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> tuple[int, Any]:
        """(status, decoded JSON body or None) of the last attempt; ApiError when no answer came or a redirect did.

        `private` are customer values the request carries (an id in the path or body): no error message names
        them, whatever the server echoed."""
        try:
            return self._call(method, path, idempotent, auth, headers, kwargs)
        except ApiError as error:
            raise ApiError(error.kind, scrub(self.redact(str(error)), private), status=error.status) from None

    def _call(
        self,
        method: str,
        path: str,
        idempotent: bool,
        auth: Any,
        headers: dict[str, str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[int, Any]:
        url = self._api_url(path)
        if (problem := url_problem(url)) is not None:
            raise ApiError("invalid", f"refusing {method} {path.split('?')[0]}: the URL {problem}")
        if headers:
            kwargs["headers"] = headers
        attempt, throttled, waited = 1, 0, 0.0
        while True:
            self.throttle.wait()
            try:
                answer = self._once(method, url, auth, kwargs)
            except ApiError as error:
                if idempotent and error.kind in RETRYABLE_KINDS and attempt < MAX_ATTEMPTS:
                    self._sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise ApiError(error.kind, self.redact(str(error)), status=error.status) from None
            status = answer.status
            if 300 <= status < 400:
                raise self._http_error(answer, None)
            if status == 429 and throttled < MAX_THROTTLED:
                asked = retry_after_seconds(answer.response)
                wait = self._backoff(min(throttled + 1, 6)) if asked is None else asked
                if wait > MAX_RETRY_AFTER_SECONDS or waited + wait > MAX_THROTTLED_SECONDS:
                    raise self._http_error(answer, answer.json())
                self.throttle.pause(wait)
                throttled, waited = throttled + 1, waited + wait
                continue
            if status in SERVER_ERRORS and idempotent and attempt < MAX_ATTEMPTS:
                self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            return status, answer.json()

    def failure(self, method: str, path: str, status: int, body: Any, private: tuple[str, ...] = ()) -> ApiError:
        """An ApiError for an answer the caller did not expect, its detail redacted and cut as the doctor's are,
        and no customer value of `private` in it (the path or the echoed detail)."""
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("message") or body.get("description") or body.get("error_description") or "")
            errors = body.get("errors")
            if not detail and isinstance(errors, list) and errors and isinstance(errors[0], dict):
                detail = str(errors[0].get("title") or errors[0].get("code") or "")  # Sunshine's errorResponse
        detail = self.redact(detail)[:200]
        message = f"{method} {path.split('?')[0]} -> {status}" + (f": {detail}" if detail else "")
        return ApiError("http", scrub(message, private), status=status, body=body)

    @staticmethod
    def _backoff(attempt: int) -> float:
        return BACKOFF_SECONDS * 2 ** (attempt - 1) * (0.5 + random.random() / 2)
