"""Compact record storage for the simulator: each record version is kept as its JSON bytes plus the two
keys the server sorts and filters on (id, `last_updated_time` in microseconds); dicts are decoded on
demand ($select, generic filters, `truth()`, re-emission). A dict per record costs ~10x its JSON."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, overload

import orjson

Record = dict[str, Any]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def lut_micros(text: str) -> int:
    """Microseconds since the epoch of an ISO-8601 timestamp (naive = UTC); raises ValueError."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // _MICRO


class RecordStore(Sequence[Record]):
    """Append-only encoded records of one entity; indexing and iteration decode (a fresh dict each time)."""

    __slots__ = ("bodies", "ids", "luts", "_last")

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self.bodies: list[bytes] = []
        self.ids: list[str] = []
        self.luts = array("q")
        self._last: tuple[str, int] = ("", 0)  # consecutive records often share a stamp
        for r in records:
            self.append(r)

    def append(self, rec: Record) -> None:
        # orjson returns its bytes inside a buffer of at least 4 KB; copying to an exact-size object
        # makes a 400-byte record cost ~440 bytes instead of ~4 KB
        self.bodies.append(memoryview(orjson.dumps(rec)).tobytes())
        self.ids.append(rec["id"])
        lut = rec.get("last_updated_time")
        if not lut:
            self.luts.append(0)
        elif lut == self._last[0]:
            self.luts.append(self._last[1])
        else:
            self._last = (lut, lut_micros(lut))
            self.luts.append(self._last[1])

    def copy(self) -> RecordStore:
        """A store sharing this one's bytes and ids (immutable) but with its own lists to append to."""
        out = RecordStore()
        out.bodies, out.ids, out.luts = list(self.bodies), list(self.ids), array("q", self.luts)
        return out

    def __len__(self) -> int:
        return len(self.bodies)

    @overload
    def __getitem__(self, i: int) -> Record: ...
    @overload
    def __getitem__(self, i: slice) -> list[Record]: ...
    def __getitem__(self, i: int | slice) -> Record | list[Record]:
        if isinstance(i, slice):
            return [orjson.loads(b) for b in self.bodies[i]]
        return orjson.loads(self.bodies[i])  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[Record]:
        return (orjson.loads(b) for b in self.bodies)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordStore):
            return self.bodies == other.bodies
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RecordStore({len(self)} records)"


class RecordView(Sequence[Record]):
    """Some records of a store (by index), decoded on access: `truth()` without a dict per row up front."""

    __slots__ = ("_bodies", "_idx")

    def __init__(self, bodies: list[bytes], idx: Any) -> None:  # idx: ints (a sequence or an int ndarray)
        self._bodies, self._idx = bodies, idx

    def __len__(self) -> int:
        return len(self._idx)

    @overload
    def __getitem__(self, i: int) -> Record: ...
    @overload
    def __getitem__(self, i: slice) -> list[Record]: ...
    def __getitem__(self, i: int | slice) -> Record | list[Record]:
        if isinstance(i, slice):
            return [orjson.loads(self._bodies[j]) for j in self._idx[i]]
        return orjson.loads(self._bodies[self._idx[i]])  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[Record]:
        bodies = self._bodies
        return (orjson.loads(bodies[j]) for j in self._idx)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
