"""mwdata.integrations.dagster: the Definitions run in process (Dagster's `execute_in_process` and
`materialize`) against the simulator into a temporary DuckDB store. Asserted: the lineage (dbt's
staging models depend on the sync assets, the report on the marts), every asset materialised with
its metadata equal to what the store recorded (rows, watermark, requests, retries, 429s), the dbt
tests as asset checks, and the store-health checks passing on fresh data and failing (ERROR) on a
store whose last good sync is 25 days old."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

dg = pytest.importorskip("dagster")
pytest.importorskip("dagster_dbt")

from mwdata.catalog import ENTITIES  # noqa: E402
from mwdata.integrations.dagster import (  # noqa: E402
    FRESHNESS_CHECK,
    JOB_NAME,
    REPORT_KEY,
    RETENTION_CHECK,
    definitions,
)
from mwdata.simulator import GeneratorConfig, generate  # noqa: E402
from tests.duck import duck_query  # noqa: E402

SIM_KEY = "key-all"  # the simulator's full-scope key


def _config(tmp_path: Path, base_url: str, monkeypatch: pytest.MonkeyPatch, rpm: int = 0) -> Path:
    cfg = tmp_path / "mwdata.toml"
    cfg.write_text(
        f'store = "{tmp_path / "s.duckdb"}"\n'
        f'[api]\nbase_url = "{base_url}"\nrequests_per_minute = {rpm}\n'
        "[sync]\nwindow_hours = 240\n"
        f'[report]\noutput_dir = "{tmp_path / "reports"}"\n'
    )
    monkeypatch.setenv("MWDATA_API_KEY", SIM_KEY)
    monkeypatch.delenv("MWDATA_CONFIG", raising=False)
    return cfg


def _tenant(simulator: Any, **knobs: Any) -> Any:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return simulator(generate(GeneratorConfig(seed=5, users=40, days=4, end=end)), **knobs)


def _materialisations(res: Any) -> dict[tuple[str, ...], dict[str, Any]]:
    out = {}
    for m in res.get_asset_materialization_events():
        mat = m.event_specific_data.materialization
        out[tuple(mat.asset_key.path)] = {k: v.value for k, v in mat.metadata.items()}
    return out


def _checks(res: Any) -> dict[tuple[tuple[str, ...], str], Any]:
    return {
        (tuple(e.event_specific_data.asset_key.path), e.event_specific_data.check_name): e.event_specific_data
        for e in res.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def _store(tmp_path: Path, sql: str) -> list[Any]:
    return duck_query(tmp_path / "s.duckdb", sql)


def test_the_whole_chain_materialises_with_lineage_metadata_and_checks(
    tmp_path: Path, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = _tenant(simulator)
    defs = definitions(_config(tmp_path, sim.base_url, monkeypatch))

    specs = {s.key: s for s in defs.resolve_all_asset_specs()}
    sync_keys = {dg.AssetKey(["moveworks", e.table]) for e in ENTITIES}
    assert sync_keys <= set(specs)
    parents = {k: {d.asset_key for d in s.deps} for k, s in specs.items()}
    by_name = {k.path[-1]: v for k, v in parents.items()}
    for e in ENTITIES:  # each raw table -> its staging model
        assert dg.AssetKey(["moveworks", e.table]) in by_name[f"stg_moveworks__{e.table}"]
    marts = {k for k in specs if k.path[-1].startswith("moveworks__")}
    assert {"moveworks__conversations", "moveworks__users"} <= {k.path[-1] for k in marts}
    assert parents[REPORT_KEY] == marts
    dbt_checks = [
        c
        for c in defs.resolve_asset_graph().asset_check_keys
        if c.name not in (RETENTION_CHECK, FRESHNESS_CHECK)
    ]
    assert len(dbt_checks) > 50  # the dbt data tests, attached to their models

    res = defs.resolve_job_def(JOB_NAME).execute_in_process(raise_on_error=False)
    assert res.success, [e.message for e in res.all_events if e.is_failure]
    mats = _materialisations(res)

    counts = dict(_store(tmp_path, "SELECT replace(entity, '-', '_'), watermark FROM _mwdata.sync_state"))
    runs = {
        r[0]: r[1:]
        for r in _store(
            tmp_path,
            "SELECT replace(entity, '-', '_'), rows, requests, retries, throttled FROM _mwdata.sync_runs",
        )
    }
    for e in ENTITIES:
        meta = mats[("moveworks", e.table)]
        (held,) = _store(tmp_path, f"SELECT count(*) FROM raw.{e.table}")[0]
        assert meta["rows"] == meta["rows_in_store"] == held > 0
        assert meta["watermark"] == pytest.approx(counts[e.table].timestamp())
        assert (meta["rows"], meta["requests"], meta["retries"], meta["throttled_429"]) == runs[e.table]
        assert meta["pending_windows"] == 0 and meta["run_id"]

    for k in marts:
        assert mats[tuple(k.path)]["status"] == "success"
    checks = _checks(res)
    assert {c for c in checks if c[1] not in (RETENTION_CHECK, FRESHNESS_CHECK)} == {
        (tuple(c.asset_key.path), c.name) for c in dbt_checks
    }  # every dbt test ran and was reported on its model
    for (_, _), ev in checks.items():
        assert ev.passed or ev.severity == dg.AssetCheckSeverity.WARN  # no error-severity failure
    for key in sync_keys:
        for name in (RETENTION_CHECK, FRESHNESS_CHECK):
            assert checks[(tuple(key.path), name)].passed

    report = mats[tuple(REPORT_KEY.path)]
    html = Path(report["html"])
    assert html.is_file() and html.is_relative_to(tmp_path / "reports")
    assert report["csv_files"] == len(list(html.parent.glob("*.csv"))) > 0
    (total,) = _store(tmp_path, "SELECT count(*) FROM analytics.moveworks__conversations")[0]
    assert 0 < report["kpi_conversations"] <= total  # the report read the marts just built


def test_sync_assets_count_429s_and_the_retention_check_fails_on_an_old_store(
    tmp_path: Path, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the sync assets and their health checks (no dbt): a rate-limited API gives 429s that
    reach the metadata as the store recorded them; then the last good sync is made 25 days old."""
    sim = _tenant(
        simulator, rate_limit_per_minute=1200
    )  # a fifth of the client's pace: 429s whatever the load
    defs = definitions(_config(tmp_path, sim.base_url, monkeypatch, rpm=6000), schedule=None)
    sync_def = defs.resolve_assets_def(dg.AssetKey(["moveworks", "conversations"]))
    [health] = list(defs.asset_checks or [])

    res = dg.materialize([sync_def, health])
    assert res.success
    mats = _materialisations(res)
    assert {p for p in mats} == {("moveworks", e.table) for e in ENTITIES}
    runs = {
        r[0]: r[1:]
        for r in _store(
            tmp_path, "SELECT replace(entity, '-', '_'), retries, throttled FROM _mwdata.sync_runs"
        )
    }
    assert sum(m["throttled_429"] for m in mats.values()) > 0
    for e in ENTITIES:
        meta = mats[("moveworks", e.table)]
        assert (meta["retries"], meta["throttled_429"]) == runs[e.table]
    assert all(c.passed for c in _checks(res).values())

    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    try:
        con.execute(
            "UPDATE _mwdata.sync_runs SET ended_at = ended_at - INTERVAL 25 DAY WHERE entity = 'conversations'"
        )
    finally:
        con.close()
    res = dg.materialize([sync_def, health], selection=dg.AssetSelection.all_asset_checks())
    assert res.success and not _materialisations(res)  # the checks ran alone: nothing re-synced
    checks = _checks(res)
    assert len(checks) == 2 * len(ENTITIES)
    bad = checks[(("moveworks", "conversations"), RETENTION_CHECK)]
    assert not bad.passed and bad.severity == dg.AssetCheckSeverity.ERROR
    assert "DATA IS ABOUT TO BE LOST" in bad.description
    failed = {k for k, c in checks.items() if not c.passed}
    assert failed == {(("moveworks", "conversations"), RETENTION_CHECK)}


def test_a_missing_scope_fails_the_sync_step_and_keeps_the_permitted_entity(
    tmp_path: Path, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key that may read conversations only: conversations is materialised, the step fails with
    mwdata's ScopeError (exit 4 in `mwdata run`) naming the refused entities."""
    sim = _tenant(simulator)
    defs = definitions(_config(tmp_path, sim.base_url, monkeypatch), schedule=None)
    monkeypatch.setenv("MWDATA_API_KEY", "key-conv")  # read at run time: the config is loaded again
    sync_def = defs.resolve_assets_def(dg.AssetKey(["moveworks", "conversations"]))
    res = dg.materialize([sync_def], raise_on_error=False)
    assert not res.success
    assert set(_materialisations(res)) == {("moveworks", "conversations")}
    [failure] = [e for e in res.all_events if e.event_type_value == "STEP_FAILURE"]
    err = failure.event_specific_data.error
    text = err.message + "".join(c.message for c in [err.cause] if c is not None)
    assert "ScopeError" in text and "'users'" in text
