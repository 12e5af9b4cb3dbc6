"""Runs a declared data action (an IntegrationAction's inputs in the planned estate) against a loopback fake,
the way Genesys' data-action service is documented to:

- the URL, headers and body are Velocity templates (help.mypurecloud.com "Velocity macros for data
  actions": `${input.x}`, `$esc.jsonString`, `$esc.uriEncode`, `$esc.url`), rendered with airspeed;
  `authResponse` is the custom auth action's answer ("How to use the User Defined (OAuth) credential type");
- an answer other than 2xx ends on the failure path with its status;
- the translation map is JSONPath (jsonpath-ng), each value JSON-encoded into the success template, a
  missing path taking its `translationMapDefaults` JSON literal ("fallback values if JSON path extraction
  fails", ResponseConfig, platform SDK 257.1.0) or failing the action;
- the output must match the output contract (types only).

What the runner cannot know is marked: the `status` Genesys reports when extraction fails or the output
breaks the contract (here `None`, UNVERIFIED), and whether Genesys retries a 429 (it does not here).
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import airspeed
import httpx
from jsonpath_ng import parse as jsonpath


class Esc:
    """The `$esc` tool of Genesys' Velocity (the escaping library the macros page lists)."""

    def jsonString(self, value: Any) -> str:
        return json.dumps(str(value))[1:-1]

    def uriEncode(self, value: Any) -> str:
        return urllib.parse.quote(str(value), safe="")

    def url(self, value: Any) -> str:
        return urllib.parse.quote_plus(str(value))


@dataclass
class Outcome:
    """What the flow's callData would see: success with outputs, failure with a status, or timeout."""

    path: str
    outputs: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    request: httpx.Request | None = None


def render(template: str, context: dict[str, Any]) -> str:
    return airspeed.Template(template).merge(context)


def _contract_errors(outputs: Any, contract: dict[str, Any]) -> list[str]:
    if not isinstance(outputs, dict):
        return ["output is not an object"]
    kinds = {"string": str, "integer": int, "boolean": bool, "number": (int, float)}
    return [
        f"{key} is {type(outputs.get(key)).__name__}"
        for key, spec in contract["properties"].items()
        if key in outputs and not isinstance(outputs[key], kinds[spec["type"]])
    ]


def run_action(
    action: dict[str, Any],
    inputs: dict[str, str],
    *,
    host: str,
    fake_url: str,
    basic_auth: tuple[str, str] | None = None,
    auth_response: dict[str, Any] | None = None,
    timeout: float = 10.0,
    credentials: dict[str, str] | None = None,
) -> Outcome:
    """Run one action's declared config (estate inputs, wire names) with `inputs`; `host` is the only host
    its URL may name, and the request goes to `fake_url` instead."""
    request, response = action["configRequest"], action["configResponse"]
    context = {"input": inputs, "esc": Esc(), "authResponse": auth_response or {}, "credentials": credentials or {}}
    url = render(request["requestUrlTemplate"], context)
    parts = urllib.parse.urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", host), f"{url} leaves https://{host}"
    target = fake_url + urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))
    headers = {name: render(value, context) for name, value in (request.get("headers") or {}).items()}
    if basic_auth:
        token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    body = render(request["requestTemplate"], context) if request.get("requestTemplate") else None
    sent = httpx.Request(request["requestType"], target, headers=headers, content=body)
    try:
        answer = httpx.Client(timeout=timeout).send(sent)
    except httpx.TimeoutException:
        return Outcome("timeout", request=sent)
    if not 200 <= answer.status_code < 300:
        return Outcome("failure", status=answer.status_code, request=sent)
    document = answer.json() if answer.content else {}
    values: dict[str, str] = {}
    defaults = response.get("translationMapDefaults") or {}
    for key, path in (response.get("translationMap") or {}).items():
        found = jsonpath(path).find(document)
        if found and found[0].value is not None:
            values[key] = json.dumps(found[0].value)
        elif key in defaults:
            values[key] = defaults[key]
        else:
            return Outcome("failure", status=None, request=sent)  # UNVERIFIED: the status Genesys reports
    rendered = render(response["successTemplate"], {**values, "esc": Esc(), "rawResult": answer.text})
    try:
        outputs = json.loads(rendered)
    except ValueError:
        return Outcome("failure", status=None, request=sent)
    if _contract_errors(outputs, json.loads(action["contractOutput"])):
        return Outcome("failure", status=None, request=sent)
    return Outcome("success", outputs=outputs, request=sent)
