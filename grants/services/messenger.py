"""The one messenger: every message is recorded first, then delivered by a flow with retries
(SMTP when GRANTS_SMTP_URL is set, else an .eml file in $GRANTS_HOME/outbox)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain import text
from grants.models import Membership, Message, User
from grants.services import jobs

DELIVER_FLOW = "deliver_message"


def send(db: Session, *, key: str, to: str, subject: str, body: str, template: str = "",
         application_id: int | None = None, user_id: int | None = None,
         attachments: list[dict] | None = None) -> Message:
    """Record a message and ask for its delivery. The same key is sent only once."""
    existing = db.scalar(select(Message).where(Message.key == key))
    if existing is not None:
        return existing
    msg = Message(key=key, recipient=to, subject=subject, body=body, template=template,
                  application_id=application_id, user_id=user_id, attachments=attachments or None)
    db.add(msg)
    db.flush()
    jobs.enqueue(db, DELIVER_FLOW, f"{DELIVER_FLOW}:{msg.id}", message_id=msg.id)
    return msg


def organisation_recipients(db: Session, organisation_id: int) -> list[str]:
    """Everyone who speaks for an organisation: its active members with a confirmed address."""

    return list(db.scalars(select(User.email).join(Membership, Membership.user_id == User.id)
                           .where(Membership.organisation_id == organisation_id, User.active.is_(True),
                                  User.email_confirmed_at.is_not(None)).order_by(User.id)))


def build_email(msg: Message, mail_from: str, home: Path | None = None) -> EmailMessage:
    em = EmailMessage()
    em["From"] = mail_from
    em["To"] = msg.recipient
    em["Subject"] = " ".join(text.printable(msg.subject).split())    # one line: no header from a title
    em["Date"] = formatdate(localtime=True)
    em["Message-ID"] = make_msgid(idstring=f"m{msg.id}", domain="grants.local")
    em["Auto-Submitted"] = "auto-generated"
    em.set_content(text.printable(msg.body))
    for a in msg.attachments or []:
        path = (home or Path(".")) / a["path"]
        maintype, subtype = a.get("mime", "application/octet-stream").split("/", 1)
        em.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=a["filename"])
    return em


def deliver(db: Session, message_id: int, *, smtp_url: str | None, outbox: Path, mail_from: str) -> Message | None:
    """Deliver one recorded message; a message already sent is not sent again. None: there is no such message."""
    msg = db.get(Message, message_id)
    if msg is None or msg.state == "sent":
        return msg
    msg.attempts += 1
    em = build_email(msg, mail_from, outbox.parent)
    try:
        if smtp_url:
            _send_smtp(smtp_url, em)
        else:
            outbox.mkdir(parents=True, exist_ok=True)
            path = outbox / f"{msg.id:08d}-{msg.template or 'message'}.eml"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(bytes(em))
            tmp.replace(path)
            msg.eml_path = str(path)
    except (OSError, smtplib.SMTPException) as e:
        msg.state = "failed"
        msg.error = f"{type(e).__name__}: {e}"
        raise
    msg.state = "sent"
    msg.error = ""
    msg.sent_at = clock.now()
    return msg


def _send_smtp(url: str, em: EmailMessage) -> None:
    u = urlparse(url)
    if u.scheme not in ("smtp", "smtps"):
        raise ValueError(f"GRANTS_SMTP_URL must start with smtp:// or smtps://, not {u.scheme}://")
    host = u.hostname or "localhost"
    conn: smtplib.SMTP
    if u.scheme == "smtps":
        conn = smtplib.SMTP_SSL(host, u.port or 465, timeout=30, context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(host, u.port or 25, timeout=30)
    with conn:
        if u.scheme == "smtp" and conn.has_extn("starttls"):
            conn.starttls(context=ssl.create_default_context())
        if u.username:
            conn.login(unquote(u.username), unquote(u.password or ""))
        conn.send_message(em)
