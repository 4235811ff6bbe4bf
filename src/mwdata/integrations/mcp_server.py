"""`mwdata mcp`: the governed metrics as tools of a Model Context Protocol server.

An MCP-capable assistant (Claude Desktop, an IDE, an agent) asks "what was containment for Sales last
month, and which platform got worse?" and gets the metric layer's numbers, never free-form SQL:

- `list_metrics`: every metric of the semantic layer with its definition (label, description,
  formula, dimensions, grain);
- `metric_value`: a metric's value, or its series per day/week/month, by dimensions and filtered on
  dimension values: `mwdata.metrics.query.query`, called exactly as `mwdata metrics query` calls it;
- `metric_breakdown`: the top (or bottom) N values of a dimension for a metric, the same query
  grouped by the dimension;
- `data_health`: freshness per synced entity, the last sync runs, the last data-quality run and the
  daily volumes (`mwdata.read.queries.health`);
- `drill_down`: the conversation ids behind a count (or a ratio's numerator) in a segment
  (`mwdata.read.drill.Drill`, whose rows add up to the metric's number);
- `conversation_turns` (only when `[transform] pii = "show"`): the utterances of one conversation.

Every answer carries the metric's definition (when it is about one) and the data's freshness (the
newest data day, the sync watermarks, when the snapshot was read). Read-only: the store is read
through a private snapshot opened read-only (`mwdata.read.snapshot`), every value is a bound
parameter, and there is no SQL tool. PII: the drill-down lists ids, times, channels and outcomes only;
utterance text is offered only when the config shows PII.

`MetricTools` holds the tools as plain methods (no SDK needed, easy to test); `build_server` wraps
them in the SDK's `MCPServer`; `serve_stdio` and `serve_http` run it. Streamable HTTP binds to
127.0.0.1 only and requires `Authorization: Bearer <token>` (compared in constant time).
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from mwdata.config import Config
from mwdata.errors import ConfigError, MwdataError
from mwdata.metrics.query import GRAINS
from mwdata.metrics.query import query as metric_query
from mwdata.metrics.registry import Metric, MetricError, get_metric, load_registry, row_condition
from mwdata.read import drill, queries
from mwdata.read.filters import DIMENSIONS, Filters
from mwdata.read.stores import ReadStore

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

HOST = "127.0.0.1"  # the HTTP transport never listens beyond loopback
DRILL_SOURCES = ("conversations", "interactions", "plugin_calls", "resources")  # rows with a conversation id
DRILL_LIMIT = 1000
DEFAULT_DRILL_DAYS = 7
INSTRUCTIONS = (
    "Answers come from mwdata's governed metric layer (the dbt semantic layer): call list_metrics to see "
    "each metric's definition and dimensions, metric_value for a value or a series, metric_breakdown for "
    "a top-N by one dimension, data_health before trusting recent days, drill_down for the conversation "
    "ids behind a count. Days are UTC; since and until are inclusive YYYY-MM-DD days. Quote the metric's "
    "definition and the data's freshness with the numbers."
)


class ToolInputError(MwdataError):
    """A tool call the metric layer cannot answer (unknown metric, dimension, bad day...): its message
    names what is valid."""

    exit_code = 2


def definition(m: Metric) -> dict[str, Any]:
    """What a metric means, from its one definition in the semantic layer (the registry)."""
    formula = None
    if m.numerator and m.denominator:
        formula = f"{m.numerator} / {m.denominator}"
    elif m.inputs:
        formula = f"{m.type} of {', '.join(m.inputs)}"
    return {
        "name": m.name,
        "label": m.label,
        "description": m.description,
        "formula": formula,
        "type": m.type,
        "kind": m.kind,
        "source": "Moveworks' published definition" if m.published else f"mwdata {m.source} definition",
        "grain": m.grain,
        "format": m.format,
        "dimensions": list(m.dimensions),
        "filters": list(m.filters),
        "parameters": dict(m.parameters),
        "reading": m.reading,
        "reference": m.reference,
    }


def _day(text: str | None, what: str) -> date | None:
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ToolInputError(f"{what} takes a day YYYY-MM-DD, got {text!r}") from None


def _where(where: Mapping[str, str | Sequence[str]] | None) -> dict[str, list[str]]:
    """Filters as `mwdata metrics query --where DIM=VALUE` builds them: {dimension: [values]}."""
    out: dict[str, list[str]] = {}
    for dim, v in (where or {}).items():
        out[str(dim).strip()] = [str(v)] if isinstance(v, str) else [str(x) for x in v]
    return out


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as `mwdata metrics query --format json` prints them (ISO dates, NaN as null)."""
    out: list[dict[str, Any]] = json.loads(df.to_json(orient="records", date_format="iso"))
    return out


def _today() -> date:
    return datetime.now(UTC).date()


def _plain(value: Any) -> Any:
    """A JSON value: timestamps as ISO text, NaN/NaT as null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


class MetricTools:
    """The tools, over one store (a DuckDB file read through snapshots) and its config."""

    def __init__(self, cfg: Config, store: ReadStore) -> None:
        self.cfg = cfg
        self.store = store
        self.schema = cfg.transform.target_schema
        self._freshness: tuple[object, dict[str, Any]] | None = None

    @property
    def shows_pii(self) -> bool:
        return self.cfg.transform.pii == "show"

    # -- what every answer carries ---------------------------------------------------------------
    def freshness(self) -> dict[str, Any]:
        """The data's freshness on the data being read (once per DuckDB snapshot; a PostgreSQL store,
        read live, answers it each time)."""
        read_at = self.store.read_at()
        if self._freshness is not None and self._freshness[0] == read_at:
            return self._freshness[1]
        bounds = queries.date_bounds(self.store, self.schema)
        last = bounds[1] if bounds else _today()
        frames = queries.health(self.store, Filters(last, last), self.schema)
        entities = _rows(frames["freshness"].sort_values("entity"))
        watermarks = [e["watermark"] for e in entities if e.get("watermark")]
        out = {
            "first_data_day": bounds[0].isoformat() if bounds else None,
            "newest_data_day": bounds[1].isoformat() if bounds else None,
            "synced_through": min(watermarks) if watermarks else None,  # every entity is synced up to here
            "entities": entities,
            "read_at": read_at.isoformat(),
            "days_are": "UTC",
        }
        self._freshness = (read_at, out)
        return out

    def _metric(self, name: str) -> Metric:
        try:
            m = get_metric(name)
        except MetricError as exc:
            raise ToolInputError(str(exc)) from None
        return m

    def _query(
        self,
        m: Metric,
        grain: str | None,
        by: Sequence[str],
        since: date | None,
        until: date | None,
        where: dict[str, list[str]],
        include_test_users: bool,
    ) -> pd.DataFrame:
        """`mwdata.metrics.query.query` with the arguments `mwdata metrics query` passes."""
        if grain is not None and grain not in GRAINS:
            raise ToolInputError(f"grain must be one of {', '.join(GRAINS)}, got {grain!r}")
        try:
            with self.store.cursor() as con:
                return metric_query(
                    con,
                    m.name,
                    grain=grain,
                    by=list(by),
                    since=since,
                    until=until,
                    where=where,
                    include_test_users=include_test_users,
                    schema=self.schema,
                )
        except MetricError as exc:
            raise ToolInputError(f"{exc} (see list_metrics)") from None

    # -- the tools -------------------------------------------------------------------------------
    def list_metrics(self, include_parts: bool = False) -> dict[str, Any]:
        return {
            "metrics": [definition(m) for m in load_registry(include_parts=include_parts)],
            "grains": list(GRAINS),
            "freshness": self.freshness(),
        }

    def metric_value(
        self,
        metric: str,
        since: str | None = None,
        until: str | None = None,
        grain: str | None = None,
        by: list[str] | None = None,
        where: dict[str, str | list[str]] | None = None,
        include_test_users: bool = False,
    ) -> dict[str, Any]:
        m = self._metric(metric)
        lo, hi = _day(since, "since"), _day(until, "until")
        flt = _where(where)
        df = self._query(m, grain, by or [], lo, hi, flt, include_test_users)
        rows = records(df)
        out: dict[str, Any] = {
            "metric": definition(m),
            "query": {
                "since": since,
                "until": until,
                "grain": grain,
                "by": list(by or []),
                "where": flt,
                "include_test_users": include_test_users,
            },
            "rows": rows,
            "freshness": self.freshness(),
        }
        if grain is None and not by:
            out["value"] = rows[0]["value"] if rows else None
        return out

    def metric_breakdown(
        self,
        metric: str,
        dimension: str,
        since: str | None = None,
        until: str | None = None,
        n: int = 10,
        ascending: bool = False,
        where: dict[str, str | list[str]] | None = None,
        include_test_users: bool = False,
    ) -> dict[str, Any]:
        m = self._metric(metric)
        if n < 1:
            raise ToolInputError(f"n must be at least 1, got {n}")
        lo, hi = _day(since, "since"), _day(until, "until")
        flt = _where(where)
        df = self._query(m, None, [dimension], lo, hi, flt, include_test_users)
        # a total order: by value (undefined last), ties by the dimension's value
        key = df[dimension].map(lambda v: "" if v is None else str(v))
        ranked = (
            df.assign(_key=key)
            .sort_values(["value", "_key"], ascending=[ascending, True], na_position="last")
            .drop(columns="_key")
        )
        return {
            "metric": definition(m),
            "query": {
                "dimension": dimension,
                "since": since,
                "until": until,
                "n": n,
                "order": "ascending" if ascending else "descending",
                "where": flt,
                "include_test_users": include_test_users,
            },
            "segments": len(df),
            "rows": records(ranked.head(n).reset_index(drop=True)),
            "freshness": self.freshness(),
        }

    def data_health(self, days: int = 14) -> dict[str, Any]:
        if days < 1 or days > 366:
            raise ToolInputError(f"days must be between 1 and 366, got {days}")
        fresh = self.freshness()
        last = date.fromisoformat(fresh["newest_data_day"]) if fresh["newest_data_day"] else _today()
        frames = queries.health(self.store, Filters(last - timedelta(days=days - 1), last), self.schema)
        checks = frames["checks"]
        latest: dict[str, Any] = {}
        if not checks.empty:
            run = checks[checks["run_at"] == checks["run_at"].max()]
            latest = {
                "run_at": _plain(run["run_at"].iloc[0]),
                "by_status": {str(k): int(v) for k, v in run["status"].value_counts().sort_index().items()},
                "not_passing": _rows(
                    run[~run["status"].isin(["pass", "success"])][
                        ["test_name", "model", "status", "failures"]
                    ]
                ),
            }
        runs = frames["sync_runs"]
        return {
            "freshness": fresh,
            "last_sync_runs": _rows(runs.head(10)) if not runs.empty else [],
            "last_check_run": latest or None,
            "daily_interactions": _rows(frames["daily_rows"]),
        }

    def _drill_target(self, m: Metric) -> tuple[str, str, str]:
        """(counted metric, drill source, measure): the metric's own rows, else its numerator's."""
        tried: list[str] = []
        for name in (m.name, m.numerator):
            if not name:
                continue
            tried.append(name)
            try:
                table, condition = row_condition(name)
            except MetricError:
                continue
            for key in DRILL_SOURCES:
                src = drill.SOURCES[key]
                if table != f"moveworks__{src.mart}":
                    continue
                for measure, predicate in src.measures.items():
                    if predicate == condition:
                        return name, key, measure
        raise ToolInputError(
            f"metric {m.name} cannot be drilled into conversations: {' nor '.join(tried)} is not a count of "
            "conversations, interactions, plugin calls or resources. Drillable metrics: "
            + ", ".join(_drillable())
        )

    def drill_down(
        self,
        metric: str,
        since: str | None = None,
        until: str | None = None,
        where: dict[str, str | list[str]] | None = None,
        segment: dict[str, str] | None = None,
        include_test_users: bool = False,
        limit: int = 100,
    ) -> dict[str, Any]:
        m = self._metric(metric)
        if limit < 1 or limit > DRILL_LIMIT:
            raise ToolInputError(f"limit must be between 1 and {DRILL_LIMIT}, got {limit}")
        counted, source, measure = self._drill_target(m)
        fresh = self.freshness()
        hi = _day(until, "until") or (
            date.fromisoformat(fresh["newest_data_day"]) if fresh["newest_data_day"] else _today()
        )
        lo = _day(since, "since") or hi - timedelta(days=DEFAULT_DRILL_DAYS - 1)
        flt = _where(where)
        try:
            f = Filters(lo, hi, {k: tuple(v) for k, v in flt.items()}, include_test_users)
            d = drill.Drill(source, measure, tuple((str(k), str(v)) for k, v in (segment or {}).items()))
        except ValueError as exc:
            raise ToolInputError(
                f"{exc} (where takes the filter dimensions {', '.join(DIMENSIONS)}; segment takes "
                f"{', '.join(drill.SOURCES[source].segments)})"
            ) from None
        total = d.count(self.store, f, self.schema)
        rows = d.rows(self.store, f, self.schema, limit=limit)
        ids = list(dict.fromkeys(str(c) for c in rows["conversation_id"] if c is not None))
        return {
            "metric": definition(m),
            "counted_metric": counted,
            "rows_of": drill.SOURCES[source].noun,
            "query": {
                "since": lo.isoformat(),
                "until": hi.isoformat(),
                "where": flt,
                "segment": dict(segment or {}),
                "include_test_users": include_test_users,
                "limit": limit,
            },
            "count": total,
            "truncated": total > len(rows),
            "conversation_ids": ids,
            "rows": _rows(rows),
            "pii": "utterance text and e-mail addresses are never listed here"
            + ("; conversation_turns shows a conversation's text" if self.shows_pii else ""),
            "freshness": fresh,
        }

    def conversation_turns(self, conversation_id: str) -> dict[str, Any]:
        if not self.shows_pii:  # the tool is not registered then; a direct call is refused too
            raise ToolInputError('utterance text is shown only when [transform] pii = "show"')
        turns = drill.turns(self.store, self.schema, conversation_id)
        if turns.empty:
            raise ToolInputError(f"no conversation {conversation_id!r} with user turns in the store")
        return {"conversation_id": conversation_id, "turns": _rows(turns), "freshness": self.freshness()}


def _drillable() -> list[str]:
    out = []
    for m in load_registry():
        for name in (m.name, m.numerator):
            try:
                table, condition = row_condition(name) if name else ("", "")
            except MetricError:
                continue
            if any(
                table == f"moveworks__{drill.SOURCES[k].mart}"
                and condition in drill.SOURCES[k].measures.values()
                for k in DRILL_SOURCES
            ):
                out.append(m.name)
                break
    return out


# -- the MCP server ------------------------------------------------------------------------------
_DESCRIPTIONS: dict[str, str] = {
    "list_metrics": "List every governed metric with its definition: name, label, description, formula, "
    "type, grain, the dimensions it can be grouped or filtered by. include_parts adds the building blocks "
    "(numerators, denominators).",
    "metric_value": "A metric's value over [since, until] (inclusive UTC days YYYY-MM-DD; either may be "
    "omitted for an open bound), or its series with grain day|week|month, grouped by dimensions (by) and "
    "filtered on dimension values (where: {dimension: value or [values]}). Ratios also return numerator "
    "and denominator. Same numbers as `mwdata metrics query`.",
    "metric_breakdown": "The top n segments of a metric by one dimension (descending, or ascending=true for "
    "the worst), over [since, until], with optional filters (where).",
    "data_health": "Freshness of the store: newest data day, sync watermark per entity, last sync runs, "
    "the last data-quality run, interactions per day over the last `days` days (gaps show as 0).",
    "drill_down": "The conversation ids behind a count metric (or a ratio's numerator) over [since, until] "
    "(default: the last 7 data days), filtered by department, location, role, platform, route, domain "
    '(where) and cut by a segment (e.g. {"day": "2026-05-30"} or {"week": "2026-05-25"}). No '
    "utterance text or e-mail addresses.",
    "conversation_turns": "The user turns of one conversation: utterance text, bot reply, topic, plugins, "
    "feedback (offered because the config shows PII).",
}


def build_server(tools: MetricTools) -> MCPServer:
    """The SDK's server with the tools registered (read-only hints; errors returned as tool errors)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp_types import ToolAnnotations

    import mwdata

    server: MCPServer = MCPServer(
        "mwdata", instructions=INSTRUCTIONS, version=getattr(mwdata, "__version__", ""), log_level="WARNING"
    )

    def guarded(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        import functools

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> dict[str, Any]:
            try:
                return fn(*args, **kwargs)
            except MwdataError as exc:  # ToolInputError, StoreError (not built): the message says what to do
                raise ToolError(str(exc)) from None

        return call

    names = ["list_metrics", "metric_value", "metric_breakdown", "data_health", "drill_down"]
    if tools.shows_pii:
        names.append("conversation_turns")
    for name in names:
        server.add_tool(
            guarded(getattr(tools, name)),
            name=name,
            description=_DESCRIPTIONS[name],
            annotations=ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True),
        )
    return server


def serve_stdio(server: MCPServer) -> None:
    server.run("stdio")


class BearerGuard:
    """ASGI middleware: every HTTP request needs `Authorization: Bearer <token>`, else 401."""

    def __init__(self, app: Any, token: str) -> None:
        if len(token) < 16:
            raise ConfigError("the MCP token must be at least 16 characters")
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = b""
            for k, v in scope.get("headers") or ():
                if k.lower() == b"authorization":
                    given = v
            if not hmac.compare_digest(given, self._expected):
                body = json.dumps(
                    {"error": "unauthorized", "message": "send Authorization: Bearer <MWDATA_MCP_TOKEN>"}
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", b'Bearer realm="mwdata"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def http_app(server: MCPServer, token: str | None) -> Any:
    """The streamable-HTTP ASGI app behind the bearer-token guard; refused without a token."""
    if not token:
        raise ConfigError(
            "mwdata mcp --transport http needs a bearer token: set MWDATA_MCP_TOKEN, or token_file = "
            '"<path of a chmod-600 file>" in [mcp]. Make one with: '
            'python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    return BearerGuard(server.streamable_http_app(host=HOST), token)


def serve_http(server: MCPServer, token: str | None, port: int) -> None:
    import uvicorn

    app = http_app(server, token)
    uvicorn.run(app, host=HOST, port=port, log_level="warning")
