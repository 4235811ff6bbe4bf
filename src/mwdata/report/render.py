"""`mwdata report`: one self-contained HTML file (inline PNG charts) plus a CSV file per table.

The numbers come from the same page queries as the dashboard (`mwdata.read.queries`), so the report
and the dashboard cannot disagree. Charts are the dashboard's Altair charts rendered to PNG by
vl-convert (no browser, no network: `allowed_base_urls=[]`), embedded as data URIs, so the file
opens offline and survives being e-mailed.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import altair as alt
import jinja2
import pandas as pd
import vl_convert as vlc

from mwdata.config import Config
from mwdata.errors import StoreError, output_dir
from mwdata.read import charts, queries
from mwdata.read.definitions import definition
from mwdata.read.filters import Filters
from mwdata.read.formatting import format_delta
from mwdata.read.stores import ReadStore, open_store

log = logging.getLogger("mwdata.report")
TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class Report:
    html: Path
    csvs: list[Path]
    filters: Filters
    kpis: dict[str, float | None] = field(default_factory=dict)


def png_data_uri(chart: alt.TopLevelMixin) -> str:
    png = vlc.vegalite_to_png(chart.to_json(), scale=1.5, allowed_base_urls=[])
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def period(store: ReadStore, schema: str, days: int, end: date | None = None) -> tuple[Filters, bool]:
    """The `days` days ending on `end` (default: the newest day with data), and whether the store
    covers the previous period (else the report shows no deltas)."""
    bounds = queries.date_bounds(store, schema)
    if bounds is None:
        raise StoreError("the marts hold no interaction yet; run `mwdata sync` and `mwdata build` first")
    end = end or bounds[1]
    f = Filters(start=end - timedelta(days=days - 1), end=end)
    return f, f.compares_within(bounds[0])


def _num(v: Any, fmt: str) -> str:
    return "–" if v is None or pd.isna(v) else fmt.format(v)


def _tiles(k: pd.DataFrame, p: pd.DataFrame) -> tuple[list[dict[str, str]], dict[str, float | None]]:
    spec = [
        ("active_users", "active_users", "{:,.0f}"),
        ("conversations", "conversations", "{:,.0f}"),
        ("interactions", "user_interactions", "{:,.0f}"),
        ("containment_rate", "containment_rate", "{:.1%}"),
        ("escalation_rate", "escalation_rate", "{:.1%}"),
        ("helpful_rate", "helpful_rate", "{:.1%}"),
    ]
    tiles, values = [], {}
    for metric, col, fmt in spec:
        v = None if k.empty or pd.isna(k[col].iloc[0]) else float(k[col].iloc[0])
        pv = None if p.empty or pd.isna(p[col].iloc[0]) else float(p[col].iloc[0])
        values[metric] = v
        delta = ""
        if v is not None and pv is not None:
            delta = format_delta(v - pv, fmt)
        d = definition(metric)
        tiles.append({"label": d.label, "value": _num(v, fmt), "delta": delta, "definition": d.text})
    return tiles, values


def _table(df: pd.DataFrame, columns: list[str], limit: int = 15) -> dict[str, Any]:
    cols = [c for c in columns if c in df.columns]
    rows = []
    for _, r in df[cols].head(limit).iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                cells.append("")
            elif isinstance(v, float):
                cells.append(f"{v:.1%}" if c.endswith("rate") else f"{v:,.1f}")
            elif isinstance(v, int):
                cells.append(f"{v:,}")
            else:
                cells.append(str(v))
        rows.append(cells)
    return {"columns": cols, "rows": rows}


def render_report(
    store: ReadStore, schema: str, out_dir: str | Path, days: int = 7, end: date | None = None
) -> Report:
    """Render `report.html` and the CSVs into `out_dir/<end date>/` and return their paths."""
    f, compare = period(store, schema, days, end)
    target = output_dir(Path(out_dir) / f"{f.end:%Y-%m-%d}", "report folder")

    ov = queries.overview(store, f, schema)
    pl = queries.plugins(store, f, schema)
    kn = queries.knowledge(store, f, schema)
    gp = queries.gaps(store, f, schema)
    oc = queries.outcomes(store, f, schema)
    hl = queries.health(store, f, schema)
    tiles, values = _tiles(ov["kpis"], ov["previous"] if compare else pd.DataFrame())

    images = {
        "activity": png_data_uri(
            charts.lines(ov["trend"], "day", ["active_users", "conversations"], "Daily activity")
        ),
        "funnel": png_data_uri(charts.funnel(oc["funnel"])),
        "plugins": png_data_uri(
            charts.grouped_bars(
                pl["plugins"].head(10), "plugin_name", ["served", "used", "unsuccessful"], "Plugin calls"
            )
        ),
    }
    tables = {
        "top_plugins": pl["plugins"],
        "top_articles": kn["top_articles"],
        "knowledge_gaps": gp["gaps"],
        "freshness": hl["freshness"],
        "kpis": ov["kpis"],
        "daily_trend": ov["trend"],
    }
    csvs = []
    for name, df in tables.items():
        path = target / f"{name}.csv"
        df.to_csv(path, index=False)
        csvs.append(path)

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"])
    )
    html = env.get_template("report.html.j2").render(
        title=f"Moveworks assistant report, {f.start:%d %b %Y} – {f.end:%d %b %Y}",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        period=f,
        previous=f.previous() if compare else None,
        tiles=tiles,
        images=images,
        plugins=_table(
            pl["plugins"],
            ["plugin_name", "calls", "served", "used", "unsuccessful", "used_rate", "latency_p50_s"],
        ),
        articles=_table(
            kn["top_articles"], ["article", "external_id", "times_cited", "times_served", "citation_rate"]
        ),
        gaps=_table(gp["gaps"], ["topic", "domain", "volume", "without_citation", "unhelpful", "escalated"]),
        health=_table(hl["freshness"], list(hl["freshness"].columns)),
        definitions=[definition(m) for m in ("citation_rate", "knowledge_gaps", "plugin_used_rate")],
    )
    html_path = target / "report.html"
    html_path.write_text(html, encoding="utf-8")
    log.info("report written to %s (%d CSV files)", html_path, len(csvs))
    return Report(html=html_path, csvs=csvs, filters=f, kpis=values)


def make_report(cfg: Config, days: int = 7, email: bool = False, out: str | Path | None = None) -> Report:
    """Render the report of the configured store (DuckDB or PostgreSQL), and e-mail it when asked
    (`mwdata report`)."""
    from mwdata.report import email as mail

    store = open_store(cfg)
    try:
        rep = render_report(store, cfg.transform.target_schema, out or cfg.report.output_dir, days=days)
    finally:
        store.close()
    if email:
        f = rep.filters
        subject = f"mwdata report {f.start:%Y-%m-%d} – {f.end:%Y-%m-%d}"
        mail.send(cfg.report, mail.build_message(cfg.report, subject, rep.html, rep.csvs))
    return rep
