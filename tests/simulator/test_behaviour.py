"""The generator's behaviour model: knowledge popularity, rhythm, rollout, incidents, interceptions,
utterances. Figures held here are quoted in docs/simulator.md."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from functools import cache
from statistics import median
from zoneinfo import ZoneInfo

import pytest

from mwdata.errors import ConfigError
from mwdata.simulator import Dataset, GeneratorConfig, generate
from mwdata.simulator.vocabulary import LOCATIONS

END = datetime(2026, 11, 28, tzinfo=UTC)
KB = ("RESOURCE_TYPE_KNOWLEDGE", "RESOURCE_TYPE_FILE")


@cache
def tenant(seed: int, users: int = 2000, days: int = 30, **kw: object) -> Dataset:
    return generate(GeneratorConfig(seed=seed, users=users, days=days, end=END, **kw))  # type: ignore[arg-type]


def _day(ts: str) -> date:
    return date.fromisoformat(ts[:10])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_knowledge_is_heavy_tailed_named_and_has_gaps(seed: int) -> None:
    rs = tenant(seed).records["plugin-resources"]
    kb = [r for r in rs if r["type"] in KB]
    cites = Counter(r["resource_id"] for r in kb if r["cited"])
    top10 = sum(n for _, n in cites.most_common(10))
    assert top10 / cites.total() >= 0.20, (top10, cites.total())
    assert cites.most_common(1)[0][1] >= 20
    # a finite catalogue of stable, named articles (no null names), each from one knowledge source
    assert len({r["resource_id"] for r in kb}) <= 300
    assert all(r["detail"]["name"] and r["detail"]["url"].startswith("https://") for r in kb)
    hosts = {r["detail"]["url"].split("/")[2] for r in kb}
    assert {"acme.service-now.com", "acme.atlassian.net", "acme.sharepoint.com"} <= hosts
    assert all(r["detail"]["external_resource_id"].startswith("KB") for r in kb
               if "service-now" in r["detail"]["url"])  # fmt: skip
    # content gaps: articles among the 50 most served that are almost never cited
    served = Counter(r["resource_id"] for r in kb)
    gaps = [rid for rid, n in served.most_common(50) if n >= 100 and cites[rid] / n < 0.05]
    assert len(gaps) >= 2, gaps


@pytest.mark.parametrize("seed", [1, 4, 7])
def test_business_days_hours_and_holidays(seed: int) -> None:
    ds = tenant(seed, users=400, days=28)
    inter = ds.records["interactions"]
    per_day = Counter(_day(x["created_time"]) for x in inter)
    weekday = [n for d, n in per_day.items() if d.weekday() < 5]
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    assert (sum(weekday) / len(weekday)) / (sum(weekend) / len(weekend)) >= 2
    # free text in the asker's own business hours (local 08:00-18:00, office time zone from HR)
    office = {u["id"]: h["location"] for u, h in zip(ds.records["users"], ds.hr_rows, strict=True)}
    local = [
        datetime.fromisoformat(x["created_time"].replace("Z", "+00:00"))
        .astimezone(ZoneInfo(LOCATIONS[office[x["user_id"]]][1]))
        .hour
        for x in inter
        if x["type"] == "INTERACTION_TYPE_FREE_TEXT"
    ]
    assert sum(8 <= h < 18 for h in local) / len(local) >= 0.7
    # US Thanksgiving (2026-11-26): US offices about as quiet as on a weekend
    us = {u for u, loc in office.items() if LOCATIONS[loc][0] == "US"}
    us_day = Counter(_day(x["created_time"]) for x in inter if x["user_id"] in us)
    assert us_day[date(2026, 11, 26)] < 0.5 * median(us_day[d] for d in us_day if d.weekday() < 5)


def test_rollout_ramp_and_department_adoption() -> None:
    ds = tenant(1)
    dept = {u["id"]: h["department"] for u, h in zip(ds.records["users"], ds.hr_rows, strict=True)}
    convs = [c for c in ds.records["conversations"] if not c.get("type")]
    first_week = sum(1 for c in convs if _day(c["created_time"]) < date(2026, 11, 5))
    last_week = sum(1 for c in convs if _day(c["created_time"]) >= date(2026, 11, 21))
    assert last_week > 2 * first_week, (first_week, last_week)
    # wave 0 (Engineering, Support) is live from the start; wave 2 (Sales, Marketing, Legal) only later
    early = Counter(dept[c["user_id"]] for c in convs if _day(c["created_time"]) < date(2026, 11, 3))
    assert early["Engineering"] > 0 and early["Sales"] == early["Legal"] == 0
    headcount = Counter(dept.values())
    active = Counter(dept[u] for u in {c["user_id"] for c in convs})
    share = {d: active[d] / headcount[d] for d in headcount}
    assert share["Support"] > share["Legal"] + 0.2, share


def test_incidents_show_in_the_data() -> None:
    ds = tenant(2)
    days = {i["kind"]: i["day"] for i in ds.incidents}
    assert set(days) == {"announcement", "plugin_failure", "channel_outage"}
    convs = Counter(_day(c["created_time"]) for c in ds.records["conversations"])
    normal = median(n for d, n in convs.items() if d.weekday() < 5 and d not in days.values())
    assert convs[days["announcement"]] > 2.5 * normal
    calls = [c for c in ds.records["plugin-calls"] if c["plugin_name"] == "Create Ticket"]
    on_day = [c for c in calls if _day(c["created_time"]) == days["plugin_failure"]]
    assert on_day and not any(c["served"] for c in on_day)
    assert sum(c["served"] for c in calls) / len(calls) > 0.5  # the other days work
    slack = Counter(_day(x["created_time"]) for x in ds.records["interactions"] if x["platform"] == "slack")
    assert slack[days["channel_outage"]] < 0.3 * median(n for d, n in slack.items() if d.weekday() < 5)
    assert generate(GeneratorConfig(seed=2, users=50, days=30, end=END, incidents=False)).incidents == []
    assert generate(GeneratorConfig(seed=2, users=50, days=6, end=END)).incidents == []  # no baseline


@pytest.mark.parametrize("seed", [1, 2])
def test_some_interceptions_are_deflected(seed: int) -> None:
    ds = tenant(seed)
    tickets = {
        c["id"]
        for c in ds.records["conversations"]
        if c.get("type") == "CONVERSATION_TYPE_TICKET_INTERCEPTION"
    }
    engaged, filed = set(), set()
    for x in ds.records["interactions"]:
        if x["conversation_id"] in tickets and x["actor"] == "user":
            engaged.add(x["conversation_id"])
            if x["label"] == "file_ticket":
                filed.add(x["conversation_id"])
    rate = len(engaged - filed) / len(tickets)
    assert 0.15 <= rate <= 0.45, rate  # engagement 0.4, of which 70 % without a ticket: ~0.28


def test_utterances_vary_by_topic_and_language() -> None:
    ds = tenant(3)
    lang = {u["id"]: u["user_preferred_language"] for u in ds.records["users"]}
    texts: dict[tuple[str, str], set[str]] = {}
    for x in ds.records["interactions"]:
        if x["type"] == "INTERACTION_TYPE_FREE_TEXT":
            texts.setdefault((x["detail"]["entity"] or "-", lang[x["user_id"]]), set()).add(
                x["detail"]["content"]
            )
    assert len(texts[("vpn", "EN_US")]) >= 10
    assert texts[("vpn", "ES_ES")] and texts[("vpn", "FR_CA")]
    assert texts[("vpn", "ES_ES")].isdisjoint(texts[("vpn", "EN_US")])
    assert len({t for (topic, _), ts_ in texts.items() for t in ts_}) >= 300


def test_bad_knobs_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="weekend_share"):
        GeneratorConfig(weekend_share=2)
    with pytest.raises(ConfigError, match="failing_plugin 'nope'"):
        GeneratorConfig(failing_plugin="nope")
    with pytest.raises(ConfigError, match="outage_platform"):
        GeneratorConfig(outage_platform="email")
