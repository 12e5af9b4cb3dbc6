"""`python -m preflight verify` against loopback fakes: the Guest API (tests/fake_guest_api.py), the platform API
(tests/fake_genesys.py, extended here by subclassing: the code exchange, the deployment, analytics, the message
conversation, the External Contact lookup, the disconnect, the public CDN config) and a Zendesk ticket read.

Each fault names the link of the chain that fails (config, session, flow, contact, ticket). Expected participant
data is written here by hand from the README ("Participant data the flow owns") and flows/inbound_message.yaml,
never read from preflight/verify_checks.py. Every run asserts no secret (client secret, access token, the test
user's code, the session JWT, the ticket token) reaches the output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from components.access_data import access_spec
from components.settings_model import SalesforceCrm, SecretText, ZendeskCrm
from preflight import verify as verify_cli
from preflight import verify_api, verify_tickets
from preflight.__main__ import main
from tests.conftest import EXAMPLES, ROOT
from tests.conftest import planned_once as planned
from tests.fake_genesys import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, WITHHELD, FakeOrg, _error, _Handler, serve
from tests.fake_guest_api import GuestFake, serve_guest_api

STAGING = EXAMPLES / "Pulumi.staging.yaml"
PROD = EXAMPLES / "Pulumi.prod.yaml"
CODE = "test-user-auth-code-9f8e7d6c"
JWT = "eyJraWQiOiJ0ZXN0In0.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl"
TICKET_TOKEN = "zendesk-oauth-token-77aa88bb"
SUB = "auth0|test-user-42"
CONTACT_ID = "contact-test-user"
TICKET_ID = "4711"
SOURCE = "stg-CRM"
"""The External Contacts source a deployed staging stack leaves (README: the Crm component's source), by hand."""
REDIRECT = "https://www.staging.example.com/callback"
SECRETS = (CLIENT_SECRET, ACCESS_TOKEN, CODE, JWT, TICKET_TOKEN)
# The participant data the inbound flow records for a signed-in customer found in the CRM, by hand (README
# "Participant data the flow owns"; statuses found/created).
FLOW_DATA = {
    "customer.verified": "true",
    "customer.externalId": SUB,
    "crm.lookupStatus": "found",
    "genesys.contactLookupStatus": "found",
    "genesys.externalContactId": CONTACT_ID,
    "genesys.linkStatus": "linked",
    "crm.ticketStatus": "created",
    "crm.ticketId": TICKET_ID,
}


@dataclass
class Chain:
    """What the org does with one signed-in message: the conversation, its contact, its ticket. Faults by field."""

    org: FakeOrg
    guest: GuestFake | None = None
    public_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    journeys: dict[str, str] = field(default_factory=dict)
    """Journey customer id (the session token) -> conversation id, as analytics would find it."""
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """sub -> External Contact."""
    tickets: set[str] = field(default_factory=lambda: {TICKET_ID})
    flow_data: dict[str, str] = field(default_factory=lambda: dict(FLOW_DATA))
    link_contact: bool = True
    code_accepted: bool = True
    echo: bool = False
    """Quote the received code in the refusal, as a careless server might."""
    disconnected: list[str] = field(default_factory=list)
    reads_before_the_ticket: int = 0
    """Conversation reads that see only the flow's start-of-flow reset (the ticket step has not run yet)."""
    exchanges: list[Any] = field(default_factory=list)
    ticket_reads: list[str] = field(default_factory=list)

    def message(self, token: str, sub: str | None, text: str, message_id: str) -> None:
        """The flow's run for one inbound message: a conversation with participant data, on the contact."""
        conversation_id = f"conversation-{len(self.conversations) + 1}"
        data = dict(self.flow_data) if sub else {"customer.verified": "false", "crm.lookupStatus": "skipped-anonymous"}
        if sub and self.link_contact:
            self.contacts[sub] = {"id": CONTACT_ID, "externalIds": [{"value": sub}]}
        customer = {
            "id": "participant-customer",
            "purpose": "customer",
            "state": "connected",
            "attributes": data,
            "messages": [{"messageId": message_id, "messageStatus": "received"}],
        }
        if sub and self.link_contact:
            customer["externalContactId"] = CONTACT_ID
        self.conversations[conversation_id] = {
            "id": conversation_id,
            "participants": [customer, {"id": "participant-acd", "purpose": "acd", "state": "connected"}],
        }
        self.journeys[token] = conversation_id


def _at_flow_start(conversation: dict[str, Any]) -> dict[str, Any]:
    """The conversation as the flow's reset leaves it (flows/inbound_message.yaml): the ticket recorded `failed`."""
    participants = []
    for participant in conversation["participants"]:
        if participant.get("purpose") == "customer":
            reset = {**participant["attributes"], "crm.ticketStatus": "failed", "crm.ticketId": ""}
            participant = {**participant, "attributes": reset}
        participants.append(participant)
    return {**conversation, "participants": participants}


class _VerifyHandler(_Handler):
    chain: Chain

    def _json_body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")

    def _authorized(self) -> bool:
        if self.headers.get("Authorization", "") != f"Bearer {ACCESS_TOKEN}":
            self._send(*_error(401, "bad.credentials", "Invalid login credentials."))
            return False
        return True

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        chain = self.chain
        if path.startswith("/webdeployments/v1/deployments/") and path.endswith("/config.json"):
            # WebDeploymentsApi: the public, credential-free configuration (transport SDK DeploymentConfig.kt).
            if self._intercepted(path):
                return
            deployment_id = path.split("/")[4]
            found = chain.public_config.get(deployment_id)
            self._send(200, found) if found else self._send(404, {"message": "not found"})
            return
        if path.startswith("/zendesk/api/v2/tickets/"):
            # Zendesk Support API "Show Ticket": {"ticket": {...}}; 404 {"error": "RecordNotFound"}.
            if self._intercepted(path):
                return
            if self.headers.get("Authorization") != f"Bearer {TICKET_TOKEN}":
                self._send(401, {"error": "Couldn't authenticate you"})
                return
            ticket = path.rsplit("/", 1)[1]
            chain.ticket_reads.append(ticket)
            if ticket in chain.tickets:
                self._send(200, {"ticket": {"id": int(ticket), "subject": "Web messaging", "status": "new"}})
            else:
                self._send(404, {"error": "RecordNotFound", "description": "Not found"})
            return
        super().do_GET()

    def _api(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[2:]
        match parts:
            case ["webdeployments", "deployments", deployment_id]:
                found = next((d for d in self.org.deployments if d["id"] == deployment_id), None)
                return (200, found) if found else _error(404, "not.found", "deployment not found")
            case ["conversations", "messages", conversation_id]:
                found = self.chain.conversations.get(conversation_id)
                if found and self.chain.reads_before_the_ticket > 0:
                    # The flow is still running: only its start-of-flow reset is on the participant.
                    self.chain.reads_before_the_ticket -= 1
                    return 200, _at_flow_start(found)
                return (200, found) if found else _error(404, "not.found", "conversation not found")
        return super()._api(path, query)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        chain = self.chain
        if path == "/api/v2/webdeployments/token/oauthcodegrantjwtexchange":
            # WebDeploymentsApi.md: no permissions, no Authorization header; WebDeploymentsOAuthExchangeRequest.
            if self._intercepted(path):
                return
            body = self._json_body()
            chain.exchanges.append(body)
            oauth = body.get("oauth") or {}
            if "Authorization" in self.headers:
                self._send(*_error(400, "bad.request", "unexpected Authorization header"))
            elif chain.code_accepted and oauth.get("code") == CODE and oauth.get("redirectUri") == REDIRECT:
                assert chain.guest is not None
                chain.guest.jwts[JWT] = SUB
                self._send(200, {"jwt": JWT, "refreshToken": "refresh-0099aa"})
            else:
                # What Genesys answers a refused code is unverified: a 400 with a Genesys error body is played here.
                echo = f": {oauth.get('code')}" if chain.echo else ""
                self._send(*_error(400, "invalid.code", f"The authorization code could not be exchanged{echo}"))
            return
        if path.startswith("/login/"):
            super().do_POST()
            return
        if self._intercepted(path) or not self._authorized():
            return
        body = self._json_body()
        if path == "/api/v2/analytics/conversations/details/query":
            wanted = {
                p.get("value")
                for f in body.get("segmentFilters") or []
                for p in f.get("predicates") or []
                if p.get("dimension") in ("journeyCustomerId", "externalContactId")
            }
            ids = [c for token, c in chain.journeys.items() if token in wanted]
            ids += [
                c["id"]
                for c in chain.conversations.values()
                if any(p.get("externalContactId") in wanted for p in c["participants"])
            ]
            self._send(200, {"conversations": [{"conversationId": c} for c in dict.fromkeys(ids)]})
        elif path == "/api/v2/externalcontacts/identifierlookup/contacts":
            source = (body.get("externalSource") or {}).get("id")
            known = {s["id"] for s in self.org.external_sources}
            contact = chain.contacts.get(body.get("value"))
            if body.get("type") != "ExternalId" or source not in known or contact is None:
                self._send(*_error(404, "not.found", "no contact with this identifier"))
            else:
                self._send(200, contact)
        else:
            self._send(*_error(404, "not.found", f"no route {path}"))

    def do_PATCH(self) -> None:
        path = urlsplit(self.path).path
        if self._intercepted(path) or not self._authorized():
            return
        body = self._json_body()
        conversation_id = path.rsplit("/", 1)[1]
        if path.startswith("/api/v2/conversations/messages/") and conversation_id in self.chain.conversations:
            if body != {"state": "disconnected"}:
                self._send(*_error(400, "bad.request", "only state disconnected is valid"))
                return
            self.chain.disconnected.append(conversation_id)
            self._send(202, {"id": conversation_id})
        else:
            self._send(*_error(404, "not.found", f"no route {path}"))


@contextmanager
def serve_platform(chain: Chain) -> Iterator[str]:
    with serve(chain.org, _VerifyHandler, chain=chain) as base:
        yield base


@dataclass
class World:
    chain: Chain
    guest: GuestFake
    api_url: str
    ws_url: str

    @property
    def org(self) -> FakeOrg:
        return self.chain.org


def _healthy(config: Any) -> World:
    run = planned(config)
    org = FakeOrg(run.settings)
    for d in org.deployments:
        org.config_versions[(d["configuration"]["id"], "4")]["headlessMode"] = {"enabled": True}
    org.external_sources = [{"id": "source-crm", "name": SOURCE, "active": True}]
    chain = Chain(org)
    for d in org.deployments:
        chain.public_config[d["id"]] = {
            "id": d["configuration"]["id"],
            "version": "4",
            "languages": ["en-us"],
            "defaultLanguage": "en-us",
            "status": "Active",
            "auth": {"enabled": True, "allowSessionUpgrade": False},
            "messenger": {"enabled": True},
        }
    www = org.deployment("www")
    guest = GuestFake(deployment_id=www["id"], allowed_origins={f"https://{d}" for d in www["allowedDomains"]})
    guest.on_message = chain.message
    chain.guest = guest
    return World(chain, guest, "", "")


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from components.stack_file import read_stack_file

    config = read_stack_file(STAGING)
    monkeypatch.setattr(verify_cli, "run_program", lambda stack: planned(stack))
    w = _healthy(config)
    with ExitStack() as stack:
        w.api_url = stack.enter_context(serve_platform(w.chain))
        w.ws_url = stack.enter_context(serve_guest_api(w.guest))
        monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", CLIENT_SECRET)
        monkeypatch.setenv("PREFLIGHT_VERIFY_AUTH_CODE", CODE)
        monkeypatch.setenv("PREFLIGHT_VERIFY_REDIRECT_URI", REDIRECT)
        monkeypatch.setenv("PREFLIGHT_VERIFY_SUB", SUB)
        for name in (
            "PREFLIGHT_VERIFY_OAUTHCLIENT_ID",
            "PREFLIGHT_VERIFY_OAUTHCLIENT_SECRET",
            "PREFLIGHT_VERIFY_AUTH_CODE_COMMAND",
            verify_tickets.TICKET_TOKEN_VAR,
        ):
            monkeypatch.delenv(name, raising=False)
        yield w


def run_verify(
    w: World, capsys: pytest.CaptureFixture[str], *extra: str, config: str = str(STAGING)
) -> tuple[int, dict[str, Any]]:
    argv = [
        "verify",
        "--config-file",
        config,
        "--site",
        "www",
        "--api-url",
        w.api_url,
        "--login-url",
        f"{w.api_url}/login/{w.org.home_region}",
        "--cdn-url",
        w.api_url,
        "--websocket-url",
        w.ws_url,
        "--ticket-url",
        f"{w.api_url}/zendesk",
        "--timeout",
        "2",
        "--step-timeout",
        "1.5",
        "--deadline",
        "20",
        "--poll-interval",
        "0.05",
        "--format",
        "json",
        *extra,
    ]
    code = main(argv)
    out, err = capsys.readouterr()
    for text in (out, err):
        for secret in SECRETS:
            assert secret not in text, f"a secret reached the output: {secret[:6]}..."
        assert "Traceback" not in text
    return code, (json.loads(out) if out.strip() else {"stderr": err})


def by_check(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in document["checks"]}


# --- the whole chain ------------------------------------------------------------------------------------------


def test_healthy_chain_proves_every_link_and_cleans_up(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_verify(world, capsys)
    checks = by_check(doc)
    assert code == 0, doc.get("cause")
    assert doc["failingLink"] is None
    for name in ("config:www", "config:support", "session", "flow", "contact", "cleanup"):
        assert checks[name]["status"] == "ok", checks[name]
    # The example stack's preset is Zendesk; without a token for its API the read back is skipped with the reason.
    assert checks["ticket"]["status"] == "skipped", checks["ticket"]
    assert "set PREFLIGHT_VERIFY_TICKET_TOKEN to read it back from zendesk" in checks["ticket"]["summary"]
    assert checks["anonymous"]["status"] == "skipped", "staging does not check anonymous by default"
    # The exchange carried the code for the deployment; the message carried the marker; the conversation ended.
    (exchange,) = world.chain.exchanges
    assert exchange["deploymentId"] == world.org.deployment("www")["id"]
    assert exchange["oauth"] == {"code": CODE, "redirectUri": REDIRECT}
    sent = [r for r in world.guest.received if r["action"] == "onMessage"]
    assert len(sent) == 1 and sent[0]["message"]["text"].startswith("[preflight-verify] ")
    # The ticket's site label (the widget's `site` custom attribute, README "For widget developers") is marked too.
    label = sent[0]["message"]["channel"]["metadata"]["customAttributes"]["site"]
    assert label.startswith("[preflight-verify] ") and label.endswith(" www")
    auth = next(r for r in world.guest.received if r["action"] == "configureAuthenticatedSession")
    assert auth["data"] == {"code": JWT} and auth["deploymentId"] == world.org.deployment("www")["id"]
    assert world.chain.disconnected == ["conversation-1"]


def test_text_format_names_every_link(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "verify",
            "--config-file",
            str(STAGING),
            "--site",
            "www",
            "--api-url",
            world.api_url,
            "--login-url",
            f"{world.api_url}/login/{world.org.home_region}",
            "--cdn-url",
            world.api_url,
            "--websocket-url",
            world.ws_url,
            "--step-timeout",
            "1.5",
            "--poll-interval",
            "0.05",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Every link holds" in out and "session" in out and "contact" in out


# --- faults, each naming its link --------------------------------------------------------------------------------


def _failing(world: World, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict[str, Any], dict]:
    code, doc = run_verify(world, capsys, *extra)
    assert code == 1, doc
    return doc, by_check(doc)


def test_origin_not_allowed_fails_the_session(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.guest.allowed_origins = {"https://elsewhere.example.org"}
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "session"
    assert "403" in " ".join(checks["session"]["evidence"])
    assert "domains" in checks["session"]["fix"]
    assert checks["flow"]["status"] == "skipped"


def test_authentication_off_fails_config(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    www = world.org.deployment("www")
    world.chain.public_config[www["id"]]["auth"] = {"enabled": False}
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "config"
    assert checks["config:www"]["status"] == "problem" and "authentication" in checks["config:www"]["summary"]


def test_anonymous_accepted_in_prod_fails(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from components.stack_file import read_stack_file

    monkeypatch.setattr(verify_cli, "run_program", lambda stack: planned(stack))
    w = _healthy(read_stack_file(PROD))
    for name, value in (
        ("GENESYSCLOUD_OAUTHCLIENT_ID", CLIENT_ID),
        ("GENESYSCLOUD_OAUTHCLIENT_SECRET", CLIENT_SECRET),
        ("PREFLIGHT_VERIFY_AUTH_CODE", CODE),
        ("PREFLIGHT_VERIFY_REDIRECT_URI", REDIRECT),
        ("PREFLIGHT_VERIFY_SUB", SUB),
    ):
        monkeypatch.setenv(name, value)
    w.chain.org.external_sources = [{"id": "source-crm", "name": "CRM", "active": True}]
    with serve_platform(w.chain) as api_url, serve_guest_api(w.guest) as ws_url:
        w.api_url, w.ws_url = api_url, ws_url
        code, doc = run_verify(w, capsys, config=str(PROD))
        assert code == 0, doc.get("cause")
        assert by_check(doc)["anonymous"]["status"] == "ok", "prod checks an anonymous guest is refused"
        w.guest.auth_required = False
        code, doc = run_verify(w, capsys, config=str(PROD))
    assert code == 1
    assert by_check(doc)["anonymous"]["status"] == "problem" and doc["failingLink"] == "config"
    # Both test conversations ended: the signed-in one (second run's conversation-2) and the anonymous one.
    assert w.chain.disconnected[1:] == ["conversation-2", "conversation-3"]


def test_code_refused_fails_the_session(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.chain.code_accepted = False
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "session"
    assert "refused the test user's authorization code" in checks["session"]["summary"]
    assert not [r for r in world.guest.received if r["action"] == "onMessage"], "nothing sent without a session"


def test_jwt_refused_by_the_guest_api_fails_the_session(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.guest.jwts.clear()
    world.chain.guest = GuestFake("unused", set())  # the exchange registers its JWT elsewhere: Genesys refuses it
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "session" and "401" in " ".join(checks["session"]["evidence"])
    assert checks["session"]["summary"] == "the Guest API refused the signed-in session"


def test_no_external_contact_fails_the_contact(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.chain.link_contact = False
    world.chain.flow_data["genesys.contactLookupStatus"] = "not-found"
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "contact"
    assert checks["flow"]["status"] == "ok"
    assert "no External Contact" in checks["contact"]["summary"]
    assert world.chain.disconnected == ["conversation-1"], "cleanup runs after a failed link"


def test_a_first_conversation_that_created_the_contact_passes(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # The test user's first conversation: the flow's lookup found no contact and created it (enrich).
    world.chain.flow_data["genesys.contactLookupStatus"] = "created"
    code, doc = run_verify(world, capsys)
    assert code == 0 and by_check(doc)["contact"]["status"] == "ok", doc


def test_a_failed_link_fails_the_contact_and_names_the_flow_step(world: World, capsys) -> None:
    world.chain.flow_data["genesys.linkStatus"] = "failed"
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "contact"
    assert "genesys.linkStatus is 'failed'" in " ".join([checks["contact"]["summary"], *checks["contact"]["evidence"]])
    assert "Merge contact into the customer's" in checks["contact"]["fix"]


def test_ticket_failed_fails_the_ticket(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.chain.flow_data["crm.ticketStatus"] = "failed"
    del world.chain.flow_data["crm.ticketId"]
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "ticket" and "failed" in checks["ticket"]["summary"]


def test_ticket_read_back_per_preset(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_tickets, "preset_kind", lambda crm, raw: "zendesk")
    monkeypatch.setenv(verify_tickets.TICKET_TOKEN_VAR, TICKET_TOKEN)
    code, doc = run_verify(world, capsys)
    assert code == 0 and by_check(doc)["ticket"]["status"] == "ok", doc
    assert world.chain.ticket_reads == [TICKET_ID]
    world.chain.tickets.clear()
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "ticket" and "no ticket" in checks["ticket"]["summary"]


def test_custom_preset_is_skipped_with_a_reason(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_tickets, "preset_kind", lambda crm, raw: "custom")
    code, doc = run_verify(world, capsys)
    assert code == 0 and "custom" in by_check(doc)["ticket"]["summary"]


def test_flow_not_seeing_a_signed_in_customer_fails_the_flow(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.chain.flow_data["customer.verified"] = "false"
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "flow" and "customer.verified" in checks["flow"]["summary"]


@pytest.mark.parametrize(
    "fault", ["drop", "stall", "throttled", "huge", "binary", "not-json", "wrong-type", "unknown-envelope"]
)
def test_socket_faults_fail_the_session(world: World, capsys: pytest.CaptureFixture[str], fault: str) -> None:
    world.guest.fault = fault
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "session"
    expected = {"drop": "dropped", "stall": "stalled", "throttled": "error"}.get(fault, "hostile")
    assert f"({expected})" in checks["session"]["summary"], checks["session"]
    assert doc["seconds"] < 10, "a stalled or hostile socket is cut by the step's time, not waited out"


def test_conversation_not_found_fails_the_flow(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.chain.journeys.clear()
    world.chain.link_contact = False
    original = world.chain.message

    def unrecorded(token: str, sub: str | None, text: str, message_id: str) -> None:
        original(token, sub, text, message_id)
        world.chain.journeys.clear()

    world.guest.on_message = unrecorded
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "flow" and "no conversation" in checks["flow"]["summary"]
    assert checks["cleanup"]["status"] == "skipped"


# --- could not run ------------------------------------------------------------------------------------------------


def test_missing_credentials_or_code_cannot_run(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFLIGHT_VERIFY_AUTH_CODE")
    code, doc = run_verify(world, capsys)
    assert code == 2 and "no test user code" in doc["stderr"]
    monkeypatch.setenv("PREFLIGHT_VERIFY_AUTH_CODE", CODE)
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_SECRET")
    code, doc = run_verify(world, capsys)
    assert code == 2 and "GENESYSCLOUD_OAUTHCLIENT_ID" in doc["stderr"]


@pytest.mark.parametrize(
    "option, value",
    [
        ("--websocket-url", "ws://evil.example.com"),
        ("--websocket-url", "https://webmessaging.mypurecloud.ie"),
        ("--api-url", "http://api.example.com"),
        ("--cdn-url", "https://user:pw@api-cdn.mypurecloud.ie"),
    ],
)
def test_unsafe_urls_are_refused_before_anything_is_sent(
    world: World, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    code, doc = run_verify(world, capsys, option, value)
    assert code == 2 and option.lstrip("-").split("-")[0] in doc["stderr"].lower() + "websocket api cdn"
    assert not world.chain.exchanges and not world.guest.received


def test_code_command_prints_the_code(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PREFLIGHT_VERIFY_AUTH_CODE")
    monkeypatch.delenv("PREFLIGHT_VERIFY_SUB")
    script = tmp_path / "code.py"
    seen = tmp_path / "environment.json"
    printed = json.dumps({"code": CODE, "redirectUri": REDIRECT, "sub": SUB})
    script.write_text(
        f"import json, os, pathlib\npathlib.Path({str(seen)!r}).write_text(json.dumps(sorted(os.environ)))\n"
        f"print({printed!r})\n"
    )
    code, doc = run_verify(world, capsys, "--auth-code-command", f"{sys.executable} {script}")
    assert code == 0, doc.get("cause")
    assert by_check(doc)["contact"]["status"] == "ok", "the sub the command printed is the one checked"
    handed = set(json.loads(seen.read_text()))
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" not in handed and "GENESYSCLOUD_OAUTHCLIENT_ID" in handed


def test_failing_code_command_is_the_session_problem(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    command = f"{sys.executable} -c \"import sys; print('{CODE}', file=sys.stderr); sys.exit(3)\""
    doc, checks = _failing(world, capsys, "--auth-code-command", command)
    assert doc["failingLink"] == "session" and "exited with 3" in " ".join(checks["session"]["evidence"])


def test_secrets_a_server_echoes_are_not_shown(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.chain.code_accepted, world.chain.echo = False, True
    _doc, checks = _failing(world, capsys)  # run_verify asserts the code never shows
    assert WITHHELD in " ".join(checks["session"]["evidence"])
    world.chain.code_accepted = True
    world.guest.echo = True
    world.guest.jwts.clear()
    world.chain.guest = GuestFake("unused", set())
    _doc, checks = _failing(world, capsys)  # ... and neither does the session JWT the Guest API echoed
    assert WITHHELD in " ".join(checks["session"]["evidence"])


def test_a_redirected_handshake_is_not_followed(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = GuestFake(world.guest.deployment_id, set(world.guest.allowed_origins))
    with serve_guest_api(elsewhere) as other:
        world.guest.fault, world.guest.redirect_to = "redirect", f"{other}/v1?deploymentId={elsewhere.deployment_id}"
        doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "session" and "redirect" in " ".join(checks["session"]["evidence"])
    assert not elsewhere.received, "the JWT never travels to where a redirect points"


def test_the_run_deadline_cuts_a_stalled_socket(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.guest.fault = "stall"
    code, doc = run_verify(world, capsys, "--deadline", "1")
    checks = by_check(doc)
    assert code == 1 and checks["session"]["status"] == "problem"
    assert doc["seconds"] < 3
    assert all(checks[c]["status"] == "skipped" for c in ("flow", "contact", "ticket", "cleanup"))


def test_code_from_stdin(world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.delenv("PREFLIGHT_VERIFY_AUTH_CODE")
    monkeypatch.setattr(sys, "stdin", io.StringIO(CODE + "\n"))
    code, doc = run_verify(world, capsys, "--auth-code-stdin")
    assert code == 0, doc.get("cause")


def test_every_call_is_declared_with_its_permissions(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the fake org saw is exactly verify_api.CALLS (plus the token, the public config, the ticket read), and
    each call is in the SDK reference table with the permission docs/verify.md grants the verify client."""
    import re


    monkeypatch.setattr(verify_tickets, "preset_kind", lambda crm, raw: "zendesk")
    monkeypatch.setenv(verify_tickets.TICKET_TOKEN_VAR, TICKET_TOKEN)
    code, doc = run_verify(world, capsys)
    assert code == 0, doc.get("cause")

    def template(call: str) -> re.Pattern[str]:
        return re.compile("^" + "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", call)) + "$")

    patterns = {c: template(c) for c in verify_api.CALLS}
    other = re.compile(
        r"^(POST /login/[^/]+/oauth/token|GET /webdeployments/v1/deployments/[^/]+/config\.json|"
        r"GET /zendesk/api/v2/tickets/[^/]+)$"
    )
    seen = {f"{method} {path}" for method, path in world.org.hits}
    used = {c for c in verify_api.CALLS for s in seen if patterns[c].match(s)}
    assert {s for s in seen if not other.match(s) and not any(p.match(s) for p in patterns.values())} == set()
    assert used == set(verify_api.CALLS), f"declared but never made: {set(verify_api.CALLS) - used}"
    table = json.loads((ROOT / "components" / "api_permissions.json").read_text())["endpoints"]
    documented = dict(
        re.findall(r"^\| `([A-Z]+ /api/v2/[^`]+)` \| `?([^`|]+?)`? \|", (ROOT / "docs" / "verify.md").read_text(), re.M)
    )
    assert set(documented) == set(verify_api.CALLS)
    for call, permission in documented.items():
        needs = table[call]
        allowed = needs.get("any", []) + needs.get("all", [])
        assert (permission == "none" and needs.get("none")) or permission in allowed, f"{call}: {permission}"


def test_domains_must_be_exactly_the_sites(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.org.deployment("www")["allowedDomains"].append("attacker.example.net")
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "config" and "not exactly" in checks["config:www"]["summary"]
    assert checks["config:support"]["status"] == "ok"


def test_headless_as_declared(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    www = world.org.deployment("www")["configuration"]
    world.org.config_versions[(www["id"], www["version"])]["headlessMode"] = {"enabled": False}
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "config" and "headless" in checks["config:www"]["summary"]


def test_an_odd_conversation_answer_is_a_problem_not_a_traceback(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.org.mangled["/api/v2/conversations/messages/"] = lambda body: {**body, "participants": "not a list"}
    doc, checks = _failing(world, capsys)
    assert doc["failingLink"] == "flow" and checks["flow"]["status"] == "problem"


@pytest.mark.parametrize(
    "printed, problem",
    [
        ("", "no authorization code"),
        ("two words", "no authorization code"),
        ('{"code": 7}', "must be strings"),
        ("{not json", "does not parse"),
    ],
)
def test_unusable_code_output_is_refused(printed: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        verify_cli.parse_code(printed, REDIRECT)


def test_code_output_forms() -> None:
    bare, sub = verify_cli.parse_code(f"  {CODE}\n", REDIRECT)
    assert (bare.code, bare.redirect_uri, sub) == (CODE, REDIRECT, "")
    document = json.dumps({"code": CODE, "redirectUri": "https://x.example/cb", "codeVerifier": "v" * 43, "sub": SUB})
    full, sub = verify_cli.parse_code(document, "")
    assert (full.redirect_uri, full.code_verifier, sub) == ("https://x.example/cb", "v" * 43, SUB)
    with pytest.raises(ValueError, match="redirect URI"):
        verify_cli.parse_code(CODE, "")


def test_a_contact_created_after_the_first_lookup_is_found(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Identity resolution creates the contact when the conversation starts, maybe after verify first looks."""
    lookups = []
    original = world.chain.message

    def late(token: str, sub: str | None, text: str, message_id: str) -> None:
        original(token, sub, text, message_id)
        lookups.append(world.chain.contacts.pop(SUB))  # not there yet when verify first looks...

    world.guest.on_message = late
    original_find = _VerifyHandler.do_POST

    def do_post(handler: _VerifyHandler) -> None:
        if urlsplit(handler.path).path == "/api/v2/analytics/conversations/details/query" and lookups:
            world.chain.contacts[SUB] = lookups.pop()  # ...and there by the time the conversation is found
        original_find(handler)

    world_patch = pytest.MonkeyPatch()
    world_patch.setattr(_VerifyHandler, "do_POST", do_post)
    try:
        code, doc = run_verify(world, capsys)
    finally:
        world_patch.undo()
    assert code == 0, doc.get("cause")
    assert by_check(doc)["contact"]["status"] == "ok"


@pytest.mark.parametrize(
    "base_url, expected",
    [
        ("https://acme.zendesk.com/api/v2", "https://acme.zendesk.com"),
        ("https://acme.my.salesforce.com/services/apexrest", "https://acme.my.salesforce.com"),
        ("https://crm.example.com:8443/api", "https://crm.example.com:8443"),
    ],
)
def test_ticket_reads_go_to_the_crm_host_root(base_url: str, expected: str) -> None:
    assert verify_tickets.origin(base_url) == expected


def test_each_preset_reads_its_ticket_on_the_host_the_preset_fixes() -> None:
    zendesk = ZendeskCrm(subdomain="acme-help", email="bot@acme.test", api_token=SecretText("x"))
    salesforce = SalesforceCrm(
        instance="acme",
        api_version="61.0",
        contact_external_id_field="Sub__c",
        case_external_id_field="Conversation__c",
        client_id="id",
        client_secret=SecretText("x"),
    )
    # Zendesk "Show Ticket" and Salesforce "sObject Rows", on the preset's own host (README "Ticketing systems").
    assert verify_tickets.ticket_origin(zendesk) == "https://acme-help.zendesk.com"
    assert verify_tickets.PRESETS["zendesk"].path(zendesk, "42") == "/api/v2/tickets/42"
    assert verify_tickets.ticket_origin(salesforce) == "https://acme.my.salesforce.com"
    assert verify_tickets.PRESETS["salesforce"].path(salesforce, "500x") == "/services/data/v61.0/sobjects/Case/500x"


def test_the_verifier_role_serves_exactly_the_calls_verify_makes() -> None:
    assert access_spec().roles["verifier"].calls == tuple(sorted(verify_api.CALLS))
    assert "verifier" in access_spec().bootstrap_clients["verifier"].roles


def test_the_flows_reset_does_not_end_the_wait_for_the_ticket(world: World, capsys) -> None:
    # The first reads see the start-of-flow reset (ticket `failed`): verify waits for the ticket step's own outcome.
    world.chain.reads_before_the_ticket = 2
    code, doc = run_verify(world, capsys)
    assert code == 0, doc.get("cause")
    assert by_check(doc)["ticket"]["status"] != "problem", by_check(doc)["ticket"]
