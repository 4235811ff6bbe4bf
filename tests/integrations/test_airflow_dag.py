"""examples/airflow_mwdata_dag.py: its exit-code map agrees with mwdata.errors (always, with `ast`),
and Airflow parses it and runs each task's callable against a stand-in `mwdata` whose exit code is
chosen, asserting the task state each code gives (Airflow lives in its own venv: its pins conflict
with mwdata's; `.ci/run` makes one and names its python in MWDATA_TEST_AIRFLOW_PYTHON)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
from pathlib import Path

import pytest

from mwdata.errors import ApiError, FreshnessError, LockedError, MwdataError
from mwdata.report.email import EmailError, PartialDeliveryError

DAG_FILE = Path(__file__).resolve().parents[2] / "examples" / "airflow_mwdata_dag.py"
AIRFLOW_PYTHON = os.environ.get("MWDATA_TEST_AIRFLOW_PYTHON")


def _literal(name: str) -> object:
    tree = ast.parse(DAG_FILE.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in {DAG_FILE}")


def test_the_exit_code_map_matches_mwdata_errors() -> None:
    compile(DAG_FILE.read_text(), str(DAG_FILE), "exec")
    assert _literal("SKIP_CODES") == {FreshnessError.exit_code}
    retry = {MwdataError.exit_code, ApiError.exit_code, LockedError.exit_code, EmailError.exit_code}
    assert _literal("RETRY_CODES") == retry
    assert PartialDeliveryError.exit_code not in retry  # a retry would mail the accepted recipients twice
    assert list(_literal("STEPS")) == ["sync", "build", "check", "report", "health"]  # type: ignore[call-overload]


PROBE = r"""
import json, os, sys
from airflow.models import DagBag
from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException
bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
dag = bag.get_dag("mwdata")
out = {"errors": {k: v[-300:] for k, v in bag.import_errors.items()},
       "tasks": {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks},
       "trigger": {t.task_id: str(t.trigger_rule) for t in dag.tasks}, "states": {}}
mod = next(m for n, m in sys.modules.items() if n.endswith("airflow_mwdata_dag"))  # DagBag's name for it
for code in (0, 10, 5, 6, 1, 12, 2, 3, 4, 7, 8, 9, 11, 14):
    os.environ["FAKE_CODE"] = str(code)
    try:
        mod.run_mwdata("sync")
        state = "success"
    except AirflowSkipException:
        state = "skipped"
    except AirflowFailException:
        state = "failed"
    except AirflowException:
        state = "up_for_retry"
    out["states"][code] = state
print(json.dumps(out))
"""


@pytest.mark.skipif(
    not AIRFLOW_PYTHON, reason="MWDATA_TEST_AIRFLOW_PYTHON (a venv with apache-airflow) not set"
)
def test_airflow_parses_the_dag_and_maps_exit_codes_to_task_states(tmp_path: Path) -> None:
    fake = tmp_path / "mwdata"
    fake.write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/calls"\nexit "$FAKE_CODE"\n')
    fake.chmod(0o755)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "MWDATA_BIN": str(fake),
    }
    subprocess.run(
        [str(AIRFLOW_PYTHON), "-m", "airflow", "db", "migrate"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    r = subprocess.run(
        [str(AIRFLOW_PYTHON), "-c", PROBE, str(DAG_FILE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["errors"] == {}
    assert out["tasks"] == {
        "sync": ["build", "health"], "build": ["check"], "check": ["report"], "report": [], "health": [],
    }  # fmt: skip
    assert out["trigger"]["health"] == "all_done" and out["trigger"]["build"] == "all_success"
    states = {int(k): v for k, v in out["states"].items()}
    assert states == {
        0: "success", 10: "skipped", 5: "up_for_retry", 6: "up_for_retry", 1: "up_for_retry",
        12: "up_for_retry", 2: "failed", 3: "failed", 4: "failed", 7: "failed", 8: "failed",
        9: "failed", 11: "failed", 14: "failed",
    }  # fmt: skip
    calls = (tmp_path / "calls").read_text().splitlines()
    assert len(calls) == 14 and set(calls) == {"--json sync"}
