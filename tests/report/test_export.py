"""`mwdata export`: Parquet (month-partitioned for large tables) and CSV, read back and compared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from mwdata.errors import MwdataError
from mwdata.read.export import export_store

MWDATA = str(Path(sys.executable).with_name("mwdata"))


def _count(path: str) -> int:
    return int(duckdb.execute(f"SELECT count(*) FROM {path}").fetchall()[0][0])


def test_parquet_export_partitions_large_tables(mart_store: Path, tmp_path: Path) -> None:
    done = export_store(mart_store, tmp_path, "parquet", ("analytics", "raw"), partition_threshold=5000)
    by = {(t.schema, t.table): t for t in done}
    with duckdb.connect(str(mart_store), read_only=True) as con:
        journey_rows = con.execute("SELECT count(*) FROM analytics.moveworks__journey").fetchone()[0]  # type: ignore[index]
        months = con.execute(
            "SELECT count(DISTINCT strftime(created_time, '%Y-%m')) FROM analytics.moveworks__journey"
        ).fetchone()[0]  # type: ignore[index]
    j = by[("analytics", "moveworks__journey")]
    assert j.partitioned and j.rows == journey_rows
    parts = sorted(p.name for p in j.path.iterdir())
    assert len(parts) == months and all(p.startswith("month=") for p in parts)
    glob = f"'{j.path}/**/*.parquet'"
    assert _count(f"read_parquet({glob}, hive_partitioning = true)") == journey_rows
    small = by[("analytics", "moveworks__adoption_by_segment")]
    assert not small.partitioned and small.path.suffix == ".parquet"
    assert ("raw", "interactions") in by
    # JSON columns travel as text.
    raw = by[("raw", "interactions")]
    files = list(raw.path.rglob("*.parquet")) if raw.partitioned else [raw.path]
    types = {
        r[0]: r[1] for r in duckdb.execute(f"DESCRIBE SELECT * FROM read_parquet('{files[0]}')").fetchall()
    }
    assert types["_record"] == "VARCHAR"


def test_csv_export_matches_the_store(mart_store: Path, tmp_path: Path) -> None:
    done = export_store(mart_store, tmp_path, "csv", ("analytics",))
    for t in done:
        assert t.path.suffix == ".csv" and not t.partitioned
        assert _count(f"read_csv('{t.path}')") == t.rows


def test_bad_format_and_empty_schema(mart_store: Path, tmp_path: Path) -> None:
    with pytest.raises(MwdataError, match="unknown export format"):
        export_store(mart_store, tmp_path, "xlsx")
    with pytest.raises(MwdataError, match="no tables"):
        export_store(mart_store, tmp_path, "csv", ("nothing_here",))


def test_cli_export(mart_store: Path, tmp_path: Path) -> None:
    env = {"MWDATA_STORE": str(mart_store), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run(
        [MWDATA, "export", "--format", "csv", "--out", str(tmp_path / "x"), "--no-raw"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "x" / "analytics" / "moveworks__journey.csv").exists()
    bad = subprocess.run(
        [MWDATA, "export", "--format", "xml"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1 and "unknown export format" in bad.stderr and "Traceback" not in bad.stderr
