"""The Parquet lake (`file://` store): dlt writes versions as Parquet, the catalogue's views
`raw.<table>` hold the newest version per id — equal to the simulator's truth after every sync, with
faults, changing data, crashes and SIGKILL; `mwdata status`, `build`, `report` and `export` work on it."""

from __future__ import annotations

import dataclasses
import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from mwdata.catalog import entity
from mwdata.config import Config
from mwdata.errors import ConfigError, StoreError
from mwdata.store.base import Window
from mwdata.store.lake import CATALOG, LakeStore, lake_root
from mwdata.sync.pipeline import open_store
from tests.sync.conftest import run_cli
from tests.sync.test_kill import cli_env, kill_mid_run
from tests.sync.test_sync_simulator import ALL, assert_equal_truth, config, fast_sync

pytestmark = pytest.mark.slow(seconds=135)  # scheduled first (tests/conftest.py)


def lake_config(sim: Any, tmp_path: Path, **kw: Any) -> tuple[Config, Config]:
    """(the sync's config on the lake, a config naming its catalogue for the DuckDB-side checks)"""
    cfg = dataclasses.replace(
        config(sim, tmp_path, **{"window_hours": 24 * 7, **kw}), store=(tmp_path / "lake").as_uri()
    )
    return cfg, dataclasses.replace(cfg, store=str(tmp_path / "lake" / CATALOG))


def test_lake_backfill_incremental_faults_equal_truth(simulator, small_dataset, tmp_path) -> None:
    with simulator(small_dataset, drop_rate=0.05, fail_rate=0.05) as sim:
        cfg, cat = lake_config(sim, tmp_path)
        r = fast_sync(cfg, sim)
        assert r.ok, r.first_error()
        assert_equal_truth(cat, sim)
        for day in range(2):
            sim.advance(hours=24)
            sim.reemit("interactions", fraction=0.03, seed=day)
            sim.advance(seconds=1)
            assert fast_sync(cfg, sim).ok
            assert_equal_truth(cat, sim)
        files = list((tmp_path / "lake" / "raw" / "interactions").glob("*.parquet"))
        assert files and all(pq.ParquetFile(f).schema_arrow.field("_record") for f in files)
        # versions are kept in the files; the view shows one row per id
        con = duckdb.connect(cat.store, read_only=True)
        kept = con.execute("SELECT count(*) FROM read_parquet(?)", [[str(f) for f in files]]).fetchone()
        (view,) = con.execute("SELECT count(*) FROM raw.interactions").fetchone() or (0,)
        con.close()
        assert kept is not None and kept[0] > view > 0


def test_lake_crash_between_file_and_checkpoint(tmp_path, monkeypatch) -> None:
    e = entity("users")
    lo = datetime(2026, 11, 1, tzinfo=UTC)
    store = LakeStore(tmp_path / "lake", "file://lake")
    recs = [{"id": f"u{i}", "last_updated_time": "2026-11-01T10:00:00Z", "v": i} for i in range(20)]
    with store.lock():
        store.prepare()
        w = Window(e.path, lo, lo + timedelta(days=1))
        store.plan("r1", [w])
        store.start_run("r1", e, lo, "{}")
        real = store._load

        def dies_after_the_file(entity: Any, table: Any) -> list[str]:
            real(entity, table)
            raise StoreError("killed after the file, before its registration")

        monkeypatch.setattr(store, "_load", dies_after_the_file)
        with pytest.raises(StoreError):
            store.write(
                e, [store.encode(e, recs)], w, rows=20, last_id="u9", pages=1, done=False, run_id="r1"
            )
        assert len(list((tmp_path / "lake" / "raw" / "users").glob("*.parquet"))) == 1
        monkeypatch.setattr(store, "_load", real)
        store.prepare()  # the next run: the unregistered file is litter
        assert not list((tmp_path / "lake" / "raw" / "users").glob("*.parquet"))
        # registered, then killed before the checkpoint: the resumed window writes it again
        store.write(e, [store.encode(e, recs)], w, rows=20, last_id="u9", pages=1, done=False, run_id="r1")
        w2 = store.state(e).pending[0]
        newer = dict(recs[3], last_updated_time="2026-11-01T11:00:00Z", v=99)
        store.write(e, [store.encode(e, recs + [newer])], w2, rows=21, last_id="u9", pages=1, done=True,
                    run_id="r1")  # fmt: skip
        rows = dict(store.con.execute("SELECT id, _record FROM raw.users").fetchall())
        assert len(rows) == 20 and json.loads(rows["u3"])["v"] == 99
        assert store.state(e).watermark == lo + timedelta(days=1)
    store.close()


def test_lake_sigkill_status_and_build(simulator, small_dataset, tmp_path) -> None:
    rng = random.Random(int(os.environ.get("MWDATA_KILL_SEED", "20261130")))
    lake = (tmp_path / "lake").as_uri()
    with simulator(small_dataset, latency_s=0.003) as sim:
        env = {**cli_env(sim, tmp_path), "MWDATA_STORE": lake}
        killed = 0
        for _ in range(3):
            killed += kill_mid_run(sim, env, tmp_path, rng, pages=(1, 60))
        assert killed >= 2
        env = {**cli_env(sim, tmp_path, finish=True), "MWDATA_STORE": lake}
        done = run_cli("sync", env=env, cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr
        _, cat = lake_config(sim, tmp_path)
        assert_equal_truth(cat, sim, ALL)
        st = run_cli("--json", "status", env=env, cwd=tmp_path)
        assert st.returncode == 0, st.stderr
        doc = json.loads(st.stdout)
        assert doc["store"] == lake and all(e["rows"] > 0 for e in doc["entities"])
    b = run_cli("build", env=env, cwd=tmp_path, timeout=600)
    assert b.returncode == 0, b.stdout + b.stderr
    con = duckdb.connect(cat.store, read_only=True)
    (n,) = con.execute("SELECT count(*) FROM analytics.moveworks__conversations").fetchone() or (0,)
    (raw,) = con.execute("SELECT count(*) FROM raw.conversations").fetchone() or (0,)
    con.close()
    assert n == raw > 0
    # the report and the export read the lake's marts through a snapshot of its catalogue
    rep = run_cli("report", "--out", str(tmp_path / "report"), env=env, cwd=tmp_path, timeout=300)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert len(list((tmp_path / "report").glob("*/report.html"))) == 1  # in a folder named after its last day
    ex = run_cli("export", "--out", str(tmp_path / "export"), env=env, cwd=tmp_path, timeout=300)
    assert ex.returncode == 0, ex.stdout + ex.stderr
    exported = pq.read_table(tmp_path / "export" / "analytics" / "moveworks__conversations.parquet")
    assert exported.num_rows == n


def test_lake_locations() -> None:
    assert lake_root("file:///tmp/x/lake") == Path("/tmp/x/lake")
    with pytest.raises(ConfigError, match="not supported yet"):
        open_store(Config(store="s3://bucket/lake"))
    with pytest.raises(ConfigError, match="file:///path/to/lake"):
        lake_root("file://")
