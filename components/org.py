"""The org bootstrap: custom roles, the deployer client and the read-only reader client, once per Genesys org.

Run by an administrator before the first `pulumi up` of any stack (docs/operations.md "Deploying for real").
A client-credentials client can grant only roles it already holds (provider v1.84.1
oauth_client/resource_genesyscloud_oauth_client_schema.go:94), so the stacks never create roles:
this program does, and gives the deployer every role the stacks grant, in their divisions.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components import naming
from components.access import Access, AccessArgs, Roles
from components.access_data import access_spec
from components.org_settings import OrgSettings
from components.provider_binding import Provider, division_id


def build_org(settings: OrgSettings) -> dict[str, Any]:
    """Declare the roles and the bootstrap clients (deployer, reader); return the bootstrap stack's outputs."""
    provider = Provider("genesyscloud", aws_region=settings.region.code)
    genesys = pulumi.ResourceOptions(providers=[provider])
    spec = access_spec()
    roles = Roles("roles", {"roles": spec.roles}, genesys)
    clients = Access(
        "org",
        AccessArgs(
            clients=spec.bootstrap_clients,
            role_ids=roles.role_ids,
            name_prefix=naming.ROLE_PREFIX,
            division_ids=[division_id(name, provider) for name in settings.divisions],
            token_validity_seconds=settings.token_validity_seconds,
            protect=True,
        ),
        # The provider assigns a new role to the user running it before granting it to a client,
        # but only for a user's token (resource_genesyscloud_oauth_client.go:204-258): roles first.
        pulumi.ResourceOptions(providers=[provider], depends_on=[roles]),
    )
    outputs: dict[str, Any] = {"region": settings.region.code, "roleIds": roles.role_ids}
    for key in spec.bootstrap_clients:
        outputs[f"{key}ClientId"] = clients.client_ids[key]
        # A Pulumi secret: `pulumi stack output --show-secrets <key>ClientSecret` for the CI secret.
        outputs[f"{key}ClientSecret"] = clients.client_secrets[key]
    return outputs
