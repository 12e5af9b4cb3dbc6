"""The ticketing system's read of one ticket, per CRM preset (`crm.kind`): does the ticket the flow recorded exist?

One read call per preset, by name; a preset without one (or a stack without a preset) is skipped with the reason.
- zendesk: GET https://{subdomain}.zendesk.com/api/v2/tickets/{id} (Zendesk Support API reference, "Tickets" >
  "Show Ticket"), answer {"ticket": {"id": ...}}.
- salesforce: GET https://{instance}.my.salesforce.com/services/data/v{crm.apiVersion}/sobjects/Case/{id}
  (Salesforce REST API Developer Guide, "sObject Rows"), answer the Case record {"Id": ...}.
The host is the one the preset fixes (`ticket_origin()`: the Zendesk subdomain's, the Salesforce My Domain's), or
--ticket-url.
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


@dataclass(frozen=True)
class Preset:
    path: Callable[[Any, str], str]
    """The read path for the stack's crm settings and a ticket id."""
    ticket_id: Callable[[Any], Any]
    """The ticket id in the answer (to compare with the recorded one)."""


PRESETS: dict[str, Preset | None] = {
    "zendesk": Preset(
        path=lambda crm, ticket: f"/api/v2/tickets/{segment(ticket)}",
        ticket_id=lambda body: (body.get("ticket") or {}).get("id") if isinstance(body, dict) else None,
    ),
    "salesforce": Preset(
        path=lambda crm, ticket: f"/services/data/v{crm.api_version}/sobjects/Case/{segment(ticket)}",
        ticket_id=lambda body: body.get("Id") if isinstance(body, dict) else None,
    ),
    "custom": None,
}


def ticket_origin(crm: Any) -> str:
    """Where the preset's API answers: the host the preset fixes, else the custom base URL's scheme and host."""
    host = getattr(crm, "host", None)
    return f"https://{host}" if isinstance(host, str) and host else origin(getattr(crm, "base_url", "") or "")


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
