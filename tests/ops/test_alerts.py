"""`mwdata run` alerts: a real local webhook receiver gets one JSON alert on a failing step, a store
about to lose data, or activity data that stopped arriving; a dead webhook never changes the exit
code; no secret reaches the alert or the logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mwdata import ops
from mwdata.config import AlertConfig, Config, Secret
from mwdata.store.duckdb import EntityStatus, StoreStatus
from tests.api.conftest import Reply
from tests.ops.conftest import TOKEN, Receiver
from tests.sync.conftest import KEY, mini_odata, run_cli


def _config(tmp_path: Path, base_url: str) -> None:
    """No retries, unpaced, one 30-day window: failures and syncs are quick."""
    lines = [
        f'store = "{tmp_path / "mwdata.duckdb"}"',
        "[api]",
        f'base_url = "{base_url}"',
        "max_retries = 0",
        "requests_per_minute = 0",
        "[sync]",
        "window_hours = 720",
    ]
    (tmp_path / "mwdata.toml").write_text("\n".join(lines) + "\n")


def _env(hook: Receiver) -> dict[str, str]:
    return {"MWDATA_API_KEY": KEY, "MWDATA_ALERT_WEBHOOK": hook.url}


def _no_secret(*texts: str) -> None:
    for t in texts:
        assert KEY not in t and TOKEN not in t


def test_failing_step_alerts_with_its_code(tmp_path: Path, receiver: Any) -> None:
    hook = receiver()
    _config(tmp_path, "http://127.0.0.1:9")  # nothing listens there
    r = run_cli("--json", "run", env=_env(hook), cwd=tmp_path)
    assert r.returncode == 5, r.stderr[-2000:]
    [alert] = hook.alerts
    assert alert["kind"] == "failure" and alert["step"] == "sync" and alert["exit_code"] == 5
    assert alert["severity"] == "critical" and alert["error"] == "ApiError"
    assert "failed at sync" in alert["text"] and alert["findings"][0]["kind"] == ops.NEVER
    _no_secret(json.dumps(alert), r.stdout, r.stderr)


def _synced_then_aged(tmp_path: Path, scripted: Any, days: float) -> None:
    """A real sync into the store, then its state made `days` older (as if no sync ran since)."""
    stamp = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    rec = {"id": "c1", "user_id": "1", "created_time": stamp, "last_updated_time": stamp}
    srv = scripted(mini_odata({"conversations": [rec], "interactions": [dict(rec, id="i1")]}))
    _config(tmp_path, srv.url)
    r = run_cli("sync", env={"MWDATA_API_KEY": KEY}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with duckdb.connect(str(tmp_path / "mwdata.duckdb")) as con:
        con.execute(f"UPDATE _mwdata.sync_runs SET ended_at = ended_at - INTERVAL {int(days * 24)} HOUR")
        con.execute(f"UPDATE _mwdata.sync_state SET watermark = watermark - INTERVAL {int(days * 24)} HOUR")


def test_retention_threat_is_in_the_failure_alert(tmp_path: Path, scripted: Any, receiver: Any) -> None:
    _synced_then_aged(tmp_path, scripted, days=25)
    down = scripted(lambda req: Reply(401, {"code": "UNAUTHENTICATED", "message": "bad key"}))
    _config(tmp_path, down.url)
    hook = receiver()
    r = run_cli("--json", "run", env=_env(hook), cwd=tmp_path)
    assert r.returncode == 3, r.stderr[-2000:]
    [alert] = hook.alerts
    kinds = {f["kind"] for f in alert["findings"]}
    assert alert["kind"] == "failure" and kinds == {ops.RETENTION}
    assert "DATA IS ABOUT TO BE LOST" in alert["text"] and alert["severity"] == "critical"
    _no_secret(json.dumps(alert), r.stdout, r.stderr)


def test_dead_webhook_keeps_the_exit_code(tmp_path: Path, receiver: Any) -> None:
    hook = receiver(status=500)
    _config(tmp_path, "http://127.0.0.1:9")
    r = run_cli("--json", "run", env=_env(hook), cwd=tmp_path, timeout=120)
    assert r.returncode == 5
    assert len(hook.alerts) == 3  # retried, then given up
    assert "ALERT NOT DELIVERED" in r.stderr
    _no_secret(r.stdout, r.stderr)


def test_status_check_shares_the_findings(tmp_path: Path, scripted: Any) -> None:
    _synced_then_aged(tmp_path, scripted, days=3)
    r = run_cli("--json", "status", "--check", env={"MWDATA_API_KEY": KEY}, cwd=tmp_path)
    assert r.returncode == 10
    warnings = json.loads(r.stdout)["warnings"]
    assert warnings and all("no successful sync for" in w for w in warnings)


# -- findings over a store status, one per kind ----------------------------------------------------
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def _status(entity: str, last_success: datetime | None, newest: datetime | None) -> StoreStatus:
    e = EntityStatus(
        entity=entity, table=entity.replace("-", "_"), rows=10, watermark=last_success, newest_record=newest,
        last_run_id="r", last_run_started=last_success, last_run_ended=last_success,
        last_run_outcome="success", last_run_rows=10, last_run_message=None, last_success=last_success,
        pending_windows=0,
    )  # fmt: skip
    return StoreStatus("s.duckdb", True, (e,), ())


@pytest.mark.parametrize(
    ("entity", "success_age_h", "newest_age_h", "kind"),
    [
        ("interactions", 1, 5, None),  # healthy
        ("interactions", None, None, ops.NEVER),
        ("interactions", 24 * 24, 24 * 24, ops.RETENTION),
        ("interactions", 60, 60, ops.FRESHNESS),
        ("interactions", 1, 72, ops.STALLED),  # syncs succeed, nothing new arrives
        ("users", 1, 72, None),  # a quiet roster is normal
    ],
)
def test_findings(
    entity: str, success_age_h: float | None, newest_age_h: float | None, kind: str | None
) -> None:
    def ago(h: float | None) -> datetime | None:
        return None if h is None else NOW - timedelta(hours=h)

    cfg = Config(alerts=AlertConfig(webhook_url=Secret("http://x"), max_freshness_hours=48))
    got = ops.findings(cfg, _status(entity, ago(success_age_h), ago(newest_age_h)), NOW)
    assert [f.kind for f in got] == ([kind] if kind else [])
    payload = ops.alert_payload(cfg, problems=got)
    assert payload["exit_code"] == (10 if kind else 0) and "http://x" not in json.dumps(payload)
