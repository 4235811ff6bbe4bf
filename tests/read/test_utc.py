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
from typing import Any

import pytest

from mwdata.config import Config, TransformConfig
from mwdata.metrics.exports import build
from tests.metrics.conftest import write_hr
from tests.metrics.gen import generate
from tests.transform.fixtures import load_duckdb

pytestmark = pytest.mark.slow(seconds=210)  # scheduled first (tests/conftest.py)

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


def _run_under(tz: str, script: str, store: Path, out: Path) -> dict[str, Any]:
    """Run a reading script in a fresh process whose host time zone is `tz`; its JSON output."""
    out.mkdir()
    r = subprocess.run(
        [sys.executable, "-c", script, str(store), str(out)],
        env={**os.environ, "TZ": tz},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_pages_report_and_export_ignore_the_host_time_zone(built_store: Path, tmp_path: Path) -> None:
    utc = _run_under("UTC", READ_EVERYTHING, built_store, tmp_path / "utc")
    la = _run_under("America/Los_Angeles", READ_EVERYTHING, built_store, tmp_path / "la")
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
    runs = {
        tz: _run_under(tz, KPIS_VS_METRICS, built_store, tmp_path / tz.replace("/", "_"))
        for tz in ("UTC", "America/Los_Angeles")
    }
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


PAGES_VS_METRICS = r"""
import json, sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from mwdata.metrics.query import query
from mwdata.read import queries
from mwdata.read.filters import Filters
from mwdata.read.snapshot import Store

# (page, frame, period column and grain, {frame column: metric dimension}, {frame column: (metric, part)})
CHECKS = [
    ("overview", "trend", ("day", "day"), {}, {"active_users": ("active_users", "value"),
        "user_interactions": ("interactions", "value"), "conversations": ("conversations", "value"),
        "escalated_conversations": ("escalation_rate", "numerator")}),
    ("adoption", "users", None, {}, {"active_users": ("active_users", "value"),
        "new_users": ("new_users", "value"), "retained_users": ("retained_users", "numerator")}),
    ("adoption", "new_returning", ("week", "week"), {}, {"new_users": ("new_users", "value")}),
    ("channels", "by_platform", None, {"platform": "platform"}, {"active_users": ("active_users", "value"),
        "user_interactions": ("interactions", "value"), "conversations": ("user_conversations", "value"),
        "interaction_share": ("channel_adoption", "value")}),
    ("channels", "trend", ("day", "day"), {"platform": "platform"}, {"user_interactions": ("interactions", "value")}),
    *[("segments", f"by_{d}", None, {d: d}, {"headcount": ("segment_adoption", "denominator"),
        "active_users": ("segment_adoption", "numerator"), "user_interactions": ("interactions", "value"),
        "adoption_rate": ("segment_adoption", "value")}) for d in ("department", "location", "role")],
    ("outcomes", "trend", ("week", "week"), {}, {"containment_rate": ("containment_rate", "value"),
        "escalation_rate": ("escalation_rate", "value")}),
    ("outcomes", "by_route", None, {"route": "route", "domain": "primary_domain"},
        {"conversations": ("conversations", "value"), "engaged": ("escalation_rate", "denominator"),
         "escalated": ("escalation_rate", "numerator")}),
    ("outcomes", "by_type", None, {"conversation_type": "conversation_type"},
        {"conversations": ("conversations", "value")}),
    ("plugins", "plugins", None, {"plugin_name": "plugin_name"}, {"calls": ("plugin_calls", "value"),
        "served": ("plugin_used_rate", "denominator"), "used": ("plugin_used_rate", "numerator"),
        "unsuccessful": ("plugin_unsuccessful", "value"), "served_rate": ("plugin_served_rate", "value"),
        "used_rate": ("plugin_used_rate", "value"), "latency_p50_s": ("plugin_latency", "value"),
        "latency_p90_s": ("plugin_latency_p90", "value")}),
    ("plugins", "trend", ("day", "day"), {}, {"served": ("plugin_used_rate", "denominator"),
        "used": ("plugin_used_rate", "numerator"), "unsuccessful": ("plugin_unsuccessful", "value")}),
    ("knowledge", "top_articles", None, {"resource_id": "resource_id"},
        {"times_served": ("citation_rate", "denominator"), "times_cited": ("citation_rate", "numerator"),
         "citation_rate": ("citation_rate", "value"), "conversations": ("article_conversations", "value"),
         "unhelpful_conversations": ("article_unhelpful_conversations", "value"),
         "ticket_conversations": ("article_ticket_conversations", "value")}),
    ("knowledge", "totals", None, {}, {"resources_served": ("citation_rate", "denominator"),
        "resources_cited": ("citation_rate", "numerator"), "citation_rate": ("citation_rate", "value")}),
    ("gaps", "gaps", None, {"topic": "topic", "domain": "interaction_domain"},
        {"volume": ("topic_interactions", "value"), "without_citation": ("uncited_questions", "value"),
         "unhelpful": ("unhelpful_questions", "value"), "escalated": ("escalated_questions", "value"),
         "failure_rate": ("knowledge_gaps", "value"), "gap_score": ("knowledge_gaps", "numerator")}),
    ("feedback", "trend", ("week", "week"), {}, {"helpful": ("helpful_rate", "numerator"),
        "unhelpful": ("unhelpful_feedback", "value")}),
    ("efficiency", "ttr", ("week", "week"), {}, {"resolved": ("resolved_conversations", "value"),
        "ttr_p50_min": ("time_to_resolution", "value"), "ttr_p90_min": ("time_to_resolution_p90", "value")}),
    ("efficiency", "time_saved", None, {"plugin_name": "plugin_name"},
        {"used_calls": ("plugin_used_rate", "numerator"), "minutes_saved": ("time_saved", "value")}),
]
FUNNEL = {"conversations": ("conversations", "value"), "engaged": ("escalation_rate", "denominator"),
          "plugin_served": ("plugin_served_conversations", "value"),
          "plugin_used": ("plugin_used_conversations", "value"), "contained": ("containment_rate", "numerator")}
NULL_LABELS = {"(unknown)", "(none)", "(no topic)"}  # a null dimension value, which no where-filter selects

store_path, out = Path(sys.argv[1]), Path(sys.argv[2])
store = Store(store_path, snapshot_dir=out / "snaps")
con = duckdb.connect(str(store_path), read_only=True)
con.execute("SET TimeZone = 'UTC'")  # the metric layer's days, whatever the host's zone
lo, hi = queries.date_bounds(store, "analytics")
opts = queries.filter_options(store, "analytics")
cases = {"all": Filters(lo, hi), "sales": Filters(lo, hi, values={"department": ("Sales",)}),
         "platform": Filters(hi - timedelta(days=6), hi, values={"platform": (opts["platform"][0],)})}

def expected(metric, part, since, until, where, f):
    df = query(con, metric, since=since, until=until, where=where, include_test_users=f.include_test_users)
    v = None if df.empty else df[part].iloc[0]
    return None if v is None or pd.isna(v) else float(v)

def same(got, want, counted):
    got = None if got is None or pd.isna(got) else float(got)
    if want is None and counted:
        want = 0.0  # a count over no row is 0 on the page
    return (got is None and want is None) or (got is not None and want is not None and abs(got - want) <= 1e-9 * max(1, abs(want)))

checked, wrong = 0, []
for label, f in cases.items():
    frames = {page: queries.PAGES[page](store, f, "analytics") for page in {c[0] for c in CHECKS}}
    for page, frame, period, keys, cols in CHECKS:
        base = {d: list(v) for d, v in f.active().items() if queries.PAGE_DIMS[page].get(d) is not None}
        df = frames[page][frame]
        assert len(df) or label != "all", (page, frame, "empty")
        rows = list(df.itertuples(index=False))
        for row in rows[:6] + rows[-2:]:
            r = row._asdict()
            if any(str(r[k]) in NULL_LABELS for k in keys):
                continue
            where = {**base, **{dim: [r[k]] for k, dim in keys.items()}}
            since, until = f.start, f.end
            if period:
                day = pd.Timestamp(r[period[0]]).date()
                since, until = max(day, f.start), min(day + timedelta(days=0 if period[1] == "day" else 6), f.end)
            for col, (metric, part) in cols.items():
                want = expected(metric, part, since, until, where, f)
                counted = part != "value" or not metric.endswith(("_rate", "_gaps", "_adoption", "_share"))
                checked += 1
                if not same(r[col], want, counted and "latency" not in col and "ttr" not in col):
                    wrong.append([label, page, frame, {k: str(r[k]) for k in keys}, str(r.get(period[0]) if period else ""), col, r[col], want])
    funnel = frames["outcomes"]["funnel"].set_index("measure")["conversations"]
    for measure, (metric, part) in FUNNEL.items():
        checked += 1
        want = expected(metric, part, f.start, f.end, {d: list(v) for d, v in f.active().items()}, f)
        if not same(funnel[measure], want, True):
            wrong.append([label, "outcomes", "funnel", measure, funnel[measure], want])
    # DAU/WAU/MAU: active users on the day and in the 7 and 30 days ending on it (HR filters only)
    hr = {d: list(v) for d, v in f.active().items() if queries.PAGE_DIMS["adoption"].get(d) is not None}
    act = frames["adoption"]["active"]
    for r in list(act.itertuples(index=False))[-3:]:
        day = pd.Timestamp(r.day).date()
        for col, back in (("dau", 0), ("wau", 6), ("mau", 29)):
            checked += 1
            want = expected("active_users", "value", day - timedelta(days=back), day, hr, f)
            if not same(getattr(r, col), want, True):
                wrong.append([label, "adoption", "active", str(day), col, getattr(r, col), want])
store.close()
con.close()
print(json.dumps({"checked": checked, "wrong": wrong}, default=str))
"""


def test_every_page_number_is_the_metric_layers_value(built_store: Path, tmp_path: Path) -> None:
    """Every number on every page (per row of each table and chart, per period of each trend) equals
    the metric layer's value for that row's period, dimension values and the page's filters, computed
    on its own UTC connection, whatever the host's time zone. (Cohorts, a shape of active_users by
    first-interaction week, are left out: no where-filter selects a time dimension.)

    Run under the non-UTC host only: the pages under UTC equal the pages under this zone
    (`test_pages_report_and_export_ignore_the_host_time_zone`), so they equal the metrics too."""
    res = _run_under("America/Los_Angeles", PAGES_VS_METRICS, built_store, tmp_path / "la")
    assert res["checked"] > 500, res["checked"]
    assert res["wrong"] == [], res["wrong"][:20]
