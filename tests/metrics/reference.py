"""Every checked metric recomputed in plain Python over the raw records (no SQL, no marts)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

KNOWLEDGE = {"Enterprise Search", "Knowledge Base"}
ESCALATION = {"Create Ticket", "Smart Handoff", "Start Live Agent Chat"}
MINUTES = {"Enterprise Search": 4, "Knowledge Base": 4, "Create Ticket": 10, "Smart Handoff": 10,
           "Start Live Agent Chat": 10, "Forms": 8, "Update Approval Record": 6, "Grant Software Access": 15,
           "Clear Context": 0}  # fmt: skip
DEFAULT_MINUTES = 5
KNOWLEDGE_TYPES = {"RESOURCE_TYPE_KNOWLEDGE", "RESOURCE_TYPE_FILE", "RESOURCE_TYPE_INTERNAL_KNOWLEDGE"}


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


def _day(s: str) -> date:
    return _ts(s).date()


def latest(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for r in records:
        cur = best.get(r["id"])
        if cur is None or _ts(r["last_updated_time"]) > _ts(cur["last_updated_time"]):
            best[r["id"]] = r
    return list(best.values())


class Ref:
    def __init__(self, records: Mapping[str, list[dict[str, Any]]], hr_rows: list[dict[str, Any]]) -> None:
        self.conv = latest(records["conversations"])
        self.inter = latest(records["interactions"])
        self.calls = latest(records["plugin-calls"])
        self.res = latest(records["plugin-resources"])
        self.users = latest(records["users"])
        hr = {r["email"].strip().lower(): r for r in hr_rows}
        self.test = {
            u["id"] for u in self.users if (u.get("email_addr") or "").strip().lower() in hr
            and hr[(u.get("email_addr") or "").strip().lower()]["is_test_user"]
        }  # fmt: skip
        by_conv: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for i in self.inter:
            by_conv[i["conversation_id"]].append(i)
        calls_by_conv: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for c in self.calls:
            calls_by_conv[c["conversation_id"]].append(c)
        self.by_conv, self.calls_by_conv = by_conv, calls_by_conv

    # -- per-record signals --
    @staticmethod
    def feedback(i: dict[str, Any]) -> str | None:
        d = i.get("detail") or {}
        if i["type"] == "INTERACTION_TYPE_LINK_CLICK" and d.get("resource_id") in ("HELPFUL", "UNHELPFUL"):
            return str(d["resource_id"])
        if i.get("label") == "feedback" and d.get("detail") in ("HELPFUL", "UNHELPFUL"):
            return str(d["detail"])
        return None

    def engaged(self, cid: str) -> bool:
        return any(i["actor"] == "user" for i in self.by_conv[cid])

    def escalated(self, cid: str) -> bool:
        return any(i.get("label") in ("file_ticket", "handoff") for i in self.by_conv[cid]) or any(
            c["used"] and c["plugin_name"] in ESCALATION for c in self.calls_by_conv[cid]
        )

    def ticket_filed(self, cid: str) -> bool:
        """An interaction labelled file_ticket or handoff (the metric library's reading; a used Smart
        Handoff or live-chat plugin escalates without filing a ticket)."""
        return any(i.get("label") in ("file_ticket", "handoff") for i in self.by_conv[cid])

    def unhelpful(self, cid: str) -> bool:
        return any(self.feedback(i) == "UNHELPFUL" for i in self.by_conv[cid])

    def used(self, cid: str) -> int:
        return sum(1 for c in self.calls_by_conv[cid] if c["used"])

    # -- filtering --
    def _in(self, rows: list[dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
        return [r for r in rows if start <= _day(r["created_time"]) <= end and r["user_id"] not in self.test]

    def metrics(self, start: date, end: date) -> dict[str, tuple[float, float | None]]:
        conv = self._in(self.conv, start, end)
        uinter = [i for i in self._in(self.inter, start, end) if i["actor"] == "user"]
        calls = self._in(self.calls, start, end)
        res = [r for r in self._in(self.res, start, end) if r["type"] in KNOWLEDGE_TYPES]
        active = {i["user_id"] for i in uinter}
        engaged = [c for c in conv if self.engaged(c["id"])]
        edm = [c for c in engaged if c["route"] == "DM"]
        fb = [self.feedback(i) for i in uinter]
        with_calls = [c for c in conv if self.calls_by_conv[c["id"]]]
        ti = [c for c in conv if c.get("type") == "CONVERSATION_TYPE_TICKET_INTERCEPTION"]
        roster = [u for u in self.users if u["id"] not in self.test]
        length = (end - start).days + 1
        p0, p1 = start - timedelta(days=length), start - timedelta(days=1)
        before = {i["user_id"] for i in self._in(self.inter, p0, p1) if i["actor"] == "user"}
        action = [c for c in calls if c["plugin_name"] not in KNOWLEDGE | ESCALATION | {"Clear Context"}]
        out: dict[str, tuple[float, float | None]] = {
            "active_users": (len(active), None),
            "dau_wau_mau": (len(active), None),
            "adoption_rate": (len(active), sum(1 for u in roster if u["access_to_bot"])),
            "new_users": (sum(1 for u in roster if u.get("first_interaction_time") and start <= _day(u["first_interaction_time"]) <= end), None),
            "retained_users": (len(active & before), len(before)),
            "conversations": (len(conv), None),
            "interactions": (len(uinter), None),
            "topic_interactions": (sum(1 for i in uinter if i["type"] == "INTERACTION_TYPE_FREE_TEXT"), None),
            "helpful_rate": (fb.count("HELPFUL"), sum(1 for f in fb if f)),
            "csat_comments": (sum(1 for i in uinter if i["type"] == "INTERACTION_TYPE_UIFORM_SUBMISSION" and i.get("label") == "mw_form" and (i.get("detail") or {}).get("detail") == "CSAT Feedback"), None),
            "plugin_calls": (len(calls), None),
            "plugin_served_rate": (sum(c["served"] for c in calls), len(calls)),
            "plugin_used_rate": (sum(c["used"] for c in calls), sum(c["served"] for c in calls)),
            "plugin_unsuccessful": (sum(not c["served"] for c in calls), None),
            "citation_rate": (sum(r["cited"] for r in res), len(res)),
            "served_not_cited_rate": (sum(not r["cited"] for r in res), len(res)),
            "article_citations": (sum(r["cited"] for r in res), None),
            "knowledge_success_rate": (sum(1 for c in conv if any(x["used"] and x["plugin_name"] in KNOWLEDGE for x in self.calls_by_conv[c["id"]])), len(conv)),
            "escalation_rate": (sum(1 for c in engaged if self.escalated(c["id"])), len(engaged)),
            "containment_rate": (sum(1 for c in edm if self.used(c["id"]) > 0 and not self.escalated(c["id"]) and not self.unhelpful(c["id"])), len(edm)),
            "deflection_rate": (sum(1 for c in ti if self.engaged(c["id"]) and not self.ticket_filed(c["id"])), len(ti)),
            "unsuccessful_only_rate": (sum(1 for c in with_calls if not any(x["served"] for x in self.calls_by_conv[c["id"]])), len(with_calls)),
            "abandonment_rate": (sum(1 for c in action if c["served"] and not c["used"]), sum(1 for c in action if c["served"])),
            "interactions_per_conversation": (sum(sum(1 for i in self.by_conv[c["id"]] if i["actor"] == "user") for c in conv), len(engaged)),
            "conversations_per_user": (len({i["conversation_id"] for i in uinter}), len(active)),
            "time_saved": (sum(MINUTES.get(c["plugin_name"], DEFAULT_MINUTES) for c in calls if c["used"]), None),
        }  # fmt: skip
        return out


Checker = Callable[[date, date], dict[str, tuple[float, float | None]]]
