"""Incremental builds: what forces a full refresh (the PII mode, a setting the models read, a
partial build, `full_refresh_every_days`). A module of its own so that pytest-xdist runs it beside
the other incremental tests (seven builds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mwdata.config import Config, TransformConfig
from mwdata.transform.runner import RunResult
from tests.metrics.gen import generate
from tests.transform.test_incremental import SYNCED, build, duckdb_store

pytestmark = pytest.mark.slow(seconds=90)  # scheduled first (tests/conftest.py)


def test_a_pii_mode_change_forces_a_full_refresh(tmp_path: Path) -> None:
    """The PII mode changes the columns' content (and which staging models hold it): a build after a
    change rebuilds every incremental model, so no row keeps the old mode's values. A project or setting change, an unfinished (or --select) build and
    `full_refresh_every_days` force one too."""
    from tests.transform import pii_cases

    ds = generate(3, users=12, days=6)
    with duckdb_store(tmp_path) as store:
        store.raw.sync(ds.records, SYNCED, "run-1")
        store.close()  # type: ignore[attr-defined]
        db = Config(store=str(tmp_path / "s.duckdb")).store

        def built(t: TransformConfig, **kw: Any) -> RunResult:
            result = build(Config(store=db, transform=t), **kw)
            assert result.increment is not None
            return result

        def plaintext() -> int:
            ((n,),) = store.query(
                "SELECT count(*) FROM analytics.moveworks__journey WHERE content LIKE 'q%'"
            )  # the generator's questions: q1 .. q99
            ((m,),) = store.query("SELECT count(*) FROM analytics.moveworks__users WHERE email LIKE '%@%'")
            return int(n) + int(m)

        assert built(TransformConfig()).increment.reason == "no earlier incremental build"  # type: ignore[union-attr]
        assert plaintext() > 0  # an unchanged mode builds incrementally: tests/transform/test_incremental.py
        again = built(pii_cases.transform("drop"))
        assert again.increment.reason == "the PII mode changed (show -> drop)"  # type: ignore[union-attr]
        assert plaintext() == 0
        ((n,),) = store.query(
            "SELECT count(*) FROM analytics_staging.stg_moveworks__interactions WHERE content IS NOT NULL"
        )
        assert n == 0
        salt = "an incremental test salt"
        hashed = built(pii_cases.transform("hash", salt))
        assert hashed.increment.reason == "the PII mode changed (drop -> hash)"  # type: ignore[union-attr]
        (n,) = store.query(
            "SELECT count(*) FILTER (WHERE length(content) <> 64), count(content) "
            "FROM analytics_staging.stg_moveworks__interactions"
        )
        assert plaintext() == 0 and n == (0, n[1]) and n[1] > 0
        # a setting the models read
        other = pii_cases.transform("hash", salt, hr_external_id_sources=("SNOW",))
        assert built(other).increment.reason.startswith("the dbt project, dbt")  # type: ignore[union-attr]
        # a partial build leaves the next one a full refresh
        built(other, select=["moveworks__users"])
        assert built(other).increment.reason.startswith("the last build did not finish")  # type: ignore[union-attr]
        every = pii_cases.transform(
            "hash", salt, hr_external_id_sources=("SNOW",), full_refresh_every_days=0.00001
        )
        # the build before was a full refresh too, for another reason: the age alone forces this one
        assert built(every).increment.reason.startswith("the last full refresh is")  # type: ignore[union-attr]
