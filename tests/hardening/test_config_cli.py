"""Issue 16 items 1 (settings), 4 (CLI boundary), 9 (messages), 10 (secrets and transport) and the base
URL of issue 12, reproduced as a user meets them: the real `mwdata` CLI in a subprocess, exit code,
message, and no traceback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mwdata.config import load_config
from mwdata.errors import ConfigError
from mwdata.ops import send_alert

MWDATA = str(Path(sys.executable).parent / "mwdata")


def mwdata(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a clean MWDATA_* environment and Rich's default (narrow, non-tty) width."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("MWDATA_") and k != "COLUMNS"}
    full.update(env or {})
    return subprocess.run([MWDATA, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=120)


def toml(tmp_path: Path, text: str) -> Path:
    (tmp_path / "mwdata.toml").write_text(f'store = "{tmp_path / "s.duckdb"}"\n' + text)
    return tmp_path / "mwdata.toml"


def clean_failure(r: subprocess.CompletedProcess[str], code: int) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stdout + r.stderr
    return r.stderr


# ---- item 1: a bad numeric setting is refused before anything is read or written ----


@pytest.mark.parametrize(
    "section, text, message",
    [
        ("api", "page_size = 0", "[api] page_size must be an integer from 1 to 10000, got 0"),
        ("sync", "lookback_hours = -24", "[sync] lookback_hours must be a number from 0 to 720, got -24"),
        ("sync", "window_hours = -1", "[sync] window_hours must be a number from 0.1 to 8760, got -1"),
        ("sync", "window_hours = 0", "[sync] window_hours must be a number from 0.1 to 8760, got 0"),
    ],
)
def test_bad_numeric_setting_stops_the_sync_with_a_clear_message(
    tmp_path: Path, section: str, text: str, message: str
) -> None:
    toml(
        tmp_path,
        "[api]\nbase_url = 'http://127.0.0.1:9'\n"
        + (f"[{section}]\n" if section != "api" else "")
        + text
        + "\n",
    )
    err = clean_failure(mwdata("sync", cwd=tmp_path, env={"MWDATA_API_KEY": "k"}), 2)
    assert message in err  # verbatim: Rich markup no longer eats "[api]" (item 9), no line break inside
    assert not (tmp_path / "s.duckdb").exists()  # nothing read, nothing written, no watermark


def test_json_mode_error_is_one_json_line(tmp_path: Path) -> None:
    toml(tmp_path, "[api]\npage_size = 0\n")
    err = clean_failure(mwdata("--json", "status", cwd=tmp_path), 2)
    assert '"error": "ConfigError"' in err and "[api] page_size" in err and '"exit_code": 2' in err


# ---- item 4: usage errors exit 2 with click's message; output paths are StoreErrors ----


@pytest.mark.parametrize(
    "args, message",
    [
        (("sync", "--bogus"), "No such option: --bogus"),
        (("bogus",), "No such command 'bogus'"),
        (("sync", "--workers", "0"), "Invalid value for '--workers'"),
        (("report", "--days", "0"), "Invalid value for '--days'"),
        (("run", "--days", "0"), "Invalid value for '--days'"),
        (("dashboard", "--port", "70000"), "Invalid value for '--port'"),
        (("demo", "--days", "0"), "Invalid value for '--days'"),
    ],
)
def test_usage_errors_exit_2_without_traceback(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    err = clean_failure(mwdata(*args, cwd=tmp_path), 2)
    assert message in err and "Usage: mwdata" in err


def test_export_to_a_folder_that_cannot_be_created_is_exit_7(tmp_path: Path) -> None:
    toml(tmp_path, "")
    err = clean_failure(mwdata("export", "--out", "/proc/mwdata-x", cwd=tmp_path), 7)
    assert "export folder /proc/mwdata-x cannot be created" in err


def test_report_to_a_folder_that_cannot_be_created_is_exit_7(tmp_path: Path) -> None:
    from benchmarks import dashboard_data

    dashboard_data.build(tmp_path / "s.duckdb", users=20, days=10)
    toml(tmp_path, "")
    (tmp_path / "file").write_text("not a folder")
    err = clean_failure(mwdata("report", "--out", str(tmp_path / "file" / "sub"), cwd=tmp_path), 7)
    assert f"report folder {tmp_path / 'file' / 'sub'}" in err and "cannot be created" in err


def test_escaping_os_error_becomes_a_store_error() -> None:
    from mwdata.cli import boundary_error

    mapped = boundary_error(PermissionError(13, "Permission denied", "/srv/x.duckdb"))
    assert mapped is not None and mapped.exit_code == 7
    assert "/srv/x.duckdb: Permission denied" in str(mapped)
    assert boundary_error(ValueError("a bug")) is None  # a bug keeps its traceback


# ---- item 9: messages that misled ----


def test_api_key_with_trailing_whitespace_works(tmp_path: Path, simulator: Any) -> None:
    sim = simulator()
    toml(tmp_path, f"[api]\nbase_url = '{sim.base_url}'\nrequests_per_minute = 0\n")
    r = mwdata("sync", "--dry-run", cwd=tmp_path, env={"MWDATA_API_KEY": sim.api_key + " \r\n"})
    assert r.returncode == 0, r.stderr
    assert f"Data API: {sim.base_url}/export/v1/records" in r.stdout


def test_api_key_with_an_inner_control_character_names_the_variable_not_the_value(tmp_path: Path) -> None:
    toml(tmp_path, "")
    err = clean_failure(mwdata("status", cwd=tmp_path, env={"MWDATA_API_KEY": "sk-abc\ndef-SECRET"}), 2)
    assert "MWDATA_API_KEY" in err and "control character" in err and "SECRET" not in err


def test_empty_store_setting(tmp_path: Path) -> None:
    (tmp_path / "mwdata.toml").write_text('store = ""\n')
    assert "store must not be empty" in clean_failure(mwdata("status", cwd=tmp_path), 2)


# ---- item 10: secrets and transport ----


def test_password_in_base_url_is_refused_and_never_echoed(tmp_path: Path) -> None:
    toml(tmp_path, "[api]\nbase_url = 'http://user:hunter2pw@127.0.0.1:9'\n")
    r = mwdata("status", cwd=tmp_path)
    err = clean_failure(r, 2)
    assert "[api] base_url must not hold a user name or password" in err
    assert "hunter2pw" not in r.stdout + r.stderr


def test_plain_http_to_a_remote_host_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mwdata.config")
    load_config(toml(tmp_path, "[api]\nbase_url = 'http://api.example.com'\n"), env={})
    assert "plain http:// to api.example.com" in caplog.text
    caplog.clear()
    load_config(toml(tmp_path, "[api]\nbase_url = 'http://127.0.0.1:8765'\n"), env={})
    assert "plain http" not in caplog.text  # the simulator on loopback is fine


def test_malformed_webhook_is_a_config_error_without_the_url(tmp_path: Path) -> None:
    toml(tmp_path, "")
    for bad in ("not a url", "ftp://hooks.example.com/T0KEN-xyz", "https:///T0KEN-xyz"):
        r = mwdata("status", cwd=tmp_path, env={"MWDATA_ALERT_WEBHOOK": bad})
        err = clean_failure(r, 2)
        assert (
            "[alerts] webhook_url must be an http:// or https:// URL" in err and "MWDATA_ALERT_WEBHOOK" in err
        )
        assert bad not in r.stdout + r.stderr and "T0KEN" not in r.stdout + r.stderr


@pytest.mark.parametrize("url", ["not a url", "http://[bad", "ftp://x/y"])
def test_alert_to_a_bad_url_never_raises(url: str) -> None:
    assert send_alert(url, {"text": "x"}, attempts=1, timeout=1) is False


# ---- issue 12: the regions' "Base API URI" as the docs print it ----


@pytest.mark.parametrize(
    "base_url, records_url",
    [
        ("https://api.moveworks.ai/export/v1/records", "https://api.moveworks.ai/export/v1/records"),
        ("https://api.moveworks.ai/export/v1/records/", "https://api.moveworks.ai/export/v1/records"),
        ("https://api.moveworks.ai/", "https://api.moveworks.ai/export/v1/records"),
        (
            "https://api.am-eu-central.moveworks.ai/export/v1/records",
            "https://api.am-eu-central.moveworks.ai/export/v1/records",
        ),
        (
            "https://api.am-ca-central.moveworks.ai/export/v1/records",
            "https://api.am-ca-central.moveworks.ai/export/v1/records",
        ),
        ("https://api.moveworksgov.ai/export/v1/record", "https://api.moveworksgov.ai/export/v1/records"),
        (
            "https://api.jp.moveworks.com/export/v1beta2/records",
            "https://api.jp.moveworks.com/export/v1beta2/records",
        ),
        (
            "https://api.uk.moveworks.com/export/v1beta2/records/",
            "https://api.uk.moveworks.com/export/v1beta2/records",
        ),
        (
            "https://api.prod4.us.moveworks.com/export/v1/records",
            "https://api.prod4.us.moveworks.com/export/v1/records",
        ),
        ("HTTPS://api.moveworks.ai/export/v1beta2", "https://api.moveworks.ai/export/v1beta2/records"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/export/v1/records"),
        (
            "https://proxy.example.com/moveworks/export/v1/records",
            "https://proxy.example.com/moveworks/export/v1/records",
        ),
    ],
)
def test_base_url_with_or_without_its_path(tmp_path: Path, base_url: str, records_url: str) -> None:
    assert (
        load_config(toml(tmp_path, f"[api]\nbase_url = '{base_url}'\n"), env={}).api.records_url
        == records_url
    )


def test_base_url_version_conflicting_with_version_setting(tmp_path: Path) -> None:
    f = toml(
        tmp_path, "[api]\nbase_url = 'https://api.moveworks.ai/export/v1beta2/records'\nversion = 'v1'\n"
    )
    with pytest.raises(ConfigError, match="names API version v1beta2 but"):
        load_config(f, env={})


@pytest.mark.parametrize(
    "bad", ["ftp://api.moveworks.ai", "api.moveworks.ai", "https://api.moveworks.ai/x?y=1"]
)
def test_bad_base_url(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match=r"\[api\] base_url must"):
        load_config(toml(tmp_path, f"[api]\nbase_url = '{bad}'\n"), env={})


def test_status_prints_the_records_url(tmp_path: Path) -> None:
    toml(tmp_path, "[api]\nregion = 'eu'\n")
    r = mwdata("status", cwd=tmp_path)
    assert "Data API: https://api.am-eu-central.moveworks.ai/export/v1/records" in r.stdout, (
        r.stdout + r.stderr
    )
    r = mwdata("--json", "status", cwd=tmp_path)
    assert '"records_url": "https://api.am-eu-central.moveworks.ai/export/v1/records"' in r.stdout


# ---- item 7 (settings half): SMTP settings that silently misled ----


@pytest.mark.parametrize(
    "text, message",
    [
        ("smtp_starttls = 'ture'", "[report] smtp_starttls must be true or false, got 'ture'"),
        ("mail_to = 'a@example.com; b@example.com'", "not by semicolons"),
        ("smtp_host = 'smtp.example.com'\nsmtp_tls = 'none'", "allowed only for a loopback SMTP server"),
    ],
)
def test_smtp_settings_that_misled_are_refused(tmp_path: Path, text: str, message: str) -> None:
    toml(tmp_path, f"[report]\n{text}\n")
    assert message in clean_failure(mwdata("report", "--email", cwd=tmp_path), 2)
