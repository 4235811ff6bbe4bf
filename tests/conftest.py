"""Shared test fixtures. Layer-specific fixtures live in conftest.py files of subfolders."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES_DIR = REPO.parent / "shared" / "samples" / "moveworks-data-api-v1beta2"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The real Data API sample responses published by Moveworks (../shared, read-only)."""
    if not SAMPLES_DIR.is_dir():
        pytest.fail(f"real samples not found at {SAMPLES_DIR}; clone the repo beside ../shared")
    return SAMPLES_DIR


# --- simulator fixtures (owner: simulator, issue 2) ---------------------------------------------
@pytest.fixture(scope="session")
def small_dataset():  # type: ignore[no-untyped-def]
    """A generated dataset: 300 users, 25 days ending 2026-11-28 (deterministic, well under 2 s).

    25 days, not 35: tests may advance the clock a few days and still compare a sync with `truth()`
    without rows ageing out of the 30-day retention meanwhile (retention has its own tests)."""
    from datetime import UTC, datetime

    from mwdata.simulator import GeneratorConfig, generate

    return generate(GeneratorConfig(seed=1, users=300, days=25, end=datetime(2026, 11, 28, tzinfo=UTC)))


@pytest.fixture
def simulator(small_dataset):  # type: ignore[no-untyped-def]
    """Factory: `simulator(dataset=None, **knobs)` -> a started SimulatorServer, stopped at test end."""
    from mwdata.simulator import SimulatorConfig, SimulatorServer

    started: list = []

    def make(dataset=None, **knobs):  # type: ignore[no-untyped-def]
        sim = SimulatorServer(dataset if dataset is not None else small_dataset, SimulatorConfig(**knobs))
        started.append(sim.start())
        return sim

    yield make
    for sim in started:
        sim.stop()


_CACHE_KEY = pytest.StashKey[str]()


# --- no process outlives the session ----------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    """Mark every process the tests start (they inherit the environment) with this pytest's pid;
    under pytest-xdist each worker marks its own."""
    from tests.procs import OWNER_ENV

    os.environ[OWNER_ENV] = str(os.getpid())
    if "PYTEST_XDIST_WORKER" not in os.environ:
        # A cache directory per session, shared by the workers and the CLIs the tests start (they
        # inherit the environment; run_cli drops MWDATA_* variables, not this one): dbt's kept
        # parse (mwdata.transform.parse_cache), never the developer's own cache.
        os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="mwdata-test-cache-")
        config.stash[_CACHE_KEY] = os.environ["XDG_CACHE_HOME"]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CACHE_KEY in config.stash:
        shutil.rmtree(config.stash[_CACHE_KEY], ignore_errors=True)


# --- the long files first ----------------------------------------------------------------------
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files marked `slow(seconds=N)` (N: their wall time in a parallel run) come first, the longest
    first. `make test` runs pytest-xdist with `--dist loadfile --no-loadscope-reorder`, which hands
    files to the workers in this order: a long file started last would run alone at the end while
    the other workers idle (the suite is CPU-bound on 2 cores). The sort is stable: tests keep their
    order within a file, and the unmarked files theirs."""

    def cost(item: pytest.Item) -> float:
        mark = item.get_closest_marker("slow")
        return -float(mark.kwargs.get("seconds", 1)) if mark else 0.0

    items.sort(key=cost)


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_session():  # type: ignore[no-untyped-def]
    """Fails the session when a server (or any process) a test started is still running at the end:
    the suite once left `streamlit run` and `mwdata simulate` orphaned for hours. They are killed."""
    from tests.procs import leftovers

    yield
    left = leftovers()
    for pid, _ in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if left:
        pytest.fail(
            "processes started by the tests were still running at the end of the session (killed now): "
            + "; ".join(f"pid {pid}: {cmd}" for pid, cmd in left)
        )


# --- CI strictness -----------------------------------------------------------------------------
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under `.ci/run` (MWDATA_CI_STRICT=1) a skipped test is a failure: CI provides PostgreSQL and
    Chromium (and a JVM with the spark extra), so a skip there means a check silently did not run."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("MWDATA_CI_STRICT") == "1":
        report.outcome = "failed"
        report.longrepr = f"skipped under MWDATA_CI_STRICT=1: {report.longrepr}"


@pytest.fixture(autouse=True)
def _stores_closed():  # type: ignore[no-untyped-def]
    """Every store a test opens is closed by its end: an open store keeps this process's umask
    owner-only (see `mwdata.store.duckdb.private_files`), which would change later tests' files."""
    import mwdata.store.duckdb as duck

    before = duck._private_users
    yield
    assert duck._private_users == before, "a DuckDBStore was left open; close it (try/finally)"
