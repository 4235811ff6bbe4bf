"""The compact record store: exact-size bytes, decode on demand, servers independent over one dataset,
index kept up to date across re-emission and new ids."""

from __future__ import annotations

import sys

import httpx

from mwdata.simulator import SimulatorServer
from mwdata.simulator.store import RecordStore, lut_micros


def test_store_keeps_exact_size_bytes_and_decodes(small_dataset) -> None:  # type: ignore[no-untyped-def]
    inter = small_dataset.records["interactions"]
    assert isinstance(inter, RecordStore)
    # orjson's own result sits in a >= 4 KB buffer; the store keeps an exact-size copy
    assert all(sys.getsizeof(b) < len(b) + 64 for b in inter.bodies[:500])
    first = inter[0]
    assert first["id"] == inter.ids[0] and lut_micros(first["last_updated_time"]) == inter.luts[0]
    assert inter[0] is not inter[0]  # decoded afresh: callers cannot mutate the stored record
    copy = RecordStore(list(inter)[:10])
    assert copy == inter[:10] and len(copy) == 10


def test_servers_over_one_dataset_are_independent(small_dataset) -> None:  # type: ignore[no-untyped-def]
    a, b = SimulatorServer(small_dataset), SimulatorServer(small_dataset)
    before = {r["id"]: r["last_updated_time"] for r in b.truth("conversations")}
    stored = len(small_dataset.records["conversations"])
    changed = a.reemit("conversations", fraction=0.1, seed=4)
    assert changed and a.count("conversations") == b.count("conversations") == len(before)
    after_a = {r["id"]: r["last_updated_time"] for r in a.truth("conversations")}
    assert all(after_a[i] > before[i] for i in changed)
    assert {r["id"]: r["last_updated_time"] for r in b.truth("conversations")} == before
    assert len(small_dataset.records["conversations"]) == stored  # the dataset is untouched


def test_index_follows_reemit_and_new_ids(simulator) -> None:  # type: ignore[no-untyped-def]
    sim = simulator(page_size=1000)
    n = sim.count("users")
    sim.reemit("users", fraction=0.2, seed=1)  # existing ids: the index is extended
    assert sim.count("users") == n
    new = dict(sim.truth("users")[0], id="0", last_updated_time="2026-11-20T00:00:00.000Z")
    sim.upsert("users", [new])  # a new id: the index is rebuilt
    assert sim.count("users") == n + 1 and sim.truth("users")[0]["id"] == "0"
    want = sorted(r["id"] for r in sim.truth("users") if r["id"] > "0")
    with httpx.Client(headers={"Authorization": sim.api_key}) as c:
        # a keyset filter the splitter does not take (parentheses): bisect, then the predicate per row
        flt = "(access_to_bot eq true or access_to_bot eq false) and id gt '0'"
        got = c.get(f"{sim.records_url}/users", params={"$filter": flt, "$orderby": "id"}).json()["value"]
        assert [r["id"] for r in got] == want
        flt = "(access_to_bot eq true) and id gt '0'"
        got = c.get(f"{sim.records_url}/users", params={"$filter": flt, "$orderby": "id"}).json()["value"]
        assert [r["id"] for r in got] == [i for i in want if any(
            r["id"] == i and r["access_to_bot"] for r in sim.truth("users"))]  # fmt: skip
