"""A writer (sync/build) can write the DuckDB file while the dashboard reads it, and vice versa."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import duckdb

from mwdata.app import queries
from mwdata.app.db import Store
from mwdata.app.filters import Filters

WRITER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, seconds = sys.argv[1], float(sys.argv[2])
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        con = duckdb.connect(path)          # fails with a lock error if any reader holds the file
        con.execute("BEGIN")
        con.execute("INSERT INTO mwdata.sync_runs (run_id, outcome) SELECT 'w' || ?, 'success'", [n])
        con.execute(
            "INSERT INTO analytics.moveworks__journey SELECT * REPLACE ('w' || ? || interaction_id AS interaction_id) "
            "FROM analytics.moveworks__journey LIMIT 50", [n])
        con.execute("COMMIT")
        if n % 3 == 0:
            con.execute("CHECKPOINT")
        con.close()
        n += 1
    print(n)
    """
)


def test_writer_never_blocked_while_dashboard_reads(mart_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    db.write_bytes(mart_store.read_bytes())
    store = Store(db, snapshot_dir=tmp_path / "snaps")
    f = Filters(date(2026, 4, 1), date(2026, 5, 31))
    before = int(queries.kpis(store, f, "analytics")["user_interactions"].iloc[0])
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), "6"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reads = 0
    seen = {before}
    while writer.poll() is None:
        for page in queries.PAGES.values():  # every page's queries, as a user clicking around would
            page(store, f, "analytics")
        seen.add(int(queries.kpis(store, f, "analytics")["user_interactions"].iloc[0]))
        reads += 1
    out, err = writer.communicate()
    assert writer.returncode == 0, err  # the writer never met a lock held by the dashboard
    writes = int(out)
    assert writes >= 5 and reads >= 2
    time.sleep(0.05)
    final = int(queries.kpis(store, f, "analytics")["user_interactions"].iloc[0])
    with duckdb.connect(str(db), read_only=True) as con:
        truth = con.execute(
            "SELECT count(*) FROM analytics.moveworks__journey "
            "WHERE CAST(created_time AS DATE) BETWEEN ? AND ? AND NOT is_test_user",
            [f.start, f.end],
        ).fetchone()[0]  # type: ignore[index]
    assert final == truth > before  # after the writer is done, the dashboard shows its last commit
    assert len(seen) >= 2  # and it saw intermediate states while the writer ran
    store.close()
    assert not list((tmp_path / "snaps").glob("*.duckdb"))


def test_dashboard_keeps_serving_while_a_writer_holds_the_file(mart_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "held.duckdb"
    db.write_bytes(mart_store.read_bytes())
    store = Store(db, snapshot_dir=tmp_path / "snaps")
    f = Filters(date(2026, 4, 1), date(2026, 5, 31))
    before = queries.kpis(store, f, "analytics")
    with duckdb.connect(str(db)) as writer:  # a long sync holding the write lock
        writer.execute("INSERT INTO mwdata.sync_runs (run_id, outcome) VALUES ('held', 'running')")
        again = queries.kpis(store, f, "analytics")  # no lock error: served from the snapshot
        assert again.equals(before)
    store.close()
