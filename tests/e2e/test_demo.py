"""`mwdata demo --small --no-serve` runs the real chain (simulator -> sync -> build -> check -> report),
then `mwdata dashboard` serves its store: every page opens in Chromium without an error element."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mwdata.app import views
from mwdata.read.definitions import definition
from tests.e2e.test_browser import visit_every_page
from tests.sync.conftest import run_cli

pytestmark = pytest.mark.slow(seconds=115)  # scheduled first (tests/conftest.py)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    r = run_cli("demo", "--small", "--no-serve", "--out", str(out), env={}, cwd=out, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "Traceback" not in r.stdout + r.stderr  # a newcomer's first screen is clean
    for step in ("[1/6]", "[2/6]", "[3/6]", "[4/6]", "[5/6]", "[6/6]"):
        assert step in r.stdout  # progress at every step
    return out


def test_demo_builds_a_store_and_a_report(demo_dir: Path) -> None:
    store = demo_dir / "demo.duckdb"
    with duckdb.connect(str(store), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM analytics.moveworks__journey").fetchone()[0]  # type: ignore[index]
        days = con.execute(
            "SELECT count(DISTINCT CAST(created_time AS DATE)) FROM raw.interactions"
        ).fetchone()[0]  # type: ignore[index]
    assert n > 0 and days >= 15  # more than a day: the history came through the sync
    assert list((demo_dir / "reports").rglob("report.html"))
    assert (demo_dir / "hr.csv").exists()
    assert "api_key" not in (demo_dir / "mwdata.toml").read_text()


@pytest.mark.browser
def test_dashboard_serves_the_demo(demo_dir: Path, running_dashboard: Any, browser: Any) -> None:
    url = running_dashboard(demo_dir / "mwdata.toml")
    with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as resp:
        assert resp.read() == b"ok"
    seen = visit_every_page(browser, url, "demo")
    assert set(seen) == set(views.PAGES)


def test_overview_equals_the_real_marts(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest on the store the real chain built: the overview's tiles equal SQL on the marts."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MWDATA_CONFIG", str(demo_dir / "mwdata.toml"))
    main = str(Path(__file__).resolve().parents[2] / "src" / "mwdata" / "app" / "main.py")
    at = AppTest.from_file(main, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    start, end = at.sidebar.date_input[0].value
    tiles = {m.label: m.value for m in at.metric}
    with duckdb.connect(str(demo_dir / "demo.duckdb"), read_only=True) as con:
        users, interactions = con.execute(
            "SELECT count(DISTINCT user_id), count(*) FROM analytics.moveworks__journey "
            "WHERE CAST(created_time AS DATE) BETWEEN ? AND ? AND NOT coalesce(is_test_user, FALSE)",
            [start, end],
        ).fetchone()  # type: ignore[misc]
    assert users > 0
    assert (
        tiles["Active users"] == f"{users:,}"
        and tiles[definition("interactions").label] == f"{interactions:,}"
    )
    for page in views.PAGES:
        at.switch_page(f"screens/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error or page == "health", (page, [e.value for e in at.error])


def test_drill_lists_add_up_on_the_real_marts(demo_dir: Path, tmp_path: Path) -> None:
    """The drill-down and journey queries on marts the real chain built (every column they read
    exists there), each list equal to the number it opens from."""
    from mwdata.read import drill, queries
    from mwdata.read.drill import Drill
    from mwdata.read.filters import Filters
    from mwdata.read.snapshot import Store

    store = Store(demo_dir / "demo.duckdb", snapshot_dir=tmp_path / "snaps")
    try:
        lo, hi = queries.date_bounds(store, "analytics")  # type: ignore[misc]
        f = Filters(lo, hi)
        k = queries.kpis(store, f, "analytics").iloc[0]
        assert Drill("conversations", "escalated").count(store, f, "analytics") == int(
            k["escalated_conversations"]
        )
        assert Drill("users", "active_users").count(store, f, "analytics") == int(k["active_users"])
        plugins = queries.plugins(store, f, "analytics")["plugins"]
        assert not plugins.empty
        for _, r in plugins.iterrows():
            dr = Drill("plugin_calls", "used", drill.segment(("plugin", r["plugin_name"])))
            assert len(dr.rows(store, f, "analytics")) == int(r["used"])
        top = queries.knowledge(store, f, "analytics")["top_articles"]
        for _, r in top.head(5).iterrows():
            dr = Drill("resources", "cited", drill.segment(("resource", r["resource_id"])))
            assert dr.count(store, f, "analytics") == int(r["times_cited"])
        convs = drill.conversations(store, f, "analytics", drill.Search(), limit=10**7)
        assert len(convs) > 0
        for outcome in ("contained", "escalated", "ticket_filed", "unhelpful"):
            got = drill.conversations(store, f, "analytics", drill.Search(outcomes=(outcome,)), limit=10**7)
            assert len(got) == int(convs[outcome].sum())
        users = queries.adoption(store, f, "analytics")["users"].iloc[0]
        assert Drill("daily_users", "active_users").count(store, f, "analytics") == int(users["active_users"])
        assert len(Drill("roster", "new_users").rows(store, f, "analytics")) == int(users["new_users"])
        one = str(convs["conversation_id"].iloc[0])
        assert not drill.turns(store, "analytics", one).empty
        drill.turn_details(store, "analytics", one)
    finally:
        store.close()
