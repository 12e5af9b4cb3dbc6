"""A loopback fake of the Genesys Web Messaging Guest API (a WebSocket server on 127.0.0.1), for preflight verify.

Served by the maintained `websockets` library (its synchronous server); this module only decides what to answer.
Shapes as Genesys' open-source mobile transport SDK sends and reads them, and as its WebSocket stubs answer
(MyPureCloud/genesys-messenger-transport-mobile-sdk ea4509f, transport/src/commonMain/kotlin/com/genesys/cloud/
messenger/transport/shyrka/send/*Request.kt for what a guest sends; shyrka/receive/WebMessagingMessage.kt,
SessionResponse.kt, MessageClassName.kt for the envelopes; androidUnitTest/kotlin/transport/util/Response.kt for
the recorded answers: configureSuccess, onMessage (the guest's own message echoed, direction Inbound), errors as
class "string" with a code and a text body):
- the socket at /v1?deploymentId=<id>, the Origin checked against the deployment's allowed domains;
- configureSession, configureAuthenticatedSession ({data: {code: <session JWT>}}), onMessage, closeSession;
- answers {type: "response", class: "SessionResponse", code: 200, body: {connected, newSession, readOnly}},
  {type: "response"|"message", class: "StructuredMessage", code: 200, body: {id, type: "Text", text, direction,
  channel: {messageId, time}}}, errors {type: "response", class: "string", code, body}.
Unverified, so the fake only plays one plausible answer and the client accepts any refusal: how Genesys refuses a
disallowed Origin (here: the handshake answered 403), an unknown deployment (404), a session JWT it does not accept
(here: error 401 "User is unauthorized", the SDK's `unauthorized` stub), and an anonymous configureSession on a
deployment that requires authentication (here: error 403, the SDK's clientError403 "HTTP authorization error").

Faults (`GuestFake.fault`): redirect (the handshake answered 302), drop (close the socket on the first request),
stall (never answer), throttled (429), huge (a frame larger than any envelope), binary, not-json,
wrong-type (a JSON array) and unknown-envelope.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Request, ServerConnection, serve

HUGE_FRAME_BYTES = 2 * 1024 * 1024
STALL_SECONDS = 5.0


@dataclass
class GuestFake:
    """One deployment's Guest API; tests change a field to break one thing."""

    deployment_id: str
    allowed_origins: set[str]
    jwts: dict[str, str] = field(default_factory=dict)
    """Session JWT -> the signed-in user's sub (what the code exchange handed out)."""
    auth_required: bool = True
    fault: str = ""
    on_message: Callable[[str, str | None, str, str], None] | None = None
    """Called with (session token, sub or None when anonymous, text, message id) for every accepted message."""
    echo: bool = False
    """Quote the received session JWT in error answers, as a careless server might."""
    redirect_to: str = ""
    """Where the "redirect" fault sends the handshake."""
    received: list[dict[str, Any]] = field(default_factory=list)
    """Every request envelope, in order."""
    stop: threading.Event = field(default_factory=threading.Event)

    # --- the handshake ----------------------------------------------------------------------------------

    def process_request(self, connection: ServerConnection, request: Request) -> Any:
        if self.fault == "redirect":
            response = connection.respond(HTTPStatus.FOUND, "")
            response.headers["Location"] = self.redirect_to
            return response
        query = parse_qs(urlsplit(request.path).query)
        if urlsplit(request.path).path != "/v1" or query.get("deploymentId") != [self.deployment_id]:
            return connection.respond(HTTPStatus.NOT_FOUND, "Unknown deployment\n")
        if request.headers.get("Origin") not in self.allowed_origins:
            return connection.respond(HTTPStatus.FORBIDDEN, "Origin not allowed\n")
        return None

    # --- the session --------------------------------------------------------------------------------------

    def handler(self, connection: ServerConnection) -> None:
        sessions: dict[str, str | None] = {}  # token -> sub (None: anonymous)
        try:
            for frame in connection:
                request = json.loads(frame)
                self.received.append(request)
                if self._faulted(connection):
                    return
                answer = self._answer(request, sessions)
                if answer is None:
                    return
                for envelope in answer:
                    connection.send(json.dumps(envelope))
        except ConnectionClosed:
            pass

    def _faulted(self, connection: ServerConnection) -> bool:
        fault = self.fault
        if fault == "drop":
            connection.close(1011, "internal error")
        elif fault == "stall":
            self.stop.wait(STALL_SECONDS)
        elif fault == "huge":
            connection.send(
                json.dumps({"type": "response", "class": "string", "code": 200, "body": "x" * HUGE_FRAME_BYTES})
            )
        elif fault == "binary":
            connection.send(b"\x00\x01binary")
        elif fault == "not-json":
            connection.send("<html>gateway</html>")
        elif fault == "wrong-type":
            connection.send(json.dumps(["response"]))
        elif fault == "throttled":
            # Response.kt tooManyRequests: class TooManyRequestsErrorMessage, code 429, an object body.
            body = {"retryAfter": 3, "errorCode": 4029, "errorMessage": "Message rate too high for this session"}
            connection.send(
                json.dumps({"type": "response", "class": "TooManyRequestsErrorMessage", "code": 429, "body": body})
            )
        elif fault == "unknown-envelope":
            connection.send(json.dumps({"type": "surprise", "class": 7, "code": "200"}))
        else:
            return False
        if fault not in ("drop", "stall"):
            self.stop.wait(STALL_SECONDS)  # whatever the client does next, nothing sensible follows
        return True

    def _answer(self, request: dict[str, Any], sessions: dict[str, str | None]) -> list[dict[str, Any]] | None:
        action, token = request.get("action"), request.get("token")
        if not isinstance(token, str) or not token:
            return [_error(400, "Request failed.")]
        if action == "configureAuthenticatedSession":
            jwt = (request.get("data") or {}).get("code", "")
            sub = self.jwts.get(jwt)
            if sub is None:
                return [_error(401, "User is unauthorized" + (f": {jwt}" if self.echo else ""))]
            sessions[token] = sub
            return [_session()]
        if action == "configureSession":
            if self.auth_required:
                return [_error(403, "HTTP authorization error")]
            sessions[token] = None
            return [_session()]
        if action == "onMessage":
            if token not in sessions:
                return [_error(4007, "session not found error message")]
            text = (request.get("message") or {}).get("text", "")
            message_id = str(uuid.uuid4())
            if self.on_message is not None:
                self.on_message(token, sessions[token], text, message_id)
            # An event before the answer, as a real session has them (typing); the client must skip it.
            typing = {"type": "message", "class": "StructuredMessage", "code": 200, "body": {"type": "Event"}}
            return [typing, _echo(text, message_id)]
        if action == "closeSession":
            sessions.pop(token, None)
            return None
        return [_error(400, "Request failed.")]


def _error(code: int, text: str) -> dict[str, Any]:
    return {"type": "response", "class": "string", "code": code, "body": text}


def _session() -> dict[str, Any]:
    body = {"connected": True, "newSession": True, "readOnly": False, "clearedExistingSession": False}
    return {"type": "response", "class": "SessionResponse", "code": 200, "body": body}


def _echo(text: str, message_id: str) -> dict[str, Any]:
    body = {
        "id": message_id,
        "type": "Text",
        "text": text,
        "direction": "Inbound",
        "channel": {"time": "2026-12-04T21:00:00.000Z", "messageId": message_id},
    }
    return {"type": "message", "class": "StructuredMessage", "code": 200, "body": body}


@contextmanager
def serve_guest_api(fake: GuestFake) -> Iterator[str]:
    """Serve the fake on 127.0.0.1 (an ephemeral port) in a thread; yields the ws:// base URL."""
    server = serve(fake.handler, "127.0.0.1", 0, process_request=fake.process_request, max_size=None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
    finally:
        fake.stop.set()
        server.shutdown()
        thread.join(timeout=5)
