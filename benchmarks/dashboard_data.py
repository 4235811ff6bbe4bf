"""A synthetic store shaped like mwdata's marts, built in SQL at any size (tests and the benchmark).

It holds the columns the dashboard reads (docs/dashboard.md) with plausible distributions, so the
query layer can be tested and timed at 1M interactions in seconds. It is NOT a substitute for the
real chain: the end-to-end tests run simulator -> sync -> build -> dashboard.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from mwdata.store.duckdb import STATE_DDL
from mwdata.store.schema import create_all_sql


def build(path: str | Path, users: int = 200, days: int = 60, end: date = date(2026, 5, 31), seed: float = 0.42,
          conversations_per_user_day: float = 0.3, schema: str = "analytics") -> None:  # fmt: skip
    """Write the store at `path` (replaced). Interactions ~= users * days * rate * 2.5."""
    p = Path(path)
    p.unlink(missing_ok=True)
    Path(str(p) + ".wal").unlink(missing_ok=True)
    con = duckdb.connect(str(p))
    try:
        con.execute("SELECT setseed(?)", [seed])
        s = f'"{schema}"'
        con.execute(f"CREATE SCHEMA {s}")
        for stmt in create_all_sql():
            con.execute(stmt)
        con.execute(
            f"""
            CREATE TABLE {s}.hr AS
            SELECT CAST(1000000 + i AS VARCHAR) AS user_id,
                   ['Engineering','Sales','Finance','HR','Support'][1 + (i % 5)] AS department,
                   ['Paris','New York','Tokyo','Toronto'][1 + ((i // 5) % 4)] AS location,
                   ['FR','US','JP','CA'][1 + ((i // 5) % 4)] AS country,
                   ['Individual contributor','Manager','Executive'][1 + CAST(i % 7 = 0 AS INT) + CAST(i % 31 = 0 AS INT)] AS role,
                   (i % 50 = 0) AS is_test_user,
                   random() < 0.9 AS access_to_bot,
                   CAST(random() * 4 AS INT) AS platform_pref
            FROM range(?) t(i)
            """,
            [users],
        )
        con.execute(
            f"""
            CREATE TABLE {s}.moveworks__conversations_base AS
            SELECT 'c' || row_number() OVER () AS conversation_id, h.user_id, h.department, h.location, h.role,
                   h.is_test_user,
                   CAST(? AS DATE) - CAST(d AS INT) + to_seconds(CAST(random() * 86000 AS BIGINT)) AS created_time,
                   CASE WHEN random() < 0.8 THEN 'DM' WHEN random() < 0.5 THEN 'Notification'
                        WHEN random() < 0.5 THEN 'Channel' ELSE 'Ticket' END AS route,
                   ['IT','HR','OTHER','FINANCE','FACILITY'][1 + CAST(floor(random() * 5) AS INT)] AS primary_domain,
                   ['slack','msteams','movewebchat','web'][1 + (h.platform_pref + CAST(random() < 0.2 AS INT)) % 4] AS platform,
                   1 + CAST(floor(random() * 4) AS INT) AS user_interaction_count
            FROM {s}.hr h, range(?) r(d)
            WHERE random() < ?
            """,
            [end, days, conversations_per_user_day],
        )
        con.execute(
            f"""
            CREATE TABLE {s}.moveworks__journey AS
            SELECT c.conversation_id || '-' || k AS interaction_id, c.conversation_id, c.user_id,
                   c.created_time + to_seconds(k * 40) AS created_time,
                   CAST(c.created_time + to_seconds(k * 40) AS DATE) AS date_day, c.platform,
                   CASE WHEN k = 0 OR random() < 0.6 THEN 'INTERACTION_TYPE_FREE_TEXT'
                        ELSE 'INTERACTION_TYPE_BUTTON_CLICK' END AS interaction_type,
                   CASE WHEN random() < 0.04 THEN 'file_ticket' WHEN random() < 0.02 THEN 'handoff'
                        WHEN random() < 0.03 THEN 'feedback' ELSE NULL END AS label,
                   'question ' || CAST(floor(random() * 1000) AS INT) AS content,
                   c.primary_domain AS interaction_domain,
                   ['password reset','vpn','laptop','payroll','benefits','expense','badge','wifi'][1 + CAST(floor(random() * 8) AS INT)] AS topic,
                   c.primary_domain AS conversation_domain, c.route,
                   CAST(floor(random() * 3) AS INT) AS plugins_served,
                   0 AS plugins_used, 0 AS plugins_unsuccessful,
                   CAST(floor(random() * 3) AS INT) AS cited_resources,
                   'answer' AS bot_reply,
                   FALSE AS is_escalated,
                   CASE WHEN random() < 0.05 THEN 'HELPFUL' WHEN random() < 0.03 THEN 'UNHELPFUL' END AS feedback,
                   random() < 0.005 AS is_csat_comment,
                   c.department, c.location, c.role, c.is_test_user
            FROM {s}.moveworks__conversations_base c, range(4) r(k)
            WHERE k < c.user_interaction_count
            """
        )
        con.execute(
            f"""
            UPDATE {s}.moveworks__journey SET
              plugins_used = CASE WHEN plugins_served > 0 AND random() < 0.7 THEN 1 ELSE 0 END,
              plugins_unsuccessful = CASE WHEN random() < 0.1 THEN 1 ELSE 0 END,
              is_escalated = label IN ('file_ticket', 'handoff')
            """
        )
        con.execute(
            f"""
            CREATE TABLE {s}.moveworks__plugin_calls AS
            SELECT j.interaction_id || '-p' || k AS plugin_call_id, j.interaction_id, j.conversation_id, j.user_id,
                   p.name AS plugin_name, p.name LIKE '% %' AS is_native,
                   random() < 0.9 AS served, FALSE AS used,
                   j.created_time, random() * 8 + CASE WHEN p.name = 'Update Approval Record' THEN 3600 ELSE 0 END
                     AS latency_seconds,
                   p.minutes AS minutes_saved,
                   j.platform, j.route, j.conversation_domain, j.department, j.location, j.role, j.is_test_user
            FROM {s}.moveworks__journey j, range(2) r(k),
                 (SELECT * FROM (VALUES ('Enterprise Search', 0, 4.0), ('Create Ticket', 1, 10.0),
                   ('Update Approval Record', 2, 6.0), ('reset_password_custom', 3, 15.0), ('Forms', 4, 8.0))
                   v(name, slot, minutes)) p
            WHERE k < j.plugins_served + j.plugins_unsuccessful
              AND p.slot = (hash(j.interaction_id, k) % 5)
            """
        )
        con.execute(f"UPDATE {s}.moveworks__plugin_calls SET used = served AND random() < 0.75")
        con.execute(
            f"""
            CREATE TABLE {s}.moveworks__knowledge_resources AS
            SELECT pc.plugin_call_id || '-r' || k AS plugin_resource_id, 'kb' || CAST(hash(pc.plugin_call_id, k) % 300 AS INT) AS resource_id,
                   -- some resources carry no name (as on real tenants) and are often cited: the chart must not lump them
                   CASE WHEN hash(pc.plugin_call_id, k) % 300 < 30 THEN NULL
                        ELSE 'Article ' || CAST(hash(pc.plugin_call_id, k) % 300 AS INT) END AS article_name,
                   'KB' || lpad(CAST(hash(pc.plugin_call_id, k) % 300 AS VARCHAR), 7, '0') AS external_resource_id,
                   random() < CASE WHEN hash(pc.plugin_call_id, k) % 300 < 30 THEN 0.9 ELSE 0.35 END AS cited,
                   pc.plugin_call_id, pc.interaction_id, pc.conversation_id, pc.created_time,
                   random() < 0.03 AS conversation_unhelpful, random() < 0.05 AS conversation_ticket_filed,
                   pc.platform, pc.route, pc.conversation_domain, pc.department, pc.location, pc.role, pc.is_test_user
            FROM {s}.moveworks__plugin_calls pc, range(3) r(k)
            WHERE pc.plugin_name = 'Enterprise Search' AND pc.served
            """
        )
        con.execute(
            f"""
            CREATE TABLE {s}.moveworks__conversations AS
            SELECT b.*, CAST(b.created_time AS DATE) AS date_day, b.route IN ('Notification', 'Ticket') AND j.n IS NULL AS _unused,
                   CASE WHEN b.route = 'Notification' THEN ['CONVERSATION_TYPE_COMMS_NOTIFICATION',
                        'CONVERSATION_TYPE_TICKET_UPDATE_NOTIFICATION'][1 + CAST(random() < 0.5 AS INT)]
                        WHEN b.route = 'Ticket' THEN 'CONVERSATION_TYPE_TICKET_INTERCEPTION' END AS conversation_type,
                   (b.route NOT IN ('Notification') OR random() < 0.3) AS is_user_engaged,
                   coalesce(j.escalated, FALSE) AS is_escalated,
                   coalesce(b.route = 'DM' AND j.used > 0 AND NOT j.escalated AND NOT j.unhelpful, FALSE) AS is_contained,
                   coalesce(j.served, 0) AS plugins_served, coalesce(j.used, 0) AS plugins_used,
                   coalesce(j.ticket, FALSE) AS is_ticket_filed, coalesce(j.unhelpful, FALSE) AS has_unhelpful_feedback,
                   CASE WHEN j.used > 0 AND b.route <> 'Notification' THEN random() * 30 END AS minutes_to_resolution
            FROM {s}.moveworks__conversations_base b
            LEFT JOIN (SELECT conversation_id, count(*) AS n, bool_or(is_escalated) AS escalated,
                              bool_or(feedback = 'UNHELPFUL') AS unhelpful, bool_or(label = 'file_ticket') AS ticket,
                              sum(plugins_served) AS served,
                              sum(plugins_used) AS used
                       FROM {s}.moveworks__journey GROUP BY 1) j USING (conversation_id)
            """
        )
        con.execute(f"ALTER TABLE {s}.moveworks__conversations DROP COLUMN _unused")
        con.execute(f"DROP TABLE {s}.moveworks__conversations_base")
        # The columns the semantic models read that the pages used not to (docs/dashboard.md lists them).
        con.execute(
            f"""
            ALTER TABLE {s}.moveworks__plugin_calls ADD COLUMN date_day DATE;
            ALTER TABLE {s}.moveworks__plugin_calls ADD COLUMN plugin_kind VARCHAR;
            ALTER TABLE {s}.moveworks__plugin_calls ADD COLUMN is_approval BOOLEAN;
            ALTER TABLE {s}.moveworks__plugin_calls ADD COLUMN is_unsuccessful BOOLEAN;
            UPDATE {s}.moveworks__plugin_calls SET date_day = CAST(created_time AS DATE),
              plugin_kind = CASE plugin_name WHEN 'Enterprise Search' THEN 'knowledge'
                                 WHEN 'Create Ticket' THEN 'escalation' ELSE 'action' END,
              is_approval = plugin_name ILIKE '%approval%', is_unsuccessful = NOT served;
            ALTER TABLE {s}.moveworks__knowledge_resources ADD COLUMN date_day DATE;
            ALTER TABLE {s}.moveworks__knowledge_resources ADD COLUMN resource_type VARCHAR;
            ALTER TABLE {s}.moveworks__knowledge_resources ADD COLUMN user_id VARCHAR;
            UPDATE {s}.moveworks__knowledge_resources r SET date_day = CAST(r.created_time AS DATE),
              resource_type = 'RESOURCE_TYPE_KNOWLEDGE', user_id = pc.user_id
              FROM {s}.moveworks__plugin_calls pc WHERE pc.plugin_call_id = r.plugin_call_id;
            ALTER TABLE {s}.moveworks__conversations ADD COLUMN plugin_calls INTEGER;
            ALTER TABLE {s}.moveworks__conversations ADD COLUMN is_unsuccessful_only BOOLEAN;
            ALTER TABLE {s}.moveworks__conversations ADD COLUMN has_knowledge_used BOOLEAN;
            UPDATE {s}.moveworks__conversations c SET plugin_calls = coalesce(p.calls, 0),
              is_unsuccessful_only = coalesce(p.calls > 0 AND c.plugins_served = 0, FALSE),
              has_knowledge_used = coalesce(p.knowledge_used, FALSE)
              FROM (SELECT conversation_id, count(*) AS calls,
                           bool_or(used AND plugin_kind = 'knowledge') AS knowledge_used
                    FROM {s}.moveworks__plugin_calls GROUP BY 1) p
              WHERE p.conversation_id = c.conversation_id;
            UPDATE {s}.moveworks__conversations SET plugin_calls = 0, is_unsuccessful_only = FALSE,
              has_knowledge_used = FALSE WHERE plugin_calls IS NULL;
            ALTER TABLE {s}.moveworks__journey ADD COLUMN conversation_type VARCHAR;
            ALTER TABLE {s}.moveworks__journey ADD COLUMN is_knowledge_gap BOOLEAN;
            UPDATE {s}.moveworks__journey j SET conversation_type = c.conversation_type,
              is_knowledge_gap = j.interaction_type = 'INTERACTION_TYPE_FREE_TEXT'
                AND (j.cited_resources = 0 OR coalesce(j.feedback = 'UNHELPFUL', FALSE) OR j.is_escalated)
              FROM {s}.moveworks__conversations c WHERE c.conversation_id = j.conversation_id;
            CREATE TABLE {s}.moveworks__notifications AS
            SELECT conversation_id, user_id, created_time, date_day, route, conversation_type,
                   conversation_type LIKE '%INTERCEPTION' AS is_interception, plugins_served > 0 AS is_reached_out,
                   is_user_engaged, is_ticket_filed,
                   conversation_type LIKE '%INTERCEPTION' AND is_user_engaged AND NOT is_ticket_filed AS is_deflected,
                   department, location, role, is_test_user
            FROM {s}.moveworks__conversations WHERE conversation_type IS NOT NULL OR route = 'Notification'
            """
        )
        con.execute(
            f"""
            CREATE TABLE {s}.moveworks__user_daily AS
            SELECT CAST(created_time AS DATE) AS date_day, user_id, count(*) AS user_interactions,
                   count(DISTINCT conversation_id) AS conversations,
                   any_value(department) AS department, any_value(location) AS location, any_value(role) AS role,
                   bool_or(is_test_user) AS is_test_user
            FROM {s}.moveworks__journey GROUP BY 1, 2
            """
        )
        con.execute(
            f"""
            CREATE TABLE {s}.moveworks__adoption_by_segment AS
            SELECT department, location, country, role, count(*) FILTER (WHERE NOT is_test_user) AS headcount,
                   count(*) FILTER (WHERE access_to_bot AND NOT is_test_user) AS users_with_access,
                   current_date AS as_of_day
            FROM {s}.hr GROUP BY 1, 2, 3, 4
            """
        )
        # The roster: first_interaction_time comes from the users entity, so about half the active users
        # first talked to the assistant before the store's history began (as on a real tenant).
        con.execute(
            f"""
            CREATE TABLE {s}.moveworks__users AS
            WITH seen AS (SELECT user_id, min(created_time) AS first_seen FROM {s}.moveworks__journey GROUP BY 1),
            u AS (
              SELECT h.user_id, h.access_to_bot, h.department, h.location, h.country, h.role, h.is_test_user,
                     CASE WHEN seen.first_seen IS NULL THEN NULL
                          WHEN random() < 0.5 THEN seen.first_seen - to_days(1 + CAST(random() * 400 AS INT))
                          ELSE seen.first_seen END AS first_interaction_time
              FROM {s}.hr h LEFT JOIN seen USING (user_id)
            )
            SELECT user_id, 'user' || user_id || '@example.com' AS email, access_to_bot, first_interaction_time,
                   CAST(first_interaction_time AS DATE) AS first_interaction_day, department, location, country, role,
                   is_test_user
            FROM u
            """
        )
        con.execute(f"DROP TABLE {s}.hr")
        con.execute(
            f"""
            ALTER TABLE {s}.moveworks__user_daily ADD COLUMN first_interaction_day DATE;
            UPDATE {s}.moveworks__user_daily d SET first_interaction_day = u.first_interaction_day
              FROM {s}.moveworks__users u WHERE u.user_id = d.user_id;
            ALTER TABLE {s}.moveworks__journey ADD COLUMN first_interaction_day DATE;
            UPDATE {s}.moveworks__journey j SET first_interaction_day = u.first_interaction_day
              FROM {s}.moveworks__users u WHERE u.user_id = j.user_id;
            """
        )
        # The semantic layer's time spine (cumulative metrics such as WAU/MAU join to it), as dbt builds it.
        con.execute(
            f"CREATE TABLE {s}.metricflow_time_spine AS SELECT CAST(t AS DATE) AS date_day "
            "FROM range(DATE '2020-01-01', DATE '2036-01-01', INTERVAL 1 DAY) r(t)"
        )
        # Raw interactions (for the data-health page) mirror the journey's user rows plus one bot reply each.
        con.execute(
            """
            INSERT INTO raw.interactions (id, conversation_id, user_id, actor, platform, type, detail,
                                          created_time, last_updated_time, _record, _synced_at, _run_id)
            SELECT interaction_id || a, conversation_id, user_id, CASE WHEN a = 'u' THEN 'user' ELSE 'bot' END,
                   platform, interaction_type, '{}', created_time, created_time, '{}', now(), 'run-1'
            FROM analytics.moveworks__journey, (VALUES ('u'), ('b')) v(a)
            """.replace("analytics.", f"{s}.")
        )
        for ddl in STATE_DDL:  # the sync's own state tables, so the data-health page reads the real shape
            con.execute(ddl)
        con.execute(
            "INSERT INTO _mwdata.sync_runs (run_id, entity, started_at, ended_at, rows, outcome) "
            "SELECT 'run-1', e, now() - INTERVAL 2 HOUR, now() - INTERVAL 1 HOUR, 100, 'success' "
            "FROM (VALUES ('conversations'), ('interactions'), ('plugin-calls'), ('plugin-resources'), ('users')) v(e)"
        )
        con.execute(
            "INSERT INTO _mwdata.sync_state SELECT e, now() - INTERVAL 3 HOUR, 'run-1', now() - INTERVAL 1 HOUR "
            "FROM (VALUES ('conversations'), ('interactions'), ('plugin-calls'), ('plugin-resources'), ('users')) v(e)"
        )
    finally:
        con.close()


if __name__ == "__main__":
    import sys

    build(sys.argv[1] if len(sys.argv) > 1 else "dashboard-bench.duckdb")
