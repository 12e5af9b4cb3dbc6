"""InboundMessageFlow: the Architect flow every web message enters, published from flows/ YAML."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

import pulumi

from components.flow_template import FlowReferences, render, validate
from components.provider_binding import Flow
from components.settings_model import PROJECT_ROOT


class InboundMessageFlowArgs(TypedDict):
    name: str
    """The flow's name in Genesys. The YAML's {{flow_name}} receives it too (set here, never by the caller),
    so the name Architect publishes and the one in the state cannot disagree."""
    template: Path
    """The flow's YAML template under flows/."""
    substitutions: dict[str, str]
    """Value of every {{placeholder}} in the template but {{flow_name}}."""
    references: FlowReferences
    """The queue and data actions the flow may point at (this stack's), each action with the contract its
    callData bindings are checked against before upload."""
    data_action_ids: Sequence[pulumi.Input[str]]
    """Ids of the data actions the flow calls: a contract change replaces an action (new id,
    integration_action schema.go:175-186 ForceNew), and Architect must republish against it."""
    protect: bool
    """Protect against deletion (prod)."""


class InboundMessageFlow(pulumi.ComponentResource):
    flow_id: pulumi.Output[str]
    """Id of the published flow (the deployments' flow_id)."""
    content_hash: str
    """SHA-256 of the rendered YAML; any change to the file or a substitution re-publishes."""
    update_trigger: pulumi.Output[str]
    """SHA-256 of the rendered YAML and the ids of the data actions it calls: what republishes the flow."""

    def __init__(self, name: str, args: InboundMessageFlowArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        substitutions = {**args["substitutions"], "flow_name": args["name"]}
        rendered = render(args["template"], substitutions)
        validate(rendered, args["references"])
        super().__init__("genesys-messaging:index:InboundMessageFlow", name, None, opts)
        self.content_hash = rendered.content_hash
        self.update_trigger = pulumi.Output.all(*args["data_action_ids"]).apply(
            lambda ids: hashlib.sha256("\n".join([self.content_hash, *sorted(ids)]).encode()).hexdigest()
        )
        flow = Flow(
            f"{name}-flow",
            pulumi.ResourceOptions(parent=self, protect=args["protect"]),
            # Relative to the project root, where the provider reads it during preview and up; the
            # provider applies the same substitutions validated above before uploading.
            filepath=str(args["template"].resolve().relative_to(PROJECT_ROOT)),
            # `name` is optional+computed (architect_flow/resource_genesyscloud_architect_flow_schema.go:85):
            # left unset, the bridge would autoname it and every later `up` would show a diff.
            name=args["name"],
            substitutions=substitutions,
            # The provider hashes only the raw file; this also moves with a substitution or an action id.
            update_trigger_hash=self.update_trigger,
        )
        self.flow_id = flow.id
        self.register_outputs(
            {"flow_id": self.flow_id, "content_hash": self.content_hash, "update_trigger": self.update_trigger}
        )
