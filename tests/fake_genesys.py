"""A fake Genesys Cloud org for the doctor tests, served over HTTP on 127.0.0.1 only.

Responses follow the recorded shapes of the Platform API (entity listings with `entities`/`pageCount`,
OAuth errors with `error`/`error_description`, Genesys errors with `message`/`code`/`status`).
Login hosts are per region under `/login/<region>`, so a test can put the client in another region.
Tests mutate the `FakeOrg` fields to break one thing at a time. The server stops when its context
exits; a stalled handler wakes up then too, so nothing outlives a test.

The org's object names are written here by hand (what a deployed stack leaves in an org), never taken from
the program or the doctor: the tests compare what those look for with an org they do not shape.

Shapes of the objects, per MyPureCloud/platform-client-sdk-python 257.1.0 build/docs/ (field names as the
models' attribute_map spells them in JSON):
- GET /api/v2/webdeployments/deployments/{deploymentId}/identityresolution (WebDeploymentsApi.md):
  DeploymentIdentityResolutionConfig.md {resolveIdentities, externalSource {id} (IdentityResolutionExternalSource),
  division {id}, automerge {authenticatedWebMessaging, webTracking} (IdentityResolutionAutomergeConfig.md)}.
  Whether Genesys answers 404 or an object with resolveIdentities false for a deployment never set: unverified.
- GET /api/v2/externalcontacts/externalsources[/{externalSourceId}] (ExternalContactsApi.md): ExternalSource.md
  {id, name, active, linkConfiguration}.
- GET /api/v2/flows/{flowId} (ArchitectApi.md): Flow.md, with lockedUser (User.md: id, name, email) and
  lockedClient (DomainEntityRef.md: id, name) while someone holds the flow. Whether the API fills them without an
  expand: unverified.
- GET /api/v2/integrations/{integrationId}/config/current (IntegrationsApi.md): IntegrationConfiguration.md
  {id, name, version, properties (object), advanced, notes, credentials}.
- GET /api/v2/webdeployments/configurations/{configurationId}/versions/{versionId} (WebDeploymentsApi.md):
  WebDeploymentConfigurationVersion.md {name, version, headlessMode {enabled}, description, languages,
  defaultLanguage, messenger (MessengerSettings.md), authenticationSettings (AuthenticationSettings.md), ...,
  status, datePublished}. (WebDeploymentsApi.md has no ".../versions/published" path.)
"""

from __future__ import annotations

import base64
import json
import textwrap
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

from components.access_data import access_spec
from components.messenger_identity import oidc_integration_spec
from components.settings_model import Settings

CLIENT_ID = "3f0c8d0e-doctor-client"
CLIENT_SECRET = "fake-client-secret-7c1f2e9a"
ACCESS_TOKEN = "fake-access-token-5b8d3c4f"
OIDC_TYPE_NAME = "OpenID Connect Messenger Configuration"
HOME_DIVISION = "division-home"
# Object names as a deployed stack leaves them, before its namePrefix (a site's deployment is `<prefix><site key>`,
# its configuration `<prefix><site key> messenger`). Roles are per org: bootstrap/ names them
# `genesys-messaging <role key>`, without a stack prefix.
ROLE_NAME_PREFIX = "genesys-messaging "
OIDC_INTEGRATION = "Messenger OpenID Connect"
CRM_INTEGRATION = "CRM Data Actions"
CRM_LOOKUP_ACTION = "Look up customer by external id"
CRM_EXTERNAL_SOURCE = "CRM"
FLOW = "Inbound Web Messaging"
STALL_SECONDS = 5
TRICKLE_SECONDS = 0.05
"""One byte per this long: under any per-read timeout, so only a whole-request limit stops it."""
HUGE_BYTES = 64 * 1024 * 1024
ERROR_DETAIL_CHARS = 200
"""Where the client cuts an error message (components/genesys_api.py); the "long" echo puts a secret across it."""


WITHHELD = "(the rest of the answer is not shown: only known codes and messages are)"
"""What the client says in place of an error body's unknown text (components/genesys_api.py error_detail)."""
ECHO_FORMS = ("folded", "hex", "base32", "upper", "marker", "zwsp", "spaced", "reversed", "entities")
"""Echo styles a deny-list of encodings missed (issue 25): base64 folded over lines, hex, base32, upper case, cut
with another marker, split by zero-width spaces, spaced out, reversed, HTML entities."""


def spec_properties() -> dict[str, dict[str, Any]]:
    """The OIDC integration's property entries: key -> {setting: identityProvider attribute} or {value: fixed}."""
    return dict(oidc_integration_spec()["properties"])


def policies(permissions: list[str]) -> list[dict[str, Any]]:
    """Role permission policies as GET /api/v2/authorization/roles/{id} returns them."""
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for permission in permissions:
        domain, entity, action = permission.split(":")
        grouped[(domain, entity)].append(action)
    return [
        {"domain": d, "entityName": e, "actionSet": sorted(a), "allowConditions": False}
        for (d, e), a in sorted(grouped.items())
    ]


@dataclass
class FakeOrg:
    """A healthy org for the stack; tests change one field to create one problem."""

    settings: Settings
    home_region: str = ""
    client: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    config_versions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    flows: dict[str, dict[str, Any]] = field(default_factory=dict)
    integrations: list[dict[str, Any]] = field(default_factory=list)
    integration_types: list[dict[str, Any]] = field(default_factory=list)
    """Each with its `credentials` map (slot -> title, required, credentialTypes), as GET .../types/{id}."""
    config_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Type id -> the JSON schema of its properties (GET .../types/{id}/configschemas/properties)."""
    credential_types: list[dict[str, Any]] = field(default_factory=list)
    divisions: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    discovery: dict[str, Any] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    """Path prefixes answered 403 missing.permissions."""
    rate_limited: dict[str, int] = field(default_factory=dict)
    """Path prefix -> how many 429s to answer before serving it."""
    retry_after: str = "0"
    stalled: set[str] = field(default_factory=set)
    """Path prefixes that never answer (until the server stops)."""
    echo_credentials: bool = False
    """Quote the received credentials in error messages, as a careless gateway might."""
    echo_style: str = "plain"
    """How they are quoted: plain, basic (the raw Basic header), quote, quote_plus (URL-encoded), cut (the server's
    message ends inside the secret), long (padded so the client's cut falls inside the secret), or one of ECHO_FORMS."""
    client_secret: str = CLIENT_SECRET
    login_answer: tuple[int, dict[str, str], Any] | None = None
    """(status, headers, body) the login host answers every token request with: an outage, a redirect."""
    redirects: dict[str, str] = field(default_factory=dict)
    """Path prefix -> Location of a 302 answered instead."""
    throttle_status: int = 429
    """The status `rate_limited` answers with (503 plays an outage with Retry-After)."""
    trickled: set[str] = field(default_factory=set)
    """Path prefixes answered one byte per TRICKLE_SECONDS, from the status line on (until the server stops)."""
    trickle_body_only: bool = False
    """Send the status line and headers at once and trickle only the body."""
    huge: set[str] = field(default_factory=set)
    """Path prefixes answered with HUGE_BYTES of body (until the client hangs up)."""
    huge_declared: bool = True
    """Whether the huge answer declares its Content-Length (else it ends when the connection closes)."""
    mangled: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    """Path prefix -> a function applied to the body of every 200 answer there: unexpected shapes."""
    token_rejection: tuple[int, str, str] | None = None
    """(status, code, message) every API call with the right token is answered with: a token the API refuses."""
    page_size: int | None = None
    """Force a page size on listings, to exercise paging."""
    hits: Counter = field(default_factory=Counter)
    """Requests per (method, path), including the ones answered 429."""
    identity_resolution: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Deployment id -> its DeploymentIdentityResolutionConfig; GET and PUT .../identityresolution."""
    puts: list[tuple[str, Any]] = field(default_factory=list)
    """Every PUT (path, JSON body) received, in order."""
    oauth_clients: list[dict[str, Any]] = field(default_factory=list)
    """OAuth clients besides the deployer's (`client`), as GET /api/v2/oauth/clients lists them (OAuthClient)."""
    queues: list[dict[str, Any]] = field(default_factory=list)
    """Routing queues (Queue: id, name, division {id, name}); GET /api/v2/routing/queues."""
    credentials: list[dict[str, Any]] = field(default_factory=list)
    """Integration credentials (CredentialInfo: id, name, type {name}); GET /api/v2/integrations/credentials/listing."""
    external_sources: list[dict[str, Any]] = field(default_factory=list)
    """External sources (ExternalSource: id, name, active, linkConfiguration); GET /api/v2/externalcontacts/..."""
    integration_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Integration id -> its IntegrationConfiguration; GET /api/v2/integrations/{id}/config/current."""

    def __post_init__(self) -> None:
        s = self.settings
        self.home_region = self.home_region or s.region.code
        self.client = {
            "id": CLIENT_ID,
            "name": "pulumi-deployer",
            "authorizedGrantType": "CLIENT-CREDENTIALS",
            "scope": [],
            # bootstrap/ grants the deployer role and every role the stacks grant, in the stacks' divisions.
            "roleDivisions": [
                {"roleId": f"role-{key}", "divisionId": HOME_DIVISION}
                for key in ("deployer", *access_spec().granted_by_stacks)
            ],
            "state": "active",
            "accessTokenValiditySeconds": 86400,
        }
        self.roles = {
            f"role-{key}": {
                "id": f"role-{key}",
                "name": f"{ROLE_NAME_PREFIX}{key}",
                "permissionPolicies": policies(list(role.permissions)),
                "userCount": 0,
            }
            for key, role in access_spec().roles.items()
        }
        self.divisions = [
            {"id": HOME_DIVISION, "name": s.division, "homeDivision": True},
            {"id": "division-sandbox", "name": "Sandbox", "homeDivision": False},
        ]
        oidc = {
            "id": "integration-oidc",
            "name": f"{s.name_prefix}{OIDC_INTEGRATION}",
            "integrationType": {"id": s.oidc_integration_type, "name": OIDC_TYPE_NAME},
            "intendedState": "ENABLED",
            "reportedState": {"code": "ACTIVE", "effective": "Active"},
        }
        crm = {
            "id": "integration-crm",
            "name": f"{s.name_prefix}{CRM_INTEGRATION}",
            "integrationType": {"id": "custom-rest-actions", "name": "Web Services Data Actions"},
            "intendedState": "ENABLED",
            "reportedState": {"code": "ACTIVE", "effective": "Active"},
        }
        self.integrations = [crm, oidc]
        # The OIDC integration's properties as `pulumi up` leaves them: each key components/oidc_integration.yaml
        # declares, with its fixed value or the identityProvider setting it names (the file's two kinds of entry).
        idp = s.identity_provider
        self.integration_configs["integration-oidc"] = {
            "id": "integration-oidc",
            "name": oidc["name"],
            "version": 3,
            "properties": {
                key: entry["value"] if "value" in entry else getattr(idp, entry["setting"])
                for key, entry in spec_properties().items()
            },
            "advanced": {},
            "notes": "",
            "credentials": {"clientCredentials": {"id": "credential-oidc", "name": oidc["name"]}},
        }
        self.external_sources = [
            {
                "id": "external-source-crm",
                "name": f"{s.name_prefix}{CRM_EXTERNAL_SOURCE}",
                "active": True,
                "linkConfiguration": {"uriTemplate": s.crm.contact_url_template},
            }
        ]
        # The OIDC type's keys are the ones components/oidc_integration.yaml guesses, so the healthy org
        # agrees with whatever the file says; tests rename one to play a file that guessed wrong.
        spec = oidc_integration_spec()
        credential = spec["credential"]
        basic = {"title": "Credentials", "required": True, "credentialTypes": ["basicAuth", "userDefined"]}
        oidc_slot = {"title": "Identity provider client", "required": True, "credentialTypes": [credential["type"]]}
        self.integration_types = [
            {"id": "custom-rest-actions", "name": "Web Services Data Actions", "credentials": {"basicAuth": basic}},
            {"id": s.oidc_integration_type, "name": OIDC_TYPE_NAME, "credentials": {credential["slot"]: oidc_slot}},
            {"id": "purecloud-data-actions", "name": "Genesys Cloud Data Actions", "credentials": {}},
        ]
        self.config_schemas[s.oidc_integration_type] = {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": OIDC_TYPE_NAME,
            "type": "object",
            "properties": {key: {"type": "string", "title": key} for key in spec["properties"]},
            "required": list(spec["properties"]),
            "additionalProperties": False,
        }
        strings = {"type": "string"}
        self.credential_types = [
            {
                "id": "credential-type-basic",
                "name": "basicAuth",
                "properties": {"userName": strings, "password": strings},
                "displayOrder": ["userName", "password"],
                "required": ["userName", "password"],
            },
            {
                "id": "credential-type-oidc",
                "name": credential["type"],
                "properties": {key: strings for key in credential["fields"]},
                "displayOrder": list(credential["fields"]),
                "required": list(credential["fields"]),
            },
        ]
        flow_id = "flow-inbound"
        self.flows = {
            flow_id: {
                "id": flow_id,
                "name": f"{s.name_prefix}{FLOW}",
                "type": "INBOUNDSHORTMESSAGE",
                "active": True,
                "publishedVersion": {"id": "3.0", "commitVersion": "3.0"},
            }
        }
        for site in s.sites:
            config_id = f"configuration-{site.key}"
            self.deployments.append(
                {
                    "id": f"deployment-{site.key}",
                    "name": f"{s.name_prefix}{site.key}",
                    "status": "Active",
                    "allowAllDomains": False,
                    "allowedDomains": list(site.domains),
                    "configuration": {"id": config_id, "version": "4"},
                    "flow": {"id": flow_id, "name": f"{s.name_prefix}{FLOW}"},
                }
            )
            # The published version as the stack's declaration leaves it: headless, messenger on, authenticated.
            self.config_versions[(config_id, "4")] = {
                "id": config_id,
                "name": f"{s.name_prefix}{site.key} messenger",
                "version": "4",
                "status": "Active",
                "datePublished": "2026-11-20T09:00:00.000Z",
                "description": f"Headless, authenticated Messenger for {', '.join(site.domains)}",
                "headlessMode": {"enabled": True},
                "languages": list(site.languages),
                "defaultLanguage": site.default_language,
                "messenger": {"enabled": True},
                "authenticationSettings": {
                    "enabled": True,
                    "integrationId": "integration-oidc",
                    "allowSessionUpgrade": s.identity_provider.allow_session_upgrade,
                },
            }
            self.identity_resolution[f"deployment-{site.key}"] = {
                "resolveIdentities": True,
                "externalSource": {"id": "external-source-crm"},
                "division": {"id": HOME_DIVISION},
                "automerge": {"authenticatedWebMessaging": True, "webTracking": False},
            }
        self.actions = [
            {
                "id": "action-crm-lookup",
                "name": CRM_LOOKUP_ACTION,
                "category": f"{s.name_prefix}{CRM_INTEGRATION}",
                "integrationId": "integration-crm",
                "version": 2,
                "secure": False,
            }
        ]
        issuer = s.identity_provider.discovery_uri.removesuffix("/.well-known/openid-configuration")
        self.discovery = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
        }

    def oidc_type(self) -> dict[str, Any]:
        return next(t for t in self.integration_types if t["name"] == OIDC_TYPE_NAME)

    def oidc_credential_type(self) -> dict[str, Any]:
        return next(c for c in self.credential_types if c["id"] == "credential-type-oidc")

    def integration(self, name: str) -> dict[str, Any]:
        return next(i for i in self.integrations if i["name"] == name)

    def deployment(self, site_key: str) -> dict[str, Any]:
        return next(d for d in self.deployments if d["id"] == f"deployment-{site_key}")


def _listing(entities: list[dict[str, Any]], query: dict[str, list[str]], forced: int | None) -> dict[str, Any]:
    size = forced or int(query.get("pageSize", ["25"])[0])
    number = int(query.get("pageNumber", ["1"])[0])
    count = max(1, -(-len(entities) // size))
    page = entities[(number - 1) * size : number * size]
    return {"entities": page, "pageSize": size, "pageNumber": number, "total": len(entities), "pageCount": count}


def _filtered(entities: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """?name= as a search term (AuthorizationApi.md: "Search term to filter by division name"), ?id= a list."""
    name, ids = query.get("name", [""])[0].lower(), query.get("id")
    return [e for e in entities if name in e["name"].lower() and (ids is None or e["id"] in ids)]


def _cursor_listing(
    path: str, entities: list[dict[str, Any]], query: dict[str, list[str]], forced: int | None
) -> dict[str, Any]:
    """A cursor listing (WebDeploymentsApi.md, IntegrationsApi.md .../credentials/listing): `entities`, and a
    `nextUri` carrying `after` while more remain. The cursor here is just the next index."""
    size = forced or len(entities) or 1
    start = int(query.get("after", query.get("cursor", ["0"]))[0])
    body: dict[str, Any] = {"entities": entities[start : start + size], "selfUri": path}
    if start + size < len(entities):
        body["nextUri"] = f"{path}?after={start + size}"
        body["cursors"] = {"after": str(start + size)}
    return body


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"message": message, "code": code, "status": status}


class _Handler(BaseHTTPRequestHandler):
    org: FakeOrg
    stop: threading.Event

    def log_message(self, *_args: Any) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _trickle(self) -> None:
        """A small answer sent one byte at a time: each read gets a byte in time, the request never ends."""
        body = json.dumps({"entities": [], "padding": "." * 200}).encode()
        head = f"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        if self.org.trickle_body_only:
            self.wfile.write(head)
            head = b""
        try:
            for byte in head + body:
                if self.stop.wait(TRICKLE_SECONDS):
                    return
                self.wfile.write(bytes([byte]))
        except OSError:
            pass  # the client gave up

    def _huge(self) -> None:
        length = f"Content-Length: {HUGE_BYTES}\r\n" if self.org.huge_declared else ""
        self.wfile.write(f"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n{length}\r\n".encode())
        chunk = b" " * 65536
        try:
            for _ in range(HUGE_BYTES // len(chunk)):
                if self.stop.is_set():
                    return
                self.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading, as it should

    def _echoed(self, value: str, secret: str) -> str:
        """`value` (which contains `secret`) as a careless server quotes it back, per the org's echo_style."""
        style = self.org.echo_style
        if style == "quote":
            return quote(value, safe="")
        if style == "quote_plus":
            return quote_plus(value)
        if style == "basic":
            return base64.b64encode(value.encode()).decode()
        if style == "cut":
            return value[: value.index(secret) + len(secret) - 4]  # all but the secret's last 4 characters
        # Issue 25: forms a list of encodings to redact missed.
        encoded = {
            "folded": lambda: "\r\n ".join(textwrap.wrap(base64.b64encode(value.encode()).decode(), 16)),
            "hex": lambda: value.encode().hex(),
            "base32": lambda: base64.b32encode(value.encode()).decode(),
            "upper": value.upper,
            "marker": lambda: value[: value.index(secret) + len(secret) - 4] + "[truncated]",
            "zwsp": lambda: value.replace(secret, "\u200b".join(secret)),
            "spaced": lambda: " ".join(value),
            "reversed": lambda: value[::-1],
            "entities": lambda: "".join(f"&#{ord(c)};" for c in value),
        }
        return encoded[style]() if style in encoded else value

    def _padded(self, message: str) -> str:
        """For the "long" style: padding that puts the end of `message` just past the client's cut."""
        if self.org.echo_style != "long":
            return message
        return "." * max(0, ERROR_DETAIL_CHARS - len(message) + 8) + message

    def _intercepted(self, path: str) -> bool:
        """Stall, trickle, redirect, rate limit or forbid per the org's test settings; True when answered."""
        org = self.org
        org.hits[(self.command, path)] += 1
        if any(path.startswith(p) for p in org.stalled):
            self.stop.wait(STALL_SECONDS)
            return True
        if any(path.startswith(p) for p in org.trickled):
            self._trickle()
            return True
        if any(path.startswith(p) for p in org.huge):
            self._huge()
            return True
        for prefix, location in org.redirects.items():
            if path.startswith(prefix):
                self._send(302, {}, {"Location": location})
                return True
        for prefix, remaining in org.rate_limited.items():
            if path.startswith(prefix) and remaining > 0:
                org.rate_limited[prefix] = remaining - 1
                status, body = _error(org.throttle_status, "too.many.requests", "Rate limit exceeded")
                self._send(status, body, {"Retry-After": org.retry_after})
                return True
        if any(path.startswith(p) for p in org.forbidden):
            self._send(*_error(403, "missing.permissions", "You are missing the permissions for this request"))
            return True
        return False

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if self._intercepted(path):
            return
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "login" and parts[2:] == ["oauth", "token"]:
            self._token(parts[1])
        else:
            self._send(*_error(404, "not.found", f"no route {path}"))

    def _token(self, region: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        auth = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{self.org.client_secret}".encode()).decode()
        if self.org.login_answer is not None:
            status, headers, body = self.org.login_answer
            self._send(status, body, headers)
        elif form.get("grant_type") != ["client_credentials"]:
            self._send(400, {"error": "unsupported_grant_type", "description": "grant type not supported"})
        elif region == self.org.home_region and auth == expected:
            self._send(200, self._mangled("/oauth/token", {"access_token": ACCESS_TOKEN, "token_type": "bearer"}))
        else:
            # Genesys answers a client unknown in this region exactly like a wrong secret.
            description = "client not found"
            if self.org.echo_credentials and self.org.echo_style == "basic":
                description = f"client not found (Authorization: {auth})"
            elif self.org.echo_credentials:
                received = base64.b64decode(auth[6:]).decode()
                secret = received.split(":", 1)[-1]
                description = self._padded(f"client not found: {self._echoed(received, secret)}")
            self._send(400, {"error": "invalid_client", "description": description, "error_description": description})

    def _mangled(self, path: str, body: Any) -> Any:
        for prefix, mangle in self.org.mangled.items():
            if path.startswith(prefix):
                return mangle(body)
        return body

    def do_PUT(self) -> None:
        path = urlsplit(self.path).path
        if self._intercepted(path):
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        if self.headers.get("Authorization", "") != f"Bearer {ACCESS_TOKEN}":
            self._send(*_error(401, "bad.credentials", "Invalid login credentials."))
            return
        self.org.puts.append((path, body))
        match path.strip("/").split("/")[2:]:
            case ["webdeployments", "deployments", deployment_id, "identityresolution"]:
                if deployment_id not in {d["id"] for d in self.org.deployments}:
                    self._send(*_error(404, "not.found", f"deployment {deployment_id} not found"))
                elif not isinstance(body, dict) or not isinstance(body.get("resolveIdentities"), bool):
                    self._send(*_error(400, "bad.request", "resolveIdentities is required"))
                else:
                    self.org.identity_resolution[deployment_id] = body
                    self._send(200, {**body, "selfUri": path})
            case _:
                self._send(*_error(404, "not.found", f"no route {path}"))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        if self._intercepted(path):
            return
        if path == "/idp/.well-known/openid-configuration":
            self._send(200, self._mangled(path, self.org.discovery))
            return
        received = self.headers.get("Authorization", "")
        if received != f"Bearer {ACCESS_TOKEN}":
            echo = ""
            if self.org.echo_credentials:
                echo = f" (got {self._echoed(received, received.removeprefix('Bearer '))}"
                echo += ")" if self.org.echo_style != "cut" else ""
            self._send(*_error(401, "bad.credentials", self._padded("Invalid login credentials." + echo)))
            return
        if self.org.token_rejection is not None:
            status, code, message = self.org.token_rejection
            if self.org.echo_credentials:  # the API quoting back the (valid) token it refuses
                message += f" (got {self._echoed(received, ACCESS_TOKEN)})"
            self._send(*_error(status, code, message))
            return
        status, body = self._api(path, query)
        self._send(status, self._mangled(path, body) if status == 200 else body)

    def _api(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        org, parts = self.org, path.strip("/").split("/")[2:]
        not_found = _error(404, "not.found", f"{path} not found")
        match parts:
            case ["tokens", "me"]:
                return 200, {"name": "pulumi-deployer", "homeOrganization": {"id": "org-1"}}
            case ["oauth", "clients", client_id]:
                return (200, org.client) if client_id == org.client["id"] else not_found
            case ["authorization", "roles", role_id]:
                return (200, org.roles[role_id]) if role_id in org.roles else not_found
            case ["authorization", "roles"]:
                return 200, _listing(_filtered(list(org.roles.values()), query), query, org.page_size)
            case ["authorization", "divisions"]:
                return 200, _listing(_filtered(org.divisions, query), query, org.page_size)
            case ["webdeployments", "deployments", deployment_id, "identityresolution"]:
                found = org.identity_resolution.get(deployment_id)
                return (200, found) if found else not_found
            case ["webdeployments", "deployments"]:
                return 200, {"entities": org.deployments, "total": len(org.deployments)}
            case ["webdeployments", "configurations", config_id, "versions", version]:
                found = org.config_versions.get((config_id, version))
                return (200, found) if found else not_found
            case ["flows", flow_id]:
                return (200, org.flows[flow_id]) if flow_id in org.flows else not_found
            case ["flows"]:
                named = [f for f in org.flows.values() if f["name"] in query.get("name", [f["name"]])]
                types = [t.lower() for t in query.get("type", [])]
                named = [f for f in named if not types or f["type"].lower() in types]
                return 200, _listing(named, query, org.page_size)
            case ["oauth", "clients"]:
                return 200, _listing([org.client, *org.oauth_clients], query, org.page_size)
            case ["routing", "queues"]:
                return 200, _listing(_filtered(org.queues, query), query, org.page_size)
            case ["webdeployments", "configurations"]:
                # One entity per configuration: its latest version (WebDeploymentConfigurationVersion).
                latest: dict[str, dict[str, Any]] = {}
                for (config_id, version), entity in sorted(org.config_versions.items()):
                    latest[config_id] = {**entity, "id": config_id, "version": version}
                return 200, _cursor_listing(path, list(latest.values()), query, org.page_size)
            case ["integrations", "credentials", "listing"]:
                return 200, _cursor_listing(path, org.credentials, query, org.page_size)
            case ["externalcontacts", "externalsources", source_id]:
                found = next((e for e in org.external_sources if e["id"] == source_id), None)
                return (200, found) if found else not_found
            case ["integrations", integration_id, "config", "current"]:
                found = org.integration_configs.get(integration_id)
                return (200, found) if found else not_found
            case ["externalcontacts", "externalsources"]:
                # ExternalContactsApi.md: "Filtering is prefix filtering and not an exact match".
                prefix = query.get("name", [""])[0]
                named = [e for e in org.external_sources if e["name"].startswith(prefix)]
                return 200, _cursor_listing(path, named, query, org.page_size)
            case ["integrations"]:
                return 200, _listing(org.integrations, query, org.page_size)
            case ["integrations", "types"]:
                # Whether the listing carries `credentials` is unrecorded: leave it out, so the doctor reads the type.
                listed = [{k: v for k, v in t.items() if k != "credentials"} for t in org.integration_types]
                return 200, _listing(listed, query, org.page_size)
            case ["integrations", "types", type_id]:
                found = next((t for t in org.integration_types if t["id"] == type_id), None)
                return (200, found) if found else not_found
            case ["integrations", "types", type_id, "configschemas", "properties"]:
                found = org.config_schemas.get(type_id)
                return (200, found) if found else not_found
            case ["integrations", "credentials", "types"]:
                return 200, {"entities": org.credential_types}
            case ["integrations", "actions"]:
                wanted = query.get("name", [""])[0].lower()
                named = [a for a in org.actions if wanted in a["name"].lower()]
                return 200, _listing(named, query, org.page_size)
        return not_found


@contextmanager
def serve(org: FakeOrg, handler_base: type | None = None, **attributes: Any) -> Iterator[str]:
    """Serve the org on 127.0.0.1 (an ephemeral port) in a thread; yields the base URL. A test module that answers
    more calls passes its own handler (a subclass of _Handler) and the attributes it reads."""
    stop = threading.Event()
    handler = type("Handler", (handler_base or _Handler,), {"org": org, "stop": stop, **attributes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
