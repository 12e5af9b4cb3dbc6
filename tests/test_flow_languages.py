"""The inbound flow speaks the sites' languages: supported = every site's languages, default = most sites' default.

Expected values are written by hand per scenario (a German shop beside an English support site); the German
stack is a hand-edited copy of the committed staging stack, planned offline and its flow run through the
strict interpreter.
"""

from __future__ import annotations

import json

import pytest
import yaml

from components.flow_template import FLOWS_DIR, flow_languages, render, supported_languages
from preflight.__main__ import main
from tests.conftest import ROOT
from tests.flow_interpreter import Scenario, run_flow
from tests.test_flow_scenarios import FOUND, SUBSTITUTIONS, signed_in

NS = "genesys-messaging"


@pytest.mark.parametrize(
    ("sites", "default", "supported"),
    [
        ([(("en-us",), "en-us")], "en-us", ("en-us",)),
        ([(("de", "en-us"), "de"), (("de",), "de"), (("en-us",), "en-us")], "de", ("de", "en-us")),
        # Sites disagree evenly: the alphabetically first default, whatever the order of the sites map.
        ([(("nl",), "nl"), (("de", "fr"), "fr")], "fr", ("de", "fr", "nl")),
        ([(("de", "fr"), "fr"), (("nl",), "nl")], "fr", ("de", "fr", "nl")),
    ],
)
def test_the_flow_languages_are_the_union_and_the_most_common_default(sites, default, supported):
    assert flow_languages(sites) == (default, supported)


@pytest.mark.parametrize("code", ["DE", "de_DE", "de-DE", 'de"', "de\n  x: 1", "deu", ""])
def test_a_code_that_is_no_language_tag_never_reaches_the_flow(code):
    with pytest.raises(ValueError):
        flow_languages([((code,), code)])
    with pytest.raises(ValueError):
        supported_languages([code])


def test_each_language_becomes_one_supported_language_of_the_rendered_flow():
    languages = {"default_language": "de", "supported_languages": supported_languages(["de", "nl"])}
    substitutions = {**SUBSTITUTIONS, **languages}
    flow = render(FLOWS_DIR / "inbound_message.yaml", substitutions).document["inboundShortMessage"]
    assert flow["defaultLanguage"] == "de"
    assert flow["supportedLanguages"] == {
        "de": {"defaultLanguageSkill": {"noValue": True}},
        "nl": {"defaultLanguageSkill": {"noValue": True}},
    }


def test_a_german_site_gives_a_german_flow_that_plans_clean_and_still_routes(capsys, tmp_path):
    document = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    document["config"][f"{NS}:sites"] = {
        "shop": {"domains": ["www.beispiel-shop.de"], "languages": ["de"], "defaultLanguage": "de"},
        "hilfe": {"domains": ["hilfe.beispiel-shop.de"], "languages": ["de", "en-us"], "defaultLanguage": "de"},
    }
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    assert main(["plan", "--config-file", str(path), "--format", "json"]) in (0, 1)
    plan = json.loads(capsys.readouterr().out)
    # No violation of the flow's own (bootstrap and placeholder findings are the scratch copy's, not the flow's).
    assert not [v for v in plan["violations"] if "flow" in v["resource"]], plan["violations"]
    (flow,) = [r for r in plan["resources"] if r["type"] == "Flow"]
    substitutions = flow["inputs"]["substitutions"]
    assert substitutions["default_language"] == "de"
    rendered = render(FLOWS_DIR / "inbound_message.yaml", {**SUBSTITUTIONS, **_languages(substitutions)}).document
    assert rendered["inboundShortMessage"]["defaultLanguage"] == "de"
    assert set(rendered["inboundShortMessage"]["supportedLanguages"]) == {"de", "en-us"}
    result = run_flow(rendered, Scenario(builtins=signed_in(), data_actions=FOUND, participant_data={"site": "shop"}))
    assert result.route == ("queue", SUBSTITUTIONS["queue_name"]), result.route


def _languages(substitutions: dict[str, str]) -> dict[str, str]:
    return {key: substitutions[key] for key in ("default_language", "supported_languages")}
