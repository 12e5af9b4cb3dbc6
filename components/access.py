"""Roles (declared by bootstrap/) and the least-privilege OAuth clients that hold them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TypedDict

import pulumi

from components import naming
from components.access_data import CLIENT_CREDENTIALS, ClientSpec, RoleSpec
from components.provider_binding import AuthRole, IntegrationCredential, OauthClient


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


class RolesArgs(TypedDict):
    roles: Mapping[str, RoleSpec]
    """Roles to declare (components/access.yaml roles)."""


class Roles(pulumi.ComponentResource):
    """The org's custom roles. Declared by bootstrap/ only: a client-credentials deployer can grant
    only roles it already holds, so the stacks never create the roles they grant."""

    role_ids: dict[str, pulumi.Output[str]]
    """Role id per role key."""

    def __init__(self, name: str, args: RolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("genesys-messaging:index:Roles", name, None, opts)
        self.role_ids = {
            key: AuthRole(
                f"{name}-{key}",
                pulumi.ResourceOptions(parent=self, protect=True),
                name=naming.role_name(key),
                description=role.description,
                permission_policies=permission_policies(role.permissions),
            ).id
            for key, role in args["roles"].items()
        }
        self.register_outputs({"role_ids": self.role_ids})


class AccessArgs(TypedDict):
    clients: Mapping[str, ClientSpec]
    """OAuth clients to declare (components/access.yaml clients, or bootstrap for bootstrap/)."""
    role_ids: Mapping[str, pulumi.Input[str]]
    """Id of every role the clients hold, by role key (looked up by name in the stacks)."""
    name_prefix: str
    """Prefix of every client name."""
    division_ids: Sequence[pulumi.Input[str]]
    """Divisions every role grant is scoped to; never all divisions."""
    token_validity_seconds: int
    """Lifetime of the clients' access tokens, 300..172800."""
    protect: bool
    """Protect clients against deletion (prod)."""


class Access(pulumi.ComponentResource):
    """Least-privilege client-credentials clients holding existing roles, each secret kept secret."""

    client_ids: dict[str, pulumi.Output[str]]
    """OAuth client id per client key (not secret: an id grants nothing without its secret)."""
    client_secrets: dict[str, pulumi.Output[str]]
    """Secret per client without an integration credential (bootstrap's deployer), as a Pulumi secret."""
    integration_credential_ids: dict[str, pulumi.Output[str]]
    """Integration credential id per client that has one (the data-actions integration uses it)."""

    def __init__(self, name: str, args: AccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("genesys-messaging:index:Access", name, None, opts)
        prefix = args["name_prefix"]

        self.client_ids, self.client_secrets, self.integration_credential_ids = {}, {}, {}
        for key, client in args["clients"].items():
            credentials = client.grant_type == CLIENT_CREDENTIALS
            oauth_client = OauthClient(
                f"{name}-client-{key}",
                pulumi.ResourceOptions(parent=self, protect=args["protect"]),
                name=f"{prefix}{key}",
                description=client.description,
                authorized_grant_type=client.grant_type,
                # Genesys documents 300..172800 s (help.mypurecloud.com/articles/create-an-oauth-client/); the provider
                # accepts up to 38,880,000 (resource_genesyscloud_oauth_client_schema.go, meant for SCIM clients). The
                # settings schema (tokenValiditySeconds) and bootstrap's org settings refuse the rest before this runs.
                access_token_validity_seconds=args["token_validity_seconds"],
                roles=[
                    {"role_id": args["role_ids"][role], "division_id": division}
                    for role in client.roles
                    for division in args["division_ids"]
                ]
                if credentials
                else None,
                scopes=list(client.scopes) if not credentials else None,
                # The provider sets client_secret only on create and never reads it back
                # (oauth_client/resource_genesyscloud_oauth_client.go:93-101, 126-150), so the
                # secret stays in state (encrypted: the attribute is sensitive) across updates.
                expose_client_secret=True,
            )
            self.client_ids[key] = oauth_client.client_id
            secret = pulumi.Output.secret(oauth_client.client_secret)
            if not client.integration_credential:
                self.client_secrets[key] = secret
                continue
            # An explicit credential rather than the client's integration_credential_name: on update
            # the provider looks the secret up in an in-process cache only and, finding none, rewrites
            # the credential with an empty secret (resource_genesyscloud_oauth_client.go:303-316,
            # 369-386; resource_genesyscloud_oauth_client_utils.go:115-126).
            self.integration_credential_ids[key] = IntegrationCredential(
                f"{name}-credential-{key}",
                pulumi.ResourceOptions(parent=self),
                name=f"{prefix}{key}",
                credential_type_name="pureCloudOAuthClient",
                fields=pulumi.Output.secret(
                    pulumi.Output.all(oauth_client.client_id, secret).apply(
                        lambda values: {"clientId": values[0], "clientSecret": values[1]}
                    )
                ),
            ).id

        self.register_outputs(
            {
                "client_ids": self.client_ids,
                "client_secrets": self.client_secrets,
                "integration_credential_ids": self.integration_credential_ids,
            }
        )
