"""Issue 16 items 1 and 11 through the CLI: answers that would have lost history silently.

- one entity refused (403) while others are permitted: the others are synced, the refused one is
  recorded as a failed run, the sync exits 4 naming it, and `status --check` reports it;
- an API that answers a window with no row where the store already holds rows: the window stays
  unfinished, the watermark does not move, the sync exits 5 and says why; the next good sync reads it;
- a server that caps the page size without a next link: every row is read.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.conftest import Reply, Request
from tests.duck import duck_query
from tests.sync.conftest import KEY, mini_odata, run_cli
from tests.sync.test_cli import recs


def env(url: str, tmp: Path) -> dict[str, str]:
    return {"MWDATA_BASE_URL": url, "MWDATA_API_KEY": KEY, "MWDATA_STORE": str(tmp / "m.duckdb")}


def query(tmp: Path, sql: str) -> list[tuple]:
    return duck_query(tmp / "m.duckdb", sql)


def test_a_missing_scope_syncs_the_permitted_entities_and_reports_the_refused_one(
    odata, tmp_path: Path
) -> None:
    srv = odata({"interactions": recs(3), "users": recs(2, "u")}, status={"plugin-calls": 403})
    e = env(srv.url, tmp_path)
    r = run_cli("sync", "-e", "interactions,plugin-calls,users", env=e, cwd=tmp_path)
    assert r.returncode == 4, r.stderr[-2000:]
    assert "plugin-calls" in r.stderr and "other entities were synced" in r.stderr
    assert "Traceback" not in r.stderr
    assert query(tmp_path, "SELECT count(*) FROM raw.interactions") == [(3,)]
    assert query(tmp_path, "SELECT count(*) FROM raw.users") == [(2,)]
    runs = dict(query(tmp_path, "SELECT entity, outcome FROM _mwdata.sync_runs"))
    assert runs == {"interactions": "success", "plugin-calls": "failed", "users": "success"}
    (msg,) = query(tmp_path, "SELECT message FROM _mwdata.sync_runs WHERE entity = 'plugin-calls'")[0]
    assert "403" in msg
    check = run_cli("status", "--check", env=e, cwd=tmp_path)
    assert check.returncode == 10, check.stdout + check.stderr
    assert "plugin-calls: the last sync failed" in check.stdout + check.stderr
    assert "Store bound to tenant: 127.0.0.1" in check.stdout
    doc = json.loads(run_cli("--json", "status", env=e, cwd=tmp_path).stdout)
    assert doc["tenant"] == "127.0.0.1"


def test_every_entity_refused_leaves_no_store(odata, tmp_path: Path) -> None:
    srv = odata({}, status={"interactions": 403, "users": 403})
    r = run_cli("sync", "-e", "interactions,users", env=env(srv.url, tmp_path), cwd=tmp_path)
    assert r.returncode == 4 and "'interactions'" in r.stderr and "'users'" in r.stderr
    assert not (tmp_path / "m.duckdb").exists()


def test_an_empty_answer_where_the_store_holds_rows_keeps_the_watermark(scripted, tmp_path: Path) -> None:
    rows = {"interactions": recs(6)}  # all within the last 36 h: inside the 72 h look-back
    empty = {"on": False}
    good = mini_odata(rows)

    def script(req: Request) -> Reply:
        if empty["on"] and "$filter" in req.query:  # the preflight ($top=1, no filter) still answers
            return Reply(body={"value": []})
        return good(req)

    srv = scripted(script)
    e = env(srv.url, tmp_path)
    assert run_cli("sync", "-e", "interactions", env=e, cwd=tmp_path).returncode == 0
    wm = "SELECT watermark FROM _mwdata.sync_state WHERE entity = 'interactions'"
    (before,) = query(tmp_path, wm)

    empty["on"] = True
    r = run_cli("sync", "-e", "interactions", env=e, cwd=tmp_path)
    assert r.returncode == 5, r.stderr[-2000:]
    assert "returned no rows" in r.stderr and "already holds" in r.stderr and "Traceback" not in r.stderr
    assert query(tmp_path, wm) == [before]  # not moved past rows it did not re-read
    assert query(tmp_path, "SELECT count(*) FROM raw.interactions") == [(6,)]
    pending = query(tmp_path, "SELECT count(*) FROM _mwdata.sync_windows WHERE NOT done")[0][0]
    assert pending >= 1
    check = run_cli("status", "--check", env=e, cwd=tmp_path)
    assert check.returncode == 10 and "returned no rows" in check.stdout + check.stderr

    empty["on"] = False
    assert run_cli("sync", "-e", "interactions", env=e, cwd=tmp_path).returncode == 0
    (after,) = query(tmp_path, wm)
    assert after[0] > before[0]
    assert query(tmp_path, "SELECT count(*) FROM _mwdata.sync_windows WHERE NOT done") == [(0,)]


def test_empty_windows_with_nothing_stored_are_closed(odata, tmp_path: Path) -> None:
    srv = odata({"interactions": recs(2)})
    e = env(srv.url, tmp_path)
    r = run_cli("--json", "sync", "-e", "interactions", env=e, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert query(tmp_path, "SELECT count(*) FROM _mwdata.sync_windows WHERE NOT done") == [(0,)]
    assert json.loads(r.stdout.strip().splitlines()[-1])["ok"]


def test_a_page_cap_without_next_link_loses_nothing(scripted, tmp_path: Path) -> None:
    good = mini_odata({"interactions": recs(25)})

    def capped(req: Request) -> Reply:  # 4 rows whatever $top says, never a next link
        if "$top" in req.query:
            req.query["$top"] = str(min(4, int(req.query["$top"])))
        return good(req)

    srv = scripted(capped)
    (tmp_path / "mwdata.toml").write_text("[sync]\nwindow_hours = 720\n")  # one window: 25 rows
    r = run_cli("sync", "-e", "interactions", env=env(srv.url, tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "caps pages silently" in r.stderr
    assert query(tmp_path, "SELECT count(DISTINCT id) FROM raw.interactions") == [(25,)]
