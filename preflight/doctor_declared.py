"""`preflight doctor` checks of live values against declared ones: each deployment's identity resolution, the
locks on the stack's flows, each published Messenger configuration block by block, and each integration's
declared properties. The declared side is the estate (`ctx.estate`, preflight/estate_view.py): whatever the
program declares is compared, so a value it adds is followed without a change here.

API paths and fields per MyPureCloud/platform-client-sdk-python 257.1.0 `build/docs/`:
WebDeploymentsApi.md (GET /api/v2/webdeployments/deployments/{id}/identityresolution),
DeploymentIdentityResolutionConfig.md, IdentityResolutionAutomergeConfig.md; ExternalContactsApi.md +
ExternalSource.md (GET /api/v2/externalcontacts/externalsources[/{id}]); ArchitectApi.md + Flow.md
(GET /api/v2/flows/{flowId}: lockedUser, a User.md, and lockedClient, a DomainEntityRef.md);
IntegrationsApi.md + IntegrationConfiguration.md (GET /api/v2/integrations/{id}/config/current: properties);
WebDeploymentConfigurationVersion.md for the published configuration (preflight/doctor_configuration.py).
"""

from __future__ import annotations

from typing import Any

from components.genesys_api import MAX_PAGES, ApiError, segment
from preflight.doctor_checks import OK, PROBLEM, SKIPPED, Context, Result
from preflight.doctor_configuration import compare, equal, shown
from preflight.doctor_estate import (
    by_name,
    configuration_version,
    flow_by_id,
    flows_named,
    org_deployments,
    org_integrations,
    with_token,
)
from preflight.estate_view import Deployment, Flow, Integration

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
            with_token(
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
    deployment = by_name(org_deployments(ctx), site.name)
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
    """External sources whose name starts with `name` (ExternalContactsApi.md: "prefix filtering and not an exact
    match"), a cursor listing followed by its nextUri, bounded like every listing."""
    key = ("sources-named", name)
    if key not in ctx.cache:
        found: list[dict[str, Any]] = []
        body = ctx.api.get_object("/api/v2/externalcontacts/externalsources", {"name": name, "limit": 200})
        total = 0
        for _ in range(MAX_PAGES):
            total = ctx.api.charge("/api/v2/externalcontacts/externalsources", total)
            found += ctx.api.entities(body)
            next_uri = body.get("nextUri")
            # Only a path on the same API host is followed (never a URL the answer points elsewhere).
            if not isinstance(next_uri, str) or not next_uri.startswith("/api/v2/externalcontacts/externalsources"):
                break
            body = ctx.api.get_object(next_uri)
        ctx.cache[key] = found
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
            with_token(
                ctx, check, title, "architect:flow:view", lambda f=flow, c=check, t=title: _flow_lock(ctx, f, c, t)
            )
        )
    return results


def _flow_lock(ctx: Context, declared: Flow, check: str, title: str) -> Result:
    flow = next((f for f in ctx.cache.get("flows", {}).values() if f.get("name") == declared.name), None)
    if flow is None:
        listed = by_name(flows_named(ctx, declared.name, declared.type.lower()), declared.name)
        if listed is None:
            return Result(check, title, SKIPPED, f"no flow named '{declared.name}' (see the flow check)")
        # A listing entity need not carry the lock fields (FlowDivisionView.md has none): read the Flow itself.
        flow = flow_by_id(ctx, listed.get("id"))
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
            with_token(
                ctx,
                check,
                title,
                "webDeployments:configuration:view",
                lambda site=site, check=check, title=title: _declared_configuration(ctx, site, check, title),
            )
        )
    return results


def _declared_configuration(ctx: Context, site: Deployment, check: str, title: str) -> Result:
    deployment = by_name(org_deployments(ctx), site.name)
    ref = (deployment or {}).get("configuration") or {}
    if not ref.get("id") or not ref.get("version"):
        return Result(check, title, SKIPPED, "no configuration version to compare (see the deployment check)")
    live = configuration_version(ctx, ref["id"], ref["version"])
    declared = site.configuration
    if live.get("name") != declared.name:
        return Result(check, title, SKIPPED, f"the deployment serves '{live.get('name')}' (see the deployment check)")
    found = compare(declared.declared, live, declared.references)
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
            with_token(
                ctx,
                check,
                title,
                "integrations:integration:view",
                lambda i=integration, c=check, t=title: _integration_properties(ctx, i, c, t),
            )
        )
    return results


def _integration_properties(ctx: Context, declared: Integration, check: str, title: str) -> Result:
    integration = by_name(org_integrations(ctx), declared.name)
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
    differing = [k for k in wanted if k in live and not equal(wanted[k], live[k])]
    evidence = [f"GET {path}: non-null properties {sorted(live)}; the stack declares {sorted(wanted)}"]
    if not (extra or missing or differing):
        summary = f"the org holds exactly the declared properties ({', '.join(wanted)})"
        return Result(check, title, OK, summary, evidence)
    problems = [
        *(
            f"property '{k}' = {shown(live[k])} on the org is not declared: the provider merges "
            "the declared properties into the server's and reads them all back, so every preview shows a change"
            for k in extra
        ),
        *(f"property '{k}' is declared ({shown(wanted[k])}) but the org has none" for k in missing),
        *(f"property '{k}' is {shown(live[k])} on the org, the stack declares {shown(wanted[k])}" for k in differing),
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
