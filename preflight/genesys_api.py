"""A small Genesys Cloud API client: token exchange and GET with retry for `preflight doctor`, and the one
PUT of the identity resolution resource (components/identity_resolution.py).

The access token lives in this object only: it is never returned, logged or put in an exception
message, and `redact()` scrubs it (and the client secret) from any text before it is shown.
Network failures become `ApiError`s that say which kind they are (DNS, TLS, timeout, refused)
because each has a different fix.
"""

from __future__ import annotations

import email.utils
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

# 429 is retried honouring Retry-After; these gateway errors with a short backoff. Both bounded.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_ATTEMPTS = 4
MAX_RETRY_WAIT_SECONDS = 30.0
MAX_PAGES = 50
PAGE_SIZE = 100


class ApiError(Exception):
    """A request failed. `kind` is dns, tls, timeout, connect, http or invalid; `status` the HTTP status."""

    def __init__(self, kind: str, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.body = body

    @property
    def error_code(self) -> str:
        """The OAuth `error` or Genesys `code` field of an error body, if any."""
        if isinstance(self.body, dict):
            return str(self.body.get("error") or self.body.get("code") or "")
        return ""


@dataclass(frozen=True)
class TokenResult:
    """Outcome of a token exchange; never carries the token itself."""

    ok: bool
    login_url: str
    error: ApiError | None = None


def _network_error(error: httpx.HTTPError, url: str) -> ApiError:
    """Name the failure the way an operator fixes it: DNS, TLS, timeout or a refused connection."""
    host = httpx.URL(url).host
    if isinstance(error, httpx.TimeoutException):
        return ApiError("timeout", f"no answer from {host} within the timeout ({type(error).__name__})")
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return ApiError("dns", f"cannot resolve {host} (DNS: {cause.strerror or cause})")
        if isinstance(cause, ssl.SSLError):
            reason = getattr(cause, "reason", None) or type(cause).__name__
            return ApiError("tls", f"TLS handshake with {host} failed ({reason})")
        cause = cause.__cause__ or cause.__context__
    text = str(error)
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return ApiError("dns", f"cannot resolve {host} (DNS)")
    if "SSL" in text or "CERTIFICATE" in text.upper():
        return ApiError("tls", f"TLS handshake with {host} failed")
    return ApiError("connect", f"cannot connect to {host} ({type(error).__name__})")


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), or None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class GenesysApi:
    """Read-only calls against one org's API host with a client-credentials token held in memory."""

    def __init__(
        self,
        api_url: str,
        *,
        timeout: float,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._sleep = sleep
        self._http = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, transport=transport)
        self._token: str | None = None
        self._secrets: set[str] = set()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GenesysApi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def redact(self, text: str) -> str:
        """Text with every secret this client has seen replaced by ***."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request with bounded retries on 429 (honouring Retry-After) and gateway errors."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.HTTPError as error:
                raise _network_error(error, url) from None
            if response.status_code not in RETRY_STATUSES or attempt == MAX_ATTEMPTS:
                return response
            wait = retry_after_seconds(response)
            if wait is None:
                wait = 0.5 * 2 ** (attempt - 1)
            if wait > MAX_RETRY_WAIT_SECONDS:
                return response
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def exchange_token(self, login_url: str, client_id: str, client_secret: str) -> TokenResult:
        """Client-credentials grant at `{login_url}/oauth/token`; on success the token is kept here."""
        self._secrets.add(client_secret)
        url = login_url.rstrip("/") + "/oauth/token"
        try:
            response = self._send(
                "POST", url, data={"grant_type": "client_credentials"}, auth=(client_id, client_secret)
            )
        except ApiError as error:
            return TokenResult(False, login_url, error)
        body = _json_or_none(response)
        if response.status_code == 200 and isinstance(body, dict) and isinstance(body.get("access_token"), str):
            self._token = body["access_token"]
            self._secrets.add(self._token)
            return TokenResult(True, login_url)
        return TokenResult(False, login_url, self._http_error(response, body))

    def token_is_accepted(self, token: str) -> ApiError | None:
        """Whether the API host accepts a token someone else minted (None when it does)."""
        self._secrets.add(token)
        try:
            response = self._send("GET", self.api_url + "/api/v2/tokens/me", headers=self._bearer(token))
        except ApiError as error:
            return error
        return None if response.status_code == 200 else self._http_error(response, _json_or_none(response))

    @staticmethod
    def _bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def _http_error(self, response: httpx.Response, body: Any) -> ApiError:
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("error_description") or body.get("description") or body.get("message") or "")
        path = response.request.url.path
        message = f"{response.request.method} {path} -> {response.status_code}"
        message += f": {detail[:200]}" if detail else ""
        return ApiError("http", self.redact(message), status=response.status_code, body=body)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET an API path with the token; the decoded JSON body or an ApiError."""
        if self._token is None:
            raise ApiError("invalid", "no access token: the token exchange has not succeeded")
        response = self._send("GET", self.api_url + path, params=params, headers=self._bearer(self._token))
        body = _json_or_none(response)
        if response.status_code != 200:
            raise self._http_error(response, body)
        if body is None:
            raise ApiError("invalid", f"GET {path} returned a body that is not JSON")
        return body

    def get_all(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every entity of a paged listing (`entities`, `pageNumber`, `pageCount`), bounded to MAX_PAGES."""
        for page in range(1, MAX_PAGES + 1):
            body = self.get(path, {**(params or {}), "pageSize": PAGE_SIZE, "pageNumber": page})
            yield from (body.get("entities") or []) if isinstance(body, dict) else []
            if not isinstance(body, dict) or page >= int(body.get("pageCount") or 1):
                return

    def get_public_json(self, url: str) -> Any:
        """GET a public document (an IdP discovery document) without any Genesys credential."""
        response = self._send("GET", url)
        body = _json_or_none(response)
        if response.status_code != 200:
            raise ApiError("http", f"GET {url} -> {response.status_code}", status=response.status_code, body=body)
        if body is None:
            raise ApiError("invalid", f"GET {url} returned a body that is not JSON")
        return body

    def put(self, path: str, body: dict[str, Any]) -> Any:
        """PUT a JSON body with the token (the identity resolution resource's only write); JSON back or ApiError."""
        if self._token is None:
            raise ApiError("invalid", "no access token: the token exchange has not succeeded")
        response = self._send("PUT", self.api_url + path, json=body, headers=self._bearer(self._token))
        answer = _json_or_none(response)
        if response.status_code not in (200, 201):
            raise self._http_error(response, answer)
        return answer
