"""A fake Genesys Cloud External Contacts API for the `migrate contacts` tests, on 127.0.0.1 only.

Shaped from the Platform API's public reference, MyPureCloud/platform-client-sdk-python 257.1.0
(build/docs/ExternalContactsApi.md and the models it names):
- POST /oauth/token: client credentials over HTTP Basic -> {access_token, token_type, expires_in}.
- GET /api/v2/externalcontacts/externalsources?name=&limit=: CursorExternalSourceListing {entities: [ExternalSource
  {id, name, active}]}; `name` is "prefix filtering and not an exact match"; limit 10..200.
- POST /api/v2/externalcontacts/identifierlookup/contacts, body ContactIdentifier {type, value, externalSource}:
  200 ExternalContact, 404 when no contact holds it (Genesys error body {message, code, status}).
- POST /api/v2/externalcontacts/bulk/contacts/enrich: BulkContactsEnrichRequest {entities: [ContactEnrichRequest
  {id, action, matchingIdentifiers (1..25), contact}]}, "up to 10 Enrich operations per request" -> 200
  BulkContactsEnrichResponse {results: [{id, success, entity | error {code, message, status, retryable}, status}],
  errorCount, errorIndexes}, results in an order "NOT guaranteed": this fake reverses them.

Behaviour the reference does not state, so this fake cannot know and the README/docs keep unverified:
- what each `action` does. Read here as its name says: Insert creates a contact and fails (409) when one
  already holds a matching identifier; Update changes the contact holding one and fails (404) when none does.
- that a created contact claims its matching identifiers and its externalIds (as ExternalId identifiers), and
  its email fields as Email identifiers; and that a 404 is how the lookup says "nobody".
- Genesys' real rate limits: `storm` answers a fixed number of 429s with a Retry-After the test chooses.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = "migrate-import-client"
CLIENT_SECRET = "fake-import-secret-41c9e2b7"
ACCESS_TOKEN = "fake-import-token-93d1a6f0"
BULK_MAX = 10
ACTIONS = ("Merge", "Upsert", "Update", "Insert")
IDENTIFIER_TYPES = (
    "SocialLine",
    "SocialFacebook",
    "SocialTwitter",
    "SocialWhatsapp",
    "SocialInstagram",
    "AppleOpaqueId",
    "Email",
    "Phone",
    "Cookie",
    "ExternalId",
)
CONTACT_FIELDS = ("firstName", "lastName", "personalEmail", "workEmail")


@dataclass
class FakeContacts:
    sources: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    identifiers: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(type, external source id or '', value) -> contact id."""
    storm: int = 0
    """The next this-many API requests are answered 429 with Retry-After `retry_after`."""
    retry_after: str = "0"
    server_errors: int = 0
    """The next this-many bulk enrich requests are answered 500 after applying their writes (an unknown outcome)."""
    slow_seconds: float = 0.0
    """Each identifier lookup waits this long before answering."""
    stall_after: int | None = None
    """After this many bulk enrich requests, every later one stalls until the server stops (a crash test kills
    the client meanwhile)."""
    stall_after_writing: bool = False
    """Whether a stalled request has applied its writes first (the answer, not the write, is what is lost)."""
    expire_after: int | None = None
    """After this many API requests the token in use expires (401 bad.credentials); the next exchange gets a new one."""
    token_generation: int = 1
    api_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    enrich_requests: int = 0
    enrich_operations: int = 0
    lookups: int = 0
    throttled: int = 0
    largest_batch: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    next_id: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def add_source(self, name: str) -> str:
        source_id = f"source-{len(self.sources) + 1}"
        self.sources.append({"id": source_id, "name": name, "active": True})
        return source_id

    def add_contact(self, source_id: str, sub: str | None, **fields: str) -> str:
        """A contact already in the org (made by hand here, as an earlier import or an agent would)."""
        self.next_id += 1
        contact_id = f"contact-{self.next_id:06d}"
        contact = {"id": contact_id, **fields, "externalIds": []}
        self.contacts[contact_id] = contact
        if sub is not None:
            self._claim(contact_id, "ExternalId", source_id, sub)
            contact["externalIds"].append({"externalSource": {"id": source_id}, "value": sub})
        for email_field in ("personalEmail", "workEmail"):
            if fields.get(email_field):
                self._claim(contact_id, "Email", "", fields[email_field])
        return contact_id

    def holder(self, kind: str, source_id: str, value: str) -> str | None:
        return self.identifiers.get((kind, source_id if kind == "ExternalId" else "", value.strip()))

    def _claim(self, contact_id: str, kind: str, source_id: str, value: str) -> None:
        self.identifiers[(kind, source_id if kind == "ExternalId" else "", value.strip())] = contact_id

    def subs(self, source_id: str) -> list[str]:
        """Every ExternalId value under the source, once per contact holding it (duplicates would show twice)."""
        return sorted(
            e["value"]
            for c in self.contacts.values()
            for e in c["externalIds"]
            if e["externalSource"]["id"] == source_id
        )

    # --- the enrich operation -------------------------------------------------------------------------------

    def enrich(self, operation: Any) -> dict[str, Any]:
        tracker = operation.get("id") if isinstance(operation, dict) else None

        def error(status: int, code: str, message: str) -> dict[str, Any]:
            return {
                "id": tracker,
                "success": False,
                "status": status,
                "error": {"code": code, "message": message, "status": status, "retryable": False, "entity": operation},
            }

        if not isinstance(operation, dict) or operation.get("action") not in ACTIONS:
            return error(400, "bad.request", "action must be one of " + ", ".join(ACTIONS))
        matching = operation.get("matchingIdentifiers")
        if not isinstance(matching, list) or not 1 <= len(matching) <= 25:
            return error(400, "bad.request", "matchingIdentifiers: between 1 and 25")
        keys = []
        for identifier in matching:
            if not isinstance(identifier, dict) or identifier.get("type") not in IDENTIFIER_TYPES:
                return error(400, "bad.request", "unknown identifier type")
            value = identifier.get("value")
            if not isinstance(value, str) or not value or len(value) > 255:
                return error(400, "bad.request", "identifier value: 1 to 255 characters")
            source = (identifier.get("externalSource") or {}).get("id", "")
            if identifier["type"] == "ExternalId" and source not in {s["id"] for s in self.sources}:
                return error(400, "bad.request", "unknown external source")
            keys.append((identifier["type"], source, value))
        contact_in = operation.get("contact") if isinstance(operation.get("contact"), dict) else {}
        held = {self.holder(*k) for k in keys} - {None}
        if operation["action"] not in ("Insert", "Update"):
            return error(400, "bad.request", "this fake plays only Insert and Update (the importer's actions)")
        if operation["action"] == "Insert":
            if held:
                return error(409, "identifier.conflict", "an identifier is already claimed by a contact")
            fields = {k: v for k, v in contact_in.items() if k in CONTACT_FIELDS}
            contact_id = self.add_contact("", None, **fields)
            contact = self.contacts[contact_id]
            for kind, source, value in keys:
                self._claim(contact_id, kind, source, value)
            for external in contact_in.get("externalIds") or []:
                source = external["externalSource"]["id"]
                self._claim(contact_id, "ExternalId", source, external["value"])
                contact["externalIds"].append({"externalSource": {"id": source}, "value": external["value"]})
            return {"id": tracker, "success": True, "status": 201, "entity": dict(contact)}
        if len(held) != 1:
            return error(404, "not.found", "no contact holds the matching identifiers")
        contact = self.contacts[held.pop()]
        for key, value in contact_in.items():
            if key in CONTACT_FIELDS and value is not None:
                contact[key] = value
                if key.endswith("Email"):
                    self._claim(contact["id"], "Email", "", value)
        return {"id": tracker, "success": True, "status": 200, "entity": dict(contact)}


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"message": message, "code": code, "status": status}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs: every answer carries its Content-Length
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall
    fake: FakeContacts

    def log_message(self, *_args: Any) -> None:
        pass

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return None

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body_bytes = None
        if url.path == "/oauth/token":
            body_bytes = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if self.headers.get("Authorization") != expected or b"grant_type=client_credentials" not in body_bytes:
                self._reply(401, {"error": "invalid_client", "error_description": "authentication failed"})
                return
            token = f"{ACCESS_TOKEN}-{self.fake.token_generation}"
            self._reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 86400})
            return
        self._api("POST", url.path, {}, self._body())

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self._api("GET", url.path, parse_qs(url.query), None)

    def _api(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
        fake = self.fake
        with fake.lock:
            fake.api_requests += 1
            if fake.expire_after is not None and fake.api_requests > fake.expire_after:
                fake.expire_after, fake.token_generation = None, fake.token_generation + 1
            valid = f"Bearer {ACCESS_TOKEN}-{fake.token_generation}"
        if self.headers.get("Authorization") != valid:
            self._reply(*_error(401, "bad.credentials", "Invalid login credentials."))
            return
        with fake.lock:
            fake.in_flight += 1
            fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
            storm = fake.storm > 0
            if storm:
                fake.storm -= 1
                fake.throttled += 1
        try:
            if storm:
                self._reply(*_error(429, "too.many.requests", "Rate limit exceeded"), {"Retry-After": fake.retry_after})
                return
            if fake.slow_seconds and path.endswith("/identifierlookup/contacts"):
                time.sleep(fake.slow_seconds)
            self._reply(*self._answer(method, path, query, body))
        finally:
            with fake.lock:
                fake.in_flight -= 1

    def _answer(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        fake = self.fake
        if method == "GET" and path == "/api/v2/externalcontacts/externalsources":
            limit = int((query.get("limit") or ["100"])[0])
            if not 10 <= limit <= 200:
                return _error(400, "bad.request", "limit must be between 10 and 200")
            prefix = (query.get("name") or [""])[0]
            return 200, {"entities": [s for s in fake.sources if s["name"].startswith(prefix)][:limit]}
        if method == "POST" and path == "/api/v2/externalcontacts/identifierlookup/contacts":
            with fake.lock:
                fake.lookups += 1
                if not isinstance(body, dict) or body.get("type") not in IDENTIFIER_TYPES or not body.get("value"):
                    return _error(400, "bad.request", "a ContactIdentifier {type, value} is required")
                source = (body.get("externalSource") or {}).get("id", "")
                holder = fake.holder(body["type"], source, str(body["value"]))
                if holder is None:
                    return _error(404, "not.found", "No contact holds that identifier")
                return 200, dict(fake.contacts[holder])
        if method == "POST" and path == "/api/v2/externalcontacts/bulk/contacts/enrich":
            return self._bulk(body)
        return _error(404, "not.found", f"{method} {path} is not part of this fake")

    def _bulk(self, body: Any) -> tuple[int, Any]:
        fake = self.fake
        entities = body.get("entities") if isinstance(body, dict) else None
        if not isinstance(entities, list) or not 1 <= len(entities) <= BULK_MAX:
            return _error(400, "bad.request", f"entities: 1 to {BULK_MAX} enrich operations")
        with fake.lock:
            fake.enrich_requests += 1
            stall = fake.stall_after is not None and fake.enrich_requests > fake.stall_after
        if stall and not fake.stall_after_writing:
            fake.stop.wait()
            return _error(503, "stopped", "the fake stopped")
        with fake.lock:
            fake.enrich_operations += len(entities)
            fake.largest_batch = max(fake.largest_batch, len(entities))
            results = [fake.enrich(op) for op in entities]
            fail = fake.server_errors > 0
            if fail:
                fake.server_errors -= 1
        if stall:
            fake.stop.wait()
            return _error(503, "stopped", "the fake stopped")
        if fail:
            return _error(500, "internal.server.error", "written, but the answer was lost")
        failed = [i for i, r in enumerate(reversed(results)) if not r["success"]]
        return 200, {"results": list(reversed(results)), "errorCount": len(failed), "errorIndexes": failed}


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout, a killed run) is part of the tests, not an error to print."""


@contextmanager
def serve(fake: FakeContacts) -> Iterator[str]:
    """The fake on an ephemeral loopback port; its base URL (API and login on the same host)."""
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        fake.stop.set()
        server.shutdown()
        server.server_close()
