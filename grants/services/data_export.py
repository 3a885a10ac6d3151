"""Everything held about an organisation, as a ZIP (Art. 15 DSGVO)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.models import (
    Application,
    Attachment,
    Comment,
    Decision,
    Letter,
    Membership,
    Message,
    NonProfitProof,
    Organisation,
    Payout,
    User,
)
from grants.services import audit, cases
from grants.services.actor import Actor
from grants.services.errors import Forbidden, NotFound
from grants.services.rows import get_or_404


def _j(o):
    if isinstance(o, Decimal):
        return f"{o:.2f}"
    if isinstance(o, (date, datetime)):
        return o.isoformat()
    return str(o)


def _row(obj, *skip) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


# mails that carry a key to an account (a confirmation, invitation or reset link): they belong to
# their one recipient, and a copy in an export would let any colleague use the key
SECRET_TEMPLATES = frozenset({"confirm_email", "invite", "password_reset"})
# any link that still looks like one with a key in it is cut out all the same
_KEY_LINK = re.compile(r"https?://\S*/(?:bestaetigen|einladung|passwort)/\S+")


def _message(m: Message) -> dict:
    return {"to": m.recipient, "subject": m.subject, "body": _KEY_LINK.sub("[Link entfernt]", m.body),
            "kind": m.template, "state": m.state, "created_at": m.created_at, "sent_at": m.sent_at}


def _case(case: Application) -> dict:
    row = _row(case)
    # the applicant's own answers, without the city's internal notes kept beside them
    row["answers"] = {k: v for k, v in (case.answers or {}).items() if k != "_recommendation"}
    return row


def build(db: Session, actor: Actor, org_id: int, home: Path) -> bytes:
    """Everything held about the organisation, for its managers (Art. 15 DSGVO): never a secret
    (password hashes, links with keys), never the city's internal notes."""
    if not actor.member_of(org_id):
        raise NotFound("Diese Organisation gibt es nicht.")
    membership = db.scalar(select(Membership).where(Membership.user_id == actor.user_id,
                                                    Membership.organisation_id == org_id))
    if membership is None or not membership.manager:
        raise Forbidden("Das dürfen nur die Verantwortlichen Ihrer Organisation.")
    org = get_or_404(db, Organisation, org_id, "Diese Organisation gibt es nicht.")
    users = db.execute(select(User).join(Membership, Membership.user_id == User.id)
                       .where(Membership.organisation_id == org_id)).scalars().all()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        def put(name, data):
            zf.writestr(name, json.dumps(data, default=_j, ensure_ascii=False, indent=2))

        put("organisation.json", {**_row(org), "signatories": [_row(s) for s in org.signatories],
                                  "non_profit_proofs": [_row(p) for p in db.scalars(
                                      select(NonProfitProof).where(NonProfitProof.organisation_id == org_id))]})
        put("personen.json", [_row(u, "password_hash", "session_epoch") for u in users])
        put("nachrichten.json", [_message(m) for m in db.scalars(select(Message).where(
            Message.recipient.in_([u.email for u in users]), Message.template.notin_(SECRET_TEMPLATES))
            .order_by(Message.id))])
        for case in db.scalars(select(Application).where(Application.organisation_id == org_id).order_by(Application.id)):
            folder = f"antraege/{case.file_number or f'entwurf-{case.id}'}"
            put(f"{folder}/antrag.json", {
                **_case(case), "cost_items": [_row(c) for c in case.cost_items],
                "other_funding": [_row(o) for o in case.other_funding],
                "history": [{"at": h.at, "state": h.to_state, "reason": h.reason}
                            for h in cases.applicant_history(db, case.id)],
                "messages": [_row(c) for c in db.scalars(select(Comment).where(
                    Comment.application_id == case.id, Comment.visible_to_applicant.is_(True)))],
                "decisions": [_row(d) for d in db.scalars(select(Decision).where(Decision.application_id == case.id))],
                "payouts": [_row(p) for p in db.scalars(select(Payout).where(Payout.application_id == case.id))],
            })
            for letter in db.scalars(select(Letter).where(Letter.application_id == case.id,
                                                          Letter.state.in_(("released", "dispatched")))):
                for rel in (letter.pdf_path, letter.docx_path):
                    p = home / rel
                    if p.is_file():
                        zf.write(p, f"{folder}/bescheide/{p.name}")
        for att in db.scalars(select(Attachment).where(Attachment.organisation_id == org_id)):
            p = home / "uploads" / att.storage_key
            if p.is_file():
                zf.write(p, f"dateien/{att.id}-{att.filename}")
    audit.record(db, actor, "data_exported", obj=org)
    return buf.getvalue()
