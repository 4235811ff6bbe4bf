"""Every query the dashboard and the report run, one function per page (no Streamlit here).

Each page function takes the store, the filters and the marts' schema and returns named DataFrames;
the Streamlit pages draw them, the report renders some of them, the benchmark times all of them.
Filters always travel as bound parameters (`Filters.where`, or the metric layer's where-filter for
the numbers `mwdata.metrics` already computes: `kpis`; the other pages still aggregate the marts here). Every ordered result has a total order
(ties broken by name or id), so a top-N list is the same on every run. The mart columns read here
are listed in docs/dashboard.md ("What the dashboard reads").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import pandas as pd

from mwdata.metrics.query import query as metric_query
from mwdata.metrics.registry import MetricError, get_metric
from mwdata.read.filters import Filters
from mwdata.read.formatting import resource_label_sql
from mwdata.read.measures import CONVERSATION, INTERACTION, PLUGIN_CALL, RESOURCE, count
from mwdata.read.snapshot import Store
from mwdata.store.schema import STATE_SCHEMA

Frames = dict[str, pd.DataFrame]
PageQuery = Callable[[Store, Filters, str], Frames]

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
def date_bounds(store: Store, schema: str) -> tuple[date, date] | None:
    df = store.query(
        f"SELECT CAST(min(created_time) AS DATE) AS lo, CAST(max(created_time) AS DATE) AS hi "
        f"FROM {_t(schema, 'journey')}"
    )
    if df.empty or pd.isna(df["lo"].iloc[0]):
        return None
    return (pd.Timestamp(df["lo"].iloc[0]).date(), pd.Timestamp(df["hi"].iloc[0]).date())


def filter_options(store: Store, schema: str) -> dict[str, list[str]]:
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
    out: dict[str, list[str]] = {}
    for dim, chosen in f.active().items():
        target = next((d for d in _METRIC_DIMS.get(dim, (dim,)) if d in m.dimensions), None)
        if target is None:
            raise MetricError(
                f"metric {name} cannot be filtered by {dim}: add the dimension to its meta.dimensions "
                "in models/semantic/metrics.yml, or take the filter off the page"
            )
        out[target] = list(chosen)
    return out


def kpis(store: Store, f: Filters, schema: str) -> pd.DataFrame:
    """The headline numbers of one period (one row), each the metric layer's value for the period
    and the filters (compiled once per query shape, run on the store's snapshot)."""
    row: dict[str, Any] = {}
    with store.cursor() as con:

        def run(name: str) -> pd.DataFrame:
            return metric_query(
                con,
                name,
                since=f.start,
                until=f.end,
                where=metric_where(name, f),
                include_test_users=f.include_test_users,
                schema=schema,
            )

        for col, name in KPI_COUNTS.items():
            df = run(name)
            row[col] = 0 if df.empty or pd.isna(df["value"].iloc[0]) else int(df["value"].iloc[0])
        for col, (num, den) in KPI_RATIOS.items():
            df = run(col)
            for part, src in ((num, "numerator"), (den, "denominator")):
                row[part] = 0 if df.empty or pd.isna(df[src].iloc[0]) else int(df[src].iloc[0])
            row[col] = None if df.empty or pd.isna(df["value"].iloc[0]) else float(df["value"].iloc[0])
    return pd.DataFrame([row])


def overview(store: Store, f: Filters, schema: str) -> Frames:
    wj, pj = _where(f, JOURNEY_DIMS)
    wc, pc = _where(f, CONVERSATION_DIMS)
    trend = store.query(
        f"""
        WITH u AS (
          SELECT CAST(created_time AS DATE) AS day, count(DISTINCT user_id) AS active_users,
                 count(*) AS user_interactions
          FROM {_t(schema, "journey")} WHERE {wj} GROUP BY 1
        ), c AS (
          SELECT CAST(created_time AS DATE) AS day, {count(CONVERSATION["conversations"])} AS conversations,
                 {count(CONVERSATION["escalated"])} AS escalated_conversations
          FROM {_t(schema, "conversations")} WHERE {wc} GROUP BY 1
        )
        SELECT coalesce(u.day, c.day) AS day, coalesce(active_users, 0) AS active_users,
               coalesce(user_interactions, 0) AS user_interactions, coalesce(conversations, 0) AS conversations,
               coalesce(escalated_conversations, 0) AS escalated_conversations
        FROM u FULL JOIN c ON u.day = c.day ORDER BY 1
        """,
        pj + pc,
    )
    return {"kpis": kpis(store, f, schema), "previous": kpis(store, f.previous(), schema), "trend": trend}


def adoption(store: Store, f: Filters, schema: str) -> Frames:
    w, p = _where(f, USER_DAILY_DIMS, date_col=None)
    ud = _t(schema, "user_daily")
    # DAU/WAU/MAU per day without a distinct-count per window: a user active on day a, next active on
    # day n, counts towards the trailing-k-day total on days [a, min(n, a + k)) — disjoint intervals per
    # user, so a running sum of +1/-1 events gives exact distinct counts in one pass.
    active = store.query(
        f"""
        WITH ud AS (SELECT DISTINCT user_id, date_day FROM {ud}
                    WHERE {w} AND date_day BETWEEN CAST(? AS DATE) - 30 AND ?),
        nx AS (SELECT date_day AS a, lead(date_day) OVER (PARTITION BY user_id ORDER BY date_day) AS n FROM ud),
        ev AS (
          SELECT a AS d, 1 AS dau, 1 AS wau, 1 AS mau FROM nx
          UNION ALL SELECT a + 1, -1, 0, 0 FROM nx
          UNION ALL SELECT least(coalesce(n, a + 7), a + 7), 0, -1, 0 FROM nx
          UNION ALL SELECT least(coalesce(n, a + 30), a + 30), 0, 0, -1 FROM nx
        ),
        cum AS (SELECT d, sum(sum(dau)) OVER w AS dau, sum(sum(wau)) OVER w AS wau, sum(sum(mau)) OVER w AS mau
                FROM ev GROUP BY d WINDOW w AS (ORDER BY d)),
        days AS (SELECT CAST(t AS DATE) AS day FROM range(CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP) + INTERVAL 1 DAY,
                                                          INTERVAL 1 DAY) r(t))
        SELECT days.day, CAST(coalesce(cum.dau, 0) AS BIGINT) AS dau, CAST(coalesce(cum.wau, 0) AS BIGINT) AS wau,
               CAST(coalesce(cum.mau, 0) AS BIGINT) AS mau
        FROM days ASOF LEFT JOIN cum ON days.day >= cum.d ORDER BY 1
        """,
        p + [f.start, f.end, f.start, f.end],
    )
    # New = first_interaction_time (users entity) in the week, as the "New users" tile counts them;
    # returning = the other users active in the week.
    new_returning = store.query(
        f"""
        WITH act AS (SELECT DISTINCT date_trunc('week', date_day) AS week, user_id FROM {ud}
                     WHERE {w} AND date_day BETWEEN ? AND ?),
        new AS (SELECT date_trunc('week', first_interaction_day) AS week, user_id FROM {_t(schema, "users")}
                WHERE {w} AND first_interaction_day BETWEEN ? AND ?)
        SELECT coalesce(a.week, n.week) AS week, count(DISTINCT n.user_id) AS new_users,
               count(DISTINCT a.user_id) FILTER (WHERE n.user_id IS NULL) AS returning_users
        FROM act a FULL JOIN new n ON a.week = n.week AND a.user_id = n.user_id
        GROUP BY 1 ORDER BY 1
        """,
        p + [f.start, f.end] + p + [f.start, f.end],
    )
    # Cohort = the week of a user's first activity in the whole history; every cohort up to the end date.
    cohorts = store.query(
        f"""
        WITH base AS (SELECT DISTINCT date_trunc('week', date_day) AS week, user_id FROM {ud}
                      WHERE {w} AND date_day <= ?),
        firsts AS (SELECT user_id, min(week) AS cohort FROM base GROUP BY 1)
        SELECT fi.cohort, CAST(datediff('week', fi.cohort, b.week) AS INTEGER) AS weeks_since,
               count(DISTINCT b.user_id) AS users,
               count(DISTINCT b.user_id) / max(count(DISTINCT b.user_id)) OVER (PARTITION BY fi.cohort) AS retention
        FROM base b JOIN firsts fi USING (user_id)
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        p + [f.end],
    )
    return {
        "active": active,
        "new_returning": new_returning,
        "cohorts": cohorts,
        "users": user_counts(store, f, schema),
        "users_previous": user_counts(store, f.previous(), schema),
    }


def user_counts(store: Store, f: Filters, schema: str) -> pd.DataFrame:
    """Active users, new users (whose `first_interaction_time` falls in the period, from the users
    entity: not the first day the store saw them, which a store younger than the tenant gets wrong)
    and retained users (active in this period and in the previous one)."""
    w, p = _where(f, USER_DAILY_DIMS, date_col=None)
    prev = f.previous()
    return store.query(
        f"""
        WITH u AS (SELECT user_id, bool_or(date_day BETWEEN ? AND ?) AS now_active,
                          bool_or(date_day BETWEEN ? AND ?) AS before_active
                   FROM {_t(schema, "user_daily")} WHERE {w} AND date_day BETWEEN ? AND ? GROUP BY 1),
        n AS (SELECT count(*) AS new_users FROM {_t(schema, "users")}
              WHERE {w} AND first_interaction_day BETWEEN ? AND ?)
        SELECT count(*) FILTER (WHERE now_active) AS active_users, any_value(n.new_users) AS new_users,
               count(*) FILTER (WHERE now_active AND before_active) AS retained_users
        FROM n LEFT JOIN u ON TRUE
        """,
        [f.start, f.end, prev.start, prev.end] + p + [prev.start, f.end] + p + [f.start, f.end],
    )


def channels(store: Store, f: Filters, schema: str) -> Frames:
    w, p = _where(f, JOURNEY_DIMS)
    j = _t(schema, "journey")
    by_platform = store.query(
        f"""
        SELECT platform, count(DISTINCT user_id) AS active_users, count(*) AS user_interactions,
               count(DISTINCT conversation_id) AS conversations,
               count(*) / sum(count(*)) OVER () AS interaction_share
        FROM {j} WHERE {w} GROUP BY 1 ORDER BY user_interactions DESC, platform
        """,
        p,
    )
    trend = store.query(
        f"""
        SELECT CAST(created_time AS DATE) AS day, platform, count(*) AS user_interactions
        FROM {j} WHERE {w} GROUP BY 1, 2 ORDER BY 1, 2
        """,
        p,
    )
    return {"by_platform": by_platform, "trend": trend}


def segments(store: Store, f: Filters, schema: str) -> Frames:
    w, p = _where(f, JOURNEY_DIMS)
    seg = _t(schema, "adoption_by_segment")
    active = store.query(
        f"""
        SELECT coalesce(department, '(unknown)') AS department, coalesce(location, '(unknown)') AS location,
               coalesce(role, '(unknown)') AS role, count(DISTINCT user_id) AS active_users,
               count(*) AS user_interactions
        FROM {_t(schema, "journey")} WHERE {w} GROUP BY 1, 2, 3
        """,
        p,
    )
    headcount = store.query(
        f"SELECT coalesce(department, '(unknown)') AS department, coalesce(location, '(unknown)') AS location, "
        f"coalesce(role, '(unknown)') AS role, sum(headcount) AS headcount, "
        f"sum(users_with_access) AS users_with_access FROM {seg} GROUP BY 1, 2, 3"
    )
    by: Frames = {}
    for dim in ("department", "location", "role"):
        a = active.groupby(dim, as_index=False)[["active_users", "user_interactions"]].sum()
        h = headcount.groupby(dim, as_index=False)[["headcount", "users_with_access"]].sum()
        m = h.merge(a, on=dim, how="outer").fillna(0)
        m["adoption_rate"] = m["active_users"] / m["headcount"].where(m["headcount"] > 0)
        by[f"by_{dim}"] = m.sort_values(["active_users", dim], ascending=[False, True]).reset_index(drop=True)
    return by


# The outcomes funnel: (measure of `measures.CONVERSATION`, stage label), in order.
FUNNEL = (
    ("conversations", "Conversations"),
    ("engaged", "User-engaged"),
    ("plugin_served", "Plugin served"),
    ("plugin_used", "Plugin used"),
    ("contained", "Contained (DM)"),
)


def outcomes(store: Store, f: Filters, schema: str) -> Frames:
    w, p = _where(f, CONVERSATION_DIMS)
    c = _t(schema, "conversations")
    funnel = store.query(
        f"""
        SELECT * FROM (VALUES {", ".join(f"({i}, '{label}', '{m}')" for i, (m, label) in enumerate(FUNNEL, 1))})
          AS s(step, stage, measure)
        JOIN (
          SELECT {", ".join(f"{count(CONVERSATION[m])} AS s{i}" for i, (m, _) in enumerate(FUNNEL, 1))}
          FROM {c} WHERE {w}
        ) ON TRUE
        """,
        p,
    )
    funnel["conversations"] = [funnel.loc[i, f"s{int(funnel.loc[i, 'step'])}"] for i in funnel.index]
    funnel = funnel[["step", "stage", "measure", "conversations"]].sort_values("step").reset_index(drop=True)
    trend = store.query(
        f"""
        SELECT date_trunc('week', created_time)::DATE AS week,
               {count(CONVERSATION["contained"])}
                 / nullif({count(CONVERSATION["engaged_dm"])}, 0) AS containment_rate,
               {count(CONVERSATION["escalated"])}
                 / nullif({count(CONVERSATION["engaged"])}, 0) AS escalation_rate
        FROM {c} WHERE {w} GROUP BY 1 ORDER BY 1
        """,
        p,
    )
    by_route = store.query(
        f"""
        SELECT route, coalesce(primary_domain, '(none)') AS domain, count(*) AS conversations,
               {count(CONVERSATION["engaged"])} AS engaged,
               {count(CONVERSATION["escalated"])} AS escalated
        FROM {c} WHERE {w} GROUP BY 1, 2 ORDER BY conversations DESC, 1, 2
        """,
        p,
    )
    by_type = store.query(
        f"""
        SELECT conversation_type, count(*) AS conversations, count(*) FILTER (WHERE is_user_engaged) AS engaged
        FROM {c} WHERE {w} AND conversation_type IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1
        """,
        p,
    )
    return {"funnel": funnel, "trend": trend, "by_route": by_route, "by_type": by_type}


def plugins(store: Store, f: Filters, schema: str) -> Frames:
    w, p = _where(f, PLUGIN_DIMS)
    table = store.query(
        f"""
        SELECT plugin_name, any_value(is_native) AS is_native, {count(PLUGIN_CALL["calls"])} AS calls,
               {count(PLUGIN_CALL["served"])} AS served, {count(PLUGIN_CALL["used"])} AS used,
               {count(PLUGIN_CALL["unsuccessful"])} AS unsuccessful,
               count(*) FILTER (WHERE served) / count(*) AS served_rate,
               count(*) FILTER (WHERE used) / nullif(count(*) FILTER (WHERE served), 0) AS used_rate,
               median(latency_seconds) AS latency_p50_s, quantile_cont(latency_seconds, 0.9) AS latency_p90_s,
               count(*) FILTER (WHERE served) >= 20
                 AND count(*) FILTER (WHERE used) < 0.2 * count(*) FILTER (WHERE served) AS served_rarely_used
        FROM {_t(schema, "plugin_calls")} WHERE {w}
        GROUP BY 1 ORDER BY calls DESC, 1
        """,
        p,
    )
    trend = store.query(
        f"""
        SELECT CAST(created_time AS DATE) AS day, {count(PLUGIN_CALL["served"])} AS served,
               {count(PLUGIN_CALL["used"])} AS used, {count(PLUGIN_CALL["unsuccessful"])} AS unsuccessful
        FROM {_t(schema, "plugin_calls")} WHERE {w} GROUP BY 1 ORDER BY 1
        """,
        p,
    )
    return {"plugins": table, "trend": trend}


def knowledge(store: Store, f: Filters, schema: str) -> Frames:
    w, p = _where(f, PLUGIN_DIMS)
    r = _t(schema, "knowledge_resources")
    articles = store.query(
        f"""
        SELECT resource_id,
               {resource_label_sql("any_value(article_name)", "any_value(external_resource_id)", "resource_id")}
                 AS article,
               any_value(external_resource_id) AS external_id,
               {count(RESOURCE["served"])} AS times_served, {count(RESOURCE["cited"])} AS times_cited,
               count(DISTINCT conversation_id) AS conversations,
               count(DISTINCT conversation_id) FILTER (WHERE conversation_unhelpful) AS unhelpful_conversations,
               count(DISTINCT conversation_id) FILTER (WHERE conversation_ticket_filed) AS ticket_conversations,
               count(*) FILTER (WHERE cited) / count(*) AS citation_rate
        FROM {r} WHERE {w} GROUP BY 1
        """,
        p,
    )
    top = (
        articles.sort_values(["times_cited", "times_served", "resource_id"], ascending=[False, False, True])
        .head(25)
        .reset_index(drop=True)
    )
    not_cited = (
        articles[articles["times_cited"] == 0]
        .sort_values(["times_served", "resource_id"], ascending=[False, True])
        .head(25)
        .reset_index(drop=True)
    )
    totals = pd.DataFrame(
        {
            "resources_served": [int(articles["times_served"].sum())],
            "resources_cited": [int(articles["times_cited"].sum())],
        }
    )
    totals["citation_rate"] = totals["resources_cited"] / totals["resources_served"].where(
        totals["resources_served"] > 0
    )
    return {"top_articles": top, "served_not_cited": not_cited, "totals": totals}


def gaps(store: Store, f: Filters, schema: str) -> Frames:
    w, p = _where(f, JOURNEY_DIMS)
    table = store.query(
        f"""
        SELECT coalesce(topic, '(no topic)') AS topic, coalesce(interaction_domain, '(none)') AS domain,
               count(*) AS volume,
               count(*) FILTER (WHERE cited_resources = 0) AS without_citation,
               {count(INTERACTION["unhelpful"])} AS unhelpful,
               count(*) FILTER (WHERE is_escalated) AS escalated,
               {count(INTERACTION["gap"])} / count(*) AS failure_rate,
               {count(INTERACTION["gap"])} AS gap_score
        FROM {_t(schema, "journey")} WHERE {w} AND {INTERACTION["free_text"]}
        GROUP BY 1, 2 ORDER BY gap_score DESC, volume DESC, 1, 2 LIMIT 50
        """,
        p,
    )
    return {"gaps": table}


def feedback(store: Store, f: Filters, schema: str) -> Frames:
    w, p = _where(f, JOURNEY_DIMS)
    j = _t(schema, "journey")
    trend = store.query(
        f"""
        SELECT date_trunc('week', created_time)::DATE AS week,
               {count(INTERACTION["helpful"])} AS helpful,
               {count(INTERACTION["unhelpful"])} AS unhelpful
        FROM {j} WHERE {w} AND feedback IS NOT NULL GROUP BY 1 ORDER BY 1
        """,
        p,
    )
    comments = store.query(
        f"""
        SELECT created_time, platform, department, content AS comment, conversation_id
        FROM {j} WHERE {w} AND {INTERACTION["csat_comment"]} ORDER BY created_time DESC, interaction_id LIMIT 200
        """,
        p,
    )
    return {"trend": trend, "comments": comments}


def efficiency(store: Store, f: Filters, schema: str) -> Frames:
    wc, pc = _where(f, CONVERSATION_DIMS)
    wp, pp = _where(f, PLUGIN_DIMS)
    ttr = store.query(
        f"""
        SELECT date_trunc('week', created_time)::DATE AS week, count(minutes_to_resolution) AS resolved,
               median(minutes_to_resolution) AS ttr_p50_min, quantile_cont(minutes_to_resolution, 0.9) AS ttr_p90_min
        FROM {_t(schema, "conversations")}
        WHERE {wc} AND {CONVERSATION["resolved"]}
        GROUP BY 1 ORDER BY 1
        """,
        pc,
    )
    saved = store.query(
        f"""
        SELECT plugin_name, {count(PLUGIN_CALL["used"])} AS used_calls,
               sum(CASE WHEN used THEN minutes_saved ELSE 0 END) AS minutes_saved
        FROM {_t(schema, "plugin_calls")} WHERE {wp} GROUP BY 1 HAVING count(*) FILTER (WHERE used) > 0
        ORDER BY minutes_saved DESC, plugin_name
        """,
        pp,
    )
    return {"ttr": ttr, "time_saved": saved}


def journey_list(store: Store, f: Filters, schema: str) -> Frames:
    """What the journey explorer lists before any search (the search itself: `mwdata.read.drill`)."""
    from mwdata.read import drill  # drill-down builds on this module

    return {"conversations": drill.conversations(store, f, schema, drill.Search())}


RAW_TABLES = ("conversations", "interactions", "plugin_calls", "plugin_resources", "users")


def health(store: Store, f: Filters, schema: str) -> Frames:
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
    out["daily_rows"] = store.query(
        "WITH days AS (SELECT CAST(t AS DATE) AS day FROM range(CAST(? AS TIMESTAMP), "
        "CAST(? AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY) r(t)), "
        "n AS (SELECT CAST(created_time AS DATE) AS day, count(*) AS interactions FROM raw.interactions "
        "WHERE created_time >= CAST(? AS TIMESTAMPTZ) AND created_time < CAST(? AS TIMESTAMPTZ) + INTERVAL 1 DAY "
        "GROUP BY 1) SELECT days.day, coalesce(n.interactions, 0) AS interactions FROM days LEFT JOIN n USING (day) "
        "ORDER BY 1",
        [f.start, f.end, f.start, f.end],
    )
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
