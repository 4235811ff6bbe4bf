"""An Airflow DAG for mwdata's nightly chain: one task per step (sync, build, check, report), plus a
`health` task reading the store's freshness. Copy it into your DAGs folder (docs/operations.md).

Each task runs the `mwdata` CLI of mwdata's own virtual environment (`MWDATA_BIN`), so Airflow and
mwdata never share a Python environment (their pins differ), and maps its exit code
(docs/operations.md, "The nightly job") to a task state:

- 0: success;
- 10 (the store is stale or about to lose data: `FreshnessError`): the task is **skipped**, Airflow's
  visible "not failed, look at it" state; the message is in the task log. On the `health` task only:
  the chain's steps do not exit 10;
- 1 (unexpected), 5 (API unreachable or failing after retries), 6 (another sync holds the lock), 12
  (the e-mail reached nobody): a failure Airflow **retries** (`retries` below);
- every other code (2 configuration, 3 credentials, 4 scope, 7 store, 8 dbt, 9 data quality, 11 HR
  file, 14 e-mail partly sent): a failure **without retry** — retrying cannot help (or, for 14,
  would mail the accepted recipients twice).

Tested by tests/integrations/test_airflow_dag.py (parsed by Airflow 2.10 in its own venv).
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException
from airflow.operators.python import PythonOperator

MWDATA_BIN = os.environ.get("MWDATA_BIN", "/opt/mwdata/.venv/bin/mwdata")
MWDATA_CONFIG = os.environ.get("MWDATA_CONFIG", "/etc/mwdata/mwdata.toml")

SKIP_CODES = {10}  # FreshnessError: stale data, a warning
RETRY_CODES = {1, 5, 6, 12}  # unexpected, ApiError, LockedError, the e-mail reached nobody
STEPS = {
    "sync": ["sync"],
    "build": ["build"],
    "check": ["check"],
    "report": ["report"],  # add "--email" to mail it ([report] SMTP settings)
    "health": ["status", "--check"],
}


def outcome(code: int) -> str:
    """A `mwdata` exit code -> "success", "skip", "retry" or "fail"."""
    if code == 0:
        return "success"
    if code in SKIP_CODES:
        return "skip"
    return "retry" if code in RETRY_CODES else "fail"


def run_mwdata(step: str) -> None:
    """Run one step; its exit code decides the task state (the log holds mwdata's JSON lines)."""
    cmd = [MWDATA_BIN, "--json", *STEPS[step]]
    env = {**os.environ, "MWDATA_CONFIG": MWDATA_CONFIG}
    code = subprocess.run(cmd, env=env, check=False).returncode
    what = outcome(code)
    if what == "success":
        return
    message = f"mwdata {' '.join(STEPS[step])} exited {code} (docs/operations.md lists the codes)"
    if what == "skip":
        raise AirflowSkipException(message)
    if what == "retry":
        raise AirflowException(message)
    raise AirflowFailException(message)


with DAG(
    dag_id="mwdata",
    description="mwdata: sync the Moveworks Data API, build the models, check, report",
    schedule="30 8,20 * * *",  # UTC, a few hours after the API's daily batch
    start_date=datetime(2026, 1, 1),
    catchup=False,  # a sync always reads from its watermark: missed runs need no backfill
    max_active_runs=1,  # one writer per store (a second sync would exit 6)
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(hours=4),
    },
    tags=["mwdata"],
) as dag:
    tasks = {
        step: PythonOperator(
            task_id=step,
            python_callable=run_mwdata,
            op_kwargs={"step": step},
            # health reads the store also after a failed sync: that is when data may be lost
            trigger_rule="all_done" if step == "health" else "all_success",
        )
        for step in STEPS
    }
    tasks["sync"] >> tasks["build"] >> tasks["check"] >> tasks["report"]
    tasks["sync"] >> tasks["health"]
