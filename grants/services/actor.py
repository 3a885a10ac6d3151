"""Who is acting: a logged-in user or the system (a flow, the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field

from grants.domain.roles import Perm, Role, can
from grants.domain.workflow import SYSTEM
from grants.services.errors import Forbidden

# how the audit trail names the system's own steps: "system:screening", "system:decisions", ...
SYSTEM_LABEL = "system:"


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str                          # e-mail, or "system:<what>"
    role: str                           # a Role value, or SYSTEM
    org_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(None, f"{SYSTEM_LABEL}{what}", SYSTEM)

    @classmethod
    def of(cls, user) -> Actor:
        return cls(user.id, user.email, user.role, frozenset(m.organisation_id for m in user.memberships))

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM

    def can(self, perm: Perm) -> bool:
        return self.is_system or can(self.role, perm)

    def require(self, perm: Perm) -> None:
        if not self.can(perm):
            raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")

    def member_of(self, organisation_id: int) -> bool:
        return organisation_id in self.org_ids

    @property
    def is_applicant(self) -> bool:
        return self.role == Role.APPLICANT
