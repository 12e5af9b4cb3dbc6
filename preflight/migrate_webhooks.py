"""`migrate webhooks`: list a Sunshine app's webhooks and say, per trigger, what in this stack replaces it.

Read-only: two kinds of GET (custom integrations, then each one's webhooks; migrate_sunshine.py). The
replacement of each trigger is data (preflight/migrate_triggers.yaml). A webhook's target is shown as its
host and path only (a query string may carry a token) and its secret never leaves migrate_sunshine.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from components import yaml_loading

TRIGGERS_FILE = Path(__file__).with_name("migrate_triggers.yaml")


@dataclass(frozen=True)
class TriggerUse:
    trigger: str
    webhooks: tuple[str, ...]
    """'<integration display name> -> <target host/path>' of each webhook subscribed to it."""
    replaced_by: str
    """What replaces it in this stack, or '' when nothing does yet."""
    note: str


@cache
def replacements() -> dict[str, dict[str, str]]:
    data = yaml_loading.safe_load(TRIGGERS_FILE.read_text(encoding="utf-8"))
    return data["triggers"]


def target_shown(target: Any) -> str:
    if not isinstance(target, str):
        return "(no target)"
    try:
        parts = urlsplit(target)
    except ValueError:
        return "(unreadable target)"
    return f"{parts.hostname or '?'}{parts.path or '/'}"


def trigger_uses(integrations: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> list[TriggerUse]:
    """Per trigger any webhook subscribes to: the webhooks, and what replaces it (unknown ones included)."""
    table = replacements()
    subscribed: dict[str, list[str]] = {}
    for integration, hooks in integrations:
        name = str(integration.get("displayName") or integration.get("id") or "custom integration")
        for hook in hooks:
            triggers = hook.get("triggers") if isinstance(hook.get("triggers"), list) else []
            for trigger in triggers:
                if isinstance(trigger, str):
                    subscribed.setdefault(trigger, []).append(f"{name} -> {target_shown(hook.get('target'))}")
    uses = []
    for trigger in sorted(subscribed):
        entry = table.get(trigger)
        if entry is None:
            uses.append(
                TriggerUse(
                    trigger,
                    tuple(subscribed[trigger]),
                    "",
                    "unknown trigger (not in the Sunshine v2 reference this table follows); decide by hand",
                )
            )
        else:
            uses.append(
                TriggerUse(trigger, tuple(subscribed[trigger]), entry.get("replacedBy", ""), entry.get("note", ""))
            )
    return uses
