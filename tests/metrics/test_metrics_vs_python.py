"""Every metric the reference knows, from the marts through the metric layer, equals plain Python."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from mwdata.metrics import load_registry, query, value
from tests.metrics.gen import Dataset
from tests.metrics.reference import Ref

WINDOWS = ((date(2026, 11, 8), date(2026, 11, 28)), (date(2026, 11, 16), date(2026, 11, 22)))


def _parts(con: duckdb.DuckDBPyConnection, name: str, start: date, end: date) -> tuple[float, float | None]:
    df = query(con, name, since=start, until=end)
    if "numerator" in df:
        return float(df["numerator"].fillna(0).iloc[0]), float(df["denominator"].fillna(0).iloc[0])
    return float(df["value"].fillna(0).iloc[0]) if len(df) else 0.0, None


@pytest.mark.parametrize("window", WINDOWS, ids=["all", "one-week"])
def test_metrics_equal_the_python_reference(
    generated: tuple[Path, Dataset], window: tuple[date, date]
) -> None:
    db, ds = generated
    expected = Ref(ds.records, ds.hr_rows).metrics(*window)
    with duckdb.connect(str(db), read_only=True) as con:
        for name, (num, den) in expected.items():
            if name == "dau_wau_mau":  # the reference's is active users over the window: see active_users
                continue
            got_num, got_den = _parts(con, name, *window)
            assert got_num == pytest.approx(num), f"{name} numerator"
            if den is not None:
                assert (got_den or 0) == pytest.approx(den), f"{name} denominator"
    assert expected["conversations"][0] > 0 and expected["escalation_rate"][0] > 0  # the data exercises them


def test_every_metric_answers_and_additive_series_add_up(generated: tuple[Path, Dataset]) -> None:
    db, _ = generated
    start, end = WINDOWS[0]
    with duckdb.connect(str(db), read_only=True) as con:
        for m in load_registry(include_parts=True):
            value(con, m.name, start, end)  # no error
            if m.kind in ("retention", "bundle") or m.type == "cumulative":
                continue
            s = query(con, m.name, grain="week", since=start, until=end)
            assert list(s.columns[:2]) == ["period", "value"], m.name
            if (
                m.type == "simple"
                and not m.measures[0].endswith(("_users", "_p50", "_p90"))
                and m.measures[0]
                not in (
                    "interaction_conversations",
                    "interaction_user_days",
                    "interaction_days",
                )
            ):
                assert s["value"].sum() == pytest.approx(value(con, m.name, start, end) or 0), m.name


def test_filters_are_bound_and_checked(generated: tuple[Path, Dataset]) -> None:
    db, _ = generated
    start, end = WINDOWS[0]
    with duckdb.connect(str(db), read_only=True) as con:
        total = value(con, "interactions", start, end) or 0
        by = [
            value(con, "interactions", start, end, {"platform": p}) or 0 for p in ("slack", "msteams", "web")
        ]
        assert sum(by) == total
        assert value(con, "interactions", start, end, {"platform": "slack' OR '1'='1"}) is None
        with pytest.raises(KeyError, match="no dimension"):
            value(con, "interactions", start, end, {"1=1; drop table x": "a"})
        with_test = value(con, "active_users", start, end, include_test_users=True) or 0
        assert with_test >= (value(con, "active_users", start, end) or 0)
