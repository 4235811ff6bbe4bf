"""The saved queries' exports (`exports:` in models/semantic/saved_queries.yml): tables such as
`moveworks__kpi_daily` for BI tools that cannot read a semantic layer.

`mwdata build` writes each one from MetricFlow's SQL for its saved query, so the table holds the same
numbers as `mwdata metrics query` and the dashboard: there is no hand-written aggregate mart to drift
from the definitions. Columns are the group-by dimensions by their plain names (`metric_time__day`
becomes `date_day`, `plugin_call__plugin_name` becomes `plugin_name`) and one column per metric.
"""

from __future__ import annotations

from typing import Any

from mwdata.metrics import manifest
from mwdata.metrics.query import _compiled_saved, _dialect


def exports() -> list[tuple[str, str]]:
    """(saved query, table) for every export the semantic layer declares."""
    return [
        (q["name"], e["config"].get("alias") or e["name"])
        for q in manifest.raw()["saved_queries"]
        for e in q.get("exports") or []
        if e["config"].get("export_as", "table") == "table"
    ]


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
        sql = _compiled_saved(saved_query, False, False, dialect, schema).sql
        cur = con.cursor()
        try:
            cur.execute(f"SELECT * FROM ({sql}) q LIMIT 0")
            columns = [d[0] for d in cur.description]
            select = ", ".join(f"{_q(c)} AS {_q(plain(c))}" for c in columns)
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
