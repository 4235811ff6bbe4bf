"""Drill-down: the rows behind a number, and the journey explorer's conversation search.

A `Drill` names a source (conversations, plugin calls or knowledge resources), a measure of
`mwdata.read.measures` and a segment (the clicked day, week, plugin, resource, platform, route or
domain). Its rows are selected with the page's global filters (`Filters.where`, the same clause the
page queries use) plus the measure's predicate plus the segment, so the list adds up to the number
that was clicked. Drills and filters round-trip through URL query parameters, so a drilled-down view
can be shared as a link.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from mwdata.read import measures
from mwdata.read.filters import DIMENSIONS, Filters
from mwdata.read.formatting import resource_label_sql
from mwdata.read.queries import CONVERSATION_DIMS, JOURNEY_DIMS, PLUGIN_DIMS, USER_DAILY_DIMS, _t, _where
from mwdata.read.stores import ReadStore

ROW_LIMIT = 5000  # a list longer than this says so (its count stays exact)


@dataclass(frozen=True)
class Source:
    mart: str
    noun: str  # "conversations", "plugin calls", "resources served"
    dims: Mapping[str, str | None]
    measures: Mapping[str, str]
    segments: Mapping[str, str]  # segment key -> SQL predicate; each `?` takes the segment's value
    columns: str  # the listed columns (with `group`: the aggregates listed per group)
    order: str
    group: str | None = None  # list one row per distinct value of this column (and count those)
    date_col: str = "created_time"  # the column the date range applies to ("": none)


_COMMON_SEGMENTS = {
    "day": "CAST(created_time AS DATE) = CAST(? AS DATE)",
    "week": "date_trunc('week', created_time)::DATE = CAST(? AS DATE)",
    "platform": "platform = ?",
    "route": "route = ?",
}
_HR_SEGMENTS = {d: f"coalesce({d}, '(unknown)') = ?" for d in ("department", "location", "role")}
_INTERACTION_SEGMENTS = {
    **_COMMON_SEGMENTS,
    **_HR_SEGMENTS,
    "domain": "coalesce(conversation_domain, '(none)') = ?",
    "interaction_domain": "coalesce(interaction_domain, '(none)') = ?",
    "topic": "coalesce(topic, '(no topic)') = ?",
}
SOURCES: dict[str, Source] = {
    "conversations": Source(
        mart="conversations",
        noun="conversations",
        dims=CONVERSATION_DIMS,
        measures=measures.CONVERSATION,
        segments={
            **_COMMON_SEGMENTS,
            "domain": "coalesce(primary_domain, '(none)') = ?",
            "type": "conversation_type = ?",
        },
        columns="conversation_id, created_time, route, platform, primary_domain AS domain, "
        "CAST(user_interaction_count AS BIGINT) AS turns, is_user_engaged AS engaged, is_escalated AS escalated, "
        "is_contained AS contained",
        order="created_time DESC, conversation_id",
    ),
    "plugin_calls": Source(
        mart="plugin_calls",
        noun="plugin calls",
        dims=PLUGIN_DIMS,
        measures=measures.PLUGIN_CALL,
        segments={
            **_COMMON_SEGMENTS,
            "domain": "coalesce(conversation_domain, '(none)') = ?",
            "plugin": "plugin_name = ?",
        },
        columns="plugin_call_id, created_time, plugin_name, served, used, latency_seconds, conversation_id",
        order="created_time DESC, plugin_call_id",
    ),
    "resources": Source(
        mart="knowledge_resources",
        noun="resources served",
        dims=PLUGIN_DIMS,
        measures=measures.RESOURCE,
        segments={
            **_COMMON_SEGMENTS,
            "domain": "coalesce(conversation_domain, '(none)') = ?",
            "resource": "resource_id = ?",
        },
        columns="plugin_resource_id, created_time, resource_id, article_name, cited, conversation_id",
        order="created_time DESC, plugin_resource_id",
    ),
    "interactions": Source(
        mart="journey",
        noun="interactions",
        dims=JOURNEY_DIMS,
        measures=measures.INTERACTION,
        segments=_INTERACTION_SEGMENTS,
        columns="interaction_id, created_time, interaction_type, topic, platform, route, feedback, "
        "CAST(cited_resources AS BIGINT) AS cited_resources, is_escalated AS escalated, conversation_id",
        order="created_time DESC, interaction_id",
    ),
    "users": Source(
        mart="journey",
        noun="active users",
        dims=JOURNEY_DIMS,
        measures={"active_users": "TRUE"},
        segments=_INTERACTION_SEGMENTS,
        columns="count(*) AS interactions, count(DISTINCT conversation_id) AS conversations, "
        "max(created_time) AS last_active",
        order="interactions DESC, user_id",
        group="user_id",
    ),
    # conversations counted through their interactions (a conversation with a turn on the platform)
    "interaction_conversations": Source(
        mart="journey",
        noun="conversations",
        dims=JOURNEY_DIMS,
        measures={"conversations": "TRUE"},
        segments=_INTERACTION_SEGMENTS,
        columns="count(*) AS interactions, min(created_time) AS first_turn, max(created_time) AS last_turn",
        order="first_turn DESC, conversation_id",
        group="conversation_id",
    ),
    # the adoption page's marts: users active per day, and the roster (new = first interaction in range)
    "daily_users": Source(
        mart="user_daily",
        noun="active users",
        dims=USER_DAILY_DIMS,
        measures={"active_users": "TRUE"},
        segments={
            "day": "date_day = CAST(? AS DATE)",
            "week": "date_trunc('week', date_day)::DATE = CAST(? AS DATE)",
            # active in the week, first interaction (users entity) in another week or unknown
            "returning_week": "date_trunc('week', date_day)::DATE = CAST(? AS DATE) AND "
            "(first_interaction_day IS NULL OR date_trunc('week', first_interaction_day)::DATE <> CAST(? AS DATE))",
            # retained: also active in the previous period of the same length (the value is not used)
            "retained": "user_id IN (SELECT user_id FROM {mart} WHERE date_day {previous})",
            **_HR_SEGMENTS,
        },
        columns="count(*) AS days_active, min(date_day) AS first_day, max(date_day) AS last_day",
        order="days_active DESC, user_id",
        group="user_id",
        date_col="date_day",
    ),
    # DAU/WAU/MAU count users active in the trailing 1/7/30 days whatever the page's start, and cohorts
    # span the whole history up to the end date: no date range
    "trailing_users": Source(
        mart="user_daily",
        noun="active users",
        dims=USER_DAILY_DIMS,
        measures={"active_users": "TRUE"},
        segments={
            "week_to": "date_day BETWEEN CAST(? AS DATE) - 6 AND CAST(? AS DATE)",
            "month_to": "date_day BETWEEN CAST(? AS DATE) - 29 AND CAST(? AS DATE)",
            # a cohort cell: users first seen in the cohort's week, active in the given week, up to the end
            "cohort": "date_trunc('week', first_interaction_day)::DATE = CAST(? AS DATE)",
            "week": "date_trunc('week', date_day)::DATE = CAST(? AS DATE)",
            "until": "date_day <= CAST(? AS DATE)",
            **_HR_SEGMENTS,
        },
        columns="count(*) AS days_active, min(date_day) AS first_day, max(date_day) AS last_day",
        order="days_active DESC, user_id",
        group="user_id",
        date_col="",
    ),
    "roster": Source(
        mart="users",
        noun="new users",
        dims=USER_DAILY_DIMS,
        measures={"new_users": "TRUE"},
        segments={
            "week": "date_trunc('week', first_interaction_day)::DATE = CAST(? AS DATE)",
            **_HR_SEGMENTS,
        },
        columns="user_id, first_interaction_time, department, location, role",
        order="first_interaction_time DESC, user_id",
        date_col="first_interaction_day",
    ),
}


@dataclass(frozen=True)
class Drill:
    source: str
    measure: str
    segment: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        src = SOURCES.get(self.source)
        if src is None:
            raise ValueError(f"unknown drill-down source {self.source!r}; known: {', '.join(SOURCES)}")
        if self.measure not in src.measures:
            raise ValueError(
                f"unknown measure {self.measure!r} for {self.source}; known: {', '.join(src.measures)}"
            )
        bad = [k for k, _ in self.segment if k not in src.segments]
        if bad:
            raise ValueError(f"cannot cut {self.source} by {bad}; known: {', '.join(src.segments)}")

    @property
    def src(self) -> Source:
        return SOURCES[self.source]

    def where(self, f: Filters) -> tuple[str, list[Any]]:
        """The page's filters (the page queries' own clause), the measure and the segment."""
        w, p = _where(f, self.src.dims, self.src.date_col or None)
        parts = [w, f"({self.src.measures[self.measure]})"]
        for key, value in self.segment:
            predicate = self.src.segments[key]
            if "{previous}" in predicate:  # the previous period of the page's own length
                prev = f.previous()
                predicate = predicate.replace("{previous}", "BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)")
                parts.append(predicate)
                p.extend([prev.start, prev.end])
                continue
            parts.append(predicate)
            p.extend([value] * predicate.count("?"))
        return " AND ".join(parts), p

    def _where_on(self, f: Filters, schema: str) -> tuple[str, list[Any]]:
        w, p = self.where(f)
        return w.replace("{mart}", _t(schema, self.src.mart)), p

    def count(self, store: ReadStore, f: Filters, schema: str) -> int:
        w, p = self._where_on(f, schema)
        n = f"count(DISTINCT {self.src.group})" if self.src.group else "count(*)"
        return int(store.query(f"SELECT {n} AS n FROM {_t(schema, self.src.mart)} WHERE {w}", p)["n"].iloc[0])

    def rows(self, store: ReadStore, f: Filters, schema: str, limit: int = ROW_LIMIT) -> pd.DataFrame:
        w, p = self._where_on(f, schema)
        g = self.src.group
        return store.query(
            f"SELECT {f'{g}, ' if g else ''}{self.src.columns} FROM {_t(schema, self.src.mart)} WHERE {w} "
            f"{f'GROUP BY {g} ' if g else ''}ORDER BY {self.src.order} LIMIT {int(limit)}",
            p,
        )

    def describe(self) -> str:
        """e.g. "plugin calls · used · plugin = Create Ticket" (plain text, never Markdown)."""
        seg = ", ".join(f"{k} = {v}" for k, v in self.segment)
        return " · ".join(x for x in (self.src.noun, self.measure.replace("_", " "), seg) if x)

    def to_query(self) -> dict[str, str]:
        return {"drill": self.source, "measure": self.measure, **{f"by_{k}": v for k, v in self.segment}}

    @staticmethod
    def from_query(q: Mapping[str, str]) -> Drill | None:
        """The drill in a URL's query parameters (None when there is none); ValueError when malformed."""
        if "drill" not in q:
            return None
        seg = tuple((k[3:], str(v)) for k, v in q.items() if k.startswith("by_"))
        return Drill(str(q["drill"]), str(q.get("measure", "")), seg)


# -- the global filters in the URL -----------------------------------------------------------------
def filters_to_query(f: Filters) -> dict[str, str | list[str]]:
    q: dict[str, str | list[str]] = {"from": f.start.isoformat(), "to": f.end.isoformat()}
    for dim, chosen in f.active().items():
        q[dim] = list(chosen)
    if f.include_test_users:
        q["test"] = "1"
    return q


def filters_from_query(get_all: Callable[[str], list[str]]) -> dict[str, Any]:
    """Widget values from the URL (`get_all(key) -> list[str]`): dates and chosen values; bad dates are
    ignored (the sidebar's defaults apply) rather than failing the page."""
    out: dict[str, Any] = {}
    try:
        lo, hi = get_all("from"), get_all("to")
        if lo and hi:
            out["dates"] = (date.fromisoformat(lo[0]), date.fromisoformat(hi[0]))
    except ValueError:
        pass
    for dim in DIMENSIONS:
        if get_all(dim):
            out[dim] = list(get_all(dim))
    if get_all("test"):
        out["test"] = get_all("test")[0] == "1"
    return out


# -- the journey explorer --------------------------------------------------------------------------
@dataclass(frozen=True)
class Search:
    """The journey explorer's own filters (the global ones, route and platform included, apply too)."""

    email: str = ""  # a substring of the user's e-mail (only offered when PII is shown)
    plugin: str = ""
    topic: str = ""
    outcomes: tuple[str, ...] = ()
    user_id: str = ""  # one user's conversations (a row of a drill-down list of users)

    def __post_init__(self) -> None:
        bad = set(self.outcomes) - set(measures.OUTCOMES)
        if bad:
            raise ValueError(f"unknown outcome(s) {sorted(bad)}; known: {', '.join(measures.OUTCOMES)}")


def conversations(
    store: ReadStore, f: Filters, schema: str, s: Search, limit: int = ROW_LIMIT
) -> pd.DataFrame:
    """User-engaged conversations matching the filters and the search, most recent first, with their
    outcomes and the user's e-mail."""
    w, p = _where(f, CONVERSATION_DIMS)
    parts = [w, measures.CONVERSATION["engaged"]]
    if s.user_id:
        parts.append("user_id = ?")
        p.append(s.user_id)
    if s.plugin:
        parts.append(
            f"conversation_id IN (SELECT conversation_id FROM {_t(schema, 'plugin_calls')} WHERE plugin_name = ?)"
        )
        p.append(s.plugin)
    if s.topic:
        parts.append(
            f"conversation_id IN (SELECT conversation_id FROM {_t(schema, 'journey')} WHERE topic = ?)"
        )
        p.append(s.topic)
    parts += [f"({measures.OUTCOMES[o]})" for o in s.outcomes]
    outer = "TRUE"
    if s.email:
        outer = "u.email ILIKE ?"
        p.append(f"%{s.email}%")
    outcome_cols = ", ".join(f"{pred} AS {o}" for o, pred in measures.OUTCOMES.items())
    return store.query(
        f"""
        WITH c AS (
          SELECT conversation_id, user_id, created_time, route, platform, primary_domain AS domain,
                 CAST(user_interaction_count AS BIGINT) AS turns, {outcome_cols}
          FROM {_t(schema, "conversations")} WHERE {" AND ".join(parts)}
        )
        SELECT c.conversation_id, c.created_time, u.email AS user_email, c.route, c.platform, c.domain, c.turns,
               {", ".join(f"c.{o}" for o in measures.OUTCOMES)}
        FROM c LEFT JOIN {_t(schema, "users")} u ON u.user_id = c.user_id
        WHERE {outer}
        ORDER BY c.created_time DESC, c.conversation_id LIMIT {int(limit)}
        """,
        p,
    )


def search_options(store: ReadStore, schema: str) -> dict[str, list[str]]:
    """The plugins and topics the journey explorer offers."""
    plugins = store.query(
        f"SELECT DISTINCT plugin_name AS v FROM {_t(schema, 'plugin_calls')} WHERE plugin_name IS NOT NULL "
        "ORDER BY 1 LIMIT 500"
    )
    topics = store.query(
        f"SELECT DISTINCT topic AS v FROM {_t(schema, 'journey')} WHERE topic IS NOT NULL ORDER BY 1 LIMIT 500"
    )
    return {"plugin": [str(v) for v in plugins["v"]], "topic": [str(v) for v in topics["v"]]}


def turns(store: ReadStore, schema: str, conversation_id: str) -> pd.DataFrame:
    """Every user turn of one conversation, counts as integers."""
    return store.query(
        f"""
        SELECT interaction_id, created_time, interaction_type, label, topic, content, bot_reply,
               CAST(plugins_served AS BIGINT) AS plugins_served, CAST(plugins_used AS BIGINT) AS plugins_used,
               CAST(plugins_unsuccessful AS BIGINT) AS plugins_unsuccessful,
               CAST(cited_resources AS BIGINT) AS cited_resources, feedback, is_escalated
        FROM {_t(schema, "journey")} WHERE conversation_id = ? ORDER BY created_time, interaction_id
        """,
        [conversation_id],
    )


def turn_details(store: ReadStore, schema: str, conversation_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(plugin calls, knowledge resources) of one conversation, each with its `interaction_id`."""
    calls = store.query(
        f"SELECT interaction_id, plugin_name, served, used, latency_seconds FROM {_t(schema, 'plugin_calls')} "
        "WHERE conversation_id = ? ORDER BY created_time, plugin_call_id",
        [conversation_id],
    )
    resources = store.query(
        f"SELECT interaction_id, resource_id, "
        f"{resource_label_sql('article_name', 'external_resource_id', 'resource_id')} AS label, cited "
        f"FROM {_t(schema, 'knowledge_resources')} WHERE conversation_id = ? ORDER BY created_time, plugin_resource_id",
        [conversation_id],
    )
    return calls, resources


def enum_label(value: object) -> str:
    """`INTERACTION_TYPE_FREE_TEXT` -> "Free text": the enum's prefix (its first two words) dropped."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return ""
    text = str(value)
    words = text.split("_")
    if text.isupper() and len(words) > 2:
        words = words[2:]
    return " ".join(words).capitalize()


def segment(*pairs: tuple[str, object]) -> tuple[tuple[str, str], ...]:
    """A drill segment from clicked values (dates as ISO days)."""
    out = []
    for k, v in pairs:
        if isinstance(v, pd.Timestamp | date):
            v = pd.Timestamp(v).date().isoformat()
        out.append((k, str(v)))
    return tuple(out)
