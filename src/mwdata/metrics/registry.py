"""The metric registry (`metrics.yml`): one definition per metric, loaded into `Metric` objects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mwdata.errors import MwdataError

REGISTRY_FILE = Path(__file__).resolve().parent / "metrics.yml"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class MetricError(MwdataError, KeyError):
    """An unknown metric, or a query the metric cannot answer (unknown dimension, grain)."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Part:
    """Numerator or denominator: an aggregate SQL expression over a mart."""

    mart: str
    sql: str
    date_column: str | None
    where: str | None = None
    filters: bool = True  # apply the caller's dimension filters to this part
    exclude_test_users: bool = True


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    source: str  # moveworks | project
    grain: str
    numerator: Part
    denominator: Part | None = None
    dimensions: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    kind: str = "ratio"  # ratio | retention
    queryable: bool = True

    @property
    def published(self) -> bool:
        return self.source == "moveworks"

    @property
    def mart(self) -> str:
        return self.numerator.mart

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None or self.kind == "retention"


def _part(d: dict[str, Any], where: str) -> Part:
    try:
        part = Part(
            mart=str(d["mart"]),
            sql=str(d["sql"]),
            date_column=d.get("date_column"),
            where=d.get("where"),
            filters=bool(d.get("filters", True)),
            exclude_test_users=bool(d.get("exclude_test_users", True)),
        )
    except KeyError as exc:
        raise MetricError(f"{where}: missing {exc.args[0]!r}") from None
    for ident in (part.mart, part.date_column):
        if ident is not None and not _IDENT.match(ident):
            raise MetricError(f"{where}: {ident!r} is not a plain identifier")
    return part


def parse(doc: dict[str, Any]) -> list[Metric]:
    out: list[Metric] = []
    for raw in doc.get("metrics", []):
        name = raw.get("name", "?")
        where = f"metric {name}"
        if raw.get("source") not in ("moveworks", "project"):
            raise MetricError(f"{where}: source must be moveworks or project")
        dims = tuple(raw.get("dimensions") or ())
        for d in dims:
            if not _IDENT.match(d):
                raise MetricError(f"{where}: dimension {d!r} is not a plain identifier")
        out.append(
            Metric(
                name=name,
                label=raw["label"],
                description=" ".join(str(raw["description"]).split()),
                source=raw["source"],
                grain=raw.get("grain", "day"),
                numerator=_part(raw["numerator"], where + " numerator"),
                denominator=_part(raw["denominator"], where + " denominator")
                if raw.get("denominator")
                else None,
                dimensions=dims,
                parameters=dict(raw.get("parameters") or {}),
                kind=raw.get("kind", "ratio"),
                queryable=bool(raw.get("queryable", True)),
            )
        )
    names = [m.name for m in out]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise MetricError(f"duplicate metric names: {', '.join(sorted(dupes))}")
    return out


@cache
def _load(path: str) -> tuple[Metric, ...]:
    return tuple(parse(yaml.safe_load(Path(path).read_text())))


def load_registry(path: str | Path | None = None) -> list[Metric]:
    """Every metric of the registry, in file order."""
    return list(_load(str(path or REGISTRY_FILE)))


def get_metric(name: str) -> Metric:
    for m in load_registry():
        if m.name == name:
            return m
    known = ", ".join(m.name for m in load_registry())
    raise MetricError(f"unknown metric {name!r}; known: {known}")
