"""A small hand-made tenant whose every metric value is worked out by hand (tests/metrics/test_values.py).

Two ISO weeks of November 2026 (W1 = Mon 2 Nov, W2 = Mon 9 Nov), five roster users:
  u1 alice  Eng    access  first seen 2 Nov
  u2 bob    Sales  access  first seen 3 Nov
  u3 carol  Eng    no access, first seen 10 Nov
  u4 test   Eng    HR test user (excluded by default), first seen 2 Nov
  u5 dave   -      access, no HR record, first seen 20 Oct
HR extract: alice, bob, carol, test (test user), erin (Sales, not in the roster).

Conversations (platform = the first user interaction's; `p` = plugin call, `r` = resource):
  c1  u1 2 Nov  DM IT     slack    free text i1 (+bot reply), HELPFUL click i2; p1 Enterprise Search served+used 2 s,
                                   r1 KNOWLEDGE art1 cited
  c2  u2 3 Nov  DM HR     msteams  free text i3; bot reply labelled file_ticket; p2 Create Ticket served+used 10 s,
                                   r6 RECORD cited (not knowledge-type), r8 KNOWLEDGE art3 not cited
  c3  u4 4 Nov  DM IT     slack    (test user) free text i5; p3 Enterprise Search served, unused 4 s; r3 KNOWLEDGE art1
  c4  u1 5 Nov  DM IT     slack    free text i6, UNHELPFUL click i7; p4 Grant Software Access served, unused 30 s,
                                   r7 KNOWLEDGE art2 not cited; p5 my_custom_plugin not served 1 s
  c5  u2 6 Nov  ticket interception, bot message then free text i8 (msteams): engaged, no ticket = deflected
  c6  u1 7 Nov  ticket interception, bot message only (slack)
  c7  u3 10 Nov DM IT     slack    free text i9; p6 Smart Handoff served+used 600 s (escalated, no ticket filed)
  c8  u2 11 Nov DM HR     msteams  free text i10 (+bot reply), CSAT form i11; p7 Forms served+used 10 s,
                                   r4 FILE art2 cited, r5 KNOWLEDGE art1 not cited
  c9  u1 12 Nov DM IT     slack    free text i12; p8 my_custom_plugin not served 1 s
  c10 u2 13 Nov comms notification "welcome", bot message only (msteams)
  c11 u3 14 Nov comms notification "welcome", bot message then button click i13 (slack)
  c12 u5 15 Nov DM OTHER  web      free text i14
"""

from __future__ import annotations

from typing import Any

DAY = "2026-11-{:02d}T{}Z"
USERS = {  # id: (email, access, first interaction day, HR department or None, test user)
    "u1": ("alice@x.com", True, "2026-11-02", "Eng", False),
    "u2": ("bob@x.com", True, "2026-11-03", "Sales", False),
    "u3": ("carol@x.com", False, "2026-11-10", "Eng", False),
    "u4": ("test@x.com", True, "2026-11-02", "Eng", True),
    "u5": ("dave@x.com", True, "2026-10-20", None, False),
}


def _t(day: int, hms: str) -> str:
    return DAY.format(day, hms)


def _conv(cid: str, user: str, day: int, route: str, domain: str | None, ctype: str | None = None,
          detail: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    t = _t(day, "08:00:00" if route == "Notification" else "09:00:00")
    return {"id": cid, "user_id": user, "created_time": t, "last_updated_time": t, "route": route,
            "primary_domain": domain, "type": ctype, "detail": detail}  # fmt: skip


def _int(iid: str, cid: str, user: str, day: int, hms: str, actor: str, platform: str, itype: str,
         detail: dict[str, Any] | None = None, label: str | None = None, parent: str | None = None) -> dict[str, Any]:  # fmt: skip
    t = _t(day, hms)
    return {"id": iid, "conversation_id": cid, "user_id": user, "actor": actor, "platform": platform,
            "type": itype, "label": label, "parent_interaction_id": parent, "detail": detail,
            "created_time": t, "last_updated_time": t}  # fmt: skip


def _call(pid: str, iid: str, cid: str, user: str, day: int, hms: str, name: str, served: bool, used: bool,
          seconds: int) -> dict[str, Any]:  # fmt: skip
    h, m, s = (int(x) for x in hms.split(":"))
    end = h * 3600 + m * 60 + s + seconds
    upd = f"{end // 3600:02d}:{end % 3600 // 60:02d}:{end % 60:02d}"
    return {"id": pid, "interaction_id": iid, "conversation_id": cid, "user_id": user, "plugin_name": name,
            "served": served, "used": used, "created_time": _t(day, hms), "plugin_update_time": _t(day, upd),
            "last_updated_time": _t(day, upd)}  # fmt: skip


def _res(rid: str, pid: str, iid: str, cid: str, user: str, day: int, rtype: str, resource: str,
         cited: bool) -> dict[str, Any]:  # fmt: skip
    t = _t(day, "09:30:00")
    return {"id": rid, "plugin_call_id": pid, "interaction_id": iid, "conversation_id": cid, "user_id": user,
            "resource_id": resource, "type": f"RESOURCE_TYPE_{rtype}", "cited": cited,
            "detail": {"name": f"Article {resource}", "external_resource_id": f"ext-{resource}"},
            "created_time": t, "last_updated_time": t}  # fmt: skip


FT, BOT, LINK = "INTERACTION_TYPE_FREE_TEXT", "INTERACTION_TYPE_BOT_MESSAGE", "INTERACTION_TYPE_LINK_CLICK"
TICKET_INTERCEPTION = "CONVERSATION_TYPE_TICKET_INTERCEPTION"
COMMS = "CONVERSATION_TYPE_COMMS_NOTIFICATION"


def records() -> dict[str, list[dict[str, Any]]]:
    def q(domain: str | None, topic: str | None) -> dict[str, Any]:
        return {"content": "a question", "domain": domain, "entity": topic}

    conversations = [
        _conv("c1", "u1", 2, "DM", "IT"),
        _conv("c2", "u2", 3, "DM", "HR"),
        _conv("c3", "u4", 4, "DM", "IT"),
        _conv("c4", "u1", 5, "DM", "IT"),
        _conv("c5", "u2", 6, "Notification", None, TICKET_INTERCEPTION, {"ticket_id": "T1"}),
        _conv("c6", "u1", 7, "Notification", None, TICKET_INTERCEPTION, {"ticket_id": "T2"}),
        _conv("c7", "u3", 10, "DM", "IT"),
        _conv("c8", "u2", 11, "DM", "HR"),
        _conv("c9", "u1", 12, "DM", "IT"),
        _conv("c10", "u2", 13, "Notification", None, COMMS, {"campaign_name": "welcome"}),
        _conv("c11", "u3", 14, "Notification", None, COMMS, {"campaign_name": "welcome"}),
        _conv("c12", "u5", 15, "DM", "OTHER"),
    ]
    interactions = [
        _int("i1", "c1", "u1", 2, "09:00:00", "user", "slack", FT, q("IT", "password")),
        _int("b1", "c1", "u1", 2, "09:00:05", "bot", "slack", BOT, {"content": "here"}, parent="i1"),
        _int("i2", "c1", "u1", 2, "09:01:00", "user", "slack", LINK, {"resource_id": "HELPFUL"}),
        _int("i3", "c2", "u2", 3, "09:00:00", "user", "msteams", FT, q("HR", "payroll")),
        _int(
            "b3", "c2", "u2", 3, "09:00:30", "bot", "msteams", BOT, {"content": "ticket"}, "file_ticket", "i3"
        ),
        _int("i5", "c3", "u4", 4, "09:00:00", "user", "slack", FT, q("IT", "vpn")),
        _int("i6", "c4", "u1", 5, "09:00:00", "user", "slack", FT, q("IT", "software")),
        _int("b6a", "c4", "u1", 5, "09:00:40", "bot", "slack", BOT, {"content": "ok"}, parent="i6"),
        _int("i7", "c4", "u1", 5, "09:05:00", "user", "slack", LINK, {"resource_id": "UNHELPFUL"}),
        _int("b5", "c5", "u2", 6, "08:00:00", "bot", "msteams", BOT, {"content": "can I help?"}),
        _int("i8", "c5", "u2", 6, "08:05:00", "user", "msteams", FT, q("IT", "printer")),
        _int("b6", "c6", "u1", 7, "08:00:00", "bot", "slack", BOT, {"content": "can I help?"}),
        _int("i9", "c7", "u3", 10, "09:00:00", "user", "slack", FT, q("IT", "laptop")),
        _int("i10", "c8", "u2", 11, "09:00:00", "user", "msteams", FT, q("HR", "payroll")),
        _int("b10", "c8", "u2", 11, "09:00:15", "bot", "msteams", BOT, {"content": "form"}, parent="i10"),
        _int(
            "i11",
            "c8",
            "u2",
            11,
            "09:02:00",
            "user",
            "msteams",
            "INTERACTION_TYPE_UIFORM_SUBMISSION",
            {"detail": "CSAT Feedback", "content": "great"},
            "mw_form",
        ),  # fmt: skip
        _int("i12", "c9", "u1", 12, "09:00:00", "user", "slack", FT, q("IT", "vpn")),
        _int("b11", "c10", "u2", 13, "08:00:00", "bot", "msteams", BOT, {"content": "welcome"}),
        _int("b12", "c11", "u3", 14, "08:00:00", "bot", "slack", BOT, {"content": "welcome"}),
        _int("i13", "c11", "u3", 14, "08:01:00", "user", "slack", "INTERACTION_TYPE_BUTTON_CLICK", {}),
        _int("i14", "c12", "u5", 15, "09:00:00", "user", "web", FT, q("OTHER", None)),
    ]
    calls = [
        _call("p1", "i1", "c1", "u1", 2, "09:00:01", "Enterprise Search", True, True, 2),
        _call("p2", "i3", "c2", "u2", 3, "09:00:10", "Create Ticket", True, True, 10),
        _call("p3", "i5", "c3", "u4", 4, "09:00:01", "Enterprise Search", True, False, 4),
        _call("p4", "i6", "c4", "u1", 5, "09:00:01", "Grant Software Access", True, False, 30),
        _call("p5", "i6", "c4", "u1", 5, "09:00:02", "my_custom_plugin", False, False, 1),
        _call("p6", "i9", "c7", "u3", 10, "09:00:05", "Smart Handoff", True, True, 600),
        _call("p7", "i10", "c8", "u2", 11, "09:00:01", "Forms", True, True, 10),
        _call("p8", "i12", "c9", "u1", 12, "09:00:01", "my_custom_plugin", False, False, 1),
    ]
    resources = [
        _res("r1", "p1", "i1", "c1", "u1", 2, "KNOWLEDGE", "art1", True),
        _res("r6", "p2", "i3", "c2", "u2", 3, "RECORD", "tkt1", True),
        _res("r8", "p2", "i3", "c2", "u2", 3, "KNOWLEDGE", "art3", False),
        _res("r7", "p4", "i6", "c4", "u1", 5, "KNOWLEDGE", "art2", False),
        _res("r3", "p3", "i5", "c3", "u4", 4, "KNOWLEDGE", "art1", False),
        _res("r4", "p7", "i10", "c8", "u2", 11, "FILE", "art2", True),
        _res("r5", "p7", "i10", "c8", "u2", 11, "KNOWLEDGE", "art1", False),
    ]
    users = [
        {"id": uid, "email_addr": email, "access_to_bot": access, "first_interaction_time": f"{first}T08:00:00Z",
         "latest_interaction_time": "2026-11-15T09:00:00Z", "last_updated_time": "2026-11-15T09:00:00Z"}
        for uid, (email, access, first, _, _) in USERS.items()
    ]  # fmt: skip
    return {
        "conversations": conversations,
        "interactions": interactions,
        "plugin-calls": calls,
        "plugin-resources": resources,
        "users": users,
    }


def hr_csv() -> str:
    header = "email,employee_id,department,location,country,role,manager_email,is_test_user"
    rows = [
        f"{email},E-{uid},{dept},Paris,FR,IC,,{'yes' if test else 'no'}"
        for uid, (email, _, _, dept, test) in USERS.items()
        if dept is not None
    ]
    rows.append("erin@x.com,E-erin,Sales,Paris,FR,IC,,no")
    return "\n".join([header, *rows]) + "\n"
