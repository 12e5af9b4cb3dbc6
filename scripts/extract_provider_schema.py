"""Regenerate components/provider_schema.json from the provider facts file.

The binding validates every declared property against this file, so it must match the provider
version pinned in components/provider_binding.py. Run after bumping that pin, with the provider facts
(attribute lists of the provider release, e.g. the team's shared reference file):

    python scripts/extract_provider_schema.py --facts <path>/genesyscloud-provider-facts.json
    python scripts/extract_provider_schema.py --facts <path> --check   # exit 1 if the file would change

Only the resources this project declares are kept, and of each attribute only what the binding
needs: the Pulumi property name, whether it is required, its shape and whether it is sensitive.
"""

from __future__ import annotations

import argparse
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
HAND_ADDED = ("genesyscloud_integration_custom_auth_action",)
"""Used resources the facts file lacks: their entries were written from the provider's Go schema (see the
output's `_source.hand_added`) and are kept as they are when the rest is regenerated."""
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


def build(facts: dict, current: dict | None = None) -> dict:
    """The schema table from the facts; `current` (the committed table) supplies the HAND_ADDED entries."""
    current = current or {"resources": {}, "_source": {}}
    resources = {tf_type: current["resources"][tf_type] for tf_type in HAND_ADDED if tf_type in current["resources"]}
    for tf_type in USED_RESOURCES:
        resource = facts["resources"][tf_type]
        resources[tf_type] = {
            "token": resource["pulumi"]["type_token"],
            "attributes": compact(resource["attributes"]),
        }
    return {
        "_source": {
            "repo": facts["source"]["repo"],
            "commit": facts["source"]["commit"],
            "provider_version": facts["source"]["provider_version"],
            "naming": "Pulumi property names follow the pulumi-terraform-bridge convention "
            "(camelCase, pluralised lists); derived, not read from a generated SDK.",
            **({"hand_added": current["_source"]["hand_added"]} if "hand_added" in current["_source"] else {}),
        },
        "resources": resources,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", type=Path, required=True, help="the provider facts JSON (attribute lists)")
    parser.add_argument("--output", type=Path, default=OUT, help=f"default {OUT.relative_to(OUT.parents[1])}")
    parser.add_argument("--check", action="store_true", help="exit 1 if the output would change; write nothing")
    args = parser.parse_args(argv)
    try:
        facts = json.loads(args.facts.read_text())
        current = json.loads(args.output.read_text()) if args.output.exists() else None
        text = json.dumps(build(facts, current), indent=1, sort_keys=True) + "\n"
    except OSError as error:
        print(f"extract_provider_schema: cannot read {args.facts}: {error.strerror}", file=sys.stderr)
        return 2
    except (ValueError, KeyError) as error:
        print(f"extract_provider_schema: {args.facts} is not a provider facts file ({error})", file=sys.stderr)
        return 2
    if args.check:
        same = args.output.exists() and args.output.read_text() == text
        print(f"{args.output} is {'up to date' if same else 'out of date'}")
        return 0 if same else 1
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(USED_RESOURCES)} resources)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
