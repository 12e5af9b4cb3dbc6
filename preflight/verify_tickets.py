"""The ticketing system's read of one ticket, per CRM preset (`crm.kind`): does the ticket the flow recorded exist?

One read call per preset, by name; a preset without one (or a stack without a preset) is skipped with the reason.
- zendesk: GET https://{subdomain}.zendesk.com/api/v2/tickets/{id} (Zendesk Support API reference, "Tickets" >
  "Show Ticket"), answer {"ticket": {"id": ...}}.
- salesforce: GET https://{instance}/services/data/{version}/sobjects/Case/{id} (Salesforce REST API Developer
  Guide, "sObject Rows"), answer the Case record {"Id": ...}.
The host is crm.baseUrl's (`origin()`), or --ticket-url.
- custom: the team's own CRM has no read call known here: skipped, with the reason.
Both accept an OAuth access token as `Authorization: Bearer` (Zendesk "OAuth access tokens"; Salesforce REST
"Authorization"), read from PREFLIGHT_VERIFY_TICKET_TOKEN: never from the stack file, never printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from components.genesys_api import segment

TICKET_TOKEN_VAR = "PREFLIGHT_VERIFY_TICKET_TOKEN"
SALESFORCE_API_VERSION = "v60.0"
"""The Salesforce REST API version of the read (any version since v20.0 serves sObject rows)."""


@dataclass(frozen=True)
class Preset:
    path: Callable[[str], str]
    """The read path for a ticket id."""
    ticket_id: Callable[[Any], Any]
    """The ticket id in the answer (to compare with the recorded one)."""


PRESETS: dict[str, Preset | None] = {
    "zendesk": Preset(
        path=lambda ticket: f"/api/v2/tickets/{segment(ticket)}",
        ticket_id=lambda body: (body.get("ticket") or {}).get("id") if isinstance(body, dict) else None,
    ),
    "salesforce": Preset(
        path=lambda ticket: f"/services/data/{SALESFORCE_API_VERSION}/sobjects/Case/{segment(ticket)}",
        ticket_id=lambda body: body.get("Id") if isinstance(body, dict) else None,
    ),
    "custom": None,
}


def origin(base_url: str) -> str:
    """The scheme and host of crm.baseUrl: both presets' APIs sit at the host's root (Zendesk /api/v2, Salesforce
    /services/data), whatever path the data actions' base URL adds."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def preset_kind(crm: Any, raw: Any) -> str | None:
    """The stack's CRM preset, read defensively: `crm.kind` on the settings if the loader has it, else in the raw
    `crm` object of the stack file, else None."""
    kind = getattr(crm, "kind", None)
    if kind is None and isinstance(raw, dict):
        section = raw.get("crm")
        kind = section.get("kind") if isinstance(section, dict) else None
    return kind if isinstance(kind, str) and kind else None
