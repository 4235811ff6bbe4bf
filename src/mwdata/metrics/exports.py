"""The saved queries' exports (`exports:` in models/semantic/saved_queries.yml): tables such as
`moveworks__kpi_daily` for BI tools that cannot read a semantic layer.

`mwdata build` writes each one from MetricFlow's SQL for its saved query, so the table holds the same
numbers as `mwdata metrics query` and the dashboard: there is no hand-written aggregate mart to drift
from the definitions. Columns are the group-by dimensions by their plain names (`metric_time__day`
becomes `date_day`, `plugin_call__plugin_name` becomes `plugin_name`) and one column per metric.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mwdata.config import Config
from mwdata.metrics import manifest
from mwdata.metrics.query import _PLACEHOLDER, _compiled_saved, _dialect
from mwdata.metrics.registry import get_metric

if TYPE_CHECKING:
    from mwdata.transform.runner import RunResult

log = logging.getLogger("mwdata.metrics")


def exports() -> list[tuple[dict[str, Any], str]]:
    """(saved query, table) for every export the semantic layer declares."""
    return [
        (q, e["config"].get("alias") or e["name"])
        for q in manifest.raw()["saved_queries"]
        for e in q.get("exports") or []
        if e["config"].get("export_as", "table") == "table"
    ]


def _days_on_record(cur: Any, saved_query: dict[str, Any], schema: str) -> tuple[date, date] | None:
    """The first and last day of the saved query's semantic models. A query per day is bounded by
    them: unbounded, MetricFlow's trailing windows join every user-day to the whole time spine
    (2020-2035), 50x slower at 1M interactions than over the days on record."""
    models = {
        sm.name: sm
        for name in saved_query["query_params"]["metrics"]
        for sm in get_metric(name).semantic_models
    }
    union = " UNION ALL ".join(
        f"SELECT min({sm.time_dimension}) AS lo, max({sm.time_dimension}) AS hi FROM {_q(schema)}.{_q(sm.table)}"
        for sm in models.values()
    )
    cur.execute(f"SELECT min(lo), max(hi) FROM ({union}) b")
    lo, hi = cur.fetchone()
    return None if lo is None else (_day(lo), _day(hi))


def _day(v: Any) -> date:
    return v.date() if isinstance(v, datetime) else v  # type: ignore[no-any-return]


def plain(column: str) -> str:
    """MetricFlow's column name without its entity or time prefix."""
    if column.startswith("metric_time__"):
        return "date_day" if column == "metric_time__day" else column.removeprefix("metric_time__")
    return column.split("__", 1)[-1]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def materialise(con: Any, schema: str) -> list[str]:
    """Write every export into `schema` (replacing the previous one in one transaction); the tables."""
    dialect = _dialect(con)
    written = []
    for saved_query, table in exports():
        cur = con.cursor()
        try:
            per_day = any("metric_time" in g for g in saved_query["query_params"]["group_by"])
            bounds = _days_on_record(cur, saved_query, schema) if per_day else None
            compiled = _compiled_saved(saved_query["name"], bool(bounds), bool(bounds), dialect, schema)
            sql = _with_days(
                compiled.sql, dict(zip(("since", "until"), bounds, strict=True)) if bounds else {}
            )
            cur.execute(f"SELECT * FROM ({sql}) q LIMIT 0")
            columns = [d[0] for d in cur.description]
            # a period is a UTC day on every engine (PostgreSQL's date_trunc gives a timestamptz)
            select = ", ".join(
                f"CAST({_q(c)} AS DATE) AS {_q(plain(c))}"
                if c.startswith("metric_time__")
                else f"{_q(c)} AS {_q(plain(c))}"
                for c in columns
            )
            target = f"{_q(schema)}.{_q(table)}"
            cur.execute("BEGIN")
            try:
                cur.execute(f"DROP TABLE IF EXISTS {target}")
                cur.execute(f"CREATE TABLE {target} AS SELECT {select} FROM ({sql}) q")
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        finally:
            cur.close()
        written.append(table)
    return written


def _with_days(sql: str, days: dict[str, date]) -> str:
    """The period bounds written into the SQL as date literals (a `CREATE TABLE AS` runs on a plain
    cursor, without bound parameters): ISO dates only, never text from elsewhere."""
    return _PLACEHOLDER.sub(lambda m: f"DATE '{days[m.group(1)].isoformat()}'", sql)


def write(cfg: Config) -> list[str]:
    """Write the exports into the configured store's marts schema (DuckDB and PostgreSQL)."""
    from mwdata.transform.runner import _Conn

    con = _Conn(cfg)
    try:
        if con.kind not in ("duckdb", "postgres"):
            log.info(
                "saved-query exports are written on DuckDB and PostgreSQL stores only (store: %s)", con.kind
            )
            return []
        con.execute("SET TimeZone = 'UTC'" if con.kind == "duckdb" else "SET TIME ZONE 'UTC'")
        with con._errors("CREATE TABLE (saved-query export)"):
            return materialise(con._con, cfg.transform.target_schema)
    finally:
        con.close()


def build(cfg: Config, select: Sequence[str] = (), full_refresh: bool = False) -> RunResult:
    """`mwdata build`: the dbt project's models, then the semantic layer's exports, then the tests
    (`full_refresh`: the incremental models rebuilt whole)."""
    from mwdata.transform import build as build_models

    return build_models(cfg, select, after_models=write, full_refresh=full_refresh)
