"""A fake Sunshine Conversations v2 API for the `migrate` tests, on 127.0.0.1 only.

Shaped from the public OpenAPI file, zendesk/sunshine-conversations-api-spec openapi.yaml (version 17.12.1):
- HTTP Basic with an API key (key id as user, secret as password); 401 `{"errors": [{"code": "unauthorized",
  "title": "Authorization is required"}]}` otherwise (Introduction, "Errors").
- GET /v2/apps/{appId}/users/{userIdOrExternalId} (GetUser): `{"user": {id, externalId, signedUpAt, profile
  {givenName, surname, email, locale}, identities, metadata}}`, 404 `user_not_found`.
- GET /v2/apps/{appId}/integrations (ListIntegrations) with `filter[types]`, `page[size]` (1..100), `page[after]`:
  `{"integrations": [...], "meta": {"hasMore", "afterCursor"}}`.
- GET /v2/apps/{appId}/integrations/{integrationId}/webhooks (ListWebhooks): `{"webhooks": [{id, version, target,
  triggers, secret, includeFullUser, includeFullSource}]}`, 404 `integration_not_found`.
Not knowable from the file, so not played: Sunshine's real rate limits (`storm` answers 429s as a test asks).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fake_external_contacts import QuietServer

KEY_ID = "app_5e1606762556d93e9c176f69"
KEY_SECRET = "fake-sunshine-secret-0b7f4c2e8a"
APP_ID = "5d8cff3cd55b040010928b5b"
WEBHOOK_SECRET = "8564b3e6a8b20a4bdb68b05ce9bc5936"


@dataclass
class FakeSunshine:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    """externalId -> user."""
    integrations: list[dict[str, Any]] = field(default_factory=list)
    webhooks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page_size: int | None = None
    storm: int = 0
    """The next this-many requests are answered 429 with Retry-After 0."""
    echo_credentials: bool = False
    """Quote the received Authorization header in every 404's title, as a careless gateway might."""
    hits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_user(self, external_id: str, given: str = "", surname: str = "", email: str = "") -> None:
        profile = {k: v for k, v in (("givenName", given), ("surname", surname), ("email", email)) if v}
        self.users[external_id] = {
            "id": f"{len(self.users):024x}",
            "externalId": external_id,
            "signedUpAt": "2025-02-03T19:10:08.152Z",
            "profile": {**profile, "locale": "en"},
            "identities": [],
            "metadata": {},
        }

    def add_webhook(self, name: str, target: str, triggers: list[str], integration_type: str = "custom") -> None:
        integration_id = f"{len(self.integrations) + 1:024x}"
        self.integrations.append(
            {"id": integration_id, "type": integration_type, "status": "active", "displayName": name}
        )
        self.webhooks[integration_id] = [
            {
                "id": f"{len(self.webhooks) + 100:024x}",
                "version": "v2",
                "target": target,
                "triggers": triggers,
                "secret": WEBHOOK_SECRET,
                "includeFullUser": False,
                "includeFullSource": False,
            }
        ]


def _errors(status: int, code: str, title: str) -> tuple[int, dict[str, Any]]:
    return status, {"errors": [{"code": code, "title": title}]}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs: every answer carries its Content-Length
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall
    fake: FakeSunshine

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

    def do_GET(self) -> None:
        fake = self.fake
        expected = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self._reply(*_errors(401, "unauthorized", "Authorization is required"))
            return
        with fake.lock:
            fake.hits += 1
            storm = fake.storm > 0
            fake.storm -= 1 if storm else 0
        if storm:
            self._reply(*_errors(429, "too_many_requests", "Too many requests"), {"Retry-After": "0"})
            return
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        status, body = self._answer(parts, query)
        if status == 404 and fake.echo_credentials:
            body["errors"][0]["title"] += f" (you sent {self.headers.get('Authorization')}, i.e. {KEY_SECRET})"
        self._reply(status, body)

    def _answer(self, parts: list[str], query: dict[str, str]) -> tuple[int, Any]:
        fake = self.fake
        if len(parts) < 3 or parts[:2] != ["v2", "apps"] or parts[2] != APP_ID:
            return _errors(404, "app_not_found", "App not found")
        rest = parts[3:]
        if len(rest) == 2 and rest[0] == "users":
            user = fake.users.get(rest[1])
            return (200, {"user": user}) if user else _errors(404, "user_not_found", "User not found")
        if rest == ["integrations"]:
            size = int(query.get("page[size]", "25"))
            if not 1 <= size <= 100:
                return _errors(400, "bad_request", "Invalid query parameters")
            size = min(size, fake.page_size or size)
            types = query.get("filter[types]")
            chosen = [i for i in fake.integrations if not types or i["type"] in types.split(",")]
            after = query.get("page[after]")
            start = next((n + 1 for n, i in enumerate(chosen) if i["id"] == after), 0) if after else 0
            page = chosen[start : start + size]
            more = start + size < len(chosen)
            meta = {"hasMore": more, **({"afterCursor": page[-1]["id"]} if more and page else {})}
            return 200, {"integrations": page, "meta": meta, "links": {}}
        if len(rest) == 3 and rest[0] == "integrations" and rest[2] == "webhooks":
            hooks = fake.webhooks.get(rest[1])
            if hooks is None:
                return _errors(404, "integration_not_found", "Integration not found")
            return 200, {"webhooks": hooks}
        return _errors(404, "not_found", "Resource not found")


@contextmanager
def serve(fake: FakeSunshine) -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
