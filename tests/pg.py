"""The test PostgreSQL server (MWDATA_TEST_PG_DSN): one throw-away database per use."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from mwdata.catalog import ENTITIES
from mwdata.store.schema import POSTGRES_TYPES, create_all_sql, raw_columns
from tests.transform.fixtures import rows_for

DSN = os.environ.get("MWDATA_TEST_PG_DSN")


@contextmanager
def fresh_database(prefix: str = "mwdata_t") -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards (even if clients are still
    connected). Yields its DSN (no password: the server trusts loopback)."""
    import psycopg2

    assert DSN is not None, "MWDATA_TEST_PG_DSN is not set"
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(DSN)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
        try:
            yield DSN.rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.close()


@contextmanager
def database_with(records: Mapping[str, list[dict[str, Any]]]) -> Iterator[str]:
    """A fresh database holding `records` in the raw tables (no primary key: versions may repeat);
    dropped afterwards. Yields its DSN."""
    import psycopg2

    with fresh_database() as dsn:
        con = psycopg2.connect(dsn)
        try:
            _fill(con, records)
            yield dsn
        finally:
            con.close()


def _fill(con: Any, records: Mapping[str, list[dict[str, Any]]]) -> None:
    with con, con.cursor() as cur:
        for stmt in create_all_sql(POSTGRES_TYPES):
            cur.execute(stmt.replace(',\n  PRIMARY KEY ("id")', ""))
        for e in ENTITIES:
            cols = ", ".join(f'"{c}"' for c, _ in raw_columns(e))
            marks = ", ".join("%s" for _ in raw_columns(e))
            cur.executemany(
                f'INSERT INTO raw."{e.table}" ({cols}) VALUES ({marks})',
                rows_for(e.path, records.get(e.path, [])),
            )
