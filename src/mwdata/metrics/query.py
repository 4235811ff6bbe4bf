"""Query helper over the marts: a metric's value for a period, or its series per day/week/month.

Filters are `{dimension: value or [values]}` on the metric's declared dimensions; values travel as
bound parameters, never in the SQL text. Test users are excluded unless `include_test_users`.
Works on a DuckDB connection (the default store) whose marts live in `schema`.

    from mwdata.metrics import query
    query.metric_value(con, "escalation_rate", date(2026, 11, 1), date(2026, 11, 28))
    query.metric_series(con, "active_users", start, end, grain="week", filters={"platform": "slack"})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd

from mwdata.metrics.registry import Metric, MetricError, Part, get_metric

GRAINS = ("day", "week", "month", "quarter", "year")
Filters = Mapping[str, Any]


def _where(
    m: Metric, part: Part, start: date, end: date, filters: Filters | None, include_test_users: bool
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if part.date_column:
        clauses.append(f"{part.date_column} BETWEEN ? AND ?")
        params += [start, end]
    if part.where:
        clauses.append(f"({part.where})")
    if part.exclude_test_users and not include_test_users:
        clauses.append("NOT coalesce(is_test_user, FALSE)")
    if part.filters:
        for dim, value in (filters or {}).items():
            if dim not in m.dimensions:
                raise MetricError(
                    f"metric {m.name} has no dimension {dim!r}; its dimensions: {', '.join(m.dimensions) or 'none'}"
                )
            values = list(value) if isinstance(value, list | tuple | set) else [value]
            clauses.append(f"CAST({dim} AS VARCHAR) IN ({', '.join('?' for _ in values)})")
            params += [str(v) for v in values]
    return (" AND ".join(clauses) or "TRUE"), params


def _check(m: Metric) -> None:
    if not m.queryable:
        raise MetricError(f"metric {m.name} is not computed from a mart ({m.description})")


def _scalar(con: Any, sql: str, params: Sequence[Any]) -> float | None:
    row = con.execute(sql, list(params)).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def parts(
    con: Any,
    name: str,
    start: date,
    end: date,
    filters: Filters | None = None,
    schema: str = "analytics",
    include_test_users: bool = False,
) -> tuple[float | None, float | None]:
    """(numerator, denominator) of a metric over [start, end] (dates, inclusive)."""
    m = get_metric(name)
    _check(m)
    if m.kind == "retention":
        p = m.numerator
        length = (end - start).days + 1
        prev_start, prev_end = start - timedelta(days=length), start - timedelta(days=1)
        w1, p1 = _where(m, p, start, end, filters, include_test_users)
        w0, p0 = _where(m, p, prev_start, prev_end, filters, include_test_users)
        t = f'"{schema}"."{p.mart}"'
        num = _scalar(
            con,
            f"SELECT count(*) FROM (SELECT DISTINCT {p.sql} AS k FROM {t} WHERE {w1}) a "
            f"JOIN (SELECT DISTINCT {p.sql} AS k FROM {t} WHERE {w0}) b ON a.k = b.k",
            p1 + p0,
        )
        den = _scalar(con, f"SELECT count(DISTINCT {p.sql}) FROM {t} WHERE {w0}", p0)
        return num, den
    out: list[float | None] = []
    for part in (m.numerator, m.denominator):
        if part is None:
            out.append(None)
            continue
        w, params = _where(m, part, start, end, filters, include_test_users)
        out.append(_scalar(con, f'SELECT {part.sql} FROM "{schema}"."{part.mart}" WHERE {w}', params))
    return out[0], out[1]


def metric_value(
    con: Any,
    name: str,
    start: date,
    end: date,
    filters: Filters | None = None,
    schema: str = "analytics",
    include_test_users: bool = False,
) -> float | None:
    """The metric over [start, end]: numerator, or numerator / denominator (None when it is 0)."""
    m = get_metric(name)
    num, den = parts(con, name, start, end, filters, schema, include_test_users)
    if not m.is_ratio:
        return num
    if not den:
        return None
    return (num or 0.0) / den


def metric_series(
    con: Any,
    name: str,
    start: date,
    end: date,
    grain: str = "day",
    filters: Filters | None = None,
    schema: str = "analytics",
    include_test_users: bool = False,
) -> pd.DataFrame:
    """One row per period start: period, numerator, denominator, value (periods without rows omitted)."""
    if grain not in GRAINS:
        raise MetricError(f"grain must be one of {', '.join(GRAINS)}, got {grain!r}")
    m = get_metric(name)
    _check(m)
    if m.kind == "retention" or m.numerator.date_column is None:
        raise MetricError(f"metric {m.name} has no series; ask metric_value for each period")
    frames = []
    for label, part in (("numerator", m.numerator), ("denominator", m.denominator)):
        if part is None:
            continue
        w, params = _where(m, part, start, end, filters, include_test_users)
        t = f'"{schema}"."{part.mart}"'
        if part.date_column is None:  # a constant denominator (e.g. users with access)
            val = _scalar(con, f"SELECT {part.sql} FROM {t} WHERE {w}", params)
            frames.append((label, val))
            continue
        df = con.execute(
            f"SELECT CAST(date_trunc('{grain}', {part.date_column}) AS DATE) AS period, {part.sql} AS {label} "
            f"FROM {t} WHERE {w} GROUP BY 1 ORDER BY 1",
            params,
        ).df()
        frames.append((label, df))
    num = frames[0][1]
    assert isinstance(num, pd.DataFrame)
    out = num
    if len(frames) > 1:
        den = frames[1][1]
        if isinstance(den, pd.DataFrame):
            out = num.merge(den, on="period", how="outer").fillna({"numerator": 0})
        else:
            out = num.assign(denominator=den)
        out["value"] = out["numerator"] / out["denominator"].where(out["denominator"] != 0)
    else:
        out = out.assign(denominator=None, value=out["numerator"])
    return out.sort_values("period").reset_index(drop=True)
