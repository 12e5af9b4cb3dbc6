"""MessengerIdentity: the OpenID Connect integration authenticated web messaging signs customers in with."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TypedDict

import pulumi

from components.errors import InvalidConfiguration, load_data_file
from components.provider_binding import Integration, IntegrationCredential
from components.settings_model import IdentityProvider

_SPEC_FILE = Path(__file__).with_name("oidc_integration.yaml")


@cache
def oidc_integration_spec() -> dict:
    """Property keys and credential shape of the OIDC Messenger integration (unverified; see the file)."""
    spec = load_data_file(_SPEC_FILE, "oidc_integration.schema.json")
    for key, entry in spec["properties"].items():
        if ("setting" in entry) == ("value" in entry):
            raise InvalidConfiguration(
                f"components/oidc_integration.yaml: properties.{key}: give exactly one of `setting` "
                "(an identityProvider setting) and `value` (a fixed value)"
            )
    return spec


def integration_properties(spec: dict, idp: IdentityProvider) -> str:
    """The integration's `config.properties`: every property of the type, as the provider should read it back.

    A plain input (only public values), compact and key-sorted like the provider's own read-back
    (Go json.Marshal of the server's map, integration/resource_genesyscloud_integration_utils.go:46-53),
    so `doctor` can compare it with the live config/current.
    """
    public = {"client_id": idp.client_id, "discovery_uri": idp.discovery_uri}
    values = {
        key: public[entry["setting"]] if "setting" in entry else entry["value"]
        for key, entry in spec["properties"].items()
    }
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


class MessengerIdentityArgs(TypedDict):
    identity_provider: IdentityProvider
    """Discovery URI and the IdP client Genesys uses (secret stays secret)."""
    integration_type: str
    """Type id of "OpenID Connect Messenger Configuration" (stack setting oidcIntegrationType)."""
    integration_name: str
    """Name of the integration and its credential."""


class MessengerIdentity(pulumi.ComponentResource):
    integration_id: pulumi.Output[str]
    """Id of the integration that Messenger configurations authenticate through."""

    def __init__(self, name: str, args: MessengerIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        idp = args["identity_provider"]
        super().__init__("genesys-messaging:index:MessengerIdentity", name, None, opts)
        spec = oidc_integration_spec()
        integration_name = args["integration_name"]
        # Only public values may go into the plain-text properties (the data file's schema says so).
        credential_values = {
            "client_id": idp.client_id,
            "discovery_uri": idp.discovery_uri,
            "client_secret": idp.client_secret.reveal(),
        }

        credential = IntegrationCredential(
            f"{name}-credential",
            pulumi.ResourceOptions(parent=self),
            name=integration_name,
            credential_type_name=spec["credential"]["type"],
            # The whole map is secret: it carries the IdP client secret.
            fields=pulumi.Output.secret(
                {key: credential_values[attr] for key, attr in spec["credential"]["fields"].items()}
            ),
        )
        integration = Integration(
            f"{name}-integration",
            pulumi.ResourceOptions(parent=self),
            integration_type=args["integration_type"],
            intended_state="ENABLED",
            config={
                "name": integration_name,
                # Every property of the type: one the server holds and this omits diffs on every preview.
                "properties": integration_properties(spec, idp),
                "credentials": {spec["credential"]["slot"]: credential.id},
            },
        )
        self.integration_id = integration.id
        self.register_outputs({"integration_id": self.integration_id})
