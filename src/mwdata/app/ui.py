"""Streamlit plumbing shared by every page: the store, the global filters, tiles with definitions."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from mwdata.config import Config, load_config
from mwdata.errors import MwdataError
from mwdata.read import queries
from mwdata.read.definitions import definition
from mwdata.read.filters import DIMENSIONS, Filters
from mwdata.read.formatting import format_delta
from mwdata.read.snapshot import Store, get_store

CTX_KEY = "_mwdata_ctx"


@dataclass(frozen=True)
class Ctx:
    cfg: Config
    store: Store
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
        if not cfg.is_duckdb:
            st.error("The dashboard reads a DuckDB store; set `store` to a DuckDB file path.")
            return None
        store = get_store(cfg.store)
        snap = store.refresh()
        schema = cfg.transform.target_schema
        bounds = queries.date_bounds(store, schema)
        options = queries.filter_options(store, schema)
    except MwdataError as err:
        st.error(str(err))
        return None
    filters = _sidebar(bounds, options)
    st.sidebar.caption(f"Data as of snapshot {snap.taken_at:%Y-%m-%d %H:%M:%S} UTC")
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
    picked: Any = sb.date_input("Date range", value=default, min_value=lo, max_value=hi, key="f_dates")
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
    include_test = sb.checkbox("Include test users", value=False, key="f_test")
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


def chart(c: alt.Chart | alt.LayerChart | alt.VConcatChart | alt.HConcatChart) -> None:
    st.altair_chart(c, width="stretch")


def table(df: pd.DataFrame, height: int | None = None) -> None:
    if df.empty:
        st.info("No rows for these filters.")
        return
    if height is None:
        st.dataframe(df, hide_index=True, width="stretch")
    else:
        st.dataframe(df, hide_index=True, width="stretch", height=height)
