"""Generated stores built once per seed (session-scoped: dbt runs are slow-ish)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mwdata.config import Config, TransformConfig
from mwdata.transform import build
from tests.metrics.gen import Dataset, generate
from tests.transform.fixtures import load_duckdb

SEEDS = (1, 2, 3)


def write_hr(path: Path, rows: list[dict[str, object]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@pytest.fixture(scope="session", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Dataset]:
    ds = generate(request.param)
    d = tmp_path_factory.mktemp(f"gen{request.param}")
    db = d / "s.duckdb"
    load_duckdb(db, ds.records)
    write_hr(d / "hr.csv", ds.hr_rows)
    build(Config(store=str(db), transform=TransformConfig(hr_file=str(d / "hr.csv"))))
    return db, ds
