"""Synthetic Data API records, deterministic by seed, shaped like the real samples
(docs/data-api.md, "Entities" and "What the simulator reproduces").

Data for day D is stamped into the export (`last_updated_time`) around 06:00 UTC on D+1, some later.
"""

from __future__ import annotations

import csv
import random
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from mwdata.catalog import (
    CONVERSATION_DETAIL_KEYS,
    CONVERSATION_TYPES,
    ENTITIES,
    RESOURCE_DETAIL_KEYS,
    SYSTEM_EVENTS_SINCE,
)
from mwdata.errors import InputFileError

Record = dict[str, Any]
_ID_CHARS = string.ascii_letters + string.digits + "-_"
_SYSTEM_SINCE = datetime.fromisoformat(SYSTEM_EVENTS_SINCE.replace("Z", "+00:00"))

DOMAIN_MIX = {"IT": 40, "HR": 20, "OTHER": 12, "TRAVEL_AND_EXPENSE": 8, "FACILITY": 5, "FINANCE": 5,
              "PAYROLL": 4, "LEGAL": 2, "UNKNOWN": 4}  # fmt: skip
PLATFORM_MIX = {"msteams": 55, "slack": 42, "movewebchat": 2.5, "web": 0.5}  # samples: 56/42/2
PLUGIN_MIX = {"Enterprise Search": 40, "Knowledge Base": 10, "Forms": 8, "Create Ticket": 8,
              "Update Approval Record": 6, "Grant Software Access": 4, "Smart Handoff": 4,
              "Start Live Agent Chat": 2, "Clear Context": 3, "add_user_to_group": 5,
              "lookup_pto_balance": 5, "reset_vpn_token": 5}  # fmt: skip
RESOURCE_MIX = {"RESOURCE_TYPE_KNOWLEDGE": 41, "RESOURCE_TYPE_FILE": 39, "RESOURCE_TYPE_INTERNAL_KNOWLEDGE": 5,
                "RESOURCE_TYPE_PERSON": 4, "RESOURCE_TYPE_RECORD": 3.5, "RESOURCE_TYPE_FORM": 2.5,
                "RESOURCE_TYPE_TICKET": 2, "RESOURCE_TYPE_APPROVAL": 1, "RESOURCE_TYPE_SOFTWARE": 1,
                "RESOURCE_TYPE_GROUP": 1}  # fmt: skip
TOPICS: dict[str, list[str | None]] = {"IT": ["vpn", "password reset", "laptop", "wifi", "printer", "software access"],
          "HR": ["pto", "benefits", "parental leave", "onboarding"],
          "TRAVEL_AND_EXPENSE": ["expense report", "travel booking"],
          "FACILITY": ["badge", "parking"], "FINANCE": ["invoice"], "PAYROLL": ["payslip"],
          "LEGAL": ["nda"], "OTHER": ["lunch menu"], "UNKNOWN": [None]}  # fmt: skip
DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "HR", "Support", "Legal", "Operations")
LOCATIONS = (("San Francisco", "US"), ("New York", "US"), ("London", "GB"), ("Toronto", "CA"),
             ("Bangalore", "IN"), ("Berlin", "DE"))  # fmt: skip
ROLES = ("Engineer", "Manager", "Analyst", "Specialist", "Director", "Associate")
FIRST = ("Alex", "Sam", "Maria", "Li", "Priya", "John", "Fatima", "Jonas", "Emma", "Diego", "Aiko", "Noah")
LAST = ("Smith", "Garcia", "Chen", "Patel", "Müller", "Okafor", "Kim", "Rossi", "Nguyen", "Brown")


@dataclass(frozen=True)
class GeneratorConfig:
    """How much to generate; the same config always yields the same dataset."""

    seed: int = 1
    users: int = 200
    days: int = 35
    conversations_per_user_per_day: float = 0.3
    end: datetime = field(default_factory=lambda: datetime(2026, 11, 28, tzinfo=UTC))
    test_user_share: float = 0.02


_TICKET_FORMS = ("17077658438860710478", "17726699490642664225", "8010712692726636588", "4204770238691682216")
_CSAT_COMMENTS = (
    "Quick and easy, thanks!",
    "The answer was outdated.",
    "Could not find the VPN article.",
    "Great, resolved my issue in a minute.",
    "Too many questions before it filed the ticket.",
)


@dataclass
class Dataset:
    """Records per entity path (API-shaped dicts), the companion HR rows, and the clock's default now."""

    records: dict[str, list[Record]]
    hr_rows: list[Record] = field(default_factory=list)
    end: datetime | None = None
    fixed: bool = False  # a snapshot served as captured: no retention cut (the real API served it all)

    def write_hr_csv(self, path: str | Path) -> Path:
        out = Path(path)
        cols = [
            "email",
            "employee_id",
            "department",
            "location",
            "country",
            "role",
            "manager_email",
            "is_test_user",
            "external_id",
        ]
        with out.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            for row in self.hr_rows:
                w.writerow({c: row.get(c) for c in cols})
        return out

    def counts(self) -> dict[str, int]:
        return {p: len(rs) for p, rs in self.records.items()}


def ts(dt: datetime) -> str:
    """API timestamp text: millisecond precision, `Z`."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _pick(rng: random.Random, mix: Mapping[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


class _Gen:
    def __init__(self, cfg: GeneratorConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.seen: set[str] = set()
        self.out: dict[str, list[Record]] = {e.path: [] for e in ENTITIES}

    def sid(self) -> str:
        while True:
            s = "".join(self.rng.choices(_ID_CHARS, k=12))
            if s not in self.seen:
                self.seen.add(s)
                return s

    def hexid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def stamp(self, created: datetime) -> datetime:
        """Export time: ~06:00 UTC the next day, 5% later (up to two days)."""
        day = datetime(created.year, created.month, created.day, tzinfo=UTC) + timedelta(days=1, hours=6)
        late = timedelta(hours=self.rng.uniform(1, 48)) if self.rng.random() < 0.05 else timedelta()
        return day + timedelta(seconds=self.rng.uniform(0, 1800)) + late

    def run(self) -> Dataset:
        cfg, rng = self.cfg, self.rng
        start = cfg.end - timedelta(days=cfg.days)
        users: list[Record] = []
        hr: list[Record] = []
        for n in range(cfg.users):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first.lower()}.{last.lower()}{n}@example.com".replace("ü", "u")
            uid = str(rng.randrange(10**18, 10**19))
            ext = [
                {"connector_name": "gsuite", "external_id": email, "source": "GSUITE"},
                {
                    "connector_name": "slack",
                    "external_id": "U" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=10)),
                    "source": "SLACK",
                },  # noqa: E501
                {"connector_name": "snow", "external_id": self.hexid(), "source": "SNOW"},
            ]
            users.append({"id": uid, "email_addr": email, "first_name": first, "last_name": last,
                          "access_to_bot": rng.random() < 0.95, "user_preferred_language": _pick(rng, {"EN_US": 90, "ES_ES": 5, "FR_CA": 5}),
                          "first_interaction_time": None, "latest_interaction_time": None, "external_ids": ext,
                          "last_updated_time": None})  # fmt: skip
            loc, country = rng.choice(LOCATIONS)
            hr.append({"email": email, "employee_id": f"E{100000 + n}", "department": rng.choice(DEPARTMENTS),
                       "location": loc, "country": country, "role": rng.choice(ROLES),
                       "manager_email": users[max(0, n // 8 - 1)]["email_addr"] if n >= 8 else None,
                       "is_test_user": rng.random() < cfg.test_user_share,
                       # every 4th employee carries the ServiceNow sys_id (the optional HR column that
                       # users' external_ids match when the e-mail does not); no draw: same data per seed
                       "external_id": ext[2]["external_id"] if n % 4 == 3 else None})  # fmt: skip
        for u in users:
            if not u["access_to_bot"]:
                continue
            for d in range(cfg.days):
                day0 = start + timedelta(days=d)
                k = self._poisson(cfg.conversations_per_user_per_day)
                for _ in range(k):
                    when = day0 + timedelta(seconds=rng.uniform(0, 86400))
                    if when >= cfg.end - timedelta(hours=1):
                        continue
                    if when >= _SYSTEM_SINCE and rng.random() < 0.15:
                        self.system_conversation(u, when)
                    else:
                        self.conversation(u, when)
        last_lut: dict[str, tuple[datetime, datetime]] = {}
        for it in self.out["interactions"]:
            c = datetime.fromisoformat(it["created_time"].replace("Z", "+00:00"))
            lo, hi = last_lut.get(it["user_id"], (c, c))
            last_lut[it["user_id"]] = (min(lo, c), max(hi, c))
        for u in users:
            span = last_lut.get(u["id"])
            if span:
                u["first_interaction_time"], u["latest_interaction_time"] = ts(span[0]), ts(span[1])
            # the roster is written on its own schedule (samples: users' stamps predate their activity)
            roster_day = cfg.end - timedelta(days=rng.uniform(2, max(2.5, min(cfg.days, 28))))
            u["last_updated_time"] = ts(self.stamp(roster_day))
        self.out["users"] = users
        return Dataset(self.out, hr, cfg.end)

    def _poisson(self, lam: float) -> int:
        n, p, limit = 0, 1.0, 2.718281828459045 ** (-lam)
        while True:
            p *= self.rng.random()
            if p <= limit:
                return n
            n += 1

    def system_conversation(self, u: Record, when: datetime) -> None:
        rng = self.rng
        ctype = rng.choice(CONVERSATION_TYPES)
        route = (
            "Ticket"
            if "TICKET_INTERCEPTION" in ctype
            else "Channel"
            if "CHANNEL" in ctype
            else "Notification"
        )
        detail = {k: (rng.choice(("IT", "HR")) if k == "domain" else f"{k}-{rng.randrange(1000)}")
                  for k in CONVERSATION_DETAIL_KEYS[ctype]}  # fmt: skip
        lut = ts(self.stamp(when))
        cid = self.sid()
        self.out["conversations"].append({"created_time": ts(when), "detail": detail or None, "id": cid,
            "last_updated_time": lut, "primary_domain": None, "route": route, "type": ctype, "user_id": u["id"]})  # fmt: skip
        self.out["interactions"].append({"actor": "bot", "conversation_id": cid, "created_time": ts(when),
            "detail": {"content": "Notification"}, "id": self.sid(), "label": None, "last_updated_time": lut,
            "parent_interaction_id": None, "platform": _pick(rng, PLATFORM_MIX),
            "type": "INTERACTION_TYPE_BOT_MESSAGE", "user_id": u["id"]})  # fmt: skip

    def conversation(self, u: Record, when: datetime) -> None:
        rng = self.rng
        cid, domain, platform = self.sid(), _pick(rng, DOMAIN_MIX), _pick(rng, PLATFORM_MIX)
        lut_dt = self.stamp(when)
        lut = ts(lut_dt)
        conv = {"created_time": ts(when), "id": cid, "last_updated_time": lut, "primary_domain": domain,
                "route": _pick(rng, {"DM": 85, "Channel": 10, "Ticket": 5}), "user_id": u["id"]}  # fmt: skip
        if when >= _SYSTEM_SINCE:
            conv["type"], conv["detail"] = None, None
        self.out["conversations"].append(conv)
        t = when
        for _turn in range(1 + (rng.random() < 0.35) + (rng.random() < 0.1)):
            topic = rng.choice(TOPICS[domain])
            uid_ = self.sid()
            self.out["interactions"].append({"actor": "user", "conversation_id": cid, "created_time": ts(t),
                "detail": {"content": f"help with {topic or 'something'}", "domain": domain, "entity": topic},
                "id": uid_, "label": None, "last_updated_time": lut, "parent_interaction_id": None,
                "platform": platform, "type": "INTERACTION_TYPE_FREE_TEXT", "user_id": u["id"]})  # fmt: skip
            t += timedelta(seconds=rng.uniform(1, 8))
            bot = self.sid()
            self.out["interactions"].append({"actor": "bot", "conversation_id": cid, "created_time": ts(t),
                "detail": {"content": "Here is what I found."}, "id": bot, "label": None, "last_updated_time": lut,
                "parent_interaction_id": uid_, "platform": platform, "type": "INTERACTION_TYPE_BOT_MESSAGE",
                "user_id": u["id"]})  # fmt: skip
            for _c in range(rng.choice((0, 1, 1, 1, 2))):
                self.plugin_call(u, cid, uid_, t, lut)
            if rng.random() < 0.6:  # samples: ~0.6 user actions per free-text turn
                t += timedelta(seconds=rng.uniform(2, 60))
                self.user_action(u, cid, bot, platform, t, lut)
            t += timedelta(seconds=rng.uniform(10, 300))

    def user_action(self, u: Record, cid: str, bot: str, platform: str, t: datetime, lut: str) -> None:
        """A click, form submission or upload answering a bot message (mix from the samples)."""
        rng = self.rng
        kind = _pick(rng, {"BUTTON_CLICK": 47, "LINK_CLICK": 42, "UIFORM_SUBMISSION": 9, "CONTENT_UPLOAD": 2})
        label = None
        detail: Record = {"content": rng.choice(("Yes", "No", "Open ticket"))}
        if kind == "LINK_CLICK":
            # samples: GET_HELP 17, INFO 11, UI_FORM 5, HELPFUL 1, UNHELPFUL 1 (thumbs; docs/data-api.md)
            target = _pick(rng, {"GET_HELP": 17, "INFO": 11, "UI_FORM": 5, "HELPFUL": 1, "UNHELPFUL": 1})
            detail = {"resource_id": target, "type": "RESOURCE_TYPE_INTERNAL_LINK"}
        elif kind == "UIFORM_SUBMISSION":  # shapes as in the samples (docs/data-api.md, interactions)
            label = _pick(rng, {"file_ticket": 65, "handoff": 20, "mw_form": 15})
            if label == "file_ticket":
                form = rng.choice(_TICKET_FORMS)
                detail = {"detail": f"RITM{rng.randrange(10**7):07d}", "resource_id": form,
                          "type": "RESOURCE_TYPE_FORM"}  # fmt: skip
            elif label == "handoff":
                detail = {"detail": rng.choice(("File an IT Ticket", "Live agent chat request"))}
            elif rng.random() < 0.5:
                detail = {"detail": "CSAT Feedback", "content": rng.choice(_CSAT_COMMENTS)}
            else:
                detail = {"detail": "Edit request"}
        elif kind == "CONTENT_UPLOAD":
            detail = {"file_types": ["png"]}
        self.out["interactions"].append({"actor": "user", "conversation_id": cid, "created_time": ts(t),
            "detail": detail, "id": self.sid(), "label": label, "last_updated_time": lut,
            "parent_interaction_id": bot, "platform": platform, "type": f"INTERACTION_TYPE_{kind}",
            "user_id": u["id"]})  # fmt: skip

    def plugin_call(self, u: Record, cid: str, iid: str, t: datetime, lut: str) -> None:
        rng = self.rng
        name = _pick(rng, PLUGIN_MIX)
        served = rng.random() < 0.68  # samples: 0.68 served, 0.55 used
        used = served and rng.random() < 0.8
        pid = self.sid()
        self.out["plugin-calls"].append({"conversation_id": cid, "created_time": ts(t), "id": pid,
            "interaction_id": iid, "last_updated_time": lut, "plugin_name": name,
            "plugin_update_time": ts(t + timedelta(seconds=rng.uniform(0.5, 30))), "served": served,
            "used": used, "user_id": u["id"]})  # fmt: skip
        for _r in range(rng.choice((0, 1, 2, 3))):
            rtype = _pick(rng, RESOURCE_MIX)
            uncited_kb = rtype in ("RESOURCE_TYPE_KNOWLEDGE", "RESOURCE_TYPE_FILE") and rng.random() < 0.58
            keys = RESOURCE_DETAIL_KEYS.get(rtype)
            detail = (
                {k: (f"{k} {rng.randrange(500)}" if rng.random() < 0.7 else None) for k in keys}
                if keys
                else None
            )
            self.out["plugin-resources"].append({"cited": (not uncited_kb) and rng.random() < 0.23,
                "conversation_id": cid, "created_time": ts(t), "detail": detail, "id": self.hexid(),
                "interaction_id": iid, "last_updated_time": lut, "plugin_call_id": None if uncited_kb else pid,
                "resource_id": self.hexid(), "type": rtype, "user_id": u["id"]})  # fmt: skip


def generate(cfg: GeneratorConfig | None = None) -> Dataset:
    """A synthetic dataset, the same for the same config."""
    return _Gen(cfg or GeneratorConfig()).run()


def load_fixed_dataset(directory: str | Path) -> Dataset:
    """Serve fixed files: `{entity path}.json` envelopes (e.g. the real samples), verbatim."""
    d = Path(directory)
    records: dict[str, list[Record]] = {}
    latest = ""
    for e in ENTITIES:
        f = d / f"{e.path}.json"
        if not f.is_file():
            raise InputFileError(f"{f} not found: a fixed dataset needs one envelope file per entity")
        try:
            body = orjson.loads(f.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise InputFileError(f"{f} is not JSON: {exc}") from None
        rows = body.get("value") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise InputFileError(f"{f}: expected an object with a 'value' list")
        records[e.path] = rows
        latest = max([latest, *(r.get("last_updated_time") or "" for r in rows)])
    # the snapshot was taken after its last stamp: a day later, so every row is well inside any window
    end = datetime.fromisoformat(latest.replace("Z", "+00:00")) + timedelta(days=1) if latest else None
    return Dataset(records, [], end, fixed=True)
