import dataclasses
from pathlib import Path

import pytest

from mwdata.config import Config, ReportConfig, Secret, init_template, load_config, store_kind, with_overrides
from mwdata.errors import ConfigError


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(env={})
    assert cfg.store == "mwdata.duckdb" and cfg.is_duckdb
    assert cfg.api.records_url == "https://api.moveworks.ai/export/v1/records"


def test_env_overrides_and_secret_masking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
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
        ("[api]\nregion = 'mars'\n", r"\[api\] region must be one of us, eu"),
        ("[sync]\nworkers = 'many'\n", r"\[sync\] workers must be an integer, got 'many'"),
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


# ---- the schema: every setting validated at load time (issue 16 item 1) ----


@pytest.mark.parametrize(
    "text, message",
    [
        ("[api]\npage_size = 0\n", "[api] page_size must be an integer from 1 to 10000, got 0"),
        ("[api]\npage_size = 2.5\n", "[api] page_size must be an integer, got 2.5"),
        ("[api]\ntimeout_seconds = 0\n", "[api] timeout_seconds must be a number greater than 0"),
        ("[api]\nmax_retries = -1\n", "[api] max_retries must be an integer from 0 to 100, got -1"),
        ("[api]\nrequests_per_minute = -5\n", "[api] requests_per_minute must be a number from 0 to"),
        ("[api]\nrequest_deadline_seconds = 0\n", "[api] request_deadline_seconds must be a number greater"),
        ("[api]\nmax_body_mb = -1\n", "[api] max_body_mb must be a number greater than 0"),
        ("[api]\ngive_up_seconds = 0\n", "[api] give_up_seconds must be a number greater than 0"),
        ("[api]\nversion = 'latest'\n", "[api] version must be an API version like v1 or v1beta2"),
        ("[sync]\nlookback_hours = -24\n", "[sync] lookback_hours must be a number from 0 to 720, got -24"),
        ("[sync]\nwindow_hours = -1\n", "[sync] window_hours must be a number from 0.1 to 8760, got -1"),
        ("[sync]\nwindow_hours = 0\n", "[sync] window_hours must be a number from 0.1 to 8760, got 0"),
        ("[sync]\nworkers = 0\n", "[sync] workers must be an integer from 1 to 32, got 0"),
        ("[sync]\nbatch_size = 0\n", "[sync] batch_size must be an integer from 1 to 1000000, got 0"),
        ("[sync]\nentities = ['conversations', 'tickets']\n", "[sync] entities must list known entities"),
        ("[sync]\nentities = []\n", "[sync] entities must not be empty"),
        ("[sync]\nstart = 'yesterday'\n", "[sync] start must be an ISO date"),
        ("[transform]\npii = 'mask'\n", "[transform] pii must be one of show, hash, drop, got 'mask'"),
        ("[transform]\ntarget_schema = 'a; drop'\n", "[transform] target_schema must be a SQL identifier"),
        ("[report]\nsmtp_port = 70000\n", "[report] smtp_port must be an integer from 1 to 65535, got 70000"),
        ("[report]\nsmtp_tls = 'tls'\n", "[report] smtp_tls must be one of starttls, ssl, none"),
        ("[report]\nsmtp_starttls = 'ture'\n", "[report] smtp_starttls must be true or false"),
        ("[report]\nmail_to = 'a@x.org; b@x.org'\n", "not by semicolons"),
        ("[report]\nmail_to = ['a@x.org', 'b.x.org']\n", "[report] mail_to must be an e-mail address"),
        ("[report]\nmail_from = 'a@@x.org'\n", "[report] mail_from must be an e-mail address"),
        (
            "[alerts]\nmax_freshness_hours = 0\n",
            "[alerts] max_freshness_hours must be a number greater than 0",
        ),
        (
            "[alerts]\nretention_margin_days = 31\n",
            "[alerts] retention_margin_days must be a number from 0 to 30",
        ),
        ("store = ''\n", "store must not be empty"),
        ("store = 5\n", "store must be a string, got 5"),
        ("[api]\nregion = true\n", "[api] region must be a string"),
    ],
)
def test_every_setting_is_validated(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "mwdata.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(f, env={})
    assert message in str(info.value)
    assert str(f) in str(info.value)  # where the value came from


def test_env_values_are_validated_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(env={"MWDATA_REQUESTS_PER_MINUTE": "fast"})
    assert (
        "[api] requests_per_minute must be a number, got 'fast' (set by MWDATA_REQUESTS_PER_MINUTE)"
        in str(info.value)
    )
    with pytest.raises(ConfigError, match="MWDATA_PII"):
        load_config(env={"MWDATA_PII": "nope"})


@pytest.mark.parametrize("text, value", [("true", True), ("'yes'", True), ("'off'", False), ("0", False)])
def test_booleans_are_strict(tmp_path: Path, text: str, value: bool) -> None:
    f = tmp_path / "mwdata.toml"
    f.write_text(f"[report]\nsmtp_host = 'localhost'\nsmtp_starttls = {text}\n")
    assert load_config(f, env={}).report.smtp_tls == ("starttls" if value else "none")


def test_smtp_tls_none_only_for_loopback(tmp_path: Path) -> None:
    f = tmp_path / "mwdata.toml"
    f.write_text("[report]\nsmtp_host = 'smtp.example.com'\nsmtp_tls = 'none'\n")
    with pytest.raises(ConfigError, match="allowed only for a loopback SMTP server"):
        load_config(f, env={})
    # the deprecated bool maps false -> "none", which fails the same way
    f.write_text("[report]\nsmtp_host = 'smtp.example.com'\nsmtp_starttls = false\n")
    with pytest.raises(ConfigError, match="allowed only for a loopback"):
        load_config(f, env={})
    f.write_text("[report]\nsmtp_host = '127.0.0.1'\nsmtp_tls = 'none'\n")
    assert load_config(f, env={}).report.smtp_tls == "none"
    assert load_config(tmp_path / "mwdata.toml", env={}).report.smtp_port == 25
    assert ReportConfig().smtp_tls == "starttls"  # TLS unless explicitly disabled


def test_new_api_fields_and_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    api = load_config(env={"MWDATA_ORG": "acme"}).api
    assert (api.org, api.request_deadline_seconds, api.max_body_mb, api.give_up_seconds) == (
        "acme",
        120,
        64,
        300,
    )


def test_pii_hash_needs_a_secret_salt(tmp_path: Path) -> None:
    f = tmp_path / "mwdata.toml"
    f.write_text("[transform]\npii = 'hash'\n")
    with pytest.raises(ConfigError, match="MWDATA_PII_SALT"):
        load_config(f, env={})
    with pytest.raises(ConfigError, match="at least 16 characters"):
        load_config(f, env={"MWDATA_PII_SALT": "short"})
    salt = "0123456789abcdef-salt"
    cfg = load_config(f, env={"MWDATA_PII_SALT": salt})
    assert cfg.transform.pii_salt == Secret(salt) and salt not in repr(cfg)
    f.write_text("[transform]\npii = 'hash'\npii_salt = 'x'\n")
    with pytest.raises(ConfigError, match="must not be written"):
        load_config(f, env={})


def test_the_template_is_valid(tmp_path: Path) -> None:
    f = tmp_path / "mwdata.toml"
    f.write_text(init_template())
    assert dataclasses.replace(load_config(f, env={}), source=None) == Config()  # the defaults, spelt out


def test_with_overrides_is_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(env={})
    with pytest.raises(ConfigError, match=r"\[sync\] workers must be an integer from 1 to 32"):
        with_overrides(cfg, sync={"workers": 0})
