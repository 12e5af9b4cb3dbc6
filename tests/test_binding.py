"""The provider binding: real tokens, one pinned route, properties checked at declaration time."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from components import provider_binding as binding
from components.provider_binding import BindingError, to_pulumi_properties
from preflight.inprocess import run_program
from tests.conftest import example_config

SCHEMA = json.loads((Path(binding.__file__).with_name("provider_schema.json")).read_text())


def test_misspelt_property_is_rejected_with_a_suggestion():
    with pytest.raises(BindingError, match=r"unknown property 'alowed_domains'; did you mean 'allowed_domains'"):
        to_pulumi_properties(
            "genesyscloud_webdeployments_deployment",
            "www",
            {"name": "x", "configuration": {"id": "c"}, "alowed_domains": ["example.com"]},
        )


def test_missing_required_property_is_rejected():
    with pytest.raises(BindingError, match="required property 'authorized_grant_type' is missing"):
        to_pulumi_properties("genesyscloud_oauth_client", "c", {"name": "c"})


def test_misspelt_nested_property_is_rejected():
    with pytest.raises(BindingError, match=r"roles\[0\]: unknown property 'role'"):
        to_pulumi_properties(
            "genesyscloud_oauth_client",
            "c",
            {"name": "c", "authorized_grant_type": "CLIENT-CREDENTIALS", "roles": [{"role": "r"}]},
        )


def test_computed_property_cannot_be_set():
    with pytest.raises(BindingError, match="unknown property 'client_id'"):
        to_pulumi_properties(
            "genesyscloud_oauth_client", "c", {"name": "c", "authorized_grant_type": "TOKEN", "client_id": "x"}
        )


def test_names_follow_the_bridge_convention():
    props = to_pulumi_properties(
        "genesyscloud_auth_role",
        "r",
        {"name": "r", "permission_policies": [{"domain": "d", "entity_name": "e", "action_set": ["view"]}]},
    )
    # Lists are pluralised by the bridge (action_set -> actionSets); MaxItems=1 blocks stay objects.
    assert props == {"name": "r", "permissionPolicies": [{"domain": "d", "entityName": "e", "actionSets": ["view"]}]}


def test_every_bound_class_uses_its_real_type_token():
    bound = [c for c in vars(binding).values() if isinstance(c, type) and issubclass(c, binding.GenesysResource)]
    assert len(bound) > 5
    for cls in bound:
        if cls is binding.GenesysResource:
            continue
        noun = cls.TF_TYPE.removeprefix("genesyscloud_")
        camel = noun.split("_")[0] + "".join(p.title() for p in noun.split("_")[1:])
        assert SCHEMA["resources"][cls.TF_TYPE]["token"] == f"genesyscloud:index/{camel}:{cls.__name__}"


def test_default_route_bridges_the_schema_version(run):
    # The registered package must bridge exactly the Terraform provider release the schema was read from.
    assert run.packages, "the terraform-provider route registers a parameterized package"
    package = run.packages[0]
    assert package["name"] == "terraform-provider"
    assert package["package"] == "genesyscloud"
    value = json.loads(package["value"])
    assert value["remote"]["version"] == SCHEMA["_source"]["provider_version"]
    assert value["remote"]["url"].endswith("mypurecloud/genesyscloud")
    assert base64.b64decode(binding._parameterization()).decode() == package["value"]
    genesys = [r for r in run.resources if r.custom and not r.type.startswith("pulumi-python:dynamic")]
    assert genesys and all(r.package_ref for r in genesys), "every Genesys resource carries the package reference"


def test_plugin_route_refuses_to_run_without_a_pinned_version(monkeypatch):
    monkeypatch.setattr(binding, "PROVIDER_ROUTE", "plugin")
    monkeypatch.setattr(binding, "PLUGIN_VERSION", None)
    with pytest.raises(BindingError, match="PLUGIN_VERSION is unset"):
        binding._plugin_options()


def test_plugin_route_pins_version_and_download_url(monkeypatch):
    monkeypatch.setattr(binding, "PROVIDER_ROUTE", "plugin")
    monkeypatch.setattr(binding, "PLUGIN_VERSION", "9.9.9")
    # A real run: the fixtures' cached runs were made without this patch.
    run = run_program(example_config("prod"))
    genesys = [r for r in run.resources if r.custom and not r.type.startswith("pulumi-python:dynamic")]
    assert not run.packages
    assert all(r.version == "9.9.9" for r in genesys)
    assert all(r.plugin_download_url == "github://api.github.com/MyPureCloud" for r in genesys)


# The bridge autonames an optional `name` left unset; the provider reads back the real one, so every
# later `up` diffs (architect_flow/resource_genesyscloud_flow.go:84, schema.go:85, provider v1.84.1).
def test_optional_name_left_unset_is_refused():
    with pytest.raises(BindingError, match=r"'name' is optional in the provider.*pass name= explicitly"):
        to_pulumi_properties("genesyscloud_flow", "inbound", {"filepath": "flows/x.yaml"})


def test_every_resource_with_an_optional_name_is_covered():
    # Hand-listed from the provider's schema files at v1.84.1 (Optional: true on `name`).
    optional_name = {"genesyscloud_flow", "genesyscloud_integration_credential"}
    for tf_type in optional_name:
        with pytest.raises(BindingError, match="pass name= explicitly"):
            to_pulumi_properties(tf_type, "r", {})


def test_program_names_every_resource_whose_name_is_optional(run):
    flows = [r for r in run.resources if r.type == SCHEMA["resources"]["genesyscloud_flow"]["token"]]
    assert len(flows) == 1
    flow = flows[0]
    assert flow.inputs.get("name") == flow.inputs["substitutions"]["flow_name"], (
        f"{flow.urn}: name must be given and equal the YAML's flow_name, or state and Genesys disagree"
    )


def test_schema_script_runs_from_the_repository(tmp_path):
    import subprocess
    import sys

    script = [sys.executable, "scripts/extract_provider_schema.py"]
    root = Path(binding.__file__).resolve().parent.parent
    helped = subprocess.run([*script, "--help"], cwd=root, capture_output=True, text=True)
    assert helped.returncode == 0 and "--facts" in helped.stdout, helped.stderr
    missing = subprocess.run(
        [*script, "--facts", str(tmp_path / "none.json")], cwd=root, capture_output=True, text=True
    )
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
