"""One function per dashboard page: run the page's queries (mwdata.read.queries) and draw them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from mwdata.app import ui
from mwdata.app.ui import Ctx
from mwdata.errors import MwdataError
from mwdata.read import charts, drill, measures, queries
from mwdata.read.drill import Drill

if TYPE_CHECKING:
    from collections.abc import Callable


def _v(df: pd.DataFrame, col: str) -> float | None:
    if df.empty or col not in df:
        return None
    v = df[col].iloc[0]
    return None if pd.isna(v) else float(v)


def _has(x: object) -> bool:
    """Truthiness that treats SQL NULL (pandas NA/NaN/None) as false."""
    return x is not None and not bool(pd.isna(x)) and bool(x)  # type: ignore[arg-type]


def _header(ctx: Ctx, title: str, page: str) -> None:
    st.title(title)
    f = ctx.filters
    p = f.previous()
    versus = (
        f"compared with the previous {f.days} days ({p.start:%Y-%m-%d} – {p.end:%Y-%m-%d})"
        if ctx.compare
        else "no comparison: the store does not cover the previous period"
    )
    st.caption(f"{f.start:%Y-%m-%d} – {f.end:%Y-%m-%d} ({f.days} days), {versus}")
    ui.note_unsupported(queries.unsupported(page, f))


def overview(ctx: Ctx) -> None:
    _header(ctx, "Executive overview", "overview")
    d = ctx.run("overview")
    k, p = d["kpis"], d["previous"]
    cols = st.columns(6)
    ui.tile(cols[0], "active_users", _v(k, "active_users"), _v(p, "active_users"))
    ui.tile(cols[1], "conversations", _v(k, "conversations"), _v(p, "conversations"))
    ui.tile(cols[2], "interactions", _v(k, "user_interactions"), _v(p, "user_interactions"))
    ui.tile(cols[3], "containment_rate", _v(k, "containment_rate"), _v(p, "containment_rate"), "{:.1%}")
    ui.tile(cols[4], "escalation_rate", _v(k, "escalation_rate"), _v(p, "escalation_rate"), "{:.1%}")
    ui.tile(cols[5], "helpful_rate", _v(k, "helpful_rate"), _v(p, "helpful_rate"), "{:.1%}")
    # the rows behind each tile (behind a rate: its numerator)
    ui.drill_link(cols[0], Drill("users", "active_users"), "List users")
    ui.drill_link(cols[1], Drill("conversations", "conversations"), "List conversations")
    ui.drill_link(cols[2], Drill("interactions", "interactions"), "List interactions")
    ui.drill_link(cols[3], Drill("conversations", "contained"), "List contained")
    ui.drill_link(cols[4], Drill("conversations", "escalated"), "List escalated")
    ui.drill_link(cols[5], Drill("interactions", "helpful"), "List helpful")
    ui.chart(
        charts.lines(d["trend"], "day", ["active_users", "conversations"], "Daily activity"),
        pick=(["day", "series"], _by_time("day")),
        key="pick_overview_daily",
    )
    ui.chart(
        charts.lines(d["trend"], "day", ["escalated_conversations"], "Escalated conversations per day"),
        pick=(["day", "series"], _by_time("day")),
        key="pick_overview_escalated",
    )
    ui.define(
        "active_users", "conversations", "interactions", "containment_rate", "escalation_rate", "helpful_rate"
    )


# Chart series that count rows of a drill source: series name -> (source, measure).
SERIES_DRILLS = {
    "active_users": ("users", "active_users"),
    "conversations": ("conversations", "conversations"),
    "escalated_conversations": ("conversations", "escalated"),
    "containment_rate": ("conversations", "contained"),  # a rate point lists its numerator
    "escalation_rate": ("conversations", "escalated"),
    "helpful": ("interactions", "helpful"),
    "unhelpful": ("interactions", "unhelpful"),
    "ttr_p50_min": ("conversations", "resolved"),  # a percentile point lists its sample
    "ttr_p90_min": ("conversations", "resolved"),
    "served": ("plugin_calls", "served"),
    "used": ("plugin_calls", "used"),
    "unsuccessful": ("plugin_calls", "unsuccessful"),
}


def _day(v: object) -> object:
    """A clicked temporal value (epoch milliseconds in Vega) as a UTC day."""
    return pd.Timestamp(v, unit="ms", tz="UTC") if isinstance(v, int | float) else pd.Timestamp(str(v))


def _by_time(x: str) -> Callable[[dict[str, object]], Drill | None]:
    """A clicked point of a line chart over `x` ("day" or "week") -> the rows its series counts."""

    def pick(v: dict[str, object]) -> Drill | None:
        target = SERIES_DRILLS.get(str(v.get("series")))
        if target is None or v.get(x) is None:
            return None
        return Drill(*target, drill.segment((x, _day(v[x]))))

    return pick


def adoption(ctx: Ctx) -> None:
    _header(ctx, "Adoption & engagement", "adoption")
    d = ctx.run("adoption")
    a = d["active"]
    if not a.empty:
        last = a.iloc[-1]
        c = st.columns(3)
        c[0].metric("DAU (last day)", f"{int(last['dau']):,}", help=ui.definition("dau_wau_mau").text)
        ui.drill_link(
            c[0], Drill("daily_users", "active_users", drill.segment(("day", last["day"]))), "List them"
        )
        c[1].metric("WAU (last day)", f"{int(last['wau']):,}", help=ui.definition("dau_wau_mau").text)
        ui.drill_link(
            c[1],
            Drill("trailing_users", "active_users", drill.segment(("week_to", last["day"]))),
            "List them",
        )
        c[2].metric(
            "Stickiness DAU ÷ MAU",
            f"{(last['dau'] / last['mau']) if last['mau'] else 0:.1%}",
            help=ui.definition("dau_wau_mau").text,
        )
        ui.drill_link(  # a rate tile lists its denominator's users here: DAU is the tile beside it
            c[2],
            Drill("trailing_users", "active_users", drill.segment(("month_to", last["day"]))),
            "List MAU",
        )
    u, up = d["users"], d["users_previous"]
    c2 = st.columns(3)
    ui.tile(c2[0], "active_users", _v(u, "active_users"), _v(up, "active_users"))
    ui.tile(c2[1], "new_users", _v(u, "new_users"), _v(up, "new_users"))
    ui.tile(c2[2], "retained_users", _v(u, "retained_users"), _v(up, "retained_users"))
    ui.drill_link(c2[0], Drill("daily_users", "active_users"), "List users")
    ui.drill_link(c2[1], Drill("roster", "new_users"), "List new users")
    ui.drill_link(
        c2[2], Drill("daily_users", "active_users", drill.segment(("retained", "previous"))), "List them"
    )
    trailing = {
        "dau": ("daily_users", "day"),
        "wau": ("trailing_users", "week_to"),
        "mau": ("trailing_users", "month_to"),
    }
    ui.chart(
        charts.lines(a, "day", ["dau", "wau", "mau"], "Daily, weekly and monthly active users"),
        pick=(
            ["day", "series"],
            lambda v: (
                Drill(
                    trailing[v["series"]][0],
                    "active_users",
                    drill.segment((trailing[v["series"]][1], _day(v["day"]))),
                )
                if v.get("series") in trailing and v.get("day") is not None
                else None
            ),
        ),
        key="pick_active_users",
    )
    nr = d["new_returning"]
    if not nr.empty:
        long = nr.melt(id_vars=["week"], var_name="kind", value_name="users")
        ui.chart(
            charts.stacked(long, "week", "users", "kind", "New vs returning users per week"),
            pick=(
                ["week", "kind"],
                lambda v: (
                    None
                    if v.get("week") is None
                    else Drill("roster", "new_users", drill.segment(("week", _day(v["week"]))))
                    if v.get("kind") == "new_users"
                    else Drill(
                        "daily_users", "active_users", drill.segment(("returning_week", _day(v["week"])))
                    )
                    if v.get("kind") == "returning_users"
                    else None
                ),
            ),
            key="pick_new_returning",
        )
    end = ctx.filters.end
    ui.chart(
        charts.heatmap(d["cohorts"]),
        pick=(
            ["cohort", "weeks_since"],
            lambda v: (
                Drill(
                    "trailing_users",
                    "active_users",
                    _cohort_cell(_day(v["cohort"]), int(v["weeks_since"]), end),
                )
                if v.get("cohort") is not None and v.get("weeks_since") is not None
                else None
            ),
        ),
        key="pick_cohort",
    )
    ui.define("active_users", "dau_wau_mau", "new_users", "retained_users")


def _cohort_cell(cohort: object, weeks_since: int, end: object) -> tuple[tuple[str, str], ...]:
    """The users of a cohort (first week) active `weeks_since` weeks later, up to the page's end."""
    first = pd.Timestamp(str(cohort)).date()
    week = first + pd.Timedelta(weeks=weeks_since)
    return drill.segment(("cohort", first), ("week", week), ("until", end))


def channels(ctx: Ctx) -> None:
    _header(ctx, "Channels", "channels")
    d = ctx.run("channels")
    ui.chart(
        charts.grouped_bars(d["by_platform"], "platform", ["active_users", "conversations"], "By platform"),
        pick=(
            ["platform", "measure"],
            lambda v: (
                None
                if v.get("platform") is None
                else Drill("users", "active_users", drill.segment(("platform", v["platform"])))
                if v.get("measure") == "active_users"
                else Drill(
                    "interaction_conversations", "conversations", drill.segment(("platform", v["platform"]))
                )
                if v.get("measure") == "conversations"
                else None
            ),  # conversations with a turn on the platform, as user_conversations counts them
        ),
        key="pick_platform",
    )
    ui.chart(
        charts.stacked(
            d["trend"], "day", "user_interactions", "platform", "Interactions per day by platform"
        ),
        pick=(
            ["day", "platform"],
            lambda v: (
                Drill(
                    "interactions",
                    "interactions",
                    drill.segment(("day", _day(v["day"])), ("platform", v["platform"])),
                )
                if v.get("day") is not None and v.get("platform") is not None
                else None
            ),
        ),
        key="pick_platform_trend",
    )
    st.caption("Select a row to list its interactions.")
    ui.table(
        d["by_platform"],
        row=lambda r: Drill("interactions", "interactions", drill.segment(("platform", r["platform"]))),
        key="row_platform",
    )
    ui.define("channel_adoption", "active_users")


def segments(ctx: Ctx) -> None:
    _header(ctx, "Segments", "segments")
    st.caption("Department, location and role come from the HR extract joined on the user.")
    d = ctx.run("segments")
    tabs = st.tabs(["Department", "Location", "Role"])
    for tab, dim in zip(tabs, ("department", "location", "role"), strict=True):
        with tab:
            df = d[f"by_{dim}"]
            ui.chart(
                charts.bars(df, dim, "adoption_rate", f"Adoption by {dim}", fmt=".0%"),
                pick=([dim], _segment_users(dim)),
                key=f"pick_segment_{dim}",
            )
            st.caption("Select a row (or click a bar) to list its active users.")
            users = _segment_users(dim)
            ui.table(df, row=lambda r, users=users: users(dict(r)), key=f"row_segment_{dim}")  # type: ignore[misc]
    ui.define("segment_adoption")


def _segment_users(dim: str) -> Callable[[dict[str, object]], Drill | None]:
    """A segment's bar or row -> its active users (the numerator of its adoption rate)."""
    return lambda v: (
        Drill("users", "active_users", drill.segment((dim, v[dim]))) if v.get(dim) is not None else None
    )


def outcomes(ctx: Ctx) -> None:
    _header(ctx, "Conversations & outcomes", "outcomes")
    d = ctx.run("outcomes")
    ui.chart(
        charts.funnel(d["funnel"]),
        pick=(["measure"], lambda v: Drill("conversations", str(v["measure"])) if v.get("measure") else None),
        key="pick_funnel",
    )
    ui.chart(
        charts.lines(
            d["trend"],
            "week",
            ["containment_rate", "escalation_rate"],
            "Containment vs escalation",
            fmt=".0%",
        ),
        pick=(["week", "series"], _by_time("week")),
        key="pick_outcomes_trend",
    )
    st.subheader("By route and domain")
    ui.table(
        d["by_route"],
        row=lambda r: Drill(
            "conversations", "conversations", drill.segment(("route", r["route"]), ("domain", r["domain"]))
        ),
        key="row_by_route",
    )
    st.subheader("System events by type")
    ui.table(
        d["by_type"],
        row=lambda r: Drill(
            "conversations", "conversations", drill.segment(("type", r["conversation_type"]))
        ),
        key="row_by_type",
    )
    ui.define("conversations", "containment_rate", "escalation_rate")


def plugins(ctx: Ctx) -> None:
    _header(ctx, "Plugins", "plugins")
    d = ctx.run("plugins")
    ui.chart(
        charts.grouped_bars(d["plugins"], "plugin_name", ["served", "used", "unsuccessful"], "Plugin calls"),
        pick=(["plugin_name", "measure"], _plugin_bar),
        key="pick_plugin_calls",
    )
    ui.chart(
        charts.lines(d["trend"], "day", ["served", "used", "unsuccessful"], "Plugin calls per day"),
        pick=(["day", "series"], _by_time("day")),
        key="pick_plugin_trend",
    )
    rare = (
        d["plugins"][d["plugins"]["served_rarely_used"].fillna(False).astype(bool)]
        if not d["plugins"].empty
        else d["plugins"]
    )
    if not rare.empty:
        st.warning("Served but rarely used (< 20% of served, ≥ 20 served) — a trigger or UX problem? These:")
        st.text(", ".join(map(str, rare["plugin_name"])))  # names come from the API: text, not Markdown
    st.subheader("Per plugin (latency in seconds; approval plugins include human waits)")
    st.caption("Select a row to list its calls.")
    ui.table(
        d["plugins"],
        row=lambda r: Drill("plugin_calls", "calls", drill.segment(("plugin", r["plugin_name"]))),
        key="row_plugins",
    )
    ui.define("plugin_served_rate", "plugin_used_rate", "plugin_latency")


def _plugin_bar(v: dict[str, object]) -> Drill | None:
    if v.get("plugin_name") is None or str(v.get("measure")) not in measures.PLUGIN_CALL:
        return None
    return Drill("plugin_calls", str(v["measure"]), drill.segment(("plugin", v["plugin_name"])))


def _resource_row(measure: str) -> object:
    return lambda r: Drill("resources", measure, drill.segment(("resource", r["resource_id"])))


def knowledge(ctx: Ctx) -> None:
    _header(ctx, "Knowledge", "knowledge")
    d = ctx.run("knowledge")
    t = d["totals"]
    c = st.columns(4)
    ui.tile(c[0], "citation_rate", _v(t, "citation_rate"), None, "{:.1%}")
    rate = _v(t, "citation_rate")
    ui.tile(c[1], "served_not_cited_rate", None if rate is None else 1 - rate, None, "{:.1%}")
    c[2].metric("Resources served", f"{int(_v(t, 'resources_served') or 0):,}")
    c[3].metric("Resources cited", f"{int(_v(t, 'resources_cited') or 0):,}")
    ui.drill_link(c[0], Drill("resources", "cited"), "List cited")
    ui.drill_link(c[1], Drill("resources", "not_cited"), "List not cited")
    ui.drill_link(c[2], Drill("resources", "served"), "List served")
    ui.drill_link(c[3], Drill("resources", "cited"), "List cited")
    ui.chart(
        charts.bars(d["top_articles"], "article", "times_cited", "Most cited articles", key="resource_id"),
        pick=(
            ["resource_id"],
            lambda v: (
                Drill("resources", "cited", drill.segment(("resource", v["resource_id"])))
                if v.get("resource_id")
                else None
            ),
        ),
        key="pick_articles",
    )
    st.subheader("Most cited articles")
    ui.table(d["top_articles"], row=_resource_row("cited"), key="row_top_articles")  # type: ignore[arg-type]
    st.subheader("Served but never cited")
    ui.table(d["served_not_cited"], row=_resource_row("served"), key="row_not_cited")  # type: ignore[arg-type]
    ui.define("citation_rate", "served_not_cited_rate")


def gaps(ctx: Ctx) -> None:
    _header(ctx, "Knowledge gaps", "gaps")
    d = ctx.run("gaps")
    ui.chart(
        charts.bars(d["gaps"], "topic", "gap_score", "Topics by unanswered volume"),
        pick=(
            ["topic"],
            lambda v: (
                Drill("interactions", "gap", drill.segment(("topic", v["topic"]))) if v.get("topic") else None
            ),
        ),
        key="pick_gaps",
    )
    st.caption("Select a row to list its unanswered questions.")
    ui.table(
        d["gaps"],
        row=lambda r: Drill(
            "interactions", "gap", drill.segment(("topic", r["topic"]), ("interaction_domain", r["domain"]))
        ),
        key="row_gaps",
    )
    ui.define("knowledge_gaps")


def feedback(ctx: Ctx) -> None:
    _header(ctx, "Feedback & CSAT", "feedback")
    d = ctx.run("feedback")
    ui.chart(
        charts.lines(d["trend"], "week", ["helpful", "unhelpful"], "Feedback per week"),
        pick=(["week", "series"], _by_time("week")),
        key="pick_feedback",
    )
    st.subheader("CSAT comments")
    if ctx.show_pii:
        st.caption("Select a comment to open its conversation.")
        ui.table(d["comments"], row=lambda r: str(r["conversation_id"]), key="row_comments")
    else:
        st.info(f"{len(d['comments'])} comment(s); their text is hidden because PII display is off.")
    ui.define("helpful_rate")


def efficiency(ctx: Ctx) -> None:
    _header(ctx, "Efficiency", "efficiency")
    d = ctx.run("efficiency")
    saved = d["time_saved"]
    ttr = d["ttr"]
    c = st.columns(2)
    ui.tile(
        c[0],
        "time_saved",
        float(saved["minutes_saved"].sum() / 60) if not saved.empty else None,
        None,
        "{:,.0f} h",
    )
    ui.tile(
        c[1],
        "time_to_resolution",
        float(ttr["ttr_p50_min"].median()) if not ttr.empty else None,
        None,
        "{:,.1f} min",
    )
    ui.drill_link(c[0], Drill("plugin_calls", "used"), "List used calls")
    ui.drill_link(c[1], Drill("conversations", "resolved"), "List resolved")
    ui.chart(
        charts.lines(
            ttr, "week", ["ttr_p50_min", "ttr_p90_min"], "Time to resolution (proxy), minutes", fmt=",.1f"
        ),
        pick=(["week", "series"], _by_time("week")),
        key="pick_ttr",
    )

    def used_calls(v: dict[str, object]) -> Drill | None:
        plugin = v.get("plugin_name")
        return None if plugin is None else Drill("plugin_calls", "used", drill.segment(("plugin", plugin)))

    ui.chart(
        charts.bars(saved, "plugin_name", "minutes_saved", "Minutes saved by plugin"),
        pick=(["plugin_name"], used_calls),
        key="pick_saved",
    )
    st.caption("Select a row (or click a bar) to list its used calls.")
    ui.table(saved, row=lambda r: used_calls(dict(r)), key="row_saved")
    ui.define("time_to_resolution", "time_saved")


def _count(x: object) -> str:
    return "0" if x is None or pd.isna(x) else f"{int(x):,}"  # type: ignore[arg-type,call-overload]


def drill_down(ctx: Ctx) -> None:
    """The rows behind a clicked number (the drill in the URL), each opening its conversation."""
    _header(ctx, "Drill-down", "journey")
    try:
        dr = Drill.from_query(st.query_params.to_dict())
    except ValueError as err:
        st.error(f"This drill-down link is malformed: {err}. Open a page and click a number instead.")
        return
    if dr is None:
        st.info(
            "Click a tile link, a bar or point of a chart, or a table row on any page to list the rows behind it."
        )
        return
    ui.note_unsupported(ctx.filters.unsupported(dr.src.dims))
    total = dr.count(ctx.store, ctx.filters, ctx.schema)
    st.text(dr.describe())  # values come from the URL and the API: text, never Markdown
    st.metric(dr.src.noun.capitalize(), f"{total:,}")
    rows = dr.rows(ctx.store, ctx.filters, ctx.schema)
    if "interaction_type" in rows:
        rows["interaction_type"] = rows["interaction_type"].map(drill.enum_label)
    if len(rows) < total:
        st.caption(f"Showing the {len(rows):,} most recent of {total:,}.")
    if "conversation_id" in rows:
        st.caption("Select a row to open its conversation in the journey explorer.")
        ui.table(rows, row=lambda r: str(r["conversation_id"]), key="row_drill")
        return
    st.caption("Select a user to list their conversations in the journey explorer.")
    ui.table(rows, row=lambda r: ui.open_user_journeys(str(r["user_id"])), key="row_drill")


def journey(ctx: Ctx) -> None:
    _header(ctx, "Journey explorer", "journey")
    st.caption("Date range, route, platform and the other global filters are in the sidebar.")
    opts = drill.search_options(ctx.store, ctx.schema)
    c = st.columns(4)
    email = c[0].text_input("User e-mail contains", key="j_email") if ctx.show_pii else ""
    plugin = c[1].selectbox("Plugin", ["", *opts["plugin"]], key="j_plugin", format_func=lambda v: v or "Any")
    topic = c[2].selectbox("Topic", ["", *opts["topic"]], key="j_topic", format_func=lambda v: v or "Any")
    outcome = c[3].multiselect(
        "Outcome",
        list(measures.OUTCOMES),
        key="j_outcome",
        format_func=measures.OUTCOME_LABELS.__getitem__,
        placeholder="Any",
    )
    user = st.query_params.get("user", "")  # from a drill-down list of users
    if user:
        st.text(f"Conversations of user {user}")
    search = drill.Search(
        email=email.strip(), plugin=plugin, topic=topic, outcomes=tuple(outcome), user_id=str(user)
    )
    convs = drill.conversations(ctx.store, ctx.filters, ctx.schema, search)
    wanted = st.query_params.get("conversation")
    if not ctx.show_pii:
        convs = convs.drop(columns=["user_email"])
    st.caption(f"{len(convs):,} user-engaged conversation(s), most recent first. Select one to replay it.")
    if convs.empty and not wanted:
        st.info("No user-engaged conversation for these filters.")
        return
    shown = convs.rename(columns={o: measures.OUTCOME_LABELS[o].lower() for o in measures.OUTCOMES})
    event = st.dataframe(
        shown, hide_index=True, width="stretch", height=260, on_select="rerun", selection_mode="single-row",
        key="journey_list",
    )  # fmt: skip
    rows = event.selection.rows  # type: ignore[attr-defined]
    if rows:
        picked = str(convs["conversation_id"].iloc[rows[0]])
        if picked != wanted:
            st.query_params["conversation"] = picked
    else:
        picked = wanted or str(convs["conversation_id"].iloc[0])
    _replay(ctx, picked)


def _replay(ctx: Ctx, conversation_id: str) -> None:
    turns = drill.turns(ctx.store, ctx.schema, conversation_id)
    st.subheader("Conversation")
    st.text(conversation_id)  # ids, utterances and names come from the API: st.text, never Markdown
    if turns.empty:
        st.info("This conversation has no user turn in the store.")
        return
    if not ctx.show_pii:
        st.info("Utterances and replies are hidden because PII display is off.")
    calls, resources = drill.turn_details(ctx.store, ctx.schema, conversation_id)
    for _, t in turns.iterrows():
        with st.chat_message("user"):
            kind = drill.enum_label(t["interaction_type"])
            said = f": {t['content']}" if ctx.show_pii and _has(t["content"]) else ""
            st.text(f"{t['created_time']:%Y-%m-%d %H:%M} · {kind}{said}")
            extra = [
                f"label {t['label']}" if _has(t["label"]) else "",
                f"topic {t['topic']}" if _has(t["topic"]) else "",
            ]
            if any(extra):
                st.text(" · ".join(x for x in extra if x))
        with st.chat_message("assistant"):
            if ctx.show_pii:
                st.text(str(t["bot_reply"]) if _has(t["bot_reply"]) else "(no reply)")
            st.text(
                f"plugins served {_count(t['plugins_served'])}, used {_count(t['plugins_used'])}, "
                f"unsuccessful {_count(t['plugins_unsuccessful'])}; cited resources {_count(t['cited_resources'])}"
                + (f"; feedback {drill.enum_label(t['feedback'])}" if _has(t["feedback"]) else "")
                + ("; escalated" if _has(t["is_escalated"]) else "")
            )
            mine = calls[calls["interaction_id"] == t["interaction_id"]]
            for _, pc in mine.iterrows():
                state = "used" if _has(pc["used"]) else "served" if _has(pc["served"]) else "unsuccessful"
                st.text(f"plugin {pc['plugin_name']}: {state}, {float(pc['latency_seconds'] or 0):.1f} s")
            res = resources[resources["interaction_id"] == t["interaction_id"]]
            for _, r in res.iterrows():
                st.text(f"resource {r['label']}: {'cited' if _has(r['cited']) else 'served, not cited'}")


def _hours_since(ts: object, now: pd.Timestamp) -> float | None:
    if ts is None or pd.isna(ts):  # type: ignore[arg-type]
        return None
    t = pd.Timestamp(ts)  # type: ignore[arg-type]
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return round((now - t).total_seconds() / 3600, 1)


def health(ctx: Ctx) -> None:
    _header(ctx, "Data health", "health")
    d = ctx.run("health")
    fr = d["freshness"].copy()
    now = pd.Timestamp.now(tz="UTC")
    limit = ctx.cfg.alerts.max_freshness_hours
    keep_days = 30 - ctx.cfg.alerts.retention_margin_days
    st.subheader("Freshness")
    if not fr.empty:
        fr["hours_since_success"] = [_hours_since(t, now) for t in fr.get("last_success", fr["last_written"])]
        fr["hours_since_newest_record"] = [_hours_since(t, now) for t in fr["newest_record"]]
        lag = fr["hours_since_success"].astype("float64").fillna(float("inf"))
        stale = fr[lag > limit]
        if not stale.empty:
            st.warning(
                f"No successful sync for more than {limit:.0f} h: {', '.join(map(str, stale['entity']))}. "
                "Run `mwdata sync` (or check its schedule)."
            )
        at_risk = fr[lag > keep_days * 24]
        if not at_risk.empty:
            st.error(
                f"Retention risk: the API keeps 30 days and {', '.join(map(str, at_risk['entity']))} "
                f"last synced more than {keep_days:.0f} days ago; records older than 30 days are lost for "
                "good unless a sync runs now."
            )
        if stale.empty and at_risk.empty:
            st.success(f"Every table synced successfully within the last {limit:.0f} h.")
    ui.table(fr)
    rows = d["daily_rows"]
    empty_days = rows[rows["interactions"] == 0]
    if not empty_days.empty:
        st.warning(f"{len(empty_days)} day(s) in the range have no interaction at all: a gap in the sync?")
    ui.chart(charts.lines(rows, "day", ["interactions"], "Raw interactions per day (gaps show here)"))
    st.subheader("Sync runs")
    ui.table(d["sync_runs"])
    st.subheader("Data-quality checks")
    if d["checks"].empty:
        st.info("No data-quality results stored yet: run `mwdata check`.")
    else:
        ui.table(d["checks"])


PAGES = {
    "overview": ("Executive overview", ":material/dashboard:", overview),
    "adoption": ("Adoption & engagement", ":material/group:", adoption),
    "channels": ("Channels", ":material/forum:", channels),
    "segments": ("Segments", ":material/apartment:", segments),
    "outcomes": ("Conversations & outcomes", ":material/filter_alt:", outcomes),
    "plugins": ("Plugins", ":material/extension:", plugins),
    "knowledge": ("Knowledge", ":material/menu_book:", knowledge),
    "gaps": ("Knowledge gaps", ":material/help:", gaps),
    "feedback": ("Feedback & CSAT", ":material/thumb_up:", feedback),
    "efficiency": ("Efficiency", ":material/timer:", efficiency),
    "journey": ("Journey explorer", ":material/route:", journey),
    "drill": ("Drill-down", ":material/list:", drill_down),
    "health": ("Data health", ":material/monitor_heart:", health),
}


def render(page: str) -> None:
    """Entry of each page file: draw the page with the context main.py prepared."""
    ctx = ui.current()
    if ctx is None:
        st.stop()
    try:
        PAGES[page][2](ctx)
    except MwdataError as err:  # e.g. a mart missing before the first `mwdata build`: say so, no traceback
        st.error(str(err))
