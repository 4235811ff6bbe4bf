"""Every query the dashboard and the report run, one function per page (no Streamlit here).

Each page function takes the store, the filters and the marts' schema and returns named DataFrames;
the Streamlit pages draw them, the report renders some of them, the benchmark times all of them.
Every number comes from the metric layer (`mwdata.metrics.query` on the snapshot's cursor): a page
names which metric, or which part of a ratio, fills each column (`Frame`) and only shapes the
result. The SQL left here selects lists of rows (feedback comments), the sidebar's bounds and
options, and the store's own state (health). Every ordered result has a total order (ties broken by
name or id), so a top-N list is the same on every run. The mart columns the metrics read are listed
in docs/dashboard.md ("What the dashboard reads").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from mwdata.metrics.query import query as metric_query
from mwdata.metrics.query import shared_results
from mwdata.metrics.registry import Metric, MetricError, get_metric, parameters, semantic_models
from mwdata.read.filters import Filters
from mwdata.read.formatting import resource_label_sql
from mwdata.read.measures import INTERACTION
from mwdata.read.stores import ReadStore
from mwdata.store.schema import STATE_SCHEMA

Frames = dict[str, pd.DataFrame]
PageQuery = Callable[[ReadStore, Filters, str], Frames]

# Filter dimension -> column, per mart that carries the dimension.
JOURNEY_DIMS: Mapping[str, str | None] = {
    "department": "department",
    "location": "location",
    "role": "role",
    "platform": "platform",
    "route": "route",
    "domain": "conversation_domain",
}
CONVERSATION_DIMS: Mapping[str, str | None] = {
    "department": "department",
    "location": "location",
    "role": "role",
    "platform": "platform",
    "route": "route",
    "domain": "primary_domain",
}
# moveworks__user_daily and moveworks__users carry the same HR columns (and no platform/route/domain).
USER_DAILY_DIMS: Mapping[str, str | None] = {
    "department": "department",
    "location": "location",
    "role": "role",
    "platform": None,
    "route": None,
    "domain": None,
}
PLUGIN_DIMS: Mapping[str, str | None] = {
    "department": "department",
    "location": "location",
    "role": "role",
    "platform": "platform",
    "route": "route",
    "domain": "conversation_domain",
}


def _t(schema: str, mart: str) -> str:
    return f'"{schema}"."moveworks__{mart}"'


def _where(
    f: Filters, dims: Mapping[str, str | None], date_col: str | None = "created_time"
) -> tuple[str, list[Any]]:
    return f.where(dims, date_col, "is_test_user")


def unsupported(page: str, f: Filters) -> list[str]:
    """Active filter dimensions a page cannot apply."""
    return f.unsupported(PAGE_DIMS.get(page, JOURNEY_DIMS))


# -- helpers used by the sidebar ------------------------------------------------------------------
def date_bounds(store: ReadStore, schema: str) -> tuple[date, date] | None:
    df = store.query(
        f"SELECT CAST(min(created_time) AS DATE) AS lo, CAST(max(created_time) AS DATE) AS hi "
        f"FROM {_t(schema, 'journey')}"
    )
    if df.empty or pd.isna(df["lo"].iloc[0]):
        return None
    return (pd.Timestamp(df["lo"].iloc[0]).date(), pd.Timestamp(df["hi"].iloc[0]).date())


def filter_options(store: ReadStore, schema: str) -> dict[str, list[str]]:
    """Distinct values of each filter dimension (from the journey mart, which carries them all)."""
    out: dict[str, list[str]] = {}
    for dim, col in JOURNEY_DIMS.items():
        if col is None:
            continue
        df = store.query(
            f"SELECT DISTINCT CAST({col} AS VARCHAR) AS v FROM {_t(schema, 'journey')} "
            f"WHERE {col} IS NOT NULL ORDER BY 1 LIMIT 500"
        )
        out[dim] = [str(v) for v in df["v"]]
    return out


# -- pages ----------------------------------------------------------------------------------------
# The overview's tiles and the report's KPIs, from the metric layer (`mwdata.metrics`): column ->
# metric; a ratio's row also carries its numerator and denominator under the given column names.
KPI_COUNTS: dict[str, str] = {
    "active_users": "active_users",
    "user_interactions": "interactions",
    "conversations": "conversations",
}
KPI_RATIOS: dict[str, tuple[str, str]] = {
    "containment_rate": ("contained_conversations", "engaged_dm_conversations"),
    "escalation_rate": ("escalated_conversations", "engaged_conversations"),
    "helpful_rate": ("helpful", "feedback_total"),
}
# A page filter whose metric dimension is named differently per semantic model (first one declared wins).
_METRIC_DIMS: Mapping[str, tuple[str, ...]] = {"domain": ("conversation_domain", "primary_domain")}


def metric_where(name: str, f: Filters) -> dict[str, list[str]]:
    """The page's dimension filters as the metric's where-filter ({metric dimension: values})."""
    m = get_metric(name)
    declared = m.dimensions or _model_dimensions(m)
    out: dict[str, list[str]] = {}
    for dim, chosen in f.active().items():
        target = next((d for d in _METRIC_DIMS.get(dim, (dim,)) if d in declared), None)
        if target is None:
            raise MetricError(
                f"metric {name} cannot be filtered by {dim}: add the dimension to its meta.dimensions "
                "in models/semantic/metrics.yml, or take the filter off the page"
            )
        out[target] = list(chosen)
    return out


def _model_dimensions(m: Metric) -> tuple[str, ...]:
    """A building block's dimensions (it declares none): its semantic models' and its users'."""
    dims = [d for sm in m.semantic_models for d in sm.dimensions]
    if all("user" in sm.entities for sm in m.semantic_models):
        dims += semantic_models()["users"].dimensions
    return tuple(dims)


def kpis(store: ReadStore, f: Filters, schema: str) -> pd.DataFrame:
    """The headline numbers of one period (one row), each the metric layer's value for the period
    and the filters (compiled once per query shape, run on the store's snapshot)."""
    row: dict[str, Any] = {}
    names = [*KPI_COUNTS.values(), *KPI_RATIOS]
    with store.cursor() as con:
        got = _run_all(con, {n: _request(n, f, schema, since=f.start) for n in names})
    for col, name in KPI_COUNTS.items():
        df = got[name]
        row[col] = 0 if df.empty or pd.isna(df["value"].iloc[0]) else int(df["value"].iloc[0])
    for col, (num, den) in KPI_RATIOS.items():
        df = got[col]
        for part, src in ((num, "numerator"), (den, "denominator")):
            row[part] = 0 if df.empty or pd.isna(df[src].iloc[0]) else int(df[src].iloc[0])
        row[col] = None if df.empty or pd.isna(df["value"].iloc[0]) else float(df["value"].iloc[0])
    return pd.DataFrame([row])


def _request(
    metric: str,
    f: Filters,
    schema: str,
    grain: str | None = None,
    by: Sequence[str] = (),
    since: date | None = None,
) -> dict[str, Any]:
    """The arguments of one metric query for the filters' period end, dimensions and test users."""
    return {
        "name": metric,
        "grain": grain,
        "by": tuple(by),
        "since": since,
        "until": f.end,
        "where": metric_where(metric, f),
        "include_test_users": f.include_test_users,
        "schema": schema,
    }


def _run_all(con: Any, requests: Mapping[Any, dict[str, Any]]) -> dict[Any, pd.DataFrame]:
    """Run the metric queries one after the other on the snapshot's cursor. (On parallel cursors the
    pages were no faster on 2 cores: DuckDB already spreads each query over them.)"""
    return {k: metric_query(con, **kw) for k, kw in requests.items()}


@dataclass(frozen=True)
class Part:
    """A page column: a metric's value, or a ratio's `numerator` or `denominator`."""

    metric: str
    part: str = "value"


Columns = Mapping[str, "str | Part"]


@dataclass(frozen=True)
class Frame:
    """A page frame: the metrics of `columns` ({page column: metric or Part}) side by side, per period
    of `grain` (named `period`) and per value of the `by` dimensions, for the filters' period
    (`since=None`: from the first day on record) and dimension filters."""

    columns: Columns
    grain: str | None = None
    by: Sequence[str] = ()
    period: str = "day"
    since: bool = True  # False: from the first day on record

    @property
    def parts(self) -> dict[str, Part]:
        return {col: Part(p) if isinstance(p, str) else p for col, p in self.columns.items()}

    def requests(self, f: Filters, schema: str) -> dict[str, dict[str, Any]]:
        start = f.start if self.since else None
        return {
            p.metric: _request(p.metric, f, schema, self.grain, self.by, start) for p in self.parts.values()
        }

    def assemble(self, runs: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        """The frame from its metrics' results: counts of a missing row are 0, rates stay undefined."""
        keys = (["period"] if self.grain else []) + list(self.by)
        out: pd.DataFrame | None = None
        for col, p in self.parts.items():
            df = runs[p.metric][[*keys, p.part]].rename(columns={p.part: col})
            if out is None:
                out = df
            elif keys:
                out = out.merge(df, on=keys, how="outer")
            else:  # one row each (none for an empty period)
                out = pd.concat([out.reset_index(drop=True), df.reset_index(drop=True)], axis=1)
        assert out is not None, "a frame needs at least one column"
        for col, p in self.parts.items():
            m = get_metric(p.metric)
            if p.part != "value" or not m.is_ratio:
                out[col] = out[col].fillna(0)
                if p.part != "value" or m.format == "count":
                    out[col] = out[col].astype("int64")
        if not keys:
            return out.reset_index(drop=True)
        out = out.sort_values(keys, na_position="last").reset_index(drop=True)
        if self.grain:
            out = out.rename(columns={"period": self.period})
            out[self.period] = pd.to_datetime(out[self.period])
        return out


def _on(store: ReadStore, page: str, f: Filters, schema: str, *specs: tuple[str, dict[str, Any]]) -> Frames:
    """Run every metric query of the page's frames ((name, Frame arguments)) on one snapshot, with
    the filters the page applies, and assemble the frames."""
    f = f.restricted(PAGE_DIMS[page])
    frames = {name: Frame(**spec) for name, spec in specs}
    requests = {(name, m): kw for name, fr in frames.items() for m, kw in fr.requests(f, schema).items()}
    with store.cursor() as con, shared_results():
        runs = _run_all(con, requests)
    return {
        name: fr.assemble({m: df for (n, m), df in runs.items() if n == name}) for name, fr in frames.items()
    }


def overview(store: ReadStore, f: Filters, schema: str) -> Frames:
    trend = {
        "columns": {
            "active_users": "active_users",
            "user_interactions": "interactions",
            "conversations": "conversations",
            "escalated_conversations": Part("escalation_rate", "numerator"),
        },
        "grain": "day",
    }
    frames = _on(store, "overview", f, schema, ("trend", trend))
    return {"kpis": kpis(store, f, schema), "previous": kpis(store, f.previous(), schema), **frames}


def adoption(store: ReadStore, f: Filters, schema: str) -> Frames:
    weekly_by_first = {
        "columns": {"users": "active_users"},
        "grain": "week",
        "by": ["first_interaction_day__week"],
        "period": "week",
    }
    windows = {"columns": {w: Part("dau_wau_mau", w) for w in ("dau", "wau", "mau")}, "grain": "day"}
    unfiltered = not f.restricted(PAGE_DIMS["adoption"]).active() and not f.include_test_users
    exported = unfiltered and store.has_table(schema, ACTIVE_USERS_EXPORT)
    got = _on(
        store,
        "adoption",
        f,
        schema,
        *([] if exported else [("active", windows)]),
        ("new", {"columns": {"new_users": "new_users"}, "grain": "week", "period": "week"}),
        ("by_first", weekly_by_first),
        ("history", {**weekly_by_first, "since": False}),
    )
    # DAU/WAU/MAU: the bundle's three trailing windows, one row per day of the period.
    days = pd.DataFrame({"day": pd.date_range(f.start, f.end, freq="D")})
    active = days.merge(
        got["active"] if "active" in got else _active_export(store, f, schema), on="day", how="left"
    )
    active = active.fillna(0)
    active[["dau", "wau", "mau"]] = active[["dau", "wau", "mau"]].astype("int64")
    # New = first_interaction_time (users entity) in the week, as the "New users" tile counts them;
    # returning = the other users active in the week.
    by_first = got["by_first"]
    first_week = pd.to_datetime(by_first["first_interaction_day__week"])
    returning = by_first[first_week != by_first["week"]].groupby("week", as_index=False)["users"].sum()
    new_returning = (
        got["new"]
        .merge(returning.rename(columns={"users": "returning_users"}), on="week", how="outer")
        .fillna(0)
        .astype({"new_users": "int64", "returning_users": "int64"})
        .sort_values("week")
        .reset_index(drop=True)
    )
    # Cohort = the week of a user's first interaction (users entity), up to the end date, for the
    # cohorts whose first week the store holds (earlier users have no week 0 to retain from).
    hist = got["history"].dropna(subset=["first_interaction_day__week"])
    cohorts = pd.DataFrame(
        {
            "cohort": pd.to_datetime(hist["first_interaction_day__week"]),
            "weeks_since": 0,
            "users": hist["users"].astype("int64"),
        }
    )
    cohorts["weeks_since"] = ((pd.to_datetime(hist["week"]) - cohorts["cohort"]).dt.days // 7).astype("int64")
    observed = cohorts.loc[cohorts["weeks_since"] == 0, "cohort"]
    cohorts = cohorts[cohorts["cohort"].isin(observed) & (cohorts["weeks_since"] >= 0)]
    cohorts = cohorts.sort_values(["cohort", "weeks_since"]).reset_index(drop=True)
    size = cohorts["users"].where(cohorts["weeks_since"] == 0).groupby(cohorts["cohort"]).transform("max")
    cohorts["retention"] = cohorts["users"] / size
    return {
        "active": active,
        "new_returning": new_returning,
        "cohorts": cohorts,
        "users": user_counts(store, f, schema),
        "users_previous": user_counts(store, f.previous(), schema),
    }


# The saved query `active_users_daily` that `mwdata build` exports (models/semantic/saved_queries.yml):
# dau_wau_mau's windows for every day, test users excluded, read when the page has no filter.
ACTIVE_USERS_EXPORT = "moveworks__active_users_daily"


def _active_export(store: ReadStore, f: Filters, schema: str) -> pd.DataFrame:
    df = store.query(
        f'SELECT date_day AS day, active_users AS dau, wau, mau FROM "{schema}"."{ACTIVE_USERS_EXPORT}" '
        "WHERE date_day BETWEEN ? AND ?",
        [f.start, f.end],
    )
    return df.assign(day=pd.to_datetime(df["day"]))


def user_counts(store: ReadStore, f: Filters, schema: str) -> pd.DataFrame:
    """Active users, new users (whose `first_interaction_time` falls in the period, from the users
    entity: not the first day the store saw them, which a store younger than the tenant gets wrong)
    and retained users (active in this period and in the previous one)."""
    cols = {
        "active_users": "active_users",
        "new_users": "new_users",
        "retained_users": Part("retained_users", "numerator"),
    }
    df = _on(store, "adoption", f, schema, ("users", {"columns": cols}))["users"]
    if df.empty:
        df = pd.DataFrame([dict.fromkeys(cols, 0)])
    return df.astype("int64")


def channels(store: ReadStore, f: Filters, schema: str) -> Frames:
    by_platform = {
        "columns": {
            "active_users": "active_users",
            "user_interactions": "interactions",
            "conversations": "user_conversations",
            "interaction_share": "channel_adoption",
        },
        "by": ["platform"],
    }
    trend = {"columns": {"user_interactions": "interactions"}, "grain": "day", "by": ["platform"]}
    got = _on(store, "channels", f, schema, ("by_platform", by_platform), ("trend", trend))
    got["by_platform"] = _ranked(got["by_platform"], ["user_interactions", "platform"], [False, True])
    return got


def _ranked(df: pd.DataFrame, by: list[str], ascending: list[bool], n: int | None = None) -> pd.DataFrame:
    df = df.sort_values(by, ascending=ascending, na_position="last")
    return (df.head(n) if n else df).reset_index(drop=True)


def segments(store: ReadStore, f: Filters, schema: str) -> Frames:
    """Per department, location and role: active users over headcount (`segment_adoption`), the
    segment's interactions and its users with access. A platform, route or domain filter cuts the
    active users and interactions; headcount has no such dimension and stays whole."""
    cols = {
        "headcount": Part("segment_adoption", "denominator"),
        "users_with_access": Part("adoption_rate", "denominator"),
        "active_users": Part("segment_adoption", "numerator"),
        "user_interactions": "interactions",
        "adoption_rate": "segment_adoption",
    }
    dims = ("department", "location", "role")
    got = _on(store, "segments", f, schema, *((f"by_{d}", {"columns": cols, "by": [d]}) for d in dims))
    out: Frames = {}
    for dim in dims:
        df = got[f"by_{dim}"]
        df[dim] = df[dim].where(df[dim].notna(), "(unknown)")
        out[f"by_{dim}"] = _ranked(df, ["active_users", dim], [False, True])
    return out


# The outcomes funnel: (measure of `measures.CONVERSATION`, stage label), in order, and the metric
# part that counts each stage.
FUNNEL = (
    ("conversations", "Conversations"),
    ("engaged", "User-engaged"),
    ("plugin_served", "Plugin served"),
    ("plugin_used", "Plugin used"),
    ("contained", "Contained (DM)"),
)
FUNNEL_METRICS: dict[str, str | Part] = {
    "conversations": "conversations",
    "engaged": Part("escalation_rate", "denominator"),
    "plugin_served": "plugin_served_conversations",
    "plugin_used": "plugin_used_conversations",
    "contained": Part("containment_rate", "numerator"),
}


def outcomes(store: ReadStore, f: Filters, schema: str) -> Frames:
    outcome_by = {
        "conversations": "conversations",
        "engaged": Part("escalation_rate", "denominator"),
        "escalated": Part("escalation_rate", "numerator"),
    }
    got = _on(
        store,
        "outcomes",
        f,
        schema,
        ("funnel", {"columns": FUNNEL_METRICS}),
        (
            "trend",
            {
                "columns": {"containment_rate": "containment_rate", "escalation_rate": "escalation_rate"},
                "grain": "week",
                "period": "week",
            },
        ),  # fmt: skip
        ("by_route", {"columns": outcome_by, "by": ["route", "primary_domain"]}),
        (
            "by_type",
            {
                "columns": {k: outcome_by[k] for k in ("conversations", "engaged")},
                "by": ["conversation_type"],
            },
        ),  # fmt: skip
    )
    counts = got["funnel"].iloc[0] if len(got["funnel"]) else pd.Series(0, index=list(FUNNEL_METRICS))
    funnel = pd.DataFrame(
        [
            {"step": i, "stage": label, "measure": m, "conversations": int(counts[m])}
            for i, (m, label) in enumerate(FUNNEL, 1)
        ]
    )
    by_route = got["by_route"].rename(columns={"primary_domain": "domain"})
    by_route["domain"] = by_route["domain"].where(by_route["domain"].notna(), "(none)")
    by_route = _ranked(by_route, ["conversations", "route", "domain"], [False, True, True])
    by_type = got["by_type"].dropna(subset=["conversation_type"])
    by_type = _ranked(by_type, ["conversations", "conversation_type"], [False, True])
    return {"funnel": funnel, "trend": got["trend"], "by_route": by_route, "by_type": by_type}


def plugins(store: ReadStore, f: Filters, schema: str) -> Frames:
    table = {
        "columns": {
            "calls": "plugin_calls",
            "served": Part("plugin_used_rate", "denominator"),
            "used": Part("plugin_used_rate", "numerator"),
            "unsuccessful": "plugin_unsuccessful",
            "served_rate": "plugin_served_rate",
            "used_rate": "plugin_used_rate",
            "latency_p50_s": "plugin_latency",
            "latency_p90_s": "plugin_latency_p90",
        },
        "by": ["plugin_name", "is_native"],
    }
    trend = {
        "columns": {
            "served": Part("plugin_used_rate", "denominator"),
            "used": Part("plugin_used_rate", "numerator"),
            "unsuccessful": "plugin_unsuccessful",
        },
        "grain": "day",
    }
    got = _on(store, "plugins", f, schema, ("plugins", table), ("trend", trend))
    df = got["plugins"]
    vars_ = parameters()  # the "served but rarely used" thresholds of plugin_used_rate
    df["served_rarely_used"] = (df["served"] >= vars_["mwdata_served_rarely_used_min_served"]) & (
        df["used"] < vars_["mwdata_served_rarely_used_max_rate"] * df["served"]
    )
    got["plugins"] = _ranked(df, ["calls", "plugin_name"], [False, True])
    return got


def knowledge(store: ReadStore, f: Filters, schema: str) -> Frames:
    citations = {
        "times_served": Part("citation_rate", "denominator"),
        "times_cited": Part("citation_rate", "numerator"),
        "citation_rate": "citation_rate",
    }
    per_article = {
        **citations,
        "conversations": "article_conversations",
        "unhelpful_conversations": "article_unhelpful_conversations",
        "ticket_conversations": "article_ticket_conversations",
    }
    got = _on(
        store,
        "knowledge",
        f,
        schema,
        ("articles", {"columns": per_article, "by": ["resource_id"]}),
        ("totals", {"columns": citations}),
    )
    a = got["articles"]
    top = _ranked(a, ["times_cited", "times_served", "resource_id"], [False, False, True], 25)
    not_cited = _ranked(a[a["times_cited"] == 0], ["times_served", "resource_id"], [False, True], 25)
    labels = _resource_labels(store, schema, sorted(set(top["resource_id"]) | set(not_cited["resource_id"])))
    top, not_cited = (_labelled(x, labels) for x in (top, not_cited))
    totals = got["totals"].rename(
        columns={"times_served": "resources_served", "times_cited": "resources_cited"}
    )
    if totals.empty:
        totals = pd.DataFrame({"resources_served": [0], "resources_cited": [0], "citation_rate": [None]})
    return {"top_articles": top, "served_not_cited": not_cited, "totals": totals}


def _resource_labels(store: ReadStore, schema: str, ids: list[str]) -> pd.DataFrame:
    """A readable label and the external id per resource (a lookup of attributes, not a metric; a
    resource whose name changed between versions takes the greatest, as on every run)."""
    if not ids:
        return pd.DataFrame(columns=["resource_id", "article", "external_id"])
    marks = ", ".join("?" for _ in ids)
    return store.query(
        f"""
        SELECT resource_id, {resource_label_sql("max(article_name)", "max(external_resource_id)", "resource_id")}
                 AS article, max(external_resource_id) AS external_id
        FROM {_t(schema, "knowledge_resources")} WHERE resource_id IN ({marks}) GROUP BY 1
        """,
        ids,
    )


def _labelled(articles: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    out = articles.merge(labels, on="resource_id", how="left")
    return out[
        ["resource_id", "article", "external_id", *[c for c in articles.columns if c != "resource_id"]]
    ]


def gaps(store: ReadStore, f: Filters, schema: str) -> Frames:
    cols = {
        "volume": "topic_interactions",
        "without_citation": "uncited_questions",
        "unhelpful": "unhelpful_questions",
        "escalated": "escalated_questions",
        "failure_rate": "knowledge_gaps",
        "gap_score": Part("knowledge_gaps", "numerator"),
    }
    df = _on(store, "gaps", f, schema, ("g", {"columns": cols, "by": ["topic", "interaction_domain"]}))["g"]
    df = df[df["volume"] > 0].rename(columns={"interaction_domain": "domain"})
    df["topic"] = df["topic"].where(df["topic"].notna(), "(no topic)")
    df["domain"] = df["domain"].where(df["domain"].notna(), "(none)")
    return {"gaps": _ranked(df, ["gap_score", "volume", "topic", "domain"], [False, False, True, True], 50)}


def feedback(store: ReadStore, f: Filters, schema: str) -> Frames:
    weekly = {
        "columns": {"helpful": Part("helpful_rate", "numerator"), "unhelpful": "unhelpful_feedback"},
        "grain": "week",
        "period": "week",
    }
    trend = _on(store, "feedback", f, schema, ("t", weekly))["t"]
    trend = trend[(trend["helpful"] + trend["unhelpful"]) > 0].reset_index(drop=True)
    w, p = _where(f, JOURNEY_DIMS)
    comments = store.query(  # a list of rows, not a metric
        f"""
        SELECT created_time, platform, department, content AS comment, conversation_id
        FROM {_t(schema, "journey")} WHERE {w} AND {INTERACTION["csat_comment"]}
        ORDER BY created_time DESC, interaction_id LIMIT 200
        """,
        p,
    )
    return {"trend": trend, "comments": comments}


def efficiency(store: ReadStore, f: Filters, schema: str) -> Frames:
    ttr = {
        "columns": {
            "resolved": "resolved_conversations",
            "ttr_p50_min": "time_to_resolution",
            "ttr_p90_min": "time_to_resolution_p90",
        },
        "grain": "week",
        "period": "week",
    }
    saved = {
        "columns": {"used_calls": Part("plugin_used_rate", "numerator"), "minutes_saved": "time_saved"},
        "by": ["plugin_name"],
    }
    got = _on(store, "efficiency", f, schema, ("ttr", ttr), ("time_saved", saved))
    got["ttr"] = got["ttr"][got["ttr"]["resolved"] > 0].reset_index(drop=True)
    s = got["time_saved"]
    got["time_saved"] = _ranked(s[s["used_calls"] > 0], ["minutes_saved", "plugin_name"], [False, True])
    return got


def journey_list(store: ReadStore, f: Filters, schema: str) -> Frames:
    """What the journey explorer lists before any search (the search itself: `mwdata.read.drill`)."""
    from mwdata.read import drill  # drill-down builds on this module

    return {"conversations": drill.conversations(store, f, schema, drill.Search())}


RAW_TABLES = ("conversations", "interactions", "plugin_calls", "plugin_resources", "users")


def health(store: ReadStore, f: Filters, schema: str) -> Frames:
    """Freshness per table, sync runs, data-quality results, daily volumes (gaps) — from the store's
    own state tables (`_mwdata.sync_state`, `_mwdata.sync_runs`) and the raw tables."""
    out: Frames = {}
    union = " UNION ALL ".join(
        f"SELECT '{t}' AS entity, count(*) AS rows, max(last_updated_time) AS newest_record, "
        f'max(_synced_at) AS last_written FROM raw."{t}"'
        for t in RAW_TABLES
        if store.has_table("raw", t)
    )
    fresh = (
        store.query(union)
        if union
        else pd.DataFrame(columns=["entity", "rows", "newest_record", "last_written"])
    )
    if store.has_table(STATE_SCHEMA, "sync_runs"):
        last_ok = store.query(
            f"SELECT replace(entity, '-', '_') AS entity, max(ended_at) AS last_success FROM {STATE_SCHEMA}.sync_runs "
            "WHERE outcome = 'success' GROUP BY 1"
        )
        fresh = fresh.merge(last_ok, on="entity", how="left")
        out["sync_runs"] = store.query(
            "SELECT run_id, entity, started_at, ended_at, outcome, rows, requests, retries, throttled, errors, message "
            f"FROM {STATE_SCHEMA}.sync_runs ORDER BY started_at DESC LIMIT 100"
        )
    else:
        fresh["last_success"] = pd.NaT
        out["sync_runs"] = pd.DataFrame()
    if store.has_table(STATE_SCHEMA, "sync_state"):
        wm = store.query(
            f"SELECT replace(entity, '-', '_') AS entity, watermark FROM {STATE_SCHEMA}.sync_state"
        )
        fresh = fresh.merge(wm, on="entity", how="left")
    out["freshness"] = fresh
    out["checks"] = (
        store.query(f"SELECT * FROM {STATE_SCHEMA}.check_results ORDER BY run_at DESC LIMIT 500")
        if store.has_table(STATE_SCHEMA, "check_results")
        else pd.DataFrame()
    )
    counted = store.query(
        "SELECT CAST(created_time AS DATE) AS day, count(*) AS interactions FROM raw.interactions "
        "WHERE CAST(created_time AS DATE) BETWEEN ? AND ? GROUP BY 1",
        [f.start, f.end],
    )
    # a day without rows is a gap: 0 (days as naive UTC days, whatever type the engine's DATE came back as)
    days = pd.DataFrame({"day": pd.date_range(f.start, f.end, freq="D").astype("datetime64[ns]")})
    counted = counted.assign(
        day=pd.to_datetime(counted["day"], utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    )
    out["daily_rows"] = days.merge(counted, on="day", how="left").fillna({"interactions": 0})
    out["daily_rows"]["interactions"] = out["daily_rows"]["interactions"].astype("int64")
    return out


PAGES: dict[str, PageQuery] = {
    "overview": overview,
    "adoption": adoption,
    "channels": channels,
    "segments": segments,
    "outcomes": outcomes,
    "plugins": plugins,
    "knowledge": knowledge,
    "gaps": gaps,
    "feedback": feedback,
    "efficiency": efficiency,
    "journey": journey_list,
    "health": health,
}
PAGE_DIMS: dict[str, Mapping[str, str | None]] = {
    "overview": JOURNEY_DIMS,
    "adoption": USER_DAILY_DIMS,
    "channels": JOURNEY_DIMS,
    "segments": JOURNEY_DIMS,
    "outcomes": CONVERSATION_DIMS,
    "plugins": PLUGIN_DIMS,
    "knowledge": PLUGIN_DIMS,
    "gaps": JOURNEY_DIMS,
    "feedback": JOURNEY_DIMS,
    "efficiency": CONVERSATION_DIMS,
    "journey": CONVERSATION_DIMS,
    "health": {},
}
