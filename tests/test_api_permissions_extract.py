"""scripts/extract_api_permissions.py and the components/api_permissions.json it writes.

The parser is tested on a hand-written sample laid out exactly like the SDK's build/docs/*Api.md
(CI has no mirror of the SDK); the committed JSON is spot-checked against values read by hand
from the docs at the commit recorded in its header.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "extract_api_permissions.py"
COMMITTED = ROOT / "components" / "api_permissions.json"
MIRROR = ROOT.parent / ".mirror" / "MyPureCloud+platform-client-sdk-python" / "repo"

_spec = importlib.util.spec_from_file_location("extract_api_permissions", SCRIPT)
assert _spec and _spec.loader
extract = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = extract  # dataclasses look their module up there
_spec.loader.exec_module(extract)


SP = " "  # the docs end the Wraps and Requires lines with a space


def section(name: str, wraps: str, requires: str, before: str = "") -> str:
    """One endpoint section in the generator's layout (trailing spaces as in the real docs)."""
    return f"""
## {name}

> [**Thing**](Thing) {name}(thing_id)

{before}
Does something

Wraps {wraps}{SP}
{requires}
### Example

```{{"language":"python"}}
import PureCloudPlatformClientV2
api_instance = PureCloudPlatformClientV2.SampleApi()
```

### Parameters

|Name | Type | Description  | Notes|
|------------- | ------------- | ------------- | -------------|
| **thing_id** | **str**| The thing ID |  |

### Return type

[**Thing**](Thing)

"""


ANY = "\nRequires ANY permissions: \n\n* sample:thing:view\n* other:thing:view\n\n"
ALL = "\nRequires ALL permissions: \n\n* sample:thing:edit\n* sample:extra:edit\n\n"
NONE = "\nRequires no permissions\n\n\n"
DEPRECATED = (
    ':::{"alert":"warning","title":"Deprecated","collapsible":false,"autoCollapse":false}\n'
    "This resource has been deprecated\n:::\n"
)

SECTIONS = [
    ("get_sample_thing", "GET /api/v2/sample/things/{thingId}", ANY, ""),
    ("put_sample_thing", "PUT /api/v2/sample/things/{thingId}", ALL, ""),
    ("get_sample_public", "GET /api/v2/sample/public", NONE, ""),
    ("delete_sample_thing", "DELETE /api/v2/sample/things/{thingId}", "\n", ""),
    ("post_sample_old", "POST /api/v2/sample/old", ANY, DEPRECATED),
    (
        "patch_sample_new",
        "PATCH /api/v2/sample/new",
        ALL,
        "patch_sample_new is a preview method and is subject to both breaking and non-breaking changes "
        "at any time without notice\n",
    ),
]

# What the sample must parse to, written out by hand.
EXPECTED = {
    "DELETE /api/v2/sample/things/{thingId}": {"unstated": True},
    "GET /api/v2/sample/public": {"none": True},
    "GET /api/v2/sample/things/{thingId}": {"any": ["other:thing:view", "sample:thing:view"]},
    "PATCH /api/v2/sample/new": {"all": ["sample:extra:edit", "sample:thing:edit"], "preview": True},
    "POST /api/v2/sample/old": {"any": ["other:thing:view", "sample:thing:view"], "deprecated": True},
    "PUT /api/v2/sample/things/{thingId}": {"all": ["sample:extra:edit", "sample:thing:edit"]},
}


def sample_doc(sections: list[tuple[str, str, str, str]] = SECTIONS) -> str:
    table = "\n".join(f"|[**{n}**](#{n}) | Does something|" for n, *_ in sections)
    head = (
        "# SampleApi\n\n## PureCloudPlatformClientV2.SampleApi\n\n"
        "All URIs are relative to *https://api.mypurecloud.com*\n\n"
        f"|Method | Description|\n|------------- | -------------|\n{table}\n\n\n"
    )
    return head + "".join(section(*s) for s in sections) + "\n_PureCloudPlatformClientV2 257.1.0_\n"


def write_docs(tmp_path: Path, text: str) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "SampleApi.md").write_text(text)
    return docs


def test_parser_reads_any_all_none_unstated_deprecated_preview() -> None:
    endpoints = extract.parse_doc(sample_doc(), "build/docs/SampleApi.md")
    assert {ep.key: ep.entry for ep in endpoints} == EXPECTED


def test_unrecognised_line_after_wraps_fails_naming_file_and_section(tmp_path: Path, capsys) -> None:
    odd = [("get_sample_odd", "GET /api/v2/sample/odd", "\nRequires SOME permissions: \n\n* a:b:c\n\n", "")]
    docs = write_docs(tmp_path, sample_doc(SECTIONS + odd))
    code = extract.main(["--docs-dir", str(docs), "--api", "Sample", "--output", str(tmp_path / "out.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert "build/docs/SampleApi.md" in err and "get_sample_odd" in err
    assert not (tmp_path / "out.json").exists()


def test_section_missing_from_index_table_fails() -> None:
    text = sample_doc().replace("|[**get_sample_public**](#get_sample_public) | Does something|\n", "")
    with pytest.raises(extract.FormatError, match="get_sample_public"):
        extract.parse_doc(text, "build/docs/SampleApi.md")


def test_help_runs() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0
    assert "--mirror" in result.stdout and "--docs-dir" in result.stdout and "--check" in result.stdout


def test_check_passes_on_regenerated_output_and_fails_after_a_doc_change(tmp_path: Path) -> None:
    docs = write_docs(tmp_path, sample_doc())
    out = tmp_path / "api_permissions.json"
    base = [sys.executable, str(SCRIPT), "--docs-dir", str(docs), "--api", "Sample", "--output", str(out)]

    assert subprocess.run(base, capture_output=True, text=True, cwd=ROOT).returncode == 0
    data = json.loads(out.read_text())
    assert data["endpoints"] == EXPECTED
    assert data["source"]["files"] == ["build/docs/SampleApi.md"]
    assert data["source"]["commit"] is None  # a plain directory has no commit to record
    assert "--api Sample" in data["source"]["regenerate"]

    check = subprocess.run([*base, "--check"], capture_output=True, text=True, cwd=ROOT)
    assert check.returncode == 0, check.stdout + check.stderr

    write_docs(tmp_path, sample_doc().replace("* sample:extra:edit", "* sample:other:edit"))
    check = subprocess.run([*base, "--check"], capture_output=True, text=True, cwd=ROOT)
    assert check.returncode == 1
    assert len(check.stdout.strip().splitlines()) == 1 and "differs" in check.stdout
    assert json.loads(out.read_text()) == data  # --check writes nothing


# --- the committed file ---------------------------------------------------------------------


def committed() -> dict:
    return json.loads(COMMITTED.read_text())


def test_committed_header_names_its_source() -> None:
    source = committed()["source"]
    assert source["repository"] == "MyPureCloud/platform-client-sdk-python"
    assert source["commit"] == "f80f2db2c783b8d9500b54a9e7e8077e1fa87367"
    assert source["version"] == "257.1.0"
    assert source["files"] == [f"build/docs/{api}Api.md" for api in sorted(extract.DEFAULT_APIS)]
    assert source["regenerate"] == "python scripts/extract_api_permissions.py --mirror <path-to-clone>"


def test_committed_endpoints_are_well_formed_and_sorted() -> None:
    endpoints = committed()["endpoints"]
    assert len(endpoints) > 1000
    assert list(endpoints) == sorted(endpoints)
    for key, entry in endpoints.items():
        assert extract.WRAPS_RE.match(f"Wraps {key}"), key
        modes = {"any", "all", "none", "unstated"} & entry.keys()
        assert len(modes) == 1, key
        assert set(entry) - modes <= {"deprecated", "preview"}, key


# Read by hand from the SDK docs at f80f2db2 (257.1.0); the file cited is where each is stated.
SPOT_CHECKS = {
    # build/docs/WebDeploymentsApi.md, put_webdeployments_deployment_identityresolution
    "PUT /api/v2/webdeployments/deployments/{deploymentId}/identityresolution": {
        "all": ["webDeployments:deployment:edit", "webDeployments:identityResolution:edit"]
    },
    # build/docs/AuthorizationApi.md, post_authorization_roles
    "POST /api/v2/authorization/roles": {"any": ["authorization:role:add"]},
    # build/docs/ExternalContactsApi.md, put_externalcontacts_conversation
    "PUT /api/v2/externalcontacts/conversations/{conversationId}": {
        "any": ["externalContacts:conversation:associate", "relate:conversation:associate"]
    },
    # build/docs/ArchitectApi.md, post_flows_jobs
    "POST /api/v2/flows/jobs": {"all": ["architect:job:create"]},
    # build/docs/OAuthApi.md, post_oauth_clients
    "POST /api/v2/oauth/clients": {"any": ["oauth:client:add"]},
    # build/docs/AuthorizationApi.md, get_authorization_divisions ("Requires no permissions")
    "GET /api/v2/authorization/divisions": {"none": True},
    # build/docs/ArchitectApi.md, post_flows_datatable_import_jobs (Deprecated alert)
    "POST /api/v2/flows/datatables/{datatableId}/import/jobs": {
        "any": ["architect:datatable:edit", "architect:datatableRow:add"],
        "deprecated": True,
    },
    # build/docs/ArchitectApi.md, post_architect_prompt_resource_uploads (preview method)
    "POST /api/v2/architect/prompts/{promptId}/resources/{languageCode}/uploads": {
        "all": ["architect:userPrompt:edit"],
        "preview": True,
    },
}


@pytest.mark.parametrize("key", SPOT_CHECKS)
def test_committed_spot_checks(key: str) -> None:
    assert committed()["endpoints"][key] == SPOT_CHECKS[key]


@pytest.mark.skipif(not MIRROR.is_dir(), reason="no local mirror of platform-client-sdk-python")
def test_committed_file_matches_the_mirror() -> None:
    commit = committed()["source"]["commit"]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--mirror", str(MIRROR), "--commit", commit, "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
