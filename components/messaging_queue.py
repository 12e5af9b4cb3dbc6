"""MessagingQueue: the ACD queue web messages are routed to."""

from __future__ import annotations

from typing import TypedDict

import pulumi

from components.provider_binding import RoutingQueue

# Messaging defaults: alert an agent for 30 s before trying the next one, and aim to answer 80 %
# of conversations within 60 s (Genesys' own default service level for message queues).
MESSAGE_MEDIA_SETTINGS = {
    "alerting_timeout_sec": 30,
    "service_level_percentage": 0.8,
    "service_level_duration_ms": 60000,
}


class MessagingQueueArgs(TypedDict):
    queue_name: str
    """Full queue name (prefixed); the inbound flow transfers to it by this name."""
    division_id: pulumi.Input[str]
    """Division that owns the queue."""
    protect: bool
    """Protect against deletion (prod)."""


class MessagingQueue(pulumi.ComponentResource):
    queue_id: pulumi.Output[str]
    """Id of the queue."""
    queue_name: str
    """Name of the queue."""

    def __init__(self, name: str, args: MessagingQueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("genesys-messaging:index:MessagingQueue", name, None, opts)
        self.queue_name = args["queue_name"]
        queue = RoutingQueue(
            f"{name}-queue",
            pulumi.ResourceOptions(parent=self, protect=args["protect"]),
            name=self.queue_name,
            description="Web messaging from the custom widget, routed by the inbound message flow.",
            division_id=args["division_id"],
            media_settings_message=MESSAGE_MEDIA_SETTINGS,
            acw_wrapup_prompt="OPTIONAL",
            skill_evaluation_method="ALL",
            # Agents are assigned by the workforce team in Genesys, not here. With neither `members` nor
            # `ignore_members`, the provider removes every member on create and update
            # (routing_queue/resource_genesyscloud_routing_queue_members.go:82-95, v1.84.1).
            ignore_members=True,
        )
        self.queue_id = queue.id
        self.register_outputs({"queue_id": self.queue_id, "queue_name": self.queue_name})
