"""AppTest: the drill-down page lists what a number counts; the journey explorer searches and replays."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from mwdata.read import drill, queries
from mwdata.read.definitions import definition
from mwdata.read.drill import Drill
from mwdata.read.filters import Filters
from mwdata.read.snapshot import Store
from tests.app.test_apptest import MAIN


def _at(page: str | None = None, **params: str) -> AppTest:
    """A new session opening `page` (default: the overview) with `params` in its URL, as a link does."""
    at = AppTest.from_file(MAIN, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    if page is not None:
        at.switch_page(f"screens/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _page(page: str, **params: str) -> AppTest:
    at = _at(page, **params)
    assert not at.error, [e.value for e in at.error]
    return at


def test_a_shared_drill_link_lists_what_the_bar_counts(
    app_env: Path, mart_store: Path, tmp_path: Path
) -> None:
    store = Store(mart_store, snapshot_dir=tmp_path / "s")
    try:
        flt = Filters(date(2026, 5, 2), date(2026, 5, 30), values={"department": ("Sales",)})
        bar = queries.plugins(store, flt, "analytics")["plugins"].iloc[0]
    finally:
        store.close()
    dr = Drill("plugin_calls", "used", drill.segment(("plugin", bar["plugin_name"])))
    params = {"from": "2026-05-02", "to": "2026-05-30", "department": "Sales", **dr.to_query()}
    at = _page("drill", **params)
    assert at.title[0].value == "Drill-down"
    assert at.sidebar.date_input[0].value == (date(2026, 5, 2), date(2026, 5, 30))
    assert at.sidebar.multiselect(key="f_department").value == ["Sales"]
    assert {m.label: m.value for m in at.metric}["Plugin calls"] == f"{int(bar['used']):,}"
    assert len(at.dataframe[0].value) == int(bar["used"]) > 0


def test_a_malformed_drill_link_is_a_clear_message(app_env: Path) -> None:
    at = _at("drill", drill="plugin_calls", measure="nope")
    assert not at.exception
    assert "malformed" in at.error[0].value and "unknown measure" in at.error[0].value


def test_tile_links_open_lists_that_add_up_to_the_tiles(app_env: Path) -> None:
    at = _at()
    at.sidebar.multiselect(key="f_location").set_value(["Paris"]).run()
    tiles = {m.label: m.value for m in at.metric}
    links = {e.proto.label: parse_qs(e.proto.query_string) for e in at.get("page_link")}
    assert set(links) == {
        "List users", "List conversations", "List interactions", "List contained", "List escalated", "List helpful"
    }  # fmt: skip
    assert all(q["location"] == ["Paris"] for q in links.values())  # the page's filters travel along
    opened = _page("drill", **{k: v[0] for k, v in links["List conversations"].items()})
    listed = {m.label: m.value for m in opened.metric}["Conversations"]
    assert listed == tiles["Conversations"] and len(opened.dataframe[0].value) == int(listed.replace(",", ""))
    esc = _page("drill", **{k: v[0] for k, v in links["List escalated"].items()})
    assert esc.dataframe[0].value["escalated"].all()
    for label, tile in (
        ("List users", "Active users"),
        ("List interactions", definition("interactions").label),
    ):
        opened = _page("drill", **{k: v[0] for k, v in links[label].items()})
        assert len(opened.dataframe[0].value) == int(tiles[tile].replace(",", "")), label
    types = set(opened.dataframe[0].value["interaction_type"])  # the interactions list: readable types
    assert "Free text" in types and not any(t.startswith("INTERACTION_TYPE_") for t in types)


def test_journey_explorer_search_and_readable_turns(app_env: Path) -> None:
    at = _page("journey")
    listed = at.dataframe[0].value
    assert len(listed) > 0 and "user_email" in listed
    texts = [t.value for t in at.text]
    assert any("Free text" in t for t in texts) and not any("INTERACTION_TYPE_" in t for t in texts)
    counts = [t for t in texts if t.startswith("plugins served")]
    assert counts and not any(".0" in t.split(";")[0] for t in counts)  # integers, not 0.0
    assert any(
        t.startswith("question ") or ": question " in t for t in texts
    )  # utterances shown (pii = show)
    at.multiselect(key="j_outcome").set_value(["escalated"]).run()
    escalated = at.dataframe[0].value
    assert 0 < len(escalated) < len(listed) and escalated["escalated"].all()
    email = str(listed["user_email"].iloc[0])
    at.multiselect(key="j_outcome").set_value([]).run()
    at.text_input(key="j_email").set_value(email).run()
    assert set(at.dataframe[0].value["user_email"]) == {email}


def test_journey_opened_from_a_link_shows_plugins_and_resources(app_env: Path, mart_store: Path) -> None:
    import duckdb

    with duckdb.connect(str(mart_store), read_only=True) as con:
        conv, plugin = con.execute(
            "SELECT pc.conversation_id, pc.plugin_name FROM analytics.moveworks__plugin_calls pc "
            "JOIN analytics.moveworks__knowledge_resources r USING (interaction_id) ORDER BY 1 LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    at = _page("journey", conversation=conv)
    texts = [t.value for t in at.text]
    assert conv in texts
    assert any(t.startswith(f"plugin {plugin}: ") for t in texts)
    assert any(t.startswith("resource ") for t in texts)


def test_journey_without_pii_shows_no_utterance(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MWDATA_DASHBOARD_PII", "0")
    at = _page("journey")
    texts = [t.value for t in at.text]
    assert texts and not any("question " in t or t == "answer" for t in texts)
    assert "user_email" not in at.dataframe[0].value
    assert not at.text_input  # no e-mail search
    assert any("hidden because PII display is off" in i.value for i in at.info)


def test_a_users_row_opens_their_conversations(app_env: Path, mart_store: Path) -> None:
    import duckdb

    with duckdb.connect(str(mart_store), read_only=True) as con:
        user, n = con.execute(
            "SELECT user_id, count(*) FROM analytics.moveworks__conversations WHERE is_user_engaged "
            "AND NOT is_test_user AND CAST(created_time AS DATE) BETWEEN DATE '2026-05-02' AND DATE '2026-05-31' "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    at = _page("journey", user=user)
    assert len(at.dataframe[0].value) == n
    assert f"Conversations of user {user}" in [t.value for t in at.text]


def test_other_pages_drop_the_drill_parameters_but_keep_the_filters(app_env: Path) -> None:
    at = _at("plugins", **{"from": "2026-05-03", "to": "2026-05-30"}, drill="plugin_calls", measure="used")
    assert at.query_params["from"] in ("2026-05-03", ["2026-05-03"]) and at.query_params["to"] in (
        "2026-05-30",
        ["2026-05-30"],
    )
    assert "drill" not in at.query_params and "measure" not in at.query_params
    kept = _at("drill", drill="plugin_calls", measure="used", by_plugin="Forms")
    assert kept.query_params["by_plugin"] in ("Forms", ["Forms"])


def test_adoption_tile_links_list_the_trailing_active_users(app_env: Path) -> None:
    at = _page("adoption")
    tiles = {m.label: m.value for m in at.metric}
    links = [parse_qs(e.proto.query_string) for e in at.get("page_link")]
    by_segment = {
        next(k for k in q if k.startswith("by_")): q for q in links if any(k.startswith("by_") for k in q)
    }
    for key, tile in (("by_day", "DAU (last day)"), ("by_week_to", "WAU (last day)")):
        opened = _page("drill", **{k: v[0] for k, v in by_segment[key].items()})
        assert len(opened.dataframe[0].value) == int(tiles[tile].replace(",", "")), key
    assert "by_month_to" in by_segment  # stickiness lists its MAU
