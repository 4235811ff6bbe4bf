"""Dagster definitions of mwdata's nightly chain: `pip install 'mwdata[dagster]'`, then

    from mwdata.integrations.dagster import defs            # ./mwdata.toml or $MWDATA_CONFIG
    defs = definitions("/etc/mwdata/mwdata.toml")            # or an explicit configuration

What `mwdata run` does in one process, as Dagster assets with lineage (docs/operations.md):

- **sync**: one asset per entity of `[sync] entities` (`moveworks/<table>`, the keys dagster-dbt gives
  the dbt sources, so the lineage runs from the raw tables to the marts), materialised together by
  one `mwdata.sync.pipeline.sync` call (one lock, parents before children; a subset syncs only the
  selected entities). Each materialisation carries the entity's window checkpoint: rows, watermark,
  windows, pages, requests, retries, 429s, errors, run id. A failed entity (a missing scope, the API
  failing after retries) is not materialised and the step fails with mwdata's own error; the
  entities that did sync keep their materialisations.
- **store health** (asset checks on each sync asset, from `mwdata.ops.findings`, the code behind
  `mwdata status --check` and exit 10): `retention_threat` (ERROR: the last good sync is so old the
  API's 30-day retention will drop records the store never got, or the entity never synced) and
  `freshness` (WARN: no good sync for `max_freshness_hours`, the last sync failed, or activity data
  stalled). Each sync asset also gets a Dagster freshness policy from `[alerts]`: warn after
  `max_freshness_hours`, fail at the retention threat.
- **dbt**: the packaged dbt project through dagster-dbt (`@dbt_assets` over the manifest of
  `mwdata.transform.runner.manifest`), built by mwdata's own `build` (its profile, vars, PII key, HR
  extract and the metric layer's exports) rather than by dagster-dbt's CLI resource. The data tests
  become asset checks (a `warn` test is a failed WARN check); error-severity failures then fail the
  step with mwdata's `DataQualityError` (as `mwdata run`'s check step, exit 9), so the report is
  not made.
- **report**: `mwdata/report`, downstream of the marts (`mwdata.report.render.make_report`; DuckDB
  stores only, as `mwdata report`).

Runs use Dagster's in-process executor: the store has one writer at a time.
"""

# no `from __future__ import annotations`: Dagster reads the `context` annotations at definition time
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from dagster import AssetCheckExecutionContext, AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, dbt_assets

from mwdata import ops
from mwdata.catalog import RETENTION_DAYS
from mwdata.config import Config, load_config, store_kind
from mwdata.errors import ConfigError
from mwdata.read.stores import READABLE

SYNC_GROUP = "mwdata_sync"
DBT_GROUP = "mwdata_dbt"
REPORT_KEY = dg.AssetKey(["mwdata", "report"])
JOB_NAME = "mwdata_run"
DEFAULT_SCHEDULE = "30 8,20 * * *"  # as the cron example in docs/operations.md (UTC)
RETENTION_CHECK = "retention_threat"
FRESHNESS_CHECK = "freshness"
# ops.findings kinds: critical (data about to be lost, never synced) -> ERROR; the rest -> WARN.
ERROR_KINDS = (ops.RETENTION, ops.NEVER)
WARN_KINDS = (ops.FRESHNESS, ops.STALLED, ops.LAST_RUN_FAILED)
PASSED = ("pass", "success")


class _Translator(DagsterDbtTranslator):
    """dagster-dbt's default keys; mwdata's own group name for the dbt assets."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return DBT_GROUP


def definitions(
    config: str | os.PathLike[str] | Config | None = None,
    *,
    report_days: int = 7,
    schedule: str | None = DEFAULT_SCHEDULE,
) -> dg.Definitions:
    """Dagster `Definitions` for the configuration at `config` (a path; default `$MWDATA_CONFIG` or
    ./mwdata.toml, as the CLI), or a loaded `Config`. A path is read again at every run, so a
    rotated secret or a changed setting needs no reload of the code location. `schedule`: a cron
    expression (UTC) of the job `mwdata_run` (stopped until turned on), or None for no schedule."""
    cfg = config if isinstance(config, Config) else load_config(config)
    path = None if isinstance(config, Config) else config

    def current() -> Config:
        return cfg if isinstance(config, Config) else load_config(path)

    from mwdata.transform.runner import manifest as dbt_manifest

    manifest = dbt_manifest(cfg)
    translator = _Translator()
    sync_keys = _sync_keys(cfg, manifest, translator)
    assets: list[Any] = [
        _sync_assets(current, sync_keys, cfg),
        _dbt_assets(current, manifest, translator),
    ]
    if store_kind(cfg.store) in READABLE:
        assets.append(_report_asset(current, _mart_keys(manifest, translator), report_days))
    job = dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.all())
    schedules = (
        [
            dg.ScheduleDefinition(
                name=f"{JOB_NAME}_schedule",
                job=job,
                cron_schedule=schedule,
                execution_timezone="UTC",
                default_status=dg.DefaultScheduleStatus.STOPPED,
            )
        ]
        if schedule
        else []
    )
    return dg.Definitions(
        assets=assets,
        asset_checks=[_health_checks(current, sync_keys)],
        jobs=[job],
        schedules=schedules,
        executor=dg.in_process_executor,
    )


# -- sync -------------------------------------------------------------------------------------------
def _sync_keys(
    cfg: Config, manifest: Mapping[str, Any], translator: DagsterDbtTranslator
) -> dict[str, dg.AssetKey]:
    """Entity path -> the asset key dagster-dbt gives its dbt source (so dbt's staging depends on it)."""
    from mwdata.sync.runner import resolve_entities

    by_table = {
        (p["source_name"], p["name"]): uid for uid, p in manifest["sources"].items()
    }  # e.g. ("moveworks", "plugin_calls") -> source.mwdata_moveworks.moveworks.plugin_calls
    out: dict[str, dg.AssetKey] = {}
    for e in resolve_entities(cfg.sync.entities):
        uid = by_table.get(("moveworks", e.table))
        if uid is None:  # pragma: no cover - src_moveworks.yml is generated from the catalogue
            raise ConfigError(f"the dbt project has no source moveworks.{e.table}")
        out[e.path] = translator.get_asset_spec(manifest, uid, None).key
    return out


def _freshness_policy(cfg: Config) -> Any:
    fail = timedelta(days=RETENTION_DAYS - cfg.alerts.retention_margin_days)
    warn = timedelta(hours=cfg.alerts.max_freshness_hours)
    return dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=warn if warn < fail else None)


def _sync_assets(current: Any, keys: dict[str, dg.AssetKey], cfg: Config) -> dg.AssetsDefinition:
    from mwdata.catalog import entity as lookup

    policy = _freshness_policy(cfg)
    specs = [
        dg.AssetSpec(
            key,
            description=f"raw.{lookup(path).table}: the Data API's {path}, synced by mwdata "
            f"(upserts; the store keeps the history beyond the API's {RETENTION_DAYS} days)",
            group_name=SYNC_GROUP,
            kinds={"python", "duckdb" if cfg.is_duckdb else "sql"},
            skippable=True,
            freshness_policy=policy,
        )
        for path, key in keys.items()
    ]

    @dg.multi_asset(name="mwdata_sync", specs=specs, can_subset=True)
    def mwdata_sync(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult[Any]]:
        from mwdata.sync.pipeline import sync
        from mwdata.sync.runner import SyncOptions

        run_cfg = current()
        chosen = tuple(p for p, k in keys.items() if k in context.selected_asset_keys)
        result = sync(run_cfg, SyncOptions(entities=chosen))
        status = {s.entity: s for s in ops.read_status(run_cfg).entities}
        for r in result.entities:
            if r.error is not None:
                context.log.error("%s: %s", r.entity, r.error)
                continue
            yield dg.MaterializeResult(asset_key=keys[r.entity], metadata=_sync_metadata(r, result, status))
        err = result.first_error()
        if err is not None:
            raise err

    return mwdata_sync


def _sync_metadata(r: Any, result: Any, status: Mapping[str, Any]) -> dict[str, Any]:
    """An entity's window checkpoint after this run, as materialisation metadata."""
    st = status.get(r.entity)
    meta: dict[str, Any] = {
        "rows": r.rows,  # rows written by this run (upserts)
        "windows": r.windows,
        "pages": r.pages,
        "requests": r.stats.requests,
        "retries": r.stats.retries,
        "throttled_429": r.stats.throttled,
        "errors": r.stats.errors,
        "run_id": result.run_id,
        "upper_bound": dg.MetadataValue.timestamp(result.upper),
    }
    if st is not None:
        if st.watermark is not None:
            meta["watermark"] = dg.MetadataValue.timestamp(st.watermark)
        meta["rows_in_store"] = st.rows
        meta["pending_windows"] = st.pending_windows
    return meta


# -- store health -----------------------------------------------------------------------------------
def _health_checks(current: Any, keys: dict[str, dg.AssetKey]) -> dg.AssetChecksDefinition:
    specs = []
    for key in keys.values():
        specs.append(
            dg.AssetCheckSpec(
                RETENTION_CHECK,
                asset=key,
                description="ERROR when the last good sync is so old that the API's retention will drop "
                "records the store never received (or the entity never synced): run mwdata sync now",
            )
        )
        specs.append(
            dg.AssetCheckSpec(
                FRESHNESS_CHECK,
                asset=key,
                description="WARN when no sync succeeded for [alerts] max_freshness_hours, the last sync "
                "failed, or activity data stopped arriving although syncs succeed",
            )
        )
    by_key = {k: p for p, k in keys.items()}

    @dg.multi_asset_check(name="mwdata_store_health", specs=specs, can_subset=True)
    def mwdata_store_health(context: AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        run_cfg = current()
        now = datetime.now(UTC)
        st = ops.read_status(run_cfg)
        found = ops.findings(run_cfg, st, now)
        last_ok = {s.entity: s.last_success for s in st.entities}
        for ck in context.selected_asset_check_keys:
            entity = by_key[ck.asset_key]
            mine = [f for f in found if f.entity in (entity, None)]
            kinds = ERROR_KINDS if ck.name == RETENTION_CHECK else WARN_KINDS
            bad = [f for f in mine if f.kind in kinds]
            meta: dict[str, Any] = {"findings": [f"{f.kind}: {f.message}" for f in bad]}
            if last_ok.get(entity) is not None:
                meta["last_success"] = dg.MetadataValue.timestamp(last_ok[entity])
            yield dg.AssetCheckResult(
                asset_key=ck.asset_key,
                check_name=ck.name,
                passed=not bad,
                severity=dg.AssetCheckSeverity.ERROR
                if ck.name == RETENTION_CHECK
                else dg.AssetCheckSeverity.WARN,
                description="; ".join(f.message for f in bad) or None,
                metadata=meta,
            )

    return mwdata_store_health


# -- dbt --------------------------------------------------------------------------------------------
def _node_keys(
    manifest: Mapping[str, Any], translator: DagsterDbtTranslator
) -> tuple[dict[str, dg.AssetKey], dict[str, dg.AssetCheckKey]]:
    """dbt node name -> asset key (models, seeds, snapshots) and test name -> asset check key, as
    dagster-dbt derives them from the manifest (mwdata's run results name nodes, not unique ids)."""
    from dagster_dbt.asset_utils import get_asset_check_key_for_test

    assets: dict[str, dg.AssetKey] = {}
    checks: dict[str, dg.AssetCheckKey] = {}
    for uid, props in manifest["nodes"].items():
        kind = props["resource_type"]
        if kind in ("model", "seed", "snapshot"):
            assets[props["name"]] = translator.get_asset_spec(manifest, uid, None).key
        elif kind == "test":
            ck = get_asset_check_key_for_test(manifest, translator, uid, None)
            if ck is not None:
                checks[props["name"]] = ck
    return assets, checks


def _dbt_assets(current: Any, manifest: Mapping[str, Any], translator: DagsterDbtTranslator) -> Any:
    asset_keys, check_keys = _node_keys(manifest, translator)
    name_of = {k: n for n, k in asset_keys.items()}

    @dbt_assets(manifest=manifest, dagster_dbt_translator=translator, name="mwdata_dbt")
    def mwdata_dbt(context: AssetExecutionContext) -> Iterator[Any]:
        from mwdata.metrics.exports import build
        from mwdata.transform import check

        run_cfg = current()
        selected = context.selected_asset_keys
        select = (
            []
            if selected >= context.assets_def.keys
            else sorted(name_of[k] for k in selected if k in name_of)
        )
        result = build(run_cfg, select)  # raises TransformError (exit 8) when a model fails
        for r in result.results:
            if r.resource_type in ("model", "seed", "snapshot"):
                key = asset_keys.get(r.name)
                if key is not None and key in selected:
                    yield dg.MaterializeResult(
                        asset_key=key,
                        metadata={"status": r.status, "seconds": round(r.seconds, 3), "message": r.message},
                    )
            elif r.resource_type == "test":
                ck = check_keys.get(r.name)
                if ck is None or ck not in context.selected_asset_check_keys:
                    continue
                yield dg.AssetCheckResult(
                    asset_key=ck.asset_key,
                    check_name=ck.name,
                    passed=r.status in PASSED,
                    severity=dg.AssetCheckSeverity.WARN
                    if r.status == "warn" or r.severity == "warn"
                    else dg.AssetCheckSeverity.ERROR,
                    description=r.message or None,
                    metadata={"status": r.status, "failures": r.failures, "dbt_severity": r.severity},
                )
        # `mwdata run`'s check step: source freshness, then DataQualityError on an error-severity failure
        summary = check(run_cfg, built=result)
        context.log.info("checks: %s", summary.summary)

    return mwdata_dbt


def _mart_keys(manifest: Mapping[str, Any], translator: DagsterDbtTranslator) -> list[dg.AssetKey]:
    return [
        translator.get_asset_spec(manifest, uid, None).key
        for uid, p in manifest["nodes"].items()
        if p["resource_type"] == "model" and "marts" in p["fqn"]
    ]


# -- report -----------------------------------------------------------------------------------------
def _report_asset(current: Any, marts: list[dg.AssetKey], days: int) -> dg.AssetsDefinition:
    @dg.asset(
        key=REPORT_KEY,
        deps=marts,
        group_name="mwdata_report",
        kinds={"html"},
        description=f"The HTML report of the last {days} days with its CSV files ([report] output_dir)",
    )
    def mwdata_report() -> dg.MaterializeResult[Any]:
        from mwdata.report.render import make_report

        rep = make_report(current(), days=days)
        meta: dict[str, Any] = {
            "html": dg.MetadataValue.path(str(rep.html)),
            "csv_files": len(rep.csvs),
            "from": rep.filters.start.isoformat(),
            "to": rep.filters.end.isoformat(),
        }
        meta.update({f"kpi_{k}": float(v) for k, v in rep.kpis.items() if v is not None})
        return dg.MaterializeResult(metadata=meta)

    return mwdata_report


_DEFS: dg.Definitions | None = None


def __getattr__(name: str) -> Any:
    """`defs`: the definitions of `$MWDATA_CONFIG` or ./mwdata.toml, built on first use."""
    global _DEFS
    if name == "defs":
        if _DEFS is None:
            _DEFS = definitions()
        return _DEFS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["definitions", "defs"]  # noqa: F822 (defs: the lazy module attribute above)
