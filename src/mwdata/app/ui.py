"""Streamlit plumbing shared by every page: the store, the global filters, tiles with definitions."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from mwdata.config import Config, load_config
from mwdata.errors import MwdataError
from mwdata.read import charts, queries
from mwdata.read.definitions import definition
from mwdata.read.drill import Drill, filters_from_query, filters_to_query
from mwdata.read.filters import DIMENSIONS, Filters
from mwdata.read.formatting import format_delta
from mwdata.read.stores import ReadStore, shared_store

CTX_KEY = "_mwdata_ctx"
SCREENS = Path(__file__).with_name("screens")
DRILL_PAGE = str(SCREENS / "drill.py")
JOURNEY_PAGE = str(SCREENS / "journey.py")
FILTER_KEYS = ("from", "to", "test", *DIMENSIONS)


@dataclass(frozen=True)
class Ctx:
    cfg: Config
    store: ReadStore
    filters: Filters
    schema: str
    show_pii: bool
    compare: bool = True  # the store covers the previous period, so deltas mean something

    def run(self, page: str) -> dict[str, pd.DataFrame]:
        return queries.PAGES[page](self.store, self.filters, self.schema)

    def run_previous(self, page: str) -> dict[str, pd.DataFrame]:
        return queries.PAGES[page](self.store, self.filters.previous(), self.schema)


def show_pii(cfg: Config) -> bool:
    """PII (utterances, names) is shown only when the models keep it and the operator did not turn it off."""
    return cfg.transform.pii == "show" and os.environ.get("MWDATA_DASHBOARD_PII", "1") != "0"


def init() -> Ctx | None:
    """Load config + store and draw the sidebar filters; None (after an error box) when that fails."""
    try:
        cfg = load_config()
        store = shared_store(cfg)
        read_at = store.read_at()
        schema = cfg.transform.target_schema
        bounds = queries.date_bounds(store, schema)
        options = queries.filter_options(store, schema)
    except MwdataError as err:
        st.error(str(err))
        return None
    filters = _sidebar(bounds, options)
    _filters_into_url(filters)
    st.sidebar.caption(f"Data as read at {read_at:%Y-%m-%d %H:%M:%S} UTC")
    if store.stale_reason:
        st.sidebar.warning(f"Showing the previous snapshot: {store.stale_reason}.")
    compare = filters.compares_within(bounds[0] if bounds else None)
    ctx = Ctx(cfg=cfg, store=store, filters=filters, schema=schema, show_pii=show_pii(cfg), compare=compare)
    st.session_state[CTX_KEY] = ctx
    return ctx


def current() -> Ctx | None:
    ctx = st.session_state.get(CTX_KEY)
    return ctx if isinstance(ctx, Ctx) else None


def _sidebar(bounds: tuple[date, date] | None, options: dict[str, list[str]]) -> Filters:
    sb = st.sidebar
    sb.header("Filters")
    today = datetime.now(UTC).date()  # UTC days, as the read layer's
    lo, hi = bounds or (today - timedelta(days=29), today)
    default = (max(lo, hi - timedelta(days=29)), hi)
    _filters_from_url(lo, hi, options)
    kept = st.session_state.get("f_dates")
    if isinstance(kept, tuple | list) and kept and all(isinstance(d, date) for d in kept):
        # the store's range can move between runs (a sync, retention): keep the choice inside it
        st.session_state["f_dates"] = tuple(min(max(d, lo), hi) for d in kept)
    else:
        st.session_state["f_dates"] = default
    picked: Any = sb.date_input("Date range", min_value=lo, max_value=hi, key="f_dates")
    if isinstance(picked, tuple | list) and len(picked) == 2:
        start, end = picked
    elif isinstance(picked, tuple | list) and len(picked) == 1:
        start = end = picked[0]
    elif isinstance(picked, date):
        start = end = picked
    else:
        start, end = default
    values: dict[str, tuple[str, ...]] = {}
    for dim in DIMENSIONS:
        opts = options.get(dim, [])
        if not opts:
            continue
        chosen = sb.multiselect(dim.capitalize(), opts, key=f"f_{dim}", placeholder="All")
        values[dim] = tuple(chosen)
    include_test = sb.checkbox("Include test users", key="f_test")
    f = Filters(start=start, end=end, values=values, include_test_users=include_test)
    return f


def tile(col: Any, metric: str, value: float | None, previous: float | None, fmt: str = "{:,.0f}") -> None:
    """A KPI tile whose tooltip and caption carry the registry's definition of the metric; no delta
    when the store does not reach back over the previous period (a delta against nothing misleads)."""
    d = definition(metric)
    ctx = current()
    if ctx is not None and not ctx.compare:
        previous = None
    shown = "–" if value is None or pd.isna(value) else fmt.format(value)
    delta = None
    if value is not None and previous is not None and not pd.isna(value) and not pd.isna(previous):
        delta = format_delta(value - previous, fmt)
    col.metric(d.label, shown, delta=delta, help=d.text)


def define(*metrics: str) -> None:
    """An expander listing the registry's definition of each metric the page shows."""
    with st.expander("Definitions"):
        for m in metrics:
            d = definition(m)
            st.markdown(f"**{d.label}** — {d.text}")


def note_unsupported(dims: list[str]) -> None:
    if dims:
        st.caption(f"Not filtered by {', '.join(dims)} here: this view has no such column.")


# -- the URL: filters, drill-downs and the open conversation, so a view can be shared as a link ------
def _filters_from_url(lo: date, hi: date, options: dict[str, list[str]]) -> None:
    """On a session's first run, the sidebar starts from the filters in the URL (a shared link)."""
    if st.session_state.get("_url_read"):
        return
    st.session_state["_url_read"] = True
    got = filters_from_query(st.query_params.get_all)
    if "dates" in got:
        a, b = (min(max(d, lo), hi) for d in got["dates"])
        if a <= b:
            st.session_state["f_dates"] = (a, b)
    for dim in DIMENSIONS:
        if dim in got:
            st.session_state[f"f_{dim}"] = [v for v in got[dim] if v in options.get(dim, [])]
    st.session_state.setdefault("f_test", bool(got.get("test", False)))


def _filters_into_url(f: Filters) -> None:
    want = filters_to_query(f)
    for k in FILTER_KEYS:
        if k not in want and k in st.query_params:
            del st.query_params[k]
    for k, v in want.items():
        if st.query_params.get_all(k) != (v if isinstance(v, list) else [v]):
            st.query_params[k] = v


PAGE_KEYS = {"drill": ("drill", "measure"), "journey": ("conversation", "user")}


def tidy_url(page: str) -> None:
    """Drop the drill-down's and the journey's parameters on the other pages (the filters stay), so
    the address of a page reached back from a drill-down is that page's own."""
    for owner, keys in PAGE_KEYS.items():
        if owner == page:
            continue
        for k in list(st.query_params):
            if k in keys or (owner == "drill" and k.startswith("by_")):
                del st.query_params[k]


def _url(extra: Mapping[str, str]) -> dict[str, str | list[str]]:
    ctx = current()
    q: dict[str, str | list[str]] = filters_to_query(ctx.filters) if ctx is not None else {}
    q.update(extra)
    return q


def go(drill: Drill) -> None:
    """Open the drill-down page on `drill`, with the current filters (all in the URL)."""
    st.switch_page(DRILL_PAGE, query_params=_url(drill.to_query()))


def open_journey(conversation_id: str) -> None:
    st.switch_page(JOURNEY_PAGE, query_params=_url({"conversation": conversation_id}))


def open_user_journeys(user_id: str) -> None:
    """The journey explorer listing one user's conversations."""
    st.switch_page(JOURNEY_PAGE, query_params=_url({"user": user_id}))


def drill_link(col: Any, drill: Drill, label: str = "List them") -> None:
    """A link under a tile to the rows behind it (a tile itself cannot be clicked)."""
    col.page_link(DRILL_PAGE, label=label, icon=":material/list:", query_params=_url(drill.to_query()))


Picker = Callable[[dict[str, Any]], Drill | None]


def chart(
    c: alt.Chart | alt.LayerChart | alt.VConcatChart | alt.HConcatChart,
    pick: tuple[list[str], Picker] | None = None,
    key: str | None = None,
) -> None:
    """Draw a chart; with `pick=(fields, to_drill)` a click on a mark opens the drill-down of
    `to_drill(clicked values)` (None: that mark has nothing to list)."""
    if pick is None:
        st.altair_chart(c, width="stretch")
        return
    fields, to_drill = pick
    event = st.altair_chart(
        charts.pickable(c, fields),  # type: ignore[arg-type]
        width="stretch",
        on_select="rerun",
        selection_mode=charts.PICK,
        key=key,
    )
    picked = (event.get("selection") or {}).get(charts.PICK) or []  # type: ignore[union-attr]
    if picked:
        drill = to_drill(dict(picked[0]))
        if drill is not None:
            go(drill)


def table(
    df: pd.DataFrame,
    height: int | None = None,
    row: Callable[[pd.Series], Drill | str | None] | None = None,
    key: str | None = None,
) -> None:
    """A table; with `row`, selecting a row opens its drill-down (a `Drill`) or its journey (a
    conversation id)."""
    if df.empty:
        st.info("No rows for these filters.")
        return
    kw: dict[str, Any] = {"hide_index": True, "width": "stretch"}
    if height is not None:
        kw["height"] = height
    if row is None:
        st.dataframe(df, **kw)
        return
    event = st.dataframe(df, on_select="rerun", selection_mode="single-row", key=key, **kw)
    rows = event.selection.rows  # type: ignore[attr-defined]
    if rows:
        target = row(df.iloc[rows[0]])
        if isinstance(target, Drill):
            go(target)
        elif target is not None:
            open_journey(target)
