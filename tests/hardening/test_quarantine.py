"""Issue 16 item 5: a record the models cannot use (a created_time that is no timestamp, a null
required field) is quarantined, not a failed mart test: served by a real OData server and synced,
it stays in raw, is listed in moveworks__quarantine and left out of the marts; a warning names its
id; `mwdata check` exits 0. Epoch milliseconds / seconds and RFC 1123 dates are parsed instead."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mwdata.catalog import ENTITIES
from mwdata.config import ApiConfig, Config, Secret, SyncConfig
from mwdata.sync.pipeline import sync
from mwdata.sync.runner import SyncOptions
from mwdata.transform import build, check
from tests.duck import duck_query
from tests.sync.conftest import KEY, mini_odata, run_cli

NOT_A_TIME = "31/12/2025 10:00"
PARSED = {  # created_time as sent -> as the marts must show it (UTC)
    "q_millis": (1754007115444, "2025-08-01 00:11:55.444+00"),
    "q_millis_text": ("1754007115444", "2025-08-01 00:11:55.444+00"),
    "q_seconds": ("1754007115", "2025-08-01 00:11:55+00"),
    "q_rfc1123": ("Fri, 01 Aug 2025 00:11:55 GMT", "2025-08-01 00:11:55+00"),
}


def _data(samples_dir: Path) -> dict[str, list[dict[str, Any]]]:
    data = {e.path: json.loads((samples_dir / f"{e.path}.json").read_text())["value"] for e in ENTITIES}
    template = data["interactions"][0]
    for iid, (sent, _) in [*PARSED.items(), ("q_bad_time", (NOT_A_TIME, None))]:
        data["interactions"].append({**copy.deepcopy(template), "id": iid, "created_time": sent})
    conv = data["conversations"][0]
    data["conversations"].append({**conv, "id": "q_conv_bad", "created_time": "yesterday"})
    data["conversations"].append({**conv, "id": "q_conv_no_user", "user_id": None})
    return data


@pytest.fixture(scope="module")
def synced(samples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Any, Any]:
    from tests.api.conftest import ScriptedServer

    srv = ScriptedServer(mini_odata(_data(samples_dir)))
    tmp = tmp_path_factory.mktemp("quarantine")
    try:
        cfg = Config(
            store=str(tmp / "s.duckdb"),
            api=ApiConfig(base_url=srv.url, api_key=Secret(KEY), requests_per_minute=0, page_size=100),
            sync=SyncConfig(workers=2, batch_size=250, window_hours=168),
        )
        r = sync(
            cfg, SyncOptions(since=datetime(2025, 7, 1, tzinfo=UTC), until=datetime(2025, 9, 1, tzinfo=UTC))
        )
        assert r.ok, r.first_error()
    finally:
        srv.close()
    built = build(cfg)
    checked = check(cfg)  # raises DataQualityError on an error-severity failure
    return cfg, built, checked


def _q(cfg: Config, sql: str) -> list[Any]:
    return duck_query(cfg.store, sql)


def test_unusable_records_are_quarantined_not_fatal(synced: tuple[Config, Any, Any]) -> None:
    cfg, built, checked = synced
    for result in (built, checked):
        assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
        (warn,) = [r for r in result.warnings if r.name.startswith("quarantined_records")]
        assert warn.failures == 3
        assert "3 raw record(s) quarantined" in warn.message
        for rid in ("q_bad_time", "q_conv_bad", "q_conv_no_user"):
            assert rid in warn.message
    assert _q(
        cfg,
        "SELECT entity, record_id, reason, created_time_raw FROM analytics.moveworks__quarantine ORDER BY 2",
    ) == [
        ("interactions", "q_bad_time", "created_time is not a timestamp", NOT_A_TIME),
        ("conversations", "q_conv_bad", "created_time is not a timestamp", "yesterday"),
        ("conversations", "q_conv_no_user", "user_id is missing", "2025-08-01T16:45:27.511Z"),
    ]
    # kept in raw (the API will not give them back), left out of staging and the marts
    assert _q(
        cfg, "SELECT count(*) FROM raw.interactions WHERE id = 'q_bad_time' AND created_time IS NULL"
    ) == [(1,)]
    assert _q(
        cfg, "SELECT count(*) FROM analytics.moveworks__journey WHERE interaction_id = 'q_bad_time'"
    ) == [(0,)]
    assert _q(
        cfg, "SELECT count(*) FROM analytics.moveworks__conversations WHERE conversation_id LIKE 'q_conv%'"
    ) == [(0,)]
    assert _q(cfg, "SELECT count(*) FROM analytics.moveworks__conversations WHERE date_day IS NULL") == [(0,)]
    stored = _q(
        cfg,
        "SELECT status, message FROM _mwdata.check_results WHERE test_name LIKE 'quarantined_records%' "
        "ORDER BY run_at DESC LIMIT 1",
    )
    assert stored[0][0] == "warn" and "q_conv_bad" in stored[0][1]


def test_epoch_and_rfc1123_times_are_parsed(synced: tuple[Config, Any, Any]) -> None:
    cfg, _, _ = synced
    raw = dict(_q(cfg, "SELECT id, created_time FROM raw.interactions WHERE id LIKE 'q\\_%' ESCAPE '\\'"))
    assert {k for k, v in raw.items() if v is None} >= {
        "q_bad_time",
        "q_rfc1123",
        "q_seconds",
    }  # the store's NULLs
    got = dict(
        _q(
            cfg,
            "SELECT interaction_id, CAST(created_time AS VARCHAR) FROM analytics.moveworks__journey "
            "WHERE interaction_id LIKE 'q\\_%' ESCAPE '\\'",
        )
    )
    assert got == {iid: shown for iid, (_, shown) in PARSED.items()}


def test_cli_check_exits_0_with_the_quarantine_warning(
    synced: tuple[Config, Any, Any], tmp_path: Path
) -> None:
    cfg, _, _ = synced
    r = run_cli("check", env={"MWDATA_STORE": cfg.store}, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    out = r.stdout + r.stderr
    assert "quarantined" in out and "q_bad_time" in out and "Traceback" not in out
