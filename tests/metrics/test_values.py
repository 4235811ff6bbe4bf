"""Every metric's value on the hand-made tenant (tests/metrics/handmade.py), worked out by hand:
over November, per ISO week, per month, and with one filter - through mwdata.metrics.query on a
store built by `mwdata build`."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from mwdata.config import Config, TransformConfig
from mwdata.metrics import MetricError, get_metric, load_registry, query, value
from mwdata.metrics.registry import row_condition
from mwdata.transform import build
from tests.metrics import handmade
from tests.transform.fixtures import load_duckdb

NOV = (date(2026, 11, 1), date(2026, 11, 30))
WEEKS = (date(2026, 11, 2), date(2026, 11, 15))
W1, W2 = date(2026, 11, 2), date(2026, 11, 9)
NA = None  # a week without rows, or a ratio over 0

# metric: (value over November, {week start: value}, (filter, value with the filter))
EXPECTED: dict[str, tuple[float | None, dict[date, float | None], tuple[dict[str, object], float | None]]] = {
    "active_users": (4, {W1: 2, W2: 4}, ({"platform": "slack"}, 2)),  # u1 u2 | u1 u2 u3 u5; slack: u1 u3
    "adoption_rate": (4 / 3, {W1: 2 / 3, W2: 4 / 3}, ({"department": "Eng"}, 2 / 1)),  # access: u1 u2 u5
    "new_users": (3, {W1: 2, W2: 1}, ({"department": "Eng"}, 2)),  # u1 u2 | u3 (u5 in Oct, u4 test)
    "conversations": (11, {W1: 5, W2: 6}, ({"route": "DM"}, 7)),  # c3 is the test user's
    "interactions": (12, {W1: 6, W2: 6}, ({"platform": "slack"}, 7)),
    "topic_interactions": (8, {W1: 4, W2: 4}, ({"platform": "msteams"}, 3)),  # i3 i8 i10
    "helpful_rate": (1 / 2, {W1: 1 / 2, W2: NA}, ({"platform": "slack"}, 1 / 2)),  # i2 HELPFUL, i7 UNHELPFUL
    "csat_comments": (1, {W1: 0, W2: 1}, ({"platform": "msteams"}, 1)),
    "plugin_calls": (7, {W1: 4, W2: 3}, ({"is_native": True}, 4)),  # native: p1 p2 p4 p6 ("Forms": no space)
    "plugin_served_rate": (5 / 7, {W1: 3 / 4, W2: 2 / 3}, ({"is_native": True}, 1.0)),
    "plugin_used_rate": (4 / 5, {W1: 2 / 3, W2: 1.0}, ({"is_native": True}, 3 / 4)),
    "plugin_unsuccessful": (2, {W1: 1, W2: 1}, ({"is_native": False}, 2)),  # p5 p8
    "plugin_latency": (10, {W1: 6, W2: 10}, ({"is_native": True}, 20)),  # 1 1 2 10 10 30 600
    "plugin_latency_p90": (258, {W1: 24, W2: 482}, ({"is_native": True}, 429)),  # 30 + 0.4 * 570
    # knowledge-type resources: r1 cited, r8, r7 | r4 cited, r5 (r3 the test user's, r6 a record)
    "citation_rate": (2 / 5, {W1: 1 / 3, W2: 1 / 2}, ({"resource_type": "RESOURCE_TYPE_KNOWLEDGE"}, 1 / 4)),
    "article_citations": (2, {W1: 1, W2: 1}, ({"resource_id": "art1"}, 1)),
    "knowledge_success_rate": (1 / 11, {W1: 1 / 5, W2: 0.0}, ({"route": "DM"}, 1 / 7)),  # c1
    "escalation_rate": (2 / 9, {W1: 1 / 4, W2: 1 / 5}, ({"platform": "slack"}, 1 / 5)),  # c2 label, c7 plugin
    "containment_rate": (2 / 7, {W1: 1 / 3, W2: 1 / 4}, ({"platform": "msteams"}, 1 / 2)),  # c1 c8
    "deflection_rate": (1 / 2, {W1: 1 / 2}, ({"department": "Sales"}, 1.0)),  # c5 of c5 c6
    "unsuccessful_only_rate": (1 / 6, {W1: 0.0, W2: 1 / 3}, ({"platform": "slack"}, 1 / 4)),  # c9
    "abandonment_rate": (1 / 2, {W1: 1.0, W2: 0.0}, ({"is_native": True}, 1.0)),  # served action: p4 p7
    "served_not_cited_rate": (
        3 / 5,
        {W1: 2 / 3, W2: 1 / 2},
        ({"resource_type": "RESOURCE_TYPE_KNOWLEDGE"}, 3 / 4),
    ),
    "knowledge_gaps": (6 / 8, {W1: 3 / 4, W2: 3 / 4}, ({"topic": "payroll"}, 1 / 2)),  # only i1 i10 answered
    "channel_adoption": (1.0, {W1: 1.0, W2: 1.0}, ({"platform": "slack"}, 7 / 12)),
    "interactions_per_conversation": (12 / 9, {W1: 6 / 4, W2: 6 / 5}, ({"platform": "msteams"}, 4 / 3)),
    "conversations_per_user": (9 / 4, {W1: 4 / 2, W2: 5 / 4}, ({"platform": "slack"}, 5 / 2)),
    "stickiness": (9 / 9 / 4, {W1: 4 / 4 / 2, W2: 5 / 5 / 4}, ({"platform": "slack"}, 5 / 5 / 2)),
    "segment_adoption": (4 / 5, {W1: 2 / 5, W2: 4 / 5}, ({"department": "Sales"}, 1 / 2)),  # headcount 5
    "notification_engagement_rate": (1 / 2, {W2: 1 / 2}, ({"department": "Eng"}, 1.0)),  # c11 of c10 c11
    "interception_reach_out_rate": (1.0, {W1: 1.0}, ({"department": "Eng"}, 1.0)),
    "time_to_resolution": (
        (11 / 60 + 20 / 60) / 2,  # 3 s, 11 s, 20 s, 605 s
        {W1: (3 / 60 + 20 / 60) / 2, W2: (11 / 60 + 605 / 60) / 2},
        ({"primary_domain": "IT"}, (3 / 60 + 605 / 60) / 2),
    ),
    "time_saved": (32, {W1: 4 + 10, W2: 10 + 8}, ({"plugin_kind": "escalation"}, 10 + 10)),
    "unhelpful_feedback": (1, {W1: 1, W2: 0}, ({"platform": "msteams"}, 0)),  # i7 (slack)
    # user-engaged conversations with a served plugin: c1 c2 c4 | c7 c8 (c9's only call unserved); used: c4 not
    "plugin_served_conversations": (5, {W1: 3, W2: 2}, ({"platform": "slack"}, 3)),  # c1 c4 c7
    "plugin_used_conversations": (4, {W1: 2, W2: 2}, ({"platform": "slack"}, 2)),  # c1 c7
    "resolved_conversations": (4, {W1: 2, W2: 2}, ({"primary_domain": "IT"}, 2)),  # c1 c2 | c7 c8; IT: c1 c7
    "time_to_resolution_p90": (  # 3 s, 11 s, 20 s, 605 s: position 0.9 x 3 = 2.7 between 20 and 605
        (20 + 0.7 * 585) / 60,
        {W1: (3 + 0.9 * 17) / 60, W2: (11 + 0.9 * 594) / 60},
        ({"primary_domain": "IT"}, (3 + 0.9 * 602) / 60),
    ),
    "article_conversations": (4, {W1: 3, W2: 1}, ({"resource_id": "art2"}, 2)),  # c1 c2 c4 | c8; art2: c4 c8
    "article_unhelpful_conversations": (1, {W1: 1, W2: 0}, ({"resource_id": "art1"}, 0)),  # c4 (art2)
    "article_ticket_conversations": (1, {W1: 1, W2: 0}, ({"platform": "slack"}, 0)),  # c2 (msteams)
    # free-text questions i1 i3 i6 i8 | i9 i10 i12 i14; cited: i1, i3 (r6, a record), i10
    "uncited_questions": (
        5,
        {W1: 2, W2: 3},
        ({"platform": "slack"}, 3),
    ),  # i6 i8 | i9 i12 i14; slack: i6 i9 i12
    "unhelpful_questions": (0, {W1: 0, W2: 0}, ({"platform": "slack"}, 0)),  # feedback is on i7, not on i6
    "escalated_questions": (2, {W1: 1, W2: 1}, ({"topic": "payroll"}, 1)),  # i3 (c2) | i9 (c7); payroll: i3
}
SPECIAL = {"retained_users", "dau_wau_mau"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    d = tmp_path_factory.mktemp("handmade")
    db = d / "s.duckdb"
    load_duckdb(db, handmade.records())
    (d / "hr.csv").write_text(handmade.hr_csv())
    result = build(Config(store=str(db), transform=TransformConfig(hr_file=str(d / "hr.csv"))))
    assert not result.errors, [(r.name, r.message[:200]) for r in result.errors]
    with duckdb.connect(str(db), read_only=True) as con:
        yield con


def _same(got: float | None, want: float | None) -> bool:
    if want is None:
        return got is None or (isinstance(got, float) and math.isnan(got))
    return got is not None and not math.isnan(got) and got == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_every_metric_has_a_hand_worked_value() -> None:
    assert {m.name for m in load_registry()} == set(EXPECTED) | SPECIAL


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_value_week_month_and_filter(store: duckdb.DuckDBPyConnection, name: str) -> None:
    total, weeks, (flt, filtered) = EXPECTED[name]
    assert _same(value(store, name, *NOV), total), ("november", value(store, name, *NOV))
    s = query(store, name, grain="week", since=WEEKS[0], until=WEEKS[1])
    got = dict(zip(s["period"], s["value"], strict=True))
    for week in (W1, W2):
        assert _same(got.get(week), weeks.get(week)), (week, got)
    month = query(store, name, grain="month", since=NOV[0], until=NOV[1])
    assert list(month["period"]) == [date(2026, 11, 1)] and _same(month["value"].iloc[0], total)
    assert _same(value(store, name, *NOV, where=flt), filtered), (flt, value(store, name, *NOV, where=flt))


def test_retained_users(store: duckdb.DuckDBPyConnection) -> None:
    # W1 active: u1 u2; W2 active: u1 u2 u3 u5 -> 2 of 2 retained; Eng: u1 of u1
    df = query(store, "retained_users", since=W2, until=WEEKS[1])
    assert (df["numerator"].iloc[0], df["denominator"].iloc[0], df["value"].iloc[0]) == (2, 2, 1.0)
    assert value(store, "retained_users", W2, WEEKS[1], where={"department": "Eng"}) == 1.0
    weekly = query(store, "retained_users", grain="week", since=WEEKS[0], until=WEEKS[1])
    assert weekly[["period", "numerator", "denominator"]].values.tolist() == [[W2, 2, 2]]  # W1: none before
    daily = query(store, "retained_users", grain="day", since=date(2026, 11, 11), until=date(2026, 11, 12))
    # 11 Nov: u2, after 10 Nov's u3 -> 0 of 1; 12 Nov: u1, after u2 -> 0 of 1
    assert daily[["numerator", "denominator"]].values.tolist() == [[0, 1], [0, 1]]
    by = query(store, "retained_users", by=["department"], since=W2, until=WEEKS[1])
    assert by.set_index("department")["denominator"].to_dict() == {"Eng": 1, "Sales": 1}


def test_dau_wau_mau(store: duckdb.DuckDBPyConnection) -> None:
    df = query(store, "dau_wau_mau", grain="day", since=date(2026, 11, 1), until=WEEKS[1]).set_index("period")
    # 12 Nov: u1 that day; u2 u3 u1 in 6-12 Nov; u1 u2 u3 since 14 Oct. 15 Nov: u5; all four.
    assert df.loc[date(2026, 11, 12), ["dau", "wau", "mau"]].tolist() == [1, 3, 3]
    assert df.loc[date(2026, 11, 15), ["dau", "wau", "mau"]].tolist() == [1, 4, 4]
    assert df.loc[date(2026, 11, 8), ["dau", "wau", "mau"]].tolist() == [0, 2, 2]  # a quiet Sunday
    assert value(store, "dau_wau_mau", since=W1, until=WEEKS[1]) == 1  # the value on the last day
    eng = query(store, "dau_wau_mau", grain="day", since=date(2026, 11, 14), until=date(2026, 11, 14),
                where={"department": "Eng"})  # fmt: skip
    assert eng[["dau", "wau", "mau"]].values.tolist() == [[1, 2, 2]]  # u3; u3 u1
    with pytest.raises(MetricError, match="grain day"):
        query(store, "dau_wau_mau", grain="week")


def test_day_grain_and_groups(store: duckdb.DuckDBPyConnection) -> None:
    daily = query(store, "interactions", grain="day", since=W1, until=date(2026, 11, 6))
    assert dict(zip(daily["period"], daily["value"], strict=True)) == {
        date(2026, 11, 2): 2, date(2026, 11, 3): 1, date(2026, 11, 5): 2, date(2026, 11, 6): 1
    }  # fmt: skip
    by = query(store, "escalation_rate", by=["department"], since=NOV[0], until=NOV[1])
    rows = {r.department: (r.numerator, r.denominator) for r in by.itertuples()}
    assert rows == {"Eng": (1, 5), "Sales": (1, 3), None: (0, 1)}
    seg = query(store, "segment_adoption", by=["department"], since=NOV[0], until=NOV[1])
    assert {r.department: r.value for r in seg.itertuples()} == {"Eng": 1.0, "Sales": 0.5, None: 1.0}
    share = query(
        store, "channel_adoption", grain="week", since=WEEKS[0], until=WEEKS[1], where={"platform": "slack"}
    )
    assert share["value"].tolist() == pytest.approx([4 / 6, 3 / 6])
    both = value(store, "interactions", *NOV, where={"platform": ["slack", "web"]})
    assert both == 8
    # a share's total drops only the share's dimension: Eng's 7 interactions are all on slack
    assert value(store, "channel_adoption", *NOV, where={"platform": "slack", "department": "Eng"}) == 1.0
    by = query(store, "channel_adoption", by=["platform", "department"], since=NOV[0], until=NOV[1])
    assert {(r.platform, r.department): r.value for r in by.itertuples()} == {
        ("slack", "Eng"): 1.0, ("msteams", "Sales"): 1.0, ("web", None): 1.0
    }  # fmt: skip
    # cohorts: active users per week by the week of their first_interaction_time (users entity)
    co = query(
        store, "active_users", grain="week", by=["first_interaction_day__week"], since=W1, until=WEEKS[1]
    )
    assert co[["period", "first_interaction_day__week", "value"]].values.tolist() == [
        [W1, W1, 2], [W2, date(2026, 10, 19), 1], [W2, W1, 2], [W2, W2, 1]
    ]  # fmt: skip  # u1 u2 | u5 (20 Oct), u1 u2, u3


def test_test_users_and_open_periods(store: duckdb.DuckDBPyConnection) -> None:
    assert value(store, "active_users", *NOV, include_test_users=True) == 5  # u4 too
    assert value(store, "conversations", *NOV, include_test_users=True) == 12
    assert value(store, "plugin_used_rate", *NOV, include_test_users=True) == pytest.approx(4 / 6)
    assert value(store, "conversations") == 11  # no bounds: everything
    assert value(store, "conversations", since=W2) == 6
    assert value(store, "conversations", until=date(2026, 11, 8)) == 5


def test_row_conditions_count_what_the_metrics_count(store: duckdb.DuckDBPyConnection) -> None:
    """The drill-down's row conditions (read.measures) come from the metric definitions: the rows
    they select number exactly the metric's value, test users included (no user filter)."""
    from mwdata.read import measures

    drilled = [*measures.CONVERSATION, *measures.INTERACTION, *measures.PLUGIN_CALL, *measures.RESOURCE]
    assert len(drilled) == 22
    metrics = [
        m.name for m in load_registry(include_parts=True) if m.type == "simple" and len(m.measures) == 1
    ]
    checked = 0
    for name in metrics:
        try:
            table, condition = row_condition(name)
        except MetricError:
            continue  # a distinct count, a sum of minutes, a percentile: not a count of rows
        (rows,) = store.execute(f"SELECT count(*) FROM analytics.{table} WHERE {condition}").fetchone()  # type: ignore[misc]
        assert rows == (value(store, name, include_test_users=True) or 0), name
        checked += 1
    assert checked >= len(drilled)
    with pytest.raises(MetricError, match="not a count of rows"):
        row_condition("active_users")  # count_distinct of users
    with pytest.raises(MetricError, match="not a count of rows"):
        row_condition("escalation_rate")


def test_bad_queries_are_refused_clearly(store: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(MetricError, match="no dimension 'primary_domain'"):
        value(store, "active_users", where={"primary_domain": "IT"})
    with pytest.raises(MetricError, match="unknown metric 'nope'"):
        value(store, "nope")
    with pytest.raises(MetricError, match="grain must be one of day, week, month"):
        query(store, "conversations", grain="hour")
    with pytest.raises(MetricError, match="after until"):
        query(store, "conversations", since=NOV[1], until=NOV[0])
    assert (
        value(store, "interactions", *NOV, where={"platform": "slack' OR '1'='1"}) is None
    )  # bound, no rows


def test_a_store_path_works_and_parameters_are_the_dbt_vars(store: duckdb.DuckDBPyConnection) -> None:
    path = Path(
        store.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()[0]
    )  # type: ignore[index]
    assert query(path, "conversations")["value"].tolist() == [11]
    assert query(Config(store=str(path)), "conversations")["value"].tolist() == [11]
    assert get_metric("time_to_resolution").parameters == {"mwdata_ttr_max_minutes": 1440}
    assert get_metric("plugin_used_rate").parameters == {
        "mwdata_served_rarely_used_min_served": 20,
        "mwdata_served_rarely_used_max_rate": 0.2,
    }


MWDATA = str(Path(sys.executable).with_name("mwdata"))


def _cli(store: duckdb.DuckDBPyConnection, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = store.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    cfg = tmp_path / "mwdata.toml"
    cfg.write_text(f'store = "{path[0]}"\n')  # type: ignore[index]
    env = {**os.environ, "COLUMNS": "250"}  # rich wraps tables to the terminal width
    return subprocess.run(
        [MWDATA, "-c", str(cfg), "metrics", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_cli_query_formats_and_errors(store: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = _cli(store, tmp_path, "query", "escalation_rate", "--by", "department", "--since", "2026-11-01",
               "--until", "2026-11-30", "--format", "json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = {r["department"]: (r["numerator"], r["denominator"]) for r in json.loads(out.stdout)}
    assert rows == {"Eng": (1, 5), "Sales": (1, 3), None: (0, 1)}
    out = _cli(store, tmp_path, "query", "interactions", "--grain", "week", "--where", "platform=slack",
               "--where", "platform=web", "--since", "2026-11-02", "--until", "2026-11-15", "--format", "csv")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["period,value", "2026-11-02,4.0", "2026-11-09,4.0"]  # slack 4+3, web 1
    out = _cli(store, tmp_path, "query", "active_users", "--include-test-users")
    assert out.returncode == 0 and "5" in out.stdout, out.stderr
    bad = _cli(store, tmp_path, "query", "active_users", "--by", "primary_domain")
    assert bad.returncode == 2 and "no dimension 'primary_domain'" in bad.stderr
    bad = _cli(store, tmp_path, "query", "active_users", "--since", "11/01/2026")
    assert bad.returncode == 2 and "--since takes a day YYYY-MM-DD" in bad.stderr
    bad = _cli(store, tmp_path, "query", "active_users", "--where", "platform")
    assert bad.returncode == 2 and "DIM=VALUE" in bad.stderr
    listed = _cli(store, tmp_path, "list")
    assert listed.returncode == 0 and "escalation_rate" in listed.stdout


def test_days_are_utc_whatever_the_session_time_zone(store: duckdb.DuckDBPyConnection) -> None:
    utc = query(store, "interactions", grain="day", since=W1, until=WEEKS[1])
    store.execute("SET TimeZone = 'America/Los_Angeles'")
    try:
        la = query(store, "interactions", grain="day", since=W1, until=WEEKS[1])
        weeks = query(store, "escalation_rate", grain="week", since=W1, until=WEEKS[1])
    finally:
        store.execute("SET TimeZone = 'UTC'")
    assert la.equals(utc) and weeks["period"].tolist() == [W1, W2]


def test_saved_query_equals_the_metrics_it_names(store: duckdb.DuckDBPyConnection) -> None:
    from mwdata.metrics.query import saved

    df = saved(store, "kpis_daily", *NOV).set_index("metric_time__day")
    df.index = [d.date() if hasattr(d, "date") else d for d in df.index]
    for name in ("conversations", "escalation_rate", "active_users"):
        one = query(store, name, grain="day", since=NOV[0], until=NOV[1]).set_index("period")["value"]
        assert df[name].dropna().to_dict() == pytest.approx(one.dropna().to_dict()), name
    assert date(2026, 11, 4) not in df.index  # the test user's only day
    with pytest.raises(MetricError, match="unknown saved query"):
        saved(store, "nope")
