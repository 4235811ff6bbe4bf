"""The test suite's process hygiene: a started tree is stopped whole, and an orphan is still found."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests import procs

# A parent that ignores SIGTERM and starts a child in a session of its own that ignores it too (as
# `mwdata dashboard` starts Streamlit): the hardest tree to stop.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                  "print('child', flush=True); time.sleep(120)"], start_new_session=True)
time.sleep(120)
"""


def _start() -> tuple[subprocess.Popen[str], int]:
    p = procs.spawn([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "child"
    (kid,) = procs.descendants(p.pid)
    assert os.getpgid(kid) != os.getpgid(p.pid)  # out of the parent's group: killpg alone misses it
    return p, kid


def test_stop_tree_ends_every_process_of_the_tree() -> None:
    p, kid = _start()
    assert {p.pid, kid} <= {pid for pid, _ in procs.leftovers(wait=0)}
    procs.stop_tree(p, grace=0.5)
    assert not procs.alive(p.pid) and not procs.alive(kid)
    assert not {p.pid, kid} & {pid for pid, _ in procs.leftovers(wait=0)}


def test_an_orphan_is_still_found_by_its_mark() -> None:
    p, kid = _start()
    try:
        os.kill(p.pid, signal.SIGKILL)  # the parent dies; its child is re-parented, not stopped
        p.wait()
        assert procs.alive(kid)
        assert kid in {pid for pid, _ in procs.leftovers(wait=0)}  # the session-end check sees it
    finally:
        os.kill(kid, signal.SIGKILL)
    assert kid not in {pid for pid, _ in procs.leftovers(wait=2)}
