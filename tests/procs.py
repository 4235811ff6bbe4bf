"""Processes the tests start: each in a session of its own, stopped with its whole process tree, and a
session-end check that none of them (or their children) outlives the test session.

Every process started under pytest inherits `OWNER_ENV` (this pytest process's pid, set in
`tests/conftest.py`); `leftovers()` finds the ones still running by that mark in `/proc/<pid>/environ`,
even after they were orphaned and re-parented.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

OWNER_ENV = "PYTEST_MWDATA_OWNER"
GRACE_SECONDS = 10.0


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (children first), from /proc/<pid>/task/*/children."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                kids = [int(k) for k in (task / "children").read_text().split()]
                out += kids
                todo += kids
    return out


def spawn(cmd: list[str], **kw: Any) -> subprocess.Popen[Any]:
    """`subprocess.Popen` in a new session (its own process group), to be ended by `stop_tree`."""
    kw.setdefault("start_new_session", True)
    return subprocess.Popen(cmd, **kw)


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def stop_tree(proc: subprocess.Popen[Any], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM `proc` and its process group (a clean stop: `mwdata dashboard` stops its Streamlit),
    then SIGKILL whatever of the tree (children in other groups included) is left after `grace`."""
    tree = [proc.pid, *descendants(proc.pid)]
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM) if os.getpgid(proc.pid) == proc.pid else proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    tree += [d for d in descendants(proc.pid) if d not in tree]
    deadline = time.monotonic() + grace
    while any(alive(p) for p in tree[1:]) and time.monotonic() < deadline and proc.poll() is not None:
        time.sleep(0.1)  # the root is gone: give its children the rest of the grace to finish
    for p in tree:
        if alive(p):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(os.getpgid(p), signal.SIGKILL)
            _kill(p, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    deadline = time.monotonic() + grace
    while any(alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.05)  # SIGKILL is delivered asynchronously: wait until the tree is really gone
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _owned_by(pid: int, owner: str) -> bool:
    try:
        env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"{OWNER_ENV}={owner}".encode() in env


# Helpers the interpreter itself starts and ends with this process (not servers a test forgot).
INTERPRETER_HELPERS = (
    "from multiprocessing.resource_tracker import main",
    "from multiprocessing.forkserver import main",
)


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def leftovers(owner: int | None = None, wait: float = 5.0) -> list[tuple[int, str]]:
    """Live processes carrying this pytest process's mark, other than itself and the interpreter's own
    multiprocessing helpers, after up to `wait` seconds (a process stopped just now may still be on
    its way out): `(pid, command line)`."""
    me = os.getpid()
    mark = str(me if owner is None else owner)
    deadline = time.monotonic() + wait
    while True:
        found = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit() and int(d.name) != me and _owned_by(int(d.name), mark) and alive(int(d.name)):
                with contextlib.suppress(OSError):
                    cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    if _parent(int(d.name)) == me and any(h in cmd for h in INTERPRETER_HELPERS):
                        continue
                    found.append((int(d.name), cmd[:200]))
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)
