"""Send a rendered report over SMTP (settings: `[report]` of mwdata.toml, password from the environment).

TLS is required unless `smtp_tls = "none"`, which the config allows only for a loopback server.
Exit codes: 12 when nobody received the report (safe to re-run), 14 when some recipients did
(re-running would send them a duplicate)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from mwdata.config import ReportConfig
from mwdata.errors import ConfigError, MwdataError

log = logging.getLogger("mwdata.report")


class EmailError(MwdataError):
    """The SMTP server refused or could not be reached: nobody received the report."""

    exit_code = 12


class PartialDeliveryError(EmailError):
    """Some recipients received the report and some were refused: re-running would send duplicates."""

    exit_code = 14


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


def _connect(cfg: ReportConfig, timeout: float) -> smtplib.SMTP:
    """An SMTP session secured as `smtp_tls` says; the server's certificate is always verified (against
    `smtp_ca_file` when set, else the system's CAs)."""
    assert cfg.smtp_host
    context = None
    if cfg.smtp_tls != "none":
        try:
            context = ssl.create_default_context(cafile=cfg.smtp_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"[report] smtp_ca_file {cfg.smtp_ca_file} cannot be read as a PEM CA bundle: "
                f"{getattr(exc, 'strerror', None) or exc}"
            ) from None
    if cfg.smtp_tls == "ssl":
        return smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, timeout=timeout, context=context)
    smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=timeout)
    if cfg.smtp_tls == "starttls":
        smtp.ehlo()
        if not smtp.has_extn("starttls"):
            smtp.close()
            raise EmailError(
                f"SMTP server {cfg.smtp_host}:{cfg.smtp_port} does not offer STARTTLS, and [report] smtp_tls "
                '= "starttls" requires it: use the submission port that does (587), smtp_tls = "ssl" for '
                'port 465, or, for a relay on this machine only, smtp_tls = "none"'
            )
        smtp.starttls(context=context)
        smtp.ehlo()
    return smtp


def send(cfg: ReportConfig, msg: EmailMessage, timeout: float = 30.0) -> list[str]:
    """Deliver `msg` to `cfg.mail_to`; the accepted addresses. Errors name the server, never the
    password (invariant 5 in docs/architecture.md); a partial delivery names who got it and who did not."""
    if not cfg.smtp_host:
        raise ConfigError("e-mailing a report needs [report] smtp_host (and smtp_port) in mwdata.toml")
    where = f"{cfg.smtp_host}:{cfg.smtp_port}"
    recipients = [parseaddr(a)[1] for a in cfg.mail_to]
    try:
        with _connect(cfg, timeout) as smtp:
            if cfg.smtp_user:
                if cfg.smtp_password is None:
                    raise ConfigError(
                        "[report] smtp_user is set but no password: set MWDATA_SMTP_PASSWORD "
                        "or smtp_password_file"
                    )
                smtp.login(cfg.smtp_user, cfg.smtp_password.reveal())
            refused = smtp.send_message(msg, to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as exc:
        raise EmailError(
            f"SMTP server {where} refused the login of {cfg.smtp_user!r} (code {exc.smtp_code}); "
            "check smtp_user and MWDATA_SMTP_PASSWORD"
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise EmailError(
            f"SMTP server {where} refused every recipient ({_refusals(exc.recipients)}); nobody received "
            "the report: fix [report] mail_to"
        ) from None
    except smtplib.SMTPException as exc:
        raise EmailError(f"SMTP delivery through {where} failed: {type(exc).__name__}") from None
    except ssl.SSLCertVerificationError as exc:
        raise EmailError(
            f"the TLS certificate of SMTP server {where} could not be verified ({exc.verify_message}); "
            "if it is signed by a private CA, set [report] smtp_ca_file to that CA's PEM file"
        ) from None
    except ssl.SSLError as exc:
        raise EmailError(f"TLS with SMTP server {where} failed: {exc.reason or exc}") from None
    except OSError as exc:
        raise EmailError(f"cannot reach SMTP server {where}: {exc.strerror or exc}") from None
    accepted = [r for r in recipients if r not in refused]
    if refused:
        raise PartialDeliveryError(
            f"the report reached {len(accepted)} of {len(recipients)} recipients through {where}: accepted "
            f"{', '.join(accepted)}; refused {_refusals(refused)}. Do not re-run the e-mail: {len(accepted)} "
            "recipient(s) already received it; fix the refused address(es) and send to them alone"
        )
    log.info("report e-mailed to %d recipient(s) through %s", len(accepted), where)
    return accepted


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(
        f"{addr} ({code} {reply.decode(errors='replace').strip()})"
        for addr, (code, reply) in sorted(refused.items())
    )
