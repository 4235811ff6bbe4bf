"""An OS file lock next to the store (`<store>.lock`): two syncs never write the same store at once.

`flock` is released by the kernel when the holder dies (even by SIGKILL), so a crash never leaves a
stale lock behind; the file keeps the holder's pid only to name it in the error message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from mwdata.errors import LockedError, StoreError


class FileLock:
    def __init__(self, path: str | os.PathLike[str], what: str = "store") -> None:
        self.path = Path(path)
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {self.path}: {exc.strerror}") from None
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
