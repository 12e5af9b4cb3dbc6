"""Access: the stack's custom roles and the least-privilege OAuth clients that hold them."""

from __future__ import annotations

from collections import defaultdict
from typing import TypedDict

import pulumi

from components.access_data import CLIENT_CREDENTIALS, AccessSpec
from components.provider_binding import AuthRole, OauthClient
from components.settings import settings_schema

# Genesys documents 300..172800 s (5 min..48 h) for client-credentials token lifetimes
# (help.mypurecloud.com/articles/create-an-oauth-client/; provider doc oauth_client.md); the
# provider's validator accepts up to 38,880,000 s (resource_genesyscloud_oauth_client_schema.go),
# a range meant for SCIM clients. The documented limit is enforced; it is stated once, in the
# settings schema (tokenValiditySeconds), and the policy data is tested against it.
_TOKEN_SCHEMA = settings_schema()["properties"]["tokenValiditySeconds"]
TOKEN_VALIDITY_RANGE = range(_TOKEN_SCHEMA["minimum"], _TOKEN_SCHEMA["maximum"] + 1)


class AccessArgs(TypedDict):
    spec: AccessSpec
    """Roles and clients to declare (components/access.yaml)."""
    name_prefix: str
    """Prefix of every role and client name."""
    division_id: pulumi.Input[str]
    """Division every role grant is scoped to; never all divisions."""
    token_validity_seconds: int
    """Lifetime of the clients' access tokens, 300..172800."""
    protect: bool
    """Protect clients against deletion (prod)."""


def permission_policies(permissions: tuple[str, ...]) -> list[dict]:
    """Role permission policies, one per domain and entity, from `domain:entity:action` strings."""
    actions: dict[tuple[str, str], list[str]] = defaultdict(list)
    for permission in permissions:
        domain, entity, action = permission.split(":")
        actions[(domain, entity)].append(action)
    return [
        {"domain": domain, "entity_name": entity, "action_set": sorted(acts)}
        for (domain, entity), acts in sorted(actions.items())
    ]


class Access(pulumi.ComponentResource):
    role_ids: dict[str, pulumi.Output[str]]
    """Role id per role key."""
    client_ids: dict[str, pulumi.Output[str]]
    """OAuth client id per client key (not secret: an id grants nothing without its secret)."""
    integration_credential_ids: dict[str, pulumi.Output[str]]
    """Integration credential id per client that has one (the data-actions integration uses it)."""

    def __init__(self, name: str, args: AccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if args["token_validity_seconds"] not in TOKEN_VALIDITY_RANGE:
            raise ValueError(
                f"token_validity_seconds {args['token_validity_seconds']} is outside 300..172800 (Genesys docs)"
            )
        super().__init__("genesys-messaging:index:Access", name, None, opts)
        spec, prefix = args["spec"], args["name_prefix"]
        child = pulumi.ResourceOptions(parent=self)

        self.role_ids = {}
        for key, role in spec.roles.items():
            self.role_ids[key] = AuthRole(
                f"{name}-role-{key}",
                child,
                name=f"{prefix}{key}",
                description=role.description,
                permission_policies=permission_policies(role.permissions),
            ).id

        self.client_ids, self.integration_credential_ids = {}, {}
        for key, client in spec.clients.items():
            credentials = client.grant_type == CLIENT_CREDENTIALS
            oauth_client = OauthClient(
                f"{name}-client-{key}",
                pulumi.ResourceOptions(parent=self, protect=args["protect"]),
                name=f"{prefix}{key}",
                description=client.description,
                authorized_grant_type=client.grant_type,
                access_token_validity_seconds=args["token_validity_seconds"],
                roles=[{"role_id": self.role_ids[role], "division_id": args["division_id"]} for role in client.roles]
                if credentials
                else None,
                scopes=list(client.scopes) if not credentials else None,
                # The secret goes straight into an integration credential; never exposed to state or outputs.
                expose_client_secret=False,
                integration_credential_name=f"{prefix}{key}" if client.integration_credential else None,
            )
            self.client_ids[key] = oauth_client.client_id
            if client.integration_credential:
                self.integration_credential_ids[key] = oauth_client.integration_credential_id

        self.register_outputs(
            {
                "role_ids": self.role_ids,
                "client_ids": self.client_ids,
                "integration_credential_ids": self.integration_credential_ids,
            }
        )
