"""E-mail delivery end to end against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import dataclasses
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

from mwdata.config import ReportConfig, Secret
from mwdata.errors import ConfigError
from mwdata.read.snapshot import Store
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


# ---- TLS and partial delivery (issue 16 item 7) ----


class Picky(Inbox):
    """Refuses recipients whose local part starts with "nobody"."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (openssl), its own CA."""
    import subprocess

    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True,
    )  # fmt: skip
    return crt, key


def _serve(handler: Any, **kw: Any) -> tuple[Controller, int]:
    port = _port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port, **kw)
    ctl.start()
    return ctl, port


def _server_tls(cert: tuple[Path, Path]) -> Any:
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return ctx


def test_partial_delivery_names_each_recipient_and_has_its_own_code(report: Any) -> None:
    inbox = Picky()
    ctl, port = _serve(inbox)
    try:
        cfg = dataclasses.replace(
            _cfg(port), smtp_user=None, mail_to=("ops@example.test", "nobody@example.test")
        )
        with pytest.raises(mail.PartialDeliveryError) as info:
            mail.send(cfg, mail.build_message(cfg, "weekly", report.html, []))
        text = str(info.value)
        assert info.value.exit_code == 14 != mail.EmailError.exit_code
        assert "reached 1 of 2 recipients" in text and "accepted ops@example.test" in text
        assert "refused nobody@example.test (550 5.1.1 no such user)" in text and "Do not re-run" in text
        assert [m[1] for m in inbox.messages] == [["ops@example.test"]]  # the accepted one got it
        everyone_refused = dataclasses.replace(cfg, mail_to=("nobody@example.test", "nobody2@example.test"))
        with pytest.raises(mail.EmailError, match="refused every recipient") as info2:
            mail.send(everyone_refused, mail.build_message(everyone_refused, "weekly", report.html, []))
        assert info2.value.exit_code == 12
    finally:
        ctl.stop()


def test_starttls_is_required_by_default(smtp: tuple[Inbox, int], report: Any) -> None:
    inbox, port = smtp  # a server without STARTTLS
    cfg = dataclasses.replace(_cfg(port), smtp_tls="starttls")
    with pytest.raises(mail.EmailError, match="does not offer STARTTLS"):
        mail.send(cfg, mail.build_message(cfg, "weekly", report.html, []))
    assert not inbox.messages


def test_starttls_verifies_the_certificate(cert: tuple[Path, Path], report: Any) -> None:
    inbox = Inbox()
    ctl, port = _serve(
        inbox,
        authenticator=_auth,
        tls_context=_server_tls(cert),
        require_starttls=True,
        auth_require_tls=True,
    )
    try:
        cfg = dataclasses.replace(_cfg(port), smtp_tls="starttls")
        with pytest.raises(mail.EmailError, match="could not be verified.*smtp_ca_file"):
            mail.send(cfg, mail.build_message(cfg, "weekly", report.html, []))
        assert not inbox.messages
        trusted = dataclasses.replace(cfg, smtp_ca_file=str(cert[0]))
        assert mail.send(trusted, mail.build_message(trusted, "weekly", report.html, [])) == list(cfg.mail_to)
        assert len(inbox.messages) == 1
        missing = dataclasses.replace(cfg, smtp_ca_file=str(cert[0].with_name("nope.pem")))
        with pytest.raises(ConfigError, match="smtp_ca_file"):
            mail.send(missing, mail.build_message(missing, "weekly", report.html, []))
    finally:
        ctl.stop()


def test_implicit_tls_ssl(cert: tuple[Path, Path], report: Any) -> None:
    inbox = Inbox()
    ctl, port = _serve(inbox, authenticator=_auth, ssl_context=_server_tls(cert), auth_require_tls=False)
    try:
        cfg = dataclasses.replace(_cfg(port), smtp_tls="ssl", smtp_ca_file=str(cert[0]))
        mail.send(cfg, mail.build_message(cfg, "weekly", report.html, []))
        assert len(inbox.messages) == 1
    finally:
        ctl.stop()
