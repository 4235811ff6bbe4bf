"""`mwdata simulate` as a real subprocess: summary mode, serving, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests import procs

EXE = str(Path(sys.executable).parent / "mwdata")


def test_print_config_and_hr_out(tmp_path: Path) -> None:
    hr = tmp_path / "hr.csv"
    args = [
        "simulate",
        "--print-config",
        "--users",
        "20",
        "--days",
        "5",
        "--end",
        "2026-11-28",
        "--hr-out",
        str(hr),
    ]
    out = subprocess.run([EXE, *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert set(summary["entities"]) == {
        "conversations",
        "interactions",
        "plugin-calls",
        "plugin-resources",
        "users",
    }
    assert summary["hr_rows"] == 20 and len(hr.read_text().splitlines()) == 21


def test_bad_input_is_a_clear_error() -> None:
    out = subprocess.run([EXE, "simulate", "--end", "yesterday"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "--end" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run(
        [EXE, "simulate", "--from-samples", "/nonexistent"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0 and "not found" in out.stderr and "Traceback" not in out.stderr


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as background jobs of a non-interactive shell inherit it


@pytest.mark.parametrize(
    ("sig", "inherit_ignored_sigint"),
    [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["sigint", "sigint-inherited-ignored", "sigterm"],
)
def test_serves_until_interrupted(
    samples_dir: Path, sig: signal.Signals, inherit_ignored_sigint: bool
) -> None:
    """Either stop signal ends the server cleanly, whatever signal dispositions it inherited."""
    proc = procs.spawn(
        [EXE, "simulate", "--port", "0", "--from-samples", str(samples_dir), "--api-key", "k1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=_ignore_sigint if inherit_ignored_sigint else None,
    )
    try:
        line = ""
        deadline = time.time() + 30
        while "http://" not in line and time.time() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
        url = line[line.index("http://") :].split()[0]
        r = httpx.get(f"{url}/users", headers={"Authorization": "k1"})
        assert r.status_code == 200 and len(r.json()["value"]) == 20
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "stopped after" in out and "Traceback" not in err
    finally:
        procs.stop_tree(proc)


def test_behaviour_knobs() -> None:
    base = [EXE, "simulate", "--print-config", "--users", "50", "--days", "30", "--end", "2026-11-28"]
    out = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    kinds = [i["kind"] for i in json.loads(out.stdout)["incidents"]]
    assert kinds == ["channel_outage", "announcement", "plugin_failure"]
    out = subprocess.run([*base, "--no-incidents"], capture_output=True, text=True, timeout=60)
    assert json.loads(out.stdout)["incidents"] == []
    out = subprocess.run([*base, "--weekend-share", "3"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "weekend_share must be between 0 and 1" in out.stderr
    assert "Traceback" not in out.stderr
