"""One region model: no code or data outside the region tables spells a Genesys host name."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from components import regions as regions_module
from components.errors import InvalidConfiguration
from components.regions import region_for_host, regions
from tests.conftest import ROOT

CODE_DIRS = ("components", "preflight", "policy", "flows")
REGION_TABLES = {"components/regions.json", "policy/policy_data.json"}


def string_values(path: Path) -> Iterator[str]:
    """String literals of a Python file (docstrings excluded) or string values of a data file."""
    if path.suffix == ".py":
        tree = ast.parse(path.read_text())
        # Bare string statements are docstrings (of modules, classes, functions and attributes).
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        yield from (
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
        )
        return
    document = json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack += [*node.keys(), *node.values()]
        elif isinstance(node, list):
            stack += node
        elif isinstance(node, str):
            yield node


def test_no_genesys_host_outside_the_region_tables():
    domains = [r.domain for r in regions().values()]
    offenders = []
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            relative = str(path.relative_to(ROOT))
            if path.suffix not in (".py", ".json", ".yaml", ".yml") or relative in REGION_TABLES:
                continue
            offenders += [f"{relative}: {s!r}" for s in string_values(path) if any(d in s for d in domains)]
    assert not offenders, "Genesys host names belong in the region tables only:\n" + "\n".join(offenders)


def test_region_for_host_prefers_the_longest_domain():
    assert region_for_host("api.mypurecloud.ie").code == "eu-west-1"
    assert region_for_host("login.use2.us-gov-pure.cloud").code == "us-east-2"
    assert region_for_host("api.usw2.pure.cloud").code == "us-west-2"
    assert region_for_host("crm.example.com") is None


def test_every_region_has_a_messenger_environment_and_hosts_in_its_domain():
    for region in regions().values():
        assert region.messenger_environment, region.code
        for host in region.hosts():
            assert region_for_host(host) == region, f"{region.code}: {host}"


# The provider's region map, copied by hand: terraform-provider-genesyscloud v1.84.1 (f955430e),
# genesyscloud/provider/provider.go:240-263 getRegionMap, less its internal dca and tca test regions.
PROVIDER_REGION_DOMAINS = {
    "us-east-1": "mypurecloud.com",
    "us-east-2": "use2.us-gov-pure.cloud",
    "us-west-2": "usw2.pure.cloud",
    "eu-west-1": "mypurecloud.ie",
    "eu-west-2": "euw2.pure.cloud",
    "ap-southeast-2": "mypurecloud.com.au",
    "ap-northeast-1": "mypurecloud.jp",
    "eu-central-1": "mypurecloud.de",
    "ca-central-1": "cac1.pure.cloud",
    "ap-northeast-2": "apne2.pure.cloud",
    "ap-south-1": "aps1.pure.cloud",
    "sa-east-1": "sae1.pure.cloud",
    "ap-northeast-3": "apne3.pure.cloud",
    "eu-central-2": "euc2.pure.cloud",
    "me-central-1": "mec1.pure.cloud",
    "mx-central-1": "mxc1.pure.cloud",
    "ap-southeast-1": "apse1.pure.cloud",
    "eusc-de-east-1": "edee1.eusc-pure.cloud",
}


def test_region_domains_are_the_providers():
    assert {code: region.domain for code, region in regions().items()} == PROVIDER_REGION_DOMAINS


def test_api_url_is_the_providers_base_path():
    # provider.go:278-280 GetRegionBasePath: "https://api." + the region's domain.
    for code, domain in PROVIDER_REGION_DOMAINS.items():
        assert regions()[code].api_url == f"https://api.{domain}", code


def test_messenger_environments_seen_on_published_snippets():
    # The codes components/regions.json `_source.messengerEnvironment` names as seen on published Messenger
    # snippets (beside apps.<domain>); the other regions' codes are unconfirmed there.
    seen = {"eu-west-1": "prod-euw1", "eu-central-1": "prod-euc1", "us-west-2": "prod-usw2"}
    assert {code: regions()[code].messenger_environment for code in seen} == seen


def test_messenger_environment_codes_are_unique_across_regions():
    codes = [region.messenger_environment for region in regions().values()]
    assert len(codes) == len(set(codes)), sorted(codes)


def test_a_duplicated_messenger_environment_code_stops_the_run(tmp_path, monkeypatch):
    table = json.loads((ROOT / "components" / "regions.json").read_text())
    table["regions"]["eu-central-1"]["messengerEnvironment"] = "prod-euw1"  # eu-west-1's
    bad = tmp_path / "regions.json"
    bad.write_text(json.dumps(table))
    monkeypatch.setattr(regions_module, "_TABLE_FILE", bad)
    regions.cache_clear()
    try:
        with pytest.raises(InvalidConfiguration) as raised:
            regions()
    finally:
        regions.cache_clear()
    message = str(raised.value)
    assert "regions.eu-central-1.messengerEnvironment" in message and "eu-west-1" in message, message
    assert "fix:" in message, message
