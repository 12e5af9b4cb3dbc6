"""Test helper: an example stack's crm switched to the custom preset (its own API), its secret kept."""

from __future__ import annotations

NS = "genesys-messaging"


def as_custom(config: dict, **changes: object) -> None:
    """Replace the crm object of a stack file's `config` (as YAML gives it) with a custom-preset one."""
    crm = config[f"{NS}:crm"]
    secret = crm.get("password") or crm.get("apiToken") or crm.get("clientSecret")
    config[f"{NS}:crm"] = {
        "kind": "custom",
        "baseUrl": "https://crm.example.com/api",
        "contactUrlTemplate": "https://crm.example.com/contacts/{{externalId.value}}",
        "username": "genesys-lookup",
        "password": secret,
        **changes,
    }
