"""The simulated API over real HTTP (httpx on loopback): query options against a plain-Python reference,
paging, samples replay, auth, scopes, rate limit and faults."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mwdata.catalog import ENTITIES
from mwdata.simulator import load_fixed_dataset


def fetch_all(client: httpx.Client, url: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        r = client.get(next_url, params=params if next_url == url else None)
        assert r.status_code == 200, r.text
        body = r.json()
        out += body.get("value", [])
        next_url = body.get("@odata.nextLink")
    return out


def _inst(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_paging_returns_every_row_once(simulator) -> None:
    sim = simulator(page_size=97)
    with httpx.Client(headers={"Authorization": sim.api_key}) as c:
        for e in ENTITIES:
            rows = fetch_all(c, f"{sim.records_url}/{e.path}")
            ids = [r["id"] for r in rows]
            assert len(ids) == len(set(ids))
            assert sorted(ids) == sorted(r["id"] for r in sim.truth(e.path))


def test_samples_replay_field_for_field(simulator, samples_dir: Path) -> None:
    sim = simulator(load_fixed_dataset(samples_dir))
    with httpx.Client(headers={"Authorization": f"Bearer {sim.api_key}"}) as c:
        for e in ENTITIES:
            raw = json.loads((samples_dir / f"{e.path}.json").read_text())["value"]
            got = fetch_all(c, f"{sim.base_url}/export/v1/records/{e.path}")
            assert sorted(got, key=lambda r: r["id"]) == sorted(raw, key=lambda r: r["id"])


def test_query_options(simulator) -> None:
    sim = simulator()
    truth = sim.truth("interactions")
    with httpx.Client(headers={"Authorization": sim.api_key}) as c:
        url = f"{sim.records_url}/interactions"
        lo = "2026-11-10T00:00:00Z"
        flt = f"last_updated_time ge '{lo}' and (actor eq 'bot' or not (platform ne 'slack'))"
        got = fetch_all(c, url, {"$filter": flt, "$orderby": "last_updated_time desc,id"})
        want = [
            r
            for r in truth
            if _inst(r["last_updated_time"]) >= _inst(lo)
            and (r["actor"] == "bot" or r["platform"] == "slack")
        ]
        want.sort(key=lambda r: r["id"])
        want.sort(key=lambda r: _inst(r["last_updated_time"]), reverse=True)
        assert got == want and got
        # instants, not strings
        same = fetch_all(c, url, {"$filter": "last_updated_time ge '2026-11-10T00:00:00.000Z'"})
        assert len(same) == len([r for r in truth if _inst(r["last_updated_time"]) >= _inst(lo)])
        r = c.get(url, params={"$top": "5", "$skip": "3", "$select": "id,actor", "$count": "true"}).json()
        assert r["@odata.count"] == len(truth)
        assert r["value"] == [
            {"id": x["id"], "actor": x["actor"]} for x in sorted(truth, key=lambda x: x["id"])[3:8]
        ]
        assert "@odata.nextLink" not in r and r["@odata.context"].endswith("#interactions")
        assert c.get(f"{url}/$count").text == str(len(truth))
        assert len(c.get(url, params={"$top": "5000"}).json()["value"]) == 500  # page size caps a page
        for bad in ("nope eq 1", "detail/content eq 'x'", "actor eq", "actor xx 'a'", "(actor eq 'a'"):
            resp = c.get(url, params={"$filter": bad})
            assert resp.status_code == 400 and resp.json()["message"], bad
        assert c.get(url, params={"$orderby": "nope"}).status_code == 400


_FIELDS = ("actor", "platform", "type", "label", "created_time", "last_updated_time", "id")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    clauses=st.lists(
        st.tuples(
            st.sampled_from(_FIELDS),
            st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]),
            st.integers(0, 400),
        ),
        min_size=1,
        max_size=3,
    ),
    joiner=st.sampled_from([" and ", " or "]),
    negate=st.booleans(),
    orderby=st.lists(
        st.tuples(st.sampled_from(_FIELDS), st.booleans()), min_size=0, max_size=2, unique_by=lambda t: t[0]
    ),
)
def test_filter_and_orderby_property(simulator, clauses, joiner, negate, orderby) -> None:
    sim = _PROPERTY_SIM.get("sim") or _PROPERTY_SIM.setdefault("sim", simulator())
    truth = sorted(sim.truth("interactions"), key=lambda r: r["id"])
    parts, preds = [], []
    for name, op, k in clauses:
        value = truth[k % len(truth)][name]
        lit = "null" if value is None else "'" + value.replace("'", "''") + "'"
        parts.append(f"{name} {op} {lit}")
        conv = _inst if name.endswith("_time") else (lambda x: x)
        preds.append((name, op, None if value is None else conv(value), conv))
    flt = joiner.join(parts)
    if negate:
        flt = f"not ({flt})"

    def ref(r: dict[str, Any]) -> bool:
        res = []
        for name, op, v, conv in preds:
            x = None if r[name] is None else conv(r[name])
            if op in ("eq", "ne"):
                res.append((x == v) == (op == "eq"))
            elif x is None or v is None:
                res.append(False)
            else:
                res.append({"gt": x > v, "ge": x >= v, "lt": x < v, "le": x <= v}[op])
        out = all(res) if joiner == " and " else any(res)
        return not out if negate else out

    want = [r for r in truth if ref(r)]
    for name, desc in reversed(orderby):
        conv = _inst if name.endswith("_time") else (lambda x: x)
        want.sort(key=lambda r: (0, 0) if r[name] is None else (1, conv(r[name])), reverse=desc)
    params = {"$filter": flt}
    if orderby:
        params["$orderby"] = ",".join(f"{n} {'desc' if d else 'asc'}" for n, d in orderby)
    with httpx.Client(headers={"Authorization": sim.api_key}) as c:
        got = fetch_all(c, f"{sim.records_url}/interactions", params)
    assert [r["id"] for r in got] == [r["id"] for r in want]


_PROPERTY_SIM: dict[str, Any] = {}


def test_auth_tokens_scopes_and_errors(simulator) -> None:
    sim = simulator(token_lifetime_s=1, error_shape="nested")
    url = f"{sim.records_url}/users"
    assert httpx.get(url, headers={"Authorization": "wrong"}).status_code == 401
    r = httpx.get(url, headers={"Authorization": "key-conv"})
    assert r.status_code == 403 and "users" in r.json()["error"]["message"]
    assert httpx.get(f"{sim.records_url}/nope", headers={"Authorization": sim.api_key}).status_code == 404
    bad = httpx.post(
        f"{sim.base_url}/oauth/v1/token",
        json={"client_id": "cid", "client_secret": "x", "grant_type": "client_credentials"},
    )
    assert bad.status_code == 401
    tok = httpx.post(
        f"{sim.base_url}/oauth/v1/token",
        json={"client_id": "cid", "client_secret": "secret", "grant_type": "client_credentials"},
    ).json()["data"]
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 1
    hdr = {"Authorization": f"Bearer {tok['access_token']}"}
    assert httpx.get(url, headers=hdr).status_code == 200
    import time

    time.sleep(1.1)
    assert httpx.get(url, headers=hdr).status_code == 401


def test_rate_limit_and_retry_after(simulator) -> None:
    sim = simulator(rate_limit_per_minute=60, retry_after=True)  # burst of 1
    with httpx.Client(headers={"Authorization": sim.api_key}) as c:
        codes = [c.get(f"{sim.records_url}/users", params={"$top": "1"}) for _ in range(4)]
    assert [r.status_code for r in codes][:2] == [200, 429]
    assert codes[1].headers["Retry-After"] == "1" and sim.stats.throttled >= 1


@pytest.mark.parametrize("knob", ["fail_rate", "truncate_rate", "drop_rate"])
def test_faults_happen_at_their_rate(simulator, knob: str) -> None:
    sim = simulator(**{knob: 0.5}, seed=3)
    outcomes = []
    for _ in range(40):
        try:
            r = httpx.get(f"{sim.records_url}/users", headers={"Authorization": sim.api_key}, timeout=5)
            r.json()
            outcomes.append(r.status_code)
        except (httpx.HTTPError, json.JSONDecodeError):
            outcomes.append(-1)
    bad = sum(1 for o in outcomes if o != 200)
    assert 8 <= bad <= 32, outcomes
    if knob == "fail_rate":
        assert set(outcomes) <= {200, 500, 502, 503}


def test_variant_spellings(simulator) -> None:
    sim = simulator(page_size=10, nextlink_spelling="odata.nextlink", omit_empty_value=True)
    with httpx.Client(headers={"Authorization": sim.api_key}) as c:
        body = c.get(f"{sim.records_url}/users").json()
        assert "odata.nextlink" in body and "@odata.nextLink" not in body
        empty = c.get(f"{sim.records_url}/users", params={"$filter": "id eq 'none'"}).json()
        assert "value" not in empty


def test_clock_visibility_retention_and_reemit(simulator) -> None:
    sim = simulator()
    n0 = len(sim.truth("conversations"))
    sim.set_now(datetime(2026, 11, 20, tzinfo=UTC))
    visible = sim.truth("conversations")
    assert 0 < len(visible) < n0 and all(
        _inst(r["last_updated_time"]) <= datetime(2026, 11, 20, tzinfo=UTC) for r in visible
    )
    sim.set_now(datetime(2026, 11, 28, tzinfo=UTC))
    sim.advance(hours=24 * 10)
    assert len(sim.truth("conversations")) < n0  # retention drops the oldest rows
    ids = sim.reemit("conversations", fraction=0.05, seed=1)
    truth = {r["id"]: r for r in sim.truth("conversations")}
    assert ids and all(
        0 < (sim.now() - _inst(truth[i]["last_updated_time"])).total_seconds() < 0.01 for i in ids
    )
    # a standing clock never gives one record two different versions with the same stamp
    again = sim.reemit("conversations", fraction=0.5, seed=2)
    assert again and not set(again) & set(ids)
    seen = {"n": 0}
    sim.on_request(lambda *_: seen.__setitem__("n", seen["n"] + 1))
    httpx.get(f"{sim.records_url}/users", headers={"Authorization": sim.api_key})
    assert seen["n"] == 1


def test_skiptoken_offset_paging_shifts_over_changing_data(simulator) -> None:
    """The real API's hazard, kept: a row inserted before the offset makes the next page repeat a row."""
    sim = simulator(page_size=50)
    with httpx.Client(headers={"Authorization": sim.api_key}) as c:
        first = c.get(f"{sim.records_url}/users").json()
        new = dict(first["value"][0], id="0", last_updated_time="2026-11-20T00:00:00.000Z")
        sim.upsert("users", [new])
        second = c.get(first["@odata.nextLink"]).json()
        assert second["value"][0]["id"] == first["value"][-1]["id"]  # repeated across pages


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lo=st.integers(0, 400),
    hi=st.integers(0, 400),
    ops=st.tuples(st.sampled_from(["ge", "gt"]), st.sampled_from(["lt", "le"])),
    start=st.integers(0, 400),
    second=st.sampled_from([None, "gt", "ge"]),
    extra=st.sampled_from([None, "platform eq 'slack'", "actor ne null"]),
    top=st.integers(5, 23),  # at most the page size: a short page ends the read
)
def test_keyset_paging_property(simulator, lo, hi, ops, start, second, extra, top) -> None:
    """Keyset pages (time window + `id gt '<last id>'`, `$orderby=id`), as the sync reads them, against a
    plain-Python reference: every matching row once, in id order, whatever the window, bound and page."""
    sim = _PROPERTY_SIM.get("keyset") or _PROPERTY_SIM.setdefault("keyset", simulator(page_size=23))
    truth = sorted(sim.truth("interactions"), key=lambda r: r["id"])
    t_lo = truth[lo % len(truth)]["last_updated_time"]
    t_hi = truth[hi % len(truth)]["last_updated_time"]
    first = truth[start % len(truth)]["id"]
    cmp = {
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
    }

    def ref(r: dict[str, Any], after: str) -> bool:
        t = _inst(r["last_updated_time"])
        ok = cmp[ops[0]](t, _inst(t_lo)) and cmp[ops[1]](t, _inst(t_hi)) and r["id"] > after
        if second is not None and first:  # a looser second bound on the same id must not widen it
            ok = ok and cmp[second](r["id"], first)
        if extra == "platform eq 'slack'":
            ok = ok and r["platform"] == "slack"
        elif extra == "actor ne null":
            ok = ok and r["actor"] is not None
        return ok

    if start % 3 == 0:  # a window's first page carries no id bound
        first = ""
    want = [r["id"] for r in truth if ref(r, first)]
    got: list[str] = []
    after = first
    with httpx.Client(headers={"Authorization": sim.api_key}) as c:
        while True:
            parts = [f"last_updated_time {ops[0]} '{t_lo}'", f"last_updated_time {ops[1]} '{t_hi}'"]
            if after:
                parts.append(f"id gt '{after}'")
            if second is not None and first:
                parts.append(f"id {second} '{first}'")
            if extra:
                parts.append(extra)
            r = c.get(
                f"{sim.records_url}/interactions",
                params={"$filter": " and ".join(parts), "$orderby": "id", "$top": str(top)},
            )
            assert r.status_code == 200, r.text
            rows = r.json().get("value", [])
            got += [x["id"] for x in rows]
            if len(rows) < top:
                break
            after = rows[-1]["id"]
    assert got == want
