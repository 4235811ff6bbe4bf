"""The dbt project builds and tests on Apache Spark, and every relation it builds there equals the one
it builds on DuckDB, row for row.

Spark runs in this process: a local SparkSession (its JVM a child of pytest, stopped at the end) with a
temporary warehouse and Derby metastore, in UTC, reached by dbt-spark's `method: session`. The raw
tables are copied from a DuckDB store of a small simulated tenant, in the Databricks store's raw
contract (JSON columns as STRING); a few records are planted that exercise the timestamp parsing, the
quarantine, non-array `external_ids` and the HR match by external id. The Spark profile is built here:
mwdata has no Spark store (a Databricks store builds through dbt-databricks, whose macros dispatch to
the spark__ ones). Install with `pip install 'mwdata[spark]'`; needs a Java 17 runtime.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from mwdata.catalog import ENTITIES
from mwdata.config import Config, TransformConfig
from mwdata.simulator import GeneratorConfig, generate
from mwdata.transform import build
from mwdata.transform.parse_cache import project_copy
from mwdata.transform.project import HR_TABLE, HR_TABLE_COLUMNS
from mwdata.transform.runner import RunResult, _node_results
from tests.transform.fixtures import load_duckdb

_MISSING = [m for m in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.slow(seconds=130),
    pytest.mark.spark,
    pytest.mark.skipif(
        bool(_MISSING), reason=f"{', '.join(_MISSING)} not installed (pip install 'mwdata[spark]')"
    ),
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime on PATH (Spark needs one)"),
]

# A short-lived test JVM: the C1 compiler only, the serial GC and no whole-stage code generation (the
# queries are tiny) cut its CPU time from 155 s to 100 s (a test run on this 2-core machine). C1 alone
# reserves a 48 MB code cache, which the project fills (the JVM then stops compiling and the py4j
# gateway died in CI), so the cache is sized as tiered compilation would size it.
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m -XX:+UseSerialGC"
SCHEMAS = ("analytics", "analytics_staging", "analytics_intermediate", "analytics_seeds")
SPARK_PROFILE = {
    "type": "spark",
    "method": "session",
    "host": "localhost",  # required by dbt-spark, unused by the session method
    "schema": "analytics",
    "threads": 2,
    "server_side_parameters": {"spark.sql.session.timeZone": "UTC"},
}
# Interactions whose created_time the store could not type: the value left in _record (JSON).
PLANTED_TIMES = (
    '"Fri, 01 Aug 2025 00:11:55 GMT"',
    "1754007115444",
    '"1754007115"',
    '"garbage"',  # quarantined
    '"Sat, 31 Feb 2026 00:00:00 GMT"',  # quarantined
)
NOT_ARRAYS = ('{"source": "SNOW", "external_id": "x"}', '"U123"', "null")  # external_ids: no rows


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunResult]:
    """A DuckDB store of 60 users over 10 days, with the planted records, built with an HR file."""
    d = tmp_path_factory.mktemp("spark-duck")
    ds = generate(GeneratorConfig(seed=3, users=60, days=10))
    db = d / "s.duckdb"
    load_duckdb(db, ds.records)
    with duckdb.connect(str(db)) as con:
        ids = [i for (i,) in con.execute("SELECT id FROM raw.interactions ORDER BY id LIMIT 5").fetchall()]
        for iid, sent in zip(ids, PLANTED_TIMES, strict=True):
            con.execute(
                "UPDATE raw.interactions SET created_time = NULL, "
                "_record = json_merge_patch(_record, ?) WHERE id = ?",
                [f'{{"created_time": {sent}}}', iid],
            )
        con.execute(
            "UPDATE raw.plugin_calls SET plugin_name = NULL WHERE id = (SELECT min(id) FROM raw.plugin_calls)"
        )
        users = [u for (u,) in con.execute("SELECT id FROM raw.users ORDER BY id LIMIT 3").fetchall()]
        for uid, value in zip(users, NOT_ARRAYS, strict=True):
            con.execute("UPDATE raw.users SET external_ids = ? WHERE id = ?", [value, uid])
    hr = ds.write_hr_csv(d / "hr.csv")
    with hr.open() as f:
        rows = list(csv.DictReader(f))
    for r in rows:  # an HR row with an external id but another e-mail: matched by the external id
        if r["external_id"]:
            r["email"] = "left." + r["email"]
    with hr.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    result = build(Config(store=str(db), transform=TransformConfig(hr_file=str(hr))))
    assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
    return db, result


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local SparkSession (UTC) with its warehouse and metastore in a temporary directory. Stopped
    with its JVM at the end: a JVM outliving the session fails the suite."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    d = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mwdata-test")
        .config("spark.sql.warehouse.dir", str(d / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={d / 'metastore_db'};create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={d} {JVM_OPTIONS}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .enableHiveSupport()
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    gateway = SparkContext._gateway
    try:
        yield session
    finally:
        session.stop()
        if gateway is not None:
            gateway.shutdown()
            proc = gateway.proc
            if proc is not None:
                proc.stdin.close()  # the JVM exits when its stdin closes
                try:
                    proc.wait(timeout=30)
                except Exception:
                    proc.kill()
                    proc.wait(timeout=10)
        SparkContext._gateway = None
        SparkContext._jvm = None


def _copy_raw(db: Path, spark: Any) -> None:
    """The raw tables into Spark, created as a Databricks store creates them."""
    from mwdata.store.dlt import DIALECTS

    d = DIALECTS["databricks"]
    spark.sql("CREATE DATABASE IF NOT EXISTS raw")
    hr_cols = ", ".join(f"{c} {'BOOLEAN' if c == 'is_test_user' else 'STRING'}" for c in HR_TABLE_COLUMNS)
    tables = [(d.create_raw_sql(e), e.table) for e in ENTITIES]
    tables.append((f"CREATE TABLE raw.{HR_TABLE} ({hr_cols})", HR_TABLE))
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        for ddl, table in tables:
            spark.sql(ddl)
            schema = spark.table(f"raw.{table}").schema
            cols = ", ".join(
                f'CAST("{f.name}" AS VARCHAR)' if f.dataType.simpleString() == "string" else f'"{f.name}"'
                for f in schema.fields
            )
            rows = con.execute(f'SELECT {cols} FROM raw."{table}"').fetchall()
            spark.createDataFrame(rows, schema).write.insertInto(f"raw.{table}")


def _dbt_build(tmp: Path) -> tuple[RunResult, float]:
    from dbt.cli.main import dbtRunner

    profiles = tmp / "profiles"
    profiles.mkdir()
    doc = {"mwdata": {"target": "spark", "outputs": {"spark": SPARK_PROFILE}}}
    (profiles / "profiles.yml").write_text(yaml.safe_dump(doc))
    start = time.monotonic()
    res = dbtRunner().invoke(
        [
            "--quiet",
            "--no-use-colors",
            "--no-write-json",
            "--log-path",
            str(tmp / "logs"),
            "build",
            "--project-dir",
            str(project_copy()),
            "--profiles-dir",
            str(profiles),
            "--target-path",
            str(tmp / "target"),
        ]  # fmt: skip
    )
    seconds = time.monotonic() - start
    assert res.exception is None or getattr(res.result, "results", None), res.exception
    return RunResult(command="build", results=_node_results(res)), seconds


def _norm(v: Any) -> Any:
    """A value comparable across engines: timestamps as UTC instants, every number a float."""
    if isinstance(v, datetime):  # PySpark gives naive local times, which astimezone reads as such
        return v.astimezone(UTC)
    if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
        return float(v)
    return v


def _rows(rows: Any) -> list[tuple[Any, ...]]:
    """Normalised rows in an order that does not depend on the last digits of a float."""
    out = [tuple(_norm(v) for v in r) for r in rows]
    return sorted(out, key=lambda r: repr(tuple(f"{v:.6g}" if isinstance(v, float) else v for v in r)))


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal rows; floats within 1e-9 relative or 1e-6 absolute (DuckDB's epoch() is a double of
    seconds since 1970, so a difference of two instants is off by up to ~1e-7 s there)."""
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6)
        if isinstance(x, float) and isinstance(y, float)
        else x == y
        for x, y in zip(a, b, strict=True)
    )


def test_project_builds_on_spark_as_on_duckdb(
    duck: tuple[Path, RunResult], spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, on_duckdb = duck
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    _copy_raw(db, spark)
    day_before = datetime.now(UTC).date()
    result, seconds = _dbt_build(tmp_path)
    print(f"dbt build on Spark: {seconds:.1f} s, {result.summary}")
    assert not result.errors, [(r.name, r.message[:500]) for r in result.errors]

    # the same nodes with the same outcomes (the planted records: one quarantine warning on each)
    def outcome(res: RunResult) -> list[tuple[Any, ...]]:
        kept = ("model", "seed", "test")  # dbt build also lists the saved queries (no-ops)
        return sorted(
            (r.resource_type, r.name, r.status, r.failures) for r in res.results if r.resource_type in kept
        )

    assert outcome(result) == outcome(on_duckdb)
    assert {"model", "seed", "test"} <= {r.resource_type for r in result.results}
    assert any(r.name.startswith("quarantined_records") and r.status == "warn" for r in result.results)

    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        relations = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            f"WHERE table_schema IN ({', '.join(repr(s) for s in SCHEMAS)}) ORDER BY 1, 2"
        ).fetchall()
        on_spark = sorted((s, t.name) for s in SCHEMAS for t in spark.catalog.listTables(s))
        assert on_spark == relations
        assert len([s for s, _ in relations if s == "analytics"]) == 10  # 9 marts and the time spine
        for schema, table in relations:
            name = f"{schema}.{table}"
            want = con.execute(f"SELECT * FROM {name}")
            columns = [c[0] for c in want.description]
            got = spark.table(name)
            assert got.columns == columns, name
            expected, actual = _rows(want.fetchall()), _rows(got.collect())
            if table == "moveworks__adoption_by_segment":  # as_of_day: the UTC day of each build
                at = columns.index("as_of_day")
                assert {r[at] for r in actual} <= {day_before, datetime.now(UTC).date()}
                expected, actual = ([r[:at] + r[at + 1 :] for r in rows] for rows in (expected, actual))
            assert len(actual) == len(expected), (name, len(actual), len(expected))
            differ = [(e, a) for e, a in zip(expected, actual, strict=True) if not _same(e, a)]
            assert not differ, (name, "rows differ (DuckDB, Spark):", differ[:3])
        # the planted records took the paths they were planted for, on both engines
        quarantined = con.execute(
            "SELECT entity, reason FROM analytics.moveworks__quarantine ORDER BY 1, 2"
        ).fetchall()
        assert quarantined == [
            ("interactions", "created_time is not a timestamp"),
            ("interactions", "created_time is not a timestamp"),
            ("plugin_calls", "plugin_name is missing"),
        ]
        matches = dict(
            con.execute(
                "SELECT hr_match, count(*) FROM analytics_intermediate.int_moveworks__users_enriched GROUP BY 1"
            ).fetchall()
        )
        assert matches.get("external_id", 0) > 0 and matches.get("email", 0) > 0, matches
        (parsed,) = con.execute(
            "SELECT count(*) FROM analytics_staging.stg_moveworks__interactions "
            "WHERE created_time IN ('2025-08-01 00:11:55+00', '2025-08-01 00:11:55.444+00')"
        ).fetchone()  # type: ignore[misc]
        assert parsed == 3
