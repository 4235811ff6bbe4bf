"""A metric's value or series, computed from its one definition in the dbt semantic layer.

    from mwdata.metrics import query
    query.query(con, "escalation_rate", grain="week", by=["department"],
                since=date(2026, 11, 1), until=date(2026, 11, 28), where={"platform": "slack"})
    query.value(con, "active_users", since, until)

MetricFlow compiles each (metric, grain, dimensions, filtered dimensions, dialect, schema) once per
process (`compiled`, cached): filter values and the period bounds are placeholders in the compiled
SQL, bound as parameters at each call, so a dashboard pays MetricFlow's planning once per query
shape, not per click, and no value ever reaches the SQL text. `con` is a DuckDB connection, a
psycopg2 connection, the path of a DuckDB store or a `Config` (its store, opened read-only, in UTC). Dates are UTC days; `since`
and `until` are inclusive. Test users are excluded unless `include_test_users`.

Four metrics need a step MetricFlow has no construct for; their `kind` (in the metric's meta) names
it and the parts still come from compiled MetricFlow queries: `retention` (users active in a
period and the previous one), `undated_denominator` (a roster or headcount that is not dated),
`share_of_total` (a filtered count over the unfiltered total) and `bundle` (DAU, WAU, MAU side by side).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from mwdata.config import Config
from mwdata.metrics import manifest
from mwdata.metrics.registry import Metric, MetricError, get_metric, semantic_models

GRAINS = ("day", "week", "month")
Where = Mapping[str, Any]
_PLACEHOLDER = re.compile(r"'__mwdata_(p\d+|since|until)__'")
_TEST_USERS = "COALESCE({{{{ Dimension('{}') }}}}, FALSE) = FALSE"


# -- the MetricFlow engine (compile only: it never connects) -----------------------------------------
class _CompileOnlyClient:
    """The part of MetricFlow's SqlClient protocol that planning uses: the dialect and its renderer."""

    def __init__(self, dialect: str) -> None:
        from metricflow.protocols.sql_client import SqlEngine

        self.sql_plan_renderer: Any
        if dialect == "duckdb":
            from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

            self.sql_engine_type, self.sql_plan_renderer = SqlEngine.DUCKDB, DuckDbSqlPlanRenderer()
        elif dialect == "postgres":
            from metricflow.sql.render.postgres import PostgresSQLSqlPlanRenderer

            self.sql_engine_type, self.sql_plan_renderer = SqlEngine.POSTGRES, PostgresSQLSqlPlanRenderer()
        else:
            raise MetricError(f"metric queries run on DuckDB and PostgreSQL connections, not {dialect}")

    def _no(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("mwdata compiles MetricFlow queries; it executes them itself")

    query = execute = dry_run = _no

    def close(self) -> None:
        pass

    def render_bind_parameter_key(self, key: str) -> str:
        return key


def _relocated(schema: str) -> str:
    """The manifest with every relation in `schema` of the connection's own database."""
    import json

    doc = json.loads(json.dumps(manifest.raw()))
    relations = [sm["node_relation"] for sm in doc["semantic_models"]]
    relations += [ts["node_relation"] for ts in doc["project_configuration"].get("time_spines", [])]
    for nr in relations:
        nr.update(database=None, schema_name=schema, relation_name=f'"{schema}"."{nr["alias"]}"')
    return json.dumps(doc)


# MetricFlow's planner is not documented as thread-safe: compile one query at a time (once per shape;
# running the compiled SQL needs no lock). The dashboard serves each browser session on its own thread.
_COMPILING = threading.RLock()


@cache
def _engine(dialect: str, schema: str) -> Any:
    from metricflow.engine.metricflow_engine import MetricFlowEngine
    from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    parsed = parse_manifest_from_dbt_generated_manifest(_relocated(schema))
    return MetricFlowEngine(SemanticManifestLookup(parsed), _CompileOnlyClient(dialect))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Compiled:
    """A compiled MetricFlow query: SQL with named placeholders."""

    sql: str
    placeholders: tuple[str, ...]  # in order of appearance: p0, p1, ..., since, until

    def bind(self, dialect: str, values: Mapping[str, Any]) -> tuple[str, list[Any]]:
        mark = "?" if dialect == "duckdb" else "%s"
        sql = self.sql if dialect == "duckdb" else self.sql.replace("%", "%%")
        return _PLACEHOLDER.sub(mark, sql), [values[p] for p in self.placeholders]


@lru_cache(maxsize=4096)
def compiled(
    metrics: tuple[str, ...],
    group_by: tuple[str, ...],
    where_dims: tuple[tuple[str, int], ...],
    since: bool,
    until: bool,
    test_users: str | None,
    dialect: str,
    schema: str,
    filters: tuple[str, ...] = (),
) -> Compiled:
    """MetricFlow's SQL for the metrics grouped by `group_by` (qualified names), filtered on
    `where_dims` ((qualified dimension, number of values)) and the period bounds, as placeholders;
    test users left out on the `test_users` dimension when given.
    `filters`: a ratio's own filter templates, so that its numerator and denominator columns are
    the filtered ones (MetricFlow applies a ratio's filter to the ratio only)."""
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    where: list[str] = list(filters)
    n = 0
    for dim, count in where_dims:
        marks = ", ".join(f"'__mwdata_p{n + i}__'" for i in range(count))
        where.append(f"CAST({{{{ Dimension('{dim}') }}}} AS VARCHAR) IN ({marks})")
        n += count
    if since:
        where.append("{{ TimeDimension('metric_time', 'day') }} >= '__mwdata_since__'")
    if until:
        where.append("{{ TimeDimension('metric_time', 'day') }} <= '__mwdata_until__'")
    if test_users:
        where.append(_TEST_USERS.format(test_users))
    request = MetricFlowQueryRequest.create(
        metric_names=list(metrics), group_by_names=list(group_by) or None, where_constraints=where or None
    )
    try:
        with _COMPILING:
            result = _engine(dialect, schema).explain(request)
    except Exception as exc:  # MetricFlow's errors name the metric, dimension and reason
        raise MetricError(f"metric query {', '.join(metrics)} by {list(group_by)}: {exc}") from None
    sql = result.sql_statement.sql
    found = tuple(m.group(1) for m in _PLACEHOLDER.finditer(sql))
    return Compiled(sql=sql, placeholders=found)


# -- connections --------------------------------------------------------------------------------------
def _dialect(con: Any) -> str:
    mod = type(con).__module__.split(".")[0]
    if mod in ("duckdb", "_duckdb"):
        return "duckdb"
    if mod == "psycopg2":
        return "postgres"
    raise MetricError(f"metric queries need a DuckDB or psycopg2 connection, not {type(con).__name__}")


_SHARED: ContextVar[dict[tuple[Any, ...], pd.DataFrame] | None] = ContextVar("_SHARED", default=None)


@contextmanager
def shared_results() -> Iterator[None]:
    """Within the block, a query with the same SQL and parameters runs once (e.g. a page whose two
    ratios share a numerator: segment adoption and adoption both count the active users)."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _run(con: Any, dialect: str, c: Compiled, values: Mapping[str, Any]) -> pd.DataFrame:
    """The rows, with the column names the SQL gives (MetricFlow's: metric_time__week, user__department)."""
    sql, params = c.bind(dialect, values)
    shared = _SHARED.get()
    key = (id(con), sql, repr(params))
    if shared is not None and key in shared:
        return shared[key].copy()
    df = _execute(con, dialect, sql, params)
    if shared is not None:
        shared[key] = df.copy()
    return df


def _execute(con: Any, dialect: str, sql: str, params: list[Any]) -> pd.DataFrame:
    if dialect == "duckdb":
        cur = con.execute(sql, params)
        rows, desc = cur.fetchall(), cur.description
    else:
        with con.cursor() as cur:
            cur.execute(sql, params)
            rows, desc = cur.fetchall(), cur.description
    return pd.DataFrame(rows, columns=[d[0] for d in desc])


# -- dimensions ---------------------------------------------------------------------------------------
def qualified(m: Metric | Sequence[Metric], dim: str) -> str:
    """MetricFlow's name of a dimension of the metric (or of every metric of one query): its own
    semantic model's (the fact models carry the user's HR columns too: no join), else the user's; the
    user's whenever the metrics read several semantic models that all reach the user.
    A time dimension groups at a grain: `first_interaction_day__week` (the user's first week)."""
    metrics = [m] if isinstance(m, Metric) else list(m)
    users = semantic_models()["users"]
    models = list({sm.name: sm for x in metrics for sm in x.semantic_models}.values())
    with_users = all(_has_users(x) for x in metrics)
    time_dim, _, grain = dim.rpartition("__")
    timed = grain in GRAINS
    user_dim = dim in users.dimensions or (timed and time_dim in users.time_dimensions)
    if len(models) == 1 or not (with_users and user_dim):
        for sm in models:
            if sm.primary_entity and (dim in sm.dimensions or (timed and time_dim in sm.time_dimensions)):
                return f"{sm.primary_entity}__{dim}"
    if with_users and user_dim:
        return f"user__{dim}"
    raise _no_dimension(metrics[0], dim)


def _no_dimension(m: Metric, dim: str) -> MetricError:
    return MetricError(
        f"metric {m.name} has no dimension {dim!r}; its dimensions: {', '.join(m.dimensions) or 'none'}"
    )


def _check_dims(m: Metric, dims: Iterable[str]) -> None:
    """Only the dimensions the metric declares (meta.dimensions) may group or filter it."""
    for d in dims:
        if m.dimensions and d not in m.dimensions:
            raise _no_dimension(m, d)


def _test_user_dimension(metrics: Sequence[Metric]) -> str | None:
    """The flag the test-user filter of a query of `metrics` reads: their semantic model's own copy
    when they all read one model (no join to the users model: 4x faster on a day's counts at 1M
    rows), else the user's; None for metrics without users."""
    if not all(_has_users(m) for m in metrics):
        return None
    models = {sm.name: sm for m in metrics for sm in m.semantic_models}
    if len(models) == 1:
        (sm,) = models.values()
        if "is_test_user" in sm.dimensions and sm.primary_entity:
            return f"{sm.primary_entity}__is_test_user"
    return "user__is_test_user"


def _has_users(m: Metric) -> bool:
    return all("user" in sm.entities for sm in m.semantic_models)


def _values(where: Where) -> list[tuple[str, list[str]]]:
    out = []
    for dim, v in where.items():
        vals = list(v) if isinstance(v, list | tuple | set | frozenset) else [v]
        if not vals:
            raise MetricError(f"filter {dim!r} has no values")
        out.append((dim, [str(x).lower() if isinstance(x, bool) else str(x) for x in vals]))
    return out


# -- one MetricFlow query -----------------------------------------------------------------------------
def _mf(
    con: Any,
    dialect: str,
    schema: str,
    m: Metric,
    metrics: Sequence[str],
    grain: str | None,
    by: Sequence[str],
    since: date | None,
    until: date | None,
    where: Where,
    include_test_users: bool,
    entity: str | None = None,
) -> pd.DataFrame:
    """Run the compiled query; columns: period (with a grain), the `by` dimensions, the metrics."""
    read = [m, *map(get_metric, metrics)]
    group = ([f"metric_time__{grain}"] if grain else []) + ([entity] if entity else [])
    group += [qualified(read, d) for d in by]
    flt = _values(where)
    c = compiled(
        tuple(metrics),
        tuple(group),
        tuple((qualified(read, d), len(v)) for d, v in flt),
        since is not None,
        until is not None,
        None if include_test_users else _test_user_dimension(read),
        dialect,
        schema,
        m.filters if m.type == "ratio" else (),
    )
    values: dict[str, Any] = {"since": since, "until": until}
    i = 0
    for _, vals in flt:
        for v in vals:
            values[f"p{i}"] = v
            i += 1
    df = _run(con, dialect, c, values)
    names = {f"metric_time__{grain}": "period", **{qualified(read, d): d for d in by}}
    if entity:
        names[entity] = entity
    df = df.rename(columns=names)
    for col in (["period"] if grain else []) + [d for d in by if d.rpartition("__")[2] in GRAINS]:
        df[col] = pd.to_datetime(df[col]).dt.date  # a time dimension: its UTC day
    return df


def _prev(p: date, grain: str) -> date:
    if grain == "day":
        return p - timedelta(days=1)
    if grain == "week":
        return p - timedelta(days=7)
    return (p.replace(day=1) - timedelta(days=1)).replace(day=1)


def _numeric(df: pd.DataFrame, cols: Iterable[str]) -> pd.DataFrame:
    for c in cols:
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    return df


def _done(df: pd.DataFrame, keys: list[str], by: list[str]) -> pd.DataFrame:
    """Sorted, with a missing dimension value as None (pandas would make it NaN)."""
    df = df.sort_values(keys).reset_index(drop=True)
    for d in by:
        df[d] = df[d].astype(object).where(df[d].notna(), None)
    return df


def _ratio(df: pd.DataFrame) -> pd.DataFrame:
    den = df["denominator"].where(df["denominator"] != 0)
    df["value"] = df["numerator"].fillna(0) / den
    return df


def query(
    con: Any,
    name: str,
    grain: str | None = None,
    by: Sequence[str] = (),
    since: date | None = None,
    until: date | None = None,
    where: Where | None = None,
    include_test_users: bool = False,
    schema: str = "analytics",
) -> pd.DataFrame:
    """The metric over [since, until] (either bound may be open), per period of `grain` if given, per
    value of the `by` dimensions, filtered on `where` ({dimension: value or [values]}).

    Columns: period (with a grain), the `by` dimensions, value; numerator and denominator for
    ratios; dau, wau, mau for dau_wau_mau. Periods without rows are absent."""
    if isinstance(con, Config):
        with connection(con) as c:
            return query(
                c, name, grain, by, since, until, where, include_test_users, con.transform.target_schema
            )
    if isinstance(con, str | Path):
        import duckdb

        with duckdb.connect(str(con), read_only=True) as c:
            c.execute("SET TimeZone = 'UTC'")
            return query(c, name, grain, by, since, until, where, include_test_users, schema)
    m = get_metric(name)
    if grain is not None and grain not in GRAINS:
        raise MetricError(f"grain must be one of {', '.join(GRAINS)}, got {grain!r}")
    if since and until and since > until:
        raise MetricError(f"since ({since}) is after until ({until})")
    by = list(by)
    where = dict(where or {})
    _check_dims(m, [*by, *where])
    dialect = _dialect(con)
    keys = (["period"] if grain else []) + by
    args = (con, dialect, schema)

    def mf(metric: Metric, names: Sequence[str], **kw: Any) -> pd.DataFrame:
        opts: dict[str, Any] = {
            "grain": grain,
            "by": by,
            "since": since,
            "until": until,
            "where": where,
            "include_test_users": include_test_users,
            **kw,
        }
        return _mf(*args, metric, names, **opts)

    if m.kind == "bundle" or m.type == "cumulative":  # trailing windows: one value per day
        if grain not in (None, "day"):
            raise MetricError(f"{m.name} is a daily metric (trailing windows): use grain day")
        cols = m.bundle or {"value": m.name}
        df = mf(m, list(cols.values()), grain="day").rename(columns={v: k for k, v in cols.items()})
        df = _numeric(df, cols).sort_values(["period", *by]).reset_index(drop=True)
        df[list(cols)] = df[list(cols)].fillna(0.0)  # days of the trailing windows without activity
        first = next(iter(cols))
        if grain is None:  # the value on the last day of the period (the last active day if open)
            last = until or (df.loc[df[first] > 0, "period"].max() if len(df) else None)
            df = df[df["period"] == last].drop(columns="period").reset_index(drop=True)
        return _done(df.assign(value=df[first]), [k for k in keys if k in df], by)
    if m.kind == "plain":
        parts = [m.numerator or "", m.denominator or ""] if m.type == "ratio" else []
        df = mf(m, [m.name, *parts]).rename(
            columns={m.name: "value", m.numerator: "numerator", m.denominator: "denominator"}
        )
        return _done(_numeric(df, ["value", "numerator", "denominator"]), keys, by)
    if m.kind == "retention":  # users active in the period and in the previous one
        df = _retention(m, mf, grain, by, since, until)
        df = _ratio(_numeric(df, ["numerator", "denominator"]))
        return _done(df[[*keys, "value", "numerator", "denominator"]], keys, by)
    num, den = get_metric(m.numerator or ""), get_metric(m.denominator or "")
    if m.kind == "undated_denominator":
        # The roster or headcount has only the HR dimensions: a platform, route or domain filter cuts
        # the active users, not the people they are counted against. Without a grain every segment
        # of the denominator is a row, those without activity at 0.
        n = mf(num, [num.name]).rename(columns={num.name: "numerator"})
        own = {k: v for k, v in where.items() if k in den.dimensions}
        d = mf(den, [den.name], grain=None, since=None, until=None, where=own)
        d = d.rename(columns={den.name: "denominator"})
        df = (
            n.merge(d, on=by, how="left" if grain else "outer")
            if by
            else n.assign(denominator=d["denominator"].iloc[0] if len(d) else None)
        )
    elif m.kind == "share_of_total":
        n = mf(num, [num.name]).rename(columns={num.name: "numerator"})
        rest = [d for d in by if d != m.share_of]  # the total drops the share's own dimension only
        d = mf(den, [den.name], by=rest, where={k: v for k, v in where.items() if k != m.share_of})
        d = d.rename(columns={den.name: "denominator"})
        on = (["period"] if grain else []) + rest
        df = n.merge(d, on=on, how="left") if on else n.assign(denominator=d["denominator"].iloc[0])
    else:
        raise MetricError(f"metric {m.name}: unknown kind {m.kind!r}")
    df = _ratio(_numeric(df, ["numerator", "denominator"]))
    return _done(df[[*keys, "value", "numerator", "denominator"]], keys, by)


def _retention(
    m: Metric, mf: Any, grain: str | None, by: list[str], since: date | None, until: date | None
) -> pd.DataFrame:
    base = m.name  # the metric's measure is the active users; `user` groups them per user
    if grain is None:
        if since is None or until is None:
            raise MetricError(f"{m.name} over a period needs both since and until")
        length = (until - since).days + 1
        cur = mf(m, [base], entity="user")
        prev = mf(
            m, [base], entity="user", since=since - timedelta(days=length), until=since - timedelta(days=1)
        )
        both = cur.merge(prev, on=["user", *by])
        num = both.groupby(by).size() if by else pd.Series([len(both)], dtype="float64")
        den = prev.groupby(by).size() if by else pd.Series([len(prev)], dtype="float64")
        if by:
            out = pd.DataFrame({"denominator": den}).join(pd.DataFrame({"numerator": num}), how="left")
            return out.reset_index().fillna({"numerator": 0})
        return pd.DataFrame({"numerator": num, "denominator": den})
    first = _prev(since, grain) if since else None
    users = mf(m, [base], entity="user", since=first)
    prev = users.assign(period=users["period"].map(lambda p: _next(p, grain)))
    both = users.merge(prev[["period", "user", *by]], on=["period", "user", *by])
    den = prev.groupby(["period", *by]).size().rename("denominator")
    num = both.groupby(["period", *by]).size().rename("numerator")
    out = pd.concat([den, num], axis=1).reset_index().fillna({"numerator": 0})
    if until is None and len(users):  # not the period after the last activity
        out = out[out["period"] <= users["period"].max()]
    if since:
        out = out[out["period"] >= since]
    if until:
        out = out[out["period"] <= until]
    return out


def _next(p: date, grain: str) -> date:
    if grain == "day":
        return p + timedelta(days=1)
    if grain == "week":
        return p + timedelta(days=7)
    return (p.replace(day=28) + timedelta(days=4)).replace(day=1)


def value(
    con: Any,
    name: str,
    since: date | None = None,
    until: date | None = None,
    where: Where | None = None,
    include_test_users: bool = False,
    schema: str = "analytics",
) -> float | None:
    """The metric's single value over [since, until] (None when a ratio's denominator is 0)."""
    df = query(con, name, None, (), since, until, where, include_test_users, schema)
    if df.empty or pd.isna(df["value"].iloc[0]):
        return None
    return float(df["value"].iloc[0])


@contextmanager
def connection(cfg: Config) -> Iterator[Any]:
    """A read-only connection to the configured store (DuckDB or PostgreSQL), in UTC."""
    from mwdata.transform.runner import _Conn

    conn = _Conn(cfg, read_only=True)
    if conn.kind not in ("duckdb", "postgres"):
        conn.close()
        raise MetricError(f"mwdata metrics query runs on DuckDB and PostgreSQL stores, not {conn.kind}")
    try:
        conn.execute("SET TimeZone = 'UTC'" if conn.kind == "duckdb" else "SET TIME ZONE 'UTC'")
        yield conn._con
    finally:
        conn.close()


@lru_cache(maxsize=64)
def _compiled_saved(name: str, since: bool, until: bool, dialect: str, schema: str) -> Compiled:
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    saved = next((q for q in manifest.raw()["saved_queries"] if q["name"] == name), None)
    if saved is None:
        known = ", ".join(q["name"] for q in manifest.raw()["saved_queries"])
        raise MetricError(f"unknown saved query {name!r}; known: {known}")
    where = []
    if since:
        where.append("{{ TimeDimension('metric_time', 'day') }} >= '__mwdata_since__'")
    if until:
        where.append("{{ TimeDimension('metric_time', 'day') }} <= '__mwdata_until__'")
    request = MetricFlowQueryRequest.create(saved_query_name=name, where_constraints=where or None)
    with _COMPILING:
        result = _engine(dialect, schema).explain(request)
    sql = result.sql_statement.sql
    return Compiled(sql, tuple(x.group(1) for x in _PLACEHOLDER.finditer(sql)))


def saved(
    con: Any, name: str, since: date | None = None, until: date | None = None, schema: str = "analytics"
) -> pd.DataFrame:
    """A saved query of the semantic layer (`saved_queries.yml`) over [since, until]: one column per
    group-by and per metric, as MetricFlow names them (e.g. metric_time__day, escalation_rate)."""
    dialect = _dialect(con)
    c = _compiled_saved(name, since is not None, until is not None, dialect, schema)
    df = _run(con, dialect, c, {"since": since, "until": until})
    df = _numeric(df, [col for col in df.columns if not col.startswith("metric_time")])
    return df.sort_values(list(df.columns[:1])).reset_index(drop=True)
