"""The stack settings as the program uses them: frozen values and what derives from them, nothing else.

No I/O and no loading here: `components/settings.py` reads and validates a stack's config and builds
these. Components import their types from this module, so declaring a resource never pulls in the
loader (JSON Schema, YAML, the Pulumi config). `Region` comes from components/regions.py, whose
table is read lazily, on the first `regions()` call, never on import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.regions import Region

NAMESPACE = "genesys-messaging"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SecretText:
    """A secret config value: usable by the program, never shown by repr, str or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The plain value, for the one place that hands it to a secret `pulumi.Output`."""
        return self._value

    def __repr__(self) -> str:
        return "SecretText(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretText) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Site:
    """One web property the custom widget runs on: one Messenger configuration and deployment."""

    key: str
    domains: tuple[str, ...]
    languages: tuple[str, ...]
    default_language: str


@dataclass(frozen=True)
class IdentityProvider:
    """The OpenID Connect IdP customers sign in with before they message (authenticated messaging)."""

    discovery_uri: str
    client_id: str
    client_secret: SecretText
    allow_session_upgrade: bool


@dataclass(frozen=True)
class Crm:
    """The CRM the inbound flow looks customers up in, and whose records agents open."""

    base_url: str
    contact_url_template: str
    username: str
    password: SecretText
    ticket_path: str = "/tickets"
    """Path under base_url where the flow's "create ticket" data action POSTs (crm.ticketPath)."""


@dataclass(frozen=True)
class Settings:
    """Everything a stack declares, validated. Components receive parts of it as Args."""

    project: str
    stack: str
    source: str
    region: Region
    environment: str
    division: str
    name_prefix: str
    org: str
    """Label of the Genesys org; stacks with the same label (and region) share it."""
    token_validity_seconds: int
    oidc_integration_type: str
    flow_error_handling: str
    """What the inbound flow does on a runtime error: disconnect or transferToAcd."""
    sites: tuple[Site, ...]
    identity_provider: IdentityProvider
    crm: Crm
    queue_name: str
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)
    """The validated config values with defaults applied (secrets still wrapped), for diff and promote."""

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    def name(self, base: str) -> str:
        """A Genesys object name with this stack's prefix, so stacks sharing an org never clash."""
        return f"{self.name_prefix}{base}"
