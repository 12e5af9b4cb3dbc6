"""What a stack declares, read from the estate: typed accessors over one in-process run (preflight/inprocess.py).

The estate is the record every check reads (stack file -> settings -> components -> estate). A reader asks it
for the Genesys objects the program declares, found by type token and the input that holds what it needs,
instead of deriving their names again: a change to how the program names or wires an object is followed,
and one these accessors cannot follow raises EstateError before anything is looked up on an org.

References between resources are recorded as the ids the offline run answers with (inprocess.offline_id
for a declared resource, inprocess.looked_up_id for a role or division lookup: a data-source invoke, which
the recording monitor does not keep, so a lookup shows in the estate as the id it answered, inside the
inputs of the resource that uses it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml
from pulumi.runtime import rpc

from components import provider_binding as binding
from components import yaml_loading
from components.settings_model import PROJECT_ROOT
from preflight.inprocess import Declared, Run, is_secret_value, looked_up_name, offline_id

WEB_MESSAGING_TYPE = "genesys-messaging:index:WebMessaging"
SITE_PREFIX = "site-"
"""components/stack.py names each site's WebMessaging component `site-<site key>`."""
CRM_CATEGORY, CRM_LOOKUP = "crm_category", "crm_lookup_action"
"""The flow template's placeholders for the CRM lookup it calls (flows/inbound_message.yaml header)."""
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
IDENTITY_RESOLUTION_INPUTS = ("deploymentId", "externalSourceId", "divisionId", "automergeAuthenticated")
"""The inputs components/identity_resolution.py's IdentityResolution declares: how its dynamic resource is told
apart from any other (they all share DYNAMIC_TYPE)."""


class EstateError(Exception):
    """The estate lacks something a reader needs: the program changed in a way the reader does not follow."""


@dataclass(frozen=True)
class Integration:
    name: str
    """The integration's name (config.name)."""
    type_id: str
    """Its integration type id (integrationType)."""
    properties: dict[str, Any] | None = field(default=None, hash=False)
    """The properties it declares (config.properties, a JSON string, decoded), or None when it declares none or
    they cannot be read offline (a secret or a value known only after deploy)."""


@dataclass(frozen=True)
class Configuration:
    name: str
    """The Messenger configuration's name."""
    auth_integration: Integration
    """The integration customers sign in through (authenticationSettings.integrationId)."""
    declared: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """Every input the WebdeploymentsConfiguration declares, keyed by Pulumi property name (camelCase of the
    provider's attributes); references to other declared resources hold their offline ids."""
    references: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    """Offline id -> what it stands for (`Integration 'identity-integration'`), for every declared resource: a
    reader tells a reference from a literal value with it."""


@dataclass(frozen=True)
class IdentityResolution:
    """What components/identity_resolution.py's dynamic resource declares for one deployment."""

    external_source: str
    """Name of the CRM external source contacts are resolved under (the ExternalcontactsExternalSource that
    externalSourceId points at)."""
    division: str
    """Name of the division resolution creates contacts in (the division lookup divisionId holds)."""
    automerge_authenticated: bool
    """Whether contacts are merged on the external id for authenticated web messaging (automergeAuthenticated)."""


@dataclass(frozen=True)
class Flow:
    name: str
    """The Architect flow's name."""
    type: str
    """Its flow type as the declared file gives it (the file's one top-level key, e.g. inboundShortMessage)."""


@dataclass(frozen=True)
class Deployment:
    site_key: str
    """The site key (sites.<key> in the stack file)."""
    name: str
    """The Messenger deployment's name."""
    allowed_domains: tuple[str, ...]
    """Domains it declares (allowedDomains)."""
    configuration: Configuration
    """The configuration it points at."""
    flow: Flow
    """The flow it routes to."""
    identity_resolution: IdentityResolution | None = None
    """Its identity resolution setting, or None when the stack declares none for it."""


@dataclass(frozen=True)
class DataAction:
    category: str
    """Architect's callData category: the name of the action's integration."""
    name: str
    """The action's name."""
    integration: Integration
    """The integration the action belongs to."""


@dataclass(frozen=True)
class RoleGrant:
    role: str
    """Name of an existing role an OAuth client of the stack is granted."""
    division: str
    """Name of the division the grant is scoped to."""


@dataclass(frozen=True)
class Estate:
    """Everything the doctor looks for on the org, read at once: a gap fails before the first call."""

    deployments: dict[str, Deployment]
    oidc_integration: Integration
    crm_lookup_action: DataAction
    role_grants: tuple[RoleGrant, ...]
    integrations: tuple[Integration, ...] = ()
    """Every integration the stack declares, in declaration order."""


def read(run: Run) -> Estate:
    """Every accessor below over one run. Raises EstateError."""
    return Estate(
        deployments=deployments(run),
        oidc_integration=oidc_integration(run),
        crm_lookup_action=crm_lookup_action(run),
        role_grants=role_grants(run),
        integrations=integrations(run),
    )


def deployments(run: Run) -> dict[str, Deployment]:
    """Each site's Messenger deployment by site key, in declaration order: the WebdeploymentsDeployment child
    of the WebMessaging component `site-<key>`, with the configuration and flow its inputs point at."""
    sites = [r for r in run.resources if r.type == WEB_MESSAGING_TYPE]
    if not sites:
        raise EstateError(f"the estate declares no {WEB_MESSAGING_TYPE} component (one per site)")
    token = binding.type_token(binding.WebdeploymentsDeployment)
    found, flows = {}, {}
    for site in sites:
        if not site.name.startswith(SITE_PREFIX):
            raise EstateError(f"{WEB_MESSAGING_TYPE} '{site.name}' is not named {SITE_PREFIX}<site key>")
        key = site.name.removeprefix(SITE_PREFIX)
        children = [r for r in run.resources if r.parent == site.urn and r.type == token]
        deployment = _one(children, f"deployment of {WEB_MESSAGING_TYPE} '{site.name}'")
        domains = _input(deployment, "allowedDomains")
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise EstateError(f"{_what(deployment)} declares no list of allowedDomains")
        configuration = _referenced(run, deployment, ("configuration", "id"), binding.WebdeploymentsConfiguration)
        flow = _referenced(run, deployment, ("flowId",), binding.Flow)
        if flow.urn not in flows:
            flows[flow.urn] = Flow(name=_text(flow, "name"), type=_flow_type(flow))
        found[key] = Deployment(
            site_key=key,
            name=_text(deployment, "name"),
            allowed_domains=tuple(domains),
            configuration=_configuration(run, configuration),
            flow=flows[flow.urn],
            identity_resolution=_identity_resolution(run, deployment),
        )
    return found


def integrations(run: Run) -> tuple[Integration, ...]:
    """Every Integration the stack declares, with the properties it declares."""
    token = binding.type_token(binding.Integration)
    return tuple(_integration(r) for r in run.resources if r.type == token)


def oidc_integration(run: Run) -> Integration:
    """The one integration every Messenger configuration signs customers in through."""
    token = binding.type_token(binding.WebdeploymentsConfiguration)
    used = list(dict.fromkeys(_configuration(run, c).auth_integration for c in run.resources if c.type == token))
    if len(used) != 1:
        names = ", ".join(i.name for i in used) or "none"
        raise EstateError(f"Messenger configurations should authenticate through one integration, not: {names}")
    return used[0]


def crm_lookup_action(run: Run) -> DataAction:
    """The data action the inbound flow calls to look the customer up in the CRM (its `crm_category` and
    `crm_lookup_action` substitutions), as an IntegrationAction declares it."""
    flows = [f for f in run.resources if f.type == binding.type_token(binding.Flow)]
    calls = {(_text(f, "substitutions", CRM_CATEGORY), _text(f, "substitutions", CRM_LOOKUP)) for f in flows}
    if len(calls) != 1:
        raise EstateError(f"the flows should call one CRM lookup ({CRM_CATEGORY}/{CRM_LOOKUP}), not {sorted(calls)}")
    ((category, name),) = calls
    token = binding.type_token(binding.IntegrationAction)
    actions = [
        a for a in run.resources if a.type == token and (_input(a, "category"), _input(a, "name")) == (category, name)
    ]
    action = _one(actions, f"data action '{category}/{name}' the flow calls")
    integration = _referenced(run, action, ("integrationId",), binding.Integration)
    return DataAction(category=category, name=name, integration=_integration(integration))


def role_grants(run: Run) -> tuple[RoleGrant, ...]:
    """The (role, division) grants of every OAuth client the stack declares, once each, in order. Roles and
    divisions exist already and are looked up by name: the estate holds the ids those lookups answered."""
    grants = []
    for client in (r for r in run.resources if r.type == binding.type_token(binding.OauthClient)):
        roles = _input(client, "roles")
        if not isinstance(roles, list):
            raise EstateError(f"{_what(client)} declares no list of roles")
        for grant in roles:
            grant = grant if isinstance(grant, dict) else {}
            role, division = grant.get("roleId"), grant.get("divisionId")
            grants.append(RoleGrant(_looked_up(client, role, "role"), _looked_up(client, division, "division")))
    return tuple(dict.fromkeys(grants))


# --- reading resources --------------------------------------------------------------------------------


def _what(resource: Declared) -> str:
    return f"{resource.type.rsplit(':', 1)[-1]} '{resource.name}'"


def _one(candidates: list[Declared], what: str) -> Declared:
    if len(candidates) != 1:
        found = ", ".join(c.name for c in candidates) or "none"
        raise EstateError(f"the estate should declare one {what}, found {found}")
    return candidates[0]


def _input(resource: Declared, *path: str) -> Any:
    value: Any = resource.inputs
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _text(resource: Declared, *path: str) -> str:
    """A plain, non-empty string input (a secret or an unknown is not a name the doctor can look for)."""
    value = _input(resource, *path)
    if not isinstance(value, str) or not value:
        raise EstateError(f"{_what(resource)} declares no {'.'.join(path)}")
    return value


def _referenced(run: Run, resource: Declared, path: tuple[str, ...], cls: type[binding.GenesysResource]) -> Declared:
    """The resource of type `cls` whose id an input of `resource` holds (its offline id)."""
    value = _text(resource, *path)
    token = binding.type_token(cls)
    targets = [r for r in run.resources if r.type == token and offline_id(r.name) == value]
    return _one(targets, f"{token.rsplit(':', 1)[-1]} that {_what(resource)} {'.'.join(path)} points at")


def _configuration(run: Run, configuration: Declared) -> Configuration:
    """A configuration and the integration it authenticates through: the doctor checks authenticated messaging."""
    if _input(configuration, "authenticationSettings", "enabled") is not True:
        raise EstateError(f"{_what(configuration)} does not declare authenticated messaging (authenticationSettings)")
    path = ("authenticationSettings", "integrationId")
    integration = _integration(_referenced(run, configuration, path, binding.Integration))
    references = {offline_id(r.name): _what(r) for r in run.resources}
    return Configuration(_text(configuration, "name"), integration, dict(configuration.inputs), references)


def _integration(integration: Declared) -> Integration:
    return Integration(
        _text(integration, "config", "name"), _text(integration, "integrationType"), _properties(integration)
    )


def _properties(integration: Declared) -> dict[str, Any] | None:
    """config.properties decoded: the provider's attribute is a JSON string (integration schema.go:54-60)."""
    value = _input(integration, "config", "properties")
    if value is None or is_secret_value(value) or value == rpc.UNKNOWN:
        return None
    try:
        decoded = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        decoded = None
    if not isinstance(decoded, dict):
        raise EstateError(f"{_what(integration)} declares config.properties that are not a JSON object")
    return decoded


def _identity_resolution(run: Run, deployment: Declared) -> IdentityResolution | None:
    """The IdentityResolution dynamic resource whose deploymentId is this deployment's, if the stack has one."""
    candidates = [
        r
        for r in run.resources
        if r.type == DYNAMIC_TYPE
        and all(k in r.inputs for k in IDENTITY_RESOLUTION_INPUTS)
        and r.inputs.get("deploymentId") == offline_id(deployment.name)
    ]
    if not candidates:
        return None
    resolution = _one(candidates, f"identity resolution of {_what(deployment)}")
    source = _referenced(run, resolution, ("externalSourceId",), binding.ExternalcontactsExternalSource)
    automerge = _input(resolution, "automergeAuthenticated")
    if not isinstance(automerge, bool):
        raise EstateError(f"{_what(resolution)} declares no boolean automergeAuthenticated")
    return IdentityResolution(
        external_source=_text(source, "name"),
        division=_looked_up(resolution, _input(resolution, "divisionId"), "division"),
        automerge_authenticated=automerge,
    )


def _flow_type(flow: Declared) -> str:
    """The flow type of the file the Flow resource declares: its one top-level key (archy's flow format)."""
    path = PROJECT_ROOT / _text(flow, "filepath")
    try:
        document = yaml_loading.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise EstateError(f"{_what(flow)}: cannot read its flow file {path} ({error})") from None
    if not isinstance(document, dict) or len(document) != 1:
        raise EstateError(f"{_what(flow)}: its flow file {path} should have one top-level key, the flow type")
    return str(next(iter(document)))


def _looked_up(resource: Declared, value: Any, kind: str) -> str:
    """The name a role or division lookup was asked for, from the id the offline run answered it with."""
    name = looked_up_name(kind, value)
    if name is None:
        raise EstateError(f"{_what(resource)} grants a {kind} id {value!r} that no {kind} lookup answered")
    return name
