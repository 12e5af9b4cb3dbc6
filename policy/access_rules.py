"""Access: what OAuth clients may do, and the roles and grants that give them their rights.

Least privilege: client-credentials clients get their rights from roles (other grants from known scopes),
roles name exact permissions, a role that can write is granted in one division only, and no
client-credentials client is granted a role the same stack creates. Access tokens live within the
documented range.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, StackValidationArgs

from .common import AUTH_ROLE, DATA, OAUTH_CLIENT, UNKNOWN, ReportViolation, Rule, known, plain, unproven

CLIENT_CREDENTIALS = "CLIENT-CREDENTIALS"
ALL_DIVISIONS = "*"
KNOWN_SCOPES = frozenset(DATA["knownScopes"])
TOKEN_MIN, TOKEN_MAX = DATA["tokenValiditySeconds"]["min"], DATA["tokenValiditySeconds"]["max"]
_READ_ONLY_ACTIONS = frozenset(DATA["readOnlyActions"])
USER_TOKEN_PROJECTS = frozenset(DATA["userTokenProjects"])
"""Projects run with an administrator's user token (bootstrap/), where a same-run role grant is the design."""


def _project(urn: str) -> str:
    """urn:pulumi:<stack>::<project>::<type>::<name> -> <project>."""
    parts = urn.split("::")
    return parts[1] if len(parts) > 2 else ""


# --- OAuth clients ---------------------------------------------------------------------------------


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


OAUTH_CLIENT_GRANT_SHAPE = Rule(
    id="oauth-client-grant-shape",
    level="mandatory",
    description="Give client-credentials clients roles only, and other clients known scopes only.",
    fix="Client credentials: roles, no scopes. Other grants: scopes from the Genesys scope list, no roles.",
    validator=oauth_client_grant_shape_validator,
)


# Genesys documents 300..172800 s (5 min..48 h) for access token lifetimes
# (help.mypurecloud.com/articles/create-an-oauth-client/). The provider's validator would accept up to
# 38,880,000 s (genesyscloud/oauth_client/resource_genesyscloud_oauth_client_schema.go), so this rule,
# not the provider, holds the documented limit.
def oauth_token_lifetime_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """OAuth access tokens live between TOKEN_MIN and TOKEN_MAX seconds (policy_data.json)."""
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


OAUTH_TOKEN_LIFETIME = Rule(
    id="oauth-token-lifetime",
    level="mandatory",
    description=f"Keep OAuth access token lifetimes within {TOKEN_MIN}..{TOKEN_MAX} seconds.",
    fix=f"Set accessTokenValiditySeconds between {TOKEN_MIN} and {TOKEN_MAX}.",
    validator=oauth_token_lifetime_validator,
)


# --- roles and grants ------------------------------------------------------------------------------


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


NO_ADMIN_LIKE_ROLE = Rule(
    id="no-admin-like-role",
    level="mandatory",
    description="Forbid '*' in a role's permission domain, entity or actions.",
    fix="List exact domain:entity:action permissions.",
    validator=no_admin_like_role_validator,
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


NO_ALL_DIVISIONS_WRITE_GRANT = Rule(
    id="no-all-divisions-write-grant",
    level="mandatory",
    description="Scope every role grant that can write to a division, never all divisions.",
    fix="Set roles[].divisionId to the stack's division.",
    validator=no_all_divisions_write_grant_validator,
    stack=True,
)


def no_same_run_role_grant_validator(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A client-credentials client is never granted a role this stack creates.

    The provider's client-credentials client can grant only roles it already holds; it cannot hold a
    role created in the same run (provider v1.84.1 oauth_client/resource_genesyscloud_oauth_client_schema.go:94;
    resource_genesyscloud_oauth_client.go:213-215 only warns). Roles come from bootstrap/, which an administrator
    runs with a user token: the provider assigns that user a new role before granting it (same file, 218-258).
    """
    for client, i, _grant, candidates in _grants(args):
        if plain(client.props).get("authorizedGrantType") != CLIENT_CREDENTIALS or not candidates:
            continue
        if _project(client.urn) in USER_TOKEN_PROJECTS:
            continue
        report_violation(
            f"OAuth client {client.urn} roles[{i}] grants role {candidates[0].urn}, created in this same stack: "
            "the deployer cannot hold it yet, so `pulumi up` fails. Declare the role in bootstrap/ and look it "
            "up by name (provider_binding.role_id).",
            client.urn,
        )


NO_SAME_RUN_ROLE_GRANT = Rule(
    id="no-same-run-role-grant",
    level="mandatory",
    description="Forbid granting a client-credentials client a role the same stack creates.",
    fix="Declare roles in bootstrap/ (once per org) and look them up by name in the stack.",
    validator=no_same_run_role_grant_validator,
    stack=True,
)

RULES: tuple[Rule, ...] = (
    OAUTH_CLIENT_GRANT_SHAPE,
    OAUTH_TOKEN_LIFETIME,
    NO_ADMIN_LIKE_ROLE,
    NO_ALL_DIVISIONS_WRITE_GRANT,
    NO_SAME_RUN_ROLE_GRANT,
)
