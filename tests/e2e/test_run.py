"""`mwdata run`: one cron-friendly command whose exit code is the first failing step's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.sync.conftest import KEY, mini_odata, run_cli

NOW = datetime.now(UTC)
STAMP = (NOW - timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
RECORD = {
    "id": "c1", "user_id": "1", "created_time": STAMP, "last_updated_time": STAMP, "route": "DM",
    "primary_domain": "IT",
}  # fmt: skip


def _errors(stderr: str) -> list[dict[str, Any]]:
    out = []
    for line in stderr.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def test_unreachable_api_fails_at_sync_with_its_code(tmp_path: Path) -> None:
    (tmp_path / "mwdata.toml").write_text(
        f'store = "{tmp_path / "s.duckdb"}"\n[api]\nbase_url = "http://127.0.0.1:9"\nmax_retries = 0\n'
    )
    r = run_cli("--json", "run", env={"MWDATA_API_KEY": KEY}, cwd=tmp_path)
    logs = _errors(r.stderr)
    final = logs[-1]
    assert final["error"] == "ApiError" and r.returncode == final["exit_code"] == 5
    assert any(x.get("step") == "sync" and x["level"] == "error" for x in logs)
    assert KEY not in r.stderr + r.stdout


def test_bad_key_fails_at_sync_with_auth_code(tmp_path: Path, scripted: Any) -> None:
    from tests.api.conftest import Reply

    srv = scripted(lambda req: Reply(401, {"code": "UNAUTHENTICATED", "message": "bad key"}))
    (tmp_path / "mwdata.toml").write_text(
        f'store = "{tmp_path / "s.duckdb"}"\n[api]\nbase_url = "{srv.url}"\n'
    )
    r = run_cli("--json", "run", env={"MWDATA_API_KEY": KEY}, cwd=tmp_path)
    assert r.returncode == 3 and _errors(r.stderr)[-1]["error"] == "AuthError"
    assert KEY not in r.stderr + r.stdout


def test_sync_succeeds_then_the_first_failing_step_sets_the_code(tmp_path: Path, scripted: Any) -> None:
    srv = scripted(mini_odata({"conversations": [RECORD]}))
    (tmp_path / "mwdata.toml").write_text(
        f'store = "{tmp_path / "s.duckdb"}"\n[api]\nbase_url = "{srv.url}"\n'
        f'[sync]\nstart = "{(NOW - timedelta(days=2)):%Y-%m-%dT%H:%M:%SZ}"\n'
    )
    r = run_cli("--json", "run", env={"MWDATA_API_KEY": KEY}, cwd=tmp_path, timeout=300)
    logs = _errors(r.stderr)
    done = [x["step"] for x in logs if x.get("step") and x["level"] == "info"]
    assert done[0] == "sync"
    if r.returncode == 0:  # the whole chain ran (transform present and happy with one conversation)
        assert done == ["sync", "build", "check", "report"]
    else:
        failed = [x["step"] for x in logs if x.get("step") and x["level"] == "error"]
        assert len(failed) == 1 and failed[0] != "sync"
        assert r.returncode == logs[-1]["exit_code"] > 1  # a distinct MwdataError code, not a crash
        assert "Traceback" not in r.stderr
