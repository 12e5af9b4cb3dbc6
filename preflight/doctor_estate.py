"""`preflight doctor` checks 4-6: each site's deployment, configuration and flow; the identity-provider
integration, its keys and its discovery document; the CRM data action. Every name and type looked for is the
one the stack declares, read from the estate (`ctx.estate`, preflight/estate_view.py).

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
from preflight import configuration_diff
from preflight.doctor_checks import (
    OK,
    PROBLEM,
    SHAPE_ERRORS,
    SKIPPED,
    Context,
    Result,
    error_fix,
    guarded,
    shape_problem,
)
from preflight.estate_view import Configuration, Deployment, Flow, Integration

FLOW_TYPE = "inboundshortmessage"
"""The inbound flow's type as the flows API filters by it, for preflight/adopt.py; the doctor reads the type
from the estate."""
# Display name of the integration type authenticated messaging needs (Genesys help, "Configure
# authenticated web messaging"); the type id in settings is a guess until confirmed live.
OIDC_TYPE_DISPLAY_NAME = "OpenID Connect Messenger Configuration"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
OIDC_FILE = "components/oidc_integration.yaml"


def _with_token(ctx: Context, check: str, title: str, permissions: str, body: Callable[[], Result]) -> Result:
    """Run a check that calls the API: skipped without a token, a 403 names the missing permissions."""
    if not ctx.api.has_token:
        return Result(check, title, SKIPPED, "needs a token (see the token exchange)")
    return guarded(ctx, check, title, permissions, body)


def _integrations(ctx: Context) -> list[dict[str, Any]]:
    if "integrations" not in ctx.cache:
        ctx.cache["integrations"] = list(ctx.api.get_all("/api/v2/integrations"))
    return ctx.cache["integrations"]


def _by_name(entities: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
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
            _with_token(
                ctx,
                f"deployment:{site.site_key}",
                title,
                "webDeployments:deployment:view and webDeployments:configuration:view",
                lambda site=site, title=title: _deployment(ctx, site, title),
            )
        )
        flow_title = f"Flow of site '{site.site_key}'"
        results.append(
            _with_token(
                ctx,
                f"flow:{site.site_key}",
                flow_title,
                "architect:flow:view",
                lambda site=site, flow_title=flow_title: _flow(ctx, site, flow_title),
            )
        )
    return results


def _deployments(ctx: Context) -> list[dict[str, Any]]:
    if "deployments" not in ctx.cache:
        ctx.cache["deployments"] = ctx.api.entities(ctx.api.get_object("/api/v2/webdeployments/deployments"))
    return ctx.cache["deployments"]


def _deployment(ctx: Context, site: Deployment, title: str) -> Result:
    check, name = f"deployment:{site.site_key}", site.name
    deployment = _by_name(_deployments(ctx), name)
    if deployment is None:
        return Result(
            check,
            title,
            PROBLEM,
            f"no web deployment named '{name}'",
            [f"deployments in the org: {', '.join(sorted(d.get('name', '?') for d in _deployments(ctx))) or 'none'}"],
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
    published = _version(ctx, config_id, version)
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
        oidc = _by_name(_integrations(ctx), declared.auth_integration.name)
        if oidc is None:
            problems.append("authentication points at an integration, but the stack's OIDC integration is missing")
            fixes.append("create the OpenID Connect Messenger Configuration integration (pulumi up)")
        elif auth.get("integrationId") != oidc.get("id"):
            problems.append(f"authentication uses integration {auth.get('integrationId')}, not '{oidc.get('name')}'")
            fixes.append("point authenticationSettings.integrationId at the stack's OIDC integration (pulumi up)")
    return problems, evidence, fixes


def _version(ctx: Context, config_id: str, version: str) -> dict[str, Any]:
    """The configuration version a deployment serves (the deployment's configuration.version is the published one
    it pins; SDK 257.1.0's WebDeploymentsApi.md has no separate "published" path). Read once per run."""
    key = ("configuration-version", config_id, version)
    if key not in ctx.cache:
        path = f"/api/v2/webdeployments/configurations/{segment(config_id)}/versions/{segment(version)}"
        ctx.cache[key] = ctx.api.get_object(path)
    return ctx.cache[key]


def _flow(ctx: Context, site: Deployment, title: str) -> Result:
    check, expected, flow_type = f"flow:{site.site_key}", site.flow.name, site.flow.type.lower()
    deployment = _by_name(_deployments(ctx), site.name)
    flow_ref = (deployment or {}).get("flow") or {}
    problems = []
    if flow_ref.get("id"):
        flow = _flow_by_id(ctx, flow_ref["id"])
    else:
        # No flow to follow from the deployment: look the stack's flow up by name to say what exists.
        flow = _by_name(_flows_named(ctx, expected, flow_type), expected)
        routes = "the deployment routes to no flow" if deployment else "there is no deployment to route to it"
        if flow is None:
            return Result(
                check,
                title,
                PROBLEM,
                f"no flow named '{expected}' and {routes}",
                [],
                "publish the inbound message flow and set it on the deployment (pulumi up)",
            )
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


def _flow_by_id(ctx: Context, flow_id: str) -> dict[str, Any]:
    """GET /api/v2/flows/{flowId}: a Flow (ArchitectApi.md, Flow.md), lock holders included. Read once per run."""
    flows = ctx.cache.setdefault("flows", {})
    if flow_id not in flows:
        flows[flow_id] = ctx.api.get_object(f"/api/v2/flows/{segment(flow_id)}")
    return flows[flow_id]


def _flows_named(ctx: Context, name: str, flow_type: str) -> list[dict[str, Any]]:
    key = ("flows-named", name, flow_type)
    if key not in ctx.cache:
        ctx.cache[key] = list(ctx.api.get_all("/api/v2/flows", {"name": name, "type": flow_type}))
    return ctx.cache[key]


# --- 4b. identity resolution of each deployment -----------------------------------------------------------


def check_identity_resolution(ctx: Context) -> list[Result]:
    """Each deployment resolves authenticated sessions as the stack declares (components/identity_resolution.py):
    on, under the declared CRM external source, in the declared division, automerge as declared."""
    results = []
    for site in ctx.estate.deployments.values():
        check, title = f"identity-resolution:{site.site_key}", f"Identity resolution of '{site.name}'"
        if site.identity_resolution is None:
            results.append(Result(check, title, SKIPPED, "the stack declares no identity resolution for it"))
            continue
        results.append(
            _with_token(
                ctx,
                check,
                title,
                "webDeployments:deployment:view and webDeployments:identityResolution:view (and "
                "externalContacts:externalSource:view to name the source)",
                lambda site=site, check=check, title=title: _identity_resolution(ctx, site, check, title),
            )
        )
    return results


def _external_source(ctx: Context, source_id: str) -> str:
    """An external source's name (ExternalContactsApi.md GET .../externalsources/{id}, ExternalSource.md)."""
    key = ("external-source", source_id)
    if key not in ctx.cache:
        try:
            found = ctx.api.get_object(f"/api/v2/externalcontacts/externalsources/{segment(source_id)}")
            ctx.cache[key] = f"'{found.get('name')}' ({source_id})"
        except ApiError as error:
            if error.kind != "http":
                raise
            ctx.cache[key] = f"{source_id} (not readable: {error})"
    return ctx.cache[key]


def _identity_resolution(ctx: Context, site: Deployment, check: str, title: str) -> Result:
    declared = site.identity_resolution
    assert declared is not None
    deployment = _by_name(_deployments(ctx), site.name)
    if deployment is None:
        return Result(check, title, SKIPPED, f"no web deployment named '{site.name}' (see the deployment check)")
    # GET .../deployments/{deploymentId}/identityresolution: DeploymentIdentityResolutionConfig
    # {resolveIdentities, externalSource {id}, division {id}, automerge {authenticatedWebMessaging, webTracking}}
    # (WebDeploymentsApi.md, DeploymentIdentityResolutionConfig.md, IdentityResolutionAutomergeConfig.md).
    path = f"/api/v2/webdeployments/deployments/{segment(deployment.get('id'))}/identityresolution"
    try:
        live = ctx.api.get_object(path)
    except ApiError as error:
        if error.status != 404:
            raise
        live = {}
    source_id = (live.get("externalSource") or {}).get("id")
    division_id = (live.get("division") or {}).get("id")
    automerge = (live.get("automerge") or {}).get("authenticatedWebMessaging")
    evidence = [
        f"GET {path}: resolveIdentities {live.get('resolveIdentities')}, externalSource {source_id}, division "
        f"{division_id}, automerge.authenticatedWebMessaging {automerge}"
    ]
    if live.get("resolveIdentities") is not True:
        return Result(
            check,
            title,
            PROBLEM,
            "identity resolution is off: signed-in customers do not land on their External Contact",
            evidence,
            "pulumi up turns it back on (the IdentityResolution resource); find who turned it off in the audit log",
        )
    problems = []
    sources = [e for e in _sources_named(ctx, declared.external_source) if e.get("name") == declared.external_source]
    if not sources:
        problems.append(f"the stack's external source '{declared.external_source}' does not exist in the org")
    elif source_id not in {e.get("id") for e in sources}:
        problems.append(
            f"it resolves under external source {_external_source(ctx, str(source_id)) if source_id else 'none'}, "
            f"not the stack's '{declared.external_source}' ({sources[0].get('id')})"
        )
    division = _division_named(ctx, declared.division)
    if division is None:
        problems.append(f"the stack's division '{declared.division}' does not exist in the org")
    elif division_id != division.get("id"):
        problems.append(f"it creates contacts in division {division_id}, not the stack's '{declared.division}'")
    if automerge is not declared.automerge_authenticated:
        problems.append(
            f"automerge for authenticated web messaging is {automerge}, the stack declares "
            f"{declared.automerge_authenticated}"
        )
    if not problems:
        summary = f"on, under '{declared.external_source}', automerge {declared.automerge_authenticated}"
        return Result(check, title, OK, summary, evidence)
    return Result(
        check,
        title,
        PROBLEM,
        problems[0],
        [*problems[1:], *evidence],
        "pulumi up puts the declared setting back (the IdentityResolution resource of the site); if the source or "
        "division is missing, deploy the stack first",
    )


def _sources_named(ctx: Context, name: str) -> list[dict[str, Any]]:
    """External sources whose name starts with `name` (ExternalContactsApi.md: prefix filtering), cursor-paged."""
    key = ("sources-named", name)
    if key not in ctx.cache:
        # The first page only: the filter is the declared name, so more than one page of matches is not expected.
        body = ctx.api.get_object("/api/v2/externalcontacts/externalsources", {"name": name})
        ctx.cache[key] = ctx.api.entities(body)
    return ctx.cache[key]


def _division_named(ctx: Context, name: str) -> dict[str, Any] | None:
    key = ("division-named", name)
    if key not in ctx.cache:
        found = ctx.api.get_all("/api/v2/authorization/divisions", {"name": name})
        ctx.cache[key] = next((d for d in found if d.get("name") == name), None)
    return ctx.cache[key]


# --- 4c. locks on the stack's flows -------------------------------------------------------------------


FORCE_UNLOCK_NOTE = (
    "the provider's force_unlock (genesyscloud_flow, architect_flow/resource_genesyscloud_architect_flow_schema.go:"
    "118-123) unlocks before each publish and first publishes the draft the holder left: a setting for non-prod "
    "stacks only, never prod"
)


def check_flow_locks(ctx: Context) -> list[Result]:
    """A flow locked by a person or another OAuth client cannot be published by the provider's Archy job
    (MyPureCloud/terraform-provider-genesyscloud issue #316: "is locked by another entity")."""
    flows = list(dict.fromkeys(site.flow for site in ctx.estate.deployments.values()))
    results = []
    for flow in flows:
        check, title = f"flow-lock:{flow.name}", f"Lock on flow '{flow.name}'"
        results.append(
            _with_token(
                ctx, check, title, "architect:flow:view", lambda f=flow, c=check, t=title: _flow_lock(ctx, f, c, t)
            )
        )
    return results


def _flow_lock(ctx: Context, declared: Flow, check: str, title: str) -> Result:
    flow = next((f for f in ctx.cache.get("flows", {}).values() if f.get("name") == declared.name), None)
    if flow is None:
        listed = _by_name(_flows_named(ctx, declared.name, declared.type.lower()), declared.name)
        if listed is None:
            return Result(check, title, SKIPPED, f"no flow named '{declared.name}' (see the flow check)")
        flow = _flow_by_id(ctx, listed.get("id"))
    # Flow.lockedUser (a User) and Flow.lockedClient (a DomainEntityRef), Flow.md; absent when nobody holds it.
    user, client = flow.get("lockedUser") or {}, flow.get("lockedClient") or {}
    evidence = [f"flow {flow.get('id')}: lockedUser {user.get('id')}, lockedClient {client.get('id')}"]
    if not user and not client:
        return Result(check, title, OK, "not locked", evidence)
    if not user and client.get("id") == ctx.client_id:
        evidence.append("held by this deployer client: a provider job in progress or one that was interrupted")
        return Result(check, title, OK, "locked by the deployer client itself", evidence)
    holders = []
    if user:
        email = f", {user['email']}" if user.get("email") else ""
        holders.append(f"user '{user.get('name')}' ({user.get('id')}{email})")
    if client:
        holders.append(f"OAuth client '{client.get('name') or client.get('id')}' ({client.get('id')})")
    who = " through ".join(holders)
    return Result(
        check,
        title,
        PROBLEM,
        f"flow '{declared.name}' is locked by {who}: the provider cannot publish it",
        [*evidence, "provider issue #316: the publish job fails with 'is locked by another entity'"],
        f"ask {holders[0]} to save or discard their changes and close the flow in Architect, or unlock it "
        "(Architect, or POST /api/v2/flows/actions/unlock with architect:flow:unlock), then pulumi up; "
        + FORCE_UNLOCK_NOTE,
    )


# --- 4d. the published configuration, as declared --------------------------------------------------------


def check_configurations(ctx: Context) -> list[Result]:
    """Each deployment's published Messenger configuration holds what the stack declares, block by block."""
    results = []
    for site in ctx.estate.deployments.values():
        check, title = f"configuration:{site.site_key}", f"Configuration of '{site.name}', as declared"
        results.append(
            _with_token(
                ctx,
                check,
                title,
                "webDeployments:configuration:view",
                lambda site=site, check=check, title=title: _declared_configuration(ctx, site, check, title),
            )
        )
    return results


def _declared_configuration(ctx: Context, site: Deployment, check: str, title: str) -> Result:
    deployment = _by_name(_deployments(ctx), site.name)
    ref = (deployment or {}).get("configuration") or {}
    if not ref.get("id") or not ref.get("version"):
        return Result(check, title, SKIPPED, "no configuration version to compare (see the deployment check)")
    live = _version(ctx, ref["id"], ref["version"])
    declared = site.configuration
    if live.get("name") != declared.name:
        return Result(check, title, SKIPPED, f"the deployment serves '{live.get('name')}' (see the deployment check)")
    found = configuration_diff.compare(declared.declared, live, declared.references)
    evidence = [f"configuration {ref['id']} version {ref['version']} compared with the stack's '{declared.name}'"]
    evidence += found.notes
    if not found.differences:
        return Result(check, title, OK, "the published version holds what the stack declares", evidence)
    paths = [d.path for d in found.differences]
    listed = ", ".join(paths[:5]) + (" ..." if len(paths) > 5 else "")
    return Result(
        check,
        title,
        PROBLEM,
        f"the published version differs from the stack in {len(paths)} place(s): {listed}",
        [*(d.describe() for d in found.differences), *evidence],
        "the provider reads every block back, so each difference is a change on every preview and pulumi up "
        "publishes a new version each time: declare the live value in components/web_messaging.py if it is what "
        "Genesys keeps (a server default), else pulumi up to publish the declared one",
    )


# --- 5b. declared integration properties -----------------------------------------------------------------


def check_integration_properties(ctx: Context) -> list[Result]:
    """Each integration that declares config.properties holds exactly those on the org: the provider merges the
    declared properties into the server's and reads all of them back (integration/
    resource_genesyscloud_integration_utils.go:100-119, :46-53), so a key the server has and the stack does not
    declare shows as a change on every preview."""
    results = []
    for integration in (i for i in ctx.estate.integrations if i.properties is not None):
        check, title = f"integration-properties:{integration.name}", f"Properties of integration '{integration.name}'"
        results.append(
            _with_token(
                ctx,
                check,
                title,
                "integrations:integration:view",
                lambda i=integration, c=check, t=title: _integration_properties(ctx, i, c, t),
            )
        )
    return results


def _integration_properties(ctx: Context, declared: Integration, check: str, title: str) -> Result:
    integration = _by_name(_integrations(ctx), declared.name)
    if integration is None:
        return Result(check, title, SKIPPED, f"no integration named '{declared.name}' (see the integration checks)")
    # GET /api/v2/integrations/{integrationId}/config/current: IntegrationConfiguration, `properties` an object
    # (IntegrationsApi.md, IntegrationConfiguration.md).
    path = f"/api/v2/integrations/{segment(integration.get('id'))}/config/current"
    config = ctx.api.get_object(path)
    live = config.get("properties")
    if live is None:
        live = {}
    if not isinstance(live, dict):
        raise ApiError("shape", f"unexpected response shape from {path}: properties is not an object")
    # The provider's equality drops the server's null properties first (util/util_json.go:15-50).
    live = {k: v for k, v in live.items() if v is not None}
    wanted = declared.properties or {}
    extra = [k for k in live if k not in wanted]
    missing = [k for k in wanted if k not in live]
    differing = [k for k in wanted if k in live and not configuration_diff.equal(wanted[k], live[k])]
    evidence = [f"GET {path}: {len(live)} non-null propert(y/ies); the stack declares {len(wanted)}"]
    if not (extra or missing or differing):
        summary = f"the org holds exactly the declared properties ({', '.join(wanted)})"
        return Result(check, title, OK, summary, evidence)
    problems = [
        *(
            f"property '{k}' = {configuration_diff.shown(live[k])} on the org is not declared: the provider merges "
            "the declared properties into the server's and reads them all back, so every preview shows a change"
            for k in extra
        ),
        *(f"property '{k}' is declared ({configuration_diff.shown(wanted[k])}) but the org has none" for k in missing),
        *(
            f"property '{k}' is {configuration_diff.shown(live[k])} on the org, the stack declares "
            f"{configuration_diff.shown(wanted[k])}"
            for k in differing
        ),
    ]
    return Result(
        check,
        title,
        PROBLEM,
        problems[0],
        [*problems[1:], *evidence],
        "declare every property the org holds, with the value it stores, where the stack declares this "
        "integration's properties; then pulumi preview shows no change",
    )


# --- 5. identity-provider integration and its discovery document ------------------------------------


def check_oidc_integration(ctx: Context) -> Result:
    title = "OpenID Connect integration"
    return _with_token(ctx, "oidc-integration", title, "integrations:integration:view", lambda: _oidc(ctx, title))


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
    integration = _by_name(_integrations(ctx), name)
    if integration is None:
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
    return _with_token(ctx, "oidc-keys", title, "integrations:integration:view", lambda: _oidc_keys(ctx, title))


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
    return _with_token(ctx, "crm-action", title, "integrations:action:view", lambda: _crm_action(ctx, title))


def _crm_action(ctx: Context, title: str) -> Result:
    # Actions are scoped by category (the prefixed integration name); the action name has no prefix.
    category, name = ctx.estate.crm_lookup_action.category, ctx.estate.crm_lookup_action.name
    found = list(ctx.api.get_all("/api/v2/integrations/actions", {"name": name}))
    action = next((a for a in found if a.get("name") == name and a.get("category") == category), None)
    # The actions API reports no last-execution or last-test result, so that part cannot be checked.
    note = "the API exposes no last test/execution result for an action; test it in Admin > Integrations > Actions"
    if action is None:
        seen = [f"{a.get('category')}/{a.get('name')}" for a in found]
        return Result(
            "crm-action",
            title,
            PROBLEM,
            f"no data action '{category}/{name}'",
            [f"same name elsewhere: {seen}", note],
            "deploy the stack (pulumi up); the inbound flow calls the action by category and name",
        )
    evidence = [f"action {action.get('id')} version {action.get('version')}", note]
    integration = next((i for i in _integrations(ctx) if i.get("id") == action.get("integrationId")), None)
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
