"""Roles and what each may do: the one place that says who may do what."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    APPLICANT = "applicant"
    STAFF = "staff"
    COMMITTEE = "committee"
    CHAIR = "chair"
    FINANCE = "finance"
    ADMIN = "admin"


class Perm(StrEnum):
    # applicant front door
    APPLY = "apply"                      # create, edit, submit, withdraw own organisation's cases
    VIEW_OWN_ORG = "view_own_org"
    # staff front door (Fachdienst Integration)
    SCREEN = "screen"                    # screen applications, message applicants
    VIEW_ALL_CASES = "view_all_cases"
    MANAGE_LETTERS = "manage_letters"
    CHECK_PROOF = "check_proof"          # content check of the proof of use
    # committee front door
    COMMITTEE_VIEW = "committee_view"
    VOTE = "vote"
    CHAIR_SESSION = "chair_session"
    # finance front door
    FINANCE_VIEW = "finance_view"
    FINANCE_PREPARE = "finance_prepare"
    FINANCE_RELEASE = "finance_release"
    # admin front door
    ADMIN_USERS = "admin_users"
    ADMIN_SYSTEM = "admin_system"


PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.APPLICANT: frozenset({Perm.APPLY, Perm.VIEW_OWN_ORG}),
    Role.STAFF: frozenset({Perm.SCREEN, Perm.VIEW_ALL_CASES, Perm.MANAGE_LETTERS, Perm.CHECK_PROOF}),
    Role.COMMITTEE: frozenset({Perm.COMMITTEE_VIEW, Perm.VOTE}),
    Role.CHAIR: frozenset({Perm.COMMITTEE_VIEW, Perm.VOTE, Perm.CHAIR_SESSION}),
    Role.FINANCE: frozenset({Perm.FINANCE_VIEW, Perm.FINANCE_PREPARE, Perm.FINANCE_RELEASE}),
    Role.ADMIN: frozenset({Perm.ADMIN_USERS, Perm.ADMIN_SYSTEM}),
}

# Each role's own front door: the blueprint its users land on after login.
FRONT_DOOR: dict[Role, str] = {
    Role.APPLICANT: "applicant.home",
    Role.STAFF: "staff.home",
    Role.COMMITTEE: "committee.home",
    Role.CHAIR: "committee.home",
    Role.FINANCE: "finance.home",
    Role.ADMIN: "admin.home",
}


def can(role: Role | str, perm: Perm) -> bool:
    try:
        return perm in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def parse_role(value: str) -> Role:
    """Role from user input; ValueError with the allowed names otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {value!r} (allowed: {allowed})") from None
