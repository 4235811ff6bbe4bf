"""Streamlit AppTest: every page runs without exception; overview numbers equal the marts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from mwdata.app import views
from mwdata.read.definitions import definition

MAIN = str(Path(__file__).resolve().parents[2] / "src" / "mwdata" / "app" / "main.py")


def _app() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", list(views.PAGES))
def test_every_page_runs(app_env: Path, page: str) -> None:
    at = _app()
    at.switch_page(f"screens/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == views.PAGES[page][0]


def test_overview_numbers_equal_the_marts(app_env: Path, mart_store: Path) -> None:
    at = _app()
    start, end = at.sidebar.date_input[0].value
    metrics = {m.label: m.value for m in at.metric}
    with duckdb.connect(str(mart_store), read_only=True) as con:
        users, interactions = con.execute(
            "SELECT count(DISTINCT user_id), count(*) FROM analytics.moveworks__journey "
            "WHERE CAST(created_time AS DATE) BETWEEN ? AND ? AND NOT is_test_user",
            [start, end],
        ).fetchone()  # type: ignore[misc]
        convs, engaged, escalated = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_user_engaged), "
            "count(*) FILTER (WHERE is_user_engaged AND is_escalated) FROM analytics.moveworks__conversations "
            "WHERE CAST(created_time AS DATE) BETWEEN ? AND ? AND NOT is_test_user",
            [start, end],
        ).fetchone()  # type: ignore[misc]
    assert users > 0 and convs > 0
    assert metrics["Active users"] == f"{users:,}"
    assert metrics["Conversations"] == f"{convs:,}"
    assert metrics[definition("interactions").label] == f"{interactions:,}"
    assert metrics["Escalation rate"] == f"{escalated / engaged:.1%}"


def test_filters_change_the_numbers(app_env: Path) -> None:
    at = _app()
    before = {m.label: m.value for m in at.metric}["Active users"]
    at.sidebar.multiselect(key="f_department").set_value(["Sales"]).run()
    assert not at.exception
    after = {m.label: m.value for m in at.metric}["Active users"]
    assert int(after.replace(",", "")) < int(before.replace(",", ""))


def test_journey_hidden_when_pii_off(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MWDATA_PII", "hash")
    monkeypatch.setenv("MWDATA_PII_SALT", "a-test-salt-of-16+-chars")
    at = _app()
    at.switch_page("screens/feedback.py").run()
    assert not at.exception
    assert any("hidden because PII display is off" in i.value for i in at.info)


def test_missing_store_is_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "mwdata.toml"
    cfg.write_text(f'store = "{tmp_path / "nope.duckdb"}"\n')
    monkeypatch.setenv("MWDATA_CONFIG", str(cfg))
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.run()
    assert not at.exception
    assert "mwdata sync" in at.error[0].value


def test_no_delta_when_the_store_does_not_cover_the_previous_period(app_env: Path) -> None:
    at = _app()
    lo, hi = at.sidebar.date_input[0].min, at.sidebar.date_input[0].max
    assert any(m.delta for m in at.metric)  # the default 30 days: the fixture reaches back further
    at.sidebar.date_input[0].set_value((lo, hi)).run()  # everything: nothing before it to compare
    assert not at.exception
    assert not any(m.delta for m in at.metric)
    assert "no comparison" in at.caption[0].value
