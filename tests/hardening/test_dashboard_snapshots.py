"""Issue 16 item 2: the dashboard's and the report's copies of the store are private and never left behind.

Before: `tempfile.gettempdir()/mwdata-snapshots-<hash of the store path>`, created with
`mkdir(exist_ok=True)` (a folder another user made beforehand was used), 0755 folder, 0644 files,
never removed.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mwdata.read import snapshot
from tests.app.conftest import mart_store  # noqa: F401 (fixture)

# Takes a snapshot with the default (private) folder, prints the folder and the file, then waits.
HOLDER = textwrap.dedent(
    """
    import sys, time
    from mwdata.read.snapshot import Store
    snap = Store(sys.argv[1]).refresh()
    print(snap.path.parent, snap.path, flush=True)
    if sys.argv[2] == "wait":
        time.sleep(60)
    """
)


@pytest.fixture
def store_600(mart_store: Path, tmp_path: Path) -> Path:  # noqa: F811
    """A copy of the mart store that only its owner can read, as an operator would keep it."""
    path = tmp_path / "private.duckdb"
    shutil.copyfile(mart_store, path)
    path.chmod(0o600)
    return path


@pytest.fixture
def fresh_private_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This test process's own snapshot folder, removed afterwards."""
    monkeypatch.setattr(snapshot, "_private", None)
    monkeypatch.delenv(snapshot.SNAPSHOT_ROOT_ENV, raising=False)
    yield
    snapshot.remove_private_dir()


def _holder(store: Path, mode: str) -> tuple[subprocess.Popen[str], Path, Path]:
    env = {k: v for k, v in os.environ.items() if k != snapshot.SNAPSHOT_ROOT_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store), mode], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    folder, file = proc.stdout.readline().split()
    return proc, Path(folder), Path(file)


def test_snapshot_folder_0700_and_files_0600(store_600: Path, fresh_private_dir: None) -> None:
    store = snapshot.Store(store_600)
    try:
        snap = store.refresh()
        folder = snap.path.parent
        assert folder.parent == Path(tempfile.gettempdir())
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert folder.stat().st_uid == os.getuid()
        files = list(folder.iterdir())
        assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
        # a replaced snapshot is removed: the store changes, the next refresh takes a new copy
        import duckdb

        with duckdb.connect(str(store_600)) as con:
            con.execute("CREATE TABLE analytics.touch AS SELECT 1 AS x")
        newer = store.refresh()
        assert newer.path != snap.path and not snap.path.exists()
        assert [f.name for f in folder.iterdir() if f.suffix == ".duckdb"] == [newer.path.name]
    finally:
        store.close()


def test_a_precreated_folder_with_the_old_name_is_not_used(store_600: Path, fresh_private_dir: None) -> None:
    digest = hashlib.sha256(str(store_600.resolve()).encode()).hexdigest()[:12]
    trap = Path(tempfile.gettempdir()) / f"mwdata-snapshots-{digest}"
    trap.mkdir(mode=0o777)
    trap.chmod(0o777)  # what another user would have made, readable and writable by all
    try:
        store = snapshot.Store(store_600)
        snap = store.refresh()
        assert snap.path.parent != trap
        assert list(trap.iterdir()) == []
        store.close()
    finally:
        shutil.rmtree(trap)


@pytest.mark.parametrize("how", ["exit", "SIGTERM", "SIGINT", "SIGHUP"])
def test_folder_removed_when_the_process_ends(store_600: Path, how: str) -> None:
    proc, folder, file = _holder(store_600, "exit" if how == "exit" else "wait")
    try:
        assert file.exists() or how == "exit"
        if how != "exit":
            proc.send_signal(getattr(signal, how))
        proc.wait(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert not folder.exists(), f"{folder} survived {how}"
    if how in ("SIGTERM", "SIGHUP"):  # the process still dies of its signal (after cleaning up)
        assert proc.returncode == -getattr(signal, how)


def _other_user() -> str | None:
    """An unprivileged account to read with (root can read anything, so the test needs another user)."""
    if os.getuid() != 0:
        return None
    for name in ("mwdata-other", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    made = subprocess.run(["useradd", "--no-create-home", "mwdata-other"], capture_output=True)
    return "mwdata-other" if made.returncode == 0 else None


def test_another_local_user_cannot_read_the_snapshot(store_600: Path) -> None:
    if os.getuid() != 0:
        pytest.skip(
            "needs root to act as a second local user (run the suite as root, e.g. in CI's container)"
        )
    user = _other_user()
    if user is None:
        pytest.skip("no second local user could be made (useradd failed and no `nobody` account)")
    proc, folder, file = _holder(store_600, "wait")
    try:
        assert (folder.stat().st_mode & 0o077) == 0

        def as_other(*cmd: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(list(cmd), user=user, capture_output=True, text=True, timeout=10)

        # the check can fail: that user reads a world-readable file next to the folder
        control = Path(tempfile.gettempdir()) / f"mwdata-control-{os.getpid()}"
        control.write_text("readable")
        control.chmod(0o644)
        try:
            assert as_other("cat", str(control)).stdout == "readable"
        finally:
            control.unlink()
        listing = as_other("ls", str(folder))
        reading = as_other("cat", str(file))
        assert listing.returncode != 0 and "Permission denied" in listing.stderr
        assert reading.returncode != 0 and "Permission denied" in reading.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert not folder.exists()


def test_unwritable_temp_dir_is_a_clear_store_error(
    store_600: Path, fresh_private_dir: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mwdata.errors import StoreError

    monkeypatch.setenv(snapshot.SNAPSHOT_ROOT_ENV, str(store_600.parent / "missing" / "root"))
    with pytest.raises(StoreError, match="cannot create a private snapshot folder in .*missing/root"):
        snapshot.Store(store_600).refresh()
