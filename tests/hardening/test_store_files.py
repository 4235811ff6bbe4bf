"""Issue 16, item 2 (the store-file half): the store and every file next to it are created owner-only
(0600 files, 0700 folders), so another local user cannot read e-mails and utterances; an existing
store keeps the mode its owner chose, with a warning when every local user can read it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from mwdata.store.base import Window
from mwdata.store.duckdb import DuckDBStore
from mwdata.store.lake import LakeStore
from tests.hardening.test_store_errors import INTER, NOW, api_server, env, recs, sync  # noqa: F401
from tests.sync.conftest import run_cli

NOBODY = 65534


def mode(p: Path) -> int:
    return p.stat().st_mode & 0o777


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder every local user can enter (pytest's tmp_path is root-only, which would hide a leak)."""
    d = Path(tempfile.mkdtemp(prefix="mwdata-shared-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def other_user_reads(p: Path) -> bool:
    if os.geteuid() != 0:
        pytest.skip("needs root to try the read as another local user (uid 65534)")
    r = subprocess.run(
        ["head", "-c", "16", str(p)], user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True
    )
    return r.returncode == 0


def test_new_store_and_lock_0600_unreadable_by_another_user(api_server, shared_dir: Path) -> None:  # noqa: F811
    srv = api_server({"interactions": recs(40)})
    store = shared_dir / "m.duckdb"
    r = sync(srv.url, store, shared_dir)
    assert r.returncode == 0, r.stderr
    assert mode(store) == 0o600 and mode(Path(f"{store}.lock")) == 0o600
    assert not other_user_reads(store)
    control = shared_dir / "control"  # the check itself can fail: a 0644 file is readable
    control.write_text("x")
    control.chmod(0o644)
    assert other_user_reads(control)


def test_the_wal_and_spool_are_private_while_writing_and_the_umask_comes_back(tmp_path: Path) -> None:
    before = os.umask(0o022)
    try:
        s = DuckDBStore(tmp_path / "m.duckdb")
        s.prepare()
        w = Window(INTER.path, NOW - timedelta(days=1), NOW)
        s.plan("r1", [w])
        s.start_run("r1", INTER, NOW, "{}")
        batch = recs(50)
        s.write(INTER, [s.encode(INTER, batch)], w, rows=50, last_id=batch[-1]["id"], pages=1, done=False,
                run_id="r1")  # fmt: skip
        wal = tmp_path / "m.duckdb.wal"
        assert wal.exists() and mode(wal) == 0o600
        assert s._spool is not None and mode(s._spool) == 0o700
        s.close()
        assert os.umask(0o022) == 0o022  # restored after the store closed
    finally:
        os.umask(before)


def test_an_existing_world_readable_store_is_left_alone_with_a_warning(api_server, tmp_path: Path) -> None:  # noqa: F811
    srv = api_server({"interactions": recs(10)})
    store = tmp_path / "m.duckdb"
    assert sync(srv.url, store, tmp_path).returncode == 0
    store.chmod(0o644)
    r = sync(srv.url, store, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "readable by every local user" in " ".join(r.stderr.split()) and "chmod 600" in r.stderr
    assert mode(store) == 0o644
    store.chmod(0o640)  # group-readable (e.g. a BI service account): intended, no warning
    r = sync(srv.url, store, tmp_path)
    assert r.returncode == 0 and "readable by every" not in r.stderr and mode(store) == 0o640


def test_lake_files_and_folders_are_private(api_server, shared_dir: Path) -> None:  # noqa: F811
    pytest.importorskip("dlt")
    srv = api_server({"interactions": recs(60)})
    lake = shared_dir / "lake"
    r = run_cli("sync", "-e", "interactions", env=env(srv.url, f"file://{lake}"), cwd=shared_dir)
    assert r.returncode == 0, r.stderr
    files = [p for p in lake.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files), files
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    dirs = [lake, *(p for p in lake.rglob("*") if p.is_dir())]
    assert {str(p): mode(p) for p in dirs} == {str(p): 0o700 for p in dirs}


def test_dlt_working_folder_is_private(tmp_path: Path) -> None:
    pytest.importorskip("dlt")
    s = LakeStore(tmp_path / "lake", "file://lake")
    try:
        s.prepare()
        s.pipeline  # noqa: B018 - makes dlt's working folder
        assert s._dlt_dir is not None and mode(Path(s._dlt_dir)) == 0o700
    finally:
        s.close()
