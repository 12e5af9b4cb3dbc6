"""The Genesys External Contacts calls of `migrate contacts`, as the contact-import role makes them.

From the platform SDK reference (MyPureCloud/platform-client-sdk-python 257.1.0, build/docs/ExternalContactsApi.md
and the models it names), the only calls this module makes (components/access.yaml, roles.contact-import):
- `GET /api/v2/externalcontacts/externalsources?name=` (externalContacts:contact:view among its ANY list): the id
  of the stack's CRM external source. `name` is "prefix filtering and not an exact match", limit 10..200, so
  the exact name is picked here.
- `POST /api/v2/externalcontacts/identifierlookup/contacts` (externalContacts:contact:view), body
  ContactIdentifier {type, value, externalSource}: the contact holding one identifier; 404 when none (the same
  reading as components/data_actions/contact_lookup.yaml).
- `POST /api/v2/externalcontacts/bulk/contacts/enrich` (externalContacts:contact:enrich), "Run up to 10 Enrich
  operations per request", body BulkContactsEnrichRequest {entities: [ContactEnrichRequest]}; the answer's
  `results` each carry the request's `id` tracker, `success`, `entity` or `error` {code, status, retryable},
  and "Ordering is NOT guaranteed", so results are matched by tracker, never by position.

Each worker thread gets its own client (GenesysApi arms one watchdog per request, so one client must not run
two at once); they share one token and one Throttle.
"""

from __future__ import annotations

import threading
from typing import Any

from components.genesys_api import ApiError, segment
from preflight.migrate_http import MigrationClient, Throttle

BULK_ENRICH_MAX = 10
"""ExternalContactsApi.md, post_externalcontacts_bulk_contacts_enrich: "Run up to 10 Enrich operations per request"."""
SOURCES_PAGE_LIMIT = 200
"""get_externalcontacts_externalsources `limit`: "must be between 10 and 200"."""
EXTERNAL_ID, EMAIL = "ExternalId", "Email"
"""ContactIdentifier.type allowed values include "ExternalId" and "Email" (models/contact_identifier.py)."""
INSERT, UPDATE = "Insert", "Update"
"""ContactEnrichRequest.action allowed values: "Merge", "Upsert", "Update", "Insert" (models/contact_enrich_request.py).
Never Merge or Upsert: the plan decided per row whether a contact exists, and the apply says exactly that."""


class ContactsApi(MigrationClient):
    """One worker's client for the External Contacts calls."""

    def token_from(self, other: ContactsApi) -> None:
        """Use a token another client minted (and redact it here too)."""
        self._token = other._token
        self._redactor.add(self._token or "")

    def _bearer_headers(self) -> dict[str, str]:
        if self._token is None:
            raise ApiError("invalid", "no access token: the token exchange has not succeeded")
        return {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}

    def find_source(self, name: str) -> str:
        """The id of the external source named exactly `name`."""
        path = "/api/v2/externalcontacts/externalsources"
        status, body = self.call(
            "GET",
            path,
            idempotent=True,
            headers=self._bearer_headers(),
            params={"name": name, "limit": SOURCES_PAGE_LIMIT},
        )
        if status != 200 or not isinstance(body, dict):
            raise self.failure("GET", path, status, body)
        entities = body.get("entities") or []
        if not isinstance(entities, list):
            raise ApiError("shape", f"unexpected response shape from {path}: entities is not a list")
        ids = [e.get("id") for e in entities if isinstance(e, dict) and e.get("name") == name]
        if len(ids) != 1 or not isinstance(ids[0], str) or not ids[0]:
            more = (
                " (the first page is full: more sources share the prefix)"
                if len(entities) >= SOURCES_PAGE_LIMIT
                else ""
            )
            raise ApiError(
                "shape",
                f"the org has {len(ids)} external sources named {name!r}, not one{more}; fix: "
                "deploy the stack first (it declares the source)",
            )
        return ids[0]

    def lookup(self, kind: str, value: str, source_id: str | None = None) -> dict[str, Any] | None:
        """The contact holding the identifier, or None."""
        path = "/api/v2/externalcontacts/identifierlookup/contacts"
        identifier: dict[str, Any] = {"type": kind, "value": value}
        if source_id is not None:
            identifier["externalSource"] = {"id": source_id}
        status, body = self.call("POST", path, idempotent=True, headers=self._bearer_headers(), json=identifier)
        if status == 404:
            return None
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise (
                self.failure("POST", path, status, body)
                if status != 200
                else ApiError("shape", f"unexpected response shape from {path}: no contact id")
            )
        return body

    def bulk_enrich(self, entities: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Tracker id -> its result. Not idempotent: a 5xx or a timeout raises, and the caller looks the rows up."""
        if not 0 < len(entities) <= BULK_ENRICH_MAX:
            raise ValueError(f"a bulk enrich takes 1 to {BULK_ENRICH_MAX} operations, not {len(entities)}")
        path = "/api/v2/externalcontacts/bulk/contacts/enrich"
        status, body = self.call(
            "POST", path, idempotent=False, headers=self._bearer_headers(), json={"entities": entities}
        )
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise self.failure("POST", path, status, body)
        results: dict[str, dict[str, Any]] = {}
        for result in body["results"]:
            tracker = result.get("id") if isinstance(result, dict) else None
            if isinstance(tracker, str):
                results[tracker] = result
        return results


class Workers:
    """A ContactsApi per thread, all sharing the first one's token and the Throttle."""

    def __init__(self, api_url: str, *, timeout: float, throttle: Throttle, **kwargs: Any) -> None:
        self._args = (api_url, timeout, throttle, kwargs)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[ContactsApi] = []
        self.first = self._new()

    def _new(self) -> ContactsApi:
        api_url, timeout, throttle, kwargs = self._args
        client = ContactsApi(api_url, timeout=timeout, throttle=throttle, **kwargs)
        with self._lock:
            self._all.append(client)
        return client

    def here(self) -> ContactsApi:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._new()
            client.token_from(self.first)
            self._local.client = client
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()


__all__ = ["BULK_ENRICH_MAX", "ContactsApi", "Workers", "segment"]
