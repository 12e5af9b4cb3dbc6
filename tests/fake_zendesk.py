"""A loopback fake of the parts of the Zendesk Support (Ticketing) API the zendesk preset calls.

Shaped from Zendesk's public API reference (developer.zendesk.com/api-reference):
- Users, "Search Users": GET /api/v2/users/search?external_id={id} -> 200 {"users": [user...], "count": n};
  "The external_id parameter does not support the search syntax. It only accepts ids." An unknown id is
  200 with an empty list (there is no 404 for a search).
- Tickets, "Create Ticket": POST /api/v2/tickets {"ticket": {...}} -> 201 {"ticket": {"id": <int>, ...}}.
- Ticketing API introduction, "Idempotency": an `Idempotency-Key` header lets a ticket creation be retried
  "without the risk of creating duplicate records"; the first answer carries `x-idempotency-lookup: miss`.
  The fake answers a repeat with the first response and `hit` (UNVERIFIED beyond the page's example), and a
  repeated key with a different body with a 400 (UNVERIFIED body).
- API introduction, "Security and authentication": API token auth is basic auth `{email}/token:{token}`;
  a wrong one is 401 {"error": "Couldn't authenticate you"}. "Rate limits": 429 with Retry-After.
Refuses any other path or method with 404/405.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

from tests.fake_http import Answer, FakeServer


class FakeZendesk(FakeServer):
    def __init__(self, email: str, token: str) -> None:
        self.auth = "Basic " + base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self.users: list[dict[str, Any]] = []
        self.tickets: list[dict[str, Any]] = []
        self.idempotency: dict[str, tuple[bytes, Answer]] = {}
        super().__init__(self._route)

    def add_user(self, external_id: str, name: str, **user_fields: str) -> int:
        user_id = 360000000 + len(self.users) + 1
        self.users.append({"id": user_id, "name": name, "external_id": external_id, "user_fields": user_fields})
        return user_id

    def _route(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Answer:
        if headers.get("authorization") != self.auth:
            return 401, {}, {"error": "Couldn't authenticate you"}
        if path == "/api/v2/users/search":
            if method != "GET":
                return 405, {}, None
            wanted = urllib.parse.parse_qs(query).get("external_id", [""])[0]
            found = [u for u in self.users if u["external_id"] == wanted]
            return 200, {}, {"users": found, "count": len(found), "next_page": None, "previous_page": None}
        if path == "/api/v2/tickets":
            if method != "POST":
                return 405, {}, None
            return self._create_ticket(headers, body)
        return 404, {}, {"error": "InvalidEndpoint", "description": "Not found"}

    def _create_ticket(self, headers: dict[str, str], body: bytes) -> Answer:
        key = headers.get("idempotency-key")
        if key in self.idempotency:
            first_body, (status, first_headers, document) = self.idempotency[key]
            if first_body != body:
                return 400, {}, {"error": "IdempotentRequestError"}  # UNVERIFIED body
            return status, {**first_headers, "x-idempotency-lookup": "hit"}, document
        ticket = json.loads(body)["ticket"]
        requester = ticket.get("requester", {}).get("external_id")
        owner = next((u["id"] for u in self.users if requester and u["external_id"] == requester), None)
        created = {"id": len(self.tickets) + 1, **ticket, "requester_id": owner}
        self.tickets.append(created)
        answer: Answer = (201, {"x-idempotency-lookup": "miss"}, {"ticket": created})
        if key:
            self.idempotency[key] = (body, answer)
        return answer
