"""scripts/extract_provider_api_calls.py: the provider's apis.md pages parsed strictly; the committed table's shape."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scripts.extract_provider_api_calls import DEFAULT_OUTPUT, parse_apis_md
from tests.conftest import ROOT

# The layout of examples/resources/genesyscloud_routing_queue/apis.md at provider v1.84.1, shortened.
SAMPLE = """<!-- sources
genesyscloud/routing_queue/genesyscloud_routing_queue_proxy.go
-->
* [GET /api/v2/routing/queues](https://developer.genesys.cloud/devapps/api-explorer#get-api-v2-routing-queues)
* [PUT /api/v2/routing/queues/{queueId}](https://developer.genesys.cloud/devapps/api-explorer#put-api-v2-routing-queues--queueId-)
"""


def test_parses_every_endpoint_bullet():
    assert parse_apis_md(SAMPLE, "apis.md") == ["GET /api/v2/routing/queues", "PUT /api/v2/routing/queues/{queueId}"]


@pytest.mark.parametrize("extra", ["* GET /api/v2/routing/queues", "Some prose the parser does not know"])
def test_refuses_a_line_it_does_not_understand(extra: str):
    with pytest.raises(ValueError, match=r"apis\.md: unrecognised line"):
        parse_apis_md(SAMPLE + extra + "\n", "apis.md")


def test_refuses_a_page_without_endpoints():
    with pytest.raises(ValueError, match="lists no endpoint"):
        parse_apis_md("<!-- sources\nx.go\n-->\n", "apis.md")


def test_help_runs_from_the_repository():
    result = subprocess.run(
        [sys.executable, "scripts/extract_provider_api_calls.py", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0 and "--mirror" in result.stdout, result.stderr


def test_committed_table_names_its_source_and_uses_real_endpoints():
    data = json.loads(DEFAULT_OUTPUT.read_text())
    assert data["source"]["repository"] == "MyPureCloud/terraform-provider-genesyscloud"
    assert data["source"]["commit"].startswith("f955430e")
    # Hand-checked against examples/resources/genesyscloud_oauth_client/apis.md at v1.84.1.
    assert "POST /api/v2/oauth/clients" in data["resources"]["genesyscloud_oauth_client"]
    assert "PUT /api/v2/users/{subjectId}/roles" in data["resources"]["genesyscloud_oauth_client"]
