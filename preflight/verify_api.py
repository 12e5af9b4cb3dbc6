"""The platform API calls of `preflight verify`: the session JWT exchange, the deployment read, finding and
reading the test conversation, the External Contact lookup and the disconnect.

Built on the doctor's client (components/genesys_api.py), so every call has its URL guard (https, plain http only
to loopback, no user info), no redirect followed, a wall-clock limit per request, the run's deadline, a body
limit and secret redaction. The doctor's client only GETs and PUTs; `VerifyApi` adds the POST and PATCH these
calls need, through the same guarded sender.

Paths, bodies and permissions per MyPureCloud/platform-client-sdk-python 257.1.0 `build/docs/`:
- WebDeploymentsApi.md `post_webdeployments_token_oauthcodegrantjwtexchange` ("Requires no permissions"), body
  WebDeploymentsOAuthExchangeRequest {deploymentId, oauth: WebDeploymentsOAuthRequestParameters {code,
  redirectUri (required), codeVerifier, nonce}}, answer WebDeploymentsAuthorizationResponse {jwt, refreshToken};
  the mobile transport SDK posts the same body (MyPureCloud/genesys-messenger-transport-mobile-sdk ea4509f,
  transport/src/commonMain/.../shyrka/send/AuthJwtRequest.kt, util/Urls.kt jwtAuthUrl).
- WebDeploymentsApi.md GET /api/v2/webdeployments/deployments/{deploymentId} (WebDeployment: status,
  allowAllDomains, allowedDomains, configuration {id, version}) and .../configurations/{id}/versions/{version}
  (WebDeploymentConfigurationVersion: headlessMode.enabled, authenticationSettings.enabled, status).
- ConversationsApi.md POST /api/v2/analytics/conversations/details/query (analytics:conversationDetail:view;
  ConversationQuery {interval, segmentFilters, order, paging}, answer AnalyticsConversationQueryResponse
  {conversations: [{conversationId}]}; SegmentDetailQueryPredicate dimensions include journeyCustomerId,
  externalContactId, mediaType), GET /api/v2/conversations/messages/{conversationId} (MessageConversation:
  participants[] MessageMediaParticipant {purpose, externalContactId, attributes, messages[].messageId}), and
  PATCH /api/v2/conversations/messages/{conversationId} with a Conversation {state: "disconnected"}
  (conversation:communication:disconnect; Conversation.md: "On update, 'disconnected' will disconnect the
  conversation").
- ExternalContactsApi.md POST /api/v2/externalcontacts/identifierlookup/contacts (externalContacts:contact:view;
  ContactIdentifier {type, value, externalSource {id}}) and GET /api/v2/externalcontacts/externalsources?name=
  (prefix filter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from components.genesys_api import ApiError, GenesysApi, segment

JWT_EXCHANGE_PATH = "/api/v2/webdeployments/token/oauthcodegrantjwtexchange"
ANALYTICS_QUERY_PATH = "/api/v2/analytics/conversations/details/query"
IDENTIFIER_LOOKUP_PATH = "/api/v2/externalcontacts/identifierlookup/contacts"
EXTERNAL_ID_TYPE = "ExternalId"
"""The identifier type the customer's `sub` is held under, beneath the CRM external source (the flow's lookup and
create: docs/how-it-works.md)."""
SEARCH_WINDOW = timedelta(minutes=5)
"""How far before the run's start the conversation search reaches (clocks differ)."""
DISCONNECTED = "disconnected"
CALLS = (
    "POST /api/v2/webdeployments/token/oauthcodegrantjwtexchange",
    "GET /api/v2/webdeployments/deployments",
    "GET /api/v2/webdeployments/deployments/{deploymentId}",
    "GET /api/v2/webdeployments/configurations/{configurationId}/versions/{versionId}",
    "GET /api/v2/externalcontacts/externalsources",
    "POST /api/v2/externalcontacts/identifierlookup/contacts",
    "POST /api/v2/analytics/conversations/details/query",
    "GET /api/v2/conversations/messages/{conversationId}",
    "PATCH /api/v2/conversations/messages/{conversationId}",
)
"""Every platform call verify makes besides the token exchange: the verify client's role holds what they need
(docs/verify.md lists the permissions; components/api_permissions.json has each call)."""


@dataclass(frozen=True)
class AuthCode:
    """The test user's authorization code from the team's IdP and what the exchange needs with it. Never printed."""

    code: str
    redirect_uri: str
    code_verifier: str = ""
    nonce: str = ""


class VerifyApi(GenesysApi):
    """The doctor's client plus JSON POST and PATCH, sent through the same guarded, bounded, redacting sender."""

    def add_secret(self, secret: str) -> None:
        """Scrub one more secret (a code, a session JWT, a ticket token) from every text this client shows."""
        self._redactor.add(secret)

    def send_json(self, method: str, path: str, body: Any, *, with_token: bool = True) -> Any:
        """`method` a JSON body to an API path; the decoded JSON answer (None for an empty one) or an ApiError."""
        headers = {"Content-Type": "application/json"}
        if with_token:
            if self._token is None:
                raise ApiError("invalid", "no access token: the token exchange has not succeeded")
            headers.update(self._bearer(self._token))
        answer = self._send(method, self._api_url(path), json=body, headers=headers)
        returned = answer.json()
        if answer.status not in (200, 201, 202, 204):
            raise self._http_error(answer, returned)
        self.last_path = path.split("?", 1)[0]
        return returned

    def get_with(self, url: str, headers: dict[str, str]) -> Any:
        """GET an absolute URL with the caller's own headers (a ticketing system's read); JSON or an ApiError."""
        answer = self._send("GET", url, headers=headers)
        body = answer.json()
        if answer.status != 200:
            raise self._http_error(answer, body)
        self.last_path = url.split("?", 1)[0]
        if body is None:
            raise ApiError("shape", f"unexpected response shape from {self.last_path}: not JSON")
        return body


def exchange_code(api: VerifyApi, deployment_id: str, auth: AuthCode) -> str:
    """The session JWT for the test user's code; the code and the JWT are redacted from everything shown."""
    api.add_secret(auth.code)
    oauth = {"code": auth.code, "redirectUri": auth.redirect_uri}
    oauth.update({k: v for k, v in (("codeVerifier", auth.code_verifier), ("nonce", auth.nonce)) if v})
    body = api.send_json("POST", JWT_EXCHANGE_PATH, {"deploymentId": deployment_id, "oauth": oauth}, with_token=False)
    jwt = body.get("jwt") if isinstance(body, dict) else None
    if not isinstance(jwt, str) or not jwt:
        raise ApiError("shape", f"unexpected response shape from {JWT_EXCHANGE_PATH}: no jwt")
    api.add_secret(jwt)
    refresh = body.get("refreshToken")
    if isinstance(refresh, str) and refresh:
        api.add_secret(refresh)
    return jwt


def deployment_id_by_name(api: VerifyApi, name: str) -> str | None:
    """The id of the web deployment named exactly `name`, as the doctor finds it."""
    listing = api.entities(api.get_object("/api/v2/webdeployments/deployments"))
    found = next((d for d in listing if d.get("name") == name), None)
    return str(found["id"]) if found and found.get("id") else None


def deployment(api: VerifyApi, deployment_id: str) -> dict[str, Any]:
    return api.get_object(f"/api/v2/webdeployments/deployments/{segment(deployment_id)}")


def configuration_version(api: VerifyApi, config_id: str, version: str) -> dict[str, Any]:
    return api.get_object(f"/api/v2/webdeployments/configurations/{segment(config_id)}/versions/{segment(version)}")


def external_source_id(api: VerifyApi, name: str) -> str | None:
    """The id of the External Contacts source named exactly `name` (the listing filters by prefix)."""
    listing = api.entities(api.get_object("/api/v2/externalcontacts/externalsources", {"name": name}))
    found = next((s for s in listing if s.get("name") == name), None)
    return str(found["id"]) if found and found.get("id") else None


def contact_by_external_id(api: VerifyApi, source_id: str, value: str) -> dict[str, Any] | None:
    """The External Contact holding `value` as its ExternalId under the source, or None (a 404)."""
    identifier = {"type": EXTERNAL_ID_TYPE, "value": value, "externalSource": {"id": source_id}}
    try:
        found = api.send_json("POST", IDENTIFIER_LOOKUP_PATH, identifier)
    except ApiError as error:
        if error.kind == "http" and error.status == 404:
            return None
        raise
    return found if isinstance(found, dict) else None


def interval(started: datetime, now: datetime | None = None) -> str:
    """The analytics interval from a little before the run's start to a little after now, ISO-8601."""
    end = (now or datetime.now(UTC)) + timedelta(minutes=1)
    begin = started - SEARCH_WINDOW

    def iso(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    return f"{iso(begin)}/{iso(end)}"


def find_conversations(api: VerifyApi, started: datetime, predicates: list[dict[str, str]]) -> list[str]:
    """Ids of message conversations in the run's window whose segments match any of `predicates` (newest first)."""
    query = {
        "interval": interval(started),
        "order": "desc",
        "orderBy": "conversationStart",
        "segmentFilters": [
            {"type": "and", "predicates": [{"type": "dimension", "dimension": "mediaType", "value": "message"}]},
            {"type": "or", "predicates": [{"type": "dimension", **p} for p in predicates]},
        ],
        "paging": {"pageSize": 25, "pageNumber": 1},
    }
    body = api.send_json("POST", ANALYTICS_QUERY_PATH, query)
    found = body.get("conversations") if isinstance(body, dict) else None
    if found is None:
        return []
    if not isinstance(found, list):
        raise ApiError("shape", f"unexpected response shape from {ANALYTICS_QUERY_PATH}: conversations is not a list")
    return [str(c["conversationId"]) for c in found if isinstance(c, dict) and c.get("conversationId")]


def message_conversation(api: VerifyApi, conversation_id: str) -> dict[str, Any]:
    return api.get_object(f"/api/v2/conversations/messages/{segment(conversation_id)}")


def disconnect(api: VerifyApi, conversation_id: str) -> None:
    api.send_json("PATCH", f"/api/v2/conversations/messages/{segment(conversation_id)}", {"state": DISCONNECTED})
