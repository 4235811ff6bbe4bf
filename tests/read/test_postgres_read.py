"""The dashboard, the report and the export on a PostgreSQL store: one generated tenant built by dbt
into a DuckDB file and into a real PostgreSQL database (MWDATA_TEST_PG_DSN) shows the same numbers on
every page, in the report and in every exported table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mwdata.app import views
from mwdata.config import Config, TransformConfig
from mwdata.errors import StoreError
from mwdata.metrics.exports import build
from mwdata.read import drill, queries
from mwdata.read.export import export_postgres, export_store
from mwdata.read.filters import Filters
from mwdata.read.stores import PostgresStore, ReadStore, open_store
from mwdata.report.render import make_report
from tests.e2e.conftest import browser, running_dashboard  # noqa: F401 (fixtures)
from tests.e2e.test_browser import visit_every_page
from tests.metrics.conftest import write_hr
from tests.metrics.gen import generate
from tests.pg import DSN, database_with, fresh_database
from tests.sync.conftest import run_cli
from tests.transform.fixtures import load_duckdb

pytestmark = [
    pytest.mark.slow(seconds=80),  # scheduled first (tests/conftest.py)
    pytest.mark.postgres,
    pytest.mark.skipif(not DSN, reason="MWDATA_TEST_PG_DSN not set"),
]
MAIN = str(Path(__file__).resolve().parents[2] / "src" / "mwdata" / "app" / "main.py")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Config, Config]]:
    """(DuckDB, PostgreSQL) configurations of the same tenant, both built with its HR file."""
    d = tmp_path_factory.mktemp("pg-read")
    ds = generate(5, users=25, days=15)
    write_hr(d / "hr.csv", ds.hr_rows)
    t = TransformConfig(hr_file=str(d / "hr.csv"))
    duck = Config(store=str(d / "s.duckdb"), transform=t)
    load_duckdb(d / "s.duckdb", ds.records)
    with database_with(ds.records) as dsn:
        pg = Config(store=dsn, transform=t)
        for cfg in (duck, pg):
            result = build(cfg)
            assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
        yield duck, pg


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    """Values as both engines agree to give them: timestamps as UTC instants, floats rounded."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.astype("datetime64[ns]")
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[col] = s.astype(float).round(9)
    return out.reset_index(drop=True)


def _pages(store: ReadStore, f: Filters) -> dict[str, pd.DataFrame]:
    out = {}
    for page, run in queries.PAGES.items():
        if page == "health":  # the sync's state tables exist only in a synced store: compared below
            continue
        for name, df in run(store, f, "analytics").items():
            out[f"{page}/{name}"] = df
    return out


def test_every_page_shows_the_same_numbers_on_postgres(stores: tuple[Config, Config]) -> None:
    duck_cfg, pg_cfg = stores
    duck, pg = open_store(duck_cfg), open_store(pg_cfg)
    assert isinstance(pg, PostgresStore)
    try:
        assert queries.date_bounds(pg, "analytics") == queries.date_bounds(duck, "analytics")
        opts = queries.filter_options(pg, "analytics")
        assert opts == queries.filter_options(duck, "analytics")
        lo, hi = queries.date_bounds(pg, "analytics")  # type: ignore[misc]
        cases = {
            "all": Filters(lo, hi),
            "week+dept": Filters(hi - timedelta(days=6), hi, values={"department": (opts["department"][0],)}),
            "tests": Filters(lo, hi, include_test_users=True),
        }
        compared = 0
        for label, f in cases.items():
            want, got = _pages(duck, f), _pages(pg, f)
            assert got.keys() == want.keys()
            for key in want:
                pd.testing.assert_frame_equal(
                    _comparable(got[key]), _comparable(want[key]), check_dtype=False, obj=f"{label}/{key}"
                )
                compared += len(want[key])
            rows_pg = queries.health(pg, f, "analytics")["daily_rows"]
            rows_duck = queries.health(duck, f, "analytics")["daily_rows"]
            pd.testing.assert_frame_equal(_comparable(rows_pg), _comparable(rows_duck), obj=f"{label}/daily")
        assert compared > 300, compared
        # a drill-down's list adds up to the number clicked, and one journey opens, as on DuckDB
        f = cases["all"]
        d = drill.Drill("conversations", "escalated", ())
        assert d.count(pg, f, "analytics") == d.count(duck, f, "analytics") > 0
        listed = d.rows(pg, f, "analytics")
        assert len(listed) == d.count(pg, f, "analytics")
        one = str(listed["conversation_id"].iloc[0])
        pd.testing.assert_frame_equal(
            _comparable(drill.turns(pg, "analytics", one)), _comparable(drill.turns(duck, "analytics", one))
        )
    finally:
        duck.close()
        pg.close()


def test_report_on_postgres_equals_duckdbs(stores: tuple[Config, Config], tmp_path: Path) -> None:
    duck_cfg, pg_cfg = stores
    want = make_report(duck_cfg, days=7, out=tmp_path / "duck")
    got = make_report(pg_cfg, days=7, out=tmp_path / "pg")
    assert got.kpis == pytest.approx(want.kpis, rel=1e-9) and got.kpis["conversations"]
    assert [p.name for p in got.csvs] == [p.name for p in want.csvs]
    for g, w in zip(got.csvs, want.csvs, strict=True):
        if g.name == "freshness.csv":  # when each store's rows were written differs, the rest may not
            pd.testing.assert_frame_equal(
                pd.read_csv(g).drop(columns="last_written"), pd.read_csv(w).drop(columns="last_written")
            )
        else:
            assert g.read_text() == w.read_text(), g.name


def _exported(root: Path) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for f in sorted(root.rglob("*.parquet")):
            table = f.relative_to(root).parts[1].removesuffix(".parquet")
            rows = con.execute(f"SELECT * FROM read_parquet('{f}')").fetchall()
            out[table] = sorted(out.get(table, []) + rows, key=repr)
    return out


def test_export_on_postgres_equals_duckdbs(stores: tuple[Config, Config], tmp_path: Path) -> None:
    duck_cfg, pg_cfg = stores
    export_store(duck_cfg.store, tmp_path / "duck", "parquet", ("analytics",), partition_threshold=200)
    done = export_postgres(pg_cfg, tmp_path / "pg", "parquet", ("analytics",), partition_threshold=200)
    assert any(t.partitioned for t in done) and any(not t.partitioned for t in done)
    got, want = _exported(tmp_path / "pg"), _exported(tmp_path / "duck")
    assert got.keys() == want.keys() and len(got) >= 10
    for table in want:
        assert len(got[table]) == len(want[table]), table
        assert got[table] == want[table] or _close(got[table], want[table]), table
    # partitions by UTC month, as on DuckDB
    assert sorted(p.name for p in (tmp_path / "pg" / "analytics").rglob("month=*")) == sorted(
        p.name for p in (tmp_path / "duck" / "analytics").rglob("month=*")
    )


def _close(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> bool:
    """Equal but for the last digits of floats (NUMERIC averages on PostgreSQL, DOUBLE on DuckDB)."""
    for g, w in zip(got, want, strict=True):
        for a, b in zip(g, w, strict=True):
            if isinstance(a, float) and isinstance(b, float):
                if abs(a - b) > 1e-9 * max(1.0, abs(b)):
                    return False
            elif a != b:
                return False
    return True


def test_export_cli_on_postgres(stores: tuple[Config, Config], tmp_path: Path) -> None:
    _, pg_cfg = stores
    r = run_cli(
        "export", "--format", "csv", "--out", str(tmp_path / "out"),
        env={"MWDATA_STORE": pg_cfg.store, "MWDATA_HR_FILE": pg_cfg.transform.hr_file or ""},
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    journey = tmp_path / "out" / "analytics" / "moveworks__journey.csv"
    assert "moveworks__journey" in r.stdout and journey.read_text().count("\n") > 100


def _page(cfg: Config, page: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    folder.mkdir()
    toml = folder / "mwdata.toml"
    toml.write_text(f'store = "{cfg.store}"\n[transform]\nhr_file = "{cfg.transform.hr_file}"\n')
    monkeypatch.setenv("MWDATA_CONFIG", str(toml))
    for var in ("MWDATA_STORE", "MWDATA_PII", "MWDATA_DASHBOARD_PII"):
        monkeypatch.delenv(var, raising=False)
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.run()
    at.switch_page(f"screens/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == views.PAGES[page][0]
    return at


@pytest.mark.parametrize("page", list(views.PAGES))
def test_every_dashboard_page_runs_on_postgres(
    stores: tuple[Config, Config], page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page runs on the PostgreSQL store with the tiles and messages it shows on DuckDB (the
    health page's retention warning included: the generated tenant's newest day is in the past)."""
    duck_cfg, pg_cfg = stores
    want = _page(duck_cfg, page, tmp_path / "duck", monkeypatch)
    got = _page(pg_cfg, page, tmp_path / "pg", monkeypatch)
    assert [e.value for e in got.error] == [e.value for e in want.error]
    assert [(m.label, m.value) for m in got.metric] == [(m.label, m.value) for m in want.metric]
    assert got.metric or page != "overview"


def test_an_unbuilt_postgres_store_asks_for_a_build(tmp_path: Path) -> None:
    with fresh_database() as dsn, pytest.raises(StoreError, match=r"run `mwdata build`"):
        make_report(Config(store=dsn), out=tmp_path)


def test_mcp_tools_on_postgres_answer_as_on_duckdb(stores: tuple[Config, Config]) -> None:
    """The MCP server's tools (in process, the SDK's in-memory client) give the same answers on both."""
    anyio = pytest.importorskip("anyio")
    mcp = pytest.importorskip("mcp")
    from mwdata.integrations.mcp_server import MetricTools, build_server

    calls = {
        "value": ("metric_value", {"metric": "containment_rate", "by": ["department"]}),
        "breakdown": ("metric_breakdown", {"metric": "escalation_rate", "dimension": "route", "n": 50}),
        "drill": ("drill_down", {"metric": "escalation_rate", "limit": 1000}),
        "health": ("data_health", {}),
    }

    def answers(cfg: Config) -> dict[str, Any]:
        store = open_store(cfg)

        async def session() -> dict[str, Any]:
            async with mcp.Client(build_server(MetricTools(cfg, store))) as client:
                out = {}
                for name, (tool, args) in calls.items():
                    r = await client.call_tool(tool, args)
                    assert not r.is_error, r.content[0].text
                    out[name] = dict(r.structured_content)
                return out

        try:
            return dict(anyio.run(session))
        finally:
            store.close()

    def stable(doc: Any) -> Any:  # when each store was read and written differs, the rest may not
        if isinstance(doc, dict):
            return {k: stable(v) for k, v in doc.items() if k not in ("read_at", "last_written", "run_at")}
        return [stable(v) for v in doc] if isinstance(doc, list) else doc

    got, want = answers(stores[1]), answers(stores[0])
    assert want["drill"]["rows"] and want["value"]["rows"]
    for k in calls:
        assert stable(got[k]) == stable(want[k]), k


def test_the_reader_is_read_only_and_reconnects_after_the_server_drops_it(
    stores: tuple[Config, Config],
) -> None:
    import psycopg2

    _, pg_cfg = stores
    store = PostgresStore(pg_cfg)
    try:
        with pytest.raises(StoreError, match="read-only transaction"):
            store.query("CREATE TABLE analytics.written_by_a_reader (a int)")
        before = int(store.query("SELECT pg_backend_pid() AS pid")["pid"].iloc[0])
        admin = psycopg2.connect(pg_cfg.store)
        try:
            with admin.cursor() as cur:  # what a server restart or an idle timeout does to the session
                cur.execute("SELECT pg_terminate_backend(%s)", [before])
        finally:
            admin.close()
        after = int(store.query("SELECT pg_backend_pid() AS pid")["pid"].iloc[0])
        assert after != before
        assert store.query("SHOW TimeZone")["TimeZone"].iloc[0] == "UTC"  # the new session is set up too
        assert store.query("SHOW transaction_read_only")["transaction_read_only"].iloc[0] == "on"
    finally:
        store.close()
    with pytest.raises(StoreError, match="closed"):
        store.query("SELECT 1")


@pytest.mark.browser
def test_mwdata_dashboard_serves_every_page_of_a_postgres_store_in_chromium(  # noqa: F811
    stores: tuple[Config, Config],
    browser: Any,  # noqa: F811
    running_dashboard: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`mwdata dashboard` as a user starts it (a real Streamlit server, its child reading the store
    through the configuration file), every page in headless Chromium without an exception."""
    _, pg_cfg = stores
    cfg = tmp_path / "mwdata.toml"
    cfg.write_text(f'store = "{pg_cfg.store}"\n[transform]\nhr_file = "{pg_cfg.transform.hr_file}"\n')
    url = running_dashboard(cfg)
    assert set(visit_every_page(browser, url, "postgres")) == set(views.PAGES)
