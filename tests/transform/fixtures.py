"""Load API-shaped records into the raw tables (the store contract), for the transform tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from mwdata.catalog import ENTITIES, entity
from mwdata.store.schema import create_all_sql, raw_columns


def read_samples(samples_dir: Path) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for e in ENTITIES:
        doc = json.loads((samples_dir / f"{e.path}.json").read_text())
        out[e.path] = list(doc.get("value", []))
    return out


def _value(v: Any, ftype: str) -> Any:
    if v is None:
        return None
    if ftype == "json":
        return json.dumps(v)
    if ftype == "timestamp":
        return datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    return v


def rows_for(path: str, records: Iterable[Mapping[str, Any]], run_id: str = "test-run") -> list[list[Any]]:
    e = entity(path)
    now = datetime.now(UTC)
    rows = []
    for r in records:
        row = [_value(r.get(f.name), f.type) for f in e.fields]
        rows.append([*row, json.dumps(r), now, run_id])
    return rows


def load_duckdb(
    db: Path | str, records: Mapping[str, Iterable[Mapping[str, Any]]], extra_sql: Iterable[str] = ()
) -> None:
    """Create the raw tables (no primary key: duplicates may be planted) and insert the records."""
    con = duckdb.connect(str(db))
    try:
        for stmt in create_all_sql():
            con.execute(stmt.replace(',\n  PRIMARY KEY ("id")', ""))
        for path, recs in records.items():
            e = entity(path)
            cols = ", ".join(f'"{c}"' for c, _ in raw_columns(e))
            marks = ", ".join("?" for _ in raw_columns(e))
            rows = rows_for(path, recs)
            if rows:
                con.executemany(f'INSERT INTO raw."{e.table}" ({cols}) VALUES ({marks})', rows)
        for sql in extra_sql:
            con.execute(sql)
    finally:
        con.close()
