"""Fixtures of the report tests: a mart-shaped store (see benchmarks/dashboard_data.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import dashboard_data


@pytest.fixture(scope="session")
def mart_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("marts") / "marts.duckdb"
    dashboard_data.build(path, users=120, days=60)
    return path
