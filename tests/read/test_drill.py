"""Drill-down lists add up to the numbers the pages show (one filter definition for both)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from mwdata.read import drill, queries
from mwdata.read.drill import Drill
from mwdata.read.filters import Filters
from mwdata.read.snapshot import Store

S = "analytics"


@pytest.fixture
def store(mart_store: Path, tmp_path: Path) -> Store:
    s = Store(mart_store, snapshot_dir=tmp_path / "snaps")
    yield s  # type: ignore[misc]
    s.close()


FILTERS = [
    Filters(date(2026, 5, 1), date(2026, 5, 31)),
    Filters(date(2026, 5, 10), date(2026, 5, 20), values={"department": ("Sales",), "platform": ("slack",)}),
]


@pytest.mark.parametrize("f", FILTERS, ids=["all", "sales-slack"])
def test_tiles_and_funnel_equal_their_lists(store: Store, f: Filters) -> None:
    k = queries.kpis(store, f, S).iloc[0]  # the metric layer's values: each tile's link lists its rows
    for source, measure, col in [
        ("conversations", "conversations", "conversations"),
        ("conversations", "escalated", "escalated_conversations"),
        ("conversations", "contained", "contained_conversations"),
        ("interactions", "interactions", "user_interactions"),
        ("interactions", "helpful", "helpful"),
        ("users", "active_users", "active_users"),
    ]:
        dr = Drill(source, measure)
        assert dr.count(store, f, S) == len(dr.rows(store, f, S)) == int(k[col]), measure
    for _, stage in queries.outcomes(store, f, S)["funnel"].iterrows():
        assert Drill("conversations", stage["measure"]).count(store, f, S) == int(stage["conversations"])


@pytest.mark.parametrize("f", FILTERS, ids=["all", "sales-slack"])
def test_plugin_bars_and_days_equal_their_lists(store: Store, f: Filters) -> None:
    d = queries.plugins(store, f, S)
    assert not d["plugins"].empty
    for _, r in d["plugins"].iterrows():
        for m in ("served", "used", "unsuccessful", "calls"):
            rows = Drill("plugin_calls", m, drill.segment(("plugin", r["plugin_name"]))).rows(store, f, S)
            assert len(rows) == int(r[m]) and set(rows["plugin_name"]) <= {r["plugin_name"]}
    for _, r in d["trend"].head(5).iterrows():
        assert Drill("plugin_calls", "used", drill.segment(("day", r["day"]))).count(store, f, S) == int(
            r["used"]
        )


def test_daily_points_and_resource_bars_equal_their_lists(store: Store) -> None:
    f = FILTERS[0]
    for _, r in queries.overview(store, f, S)["trend"].head(5).iterrows():
        seg = drill.segment(("day", r["day"]))
        assert Drill("conversations", "escalated", seg).count(store, f, S) == int(
            r["escalated_conversations"]
        )
        assert Drill("conversations", "conversations", seg).count(store, f, S) == int(r["conversations"])
    for _, r in queries.knowledge(store, f, S)["top_articles"].head(5).iterrows():
        seg = drill.segment(("resource", r["resource_id"]))
        assert Drill("resources", "cited", seg).count(store, f, S) == int(r["times_cited"])
    for _, r in queries.outcomes(store, f, S)["by_route"].head(5).iterrows():
        seg = drill.segment(("route", r["route"]), ("domain", r["domain"]))
        assert Drill("conversations", "conversations", seg).count(store, f, S) == int(r["conversations"])


@pytest.mark.parametrize("f", FILTERS, ids=["all", "sales-slack"])
def test_every_other_page_number_equals_its_list(store: Store, f: Filters) -> None:
    def n(source: str, measure: str, *seg: tuple[str, object]) -> int:
        return Drill(source, measure, drill.segment(*seg)).count(store, f, S)

    k = queries.kpis(store, f, S).iloc[0]
    assert n("users", "active_users") == int(k["active_users"])
    assert len(Drill("users", "active_users").rows(store, f, S)) == int(k["active_users"])
    assert n("interactions", "interactions") == int(k["user_interactions"])
    assert n("interactions", "helpful") == int(k["helpful"])
    for _, r in queries.overview(store, f, S)["trend"].head(3).iterrows():
        assert n("users", "active_users", ("day", r["day"])) == int(r["active_users"])
    ch = queries.channels(store, f, S)
    for _, r in ch["by_platform"].iterrows():
        assert n("interactions", "interactions", ("platform", r["platform"])) == int(r["user_interactions"])
        assert n("users", "active_users", ("platform", r["platform"])) == int(r["active_users"])
        # a platform's conversations: those with a user turn on it (user_conversations)
        assert n("interaction_conversations", "conversations", ("platform", r["platform"])) == int(
            r["conversations"]
        )
    for _, r in ch["trend"].head(4).iterrows():
        assert n("interactions", "interactions", ("day", r["day"]), ("platform", r["platform"])) == int(
            r["user_interactions"]
        )
    for dim, df in queries.segments(store, f, S).items():
        for _, r in df.iterrows():
            assert n("users", "active_users", (dim[3:], r[dim[3:]])) == int(r["active_users"]), (
                dim,
                r[dim[3:]],
            )
    oc = queries.outcomes(store, f, S)
    for _, r in oc["by_type"].iterrows():
        assert n("conversations", "conversations", ("type", r["conversation_type"])) == int(
            r["conversations"]
        )
    for _, r in queries.gaps(store, f, S)["gaps"].head(8).iterrows():
        seg = (("topic", r["topic"]), ("interaction_domain", r["domain"]))
        assert n("interactions", "gap", *seg) == int(r["gap_score"])
        assert n("interactions", "free_text", *seg) == int(r["volume"])
    for _, r in queries.feedback(store, f, S)["trend"].iterrows():
        assert n("interactions", "helpful", ("week", r["week"])) == int(r["helpful"])
        assert n("interactions", "unhelpful", ("week", r["week"])) == int(r["unhelpful"])
    ef = queries.efficiency(store, f, S)
    for _, r in ef["time_saved"].iterrows():
        assert n("plugin_calls", "used", ("plugin", r["plugin_name"])) == int(r["used_calls"])
    for _, r in ef["ttr"].iterrows():
        assert n("conversations", "resolved", ("week", r["week"])) == int(r["resolved"])
    t = queries.knowledge(store, f, S)["totals"].iloc[0]
    assert n("resources", "cited") == int(t["resources_cited"])
    assert n("resources", "not_cited") == int(t["resources_served"]) - int(t["resources_cited"])


@pytest.mark.parametrize(
    "f",
    [Filters(date(2026, 4, 1), date(2026, 5, 31)), FILTERS[1]],  # the first reaches the new users
    ids=["history", "sales-slack"],
)
def test_adoption_numbers_equal_their_lists(store: Store, f: Filters) -> None:
    a = queries.adoption(store, f, S)
    u = a["users"].iloc[0]
    assert Drill("daily_users", "active_users").count(store, f, S) == int(u["active_users"])
    assert len(Drill("roster", "new_users").rows(store, f, S)) == int(u["new_users"])
    assert int(u["new_users"]) > 0 or f.days < 30
    last = a["active"].iloc[-1]
    dau = Drill("daily_users", "active_users", drill.segment(("day", last["day"])))
    assert len(dau.rows(store, f, S)) == int(last["dau"])
    for key, col in (("week_to", "wau"), ("month_to", "mau")):  # trailing windows, whatever the start
        for _, day in a["active"].iterrows():
            trailing = Drill("trailing_users", "active_users", drill.segment((key, day["day"])))
            assert trailing.count(store, f, S) == int(day[col]), (key, day["day"])
    for _, r in a["new_returning"].iterrows():
        week = Drill("roster", "new_users", drill.segment(("week", r["week"])))
        assert week.count(store, f, S) == int(r["new_users"])
        back = Drill("daily_users", "active_users", drill.segment(("returning_week", r["week"])))
        assert back.count(store, f, S) == int(r["returning_users"]), r["week"]
    retained = Drill("daily_users", "active_users", drill.segment(("retained", "previous")))
    assert retained.count(store, f, S) == int(u["retained_users"])
    assert int(u["retained_users"]) > 0 or f.start <= date(
        2026, 4, 30
    )  # the history case has no previous period
    cells = a["cohorts"]
    assert len(cells) > 3
    for _, c in cells.iterrows():  # every cell of the heat map lists its users, up to the end date
        week = (pd.Timestamp(c["cohort"]) + pd.Timedelta(weeks=int(c["weeks_since"]))).date()
        seg = drill.segment(("cohort", c["cohort"]), ("week", week), ("until", f.end))
        assert Drill("trailing_users", "active_users", seg).count(store, f, S) == int(c["users"]), (
            c["cohort"],
            week,
        )


def test_drill_round_trips_through_the_url_and_rejects_bad_links() -> None:
    dr = Drill("plugin_calls", "used", (("plugin", "Create Ticket"), ("day", "2026-05-03")))
    assert Drill.from_query(dr.to_query()) == dr
    assert Drill.from_query({"from": "2026-05-01"}) is None
    with pytest.raises(ValueError, match="unknown measure 'nope'"):
        Drill.from_query({"drill": "plugin_calls", "measure": "nope"})
    with pytest.raises(ValueError, match="cannot cut conversations by"):
        Drill("conversations", "conversations", (("plugin", "x"),))
    f = FILTERS[1]
    q = drill.filters_to_query(f)
    got = drill.filters_from_query(lambda k: (v if isinstance(v, list) else [v]) if (v := q.get(k)) else [])
    assert (
        got["dates"] == (f.start, f.end) and got["department"] == ["Sales"] and got["platform"] == ["slack"]
    )


def test_journey_search(store: Store) -> None:
    f = FILTERS[0]
    every = drill.conversations(store, f, S, drill.Search())
    assert len(every) > 20 and every["turns"].dtype.kind == "i"
    one = str(every["user_email"].dropna().iloc[0])
    mine = drill.conversations(store, f, S, drill.Search(email=one.upper()))
    assert 0 < len(mine) < len(every) and set(mine["user_email"]) == {one}
    for outcome in ("contained", "escalated", "ticket_filed", "unhelpful"):
        got = drill.conversations(store, f, S, drill.Search(outcomes=(outcome,)))
        assert len(got) == int(every[outcome].sum()) and got[outcome].all(), outcome
    plug = drill.conversations(store, f, S, drill.Search(plugin="Create Ticket"))
    calls = store.query(
        "SELECT DISTINCT conversation_id FROM analytics.moveworks__plugin_calls WHERE plugin_name = 'Create Ticket'"
    )
    assert len(plug) > 0 and set(plug["conversation_id"]) <= set(calls["conversation_id"])
    topic = drill.conversations(store, f, S, drill.Search(topic="vpn"))
    assert 0 < len(topic) < len(every)
    user = store.query(
        "SELECT user_id FROM analytics.moveworks__conversations WHERE is_user_engaged AND NOT is_test_user "
        "ORDER BY 1 LIMIT 1"
    )["user_id"].iloc[0]
    theirs = drill.conversations(
        store, Filters(date(2026, 1, 1), date(2026, 12, 31)), S, drill.Search(user_id=user)
    )
    want = store.query(
        "SELECT count(*) AS n FROM analytics.moveworks__conversations WHERE is_user_engaged AND user_id = ?",
        [user],
    )["n"].iloc[0]
    assert len(theirs) == int(want) > 0
    with pytest.raises(ValueError, match="unknown outcome"):
        drill.Search(outcomes=("solved",))


def test_enum_labels() -> None:
    assert drill.enum_label("INTERACTION_TYPE_FREE_TEXT") == "Free text"
    assert drill.enum_label("HELPFUL") == "Helpful"
    assert drill.enum_label(None) == ""
