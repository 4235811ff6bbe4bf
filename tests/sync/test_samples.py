"""The real sample responses, served over loopback, ingest with every record present once and every
field preserved (typed columns agree with the JSON; `_record` equals the original)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from mwdata.catalog import ENTITIES
from mwdata.config import ApiConfig, Config, Secret, SyncConfig
from mwdata.sync.pipeline import sync
from mwdata.sync.runner import SyncOptions
from tests.sync.conftest import KEY, mini_odata


def test_real_samples_ingest_completely(scripted, samples_dir: Path, tmp_path: Path) -> None:
    data = {e.path: json.loads((samples_dir / f"{e.path}.json").read_text())["value"] for e in ENTITIES}
    srv = scripted(mini_odata(data))
    cfg = Config(
        store=str(tmp_path / "m.duckdb"),
        api=ApiConfig(base_url=srv.url, api_key=Secret(KEY), requests_per_minute=0, page_size=100),
        sync=SyncConfig(workers=2, batch_size=250, window_hours=168),
    )
    r = sync(cfg, SyncOptions(since=datetime(2025, 7, 1, tzinfo=UTC), until=datetime(2025, 9, 1, tzinfo=UTC)))
    assert r.ok, r.first_error()
    con = duckdb.connect(cfg.store, read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    for e in ENTITIES:
        raw = data[e.path]
        rows = con.execute(f"SELECT id, _record FROM raw.{e.table}").fetchall()
        assert len(rows) == len(raw) == len({x["id"] for x in raw}), e.path
        got = {i: json.loads(rec) for i, rec in rows}
        assert all(got[x["id"]] == x for x in raw), e.path  # every field, every value, unknown ones too
        # typed columns agree with the JSON
        for f in e.fields:
            if f.type == "timestamp":
                bad = con.execute(
                    f'SELECT count(*) FROM raw.{e.table} WHERE "{f.name}" IS DISTINCT FROM '
                    f"TRY_CAST(_record->>'{f.name}' AS TIMESTAMPTZ)"
                ).fetchone()
            else:
                bad = con.execute(
                    f'SELECT count(*) FROM raw.{e.table} WHERE "{f.name}"::VARCHAR IS DISTINCT FROM '
                    f"(_record->>'{f.name}')::{'JSON' if f.type == 'json' else 'VARCHAR'}::VARCHAR"
                ).fetchone()
            assert bad == (0,), (e.path, f.name)
    con.close()
