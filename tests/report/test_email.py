"""E-mail delivery end to end against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import logging
import socket
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mwdata.app.db import Store
from mwdata.config import ReportConfig, Secret
from mwdata.errors import ConfigError
from mwdata.report import email as mail
from mwdata.report.render import render_report

PASSWORD = "s3cret-Pa55-word"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(envelope.content))
        )
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"reporter" and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _port()
    ctl = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_auth,
        auth_require_tls=False,
        auth_required=False,
    )
    ctl.start()
    try:
        yield inbox, port
    finally:
        ctl.stop()


@pytest.fixture
def report(mart_store: Path, tmp_path: Path) -> Any:
    store = Store(mart_store, snapshot_dir=tmp_path / "snap")
    rep = render_report(store, "analytics", tmp_path / "out", days=7)
    store.close()
    return rep


def _cfg(port: int, password: str = PASSWORD) -> ReportConfig:
    return ReportConfig(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        smtp_user="reporter",
        smtp_password=Secret(password),
        mail_from="mwdata@example.test",
        mail_to=("ops@example.test", "cio@example.test"),
    )


def test_report_arrives_with_html_and_attachments(
    smtp: tuple[Inbox, int], report: Any, caplog: pytest.LogCaptureFixture
) -> None:
    inbox, port = smtp
    caplog.set_level(logging.DEBUG)
    cfg = _cfg(port)
    mail.send(cfg, mail.build_message(cfg, "weekly", report.html, report.csvs))
    assert len(inbox.messages) == 1
    sender, rcpts, msg = inbox.messages[0]
    assert sender == "mwdata@example.test" and sorted(rcpts) == ["cio@example.test", "ops@example.test"]
    html_parts = [p for p in msg.walk() if p.get_content_type() == "text/html" and not p.get_filename()]
    assert html_parts and "Active users" in html_parts[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    files = {p.get_filename(): p.get_payload(decode=True) for p in msg.walk() if p.get_filename()}
    assert set(files) == {"report.html"} | {c.name for c in report.csvs}
    assert files["top_plugins.csv"] == (report.html.parent / "top_plugins.csv").read_bytes()
    assert PASSWORD not in caplog.text


def test_wrong_password_is_a_clear_error_without_the_password(smtp: tuple[Inbox, int], report: Any) -> None:
    inbox, port = smtp
    cfg = _cfg(port, password="wrong-" + PASSWORD)
    with pytest.raises(mail.EmailError) as info:
        mail.send(cfg, mail.build_message(cfg, "weekly", report.html, report.csvs))
    assert "refused the login" in str(info.value) and PASSWORD not in str(info.value)
    assert not inbox.messages


def test_unreachable_server_and_missing_settings(report: Any) -> None:
    cfg = _cfg(_port())
    with pytest.raises(mail.EmailError, match="cannot reach SMTP server"):
        mail.send(cfg, mail.build_message(cfg, "weekly", report.html, report.csvs), timeout=5)
    with pytest.raises(ConfigError, match="mail_from"):
        mail.build_message(ReportConfig(), "x", report.html, [])


def test_cli_report_email_end_to_end(smtp: tuple[Inbox, int], mart_store: Path, tmp_path: Path) -> None:
    """`mwdata report --email` as a user runs it: config file + password in the environment."""
    import subprocess
    import sys

    inbox, port = smtp
    (tmp_path / "mwdata.toml").write_text(
        f'store = "{mart_store}"\n[report]\noutput_dir = "{tmp_path / "reports"}"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {port}\nsmtp_tls = "none"\nsmtp_user = "reporter"\nmail_from = "mwdata@example.test"\nmail_to = ["ops@example.test"]\n'
    )
    r = subprocess.run(
        [str(Path(sys.executable).with_name("mwdata")), "-v", "report", "--email", "--days", "14"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MWDATA_SMTP_PASSWORD": PASSWORD, "COLUMNS": "200"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    assert len(inbox.messages) == 1 and "ops@example.test" in inbox.messages[0][1]
    assert list((tmp_path / "reports").rglob("report.html"))
    # a wrong password: exit code of EmailError, no traceback, no password
    bad = subprocess.run(
        [str(Path(sys.executable).with_name("mwdata")), "report", "--email"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MWDATA_SMTP_PASSWORD": "nope" + PASSWORD},
    )  # fmt: skip
    assert bad.returncode == mail.EmailError.exit_code and "Traceback" not in bad.stderr
    assert PASSWORD not in bad.stdout + bad.stderr
