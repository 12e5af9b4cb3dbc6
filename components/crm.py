"""Crm: look customers up in and open tickets in the CRM from the inbound flow; link agents to the record."""

from __future__ import annotations

from typing import TypedDict

import pulumi

from components.data_actions import DataActionIntegration
from components.provider_binding import ExternalcontactsExternalSource
from components.settings_model import Crm as CrmSettings


class CrmArgs(TypedDict):
    crm: CrmSettings
    """CRM endpoint, link template and API user (password secret)."""
    integration_name: str
    """Name of the data-actions integration; Architect's callData uses it as the action category."""
    lookup_action_name: str
    """Name of the lookup action the flow calls."""
    ticket_action_name: str
    """Name of the action the flow calls to open the conversation's ticket."""
    external_source_name: str
    """Name of the External Contacts source."""


class Crm(pulumi.ComponentResource):
    integration_name: str
    """Name of the data-actions integration (the category Architect's callData uses)."""
    lookup_action_name: str
    """Name of the lookup action the flow calls."""
    ticket_action_name: str
    """Name of the "create ticket" action the flow calls."""
    action_ids: dict[str, pulumi.Output[str]]
    """Id of each action by name; a contract change replaces an action, and the flow must follow."""
    external_source_id: pulumi.Output[str]
    """Id of the External Contacts source linking contacts to CRM records."""

    def __init__(self, name: str, args: CrmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        crm = args["crm"]
        super().__init__("genesys-messaging:index:Crm", name, None, opts)
        self.integration_name = args["integration_name"]
        self.lookup_action_name = args["lookup_action_name"]
        self.ticket_action_name = args["ticket_action_name"]

        lookup = DataActionIntegration(
            f"{name}-lookup",
            {
                "integration_name": self.integration_name,
                "integration_type": "custom-rest-actions",
                "credential_slot": "basicAuth",
                "credential": {"username": crm.username, "password": crm.password},
                "actions": {
                    self.lookup_action_name: "crm_lookup.yaml",
                    self.ticket_action_name: "crm_create_ticket.yaml",
                },
                "substitutions": {"crm_base_url": crm.base_url.rstrip("/"), "crm_ticket_path": crm.ticket_path},
            },
            pulumi.ResourceOptions(parent=self),
        )
        self.action_ids = lookup.action_ids

        # Agents open the customer's CRM record from the interaction through this link.
        self.external_source_id = ExternalcontactsExternalSource(
            f"{name}-external-source",
            pulumi.ResourceOptions(parent=self),
            name=args["external_source_name"],
            active=True,
            link_configuration={"uri_template": crm.contact_url_template},
        ).id

        self.register_outputs(
            {
                "integration_name": self.integration_name,
                "lookup_action_name": self.lookup_action_name,
                "ticket_action_name": self.ticket_action_name,
                "action_ids": self.action_ids,
                "external_source_id": self.external_source_id,
            }
        )
