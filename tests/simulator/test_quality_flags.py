"""A generated tenant synced over HTTP, built and checked: the announcement incident is what the volume
checks flag, and the deflection rate the marts compute is above zero."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from mwdata.config import ApiConfig, Config, Secret, SyncConfig
from mwdata.simulator import GeneratorConfig, SimulatorServer, generate
from mwdata.sync.pipeline import sync
from mwdata.sync.runner import SyncOptions
from mwdata.transform import build

END = datetime(2026, 11, 28, tzinfo=UTC)


def _synced_and_checked(tmp_path: Path, incidents: bool) -> tuple[Config, dict[str, str]]:
    ds = generate(GeneratorConfig(seed=5, users=300, days=28, end=END, incidents=incidents))
    with SimulatorServer(ds) as sim:
        cfg = Config(
            store=str(tmp_path / "m.duckdb"),
            api=ApiConfig(base_url=sim.base_url, api_key=Secret(sim.api_key), requests_per_minute=0),
            sync=SyncConfig(start="2026-10-30T00:00:00Z", window_hours=240),
        )
        sync(cfg, SyncOptions(now=sim.now()))
    result = build(cfg)  # runs the data tests too: their statuses are the check's
    return cfg, {r.name: r.status for r in result.results}


def _volume(status: dict[str, str], model: str) -> str:
    [(name, st)] = [(n, s) for n, s in status.items() if n.startswith(f"volume_anomaly_{model}")]
    return st


@pytest.mark.timeout(180)
def test_incident_day_is_flagged_and_deflection_is_positive(tmp_path: Path) -> None:
    cfg, status = _synced_and_checked(tmp_path / "with", incidents=True)
    assert _volume(status, "stg_moveworks__conversations") == "warn"
    with duckdb.connect(cfg.store, read_only=True) as con:
        deflected, tickets = con.execute(
            "SELECT sum(CASE WHEN is_deflected THEN 1 ELSE 0 END), count(*) FROM analytics.moveworks__notifications "
            "WHERE conversation_type = 'CONVERSATION_TYPE_TICKET_INTERCEPTION'"
        ).fetchone()
    assert tickets > 0 and deflected / tickets > 0.1, (deflected, tickets)
    # the same company without incidents: no volume warning, so the flag above is the incident's
    _, quiet = _synced_and_checked(tmp_path / "without", incidents=False)
    assert _volume(quiet, "stg_moveworks__conversations") == "pass"
    assert _volume(quiet, "stg_moveworks__interactions") == "pass"
