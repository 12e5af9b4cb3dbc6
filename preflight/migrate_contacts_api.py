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
from collections.abc import Callable
from typing import Any

from components.genesys_api import ApiError, TokenResult
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

    renew: Callable[[str | None], None] | None = None
    """Set by Workers: mint a new token when the API refuses this one (a client-credentials token expires; a run
    over a million rows at a real rate limit outlives it)."""

    def use_token(self, token: str | None) -> None:
        """Use a token another client minted (and redact it here too)."""
        self._token = token
        self._redactor.add(token or "")

    def _authorized(
        self, method: str, path: str, *, idempotent: bool, private: tuple[str, ...] = (), **kwargs: Any
    ) -> tuple[int, Any]:
        """A call with the bearer token; on a 401 the token is renewed once and the call made again (a 401 is
        the token refused before anything was done, so even a write is safe to repeat)."""
        for attempt in (1, 2):
            token = self._token
            if token is None:
                raise ApiError("invalid", "no access token: the token exchange has not succeeded")
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            status, body = self.call(method, path, idempotent=idempotent, headers=headers, private=private, **kwargs)
            if status == 401 and attempt == 1 and self.renew is not None:
                self.renew(token)
                continue
            return status, body
        raise AssertionError("unreachable")  # pragma: no cover

    def find_source(self, name: str) -> str:
        """The id of the external source named exactly `name`."""
        path = "/api/v2/externalcontacts/externalsources"
        status, body = self._authorized(
            "GET", path, idempotent=True, params={"name": name, "limit": SOURCES_PAGE_LIMIT}
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
        status, body = self._authorized("POST", path, idempotent=True, json=identifier, private=(value,))
        if status == 404:
            return None
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise (
                self.failure("POST", path, status, body, (value,))
                if status != 200
                else ApiError("shape", f"unexpected response shape from {path}: no contact id")
            )
        return body

    def bulk_enrich(self, entities: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Tracker id -> its result. Not idempotent: a 5xx or a timeout raises, and the caller looks the rows up."""
        if not 0 < len(entities) <= BULK_ENRICH_MAX:
            raise ValueError(f"a bulk enrich takes 1 to {BULK_ENRICH_MAX} operations, not {len(entities)}")
        path = "/api/v2/externalcontacts/bulk/contacts/enrich"
        private = tuple(_values(entities))
        status, body = self._authorized("POST", path, idempotent=False, json={"entities": entities}, private=private)
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise self.failure("POST", path, status, body, private)
        results: dict[str, dict[str, Any]] = {}
        for result in body["results"]:
            tracker = result.get("id") if isinstance(result, dict) else None
            if isinstance(tracker, str):
                results[tracker] = result
        return results


def _values(value: Any) -> list[str]:
    """Every string inside the operations (subs, names, emails): what an error message must not repeat."""
    if isinstance(value, str):
        return [value] if len(value) > 2 else []
    if isinstance(value, dict):
        return [v for k, item in value.items() if k not in ("type", "action") for v in _values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    return []


class Workers:
    """A ContactsApi per thread, all sharing one token (renewed once for all when it is refused) and the Throttle."""

    def __init__(self, api_url: str, *, timeout: float, throttle: Throttle, **kwargs: Any) -> None:
        self._args = (api_url, timeout, throttle, kwargs)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[ContactsApi] = []
        self._login: tuple[str, str, str] | None = None
        self.renewals = 0
        self.first = self._new()

    def _new(self) -> ContactsApi:
        api_url, timeout, throttle, kwargs = self._args
        client = ContactsApi(api_url, timeout=timeout, throttle=throttle, **kwargs)
        client.renew = self._renew
        with self._lock:
            self._all.append(client)
            client.use_token(self.first._token if self._all[0] is not client else None)
        return client

    def log_in(self, login_url: str, client_id: str, client_secret: str) -> TokenResult:
        self._login = (login_url, client_id, client_secret)
        result = self.first.exchange_token(login_url, client_id, client_secret)
        self._share()
        return result

    def _share(self) -> None:
        for client in self._all:
            client.use_token(self.first._token)

    def _renew(self, refused: str | None) -> None:
        with self._lock:
            if self.first._token != refused or self._login is None:
                return  # another worker renewed it already (or there is nothing to renew with)
            result = self.first.exchange_token(*self._login)
            if not result.ok:
                raise result.error or ApiError("http", "the token could not be renewed")
            self.renewals += 1
            self._share()

    def here(self) -> ContactsApi:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._new()
            self._local.client = client
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()
