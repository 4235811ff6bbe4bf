"""Issue 16 item 3 (a): `mwdata export` follows [transform] pii. The raw tables (plaintext e-mails,
names, utterances) are left out unless asked for and refused with pii = hash|drop; marts last built
with pii = show (or by an mwdata that did not record builds) are refused while the setting hides PII;
marts built with the setting export without a plaintext value."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from mwdata.config import Config
from mwdata.errors import ConfigError
from mwdata.metrics.exports import build
from mwdata.read.export import export_store
from tests.sync.conftest import run_cli
from tests.transform import pii_cases
from tests.transform.fixtures import load_duckdb

SALT = "a salt for the export test"


def _exported_text(root: Path) -> str:
    return "\n".join(p.read_text().lower() for p in sorted(root.rglob("*.csv")))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("pii-export")
    db = tmp / "s.duckdb"
    load_duckdb(db, pii_cases.records())
    hr = pii_cases.write_hr_csv(tmp / "hr.csv")
    assert not build(Config(store=str(db), transform=pii_cases.transform("show", hr_file=str(hr)))).errors
    return db


def test_export_follows_the_pii_setting(store: Path, tmp_path: Path) -> None:
    # marts built with pii = show, setting now hash: refused, nothing written
    with pytest.raises(
        ConfigError, match=r'pii = "hash", but the tables of analytics .* last built with pii = "show"'
    ):
        export_store(store, tmp_path / "a", "csv", ("analytics",), pii="hash")
    assert not (tmp_path / "a").exists()
    # the raw tables: refused with hash|drop, whatever the marts hold
    for mode in ("hash", "drop"):
        with pytest.raises(ConfigError, match=r"raw tables hold the plaintext .*--include-raw refused"):
            export_store(store, tmp_path / "b", "csv", ("analytics", "raw"), pii=mode)
    assert not (tmp_path / "b").exists()
    # with pii = show, the plaintext is there (the scan below can fail)
    export_store(store, tmp_path / "show", "csv", ("analytics",), pii="show")
    assert "kat@example.com" in _exported_text(tmp_path / "show")
    # rebuilt with pii = hash: the export goes through and holds no plaintext
    hr = store.parent / "hr.csv"
    rebuilt = build(Config(store=str(store), transform=pii_cases.transform("hash", SALT, hr_file=str(hr))))
    assert not rebuilt.errors
    done = export_store(store, tmp_path / "hash", "csv", ("analytics",), pii="hash")
    assert {t.schema for t in done} == {"analytics"} and len(done) >= 14
    text = _exported_text(tmp_path / "hash")
    assert [s for s in pii_cases.plaintext() if s in text] == []
    assert not (tmp_path / "hash" / "raw").exists() and not (tmp_path / "hash" / "_mwdata").exists()
    # a store built by an mwdata that did not record builds: refused too
    with duckdb.connect(str(store)) as con:
        con.execute("DROP TABLE _mwdata.transform_builds")
    with pytest.raises(ConfigError, match="older mwdata"):
        export_store(store, tmp_path / "c", "csv", ("analytics",), pii="drop")


def test_cli_export_leaves_raw_out_unless_asked(store: Path, tmp_path: Path) -> None:
    env = {"MWDATA_STORE": str(store), "HOME": str(tmp_path)}
    r = run_cli("export", "--format", "csv", "--out", str(tmp_path / "x"), env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-1500:]
    assert (tmp_path / "x" / "analytics").is_dir() and not (tmp_path / "x" / "raw").exists()
    r = run_cli(
        "export", "--format", "csv", "--out", str(tmp_path / "y"), "--include-raw", env=env, cwd=tmp_path
    )
    assert r.returncode == 0 and (tmp_path / "y" / "raw" / "users.csv").exists(), r.stderr[-1500:]
    hidden = {**env, "MWDATA_PII": "hash", "MWDATA_PII_SALT": SALT}
    r = run_cli(
        "export", "--format", "csv", "--out", str(tmp_path / "z"), "--include-raw", env=hidden, cwd=tmp_path
    )
    assert r.returncode == 2, r.stdout[-1500:] + r.stderr[-1500:]
    assert "--include-raw refused" in r.stderr and "Traceback" not in r.stderr
    assert not list((tmp_path / "z").rglob("*.csv"))
