"""What happens when a background job fails: it is tried again later, and when it has failed for
good, the admins are told by mail and see it, with the error in words, on their page, where they
can start it again."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain.roles import Perm
from grants.models import FlowJob, User
from grants.services import audit, messenger
from grants.services.actor import Actor
from grants.services.errors import Conflict, NotFound
from grants.services.jobs import MAX_ATTEMPTS, backoff

# the mail that would tell of a failed mail would fail too, and tell again
NOT_MAILED = frozenset({messenger.DELIVER_FLOW})


def after_failure(db: Session, job: FlowJob, error: str) -> None:
    """Record a failed attempt of `job` (loaded in `db`): queued again after its backoff, or failed."""
    now = clock.now()
    job.error = error[:4000]
    job.worker = None
    job.prefect_flow_run_id = None          # a retry is a new run, not the failed one
    if job.attempts < MAX_ATTEMPTS:
        job.state, job.not_before = "queued", now + backoff(job.attempts)
        return
    job.state, job.finished_at, job.not_before = "failed", now, None
    if job.flow not in NOT_MAILED:
        _tell_admins(db, job)


def _tell_admins(db: Session, job: FlowJob) -> None:
    for email in db.scalars(select(User.email).where(User.role == "admin", User.active.is_(True))):
        messenger.send(db, key=f"job-failed:{job.id}:{job.attempts}:{email}", to=email, template="job_failed",
                       subject=f"Hintergrundauftrag fehlgeschlagen: {job.flow} (Nr. {job.id})",
                       body=(f"Guten Tag,\n\nder Hintergrundauftrag „{job.flow}“ (Nr. {job.id}) ist nach "
                             f"{job.attempts} Versuchen endgültig fehlgeschlagen.\n\n{explain(job.error)}\n\n"
                             f"Technische Meldung: {job.error}\n\nUnter „Administration“ sehen Sie alle "
                             "fehlgeschlagenen Aufträge und können sie erneut starten, sobald die Ursache behoben ist."))


def retry(db: Session, actor: Actor, job_id: int) -> FlowJob:
    """An admin starts a failed job again, with a full set of attempts."""
    actor.require(Perm.ADMIN_SYSTEM)
    job = db.get(FlowJob, job_id)
    if job is None:
        raise NotFound("Diesen Auftrag gibt es nicht.")
    if job.state != "failed":
        raise Conflict("Dieser Auftrag ist nicht fehlgeschlagen.")
    old_error = job.error
    job.state, job.attempts, job.error, job.not_before = "queued", 0, "", None
    job.prefect_flow_run_id = job.worker = None
    audit.record(db, actor, "job_retried", obj=job, data={"flow": job.flow, "error": old_error[:500]})
    return job


def N_(words: str) -> str:
    """Marks words for the message catalogue (scripts/i18n.sh); pages translate them when shown."""
    return words


# (what the technical message contains, what it means), first match wins
_WORDS = (
    (("SMTP", "ConnectionRefusedError", "smtplib"), N_("Der Mailserver war nicht erreichbar oder hat die Mail abgelehnt.")),
    (("No space left", "Errno 28"), N_("Der Speicherplatz ist voll.")),
    (("PermissionError", "Errno 13", "Read-only file system"), N_("Auf den Speicher durfte nicht geschrieben werden.")),
    (("FileNotFoundError", "OSError", "IOError"), N_("Der Speicher für Dateien war nicht erreichbar.")),
    (("OperationalError", "database is locked", "could not connect"), N_("Die Datenbank war nicht erreichbar.")),
    (("TimeoutError", "timed out"), N_("Eine Antwort kam nicht rechtzeitig.")),
    (("lost", "worker"), N_("Der Prozess, der den Auftrag ausführte, ist unterwegs beendet worden.")),
)


def explain(error: str) -> str:
    for needles, words in _WORDS:
        if any(n in error for n in needles):
            return words
    return N_("Ein unerwarteter Fehler im Programm; die technische Meldung hilft dem Betrieb bei der Suche.")
