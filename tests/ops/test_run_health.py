"""`mwdata run` end to end on the simulator, and the edges of alerting: a healthy chain posts nothing
and exits 0; a chain whose steps all pass over data that stopped arriving exits 10 with one
`stalled` warning; no secret of any kind (API key, SMTP password, store password, webhook token)
reaches the alert or the logs, even with --verbose; an unreachable webhook never changes the exit
code; the webhook read from a chmod-600 file works like the environment variable."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mwdata import ops
from mwdata.simulator import GeneratorConfig, generate
from tests.ops.conftest import TOKEN, Receiver
from tests.sync.conftest import KEY, run_cli

pytestmark = pytest.mark.slow(seconds=115)  # scheduled first (tests/conftest.py)

SIM_KEY = "key-all"  # the simulator's full-scope key


def _sim_config(tmp_path: Path, base_url: str) -> None:
    (tmp_path / "mwdata.toml").write_text(
        f'store = "{tmp_path / "s.duckdb"}"\n'
        f'[api]\nbase_url = "{base_url}"\nrequests_per_minute = 0\n'
        "[sync]\nwindow_hours = 240\n"
    )


def _simulated_run(tmp_path: Path, simulator: Any, hook: Receiver, data_ends_ago: timedelta) -> Any:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - data_ends_ago
    sim = simulator(generate(GeneratorConfig(seed=3, users=60, days=6, end=end)))
    _sim_config(tmp_path, sim.base_url)
    env = {"MWDATA_API_KEY": SIM_KEY, "MWDATA_ALERT_WEBHOOK": hook.url}
    return run_cli("--json", "run", "--no-report", env=env, cwd=tmp_path, timeout=600)


def test_healthy_run_exits_0_and_posts_nothing_but_a_heartbeat(
    tmp_path: Path, simulator: Any, receiver: Any
) -> None:
    hook = receiver()
    r = _simulated_run(tmp_path, simulator, hook, data_ends_ago=timedelta(hours=0))
    assert r.returncode == 0, r.stderr[-3000:]
    assert hook.alerts == []
    assert "ALERT" not in r.stderr
    env = {"MWDATA_API_KEY": SIM_KEY, "MWDATA_ALERT_WEBHOOK": hook.url}
    r = run_cli("--json", "run", "--no-report", "--alert-on-success", env=env, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    [beat] = hook.alerts  # the heartbeat
    assert beat["kind"] == "ok" and beat["severity"] == "info" and beat["exit_code"] == 0
    assert beat["findings"] == [] and beat["text"].startswith("[INFO] mwdata run succeeded")


def test_all_steps_pass_but_data_stopped_arriving(tmp_path: Path, simulator: Any, receiver: Any) -> None:
    """The API answers, the sync succeeds, the models build: only the health check can see that the
    newest interaction is three days old. Exit 10 (FreshnessError), one warning alert."""
    hook = receiver()
    r = _simulated_run(tmp_path, simulator, hook, data_ends_ago=timedelta(days=3))
    assert r.returncode == 10, r.stderr[-3000:]
    [alert] = hook.alerts
    assert alert["kind"] == ops.STALLED and alert["severity"] == "warning"
    assert alert["step"] is None and alert["error"] is None and alert["exit_code"] == 10
    assert {f["entity"] for f in alert["findings"]} == {"conversations", "interactions"}
    final = json.loads(r.stderr.strip().splitlines()[-1])
    assert final["error"] == "FreshnessError" and final["exit_code"] == 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_secret_reaches_the_alert_or_the_logs(tmp_path: Path, receiver: Any) -> None:
    """Every secret set at once (the store password in a store URL from the environment, where it is
    allowed), a warehouse store whose health cannot be read, debug logging on."""
    smtp, db = "smtp-Pa55word-77", "db-Pa55word-88"
    hook = receiver()
    (tmp_path / "mwdata.toml").write_text(
        '[api]\nbase_url = "http://127.0.0.1:9"\nmax_retries = 0\n'
        '[report]\nsmtp_host = "127.0.0.1"\nsmtp_user = "ops"\nmail_to = ["ops@example.com"]\n'
    )
    env = {
        "MWDATA_API_KEY": KEY,
        "MWDATA_SMTP_PASSWORD": smtp,
        "MWDATA_ALERT_WEBHOOK": hook.url,
        "MWDATA_STORE": f"postgresql://mw:{db}@127.0.0.1:{_free_port()}/analytics",
    }
    r = run_cli("--json", "--verbose", "run", "--email", env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 5, r.stderr[-3000:]
    [alert] = hook.alerts
    assert alert["store"] == "postgresql://127.0.0.1/analytics" and alert["step"] == "sync"
    seen = json.dumps(alert) + r.stdout + r.stderr
    for value in (KEY, smtp, db, TOKEN):
        assert value not in seen


def test_unreachable_webhook_keeps_the_exit_code(tmp_path: Path) -> None:
    (tmp_path / "mwdata.toml").write_text(
        f'store = "{tmp_path / "s.duckdb"}"\n[api]\nbase_url = "http://127.0.0.1:9"\nmax_retries = 0\n'
    )
    url = f"http://127.0.0.1:{_free_port()}/hooks/{TOKEN}"  # nothing listens: connection refused
    r = run_cli("--json", "run", env={"MWDATA_API_KEY": KEY, "MWDATA_ALERT_WEBHOOK": url}, cwd=tmp_path)
    assert r.returncode == 5
    assert "ALERT NOT DELIVERED" in r.stderr and TOKEN not in r.stderr + r.stdout


def test_a_hanging_webhook_is_given_up_and_keeps_the_exit_code(tmp_path: Path, receiver: Any) -> None:
    """The receiver holds every POST past the sender's timeout (1 s here): three attempts, then the
    run ends with the failing step's code."""
    hook = receiver(delay=3)
    (tmp_path / "mwdata.toml").write_text(
        f'store = "{tmp_path / "s.duckdb"}"\n[api]\nbase_url = "http://127.0.0.1:9"\nmax_retries = 0\n'
        "[alerts]\ntimeout_seconds = 1\n"
    )
    t0 = time.monotonic()
    r = run_cli("--json", "run", env={"MWDATA_API_KEY": KEY, "MWDATA_ALERT_WEBHOOK": hook.url}, cwd=tmp_path)
    assert r.returncode == 5 and len(hook.alerts) == 3
    assert "ALERT NOT DELIVERED" in r.stderr and "ReadTimeout" in r.stderr
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("mode", [0o600, 0o644])
def test_webhook_from_a_secret_file(tmp_path: Path, receiver: Any, mode: int) -> None:
    hook = receiver()
    secret = tmp_path / "webhook"
    secret.write_text(hook.url + "\n")
    secret.chmod(mode)
    (tmp_path / "mwdata.toml").write_text(
        f'store = "{tmp_path / "s.duckdb"}"\n[api]\nbase_url = "http://127.0.0.1:9"\nmax_retries = 0\n'
        f'[alerts]\nwebhook_url_file = "{secret}"\n'
    )
    r = run_cli("--json", "run", env={"MWDATA_API_KEY": KEY}, cwd=tmp_path)
    if mode == 0o600:
        assert r.returncode == 5, r.stderr[-2000:]
        [alert] = hook.alerts
        assert alert["kind"] == "failure" and alert["exit_code"] == 5
    else:  # a webhook file others can read is refused like any other secret file
        assert r.returncode == 2 and hook.alerts == []
    assert TOKEN not in r.stderr + r.stdout


CRASHING_RUN = """
import sys
import mwdata.ops.run as run
from mwdata.cli import main

def crashing_chain(cfg, **_):
    def build():
        raise RuntimeError("a bug whose message holds {leak}")
    yield "build", build

run.steps = crashing_chain
sys.argv = ["mwdata", "--json", "run"]
main()
"""


def test_a_crashing_step_still_alerts(tmp_path: Path, receiver: Any) -> None:
    """A bug (an exception outside the MwdataError hierarchy) in a step: the alert goes out with
    exit code 1 and the exception's type only, then the traceback reaches the log as before."""
    hook = receiver()
    (tmp_path / "mwdata.toml").write_text(f'store = "{tmp_path / "s.duckdb"}"\n')
    leak = "leaked-Pa55word-99"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MWDATA_")}}
    env.update({"MWDATA_API_KEY": KEY, "MWDATA_ALERT_WEBHOOK": hook.url})
    r = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN.format(leak=leak)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "Traceback" in r.stderr and "RuntimeError" in r.stderr
    [alert] = hook.alerts
    assert alert["kind"] == "failure" and alert["step"] == "build" and alert["exit_code"] == 1
    assert "unexpected RuntimeError" in alert["text"] and leak not in json.dumps(alert)
