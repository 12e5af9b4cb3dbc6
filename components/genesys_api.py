"""A small Genesys Cloud API client: token exchange and GET with retry for `preflight doctor`, and the one
PUT of the identity resolution resource (components/identity_resolution.py).

The access token lives in this object only: it is never returned, logged or put in an exception
message. Of an error body only the status, a known code and a known message are shown (`error_detail`,
components/api_errors.json): a host that quotes credentials back can do so in any encoding, so nothing it
writes is shown unless recognised; `redact()` still scrubs the secrets from any text, belt and braces.
Credentials go only to URLs `url_problem()` accepts, and never follow a redirect.
Every request has a wall-clock limit (httpx's timeouts bound each read, so a server trickling a byte at a
time could otherwise hold it for as long as it likes), the whole run can have a `Deadline`, and a body is
read up to MAX_BODY_BYTES. Failures become `ApiError`s that say which kind they are (DNS, TLS, timeout,
refused, redirect, ...) because each has a different fix.
"""

from __future__ import annotations

import base64
import email.utils
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

# 429 is retried honouring Retry-After; these gateway errors with a short backoff. Both bounded: a wait
# longer than MAX_RETRY_WAIT_SECONDS, or one that would pass the run's deadline, gives up instead.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_ATTEMPTS = 4
MAX_RETRY_WAIT_SECONDS = 10.0
MAX_PAGES = 50
PAGE_SIZE = 100
MAX_BODY_BYTES = 5 * 1024 * 1024
"""No Genesys answer the doctor reads comes near this; a bigger one is not the API (and not read into memory)."""
MAX_LISTING_BYTES = 16 * 1024 * 1024
"""The bodies of one listing's pages, all together: 50 pages of 5 MiB kept 4.2 GB (issue 25). A full page of 100
objects of a few KiB each is well under 1 MiB, so the stack's listings stay far below this."""
MIN_SECRET_PREFIX = 6
"""A secret's prefix this long at the end of a text (a truncated echo) is redacted too."""

# Genesys error codes that mean "this token", not "this permission" (a 401 always does).
TOKEN_ERROR_CODES = frozenset(
    {"bad.credentials", "token.expired", "token.invalid", "invalid.token", "invalid_token", "authentication.required"}
)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost."})
_UNSAFE_URL_CHARS = re.compile(r"[\s\\\x00-\x1f\x7f]")


class ApiError(Exception):
    """A request failed. `kind` is one of dns, tls, timeout, connect, http, redirect, invalid, shape, too-large,
    deadline (the run's deadline cut this call) or out-of-time (not sent: the deadline had already passed and was
    reported); `status` the HTTP status."""

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

    @property
    def token_rejected(self) -> bool:
        """Whether the API refused the token itself (invalid, expired, unknown), not one permission."""
        if self.kind != "http" or self.status not in (401, 403):
            return False
        if self.status == 401 or self.error_code.lower() in TOKEN_ERROR_CODES:
            return True
        message = str(self.body.get("message") or "").lower() if isinstance(self.body, dict) else ""
        return "token" in message and ("invalid" in message or "expired" in message)


@dataclass(frozen=True)
class TokenResult:
    """Outcome of a token exchange; never carries the token itself."""

    ok: bool
    login_url: str
    error: ApiError | None = None


class Deadline:
    """The whole run's time budget (--deadline), shared by every client of the run; retry waits count against it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.reported = False
        """Set once a call has been refused for lack of time: the first refusal is the problem, later ones skips."""

    def remaining(self) -> float:
        return self.at - time.monotonic()


# --- URLs --------------------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: the only hosts credentials may reach over plain http (test servers)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why credentials must not be sent to `url` (None when they may): not https (plain http only to a loopback
    host), user info before the host, characters parsers read differently, or two parsers disagreeing on the host."""
    if _UNSAFE_URL_CHARS.search(url):
        return "contains whitespace, a backslash or a control character"
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
        parsed = httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return "must be an https URL"
    if "@" in parts.netloc or parsed.userinfo:
        # http://127.0.0.1:80@evil.example is evil.example with user "127.0.0.1" and password "80".
        return f"must not carry user info ('user:password@' before the host; the host here is {host!r})"
    if not host:
        return "has no host"
    if not host.isascii() or any(label.startswith("xn--") for label in host.lower().split(".")):
        # An internationalised name can look like another host ('xn--80ak6aa92e.com' shows as Cyrillic letters
        # spelling 'apple.com'), and decoding a malformed one raises (idna.IDNAError): no Genesys or test host has one.
        return "must name its host in ASCII, without an internationalised (xn-- or non-ASCII) label"
    if parsed.host.lower() != host.lower():
        return f"names its host ambiguously ({host!r} or {parsed.host!r})"
    if scheme == "http" and not is_loopback(host):
        return "must be an https URL (plain http only to localhost: 127.0.0.0/8, ::1, for tests)"
    return None


def checked_url(name: str, value: str) -> str:
    """A base URL from an option or a setting, or ValueError saying why credentials must not go there."""
    problem = url_problem(value)
    if problem is None:
        parts = urlsplit(value)
        problem = "must not have a ?query or #fragment" if parts.query or parts.fragment else None
    if problem is not None:
        shown = f"{value!r} " if "@" not in value else ""  # user info may be a password: do not echo it
        raise ValueError(f"{name} {shown}{problem}")
    return value.rstrip("/")


def segment(value: Any) -> str:
    """An id from an answer (or the environment) as one path segment: '/', '?', '#', '..' and controls cannot
    change which path or host a request goes to."""
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if text in (".", "..") else text


def _path(url: str) -> str:
    try:
        return httpx.URL(url).path or "/"
    except httpx.InvalidURL:
        return "?"


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


# --- errors and bodies --------------------------------------------------------------------------------


def _network_error(error: httpx.HTTPError, url: str) -> ApiError:
    """Name the failure the way an operator fixes it: DNS, TLS or a refused connection (timeouts: `_overtime`)."""
    host = _host(url)
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
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is unreadable
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@cache
def _known_errors() -> tuple[frozenset[str], frozenset[str]]:
    """(codes, messages) an error body may show: components/api_errors.json, read once."""
    table = json.loads(Path(__file__).with_name("api_errors.json").read_text())
    codes = frozenset(c.casefold() for c in (*table["oauthCodes"], *table["genesysCodes"]))
    return codes, frozenset(m.casefold() for m in table["messages"])


def recognised_code(body: Any) -> str:
    """The OAuth `error` or Genesys `code` of an error body when it is a known one (api_errors.json), else ''.
    A code is text the server chose: an unknown one may be a credential quoted back, so it is not shown."""
    if not isinstance(body, dict):
        return ""
    for field in ("error", "code"):
        value = body.get(field)
        if isinstance(value, str) and value.casefold() in _known_errors()[0]:
            return value.casefold()
    return ""


def recognised_message(body: Any) -> str:
    """The message of an error body (a Genesys `message`, an OAuth `error_description`, or a text body) when it is
    exactly a known one, else ''. Never a part of one: whatever else a server writes there is withheld."""
    texts = [body] if isinstance(body, str) else []
    if isinstance(body, dict):
        texts = [body.get(f) for f in ("message", "error_description", "description")]
    known = _known_errors()[1]
    return next((t.strip() for t in texts if isinstance(t, str) and t.strip().casefold() in known), "")


def error_detail(body: Any) -> str:
    """What an error body may add to its status: the known code and message, and whether anything was withheld."""
    code, message = recognised_code(body), recognised_message(body)
    parts = [code] if code else []
    parts += [f"'{message}'"] if message else []
    if _withheld(body, {code, message.casefold()}):
        parts.append("(the rest of the answer is not shown: only known codes and messages are)")
    return " ".join(parts)


def _withheld(body: Any, shown: set[str]) -> bool:
    if isinstance(body, str):
        return body.strip().casefold() not in shown
    if not isinstance(body, dict):
        return bool(body)
    values = [v for k, v in body.items() if k != "status" and v not in (None, "", [], {})]
    return any(not isinstance(v, str) or v.strip().casefold() not in shown for v in values)


def _shape(value: Any) -> str:
    return "null" if value is None else type(value).__name__.replace("dict", "object").replace("str", "string")


@dataclass
class Answer:
    """A response with its body read (bounded); `note` says why a retry was given up, if one was."""

    response: httpx.Response
    content: bytes
    note: str = ""

    @property
    def status(self) -> int:
        return self.response.status_code

    def json(self) -> Any:
        """The decoded JSON body, or None when it is not JSON (or nested deeper than the parser goes)."""
        try:
            return json.loads(self.content)
        except (ValueError, RecursionError):
            return None


class _Overtime(Exception):
    """The request outlived its wall-clock limit."""


class _Watchdog:
    """Shuts down the client's sockets when a request outlives its limit, so a blocked read returns at once.

    The sockets come from httpcore's documented `trace` extension (connection.connect_tcp / start_tls .complete).
    A TLS handshake in progress has neither yet; its reads stay bounded by the per-read timeout only.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: list[Any] = []
        self._current: threading.Event | None = None

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            with self._lock:
                self._streams = [s for s in self._streams if _open_socket(s) is not None]
                self._streams.append(info.get("return_value"))

    @contextmanager
    def armed(self, seconds: float) -> Iterator[threading.Event]:
        fired = threading.Event()
        timer = threading.Timer(seconds, self._fire, args=(fired,))
        timer.daemon = True
        with self._lock:
            self._current = fired
        timer.start()
        try:
            yield fired
        finally:
            timer.cancel()
            with self._lock:
                self._current = None

    def _fire(self, fired: threading.Event) -> None:
        with self._lock:
            if self._current is not fired:
                return  # that request already ended
            fired.set()
            for stream in self._streams:
                sock = _open_socket(stream)
                if sock is not None:
                    # The plain socket's shutdown: SSLSocket.shutdown would unwrap under the reading thread.
                    with suppress(OSError):
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _open_socket(stream: Any) -> socket.socket | None:
    try:
        sock = stream.get_extra_info("socket")
    except Exception:  # a stream of another backend: nothing to shut down
        return None
    return sock if isinstance(sock, socket.socket) and sock.fileno() != -1 else None


# --- secrets -------------------------------------------------------------------------------------------


def _char_pattern(char: str) -> str:
    """One character of a secret as sent or echoed: literal, percent-encoded in either case, a space also as +."""
    encoded = "".join(f"%{byte:02x}" for byte in char.encode())
    options = [re.escape(char), f"(?i:{re.escape(encoded)})"] + (["\\+"] if char == " " else [])
    return "(?:" + "|".join(options) + ")"


def _prefix_pattern(chars: list[str]) -> str:
    """A prefix of at least MIN_SECRET_PREFIX characters: c0..c5(?:c6(?:c7...)?)?, linear in the length."""
    head, tail = chars[:MIN_SECRET_PREFIX], chars[MIN_SECRET_PREFIX:]
    nested = ""
    for char in reversed(tail):
        nested = f"(?:{char}{nested})?"
    return "".join(head) + nested


def secret_forms(secret: str, user: str | None = None) -> list[str]:
    """The secret as a server may echo it, before percent-encoding: itself; base64 of it and of `user:secret` (an
    HTTP Basic header); and, for base64 of any text around it, the characters that encode the secret alone at each of
    the three alignments (base64 works in 3-byte groups)."""
    forms, raw = [secret], secret.encode()
    for text in [raw] + ([f"{user}:{secret}".encode()] if user is not None else []):
        for encoded in (base64.b64encode(text).decode(), base64.urlsafe_b64encode(text).decode()):
            forms += [encoded, encoded.rstrip("=")]
    for start in range(3):
        whole_groups = raw[start : start + 3 * ((len(raw) - start) // 3)]
        if len(whole_groups) >= 6:
            forms += [base64.b64encode(whole_groups).decode(), base64.urlsafe_b64encode(whole_groups).decode()]
    return list(dict.fromkeys(f for f in forms if f))


class _Redactor:
    def __init__(self) -> None:
        self.forms: set[str] = set()
        self._whole: re.Pattern[str] | None = None
        self._cut: re.Pattern[str] | None = None

    def add(self, secret: str, user: str | None = None) -> None:
        if not secret:
            return
        self.forms.update(secret_forms(secret, user))
        ordered = sorted(self.forms, key=len, reverse=True)
        as_chars = [[_char_pattern(c) for c in form] for form in ordered]
        self._whole = re.compile("|".join("".join(chars) for chars in as_chars))
        cuts = [_prefix_pattern(chars) for chars in as_chars if len(chars) > MIN_SECRET_PREFIX]
        # A prefix left at a truncation boundary: the end of the text or an ellipsis.
        self._cut = re.compile("(?:" + "|".join(cuts) + r")(?=\.\.\.|…|\Z)") if cuts else None

    def __call__(self, text: str) -> str:
        if self._whole is not None:
            text = self._whole.sub("***", text)
        if self._cut is not None:
            text = self._cut.sub("***", text)
        return text


# --- the client ------------------------------------------------------------------------------------------


@cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi's CAs, or SSL_CERT_FILE / SSL_CERT_DIR), built once per
    process: loading the CA bundle takes tens of milliseconds, and httpx would repeat it for every client."""
    return httpx.create_ssl_context()


class GenesysApi:
    """Read-only calls against one org's API host with a client-credentials token held in memory."""

    def __init__(
        self,
        api_url: str,
        *,
        timeout: float,
        deadline: Deadline | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        """Wall-clock seconds per request, whole body included (and per read)."""
        self.deadline = deadline
        self.last_path = ""
        """Path of the last answer a check read: where an unexpected shape came from."""
        self.last_size = 0
        """Bytes of the last answer's body: what a listing charges against MAX_LISTING_BYTES."""
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            verify=_tls_context(),
            transport=transport,
            headers={"Accept-Encoding": "identity"},
        )
        self._watchdog = _Watchdog()
        self._token: str | None = None
        self._redactor = _Redactor()

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
        """Text with every secret this client has seen replaced by ***: whole, percent-encoded, base64 (alone or
        as an HTTP Basic `id:secret`), and a prefix of one left at the end by a truncation."""
        return self._redactor(text)

    # --- sending -------------------------------------------------------------------------------------

    def _limit(self, method: str, url: str) -> tuple[float, bool]:
        """Seconds this request may take, and whether the run's deadline (not --timeout) sets them."""
        if self.deadline is None:
            return self.timeout, False
        remaining = self.deadline.remaining()
        if remaining <= 0:
            if self.deadline.reported:
                raise ApiError("out-of-time", f"{method} {_path(url)} not sent: the run's deadline had passed")
            self.deadline.reported = True
            raise ApiError(
                "deadline",
                f"the run's deadline ({self.deadline.seconds:g}s, --deadline) passed before {method} {_path(url)}",
            )
        return min(self.timeout, remaining), remaining < self.timeout

    def _overtime(self, method: str, url: str, limit: float, by_deadline: bool) -> ApiError:
        """The slow call, by path: cut by the run's deadline or by the per-request limit."""
        if by_deadline and self.deadline is not None:
            self.deadline.reported = True
            return ApiError(
                "deadline",
                f"{method} {_path(url)} was cut off when the run's deadline ({self.deadline.seconds:g}s, "
                f"--deadline) passed",
            )
        return ApiError(
            "timeout",
            f"{method} {_path(url)}: no complete answer from {_host(url)} within the timeout ({limit:g}s for the "
            f"whole request)",
        )

    def _read(self, response: httpx.Response, method: str, url: str, ends_at: float) -> bytes:
        """The body, streamed: at most MAX_BODY_BYTES, and no later than `ends_at`."""
        too_large = ApiError(
            "too-large",
            f"{method} {_path(url)}: the answer is larger than {MAX_BODY_BYTES // 2**20} MiB (not read); "
            "no Genesys API answer is",
            status=response.status_code,
        )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise too_large
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise too_large
            if time.monotonic() > ends_at:
                raise _Overtime
            chunks.append(chunk)
        return b"".join(chunks)

    def _once(self, method: str, url: str, auth: Any, kwargs: dict[str, Any]) -> Answer:
        limit, by_deadline = self._limit(method, url)
        try:
            request = self._http.build_request(
                method, url, timeout=httpx.Timeout(limit), extensions={"trace": self._watchdog.trace}, **kwargs
            )
        except httpx.InvalidURL as error:
            raise ApiError("invalid", f"refusing {method} {_path(url)}: {error}") from None
        ends_at = time.monotonic() + limit
        with self._watchdog.armed(limit) as fired:
            try:
                response = self._http.send(request, auth=auth, stream=True, follow_redirects=False)
                try:
                    return Answer(response, self._read(response, method, url, ends_at))
                finally:
                    response.close()
            except _Overtime:
                raise self._overtime(method, url, limit, by_deadline) from None
            except httpx.HTTPError as error:
                if fired.is_set() or isinstance(error, httpx.TimeoutException):
                    raise self._overtime(method, url, limit, by_deadline) from None
                raise _network_error(error, url) from None

    def _send(self, method: str, url: str, *, auth: Any = None, **kwargs: Any) -> Answer:
        """One request with bounded retries on 429 (honouring Retry-After) and gateway errors."""
        problem = url_problem(url)
        if problem is not None:
            raise ApiError("invalid", f"refusing {method} to {_host(url)}: the URL {problem}")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            answer = self._once(method, url, auth, kwargs)
            if answer.status not in RETRY_STATUSES or attempt == MAX_ATTEMPTS:
                return answer
            asked = retry_after_seconds(answer.response)
            wait = 0.5 * 2 ** (attempt - 1) if asked is None else asked
            if wait > MAX_RETRY_WAIT_SECONDS:
                answer.note = f"asked to retry after {wait:g}s, more than the {MAX_RETRY_WAIT_SECONDS:g}s waited"
                return answer
            if self.deadline is not None and wait >= self.deadline.remaining():
                answer.note = f"gave up: retrying after {wait:g}s would pass the run's deadline (--deadline)"
                return answer
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- calls ---------------------------------------------------------------------------------------

    def exchange_token(self, login_url: str, client_id: str, client_secret: str) -> TokenResult:
        """Client-credentials grant at `{login_url}/oauth/token`; on success the token is kept here."""
        self._redactor.add(client_secret, user=client_id)
        url = login_url.rstrip("/") + "/oauth/token"
        try:
            answer = self._send("POST", url, data={"grant_type": "client_credentials"}, auth=(client_id, client_secret))
        except ApiError as error:
            return TokenResult(False, login_url, self._redacted(error))
        body = answer.json()
        if answer.status != 200:
            return TokenResult(False, login_url, self._http_error(answer, body))
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            shape = "no access_token" if isinstance(body, dict) else f"a JSON {_shape(body)}"
            error = ApiError("shape", f"unexpected response shape from {_path(url)}: {shape}", status=200)
            return TokenResult(False, login_url, error)
        self._token = token
        self._redactor.add(token)
        return TokenResult(True, login_url)

    def token_is_accepted(self, token: str) -> ApiError | None:
        """Whether the API host accepts a token someone else minted (None when it does)."""
        self._redactor.add(token)
        try:
            answer = self._send("GET", self.api_url + "/api/v2/tokens/me", headers=self._bearer(token))
        except ApiError as error:
            return self._redacted(error)
        return None if answer.status == 200 else self._http_error(answer, answer.json())

    @staticmethod
    def _bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def _redacted(self, error: ApiError) -> ApiError:
        return ApiError(error.kind, self.redact(str(error)), status=error.status, body=error.body)

    def _http_error(self, answer: Answer, body: Any) -> ApiError:
        status, request = answer.status, answer.response.request
        message = f"{request.method} {request.url.path} -> {status}"
        if 300 <= status < 400:
            # Never followed: credentials or a token would go with it to wherever it points.
            location = answer.response.headers.get("Location", "")
            target = _host(urljoin(str(request.url), location)) if location else "nowhere (no Location)"
            return ApiError("redirect", self.redact(f"{message}: redirect to {target}, not followed"), status=status)
        # Only what is recognised: an echoed credential comes back in any encoding (hex, base32, folded, reversed,
        # entities...), and no list of encodings to hide keeps up with a list of what may be shown.
        detail = error_detail(body)
        message += f": {detail}" if detail else ""
        message += f" ({answer.note})" if answer.note else ""
        return ApiError("http", self.redact(message), status=status, body=body)

    def _api_url(self, path: str) -> str:
        if not path.startswith("/"):
            raise ApiError("invalid", f"API path {path!r} does not start with /")
        return self.api_url + path

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET an API path with the token; the decoded JSON body or an ApiError."""
        if self._token is None:
            raise ApiError("invalid", "no access token: the token exchange has not succeeded")
        answer = self._send("GET", self._api_url(path), params=params, headers=self._bearer(self._token))
        body = answer.json()
        if answer.status != 200:
            raise self._http_error(answer, body)
        self.last_path, self.last_size = path.split("?", 1)[0], len(answer.content)
        if body is None:
            raise ApiError("shape", f"unexpected response shape from {self.last_path}: not JSON")
        return body

    def get_object(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a path whose answer must be a JSON object."""
        body = self.get(path, params)
        if not isinstance(body, dict):
            raise ApiError("shape", f"unexpected response shape from {self.last_path}: a {_shape(body)}, not an object")
        return body

    def entities(self, body: Any) -> list[dict[str, Any]]:
        """The `entities` of a listing answer (missing or null: none); anything but a list of objects is refused."""
        found = body.get("entities") if isinstance(body, dict) else body
        if found is None and isinstance(body, dict):
            return []
        if not isinstance(found, list) or not all(isinstance(e, dict) for e in found):
            where = "entities" if isinstance(body, dict) else "the answer"
            problem = f"{where} is not a list of objects"
            raise ApiError("shape", f"unexpected response shape from {self.last_path}: {problem}")
        return found

    def charge(self, listing: str, total: int) -> int:
        """`total` plus the last answer's bytes; a shape ApiError naming the listing past MAX_LISTING_BYTES."""
        total += self.last_size
        if total > MAX_LISTING_BYTES:
            raise ApiError(
                "shape",
                f"the listing {listing} passed {MAX_LISTING_BYTES // 2**20} MiB in all and was not read further: "
                "no listing of the stack's objects is that large",
            )
        return total

    def get_all(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every entity of a paged listing (`entities`, `pageNumber`, `pageCount`), bounded to MAX_PAGES and
        MAX_LISTING_BYTES in all."""
        total = 0
        for page in range(1, MAX_PAGES + 1):
            body = self.get_object(path, {**(params or {}), "pageSize": PAGE_SIZE, "pageNumber": page})
            total = self.charge(path, total)
            yield from self.entities(body)
            count = body.get("pageCount")
            if not isinstance(count, int) or isinstance(count, bool) or page >= count:
                return

    def get_public_json(self, url: str) -> Any:
        """GET a public document (an IdP discovery document) without any Genesys credential."""
        answer = self._send("GET", url)
        body = answer.json()
        if answer.status != 200:
            if 300 <= answer.status < 400:
                raise self._http_error(answer, body)
            raise ApiError("http", f"GET {url} -> {answer.status}", status=answer.status, body=body)
        self.last_path = url
        if body is None:
            raise ApiError("shape", f"unexpected response shape from {url}: not JSON")
        return body

    def put(self, path: str, body: dict[str, Any]) -> Any:
        """PUT a JSON body with the token (the identity resolution resource's only write); JSON back or ApiError."""
        if self._token is None:
            raise ApiError("invalid", "no access token: the token exchange has not succeeded")
        answer = self._send("PUT", self._api_url(path), json=body, headers=self._bearer(self._token))
        returned = answer.json()
        if answer.status not in (200, 201):
            raise self._http_error(answer, returned)
        return returned
