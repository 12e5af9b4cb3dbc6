"""The Sunshine Conversations v2 calls of `migrate`: read-only, with an app's API key over HTTP Basic.

From the public OpenAPI file (zendesk/sunshine-conversations-api-spec, openapi.yaml, version 17.12.1):
- Authentication: "With Basic authentication you can make requests using an API key directly ... The key id is
  used as the username and the secret as the password." The host is `https://{subdomain}.zendesk.com/sc` for
  licensed Zendesk customers (or a legacy region's base URL), given with --sunshine-url.
- `GET /v2/apps/{appId}/users/{userIdOrExternalId}` (GetUser): `{"user": {id, externalId, profile: {givenName,
  surname, email, ...}, identities: [{type, value}]}}`; 404 `user_not_found` when there is none.
- `GET /v2/apps/{appId}/integrations?filter[types]=custom&page[size]=..&page[after]=..` (ListIntegrations):
  `{"integrations": [...], "meta": {"hasMore", "afterCursor"}}`, cursor paging, page size 1..100.
- `GET /v2/apps/{appId}/integrations/{integrationId}/webhooks` (ListWebhooks): `{"webhooks": [{id, version,
  target, triggers, secret, includeFullUser, includeFullSource}]}`. The webhook `secret` is never kept here.
"""

from __future__ import annotations

from typing import Any

from components.genesys_api import ApiError, segment
from preflight.migrate_http import MigrationClient

PAGE_SIZE = 100
"""page[size]: minimum 1, maximum 100 (openapi.yaml, components.schemas.page)."""
MAX_PAGES = 100
"""An app has at most 10 webhooks ("An app is limited to 10 webhooks", tag Webhooks); 100 pages of integrations
is far past any app, and bounds a server that always says hasMore."""
KEY_ID_VAR, KEY_SECRET_VAR = "SUNSHINE_KEY_ID", "SUNSHINE_KEY_SECRET"


class SunshineApi(MigrationClient):
    def __init__(self, base_url: str, key_id: str, key_secret: str, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self._key = (key_id, key_secret)
        self._redactor.add(key_secret, user=key_id)

    def _get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        missing_ok: bool = False,
        private: tuple[str, ...] = (),
    ) -> Any:
        status, body = self.call("GET", path, idempotent=True, auth=self._key, params=params, private=private)
        if status == 404 and missing_ok:
            return None
        if status != 200 or not isinstance(body, dict):
            raise (
                self.failure("GET", path, status, body, private)
                if status != 200
                else ApiError("shape", f"unexpected response shape from {path.split('?')[0]}: not an object")
            )
        return body

    def user(self, app_id: str, external_id: str) -> dict[str, Any] | None:
        """The user with this externalId, or None when Sunshine has none."""
        path = f"/v2/apps/{segment(app_id)}/users/{segment(external_id)}"
        body = self._get(path, missing_ok=True, private=(external_id,))
        user = body.get("user") if isinstance(body, dict) else None
        return user if isinstance(user, dict) else None

    def custom_integrations(self, app_id: str) -> list[dict[str, Any]]:
        path = f"/v2/apps/{segment(app_id)}/integrations"
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"filter[types]": "custom", "page[size]": PAGE_SIZE}
        for _ in range(MAX_PAGES):
            body = self._get(path, params)
            page = body.get("integrations")
            if not isinstance(page, list):
                raise ApiError("shape", f"unexpected response shape from {path}: integrations is not a list")
            found += [i for i in page if isinstance(i, dict)]
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            after = meta.get("afterCursor")
            if not meta.get("hasMore") or not isinstance(after, str) or not after:
                return found
            params = {**params, "page[after]": after}
        raise ApiError(
            "shape", f"{path}: more than {MAX_PAGES} pages of integrations (the server keeps saying hasMore)"
        )

    def webhooks(self, app_id: str, integration_id: str) -> list[dict[str, Any]]:
        path = f"/v2/apps/{segment(app_id)}/integrations/{segment(integration_id)}/webhooks"
        hooks = self._get(path).get("webhooks")
        if not isinstance(hooks, list):
            raise ApiError("shape", f"unexpected response shape from {path}: webhooks is not a list")
        # The shared secret of each webhook stays out of everything this tool keeps or prints.
        return [{k: v for k, v in h.items() if k != "secret"} for h in hooks if isinstance(h, dict)]


def profile(user: dict[str, Any]) -> tuple[str, str, str]:
    """(given name, surname, email) of a Sunshine user: profile fields, else an email identity."""
    data = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    text = {k: v.strip() if isinstance(v, str) else "" for k, v in data.items()}
    email = text.get("email", "")
    if not email:
        identities = user.get("identities") if isinstance(user.get("identities"), list) else []
        emails = [i.get("value") for i in identities if isinstance(i, dict) and i.get("type") == "email"]
        email = emails[0].strip() if emails and isinstance(emails[0], str) else ""
    return text.get("givenName", ""), text.get("surname", ""), email
