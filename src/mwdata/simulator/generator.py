"""Synthetic Data API records, deterministic by seed, shaped like the real samples
(docs/data-api.md, "Entities" and "What the simulator reproduces").

The behaviour model (rhythm, rollout, knowledge catalogue, incidents, interceptions) is described in
docs/simulator.md; the vocabularies are in `vocabulary`. Data for day D is stamped into the export (`last_updated_time`) around 06:00 UTC on D+1, some later.
"""

from __future__ import annotations

import base64
import bisect
import csv
import itertools
import math
import random
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import orjson

from mwdata.catalog import (
    CONVERSATION_DETAIL_KEYS,
    CONVERSATION_TYPES,
    ENTITIES,
    RESOURCE_DETAIL_KEYS,
    SYSTEM_EVENTS_SINCE,
)
from mwdata.errors import ConfigError, InputFileError
from mwdata.simulator import vocabulary as vocab
from mwdata.simulator.store import RecordStore

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
# system-event conversations: interceptions are a third of them, the notification types share the rest
SYSTEM_MIX = {t: (20.0 if t.endswith("TICKET_INTERCEPTION") else 10.0 if t.endswith("CHANNEL_INTERCEPTION")
                  else 70.0 / (len(CONVERSATION_TYPES) - 2)) for t in CONVERSATION_TYPES}  # fmt: skip
ROLES = ("Engineer", "Manager", "Analyst", "Specialist", "Director", "Associate")
FIRST = ("Alex", "Sam", "Maria", "Li", "Priya", "John", "Fatima", "Jonas", "Emma", "Diego", "Aiko", "Noah")
LAST = ("Smith", "Garcia", "Chen", "Patel", "Müller", "Okafor", "Kim", "Rossi", "Nguyen", "Brown")
_KB_TYPES = ("RESOURCE_TYPE_KNOWLEDGE", "RESOURCE_TYPE_FILE")
_ANNOUNCEMENT = ("HR", "benefits", "Open enrollment 2027 starts today")
_CAMPAIGNS = (
    "Security awareness training due",
    "Quarterly engagement survey",
    "New VPN client rollout",
    "Office closure reminder",
)


@dataclass(frozen=True)
class GeneratorConfig:
    """How much to generate and how the simulated company behaves; the same config, the same dataset.

    The defaults tell the demo's story: a rollout by department over the first 30 % of the history,
    business-day rhythm, three incidents in the last weeks, a heavy-tailed knowledge catalogue."""

    seed: int = 1
    users: int = 200
    days: int = 35
    conversations_per_user_per_day: float = 0.3  # mean per adopted user per calendar day
    end: datetime = field(default_factory=lambda: datetime(2026, 11, 28, tzinfo=UTC))
    test_user_share: float = 0.02
    weekend_share: float = 0.15  # activity on weekends and public holidays relative to a business day
    holidays: bool = True  # public holidays of each office's country are quiet days
    rollout_share: float = 0.3  # departments go live in three waves over this share of the history
    articles: int = 300  # knowledge catalogue size
    popularity_skew: float = 1.1  # Zipf exponent of topic and article popularity
    gap_article_share: float = 0.1  # articles served as often as others but almost never cited
    interception_engagement: float = 0.4  # share of interceptions the user answers
    incidents: bool = True  # an announcement spike, a failing plugin, a channel outage (see schedule())
    spike_factor: float = 3.0  # question volume on the announcement day, relative to a normal day
    failing_plugin: str = "Create Ticket"
    outage_platform: str = "slack"

    def __post_init__(self) -> None:
        for name in ("weekend_share", "rollout_share", "gap_article_share", "interception_engagement",
                     "test_user_share"):  # fmt: skip
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"{name} must be between 0 and 1, not {getattr(self, name)}")
        if self.users < 1 or self.days < 1 or self.articles < 1:
            raise ConfigError("users, days and articles must be at least 1")
        if self.conversations_per_user_per_day < 0 or self.spike_factor < 1 or self.popularity_skew < 0:
            raise ConfigError(
                "conversations_per_user_per_day and popularity_skew must be >= 0, spike_factor >= 1"
            )
        if self.failing_plugin not in PLUGIN_MIX:
            raise ConfigError(f"failing_plugin {self.failing_plugin!r}: one of {', '.join(PLUGIN_MIX)}")
        if self.outage_platform not in PLATFORM_MIX:
            raise ConfigError(f"outage_platform {self.outage_platform!r}: one of {', '.join(PLATFORM_MIX)}")


def schedule(cfg: GeneratorConfig) -> list[Record]:
    """The incidents of a config: {day, kind, detail}. Placed on business days 16, 9 and 5 days before the
    end, and only where at least 8 days of history precede them (the volume checks need a baseline)."""
    if not cfg.incidents:
        return []
    first = (cfg.end - timedelta(days=cfg.days)).date()
    last = (cfg.end - timedelta(hours=1)).date()
    out = []
    for kind, back, detail in (
        ("channel_outage", 16, f"{cfg.outage_platform} unreachable: 90 % of its conversations lost"),
        ("announcement", 9, f"'{_ANNOUNCEMENT[2]}' sent to every user; {_ANNOUNCEMENT[1]} questions x{cfg.spike_factor:g}"),
        ("plugin_failure", 5, f"{cfg.failing_plugin} fails all day (served = used = false)"),
    ):  # fmt: skip
        d = last - timedelta(days=back)
        while d.weekday() >= 5:
            d -= timedelta(days=1)
        if d >= first + timedelta(days=8):
            out.append({"day": d, "kind": kind, "detail": detail})
    return out


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
    """Records per entity path, the companion HR rows, the clock's default now and the incidents the
    generator scheduled. Records are lists of API-shaped dicts, or (generated) RecordStores: the same
    records kept encoded, decoded as they are read."""

    records: dict[str, list[Record]] | dict[str, RecordStore]
    hr_rows: list[Record] = field(default_factory=list)
    end: datetime | None = None
    fixed: bool = False  # a snapshot served as captured: no retention cut (the real API served it all)
    incidents: list[Record] = field(default_factory=list)

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
    """API timestamp text: millisecond precision (truncated), `Z`."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="milliseconds")[:-6] + "Z"  # drop "+00:00"


class _Mix:
    """A weighted choice with its cumulative weights computed once."""

    __slots__ = ("keys", "cum", "total")

    def __init__(self, mix: Mapping[Any, float] | None = None, *, keys: Sequence[Any] = (),
                 weights: Sequence[float] = ()) -> None:  # fmt: skip
        self.keys = list(mix) if mix is not None else list(keys)
        self.cum = list(itertools.accumulate(mix.values() if mix is not None else weights))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.keys[bisect.bisect(self.cum, rng.random() * self.total)]


_ACTIONS = _Mix({"BUTTON_CLICK": 47, "LINK_CLICK": 42, "UIFORM_SUBMISSION": 9, "CONTENT_UPLOAD": 2})
_LINKS = _Mix({"GET_HELP": 17, "INFO": 11, "UI_FORM": 5, "HELPFUL": 1, "UNHELPFUL": 1})
_FORMS = _Mix({"file_ticket": 65, "handoff": 20, "mw_form": 15})


def _zipf(items: Sequence[Any], s: float) -> _Mix:
    return _Mix(keys=items, weights=[1 / (k + 1) ** s for k in range(len(items))])


def _pick(rng: random.Random, mix: Mapping[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


@dataclass(frozen=True)
class _Article:
    resource_id: str
    type: str
    detail: Record
    p_cite: float


def _catalogue(cfg: GeneratorConfig, rng: random.Random) -> dict[str | None, _Mix]:
    """Articles per topic, each a stable resource with a readable title and a knowledge source; the
    catalogue fills topics round-robin (base titles, then variants), so every topic has a popular head."""
    per_topic: dict[str, list[_Article]] = {t: [] for t in vocab.ARTICLE_TITLES}
    domain_of = {t: d for d, ts_ in vocab.TOPICS.items() for t in ts_ if t}
    sources = {k: _Mix(v) for k, v in vocab.SOURCE_MIX.items()}
    n, rnd = 0, 0
    while n < cfg.articles:
        variant = vocab.TITLE_VARIANTS[rnd] if rnd < len(vocab.TITLE_VARIANTS) else f" (part {rnd})"
        for topic, titles in vocab.ARTICLE_TITLES.items():
            for base in titles:
                if n >= cfg.articles:
                    break
                domain = domain_of[topic]
                source = sources.get(domain, sources["*"]).pick(rng)
                title = base + variant
                per_topic[topic].append(_article(rng, n, source, title, domain, topic, cfg.gap_article_share))
                n += 1
        rnd += 1
    out: dict[str | None, _Mix] = {
        t: _zipf(arts, cfg.popularity_skew) for t, arts in per_topic.items() if arts
    }
    everything = sorted((a for arts in per_topic.values() for a in arts), key=lambda a: a.resource_id)
    out[None] = _zipf(everything, 0.5)  # no topic: search across the catalogue, mildly skewed
    return out


def _article(
    rng: random.Random, n: int, source: str, title: str, domain: str, topic: str, gap: float
) -> _Article:
    rtype = vocab.SOURCES[source]
    slug = "-".join(title.replace("(", "").replace(")", "").split())
    if source == "ServiceNow KB":
        ext = f"KB{10000 + n * 7:07d}"
        url = f"https://acme.service-now.com/kb_view.do?sysparm_article={ext}"
    elif source == "Confluence":
        ext = str(rng.randrange(10**8, 10**9))
        url = f"https://acme.atlassian.net/wiki/spaces/{domain[:3]}/pages/{ext}/{quote(slug)}"
    elif source == "Salesforce Knowledge":
        ext = "kA0" + "".join(rng.choices(string.ascii_letters + string.digits, k=15))
        url = f"https://acme.lightning.force.com/lightning/r/Knowledge__kav/{ext}/view"
    elif source == "SharePoint":
        title += rng.choice((".pdf", ".docx", ".pdf"))
        url = f"https://acme.sharepoint.com/sites/{domain.title()}/Shared%20Documents/{quote(title)}"
    else:
        url = f"https://docs.google.com/document/d/{''.join(rng.choices(_ID_CHARS, k=33))}/edit"
    snippet = f"{title}: the steps and the policy for {topic}, maintained by the {domain} team."
    if rtype == "RESOURCE_TYPE_KNOWLEDGE":
        detail = {
            "domain": domain,
            "external_resource_id": ext,
            "name": title,
            "snippet": snippet,
            "url": url,
        }
    else:
        detail = {"name": title, "snippet": snippet, "url": url}
    p_cite = 0.02 if rng.random() < gap else min(0.9, 0.2 * rng.lognormvariate(0, 0.5))
    return _Article(f"{rng.getrandbits(128):032x}", rtype, detail, p_cite)


class _Gen:
    def __init__(self, cfg: GeneratorConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.out: dict[str, RecordStore] = {e.path: RecordStore() for e in ENTITIES}
        self.span: dict[str, tuple[str, str]] = {}  # user id -> (first, latest) interaction time
        self.incidents = schedule(cfg)
        self.kb = _catalogue(cfg, random.Random(f"{cfg.seed}-catalogue"))
        self.mix = {"domain": _Mix(DOMAIN_MIX), "platform": _Mix(PLATFORM_MIX), "plugin": _Mix(PLUGIN_MIX),
                    "resource": _Mix(RESOURCE_MIX), "system": _Mix(SYSTEM_MIX),
                    "route": _Mix({"DM": 85, "Channel": 10, "Ticket": 5}),
                    "hour": _Mix(dict(enumerate(vocab.HOUR_WEIGHTS)))}  # fmt: skip
        self.topics = {d: _zipf(t, cfg.popularity_skew) for d, t in vocab.TOPICS.items()}
        self.failing_day: date | None = None

    def sid(self) -> str:
        """12 characters of [A-Za-z0-9-_]: 72 random bits in URL-safe base64. Not checked for repeats:
        among 10 million ids the chance of any repeat is about 1e-8 (a set of them cost ~40 bytes an id)."""
        return base64.urlsafe_b64encode(self.rng.getrandbits(72).to_bytes(9, "big")).decode()

    def hexid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def stamp(self, created: datetime) -> datetime:
        """Export time: ~06:00 UTC the next day, 5% later (up to two days)."""
        day = datetime(created.year, created.month, created.day, tzinfo=UTC) + timedelta(days=1, hours=6)
        late = timedelta(hours=self.rng.uniform(1, 48)) if self.rng.random() < 0.05 else timedelta()
        return day + timedelta(seconds=self.rng.uniform(0, 1800)) + late

    def emit(self, path: str, rec: Record) -> None:
        self.out[path].append(rec)

    def inter(self, rec: Record) -> None:
        """An interaction, noting its user's first and latest interaction time."""
        t, u = rec["created_time"], rec["user_id"]
        lo, hi = self.span.get(u, (t, t))
        self.span[u] = (min(lo, t), max(hi, t))
        self.emit("interactions", rec)

    def people(self) -> tuple[list[Record], list[Record]]:
        cfg, rng = self.cfg, self.rng
        users: list[Record] = []
        hr: list[Record] = []
        depts = _Mix({d: w for d, (w, _, _) in vocab.DEPARTMENTS.items()})
        locs = _Mix({loc: w for loc, (_, _, w) in vocab.LOCATIONS.items()})
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
            loc = locs.pick(rng)
            hr.append({"email": email, "employee_id": f"E{100000 + n}", "department": depts.pick(rng),
                       "location": loc, "country": vocab.LOCATIONS[loc][0], "role": rng.choice(ROLES),
                       "manager_email": users[max(0, n // 8 - 1)]["email_addr"] if n >= 8 else None,
                       "is_test_user": rng.random() < cfg.test_user_share,
                       # every 4th employee carries the ServiceNow sys_id (the optional HR column that
                       # users' external_ids match when the e-mail does not); no draw: same data per seed
                       "external_id": ext[2]["external_id"] if n % 4 == 3 else None})  # fmt: skip
        return users, hr

    def run(self) -> Dataset:
        cfg, rng = self.cfg, self.rng
        start = cfg.end - timedelta(days=cfg.days)
        stop = cfg.end - timedelta(hours=1)
        users, hr = self.people()
        days = [start.date() + timedelta(days=d) for d in range(cfg.days + 1)]
        # per office and day: the UTC offset at local noon and the activity factor (business day or not)
        busy = 7 / (5 + 2 * cfg.weekend_share)  # a week keeps the mean rate
        local: dict[str, list[tuple[timedelta, float]]] = {}
        for loc, (country, zone, _w) in vocab.LOCATIONS.items():
            tz = ZoneInfo(zone)
            row = []
            for d in days:
                off = datetime(d.year, d.month, d.day, 12, tzinfo=tz).utcoffset() or timedelta()
                quiet = d.weekday() >= 5 or (cfg.holidays and d in vocab.holidays(country, d.year))
                row.append((off, busy * (cfg.weekend_share if quiet else 1.0)))
            local[loc] = row
        events = {i["kind"]: i["day"] for i in self.incidents}
        boost = {d: 1.0 for d in days}
        if "announcement" in events:
            boost[events["announcement"]] = cfg.spike_factor
            nxt = events["announcement"] + timedelta(days=1)
            boost[nxt] = 1 + (cfg.spike_factor - 1) / 3
        self.failing_day = events.get("plugin_failure")
        outage = events.get("channel_outage")
        span = cfg.rollout_share * cfg.days
        for u, h in zip(users, hr, strict=True):
            if not u["access_to_bot"]:
                continue
            _w, wave, adoption = vocab.DEPARTMENTS[h["department"]]
            if rng.random() >= adoption:
                continue  # has access, never uses the assistant
            adopt = wave / 2 * span + (rng.expovariate(4 / span) if span > 0 else 0.0)
            activity = rng.gammavariate(1.5, 1 / 1.5)  # mean 1: a few heavy users, many light ones
            rows = local[h["location"]]
            for i, day in enumerate(days):
                if i < adopt:
                    continue
                off, factor = rows[i]
                k = self._poisson(cfg.conversations_per_user_per_day * activity * factor * boost[day])
                if day == events.get("announcement") and day >= _SYSTEM_SINCE.date():
                    k += 1  # the campaign itself
                    campaign = True
                else:
                    campaign = False
                base = datetime(day.year, day.month, day.day, tzinfo=UTC) - off
                for j in range(k):
                    hour = 9 if campaign and j == 0 else self.mix["hour"].pick(rng)
                    when = base + timedelta(seconds=hour * 3600 + rng.uniform(0, 3600))
                    if not start <= when < stop:
                        continue
                    if campaign and j == 0:
                        self.system_conversation(u, h, when, "CONVERSATION_TYPE_COMMS_NOTIFICATION", True)
                    elif when >= _SYSTEM_SINCE and rng.random() < 0.15:
                        self.system_conversation(u, h, when, self.mix["system"].pick(rng))
                    else:
                        about = _ANNOUNCEMENT if rng.random() > 1 / boost[day] else None
                        self.conversation(u, h, when, about, outage == day)
        for u in users:
            span_ = self.span.get(u["id"])
            if span_:
                u["first_interaction_time"], u["latest_interaction_time"] = span_
            # the roster is written on its own schedule (samples: users' stamps predate their activity)
            roster_day = cfg.end - timedelta(days=rng.uniform(2, max(2.5, min(cfg.days, 28))))
            u["last_updated_time"] = ts(self.stamp(roster_day))
            self.emit("users", u)
        return Dataset(dict(self.out), hr, cfg.end, incidents=self.incidents)

    def _poisson(self, lam: float) -> int:
        n, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= self.rng.random()
            if p <= limit:
                return n
            n += 1

    def utterance(self, topic: str | None, lang: str) -> str:
        rng = self.rng
        en, es, fr = vocab.UTTERANCES[topic]
        if lang == "ES_ES":
            return rng.choice(es)
        if lang == "FR_CA":
            return rng.choice(fr)
        return rng.choice(vocab.UTTERANCE_PREFIX) + rng.choice(en) + rng.choice(vocab.UTTERANCE_SUFFIX)

    def system_conversation(
        self, u: Record, h: Record, when: datetime, ctype: str, campaign: bool = False
    ) -> None:
        rng = self.rng
        route = (
            "Ticket"
            if "TICKET_INTERCEPTION" in ctype
            else "Channel"
            if "CHANNEL" in ctype
            else "Notification"
        )
        detail: Record = {}
        for k in CONVERSATION_DETAIL_KEYS[ctype]:
            if k == "domain":
                detail[k] = rng.choice(("IT", "HR"))
            elif k == "content":  # the message the bot intercepted
                detail[k] = self.utterance(self.topics["IT"].pick(rng), "EN_US")
            elif k == "campaign_name":
                detail[k] = _ANNOUNCEMENT[2] if campaign else rng.choice(_CAMPAIGNS)
            else:
                detail[k] = f"{k}-{rng.randrange(1000)}"
        lut = ts(self.stamp(when))
        cid = self.sid()
        platform = self.mix["platform"].pick(rng)
        self.emit("conversations", {"created_time": ts(when), "detail": detail or None, "id": cid,
            "last_updated_time": lut, "primary_domain": None, "route": route, "type": ctype, "user_id": u["id"]})  # fmt: skip
        text = (
            "I found something that may solve this right away." if route != "Notification" else "Notification"
        )
        bot = self.sid()
        self.inter({"actor": "bot", "conversation_id": cid, "created_time": ts(when),
            "detail": {"content": text}, "id": bot, "label": None, "last_updated_time": lut,
            "parent_interaction_id": None, "platform": platform,
            "type": "INTERACTION_TYPE_BOT_MESSAGE", "user_id": u["id"]})  # fmt: skip
        if route == "Notification" or rng.random() >= self.cfg.interception_engagement:
            return
        # the user engages with the interception; some still file the ticket (not deflected)
        t = when + timedelta(seconds=rng.uniform(20, 600))
        self.inter({"actor": "user", "conversation_id": cid, "created_time": ts(t),
            "detail": {"content": rng.choice(("Yes, this solved it", "That worked, thanks"))}, "id": self.sid(),
            "label": None, "last_updated_time": lut, "parent_interaction_id": bot, "platform": platform,
            "type": "INTERACTION_TYPE_BUTTON_CLICK", "user_id": u["id"]})  # fmt: skip
        if rng.random() < 0.3:
            t += timedelta(seconds=rng.uniform(5, 120))
            self.inter({"actor": "user", "conversation_id": cid, "created_time": ts(t),
                "detail": {"detail": f"RITM{rng.randrange(10**7):07d}", "resource_id": rng.choice(_TICKET_FORMS),
                           "type": "RESOURCE_TYPE_FORM"}, "id": self.sid(), "label": "file_ticket",
                "last_updated_time": lut, "parent_interaction_id": bot, "platform": platform,
                "type": "INTERACTION_TYPE_UIFORM_SUBMISSION", "user_id": u["id"]})  # fmt: skip

    def conversation(
        self, u: Record, h: Record, when: datetime, about: tuple[str, str, str] | None, outage: bool
    ) -> None:
        rng = self.rng
        platform = self.mix["platform"].pick(rng)
        if outage and platform == self.cfg.outage_platform and rng.random() < 0.9:
            return  # the channel is down: the question never reaches the assistant
        domain = about[0] if about else self.mix["domain"].pick(rng)
        cid = self.sid()
        lut = ts(self.stamp(when))
        conv = {"created_time": ts(when), "id": cid, "last_updated_time": lut, "primary_domain": domain,
                "route": self.mix["route"].pick(rng), "user_id": u["id"]}  # fmt: skip
        if when >= _SYSTEM_SINCE:
            conv["type"], conv["detail"] = None, None
        self.emit("conversations", conv)
        t = when
        topic = about[1] if about else self.topics[domain].pick(rng)
        lang = u["user_preferred_language"]
        for turn in range(1 + (rng.random() < 0.35) + (rng.random() < 0.1)):
            if turn and rng.random() < 0.3:
                topic = self.topics[domain].pick(rng)
            uid_ = self.sid()
            self.inter({"actor": "user", "conversation_id": cid, "created_time": ts(t),
                "detail": {"content": self.utterance(topic, lang), "domain": domain, "entity": topic},
                "id": uid_, "label": None, "last_updated_time": lut, "parent_interaction_id": None,
                "platform": platform, "type": "INTERACTION_TYPE_FREE_TEXT", "user_id": u["id"]})  # fmt: skip
            t += timedelta(seconds=rng.uniform(1, 8))
            bot = self.sid()
            self.inter({"actor": "bot", "conversation_id": cid, "created_time": ts(t),
                "detail": {"content": rng.choice(vocab.BOT_REPLIES)}, "id": bot, "label": None,
                "last_updated_time": lut, "parent_interaction_id": uid_, "platform": platform,
                "type": "INTERACTION_TYPE_BOT_MESSAGE", "user_id": u["id"]})  # fmt: skip
            for _c in range(rng.choice((0, 1, 1, 1, 2))):
                self.plugin_call(u, cid, uid_, t, lut, topic)
            if rng.random() < 0.6:  # samples: ~0.6 user actions per free-text turn
                t += timedelta(seconds=rng.uniform(2, 60))
                self.user_action(u, cid, bot, platform, t, lut)
            t += timedelta(seconds=rng.uniform(10, 300))

    def user_action(self, u: Record, cid: str, bot: str, platform: str, t: datetime, lut: str) -> None:
        """A click, form submission or upload answering a bot message (mix from the samples)."""
        rng = self.rng
        kind = _ACTIONS.pick(rng)
        label = None
        detail: Record = {"content": rng.choice(("Yes", "No", "Open ticket"))}
        if kind == "LINK_CLICK":
            # samples: GET_HELP 17, INFO 11, UI_FORM 5, HELPFUL 1, UNHELPFUL 1 (thumbs; docs/data-api.md)
            target = _LINKS.pick(rng)
            detail = {"resource_id": target, "type": "RESOURCE_TYPE_INTERNAL_LINK"}
        elif kind == "UIFORM_SUBMISSION":  # shapes as in the samples (docs/data-api.md, interactions)
            label = _FORMS.pick(rng)
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
        self.inter({"actor": "user", "conversation_id": cid, "created_time": ts(t),
            "detail": detail, "id": self.sid(), "label": label, "last_updated_time": lut,
            "parent_interaction_id": bot, "platform": platform, "type": f"INTERACTION_TYPE_{kind}",
            "user_id": u["id"]})  # fmt: skip

    def plugin_call(self, u: Record, cid: str, iid: str, t: datetime, lut: str, topic: str | None) -> None:
        rng = self.rng
        name = self.mix["plugin"].pick(rng)
        served = rng.random() < 0.68  # samples: 0.68 served, 0.55 used
        used = served and rng.random() < 0.8
        if name == self.cfg.failing_plugin and t.date() == self.failing_day:
            served = used = False
        pid = self.sid()
        self.emit("plugin-calls", {"conversation_id": cid, "created_time": ts(t), "id": pid,
            "interaction_id": iid, "last_updated_time": lut, "plugin_name": name,
            "plugin_update_time": ts(t + timedelta(seconds=rng.uniform(0.5, 30))), "served": served,
            "used": used, "user_id": u["id"]})  # fmt: skip
        picked: set[str] = set()
        detail: Record | None
        for _r in range(rng.choice((0, 1, 2, 3))):
            rtype = self.mix["resource"].pick(rng)
            uncited_kb = rtype in _KB_TYPES and rng.random() < 0.58
            if rtype in _KB_TYPES:
                art: _Article = self.kb.get(topic, self.kb[None]).pick(rng)
                if art.resource_id in picked:
                    continue
                picked.add(art.resource_id)
                rtype, rid, detail, p_cite = art.type, art.resource_id, art.detail, art.p_cite
            else:
                keys = RESOURCE_DETAIL_KEYS.get(rtype)
                detail = (
                    {k: (f"{k} {rng.randrange(500)}" if rng.random() < 0.7 else None) for k in keys}
                    if keys
                    else None
                )
                rid, p_cite = self.hexid(), 0.23
            self.emit("plugin-resources", {"cited": (not uncited_kb) and rng.random() < p_cite,
                "conversation_id": cid, "created_time": ts(t), "detail": detail, "id": self.hexid(),
                "interaction_id": iid, "last_updated_time": lut, "plugin_call_id": None if uncited_kb else pid,
                "resource_id": rid, "type": rtype, "user_id": u["id"]})  # fmt: skip


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
