"""A hand-made roster and HR extract for the HR match (e-mail first, then external ids), with the
expected outcome; used on DuckDB (test_hr_match.py) and on PostgreSQL (test_postgres.py)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mwdata.transform.project import HR_TABLE_COLUMNS

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _ids(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"connector_name": s.lower(), "external_id": v, "source": s} for s, v in pairs]


def _user(uid: str, email: str, ext: Any, access: bool = True, updated: datetime = T0) -> dict[str, Any]:
    return {"id": uid, "email_addr": email, "first_name": f"F{uid}", "last_name": f"L{uid}",
            "access_to_bot": access, "user_preferred_language": "EN_US", "external_ids": ext,
            "last_updated_time": updated.strftime("%Y-%m-%dT%H:%M:%S.000Z")}  # fmt: skip


USERS = [
    # e-mail differs from the HR row's in case and spaces; its SNOW id is also some other HR row's
    # external_id (hr 'E8'): the e-mail match wins and E8 stays free
    _user("1", "Ada.Lovelace@Example.COM", _ids(("GSUITE", "ada.lovelace@example.com"), ("SNOW", "sn-ada"))),
    # no HR e-mail; two external ids, the second matches an HR external_id
    _user("2", "grace@example.com", _ids(("SLACK", "U02:T1"), ("SNOW", "sn-grace"))),
    # only a WORKDAY id equal to an HR employee_id: matched only when WORKDAY is an employee-id source
    _user("3", "alan@example.com", _ids(("GSUITE", "alan@example.com"), ("WORKDAY", "W-300"))),
    # two users claim the same id (hr 'E4'): the one with bot access wins though its id sorts later
    _user("5", "shared.b@example.com", _ids(("SNOW", "sn-shared")), access=True),
    _user("4", "shared.a@example.com", _ids(("SNOW", "sn-shared")), access=False),
    # a tie in access and update time (hr 'E6'): the lower user_id wins
    _user("6", "twin.a@example.com", _ids(("SNOW", "sn-twin"))),
    _user("7", "twin.b@example.com", _ids(("SNOW", "sn-twin"))),
    # e-mail matches one HR row; nothing else
    _user("8", "kat@example.com", _ids(("SLACK", "U08:T1"))),
    # external_ids null / not an array / an array of junk: no match, no error
    _user("9", "nobody@example.com", None),
    _user("10", "odd@example.com", {"source": "SNOW", "external_id": "sn-odd"}),
    _user(
        "11",
        "lin@example.com",
        # ...and the matching id twice, under two sources: one match
        [
            1,
            None,
            {"source": "SLACK", "external_id": " U11:T1 "},
            {"source": "MOVEWEBCHAT", "external_id": "U11:T1"},
        ],
    ),
    # an older version of user 2 with an e-mail the HR file knows: the latest version counts
    _user("2", "grace.hopper@corp.example", None, updated=T0 - timedelta(days=3)),
]

_HR = [
    # email, employee_id, department, external_id
    (" ADA.lovelace@example.com ", "E1", "Math", ""),
    ("grace.hopper@corp.example", "E2", "Navy", "sn-grace"),
    ("alan.turing@corp.example", "W-300", "Crypto", ""),
    ("shared@corp.example", "E4", "Shared", "sn-shared"),
    ("twin@corp.example", "E6", "Twins", "sn-twin"),
    ("kat@example.com", "E7", "Space", ""),
    ("ada.l@corp.example", "E8", "Other", "sn-ada"),
    ("lin@corp.example", "E11", "Chat", "U11:T1"),
    ("gone@corp.example", "E12", "Left", "sn-gone"),
]

# user_id -> (employee_id, hr_match) with the default vars; users absent here have no HR row
EXPECTED = {
    "1": ("E1", "email"),
    "2": ("E2", "external_id"),
    "5": ("E4", "external_id"),
    "6": ("E6", "external_id"),
    "8": ("E7", "email"),
    "11": ("E11", "external_id"),
}
# with mwdata_hr_external_id_sources: [snow] and mwdata_hr_employee_id_sources: [workday]
RESTRICTED_VARS = {"mwdata_hr_external_id_sources": ["snow"], "mwdata_hr_employee_id_sources": ["Workday"]}
EXPECTED_RESTRICTED = {
    **{k: v for k, v in EXPECTED.items() if k != "11"},  # a SLACK id no longer matches
    "3": ("W-300", "employee_id"),
}
# interactions per user: every one must come out once in the journey (no fan-out)
ACTIVITY = {"1": 3, "2": 2, "3": 1, "4": 2, "5": 1, "6": 1, "7": 2, "8": 1, "11": 1}


def interactions() -> list[dict[str, Any]]:
    out = []
    for uid, n in ACTIVITY.items():
        for k in range(n):
            iso = (T0 + timedelta(hours=k)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            out.append({"id": f"i{uid}_{k}", "conversation_id": f"c{uid}_{k}", "user_id": uid, "actor": "user",
                        "platform": "slack", "type": "INTERACTION_TYPE_FREE_TEXT", "label": None,
                        "parent_interaction_id": None, "detail": {"content": "hi"}, "created_time": iso,
                        "last_updated_time": iso})  # fmt: skip
    return out


def conversations() -> list[dict[str, Any]]:
    return [{"id": i["conversation_id"], "user_id": i["user_id"], "created_time": i["created_time"],
             "last_updated_time": i["last_updated_time"], "primary_domain": "IT", "route": "DM",
             "type": None, "detail": None} for i in interactions()]  # fmt: skip


def records() -> dict[str, list[dict[str, Any]]]:
    return {"users": USERS, "interactions": interactions(), "conversations": conversations()}


def write_hr_csv(path: Path) -> Path:
    """The HR extract with the optional external_id column last."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HR_TABLE_COLUMNS)
        for email, emp, dept, ext in _HR:
            row = {"email": email, "employee_id": emp, "department": dept, "location": "L", "country": "C",
                   "role": "IC", "manager_email": "", "is_test_user": "false", "external_id": ext}  # fmt: skip
            w.writerow([row[c] for c in HR_TABLE_COLUMNS])
    return path


Query = Callable[[str], Sequence[tuple[Any, ...]]]


def assert_outcome(query: Query, expected: dict[str, tuple[str, str]]) -> None:
    """The match, its uniqueness both ways, and no fan-out into the marts (`query` runs SQL)."""
    got = {
        str(uid): (emp, how)
        for uid, emp, how in query(
            "SELECT user_id, employee_id, hr_match FROM analytics_intermediate.int_moveworks__users_enriched "
            "WHERE hr_row_id IS NOT NULL"
        )
    }
    assert got == expected
    n_users = len({u["id"] for u in USERS})
    assert query("SELECT count(*), count(DISTINCT user_id) FROM analytics.moveworks__users") == [
        (n_users, n_users)
    ]
    assert query("SELECT count(*) FROM analytics.moveworks__users WHERE employee_id IS NOT NULL") == [
        (len(expected),)
    ]
    n_inter = sum(ACTIVITY.values())
    assert query("SELECT count(*), count(DISTINCT interaction_id) FROM analytics.moveworks__journey") == [
        (n_inter, n_inter)
    ]
    assert query("SELECT count(*) FROM analytics.moveworks__conversations") == [(n_inter,)]
    depts: dict[Any, Any] = dict(
        query("SELECT user_id, department FROM analytics.moveworks__journey WHERE department IS NOT NULL")
    )
    assert {str(k) for k in depts} == {u for u in expected if u in ACTIVITY}
    # headcount: every HR row once, plus each roster user without an HR row once
    total = query("SELECT sum(headcount) FROM analytics.moveworks__adoption_by_segment")
    assert [(int(total[0][0]),)] == [(len(_HR) + n_users - len(expected),)]
    # the flattened external ids: junk and non-arrays dropped, spaces trimmed, latest version only
    flat = query(
        "SELECT user_id, source, external_id FROM analytics_staging.stg_moveworks__user_external_ids "
        "WHERE user_id IN ('2', '9', '10', '11') ORDER BY user_id, source"
    )
    assert [tuple(r) for r in flat] == [
        ("11", "MOVEWEBCHAT", "U11:T1"),
        ("11", "SLACK", "U11:T1"),
        ("2", "SLACK", "U02:T1"),
        ("2", "SNOW", "sn-grace"),
    ]
