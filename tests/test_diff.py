"""python -m preflight diff: resource-by-resource differences between two stacks' plans."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from components.stack_file import read_stack_file
from preflight import stacks
from preflight.__main__ import main
from preflight.inprocess import is_secret_value, reveal
from tests.conftest import EXAMPLES, sentinel

# Each test reads what the program declares; it never changes the program (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cached_runs")

FORMATS = ("text", "markdown", "json")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def example_stacks(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """`staging` and `prod` name the example stacks (known values), unless a test is about the committed ones."""
    if request.node.get_closest_marker("committed"):
        return
    resolve = stacks.resolve
    monkeypatch.setattr(stacks, "resolve", lambda ref, root=None: resolve(ref, EXAMPLES))


def altered_stack(tmp_path: Path, edit: Callable[[dict], None], stack: str = "prod") -> str:
    """A copy of an example stack file with its config edited, as Pulumi.<stack>.yaml under tmp_path."""
    document = yaml.safe_load((EXAMPLES / f"Pulumi.{stack}.yaml").read_text())
    edit(document["config"])
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def distinct_sentinels(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Reveal each stack's secrets as sentinels that differ per stack, so a leak would show as a change."""

    def read(path: Path):
        return read_stack_file(path, reveal=lambda key: sentinel(f"{path.name}-{key}"))

    monkeypatch.setattr(stacks, "read_stack_file", read)
    return read


def test_staging_to_prod_shows_the_environment_differences(capsys):
    code, out, err = cli(capsys, "diff", "staging", "prod")
    assert code == 0, err
    assert '["www.staging.example.com", "example-staging.netlify.app"] -> ["www.example.com", "example.com"]' in out
    assert "login.staging.example.com/.well-known/openid-configuration" in out
    assert "login.example.com/.well-known/openid-configuration" in out
    assert "example-sandbox.zendesk.com/api/v2/users/search" in out
    assert "option protect: false -> true" in out


def test_names_are_compared_without_the_prefix(capsys):
    code, out, _ = cli(capsys, "diff", "staging", "prod", "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert document["from"] == {"stack": "staging", "namePrefix": "stg-"}
    assert document["summary"]["added"] == document["summary"]["removed"] == 0
    paths = {c["path"] for r in document["resources"] for c in r["inputs"]}
    assert not {p for p in paths if p == "name" or p.endswith((".name", "Name", "category"))}, paths
    for fmt in FORMATS:
        _, out, _ = cli(capsys, "diff", "staging", "prod", "--format", fmt)
        assert "stg-" not in out.replace("'stg-'", "").replace('"stg-"', ""), fmt


def test_changed_inputs_are_listed_by_dotted_path_with_before_and_after(capsys):
    _, out, _ = cli(capsys, "diff", "staging", "prod", "--format", "json")
    resources = {r["name"]: r for r in json.loads(out)["resources"]}
    (change,) = resources["crm-external-source"]["inputs"]
    assert change == {
        "path": "linkConfiguration.uriTemplate",
        "kind": "changed",
        "before": "https://example-sandbox.zendesk.com/agent/search/1?type=user&q=external_id%3A{{externalId.value}}",
        "after": "https://example.zendesk.com/agent/search/1?type=user&q=external_id%3A{{externalId.value}}",
    }
    assert {"path": "protect", "kind": "changed", "before": False, "after": True} in resources["site-www-deployment"][
        "options"
    ]


def test_a_stack_against_itself_has_no_differences(capsys):
    code, out, _ = cli(capsys, "diff", "prod", "prod", "--format", "json")
    assert code == 0
    assert json.loads(out)["resources"] == []


def test_an_extra_site_shows_as_added_resources(capsys, tmp_path):
    def add_site(config):
        config["genesys-messaging:sites"]["blog"] = {
            "domains": ["blog.example.com"],
            "languages": ["en-us"],
            "defaultLanguage": "en-us",
        }

    code, out, _ = cli(capsys, "diff", "prod", altered_stack(tmp_path, add_site))
    assert code == 0
    assert "+ WebdeploymentsDeployment site-blog-deployment" in out
    assert '    allowedDomains: ["blog.example.com"]' in out
    assert "+ WebdeploymentsConfiguration site-blog-configuration" in out
    assert "- " not in out.split("\n", 2)[2]


def test_markdown_is_a_table_with_one_column_per_stack(capsys):
    code, out, _ = cli(capsys, "diff", "staging", "prod", "--format", "markdown")
    assert code == 0
    assert "| | Resource | Type | Input | staging | prod |" in out
    assert "| ~ | `site-www-deployment` | `WebdeploymentsDeployment` | `allowedDomains` |" in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_secrets_never_appear(capsys, monkeypatch, fmt):
    read = distinct_sentinels(monkeypatch)
    # The sentinels do reach the declared inputs, wrapped as secrets; the diff must not show them.
    staging = stacks.run_program(read(EXAMPLES / "Pulumi.staging.yaml"))
    credentials = [r.inputs["fields"] for r in staging.of_type(":IntegrationCredential")]
    assert all(is_secret_value(f) for f in credentials)
    assert "sentinel-secret-" in json.dumps(reveal(credentials))
    code, out, err = cli(capsys, "diff", "staging", "prod", "--format", fmt)
    assert code == 0
    assert "sentinel-secret" not in out + err


def test_unknown_stack_is_a_usage_error(capsys):
    code, out, err = cli(capsys, "diff", "staging", "nosuchstack")
    assert (code, out) == (2, "")
    assert "unknown stack 'nosuchstack'" in err
    assert "prod, staging" in err


def test_unreadable_stack_file_is_a_usage_error(capsys, tmp_path):
    code, _, err = cli(capsys, "diff", str(tmp_path / "Pulumi.gone.yaml"), "prod")
    assert code == 2
    assert "cannot read the stack file" in err


def test_missing_argument_is_a_usage_error(capsys):
    assert cli(capsys, "diff", "staging")[0] == 2


def test_invalid_settings_exit_1_with_the_problems(capsys, tmp_path):
    def break_it(config):
        config["genesys-messaging:region"] = "eu-west-9"
        config["genesys-messaging:tokenValiditySeconds"] = 5

    code, out, err = cli(capsys, "diff", "staging", altered_stack(tmp_path, break_it))
    assert (code, out) == (1, "")
    assert "genesys-messaging:region: unknown region 'eu-west-9'" in err
    assert "genesys-messaging:tokenValiditySeconds" in err
