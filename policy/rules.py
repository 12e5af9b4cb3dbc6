"""The policy rules of genesys-messaging: one implementation, two entry points.

- `policy/__main__.py` builds the Pulumi policy pack from `policies()`:
  `pulumi preview --policy-pack policy --policy-pack-config policy/config.prod.json`.
- `python -m preflight plan` runs the same `RULES` through its adapter (preflight/policy_check.py), which
  builds real pulumi-policy argument objects from what the program declared under mocks.

This module holds only the pack's rules: it never imports program code (`components/`, `preflight/`),
and knows nothing of the offline run's conventions (mock ids, Pulumi's secret wrappers). What it needs
is in `policy_data.json` beside it.

Stack context (which region and environment the stack is for) is resolved per validation, first hit wins:

1. Policy config: the `region` / `environment` properties of the policy, i.e. the
   `--policy-pack-config` file (`policy/config.<stack>.json`, one entry per policy that reads context,
   see CONTEXT_RULES), or preflight's context.
2. Stack config: `<project>:region` / `<project>:environment` (`genesys-messaging:region` ...), which
   the Pulumi CLI hands to policy packs in `PULUMI_CONFIG` with `PULUMI_PROJECT` set (stack validation
   without a config file).
3. Region only: the `awsRegion` input of the Genesys provider the resource uses (`args.provider.props`;
   for stack policies the `pulumi:providers:genesyscloud` resource).

An environment that cannot be resolved is treated as prod (fail closed: the stricter rules apply).

A value a rule needs but a preview cannot know is unproven: the rule reports it (see `unproven`). The
ids of resources still to be created are followed through the engine's dependency record instead.
Whether an input is a secret is invisible to the pack (pulumi-policy hands secrets over as plain
values), so that check lives in preflight, which sees Pulumi's secret wrappers.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyProviderResource,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

DATA: dict[str, Any] = json.loads(Path(__file__).with_name("policy_data.json").read_text())
REGION_DOMAINS: dict[str, str] = DATA["regions"]
KNOWN_SCOPES = frozenset(DATA["knownScopes"])
TOKEN_MIN, TOKEN_MAX = DATA["tokenValiditySeconds"]["min"], DATA["tokenValiditySeconds"]["max"]
LEVELS: dict[str, str] = DATA["levels"]
ENVIRONMENTS: tuple[str, ...] = tuple(DATA["environments"])
PROD = "prod"

PROVIDER_TYPE = "pulumi:providers:genesyscloud"
OAUTH_CLIENT = "genesyscloud:index/oauthClient:OauthClient"
AUTH_ROLE = "genesyscloud:index/authRole:AuthRole"
DEPLOYMENT = "genesyscloud:index/webdeploymentsDeployment:WebdeploymentsDeployment"
CONFIGURATION = "genesyscloud:index/webdeploymentsConfiguration:WebdeploymentsConfiguration"
INTEGRATION_ACTION = "genesyscloud:index/integrationAction:IntegrationAction"
FLOW = "genesyscloud:index/flow:Flow"
ROUTING_QUEUE = "genesyscloud:index/routingQueue:RoutingQueue"
CLIENT_CREDENTIALS = "CLIENT-CREDENTIALS"
ALL_DIVISIONS = "*"

# Pulumi's unknown-value sentinels (pulumi_policy.proxy; the Python SDK's rpc.UNKNOWN is the string one).
_UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)


class _Unknown:
    """A value a preview cannot know yet."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()

ReportViolation = Callable[..., None]


# --- reading props: plain or proxied (pack), unknowns -----------------------------------------------


def _items(value: Any) -> Iterator[tuple[Any, Any]]:
    """(key, child) of a mapping or sequence; children a preview cannot know come back as UNKNOWN."""
    keys = list(value) if isinstance(value, Mapping) else range(len(value))
    for key in keys:
        try:
            yield key, value[key]
        except UnknownValueError:
            yield key, UNKNOWN


def plain(value: Any) -> Any:
    """The value as plain dicts, lists and scalars, unknowns as UNKNOWN."""
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        return {key: plain(child) for key, child in _items(value)}
    if isinstance(value, Sequence):
        return [plain(child) for _, child in _items(value)]
    return value


def known(value: Any) -> bool:
    return value is not UNKNOWN


def unproven(report_violation: ReportViolation, urn: str, field: str, fix: str) -> None:
    """A mandatory rule cannot judge a value a preview does not know: unknown means unproven, so it fails and
    says so. The program gives every value these rules read as a literal, so a first preview knows them."""
    report_violation(f"{urn}: {field} is not known before deploy, so this rule cannot verify it. {fix}")


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, string) in a plain value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield from _strings(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _strings(child, f"{path}[{i}]")


# --- stack context ---------------------------------------------------------------------------------


def _stack_config(key: str) -> str | None:
    project = os.environ.get("PULUMI_PROJECT")
    if not project:
        return None
    try:
        import pulumi.runtime

        return pulumi.runtime.get_config(f"{project}:{key}")
    except Exception:  # no engine settings: no stack config to read
        return None


def _provider_region(provider: PolicyProviderResource | None) -> str | None:
    if provider is None or provider.resource_type != PROVIDER_TYPE:
        return None
    region = plain(provider.props).get("awsRegion")
    return region if isinstance(region, str) else None


def context_region(config: Mapping[str, Any], provider: PolicyProviderResource | None = None) -> str | None:
    """The stack's Genesys region code (lower case), or None if nothing says (see module docstring)."""
    region = config.get("region") or _stack_config("region") or _provider_region(provider)
    return region.lower() if isinstance(region, str) else None


def context_environment(config: Mapping[str, Any]) -> str:
    """The stack's environment; prod when nothing says (fail closed)."""
    environment = config.get("environment") or _stack_config("environment")
    return environment if environment in ENVIRONMENTS else PROD


def _stack_provider(resources: Sequence[PolicyResource]) -> PolicyProviderResource | None:
    for resource in resources:
        if resource.resource_type == PROVIDER_TYPE:
            return PolicyProviderResource(resource.resource_type, resource.props, resource.urn, resource.name)
    return None


# --- 1. region consistency -------------------------------------------------------------------------

_HOST = re.compile(r"(?<![a-z0-9.-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})(?![a-z0-9-])", re.IGNORECASE)
_FAMILIES = tuple(sorted(set(DATA["genesysDomainFamilies"]) | set(REGION_DOMAINS.values()), key=len, reverse=True))
_GLOBAL_HOSTS = frozenset(DATA["globalHosts"])


def genesys_host_domain(host: str) -> str | None:
    """The Genesys domain (a region's, or a parent family's) `host` belongs to, or None if not Genesys."""
    host = host.lower().rstrip(".")
    if host in _GLOBAL_HOSTS:
        return None
    for domain in _FAMILIES:
        if host == domain or host.endswith("." + domain):
            regional = [d for d in REGION_DOMAINS.values() if host == d or host.endswith("." + d)]
            return max(regional, key=len) if regional else domain
    return None


def region_consistency_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Provider `awsRegion` is the stack region; every Genesys host in any input is that region's."""
    config = args.get_config()
    region = context_region(config, args.provider)
    props = plain(args.props)
    if args.resource_type == PROVIDER_TYPE:
        aws_region = props.get("awsRegion")
        if not known(aws_region):
            unproven(report_violation, args.urn, "awsRegion", "Set it from the stack's region setting.")
            return
        if not isinstance(aws_region, str) or aws_region.lower() not in REGION_DOMAINS:
            report_violation(
                f"Provider {args.urn} has awsRegion {aws_region!r}, not a Genesys Cloud region code. "
                f"Set it to one of: {', '.join(sorted(REGION_DOMAINS))}."
            )
            return
        if region and aws_region.lower() != region:
            report_violation(
                f"Provider {args.urn} has awsRegion {aws_region!r} but the stack region is {region!r}. "
                "Fix the stack's region config or the policy config so both name the same region."
            )
    if region not in REGION_DOMAINS:
        return
    expected = REGION_DOMAINS[region]
    for path, text in _strings(props):
        for host in _HOST.findall(text):
            domain = genesys_host_domain(host)
            if domain is not None and domain != expected:
                report_violation(
                    f"{args.urn} input {path} uses Genesys host {host!r}, which is not in region {region} "
                    f"({expected}). Derive the host from the stack region (e.g. api.{expected})."
                )


# --- 2, 3. OAuth clients ---------------------------------------------------------------------------


def oauth_client_grant_shape_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Client-credentials clients get rights from roles only; other grants from known scopes only."""
    if args.resource_type != OAUTH_CLIENT:
        return
    props = plain(args.props)
    grant, roles, scopes = props.get("authorizedGrantType"), props.get("roles"), props.get("scopes")
    if grant is not None and not known(grant):
        unproven(report_violation, args.urn, "authorizedGrantType", "Give the grant type as a literal.")
        return
    if grant is None:
        return
    if grant == CLIENT_CREDENTIALS:
        if known(roles) and not roles:
            report_violation(
                f"Client-credentials client {args.urn} has no roles. Grant it a least-privilege role "
                "(roles[].roleId with a divisionId)."
            )
        if known(scopes) and scopes:
            report_violation(
                f"Client-credentials client {args.urn} sets scopes {scopes}; Genesys ignores scopes for this grant. "
                "Remove scopes and grant rights through roles."
            )
        return
    if known(roles) and roles:
        report_violation(
            f"{grant} client {args.urn} sets roles; roles apply only to CLIENT-CREDENTIALS grants. "
            "Remove roles and list the scopes it needs."
        )
    if known(scopes) and not scopes:
        report_violation(f"{grant} client {args.urn} has no scopes. List the Genesys OAuth scopes it needs.")
    elif known(scopes):
        unknown_scopes = sorted(s for s in scopes if known(s) and s not in KNOWN_SCOPES)
        if unknown_scopes:
            report_violation(
                f"{grant} client {args.urn} requests unknown scopes {unknown_scopes}. Use Genesys scope names "
                "(developer.genesys.cloud/authorization/scopes/); 'all' is never allowed."
            )


# Genesys documents 300..172800 s (5 min..48 h) for access token lifetimes
# (help.mypurecloud.com/articles/create-an-oauth-client/). The provider's validator would accept up to
# 38,880,000 s (genesyscloud/oauth_client/resource_genesyscloud_oauth_client_schema.go), so this rule,
# not the provider, holds the documented limit.
def oauth_token_lifetime_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """OAuth access tokens live between 300 and 172800 seconds."""
    if args.resource_type != OAUTH_CLIENT:
        return
    seconds = plain(args.props).get("accessTokenValiditySeconds")
    if seconds is None:
        return  # the provider's default, 86400 s, is within range
    if not known(seconds):
        unproven(report_violation, args.urn, "accessTokenValiditySeconds", "Give the lifetime as a literal.")
        return
    if not isinstance(seconds, (int, float)) or not TOKEN_MIN <= seconds <= TOKEN_MAX:
        report_violation(
            f"OAuth client {args.urn} has accessTokenValiditySeconds {seconds}, outside {TOKEN_MIN}..{TOKEN_MAX} "
            "(Genesys docs). Set a lifetime within that range (tokenValiditySeconds config)."
        )


# --- 4. roles and grants ---------------------------------------------------------------------------

_READ_ONLY_ACTIONS = frozenset(DATA["readOnlyActions"])


def _policies_of(role_props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    policies = role_props.get("permissionPolicies")
    return [p for p in policies if isinstance(p, Mapping)] if isinstance(policies, list) else []


def _actions(policy: Mapping[str, Any]) -> list[Any]:
    actions = policy.get("actionSets")
    return actions if isinstance(actions, list) else []


def role_writes(role_props: Mapping[str, Any]) -> bool:
    """Whether any permission policy of the role grants an action beyond reading."""
    return any(
        known(action) and action not in _READ_ONLY_ACTIONS
        for policy in _policies_of(role_props)
        for action in _actions(policy)
    )


def no_admin_like_role_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Roles name their domain, entity and actions; no `*` anywhere in a permission policy."""
    if args.resource_type != AUTH_ROLE:
        return
    for i, policy in enumerate(_policies_of(plain(args.props))):
        wildcards = [
            field
            for field, value in (("domain", policy.get("domain")), ("entityName", policy.get("entityName")))
            if value == "*"
        ] + (["actionSets"] if "*" in _actions(policy) else [])
        if wildcards:
            report_violation(
                f"Role {args.urn} permissionPolicies[{i}] has '*' in {', '.join(wildcards)}: an admin-like role. "
                "List the exact domain:entity:action permissions the role needs."
            )


def _role_id(resource: PolicyResource) -> Any:
    """A role's id: its `id` output when the engine knows it (after create), else UNKNOWN."""
    return plain(resource.props).get("id", UNKNOWN)


def _grants(args: StackValidationArgs) -> Iterator[tuple[PolicyResource, int, Mapping[str, Any], list[PolicyResource]]]:
    """(client, index, grant, roles of this stack the grant may name) for every OAuth client's role grant."""
    roles = [r for r in args.resources if r.resource_type == AUTH_ROLE]
    roles_by_id = {role_id: r for r in roles if known(role_id := _role_id(r))}
    for client in args.resources:
        if client.resource_type != OAUTH_CLIENT:
            continue
        grants = plain(client.props).get("roles")
        if not isinstance(grants, list):
            continue
        for i, grant in enumerate(grants):
            if not isinstance(grant, Mapping):
                continue
            role_id = grant.get("roleId")
            if known(role_id) and role_id in roles_by_id:
                candidates = [roles_by_id[role_id]]
            else:
                # Id unknown in a preview: judge by the roles the `roles` input depends on.
                candidates = [d for d in client.property_dependencies.get("roles", []) if d.resource_type == AUTH_ROLE]
            yield client, i, grant, candidates


def no_same_run_role_grant_validator(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A client-credentials client is never granted a role this stack creates.

    The provider's client-credentials client can grant only roles it already holds; it cannot hold a
    role created in the same run (provider v1.84.1 oauth_client/resource_genesyscloud_oauth_client_schema.go:94;
    resource_genesyscloud_oauth_client.go:213-215 only warns). Roles come from bootstrap/.
    """
    for client, i, _grant, candidates in _grants(args):
        if plain(client.props).get("authorizedGrantType") != CLIENT_CREDENTIALS or not candidates:
            continue
        report_violation(
            f"OAuth client {client.urn} roles[{i}] grants role {candidates[0].urn}, created in this same stack: "
            "the deployer cannot hold it yet, so `pulumi up` fails. Declare the role in bootstrap/ and look it "
            "up by name (provider_binding.role_id).",
            client.urn,
        )


def no_all_divisions_write_grant_validator(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Role grants that can write are scoped to a division, never to all divisions (`*`).

    Every OAuth client the engine sees is judged, declared by the components or not. A grant in `*` of a
    role this stack does not declare (an existing role by id, an admin role) cannot be proven read-only,
    so it fails too: unknown means unproven.
    """
    for client, i, grant, candidates in _grants(args):
        division = grant.get("divisionId")
        if not known(division):
            report_violation(
                f"OAuth client {client.urn} roles[{i}]: the division is not known before deploy, so a grant in "
                "all divisions cannot be ruled out. Give roles[].divisionId from the stack's division lookup.",
                client.urn,
            )
            continue
        if division != ALL_DIVISIONS:
            continue
        if not candidates:
            report_violation(
                f"OAuth client {client.urn} roles[{i}] grants role {grant.get('roleId')!r}, which this stack does not "
                "declare, in all divisions ('*'): it cannot be proven read-only. Scope the grant to the stack's "
                "division (roles[].divisionId).",
                client.urn,
            )
            continue
        writers = [r.urn for r in candidates if role_writes(plain(r.props))]
        if writers:
            report_violation(
                f"OAuth client {client.urn} roles[{i}] grants role {writers[0]} (which can write) in all "
                "divisions ('*'). Scope the grant to the stack's division (roles[].divisionId).",
                client.urn,
            )


# --- 5. web deployments ----------------------------------------------------------------------------


def web_deployment_wiring_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Web deployments reference an inbound message flow and a Messenger configuration."""
    if args.resource_type != DEPLOYMENT:
        return
    props = plain(args.props)
    if not props.get("flowId"):
        report_violation(f"Web deployment {args.urn} has no flowId. Set flowId to the stack's inbound message flow.")
    configuration = props.get("configuration")
    if not known(configuration):
        unproven(report_violation, args.urn, "configuration", "Reference the site's configuration resource.")
        return
    if not isinstance(configuration, Mapping) or not configuration.get("id"):
        report_violation(
            f"Web deployment {args.urn} references no configuration. Set configuration.id to the site's "
            "Messenger configuration."
        )


def _domain_problems(args: ResourceValidationArgs) -> list[str]:
    props = plain(args.props)
    problems = []
    if props.get("allowAllDomains") is True:
        problems.append("sets allowAllDomains true")
    domains = props.get("allowedDomains")
    if known(domains):
        if not domains:
            problems.append("has no allowedDomains")
        elif any(known(d) and str(d).strip() == "*" for d in domains):
            problems.append("allows the '*' domain")
    return [
        f"Web deployment {args.urn} {problem}. List the site's exact domains in allowedDomains and leave "
        "allowAllDomains unset."
        for problem in problems
    ]


def prod_deployment_allowed_domains_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Prod web deployments allow only an explicit domain list (never all domains)."""
    if args.resource_type != DEPLOYMENT or context_environment(args.get_config()) != PROD:
        return
    for message in _domain_problems(args):
        report_violation(message)


def deployment_allowed_domains_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Warns when a non-prod web deployment allows all domains or lists none."""
    if args.resource_type != DEPLOYMENT or context_environment(args.get_config()) == PROD:
        return
    for message in _domain_problems(args):
        report_violation(message)


def prod_messenger_authentication_validator(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """In prod, the configuration each web deployment uses has authenticated messaging enabled."""
    if context_environment(args.get_config()) != PROD:
        return
    configurations: dict[Any, PolicyResource] = {}
    for resource in args.resources:
        if resource.resource_type == CONFIGURATION:
            config_id = plain(resource.props).get("id", UNKNOWN)
            if known(config_id):
                configurations[config_id] = resource
    for deployment in args.resources:
        if deployment.resource_type != DEPLOYMENT:
            continue
        reference = plain(deployment.props).get("configuration")
        config_id = reference.get("id") if isinstance(reference, Mapping) else None
        if known(config_id) and config_id in configurations:
            configuration = configurations[config_id]
        else:
            # A real preview often has no id yet: the engine's dependency record still names it.
            referenced = deployment.property_dependencies.get("configuration", [])
            candidates = [d for d in referenced if d.resource_type == CONFIGURATION]
            if len(candidates) != 1:
                # Unknown means unproven: a configuration this stack does not declare, or two of them.
                found = "two or more configurations" if candidates else "no configuration this stack declares"
                report_violation(
                    f"Web deployment {deployment.urn} depends on {found}, so authenticated messaging cannot be "
                    "verified in prod. Point configuration.id at the site's WebdeploymentsConfiguration in this stack.",
                    deployment.urn,
                )
                continue
            configuration = candidates[0]
        settings = plain(configuration.props).get("authenticationSettings")
        enabled = settings.get("enabled") if isinstance(settings, Mapping) else None
        if not known(enabled):
            report_violation(
                f"Web deployment {deployment.urn}: whether {configuration.urn} enables authenticated messaging is not "
                "known before deploy. Set authenticationSettings.enabled to the literal true.",
                configuration.urn,
            )
        elif enabled is not True:
            report_violation(
                f"Web deployment {deployment.urn} uses configuration {configuration.urn}, which does not enable "
                "authenticated messaging. Set authenticationSettings.enabled true with the OIDC integration.",
                configuration.urn,
            )


# --- 6. data actions -------------------------------------------------------------------------------


def data_action_https_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Data actions call their endpoints over https only."""
    if args.resource_type != INTEGRATION_ACTION:
        return
    request = plain(args.props).get("configRequest")
    url = request.get("requestUrlTemplate") if isinstance(request, Mapping) else None
    if url is None:
        return
    if not known(url):
        unproven(report_violation, args.urn, "configRequest.requestUrlTemplate", "Build the URL from settings.")
        return
    # A Genesys Cloud data action (purecloud-data-actions) takes a path such as /api/v2/...: Genesys
    # resolves it against the org's own API over https, so it can name neither scheme nor region.
    if str(url).startswith("/api/"):
        return
    if not str(url).lower().startswith("https://"):
        report_violation(
            f"Data action {args.urn} requestUrlTemplate {url!r} is not an https URL. "
            "Use a literal https:// URL (or an /api/v2/ path for Genesys Cloud data actions)."
        )


# --- 8, 9. protection and providers ----------------------------------------------------------------

# Deleting any of these breaks live conversations or the backends that use them.
_PROTECTED_IN_PROD = (OAUTH_CLIENT, DEPLOYMENT, FLOW, ROUTING_QUEUE)


def prod_protected_resources_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """In prod, OAuth clients, web deployments, the flow and the queue are protected against deletion."""
    if args.resource_type not in _PROTECTED_IN_PROD or context_environment(args.get_config()) != PROD:
        return
    if not args.opts.protect:
        report_violation(
            f"{args.urn} is not protected in prod. Declare it with ResourceOptions(protect=True) "
            "(the program's protect=settings.is_prod)."
        )


def explicit_genesys_provider_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every Genesys resource uses the stack's explicit provider, never a default provider."""
    if not args.resource_type.startswith("genesyscloud:"):
        return
    provider = args.provider
    if provider is None or not provider.urn:
        report_violation(
            f"{args.urn} has no provider. Pass the stack's explicit provider (ResourceOptions(providers=[...]))."
        )
    elif "::default" in provider.urn:
        report_violation(
            f"{args.urn} uses the default provider {provider.urn}. Pass the stack's explicit provider "
            "(ResourceOptions(providers=[...])) and keep pulumi:disable-default-providers set."
        )


def queue_members_explicit_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A queue either lists its members or ignores them; otherwise the provider removes every agent."""
    if args.resource_type != ROUTING_QUEUE:
        return
    props = args.props
    # routing_queue/resource_genesyscloud_routing_queue_members.go:82-95 (provider v1.84.1): with
    # ignore_members unset and members empty, create and update remove every member of the queue.
    if plain(props.get("ignoreMembers")) is True:
        return
    members = plain(props.get("members"))
    if not members:
        report_violation(
            f"{args.urn} neither lists members nor sets ignoreMembers: every `pulumi up` would remove the "
            "agents assigned to it in Genesys. Set ignoreMembers=True (membership managed in Genesys) or "
            "list the members."
        )


# --- the rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One rule: a policy in the pack, a check in preflight."""

    id: str
    description: str
    """Starts with a verb; the pack shows it above every message."""
    fix: str
    validator: Callable[..., None]
    stack: bool = False
    """A stack policy (needs all resources) rather than a resource policy."""
    context: bool = False
    """Reads the stack context (region, environment) from policy config."""

    @property
    def level(self) -> str:
        return LEVELS[self.id]


RULES: tuple[Rule, ...] = (
    Rule(
        "region-consistency",
        "Keep the provider region and every Genesys host in the stack's region.",
        "Set the provider's awsRegion from the stack region and derive every Genesys host from it.",
        region_consistency_validator,
        context=True,
    ),
    Rule(
        "oauth-client-grant-shape",
        "Give client-credentials clients roles only, and other clients known scopes only.",
        "Client credentials: roles, no scopes. Other grants: scopes from the Genesys scope list, no roles.",
        oauth_client_grant_shape_validator,
    ),
    Rule(
        "oauth-token-lifetime",
        "Keep OAuth access token lifetimes within 300..172800 seconds.",
        "Set accessTokenValiditySeconds between 300 and 172800.",
        oauth_token_lifetime_validator,
    ),
    Rule(
        "no-admin-like-role",
        "Forbid '*' in a role's permission domain, entity or actions.",
        "List exact domain:entity:action permissions.",
        no_admin_like_role_validator,
    ),
    Rule(
        "no-all-divisions-write-grant",
        "Scope every role grant that can write to a division, never all divisions.",
        "Set roles[].divisionId to the stack's division.",
        no_all_divisions_write_grant_validator,
        stack=True,
    ),
    Rule(
        "no-same-run-role-grant",
        "Forbid granting a client-credentials client a role the same stack creates.",
        "Declare roles in bootstrap/ (once per org) and look them up by name in the stack.",
        no_same_run_role_grant_validator,
        stack=True,
    ),
    Rule(
        "web-deployment-wiring",
        "Require each web deployment to reference its inbound message flow and configuration.",
        "Set flowId and configuration.id.",
        web_deployment_wiring_validator,
    ),
    Rule(
        "prod-deployment-allowed-domains",
        "Require prod web deployments to allow only explicit domains.",
        "List the site's domains in allowedDomains; never set allowAllDomains.",
        prod_deployment_allowed_domains_validator,
        context=True,
    ),
    Rule(
        "deployment-allowed-domains",
        "Warn when a non-prod web deployment allows all domains or lists none.",
        "List the site's domains in allowedDomains; never set allowAllDomains.",
        deployment_allowed_domains_validator,
        context=True,
    ),
    Rule(
        "prod-messenger-authentication",
        "Require authenticated messaging on every prod web deployment's configuration.",
        "Set authenticationSettings.enabled true (with the OIDC integration) on the configuration.",
        prod_messenger_authentication_validator,
        stack=True,
        context=True,
    ),
    Rule(
        "data-action-https",
        "Require data action request URLs to use https.",
        "Make configRequest.requestUrlTemplate a literal https:// URL.",
        data_action_https_validator,
    ),
    Rule(
        "prod-protected-resources",
        "Protect prod OAuth clients, web deployments, flows and queues against deletion.",
        "Declare them with protect=True in prod.",
        prod_protected_resources_validator,
        context=True,
    ),
    Rule(
        "queue-members-explicit",
        "Require every routing queue to list its members or set ignoreMembers.",
        "Set ignoreMembers=True when agents are assigned in Genesys, or list members.",
        queue_members_explicit_validator,
    ),
    Rule(
        "explicit-genesys-provider",
        "Require every Genesys resource to use the stack's explicit provider.",
        "Pass ResourceOptions(providers=[provider]); keep default providers disabled.",
        explicit_genesys_provider_validator,
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
CONTEXT_RULES: tuple[str, ...] = tuple(rule.id for rule in RULES if rule.context)
"""Rule ids whose policy config carries `region` and `environment` (policy/config.<stack>.json)."""

_CONTEXT_SCHEMA = PolicyConfigSchema(
    properties={
        "region": {"type": "string", "enum": sorted(REGION_DOMAINS), "description": "Genesys region code"},
        "environment": {"type": "string", "enum": list(ENVIRONMENTS), "description": "staging or prod"},
    }
)
_ENFORCEMENT = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def policies() -> list[Policy]:
    """One pulumi-policy policy per rule, in RULES order."""
    built: list[Policy] = []
    for rule in RULES:
        kind = StackValidationPolicy if rule.stack else ResourceValidationPolicy
        built.append(
            kind(
                name=rule.id,
                description=rule.description,
                validate=rule.validator,
                enforcement_level=_ENFORCEMENT[rule.level],
                config_schema=_CONTEXT_SCHEMA if rule.context else None,
                remediation_steps=rule.fix,
            )
        )
    return built
