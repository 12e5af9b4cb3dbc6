"""`preflight doctor` checks 1-3: the token exchange, the region in the environment, the client's rights
(its permissions, and the roles the stack grants, held in the divisions it grants them in).

Each check returns a `Result` (ok / problem / skipped) with the evidence it saw and the fix. API
paths and response fields follow the Genesys Platform API as documented on developer.genesys.cloud
and mirrored in MyPureCloud/platform-client-sdk-python `build/docs/` (OAuthApi.md, OrgOAuthClient.md,
DomainOrganizationRole.md, DomainPermissionPolicy.md, RoleDivision.md; AuthorizationApi.md for
GET /api/v2/authorization/roles?name= and /divisions?name=|id=).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.access_data import CLIENT_CREDENTIALS, access_spec
from components.genesys_api import ApiError, GenesysApi, segment
from components.regions import Region, region_for_host, regions
from components.settings import Settings
from preflight.estate_view import Estate

OK, PROBLEM, SKIPPED = "ok", "problem", "skipped"

# Variables other Genesys tools read a region from: the provider (GENESYSCLOUD_REGION, a region code),
# the platform SDK examples and the `gc` CLI (a domain or an API URL). Any of them pointing elsewhere
# sends a script's or a teammate's token exchange to the wrong login host.
REGION_ENV_VARS = ("GENESYSCLOUD_REGION", "GENESYSCLOUD_API_REGION", "GENESYSCLOUD_ENVIRONMENT")
# The provider takes its access_token from here (provider/provider_schema.go:33-38 at v1.84.1, EnvDefaultFunc)
# and uses a non-empty one instead of the client credentials (provider/provider.go:333-352): set, it decides whom
# the stack runs as, whatever GENESYSCLOUD_OAUTHCLIENT_ID/_SECRET say.
ACCESS_TOKEN_ENV_VAR = "GENESYSCLOUD_ACCESS_TOKEN"
ACCESS_TOKEN_REASON = (
    f"{ACCESS_TOKEN_ENV_VAR} is set: the provider uses a non-empty access token ahead of the client credentials "
    "(provider/provider.go:333-352, access_token defaults to this variable at provider_schema.go:33-38), so the "
    "stack would run as whoever owns that token, not as the deployer client; with a user's token (a purecloud-builtin "
    "client, e.g. the administrator's from bootstrap), creating the contact-lookup OAuth client rewrites that user's "
    "roles (oauth_client/resource_genesyscloud_oauth_client.go:204-265)"
)
ACCESS_TOKEN_FIX = (
    f"unset {ACCESS_TOKEN_ENV_VAR} before any stack command (or export it only inside a subshell for bootstrap/: "
    f"( export {ACCESS_TOKEN_ENV_VAR}=...; cd bootstrap && pulumi up ) ), then rerun the doctor"
)

_NETWORK_FIXES = {
    "dns": "check the host name (the region, --api-url/--login-url or the discovery URI), DNS and any proxy",
    "tls": "a TLS-intercepting proxy or an old CA bundle? point SSL_CERT_FILE at the proxy's CA bundle",
    "timeout": "check network access and proxies to the host; retry with a larger --timeout",
    "deadline": "the run is bounded by --deadline: rerun with a larger one, or find out why the call named is slow",
    "connect": "check network access to the host (firewall, proxy, --api-url/--login-url)",
    "invalid": "the host did not answer like the Genesys API; check --api-url",
    "shape": "the host did not answer like the Genesys API (a proxy or gateway in between?); check --api-url",
    "too-large": "the host did not answer like the Genesys API (a proxy or gateway in between?); check --api-url",
    "redirect": "check --api-url/--login-url and any proxy: the doctor never follows a redirect with credentials",
}
# What the API answers when it refuses the token itself ("Token is invalid or expired") on a token the login host
# has just minted: almost always another region's API host, or something in between rewriting the header.
TOKEN_REJECTED_FIX = (
    "the API host must be in the login host's region (check --api-url/--login-url and genesys-messaging:region); a "
    "proxy or gateway must pass the Authorization header unchanged; if the client was just disabled, enable it; rerun"
)
# OAuth and Genesys answers that are a verdict on the client id and secret (anything else is not).
CREDENTIAL_ERROR_CODES = frozenset({"invalid_client", "invalid_grant", "unauthorized", "access_denied"})
SHAPE_ERRORS = (AttributeError, TypeError, KeyError, ValueError, IndexError)


@dataclass
class Result:
    """One check's verdict, what it saw, and what to do."""

    check: str
    title: str
    status: str
    summary: str
    evidence: list[str] = field(default_factory=list)
    fix: str = ""

    def redacted(self, redact: Callable[[str], str]) -> Result:
        """Belt and braces: no secret the client saw can reach a report, whatever a server echoed."""
        return Result(
            self.check,
            self.title,
            self.status,
            redact(self.summary),
            [redact(e) for e in self.evidence],
            redact(self.fix),
        )


def first_problem(results: list[Result]) -> Result | None:
    """The first problem in check order: later checks often fail because of it (the report's cause)."""
    return next((r for r in results if r.status == PROBLEM), None)


@dataclass
class Context:
    """What every check reads: settings, the estate (what the stack declares), the API client with its token, the
    CLI options, the environment."""

    settings: Settings
    estate: Estate
    api: GenesysApi
    client_id: str
    login_url: str
    discovery_url: str
    probe_regions: bool
    timeout: float
    environ: Mapping[str, str]
    cache: dict[str, Any] = field(default_factory=dict)
    before_up: bool = False
    """Run before a `pulumi up` (--before-up): a declared object the org lacks is what up creates."""


def not_created(ctx: Context, check: str, title: str, summary: str, evidence: list[str], fix: str) -> Result:
    """A declared object the org does not hold: a problem once deployed; before `pulumi up`, what up creates."""
    if ctx.before_up:
        return Result(check, title, SKIPPED, f"{summary}: `pulumi up` creates it", evidence)
    return Result(check, title, PROBLEM, summary, evidence, fix)


def region_login_urls() -> dict[str, str]:
    """Login host of every region, for --probe-regions (tests replace this with fake hosts)."""
    return {code: region.login_url for code, region in regions().items()}


def error_fix(error: ApiError, needs: str = "") -> str:
    """The fix for a failed call: by network failure kind, or by HTTP status."""
    if error.kind != "http":
        return _NETWORK_FIXES.get(error.kind, "retry later")
    if error.status == 403:
        return f"add {needs} to a role of the provider's client" if needs else "grant the missing permission"
    if error.status == 401:
        return "the API rejected the token: rerun; if it persists, check the client is active"
    if error.status == 429:
        return "rate limited beyond the retry budget: wait a minute and rerun"
    if error.status is not None and error.status >= 500:
        return "the host is unavailable: retry later; check the Genesys Cloud status page"
    return "retry; if it persists, check the Genesys status page"


def token_rejected_by(ctx: Context) -> str | None:
    """Title of the check where the API refused the token, once it has: later checks do not ask again."""
    return ctx.cache.get("token_rejected")


def api_problem(ctx: Context, check: str, title: str, error: ApiError, needs: str = "") -> Result:
    """A failed call as one result: a refused token is reported once (the checks after it are skipped, not N
    permission problems); a call not sent for lack of time is skipped (the first one is the problem)."""
    if error.token_rejected:
        first = token_rejected_by(ctx)
        if first is not None:
            return Result(check, title, SKIPPED, f"not checked: the API rejects the token (see '{first}')")
        ctx.cache["token_rejected"] = title
        return Result(
            check,
            title,
            PROBLEM,
            "the API rejects the token the login host has just minted",
            [str(error)],
            TOKEN_REJECTED_FIX,
        )
    if error.kind == "out-of-time":
        return Result(check, title, SKIPPED, "not checked: the run's --deadline had passed", [str(error)])
    if error.status == 429:
        summary = "rate limited"
    elif error.status is not None and error.status >= 500:
        summary = f"the API host is unavailable ({error.status})"
    else:
        summary = f"the API call failed ({error.kind})"
    return Result(check, title, PROBLEM, summary, [str(error)], error_fix(error, needs))


def shape_problem(ctx: Context, check: str, title: str, error: Exception) -> Result:
    """An answer the check could not read (a list where an object belongs, a number for a name, nulls)."""
    where = ctx.api.last_path or "the API"
    return Result(
        check,
        title,
        PROBLEM,
        f"unexpected response shape from {where}",
        [f"reading it failed with {type(error).__name__}"],
        _NETWORK_FIXES["shape"],
    )


def guarded(ctx: Context, check: str, title: str, needs: str, body: Callable[[], Result]) -> Result:
    """Run a check; an API failure becomes a problem naming the failed call and its fix, an answer of an
    unexpected shape a problem naming its path."""
    if (first := token_rejected_by(ctx)) is not None:
        return Result(check, title, SKIPPED, f"not checked: the API rejects the token (see '{first}')")
    try:
        return body()
    except ApiError as error:
        return api_problem(ctx, check, title, error, needs)
    except SHAPE_ERRORS as error:
        return shape_problem(ctx, check, title, error)


def shielded(ctx: Context, check: str, title: str, body: Callable[[Context], Result | list[Result]]) -> list[Result]:
    """Run a top-level check so that nothing it meets ends the run: whatever escapes it becomes its problem."""
    try:
        found = body(ctx)
    except ApiError as error:
        return [api_problem(ctx, check, title, error)]
    except Exception as error:
        return [shape_problem(ctx, check, title, error)]
    return found if isinstance(found, list) else [found]


# --- 1. token exchange ---------------------------------------------------------------------------


def check_token(ctx: Context, client_secret: str) -> Result:
    title = "Token exchange (client credentials)"
    region = ctx.settings.region
    outcome = ctx.api.exchange_token(ctx.login_url, ctx.client_id, client_secret)
    if outcome.ok:
        return Result("token", title, OK, f"token minted at {ctx.login_url} ({region.code})")
    error = outcome.error
    assert error is not None
    evidence = [f"POST {ctx.login_url}/oauth/token: {error}"]
    here = f"the {region.code} login host"
    # Only a verdict on the credentials may suggest --probe-regions (it sends them to every region): a redirect,
    # an outage or an answer that is not OAuth says nothing about where the client lives.
    if error.kind == "redirect":
        return Result(
            "token",
            title,
            PROBLEM,
            f"{here} answers with a redirect, which is not followed",
            evidence,
            "check --login-url (or genesys-messaging:region) and any proxy in between: the token exchange must reach "
            "the login host itself; credentials are never sent on to where a redirect points",
        )
    if error.kind in ("shape", "too-large"):
        return Result(
            "token",
            title,
            PROBLEM,
            f"{here} did not answer like an OAuth token endpoint",
            evidence,
            "check --login-url: a proxy or captive portal may be answering instead of the login host",
        )
    if error.kind != "http":
        return Result("token", title, PROBLEM, f"cannot reach {here}", evidence, error_fix(error))
    status = error.status or 0
    if status >= 500:
        return Result(
            "token",
            title,
            PROBLEM,
            f"{here} is unavailable ({status}): an outage, not your credentials",
            evidence,
            "retry later; check the Genesys Cloud status page",
        )
    if status == 429:
        return Result("token", title, PROBLEM, f"{here} rate-limits the token exchange", evidence, error_fix(error))
    if error.error_code == "unauthorized_client":
        # Genesys answers unauthorized_client when the client exists but has another grant type (I).
        return Result(
            "token",
            title,
            PROBLEM,
            "the client exists here but may not use the client-credentials grant",
            evidence,
            "use a Client Credentials OAuth client (Admin > Integrations > OAuth) for the provider",
        )
    if not credentials_rejected(error):
        return Result(
            "token",
            title,
            PROBLEM,
            f"{here} answered {status}, which says nothing about the credentials",
            evidence,
            "check --login-url (the token endpoint is <login URL>/oauth/token) and any proxy in between",
        )
    if not ctx.probe_regions:
        return Result(
            "token",
            title,
            PROBLEM,
            f"the {region.code} login host rejects these credentials",
            [*evidence, "most common cause: the client was created in another region's org"],
            "rerun with --probe-regions to find the region the client lives in (sends the credentials to "
            "every region's login host); otherwise check the client id and secret",
        )
    return _probe(ctx, client_secret, region, evidence)


def credentials_rejected(error: ApiError) -> bool:
    """Whether a login host's answer is a verdict on the client id and secret."""
    return error.kind == "http" and (error.status == 401 or error.error_code in CREDENTIAL_ERROR_CODES)


def _probe(ctx: Context, client_secret: str, region: Region, evidence: list[str]) -> Result:
    title = "Token exchange (client credentials)"
    tried, unanswered = [], []
    # A separate client, so a foreign region's token is discarded and never used against this org; same deadline.
    with GenesysApi(ctx.settings.region.api_url, timeout=ctx.timeout, deadline=ctx.api.deadline) as probe:
        for code, login_url in region_login_urls().items():
            if code == region.code:
                continue
            outcome = probe.exchange_token(login_url, ctx.client_id, client_secret)
            if outcome.error is not None and not credentials_rejected(outcome.error):
                status = f" {outcome.error.status}" if outcome.error.status else ""
                unanswered.append(f"{code} ({outcome.error.kind}{status})")
                if outcome.error.kind in ("deadline", "out-of-time"):
                    evidence = [*evidence, str(outcome.error)]
                    break
                continue
            tried.append(code)
            if outcome.ok:
                ctx.cache["client_region"] = code
                return Result(
                    "token",
                    title,
                    PROBLEM,
                    f"wrong region: the client lives in {code}, the stack is in {region.code}",
                    [*evidence, f"POST {login_url}/oauth/token: accepted ({code})"],
                    f"use a client created in the {region.code} org (Admin > Integrations > OAuth there), or, if "
                    f"the stack really belongs in {code}, set genesys-messaging:region {code}",
                )
    if unanswered:
        return Result(
            "token",
            title,
            PROBLEM,
            "no region that gave a verdict accepts these credentials; some gave none",
            [*evidence, f"also rejected in: {', '.join(tried) or 'none'}", f"no verdict from: {', '.join(unanswered)}"],
            "rerun --probe-regions later for the regions without a verdict; if it persists, the secret is wrong or "
            "the client was deleted or disabled",
        )
    return Result(
        "token",
        title,
        PROBLEM,
        "no region's login host accepts these credentials",
        [*evidence, f"also rejected in: {', '.join(tried)}"],
        "the secret is wrong or the client was deleted or disabled: copy a fresh secret from the OAuth client",
    )


# --- 2. region and token in the environment ------------------------------------------------------


def _env_region(value: str) -> Region | None:
    if value.lower() in regions():
        return regions()[value.lower()]
    host = value.split("://", 1)[-1].split("/", 1)[0].lower()
    return region_for_host(host)


def check_environment(ctx: Context) -> Result:
    title = "Region and token in the environment"
    stack_region = ctx.settings.region
    evidence, problems = [], []
    for name in REGION_ENV_VARS:
        value = ctx.environ.get(name, "").strip()
        if not value:
            continue
        found = _env_region(value)
        if found is None:
            problems.append(f"{name}={value} names no known region")
        elif found.code != stack_region.code:
            problems.append(f"{name}={value} means {found.code}, the stack says {stack_region.code}")
        else:
            evidence.append(f"{name}={value} agrees ({found.code})")
    fixes = []
    if problems:
        fixes.append(
            f"unset the region variables named (or set them to {stack_region.code} / {stack_region.domain}); the "
            "program takes its region from genesys-messaging:region"
        )
    # Any value counts, valid or not: the provider uses it ahead of the client credentials.
    token = ctx.environ.get(ACCESS_TOKEN_ENV_VAR, "")
    if token:
        problems.insert(0, ACCESS_TOKEN_REASON)
        fixes.insert(0, ACCESS_TOKEN_FIX)
        if token.strip():
            rejected = ctx.api.token_is_accepted(token.strip())
            if rejected is None:
                evidence.append(f"{ACCESS_TOKEN_ENV_VAR} is accepted by the API: a run now would use it")
            elif rejected.kind != "http":
                evidence.append(f"{ACCESS_TOKEN_ENV_VAR} could not be checked: {rejected}")
            else:
                evidence.append(f"{ACCESS_TOKEN_ENV_VAR} is rejected ({rejected}): the provider would fail with it")
    if not problems:
        summary = "nothing in the environment contradicts the stack" if evidence else "no Genesys region variables set"
        return Result("environment", title, OK, summary, evidence)
    summary = f"{ACCESS_TOKEN_ENV_VAR} is set" if token else "the environment contradicts the stack"
    return Result("environment", title, PROBLEM, summary, [*problems, *evidence], "; ".join(fixes))


# --- 3. grant type, roles, permissions -----------------------------------------------------------


def required_permissions() -> dict[str, str]:
    """Every permission the provider's client must hold, with why: deployer rights plus the roles it grants."""
    spec = access_spec()
    needed = {p: "deployer (components/access.yaml roles.deployer.permissions)" for p in spec.deployer_permissions}
    for role in spec.granted_by_stacks:
        for permission in spec.roles[role].permissions:
            needed.setdefault(permission, f"granted by the stack in role '{role}'; the provider must hold it")
    return needed


def holds(permission: str, policies: list[dict[str, Any]]) -> bool:
    """Whether permission policies (domain, entityName, actionSet; '*' wildcards) grant domain:entity:action."""
    domain, entity, action = permission.split(":")
    for policy in policies:
        actions = policy.get("actionSet") or []
        if (
            policy.get("domain") in (domain, "*")
            and policy.get("entityName") in (entity, "*")
            and (action in actions or "*" in actions)
        ):
            return True
    return False


def check_client(ctx: Context) -> list[Result]:
    """The client's grant type and roles, then whether those roles hold every permission needed."""
    title = "OAuth client grant type and roles"
    if not ctx.api.has_token:
        return [
            Result("client", title, SKIPPED, "needs a token (see the token exchange)"),
            Result("permissions", "Deployer permissions", SKIPPED, "needs a token (see the token exchange)"),
        ]
    first = guarded(ctx, "client", title, "oauth:client:view", lambda: _client(ctx, title))
    if first.status != OK and "client_roles" not in ctx.cache:
        if first.status == PROBLEM and first.summary.startswith("the API call failed"):
            first.summary = "cannot read the client's own record"
        return [first, Result("permissions", "Deployer permissions", SKIPPED, "needs the client's roles")]
    title, role_ids = "Deployer permissions", ctx.cache["client_roles"]
    if not role_ids:
        return [first, Result("permissions", title, PROBLEM, "no roles, so no permissions", [], first.fix)]
    return [
        first,
        guarded(ctx, "permissions", title, "authorization:role:view", lambda: _permissions(ctx, role_ids)),
    ]


def _client(ctx: Context, title: str) -> Result:
    client = ctx.api.get_object(f"/api/v2/oauth/clients/{segment(ctx.client_id)}")
    grant = client.get("authorizedGrantType", "")
    scopes = client.get("scope") or []
    role_ids = list(dict.fromkeys(r.get("roleId") or r.get("id") for r in client.get("roleDivisions") or []))
    role_ids += [r for r in client.get("roleIds") or [] if r not in role_ids]
    name = client.get("name", ctx.client_id)
    evidence = [f"client '{name}': grant {grant}, {len(role_ids)} role(s), scopes {scopes}"]
    problems = []
    if grant != CLIENT_CREDENTIALS:
        problems.append(f"grant type is {grant}, not {CLIENT_CREDENTIALS}")
    if not role_ids:
        problems.append("the client has no roles, so its token carries no permissions")
    if scopes:
        problems.append(f"scopes {scopes} do not apply to client-credentials clients (and no messaging:* scope exists)")
    ctx.cache["client"], ctx.cache["client_roles"] = client, role_ids
    if problems:
        return Result(
            "client",
            title,
            PROBLEM,
            problems[0],
            [*problems[1:], *evidence],
            "grant the client roles (with divisions) that hold the permissions in components/access.yaml; "
            "scopes are ignored for client credentials",
        )
    return Result("client", title, OK, f"client credentials with {len(role_ids)} role(s)", evidence)


def _permissions(ctx: Context, role_ids: list[str]) -> Result:
    policies, names = [], []
    for role_id in role_ids:
        role = ctx.api.get_object(f"/api/v2/authorization/roles/{segment(role_id)}")
        names.append(role.get("name", role_id))
        policies += role.get("permissionPolicies") or []
    needed = required_permissions()
    missing = [p for p in needed if not holds(p, policies)]
    evidence = [f"roles: {', '.join(names)}; {len(needed)} permissions required"]
    if not missing:
        return Result("permissions", "Deployer permissions", OK, "the roles hold every required permission", evidence)
    return Result(
        "permissions",
        "Deployer permissions",
        PROBLEM,
        f"the client's roles lack {len(missing)} permission(s): {', '.join(missing[:5])}"
        + (" ..." if len(missing) > 5 else ""),
        [*evidence, *(f"missing {p}: {needed[p]}" for p in missing)],
        "add the missing permissions to a role of the provider's client (Admin > Roles / Permissions)",
    )


def check_granted_roles(ctx: Context) -> Result:
    """The client holds every role the stack grants, in the division it grants it in: it can grant only those."""
    title = "Roles the stack grants, held by the client"
    client = ctx.cache.get("client")
    if client is None:
        return Result("granted-roles", title, SKIPPED, "needs the client's record (see the client check)")
    return guarded(ctx, "granted-roles", title, "authorization:role:view", lambda: _granted_roles(ctx, client, title))


def _named(ctx: Context, path: str, name: str) -> dict[str, Any] | None:
    """The entity of a listing filtered by ?name= whose name is exactly `name` (the filter may be a search)."""
    return next((e for e in ctx.api.get_all(path, {"name": name}) if e.get("name") == name), None)


def _granted_roles(ctx: Context, client: dict[str, Any], title: str) -> Result:
    grants, who = ctx.estate.role_grants, client.get("name", ctx.client_id)
    problems, fixes, evidence, divisions = [], [], [], {}
    for name in dict.fromkeys(g.division for g in grants):
        division = _named(ctx, "/api/v2/authorization/divisions", name)
        if division is None:
            problems.append(f"no division named '{name}' (genesys-messaging:division)")
            fixes.append("set genesys-messaging:division to an existing division's name (Admin > Divisions)")
        else:
            divisions[name] = division
            evidence.append(f"division '{name}' is {division.get('id')}")
    held = [(g.get("roleId"), g.get("divisionId")) for g in client.get("roleDivisions") or []]
    for grant in (g for g in grants if g.division in divisions):
        name, division_name, division_id = grant.role, grant.division, divisions[grant.division].get("id")
        bootstrap = (
            f"run bootstrap/ (pulumi up in bootstrap/, '{division_name}' in genesys-messaging-bootstrap:divisions)"
        )
        role = _named(ctx, "/api/v2/authorization/roles", name)
        if role is None:
            problems.append(f"role '{name}' does not exist in the org: bootstrap/ has not run here")
            fixes.append(bootstrap)
            continue
        # '*' is Genesys' "all divisions" grant (bootstrap/ never makes one; an administrator might).
        in_divisions = [d for r, d in held if r == role.get("id")]
        if division_id in in_divisions or "*" in in_divisions:
            evidence.append(f"holds '{name}' in '{division_name}'")
            continue
        where = "nowhere"
        if in_divisions:
            found = ctx.api.get_all("/api/v2/authorization/divisions", {"id": in_divisions})
            names = {d.get("id"): d.get("name") for d in found}
            where = "only in " + ", ".join(f"division '{names.get(d, d)}'" for d in in_divisions)
        problems.append(f"client '{who}' holds role '{name}' {where}, not in '{division_name}': it cannot grant it")
        fixes.append(f"{bootstrap} or grant role '{name}' in division '{division_name}' to client '{who}'")
    if not problems:
        where = ", ".join(f"'{d}'" for d in divisions)
        summary = f"holds every role the stack grants in {where}" if grants else "the stack grants no roles"
        return Result("granted-roles", title, OK, summary, evidence)
    fix = "; ".join(dict.fromkeys(fixes))
    return Result("granted-roles", title, PROBLEM, problems[0], [*problems[1:], *evidence], fix)
