"""A loopback fake of the parts of the Salesforce REST API and OAuth the salesforce preset calls.

Shaped from Salesforce's public references:
- REST API Developer Guide, "sObject Rows by External ID": GET
  /services/data/vXX.X/sobjects/Contact/{field}/{value}?fields=... -> 200 the record (with "attributes");
  404 [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]; 300 when several
  records share the value.
- Same guide, "Insert or Update (Upsert) a Record Using an External ID": PATCH
  /services/data/vXX.X/sobjects/Case/{field}/{value} -> 201 {"id", "success": true, "errors": [],
  "created": true} on insert ("created" from API 46.0). An update answering 200 with "created": false is
  this fake's assumption (UNVERIFIED; README "Ticketing systems").
- help.salesforce.com, "OAuth 2.0 Client Credentials Flow for Server-to-Server Integration": POST
  /services/oauth2/token (form grant_type=client_credentials, client_id, client_secret) -> 200
  {"access_token", "instance_url", "token_type": "Bearer", ...}; 400 {"error": "invalid_client"} otherwise.
- A call without a valid bearer token: 401 [{"errorCode": "INVALID_SESSION_ID", ...}]. Limits: the fake's
  429 with Retry-After is an injected fault (Salesforce documents REQUEST_LIMIT_EXCEEDED as 403; UNVERIFIED
  which one a burst meets).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

from tests.fake_http import Answer, FakeServer

_ROW = re.compile(r"^/services/data/v(\d+\.\d)/sobjects/(Contact|Case)/([A-Za-z0-9_]+)/(.+)$")


class FakeSalesforce(FakeServer):
    def __init__(self, client_id: str, client_secret: str, contact_field: str, case_field: str) -> None:
        self.client = (client_id, client_secret)
        self.fields = {"Contact": contact_field, "Case": case_field}
        self.token = "00Dfake!access-token"
        self.contacts: list[dict[str, Any]] = []
        self.cases: list[dict[str, Any]] = []
        super().__init__(self._route)

    def add_contact(self, external_id: str, name: str, **fields: str) -> str:
        contact_id = f"003Fake{len(self.contacts) + 1:011d}"
        self.contacts.append({"Id": contact_id, "Name": name, self.fields["Contact"]: external_id, **fields})
        return contact_id

    def _route(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Answer:
        if path == "/services/oauth2/token":
            form = urllib.parse.parse_qs(body.decode())
            given = (form.get("client_id", [""])[0], form.get("client_secret", [""])[0])
            if method != "POST" or form.get("grant_type") != ["client_credentials"] or given != self.client:
                return 400, {}, {"error": "invalid_client", "error_description": "invalid client credentials"}
            return 200, {}, {"access_token": self.token, "instance_url": "https://x", "token_type": "Bearer"}
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]
        row = _ROW.match(path)
        if not row or row.group(3) != self.fields[row.group(2)]:
            return 404, {}, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        value = urllib.parse.unquote(row.group(4))
        if row.group(2) == "Contact" and method == "GET":
            found = [c for c in self.contacts if c[self.fields["Contact"]] == value]
            if not found:
                return 404, {}, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            if len(found) > 1:
                return 300, {}, [f"/services/data/v{row.group(1)}/sobjects/Contact/{c['Id']}" for c in found]
            wanted = urllib.parse.parse_qs(query).get("fields", ["Id,Name"])[0].split(",")
            return 200, {}, {"attributes": {"type": "Contact"}, **{k: found[0].get(k) for k in wanted}}
        if row.group(2) == "Case" and method == "PATCH":
            return self._upsert_case(value, json.loads(body))
        return 405, {}, [{"errorCode": "METHOD_NOT_ALLOWED", "message": method}]

    def _upsert_case(self, value: str, fields: dict[str, Any]) -> Answer:
        contact = fields.pop("Contact", None)
        if contact is not None:
            match = [c for c in self.contacts if c[self.fields["Contact"]] == contact.get(self.fields["Contact"])]
            if len(match) != 1:
                return 400, {}, [{"errorCode": "INVALID_FIELD", "message": "Foreign key external ID not found"}]
            fields["ContactId"] = match[0]["Id"]
        existing = next((c for c in self.cases if c[self.fields["Case"]] == value), None)
        if existing:
            existing.update(fields)
            return 200, {}, {"id": existing["Id"], "success": True, "errors": [], "created": False}
        case = {"Id": f"500Fake{len(self.cases) + 1:011d}", self.fields["Case"]: value, **fields}
        self.cases.append(case)
        return 201, {}, {"id": case["Id"], "success": True, "errors": [], "created": True}
