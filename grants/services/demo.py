"""Demo data: a living system for a newcomer — every role, a fund with donations, a committee
with sessions, and cases in every state, each reached through the real transitions."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.config import Config
from grants.db import Database
from grants.domain.sepa import end_to_end_id, remittance_for
from grants.domain.workflow import State
from grants.models import (
    AgendaItem,
    Application,
    Committee,
    CommitteeMember,
    Decision,
    Fund,
    LedgerEntry,
    Membership,
    NonProfitProof,
    Organisation,
    OrgKind,
    Payout,
    Program,
    ProofKind,
    Signatory,
    Sitting,
    User,
)
from grants.services import accounts, applications, cases
from grants.services.actor import Actor

D = Decimal
FUND_IBAN = "DE89370400440532013000"

USERS = [
    # email, role, name, organisation
    ("admin@osnabrueck.example", "admin", "Alex Admin", None),
    ("fachdienst@osnabrueck.example", "staff", "Sabine Sommer (Fachdienst Integration)", None),
    ("vorsitz@osnabrueck.example", "chair", "Dr. Meral Yıldız (Integrationsbeauftragte)", None),
    ("ks.jugend@osnabrueck.example", "committee", "Thomas Brandt (Jugendamt)", None),
    ("ks.soziales@osnabrueck.example", "committee", "Anna Kowalski (Fachbereich Soziales)", None),
    ("ks.bildung@osnabrueck.example", "committee", "Jens Hartmann (Bildungsbüro)", None),
    ("ks.sport@osnabrueck.example", "committee", "Leyla Demir (Sportbüro)", None),
    ("finanzen@osnabrueck.example", "finance", "Petra Lange (Finanzen)", None),
    ("finanzen2@osnabrueck.example", "finance", "Markus Vogel (Finanzen)", None),
    ("vorstand@nachbarschaft-schinkel.example", "applicant", "Karin Meyer", "Nachbarschaftshilfe Schinkel e.V."),
    ("pfarrbuero@st-marien-os.example", "applicant", "Pfarrer Johannes Albers", "Ev.-luth. Kirchengemeinde St. Marien"),
    ("info@kulturbruecke-os.example", "applicant", "Samir Haddad", "Kulturbrücke Osnabrück gGmbH"),
]


def load(db: Database, config: Config) -> list[tuple[str, str, str]]:
    """Load the demo once; returns (email, role, password) of the users created, [] if present."""
    with db.session() as s:
        if s.scalar(select(Program).where(Program.code == "DQD")) is not None:
            return []
        today = clock.today()
        created = _users_and_orgs(s)
        fund, program, committee = _program(s)
        _donations(s, fund, today)
        _cases(s, fund, program, committee, today)
        return created


def _users_and_orgs(s: Session) -> list[tuple[str, str, str]]:
    system = Actor.system("demo")
    orgs = [
        Organisation(name="Nachbarschaftshilfe Schinkel e.V.", kind=OrgKind.ASSOCIATION, street="Bremer Straße 12",
                     postcode="49084", city="Osnabrück", email="vorstand@nachbarschaft-schinkel.example",
                     register_court="Amtsgericht Osnabrück", register_number="VR 201234",
                     iban="DE02120300000000202051", bic="BYLADEM1001",
                     account_holder="Nachbarschaftshilfe Schinkel e.V."),
        Organisation(name="Ev.-luth. Kirchengemeinde St. Marien", kind=OrgKind.PARISH, street="Markt 11",
                     postcode="49074", city="Osnabrück", email="pfarrbuero@st-marien-os.example",
                     parish_resolution_on=clock.today() - timedelta(days=60), seal_confirmed=True,
                     iban="DE75512108001245126199", bic="SOGEDEFFXXX",
                     account_holder="Ev.-luth. Kirchengemeinde St. Marien Osnabrück"),
        Organisation(name="Kulturbrücke Osnabrück gGmbH", kind=OrgKind.OTHER, street="Lotter Straße 43",
                     postcode="49078", city="Osnabrück", email="info@kulturbruecke-os.example",
                     register_court="Amtsgericht Osnabrück", register_number="HRB 212345",
                     iban="DE12500105170648489890", bic="INGDDEFFXXX",
                     account_holder="Kulturbrücke Osnabrück gGmbH"),
    ]
    s.add_all(orgs)
    s.flush()
    s.add_all([
        NonProfitProof(organisation_id=orgs[0].id, kind=ProofKind.EXEMPTION_NOTICE,
                       issued_on=clock.today() - timedelta(days=400), tax_office="Finanzamt Osnabrück-Stadt",
                       tax_number="66/270/12345"),
        NonProfitProof(organisation_id=orgs[2].id, kind=ProofKind.EXEMPTION_NOTICE,
                       issued_on=clock.today() - timedelta(days=900), tax_office="Finanzamt Osnabrück-Land",
                       tax_number="65/200/54321"),
        Signatory(organisation_id=orgs[0].id, name="Karin Meyer", function="1. Vorsitzende", position=1),
        Signatory(organisation_id=orgs[0].id, name="Ahmad Nouri", function="Kassenwart", position=2),
        Signatory(organisation_id=orgs[1].id, name="Pfarrer Johannes Albers", function="Vorsitzender des Kirchenvorstands", position=1),
        Signatory(organisation_id=orgs[1].id, name="Maria Schulte", function="Mitglied des Kirchenvorstands", position=2),
        Signatory(organisation_id=orgs[2].id, name="Samir Haddad", function="Geschäftsführer", position=1),
    ])
    created = []
    for email, role, name, org in USERS:
        password = secrets.token_urlsafe(9)
        accounts.create_user(s, system, email, role, password, name=name, org_name=org)
        created.append((email, role, password))
    return created


def _program(s: Session):
    fund = Fund(name="Spendenfonds „Osnabrück hilft“", iban=FUND_IBAN, bic="COBADEFFXXX",
                account_holder="Stadt Osnabrück")
    committee = Committee(name="Koordinierungsstab Integration", default_place="Rathaus Osnabrück, Raum 201")
    s.add_all([fund, committee])
    s.flush()
    program = Program(code="DQD", name="Dein Quartier und du", form_name="dein_quartier_und_du",
                      fund_id=fund.id, committee_id=committee.id)
    s.add(program)
    functions = {"vorsitz@": ("chair", "Integrationsbeauftragte"), "ks.jugend@": ("deputy", "Jugendamt"),
                 "ks.soziales@": ("minute_taker", "Fachbereich Soziales"), "ks.bildung@": ("member", "Bildungsbüro"),
                 "ks.sport@": ("member", "Sportbüro")}
    for prefix, (function, dept) in functions.items():
        user = s.scalar(select(User).where(User.email.startswith(prefix)))
        s.add(CommitteeMember(committee_id=committee.id, user_id=user.id, function=function, department=dept))
    staff = s.scalar(select(User).where(User.role == "staff"))
    s.add(CommitteeMember(committee_id=committee.id, user_id=staff.id, function="member", voting=False,
                          department="Fachdienst Integration (beratend)"))
    s.flush()
    return fund, program, committee


def _donations(s: Session, fund: Fund, today: date) -> None:
    donors = [("Sparkasse Osnabrück Stiftung", "25000.00", 200), ("Bürgerstiftung Osnabrück", "12000.00", 150),
              ("Anonyme Spende", "500.00", 90), ("Rotary Club Osnabrück", "3000.00", 60),
              ("Spendenlauf Gesamtschule Schinkel", "1834.50", 20)]
    for donor, amount, days in donors:
        s.add(LedgerEntry(fund_id=fund.id, kind="donation", amount=D(amount), booked_on=today - timedelta(days=days),
                          donor=donor, purpose="Spende für den Fonds „Osnabrück hilft“"))


# Projects of the demo: (organisation index, title, quarter, requested, the state to reach)
PROJECTS = [
    (0, "Interkulturelles Nachbarschaftsfest am Schinkelbad", "Schinkel", "2400.00", State.DRAFT),
    (1, "Sprachcafé im Gemeindehaus", "Innenstadt", "1200.00", State.SUBMITTED),
    (2, "Theaterwerkstatt „Unser Viertel“", "Weststadt", "4800.00", State.SCREENING),
    (0, "Gemeinsam gärtnern im Schinkel", "Schinkel", "950.00", State.NEEDS_INFO),
    (1, "Kochen aus aller Welt", "Innenstadt", "1500.00", State.READY_FOR_COMMITTEE),
    (2, "Fotoprojekt „Mein Osnabrück“", "Wüste", "3200.00", State.ON_AGENDA),
    (0, "Fahrradwerkstatt für alle", "Schinkel-Ost", "2800.00", State.ON_AGENDA),
    (1, "Nähcafé Begegnung", "Innenstadt", "800.00", State.APPROVED),
    (2, "Musik verbindet – Bandprojekt", "Hafen", "5000.00", State.PARTLY_APPROVED),
    (0, "Städtereise nach Berlin", "Schinkel", "4900.00", State.REJECTED),
    (1, "Lesepatenschaften", "Innenstadt", "1100.00", State.DEFERRED),
    (2, "Tanz im Quartier", "Dodesheide", "2100.00", State.LETTER_SENT),
    (1, "Spielplatzfest für Groß und Klein", "Hellern", "650.00", State.LETTER_SENT),
    (0, "Fußballturnier der Nachbarschaften", "Schinkel", "1750.00", State.PAID),
    (1, "Erzählcafé „Angekommen in Osnabrück“", "Innenstadt", "900.00", State.REPORT_DUE),
    (2, "Kunst am Bauzaun", "Fledder", "2600.00", State.REPORT_SUBMITTED),
    (0, "Straßenfest Bremer Straße", "Schinkel", "3000.00", State.CLOSED),
    (1, "Ausflug in den Zoo", "Innenstadt", "700.00", State.RECLAIM),
    (2, "Filmabende im Stadtteil", "Eversburg", "1300.00", State.WITHDRAWN),
    (0, "Vereinsheim-Renovierung", "Schinkel", "5000.00", State.INELIGIBLE),
]

# The actions that lead from a submitted case to each state.
PATHS: dict[State, list[str]] = {
    State.SUBMITTED: [],
    State.SCREENING: ["start_screening"],
    State.NEEDS_INFO: ["start_screening", "request_info"],
    State.READY_FOR_COMMITTEE: ["start_screening", "mark_ready"],
    State.ON_AGENDA: ["start_screening", "mark_ready", "put_on_agenda"],
    State.APPROVED: ["start_screening", "mark_ready", "put_on_agenda", "approve"],
    State.PARTLY_APPROVED: ["start_screening", "mark_ready", "put_on_agenda", "approve_partly"],
    State.REJECTED: ["start_screening", "mark_ready", "put_on_agenda", "reject"],
    State.DEFERRED: ["start_screening", "mark_ready", "put_on_agenda", "defer"],
    State.LETTER_SENT: ["start_screening", "mark_ready", "put_on_agenda", "approve", "send_letter"],
    State.PAID: ["start_screening", "mark_ready", "put_on_agenda", "approve", "send_letter", "pay"],
    State.REPORT_DUE: ["start_screening", "mark_ready", "put_on_agenda", "approve", "send_letter", "pay",
                       "request_report"],
    State.REPORT_SUBMITTED: ["start_screening", "mark_ready", "put_on_agenda", "approve", "send_letter", "pay",
                             "request_report", "submit_report"],
    State.CLOSED: ["start_screening", "mark_ready", "put_on_agenda", "approve", "send_letter", "pay",
                   "request_report", "submit_report", "close"],
    State.RECLAIM: ["start_screening", "mark_ready", "put_on_agenda", "approve", "send_letter", "pay",
                    "request_report", "submit_report", "start_reclaim"],
    State.WITHDRAWN: ["withdraw"],
    State.INELIGIBLE: ["start_screening", "declare_ineligible"],
}

REASONS = {
    "request_info": "Bitte reichen Sie den Kosten- und Finanzierungsplan mit Angeboten nach.",
    "approve_partly": "Die Honorarkosten werden nur zur Hälfte gefördert.",
    "reject": "Eine Städtereise dient nicht der Begegnung im Osnabrücker Quartier (Förderzweck).",
    "defer": "Rückfragen zur Kooperation mit der Grundschule; Vertagung auf die nächste Sitzung.",
    "start_reclaim": "Das Projekt hat nicht stattgefunden; der Zuschuss wird zurückgefordert.",
    "declare_ineligible": "Bau- und Renovierungskosten sind nach den Förderrichtlinien nicht förderfähig.",
}


def _actor(s: Session, role: str, org_id: int | None = None) -> Actor:
    if role == "system":
        return Actor.system("demo")
    stmt = select(User).where(User.role == role)
    if org_id is not None:
        stmt = stmt.join(Membership, Membership.user_id == User.id).where(Membership.organisation_id == org_id)
    user = s.scalar(stmt.order_by(User.id).limit(1))
    return Actor(user.id, user.email, user.role, frozenset({org_id}) if org_id else frozenset())


def _cases(s: Session, fund: Fund, program: Program, committee: Committee, today: date) -> None:
    orgs = s.scalars(select(Organisation).order_by(Organisation.id)).all()
    now = clock.now()
    past = Sitting(committee_id=committee.id, number=1, state="closed", place=committee.default_place,
                            starts_at=datetime.combine(today - timedelta(days=10), time(14, 0), timezone.utc),
                            closed_at=now - timedelta(days=10))
    upcoming = Sitting(committee_id=committee.id, number=2, state="planned", place=committee.default_place,
                                starts_at=datetime.combine(today + timedelta(days=4), time(14, 0), timezone.utc),
                                cutoff_at=datetime.combine(today - timedelta(days=1), time(12, 0), timezone.utc))
    s.add_all([past, upcoming])
    s.flush()
    staff, chair, finance = _actor(s, "staff"), _actor(s, "chair"), _actor(s, "finance")
    system = _actor(s, "system")
    positions = {past.id: 0, upcoming.id: 0}
    for n, (org_i, title, quarter, requested, target) in enumerate(PROJECTS):
        org = orgs[org_i]
        applicant = _actor(s, "applicant", org.id)
        # projects that were paid out lie in the past; the others are still to come
        if "pay" in PATHS.get(target, []):
            start = today - timedelta(days=240 - n)
        else:
            start = today + timedelta(days=30 + n)
        req = D(requested)
        own = (req * D("0.10")).quantize(D("0.01"))
        case = applications.create_draft(
            s, applicant, program, org.id, title=title, quarter=quarter,
            description=f"{title}: ein Projekt, bei dem sich alteingesessene Nachbarinnen und Nachbarn und "
                        "Geflüchtete im Stadtteil begegnen und gemeinsam etwas gestalten.",
            aims="Begegnung, gegenseitiges Kennenlernen, Stärkung der Nachbarschaft.",
            target_groups="Familien, Jugendliche und Seniorinnen und Senioren aus dem Stadtteil",
            participants_expected=20 + 5 * n, partners="Stadtteiltreff, Grundschule",
            project_start=start, project_end=start + timedelta(days=60), own_funds=own, requested=req,
            cost_items=[("Honorare", (req * D("0.6")).quantize(D("0.01"))),
                        ("Material und Verpflegung", req + own - (req * D("0.6")).quantize(D("0.01")))])
        if target == State.DRAFT:
            continue
        applications.submit(s, applicant, case)
        for action in PATHS[target]:
            actor = {"request_info": system, "start_screening": system, "mark_ready": staff,
                     "put_on_agenda": system, "send_letter": system, "pay": finance, "request_report": system,
                     "submit_report": applicant, "withdraw": applicant, "declare_ineligible": staff,
                     "close": staff, "start_reclaim": staff}.get(action, chair)
            if action == "put_on_agenda":
                session = upcoming if target == State.ON_AGENDA else past
                positions[session.id] += 1
                s.add(AgendaItem(session_id=session.id, application_id=case.id, position=positions[session.id],
                                 proposed_amount=req, recommendation="Förderfähig; Zuschuss in beantragter Höhe empfohlen."))
            if action in ("approve", "approve_partly", "reject", "defer"):
                _decide(s, case, action, fund, today)
            if action == "pay":
                _pay(s, case, fund, today)
            if action == "request_report":
                case.report_due_on = (case.project_end or today) + timedelta(days=183)
            if action == "submit_report":
                _proof(s, case, spent=D("1.00") if target != State.RECLAIM else D("0.00"))
            if action == "start_reclaim":       # with its interest, ledger claim and letter
                from grants.services import reclaims

                reclaims.start(s, staff, case.id, amount=case.granted, reasons=REASONS[action], today=today)
                continue
            cases.transition(s, case, action, actor, reason=REASONS.get(action, ""))
            if action == "close":
                case.closed_at = now
        if target == State.LETTER_SENT:
            _payout(s, case, fund, state="released")
        if target == State.APPROVED:
            _payout(s, case, fund, state="due")


def _proof(s: Session, case: Application, spent: D) -> None:
    """A submitted proof of use: every plan line spent at `spent` of its amount, one receipt each."""
    from grants.models import ActualCost, ProofOfUse, Receipt

    p = ProofOfUse(application_id=case.id, state="submitted", submitted_at=clock.now(),
                   report="Acht Treffen im Stadtteiltreff: gemeinsames Kochen, Spiele für Kinder, ein Abschlussfest "
                          "mit Nachbarinnen und Nachbarn aus zwölf Ländern." if spent else "",
                   participants_actual=60 if spent else 0, answers={"own_funds_actual": str(case.own_funds),
                                                                    "other_funding_actual": "0.00"})
    s.add(p)
    s.flush()
    for i, item in enumerate(case.cost_items):
        amount = (item.amount * spent).quantize(D("0.01"))
        s.add(ActualCost(proof_id=p.id, cost_item_id=item.id, description=item.description, amount=amount))
        if amount:
            s.add(Receipt(proof_id=p.id, paid_on=(case.project_start or clock.today()) + timedelta(days=7 * (i + 1)),
                          payee="Stadtteiltreff e.V." if i else "Honorarkraft", purpose=item.description, amount=amount))
    p.unspent = case.granted if not spent else D("0.00")


def _decide(s: Session, case: Application, action: str, fund: Fund, today: date) -> None:
    amount = {"approve": case.requested,
              "approve_partly": (case.requested * D("0.7")).quantize(D("1.00")),
              }.get(action)
    item = s.scalar(select(AgendaItem).where(AgendaItem.application_id == case.id))
    s.add(Decision(application_id=case.id, agenda_item_id=item.id if item else None, kind=action, amount=amount,
                   reasons=REASONS.get(action, ""), votes_yes=4 if action != "reject" else 0,
                   votes_no=0 if action != "reject" else 4, votes_abstain=0))
    if item:
        item.outcome = action
    if amount is not None:
        case.granted = amount
        s.add(LedgerEntry(fund_id=fund.id, kind="commitment", amount=amount, booked_on=today - timedelta(days=10),
                          application_id=case.id, purpose=f"Bewilligung {case.file_number}"))


def _payout(s: Session, case: Application, fund: Fund, state: str) -> Payout:
    org = case.organisation
    p = Payout(application_id=case.id, fund_id=fund.id, amount=case.granted, iban=org.iban, bic=org.bic,
               account_holder=org.account_holder, remittance=remittance_for(case.file_number),
               end_to_end_id=f"tmp-{case.id}", state=state, sent_at=None)
    s.add(p)
    s.flush()
    p.end_to_end_id = end_to_end_id(case.file_number, p.id)
    return p


def _pay(s: Session, case: Application, fund: Fund, today: date) -> None:
    p = _payout(s, case, fund, state="booked")
    p.booked_on = today - timedelta(days=150)
    s.add(LedgerEntry(fund_id=fund.id, kind="payout", amount=p.amount, booked_on=p.booked_on,
                      application_id=case.id, payout_id=p.id, purpose=p.remittance))
