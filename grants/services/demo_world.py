"""The demo's cast and set-up: who works with the system (one user of every role, three
organisations that apply), the program with its fund and committee, and the `World` the demo's
story keeps its people, cases and sittings in."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from grants import clock
from grants.config import Config
from grants.db import Database
from grants.models import Committee, Fund, Program, User
from grants.services import accounts, organisations
from grants.services.actor import Actor
from grants.services.committee import members
from grants.services.demo_statements import Account

PROGRAM_CODE = "DQD"
FUND_IBAN = "DE89370400440532013000"

# key, e-mail, role, name; the applicants' accounts come with their organisation's registration
USERS = [
    ("admin", "admin@osnabrueck.example", "admin", "Alex Admin"),
    ("staff", "fachdienst@osnabrueck.example", "staff", "Sabine Sommer (Fachdienst Integration)"),
    ("chair", "vorsitz@osnabrueck.example", "chair", "Dr. Meral Yıldız (Integrationsbeauftragte)"),
    ("jugend", "ks.jugend@osnabrueck.example", "committee", "Thomas Brandt (Jugendamt)"),
    ("soziales", "ks.soziales@osnabrueck.example", "committee", "Anna Kowalski (Fachbereich Soziales)"),
    ("bildung", "ks.bildung@osnabrueck.example", "committee", "Jens Hartmann (Bildungsbüro)"),
    ("sport", "ks.sport@osnabrueck.example", "committee", "Leyla Demir (Sportbüro)"),
    ("finance", "finanzen@osnabrueck.example", "finance", "Petra Lange (Finanzen)"),
    ("finance2", "finanzen2@osnabrueck.example", "finance", "Markus Vogel (Finanzen)"),
    ("schinkel", "vorstand@nachbarschaft-schinkel.example", "applicant", "Karin Meyer"),
    ("marien", "pfarrbuero@st-marien-os.example", "applicant", "Pfarrer Johannes Albers"),
    ("kultur", "info@kulturbruecke-os.example", "applicant", "Samir Haddad"),
]

# key, function, voting, department
MEMBERS = [("chair", "chair", True, "Integrationsbeauftragte"), ("jugend", "deputy", True, "Jugendamt"),
           ("soziales", "minute_taker", True, "Fachbereich Soziales"), ("bildung", "member", True, "Bildungsbüro"),
           ("sport", "member", True, "Sportbüro"), ("staff", "member", False, "Fachdienst Integration (beratend)")]


@dataclass(frozen=True)
class Org:
    key: str                 # its first user's key in USERS
    name: str
    kind: str
    profile: dict
    proof: tuple | None      # (kind, issued days before registration, tax office, tax number)
    signatories: list[tuple[str, str]]


ORGS = [
    Org("schinkel", "Nachbarschaftshilfe Schinkel e.V.", "association",
        {"street": "Bremer Straße 12", "postcode": "49084", "city": "Osnabrück",
         "email": "vorstand@nachbarschaft-schinkel.example", "register_court": "Amtsgericht Osnabrück",
         "register_number": "VR 201234", "iban": "DE02120300000000202051",
         "account_holder": "Nachbarschaftshilfe Schinkel e.V."},
        ("exemption_notice", 140, "Finanzamt Osnabrück-Stadt", "66/270/12345"),
        [("Karin Meyer", "1. Vorsitzende"), ("Ahmad Nouri", "Kassenwart")]),
    Org("marien", "Ev.-luth. Kirchengemeinde St. Marien", "parish",
        {"street": "Markt 11", "postcode": "49074", "city": "Osnabrück", "email": "pfarrbuero@st-marien-os.example",
         "iban": "DE75512108001245126199", "account_holder": "Ev.-luth. Kirchengemeinde St. Marien Osnabrück",
         "seal_confirmed": True},
        None,
        [("Pfarrer Johannes Albers", "Vorsitzender des Kirchenvorstands"),
         ("Maria Schulte", "Mitglied des Kirchenvorstands")]),
    Org("kultur", "Kulturbrücke Osnabrück gGmbH", "other",
        {"street": "Lotter Straße 43", "postcode": "49078", "city": "Osnabrück", "email": "info@kulturbruecke-os.example",
         "register_court": "Amtsgericht Osnabrück", "register_number": "HRB 212345",
         "iban": "DE12500105170648489890", "account_holder": "Kulturbrücke Osnabrück gGmbH"},
        ("exemption_notice", 640, "Finanzamt Osnabrück-Land", "65/200/54321"),
        [("Samir Haddad", "Geschäftsführer")]),
]


@dataclass
class World:
    """What the story needs at hand: the database, a way to let the queued flows run, and the ids
    of everybody and everything it made so far."""

    db: Database
    config: Config
    settle: Callable[[], None]          # runs every queued job to its end
    today: date                         # the present the story ends in
    users: dict[str, int] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    sittings: dict[str, int] = field(default_factory=dict)
    payout_files: list[Path] = field(default_factory=list)
    program_id: int = 0
    fund_id: int = 0
    committee_id: int = 0
    bank: Account = field(default_factory=lambda: Account(FUND_IBAN, "COBADEFFXXX", "Stadt Osnabrück"))

    def actor(self, s: Session, key: str) -> Actor:
        return Actor.of(s.get(User, self.users[key]))

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return clock.at(day, time(hour, minute))

    def ago(self, days: int, hour: int, minute: int = 0) -> datetime:
        return self.at(self.today - timedelta(days=days), hour, minute)


def staff_program_committee(w: World) -> None:
    """The city's side: its users, the fund, the committee and the program (rows an admin would
    set up; there is no service for them), and the committee's members."""
    system = Actor.system("demo")
    with w.db.session() as s:
        for key, email, role, name in USERS:
            if role != "applicant":
                w.passwords[key] = secrets.token_urlsafe(9)
                w.users[key] = accounts.create_user(s, system, email, role, w.passwords[key], name=name).id
        fund = Fund(name="Spendenfonds „Osnabrück hilft“", iban=FUND_IBAN, bic="COBADEFFXXX",
                    account_holder="Stadt Osnabrück")
        committee = Committee(name="Koordinierungsstab Integration", default_place="Rathaus Osnabrück, Raum 201",
                              quorum_minimum=3, interval_days=14, cutoff_days=5)
        s.add_all([fund, committee])
        s.flush()
        # letters wait for a staff member's review before they go out
        program = Program(code=PROGRAM_CODE, name="Dein Quartier und du", form_name="dein_quartier_und_du",
                          fund_id=fund.id, committee_id=committee.id, rules={"hold_letters": True})
        s.add(program)
        s.flush()
        w.fund_id, w.committee_id, w.program_id = fund.id, committee.id, program.id
    with w.db.session() as s:
        admin = w.actor(s, "admin")
        for key, function, voting, department in MEMBERS:
            w.members[key] = members.set_member(s, admin, w.committee_id, w.users[key], function=function,
                                                voting=voting, department=department).id


def register(w: World, org: Org) -> None:
    """An organisation registers online, confirms its address, and fills in its profile."""
    key, email, _, name = next(u for u in USERS if u[0] == org.key)
    w.passwords[key] = secrets.token_urlsafe(9)
    with w.db.session() as s:
        user = organisations.register(s, w.config.secret_key, w.config.base_url, org_name=org.name, kind=org.kind,
                                      email=email, name=name, password=w.passwords[key])
        assert user is not None, f"the demo's {org.name} exists already"
        w.users[key], w.orgs[key] = user.id, user.memberships[0].organisation_id
        token = accounts.confirmation_token(w.config.secret_key, user)
    w.settle()
    with clock.travel(clock.now() + timedelta(minutes=25)):
        with w.db.session() as s:
            accounts.confirm_email(s, w.config.secret_key, token)
        with w.db.session() as s:
            me, org_id, today = w.actor(s, key), w.orgs[key], clock.today()
            profile = dict(org.profile)
            if org.kind == "parish":
                profile["parish_resolution_on"] = today - timedelta(days=21)
            organisations.update_profile(s, me, org_id, profile)
            if org.proof:
                kind, days, office, number = org.proof
                organisations.add_proof(s, me, org_id, kind=kind, issued_on=today - timedelta(days=days),
                                        tax_office=office, tax_number=number)
            organisations.set_signatories(s, me, org_id, org.signatories)


def created(w: World) -> list[tuple[str, str, str]]:
    """(e-mail, role, password) of every demo user, in the order of USERS."""
    return [(email, role, w.passwords[key]) for key, email, role, _ in USERS]
