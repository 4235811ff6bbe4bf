"""`mwdata run`: sync -> build -> check -> report, then the store's health, then the alert.

Each step is a call into its layer's Python API (never a subprocess), so a failing step surfaces
its own `MwdataError` and `mwdata run` exits with that error's code. `mwdata demo` (`ops.demo`)
drives the same steps over a simulated tenant.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from rich.progress import Progress

from mwdata import ops
from mwdata.config import Config
from mwdata.errors import FreshnessError, MwdataError, TransformError

log = logging.getLogger("mwdata.run")

Step = Callable[[], str]


def sync_step(cfg: Config, progress: Progress | None = None, now: datetime | None = None) -> str:
    from mwdata.sync.pipeline import sync
    from mwdata.sync.runner import SyncOptions

    task = progress.add_task("sync", total=None) if progress is not None else None

    def on_rows(entity: str, rows: int, window_done: bool) -> None:
        if progress is not None and task is not None:
            progress.update(task, advance=rows, description=f"sync {entity}")

    result = sync(cfg, SyncOptions(now=now), progress=on_rows)
    err = result.first_error()
    if err is not None:
        raise err
    if progress is not None and task is not None:
        progress.update(task, total=result.rows, completed=result.rows, description="sync")
    return f"{result.rows:,} rows in run {result.run_id}"


def _transform_api() -> Any:
    try:
        from mwdata import transform
    except ImportError as exc:  # pragma: no cover - the transform layer ships with mwdata
        raise TransformError(f"the transform layer is not installed: {exc}") from None
    if not (hasattr(transform, "build") and hasattr(transform, "check")):
        raise TransformError("this mwdata has no transform layer (mwdata.transform.build/check) yet")
    return transform


def build_step(cfg: Config, built: list[Any] | None = None, full_refresh: bool = False) -> str:
    """Build the models and their exports and run the data tests (appended to `built`);
    `full_refresh`: the incremental models rebuilt whole."""
    _transform_api()
    from mwdata.metrics.exports import build

    result = build(cfg, full_refresh=full_refresh)
    if built is not None:
        built.append(result)
    return str(getattr(result, "summary", "") or "models built")


def check_step(cfg: Config, built: list[Any] | None = None) -> str:
    """The data-quality checks; right after a build (`built`), its tests are judged, not rerun."""
    result = _transform_api().check(cfg, built=built[-1] if built else None)
    return str(getattr(result, "summary", "") or "checks passed")


def report_step(cfg: Config, days: int, email: bool) -> str:
    from mwdata.report.render import make_report

    rep = make_report(cfg, days=days, email=email)
    return f"{rep.html} (+{len(rep.csvs)} CSV files)" + (
        f", e-mailed to {len(cfg.report.mail_to)}" if email else ""
    )


def steps(
    cfg: Config, report: bool = True, days: int = 7, email: bool = False, full_refresh: bool = False
) -> Iterator[tuple[str, Step]]:
    """The steps of `mwdata run`, in order (lazily, so a failure stops the rest)."""
    built: list[Any] = []
    yield "sync", lambda: sync_step(cfg)
    yield "build", lambda: build_step(cfg, built, full_refresh)
    yield "check", lambda: check_step(cfg, built)
    if report:
        yield "report", lambda: report_step(cfg, days, email)


def run(
    cfg: Config,
    *,
    report: bool = True,
    days: int = 7,
    email: bool = False,
    alert_on_success: bool = False,
    full_refresh: bool = False,
) -> None:
    """Run the steps, read the store's health, alert when asked or needed; raise what went wrong.

    A failing step stops the rest and its `MwdataError` is raised (its exit code is the run's); a
    bug in a step is alerted with its type only (a foreign message may hold anything), then re-raised
    so its traceback reaches the log; stale data after good steps raises `FreshnessError` (exit 10).
    """
    failed: tuple[str, MwdataError] | None = None
    crash: Exception | None = None
    for name, step in steps(cfg, report=report, days=days, email=email, full_refresh=full_refresh):
        t0 = time.monotonic()
        try:
            detail = step()
        except MwdataError as err:
            log.error("step %s failed: %s", name, err, extra={"data": {"step": name}})
            failed = (name, err)
            break
        except Exception as exc:  # a bug: alert all the same, then let its traceback out (exit 1)
            crash = exc
            failed = (name, MwdataError(f"unexpected {type(exc).__name__}; the traceback is in the log"))
            log.error("step %s crashed: %s", name, failed[1], extra={"data": {"step": name}})
            break
        log.info(
            "step %s done in %.1f s%s",
            name,
            time.monotonic() - t0,
            f": {detail}" if detail else "",
            extra={"data": {"step": name}},
        )
    try:
        problems = ops.findings(cfg, ops.read_status(cfg), datetime.now(UTC))
    except MwdataError as err:  # an unreadable store is reported by the failing step already
        log.warning("store health not read: %s", err)
        problems = []
    for p in problems:
        log.warning("%s", p.message, extra={"data": {"finding": p.kind, "entity": p.entity}})
    if failed or problems or alert_on_success:
        ops.alert(
            cfg,
            problems=problems,
            step=failed[0] if failed else None,
            error=failed[1] if failed else None,
        )
    if crash is not None:
        raise crash
    if failed:
        raise failed[1]
    if problems:
        raise FreshnessError("; ".join(p.message for p in problems))
