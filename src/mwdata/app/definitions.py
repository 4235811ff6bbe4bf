"""Metric definitions shown next to every number: read from the metric registry (mwdata.metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Definition:
    name: str
    label: str
    description: str
    published: bool  # True: Moveworks' published definition; False: a project definition

    @property
    def text(self) -> str:
        origin = "Moveworks' published definition" if self.published else "mwdata project definition"
        return f"{self.description} ({origin})"


@cache
def definition(name: str) -> Definition:
    """The registry's definition of a metric; KeyError names the metric when the registry lacks it."""
    from mwdata.metrics import get_metric

    m = get_metric(name)
    label = getattr(m, "label", None) or name.replace("_", " ").capitalize()
    description = str(getattr(m, "description", "") or "").strip()
    published = getattr(m, "published", None)
    if published is None:
        published = str(getattr(m, "definition", getattr(m, "origin", ""))).lower().startswith("publish")
    return Definition(name=name, label=str(label), description=description, published=bool(published))
