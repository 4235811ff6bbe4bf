"""UTC days on every read connection: one store built by the dbt project, read by two processes, one
under TZ=UTC and one under TZ=America/Los_Angeles, gives the same numbers on every page, in the report
and in the export (invariant 9 in docs/architecture.md).

A control in the same processes reads the store through a plain DuckDB connection: its daily counts
differ between the two zones, so the store has rows near midnight and the comparison can fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mwdata.config import Config, TransformConfig
from mwdata.transform import build
from tests.metrics.conftest import write_hr
from tests.metrics.gen import generate
from tests.transform.fixtures import load_duckdb

READ_EVERYTHING = r"""
import json, sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from mwdata.read import queries
from mwdata.read.export import export_store
from mwdata.read.filters import Filters
from mwdata.read.snapshot import Store
from mwdata.report.render import render_report

store_path, out = Path(sys.argv[1]), Path(sys.argv[2])
store = Store(store_path, snapshot_dir=out / "snaps")
lo, hi = queries.date_bounds(store, "analytics")
result = {"bounds": [str(lo), str(hi)], "options": queries.filter_options(store, "analytics")}
periods = {
    "all": Filters(lo, hi),
    "week": Filters(hi - timedelta(days=6), hi),
    "sales": Filters(lo, hi, values={"department": ("Sales",)}),
}
for label, f in periods.items():
    for page, run in queries.PAGES.items():
        for name, df in run(store, f, "analytics").items():
            result[f"{label}/{page}/{name}"] = json.loads(df.to_json(orient="split", date_format="iso", date_unit="s"))
    result[f"{label}/users"] = json.loads(queries.user_counts(store, f, "analytics").to_json(orient="split"))
rep = render_report(store, "analytics", out / "report", days=7)
result["report"] = {p.name: p.read_text() for p in rep.csvs}
result["report_kpis"] = rep.kpis
store.close()
exported = export_store(store_path, out / "export", "parquet", ("analytics",), partition_threshold=1)
result["export"] = sorted(str(p.relative_to(out / "export")) for t in exported if t.partitioned
                          for p in t.path.rglob("*.parquet"))
con = duckdb.connect(str(store_path), read_only=True)  # the control: the host's zone
result["control"] = con.execute(
    "SELECT CAST(created_time AS DATE) AS d, count(*) FROM analytics.moveworks__journey GROUP BY 1 ORDER BY 1"
).fetchall()
con.close()
print(json.dumps(result, default=str))
"""


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("utc")
    ds = generate(7, end=datetime(2026, 12, 1, 6, tzinfo=UTC))  # a month boundary in the data
    db = d / "s.duckdb"
    load_duckdb(db, ds.records)
    write_hr(d / "hr.csv", ds.hr_rows)
    build(Config(store=str(db), transform=TransformConfig(hr_file=str(d / "hr.csv"))))
    return db


def _read_under(tz: str, store: Path, out: Path) -> dict[str, object]:
    out.mkdir()
    env = {**os.environ, "TZ": tz}
    r = subprocess.run(
        [sys.executable, "-c", READ_EVERYTHING, str(store), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_pages_report_and_export_ignore_the_host_time_zone(built_store: Path, tmp_path: Path) -> None:
    utc = _read_under("UTC", built_store, tmp_path / "utc")
    la = _read_under("America/Los_Angeles", built_store, tmp_path / "la")
    assert utc["control"] != la["control"], "the store has no row whose day depends on the zone"
    utc.pop("control"), la.pop("control")
    assert utc["all/overview/trend"] and utc["report_kpis"]
    differing = sorted(k for k in utc if utc[k] != la.get(k))
    assert differing == [], differing


KPIS_VS_METRICS = r"""
import json, sys
from datetime import timedelta
from pathlib import Path

from mwdata.metrics.query import value
from mwdata.read import queries
from mwdata.read.filters import Filters
from mwdata.read.snapshot import Store
from mwdata.report.render import render_report

# tile column of the overview / the report -> the metric the tile names
TILES = {"active_users": "active_users", "user_interactions": "interactions", "conversations": "conversations",
         "containment_rate": "containment_rate", "escalation_rate": "escalation_rate", "helpful_rate": "helpful_rate"}
store_path, out = Path(sys.argv[1]), Path(sys.argv[2])
store = Store(store_path, snapshot_dir=out / "snaps")
lo, hi = queries.date_bounds(store, "analytics")
opts = queries.filter_options(store, "analytics")
week = Filters(hi - timedelta(days=6), hi)
cases = {"all": Filters(lo, hi), "week": week, "week+tests": Filters(week.start, week.end, include_test_users=True)}
for dim in ("department", "location", "role", "platform", "route", "domain"):
    cases[f"week+{dim}"] = Filters(week.start, week.end, values={dim: (opts[dim][0],)})
cases["week+two"] = Filters(week.start, week.end, values={"platform": tuple(opts["platform"][:2]), "route": ("DM",)})

JOURNEY = ("active_users", "interactions", "helpful_rate")  # their domain is the conversation's domain

def where(m, f):
    dom = "conversation_domain" if m in JOURNEY else "primary_domain"
    return {dom if d == "domain" else d: list(v) for d, v in f.active().items()}

def expected(f):  # a count over a period without rows is 0 on a tile, None from value()
    out = {col: value(store_path, m, f.start, f.end, where(m, f), f.include_test_users) for col, m in TILES.items()}
    return {c: (v if v is not None or c.endswith("_rate") else 0.0) for c, v in out.items()}

result = {}
for label, f in cases.items():
    ov = queries.overview(store, f, "analytics")
    for part, period in (("kpis", f), ("previous", f.previous())):
        got = {c: (None if ov[part][c].isna().iloc[0] else float(ov[part][c].iloc[0])) for c in TILES}
        result[f"{label}/{part}"] = {"tiles": got, "metrics": expected(period)}
rep = render_report(store, "analytics", out / "report", days=7)
result["report"] = {"tiles": {c: rep.kpis[m] for c, m in TILES.items()}, "metrics": expected(rep.filters)}
store.close()
print(json.dumps(result, default=str))
"""


def test_overview_tiles_and_report_kpis_are_the_metric_layers_values(
    built_store: Path, tmp_path: Path
) -> None:
    """Every overview tile (this period and the previous one, for its deltas) and every report KPI
    equals `mwdata.metrics.value` for the same period and filters, whatever the host's time zone."""
    runs = {}
    for tz in ("UTC", "America/Los_Angeles"):
        out = tmp_path / tz.replace("/", "_")
        out.mkdir()
        r = subprocess.run(
            [sys.executable, "-c", KPIS_VS_METRICS, str(built_store), str(out)],
            env={**os.environ, "TZ": tz},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr[-3000:]
        runs[tz] = json.loads(r.stdout)
    utc = runs["UTC"]
    assert utc["report"]["tiles"]["conversations"], "the report's period holds no conversation"
    for tz, res in runs.items():
        for case, got in res.items():
            for col, want in got["metrics"].items():
                tile = got["tiles"][col]
                assert (tile is None) == (want is None), (tz, case, col, tile, want)
                if want is not None:
                    assert tile == pytest.approx(want, rel=1e-12), (tz, case, col)
    assert runs["America/Los_Angeles"] == utc
