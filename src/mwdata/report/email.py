"""Send a rendered report over SMTP (settings: `[report]` of mwdata.toml, password from the environment)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from mwdata.config import ReportConfig
from mwdata.errors import ConfigError, MwdataError

log = logging.getLogger("mwdata.report")


class EmailError(MwdataError):
    """The SMTP server refused or could not be reached."""

    exit_code = 12


def build_message(cfg: ReportConfig, subject: str, html_path: Path, attachments: list[Path]) -> EmailMessage:
    if not cfg.mail_from or not cfg.mail_to:
        raise ConfigError("e-mailing a report needs [report] mail_from and mail_to in mwdata.toml")
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = cfg.mail_from
    msg["To"] = ", ".join(cfg.mail_to)
    msg.set_content("This report is HTML; open the attached report.html if your mail client shows no HTML.")
    msg.add_alternative(html_path.read_text(encoding="utf-8"), subtype="html")
    msg.add_attachment(html_path.read_bytes(), maintype="text", subtype="html", filename=html_path.name)
    for path in attachments:
        msg.add_attachment(path.read_bytes(), maintype="text", subtype="csv", filename=path.name)
    return msg


def send(cfg: ReportConfig, msg: EmailMessage, timeout: float = 30.0) -> None:
    """Deliver `msg` to `cfg.mail_to`. Errors name the server, never the password (invariant 5)."""
    if not cfg.smtp_host:
        raise ConfigError("e-mailing a report needs [report] smtp_host (and smtp_port) in mwdata.toml")
    where = f"{cfg.smtp_host}:{cfg.smtp_port}"
    try:
        with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=timeout) as smtp:
            if cfg.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if cfg.smtp_user:
                if cfg.smtp_password is None:
                    raise ConfigError(
                        "[report] smtp_user is set but no password: set MWDATA_SMTP_PASSWORD "
                        "or smtp_password_file"
                    )
                smtp.login(cfg.smtp_user, cfg.smtp_password.reveal())
            refused = smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise EmailError(
            f"SMTP server {where} refused the login of {cfg.smtp_user!r} (code {exc.smtp_code}); "
            "check smtp_user and MWDATA_SMTP_PASSWORD"
        ) from None
    except smtplib.SMTPException as exc:
        raise EmailError(f"SMTP delivery through {where} failed: {type(exc).__name__}") from None
    except OSError as exc:
        raise EmailError(f"cannot reach SMTP server {where}: {exc.strerror or exc}") from None
    if refused:
        raise EmailError(f"SMTP server {where} refused recipient(s): {', '.join(sorted(refused))}")
    log.info("report e-mailed to %d recipient(s) through %s", len(cfg.mail_to), where)
