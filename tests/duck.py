"""Reading a DuckDB store file from a test: read-only (a test never holds the writer's lock) and in
UTC, as mwdata's own read connections are.

A store that a test builds with dbt is called `s.duckdb` (in the test's own folder): dbt-duckdb names the
catalogue after the file, so dbt's kept parse (`mwdata.transform.parse_cache`, several CPU-seconds each)
is shared only by stores named alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def duck_query(store: str | Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(store), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()
