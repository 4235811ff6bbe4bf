"""A roster, HR extract and utterances with distinctive PII, the plaintext to look for, and a scan of
every relation of the target schemas for it (DuckDB and PostgreSQL); used by tests/hardening."""

from __future__ import annotations

import copy
import csv
import hashlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mwdata.config import Secret, TransformConfig
from mwdata.transform import runner
from mwdata.transform.project import HR_TABLE_COLUMNS
from tests.transform import hr_cases

Query = Callable[[str], Sequence[tuple[Any, ...]]]
MANAGER = "boss.zyxw@corp.example"


def transform(pii: str, salt: str | None = None, **kw: Any) -> TransformConfig:
    """[transform] with pii and its salt."""
    return TransformConfig(pii=pii, pii_salt=Secret(salt) if salt is not None else None, **kw)


def records() -> dict[str, list[dict[str, Any]]]:
    """hr_cases' roster with distinctive names and utterances, plus an intercepted channel message."""
    recs = copy.deepcopy(hr_cases.records())
    for u in recs["users"]:
        u["first_name"], u["last_name"] = f"Firstqz{u['id']}", f"Lastqz{u['id']}"
    for i in recs["interactions"]:
        i["detail"] = {"content": f"my password is hunter-{i['id']}-qz"}
    c = dict(recs["conversations"][0])
    c.update(id="c_icpt", type="CONVERSATION_TYPE_CHANNEL_INTERCEPTION",
             detail={"channel_id": "C1", "channel_name": "it-help", "content": "intercepted words qzqz"})  # fmt: skip
    recs["conversations"].append(c)
    return recs


def write_hr_csv(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HR_TABLE_COLUMNS)
        for email, emp, dept, ext in hr_cases._HR:
            row = {"email": email, "employee_id": emp, "department": dept, "location": "L", "country": "C",
                   "role": "IC", "manager_email": MANAGER, "is_test_user": "false", "external_id": ext}  # fmt: skip
            w.writerow([row[c] for c in HR_TABLE_COLUMNS])
    return path


def hr_emails() -> list[str]:
    return sorted({e.strip().lower() for e, *_ in hr_cases._HR} | {MANAGER})


def plaintext() -> set[str]:
    """Every clear value that must not appear (lower case, substring match)."""
    recs = records()
    out = set(hr_emails())
    for u in recs["users"]:
        out |= {u["email_addr"].lower(), u["first_name"].lower(), u["last_name"].lower()}
    out |= {i["detail"]["content"].lower() for i in recs["interactions"]}
    out.add("intercepted words qzqz")
    return out


def unsalted_digests() -> set[str]:
    """md5 and sha256 of every HR e-mail, as written and normalised: a dictionary attack's guesses."""
    out = set()
    for e in [*hr_emails(), *(e for e, *_ in hr_cases._HR)]:
        for v in {e, e.strip(), e.strip().lower()}:
            out |= {hashlib.md5(v.encode()).hexdigest(), hashlib.sha256(v.encode()).hexdigest()}
    return out


def target_relations(query: Query, schema: str = "analytics") -> list[tuple[str, str]]:
    rows = query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_schema = '{schema}' OR table_schema LIKE '{schema}\\_%' ESCAPE '\\' ORDER BY 1, 2"
    )
    return [(str(s), str(t)) for s, t in rows]


def scan(query: Query, needles: set[str], schema: str = "analytics") -> tuple[int, dict[str, set[str]]]:
    """(relations scanned, {relation.column: needles found}) over every column of every relation of
    the target schema and its layer schemas (staging, intermediate, seeds)."""
    found: dict[str, set[str]] = {}
    rels = target_relations(query, schema)
    for s, t in rels:
        cols = [
            str(c)
            for (c,) in query(
                "SELECT column_name FROM information_schema.columns "
                f"WHERE table_schema = '{s}' AND table_name = '{t}' ORDER BY ordinal_position"
            )
        ]
        select = ", ".join(f'CAST("{c}" AS TEXT)' for c in cols)
        for row in query(f'SELECT {select} FROM "{s}"."{t}"'):
            for c, v in zip(cols, row, strict=True):
                text = str(v).lower() if v is not None else ""
                hits = {n for n in needles if n in text}
                if hits:
                    found.setdefault(f"{s}.{t}.{c}", set()).update(hits)
    return len(rels), found


@contextmanager
def kept_run_dirs(monkeypatch: pytest.MonkeyPatch, into: Path) -> Iterator[list[Path]]:
    """Copy each dbt run directory (profiles, target/ and logs/) before it is removed."""
    kept: list[Path] = []
    original = runner._workdir

    @contextmanager
    def keeping(cfg: Any) -> Iterator[tuple[Path, Path]]:
        with original(cfg) as (project, run):
            yield project, run
            dest = into / f"run{len(kept)}"
            shutil.copytree(run, dest)
            kept.append(dest)

    monkeypatch.setattr(runner, "_workdir", keeping)
    yield kept


def files_containing(root: Path, secrets: Sequence[str]) -> list[str]:
    hits = []
    for p in root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            hits += [f"{p.relative_to(root)}: {s[:6]}..." for s in secrets if s.encode() in data]
    return hits


def keyed(key: str, value: str) -> str:
    """The digest the models compute (macro mw_hash): sha256 of the key followed by the value."""
    return hashlib.sha256((key + value).encode()).hexdigest()
