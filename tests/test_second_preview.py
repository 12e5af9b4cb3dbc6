"""The second preview shows no changes: the OIDC integration's properties and the Messenger blocks.

Oracles, none read from the data files under test:
- the provider's Go source at v1.84.1 (f955430e), ported by hand below: how it merges and reads back
  integration properties (integration/resource_genesyscloud_integration_utils.go:46-53, :100-119) and
  compares them (util/util_json.go:18-50); which blocks of the Messenger configuration are Optional and
  not Computed (webdeployments_configuration/resource_genesyscloud_webdeployments_configuration_schema.go
  :1102-1156, messenger :192-230);
- Genesys help "Get started with authenticated web messaging", which names the integration's
  Configuration fields: "Discovery URI" and "Max Refresh Token Lifetime".
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components import web_messaging
from components.errors import InvalidConfiguration
from components.messenger_identity import integration_properties, oidc_integration_spec
from components.provider_binding import BindingError, provider_schema, pulumi_path, to_pulumi_properties
from preflight.inprocess import is_secret_value

HELP_PAGE_FIELDS = ("Discovery URI", "Max Refresh Token Lifetime")
"""The OIDC Messenger integration's Configuration fields, as the Genesys help page lists them."""

CONFIGURATION = "genesyscloud_webdeployments_configuration"
OPTIONAL_BLOCKS = {
    "custom_i18n_labels", "position", "messenger", "cobrowse", "video", "journey_events", "support_center",
    "authentication_settings",
}  # fmt: skip
"""Optional, not Computed blocks of the configuration (schema.go:1102-1156)."""
OPTIONAL_MESSENGER_BLOCKS = {"styles", "launcher_button", "home_screen", "file_upload"}
"""Optional, not Computed blocks inside messenger (schema.go:200-227; `apps` is Computed, :235-240)."""
PROVIDER_CITATION = re.compile(r"\.(go|tf)\b")
"""A reason cites a provider source file (a .go test or schema, a .tf example)."""


# --- the provider's handling of config.properties, ported from its Go source ---------------------


def provider_merge(server: dict[str, Any], declared: str) -> dict[str, Any]:
    """updateIntegrationConfigFromResourceData: json.Unmarshal of the declared JSON into the server's
    properties map (utils.go:102, :115-116) overwrites the declared keys and keeps every other one."""
    return {**server, **json.loads(declared)}


def provider_read_back(server: dict[str, Any]) -> str:
    """flattenIntegrationConfig: json.Marshal of the server's map (utils.go:46-53), keys sorted, compact."""
    return json.dumps(server, sort_keys=True, separators=(",", ":"))


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def equivalent_jsons(original: str, incoming: str) -> bool:
    """util.EquivalentJsons as SuppressEquivalentJsonDiffs calls it (old = state, new = config): nulls
    are removed from the config side only, then the two are compared deeply (util_json.go:18-50)."""
    return original == incoming or json.loads(original) == _without_nulls(json.loads(incoming))


def declared_properties(run) -> str:
    (identity,) = [i for i in run.of_type(":Integration") if i.name.startswith("identity-")]
    return identity.inputs["config"]["properties"]


def key_for(label: str) -> str:
    keys = [key for key, entry in oidc_integration_spec()["properties"].items() if entry.get("label") == label]
    assert keys, f"components/oidc_integration.yaml declares no property for the help page's field '{label}'"
    return keys[0]


def test_every_configuration_field_the_help_page_lists_is_declared():
    for label in HELP_PAGE_FIELDS:
        key_for(label)


def test_a_server_holding_every_field_reads_back_as_declared(run):
    # Hand-written scenario: after install, the server holds a value for each help-page field.
    server = {key_for("Discovery URI"): "", key_for("Max Refresh Token Lifetime"): 7776000}
    declared = declared_properties(run)
    state = provider_read_back(provider_merge(server, declared))
    assert equivalent_jsons(state, declared), f"second preview would show config.properties: {state} vs {declared}"


def test_an_undeclared_server_property_diffs_even_when_null(run):
    # Why doctor must name every key config/current has beyond the declared ones: nothing can hide it.
    declared = declared_properties(run)
    for extra in ("", None, False):
        state = provider_read_back(provider_merge({"someOtherField": extra}, declared))
        assert not equivalent_jsons(state, declared), extra


def test_the_properties_are_plain_compact_and_sorted_like_the_read_back(run):
    declared = declared_properties(run)
    assert not is_secret_value(declared), "doctor compares them with config/current: they must be plain"
    assert declared == provider_read_back(json.loads(declared))
    assert json.loads(declared)[key_for("Discovery URI")] == run.settings.identity_provider.discovery_uri


def test_every_fixed_property_says_what_is_unverified_and_the_call_that_confirms_it():
    for key, entry in oidc_integration_spec()["properties"].items():
        if "value" in entry:
            assert "/api/v2/integrations/" in entry.get("unverified", ""), key


def test_a_property_with_both_a_setting_and_a_value_is_refused(monkeypatch, tmp_path):
    from components import messenger_identity

    broken = tmp_path / "oidc_integration.yaml"
    text = messenger_identity._SPEC_FILE.read_text()
    broken.write_text(text.replace("    setting: discovery_uri\n", "    setting: discovery_uri\n    value: x\n", 1))
    monkeypatch.setattr(messenger_identity, "_SPEC_FILE", broken)
    oidc_integration_spec.cache_clear()
    try:
        with pytest.raises(InvalidConfiguration, match=r"oidc_integration.yaml: properties.discoveryUri: give exactly"):
            oidc_integration_spec()
    finally:
        oidc_integration_spec.cache_clear()


def test_the_properties_never_carry_the_client_secret(run):
    secret = run.settings.identity_provider.client_secret.reveal()
    assert secret not in integration_properties(oidc_integration_spec(), run.settings.identity_provider)


# --- the Messenger configuration's optional blocks ---------------------------------------------


def test_the_hand_written_block_lists_match_the_extracted_provider_schema():
    # A provider bump that adds a block fails here first, so the block gets a decision.
    attributes = provider_schema()[CONFIGURATION]["attributes"]
    blocks = {k for k, a in attributes.items() if a["shape"] in ("object", "objects") and a["presence"] == "optional"}
    assert blocks == OPTIONAL_BLOCKS
    messenger = attributes["messenger"]["attributes"]
    assert {k for k, a in messenger.items() if a["shape"] == "object"} == OPTIONAL_MESSENGER_BLOCKS | {"apps"}


def test_every_optional_block_is_set_absent_or_ignored_with_a_cited_reason(run):
    unset = web_messaging.unset_blocks()
    for configuration in run.of_type(":WebdeploymentsConfiguration"):
        inputs, ignored = configuration.inputs, set(configuration.ignore_changes)
        for block in sorted(OPTIONAL_BLOCKS):
            prop = pulumi_path(CONFIGURATION, block)
            if inputs.get(prop) is not None:
                assert block not in unset["absent"], f"{configuration.urn}: {block} is both set and absent"
                continue
            assert block in unset["absent"] or prop in ignored, f"{configuration.urn}: {block} has no decision"
        for block in sorted(OPTIONAL_MESSENGER_BLOCKS):
            path = f"messenger.{block}"
            if (inputs["messenger"] or {}).get(pulumi_path(CONFIGURATION, path).split(".")[1]) is None:
                assert pulumi_path(CONFIGURATION, path) in ignored, f"{configuration.urn}: {path} has no decision"
        assert ignored == {pulumi_path(CONFIGURATION, path) for path in unset["ignored"]}, configuration.urn
    for block, entry in unset["absent"].items():
        assert PROVIDER_CITATION.search(entry["evidence"]), f"{block}: the evidence cites no provider file"
    for path, entry in unset["ignored"].items():
        assert PROVIDER_CITATION.search(entry["reason"]), f"{path}: the reason cites no provider file"


def test_the_absent_blocks_pass_the_binding_and_a_misspelt_one_fails():
    # components/web_messaging.py hands every absent block to the binding as None, which checks the name.
    required = {"name": "n", "languages": ["en-us"], "default_language": "en-us"}
    absent = dict.fromkeys(web_messaging.unset_blocks()["absent"])
    assert to_pulumi_properties(CONFIGURATION, "site-www-configuration", {**required, **absent}) == {
        "name": "n", "languages": ["en-us"], "defaultLanguage": "en-us"
    }  # fmt: skip
    with pytest.raises(BindingError, match="unknown property 'cobrowze'; did you mean 'cobrowse'"):
        to_pulumi_properties(CONFIGURATION, "site-www-configuration", {**required, "cobrowze": None})


def test_a_misspelt_ignored_path_fails_with_the_closest_name():
    with pytest.raises(BindingError, match="no attribute 'file_uploads'; did you mean 'file_upload'"):
        pulumi_path(CONFIGURATION, "messenger.file_uploads")
