"""The HR match on DuckDB: e-mail (case-insensitive, trimmed) first, then the user's external ids,
one-to-one with deterministic tie-breaks and no fan-out into the marts (cases in hr_cases.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from mwdata.config import Config, TransformConfig, load_config
from mwdata.transform import build
from mwdata.transform.project import HR_COLUMNS
from tests.transform import hr_cases
from tests.transform.fixtures import load_duckdb

SELECT = [
    "+moveworks__users",
    "+moveworks__journey",
    "+moveworks__conversations",
    "+moveworks__adoption_by_segment",
]


def _build(tmp_path: Path, **transform: Any) -> tuple[Path, Any]:
    db = tmp_path / "s.duckdb"
    load_duckdb(db, hr_cases.records())
    hr = hr_cases.write_hr_csv(tmp_path / "hr.csv")
    cfg = Config(store=str(db), transform=TransformConfig(hr_file=str(hr), **transform))
    return db, build(cfg, select=SELECT)


def _query(db: Path) -> hr_cases.Query:
    def run(sql: str) -> Sequence[tuple[Any, ...]]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute(sql).fetchall()

    return run


def test_hr_match_email_then_external_id(tmp_path: Path) -> None:
    db, result = _build(tmp_path)
    assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
    # the planted older user version is reported, nothing else (a duplicate HR e-mail is a load error)
    assert {r.name for r in result.warnings} == {"source_unique_moveworks_users_id"}
    uniq = [
        r
        for r in result.results
        if r.resource_type == "test" and "unique_int_moveworks__users_enriched_hr_row_id" in r.name
    ]
    assert [r.status for r in uniq] == ["pass"]
    hr_cases.assert_outcome(_query(db), hr_cases.EXPECTED)


def test_hr_match_sources_are_configurable(tmp_path: Path) -> None:
    """[transform] hr_*_sources: external ids restricted to SNOW; WORKDAY ids matched against the
    HR employee_id (set through mwdata.toml, as a user would)."""
    (tmp_path / "mwdata.toml").write_text(
        '[transform]\nhr_external_id_sources = ["snow"]\nhr_employee_id_sources = ["Workday"]\n'
    )
    t = load_config(tmp_path / "mwdata.toml", env={}).transform
    assert {
        "mwdata_hr_external_id_sources": list(t.hr_external_id_sources),
        "mwdata_hr_employee_id_sources": list(t.hr_employee_id_sources),
    } == hr_cases.RESTRICTED_VARS
    db, result = _build(
        tmp_path,
        hr_external_id_sources=t.hr_external_id_sources,
        hr_employee_id_sources=t.hr_employee_id_sources,
    )
    assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
    hr_cases.assert_outcome(_query(db), hr_cases.EXPECTED_RESTRICTED)


def test_hr_file_without_external_id_still_matches_by_email(tmp_path: Path) -> None:
    """A file without external_id still matches by e-mail, also on a store built before the column
    existed (its raw.hr_employees, without the column, is replaced)."""
    db = tmp_path / "s.duckdb"
    old_table = ", ".join(f"{c} {'BOOLEAN' if c == 'is_test_user' else 'VARCHAR'}" for c in HR_COLUMNS)
    load_duckdb(db, hr_cases.records(), extra_sql=[f"CREATE TABLE raw.hr_employees ({old_table})"])
    hr = tmp_path / "hr.csv"
    hr.write_text(
        "email,employee_id,department,location,country,role,manager_email,is_test_user\n"
        "ada.lovelace@example.com,E1,Math,L,C,IC,,no\nkat@example.com,E7,Space,L,C,IC,,no\n"
    )
    result = build(Config(store=str(db), transform=TransformConfig(hr_file=str(hr))), select=SELECT)
    assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
    got = _query(db)(
        "SELECT user_id, employee_id, hr_match FROM analytics_intermediate.int_moveworks__users_enriched "
        "WHERE hr_row_id IS NOT NULL ORDER BY user_id"
    )
    assert got == [("1", "E1", "email"), ("8", "E7", "email")]
    with duckdb.connect(str(db), read_only=True) as con:
        cols = [r[0] for r in con.execute("DESCRIBE raw.hr_employees").fetchall()]
    assert cols[-1] == "external_id"
