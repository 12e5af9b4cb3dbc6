"""The checks of `preflight verify`, one per link of the chain a signed-in conversation goes through:
config (the deployment as published), session (a signed-in guest sends one message), flow (the inbound flow ran
and saw the signed-in customer), contact (the conversation is on the customer's External Contact), ticket (opened
at chat start and present in the ticketing system), then anonymous (refused where authentication is required)
and cleanup (the test conversation disconnected).

Each check returns the doctor's `Result` (ok / problem / skipped, evidence, fix); `LINKS` names the link each
check proves. Calls: preflight/verify_api.py (platform), verify_guest.py (Guest API), verify_tickets.py.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from components.flow_template import owned_participant_data
from components.genesys_api import ApiError, Deadline, segment
from components.settings import Settings
from preflight import verify_api, verify_guest, verify_tickets
from preflight.doctor_checks import OK, PROBLEM, SHAPE_ERRORS, SKIPPED, Result, error_fix
from preflight.estate_view import Deployment
from preflight.verify_api import AuthCode, VerifyApi
from preflight.verify_guest import GuestError

# The participant data the inbound flow records, as verify reads it after one signed-in conversation whose CRM
# lookup finds the test user: role -> (key, the values accepted, or None where it is compared with what verify
# found). Every key is one the flow owns in flows/participant_data.json, the one list of them (the flow's check
# and the tests read it too): a key that file does not list stops verify at import, naming it.
_OWNED = owned_participant_data()


def _owned(name: str) -> str:
    if name not in _OWNED:
        raise LookupError(f"preflight/verify_checks.py: {name!r} is not a key flows/participant_data.json lists")
    return name


PARTICIPANT_DATA: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "verified": (_owned("customer.verified"), ("true",)),
    "external_id": (_owned("customer.externalId"), None),  # the test user's sub
    "crm_lookup": (_owned("crm.lookupStatus"), ("found",)),
    # The test user's first conversation creates the contact (enrich); later ones find it.
    "contact_lookup": (_owned("genesys.contactLookupStatus"), ("found", "created")),
    "contact_id": (_owned("genesys.externalContactId"), None),  # the contact holding the sub
    # Merged into the customer's contact by the flow, or already on it (identity resolution got there first).
    "link": (_owned("genesys.linkStatus"), ("linked", "already-linked")),
    "ticket_status": (_owned("crm.ticketStatus"), ("created",)),
    "ticket_id": (_owned("crm.ticketId"), None),  # any non-empty id, then read back from the ticketing system
}


def key(role: str) -> str:
    """The participant data key of a role in PARTICIPANT_DATA."""
    return PARTICIPANT_DATA[role][0]


MARKER = "[preflight-verify]"
"""Starts every test message and the test ticket's site label: docs/verify.md tells the team to filter on it."""
SITE_ATTRIBUTE = "site"
"""The custom attribute the flow reads as the ticket's site label (flows/inbound_message.yaml, State.siteHint)."""

LINKS = {
    "config": "config",
    "session": "session",
    "flow": "flow",
    "contact": "contact",
    "ticket": "ticket",
    "anonymous": "config",
    "cleanup": "cleanup",
}
"""Check -> the link of the chain it proves (per-site config checks are `config:<site>`)."""

_GUEST_FIXES = {
    "invalid": "check --websocket-url (wss://, plain ws:// only to localhost)",
    "refused": "add the Origin's domain to sites.<site>.domains and pulumi up (the deployment's allowedDomains); "
    "check --websocket-url and the region",
    "error": "see the error the Guest API answered; run preflight doctor for the deployment and its configuration",
    "dropped": "the Guest API closed the socket: retry; if it persists, check the deployment is Active (doctor)",
    "stalled": "no answer in time: check network access to webmessaging.<region domain>, or raise --step-timeout",
    "hostile": "something between verify and Genesys (a proxy?) answered in frames the Guest API never sends",
    "tls": "a TLS-intercepting proxy or an old CA bundle? point SSL_CERT_FILE at the proxy's CA bundle",
    "connect": "check network access to webmessaging.<region domain> (firewall, proxy, --websocket-url)",
}


@dataclass
class VerifyContext:
    """What every check reads and what earlier checks found for later ones."""

    settings: Settings
    site: Deployment
    configuration_headless: dict[str, bool]
    """Configuration name -> headlessModeEnabled as the stack declares it."""
    external_source: str
    """The name of the External Contacts source the stack declares for the CRM."""
    api: VerifyApi
    deadline: Deadline
    step_seconds: float
    cdn_url: str
    websocket_url: str
    deployment_ids: dict[str, str]
    auth_code: Callable[[], AuthCode]
    """Fetches the test user's code when the session check needs it (a command may print a fresh one)."""
    sub: str
    ticket_url: str
    ticket_token: str
    check_anonymous: bool
    poll_seconds: float
    started: datetime
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    found: dict[str, Any] = field(default_factory=dict)

    @property
    def marker(self) -> str:
        return f"{MARKER} {self.run_id}"

    def origin(self, site: Deployment) -> str:
        return f"https://{site.allowed_domains[0]}"

    def step_ends(self) -> float:
        return time.monotonic() + min(self.step_seconds, max(0.0, self.deadline.remaining()))


def guarded(check: str, title: str, body: Callable[[], Result]) -> Result:
    """A check whose API failure or odd answer becomes its problem, never a traceback."""
    try:
        return body()
    except ApiError as error:
        if error.kind == "out-of-time":
            return Result(check, title, SKIPPED, "not checked: the run's --deadline had passed", [str(error)])
        return Result(check, title, PROBLEM, f"the API call failed ({error.kind})", [str(error)], error_fix(error))
    except GuestError as error:
        return Result(
            check,
            title,
            PROBLEM,
            f"the guest session failed ({error.kind})",
            [str(error)],
            _GUEST_FIXES.get(error.kind, ""),
        )
    except SHAPE_ERRORS as error:
        return Result(
            check,
            title,
            PROBLEM,
            "an answer of an unexpected shape",
            [f"reading it failed with {type(error).__name__}"],
            _GUEST_FIXES["hostile"],
        )


def _verdict(check: str, title: str, problems: list[str], evidence: list[str], fixes: list[str], ok: str) -> Result:
    if not problems:
        return Result(check, title, OK, ok, evidence)
    return Result(check, title, PROBLEM, problems[0], [*problems[1:], *evidence], "; ".join(dict.fromkeys(fixes)))


# --- config ----------------------------------------------------------------------------------------------


def check_config(ctx: VerifyContext, site: Deployment) -> Result:
    """The deployment's public configuration (what the Messenger and the transport SDK read, no credentials) and
    the deployment itself, against what the stack declares."""
    check, title = f"config:{site.site_key}", f"Deployment '{site.name}' as published"
    return guarded(check, title, lambda: _config(ctx, site, check, title))


def _config(ctx: VerifyContext, site: Deployment, check: str, title: str) -> Result:
    deployment_id = ctx.deployment_ids.get(site.site_key)
    if not deployment_id:
        return Result(
            check,
            title,
            PROBLEM,
            f"no web deployment named '{site.name}' in the org",
            [],
            "deploy the stack (pulumi up), or give --deployment-id site=ID",
        )
    problems, evidence, fixes = [], [f"deployment {deployment_id}"], []
    # Public config: MyPureCloud/genesys-messenger-transport-mobile-sdk util/Urls.kt deploymentConfigUrl and
    # shyrka/receive/DeploymentConfig.kt (status Active|Inactive, auth.enabled).
    public_url = f"{ctx.cdn_url}/webdeployments/v1/deployments/{segment(deployment_id)}/config.json"
    public = ctx.api.get_public_json(public_url)
    if not isinstance(public, dict):
        raise ApiError("shape", "the public configuration is not a JSON object")
    auth = public.get("auth") if isinstance(public.get("auth"), dict) else {}
    evidence.append(
        f"public config version {public.get('version')}: status {public.get('status')}, "
        f"auth.enabled {auth.get('enabled')}"
    )
    if public.get("status") != "Active":
        problems.append(f"the published configuration's status is {public.get('status')}, not Active")
        fixes.append("publish the configuration (pulumi up)")
    if auth.get("enabled") is not True:
        problems.append("the published configuration does not require authentication (auth.enabled is not true)")
        fixes.append("enable authenticated messaging on the configuration and publish it (pulumi up)")
    # The deployment through the API: the exact domain list, status, and the configuration version it serves.
    found = verify_api.deployment(ctx.api, deployment_id)
    domains = sorted(found.get("allowedDomains") or [])
    declared = sorted(site.allowed_domains)
    evidence.append(f"deployment status {found.get('status')}, allowedDomains {domains}")
    if found.get("status") != "Active":
        problems.append(f"the deployment's status is {found.get('status')}, not Active")
        fixes.append("see the deployment in Admin > Message > Messenger Deployments")
    if found.get("allowAllDomains"):
        problems.append("allowAllDomains is true: any site can embed it")
        fixes.append("pulumi up (the stack lists its domains)")
    if domains != declared:
        problems.append(f"allowedDomains {domains} are not exactly sites.{site.site_key}.domains {declared}")
        fixes.append("pulumi up, or correct sites.<site>.domains")
    ref = found.get("configuration") or {}
    if ref.get("id") and ref.get("version"):
        version = verify_api.configuration_version(ctx.api, str(ref["id"]), str(ref["version"]))
        headless = bool((version.get("headlessMode") or {}).get("enabled"))
        wanted = ctx.configuration_headless.get(site.configuration.name)
        evidence.append(f"configuration version {ref.get('version')}: headlessMode.enabled {headless}")
        if wanted is not None and headless != wanted:
            problems.append(
                f"headless mode is {'on' if headless else 'off'}, the stack declares {'on' if wanted else 'off'}"
            )
            fixes.append("pulumi up to publish the stack's configuration")
    else:
        problems.append("the deployment references no configuration version")
        fixes.append("pulumi up to attach the configuration")
    return _verdict(check, title, problems, evidence, fixes, "published, authenticated, the declared domains only")


# --- session ---------------------------------------------------------------------------------------------


def check_session(ctx: VerifyContext) -> Result:
    check, title = "session", f"Signed-in guest session on '{ctx.site.name}'"
    deployment_id = ctx.deployment_ids.get(ctx.site.site_key)
    if not deployment_id:
        return Result(check, title, SKIPPED, "needs the deployment (see its config check)")
    return guarded(check, title, lambda: _session(ctx, deployment_id, check, title))


def _session(ctx: VerifyContext, deployment_id: str, check: str, title: str) -> Result:
    try:
        auth = ctx.auth_code()
    except ValueError as error:
        return Result(
            check,
            title,
            PROBLEM,
            "no authorization code for the test user",
            [str(error)],
            "configure the test user's code command (docs/verify.md, 'The test user')",
        )
    ctx.api.add_secret(auth.code)
    try:
        jwt = verify_api.exchange_code(ctx.api, deployment_id, auth)
    except ApiError as error:
        if error.kind != "http":
            raise
        return Result(
            check,
            title,
            PROBLEM,
            "Genesys refused the test user's authorization code",
            [str(error)],
            "the code must be fresh (single use, minutes) and issued to the IdP client of "
            "identityProvider.clientId for the redirect URI given; check the OpenID Connect integration "
            "(preflight doctor)",
        )
    token = str(uuid.uuid4())
    ctx.found["session_token"] = token
    url = verify_guest.websocket_url(ctx.websocket_url, deployment_id)
    origin = ctx.origin(ctx.site)
    evidence = [f"code exchanged for a session JWT at {verify_api.JWT_EXCHANGE_PATH}", f"Origin {origin}"]
    with verify_guest.session(url, origin, seconds=ctx.step_seconds, deadline=ctx.deadline) as guest:
        try:
            body = guest.configure(verify_guest.configure_authenticated_session(token, deployment_id, jwt))
        except GuestError as error:
            if error.kind != "error" or error.code not in (401, 403):
                raise
            return Result(
                check,
                title,
                PROBLEM,
                "the Guest API refused the signed-in session",
                [*evidence, str(error)],
                "the deployment's configuration must have authentication on with the stack's OpenID Connect "
                "integration, published (preflight doctor checks both); the exchange and the socket must use the "
                "same deployment",
            )
        evidence.append(f"configureAuthenticatedSession: connected, newSession {body.get('newSession')}")
        if body.get("readOnly"):
            return Result(
                check,
                title,
                PROBLEM,
                "the session is read-only: it cannot send",
                evidence,
                "a previous conversation of the test user is still ending: rerun in a minute",
            )
        # The widget's `site` attribute only labels the ticket (README "For widget developers"): marked, the ticket
        # the flow opens carries the marker too.
        label = {SITE_ATTRIBUTE: f"{ctx.marker} {ctx.site.site_key}"}
        echoed = guest.message(token, f"{ctx.marker} signed-in test message, please ignore", label)
        ctx.found["message_ids"] = [v for v in (echoed.get("id"), (echoed.get("channel") or {}).get("messageId")) if v]
        evidence.append(f"test message '{ctx.marker}' sent and echoed (id {echoed.get('id')})")
        ctx.found["guest_open"] = True
        # The socket closes on exit anyway; the conversation itself is disconnected by cleanup.
        with contextlib.suppress(GuestError):
            guest.send(verify_guest.close_session(token))
    return Result(check, title, OK, "signed in and sent the marked test message", evidence)


# --- flow, contact, ticket ---------------------------------------------------------------------------------


def _customer(conversation: dict[str, Any]) -> dict[str, Any] | None:
    return next((p for p in conversation.get("participants") or [] if p.get("purpose") == "customer"), None)


def _ours(ctx: VerifyContext, conversation: dict[str, Any]) -> bool:
    """Whether a conversation carries the test message (by the ids the Guest API echoed); without ids, any."""
    wanted = set(ctx.found.get("message_ids") or [])
    if not wanted:
        return True
    customer = _customer(conversation) or {}
    return any(m.get("messageId") in wanted for m in customer.get("messages") or [] if isinstance(m, dict))


def _poll(ctx: VerifyContext, attempt: Callable[[], Any], ends_at: float) -> Any:
    """`attempt()` until it returns something or `ends_at` (the step's end, within the run's deadline) comes."""
    while True:
        found = attempt()
        if found or time.monotonic() + ctx.poll_seconds >= ends_at:
            return found
        time.sleep(ctx.poll_seconds)


def _conversation(ctx: VerifyContext, ends_at: float) -> dict[str, Any] | None:
    """The test session's conversation: found by the journey customer id the session sent (its token) or the test
    user's External Contact, confirmed by the echoed message id; polled while analytics catches up."""
    if "conversation" in ctx.found:
        return ctx.found["conversation"]
    predicates = [{"dimension": "journeyCustomerId", "value": ctx.found["session_token"]}]
    if ctx.found.get("contact_id"):
        predicates.append({"dimension": "externalContactId", "value": ctx.found["contact_id"]})

    def attempt() -> dict[str, Any] | None:
        for conversation_id in verify_api.find_conversations(ctx.api, ctx.started, predicates):
            conversation = verify_api.message_conversation(ctx.api, conversation_id)
            if _ours(ctx, conversation):
                return conversation
        return None

    ctx.found["conversation"] = _poll(ctx, attempt, ends_at)
    return ctx.found["conversation"]


def _attributes(ctx: VerifyContext, ends_at: float) -> dict[str, Any]:
    """The customer participant's data once the flow has recorded its last key (the ticket), polled."""
    last_key = key("ticket_status")
    # The flow's start-of-flow reset writes the ticket status `failed` before any step runs (inbound_message.yaml),
    # so only the ticket step's own outcomes end the wait; a `failed` still there when the step's time is up is read.
    written_by_the_ticket_step = {*(PARTICIPANT_DATA["ticket_status"][1] or ()), "timeout"}

    def attempt() -> dict[str, Any] | None:
        conversation = verify_api.message_conversation(ctx.api, ctx.found["conversation"]["id"])
        ctx.found["conversation"] = conversation
        attributes = (_customer(conversation) or {}).get("attributes") or {}
        return attributes if attributes.get(last_key) in written_by_the_ticket_step else None

    if "attributes" not in ctx.found:
        ctx.found["attributes"] = (
            _poll(ctx, attempt, ends_at) or (_customer(ctx.found["conversation"]) or {}).get("attributes") or {}
        )
    return ctx.found["attributes"]


def _expected(attributes: dict[str, Any], name: str) -> str | None:
    """A problem if the participant data key `name` of the table does not hold its expected value."""
    name_, accepted = PARTICIPANT_DATA[name]
    seen = attributes.get(name_)
    expected = " or ".join(repr(value) for value in accepted or ())
    return None if seen in (accepted or ()) else f"participant data {name_} is {seen!r}, expected {expected}"


def check_flow(ctx: VerifyContext) -> Result:
    check, title = "flow", "Inbound flow ran for the signed-in customer"
    if "session_token" not in ctx.found or "message_ids" not in ctx.found:
        return Result(check, title, SKIPPED, "needs the signed-in session (see the session check)")
    return guarded(check, title, lambda: _flow(ctx, check, title))


def _flow(ctx: VerifyContext, check: str, title: str) -> Result:
    if ctx.sub:
        source_id = verify_api.external_source_id(ctx.api, ctx.external_source)
        ctx.found["source_id"] = source_id
        contact = verify_api.contact_by_external_id(ctx.api, source_id, ctx.sub) if source_id else None
        ctx.found["contact_id"] = (contact or {}).get("id")
    ends_at = ctx.step_ends()  # finding the conversation and waiting for the flow's data: one step
    conversation = _conversation(ctx, ends_at)
    if conversation is None:
        return Result(
            check,
            title,
            PROBLEM,
            "no conversation of the test session was found",
            [
                f"searched message conversations since {ctx.started:%H:%M:%S} UTC by the session's journey "
                "customer id and the test user's contact"
            ],
            "check the deployment routes to the stack's published flow (preflight doctor); analytics may "
            "lag: rerun with a larger --step-timeout",
        )
    ctx.found["conversation_id"] = conversation.get("id")
    attributes = _attributes(ctx, ends_at)
    evidence = [f"conversation {conversation.get('id')}"]
    problems = [p for p in (_expected(attributes, "verified"), _expected(attributes, "crm_lookup")) if p]
    if ctx.sub and attributes.get(key("external_id")) != ctx.sub:
        problems.append(f"participant data {key('external_id')} is not the test user's sub")
    fixes = []
    if _expected(attributes, "verified"):
        fixes.append(
            "the flow did not see a signed-in session: check Message.IsAuthenticated in the flow and the "
            "deployment's authentication (config check)"
        )
    if _expected(attributes, "crm_lookup"):
        fixes.append(
            "the CRM lookup did not find the test user: create them in the CRM under their sub; test the "
            "data action in Admin > Integrations > Actions"
        )
    return _verdict(check, title, problems, evidence, fixes, "the flow saw a verified customer found in the CRM")


def check_contact(ctx: VerifyContext) -> Result:
    check, title = "contact", "Conversation on the test user's External Contact"
    if not ctx.found.get("conversation"):
        return Result(check, title, SKIPPED, "needs the conversation (see the flow check)")
    if not ctx.sub:
        return Result(check, title, SKIPPED, "no test user sub given (--test-user-sub or PREFLIGHT_VERIFY_SUB)")
    return guarded(check, title, lambda: _contact(ctx, check, title))


def _contact(ctx: VerifyContext, check: str, title: str) -> Result:
    customer = _customer(ctx.found["conversation"]) or {}
    on_conversation = customer.get("externalContactId")
    contact_id = ctx.found.get("contact_id")
    if ctx.found.get("source_id") and not contact_id:
        # Looked up right after the message; identity resolution may have created the contact since.
        contact = verify_api.contact_by_external_id(ctx.api, ctx.found["source_id"], ctx.sub)
        contact_id = ctx.found["contact_id"] = (contact or {}).get("id")
    attributes = ctx.found.get("attributes") or {}
    problems, fixes = [], []
    evidence = [
        f"customer participant externalContactId {on_conversation}",
        f"contact holding the sub as {verify_api.EXTERNAL_ID_TYPE} under '{ctx.external_source}': {contact_id}",
    ]
    if not ctx.found.get("source_id"):
        problems.append(f"no External Contacts source named '{ctx.external_source}'")
        fixes.append("deploy the stack (pulumi up): the Crm component declares the source")
    elif not contact_id:
        problems.append("no External Contact holds the test user's sub under the CRM source")
        fixes.append(
            "the flow creates it when its lookup finds none (data action 'Create or enrich external contact by "
            f"external id'): see {key('contact_lookup')} and that the session was signed in"
        )
    if not on_conversation:
        problems.append("the conversation's customer has no External Contact")
        fixes.append(f"see {key('link')}: the flow reads the conversation's contact and merges it into the customer's")
    elif contact_id and on_conversation != contact_id:
        problems.append("the conversation is on another External Contact than the one holding the sub")
        fixes.append(
            f"see {key('link')}: the flow's merge (data action 'Merge contact into the customer's') did not put it "
            "on the customer's contact"
        )
    for role, fix in (
        ("contact_lookup", "the flow's External Contacts lookup or create failed (see the data actions' test runs)"),
        ("link", "the flow's link failed: data actions 'Get the conversation's external contact' and 'Merge contact "
         "into the customer's' (the contact-lookup role's permissions, held in the stack's division)"),
    ):
        if problem := _expected(attributes, role):
            problems.append(problem)
            fixes.append(fix)
    if not problems and contact_id and attributes.get(key("contact_id")) not in (None, contact_id):
        problems.append(f"participant data {key('contact_id')} names another contact")
        fixes.append("check the flow's External Contacts lookup")
    return _verdict(check, title, problems, evidence, fixes, "on the External Contact holding the test user's sub")


def check_ticket(ctx: VerifyContext) -> Result:
    check, title = "ticket", "Ticket opened at chat start"
    if not ctx.found.get("conversation"):
        return Result(check, title, SKIPPED, "needs the conversation (see the flow check)")
    return guarded(check, title, lambda: _ticket(ctx, check, title))


def _ticket(ctx: VerifyContext, check: str, title: str) -> Result:
    attributes = ctx.found.get("attributes") or {}
    ticket_id = attributes.get(key("ticket_id"))
    problem = _expected(attributes, "ticket_status")
    if problem or not ticket_id:
        return Result(
            check,
            title,
            PROBLEM,
            problem or f"participant data {key('ticket_id')} is empty",
            [f"{k} = {attributes.get(k)!r}" for k in (key("ticket_status"), key("ticket_id"))],
            "the flow's ticket data action failed or timed out: test it in Admin > Integrations > Actions "
            "and check crm.baseUrl/ticketPath and the CRM's credentials",
        )
    evidence = [f"{key('ticket_id')} {ticket_id}"]
    kind = verify_tickets.preset_kind(ctx.settings.crm, ctx.settings.raw)
    if kind is None:
        return Result(
            check, title, SKIPPED, "recorded created; the stack names no crm.kind preset to read it back", evidence
        )
    if kind not in verify_tickets.PRESETS:
        return Result(check, title, SKIPPED, f"recorded created; no read call for crm.kind '{kind}'", evidence)
    preset = verify_tickets.PRESETS[kind]
    if preset is None:
        return Result(
            check,
            title,
            SKIPPED,
            f"recorded created; crm.kind '{kind}' has no read call known here: look the ticket up by id",
            evidence,
        )
    if not ctx.ticket_token:
        return Result(
            check,
            title,
            SKIPPED,
            f"recorded created; set {verify_tickets.TICKET_TOKEN_VAR} to read it back from {kind}",
            evidence,
        )
    ctx.api.add_secret(ctx.ticket_token)
    url = ctx.ticket_url + preset.path(ctx.settings.crm, str(ticket_id))
    try:
        body = ctx.api.get_with(url, {"Authorization": f"Bearer {ctx.ticket_token}", "Accept": "application/json"})
    except ApiError as error:
        if error.kind == "http" and error.status == 404:
            return Result(
                check,
                title,
                PROBLEM,
                f"{kind} has no ticket {ticket_id}",
                [*evidence, str(error)],
                "the CRM answered the flow with an id it did not keep: check the ticket endpoint",
            )
        raise
    returned = preset.ticket_id(body)
    if str(returned) != str(ticket_id):
        return Result(
            check,
            title,
            PROBLEM,
            f"{kind} answered another ticket ({returned})",
            evidence,
            "check crm.baseUrl (or --ticket-url) points at the ticketing system",
        )
    return Result(check, title, OK, f"created, and {kind} has ticket {ticket_id}", evidence)


# --- anonymous, cleanup -------------------------------------------------------------------------------------


def check_anonymous(ctx: VerifyContext) -> Result:
    check, title = "anonymous", "Anonymous guest refused"
    if not ctx.check_anonymous:
        return Result(check, title, SKIPPED, "checked in prod (or with --check-anonymous)")
    deployment_id = ctx.deployment_ids.get(ctx.site.site_key)
    if not deployment_id:
        return Result(check, title, SKIPPED, "needs the deployment (see its config check)")
    return guarded(check, title, lambda: _anonymous(ctx, deployment_id, check, title))


def _anonymous(ctx: VerifyContext, deployment_id: str, check: str, title: str) -> Result:
    url = verify_guest.websocket_url(ctx.websocket_url, deployment_id)
    token = str(uuid.uuid4())
    try:
        with verify_guest.session(url, ctx.origin(ctx.site), seconds=ctx.step_seconds, deadline=ctx.deadline) as guest:
            guest.configure(verify_guest.configure_session(token, deployment_id))
            label = {SITE_ATTRIBUTE: f"{ctx.marker} {ctx.site.site_key}"}
            guest.message(token, f"{ctx.marker} anonymous test message, must be refused", label)
    except GuestError as error:
        if error.kind in ("error", "dropped"):
            return Result(check, title, OK, "an unauthenticated guest cannot send", [str(error)])
        raise
    ctx.found["anonymous_token"] = token  # its conversation is ended by cleanup too
    return Result(
        check,
        title,
        PROBLEM,
        "an unauthenticated guest sent a message",
        ["configureSession connected and onMessage was echoed"],
        "enable authentication on the configuration with allowSessionUpgrade off "
        "(identityProvider.allowSessionUpgrade false) and publish (pulumi up)",
    )


def check_cleanup(ctx: VerifyContext) -> Result:
    check, title = "cleanup", "Test conversation disconnected"
    if not ctx.found.get("conversation_id") and not ctx.found.get("anonymous_token"):
        return Result(check, title, SKIPPED, "no test conversation was found to disconnect")
    return guarded(check, title, lambda: _cleanup(ctx, check, title))


def _cleanup(ctx: VerifyContext, check: str, title: str) -> Result:
    ended = [ctx.found["conversation_id"]] if ctx.found.get("conversation_id") else []
    if ctx.found.get("anonymous_token"):
        # An anonymous guest got through: end its conversation too, found the same way (no waiting for it).
        predicate = {"dimension": "journeyCustomerId", "value": ctx.found["anonymous_token"]}
        ended += [c for c in verify_api.find_conversations(ctx.api, ctx.started, [predicate]) if c not in ended]
    for conversation_id in ended:
        try:
            verify_api.disconnect(ctx.api, conversation_id)
        except ApiError as error:
            if error.kind == "http" and error.status == 403:
                return Result(
                    check,
                    title,
                    PROBLEM,
                    "not allowed to disconnect the test conversation",
                    [str(error)],
                    "grant conversation:communication:disconnect to the verify client, or disconnect "
                    f"conversation {', '.join(ended)} by hand",
                )
            raise
    return Result(
        check,
        title,
        OK,
        f"conversation {', '.join(ended)} disconnected" if ended else "no conversation to disconnect",
        [f"the test messages start with {MARKER}: filter them out of reports"],
    )
