"""Crm: look customers up in and open tickets in the team's ticketing system (crm.kind); link agents to the record.

Each preset (Zendesk Support, Salesforce, your own API) is data: its actions are in
components/data_actions/crm/<kind>/, with the same contracts, so the flow never changes with the preset.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, TypedDict

import pulumi

from components.data_actions import ACTIONS_DIR, DataActionIntegration, action_spec, url_template
from components.errors import load_data_file
from components.provider_binding import (
    ExternalcontactsExternalSource,
    IntegrationCredential,
    IntegrationCustomAuthAction,
)
from components.settings_model import Crm as CrmSettings
from components.settings_model import CustomCrm, CustomRequest, SalesforceCrm, ZendeskCrm

PRESETS_DIR = Path("crm")
LOOKUP_FILE, TICKET_FILE = "crm_lookup.yaml", "crm_create_ticket.yaml"
"""File names kept from before presets existed: they name the actions' children, so no stack renames them."""
_PLACEHOLDER = re.compile(r"\{(externalId|conversationId|site)\}")


class CrmArgs(TypedDict):
    crm: CrmSettings
    """The preset (crm.kind) and its validated settings, secrets wrapped."""
    integration_name: str
    """Name of the data-actions integration; Architect's callData uses it as the action category."""
    lookup_action_name: str
    """Name of the lookup action the flow calls."""
    ticket_action_name: str
    """Name of the action the flow calls to open the conversation's ticket."""
    external_source_name: str
    """Name of the External Contacts source."""


def preset_file(kind: str, file_name: str) -> str:
    """A preset's definition file, relative to components/data_actions/."""
    return str(PRESETS_DIR / kind / file_name)


def _uri_template(path: str) -> str:
    """A custom path with each {input} URI-encoded by Velocity."""
    return _PLACEHOLDER.sub(lambda m: f"$esc.uriEncode(${{input.{m.group(1)}}})", path)


def _json_template(body: Any) -> str:
    """A custom body as a Velocity request template: JSON, each {input} JSON-escaped inside its string.
    The settings loader refused every other $, #, backslash and brace, so nothing else is Velocity."""
    text = json.dumps(body, separators=(", ", ": "))
    return _PLACEHOLDER.sub(lambda m: f"$esc.jsonString(${{input.{m.group(1)}}})", text)


def custom_definition(file_name: str, request: CustomRequest) -> dict[str, Any]:
    """The custom preset's definition with the stack's method and response mapping in."""
    spec = copy.deepcopy(action_spec(preset_file("custom", file_name)))
    spec["request"]["type"] = request.method
    spec["response"]["translationMap"] = dict(request.response)
    if request.body is not None and file_name == LOOKUP_FILE:
        spec["request"]["headers"]["Content-Type"] = "application/json"
        spec["request"]["requestTemplate"] = "{{crm_lookup_body}}"
    return spec


def _preset_parts(crm: CrmSettings) -> dict[str, Any]:
    """Credential, substitutions and definitions of the stack's preset."""
    if isinstance(crm, ZendeskCrm):
        return {
            # Zendesk API token auth: basic auth with `{email}/token` as the user, the token as the password.
            "credential": {"username": f"{crm.email}/token", "password": crm.api_token},
            "substitutions": {"zendesk_host": crm.host, "tier_field": crm.tier_field},
            "body_substitutions": {"ticket_tag": crm.ticket_tag},
        }
    if isinstance(crm, SalesforceCrm):
        fields = ["Id", "Name", *([crm.tier_field] if crm.tier_field else [])]
        return {
            "substitutions": {
                "sf_host": crm.host,
                "sf_lightning_host": crm.lightning_host,
                "api_version": crm.api_version,
                "contact_field": crm.contact_external_id_field,
                "contact_fields": ",".join(fields),
                "case_field": crm.case_external_id_field,
                # No tier field: a path that is never in the answer, so the default "standard" applies.
                "tier_path": f"$.{crm.tier_field}" if crm.tier_field else "$.attributes.genesysMessagingNoTier",
            },
            "body_substitutions": {"case_origin": crm.case_origin, "contact_field": crm.contact_external_id_field},
        }
    assert isinstance(crm, CustomCrm)
    body = {"crm_ticket_body": _json_template(crm.ticket.body)}
    if crm.lookup.body is not None:
        body["crm_lookup_body"] = _json_template(crm.lookup.body)
    return {
        "credential": {"username": crm.username, "password": crm.password},
        "substitutions": {
            "crm_base_url": crm.base_url.rstrip("/"),
            "crm_lookup_path": _uri_template(crm.lookup.path),
            "crm_ticket_path": _uri_template(crm.ticket.path),
        },
        "body_substitutions": body,
        "definitions": {
            preset_file("custom", LOOKUP_FILE): custom_definition(LOOKUP_FILE, crm.lookup),
            preset_file("custom", TICKET_FILE): custom_definition(TICKET_FILE, crm.ticket),
        },
    }


class Crm(pulumi.ComponentResource):
    integration_name: str
    """Name of the data-actions integration (the category Architect's callData uses)."""
    lookup_action_name: str
    """Name of the lookup action the flow calls."""
    ticket_action_name: str
    """Name of the "create ticket" action the flow calls."""
    action_ids: dict[str, pulumi.Output[str]]
    """Id of each action by name; a contract change replaces an action, and the flow must follow."""
    action_files: dict[str, str]
    """Definition file of each action by name (relative to components/data_actions/): its contract is what the
    flow's bindings are checked against."""
    external_source_id: pulumi.Output[str]
    """Id of the External Contacts source linking contacts to CRM records."""

    def __init__(self, name: str, args: CrmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        crm = args["crm"]
        super().__init__("genesys-messaging:index:Crm", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.integration_name = args["integration_name"]
        self.lookup_action_name = args["lookup_action_name"]
        self.ticket_action_name = args["ticket_action_name"]
        parts = _preset_parts(crm)
        self.action_files = {
            self.lookup_action_name: preset_file(crm.kind, LOOKUP_FILE),
            self.ticket_action_name: preset_file(crm.kind, TICKET_FILE),
        }

        credential = parts.get("credential")
        if isinstance(crm, SalesforceCrm):
            # User Defined (OAuth): Genesys fetches a token with these fields through the custom auth
            # action below and hands it to the actions as authResponse (components/data_actions/crm/salesforce/).
            credential = IntegrationCredential(
                f"{name}-oauth-credential",
                child,
                name=self.integration_name,
                credential_type_name="userDefinedOAuth",
                fields=pulumi.Output.secret({"clientId": crm.client_id, "clientSecret": crm.client_secret.reveal()}),
            ).id

        lookup = DataActionIntegration(
            f"{name}-lookup",
            {
                "integration_name": self.integration_name,
                "integration_type": "custom-rest-actions",
                # The provider's custom auth action guide puts a userDefinedOAuth credential in this slot too.
                "credential_slot": "basicAuth",
                "credential": credential,
                "actions": self.action_files,
                "substitutions": parts["substitutions"],
                "body_substitutions": parts["body_substitutions"],
                "definitions": parts.get("definitions", {}),
            },
            child,
        )
        self.action_ids = lookup.action_ids

        if isinstance(crm, SalesforceCrm):
            auth = load_data_file(
                ACTIONS_DIR / preset_file("salesforce", "auth.yaml"), "custom_auth_action.schema.json"
            )
            request = auth["request"]
            IntegrationCustomAuthAction(
                f"{name}-auth-action",
                pulumi.ResourceOptions(parent=self, depends_on=[lookup]),
                integration_id=lookup.integration_id,
                name=f"{self.integration_name} Auth",
                config_request={
                    "request_type": request["type"],
                    "request_url_template": url_template(
                        preset_file("salesforce", "auth.yaml"), request["urlTemplate"], {"sf_host": crm.host}
                    ),
                    "headers": request["headers"],
                    "request_template": request["requestTemplate"],
                },
                config_response={"success_template": auth["response"]["successTemplate"]},
            )

        # Agents open the customer's record from the interaction through this link (the preset's host only).
        self.external_source_id = ExternalcontactsExternalSource(
            f"{name}-external-source",
            child,
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
