"""Organisations: registration with a first user, the profile by type, the bank account,
non-profit proofs, parish signatories, invitations of further users."""

from __future__ import annotations

from datetime import date

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain import names
from grants.domain.eligibility import proof_valid_on
from grants.domain.roles import Perm
from grants.models import Membership, NonProfitProof, Organisation, OrgKind, ProofKind, Signatory, User
from grants.services import accounts, audit, messenger
from grants.services.actor import Actor
from grants.services.errors import Conflict, Forbidden, Invalid, NotFound
from grants.services.passwords import check_password, hash_password
from grants.services.rows import get_or_404

INVITE_MAX_AGE = 14 * 86400


HOLDER_MAX = 70


def normalise_iban(value: str) -> tuple[str, str | None]:
    """(IBAN in compact form, BIC if known) or Invalid with a German message."""
    try:
        iban = IBAN(value)
    except SchwiftyException:
        raise Invalid("Diese IBAN ist nicht gültig. Bitte prüfen Sie sie (z. B. DE89 3704 0044 0532 0130 00).") from None
    try:
        bic = str(iban.bic) if iban.bic else None
    except SchwiftyException:
        bic = None
    return iban.compact, bic


def register(db: Session, secret: str, base_url: str, *, org_name: str, kind: str, email: str, name: str,
             password: str, locale: str = "de") -> User | None:
    """A new organisation and its first user, who must confirm the e-mail address. None when
    nothing was created (the address has an account, the name is taken): the mailbox is told."""
    org_name = " ".join(org_name.split())
    if not org_name:
        raise Invalid("Bitte geben Sie den Namen Ihrer Organisation an.")
    _check_name(org_name)
    _check_name(name)
    try:
        kind_ = OrgKind(kind)
    except ValueError:
        raise Invalid("Bitte wählen Sie die Art Ihrer Organisation.") from None
    email = accounts.normalise_email(email)
    check_password(password)
    system = Actor.system("registration")
    # The page answers the same whatever exists: whether an address has an account or a name is
    # taken is told only to the mailbox, which the person registering must own (no enumeration).
    existing = db.scalar(select(User).where(User.email == email))
    invited = existing is not None and existing.password_hash is None and existing.role == "applicant"
    if existing is not None and not invited:
        _tell_mailbox(db, email, "account", org_name, base_url)
        return None
    if db.scalar(select(Organisation.id).where(Organisation.name == org_name)) is not None:
        _tell_mailbox(db, email, "name", org_name, base_url)
        return None
    org = Organisation(name=org_name, kind=kind_)
    db.add(org)
    db.flush()
    if existing is not None:
        # invited by another organisation and never joined: the address founds its own instead. The
        # invitation it did not take ends (the portal acts for one organisation per account).
        user = existing
        user.name, user.locale = " ".join(name.split())[:200] or user.name, locale
        user.password_hash = hash_password(password)
        for pending in db.scalars(select(Membership).where(Membership.user_id == user.id)):
            audit.record(db, system, "invitation_superseded", obj=user,
                         data={"organisation_id": pending.organisation_id})
            db.delete(pending)
        db.add(Membership(user_id=user.id, organisation_id=org.id, manager=True))
    else:
        user = accounts.create_user(db, system, email, "applicant", password, name=name.strip(), org_name=org_name,
                                    confirmed=False, locale=locale)
    audit.record(db, system, "organisation_registered", obj=org, data={"kind": kind_.value, "email": user.email})
    token = accounts.confirmation_token(secret, user)
    messenger.send(db, key=f"confirm:{user.id}", to=user.email, template="confirm_email", user_id=user.id,
                   subject="Bitte bestätigen Sie Ihre E-Mail-Adresse – Dein Quartier und du",
                   body=(f"Guten Tag {user.name},\n\nSie haben {org.name} für das Förderprogramm „Dein Quartier und du“ "
                         "registriert. Bitte bestätigen Sie Ihre E-Mail-Adresse mit diesem Link (7 Tage gültig):\n\n"
                         f"{base_url}/bestaetigen/{token}\n\nStadt Osnabrück – Fachdienst Integration"))
    return user


def _tell_mailbox(db: Session, email: str, why: str, org_name: str, base_url: str) -> None:
    """A registration that creates nothing: the mailbox learns why, the page does not."""
    reason = ("für diese E-Mail-Adresse gibt es schon ein Konto im Antragsportal. Bitte melden Sie sich an; "
              f"wenn Sie Ihr Passwort nicht mehr wissen: {base_url}/passwort/vergessen" if why == "account" else
              f"eine Organisation mit dem Namen „{org_name}“ ist schon registriert. Wenn Sie dazugehören, bitten Sie "
              "die Verantwortlichen dort um eine Einladung; sonst registrieren Sie sich bitte mit dem vollständigen "
              "Namen Ihrer Organisation laut Register.")
    messenger.send(db, key=f"register-refused:{email}:{why}:{clock.now().isoformat()}", to=email,
                   template="registration_refused",
                   subject="Ihre Registrierung im Antragsportal – Dein Quartier und du",
                   body=(f"Guten Tag,\n\nSie (oder jemand mit Ihrer Adresse) wollten eine Organisation registrieren. "
                         f"Wir haben nichts angelegt: {reason}\n\nWaren Sie das nicht, können Sie diese Nachricht "
                         "ignorieren.\n\nStadt Osnabrück – Fachdienst Integration"))


def _check_name(name: str) -> None:
    why = names.problem(name)
    if why:
        raise Invalid(why)


def _org_for(db: Session, actor: Actor, org_id: int, *, manage: bool = False) -> Organisation:
    if not actor.member_of(org_id):
        raise NotFound("Diese Organisation gibt es nicht.")
    if manage:
        m = db.scalar(select(Membership).where(Membership.user_id == actor.user_id,
                                               Membership.organisation_id == org_id))
        if m is None or not m.manager:
            raise Forbidden("Das dürfen nur die Verantwortlichen Ihrer Organisation.")
    return get_or_404(db, Organisation, org_id, "Diese Organisation gibt es nicht.")


PROFILE_FIELDS = ("street", "postcode", "city", "email", "phone", "register_court", "register_number")


def update_profile(db: Session, actor: Actor, org_id: int, data: dict) -> Organisation:
    org = _org_for(db, actor, org_id)
    changes = {}
    for k in PROFILE_FIELDS:
        if k in data:
            v = (data[k] or "").strip() or None
            if k in ("street", "postcode", "city", "email", "phone"):
                v = v or ""
            if getattr(org, k) != v:
                changes[k] = v
                setattr(org, k, v)
    if org.kind == OrgKind.PARISH:
        if "parish_resolution_on" in data:
            d = data["parish_resolution_on"]
            if d and d > clock.today():
                raise Invalid("Das Datum des Beschlusses liegt in der Zukunft.")
            org.parish_resolution_on = d
        if "seal_confirmed" in data:
            org.seal_confirmed = bool(data["seal_confirmed"])
    if "iban" in data:
        raw = (data.get("iban") or "").strip()
        holder = " ".join((data.get("account_holder") or "").split())
        if raw:
            iban, bic = normalise_iban(raw)
            if not holder:
                raise Invalid("Bitte geben Sie den Kontoinhaber genau so an, wie er bei der Bank geführt wird.")
            if len(holder) > HOLDER_MAX:
                # a SEPA transfer carries 70 characters of the payee's name; a cut name fails the bank's check
                raise Invalid("Der Kontoinhaber darf höchstens 70 Zeichen lang sein – so viel überträgt eine "
                              "SEPA-Überweisung. Bitte verwenden Sie die Kurzform, die Ihre Bank führt.")
            if (org.iban, org.account_holder) != (iban, holder):
                _change_bank(db, actor, org, iban, bic, holder)
                changes["bank"] = _masked(iban)
    audit.record(db, actor, "organisation_updated", obj=org, data={"changed": sorted(changes)})
    return org


def _masked(iban: str | None) -> str:
    return f"{iban[:4]} … {iban[-4:]}" if iban else "–"


def _change_bank(db: Session, actor: Actor, org: Organisation, iban: str, bic: str | None, holder: str) -> None:
    """Only the organisation's managers change where its money goes. A change (not the first entry)
    is audited, told to every manager, and waits for finance before anything is paid to it."""
    _org_for(db, actor, org.id, manage=True)
    before, before_holder = org.iban, org.account_holder
    org.iban, org.bic, org.account_holder = iban, bic, holder
    if not before:
        return
    org.bank_changed_at = clock.now()
    audit.record(db, actor, "bank_details_changed", obj=org,
                 data={"from": _masked(before), "to": _masked(iban), "holder_from": before_holder or "",
                       "holder_to": holder})
    managers = db.scalars(select(User.email).join(Membership, Membership.user_id == User.id)
                          .where(Membership.organisation_id == org.id, Membership.manager.is_(True),
                                 User.active.is_(True)))
    for email in managers:
        messenger.send(db, key=f"bank-changed:{org.id}:{org.bank_changed_at.isoformat()}:{email}", to=email,
                       template="bank_changed",
                       subject="Die Bankverbindung Ihrer Organisation wurde geändert – Dein Quartier und du",
                       body=(f"Guten Tag,\n\n{actor.label} hat die Bankverbindung von {org.name} im Antragsportal "
                             f"geändert: von {_masked(before)} ({before_holder or '–'}) auf {_masked(iban)} ({holder}).\n\n"
                             "Auszahlungen gehen erst auf das neue Konto, wenn die Finanzverwaltung der Stadt die "
                             "Änderung bestätigt hat. Waren Sie oder Ihr Vorstand das nicht, melden Sie sich bitte "
                             "sofort beim Fachdienst Integration.\n\nStadt Osnabrück – Fachdienst Integration"))


def confirm_bank(db: Session, actor: Actor, org_id: int) -> Organisation:
    """Finance has checked the new account with the organisation (not through the portal)."""
    actor.require(Perm.FINANCE_PREPARE)
    org = get_or_404(db, Organisation, org_id, "Diese Organisation gibt es nicht.")
    if org.bank_changed_at is None:
        raise Conflict("Diese Bankverbindung ist schon bestätigt.")
    org.bank_changed_at = None
    audit.record(db, actor, "bank_details_confirmed", obj=org, data={"iban": _masked(org.iban)})
    return org


def add_proof(db: Session, actor: Actor, org_id: int, *, kind: str, issued_on: date, tax_office: str,
              tax_number: str, attachment_id: int | None = None, today: date | None = None) -> NonProfitProof:
    org = _org_for(db, actor, org_id)
    if org.kind == OrgKind.PARISH:
        raise Invalid("Kirchengemeinden brauchen keinen Freistellungsbescheid.")
    try:
        kind_ = ProofKind(kind)
    except ValueError:
        raise Invalid("Bitte wählen Sie die Art des Nachweises.") from None
    today = today or clock.today()
    if issued_on > today:
        raise Invalid("Das Datum des Bescheids liegt in der Zukunft.")
    if not proof_valid_on(kind_.value, issued_on, today):
        if kind_ == ProofKind.NOTICE_60A:
            raise Invalid("Ein Bescheid nach § 60a AO gilt nur 3 Jahre. Dieser ist zu alt.")
        raise Invalid("Der Freistellungsbescheid darf höchstens 5 Jahre alt sein. Dieser ist zu alt.")
    if not tax_office.strip() or not tax_number.strip():
        raise Invalid("Bitte geben Sie Finanzamt und Steuernummer an.")
    proof = NonProfitProof(organisation_id=org.id, kind=kind_, issued_on=issued_on, tax_office=tax_office.strip()[:100],
                           tax_number=tax_number.strip()[:30], attachment_id=attachment_id)
    db.add(proof)
    db.flush()
    audit.record(db, actor, "proof_added", obj=proof, data={"kind": kind_.value, "issued_on": issued_on.isoformat()})
    return proof


def set_signatories(db: Session, actor: Actor, org_id: int, people: list[tuple[str, str]]) -> list[Signatory]:
    org = _org_for(db, actor, org_id, manage=True)
    people = [(" ".join(n.split()), " ".join(f.split())) for n, f in people if n.strip()]
    for n, f in people:
        _check_name(n)
        _check_name(f)
    if org.kind == OrgKind.PARISH and len(people) < 2:
        raise Invalid("Eine Kirchengemeinde braucht zwei Unterschriftsberechtigte: den Vorsitz oder die "
                      "Stellvertretung des Kirchenvorstands und ein weiteres Mitglied.")
    for s in list(org.signatories):
        db.delete(s)
    db.flush()
    org.signatories = [Signatory(organisation_id=org.id, name=n[:200], function=f[:100] or "–", position=i)
                       for i, (n, f) in enumerate(people, 1)]
    audit.record(db, actor, "signatories_set", obj=org, data={"count": len(people)})
    return org.signatories


def invite(db: Session, actor: Actor, org_id: int, email: str, secret: str, base_url: str) -> User:
    org = _org_for(db, actor, org_id, manage=True)
    email = accounts.normalise_email(email)
    existing = db.scalar(select(User).where(User.email == email))
    if existing is not None:
        # the manager sees the same as for a new address: whether it has an account (staff, another
        # organisation) is the mailbox's business, which is told what to do
        messenger.send(db, key=f"invite-existing:{org.id}:{existing.id}", to=email, template="invite_existing",
                       subject=f"Einladung: {org.name} – Dein Quartier und du",
                       body=(f"Guten Tag,\n\n{actor.label} möchte Sie zu {org.name} im Antragsportal einladen. Für "
                             "Ihre Adresse gibt es schon ein Konto; eine Einladung kann es nicht mit einer weiteren "
                             "Organisation verbinden. Wenn Sie für {org.name} Anträge stellen möchten, bitten Sie "
                             "den Fachdienst Integration, Ihr Konto zuzuordnen, oder lassen Sie eine andere Adresse "
                             "einladen.\n\nStadt Osnabrück – Fachdienst Integration").replace("{org.name}", org.name))
        audit.record(db, actor, "user_invited", obj=org, data={"organisation": org.name, "existing": True})
        return existing
    user = User(email=email, name=email.split("@")[0], role="applicant", password_hash=None)
    db.add(user)
    db.flush()
    db.add(Membership(user_id=user.id, organisation_id=org.id, manager=False))
    token = URLSafeTimedSerializer(secret, salt="invite").dumps({"u": user.id, "e": email})
    messenger.send(db, key=f"invite:{user.id}", to=email, template="invite", user_id=user.id,
                   subject=f"Einladung: {org.name} – Dein Quartier und du",
                   body=(f"Guten Tag,\n\n{actor.label} lädt Sie ein, für {org.name} Anträge im Förderprogramm "
                         "„Dein Quartier und du“ zu stellen. Über diesen Link legen Sie Ihr Passwort fest "
                         f"(14 Tage gültig):\n\n{base_url}/einladung/{token}\n\nStadt Osnabrück – Fachdienst Integration"))
    audit.record(db, actor, "user_invited", obj=user, data={"organisation": org.name})
    return user


def accept_invite(db: Session, secret: str, token: str, name: str, password: str) -> User:
    try:
        data = URLSafeTimedSerializer(secret, salt="invite").loads(token, max_age=INVITE_MAX_AGE)
    except SignatureExpired:
        raise Invalid("Die Einladung ist abgelaufen. Bitte lassen Sie sich neu einladen.") from None
    except BadSignature:
        raise Invalid("Der Einladungslink ist ungültig.") from None
    user = db.get(User, data.get("u"))
    if user is None or user.email != data.get("e") or user.password_hash is not None:
        raise Invalid("Diese Einladung wurde schon angenommen. Bitte melden Sie sich an.")
    _check_name(name)
    check_password(password)
    user.password_hash = hash_password(password)
    user.name = " ".join(name.split())[:200] or user.name
    user.email_confirmed_at = clock.now()
    audit.record(db, Actor.of(user), "invitation_accepted", obj=user)
    return user
