"""dbt's parse kept between processes (mwdata.transform.parse_cache): shared only where it is the
same parse, each store still built in its own file, a damaged or unwritable cache never fails a run."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from mwdata.config import Config
from mwdata.transform import parse_cache
from mwdata.transform.runner import _vars, profile, run_dbt
from tests.transform.fixtures import load_duckdb, read_samples

pytestmark = pytest.mark.slow(seconds=85)  # scheduled first (tests/conftest.py)

MODEL = "stg_moveworks__conversations"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache for the module (each parse costs ~8 s); the tests run in file order."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(parse_cache.CACHE_ENV, str(root))
        parse_cache.project_copy.cache_clear()
        parse_cache._LOADED.clear()
        yield root
    parse_cache.project_copy.cache_clear()
    parse_cache._LOADED.clear()


def _build(db: Path) -> None:
    result = run_dbt(
        Config(store=str(db)),
        ["build", "--resource-type", "seed", "--resource-type", "model", "--select", f"+{MODEL}"],
    )
    assert not result.errors, [(r.name, r.message) for r in result.errors]


def _rows(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute(f"SELECT count(*) FROM analytics_staging.{MODEL}").fetchone()[0])  # type: ignore[index]


def _parses(root: Path) -> list[Path]:
    return sorted(root.rglob("*.msgpack"))


def test_stores_named_alike_share_a_parse_and_each_is_built_in_its_own_file(
    cache: Path, tmp_path: Path, samples_dir: Path
) -> None:
    full, empty, other = tmp_path / "a" / "s.duckdb", tmp_path / "b" / "s.duckdb", tmp_path / "c" / "t.duckdb"
    for db in (full, empty, other):
        db.parent.mkdir()
    load_duckdb(full, read_samples(samples_dir))
    load_duckdb(empty, {})
    load_duckdb(other, read_samples(samples_dir))
    _build(full)
    [kept] = _parses(cache)
    parse_cache._LOADED.clear()  # as a new process would: from the file
    before = kept.stat().st_mtime_ns
    _build(empty)
    assert _parses(cache) == [kept] and kept.stat().st_mtime_ns == before  # reused, not parsed again
    assert _rows(full) > 0 and _rows(empty) == 0  # the empty store's model is its own
    _build(other)  # another database name: another parse
    assert len(_parses(cache)) == 2 and _rows(other) == _rows(full)
    for p in [cache, *cache.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        if p.is_dir() and p.parent.name != "project" and "project" not in p.parts:
            assert mode == 0o700, (p, oct(mode))
        elif p.suffix == ".msgpack":
            assert mode == 0o600, (p, oct(mode))


def test_a_damaged_parse_is_parsed_again_and_replaced(cache: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    load_duckdb(db, {})
    _build(db)
    [kept] = [
        p
        for p in _parses(cache)
        if p.stem == parse_cache.key(profile(Config(store=str(db)))[0], _vars(Config()))
    ]
    kept.write_bytes(kept.read_bytes()[:1000])  # truncated, as by a full disk
    parse_cache._LOADED.clear()
    _build(db)
    parse_cache._LOADED.clear()
    assert kept.stat().st_size > 1000 and parse_cache.load(kept.stem) is not None  # replaced


def test_an_unwritable_cache_directory_only_costs_the_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv(parse_cache.CACHE_ENV, str(blocker / "cache"))
    parse_cache.project_copy.cache_clear()
    try:
        db = tmp_path / "s.duckdb"
        load_duckdb(db, {})
        _build(db)
        assert _rows(db) == 0
    finally:
        parse_cache.project_copy.cache_clear()
