"""`preflight doctor` checks 4-6: each site's deployment, configuration and flow; the identity-provider
integration, its keys and its discovery document; the CRM data action. Every name and type looked for is the
one the stack declares, read from the estate (`ctx.estate`, preflight/estate_view.py). The readers of org
objects here (`org_deployments`, `flow_by_id`, ...) read each once per run; preflight/doctor_declared.py shares
them.

API paths and fields per developer.genesys.cloud, as mirrored in MyPureCloud/platform-client-sdk-python
`build/docs/`: WebDeploymentsApi.md (GET /api/v2/webdeployments/deployments,
/configurations/{id}/versions/{versionId}), ExpandableWebDeployment.md, WebDeploymentConfigurationVersion.md
(status, datePublished, authenticationSettings), ArchitectApi.md + Flow.md (type, publishedVersion),
IntegrationsApi.md + Integration.md (intendedState, reportedState.code, integrationType.id), Action.md;
for the keys of components/oidc_integration.yaml: IntegrationType.md (credentials: slot ->
CredentialSpecification.credentialTypes), JsonSchemaDocument.md (GET .../types/{id}/configschemas/properties),
CredentialType.md (name, properties, required; GET /api/v2/integrations/credentials/types).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from components.genesys_api import ApiError, segment
from components.messenger_identity import oidc_integration_spec
from preflight.doctor_checks import (
    OK,
    PROBLEM,
    SHAPE_ERRORS,
    SKIPPED,
    Context,
    Result,
    error_fix,
    guarded,
    not_created,
    shape_problem,
)
from preflight.estate_view import Configuration, Deployment

FLOW_TYPE = "inboundshortmessage"
"""The inbound flow's type as the flows API filters by it, for preflight/adopt.py; the doctor reads the type
from the estate."""
# Display name of the integration type authenticated messaging needs (Genesys help, "Configure
# authenticated web messaging"); the type id in settings is a guess until confirmed live.
OIDC_TYPE_DISPLAY_NAME = "OpenID Connect Messenger Configuration"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
OIDC_FILE = "components/oidc_integration.yaml"


def with_token(ctx: Context, check: str, title: str, permissions: str, body: Callable[[], Result]) -> Result:
    """Run a check that calls the API: skipped without a token, a 403 names the missing permissions."""
    if not ctx.api.has_token:
        return Result(check, title, SKIPPED, "needs a token (see the token exchange)")
    return guarded(ctx, check, title, permissions, body)


def org_integrations(ctx: Context) -> list[dict[str, Any]]:
    if "integrations" not in ctx.cache:
        ctx.cache["integrations"] = list(ctx.api.get_all("/api/v2/integrations"))
    return ctx.cache["integrations"]


def by_name(entities: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((e for e in entities if e.get("name") == name), None)


def _is_active(integration: dict[str, Any]) -> bool:
    reported = (integration.get("reportedState") or {}).get("code")
    return integration.get("intendedState") == "ENABLED" and reported == "ACTIVE"


def _state(integration: dict[str, Any]) -> str:
    reported = (integration.get("reportedState") or {}).get("code", "unknown")
    return f"intendedState {integration.get('intendedState')}, reportedState {reported}"


def _host(domain: str) -> str:
    return domain.split("://", 1)[-1].split("/", 1)[0].lower()


# --- 4. deployments, configurations, flows --------------------------------------------------------


def check_sites(ctx: Context) -> list[Result]:
    results = []
    for site in ctx.estate.deployments.values():
        title = f"Deployment '{site.name}'"
        results.append(
            with_token(
                ctx,
                f"deployment:{site.site_key}",
                title,
                "webDeployments:deployment:view and webDeployments:configuration:view",
                lambda site=site, title=title: _deployment(ctx, site, title),
            )
        )
        flow_title = f"Flow of site '{site.site_key}'"
        results.append(
            with_token(
                ctx,
                f"flow:{site.site_key}",
                flow_title,
                "architect:flow:view",
                lambda site=site, flow_title=flow_title: _flow(ctx, site, flow_title),
            )
        )
    return results


def org_deployments(ctx: Context) -> list[dict[str, Any]]:
    if "deployments" not in ctx.cache:
        ctx.cache["deployments"] = ctx.api.entities(ctx.api.get_object("/api/v2/webdeployments/deployments"))
    return ctx.cache["deployments"]


def _deployment(ctx: Context, site: Deployment, title: str) -> Result:
    check, name = f"deployment:{site.site_key}", site.name
    deployment = by_name(org_deployments(ctx), name)
    if deployment is None:
        names = ", ".join(sorted(d.get("name", "?") for d in org_deployments(ctx)))
        return not_created(
            ctx,
            check,
            title,
            f"no web deployment named '{name}'",
            [f"deployments in the org: {names or 'none'}"],
            "deploy the stack (pulumi up) or check genesys-messaging:namePrefix and the org/region",
        )
    problems, fixes = [], []
    evidence = [f"deployment {deployment.get('id')}: status {deployment.get('status')}"]
    if deployment.get("status") != "Active":
        problems.append(f"status is {deployment.get('status')}, not Active")
        fixes.append("wait for Pending to finish or fix the Error shown in Admin > Messenger Deployments")
    if deployment.get("allowAllDomains"):
        problems.append("allowAllDomains is true: any site can embed this deployment")
        fixes.append("set allowAllDomains false (the stack lists its domains)")
    allowed = {_host(d) for d in deployment.get("allowedDomains") or []}
    missing = [d for d in site.allowed_domains if d not in allowed]
    if missing:
        problems.append(f"allowedDomains lack {', '.join(missing)} (has {', '.join(sorted(allowed)) or 'none'})")
        fixes.append(f"pulumi up so allowedDomains include sites.{site.site_key}.domains")
    problems_cfg, evidence_cfg, fix_cfg = _configuration(ctx, deployment, site.configuration)
    problems += problems_cfg
    evidence += evidence_cfg
    fixes += fix_cfg
    if not problems:
        return Result(check, title, OK, "Active, domains allowed, authenticated configuration published", evidence)
    return Result(check, title, PROBLEM, problems[0], [*problems[1:], *evidence], "; ".join(dict.fromkeys(fixes)))


def _configuration(
    ctx: Context, deployment: dict[str, Any], declared: Configuration
) -> tuple[list[str], list[str], list[str]]:
    ref = deployment.get("configuration") or {}
    config_id, version = ref.get("id"), ref.get("version")
    if not config_id or not version:
        return ["the deployment references no configuration version"], [], ["pulumi up to attach the configuration"]
    evidence = [f"configuration {config_id} version {version}"]
    problems, fixes = [], []
    published = configuration_version(ctx, config_id, version)
    if version == "draft" or published.get("status") != "Active" or not published.get("datePublished"):
        problems.append(f"configuration version {version} is not published (status {published.get('status')})")
        fixes.append("publish the configuration (pulumi up publishes a new version on every change)")
    if published.get("name") != declared.name:
        problems.append(f"it uses configuration '{published.get('name')}', not the stack's '{declared.name}'")
        fixes.append("point the deployment at the stack's configuration (pulumi up)")
    auth = published.get("authenticationSettings") or {}
    if not auth.get("enabled"):
        problems.append("authenticated messaging is off in the published configuration")
        fixes.append("enable authenticationSettings with the OpenID Connect integration and publish")
    else:
        oidc = by_name(org_integrations(ctx), declared.auth_integration.name)
        if oidc is None:
            problems.append("authentication points at an integration, but the stack's OIDC integration is missing")
            fixes.append("create the OpenID Connect Messenger Configuration integration (pulumi up)")
        elif auth.get("integrationId") != oidc.get("id"):
            problems.append(f"authentication uses integration {auth.get('integrationId')}, not '{oidc.get('name')}'")
            fixes.append("point authenticationSettings.integrationId at the stack's OIDC integration (pulumi up)")
    return problems, evidence, fixes


def configuration_version(ctx: Context, config_id: str, version: str) -> dict[str, Any]:
    """The configuration version a deployment serves (the deployment's configuration.version is the published one
    it pins; SDK 257.1.0's WebDeploymentsApi.md has no separate "published" path). Read once per run."""
    key = ("configuration-version", config_id, version)
    if key not in ctx.cache:
        path = f"/api/v2/webdeployments/configurations/{segment(config_id)}/versions/{segment(version)}"
        ctx.cache[key] = ctx.api.get_object(path)
    return ctx.cache[key]


def _flow(ctx: Context, site: Deployment, title: str) -> Result:
    check, expected, flow_type = f"flow:{site.site_key}", site.flow.name, site.flow.type.lower()
    deployment = by_name(org_deployments(ctx), site.name)
    flow_ref = (deployment or {}).get("flow") or {}
    problems = []
    if flow_ref.get("id"):
        flow = flow_by_id(ctx, flow_ref["id"])
    else:
        # No flow to follow from the deployment: look the stack's flow up by name to say what exists.
        flow = by_name(flows_named(ctx, expected, flow_type), expected)
        routes = "the deployment routes to no flow" if deployment else "there is no deployment to route to it"
        if flow is None:
            return not_created(
                ctx,
                check,
                title,
                f"no flow named '{expected}' and {routes}",
                [],
                "publish the inbound message flow and set it on the deployment (pulumi up)",
            )
        if deployment is not None or not ctx.before_up:  # before up, a deployment still to create routes later
            problems.append(f"{routes}; the stack's flow exists")
    evidence = [f"flow '{flow.get('name')}' ({flow.get('id')}): type {flow.get('type')}"]
    if str(flow.get("type", "")).lower() != flow_type:
        problems.append(f"the flow is of type {flow.get('type')}, not {flow_type.upper()}")
    if not flow.get("publishedVersion"):
        problems.append("the flow has never been published: messages have nowhere to go")
    if flow.get("name") != expected:
        problems.append(f"the deployment routes to '{flow.get('name')}', the stack's flow is '{expected}'")
    if not problems:
        return Result(check, title, OK, f"published {flow_type} flow", evidence)
    return Result(
        check,
        title,
        PROBLEM,
        problems[0],
        [*problems[1:], *evidence],
        "publish the stack's inbound message flow and point the deployment at it (pulumi up)",
    )


def flow_by_id(ctx: Context, flow_id: str) -> dict[str, Any]:
    """GET /api/v2/flows/{flowId}: a Flow (ArchitectApi.md, Flow.md), lock holders included. Read once per run."""
    flows = ctx.cache.setdefault("flows", {})
    if flow_id not in flows:
        flows[flow_id] = ctx.api.get_object(f"/api/v2/flows/{segment(flow_id)}")
    return flows[flow_id]


def flows_named(ctx: Context, name: str, flow_type: str) -> list[dict[str, Any]]:
    key = ("flows-named", name, flow_type)
    if key not in ctx.cache:
        ctx.cache[key] = list(ctx.api.get_all("/api/v2/flows", {"name": name, "type": flow_type}))
    return ctx.cache[key]


# --- 5. identity-provider integration and its discovery document ------------------------------------


def check_oidc_integration(ctx: Context) -> Result:
    title = "OpenID Connect integration"
    return with_token(ctx, "oidc-integration", title, "integrations:integration:view", lambda: _oidc(ctx, title))


def _oidc_type(types: list[dict[str, Any]], type_id: str) -> dict[str, Any] | None:
    """The configured type if it is the OIDC Messenger one, else the org's one type that looks like it."""
    display = OIDC_TYPE_DISPLAY_NAME.lower()
    known = next((t for t in types if t.get("id") == type_id), None)
    if known is not None and display in str(known.get("name", "")).lower():
        return known
    candidates = [t for t in types if "openid" in str(t.get("name", "")).lower()]
    exact = [t for t in candidates if str(t.get("name", "")).lower() == display]
    picked = exact or candidates
    return picked[0] if len(picked) == 1 else None


def _oidc(ctx: Context, title: str) -> Result:
    name, type_id = ctx.estate.oidc_integration.name, ctx.estate.oidc_integration.type_id
    problems, fixes, evidence = [], [], []
    # The configured type id is a guess from docs, never verified against a live org: confirm it here.
    types = list(ctx.api.get_all("/api/v2/integrations/types"))
    resolved = ctx.cache["oidc_type"] = _oidc_type(types, type_id)
    if resolved is not None and resolved.get("id") == type_id:
        evidence.append(f"type id '{type_id}' confirmed on this org as '{resolved.get('name')}'")
    else:
        known = next((t for t in types if t.get("id") == type_id), None)
        seen = f"is '{known.get('name')}', not {OIDC_TYPE_DISPLAY_NAME}" if known else "does not exist on this org"
        problems.append(f"integration type id '{type_id}' (genesys-messaging:oidcIntegrationType) {seen}")
        openid = [f"{t.get('id')} ({t.get('name')})" for t in types if "openid" in str(t.get("name", "")).lower()]
        evidence.append(f"types named like OpenID on this org: {', '.join(openid) or 'none'}")
        right = resolved.get("id") if resolved else "<id of the OpenID Connect Messenger Configuration type>"
        fixes.append(f"pulumi config set genesys-messaging:oidcIntegrationType {right}")
    integration = by_name(org_integrations(ctx), name)
    if integration is None and ctx.before_up:
        evidence.append(f"no integration named '{name}' yet: `pulumi up` creates it")
    elif integration is None:
        problems.append(f"no integration named '{name}'")
        fixes.append("create it (pulumi up); authenticated messaging cannot start without it")
    else:
        evidence.append(f"integration {integration.get('id')}: {_state(integration)}")
        if not _is_active(integration):
            problems.append(f"the integration is not active ({_state(integration)})")
            fixes.append("enable the integration (intendedState ENABLED) and fix its credentials/discovery URI")
        actual_type = (integration.get("integrationType") or {}).get("id")
        if actual_type != type_id:
            problems.append(f"its type is {actual_type}, genesys-messaging:oidcIntegrationType says {type_id}")
            fixes.append(f"set genesys-messaging:oidcIntegrationType {actual_type} if that type is the right one")
    if not problems:
        return Result("oidc-integration", title, OK, "active, of the confirmed OpenID Connect type", evidence)
    return Result("oidc-integration", title, PROBLEM, problems[0], [*problems[1:], *evidence], "; ".join(fixes))


def check_oidc_keys(ctx: Context) -> Result:
    """Every key components/oidc_integration.yaml guesses exists in the org's schemas for the type."""
    title = f"OpenID Connect integration keys ({OIDC_FILE})"
    return with_token(ctx, "oidc-keys", title, "integrations:integration:view", lambda: _oidc_keys(ctx, title))


def _wrong(path: str, key: str, known: list[str], what: str) -> str:
    closest = difflib.get_close_matches(key, known, n=1, cutoff=0.0)
    hint = f"the closest is '{closest[0]}' ({', '.join(known)})" if closest else "there are none"
    return f"{OIDC_FILE} {path}: '{key}' is not {what}; {hint}"


def _key_problems(section: str, given: Any, known: list[str], required: Any, owner: str, what: str) -> list[str]:
    """Each key the file gives that `owner` does not know (with the closest), each it requires but lacks."""
    problems = [_wrong(f"{section}.{k}", k, known, what) for k in given if k not in known]
    return problems + [
        f"{OIDC_FILE} {section}: {owner} requires '{k}', which the file does not set"
        for k in required
        if k not in given
    ]


def _oidc_keys(ctx: Context, title: str) -> Result:
    if "oidc_type" not in ctx.cache:
        return Result("oidc-keys", title, SKIPPED, "needs the integration types (see the OpenID Connect integration)")
    itype = ctx.cache["oidc_type"]
    if itype is None:
        return Result("oidc-keys", title, SKIPPED, "no OpenID Connect Messenger type on this org to check against")
    spec, type_id = oidc_integration_spec(), itype["id"]
    credential = spec["credential"]
    problems, evidence = [], [f"checked against type '{type_id}' ({itype.get('name')})"]
    schema = ctx.api.get_object(f"/api/v2/integrations/types/{segment(type_id)}/configschemas/properties")
    problems += _key_problems(
        "properties",
        spec["properties"],
        sorted(schema.get("properties") or {}),
        schema.get("required") or [],
        f"type {type_id}",
        f"a property of type {type_id}",
    )
    # Credential slots are the type's `credentials` map (IntegrationType.md, CredentialSpecification.md).
    slots = ctx.api.get_object(f"/api/v2/integrations/types/{segment(type_id)}").get("credentials") or {}
    slot, type_name = credential["slot"], credential["type"]
    accepted = list((slots.get(slot) or {}).get("credentialTypes") or [])
    if slot not in slots:
        problems.append(_wrong("credential.slot", slot, sorted(slots), f"a credential slot of type {type_id}"))
    problems += [
        f"{OIDC_FILE} credential.slot: type {type_id} also requires slot '{s}'"
        for s, v in slots.items()
        if v.get("required") and s != slot
    ]
    # A CredentialTypeListing in most SDKs' docs, a bare list in the Python SDK's: accept both.
    ctypes = ctx.api.entities(ctx.api.get("/api/v2/integrations/credentials/types"))
    ctype = next((c for c in ctypes if c.get("name") == type_name), None)
    if ctype is None or (slot in slots and type_name not in accepted):
        where = f"accepted in slot '{slot}'" if slot in slots else "a credential type on this org"
        choices = accepted if slot in slots else sorted(str(c.get("name")) for c in ctypes)
        problems.append(_wrong("credential.type", type_name, choices, where))
    if ctype is None:
        evidence.append("credential.fields not checked: credential.type does not exist on this org")
    else:
        problems += _key_problems(
            "credential.fields",
            credential["fields"],
            sorted(ctype.get("properties") or {}),
            ctype.get("required") or [],
            f"credential type {type_name}",
            f"a field of credential type {type_name}",
        )
    if not problems:
        evidence.append(
            f"properties {', '.join(spec['properties'])}; slot {slot}; {type_name} fields "
            f"{', '.join(credential['fields'])}"
        )
        return Result("oidc-keys", title, OK, "every key exists in the org's schemas", evidence)
    return Result(
        "oidc-keys",
        title,
        PROBLEM,
        problems[0],
        [*problems[1:], *evidence],
        f"edit {OIDC_FILE}: replace each wrong key with the org's one named above, then pulumi up",
    )


def check_discovery(ctx: Context) -> Result:
    """The IdP's discovery document answers and names the issuer the discovery URI implies."""
    title = "Identity provider discovery document"
    configured = ctx.settings.identity_provider.discovery_uri
    url = ctx.discovery_url or configured
    where = f"{url} (--discovery-url, standing in for {configured})" if url != configured else url
    try:
        return _discovery(ctx, title, url, where, configured)
    except ApiError as error:
        if error.kind == "out-of-time":
            return Result("idp-discovery", title, SKIPPED, "not checked: the run's --deadline had passed", [str(error)])
        # The IdP, not Genesys, answered: Genesys permission hints would mislead here.
        fix = error_fix(error) if error.kind != "http" else "check identityProvider.discoveryUri with your IdP admin"
        return Result("idp-discovery", title, PROBLEM, "the discovery document cannot be read", [str(error)], fix)
    except SHAPE_ERRORS as error:
        return shape_problem(ctx, "idp-discovery", title, error)


def _discovery(ctx: Context, title: str, url: str, where: str, configured: str) -> Result:
    document = ctx.api.get_public_json(url)
    if not isinstance(document, dict):
        raise ApiError("shape", f"unexpected response shape from {url}: not a JSON object")
    expected = configured.removesuffix(DISCOVERY_SUFFIX).rstrip("/")
    issuer = document.get("issuer")
    evidence = [f"fetched {where}", f"issuer {issuer!r}"]
    if not isinstance(issuer, str):
        return Result(
            "idp-discovery",
            title,
            PROBLEM,
            "the discovery document has no issuer",
            evidence,
            "check identityProvider.discoveryUri points at the IdP's OpenID configuration",
        )
    if issuer.rstrip("/") != expected:
        return Result(
            "idp-discovery",
            title,
            PROBLEM,
            f"issuer {issuer} does not match the discovery URI ({expected})",
            evidence,
            "use the discovery URI of the issuer your IdP's tokens name (tenant / realm path included)",
        )
    return Result("idp-discovery", title, OK, f"reachable, issuer {issuer}", evidence)


# --- 6. the CRM data action ------------------------------------------------------------------------


def check_crm_action(ctx: Context) -> Result:
    title = "CRM data action"
    return with_token(ctx, "crm-action", title, "integrations:action:view", lambda: _crm_action(ctx, title))


def _crm_action(ctx: Context, title: str) -> Result:
    # Actions are scoped by category (the prefixed integration name); the action name has no prefix.
    category, name = ctx.estate.crm_lookup_action.category, ctx.estate.crm_lookup_action.name
    found = list(ctx.api.get_all("/api/v2/integrations/actions", {"name": name}))
    action = next((a for a in found if a.get("name") == name and a.get("category") == category), None)
    # The actions API reports no last-execution or last-test result, so that part cannot be checked.
    note = "the API exposes no last test/execution result for an action; test it in Admin > Integrations > Actions"
    if action is None:
        seen = [f"{a.get('category')}/{a.get('name')}" for a in found]
        return not_created(
            ctx,
            "crm-action",
            title,
            f"no data action '{category}/{name}'",
            [f"same name elsewhere: {seen}", note],
            "deploy the stack (pulumi up); the inbound flow calls the action by category and name",
        )
    evidence = [f"action {action.get('id')} version {action.get('version')}", note]
    integration = next((i for i in org_integrations(ctx) if i.get("id") == action.get("integrationId")), None)
    if integration is None or not _is_active(integration):
        state = _state(integration) if integration else "not found"
        return Result(
            "crm-action",
            title,
            PROBLEM,
            f"the action's integration is not active ({state}): every call fails",
            evidence,
            f"enable the '{category}' integration (intendedState ENABLED) and check its credentials",
        )
    return Result("crm-action", title, OK, f"'{category}/{name}' exists and its integration is active", evidence)
