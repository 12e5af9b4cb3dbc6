"""The one region model: every Genesys host name and the Messenger environment code derive from here.

Nothing else in the project spells a Genesys host name; a region change in the stack settings moves
the provider, every URL and the widget's Messenger `environment` together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_TABLE_FILE = Path(__file__).with_name("regions.json")


@dataclass(frozen=True)
class Region:
    """One Genesys Cloud region and the hosts a web messaging estate in it talks to."""

    code: str
    """Region code as the provider's `aws_region` takes it, e.g. `eu-west-1`."""
    domain: str
    """The region's Genesys domain, e.g. `mypurecloud.ie`."""
    messenger_environment: str
    """The Messenger snippet's `environment` option, e.g. `prod-euw1`."""

    @property
    def login_url(self) -> str:
        """OAuth host: tokens are minted here, at `/oauth/token`."""
        return f"https://login.{self.domain}"

    @property
    def api_url(self) -> str:
        """Platform API base URL (the provider's own `GetRegionBasePath`)."""
        return f"https://api.{self.domain}"

    @property
    def websocket_url(self) -> str:
        """Web messaging Guest API websocket host."""
        return f"wss://webmessaging.{self.domain}"

    @property
    def messenger_script_url(self) -> str:
        """The Messenger bootstrap script the widget page loads."""
        return f"https://apps.{self.domain}/genesys-bootstrap/genesys.min.js"

    @property
    def api_cdn_url(self) -> str:
        """Public CDN serving each deployment's published `config.json`."""
        return f"https://api-cdn.{self.domain}"

    def hosts(self) -> frozenset[str]:
        """Every host name this region's URLs use."""
        return frozenset(
            url.split("://", 1)[1].split("/", 1)[0]
            for url in (self.login_url, self.api_url, self.websocket_url, self.messenger_script_url, self.api_cdn_url)
        )


@cache
def regions() -> dict[str, Region]:
    """All public regions, keyed by code, read once from regions.json."""
    table = json.loads(_TABLE_FILE.read_text())["regions"]
    loaded = {
        code: Region(code=code, domain=row["domain"], messenger_environment=row["messengerEnvironment"])
        for code, row in table.items()
    }
    _check_unique_messenger_environments(loaded)
    return loaded


def _check_unique_messenger_environments(table: dict[str, Region]) -> None:
    """Two regions with one Messenger `environment` code would send one region's widgets to the other's
    Messenger; a copy-paste slip in regions.json must stop the run, not ship."""
    first: dict[str, str] = {}
    for code, region in table.items():
        other = first.setdefault(region.messenger_environment, code)
        if other != code:
            # Imported here: the settings model imports this module and must not pull in yaml (components.errors).
            from components.errors import InvalidConfiguration

            raise InvalidConfiguration(
                f"{_TABLE_FILE.name}: regions.{code}.messengerEnvironment {region.messenger_environment!r} is also "
                f"regions.{other}'s; fix: give {code} its own code from its Messenger deployment's snippet "
                "(Admin > Message > Messenger Deployments)"
            )


def region_for_host(host: str) -> Region | None:
    """The region whose domain a host name belongs to, if any (used to spot cross-region URLs)."""
    matches = [r for r in regions().values() if host == r.domain or host.endswith("." + r.domain)]
    # The longest domain wins, so a host is never credited to a region whose domain is a suffix of its own.
    return max(matches, key=lambda r: len(r.domain), default=None)
