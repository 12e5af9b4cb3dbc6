"""The whole stack: one explicit provider, then the components, wired from the settings."""

from __future__ import annotations

from typing import Any

import pulumi

from components.access import Access, AccessArgs
from components.access_data import access_spec
from components.provider_binding import Provider, division_id
from components.settings import Settings


def build(settings: Settings) -> dict[str, Any]:
    """Declare every resource of the stack; return the stack outputs."""
    region = settings.region
    # The only provider: region from the settings, credentials from the provider's environment
    # variables. Stack files disable the default provider, so nothing can fall back to ambient config.
    provider = Provider("genesyscloud", aws_region=region.code)
    genesys = pulumi.ResourceOptions(providers=[provider])
    division = division_id(settings.division, provider)

    access = Access(
        "access",
        AccessArgs(
            spec=access_spec(),
            name_prefix=settings.name_prefix,
            division_id=division,
            token_validity_seconds=settings.token_validity_seconds,
            protect=settings.is_prod,
        ),
        genesys,
    )
    return {
        "region": region.code,
        "apiUrl": region.api_url,
        "loginUrl": region.login_url,
        "messengerEnvironment": region.messenger_environment,
        "oauthClientIds": access.client_ids,
    }
