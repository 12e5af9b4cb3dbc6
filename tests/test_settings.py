"""Bad settings fail before deployment with one message per problem naming file, key and fix."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from components.settings import SettingsError, load_from_stack_file, parse_settings
from components.stack_file import StackFileError, read_stack_file
from tests.conftest import EXAMPLES, ROOT, example_config, stack_config
from tests.crm_examples import as_custom

NS = "genesys-messaging"


def parse(config: dict[str, str], secret_keys: set[str]):
    return parse_settings(config, secret_keys, project=NS, stack="staging", source="Pulumi.staging.yaml")


def problems_for(changes: dict[str, object], drop: tuple[str, ...] = (), plain: tuple[str, ...] = ()) -> list:
    """Validate the staging stack with some keys changed (objects given as Python values)."""
    base = example_config("staging")
    config = dict(base.config)
    for key, value in changes.items():
        config[f"{NS}:{key}"] = value if isinstance(value, str) else json.dumps(value)
    for key in drop:
        config.pop(f"{NS}:{key}", None)
    secret_keys = set(base.secret_keys) - {f"{NS}:{k}" for k in plain}
    with pytest.raises(SettingsError) as caught:
        parse(config, secret_keys)
    return caught.value.problems


def staging_object(key: str) -> dict:
    return json.loads(example_config("staging").config[f"{NS}:{key}"])


def one(problems: list, key: str, source: str = "Pulumi.staging.yaml"):
    matching = [p for p in problems if p.key == key]
    assert matching, f"no problem reported for {key}; got {[str(p) for p in problems]}"
    assert all(p.source == source for p in problems)
    return matching[0]


def test_committed_stacks_are_valid():
    for stack in ("staging", "prod"):
        base = stack_config(stack)
        settings = parse_settings(base.config, set(base.secret_keys), project=NS, stack=stack, source=base.source)
        assert settings.region.code == base.config[f"{NS}:region"]
        assert settings.environment == stack


def test_unknown_key_suggests_the_right_one():
    problem = one(problems_for({"regoin": "eu-west-1"}), f"{NS}:regoin")
    assert "did you mean 'region'" in problem.message
    assert "regoin" in problem.fix


def test_unknown_nested_key_suggests_the_right_one():
    idp = staging_object("identityProvider") | {"discoveryUrl": "https://x/.well-known/openid-configuration"}
    problem = one(problems_for({"identityProvider": idp}), f"{NS}:identityProvider.discoveryUrl")
    assert "did you mean 'discoveryUri'" in problem.message


def test_wrong_type():
    problem = one(problems_for({"tokenValiditySeconds": "an hour"}), f"{NS}:tokenValiditySeconds")
    assert "type integer" in problem.message
    assert "300..172800" in problem.fix


def test_region_not_in_table_lists_valid_ones():
    problem = one(problems_for({"region": "eu-west-9"}), f"{NS}:region")
    assert problem.message.startswith("unknown region 'eu-west-9' (did you mean eu-west-")
    assert problem.fix.startswith("use one of: ")
    codes = problem.fix.removeprefix("use one of: ").split(", ")
    assert codes == sorted(codes)
    # Written out by hand from the provider's region map (terraform-provider-genesyscloud, provider.go getRegionMap).
    public = {"us-east-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2", "eu-central-1"}
    assert public | {"ap-southeast-2", "ap-northeast-1", "ap-south-1"} <= set(codes)


@pytest.mark.parametrize(
    ("domain", "kind"),
    [
        ("https://www.example.com", "has a scheme"),
        ("www.example.com/chat", "has a path"),
        ("localhost:3000", "is not a host name"),
    ],
)
def test_domain_must_be_a_bare_host(domain, kind):
    sites = staging_object("sites")
    sites["www"]["domains"] = [domain]
    problem = one(problems_for({"sites": sites}), f"{NS}:sites.www.domains[0]")
    assert kind in problem.message
    assert "bare host name" in problem.fix


def test_http_url_is_refused():
    # The one guard: the Crm component trusts Settings for https.
    config = {f"{NS}:crm": staging_object("crm")}
    as_custom(config, baseUrl="http://crm.example.com/api")
    crm = config[f"{NS}:crm"]
    problem = one(problems_for({"crm": crm}), f"{NS}:crm.baseUrl")
    assert problem.message == "'http://crm.example.com/api' is not in the expected form"
    assert "https://" in problem.fix


def test_http_discovery_uri_is_refused():
    # The one guard: the MessengerIdentity component trusts Settings for https.
    uri = "http://login.example.com/.well-known/openid-configuration"
    idp = staging_object("identityProvider") | {"discoveryUri": uri}
    problem = one(problems_for({"identityProvider": idp}), f"{NS}:identityProvider.discoveryUri")
    assert problem.message == f"{uri!r} is not in the expected form"
    assert problem.fix.startswith("use the IdP's https discovery document URL")


def test_site_without_domains_is_refused():
    # The one guard: an empty allow-list would let the deployment load on any domain, and WebMessaging
    # passes the site's domains through as they are.
    sites = staging_object("sites")
    sites["www"]["domains"] = []
    problem = one(problems_for({"sites": sites}), f"{NS}:sites.www.domains")
    assert problem.message == "is empty"
    assert "never allows all domains" in problem.fix


@pytest.mark.parametrize("seconds", [299, 172801, 38880000])
def test_token_validity_out_of_range(seconds):
    # The one guard for the stacks: Access passes the lifetime to the provider, which accepts up to 38880000.
    problem = one(problems_for({"tokenValiditySeconds": str(seconds)}), f"{NS}:tokenValiditySeconds")
    assert str(seconds) in problem.message
    assert "300..172800" in problem.fix


def test_default_language_must_be_a_site_language():
    sites = staging_object("sites")
    sites["support"]["defaultLanguage"] = "fr"
    problem = one(problems_for({"sites": sites}), f"{NS}:sites.support.defaultLanguage")
    assert "'fr'" in problem.message
    assert "sites.support.languages" in problem.fix


def test_empty_sites():
    problem = one(problems_for({"sites": {}}), f"{NS}:sites")
    assert "empty" in problem.message
    assert "pulumi config set" in problem.fix


def test_plain_text_secret_is_refused_with_the_exact_command():
    problems = problems_for({}, plain=("identityProvider",))
    problem = one(problems, f"{NS}:identityProvider.clientSecret")
    assert "plain text" in problem.message
    assert problem.fix.startswith(f"pulumi config set --secret --path '{NS}:identityProvider.clientSecret'")


def test_secret_value_never_appears_in_messages():
    problems = problems_for({"region": "nowhere"}, plain=("crm",))
    text = "\n".join(map(str, problems))
    assert "sentinel-secret" not in text
    assert f"{NS}:crm.apiToken" in text


def test_provider_region_contradicting_the_stack_region():
    base = example_config("staging")
    config = {**base.config, "genesyscloud:awsRegion": "us-east-1"}
    with pytest.raises(SettingsError) as caught:
        parse(config, set(base.secret_keys))
    problem = one(caught.value.problems, "genesyscloud:awsRegion")
    assert "'us-east-1'" in problem.message and "'eu-west-1'" in problem.message
    assert "pulumi config rm genesyscloud:awsRegion" in problem.fix


def test_matching_provider_region_is_accepted():
    base = example_config("staging")
    settings = parse({**base.config, "genesyscloud:awsRegion": "EU-WEST-1"}, set(base.secret_keys))
    assert settings.region.code == "eu-west-1"


def test_missing_required_object():
    problem = one(problems_for({}, drop=("routing",)), f"{NS}:routing")
    assert "required" in problem.message
    assert "queue" in problem.fix.lower()


def test_environment_must_be_staging_or_prod():
    problem = one(problems_for({"environment": "production"}), f"{NS}:environment")
    assert "'production'" in problem.message
    assert "staging" in problem.fix and "prod" in problem.fix


def test_discovery_uri_must_be_an_https_discovery_document():
    idp = staging_object("identityProvider") | {"discoveryUri": "https://login.example.com/authorize"}
    problem = one(problems_for({"identityProvider": idp}), f"{NS}:identityProvider.discoveryUri")
    assert "/.well-known/openid-configuration" in problem.fix


def test_all_problems_are_collected_not_only_the_first():
    problems = problems_for({"region": "mars-1", "environment": "dev", "tokenValiditySeconds": "5"})
    keys = {p.key for p in problems}
    assert {f"{NS}:region", f"{NS}:environment", f"{NS}:tokenValiditySeconds"} <= keys


def test_foreign_namespace_key_is_refused():
    base = example_config("staging")
    with pytest.raises(SettingsError) as caught:
        parse({**base.config, "genesys-messagin:region": "eu-west-1"}, set(base.secret_keys))
    assert one(caught.value.problems, "genesys-messagin:region").fix.startswith("remove it")


def test_yaml_syntax_error_names_the_line(tmp_path):
    broken = tmp_path / "Pulumi.broken.yaml"
    broken.write_text("config:\n  genesys-messaging:region: eu-west-1\n  genesys-messaging:sites: [unclosed\n")
    with pytest.raises(StackFileError) as caught:
        read_stack_file(broken)
    assert "Pulumi.broken.yaml" in str(caught.value)
    assert "line 4" in str(caught.value) or "line 3" in str(caught.value)


def test_missing_stack_file_is_a_clear_error():
    with pytest.raises(StackFileError, match="cannot read the stack file"):
        read_stack_file(ROOT / "Pulumi.nosuchstack.yaml")


WRONG_VALUES = [None, 7, "text", [], ["x"], {}, {"x": 1}, True]


# String-typed keys take any text (Pulumi hands config over as strings); these keys do not.
@pytest.mark.parametrize(
    "key", ["region", "environment", "tokenValiditySeconds", "sites", "identityProvider", "crm", "routing"]
)
def test_any_wrong_value_is_a_settings_error_never_a_crash(key):
    for value in WRONG_VALUES:
        problems = problems_for({key: json.dumps(value)})
        assert any(p.key.startswith(f"{NS}:{key}") for p in problems), (key, value, [str(p) for p in problems])


@pytest.mark.parametrize("wrong", WRONG_VALUES)
def test_wrong_values_inside_a_site_are_settings_errors(wrong):
    sites = staging_object("sites")
    for field in ("domains", "languages", "defaultLanguage"):
        broken = json.loads(json.dumps(sites))
        broken["www"][field] = wrong
        problems = problems_for({"sites": broken})
        assert any(p.key.startswith(f"{NS}:sites.www") for p in problems), (field, wrong)


def test_program_reads_config_the_way_the_pulumi_cli_hands_it_over(monkeypatch, pulumi_mocks):
    # `pulumi up` passes config to the program in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS.
    from pulumi.runtime.config import set_all_config

    from components.settings import load_from_pulumi

    base = example_config("prod")
    set_all_config({}, [])
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(base.config))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(sorted(base.secret_keys)))
    settings = load_from_pulumi()
    assert settings.source == "Pulumi.test.yaml"
    assert settings.region.code == "eu-west-1" and settings.environment == "prod"
    assert settings.crm.api_token.reveal() == "sentinel-secret-genesys-messaging:crm.apiToken"
    assert "sentinel" not in repr(settings)

    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", "[]")
    with pytest.raises(SettingsError, match="stored in plain text"):
        load_from_pulumi()


def test_plain_secret_beside_an_encrypted_one_is_refused(tmp_path):
    # Pulumi marks secrecy per top-level key: an encrypted value must not launder a plain token beside it.
    document = yaml.safe_load((EXAMPLES / "Pulumi.staging.yaml").read_text())
    crm = document["config"][f"{NS}:crm"]
    crm["ticketTag"], crm["apiToken"] = {"secure": "v1:abc:def"}, "hunter2-plaintext"
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(SettingsError) as caught:
        load_from_stack_file(read_stack_file(path))
    problem = one(caught.value.problems, f"{NS}:crm.apiToken")
    assert "plain text" in problem.message
    assert "hunter2" not in str(caught.value)


def test_under_pulumi_up_the_engines_secret_keys_are_trusted(tmp_path, pulumi_mocks):
    # A secret from a Pulumi ESC environment has no `secure:` entry in the stack file; the engine still
    # marks its key secret. The program trusts the engine (the per-value check is preflight's).
    from pulumi.runtime.config import set_all_config

    import components.settings as settings_module

    document = yaml.safe_load((EXAMPLES / "Pulumi.staging.yaml").read_text())
    document["config"][f"{NS}:crm"]["apiToken"] = "from-esc"
    (tmp_path / "Pulumi.test.yaml").write_text(yaml.safe_dump(document))
    stack = read_stack_file(tmp_path / "Pulumi.test.yaml", reveal=lambda path: "decrypted")
    set_all_config(dict(stack.config), [*stack.secret_keys, f"{NS}:crm"])
    settings = settings_module.load_from_pulumi()
    assert settings.crm.api_token.reveal() == "from-esc" and "from-esc" not in repr(settings)


def test_under_pulumi_up_a_secret_the_engine_does_not_mark_is_refused(pulumi_mocks):
    from pulumi.runtime.config import set_all_config

    import components.settings as settings_module

    stack = read_stack_file(EXAMPLES / "Pulumi.staging.yaml", reveal=lambda path: "decrypted")
    set_all_config(dict(stack.config), [k for k in stack.secret_keys if k != f"{NS}:crm"])
    with pytest.raises(SettingsError) as caught:
        settings_module.load_from_pulumi()
    problem = one(caught.value.problems, f"{NS}:crm.apiToken", source="Pulumi.test.yaml")
    assert problem.message == "is a secret but is stored in plain text"


def test_the_model_imports_without_the_loader_and_reads_no_file():
    # Components import their types from the model: importing it must not pull in the loader's
    # libraries, nor read the region table or any other file.
    probe = """
import builtins, io, json, pathlib, sys
def refuse(*args, **kwargs):
    raise AssertionError(f"file read while importing the model: {args!r}")
builtins.open = io.open = pathlib.Path.open = pathlib.Path.read_text = pathlib.Path.read_bytes = refuse
import components.settings_model
from components.regions import regions
print(json.dumps({"modules": sorted(sys.modules), "regions_read": regions.cache_info().currsize}))
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    loaded = set(seen["modules"])
    assert not {"jsonschema", "yaml", "pulumi"} & loaded, sorted({"jsonschema", "yaml", "pulumi"} & loaded)
    assert not {"components.settings", "components.stack_file", "components.errors"} & loaded
    assert seen["regions_read"] == 0


def test_every_value_config_cannot_hold_is_named_with_its_line_and_the_rest_reads_as_before(tmp_path):
    # Hand-written: lines 3 and 5 hold a date and !!binary, line 4 an ordinary integer Pulumi hands over as "3600".
    path = tmp_path / "Pulumi.dates.yaml"
    path.write_text(
        "config:\n"
        f"  {NS}:region: eu-west-1\n"
        f"  {NS}:org: 2026-12-04\n"
        f"  {NS}:tokenValiditySeconds: 3600\n"
        f"  {NS}:sites: {{www: {{domains: [!!binary aGVsbG8=]}}}}\n"
    )
    with pytest.raises(StackFileError) as caught:
        read_stack_file(path)
    assert str(caught.value).splitlines() == [
        f"Pulumi.dates.yaml: line 3: {NS}:org: is read by YAML as a date or time, not as text; "
        "fix: quote it: '2026-12-04'",
        f"Pulumi.dates.yaml: line 5: {NS}:sites.www.domains[0]: is !!binary data, which config cannot hold; "
        "fix: remove the !!binary tag (write text)",
    ]
    path.write_text(f"config:\n  {NS}:org: '2026-12-04'\n  {NS}:tokenValiditySeconds: 3600\n")
    assert read_stack_file(path).config == {f"{NS}:org": "2026-12-04", f"{NS}:tokenValiditySeconds": "3600"}


def test_a_secret_with_a_hidden_character_is_refused_without_showing_it():
    base = example_config("staging")
    config = dict(base.config)
    crm = json.loads(config[f"{NS}:crm"])
    crm["password"] = "hunter2\u200b\n"
    config[f"{NS}:crm"] = json.dumps(crm)
    with pytest.raises(SettingsError) as caught:
        parse(config, set(base.secret_keys))
    assert one(caught.value.problems, f"{NS}:crm.password").message == (
        "is a secret holding a control or format character"
    )
    assert "hunter2" not in str(caught.value) and "200B" not in str(caught.value)


def test_each_hidden_character_is_named_once_and_the_value_shown_escaped():
    problem = one(problems_for({"routing": {"queueName": "VIP\u202e\u200b\u202e"}}), f"{NS}:routing.queueName")
    assert problem.message == (
        "'VIP\\u202e\\u200b\\u202e' has control or format characters "
        "(U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH SPACE)"
    )


def test_the_domain_check_matches_whole_host_names_only():
    # The domain rule on its own, without the text check before it: `$` matches before a final newline.
    from components.settings import _semantic_problems

    site = {"languages": ["en-us"], "defaultLanguage": "en-us"}
    sites = {"www": {**site, "domains": ["www.example.com"]}, "bad": {**site, "domains": ["www.example.org\n"]}}
    problems = _semantic_problems({"sites": sites}, {}, "Pulumi.staging.yaml")
    assert [p.key for p in problems] == [f"{NS}:sites.bad.domains[0]"]


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda c: c[f"{NS}:crm"].update(email={"secure": "v1:abc:def"}), f"{NS}:crm.email"),
        (lambda c: c.update({f"{NS}:division": {"secure": "v1:abc:def"}}), f"{NS}:division"),
        (lambda c: c[f"{NS}:sites"]["www"]["domains"].append({"secure": "v1:abc:def"}), f"{NS}:sites.www.domains[2]"),
    ],
    ids=["crm-email", "division", "a-domain"],
)
def test_a_secure_value_on_a_key_that_is_not_secret_is_refused(tmp_path, edit, key):
    # Hand-written: the example (Zendesk) stack's secrets are the IdP client secret and the Zendesk API token.
    document = yaml.safe_load((EXAMPLES / "Pulumi.staging.yaml").read_text())
    edit(document["config"])
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(SettingsError) as caught:
        load_from_stack_file(read_stack_file(path))
    problem = one(caught.value.problems, key)
    assert problem.message == "is a secure: (encrypted) value, but it is not a secret setting"
    assert problem.fix.startswith(f"set it in plain text (pulumi config set --path '{key}' <value>, without --secret)")
    assert problem.fix.endswith("take --secret") and " only " in problem.fix, problem.fix
    for secret in (f"{NS}:crm.apiToken", f"{NS}:identityProvider.clientSecret"):
        assert secret in problem.fix.split(" only ", 1)[1], problem.fix
    assert key not in problem.fix.split(" only ", 1)[1], problem.fix
