"""Project data files are checked against their schemas; a broken one is a clear error, not a traceback."""

from __future__ import annotations

import pytest
import yaml

from components import access_data
from components.errors import InvalidConfiguration, load_data_file
from preflight.__main__ import main
from tests.conftest import ROOT


def write(tmp_path, name, document):
    folder = tmp_path / "components"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    ("file", "schema"),
    [
        ("components/access.yaml", "access.schema.json"),
        ("components/oidc_integration.yaml", "oidc_integration.schema.json"),
        ("components/web_messaging.yaml", "web_messaging.schema.json"),
        *(
            (f"components/data_actions/crm/{kind}/{name}", "data_action.schema.json")
            for kind in ("zendesk", "salesforce", "custom")
            for name in ("crm_lookup.yaml", "crm_create_ticket.yaml")
        ),
        ("components/data_actions/crm/salesforce/auth.yaml", "custom_auth_action.schema.json"),
        ("components/data_actions/contact_lookup.yaml", "data_action.schema.json"),
        ("components/data_actions/contact_enrich.yaml", "data_action.schema.json"),
        ("components/data_actions/conversation_contact.yaml", "data_action.schema.json"),
        ("components/data_actions/contact_merge.yaml", "data_action.schema.json"),
    ],
)
def test_committed_data_files_match_their_schemas(file, schema):
    assert load_data_file(ROOT / file, schema)


def test_the_client_secret_may_not_go_into_plain_integration_properties(tmp_path):
    document = yaml.safe_load((ROOT / "components/oidc_integration.yaml").read_text())
    document["properties"]["clientSecret"] = {"setting": "client_secret", "label": "Client Secret", "source": "x"}
    path = write(tmp_path, "oidc_integration.yaml", document)
    with pytest.raises(InvalidConfiguration) as caught:
        load_data_file(path, "oidc_integration.schema.json")
    message = str(caught.value)
    assert "components/oidc_integration.yaml: properties.clientSecret.setting" in message
    assert "fix: make the file match components/schemas/oidc_integration.schema.json" in message


def test_a_data_action_without_a_url_names_the_key(tmp_path):
    document = yaml.safe_load((ROOT / "components/data_actions/crm/custom/crm_lookup.yaml").read_text())
    del document["request"]["urlTemplate"]
    path = write(tmp_path, "crm_lookup.yaml", document)
    with pytest.raises(InvalidConfiguration, match=r"crm_lookup.yaml: request: 'urlTemplate' is a required property"):
        load_data_file(path, "data_action.schema.json")


def test_broken_access_file_fails_the_plan_without_a_traceback(tmp_path, monkeypatch, capsys):
    document = yaml.safe_load((ROOT / "components/access.yaml").read_text())
    document["roles"]["contact-lookup"]["permissions"][0] = "externalContacts:contact:*"
    monkeypatch.setattr(access_data, "ACCESS_FILE", write(tmp_path, "access.yaml", document))
    access_data.access_spec.cache_clear()
    try:
        assert main(["plan", "--stack", "prod"]) == 1
    finally:
        access_data.access_spec.cache_clear()
    err = capsys.readouterr().err
    assert (
        "components/access.yaml: roles.contact-lookup.permissions.0: 'externalContacts:contact:*' does not match" in err
    )
    assert "Traceback" not in err


@pytest.mark.parametrize("path", sorted((ROOT / "components/data_actions").glob("*.yaml")), ids=lambda p: p.name)
def test_url_templates_encode_path_segments_for_a_path(path):
    # $esc.url() and $esc.urlFormEncode() form-encode (a space becomes +, which a path keeps literally);
    # Genesys' "Velocity macros for data actions" points URL templates at $esc.uriEncode().
    url = yaml.safe_load(path.read_text())["request"]["urlTemplate"]
    assert "$esc.url(" not in url and "urlFormEncode" not in url, f"{path.name}: {url}"
