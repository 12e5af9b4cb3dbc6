"""WebMessaging: one site's Messenger configuration and deployment for the custom headless widget."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TypedDict

import pulumi

from components.errors import load_data_file
from components.identity_resolution import IdentityResolution
from components.provider_binding import WebdeploymentsConfiguration, WebdeploymentsDeployment, pulumi_path
from components.settings_model import Site

_UNSET_FILE = Path(__file__).with_name("web_messaging.yaml")
_CONFIGURATION_TYPE = WebdeploymentsConfiguration.TF_TYPE


@cache
def unset_blocks() -> dict:
    """The configuration blocks this component leaves out: `absent` (the server returns none) or
    `ignored` (the server's value is unknown), each with its evidence (components/web_messaging.yaml)."""
    return load_data_file(_UNSET_FILE, "web_messaging.schema.json")


class ProfileLink(TypedDict):
    """Where identity resolution puts a signed-in customer: their External Contact under the CRM source."""

    external_source_id: pulumi.Input[str]
    """The CRM external source whose external id (the OIDC sub) identifies the contact."""
    division_id: pulumi.Input[str]
    """Division of the contacts resolution creates."""
    api_url: str
    """The region's API host."""
    login_url: str
    """The region's login host."""


class WebMessagingArgs(TypedDict):
    site: Site
    """Domains and languages of the site."""
    configuration_name: str
    """Name of the Messenger configuration."""
    deployment_name: str
    """Name of the Messenger deployment."""
    flow_id: pulumi.Input[str]
    """The inbound message flow conversations enter."""
    auth_integration_id: pulumi.Input[str]
    """The OpenID Connect Messenger integration customers sign in through."""
    allow_session_upgrade: bool
    """Let an anonymous conversation continue once the customer signs in."""
    profile_link: ProfileLink
    """How signed-in customers are resolved to their External Contact."""
    protect: bool
    """Protect the deployment and its identity resolution against deletion (prod)."""


class WebMessaging(pulumi.ComponentResource):
    configuration_id: pulumi.Output[str]
    """Id of the Messenger configuration."""
    deployment_id: pulumi.Output[str]
    """Id of the deployment: the widget's `deploymentId`."""

    def __init__(self, name: str, args: WebMessagingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        site = args["site"]
        super().__init__("genesys-messaging:index:WebMessaging", name, None, opts)

        unset = unset_blocks()
        configuration = WebdeploymentsConfiguration(
            f"{name}-configuration",
            # A block the server fills but the program omits would differ on every preview and publish a
            # new version each `up` (components/web_messaging.yaml says which and why).
            pulumi.ResourceOptions(
                parent=self, ignore_changes=[pulumi_path(_CONFIGURATION_TYPE, path) for path in unset["ignored"]]
            ),
            # Declared as absent (None is not sent), so the binding still checks each name.
            **dict.fromkeys(unset["absent"]),
            name=args["configuration_name"],
            description=f"Headless, authenticated Messenger for {', '.join(site.domains)}",
            languages=list(site.languages),
            default_language=site.default_language,
            # The custom React widget draws its own UI over the Messenger SDK.
            headless_mode_enabled=True,
            messenger={"enabled": True},
            # Customers must sign in before they can message; identity comes from the IdP, not the browser.
            authentication_settings={
                "enabled": True,
                "integration_id": args["auth_integration_id"],
                "allow_session_upgrade": args["allow_session_upgrade"],
            },
        )
        # Every configuration change publishes a new version; the deployment follows it.
        deployment = WebdeploymentsDeployment(
            f"{name}-deployment",
            pulumi.ResourceOptions(parent=self, protect=args["protect"]),
            name=args["deployment_name"],
            description=f"Web messaging for {', '.join(site.domains)}",
            allow_all_domains=False,
            # Never empty: the settings refuse a site without domains (settings.schema.json minItems).
            allowed_domains=list(site.domains),
            flow_id=args["flow_id"],
            configuration={"id": configuration.id, "version": configuration.version},
        )
        # Identity resolution on, with the CRM source: a second path to the customer's External Contact,
        # which identifier it uses undocumented; the flow links explicitly (docs/how-it-works.md).
        link = args["profile_link"]
        IdentityResolution(
            f"{name}-identity-resolution",
            {
                "deployment_id": deployment.id,
                "external_source_id": link["external_source_id"],
                "division_id": link["division_id"],
                "automerge_authenticated": True,
                "api_url": link["api_url"],
                "login_url": link["login_url"],
            },
            # Protected like the deployment: deleting it turns resolution off on the live deployment
            # (there is no DELETE), which must not happen before the deployment's own protected delete fails.
            pulumi.ResourceOptions(parent=self, protect=args["protect"]),
        )
        self.configuration_id = configuration.id
        self.deployment_id = deployment.id
        self.register_outputs({"configuration_id": self.configuration_id, "deployment_id": self.deployment_id})
