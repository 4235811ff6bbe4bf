"""The issue's "Done when", against the simulator running as a real HTTP server.

After every sync the store must equal `sim.truth(entity)` record for record and version for version
(the whole `_record` JSON, so every field and its value), whatever the server did meanwhile.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mwdata.catalog import ENTITIES
from mwdata.config import ApiConfig, Config, Secret, SyncConfig
from mwdata.errors import AuthError, ScopeError
from mwdata.simulator import GeneratorConfig, generate, load_fixed_dataset
from mwdata.sync.pipeline import sync
from mwdata.sync.runner import SyncOptions

pytestmark = pytest.mark.slow(seconds=120)  # scheduled first (tests/conftest.py)

ALL = tuple(e.path for e in ENTITIES)


def config(sim: Any, tmp_path: Path, *, key: str | None = None, rpm: float = 0, **sync_kw: Any) -> Config:
    api = ApiConfig(
        base_url=sim.base_url,
        api_key=Secret(key or sim.api_key),
        requests_per_minute=rpm,
        page_size=sync_kw.pop("page_size", 200),
        timeout_seconds=5,
        max_retries=12,
    )
    sk = {"workers": 3, "batch_size": 700, "window_hours": 24, "lookback_hours": 72, **sync_kw}
    return Config(store=str(tmp_path / "m.duckdb"), api=api, sync=SyncConfig(**sk))


def fast_sync(cfg: Config, sim: Any, **kw: Any):
    """Run a sync with short backoffs, its upper bound on the simulator's clock."""
    from mwdata.api.client import ApiClient

    def client(c: Config) -> ApiClient:
        return ApiClient(c.api, backoff_base=0.01, backoff_max=0.2, max_connections=8)

    return sync(cfg, SyncOptions(now=sim_now(sim), **kw), client_factory=client)


def sim_now(sim: Any):
    now = getattr(sim, "now", None)
    return now() if callable(now) else now


def truth(sim: Any, path: str) -> dict[str, dict[str, Any]]:
    t = sim.truth(path)
    recs = t.values() if isinstance(t, dict) else t
    return {r["id"]: r for r in recs}


def stored(cfg: Config, path: str) -> dict[str, dict[str, Any]]:
    table = path.replace("-", "_")
    con = duckdb.connect(cfg.store, read_only=True)
    try:
        rows = con.execute(f"SELECT id, _record FROM raw.{table}").fetchall()
    finally:
        con.close()
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), f"duplicate ids in raw.{table}"
    return {i: json.loads(r) for i, r in rows}


def assert_equal_truth(cfg: Config, sim: Any, entities: tuple[str, ...] = ALL) -> None:
    for path in entities:
        want, got = truth(sim, path), stored(cfg, path)
        missing, extra = want.keys() - got.keys(), got.keys() - want.keys()
        assert not missing and not extra, f"{path}: {len(missing)} missing, {len(extra)} extra"
        stale = [i for i in want if want[i] != got[i]]
        assert not stale, f"{path}: {len(stale)} records differ, e.g. {stale[:3]}"


# -- backfill + incremental ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "knobs",
    [
        {},
        {"nextlink_spelling": "odata.nextlink", "omit_empty_value": True, "error_shape": "nested"},
    ],
    ids=["canonical", "variant-spellings"],
)
def test_backfill_then_incremental_equals_truth(simulator, small_dataset, tmp_path: Path, knobs) -> None:
    with simulator(small_dataset, **knobs) as sim:
        # 429 cases: the client paces 25 % above the server's limit, as a user who set
        # requests_per_minute too high would (unpaced, every Retry-After second stalls all workers).
        limit = knobs.get("rate_limit_per_minute")
        few = {"rpm": limit * 1.25, "page_size": 1000, "window_hours": 24 * 7} if limit else {}
        cfg = config(sim, tmp_path, **few)
        r = fast_sync(cfg, sim)
        assert r.ok, r.first_error()
        assert_equal_truth(cfg, sim)
        for day in range(3):
            sim.advance(hours=24)
            sim.reemit("interactions", fraction=0.02, seed=day)  # stamped `now`: the next run's data
            sim.advance(seconds=1)
            r = fast_sync(cfg, sim)
            assert r.ok, r.first_error()
            assert_equal_truth(cfg, sim)
        backfill_rows = sum(len(truth(sim, p)) for p in ALL)
        assert r.rows < backfill_rows / 2  # incremental really is incremental


def test_exact_while_data_changes_between_page_requests(simulator, small_dataset, tmp_path: Path) -> None:
    with simulator(small_dataset) as sim:
        cfg = config(sim, tmp_path, page_size=50)
        rng = random.Random(7)
        calls = {"n": 0}

        def meddle(*_: Any) -> None:
            calls["n"] += 1
            if calls["n"] % 3 == 0:
                sim.reemit(rng.choice(ALL), fraction=0.01, seed=calls["n"])

        sim.on_request(meddle)
        r = fast_sync(cfg, sim)
        assert r.ok, r.first_error()
        sim.on_request(None)
        sim.advance(hours=1)
        r = fast_sync(cfg, sim)  # the re-emitted versions are ≥ the first run's upper bound
        assert r.ok, r.first_error()
        assert_equal_truth(cfg, sim)
        assert calls["n"] > 10


@pytest.mark.parametrize(
    "knobs",
    [
        {"fail_rate": 0.15},
        {"truncate_rate": 0.1},
        {"drop_rate": 0.1},
        {"rate_limit_per_minute": 1200, "retry_after": True},
        {"rate_limit_per_minute": 1200, "retry_after": False},
    ],
    ids=["5xx", "truncated", "dropped", "429-retry-after", "429-no-retry-after"],
)
def test_faults_do_not_change_the_result(simulator, small_dataset, tmp_path: Path, knobs) -> None:
    limit = knobs.get("rate_limit_per_minute")
    if limit:
        # 429 cases: a smaller tenant (each Retry-After stalls every worker for a second or more), and
        # a client pacing 25 % above the server's limit, as a user who set requests_per_minute too high.
        dataset = generate(GeneratorConfig(seed=3, users=60, days=12, end=small_dataset.end))
        cfg_kw: dict[str, Any] = {"rpm": limit * 1.25, "page_size": 500}
    else:
        dataset, cfg_kw = small_dataset, {}
    with simulator(dataset, **knobs) as sim:
        cfg = config(sim, tmp_path, **cfg_kw)
        r = fast_sync(cfg, sim)
        assert r.ok, r.first_error()
        assert_equal_truth(cfg, sim)
        stats = [e.stats for e in r.entities]
        if limit:
            assert sum(s.throttled for s in stats) > 0
        else:
            assert sum(s.retries for s in stats) > 0


def test_short_lived_oauth_tokens(simulator, small_dataset, tmp_path: Path) -> None:
    with simulator(small_dataset, token_lifetime_s=2, latency_s=0.01) as sim:
        base = config(sim, tmp_path)
        api = ApiConfig(
            **{**base.api.__dict__, "api_key": None, "client_id": "cid", "client_secret": Secret("secret")}
        )
        cfg = Config(store=base.store, api=api, sync=base.sync)
        r = fast_sync(cfg, sim)
        assert r.ok, r.first_error()
        assert_equal_truth(cfg, sim)


def test_401_and_403_leave_the_store_untouched(simulator, small_dataset, tmp_path: Path) -> None:
    with simulator(small_dataset) as sim:
        cfg = config(sim, tmp_path, key="not-a-key")
        with pytest.raises(AuthError):
            fast_sync(cfg, sim)
        cfg = config(sim, tmp_path, key="key-conv")
        with pytest.raises(ScopeError, match="interactions"):
            fast_sync(cfg, sim, entities=("interactions", "users"))
        assert not Path(cfg.store).exists()


def test_403_on_one_entity_syncs_the_others_exactly(simulator, small_dataset, tmp_path: Path) -> None:
    with simulator(small_dataset) as sim:
        cfg = config(sim, tmp_path, key="key-conv")
        r = fast_sync(cfg, sim, entities=("conversations", "interactions"))
        err = r.first_error()
        assert isinstance(err, ScopeError) and err.entity == "interactions"
        assert [e.outcome for e in r.entities] == ["success", "failed"]
        assert stored(cfg, "conversations") == {x["id"]: x for x in sim.truth("conversations")}
        assert stored(cfg, "interactions") == {}


def test_real_samples_ingest_completely(simulator, samples_dir: Path, tmp_path: Path) -> None:
    ds = load_fixed_dataset(samples_dir)
    with simulator(ds) as sim:
        cfg = config(sim, tmp_path, start="2025-07-01")
        r = fast_sync(cfg, sim, since=None)
        assert r.ok, r.first_error()
        for path in ALL:
            raw = json.loads((samples_dir / f"{path}.json").read_text())["value"]
            got = stored(cfg, path)
            assert len(got) == len(raw) == len({x["id"] for x in raw})
            assert all(got[x["id"]] == x for x in raw)  # every field, every value


def test_advances_past_retention_keep_history(simulator, small_dataset, tmp_path: Path) -> None:
    with simulator(small_dataset) as sim:
        cfg = config(sim, tmp_path)
        assert fast_sync(cfg, sim).ok
        before = stored(cfg, "conversations")
        sim.advance(hours=24 * 5)
        assert fast_sync(cfg, sim).ok
        after = stored(cfg, "conversations")
        assert before.keys() <= after.keys()  # rows the API dropped stay in the store
