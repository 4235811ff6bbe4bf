"""`mwdata init / sync / status` as a user runs them (real subprocess, real loopback HTTP server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from tests.sync.conftest import KEY, run_cli

NOW = datetime.now(UTC)


def recs(n: int, prefix: str = "r") -> list[dict[str, str]]:
    out = []
    for i in range(n):
        lut = NOW - timedelta(hours=1 + i * 7)
        out.append(
            {
                "id": f"{prefix}{i:04d}",
                "last_updated_time": lut.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "user_id": "1",
            }
        )
    return out


def env(url: str, tmp: Path, **extra: str) -> dict[str, str]:
    """The default store name on purpose: a file named mwdata.duckdb once clashed with a schema."""
    return {
        "MWDATA_BASE_URL": url,
        "MWDATA_API_KEY": KEY,
        "MWDATA_STORE": str(tmp / "mwdata.duckdb"),
        **extra,
    }


def test_init_writes_a_loadable_commented_config(tmp_path: Path) -> None:
    r = run_cli("init", env={}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "mwdata.toml").read_text()
    assert "MWDATA_API_KEY" in text and "[sync]" in text
    again = run_cli("init", env={}, cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    # the written file is a valid configuration
    r = run_cli("status", env={}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_sync_then_status(odata, tmp_path: Path) -> None:
    srv = odata({"interactions": recs(50), "users": recs(5, "u")})
    e = env(srv.url, tmp_path)
    r = run_cli("--json", "sync", "--entities", "interactions,users", "--workers", "3", env=e, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["ok"] and {x["entity"]: x["rows"] for x in summary["entities"]} == {
        "interactions": 50,
        "users": 5,
    }
    con = duckdb.connect(str(tmp_path / "mwdata.duckdb"), read_only=True)
    assert con.execute("SELECT count(DISTINCT id), count(*) FROM raw.interactions").fetchone() == (50, 50)
    con.close()
    st = run_cli("--json", "status", env=e, cwd=tmp_path)
    assert st.returncode == 0, st.stderr
    data = json.loads(st.stdout)
    inter = next(x for x in data["entities"] if x["entity"] == "interactions")
    assert inter["rows"] == 50 and inter["last_run_outcome"] == "success" and inter["freshness_lag_hours"] < 1
    human = run_cli("status", env=e, cwd=tmp_path)
    assert "interactions" in human.stdout and "success" in human.stdout
    for out in (r.stdout, r.stderr, st.stdout, human.stdout):
        assert KEY not in out
    # the secret is nowhere in the store file either
    assert KEY.encode() not in (tmp_path / "mwdata.duckdb").read_bytes()


def test_bad_credentials_leave_no_store(odata, tmp_path: Path) -> None:
    srv = odata({}, status={"interactions": 401})
    r = run_cli("sync", "-e", "interactions", env=env(srv.url, tmp_path), cwd=tmp_path)
    assert r.returncode == 3 and "401" in r.stderr and KEY not in r.stderr + r.stdout
    assert not (tmp_path / "mwdata.duckdb").exists() and not (tmp_path / "mwdata.duckdb.lock").exists()


def test_missing_scope_names_the_entity(odata, tmp_path: Path) -> None:
    srv = odata({"interactions": recs(3)}, status={"plugin-calls": 403})
    r = run_cli("sync", "-e", "plugin-calls", env=env(srv.url, tmp_path), cwd=tmp_path)
    assert r.returncode == 4 and "plugin-calls" in r.stderr and "Plugin Calls" in r.stderr
    assert not (tmp_path / "mwdata.duckdb").exists()  # nothing permitted: nothing written


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    r = run_cli("sync", env={"MWDATA_STORE": str(tmp_path / "mwdata.duckdb")}, cwd=tmp_path)
    assert r.returncode == 2 and "MWDATA_API_KEY" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("sync", "-e", "tickets", env={"MWDATA_API_KEY": "x"}, cwd=tmp_path)
    assert r.returncode == 2 and "unknown entity" in r.stderr
    r = run_cli("sync", "--since", "yesterday", env={"MWDATA_API_KEY": "x"}, cwd=tmp_path)
    assert r.returncode == 2 and "--since" in r.stderr
    assert not (tmp_path / "mwdata.duckdb").exists()


def test_dry_run_writes_nothing(odata, tmp_path: Path) -> None:
    srv = odata({"interactions": recs(5)})
    r = run_cli("--json", "sync", "--dry-run", "-e", "interactions", env=env(srv.url, tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)["plan"][0]
    assert plan["entity"] == "interactions" and plan["windows"] == 31
    assert not (tmp_path / "mwdata.duckdb").exists()


def test_status_warns_loudly_before_retention_loss(odata, tmp_path: Path) -> None:
    srv = odata({"users": recs(2, "u")})
    e = env(srv.url, tmp_path)
    assert run_cli("sync", "-e", "users", env=e, cwd=tmp_path).returncode == 0
    con = duckdb.connect(str(tmp_path / "mwdata.duckdb"))
    con.execute("UPDATE _mwdata.sync_runs SET ended_at = ended_at - INTERVAL 25 DAY")
    con.execute("UPDATE _mwdata.sync_state SET watermark = watermark - INTERVAL 25 DAY")
    con.close()
    (tmp_path / "mwdata.toml").write_text('[sync]\nentities = ["users"]\n')
    r = run_cli("status", env=e, cwd=tmp_path)
    assert r.returncode == 0 and "ABOUT TO BE LOST" in r.stdout.replace("\n", " ")
    r = run_cli("status", "--check", env=e, cwd=tmp_path)
    assert r.returncode == 10
