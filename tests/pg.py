"""The test PostgreSQL server (MWDATA_TEST_PG_DSN): one throw-away database per use."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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
