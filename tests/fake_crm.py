"""A loopback fake of "your own API" as the custom preset's defaults describe it (README "Ticketing
systems"): there is no vendor reference; its contract is this project's own, stated in
components/data_actions/crm/custom/: GET {base}/customers/by-external-id/{sub} -> 200 {id, name, tier}
or 404; POST {base}/tickets with `Idempotency-Key` -> 201 {id, url}, a repeated key answering 200 with
the ticket it created first. Basic auth as the integration's credential."""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

from tests.fake_http import Answer, FakeServer


class FakeCrm(FakeServer):
    def __init__(self, username: str, password: str, prefix: str = "/api") -> None:
        self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.prefix = prefix
        self.customers: dict[str, dict[str, Any]] = {}
        self.tickets: dict[str, dict[str, Any]] = {}
        super().__init__(self._route)

    def _route(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Answer:
        if headers.get("authorization") != self.auth:
            return 401, {}, {"error": "unauthorized"}
        lookup = f"{self.prefix}/customers/by-external-id/"
        if method == "GET" and path.startswith(lookup):
            customer = self.customers.get(urllib.parse.unquote(path.removeprefix(lookup)))
            return (200, {}, customer) if customer else (404, {}, {"error": "not found"})
        if method == "POST" and path == f"{self.prefix}/tickets":
            key = headers.get("idempotency-key", "")
            if key in self.tickets:
                return 200, {}, self.tickets[key]
            ticket = {"id": f"T-{len(self.tickets) + 1}", "url": f"https://crm.example.com/t/{len(self.tickets) + 1}"}
            self.tickets[key] = {**ticket, "request": json.loads(body)}
            return 201, {}, self.tickets[key]
        return 404, {}, {"error": "no such endpoint"}
