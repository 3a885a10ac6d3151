"""Proof-of-use deadlines: cases whose project is over are asked for their report; reminders go
out before the deadline and when it has passed — each reminder once, ever (unique key)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grants import clock
from grants.documents import render
from grants.domain.deadlines import reminders_due
from grants.domain.workflow import State
from grants.models import Application, Organisation, Reminder
from grants.services import audit, cases, jobs, messenger
from grants.services.actor import Actor

LETTER_FLOW = "reminder_letter"
OVERDUE_LETTER = "overdue-1"


def tick(db: Session, today: date) -> list[str]:
    system = Actor.system("reminders")
    sent = []
    # paid grants whose project is over: the proof of use is now due
    for case in db.scalars(select(Application).where(Application.state == State.PAID.value,
                                                     Application.project_end.is_not(None),
                                                     Application.project_end < today)):
        cases.transition(db, case, "request_report", system)
    for case in db.scalars(select(Application).where(
            Application.state.in_((State.PAID.value, State.REPORT_DUE.value)), Application.report_due_on.is_not(None))):
        due_on = case.report_due_on
        if due_on is None:                 # not selected by the query
            continue
        for key in reminders_due(due_on, today):
            full_key = f"report:{case.id}:{key}"
            if db.scalar(select(Reminder.id).where(Reminder.key == full_key)) is not None:
                continue
            try:
                with db.begin_nested():
                    db.add(Reminder(application_id=case.id, key=full_key, due_on=due_on))
            except IntegrityError:     # another scheduler sent it a moment ago
                continue
            _mail(db, case, due_on, key, full_key)
            if key == OVERDUE_LETTER:      # the first overdue reminder is also a formal letter in the portal
                jobs.enqueue(db, LETTER_FLOW, f"{LETTER_FLOW}:{case.id}", case_id=case.id)
            audit.record(db, system, "reminder_sent", application_id=case.id, data={"key": key})
            sent.append(full_key)
    return sent


def _mail(db: Session, case: Application, due_on: date, key: str, full_key: str) -> None:

    due = due_on.strftime("%d.%m.%Y")
    overdue = key.startswith("overdue")
    subject = (f"Verwendungsnachweis überfällig – {case.file_number}" if overdue
               else f"Erinnerung: Verwendungsnachweis bis {due} – {case.file_number}")
    body = (f"Guten Tag,\n\nder Verwendungsnachweis für Ihr Projekt „{case.title}“ ({case.file_number}) "
            + (f"war am {due} fällig. Bitte reichen Sie ihn umgehend im Antragsportal ein; ohne Nachweis müssen wir "
               "die Zuwendung zurückfordern." if overdue else f"ist bis zum {due} fällig.")
            + "\n\nEr besteht aus einem kurzen Sachbericht, den tatsächlichen Ausgaben, einer Belegliste und der Zahl "
              "der Teilnehmenden.\n\nStadt Osnabrück – Fachdienst Integration")
    for email in messenger.organisation_recipients(db, case.organisation_id):
        messenger.send(db, key=f"{full_key}:{email}", to=email, template="reminder", application_id=case.id,
                       subject=subject, body=body)


def letter_data(db: Session, case_id: int) -> dict | None:
    """The overdue reminder letter's contents (letter_templates/reminder.html)."""

    case = db.get(Application, case_id)
    if case is None or case.report_due_on is None:
        return None
    org = db.get_one(Organisation, case.organisation_id)
    return {"recipient": [x for x in (org.name, org.street, f"{org.postcode} {org.city}".strip()) if x],
            "today": render.german_date(clock.today()), "file_number": case.file_number, "title": case.title,
            "amount": render.euro(case.granted or 0), "report_due": render.german_date(case.report_due_on),
            "overdue": True}
