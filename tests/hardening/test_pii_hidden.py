"""Issue 16 item 3 (b, c): with pii = hash|drop no relation of the target schemas holds a plaintext
e-mail, name or utterance (match keys included); e-mails are hashed with a keyed digest of the secret
salt (unsalted md5/sha256 of the HR list match nothing, another salt gives other hashes); the salt and
the key reach neither dbt's run directory (compiled SQL, manifest, logs, profile) nor the store."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mwdata.config import Config
from mwdata.errors import ConfigError
from mwdata.metrics.exports import build
from mwdata.transform import parse_cache
from mwdata.transform.runner import pii_key
from tests.transform import hr_cases, pii_cases
from tests.transform.fixtures import load_duckdb

SALT = "correct horse battery staple 16"


def _query(db: Path) -> pii_cases.Query:
    def run(sql: str) -> Sequence[tuple[Any, ...]]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute(sql).fetchall()

    return run


@pytest.fixture(scope="module", params=["hash", "drop"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, Config, list[Path], Any]:
    mode = request.param
    tmp = tmp_path_factory.mktemp(f"pii-{mode}")
    db = tmp / "s.duckdb"
    load_duckdb(db, pii_cases.records())
    hr = pii_cases.write_hr_csv(tmp / "hr.csv")
    cfg = Config(
        store=str(db), transform=pii_cases.transform(mode, SALT if mode == "hash" else None, hr_file=str(hr))
    )
    with pytest.MonkeyPatch.context() as mp, pii_cases.kept_run_dirs(mp, tmp / "runs") as kept:
        result = build(cfg)
    return mode, db, cfg, kept, result


def test_no_plaintext_pii_in_any_relation_of_the_target_schemas(built: Any) -> None:
    mode, db, _, _, result = built
    assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
    n, found = pii_cases.scan(_query(db), pii_cases.plaintext())
    assert n >= 30 and not found, found
    # the same scan finds them in raw: it can fail
    _, in_raw = pii_cases.scan(_query(db), pii_cases.plaintext(), schema="raw")
    assert {"raw.users.email_addr", "raw.hr_employees.email", "raw.interactions.detail"} <= in_raw.keys()


def test_the_hr_match_still_works_on_digests(built: Any) -> None:
    mode, db, _, _, _ = built
    got = {
        str(uid): (emp, how)
        for uid, emp, how in _query(db)(
            "SELECT user_id, employee_id, hr_match FROM analytics_intermediate.int_moveworks__users_enriched "
            "WHERE hr_row_id IS NOT NULL"
        )
    }
    assert got == hr_cases.EXPECTED


def test_emails_are_keyed_digests_of_the_salt(built: Any, tmp_path: Path) -> None:
    mode, db, cfg, _, _ = built
    emails = dict(_query(db)("SELECT user_id, email FROM analytics.moveworks__users"))
    if mode == "drop":
        assert set(emails.values()) == {None}
        return
    key = pii_key(cfg)
    assert key is not None
    assert emails["8"] == pii_cases.keyed(key, "kat@example.com")
    _, found = pii_cases.scan(_query(db), pii_cases.unsalted_digests())
    assert not found, found
    # another salt, other hashes (a copy of the store, users only)
    (tmp_path / "other").mkdir()
    other = tmp_path / "other" / "s.duckdb"  # the name shared by built test stores (tests/duck.py)
    shutil.copy(db, other)
    cfg2 = Config(
        store=str(other), transform=pii_cases.transform("hash", SALT + "!", hr_file=cfg.transform.hr_file)
    )
    assert not build(cfg2, select=["+moveworks__users"]).errors
    emails2 = dict(_query(other)("SELECT user_id, email FROM analytics.moveworks__users"))
    assert emails2.keys() == emails.keys()
    assert all(emails2[u] != emails[u] and len(emails2[u]) == 64 for u in emails)


def test_salt_and_key_reach_no_run_file_and_not_the_store(built: Any) -> None:
    mode, db, cfg, kept, _ = built
    key = pii_key(cfg)
    assert key is not None
    secrets = [key] + ([SALT] if mode == "hash" else [])
    assert len(kept) == 2  # dbt build (models) and dbt test
    for run in kept:
        names = {p.name for p in run.rglob("*")}
        assert "profiles.yml" in names, names  # the files were kept
        assert "dbt.log" not in names  # dbt keeps no log file of its own (--log-level-file none)
        assert pii_cases.files_containing(run, secrets) == []
    parses = list(parse_cache.cache_root().rglob("*.msgpack"))  # the parse kept between processes
    assert parses and all(pii_cases.files_containing(p.parent, secrets) == [] for p in parses)
    assert not [s for s in secrets if s.encode() in db.read_bytes()]
    # no view definition holds the key; with PII hidden there is none left: the staging models holding
    # PII are tables for the key's sake, the event entities' because they are incremental
    views = _query(db)("SELECT sql FROM duckdb_views() WHERE NOT internal")
    assert not [v for (v,) in views if any(s in (v or "") for s in secrets)]
    tables = _query(db)("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'analytics_staging'")
    assert tables[0][0] == 7


def test_hash_without_a_salt_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    load_duckdb(db, {})
    with pytest.raises(ConfigError, match=r'pii = "hash" needs a secret salt.*MWDATA_PII_SALT'):
        build(Config(store=str(db), transform=pii_cases.transform("hash")))
