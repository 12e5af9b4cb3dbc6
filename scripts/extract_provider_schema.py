"""Regenerate components/provider_schema.json from the provider facts file.

The binding validates every declared property against this file, so it must match the provider
version pinned in components/provider_binding.py. Run after bumping that pin:

    python scripts/extract_provider_schema.py ../shared/reference/genesyscloud-provider-facts.json

Only the resources this project declares are kept, and of each attribute only what the binding
needs: the Pulumi property name, whether it is required, its shape and whether it is sensitive.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

USED_RESOURCES = (
    "genesyscloud_auth_role",
    "genesyscloud_externalcontacts_external_source",
    "genesyscloud_flow",
    "genesyscloud_integration",
    "genesyscloud_integration_action",
    "genesyscloud_integration_credential",
    "genesyscloud_oauth_client",
    "genesyscloud_routing_queue",
    "genesyscloud_webdeployments_configuration",
    "genesyscloud_webdeployments_deployment",
)
OUT = Path(__file__).resolve().parent.parent / "components" / "provider_schema.json"


def shape(attr: dict) -> str:
    """How the bridge presents the attribute to Pulumi: scalar, list, map, object or objects."""
    if attr["type"] == "block":
        return "object" if attr.get("max_items") == 1 else "objects"
    if attr["type"] in ("list", "set"):
        return "list"
    if attr["type"] == "map":
        return "map"
    return "scalar"


def compact(attributes: dict) -> dict:
    out = {}
    for tf_name, attr in sorted(attributes.items()):
        entry = {
            "property": attr["pulumi"]["property"] if "pulumi" in attr else tf_name,
            "shape": shape(attr),
            "presence": attr["presence"],
        }
        if attr.get("sensitive"):
            entry["sensitive"] = True
        if attr.get("deprecated"):
            entry["deprecated"] = True
        if "attributes" in attr:
            entry["attributes"] = compact(attr["attributes"])
        out[tf_name] = entry
    return out


def main(facts_path: str) -> None:
    facts = json.loads(Path(facts_path).read_text())
    resources = {}
    for tf_type in USED_RESOURCES:
        resource = facts["resources"][tf_type]
        resources[tf_type] = {
            "token": resource["pulumi"]["type_token"],
            "attributes": compact(resource["attributes"]),
        }
    schema = {
        "_source": {
            "repo": facts["source"]["repo"],
            "commit": facts["source"]["commit"],
            "provider_version": facts["source"]["provider_version"],
            "naming": "Pulumi property names follow the pulumi-terraform-bridge convention "
            "(camelCase, pluralised lists); derived, not read from a generated SDK.",
        },
        "resources": resources,
    }
    OUT.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(resources)} resources)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/genesyscloud-provider-facts.json")
