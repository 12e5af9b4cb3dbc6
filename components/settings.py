"""Stack settings loader: read once from the stack's config, validated, frozen into settings_model.

The values themselves (`Settings`, `Site`, `SecretText`...) live in components/settings_model.py,
which the components import. This module is for the program's entry (`__main__.py`) and `preflight`.

One front end serves every caller: the config map Pulumi hands the program (`PULUMI_CONFIG` and
its secret keys). `preflight` and the tests build that same map from a stack file, so a value is
checked the same way whether `pulumi up` or `python -m preflight plan` reads it.

Every problem is collected (not only the first) and reported with the stack file, the key, what is
wrong and how to fix it. Secrets stay wrapped in `SecretText` and never reach a message.
"""

from __future__ import annotations

import difflib
import json
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components import yaml_loading
from components.errors import InvalidConfiguration
from components.regions import regions
from components.schema_check import proven_valid
from components.settings_model import (
    NAMESPACE,
    PROJECT_ROOT,
    Crm,
    CustomCrm,
    CustomRequest,
    IdentityProvider,
    SalesforceCrm,
    SecretText,
    Settings,
    Site,
    ZendeskCrm,
)
from components.settings_text import hidden_text_problems
from components.stack_file import StackConfig
from components.visible_text import printable

if TYPE_CHECKING:
    import jsonschema

PROJECT_FILE = PROJECT_ROOT / "Pulumi.yaml"
SCHEMA_FILE = Path(__file__).with_name("settings.schema.json")
ENVIRONMENTS = ("staging", "prod")
# Config namespaces a stack file may hold besides ours.
PROVIDER_NAMESPACE = "genesyscloud"
ENGINE_NAMESPACE = "pulumi"
# Whole host names only (fullmatch, \Z): `$` would also match before a final newline.
_DOMAIN = re.compile(r"(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


@dataclass(frozen=True)
class Problem:
    """One invalid setting: where it is, what is wrong, how to fix it."""

    source: str
    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.message}\n    fix: {self.fix}"


class SettingsError(InvalidConfiguration):
    """The stack settings are invalid; `problems` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"invalid stack settings ({count}):\n" + "\n".join(f"  - {p}" for p in problems))


@cache
def project_config_declarations() -> dict[str, dict[str, Any]]:
    """The `config:` block of Pulumi.yaml: declared keys, their types and defaults."""
    return yaml_loading.safe_load(PROJECT_FILE.read_text())["config"]


@cache
def settings_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


# The token lifetimes Genesys documents for client-credentials clients, 300..172800 s (5 min..48 h;
# help.mypurecloud.com/articles/create-an-oauth-client/), stated once, in the schema (tokenValiditySeconds).
# Bootstrap's org settings (components/org_settings.py) check the deployer's lifetime against the same range.
_TOKEN_SCHEMA = settings_schema()["properties"]["tokenValiditySeconds"]
TOKEN_VALIDITY_RANGE = range(_TOKEN_SCHEMA["minimum"], _TOKEN_SCHEMA["maximum"] + 1)


def secret_paths(schema: Mapping[str, Any] | None = None, prefix: str = "") -> Iterator[str]:
    """Dotted paths of every value the schema marks `x-secret` (e.g. `crm.password`), in every
    preset of an object chosen by `allOf` / `if` / `then` (crm.kind), each path once."""
    seen: set[str] = set()
    for path in _secret_paths(settings_schema() if schema is None else schema, prefix):
        if path not in seen:
            seen.add(path)
            yield path


def _secret_paths(schema: Mapping[str, Any], prefix: str) -> Iterator[str]:
    if "$ref" in schema:
        schema = settings_schema()["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        if sub.get("x-secret"):
            yield path
        yield from _secret_paths(sub, path + ".")
    for branch in schema.get("allOf", []):
        yield from _secret_paths(branch.get("then", {}), prefix)


# --- reading the config map -------------------------------------------------------------------


def _decode(key: str, value: Any) -> Any:
    """Config values arrive as strings; decode integers and objects the way Pulumi's SDK does."""
    if not isinstance(value, str):
        return value
    declared = project_config_declarations().get(key, {}).get("type")
    if declared == "string":
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _wrap_secrets(values: dict[str, Any], secret_keys: set[str], encrypted: frozenset[str] | None) -> None:
    """Wrap the x-secret leaves that were encrypted; a plain leaf stays a plain str (and is refused).

    Pulumi marks secrecy per top-level key only, so a key holding one encrypted value marks all of
    it. Where the stack file was read (`encrypted`: the dotted paths of its `secure:` values), each
    secret leaf must be encrypted itself.
    """
    for path in secret_paths():
        top, *rest = path.split(".")
        if top not in secret_keys or top not in values:
            continue
        if encrypted is not None and f"{NAMESPACE}:{path}" not in encrypted:
            continue
        node = values
        for part in [top, *rest][:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        leaf = path.rsplit(".", 1)[-1] if rest else top
        if isinstance(node, dict) and isinstance(node.get(leaf), str):
            node[leaf] = SecretText(node[leaf])


def _encrypted_plain_problems(encrypted: frozenset[str] | None, source: str) -> list[Problem]:
    """A `secure:` value where the schema marks no secret (x-secret): the program reads it as plain text, and the
    plan shows only [secret] where a reviewer should read the value."""
    if encrypted is None:
        return []
    secret = {f"{NAMESPACE}:{path}" for path in secret_paths()}
    names = ", ".join(sorted(secret))
    return [
        Problem(
            source,
            printable(path),
            "is a secure: (encrypted) value, but it is not a secret setting",
            f"set it in plain text (pulumi config set --path '{printable(path)}' <value>, without --secret); "
            f"only {names} take --secret",
        )
        for path in sorted(encrypted)
        if path.startswith(NAMESPACE + ":") and path not in secret
    ]


def parse_settings(
    config: Mapping[str, Any],
    secret_keys: set[str],
    *,
    project: str,
    stack: str,
    source: str,
    encrypted: frozenset[str] | None = None,
) -> Settings:
    """Validate a Pulumi config map (`namespace:key` -> value) into Settings, or raise SettingsError.

    `encrypted`, when the stack file itself was read, lists the dotted paths of its `secure:` values.
    """
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    prefix = NAMESPACE + ":"
    for full_key, value in config.items():
        namespace, _, key = full_key.partition(":")
        if full_key.startswith(prefix):
            values[key] = _decode(key, value)
        elif namespace not in (PROVIDER_NAMESPACE, ENGINE_NAMESPACE):
            problems.append(
                Problem(source, full_key, "is not a key of this project", f"remove it, or use {prefix}<key>")
            )
    secret_top_keys = {k.removeprefix(prefix) for k in secret_keys if k.startswith(prefix)}
    _wrap_secrets(values, secret_top_keys, encrypted)
    problems += [Problem(source, *found) for found in hidden_text_problems(values)]
    problems += _encrypted_plain_problems(encrypted, source)
    for key, declaration in project_config_declarations().items():
        if key not in values and "default" in declaration:
            values[key] = declaration["default"]
    if isinstance(values.get("crm"), dict) and "kind" not in values["crm"]:
        # A stack written before presets existed keeps its own API (the project's original behaviour).
        values["crm"] = {"kind": "custom", **values["crm"]}
        problems += _unset_kind_problems(values["crm"], source)
    problems += _schema_problems(values, source)
    problems += _semantic_problems(values, config, source)
    environment = values.get("environment")
    # A stack named after an environment must be that environment: `prod` saying `staging` turns
    # protection and the strict rules off for the customer-facing estate.
    if stack in ENVIRONMENTS and isinstance(environment, str) and environment != stack:
        problems.append(
            Problem(
                source,
                f"{NAMESPACE}:environment",
                f"is {environment!r} in the stack named {stack!r}",
                f"pulumi config set {NAMESPACE}:environment {stack} --stack {stack}",
            )
        )
    if problems:
        raise SettingsError(problems)
    return _freeze(values, project=project, stack=stack, source=source)


def _redacted(value: Any) -> Any:
    """The value as JSON Schema sees it: secrets replaced by a stand-in string."""
    if isinstance(value, SecretText):
        return "***"
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _key_name(path: list[Any]) -> str:
    key = NAMESPACE + ":"
    for i, part in enumerate(path):
        key += f"[{part}]" if isinstance(part, int) else (part if i == 0 else f".{part}")
    return key


def _fix_for(error: jsonschema.ValidationError, default: str) -> str:
    return error.schema.get("x-fix", default) if isinstance(error.schema, dict) else default


def _describe(error: jsonschema.ValidationError) -> str:
    """What is wrong, in words a stack owner reads (the value itself is never a secret here)."""
    instance, expected = error.instance, error.validator_value
    match error.validator:
        case "type":
            return f"must be of type {expected}, got {type(instance).__name__}"
        case "enum":
            return f"{instance!r} is not one of {', '.join(map(repr, expected))}"
        case "minimum":
            return f"{instance} is below the minimum {expected}"
        case "maximum":
            return f"{instance} is above the maximum {expected}"
        case "minProperties" | "minItems" | "minLength":
            return "is empty"
        case "uniqueItems":
            return "has duplicate entries"
        case "pattern":
            return f"{instance!r} is not in the expected form"
    return error.message


def _schema_problems(values: dict[str, Any], source: str) -> list[Problem]:
    schema, document = settings_schema(), _redacted(values)
    if proven_valid(document, schema):
        return []
    import jsonschema  # only for settings the quick check could not prove valid: it finds and words every problem

    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        key = _key_name(path) if path else NAMESPACE
        if error.validator == "additionalProperties":
            allowed = list(error.schema.get("properties", {}))
            for unknown in sorted(set(error.instance) - set(allowed)):
                guess = difflib.get_close_matches(unknown, allowed, n=1)
                hint = f"did you mean '{guess[0]}'?" if guess else f"known keys: {', '.join(allowed)}"
                problems.append(
                    Problem(
                        source, _key_name([*path, unknown]), f"unknown key; {hint}", f"rename or remove '{unknown}'"
                    )
                )
        elif error.validator == "required":
            missing = error.message.split("'")[1]
            sub = error.schema.get("properties", {}).get(missing, {})
            fix = sub.get("x-fix", f"set {_key_name([*path, missing])}")
            problems.append(Problem(source, _key_name([*path, missing]), "is required but missing", fix))
        elif error.validator == "propertyNames":
            problems.append(
                Problem(source, key, f"site key '{error.instance}' is not a valid name", _fix_for(error, "rename it"))
            )
        else:
            what = _describe(error)
            problems.append(Problem(source, key, what, _fix_for(error, "see components/settings.schema.json")))
    return problems


def _semantic_problems(values: dict[str, Any], config: Mapping[str, Any], source: str) -> list[Problem]:
    """Rules JSON Schema cannot state well: region table, domains, languages, secrets, provider keys."""
    problems = []
    region = values.get("region")
    if isinstance(region, str) and region not in regions():
        guess = difflib.get_close_matches(region, list(regions()), n=1)
        hint = f" (did you mean {guess[0]}?)" if guess else ""
        problems.append(
            Problem(
                source,
                f"{NAMESPACE}:region",
                f"unknown region {region!r}{hint}",
                f"use one of: {', '.join(sorted(regions()))}",
            )
        )
    sites = values.get("sites") if isinstance(values.get("sites"), dict) else {}
    site_schema = settings_schema()["properties"]["sites"]["additionalProperties"]
    domain_fix = site_schema["properties"]["domains"]["items"]["x-fix"]
    for site_key, site in sites.items():
        if not isinstance(site, dict):
            continue
        domains = site.get("domains") if isinstance(site.get("domains"), list) else []
        for i, domain in enumerate(domains):
            if isinstance(domain, str) and not _DOMAIN.fullmatch(domain):
                kind = "has a scheme" if "://" in domain else "has a path" if "/" in domain else "is not a host name"
                problems.append(
                    Problem(
                        source,
                        _key_name(["sites", site_key, "domains", i]),
                        f"{domain!r} {kind}",
                        domain_fix,
                    )
                )
        languages, default = site.get("languages"), site.get("defaultLanguage")
        if isinstance(languages, list) and isinstance(default, str) and default not in languages:
            problems.append(
                Problem(
                    source,
                    _key_name(["sites", site_key, "defaultLanguage"]),
                    f"{default!r} is not among the site's languages {languages}",
                    f"add {default!r} to sites.{site_key}.languages or pick one of them",
                )
            )
    problems += _duplicate_domain_problems(sites, source)
    problems += _substituted_value_problems(values, source)
    problems += _session_upgrade_problems(values, source)
    problems += crm_problems(values.get("crm"), source)
    for path in secret_paths():
        node: Any = values
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str):
            problems.append(
                Problem(
                    source,
                    f"{NAMESPACE}:{path}",
                    "is a secret but is stored in plain text",
                    f"pulumi config set --secret --path '{NAMESPACE}:{path}' <value>  (and delete the plain entry)",
                )
            )
    for full_key, value in config.items():
        if not full_key.startswith(PROVIDER_NAMESPACE + ":"):
            continue
        key = full_key.partition(":")[2]
        if key == "awsRegion" and str(value).lower() == str(region).lower():
            continue
        if key == "awsRegion":
            message = f"says {value!r} but {NAMESPACE}:region says {region!r}"
        else:
            message = "is ignored: this project configures its own explicit provider from the stack settings"
        problems.append(
            Problem(
                source,
                full_key,
                message,
                f"remove it (pulumi config rm {full_key}); the region comes from {NAMESPACE}:region, "
                "credentials from GENESYSCLOUD_OAUTHCLIENT_ID / GENESYSCLOUD_OAUTHCLIENT_SECRET",
            )
        )
    return problems


def _session_upgrade_problems(values: dict[str, Any], source: str) -> list[Problem]:
    """Session upgrade with profile linking: no documented mechanism runs the flow again after a sign-in
    (docs/how-it-works.md "What links a conversation to the customer"), so an upgraded conversation stays unlinked."""
    idp = values.get("identityProvider")
    if not isinstance(idp, dict) or idp.get("allowSessionUpgrade") is not True:
        return []
    return [
        Problem(
            source,
            f"{NAMESPACE}:identityProvider.allowSessionUpgrade",
            "is true, but the inbound flow links a conversation to the customer's profile only for a customer "
            "signed in at the first message; one who signs in later would stay unidentified on that conversation",
            "set it to false, so customers sign in before they write (the choice: session upgrade, or every "
            "signed-in conversation on the customer's profile)",
        )
    ]


def _duplicate_domain_problems(sites: dict[str, Any], source: str) -> list[Problem]:
    """One domain, one site: the same host under two deployments leaves which one it loads to chance."""
    problems, owner = [], {}
    for site_key, site in sites.items():
        domains = site.get("domains") if isinstance(site, dict) and isinstance(site.get("domains"), list) else []
        for i, domain in enumerate(domains):
            if not isinstance(domain, str):
                continue
            if domain in owner and owner[domain] != site_key:
                problems.append(
                    Problem(
                        source,
                        _key_name(["sites", site_key, "domains", i]),
                        f"{domain!r} is also a domain of site {owner[domain]!r}: two deployments would accept it",
                        f"keep {domain!r} under one site",
                    )
                )
            owner.setdefault(domain, site_key)
    return problems


# Values the program substitutes into the Architect YAML (inside "...") and into data-action URL templates
# (Velocity): a quote, backslash, brace, `$`, `#` or control character there would change the flow's or the
# request's meaning (a `${input.x}` host would send the CRM credential where a caller says).
_UNSAFE_IN_TEMPLATES = re.compile(r'["\\{}$#\x00-\x1f\x7f]')
_SUBSTITUTED_NAMES = {"division": "Home", "routing.queueName": "Web Messaging Support"}
_URL_SETTINGS = ("identityProvider.discoveryUri", "crm.baseUrl", "crm.contactUrlTemplate")
"""Checked for credentials, host and template characters when set (crm.baseUrl only in the custom preset)."""
_CONTACT_PLACEHOLDER = "{{externalId.value}}"


def _setting(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _substituted_value_problems(values: dict[str, Any], source: str) -> list[Problem]:
    problems = []
    for dotted, example in _SUBSTITUTED_NAMES.items():
        value = _setting(values, dotted)
        if not isinstance(value, str):
            continue
        if value.strip() == "*":
            message = "is '*', which Genesys reads as all divisions, not a division's name"
        elif _UNSAFE_IN_TEMPLATES.search(value):
            message = f"{value!r} has a character that would change the flow it is substituted into"
        else:
            continue
        fix = f'use a plain name without " \\ {{ }} $ # or control characters, e.g. {example}'
        problems.append(Problem(source, f"{NAMESPACE}:{dotted}", message, fix))
    for dotted in _URL_SETTINGS:
        value = _setting(values, dotted)
        if isinstance(value, str):
            problems += _url_problems(dotted, value, source)
    return problems


def _url_problems(dotted: str, url: str, source: str) -> list[Problem]:
    """A URL setting: no credentials in it, a real host name, and nothing Velocity or YAML would read."""
    key = f"{NAMESPACE}:{dotted}"
    parts = urllib.parse.urlsplit(url.replace(_CONTACT_PLACEHOLDER, "x"))
    if parts.username is not None or parts.password is not None:
        return [
            Problem(
                source,
                key,
                "has a user name or password in the URL, where every plan and log would show it",
                f"remove it from the URL; set {NAMESPACE}:crm.username, and the password with "
                f"pulumi config set --secret --path '{NAMESPACE}:crm.password' <value>",
            )
        ]
    host = parts.hostname or ""
    if not _DOMAIN.fullmatch(host) or (parts.port is not None and parts.port != 443):
        return [Problem(source, key, f"host {parts.netloc!r} is not a plain https host name", "use https://<host>/...")]
    if _UNSAFE_IN_TEMPLATES.search(url.replace(_CONTACT_PLACEHOLDER, "x")):
        return [
            Problem(
                source,
                key,
                "has a character ($ { } # \" \\ or a control character) that the data action's template would read",
                "percent-encode it, or remove it",
            )
        ]
    return []


def _freeze(values: dict[str, Any], *, project: str, stack: str, source: str) -> Settings:
    idp, crm = values["identityProvider"], values["crm"]
    return Settings(
        project=project,
        stack=stack,
        source=source,
        region=regions()[values["region"]],
        environment=values["environment"],
        division=values["division"],
        name_prefix=values["namePrefix"],
        org=values["org"],
        token_validity_seconds=values["tokenValiditySeconds"],
        oidc_integration_type=values["oidcIntegrationType"],
        flow_error_handling=values["flowErrorHandling"],
        sites=tuple(
            Site(key, tuple(s["domains"]), tuple(s["languages"]), s["defaultLanguage"])
            for key, s in sorted(values["sites"].items())
        ),
        identity_provider=IdentityProvider(
            discovery_uri=idp["discoveryUri"],
            client_id=idp["clientId"],
            client_secret=idp["clientSecret"],
            allow_session_upgrade=idp.get("allowSessionUpgrade", False),
        ),
        crm=freeze_crm(crm),
        queue_name=values["routing"]["queueName"],
        raw=values,
    )


# --- crm: the ticketing system preset (crm.kind) ------------------------------------------------

# Where each preset's data actions and agents' links may go: the host comes from the preset's own
# settings, so no other host is possible (docs/ticketing.md).
_CONTACT_HOSTS = {
    "zendesk": lambda crm: {f"{crm.get('subdomain')}.zendesk.com"},
    "salesforce": lambda crm: {
        f"{crm.get('instance')}.lightning.force.com",
        f"{crm.get('instance')}.my.salesforce.com",
    },
}
# The contract inputs each custom request may place in its path and body (components/data_actions/crm/).
_CUSTOM_INPUTS = {"lookup": ("externalId",), "ticket": ("conversationId", "externalId", "site")}
_PLACEHOLDER = re.compile(r"\{([A-Za-z]+)\}")
_BODY_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_VELOCITY_CHARACTERS = re.compile(r"[$#\\{}\x00-\x1f\x7f]")


def crm_defaults(kind: str) -> dict[str, Any]:
    """A preset's defaults as settings.schema.json states them (`default` of each key)."""
    properties = settings_schema()["$defs"][f"crm_{kind}"]["properties"]
    return {key: sub["default"] for key, sub in properties.items() if "default" in sub}


def default_contact_url(crm: Mapping[str, Any]) -> str:
    """The agents' link when crm.contactUrlTemplate is not set: the preset's `x-default` in the schema, a
    search for the external id on the preset's host (docs/ticketing.md: unverified as a stable
    URL; set your own)."""
    template = settings_schema()["$defs"][f"crm_{crm['kind']}"]["properties"]["contactUrlTemplate"]["x-default"]
    return re.sub(r"(?<!\{)\{(subdomain|instance)\}(?!\})", lambda m: crm[m.group(1)], template)


def _unset_kind_problems(crm: dict[str, Any], source: str) -> list[Problem]:
    """Keys of another preset in a crm without `kind`: say which kind they belong to."""
    custom = set(settings_schema()["$defs"]["crm_custom"]["properties"])
    for kind in ("zendesk", "salesforce"):
        own = set(settings_schema()["$defs"][f"crm_{kind}"]["properties"]) - custom
        if own & set(crm):
            return [
                Problem(
                    source,
                    f"{NAMESPACE}:crm.kind",
                    f"is not set, so the custom preset applies, but {', '.join(sorted(own & set(crm)))} "
                    f"belong to the {kind} preset",
                    f"pulumi config set --path '{NAMESPACE}:crm.kind' {kind}",
                )
            ]
    return []


def crm_problems(crm: Any, source: str) -> list[Problem]:
    """What JSON Schema cannot say about crm: the link's host and placeholder, custom templates."""
    if not isinstance(crm, dict):
        return []
    problems = []
    kind = crm.get("kind")
    link = crm.get("contactUrlTemplate")
    if isinstance(link, str):
        problems += _contact_link_problems(kind, crm, link, source)
    if kind == "custom":
        for part in ("lookup", "ticket"):
            request = crm.get(part)
            if isinstance(request, dict):
                problems += _custom_request_problems(part, request, source)
    return problems


def _contact_link_problems(kind: Any, crm: dict[str, Any], link: str, source: str) -> list[Problem]:
    key = f"{NAMESPACE}:crm.contactUrlTemplate"
    authority = link.removeprefix("https://").split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if _CONTACT_PLACEHOLDER in authority or "{" in authority:
        return [
            Problem(
                source,
                key,
                "has {{externalId.value}} in the host, where a customer's id would choose the site agents open",
                "put {{externalId.value}} in the path or query, e.g. https://crm.example.com/contacts/{{externalId.value}}",
            )
        ]
    if kind in _CONTACT_HOSTS and isinstance(crm.get("subdomain" if kind == "zendesk" else "instance"), str):
        hosts = _CONTACT_HOSTS[kind](crm)
        if authority.lower() not in hosts:
            return [
                Problem(
                    source,
                    key,
                    f"host {authority!r} is not the {kind} host of this stack ({', '.join(sorted(hosts))})",
                    f"use https://{sorted(hosts)[0]}/... or remove the key for the preset's default link",
                )
            ]
    return []


def _custom_request_problems(part: str, request: dict[str, Any], source: str) -> list[Problem]:
    allowed = _CUSTOM_INPUTS[part]
    problems = []
    path = request.get("path")
    if isinstance(path, str):
        unknown = ", ".join(sorted({"{" + n + "}" for n in _PLACEHOLDER.findall(path) if n not in allowed}))
        if unknown:
            problems.append(
                Problem(
                    source,
                    f"{NAMESPACE}:crm.{part}.path",
                    f"names {unknown}, which the {part} action has no input for",
                    f"use only {', '.join('{' + name + '}' for name in allowed)}",
                )
            )
    method = request.get("method")
    if part == "lookup" and method in (None, "GET") and "body" in request:
        problems.append(
            Problem(
                source,
                f"{NAMESPACE}:crm.lookup.body",
                "is set but the lookup is a GET, which sends no body",
                "remove crm.lookup.body, or set crm.lookup.method: POST",
            )
        )
    if part == "lookup" and method == "POST" and "body" not in request:
        problems.append(
            Problem(source, f"{NAMESPACE}:crm.lookup.body", "is required for a POST lookup", _body_fix(allowed))
        )
    if "body" in request:
        problems += _body_problems(f"crm.{part}.body", request["body"], allowed, source)
    return problems


def _body_fix(allowed: tuple[str, ...]) -> str:
    return (
        "use a YAML object whose strings are plain text or hold "
        + ", ".join("{" + name + "}" for name in allowed)
        + " (no $ # \\ or other braces: they are Velocity), e.g. {externalId: '{externalId}'}"
    )


def _body_problems(dotted: str, value: Any, allowed: tuple[str, ...], source: str) -> list[Problem]:
    """Every string in a custom body is text or a known {placeholder}: never Velocity of its own."""
    problems = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not _BODY_KEY.match(str(key)):
                problems.append(
                    Problem(
                        source, f"{NAMESPACE}:{dotted}", f"key {key!r} is not a plain JSON name", _body_fix(allowed)
                    )
                )
            problems += _body_problems(f"{dotted}.{key}", item, allowed, source)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems += _body_problems(f"{dotted}[{i}]", item, allowed, source)
    elif isinstance(value, str):
        text = _PLACEHOLDER.sub(lambda m: "" if m.group(1) in allowed else m.group(0), value)
        if _VELOCITY_CHARACTERS.search(text):
            problems.append(
                Problem(
                    source,
                    f"{NAMESPACE}:{dotted}",
                    f"{value!r} has $ # \\ a brace or a placeholder other than {', '.join(allowed)}",
                    _body_fix(allowed),
                )
            )
    elif not (value is None or isinstance(value, bool | int | float)):
        problems.append(Problem(source, f"{NAMESPACE}:{dotted}", "is not a JSON value", _body_fix(allowed)))
    return problems


def freeze_crm(crm: Mapping[str, Any]) -> Crm:
    """The validated crm object as the preset's settings_model value, defaults from the schema."""
    kind = crm["kind"]
    values = {**crm_defaults(kind), **crm}
    link = values.get("contactUrlTemplate") or (default_contact_url(values) if kind != "custom" else "")
    if kind == "zendesk":
        return ZendeskCrm(
            subdomain=values["subdomain"],
            email=values["email"],
            api_token=values["apiToken"],
            ticket_tag=values["ticketTag"],
            tier_field=values["tierField"],
            contact_url_template=link,
        )
    if kind == "salesforce":
        return SalesforceCrm(
            instance=values["instance"],
            api_version=values["apiVersion"],
            contact_external_id_field=values["contactExternalIdField"],
            case_external_id_field=values["caseExternalIdField"],
            client_id=values["clientId"],
            client_secret=values["clientSecret"],
            tier_field=values.get("tierField"),
            case_origin=values["caseOrigin"],
            contact_url_template=link,
        )
    schema = settings_schema()["$defs"]["crm_custom"]["properties"]
    requests = {}
    for part in ("lookup", "ticket"):
        request_defaults = {key: sub["default"] for key, sub in schema[part]["properties"].items() if "default" in sub}
        given = {**request_defaults, **values.get(part, {})}
        if part == "ticket":
            given.setdefault("path", values["ticketPath"])
        requests[part] = CustomRequest(
            method=given["method"], path=given["path"], response=given["response"], body=given.get("body")
        )
    return CustomCrm(
        base_url=values["baseUrl"],
        contact_url_template=link,
        username=values["username"],
        password=values["password"],
        lookup=requests["lookup"],
        ticket=requests["ticket"],
    )


def load_from_stack_file(stack: StackConfig, project: str = NAMESPACE) -> Settings:
    """The settings of a stack file read without the CLI (preflight, tests): each secret leaf is
    checked for its own `secure:` entry."""
    return parse_settings(
        stack.config,
        set(stack.secret_keys),
        project=project,
        stack=stack.stack,
        source=stack.source,
        encrypted=stack.encrypted,
    )


def load_from_pulumi(encrypted: frozenset[str] | None = None) -> Settings:
    """The settings of the running Pulumi program (what `pulumi up` and the mocks hand it).

    Under `pulumi up` the engine is trusted: a key it marks secret holds secrets, wherever they came
    from (a `secure:` value, or a Pulumi ESC environment the stack file imports). The stack file is
    not re-read here. The per-value check, that each secret leaf is itself a `secure:` value, belongs
    to preflight, whose input is the file: it passes `encrypted`, the file's `secure:` paths.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | {
        key for key in config if runtime_config.is_config_secret(key)
    }
    stack = pulumi.get_stack()
    source = f"Pulumi.{stack}.yaml"
    return parse_settings(
        config, secret_keys, project=pulumi.get_project(), stack=stack, source=source, encrypted=encrypted
    )
