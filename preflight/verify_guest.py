"""A client of the Web Messaging Guest API for `preflight verify`: one guest session over a WebSocket, through the
maintained `websockets` library (its synchronous client; nothing here touches the protocol itself).

Envelopes as Genesys' open-source mobile transport SDK sends and reads them
(MyPureCloud/genesys-messenger-transport-mobile-sdk ea4509f, transport/src/commonMain/kotlin/com/genesys/cloud/
messenger/transport/):
- the URL `wss://webmessaging.<domain>/v1?deploymentId=<id>` (util/Urls.kt webSocketUrl), the Origin header one of
  the deployment's allowed domains (the open-source web messaging tester sets it the same way:
  ovotech/genesys-web-messaging-tester d5b365c, packages/genesys-web-messaging-tester/src/genesys/
  WebMessengerGuestSession.ts:61-64);
- sent: `configureSession` {action, token, deploymentId, startNew, journeyContext}
  (shyrka/send/ConfigureSessionRequest.kt), `configureAuthenticatedSession` {... , data: {code: <session JWT>}}
  (ConfigureAuthenticatedSessionRequest.kt; the JWT from the code exchange: core/MessagingClientImpl.kt:789),
  `onMessage` {action, token, message: {type: "Text", text, channel: {metadata: {customAttributes}}}}
  (OnMessageRequest.kt, TextMessage.kt, Channel.kt),
  `closeSession` {action, token, closeAllConnections} (CloseSessionRequest.kt); every request carries a
  `tracingId`;
- received: {type: "response"|"message", class, code, body, tracingId?} (receive/WebMessagingMessage.kt,
  MessageType.kt, MessageClassName.kt); a session answer is class SessionResponse {connected, newSession,
  readOnly} (SessionResponse.kt); an error is class "string" with the code and a text body (400, 401, 403, 4006
  session expired, 4007 session not found, 4017 cannot downgrade to unauthenticated: the SDK's test stubs,
  androidUnitTest/.../util/Response.kt); the guest's own message comes back as class StructuredMessage,
  direction Inbound (Response.kt onMessage).
Unverified (no Genesys org here): how Genesys refuses an Origin the deployment does not allow (a refused handshake
or an error answer; both are read as a refusal), and what it answers an anonymous configureSession on a
deployment that requires authentication (any error answer, or a closed socket, counts as refused).
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, reconnect

from components.genesys_api import Deadline, error_detail, url_problem

MAX_FRAME_BYTES = 256 * 1024
"""No Guest API envelope the SDK reads comes near this (a text message is at most a few KiB); a larger frame is
refused by the library (close code 1009) and reported as hostile."""
MAX_FRAMES_PER_ANSWER = 50
"""Events (typing, bot messages) skipped while waiting for one answer, at most."""
SESSION_RESPONSE, STRING, STRUCTURED = "SessionResponse", "string", "StructuredMessage"


class _NoRedirects(reconnect):
    """The library's client without its redirect following (the sync client of websockets 17 follows up to 10):
    the socket carries the session JWT, and the doctor's rule holds here too, a redirect is reported, never
    followed."""

    def process_redirect(self, exc: Exception) -> Exception:
        return exc


class GuestError(Exception):
    """The session failed. `kind`: invalid (URL), refused (handshake refused: origin?), error (an error answer, with
    `code`), dropped (socket closed), stalled (no answer in time), hostile (a frame no Guest API sends), tls,
    connect."""

    def __init__(self, kind: str, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


@dataclass(frozen=True)
class Answer:
    """One envelope from the Guest API, as received (type, class, code, body)."""

    type: str
    cls: str
    code: int
    body: Any

    @property
    def failed(self) -> bool:
        """An error answer: class "string" with an error code, or any response with one (TooManyRequestsErrorMessage
        is 429 with an object body: MessageClassName.kt, Response.kt tooManyRequests)."""
        return self.code >= 400 and (self.cls == STRING or self.type == "response")


def websocket_url(base: str, deployment_id: str) -> str:
    """`<base>/v1?deploymentId=<id>`, refused unless wss (plain ws only to loopback) without user info."""
    as_http = base.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
    problem = url_problem(as_http) if base.startswith(("wss://", "ws://")) else "must be a wss:// URL"
    if problem is None and (urlsplit(base).query or urlsplit(base).fragment):
        problem = "must not have a ?query or #fragment"
    if problem is not None:
        raise GuestError("invalid", f"the Guest API URL {problem}")
    return f"{base.rstrip('/')}/v1?deploymentId={quote(deployment_id, safe='')}"


def _shown(body: Any) -> str:
    """What an answer from the Guest API may show: a known message (components/api_errors.json), or that it was
    withheld. The socket carries the session JWT, and a body is text the server chose (genesys_api.error_detail)."""
    return error_detail(body) or "no body"


def _tracing() -> str:
    return str(uuid.uuid4())


def configure_session(token: str, deployment_id: str) -> dict[str, Any]:
    return {
        "action": "configureSession",
        "token": token,
        "deploymentId": deployment_id,
        "startNew": True,
        "journeyContext": {"customer": {"id": token, "idType": "cookie"}, "customerSession": {"id": "", "type": "web"}},
        "tracingId": _tracing(),
    }


def configure_authenticated_session(token: str, deployment_id: str, jwt: str) -> dict[str, Any]:
    return {**configure_session(token, deployment_id), "action": "configureAuthenticatedSession", "data": {"code": jwt}}


def on_message(token: str, text: str, custom_attributes: dict[str, str] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "Text", "text": text}
    if custom_attributes:
        # The SDK's sendMessage(text, customAttributes): Channel(Metadata(customAttributes)) on the message
        # (core/MessagingClientImpl.kt sendMessage and asChannel, shyrka/send/Channel.kt).
        message["channel"] = {"metadata": {"customAttributes": custom_attributes}}
    return {"action": "onMessage", "token": token, "message": message, "tracingId": _tracing()}


def close_session(token: str) -> dict[str, Any]:
    return {"action": "closeSession", "token": token, "closeAllConnections": True, "tracingId": _tracing()}


class GuestSession:
    """One open socket; every wait bounded by the step's own end and the run's deadline."""

    def __init__(self, connection: ClientConnection, ends_at: float, deadline: Deadline) -> None:
        self._connection = connection
        self._ends_at = ends_at
        self._deadline = deadline

    def _remaining(self) -> float:
        return min(self._ends_at - time.monotonic(), self._deadline.remaining())

    def send(self, envelope: dict[str, Any]) -> None:
        try:
            self._connection.send(json.dumps(envelope))
        except ConnectionClosed as closed:
            raise _closed(closed) from None

    def receive(self) -> Answer:
        """The next envelope, checked for shape: JSON text, an object with a string type and class, an int code."""
        remaining = self._remaining()
        if remaining <= 0:
            raise GuestError("stalled", "no answer from the Guest API before the step's time ran out")
        try:
            frame = self._connection.recv(timeout=remaining)
        except TimeoutError:
            raise GuestError("stalled", f"no answer from the Guest API within {remaining:.1f}s") from None
        except ConnectionClosed as closed:
            raise _closed(closed) from None
        if isinstance(frame, bytes):
            raise GuestError("hostile", f"a binary frame ({len(frame)} bytes): the Guest API sends JSON text only")
        try:
            envelope = json.loads(frame)
        except (ValueError, RecursionError):
            raise GuestError("hostile", "a text frame that is not JSON") from None
        if not isinstance(envelope, dict):
            raise GuestError("hostile", f"a JSON {type(envelope).__name__}, not an envelope object")
        kind, cls, code = envelope.get("type"), envelope.get("class"), envelope.get("code")
        if kind not in ("response", "message") or not isinstance(cls, str) or type(code) is not int:
            shape = "type not response or message, class not a string or code not an integer"
            raise GuestError("hostile", f"an envelope of unknown shape ({shape})")
        return Answer(kind, cls, code, envelope.get("body"))

    def answer(self, wanted: str) -> Answer:
        """The next response of class `wanted`; an error answer raises; events in between are skipped (bounded)."""
        for _ in range(MAX_FRAMES_PER_ANSWER):
            answer = self.receive()
            if answer.failed:
                raise GuestError("error", f"error {answer.code}: {_shown(answer.body)}", code=answer.code)
            if answer.cls == wanted and answer.code == 200:
                return answer
        raise GuestError("hostile", f"{MAX_FRAMES_PER_ANSWER} envelopes without the {wanted} answered")

    def configure(self, envelope: dict[str, Any]) -> dict[str, Any]:
        self.send(envelope)
        body = self.answer(SESSION_RESPONSE).body
        if not isinstance(body, dict) or body.get("connected") is not True:
            raise GuestError("error", f"the session did not connect (connected: {_connected(body)})")
        return body

    def message(self, token: str, text: str, custom_attributes: dict[str, str] | None = None) -> dict[str, Any]:
        """Send one text message; its echo (StructuredMessage, Inbound, the same text) proves the Guest API took it.
        Other StructuredMessages in between (typing events, a bot's greeting) are skipped, boundedly."""
        self.send(on_message(token, text, custom_attributes))
        for _ in range(MAX_FRAMES_PER_ANSWER):
            answer = self.receive()
            if answer.failed:
                raise GuestError("error", f"error {answer.code}: {_shown(answer.body)}", code=answer.code)
            body = answer.body if isinstance(answer.body, dict) else {}
            if answer.cls == STRUCTURED and body.get("direction") == "Inbound" and body.get("text") == text:
                return body
        raise GuestError("hostile", f"{MAX_FRAMES_PER_ANSWER} envelopes without the message echoed back")


def _connected(body: Any) -> str:
    value = body.get("connected") if isinstance(body, dict) else None
    return "missing" if value is None else json.dumps(value) if isinstance(value, bool) else f"a {type(value).__name__}"


def _closed(closed: ConnectionClosed) -> GuestError:
    code = closed.rcvd.code if closed.rcvd is not None else None
    if code == 1009 or (closed.sent is not None and closed.sent.code == 1009):
        return GuestError("hostile", f"a frame larger than {MAX_FRAME_BYTES // 1024} KiB (closed, 1009)")
    reason = f" ({code}{': ' + _shown(closed.rcvd.reason) if closed.rcvd and closed.rcvd.reason else ''})"
    return GuestError("dropped", "the Guest API closed the socket" + (reason if code else " without a close frame"))


@contextmanager
def session(url: str, origin: str, *, seconds: float, deadline: Deadline) -> Iterator[GuestSession]:
    """An open guest socket with `Origin: origin`; closed on exit. Raises GuestError."""
    limit = min(seconds, deadline.remaining())
    if limit <= 0:
        raise GuestError("stalled", "the run's deadline had passed before the socket was opened")
    ends_at = time.monotonic() + limit
    connector = _NoRedirects(
        url,
        # The doctor's CA bundle (certifi, or SSL_CERT_FILE / SSL_CERT_DIR) for wss; none for a loopback ws:// fake.
        ssl=httpx.create_ssl_context() if url.startswith("wss://") else None,
        origin=origin,
        open_timeout=limit,
        close_timeout=min(1.0, limit),
        max_size=MAX_FRAME_BYTES,
        ping_interval=None,
        compression=None,
        user_agent_header=f"genesys-messaging-preflight-verify websockets/{websockets.__version__}",
    )
    with ExitStack() as stack:
        try:
            connection = stack.enter_context(connector)
        except InvalidStatus as error:
            status = error.response.status_code
            if 300 <= status < 400:
                raise GuestError("refused", f"the handshake answered a redirect ({status}), not followed") from None
            raise GuestError("refused", f"the handshake was refused with HTTP {status}") from None
        except TimeoutError:
            raise GuestError("stalled", f"the handshake did not complete within {limit:.1f}s") from None
        except ssl.SSLError as error:
            raise GuestError("tls", f"TLS handshake failed ({error.reason or type(error).__name__})") from None
        except (InvalidHandshake, InvalidURI) as error:
            raise GuestError("refused", f"the handshake failed ({type(error).__name__})") from None
        except OSError as error:
            raise GuestError("connect", f"cannot connect ({error.strerror or type(error).__name__})") from None
        yield GuestSession(connection, ends_at, deadline)
