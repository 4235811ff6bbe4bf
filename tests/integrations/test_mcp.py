"""`mwdata mcp` driven by the MCP SDK's own client: over stdio (the client spawns `mwdata mcp`, as Claude
Desktop would) it lists the tools, answers three metric questions with the numbers `mwdata metrics query
--format json` prints, names the valid metrics and dimensions on a bad name, and drills down to
conversation ids without utterance text or e-mails (pii = drop). Over streamable HTTP it refuses a
missing or wrong bearer token (401) and serves the right one; without a token it does not start.

The stdio and HTTP tests read the mart-shaped fixture store of the dashboard tests
(benchmarks/dashboard_data.py), which has the sync's state tables, so freshness and health read the
real shape; the last test runs the tools in process on marts the dbt project built from the metric
tests' small generated tenant.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp.server.mcpserver", reason="the mcp extra (pip install 'mwdata[mcp]')")

import anyio  # noqa: E402  (after the extra's check)
import httpx  # noqa: E402
import httpx2  # noqa: E402  (the SDK's HTTP client)
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

import mwdata  # noqa: E402
from tests import procs  # noqa: E402

MWDATA = str(Path(sys.executable).with_name("mwdata"))
TOKEN = "mcp-test-token-0123456789abcdef"
TOOLS = {"list_metrics", "metric_value", "metric_breakdown", "data_health", "drill_down"}
MAY = ("2026-05-01", "2026-05-31")
DAY = "2026-05-30"

# (tool arguments, `mwdata metrics query` arguments): the same three questions both ways
QUESTIONS: dict[str, tuple[str, dict[str, Any], list[str]]] = {
    "escalation in May": (
        "metric_value",
        {"metric": "escalation_rate", "since": MAY[0], "until": MAY[1]},
        ["escalation_rate", "--since", MAY[0], "--until", MAY[1]],
    ),
    "weekly Slack users by department": (
        "metric_value",
        {"metric": "active_users", "grain": "week", "by": ["department"], "where": {"platform": "slack"}},
        ["active_users", "--grain", "week", "--by", "department", "--where", "platform=slack"],
    ),
    "containment by department, top 3": (
        "metric_breakdown",
        {"metric": "containment_rate", "dimension": "department", "since": MAY[0], "until": MAY[1], "n": 3},
        ["containment_rate", "--by", "department", "--since", MAY[0], "--until", MAY[1]],
    ),
}


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment (MWDATA_* dropped), importing the same mwdata as this test process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MWDATA_")}
    src = str(Path(mwdata.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def _config(d: Path, store: Path, pii: str) -> Path:
    cfg = d / f"mwdata-{pii}.toml"
    cfg.write_text(f'store = "{store}"\n[transform]\npii = "{pii}"\n')
    return cfg


@pytest.fixture(scope="module")
def config(mart_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _config(tmp_path_factory.mktemp("mcp"), mart_store, "drop")


def _result(r: Any) -> dict[str, Any]:
    assert not r.is_error, r.content[0].text
    assert r.structured_content is not None
    return dict(r.structured_content)


@pytest.fixture(scope="module")
def stdio_answers(config: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One stdio session (the client spawns `mwdata mcp`): every call the tests below look at, while
    `mwdata metrics query` answers the same questions in processes of its own."""
    cli = {
        q: subprocess.Popen(
            [MWDATA, "--config", str(config), "metrics", "query", *args, "--format", "json"],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for q, (_, _, args) in QUESTIONS.items()
    }
    errlog_path = tmp_path_factory.mktemp("mcp-stdio") / "stderr.log"
    params = StdioServerParameters(command=MWDATA, args=["--config", str(config), "mcp"], env=_env())

    async def session() -> dict[str, Any]:
        out: dict[str, Any] = {}
        with open(errlog_path, "w") as errlog, anyio.fail_after(120):
            async with Client(stdio_client(params, errlog=errlog)) as client:
                out["tools"] = (await client.list_tools()).tools
                out["list_metrics"] = _result(await client.call_tool("list_metrics", {}))
                for q, (tool, args, _) in QUESTIONS.items():
                    out[q] = _result(await client.call_tool(tool, args))
                out["bad metric"] = await client.call_tool("metric_value", {"metric": "escalation_ratio"})
                out["bad dimension"] = await client.call_tool(
                    "metric_value", {"metric": "escalation_rate", "by": ["departement"]}
                )
                out["bad filter"] = await client.call_tool(
                    "metric_breakdown",
                    {"metric": "escalation_rate", "dimension": "route", "where": {"plugin_name": "x"}},
                )
                out["health"] = _result(await client.call_tool("data_health", {"days": 7}))
                out["drill"] = _result(
                    await client.call_tool(
                        "drill_down", {"metric": "escalation_rate", "segment": {"day": DAY}, "limit": 1000}
                    )
                )
                out["escalated that day"] = _result(
                    await client.call_tool(
                        "metric_value", {"metric": "escalation_rate", "since": DAY, "until": DAY}
                    )
                )
                out["not drillable"] = await client.call_tool("drill_down", {"metric": "plugin_latency"})
        return out

    try:
        answers = anyio.run(session)
    except BaseException:
        print(errlog_path.read_text(), file=sys.stderr)
        raise
    finally:
        for p in cli.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=120)
    for q, p in cli.items():
        stdout, stderr = p.communicate()
        assert p.returncode == 0, stderr
        answers[f"cli {q}"] = json.loads(stdout)
    return answers


def test_lists_the_tools_read_only(stdio_answers: dict[str, Any]) -> None:
    tools = {t.name: t for t in stdio_answers["tools"]}
    assert set(tools) == TOOLS  # pii = drop: no conversation_turns; and no SQL tool
    assert all(t.annotations.read_only_hint for t in tools.values())
    listed = {m["name"]: m for m in stdio_answers["list_metrics"]["metrics"]}
    esc = listed["escalation_rate"]
    assert esc["formula"] == "escalated_conversations / engaged_conversations"
    assert "department" in esc["dimensions"] and esc["label"] == "Escalation rate" and esc["description"]
    assert stdio_answers["list_metrics"]["freshness"]["newest_data_day"] == "2026-05-31"


def test_three_questions_give_the_numbers_of_mwdata_metrics_query(stdio_answers: dict[str, Any]) -> None:
    esc = stdio_answers["escalation in May"]
    assert esc["rows"] == stdio_answers["cli escalation in May"] and len(esc["rows"]) == 1
    assert esc["value"] == esc["rows"][0]["value"] and 0 < esc["value"] < 1
    weekly = stdio_answers["weekly Slack users by department"]
    assert weekly["rows"] == stdio_answers["cli weekly Slack users by department"]
    assert len(weekly["rows"]) > 10 and "value" not in weekly  # a series has no single value
    top = stdio_answers["containment by department, top 3"]
    cli = stdio_answers["cli containment by department, top 3"]
    want = sorted(cli, key=lambda r: (-r["value"], r["department"]))[:3]
    assert top["rows"] == want and top["segments"] == len(cli) > 3
    for answer in (esc, weekly, top):  # every answer carries the definition and the freshness
        assert answer["metric"]["name"] and answer["metric"]["description"]
        fresh = answer["freshness"]
        assert fresh["newest_data_day"] == "2026-05-31" and fresh["synced_through"]
        assert {e["entity"] for e in fresh["entities"]} >= {"conversations", "interactions"}


def test_bad_names_get_an_error_listing_the_valid_ones(stdio_answers: dict[str, Any]) -> None:
    bad = stdio_answers["bad metric"]
    assert bad.is_error
    text = bad.content[0].text
    assert (
        "unknown metric 'escalation_ratio'" in text
        and "escalation_rate" in text
        and "containment_rate" in text
    )
    bad = stdio_answers["bad dimension"]
    assert bad.is_error
    text = bad.content[0].text
    assert "no dimension 'departement'" in text and "department" in text and "primary_domain" in text
    bad = stdio_answers["bad filter"]
    assert bad.is_error and "no dimension 'plugin_name'" in bad.content[0].text
    bad = stdio_answers["not drillable"]
    assert bad.is_error and "escalation_rate" in bad.content[0].text  # the drillable metrics are named


def test_drill_down_lists_ids_that_add_up_without_pii(
    stdio_answers: dict[str, Any], mart_store: Path
) -> None:
    import duckdb

    got = stdio_answers["drill"]
    assert got["counted_metric"] == "escalated_conversations" and got["rows_of"] == "conversations"
    assert got["count"] == stdio_answers["escalated that day"]["rows"][0]["numerator"] > 0
    assert len(got["conversation_ids"]) == got["count"] and not got["truncated"]
    with duckdb.connect(str(mart_store), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        escalated = {
            r[0]
            for r in con.execute(
                "SELECT conversation_id FROM analytics.moveworks__conversations "
                "WHERE is_escalated AND NOT coalesce(is_test_user, FALSE) AND CAST(created_time AS DATE) = ?",
                [date.fromisoformat(DAY)],
            ).fetchall()
        }
        texts = {
            r[0] for r in con.execute("SELECT DISTINCT content FROM analytics.moveworks__journey").fetchall()
        }
        emails = {r[0] for r in con.execute("SELECT email FROM analytics.moveworks__users").fetchall()}
    assert set(got["conversation_ids"]) <= escalated  # engaged ones only, by the metric's own condition
    dumped = json.dumps(got)
    assert not any(t and t in dumped for t in texts) and not any(e and e in dumped for e in emails)
    assert "content" not in {k for row in got["rows"] for k in row}


def test_health_summarises_freshness_runs_and_volumes(stdio_answers: dict[str, Any]) -> None:
    health = stdio_answers["health"]
    days = [r["day"][:10] for r in health["daily_interactions"]]
    assert days == [(date(2026, 5, 25) + timedelta(days=i)).isoformat() for i in range(7)]
    assert all(r["interactions"] > 0 for r in health["daily_interactions"])
    assert health["last_sync_runs"] and health["freshness"]["synced_through"]


def test_turns_are_offered_only_when_pii_is_shown(mart_store: Path, tmp_path: Path) -> None:
    """In process (the SDK's in-memory client): the same server with pii = show offers the utterances."""
    from mwdata.config import load_config
    from mwdata.integrations.mcp_server import MetricTools, build_server
    from mwdata.read.snapshot import Store

    async def ask(pii: str, conversation: str) -> tuple[set[str], Any]:
        store = Store(mart_store, snapshot_dir=tmp_path / f"snap-{pii}")
        try:
            server = build_server(MetricTools(load_config(str(_config(tmp_path, mart_store, pii))), store))
            async with Client(server) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                turns = await client.call_tool("conversation_turns", {"conversation_id": conversation})
                return names, turns
        finally:
            store.close()

    import duckdb

    with duckdb.connect(str(mart_store), read_only=True) as con:
        cid, content = con.execute(
            "SELECT conversation_id, content FROM analytics.moveworks__journey WHERE content IS NOT NULL LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    names, turns = anyio.run(ask, "show", cid)
    assert names == TOOLS | {"conversation_turns"}
    assert content in [t["content"] for t in _result(turns)["turns"]]
    names, turns = anyio.run(ask, "drop", cid)
    assert names == TOOLS and turns.is_error


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(config: Path) -> Iterator[str]:
    port = _free_port()
    proc = procs.spawn(
        [MWDATA, "--config", str(config), "mcp", "--transport", "http", "--port", str(port)],
        env=_env({"MWDATA_MCP_TOKEN": TOKEN}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert time.monotonic() < deadline, "mwdata mcp --transport http did not listen within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        procs.stop_tree(proc)


def test_http_needs_the_bearer_token(http_server: str) -> None:
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    for auth in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN}):
        r = httpx.post(http_server, json=hello, headers={**accept, **auth}, timeout=10)
        assert r.status_code == 401, (auth, r.status_code)
        assert r.headers["www-authenticate"].startswith("Bearer")

    async def session() -> tuple[set[str], dict[str, Any]]:
        with anyio.fail_after(60):
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
            async with http, Client(streamable_http_client(http_server, http_client=http)) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                return names, _result(
                    await client.call_tool("metric_value", QUESTIONS["escalation in May"][1])
                )

    names, esc = anyio.run(session)
    assert names == TOOLS and 0 < esc["value"] < 1


def test_http_does_not_start_without_a_token(config: Path) -> None:
    r = subprocess.run(
        [MWDATA, "--config", str(config), "mcp", "--transport", "http"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "needs a bearer token" in r.stderr and "MWDATA_MCP_TOKEN" in r.stderr


def test_a_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from mwdata.cli import mcp as cli_mcp
    from mwdata.errors import ConfigError

    monkeypatch.setattr(cli_mcp.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"pip install 'mwdata\[mcp\]'"):
        cli_mcp._require_sdk()


def test_the_token_comes_from_a_chmod_600_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mwdata.config import load_config
    from mwdata.errors import ConfigError

    monkeypatch.delenv("MWDATA_MCP_TOKEN", raising=False)
    secret = tmp_path / "mcp_token"
    secret.write_text(TOKEN + "\n")
    secret.chmod(0o600)
    cfg = tmp_path / "mwdata.toml"
    cfg.write_text(f'store = "{tmp_path / "s.duckdb"}"\n[mcp]\ntoken_file = "{secret}"\n')
    token = load_config(str(cfg)).mcp.token
    assert token is not None and token.reveal() == TOKEN
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config(str(cfg))
    cfg.write_text(f'store = "{tmp_path / "s.duckdb"}"\n[mcp]\ntoken = "{TOKEN}"\n')
    with pytest.raises(ConfigError, match="must not be written"):
        load_config(str(cfg))
    monkeypatch.setenv("MWDATA_MCP_TOKEN", "short")
    cfg.write_text(f'store = "{tmp_path / "s.duckdb"}"\n')
    with pytest.raises(ConfigError, match="at least 16 characters"):
        load_config(str(cfg))


# -- on a store built by the dbt project -------------------------------------------------------------
NOV = ("2026-11-08", "2026-11-28")


@pytest.fixture(scope="module")
def built_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The metric tests' small generated tenant (40 users, 20 days) through `mwdata build` (pii = show,
    so the marts hold utterances and e-mails); the server reads it with pii = drop."""
    from mwdata.config import Config, TransformConfig
    from mwdata.transform import build
    from tests.metrics.conftest import write_hr
    from tests.metrics.gen import generate
    from tests.transform.fixtures import load_duckdb

    d = tmp_path_factory.mktemp("mcp-built")
    ds = generate(1)
    load_duckdb(d / "s.duckdb", ds.records)
    write_hr(d / "hr.csv", ds.hr_rows)
    result = build(Config(store=str(d / "s.duckdb"), transform=TransformConfig(hr_file=str(d / "hr.csv"))))
    assert not result.errors, [(r.name, r.message) for r in result.errors]
    cfg = d / "mwdata.toml"
    cfg.write_text(f'store = "{d / "s.duckdb"}"\n[transform]\npii = "drop"\nhr_file = "{d / "hr.csv"}"\n')
    return cfg


def test_on_a_dbt_built_store_the_tools_are_the_metric_layers_numbers(
    built_config: Path, tmp_path: Path
) -> None:
    """In process (the SDK's in-memory client) against marts the dbt project built: the tools' rows equal
    `mwdata.metrics.query.query` on `connection(cfg)`, the path `mwdata metrics query` takes, and the
    drill-down's ids are the numerator's conversations, with no utterance or e-mail in the answer."""
    import duckdb

    from mwdata.config import load_config
    from mwdata.integrations.mcp_server import MetricTools, build_server, records
    from mwdata.metrics.query import connection, query
    from mwdata.read.snapshot import Store

    cfg = load_config(str(built_config))
    asks = {
        "containment by department": (
            "metric_value",
            {"metric": "containment_rate", "since": NOV[0], "until": NOV[1], "by": ["department"]},
            {"by": ["department"]},
        ),
        "weekly conversations on slack": (
            "metric_value",
            {"metric": "conversations", "grain": "week", "where": {"platform": "slack"}},
            {"grain": "week", "where": {"platform": ["slack"]}},
        ),
        "escalation by route": (
            "metric_breakdown",
            {"metric": "escalation_rate", "dimension": "route", "since": NOV[0], "until": NOV[1], "n": 50},
            {"by": ["route"]},
        ),
    }
    store = Store(cfg.store, snapshot_dir=tmp_path / "snap")

    async def session() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(build_server(MetricTools(cfg, store))) as client:
            for q, (tool, args, _) in asks.items():
                out[q] = _result(await client.call_tool(tool, args))
            drill = {"metric": "escalation_rate", "since": NOV[0], "until": NOV[1], "limit": 1000}
            out["drill"] = _result(await client.call_tool("drill_down", drill))
            out["escalation"] = _result(
                await client.call_tool(
                    "metric_value", {"metric": "escalation_rate", "since": NOV[0], "until": NOV[1]}
                )
            )
        return out

    try:
        got = anyio.run(session)
    finally:
        store.close()
    with connection(cfg) as con:
        for q, (_, args, kw) in asks.items():
            since = date.fromisoformat(args["since"]) if "since" in args else None
            until = date.fromisoformat(args["until"]) if "until" in args else None
            df = query(
                con, args["metric"], since=since, until=until, schema=cfg.transform.target_schema, **kw
            )
            want = records(df)
            if q == "escalation by route":
                want = sorted(
                    want, key=lambda r: (-(r["value"] if r["value"] is not None else -1), r["route"])
                )
            assert got[q]["rows"] == want and want, q
    drill = got["drill"]
    assert drill["count"] == got["escalation"]["rows"][0]["numerator"] > 0
    assert len(drill["conversation_ids"]) == drill["count"]
    with duckdb.connect(cfg.store, read_only=True) as con:
        texts = {
            r[0] for r in con.execute("SELECT content FROM analytics.moveworks__journey").fetchall() if r[0]
        }
        emails = {
            r[0] for r in con.execute("SELECT email FROM analytics.moveworks__users").fetchall() if r[0]
        }
    assert texts and emails  # the marts hold both (built with pii = show) ...
    dumped = json.dumps(drill)
    assert not any(t in dumped for t in texts) and not any(
        e in dumped for e in emails
    )  # ... the answer neither
