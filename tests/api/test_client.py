"""ApiClient against a scripted loopback server: retries, pacing, auth, errors, keyset paging."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from mwdata.api.client import ApiClient, RequestStats
from mwdata.api.odata import parse_envelope, parse_error, window_filter
from mwdata.api.pacing import Pacer
from mwdata.catalog import entity
from mwdata.config import ApiConfig, Secret
from mwdata.errors import ApiError, AuthError, ConfigError, ScopeError
from tests.api.conftest import Reply, Request

KEY = "sk-test-SECRET-0123456789"
INTER = entity("interactions")
LO, HI = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)


def client(url: str, **kw: object) -> ApiClient:
    cfg = ApiConfig(
        base_url=url, api_key=Secret(KEY), requests_per_minute=0, max_retries=4, timeout_seconds=5
    )
    cfg = ApiConfig(**{**cfg.__dict__, **kw})
    return ApiClient(cfg, backoff_base=0.01, backoff_max=0.05)


def rec(i: int) -> dict[str, str]:
    return {"id": f"id{i:05d}", "last_updated_time": "2026-11-01T01:00:00.000Z"}


# -- envelope -------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["@odata.nextLink", "odata.nextlink", "@odata.nextlink", "odata.nextLink"])
def test_both_next_link_spellings(key: str) -> None:
    assert parse_envelope({key: "http://x/next", "value": [rec(1)]}) == ([rec(1)], "http://x/next")


def test_missing_value_is_an_empty_page() -> None:
    assert parse_envelope({"@odata.context": "x"}) == ([], None)


def test_flat_and_nested_errors() -> None:
    assert parse_error({"code": "FORBIDDEN", "message": "no"}) == ("FORBIDDEN", "no")
    assert parse_error({"error": {"code": "RATE", "message": "slow"}}) == ("RATE", "slow")
    assert parse_error("garbage") == (None, None)


def test_window_filter_quotes_ids() -> None:
    f = window_filter("last_updated_time", LO, HI, "a'b")
    assert f == (
        "last_updated_time ge '2026-11-01T00:00:00.000Z' and last_updated_time lt "
        "'2026-11-02T00:00:00.000Z' and id gt 'a''b'"
    )


# -- keyset paging --------------------------------------------------------------------------------
def keyset_server(
    rows: list[dict[str, str]], cap: int, next_spelling: str = "@odata.nextLink", silent: bool = False
):
    """Keyset paging over `rows`, at most `cap` per page, with a next link on capped pages unless
    `silent` (a server that caps `$top` without saying so)."""

    def script(req: Request) -> Reply:
        flt = req.query["$filter"]
        after = flt.split("id gt '")[1][:-1] if "id gt" in flt else ""
        top = min(int(req.query["$top"]), cap)
        page = [r for r in rows if r["id"] > after][:top]
        body: dict[str, object] = {"value": page}
        if len(page) == top and page[-1] != rows[-1] and not silent:
            body[next_spelling] = "http://127.0.0.1:1/never-follow?$skiptoken=abc"
        return Reply(body=body)

    return script


def test_keyset_paging_reads_every_row_and_never_follows_next_link(scripted) -> None:
    rows = [rec(i) for i in range(23)]
    srv = scripted(keyset_server(rows, cap=100))
    with client(srv.url, page_size=5) as c:
        got = [r for p in c.window_pages(INTER, LO, HI) for r in p.records]
    assert got == rows
    assert all(q.path == "/export/v1/records/interactions" for q in srv.requests)
    assert srv.requests[0].query["$orderby"] == "id" and srv.requests[0].query["$top"] == "5"
    assert "id gt" not in srv.requests[0].query["$filter"]
    assert srv.requests[1].query["$filter"].endswith("id gt 'id00004'")
    assert len(srv.requests) == 6  # 5+5+5+5+3, then the empty page that ends the window
    assert srv.requests[-1].query["$filter"].endswith("id gt 'id00022'")


def test_a_server_capping_top_silently_loses_nothing(scripted, caplog) -> None:
    rows = [rec(i) for i in range(10)]
    srv = scripted(keyset_server(rows, cap=3, silent=True))  # 3 rows for $top=50, no next link
    with client(srv.url, page_size=50) as c:
        got = [r for p in c.window_pages(INTER, LO, HI) for r in p.records]
        assert c.page_cap == 3
        again = [r for p in c.window_pages(INTER, LO, HI) for r in p.records]
    assert got == rows and again == rows
    warnings = [r.getMessage() for r in caplog.records if "caps pages silently" in r.getMessage()]
    assert len(warnings) == 1 and "page_size to 3" in warnings[0]  # once per client, not per page
    assert [q.query["$top"] for q in srv.requests[:3]] == ["50", "50", "3"]


def test_rows_appearing_behind_a_short_page_are_read_without_capping(scripted, caplog) -> None:
    rows = [rec(i) for i in range(12)]
    late = rows[10:]
    served: list[int] = []

    def script(req: Request) -> Reply:  # the last two rows become visible after the first page
        visible = rows if served else [r for r in rows if r not in late]
        served.append(1)
        return keyset_server(visible, cap=100)(req)

    srv = scripted(script)
    with client(srv.url, page_size=50) as c:
        got = [r for p in c.window_pages(INTER, LO, HI) for r in p.records]
        assert c.page_cap is None  # 2 rows behind a page of 10: late rows, not a cap
    assert got == rows and len(srv.requests) == 3
    assert not [r for r in caplog.records if "caps pages silently" in r.getMessage()]


def test_server_capping_top_is_detected(scripted) -> None:
    rows = [rec(i) for i in range(10)]
    srv = scripted(keyset_server(rows, cap=3, next_spelling="odata.nextlink"))
    with client(srv.url, page_size=50) as c:
        got = [r for p in c.window_pages(INTER, LO, HI) for r in p.records]
        assert c.page_cap == 3
    assert got == rows


def test_resume_after_checkpoint(scripted) -> None:
    rows = [rec(i) for i in range(10)]
    srv = scripted(keyset_server(rows, cap=100))
    with client(srv.url, page_size=4) as c:
        got = [r for p in c.window_pages(INTER, LO, HI, after_id="id00005") for r in p.records]
    assert got == rows[6:]


def test_page_that_does_not_advance_is_refused(scripted) -> None:
    srv = scripted(lambda req: Reply(body={"value": [rec(1)], "@odata.nextLink": "x"}))
    with client(srv.url, page_size=1) as c, pytest.raises(ApiError, match="does not advance"):
        list(c.window_pages(INTER, LO, HI))


# -- transient failures ---------------------------------------------------------------------------
def flaky(*first: Reply):
    replies = list(first)

    def script(req: Request) -> Reply:
        return replies.pop(0) if replies else Reply(body={"value": [rec(1)]})

    return script


@pytest.mark.parametrize(
    "bad",
    [
        Reply(500, {"code": "INTERNAL_ERROR", "message": "x"}),
        Reply(503, b"upstream"),
        Reply(200, b'{"value": [{"id": "tr'),  # truncated body
        Reply(drop=True),  # dropped connection
    ],
    ids=["500", "503", "truncated", "dropped"],
)
def test_transient_failures_are_retried(scripted, bad: Reply) -> None:
    srv = scripted(flaky(bad, bad))
    stats = RequestStats()
    with client(srv.url) as c:
        page = c.get_page(INTER, {"$top": "1"}, stats)
    assert page.records == [rec(1)]
    assert stats.retries == 2 and stats.requests == 3 and stats.pages == 1


def test_gives_up_after_max_retries_with_the_query(scripted) -> None:
    srv = scripted(lambda req: Reply(502, b"bad gateway"))
    with client(srv.url, max_retries=2) as c, pytest.raises(ApiError) as ei:
        c.get_page(INTER, {"$filter": "id eq 'x'"})
    assert "after 3 failed attempts" in str(ei.value) and "$filter=id eq 'x'" in str(ei.value)
    assert len(srv.requests) == 3


def test_retry_after_is_honoured_by_every_worker(scripted) -> None:
    srv = scripted(flaky(Reply(429, {"code": "RATE_LIMIT_EXCEEDED"}, {"Retry-After": "1"})))
    stats = RequestStats()
    with client(srv.url, requests_per_minute=6000) as c:
        t0 = time.monotonic()
        c.get_page(INTER, {}, stats)
        assert c.pacer.rate is not None and c.pacer.rate < 6000  # adapted down
        other = threading.Thread(target=c.get_page, args=(INTER, {}))
        other.start()
        other.join()
        elapsed = time.monotonic() - t0
    assert elapsed >= 1.0
    assert stats.throttled == 1 and stats.retries == 0


def test_429_without_retry_after_backs_off(scripted) -> None:
    srv = scripted(flaky(Reply(429, {"error": {"code": "RATE_LIMIT_EXCEEDED"}}), Reply(429, b"")))
    stats = RequestStats()
    with client(srv.url) as c:
        c.get_page(INTER, {}, stats)
    assert stats.throttled == 2 and len(srv.requests) == 3


# -- auth -----------------------------------------------------------------------------------------
def test_api_key_is_sent_as_bearer(scripted) -> None:
    srv = scripted(flaky())
    with client(srv.url) as c:
        c.get_page(INTER, {})
    assert srv.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_401_with_api_key_is_an_auth_error_without_the_secret(scripted) -> None:
    srv = scripted(lambda req: Reply(401, {"code": "AUTHENTICATION_FAILED", "message": "bad key"}))
    with client(srv.url) as c, pytest.raises(AuthError) as ei:
        c.get_page(INTER, {})
    assert KEY not in str(ei.value) and "MWDATA_API_KEY" in str(ei.value)
    assert len(srv.requests) == 1


def test_403_names_entity_and_scope(scripted) -> None:
    srv = scripted(lambda req: Reply(403, {"code": "FORBIDDEN", "message": "no scope"}))
    with client(srv.url) as c, pytest.raises(ScopeError) as ei:
        c.get_page(entity("plugin-calls"), {})
    assert "plugin-calls" in str(ei.value) and "Plugin Calls" in str(ei.value)


def test_400_shows_the_query_not_the_secret(scripted) -> None:
    srv = scripted(
        lambda req: Reply(400, {"error": {"code": "INPUT_VALIDATION_FAILED", "message": "bad filter"}})
    )
    with client(srv.url) as c, pytest.raises(ApiError) as ei:
        c.get_page(INTER, {"$filter": "detail/domain eq 'IT'"})
    msg = str(ei.value)
    assert "HTTP 400" in msg and "INPUT_VALIDATION_FAILED: bad filter" in msg
    assert "$filter=detail/domain eq 'IT'" in msg and KEY not in msg


def oauth_server(lifetime: int, reject_first_api_call: bool = False):
    state = {"issued": 0, "rejected": False}

    def script(req: Request) -> Reply:
        if req.path == "/oauth/v1/token":
            state["issued"] += 1
            return Reply(body={"data": {"access_token": f"tok{state['issued']}", "expires_in": lifetime}})
        if reject_first_api_call and not state["rejected"]:
            state["rejected"] = True
            return Reply(401, {"code": "AUTHENTICATION_FAILED", "message": "expired"})
        return Reply(body={"value": [rec(1)]})

    return script, state


def oauth_client(url: str) -> ApiClient:
    cfg = ApiConfig(base_url=url, client_id="cid", client_secret=Secret("csecret"), requests_per_minute=0)
    return ApiClient(cfg, backoff_base=0.01)


def test_oauth_token_is_refreshed_before_expiry(scripted) -> None:
    script, state = oauth_server(lifetime=2)
    srv = scripted(script)
    with oauth_client(srv.url) as c:
        c.get_page(INTER, {})
        time.sleep(1.6)  # refresh happens a quarter of the lifetime early
        c.get_page(INTER, {})
    assert state["issued"] == 2
    token_req = next(r for r in srv.requests if r.path == "/oauth/v1/token")
    assert b'"grant_type":"client_credentials"' in token_req.body
    api = [r.headers["authorization"] for r in srv.requests if r.path != "/oauth/v1/token"]
    assert api == ["Bearer tok1", "Bearer tok2"]


def test_oauth_refreshes_once_on_401(scripted) -> None:
    script, state = oauth_server(lifetime=3600, reject_first_api_call=True)
    srv = scripted(script)
    with oauth_client(srv.url) as c:
        assert c.get_page(INTER, {}).records == [rec(1)]
    assert state["issued"] == 2


def test_oauth_rejected_client_is_an_auth_error(scripted) -> None:
    srv = scripted(lambda req: Reply(401, {"code": "AUTHENTICATION_FAILED", "message": "invalid client"}))
    with oauth_client(srv.url) as c, pytest.raises(AuthError) as ei:
        c.get_page(INTER, {})
    assert "csecret" not in str(ei.value) and "cid" in str(ei.value)


def test_no_credentials_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="MWDATA_API_KEY"):
        ApiClient(ApiConfig(base_url="http://127.0.0.1:1"))


def test_unreachable_host_fails_fast() -> None:
    cfg = ApiConfig(base_url="http://127.0.0.1:9", api_key=Secret(KEY), requests_per_minute=0)
    with ApiClient(cfg, backoff_base=0.01) as c, pytest.raises(ApiError, match="cannot connect"):
        c.get_page(INTER, {})


# -- pacing ---------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def test_pacer_spaces_requests_across_workers() -> None:
    clock = FakeClock()
    p = Pacer(120, clock=clock, sleep=lambda s: None)
    waits = [p.acquire() for _ in range(5)]  # same instant, as if five workers asked at once
    assert waits == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_pacer_slows_down_after_429_and_recovers() -> None:
    clock = FakeClock()
    p = Pacer(600, clock=clock, sleep=clock.sleep)
    p.throttled(3.0)
    assert p.rate == pytest.approx(420)
    assert p.acquire() == pytest.approx(3.0)
    for _ in range(20):
        p.succeeded()
    # quickly back to just below the throttled rate, then only slowly beyond it
    assert p.rate == pytest.approx(0.95 * 600 + 20 * 30 / 50)  # 570 + 20 small steps, not 600
    for _ in range(100):
        p.succeeded()
    assert p.rate == 600


def test_pacer_real_threads_respect_the_limit() -> None:
    p = Pacer(1200)  # 20 per second
    t0 = time.monotonic()
    threads = [threading.Thread(target=lambda: [p.acquire() for _ in range(5)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - t0 >= 19 * 0.05 - 0.01
