"""A small seeded generator of API-shaped records for the metric tests (independent of the marts).

Not the simulator: just enough variety to exercise every metric's edge (notifications without user
turns, interceptions, escalations by label and by plugin, both feedback spellings, test users, users
missing from HR, uncited resources without a plugin call, older duplicate versions of records).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

PLUGINS = (
    ("Enterprise Search", 0.45),
    ("Create Ticket", 0.08),
    ("Smart Handoff", 0.05),
    ("Update Approval Record", 0.07),
    ("Forms", 0.1),
    ("reset_password_custom", 0.15),
    ("lookup_pto_balance", 0.1),
)
TOPICS = ("password reset", "vpn", "laptop", "payroll", None)
DOMAINS = ("IT", "HR", "FINANCE", "OTHER")


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Dataset:
    records: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {
            p: [] for p in ("conversations", "interactions", "plugin-calls", "plugin-resources", "users")
        }
    )
    hr_rows: list[dict[str, Any]] = field(default_factory=list)


def generate(
    seed: int, users: int = 40, days: int = 20, end: datetime = datetime(2026, 11, 28, tzinfo=UTC)
) -> Dataset:
    rng = random.Random(seed)
    ds = Dataset()
    start = end - timedelta(days=days)
    n = {"c": 0, "i": 0, "p": 0, "r": 0}

    def nid(kind: str) -> str:
        n[kind] += 1
        return f"{kind}{seed}_{n[kind]}"

    for u in range(users):
        uid = str(10_000_000 + u)
        email = f"User{u}@Example.com"
        first = start + timedelta(hours=rng.randint(0, days * 24 - 1)) if rng.random() < 0.8 else None
        ds.records["users"].append(
            {
                "id": uid,
                "email_addr": email,
                "first_name": f"F{u}",
                "last_name": f"L{u}",
                "access_to_bot": rng.random() < 0.9,
                "user_preferred_language": "EN_US",
                "first_interaction_time": _iso(first) if first else None,
                "latest_interaction_time": _iso(end) if first else None,
                "external_ids": [],
                "last_updated_time": _iso(end),
            }
        )
        if rng.random() < 0.85:  # some users are missing from HR
            ds.hr_rows.append(
                {
                    "email": email.lower(),
                    "employee_id": f"E{u}",
                    "department": rng.choice(("Eng", "Sales", "HR")),
                    "location": rng.choice(("Paris", "Austin")),
                    "country": "FR",
                    "role": rng.choice(("IC", "Manager")),
                    "manager_email": "",
                    "is_test_user": u % 13 == 0,
                }
            )
    for u in ds.records["users"]:
        uid = u["id"]
        platform = rng.choice(("slack", "msteams", "web"))
        for _ in range(int(days * rng.uniform(0.1, 0.6))):
            t0 = start + timedelta(seconds=rng.randint(0, days * 86400 - 3600))
            r = rng.random()
            route, ctype = "DM", None
            if r < 0.15:
                route, ctype = (
                    "Notification",
                    rng.choice(
                        (
                            "CONVERSATION_TYPE_COMMS_NOTIFICATION",
                            "CONVERSATION_TYPE_TICKET_UPDATE_NOTIFICATION",
                        )
                    ),
                )
            elif r < 0.25:
                route, ctype = "Ticket", "CONVERSATION_TYPE_TICKET_INTERCEPTION"
            elif r < 0.3:
                route = "Channel"
            cid = nid("c")
            conv = {
                "id": cid, "user_id": uid, "created_time": _iso(t0), "last_updated_time": _iso(t0 + timedelta(hours=6)),
                "primary_domain": rng.choice(DOMAINS), "route": route, "type": ctype,
                "detail": {"ticket_id": "INC1"} if ctype and "TICKET" in ctype else None,
            }  # fmt: skip
            ds.records["conversations"].append(conv)
            if rng.random() < 0.05:  # an older version of the same conversation: must lose
                ds.records["conversations"].append(dict(conv, route="Channel", last_updated_time=_iso(t0)))
            turns = rng.choice((0, 1, 1, 2, 3)) if route != "DM" else rng.choice((1, 1, 2, 3))
            t = t0
            last_bot: str | None = None
            if route != "DM" and rng.random() < 0.8:  # the bot reaches out first
                last_bot = nid("i")
                ds.records["interactions"].append(
                    _inter(
                        last_bot,
                        cid,
                        uid,
                        "bot",
                        platform,
                        "INTERACTION_TYPE_BOT_MESSAGE",
                        None,
                        None,
                        {"content": "hello"},
                        t,
                    )
                )
            for _k in range(turns):
                t = t + timedelta(seconds=rng.randint(5, 600))
                iid = nid("i")
                kind = rng.random()
                label = None
                if kind < 0.6:
                    itype, detail = (
                        "INTERACTION_TYPE_FREE_TEXT",
                        {
                            "content": f"q{rng.randint(1, 99)}",
                            "domain": rng.choice(DOMAINS),
                            "entity": rng.choice(TOPICS),
                        },
                    )
                elif kind < 0.7:
                    itype, detail = (
                        "INTERACTION_TYPE_LINK_CLICK",
                        {
                            "resource_id": rng.choice(("HELPFUL", "UNHELPFUL", "INFO")),
                            "type": "RESOURCE_TYPE_INTERNAL_LINK",
                        },
                    )
                elif kind < 0.78:
                    itype, label, detail = (
                        "INTERACTION_TYPE_UIFORM_SUBMISSION",
                        "feedback",
                        {"detail": rng.choice(("HELPFUL", "UNHELPFUL"))},
                    )
                elif kind < 0.85:
                    itype, label, detail = (
                        "INTERACTION_TYPE_UIFORM_SUBMISSION",
                        rng.choice(("file_ticket", "handoff")),
                        {"detail": "Ticket form"},
                    )
                elif kind < 0.9:
                    itype, label, detail = (
                        "INTERACTION_TYPE_UIFORM_SUBMISSION",
                        "mw_form",
                        {"detail": "CSAT Feedback", "content": "great"},
                    )
                else:
                    itype, detail = "INTERACTION_TYPE_BUTTON_CLICK", {"content": "Yes"}
                ds.records["interactions"].append(
                    _inter(
                        iid,
                        cid,
                        uid,
                        "user",
                        platform,
                        itype,
                        label,
                        last_bot if itype != "INTERACTION_TYPE_FREE_TEXT" else None,
                        detail,
                        t,
                    )
                )
                if itype == "INTERACTION_TYPE_FREE_TEXT":
                    for _p in range(rng.choice((0, 1, 1, 2))):
                        name = rng.choices([p for p, _ in PLUGINS], [w for _, w in PLUGINS])[0]
                        served = rng.random() < 0.85
                        used = served and rng.random() < 0.7
                        pid = nid("p")
                        ds.records["plugin-calls"].append({
                            "id": pid, "interaction_id": iid, "conversation_id": cid, "user_id": uid, "plugin_name": name,
                            "served": served, "used": used, "plugin_update_time": _iso(t + timedelta(seconds=rng.randint(1, 4000))),
                            "created_time": _iso(t), "last_updated_time": _iso(t + timedelta(hours=5)),
                        })  # fmt: skip
                        if name == "Enterprise Search":
                            for _r in range(rng.randint(0, 3)):
                                cited = rng.random() < 0.4
                                art = rng.randint(1, 15)
                                ds.records["plugin-resources"].append({
                                    "id": nid("r"), "resource_id": f"kb{art}", "type": rng.choice(("RESOURCE_TYPE_KNOWLEDGE", "RESOURCE_TYPE_FILE", "RESOURCE_TYPE_PERSON")),
                                    "plugin_call_id": pid if cited or rng.random() < 0.5 else None, "interaction_id": iid,
                                    "user_id": uid, "conversation_id": cid, "cited": cited,
                                    "detail": {"name": f"Article {art}", "external_resource_id": f"KB{art}", "domain": "IT", "snippet": "", "url": None},
                                    "created_time": _iso(t), "last_updated_time": _iso(t + timedelta(hours=5)),
                                })  # fmt: skip
                    t = t + timedelta(seconds=rng.randint(1, 20))
                    last_bot = nid("i")
                    ds.records["interactions"].append(
                        _inter(
                            last_bot,
                            cid,
                            uid,
                            "bot",
                            platform,
                            "INTERACTION_TYPE_BOT_MESSAGE",
                            None,
                            iid,
                            {"content": f"answer to {iid}"},
                            t,
                        )
                    )
    return ds


def _inter(iid: str, cid: str, uid: str, actor: str, platform: str, itype: str, label: str | None,
           parent: str | None, detail: dict[str, Any], t: datetime) -> dict[str, Any]:  # fmt: skip
    return {
        "id": iid, "conversation_id": cid, "user_id": uid, "actor": actor, "platform": platform, "type": itype,
        "label": label, "parent_interaction_id": parent, "detail": detail, "created_time": _iso(t),
        "last_updated_time": _iso(t + timedelta(hours=6)),
    }  # fmt: skip
