import os
from pathlib import Path

import pytest

from mwdata.config import Secret, load_config, store_kind
from mwdata.errors import ConfigError


def test_defaults_without_file(tmp_path: Path) -> None:
    os.chdir(tmp_path)
    cfg = load_config(env={})
    assert cfg.store == "mwdata.duckdb" and cfg.is_duckdb
    assert cfg.api.records_url == "https://api.moveworks.ai/export/v1/records"


def test_env_overrides_and_secret_masking(tmp_path: Path) -> None:
    os.chdir(tmp_path)
    cfg = load_config(
        env={"MWDATA_API_KEY": "sk-123", "MWDATA_REGION": "eu", "MWDATA_STORE": "postgresql://x/y"}
    )
    assert isinstance(cfg.api.api_key, Secret) and cfg.api.api_key.reveal() == "sk-123"
    assert "sk-123" not in repr(cfg)
    assert cfg.api.host == "https://api.am-eu-central.moveworks.ai"
    assert store_kind(cfg.store) == "postgres"


def test_inline_secret_refused(tmp_path: Path) -> None:
    f = tmp_path / "mwdata.toml"
    f.write_text('[api]\napi_key = "sk-123"\n')
    with pytest.raises(ConfigError, match="must not be written") as exc:
        load_config(f, env={})
    assert "sk-123" not in str(exc.value)


def test_secret_file_must_be_private(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("sk-abc\n")
    secret.chmod(0o644)
    f = tmp_path / "mwdata.toml"
    f.write_text(f'[api]\napi_key_file = "{secret}"\n')
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config(f, env={})
    secret.chmod(0o600)
    assert load_config(f, env={}).api.api_key == Secret("sk-abc")


@pytest.mark.parametrize(
    "text, match",
    [
        ("[api]\nregion = 'mars'\n", "unknown region"),
        ("[sync]\nworkers = 'many'\n", "must be int"),
        ("[api]\nfoo = 1\n", "unknown setting"),
        ("bogus = 1\n", "unknown section"),
        ("[api\n", "not valid TOML"),
    ],
)
def test_bad_config_is_clear(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "mwdata.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config(f, env={})


def test_explicit_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mwdata init"):
        load_config(tmp_path / "nope.toml", env={})
