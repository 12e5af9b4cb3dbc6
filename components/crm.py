"""Crm: look customers up in the CRM from the inbound flow, and link agents to the CRM record."""

from __future__ import annotations

from typing import TypedDict

import pulumi

from components.data_actions import DataActionIntegration
from components.naming import CRM_INTEGRATION_NAME, CRM_LOOKUP_ACTION_NAME, EXTERNAL_SOURCE_NAME
from components.provider_binding import ExternalcontactsExternalSource
from components.settings import Crm as CrmSettings


class CrmArgs(TypedDict):
    crm: CrmSettings
    """CRM endpoint, link template and API user (password secret)."""
    name_prefix: str
    """Prefix of every Genesys object name."""


class Crm(pulumi.ComponentResource):
    integration_name: str
    """Name of the data-actions integration (the category Architect's callData uses)."""
    lookup_action_name: str
    """Name of the lookup action the flow calls."""
    lookup_action_id: pulumi.Output[str]
    """Id of the lookup action."""
    external_source_id: pulumi.Output[str]
    """Id of the External Contacts source linking contacts to CRM records."""

    def __init__(self, name: str, args: CrmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        crm = args["crm"]
        if not crm.base_url.startswith("https://"):
            raise ValueError(f"{name}: the CRM base URL must be https, got {crm.base_url!r}")
        super().__init__("genesys-messaging:index:Crm", name, None, opts)
        prefix = args["name_prefix"]
        self.integration_name = f"{prefix}{CRM_INTEGRATION_NAME}"
        self.lookup_action_name = CRM_LOOKUP_ACTION_NAME

        lookup = DataActionIntegration(
            f"{name}-lookup",
            {
                "integration_name": self.integration_name,
                "integration_type": "custom-rest-actions",
                "credential_slot": "basicAuth",
                "basic_auth": {"username": crm.username, "password": crm.password},
                "actions": {self.lookup_action_name: "crm_lookup.yaml"},
                "substitutions": {"crm_base_url": crm.base_url.rstrip("/")},
            },
            pulumi.ResourceOptions(parent=self),
        )
        self.lookup_action_id = lookup.action_ids[self.lookup_action_name]

        # Agents open the customer's CRM record from the interaction through this link.
        self.external_source_id = ExternalcontactsExternalSource(
            f"{name}-external-source",
            pulumi.ResourceOptions(parent=self),
            name=f"{prefix}{EXTERNAL_SOURCE_NAME}",
            active=True,
            link_configuration={"uri_template": crm.contact_url_template},
        ).id

        self.register_outputs(
            {
                "integration_name": self.integration_name,
                "lookup_action_name": self.lookup_action_name,
                "lookup_action_id": self.lookup_action_id,
                "external_source_id": self.external_source_id,
            }
        )
