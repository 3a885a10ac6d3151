"""Everything about one case, as the CLI's `cases show` reports it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.models import Application, Decision, Letter, Organisation, Payout, ScreeningVerdict
from grants.services import cases
from grants.services.errors import NotFound


def report(db: Session, file_number: str) -> dict:
    row = db.execute(select(Application, Organisation.name)
                     .join(Organisation, Organisation.id == Application.organisation_id)
                     .where(Application.file_number == file_number.strip().upper())).first()
    if row is None:
        raise NotFound("Kein Antrag mit dem Aktenzeichen %(fn)s.", fn=file_number)
    case, org = row
    decision = db.scalar(select(Decision).where(Decision.application_id == case.id)
                         .order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(1))
    verdicts = db.scalars(select(ScreeningVerdict).where(ScreeningVerdict.application_id == case.id)
                          .order_by(ScreeningVerdict.id)).all()
    # only the newest screening run counts
    if verdicts:
        last_run = verdicts[-1].run_key
        verdicts = [v for v in verdicts if v.run_key == last_run]
    letters = db.scalars(select(Letter).where(Letter.application_id == case.id)
                         .order_by(Letter.kind, Letter.version)).all()
    payouts = db.scalars(select(Payout).where(Payout.application_id == case.id).order_by(Payout.id)).all()
    return {
        "file_number": case.file_number,
        "organisation": org,
        "title": case.title,
        "requested": case.requested,
        "granted": case.granted,
        "state": case.state,
        "history": [{"at": e.at.isoformat(), "from": e.from_state, "to": e.to_state, "by": e.actor,
                     "action": e.action, "reason": e.reason} for e in cases.history(db, case.id)],
        "verdicts": [{"rule": v.rule, "result": v.overridden_result or v.result,
                      "reason": v.override_reason or v.reason} for v in verdicts],
        "decision": None if decision is None else {
            "kind": decision.kind, "amount": decision.amount, "reasons": decision.reasons,
            "decided_at": decision.decided_at.isoformat(),
            "votes": {"yes": decision.votes_yes, "no": decision.votes_no, "abstain": decision.votes_abstain}},
        "letters": [{"kind": lt.kind, "version": lt.version, "pdf": lt.pdf_path, "docx": lt.docx_path,
                     "sha256": lt.pdf_sha256, "state": lt.state} for lt in letters],
        "payouts": [{"end_to_end_id": p.end_to_end_id, "amount": p.amount, "state": p.state,
                     "iban": p.iban, "instalment": p.instalment} for p in payouts],
        "report_due": case.report_due_on.isoformat() if case.report_due_on else None,
    }
