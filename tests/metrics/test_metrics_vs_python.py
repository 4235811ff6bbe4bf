"""Every metric the reference knows, from the marts through the query helper, equals plain Python."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from mwdata.metrics import get_metric, load_registry, query
from tests.metrics.gen import Dataset
from tests.metrics.reference import Ref

WINDOWS = ((date(2026, 11, 8), date(2026, 11, 28)), (date(2026, 11, 16), date(2026, 11, 22)))


@pytest.mark.parametrize("window", WINDOWS, ids=["all", "one-week"])
def test_metrics_equal_the_python_reference(
    generated: tuple[Path, Dataset], window: tuple[date, date]
) -> None:
    db, ds = generated
    expected = Ref(ds.records, ds.hr_rows).metrics(*window)
    with duckdb.connect(str(db), read_only=True) as con:
        for name, (num, den) in expected.items():
            got_num, got_den = query.parts(con, name, *window)
            assert (got_num or 0) == pytest.approx(num), f"{name} numerator"
            if get_metric(name).kind == "retention" or den is not None:
                assert (got_den or 0) == pytest.approx(den), f"{name} denominator"
    assert expected["conversations"][0] > 0 and expected["escalation_rate"][0] > 0  # the data exercises them


def test_every_queryable_metric_answers_and_series_add_up(generated: tuple[Path, Dataset]) -> None:
    db, _ = generated
    start, end = WINDOWS[0]
    with duckdb.connect(str(db), read_only=True) as con:
        for m in load_registry():
            if not m.queryable:
                continue
            query.metric_value(con, m.name, start, end)  # no error
            if m.kind == "retention":
                continue
            s = query.metric_series(con, m.name, start, end, grain="week")
            assert list(s.columns[:2]) == ["period", "numerator"]
            if "count(distinct" not in m.numerator.sql and "percentile" not in m.numerator.sql:
                assert s["numerator"].sum() == pytest.approx(query.parts(con, m.name, start, end)[0] or 0), (
                    m.name
                )


def test_filters_are_bound_and_checked(generated: tuple[Path, Dataset]) -> None:
    db, ds = generated
    start, end = WINDOWS[0]
    with duckdb.connect(str(db), read_only=True) as con:
        total = query.metric_value(con, "interactions", start, end) or 0
        by = [
            query.metric_value(con, "interactions", start, end, {"platform": p}) or 0
            for p in ("slack", "msteams", "web")
        ]
        assert sum(by) == total
        evil = query.metric_value(con, "interactions", start, end, {"platform": "slack' OR '1'='1"})
        assert evil == 0
        with pytest.raises(KeyError, match="no dimension"):
            query.metric_value(con, "interactions", start, end, {"1=1; drop table x": "a"})
        with_test = query.metric_value(con, "active_users", start, end, include_test_users=True) or 0
        assert with_test >= (query.metric_value(con, "active_users", start, end) or 0)
