"""The doctor's HTTP client on its own (components/genesys_api.py), driven through httpx.MockTransport: where
credentials may go, redirects, retry waits and the deadline, body size, answer shapes and redaction.

Expected values are written by hand from RFC 3986 (user info), RFC 7617 (Basic = base64 of `id:secret`),
RFC 3986 section 2.1 (percent-encoding, either case) and the Genesys error body (`message`, `code`, `status`).
"""

from __future__ import annotations

import base64
import json
import re
import textwrap
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote, quote_plus

import httpx
import pytest

from components.genesys_api import (
    MAX_BODY_BYTES,
    MAX_RETRY_WAIT_SECONDS,
    ApiError,
    Deadline,
    GenesysApi,
    checked_url,
    segment,
    url_problem,
)
from tests.fake_genesys import WITHHELD
from tests.leak_detector import recognisable_form

API = "https://api.mypurecloud.ie"
LOGIN = "https://login.mypurecloud.ie"
CLIENT_ID = "0f1e2d3c-client"
SECRET = "s3cr+t/Value=&%ok-9a8b7c"
TOKEN = "tok-1a2b3c4d5e6f7a8b9c0d"


def client(handler: Callable[[httpx.Request], httpx.Response], **options) -> GenesysApi:
    return GenesysApi(API, timeout=options.pop("timeout", 5), transport=httpx.MockTransport(handler), **options)


def minted(handler: Callable[[httpx.Request], httpx.Response], **options) -> GenesysApi:
    """A client holding TOKEN: the login host answers it, `handler` everything else."""

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == "login.mypurecloud.ie":
            return httpx.Response(200, json={"access_token": TOKEN})
        return handler(request)

    api = client(route, **options)
    assert api.exchange_token(LOGIN, CLIENT_ID, SECRET).ok
    return api


# --- where credentials may go ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://login.mypurecloud.ie",
        "https://gateway.example.com:8443/genesys/",
        "http://localhost:8080",
        "http://127.0.0.1:1/login/eu-west-1",
        "http://127.9.9.9",
        "http://[::1]:9000/x",
    ],
)
def test_urls_credentials_may_go_to(url):
    assert url_problem(url) is None
    assert checked_url("--login-url", url) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:80@evil.example", "must not carry user info"),
        ("http://[::1]:1@evil.example", "must not carry user info"),
        ("https://user@login.mypurecloud.ie", "must not carry user info"),
        ("http://localhost\\@evil.example", "backslash"),
        ("http://localhost%5C@evil.example", "must not carry user info"),
        ("http://127.0.0.1 @evil.example", "whitespace"),
        ("http://127.0.0.1\t.evil.example", "whitespace"),
        ("http://127.0.0.1.evil.example", "plain http only to localhost"),
        ("http://localhost.evil.example", "plain http only to localhost"),
        ("http://0x7f000001", "plain http only to localhost"),
        ("http://gateway.example.com/login", "plain http only to localhost"),
        ("ftp://127.0.0.1", "must be an https URL"),
        ("login.mypurecloud.ie", "must be an https URL"),
        ("https://", "has no host"),
        ("https://login.mypurecloud.ie:99999", "is not a valid URL"),
    ],
)
def test_urls_credentials_must_not_go_to(url, why):
    problem = url_problem(url)
    assert problem is not None and why in problem, problem
    with pytest.raises(ValueError, match="--api-url"):
        checked_url("--api-url", url)


def test_a_refused_url_with_a_password_does_not_echo_it():
    with pytest.raises(ValueError) as refused:
        checked_url("--login-url", "https://admin:hunter2@login.mypurecloud.ie")
    assert "hunter2" not in str(refused.value)
    assert "the host here is 'login.mypurecloud.ie'" in str(refused.value)


def test_base_urls_take_no_query_or_fragment():
    for url in ("https://api.mypurecloud.ie/?next=evil", "https://api.mypurecloud.ie/#x"):
        with pytest.raises(ValueError, match="must not have a"):
            checked_url("--api-url", url)


def test_the_client_refuses_to_send_to_a_url_the_guard_refuses():
    sent: list[httpx.Request] = []
    api = client(lambda request: sent.append(request) or httpx.Response(200, json={}))
    outcome = api.exchange_token("http://127.0.0.1:80@evil.example", CLIENT_ID, SECRET)
    assert outcome.error is not None and outcome.error.kind == "invalid"
    assert "refusing POST to evil.example" in str(outcome.error)
    assert not sent


def test_ids_from_answers_stay_one_path_segment():
    assert segment("a/../b?c#d") == "a%2F..%2Fb%3Fc%23d"
    assert segment("..") == "%2E%2E"
    assert segment(42) == "42"


# --- redirects ---------------------------------------------------------------------------------------------


def test_a_redirect_at_the_login_host_is_not_followed():
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(307, headers={"Location": "https://collector.evil.example/oauth/token"})

    outcome = client(handler).exchange_token(LOGIN, CLIENT_ID, SECRET)
    assert [r.url.host for r in sent] == ["login.mypurecloud.ie"]
    assert outcome.error is not None and outcome.error.kind == "redirect" and outcome.error.status == 307
    assert str(outcome.error) == "POST /oauth/token -> 307: redirect to collector.evil.example, not followed"


def test_a_redirect_with_the_token_is_not_followed():
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(301, headers={"Location": "//mirror.evil.example/api/v2/flows"})

    api = minted(handler)
    with pytest.raises(ApiError) as failed:
        api.get("/api/v2/flows")
    assert [r.url.host for r in sent] == ["api.mypurecloud.ie"]
    assert failed.value.kind == "redirect" and "redirect to mirror.evil.example" in str(failed.value)


# --- retries, Retry-After and the deadline -----------------------------------------------------------------


def unavailable(retry_after: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(503, headers={"Retry-After": retry_after}, json={"message": "down"})


def test_retry_after_beyond_the_cap_is_not_waited_for():
    slept: list[float] = []
    api = client(unavailable("30"), sleep=slept.append)
    outcome = api.exchange_token(LOGIN, CLIENT_ID, SECRET)
    assert slept == []
    assert outcome.error is not None and outcome.error.status == 503
    assert f"asked to retry after 30s, more than the {MAX_RETRY_WAIT_SECONDS:g}s waited" in str(outcome.error)


def test_retry_after_within_the_cap_is_honoured_a_bounded_number_of_times():
    slept: list[float] = []
    api = client(unavailable("2"), sleep=slept.append)
    assert api.exchange_token(LOGIN, CLIENT_ID, SECRET).error.status == 503
    assert slept == [2.0, 2.0, 2.0]


def test_a_retry_wait_that_would_pass_the_deadline_gives_up():
    slept: list[float] = []
    api = client(unavailable("2"), sleep=slept.append, deadline=Deadline(1.5))
    outcome = api.exchange_token(LOGIN, CLIENT_ID, SECRET)
    assert slept == []
    assert "retrying after 2s would pass the run's deadline (--deadline)" in str(outcome.error)


def test_after_the_deadline_the_first_call_is_the_problem_and_later_ones_are_not_sent():
    sent: list[httpx.Request] = []
    api = minted(lambda request: sent.append(request) or httpx.Response(200, json={}), deadline=Deadline(0.2))
    time.sleep(0.25)
    kinds = []
    for path in ("/api/v2/flows", "/api/v2/integrations"):
        with pytest.raises(ApiError) as failed:
            api.get(path)
        kinds.append((failed.value.kind, str(failed.value)))
    assert kinds == [
        ("deadline", "the run's deadline (0.2s, --deadline) passed before GET /api/v2/flows"),
        ("out-of-time", "GET /api/v2/integrations not sent: the run's deadline had passed"),
    ]
    assert not sent


def test_a_slow_body_is_cut_at_the_request_limit():
    def handler(request: httpx.Request) -> httpx.Response:
        def slowly() -> Iterator[bytes]:
            for byte in b'{"entities": []}':
                time.sleep(0.1)
                yield bytes([byte])

        return httpx.Response(200, content=slowly())

    api = minted(handler, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ApiError) as failed:
        api.get("/api/v2/flows")
    assert time.monotonic() - started < 1.5
    assert failed.value.kind == "timeout"
    assert str(failed.value).startswith("GET /api/v2/flows: no complete answer from api.mypurecloud.ie within")


# --- bodies and shapes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_over_the_cap_is_not_read(declared):
    chunk, produced = b" " * 65536, []

    def handler(request: httpx.Request) -> httpx.Response:
        def endless() -> Iterator[bytes]:
            for _ in range(10 * MAX_BODY_BYTES // len(chunk)):
                produced.append(len(chunk))
                yield chunk

        headers = {"Content-Length": str(10 * MAX_BODY_BYTES)} if declared else {}
        return httpx.Response(200, headers=headers, content=endless())

    with pytest.raises(ApiError) as failed:
        minted(handler).get("/api/v2/integrations")
    assert failed.value.kind == "too-large"
    assert str(failed.value) == (
        "GET /api/v2/integrations: the answer is larger than 5 MiB (not read); no Genesys API answer is"
    )
    assert sum(produced) <= MAX_BODY_BYTES + len(chunk)


@pytest.mark.parametrize(
    "body",
    [[{"name": "x"}], None, 7, "text", {"entities": [None]}, {"entities": {"a": 1}}, {"entities": "x"}],
    ids=["list", "null", "number", "string", "null-entity", "object-entities", "string-entities"],
)
def test_listings_of_an_unexpected_shape_are_refused_by_path(body):
    api = minted(lambda request: httpx.Response(200, json=body))
    with pytest.raises(ApiError) as failed:
        list(api.get_all("/api/v2/integrations"))
    assert failed.value.kind == "shape"
    assert str(failed.value).startswith("unexpected response shape from /api/v2/integrations")


def test_a_listing_with_a_strange_page_count_stops():
    api = minted(lambda request: httpx.Response(200, json={"entities": [{"id": "a"}], "pageCount": "many"}))
    assert list(api.get_all("/api/v2/integrations")) == [{"id": "a"}]


def test_a_token_answer_of_an_unexpected_shape_is_not_a_token():
    api = client(lambda request: httpx.Response(200, json=[{"access_token": TOKEN}]))
    outcome = api.exchange_token(LOGIN, CLIENT_ID, SECRET)
    assert not outcome.ok and not api.has_token
    assert str(outcome.error) == "unexpected response shape from /oauth/token: a JSON list"


@pytest.mark.parametrize(
    ("status", "body", "token"),
    [
        (401, {"message": "Invalid login credentials.", "code": "bad.credentials"}, True),
        (403, {"message": "Token is invalid or expired", "code": "token.expired"}, True),
        (403, {"message": "Token is invalid or expired"}, True),
        (403, {"message": "You are missing the permissions", "code": "missing.permissions"}, False),
        (403, [1, 2], False),
        (404, {"message": "token not found", "code": "not.found"}, False),
    ],
)
def test_a_refused_token_is_told_from_a_missing_permission(status, body, token):
    assert ApiError("http", "x", status=status, body=body).token_rejected is token


# --- redaction ---------------------------------------------------------------------------------------------


def echoing(echo: Callable[[httpx.Request], str]) -> GenesysApi:
    """A login host that rejects the credentials and quotes them back as `echo` renders them."""
    return client(lambda request: httpx.Response(400, json={"error": "invalid_client", "description": echo(request)}))


BASIC = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()


@pytest.mark.parametrize(
    "echo",
    [
        lambda request: f"got {SECRET}",
        lambda request: f"got {request.headers['Authorization']}",
        lambda request: f"got Basic {BASIC.rstrip('=')}",
        lambda request: f"got {base64.urlsafe_b64encode(f'{CLIENT_ID}:{SECRET}'.encode()).decode()}",
        lambda request: f"got {quote(SECRET, safe='')}",
        lambda request: f"got {re.sub('%[0-9A-F]{2}', lambda m: m.group().lower(), quote(SECRET, safe=''))}",
        lambda request: f"got {quote(SECRET)}",
        lambda request: f"got {quote_plus(SECRET)}",
        lambda request: f"got {base64.b64encode(SECRET.encode()).decode()}",
        lambda request: f"got {base64.b64encode(f'Bearer {SECRET}'.encode()).decode()}",
        lambda request: f"got {base64.b64encode(f'#{SECRET}!'.encode()).decode()}",
        lambda request: f"got {SECRET[:-3]}",
        lambda request: "." * 190 + f" got {SECRET}",
        # Issue 25: forms a deny-list of encodings missed.
        lambda request: "got " + "\r\n ".join(textwrap.wrap(request.headers["Authorization"], 12)),
        lambda request: f"got {SECRET.encode().hex()}",
        lambda request: f"got {SECRET.upper()}",
        lambda request: f"got {SECRET[:-4]}[truncated]",
        lambda request: f"got {chr(0x200b).join(SECRET)}",
        lambda request: f"got {' '.join(SECRET)}",
        lambda request: f"got {SECRET[::-1]}",
        lambda request: "got " + "".join(f"&#{ord(c)};" for c in SECRET),
        lambda request: f"got {base64.b32encode(SECRET.encode()).decode()}",
    ],
    ids=["plain", "basic-header", "basic-unpadded", "basic-urlsafe", "quote", "quote-lower", "quote-slash",
         "quote-plus", "base64", "base64-offset-1", "base64-offset-2", "server-cut", "client-cut", "basic-folded",
         "hex", "upper", "marker", "zero-width", "spaced", "reversed", "entities", "base32"],
)  # fmt: skip
def test_every_echoed_form_of_the_secret_is_redacted(echo):
    api = echoing(echo)
    text = str(api.exchange_token(LOGIN, CLIENT_ID, SECRET).error)
    assert text == "POST /oauth/token -> 400: invalid_client " + WITHHELD, text
    assert recognisable_form(text, SECRET) is None, text
    aligned = [base64.b64encode(f"{pad}{SECRET}".encode()).decode()[4 if pad else 0 :][:12] for pad in ("", "x", "xx")]
    for leaked in (SECRET, SECRET[:8], quote(SECRET, safe=""), quote_plus(SECRET), BASIC[-12:], *aligned):
        assert leaked not in text, (leaked, text)


def test_redaction_leaves_other_text_alone():
    api = echoing(lambda request: "client not found")
    api.exchange_token(LOGIN, CLIENT_ID, SECRET)
    assert api.redact("client not found: s3cr") == "client not found: s3cr"  # shorter than a telling prefix
    assert api.redact(f"cut: {SECRET[:7]}…") == "cut: ***…"
    assert api.redact(f"cut: {SECRET[:7]} and more") == f"cut: {SECRET[:7]} and more"


def test_every_client_verifies_tls_with_one_context_built_once(monkeypatch):
    import ssl

    import httpx

    from components import genesys_api

    built = []
    create = httpx.create_ssl_context
    monkeypatch.setattr(httpx, "create_ssl_context", lambda *a, **k: built.append(1) or create(*a, **k))
    genesys_api._tls_context.cache_clear()
    try:
        for _ in range(3):
            genesys_api.GenesysApi("https://api.mypurecloud.ie", timeout=1).close()
        context = genesys_api._tls_context()
        assert len(built) == 1, "the CA bundle is loaded once per process, not once per client"
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    finally:
        genesys_api._tls_context.cache_clear()


@pytest.mark.parametrize("url", ["https://xn--zz.example/", "https://xn--80ak6aa92e.com", "https://bücher.example"])
def test_an_internationalised_host_is_refused_not_raised(url):
    assert url_problem(url) == "must name its host in ASCII, without an internationalised (xn-- or non-ASCII) label"
    api = client(lambda request: httpx.Response(200, json={}))
    with pytest.raises(ApiError) as refused:  # a nextUri from an answer goes through the same check
        api._send("GET", url + "/api/v2/x")
    assert refused.value.kind == "invalid"


def test_a_listing_of_endless_big_pages_stops_at_its_budget():
    """Issue 25: 50 pages of 5 MiB were all kept; a listing now stops at MAX_LISTING_BYTES, named in the problem."""
    served = []
    page = {"entities": [{"id": str(i), "name": "x" * 4000} for i in range(1000)], "pageCount": 10**9}
    body = json.dumps(page).encode()
    assert 4 * 2**20 > len(body) > 2**20  # under the body cap: only a budget across pages stops it

    def endless(request: httpx.Request) -> httpx.Response:
        served.append(request.url.params.get("pageNumber"))
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    api = minted(endless)
    seen = 0
    with pytest.raises(ApiError) as stopped:
        for _entity in api.get_all("/api/v2/flows"):
            seen += 1
    assert stopped.value.kind == "shape"
    assert "the listing /api/v2/flows passed 16 MiB" in str(stopped.value)
    assert len(served) <= 16 * 2**20 // len(body) + 1, "no page is fetched past the budget"
    assert seen <= len(served) * 1000
