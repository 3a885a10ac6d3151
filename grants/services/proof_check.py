"""The staff's content check of a submitted proof of use: accept it (case closed), send it back
with what is missing, or find money to reclaim (see grants.services.reclaims)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from grants import clock
from grants.domain.roles import Perm
from grants.domain.workflow import State
from grants.models import Application, Comment
from grants.services import cases, grant_money, messenger, proofs
from grants.services.actor import Actor
from grants.services.errors import Conflict, Invalid


def _submitted(db: Session, actor: Actor, case_id: int):
    actor.require(Perm.CHECK_PROOF)
    case = cases.get_case(db, actor, case_id, for_update=True)
    p = proofs.proof_of(db, case)
    if case.state != State.REPORT_SUBMITTED.value or p is None:
        raise Conflict("Für diesen Antrag liegt kein eingereichter Verwendungsnachweis vor.")
    return case, p


def accept(db: Session, actor: Actor, case_id: int, note: str = "", today: date | None = None) -> Application:
    """The proof is in order and nothing is to be paid back: the case is closed."""
    case, p = _submitted(db, actor, case_id)
    check = proofs.check_of(db, case, p)
    s = grant_money.settlement(db, case, check.unspent)
    if s.reclaim > 0:
        raise Conflict("Nach der Rechnung sind %(amount)s € zurückzufordern. Bitte leiten Sie die Rückforderung ein.",
                       amount=f"{s.reclaim:.2f}".replace(".", ","))
    grant_money.wind_up(db, actor, case, s, today or clock.today())
    p.state, p.checked_by_id, p.checked_at = "accepted", actor.user_id, clock.now()
    p.check_note, p.unspent = note.strip(), check.unspent
    cases.transition(db, case, "close", actor, reason=note.strip(),
                     data={"unspent": f"{check.unspent:.2f}", "released": f"{s.release:.2f}"})
    case.closed_at = clock.now()
    _tell(db, case, f"Verwendungsnachweis geprüft – {case.file_number}",
          f"Ihr Verwendungsnachweis zum Projekt „{case.title}“ ({case.file_number}) ist geprüft und in Ordnung. "
          "Die Zuwendung ist damit abgeschlossen. Bitte bewahren Sie die Originalbelege fünf Jahre auf. "
          "Vielen Dank für Ihr Engagement!")
    return case


def return_to_applicant(db: Session, actor: Actor, case_id: int, reason: str) -> Application:
    """Something is missing or unclear: back to the organisation with the reason (visible to them)."""
    if not reason.strip():
        raise Invalid("Bitte schreiben Sie, was fehlt oder unklar ist.")
    case, p = _submitted(db, actor, case_id)
    p.state = "returned"
    db.add(Comment(application_id=case.id, author_id=actor.user_id, body=reason.strip()[:10000],
                   visible_to_applicant=True))
    cases.transition(db, case, "return_report", actor, reason=reason.strip()[:500])
    _tell(db, case, f"Rückfrage zum Verwendungsnachweis – {case.file_number}",
          f"zu Ihrem Verwendungsnachweis für das Projekt „{case.title}“ ({case.file_number}) haben wir eine "
          f"Rückfrage:\n\n{reason.strip()}\n\nBitte ergänzen Sie den Nachweis im Antragsportal und reichen Sie ihn "
          "erneut ein.")
    return case


def _tell(db: Session, case: Application, subject: str, text: str) -> None:
    for email in messenger.organisation_recipients(db, case.organisation_id):
        messenger.send(db, key=f"proof:{case.id}:{case.version}:{subject}:{email}", to=email, template="proof",
                       application_id=case.id, subject=subject,
                       body=f"Guten Tag,\n\n{text}\n\nStadt Osnabrück – Fachdienst Integration")
