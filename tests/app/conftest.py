"""Fixtures of the dashboard tests: a mart-shaped store and the environment pointing the app at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import dashboard_data
from tests.api.conftest import scripted  # noqa: F401 (fixture)


@pytest.fixture(scope="session")
def mart_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("marts") / "marts.duckdb"
    dashboard_data.build(path, users=120, days=60)
    return path


@pytest.fixture
def app_env(mart_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    cfg = tmp_path / "mwdata.toml"
    cfg.write_text(f'store = "{mart_store}"\n')
    monkeypatch.setenv("MWDATA_CONFIG", str(cfg))
    monkeypatch.delenv("MWDATA_STORE", raising=False)
    monkeypatch.delenv("MWDATA_PII", raising=False)
    monkeypatch.delenv("MWDATA_DASHBOARD_PII", raising=False)
    yield cfg
