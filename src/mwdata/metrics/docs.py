"""Render docs/metrics.md from the registry (`mwdata metrics docs`; a test keeps the file current)."""

from __future__ import annotations

from mwdata.metrics.registry import Metric, Part, load_registry


def _part(p: Part) -> str:
    where = f" where `{p.where}`" if p.where else ""
    when = f", dated by `{p.date_column}`" if p.date_column else " (not dated: the whole table)"
    return f"`{p.sql}` over `{p.mart}`{where}{when}"


def _metric(m: Metric) -> list[str]:
    origin = "published by Moveworks" if m.published else "mwdata project definition"
    lines = [f"### {m.label} (`{m.name}`)", "", m.description, "", f"- Source: {origin}"]
    if m.kind == "retention":
        lines.append(
            f"- Numerator: users (`{m.numerator.sql}` of `{m.numerator.mart}`) active in the period and the previous one"
        )
        lines.append("- Denominator: users active in the previous period")
    else:
        lines.append(f"- Numerator: {_part(m.numerator)}")
        if m.denominator is not None:
            lines.append(f"- Denominator: {_part(m.denominator)}")
    lines.append(f"- Default grain: {m.grain}")
    if m.dimensions:
        lines.append(f"- Dimensions: {', '.join(f'`{d}`' for d in m.dimensions)}")
    if m.parameters:
        lines.append("- Parameters: " + ", ".join(f"`{k}` = {v}" for k, v in m.parameters.items()))
    if not m.queryable:
        lines.append("- Not a query of the marts: see `mwdata check` and the data-health page")
    return [*lines, ""]


def render() -> str:
    metrics = load_registry()
    out = [
        "# Metrics",
        "",
        "Generated from `src/mwdata/metrics/metrics.yml` by `mwdata metrics docs`: do not edit by hand.",
        "Test users (HR extract) are excluded unless asked. Ratios are stored as numerator and denominator",
        "so they re-aggregate correctly over any period. Query them with `mwdata.metrics.query`.",
        "",
    ]
    for source, title in (("moveworks", "Published by Moveworks"), ("project", "Project definitions")):
        out += [f"## {title}", ""]
        for m in metrics:
            if m.source == source:
                out += _metric(m)
    return "\n".join(out).rstrip() + "\n"
