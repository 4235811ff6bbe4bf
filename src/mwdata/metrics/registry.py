"""The metric registry: the metrics of the dbt semantic layer, read from the semantic manifest.

One definition per metric, in the dbt project (`models/semantic/metrics.yml`); this module only
reads it (mwdata's own fields are in each metric's `config.meta`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from mwdata.errors import MwdataError
from mwdata.metrics import manifest

KINDS = ("plain", "retention", "undated_denominator", "share_of_total", "bundle")
_DIMENSION = re.compile(r"Dimension\('([a-z_]+)'\)")


class MetricError(MwdataError, KeyError):
    """An unknown metric, or a query the metric cannot answer (unknown dimension, grain)."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class SemanticModel:
    name: str
    table: str  # the mart
    primary_entity: str | None
    entities: tuple[str, ...]
    dimensions: tuple[str, ...]
    time_dimension: str
    time_dimensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    type: str  # simple | ratio | derived | cumulative (MetricFlow's)
    source: str  # moveworks | project | part (a building block of another metric)
    grain: str
    format: str
    page: str | None
    dimensions: tuple[str, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    kind: str = "plain"
    numerator: str | None = None
    denominator: str | None = None
    inputs: tuple[str, ...] = ()  # metrics a derived metric reads
    measures: tuple[str, ...] = ()  # the measures it aggregates, through its inputs
    filters: tuple[str, ...] = ()  # MetricFlow where templates of the metric itself
    reading: str | None = None  # where mwdata's reading of a published definition differs
    reference: str | None = None
    part_of: str | None = None
    bundle: dict[str, str] = field(default_factory=dict)
    share_of: str | None = None  # share_of_total: the dimension its denominator drops

    @property
    def published(self) -> bool:
        return self.source == "moveworks"

    @property
    def is_ratio(self) -> bool:
        return self.type == "ratio" or self.kind == "retention"

    @property
    def is_part(self) -> bool:
        return self.part_of is not None

    @property
    def semantic_models(self) -> tuple[SemanticModel, ...]:
        by_measure = _measure_models()
        seen: dict[str, SemanticModel] = {}
        for ms in self.measures:
            sm = by_measure[ms]
            seen.setdefault(sm.name, sm)
        return tuple(seen.values())

    @property
    def marts(self) -> tuple[str, ...]:
        return tuple(sm.table for sm in self.semantic_models)

    def filter_dimensions(self) -> tuple[str, ...]:
        """Qualified dimensions the metric's own filters name (e.g. notification__is_interception)."""
        return tuple(d for f in self.filters for d in _DIMENSION.findall(f))


def _semantic_model(raw: dict[str, Any]) -> SemanticModel:
    ents = raw.get("entities") or []
    primary = next((e["name"] for e in ents if e["type"] == "primary"), None)
    return SemanticModel(
        name=raw["name"],
        table=raw["node_relation"]["alias"],
        primary_entity=primary,
        entities=tuple(e["name"] for e in ents),
        dimensions=tuple(d["name"] for d in raw.get("dimensions") or [] if d["type"] == "categorical"),
        time_dimension=(raw.get("defaults") or {}).get("agg_time_dimension") or "",
        time_dimensions=tuple(d["name"] for d in raw.get("dimensions") or [] if d["type"] == "time"),
    )


@cache
def semantic_models() -> dict[str, SemanticModel]:
    return {sm["name"]: _semantic_model(sm) for sm in manifest.raw()["semantic_models"]}


@cache
def _measure_models() -> dict[str, SemanticModel]:
    out = {}
    for raw in manifest.raw()["semantic_models"]:
        for ms in raw.get("measures") or []:
            out[ms["name"]] = semantic_models()[raw["name"]]
    return out


def _ref(x: Any) -> str | None:
    return None if x is None else str(x["name"] if isinstance(x, dict) else x)


def _metric(raw: dict[str, Any]) -> Metric:
    meta = (raw.get("config") or {}).get("meta") or {}
    tp = raw.get("type_params") or {}
    names = meta.get("parameters") or []
    values = manifest.dbt_vars()
    missing = [n for n in names if n not in values]
    if missing:
        raise MetricError(f"metric {raw['name']}: parameter(s) {', '.join(missing)} are not dbt vars")
    where = (raw.get("filter") or {}).get("where_filters") or []
    return Metric(
        name=raw["name"],
        label=raw.get("label") or raw["name"],
        description=" ".join(str(raw.get("description") or "").split()),
        type=raw["type"],
        source="part" if meta.get("part_of") else str(meta.get("source", "project")),
        grain=str(meta.get("grain", "day")),
        format=str(meta.get("format", "number")),
        page=meta.get("page"),
        dimensions=tuple(meta.get("dimensions") or ()),
        parameters={n: values[n] for n in names},
        kind=str(meta.get("kind", "plain")),
        numerator=_ref(tp.get("numerator")),
        denominator=_ref(tp.get("denominator")),
        inputs=tuple(_ref(m) or "" for m in tp.get("metrics") or ()),
        measures=tuple(dict.fromkeys(m["name"] for m in tp.get("input_measures") or ())),
        filters=tuple(w["where_sql_template"] for w in where),
        reading=meta.get("reading"),
        reference=meta.get("reference"),
        part_of=meta.get("part_of"),
        bundle=dict(meta.get("bundle") or {}),
        share_of=meta.get("share_of"),
    )


@cache
def _load() -> tuple[Metric, ...]:
    out = tuple(_metric(m) for m in manifest.raw()["metrics"])
    bad = [m.name for m in out if m.kind not in KINDS]
    if bad:
        raise MetricError(f"unknown meta kind on {', '.join(bad)}; known: {', '.join(KINDS)}")
    return tuple(sorted(out, key=lambda m: (m.is_part, m.source != "moveworks", _order().get(m.name, 0))))


@cache
def _order() -> dict[str, int]:
    """File order of the metrics YAML (the manifest sorts by name)."""
    import yaml

    path = manifest.PROJECT_FILE.parent / "models" / "semantic" / "metrics.yml"
    doc = yaml.safe_load(path.read_text())
    return {m["name"]: i for i, m in enumerate(doc["metrics"])}


def load_registry(include_parts: bool = False) -> list[Metric]:
    """Every metric of the semantic layer (headline metrics first, in file order); with
    include_parts, the building blocks (numerators, denominators) too."""
    return [m for m in _load() if include_parts or not m.is_part]


def get_metric(name: str) -> Metric:
    for m in _load():
        if m.name == name:
            return m
    known = ", ".join(m.name for m in load_registry())
    raise MetricError(f"unknown metric {name!r}; known: {known}")


def parameters() -> dict[str, Any]:
    """Every dbt var of the project (the metric parameters among them), from dbt_project.yml."""
    return dict(manifest.dbt_vars())


_COUNTED_IF = re.compile(r"case when (.+) then 1 else 0 end", re.IGNORECASE | re.DOTALL)
_DIMENSION_TEMPLATE = re.compile(r"\{\{\s*Dimension\('([a-z_]+?)__([a-z_]+)'\)\s*\}\}")


def row_condition(name: str) -> tuple[str, str]:
    """The mart and the SQL condition of the rows a count metric counts: its measure's condition
    (`count` of every row, or `sum` of `case when <condition> then 1 else 0 end`) and its own filter.
    The drill-down lists the rows behind a number with it, so the list and the number share one
    definition. MetricError for a metric that is not a count of rows."""
    m = get_metric(name)
    if m.type != "simple" or len(m.measures) != 1:
        raise MetricError(f"metric {name} is not a count of rows of one mart")
    sm_raw = next(
        s for s in manifest.raw()["semantic_models"] if any(x["name"] == m.measures[0] for x in s["measures"])
    )
    measure = next(x for x in sm_raw["measures"] if x["name"] == m.measures[0])
    parts: list[str] = []
    if measure["agg"] != "count":
        hit = _COUNTED_IF.fullmatch(str(measure.get("expr") or "").strip())
        if measure["agg"] != "sum" or hit is None:
            raise MetricError(
                f"metric {name} is not a count of rows ({measure['agg']} of {measure.get('expr')})"
            )
        parts.append(hit.group(1))
    sm = semantic_models()[sm_raw["name"]]
    columns = {d["name"]: d.get("expr") or d["name"] for d in sm_raw.get("dimensions") or []}

    def column(hit: re.Match[str]) -> str:
        entity, dim = hit.groups()
        if entity != sm.primary_entity or dim not in columns:
            raise MetricError(f"metric {name}: filter on {entity}__{dim} is not a column of {sm.table}")
        return str(columns[dim])

    parts += [_DIMENSION_TEMPLATE.sub(column, f) for f in m.filters]
    return sm.table, " AND ".join(f"({p})" for p in parts) if parts else "TRUE"
