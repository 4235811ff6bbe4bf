"""Chart specs: unnamed resources are not lumped under one bar; plugin series have meaningful colours."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from mwdata.read import charts, queries
from mwdata.read.filters import Filters
from mwdata.read.snapshot import Store


@pytest.fixture
def store(mart_store: Path, tmp_path: Path) -> Store:
    s = Store(mart_store, snapshot_dir=tmp_path / "snaps")
    yield s  # type: ignore[misc]
    s.close()


def _bars(chart: object) -> pd.DataFrame:
    return chart.data  # type: ignore[attr-defined,no-any-return]


def test_unnamed_resources_get_one_bar_each_with_a_readable_label(store: Store) -> None:
    f = Filters(date(2026, 1, 1), date(2026, 12, 31))
    top = queries.knowledge(store, f, "analytics")["top_articles"]
    raw = store.query(
        "SELECT count(DISTINCT resource_id) AS n FROM analytics.moveworks__knowledge_resources "
        "WHERE article_name IS NULL"
    )
    assert int(raw["n"].iloc[0]) > 0  # the fixture has unnamed resources
    assert top["article"].notna().all()
    chart = charts.bars(top, "article", "times_cited", "Most cited articles", key="resource_id")
    d = _bars(chart)
    y = chart.to_dict()["encoding"]["y"]["field"]
    assert d[y].notna().all() and not (d[y].astype(str) == "null").any()
    assert d[y].nunique() == d["resource_id"].nunique() == len(d)  # one bar per resource
    untitled = d[d[y].str.endswith(" (untitled)")]
    assert not untitled.empty and all(
        r in lbl for r, lbl in zip(untitled["external_id"], untitled[y], strict=True)
    )


def test_unique_labels_keep_shared_names_apart() -> None:
    df = pd.DataFrame({"name": ["VPN", "VPN", None, "Wifi"], "id": ["a", "b", "c", "d"]})
    assert list(charts.unique_labels(df, "name", "id")) == ["VPN · a", "VPN · b", "c (untitled)", "Wifi"]


def _scale(chart: object) -> dict[str, str]:
    enc = chart.to_dict()["encoding"]["color"]  # type: ignore[attr-defined]
    return dict(zip(enc["scale"]["domain"], enc["scale"]["range"], strict=True))


def _is_red(hex_colour: str) -> bool:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return r > 180 and r > g + 60 and r > b + 60


@pytest.mark.parametrize("kind", ["bars", "lines"])
def test_plugin_series_colours_mean_what_they_say(kind: str) -> None:
    df = pd.DataFrame(
        {
            "plugin_name": ["A", "B"],
            "day": pd.to_datetime(["2026-05-01", "2026-05-02"]),
            "served": [5, 3],
            "used": [4, 1],
            "unsuccessful": [1, 2],
        }
    )
    series = ["served", "used", "unsuccessful"]
    chart = (
        charts.grouped_bars(df, "plugin_name", series, "Plugin calls")
        if kind == "bars"
        else charts.lines(df, "day", series, "Plugin calls per day")
    )
    colours = _scale(chart)
    assert _is_red(colours["unsuccessful"])
    assert not _is_red(colours["used"]) and not _is_red(colours["served"])
    assert len(set(colours.values())) == 3
