"""DataActionIntegration: a data-actions integration, its credential and its actions from data files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import NotRequired, TypedDict

import pulumi

from components.errors import InvalidConfiguration, load_data_file
from components.provider_binding import Integration, IntegrationAction, IntegrationCredential
from components.settings_model import SecretText
from components.templating import leftovers, placeholders, substitute

ACTIONS_DIR = Path(__file__).with_name("data_actions")

DELETE_ACTION_BEFORE_REPLACE = True
"""How every data action is replaced. A changed contract_input, contract_output, integration_id or
`secure` forces a new action (ForceNew, integration_action/resource_genesyscloud_integration_action_schema.go
:156-187 at provider v1.84.1), and Pulumi creates the new one before deleting the old by default: two
actions with one name and category would exist at once, the pair Architect's callData addresses an
action by. Deleting first keeps the name unique; the flow republishes against the new id, which its
update_trigger_hash carries (components/inbound_flow.py). Every action, the CRM's too, is declared here.
Until the flow has republished, conversations that call the replaced action fail: change a contract
in a quiet hour. Unverified: whether Genesys refuses to delete an action a published flow still calls; if it does, the
replacement stops at that delete with nothing changed, and the action needs a new name instead."""


@cache
def action_spec(file_name: str) -> dict:
    """A data action definition (components/data_actions/<file>.yaml), read once."""
    return load_data_file(ACTIONS_DIR / file_name, "data_action.schema.json")


def checked_template(file_name: str, where: str, template: str, substitutions: Mapping[str, object]) -> None:
    """Every placeholder of a template has a value (the values may still be unknown Outputs)."""
    missing = sorted(f"{{{{{key}}}}}" for key in placeholders(template) if key not in substitutions)
    stray = [text for text in leftovers(template) if text.strip("{}") not in substitutions]
    if missing or stray:
        raise InvalidConfiguration(
            f"data_actions/{file_name}: {where}: {', '.join(sorted(set(missing + stray)))} has no value; "
            f"fix: use one of {sorted(substitutions)} as {{{{key}}}}"
        )


def url_template(
    file_name: str, template: str, substitutions: dict[str, str], where: str = "request.urlTemplate"
) -> str:
    """A template of the action (its URL, a JSONPath, the success template) with the stack's values in;
    every placeholder must be substituted."""
    checked_template(file_name, where, template, substitutions)
    return substitute(template, substitutions)


def request_template(
    file_name: str, template: str, substitutions: Mapping[str, pulumi.Input[str]]
) -> pulumi.Output[str]:
    """The request body template with the stack's values in; values may be ids known only after create."""
    checked_template(file_name, "request.requestTemplate", template, substitutions)
    keys = sorted(substitutions)
    return pulumi.Output.all(*(substitutions[key] for key in keys)).apply(
        lambda values: substitute(template, dict(zip(keys, values, strict=True)))
    )


class BasicAuth(TypedDict):
    username: str
    password: SecretText


class DataActionIntegrationArgs(TypedDict):
    integration_name: str
    """Integration name; Architect's callData uses it as the action category."""
    integration_type: str
    """`custom-rest-actions` (third-party REST) or `purecloud-data-actions` (the Genesys API)."""
    credential_slot: str
    """The integration's credentials key: `basicAuth` or `pureCloudOAuthClient`."""
    credential: pulumi.Input[str] | BasicAuth
    """The id of an existing credential (e.g. the one an OAuth client created), or a user and password to
    store in a new basicAuth credential (the password stays secret)."""
    actions: dict[str, str]
    """Action name -> definition file in components/data_actions/ (it also names the action's child)."""
    definitions: NotRequired[dict[str, dict]]
    """Definition file -> a definition to use instead of the file's content (one built from settings,
    checked against the same schema)."""
    substitutions: NotRequired[dict[str, str]]
    """Values for {{placeholders}} in the definitions' URL templates, translation maps and success
    templates (known when the program runs)."""
    body_substitutions: NotRequired[dict[str, pulumi.Input[str]]]
    """Values for {{placeholders}} in the definitions' request body templates (ids may be Outputs)."""


class DataActionIntegration(pulumi.ComponentResource):
    integration_id: pulumi.Output[str]
    """Id of the integration."""
    action_ids: dict[str, pulumi.Output[str]]
    """Id of each action, by action name."""

    def __init__(self, name: str, args: DataActionIntegrationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("genesys-messaging:index:DataActionIntegration", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        integration_name = args["integration_name"]

        credential = args["credential"]
        credential_id = credential
        if isinstance(credential, dict):  # BasicAuth (a TypedDict); an id is a str or an Output
            credential_id = IntegrationCredential(
                f"{name}-credential",
                child,
                name=integration_name,
                credential_type_name="basicAuth",
                fields=pulumi.Output.secret(
                    {"userName": credential["username"], "password": credential["password"].reveal()}
                ),
            ).id

        integration = Integration(
            f"{name}-integration",
            child,
            integration_type=args["integration_type"],
            # The provider defaults intended_state to DISABLED; a disabled integration's actions fail.
            intended_state="ENABLED",
            config={"name": integration_name, "credentials": {args["credential_slot"]: credential_id}},
        )
        self.integration_id = integration.id

        self.action_ids = {}
        substitutions = args.get("substitutions", {})
        for action_name, file_name in args["actions"].items():
            spec = args.get("definitions", {}).get(file_name) or action_spec(file_name)
            request, response = spec["request"], spec["response"]
            self.action_ids[action_name] = IntegrationAction(
                f"{name}-action-{Path(file_name).stem.replace('_', '-')}",
                pulumi.ResourceOptions(
                    parent=self, depends_on=[integration], delete_before_replace=DELETE_ACTION_BEFORE_REPLACE
                ),
                name=action_name,
                # Architect's callData addresses actions by category and name; category = integration name.
                category=integration_name,
                integration_id=integration.id,
                contract_input=json.dumps(spec["contract"]["input"], sort_keys=True),
                contract_output=json.dumps(spec["contract"]["output"], sort_keys=True),
                config_timeout_seconds=spec["timeoutSeconds"],
                config_request={
                    "request_type": request["type"],
                    "request_url_template": url_template(file_name, request["urlTemplate"], substitutions),
                    "headers": request.get("headers"),
                    "request_template": request_template(
                        file_name, request["requestTemplate"], args.get("body_substitutions", {})
                    )
                    if "requestTemplate" in request
                    else None,
                },
                config_response={
                    "translation_map": {
                        key: url_template(file_name, path, substitutions, f"response.translationMap.{key}")
                        for key, path in response["translationMap"].items()
                    },
                    "translation_map_defaults": response.get("translationMapDefaults"),
                    "success_template": url_template(
                        file_name, response["successTemplate"], substitutions, "response.successTemplate"
                    ),
                },
            ).id

        self.register_outputs({"integration_id": self.integration_id, "action_ids": self.action_ids})
