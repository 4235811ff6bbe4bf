"""OData query evaluation for the simulator: `$filter` parsed into a compiled predicate, `$orderby` keys.

Independent of `mwdata.api` (the simulator is a second implementation of the API: docs/architecture.md,
"Import rules").
Timestamp fields compare as instants, so `'2025-08-01T00:00:00Z'` equals `'2025-08-01T00:00:00.000Z'`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from mwdata.catalog import Entity
from mwdata.simulator.store import lut_micros

Record = dict[str, Any]
Predicate = Callable[[Record], bool]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class QueryError(ValueError):
    """A query option the server rejects with 400 (message is shown to the client)."""


@lru_cache(maxsize=1 << 12)
def instant(text: str) -> int:
    """Microseconds since the epoch of an ISO-8601 timestamp (naive = UTC); QueryError when it is not one.
    Cached for query literals; records' stamps are parsed once into the store instead."""
    try:
        return lut_micros(text)
    except ValueError:
        raise QueryError(f"not a timestamp: {text!r}") from None


def _canonical(micros: int) -> str | None:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ` of an instant with whole milliseconds (the API's own format), else None."""
    if micros % 1000:
        return None
    dt = _EPOCH + timedelta(microseconds=micros)
    if not 1000 <= dt.year <= 9999:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<lp>\()|(?P<rp>\))|(?P<num>-?\d+(?:\.\d+)?)(?![\w:-])|(?P<word>[A-Za-z_][\w/.-]*))"
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise QueryError(f"$filter: cannot parse near {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _cmp(op: str, a: Any, b: Any) -> bool:
    if op == "eq":
        return bool(a == b)
    if op == "ne":
        return bool(a != b)
    if a is None or b is None:
        return False
    try:
        if op == "gt":
            return bool(a > b)
        if op == "ge":
            return bool(a >= b)
        if op == "lt":
            return bool(a < b)
        return bool(a <= b)
    except TypeError:
        return False


class _Parser:
    def __init__(self, entity: Entity, text: str) -> None:
        self.entity = entity
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise QueryError("$filter: unexpected end of expression")
        self.i += 1
        return tok

    def word(self, w: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == "word" and tok[1].lower() == w:
            self.i += 1
            return True
        return False

    def parse(self) -> Predicate:
        pred = self.or_()
        if self.peek() is not None:
            raise QueryError(f"$filter: unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return pred

    def or_(self) -> Predicate:
        parts = [self.and_()]
        while self.word("or"):
            parts.append(self.and_())
        if len(parts) == 1:
            return parts[0]
        return lambda r: any(p(r) for p in parts)

    def and_(self) -> Predicate:
        parts = [self.unary()]
        while self.word("and"):
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda r: all(p(r) for p in parts)

    def unary(self) -> Predicate:
        if self.word("not"):
            inner = self.unary()
            return lambda r: not inner(r)
        tok = self.peek()
        if tok is not None and tok[0] == "lp":
            self.take()
            inner = self.or_()
            if self.take()[0] != "rp":
                raise QueryError("$filter: missing ')'")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, name = self.take()
        if kind != "word":
            raise QueryError(f"$filter: expected a field name, got {name!r}")
        if "/" in name or "." in name:
            raise QueryError(f"$filter: nested paths are not supported ({name!r})")
        if name not in self.entity.field_names:
            known = ", ".join(self.entity.field_names)
            raise QueryError(f"$filter: unknown field {name!r} on {self.entity.path}; known: {known}")
        okind, op = self.take()
        if okind != "word" or op.lower() not in _OPS:
            raise QueryError(f"$filter: expected an operator (eq ne gt ge lt le) after {name}, got {op!r}")
        op = op.lower()
        lkind, lit = self.take()
        ftype = self.entity.field(name).type
        value: Any
        if lkind == "str":
            value = lit[1:-1].replace("''", "'")
            if ftype == "timestamp":
                value = instant(value)
        elif lkind == "num":
            value = float(lit) if "." in lit else int(lit)
        elif lkind == "word" and lit.lower() in ("true", "false"):
            value = lit.lower() == "true"
        elif lkind == "word" and lit.lower() == "null":
            value = None
        else:
            raise QueryError(f"$filter: expected a literal after '{name} {op}', got {lit!r}")
        if ftype == "timestamp" and value is not None:
            if lkind != "str":
                raise QueryError(f"$filter: {name} compares with a quoted timestamp")

            canon = _canonical(value)

            def ts(r: Record, n: str = name, o: str = op, v: Any = value, c: str | None = canon) -> bool:
                x = r.get(n)
                if c is not None and isinstance(x, str) and len(x) == 24 and x[19] == "." and x[23] == "Z":
                    return _cmp(o, x, c)  # fixed-width UTC text orders like its instant: no parsing
                return _cmp(o, instant(x) if x is not None else None, v)

            return ts
        return lambda r, n=name, o=op, v=value: _cmp(o, r.get(n), v)  # type: ignore[misc]


def compile_filter(entity: Entity, text: str | None) -> Predicate | None:
    """The predicate of an OData `$filter`, or None for no filter; raises QueryError on bad input."""
    if not text or not text.strip():
        return None
    return _Parser(entity, text).parse()


def parse_orderby(entity: Entity, text: str | None) -> list[tuple[str, bool]]:
    """`$orderby` as [(field, descending)]; raises QueryError on unknown fields."""
    keys: list[tuple[str, bool]] = []
    for part in (text or "").split(","):
        bits = part.split()
        if not bits:
            continue
        name = bits[0]
        if name not in entity.field_names:
            raise QueryError(f"$orderby: unknown field {name!r} on {entity.path}")
        if len(bits) > 2 or (len(bits) == 2 and bits[1].lower() not in ("asc", "desc")):
            raise QueryError(f"$orderby: bad clause {part.strip()!r}")
        keys.append((name, len(bits) == 2 and bits[1].lower() == "desc"))
    return keys


def sort_key(entity: Entity, name: str) -> Callable[[Record], Any]:
    """A key that orders nulls first and timestamps as instants."""
    is_ts = entity.field(name).type == "timestamp"

    def key(r: Record) -> Any:
        v = r.get(name)
        if v is None:
            return (0, 0)
        if is_ts:
            return (1, instant(v))
        if isinstance(v, dict | list):
            return (1, str(v))
        return (1, v)

    return key


def order(entity: Entity, rows: list[Record], keys: list[tuple[str, bool]]) -> list[Record]:
    """Stable multi-key sort (last key first)."""
    out = list(rows)
    for name, desc in reversed(keys):
        out.sort(key=sort_key(entity, name), reverse=desc)
    return out


_ID_BOUND = re.compile(r"\bid\s+(gt|ge)\s+'((?:[^']|'')*)'", re.IGNORECASE)


def id_lower_bound(text: str | None) -> tuple[str, bool] | None:
    """(id, inclusive) when the filter is a pure conjunction holding `id gt/ge '<x>'` — the keyset shape,
    answered by bisecting the id-sorted rows instead of scanning them all."""
    if not text:
        return None
    words = {w.lower() for kind, w in _tokens(text) if kind == "word"}
    if words & {"or", "not"}:
        return None
    found = [(m.group(2).replace("''", "'"), m.group(1).lower() == "ge") for m in _ID_BOUND.finditer(text)]
    if not found:
        return None
    return max(found)


def split_keyset(text: str | None) -> tuple[str, bool, str] | None:
    """The keyset shape split apart: (id, inclusive, rest of the filter) when `text` is a flat conjunction
    of simple comparisons; the tightest `id gt/ge '<x>'` bound is returned ('' inclusive when there is
    none: ids sort after it) and every id bound is left out of the rest (the caller bisects on id
    instead). None for any other shape."""
    if not text:
        return None
    toks = _tokens(text)
    clauses: list[list[tuple[str, str]]] = [[]]
    for tok in toks:
        if tok[0] in ("lp", "rp"):
            return None
        if tok[0] == "word" and tok[1].lower() in ("or", "not"):
            return None
        if tok[0] == "word" and tok[1].lower() == "and" and len(clauses[-1]) == 3:
            clauses.append([])
            continue
        clauses[-1].append(tok)
    bounds: list[tuple[str, bool]] = []
    rest: list[str] = []
    for c in clauses:
        if len(c) != 3:
            return None
        (fk, name), (ok, op), (lk, lit) = c
        if fk == "word" and name == "id" and ok == "word" and op.lower() in ("gt", "ge") and lk == "str":
            bounds.append((lit[1:-1].replace("''", "'"), op.lower() == "gt"))
        else:
            rest.append(f"{name} {op} {lit}")
    if not bounds:  # a window's first page: no id bound yet
        return "", True, " and ".join(rest)
    tightest, exclusive = max(bounds)  # at the same id, gt is tighter than ge
    return tightest, not exclusive, " and ".join(rest)


_LUT_CLAUSE = re.compile(r"last_updated_time (ge|gt|lt|le) '([^']*)'", re.IGNORECASE)


def lut_window(rest: str) -> tuple[int, int] | None:
    """[lo, hi) in microseconds when `rest` (from split_keyset) is only `last_updated_time` comparisons
    with timestamps (the sync's window), else None. Open sides are the widest int64 values."""
    lo, hi = -(1 << 63), 1 << 63
    for clause in rest.split(" and ") if rest else []:
        m = _LUT_CLAUSE.fullmatch(clause)
        if m is None:
            return None
        op, value = m.group(1).lower(), instant(m.group(2))
        if op in ("ge", "gt"):
            lo = max(lo, value + (op == "gt"))
        else:
            hi = min(hi, value + (op == "le"))
    return lo, hi
