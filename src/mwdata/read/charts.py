"""Altair charts shared by the dashboard and the report (the report renders them to PNG)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from mwdata.read.formatting import UNTITLED

WIDTH = 640
HEIGHT = 220

# Series colours with a meaning: failure in a warm red, success in calm colours (red never marks "used").
SERIES_COLORS: dict[str, str] = {
    "served": "#4c78a8",  # blue
    "used": "#54a24b",  # green
    "unsuccessful": "#e45756",  # red
}


def _color(field: str, series: list[str]) -> alt.Color:
    """A colour encoding that gives a series of `SERIES_COLORS` its colour (the rest: the default scheme)."""
    if series and all(s in SERIES_COLORS for s in series):
        return alt.Color(
            field, title=None, scale=alt.Scale(domain=series, range=[SERIES_COLORS[s] for s in series])
        )
    return alt.Color(field, title=None)


def unique_labels(df: pd.DataFrame, label: str, key: str) -> pd.Series:
    """`label` made readable and unique per `key`: a missing label becomes "<key> (untitled)", a label
    two keys share gets " · <key>" appended, so a chart never merges different things under one bar."""
    text = df[label].astype("string")
    keys = df[key].astype("string")
    text = text.where(text.notna() & (text.str.strip() != ""), keys + UNTITLED)
    shared = text.duplicated(keep=False) & keys.notna()
    return text.where(~shared, text + " · " + keys)


def _axis(fmt: str) -> alt.Axis:
    """Counts get integer ticks only (no "1, 1, 2, 2" on small ranges)."""
    return alt.Axis(format=fmt, tickMinStep=1) if fmt.endswith(".0f") else alt.Axis(format=fmt)


def _empty(title: str) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"text": ["no data for these filters"]}))
        .mark_text(size=14, color="#888")
        .encode(text="text:N")
        .properties(title=title, width=WIDTH, height=60)
    )


def lines(
    df: pd.DataFrame, x: str, ys: list[str], title: str, y_title: str = "", fmt: str = ",.0f"
) -> alt.Chart:
    """One line per column of `ys` over `x` (long format built here)."""
    if df.empty:
        return _empty(title)
    long = df[[x, *ys]].melt(id_vars=[x], var_name="series", value_name="value")
    return (
        alt.Chart(long)
        .mark_line(point=len(df) < 40)
        .encode(
            x=alt.X(f"{x}:T", title=None),
            y=alt.Y("value:Q", title=y_title, axis=_axis(fmt)),
            color=_color("series:N", ys),
            tooltip=[alt.Tooltip(f"{x}:T"), "series:N", alt.Tooltip("value:Q", format=fmt)],
        )
        .properties(title=title, width=WIDTH, height=HEIGHT)
    )


def stacked(df: pd.DataFrame, x: str, y: str, color: str, title: str) -> alt.Chart:
    if df.empty:
        return _empty(title)
    return (
        alt.Chart(df)
        .mark_area()
        .encode(
            x=alt.X(f"{x}:T", title=None),
            y=alt.Y(f"{y}:Q", stack="zero", title=None),
            color=alt.Color(f"{color}:N", title=None),
            tooltip=[f"{x}:T", f"{color}:N", f"{y}:Q"],
        )
        .properties(title=title, width=WIDTH, height=HEIGHT)
    )


def bars(
    df: pd.DataFrame,
    category: str,
    value: str,
    title: str,
    fmt: str = ",.0f",
    sort: str | None = "-x",
    limit: int = 20,
    key: str | None = None,
) -> alt.Chart:
    """Horizontal bars, largest first. With `key` (e.g. `resource_id`) each row is its own bar, labelled
    by `unique_labels` (a missing or shared name does not merge rows); the key is in the tooltip."""
    if df.empty:
        return _empty(title)
    d = df.head(limit).copy()
    tooltip: list[Any] = [f"{category}:N", alt.Tooltip(f"{value}:Q", format=fmt)]
    if key is not None:
        d[category] = unique_labels(d, category, key)
        tooltip.insert(1, f"{key}:N")
    return (
        alt.Chart(d)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", sort=sort, title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X(f"{value}:Q", title=None, axis=_axis(fmt)),
            tooltip=tooltip,
        )
        .properties(title=title, width=WIDTH, height=alt.Step(22))
    )


def grouped_bars(df: pd.DataFrame, category: str, values: list[str], title: str) -> alt.Chart:
    if df.empty:
        return _empty(title)
    long = df[[category, *values]].melt(id_vars=[category], var_name="measure", value_name="value")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=None),
            x=alt.X("value:Q", title=None),
            yOffset="measure:N",
            color=_color("measure:N", values),
            tooltip=[f"{category}:N", "measure:N", "value:Q"],
        )
        .properties(title=title, width=WIDTH, height=alt.Step(12))
    )


def funnel(df: pd.DataFrame, title: str = "Conversation funnel") -> alt.Chart:
    if df.empty:
        return _empty(title)
    base = alt.Chart(df).encode(
        y=alt.Y("stage:N", sort=alt.SortField("step"), title=None),
        x=alt.X("conversations:Q", title=None),
    )
    return (
        base.mark_bar()
        + base.mark_text(align="left", dx=4).encode(text=alt.Text("conversations:Q", format=","))
    ).properties(title=title, width=WIDTH, height=alt.Step(30))


def heatmap(df: pd.DataFrame, title: str = "Weekly cohort retention") -> alt.Chart:
    if df.empty:
        return _empty(title)
    return (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X("weeks_since:O", title="weeks since first activity"),
            y=alt.Y("cohort:O", timeUnit="yearmonthdate", title="cohort (first week)"),
            color=alt.Color("retention:Q", scale=alt.Scale(domain=[0, 1]), legend=alt.Legend(format="%")),
            tooltip=[
                alt.Tooltip("cohort:T"),
                "weeks_since:O",
                "users:Q",
                alt.Tooltip("retention:Q", format=".0%"),
            ],
        )
        .properties(title=title, width=WIDTH, height=alt.Step(18))
    )


PICK = "pick"  # the name of the click selection `pickable` adds (the dashboard reads it by this name)


def pickable(chart: alt.Chart | alt.LayerChart, fields: list[str]) -> alt.Chart | alt.LayerChart:
    """The chart with a click selection over `fields`, the values of the clicked mark (what the
    dashboard drills into); the nearest mark is picked, so thin bars and line points are easy to hit."""
    sel = alt.selection_point(name=PICK, fields=fields, on="click", nearest=True, clear="dblclick")
    mark = getattr(chart, "mark", None)
    kind = mark if isinstance(mark, str) else getattr(mark, "type", None)
    if isinstance(chart, alt.Chart) and kind in ("line", "area"):
        # A line or an area is one mark per series, so a click on it carries no day: the selection
        # goes on (nearly invisible) points at each value, which the nearest-point search then hits.
        points = chart.mark_point(filled=True, size=30, opacity=0.01).add_params(sel)
        return alt.LayerChart(layer=[chart, points], title=chart.title)
    return chart.add_params(sel)
