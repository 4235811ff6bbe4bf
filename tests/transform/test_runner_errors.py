"""The runner's own statements turn driver errors into a StoreError (a message, not a traceback)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mwdata.config import Config
from mwdata.errors import StoreError
from mwdata.transform.runner import _Conn

STORES = ["duckdb"] + (["postgres"] if os.environ.get("MWDATA_TEST_PG_DSN") else [])


@pytest.mark.parametrize("kind", STORES)
def test_driver_errors_become_store_errors(tmp_path: Path, kind: str) -> None:
    store = str(tmp_path / "s.duckdb") if kind == "duckdb" else os.environ["MWDATA_TEST_PG_DSN"]
    con = _Conn(Config(store=store))
    try:
        with pytest.raises(StoreError, match="the store refused `SELECT ...`"):
            con.query("SELECT * FROM no_such_schema.no_such_table")
        with pytest.raises(StoreError, match="INSERT"):
            con.executemany("INSERT INTO no_such_table VALUES (?)", [[1]])
    finally:
        con.close()
