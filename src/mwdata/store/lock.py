"""An OS file lock next to the store (`<store>.lock`): two syncs never write the same store at once.

`flock` is released by the kernel when the holder dies (even by SIGKILL), so a crash never leaves a
stale lock behind; the file keeps the holder's pid only to name it in the error message, and so
that `mwdata status` can tell a running sync from one that died (`holder()`).
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from mwdata.errors import LockedError, StoreError


def not_permitted(file: str | os.PathLike[str], folder: Path, why: str, verb: str = "write") -> StoreError:
    """`file` next to the store cannot be written (or read): the one message for every such case."""
    able = "readable" if verb == "read" else "writable"
    return StoreError(
        f"cannot {verb} {file}: {why}. The store and its folder {folder} must be {able} by this user "
        f"(uid {os.getuid()}): the store, its .wal and its .lock live there. Fix the owner or mode "
        "(chown/chmod), or point [store] (or MWDATA_STORE) at another place"
    )


def folder_error(path: Path, exc: OSError, what: str) -> StoreError:
    """A clear message for a file mwdata must create next to the store (the lock file)."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "read-only file system" if exc.errno == errno.EROFS else "permission denied"
        return not_permitted(path, path.parent, why)
    return StoreError(f"cannot create {what} {path}: {exc.strerror or exc}")


class FileLock:
    def __init__(self, path: str | os.PathLike[str], what: str = "store") -> None:
        self.path = Path(path)
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise folder_error(self.path, exc, "the lock file") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockedError(
                f"another mwdata sync (pid {holder}) is writing {self.what}; wait for it to finish, "
                f"or stop that process (the lock {self.path} is released as soon as it exits)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(path: str | os.PathLike[str]) -> int | None:
    """The pid of the live process holding the lock at `path`, or None if nobody holds it.

    Read without taking the lock in the usual cases: the file is emptied on release, and a pid that
    is no longer alive died holding it (SIGKILL, a crash). Only when the pid is alive — it may have
    been reused by an unrelated process — a shared lock is tried for an instant to be sure."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        text = os.pread(fd, 64, 0).decode(errors="replace").strip()
        if not text.isdigit():
            return None
        pid = int(text)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:  # alive, owned by another user
            pass
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return pid
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
