"""The HTML report: self-contained, offline, numbers equal to the marts; CSVs beside it."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from mwdata.read.definitions import definition
from mwdata.read.snapshot import Store
from mwdata.report.render import render_report


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.values: dict[str, str] = {}
        self._metric: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for k in ("src", "href"):
            if a.get(k):
                self.refs.append(str(a[k]))
        self._metric = a.get("data-metric")

    def handle_data(self, data: str) -> None:
        if self._metric:
            self.values[self._metric] = data.strip()
            self._metric = None


def test_report_is_self_contained_and_matches_the_marts(mart_store: Path, tmp_path: Path) -> None:
    store = Store(mart_store, snapshot_dir=tmp_path / "snap")
    rep = render_report(store, "analytics", tmp_path / "out", days=7)
    store.close()
    html = rep.html.read_text()
    p = _Refs()
    p.feed(html)
    # Offline: every reference is an inline data URI holding a real PNG.
    assert p.refs and all(r.startswith("data:image/png;base64,") for r in p.refs)
    for r in p.refs:
        assert base64.b64decode(r.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"https?://", html)

    f = rep.filters
    assert f.days == 7
    with duckdb.connect(str(mart_store), read_only=True) as con:
        users, interactions = con.execute(
            "SELECT count(DISTINCT user_id), count(*) FROM analytics.moveworks__journey "
            "WHERE CAST(created_time AS DATE) BETWEEN ? AND ? AND NOT is_test_user",
            [f.start, f.end],
        ).fetchone()  # type: ignore[misc]
        convs = con.execute(
            "SELECT count(*) FROM analytics.moveworks__conversations "
            "WHERE CAST(created_time AS DATE) BETWEEN ? AND ? AND NOT is_test_user",
            [f.start, f.end],
        ).fetchone()[0]  # type: ignore[index]
        top_plugin = con.execute(
            "SELECT plugin_name, count(*) FROM analytics.moveworks__plugin_calls "
            "WHERE CAST(created_time AS DATE) BETWEEN ? AND ? AND NOT is_test_user "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
            [f.start, f.end],
        ).fetchone()  # type: ignore[misc]
    assert p.values["Active users"] == f"{users:,}"
    assert p.values[definition("interactions").label] == f"{interactions:,}"
    assert p.values["Conversations"] == f"{convs:,}"

    names = {c.name for c in rep.csvs}
    assert {"top_plugins.csv", "top_articles.csv", "knowledge_gaps.csv", "freshness.csv"} <= names
    plugins = pd.read_csv(rep.html.parent / "top_plugins.csv")
    assert int(plugins["calls"].max()) == top_plugin[1]
    kpis = pd.read_csv(rep.html.parent / "kpis.csv")
    assert int(kpis["active_users"].iloc[0]) == users


def test_no_deltas_when_the_store_does_not_cover_the_previous_period(
    mart_store: Path, tmp_path: Path
) -> None:
    store = Store(mart_store, snapshot_dir=tmp_path / "snap")
    week = render_report(store, "analytics", tmp_path / "week", days=7).html.read_text()
    assert "vs previous period" in week and "No comparison" not in week
    everything = render_report(store, "analytics", tmp_path / "all", days=400).html.read_text()
    assert "vs previous period" not in everything and "No comparison" in everything


def test_stores_read_with_the_warehouses_own_tools_are_refused_clearly(tmp_path: Path) -> None:
    """Snowflake, BigQuery and Databricks marts are read with the warehouse's BI tools: the report,
    the dashboard and the export say so instead of failing on a connection."""
    from mwdata.config import Config
    from mwdata.errors import ConfigError
    from mwdata.read.stores import open_store, shared_store
    from mwdata.report.render import make_report

    cfg = Config(store="snowflake://LOADER@acct-1/MWDATA?warehouse=WH")
    for call in (lambda: make_report(cfg, out=tmp_path), lambda: open_store(cfg), lambda: shared_store(cfg)):
        with pytest.raises(
            ConfigError, match=r"DuckDB, lake and PostgreSQL stores, not snowflake.*own BI tools"
        ):
            call()
