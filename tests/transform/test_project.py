"""The dbt project on the real samples, planted defects, the HR extract, generated files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from mwdata.config import Config, TransformConfig
from mwdata.errors import DataQualityError, InputFileError
from mwdata.metrics.docs import render
from mwdata.metrics.exports import build
from mwdata.metrics.query import value
from mwdata.transform import check
from mwdata.transform import project as proj
from mwdata.transform.runner import profile, read_hr_file
from tests.transform import pii_cases
from tests.transform.fixtures import load_duckdb, read_samples

pytestmark = pytest.mark.slow(seconds=100)  # scheduled first (tests/conftest.py)

REPO = Path(__file__).resolve().parents[2]

# What the dashboard reads (docs/dashboard.md): these columns must stay.
DASHBOARD_COLUMNS = {
    "moveworks__journey": "interaction_id, conversation_id, user_id, created_time, platform, interaction_type, label, content, interaction_domain, topic, conversation_domain, route, plugins_served, plugins_used, plugins_unsuccessful, cited_resources, bot_reply, is_escalated, feedback, is_csat_comment, department, location, role, is_test_user",
    "moveworks__conversations": "conversation_id, user_id, created_time, route, primary_domain, platform, conversation_type, is_user_engaged, is_escalated, is_contained, plugins_served, plugins_used, user_interaction_count, minutes_to_resolution, department, location, role, is_test_user",
    "moveworks__user_daily": "date_day, user_id, first_interaction_day, department, location, role, is_test_user",
    "moveworks__adoption_by_segment": "department, location, role, headcount, users_with_access",
    "moveworks__plugin_calls": "plugin_name, is_native, served, used, created_time, latency_seconds, minutes_saved, platform, route, conversation_domain, department, location, role, is_test_user",
    "moveworks__knowledge_resources": "resource_id, article_name, external_resource_id, cited, conversation_id, created_time, conversation_unhelpful, conversation_ticket_filed, platform, route, conversation_domain, department, location, role, is_test_user",
}  # fmt: skip
MARTS = [
    "journey",
    "conversations",
    "plugin_calls",
    "knowledge_resources",
    "user_daily",
    "users",
    "adoption_by_segment",
    "notifications",
]
# The saved queries' exports `mwdata build` writes (models/semantic/saved_queries.yml): key columns,
# and a metric whose whole-history value the export's column must add up to.
EXPORTS = {
    "kpi_daily": (["date_day"], {"conversations": "conversations", "escalated_conversations": "escalated_conversations",
                                 "active_users": None, "served_resources": "served_resources"}),
    "plugin_daily": (["date_day", "plugin_name"], {"plugin_calls": "plugin_calls", "used_plugin_calls": "used_plugin_calls"}),
    "knowledge_articles": (["resource_id"], {"served_resources": "served_resources", "cited_resources": "cited_resources"}),
    "knowledge_articles_daily": (["date_day", "resource_id"], {"cited_resources": "cited_resources"}),
    "knowledge_gaps": (["topic", "interaction_domain"], {"topic_interactions": "topic_interactions",
                                                          "failed_questions": "failed_questions"}),
}  # fmt: skip


@pytest.fixture(scope="session")
def samples_store(samples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    db = tmp_path_factory.mktemp("samples") / "s.duckdb"
    load_duckdb(db, read_samples(samples_dir))
    result = build(Config(store=str(db)))
    return db, result


def test_samples_build_every_model_and_test_without_error(samples_store: tuple[Path, object]) -> None:
    db, result = samples_store
    assert not result.errors, [(r.name, r.message) for r in result.errors]  # type: ignore[attr-defined]
    kinds = {r.resource_type for r in result.results}  # type: ignore[attr-defined]
    assert {"model", "seed", "test"} <= kinds
    with duckdb.connect(str(db), read_only=True) as con:
        for mart in MARTS:
            con.execute(f"SELECT * FROM analytics.moveworks__{mart} LIMIT 1")
        con.execute("SET TimeZone = 'UTC'")
        for export, (keys, sums) in EXPORTS.items():
            table = f"analytics.moveworks__{export}"
            k = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '-')" for c in keys)
            rows, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({k})) FROM {table}").fetchone()  # type: ignore[misc]
            assert rows > 0 and rows == distinct, (export, rows, distinct)
            for col, metric in sums.items():
                total = con.execute(f"SELECT sum({col}) FROM {table}").fetchone()[0]  # type: ignore[index]
                if metric is not None:  # a distinct count (active users) does not add up across days
                    assert total == value(con, metric), (export, col)
        for mart, cols in DASHBOARD_COLUMNS.items():
            have = {r[0] for r in con.execute(f"DESCRIBE analytics.{mart}").fetchall()}
            missing = {c.strip() for c in cols.split(",")} - have
            assert not missing, (mart, missing)
        raw_users = con.execute(
            "SELECT count(DISTINCT user_id) FROM raw.interactions WHERE actor = 'user'"
        ).fetchone()
        journey_users = con.execute(
            "SELECT count(DISTINCT user_id) FROM analytics.moveworks__journey"
        ).fetchone()
        assert raw_users == journey_users and raw_users is not None and raw_users[0] > 0
        n_journey = con.execute("SELECT count(*) FROM analytics.moveworks__journey").fetchone()
        n_user_rows = con.execute("SELECT count(*) FROM raw.interactions WHERE actor = 'user'").fetchone()
        assert n_journey == n_user_rows  # no fan-out from plugins or resources
        # bot replies are attached to the user row they answer
        replies = con.execute(
            "SELECT count(*) FROM analytics.moveworks__journey WHERE bot_reply IS NOT NULL"
        ).fetchone()
        assert replies is not None and replies[0] > 0
        stored = con.execute("SELECT count(*) FROM _mwdata.check_results").fetchone()
        assert stored is not None and stored[0] > 50


def test_tickets_filed_follow_the_metric_library(samples_store: tuple[Path, object]) -> None:
    """A ticket is filed by an interaction labelled file_ticket or handoff: 7 conversations of the real
    samples (5 file_ticket, 2 handoff). Used Smart Handoff / live-chat calls escalate without filing one."""
    db, _ = samples_store
    with duckdb.connect(str(db), read_only=True) as con:
        filed = con.execute(
            "SELECT count(*) FROM analytics.moveworks__conversations WHERE is_ticket_filed"
        ).fetchone()
        labelled = con.execute(
            "SELECT count(DISTINCT conversation_id) FROM raw.interactions WHERE label IN ('file_ticket', 'handoff')"
        ).fetchone()
        escalated = con.execute(
            "SELECT count(*) FROM analytics.moveworks__conversations WHERE is_escalated"
        ).fetchone()
    assert filed == labelled == (7,)
    assert escalated is not None and escalated[0] > 7  # escalation still counts the used escalation plugins


def _conv(cid: str, route: str, t: datetime, updated: datetime | None = None) -> dict[str, object]:
    iso = t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"id": cid, "user_id": "1", "created_time": iso, "last_updated_time": (updated or t).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "primary_domain": "IT", "route": route, "type": None, "detail": None}  # fmt: skip


def _inter(iid: str, cid: str, t: datetime) -> dict[str, object]:
    iso = t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"id": iid, "conversation_id": cid, "user_id": "1", "actor": "user", "platform": "slack",
            "type": "INTERACTION_TYPE_FREE_TEXT", "label": None, "parent_interaction_id": None,
            "detail": {"content": "hi"}, "created_time": iso, "last_updated_time": iso}  # fmt: skip


@pytest.fixture(scope="session")
def defects_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """Known answers + planted defects: a duplicate (older version), orphan interactions (>5 %),
    an unknown route, stale data (last update 40 days ago)."""
    t = datetime.now(UTC) - timedelta(days=40)
    convs = [_conv(f"c{i}", "DM", t + timedelta(hours=i)) for i in range(10)]
    convs.append(
        _conv("c0", "Channel", t - timedelta(days=1), updated=t - timedelta(days=1))
    )  # older version
    convs.append(_conv("c_new", "Email", t))  # unknown route
    inters = [_inter(f"i{i}", f"c{i}", t + timedelta(hours=i)) for i in range(10)]
    inters += [_inter("o1", "missing1", t), _inter("o2", "missing2", t)]  # 2 orphans of 12 = 17 %
    # a steady 3 interactions a day for 20 days, then a spike of 60 (orphans too): a volume anomaly
    inters += [_inter(f"v{d}_{k}", "c0", t - timedelta(days=21 - d)) for d in range(20) for k in range(3)]
    inters += [_inter(f"spike{k}", f"missing{k}", t + timedelta(days=1)) for k in range(60)]
    users = [
        {
            "id": "1",
            "email_addr": "a@x.com",
            "access_to_bot": True,
            "last_updated_time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    db = tmp_path_factory.mktemp("defects") / "s.duckdb"
    load_duckdb(db, {"conversations": convs, "interactions": inters, "users": users})
    cfg = Config(store=str(db))
    build(cfg)
    with pytest.raises(DataQualityError) as err:
        check(cfg)
    return db, err.value


def test_planted_defects_are_caught(defects_store: tuple[Path, object]) -> None:
    db, err = defects_store
    assert "interactions_conversation_orphans_error" in str(err)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT test_name, status FROM _mwdata.check_results WHERE invocation_id = "
            "(SELECT invocation_id FROM _mwdata.check_results ORDER BY run_at DESC LIMIT 1)"
        ).fetchall()
        status = {name: st for name, st in rows}
        assert status["interactions_conversation_orphans_error"] == "fail"
        assert status["interactions_conversation_orphans_warn"] == "warn"
        assert any(n.startswith("source_unique_moveworks_conversations_id") and s == "warn" for n, s in rows)
        assert any(
            "no_unknown_values_stg_moveworks__conversations_route" in n and s == "warn" for n, s in rows
        )
        assert any(n.startswith("freshness:moveworks.conversations") and s == "warn" for n, s in rows)
        assert any(
            n.startswith("volume_anomaly_stg_moveworks__interactions") and s == "warn" for n, s in rows
        )
        # known answers: the newest version wins; the unknown route is kept as 'other'
        routes = dict(
            con.execute("SELECT conversation_id, route FROM analytics.moveworks__conversations").fetchall()
        )
        assert routes["c0"] == "DM" and routes["c_new"] == "other" and len(routes) == 11
        engaged = con.execute(
            "SELECT count(*) FROM analytics.moveworks__conversations WHERE is_user_engaged"
        ).fetchone()
        assert engaged == (10,)


def test_hr_file_contract(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="absent.csv does not exist"):
        read_hr_file(str(tmp_path / "absent.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("email,department\na@x.com,Eng\n")
    with pytest.raises(InputFileError, match="employee_id"):
        read_hr_file(str(bad))
    flag = tmp_path / "flag.csv"
    flag.write_text(",".join(proj.HR_COLUMNS) + "\nA@X.com,E1,Eng,Paris,FR,IC,,maybe\n")
    with pytest.raises(InputFileError, match="line 2: is_test_user"):
        read_hr_file(str(flag))
    ok = tmp_path / "ok.csv"
    ok.write_text(",".join(proj.HR_COLUMNS) + "\nA@X.com,E1,Eng,Paris,FR,IC,,yes\n")
    assert read_hr_file(str(ok)) == [("A@X.com", "E1", "Eng", "Paris", "FR", "IC", None, True, None)]
    # the optional external_id column, in any position
    ext = tmp_path / "ext.csv"
    ext.write_text("external_id," + ",".join(proj.HR_COLUMNS) + "\n sn1 ,A@X.com,E1,Eng,Paris,FR,IC,,no\n")
    assert read_hr_file(str(ext)) == [("A@X.com", "E1", "Eng", "Paris", "FR", "IC", None, False, "sn1")]
    # a bad file still names what is missing, and says external_id is optional
    with pytest.raises(InputFileError, match=r"lacks the column\(s\) employee_id.*optionally external_id"):
        read_hr_file(str(bad))


def test_profile_keeps_the_password_out_of_the_file() -> None:
    prof, env = profile(Config(store="postgresql://bob:s3cret@db.example:5433/analytics"))
    assert "s3cret" not in json.dumps(prof) and env["MWDATA_DBT_PG_PASSWORD"] == "s3cret"
    assert prof["port"] == 5433 and prof["dbname"] == "analytics" and prof["user"] == "bob"
    prof, _ = profile(Config(store="x.duckdb", transform=TransformConfig(target_schema="marts")))
    assert prof["type"] == "duckdb" and prof["schema"] == "marts"


def test_generated_files_are_current() -> None:
    assert proj.SOURCES_FILE.read_text() == proj.sources_yaml(), "run: python -m mwdata.transform.project"
    assert proj.VOCABULARY_FILE.read_text() == proj.vocabulary_csv(), (
        "run: python -m mwdata.transform.project"
    )
    assert (REPO / "docs" / "metrics.md").read_text() == render(), "run: mwdata metrics docs"


def test_cli_check_exit_code_and_summary(defects_store: tuple[Path, object], tmp_path: Path) -> None:
    from tests.sync.conftest import run_cli

    db, _ = defects_store
    r = run_cli("check", env={"MWDATA_STORE": str(db)}, cwd=tmp_path, timeout=300)
    assert r.returncode == 9, r.stdout[-2000:] + r.stderr[-2000:]
    assert "interactions_conversation_orphans_error" in r.stdout and "warnings" in r.stdout
    assert "Traceback" not in r.stderr
    r = run_cli("metrics", "list", env={}, cwd=tmp_path)
    assert r.returncode == 0 and "containment_rate" in r.stdout


def test_cli_bad_hr_file_is_a_clear_error(tmp_path: Path) -> None:
    from tests.sync.conftest import run_cli

    hr = tmp_path / "hr.csv"
    hr.write_text("email\nx@y.z\n")
    r = run_cli(
        "build", env={"MWDATA_STORE": str(tmp_path / "s.duckdb"), "MWDATA_HR_FILE": str(hr)}, cwd=tmp_path
    )
    assert r.returncode == 11 and "employee_id" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("mode", ["hash", "drop"])
def test_pii_switch_hides_utterances_and_emails(mode: str, tmp_path: Path) -> None:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    users = [{"id": "1", "email_addr": "Secret.Person@x.com", "first_name": "Ada", "access_to_bot": True,
              "last_updated_time": "2026-11-01T00:00:00Z",
              "external_ids": [{"connector_name": "gsuite", "external_id": "Secret.Person@x.com", "source": "GSUITE"}]}]  # fmt: skip
    db = tmp_path / "s.duckdb"
    load_duckdb(db, {"interactions": [_inter("i1", "c1", t)], "users": users})
    cfg = Config(
        store=str(db), transform=pii_cases.transform(mode, "sixteen characters+" if mode == "hash" else None)
    )
    build(
        cfg,
        select=["+stg_moveworks__users", "+stg_moveworks__interactions", "+stg_moveworks__user_external_ids"],
    )
    with duckdb.connect(str(db), read_only=True) as con:
        email, first = con.execute(
            "SELECT email, first_name FROM analytics_staging.stg_moveworks__users"
        ).fetchone()  # type: ignore[misc]
        (content,) = con.execute(
            "SELECT content FROM analytics_staging.stg_moveworks__interactions"
        ).fetchone()  # type: ignore[misc]
        (ext,) = con.execute(
            "SELECT external_id FROM analytics_staging.stg_moveworks__user_external_ids"
        ).fetchone()  # type: ignore[misc]
    for stored, clear in (
        (email, "Secret.Person@x.com"),
        (first, "Ada"),
        (content, "hi"),
        (ext, "Secret.Person@x.com"),
    ):
        if mode == "drop":
            assert stored is None
        else:
            assert stored != clear and len(stored) == 64  # keyed sha256 hex (staging is a table here)
