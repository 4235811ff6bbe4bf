"""A writer (sync/build) can write the DuckDB file while the dashboard reads it, and vice versa."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from mwdata.read import queries
from mwdata.read.filters import Filters
from mwdata.read.snapshot import Store
from tests.sync.conftest import mini_odata

MWDATA = str(Path(sys.executable).with_name("mwdata"))

WRITER = textwrap.dedent(
    """
    import os, sys, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    n = 0
    while n < 5 or not os.path.exists(stop):  # until the reader has seen enough, and at least 5 commits
        con = duckdb.connect(path)          # fails with a lock error if any reader holds the file
        con.execute("BEGIN")
        con.execute("INSERT INTO _mwdata.sync_runs (run_id, outcome) SELECT 'w' || ?, 'success'", [n])
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
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reads = 0
    seen = {before}
    deadline = time.monotonic() + 300
    # Rounds of reads while the writer commits, however slow the machine: no fixed time budget.
    while (reads < 2 or len(seen) < 2) and writer.poll() is None and time.monotonic() < deadline:
        for page in queries.PAGES.values():  # every page's queries, as a user clicking around would
            page(store, f, "analytics")
        seen.add(int(queries.kpis(store, f, "analytics")["user_interactions"].iloc[0]))
        reads += 1
    stop.touch()
    out, err = writer.communicate(timeout=120)
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
        writer.execute("INSERT INTO _mwdata.sync_runs (run_id, outcome) VALUES ('held', 'running')")
        again = queries.kpis(store, f, "analytics")  # no lock error: served from the snapshot
        assert again.equals(before)
    store.close()


def test_real_sync_writes_while_the_dashboard_reads(mart_store: Path, tmp_path: Path, scripted: Any) -> None:
    """`mwdata sync` (a separate process, DuckDB opened read-write) succeeds repeatedly while every
    page's queries run against the same file, and the dashboard then shows the synced rows."""
    now = datetime.now(UTC)
    db = tmp_path / "synced.duckdb"
    db.write_bytes(mart_store.read_bytes())
    records: dict[str, list[dict[str, str]]] = {"interactions": []}
    srv = scripted(mini_odata(records))
    (tmp_path / "mwdata.toml").write_text(
        f'store = "{db}"\n[api]\nbase_url = "{srv.url}"\nrequests_per_minute = 60000\n'
        f'[sync]\nstart = "{now - timedelta(days=2):%Y-%m-%dT%H:%M:%SZ}"\nentities = "interactions"\n'
    )
    store = Store(db, snapshot_dir=tmp_path / "snaps")
    f = Filters(date(2026, 4, 1), date(2026, 5, 31))
    reads = 0
    for batch in range(3):
        stamp = (now - timedelta(hours=10 - batch)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        records["interactions"] += [
            {
                "id": f"sync-{batch}-{i:04d}",
                "conversation_id": "c1",
                "user_id": "1",
                "actor": "user",
                "platform": "slack",
                "type": "INTERACTION_TYPE_FREE_TEXT",
                "detail": {"content": "hi"},
                "created_time": stamp,
                "last_updated_time": stamp,
            }  # fmt: skip
            for i in range(200)
        ]
        proc = subprocess.Popen(
            [MWDATA, "sync"],
            cwd=tmp_path,
            env={**os.environ, "MWDATA_API_KEY": "k", "MWDATA_CONFIG": str(tmp_path / "mwdata.toml")},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        while proc.poll() is None:
            for page in queries.PAGES.values():
                page(store, f, "analytics")
            reads += 1
        _, err = proc.communicate()
        assert proc.returncode == 0, err  # never "Could not set lock on file"
    assert reads >= 1
    synced = store.query("SELECT count(*) AS n FROM raw.interactions WHERE id LIKE 'sync-%'")["n"].iloc[0]
    assert synced == 600
    store.close()
