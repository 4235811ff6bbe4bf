"""Generator: determinism, id formats, the data facts of docs/data-api.md ("What the simulator
reproduces") at several seeds/scales, mixes near the samples."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mwdata.catalog import ENTITIES, RESOURCE_DETAIL_KEYS, SYSTEM_EVENTS_SINCE
from mwdata.simulator import Dataset, GeneratorConfig, generate, load_fixed_dataset

END = datetime(2026, 11, 28, tzinfo=UTC)


def _share(values: list[object], value: object) -> float:
    return sum(1 for v in values if v == value) / max(1, len(values))


def test_deterministic_by_seed() -> None:
    a = generate(GeneratorConfig(seed=5, users=40, days=10, end=END))
    b = generate(GeneratorConfig(seed=5, users=40, days=10, end=END))
    c = generate(GeneratorConfig(seed=6, users=40, days=10, end=END))
    assert a.records == b.records and a.hr_rows == b.hr_rows
    assert a.records != c.records


@pytest.mark.parametrize(("seed", "users", "days"), [(1, 30, 5), (2, 150, 20), (3, 400, 35)])
def test_invariants(seed: int, users: int, days: int, tmp_path: Path) -> None:
    ds = generate(GeneratorConfig(seed=seed, users=users, days=days, end=END))
    r = ds.records
    for e in ENTITIES:
        for rec in r[e.path]:
            assert set(rec) <= set(e.field_names), e.path
        ids = [x["id"] for x in r[e.path]]
        assert len(ids) == len(set(ids)), e.path
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{12}", x["id"]) for x in [*r["interactions"], *r["conversations"]])
    assert all(re.fullmatch(r"[0-9a-f]{32}", x["id"]) for x in r["plugin-resources"])
    assert all(re.fullmatch(r"\d{1,20}", x["id"]) for x in r["users"])
    inter = {x["id"]: x for x in r["interactions"]}
    calls = {x["id"]: x for x in r["plugin-calls"]}
    first: dict[str, str] = {}
    for x in r["interactions"]:
        c = x["conversation_id"]
        first[c] = min(first.get(c, x["created_time"]), x["created_time"])
        if x["actor"] == "bot" and x["parent_interaction_id"]:
            assert inter[x["parent_interaction_id"]]["actor"] == "user"
        assert x["created_time"] < x["last_updated_time"]
    for conv in r["conversations"]:
        assert conv["created_time"] == first[conv["id"]]  # created = first interaction
        if conv.get("type"):
            assert conv["created_time"] >= SYSTEM_EVENTS_SINCE
            assert conv["route"] in ("Notification", "Ticket", "Channel")
    for call in calls.values():
        assert not call["used"] or call["served"]  # used implies served
        assert inter[call["interaction_id"]]["actor"] == "user"
    for res in r["plugin-resources"]:
        if res["plugin_call_id"] is not None:
            assert calls[res["plugin_call_id"]]["interaction_id"] == res["interaction_id"]
        else:
            assert res["type"] in ("RESOURCE_TYPE_KNOWLEDGE", "RESOURCE_TYPE_FILE") and not res["cited"]
        keys = RESOURCE_DETAIL_KEYS.get(res["type"])
        assert (res["detail"] is None) if keys is None else set(res["detail"]) == set(keys)
    assert len(ds.hr_rows) == users and {h["email"] for h in ds.hr_rows} == {
        u["email_addr"] for u in r["users"]
    }
    out = ds.write_hr_csv(tmp_path / "hr.csv")
    assert out.read_text().splitlines()[0].startswith("email,employee_id,department")


def test_system_events_only_after_april_2026() -> None:
    before = generate(GeneratorConfig(seed=1, users=100, days=20, end=datetime(2026, 3, 1, tzinfo=UTC)))
    after = generate(GeneratorConfig(seed=1, users=100, days=20, end=END))
    assert not any(c.get("type") for c in before.records["conversations"])
    assert not any("type" in c for c in before.records["conversations"])  # fields not yet in the export
    assert any(c.get("type") for c in after.records["conversations"])


def test_mixes_near_the_samples(samples_dir: Path) -> None:
    """Shares the generator draws, compared with the real samples within a stated tolerance (±0.15)."""
    real = load_fixed_dataset(samples_dir).records
    gen: Dataset = generate(GeneratorConfig(seed=1, users=300, days=20, end=datetime(2026, 3, 1, tzinfo=UTC)))
    g = gen.records
    tol = 0.15
    checks = [
        ("plugin-calls", lambda x: x["served"], True),
        ("plugin-calls", lambda x: x["used"], True),
        ("plugin-resources", lambda x: x["cited"], True),
        ("plugin-resources", lambda x: x["plugin_call_id"] is None, True),
        ("interactions", lambda x: x["actor"], "user"),
        ("conversations", lambda x: x["route"], "DM"),
        ("interactions", lambda x: x["platform"], "msteams"),
        ("interactions", lambda x: x["type"], "INTERACTION_TYPE_BUTTON_CLICK"),
        ("interactions", lambda x: x["type"], "INTERACTION_TYPE_LINK_CLICK"),
        ("interactions", lambda x: x["type"], "INTERACTION_TYPE_FREE_TEXT"),
    ]
    report = {}
    for path, fn, value in checks:
        rs, gs = _share([fn(x) for x in real[path]], value), _share([fn(x) for x in g[path]], value)
        report[f"{path}:{len(report)}"] = (round(rs, 2), round(gs, 2))
    off = {k: v for k, v in report.items() if abs(v[0] - v[1]) > tol}
    assert not off, json.dumps(report)

    # thumbs feedback: internal-link clicks on HELPFUL / UNHELPFUL, as in the samples (docs/data-api.md, interactions)
    def clicks(rows: list[dict]) -> Counter[str]:
        return Counter(
            x["detail"]["resource_id"]
            for x in rows
            if x["type"] == "INTERACTION_TYPE_LINK_CLICK"
            and x["detail"].get("type") == "RESOURCE_TYPE_INTERNAL_LINK"
        )

    rc, gc = clicks(real["interactions"]), clicks(g["interactions"])
    assert gc["HELPFUL"] > 0 and gc["UNHELPFUL"] > 0 and set(gc) == set(rc)
    thumbs = [(c["HELPFUL"] + c["UNHELPFUL"]) / c.total() for c in (rc, gc)]
    assert abs(thumbs[0] - thumbs[1]) < 0.05, thumbs

    # UI-form submissions: per label, the detail keys of the samples (CSAT comments add `content`)
    def form_shapes(rows: list[dict]) -> set[tuple[str, tuple[str, ...]]]:
        return {
            (x["label"], tuple(sorted(x["detail"])))
            for x in rows
            if x["type"] == "INTERACTION_TYPE_UIFORM_SUBMISSION"
        }

    allowed = form_shapes(real["interactions"]) | {("mw_form", ("content", "detail"))}
    assert form_shapes(g["interactions"]) <= allowed
    assert any(x["detail"].get("detail") == "CSAT Feedback" for x in g["interactions"])
    real_types = Counter(x["type"] for x in real["plugin-resources"])
    gen_types = Counter(x["type"] for x in g["plugin-resources"])
    assert real_types.most_common(1)[0][0] in {t for t, _ in gen_types.most_common(2)}
