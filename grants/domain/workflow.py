"""The case's state machine as data (docs/architecture.md, "The case's state machine").

Every change of a case's state is one of the transitions below; the service
`grants.services.cases.transition` is the only code that applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from grants.domain.roles import Role


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SCREENING = "screening"
    NEEDS_INFO = "needs_info"
    READY_FOR_COMMITTEE = "ready_for_committee"
    ON_AGENDA = "on_agenda"
    APPROVED = "approved"
    PARTLY_APPROVED = "partly_approved"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    LETTER_SENT = "letter_sent"
    PAID = "paid"
    REPORT_DUE = "report_due"
    REPORT_SUBMITTED = "report_submitted"
    CLOSED = "closed"
    RECLAIM = "reclaim"
    WITHDRAWN = "withdrawn"
    INELIGIBLE = "ineligible"


# The actor of automatic steps (Prefect flows, the CLI acting for the system).
SYSTEM = "system"

S = State
A, ST, CO, CH, FI = Role.APPLICANT, Role.STAFF, Role.COMMITTEE, Role.CHAIR, Role.FINANCE

# States in which the applicant may still withdraw: nothing has been decided yet.
WITHDRAWABLE = frozenset({S.DRAFT, S.SUBMITTED, S.SCREENING, S.NEEDS_INFO,
                          S.READY_FOR_COMMITTEE, S.ON_AGENDA, S.DEFERRED})
DECIDED = frozenset({S.APPROVED, S.PARTLY_APPROVED, S.REJECTED})
GRANTED = frozenset({S.APPROVED, S.PARTLY_APPROVED})
FINAL = frozenset({S.CLOSED, S.WITHDRAWN, S.INELIGIBLE})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[State]
    target: State
    actors: frozenset[str]           # role names, and/or SYSTEM
    needs_reason: bool = False
    # whether the reason written with it is for the applicant (shown in their history and export);
    # otherwise it is the city's internal note (a recommendation, a check remark)
    reason_for_applicant: bool = False


def _t(action, sources, target, actors, needs_reason=False, *, public=False) -> Transition:
    if isinstance(sources, State):
        sources = {sources}
    return Transition(action, frozenset(sources), target, frozenset(str(a) for a in actors), needs_reason, public)


TRANSITIONS: tuple[Transition, ...] = (
    _t("submit", S.DRAFT, S.SUBMITTED, {A}),
    _t("start_screening", S.SUBMITTED, S.SCREENING, {SYSTEM, ST}),
    _t("request_info", S.SCREENING, S.NEEDS_INFO, {SYSTEM, ST}, needs_reason=True, public=True),
    _t("resubmit", S.NEEDS_INFO, S.SCREENING, {A}),
    _t("mark_ready", S.SCREENING, S.READY_FOR_COMMITTEE, {SYSTEM, ST}),
    _t("declare_ineligible", S.SCREENING, S.INELIGIBLE, {ST}, needs_reason=True, public=True),
    _t("put_on_agenda", {S.READY_FOR_COMMITTEE, S.DEFERRED}, S.ON_AGENDA, {SYSTEM, ST, CH}),
    _t("take_off_agenda", S.ON_AGENDA, S.READY_FOR_COMMITTEE, {ST, CH}, needs_reason=True),
    _t("approve", S.ON_AGENDA, S.APPROVED, {SYSTEM, CH}),
    _t("approve_partly", S.ON_AGENDA, S.PARTLY_APPROVED, {SYSTEM, CH}, needs_reason=True, public=True),
    _t("reject", S.ON_AGENDA, S.REJECTED, {SYSTEM, CH}, needs_reason=True, public=True),
    _t("defer", S.ON_AGENDA, S.DEFERRED, {SYSTEM, CH}, needs_reason=True, public=True),
    _t("send_letter", DECIDED, S.LETTER_SENT, {SYSTEM, ST}),
    _t("pay", S.LETTER_SENT, S.PAID, {SYSTEM, FI}),
    _t("payout_returned", S.PAID, S.LETTER_SENT, {SYSTEM, FI}, needs_reason=True, public=True),
    _t("request_report", S.PAID, S.REPORT_DUE, {SYSTEM, ST}),
    _t("submit_report", S.REPORT_DUE, S.REPORT_SUBMITTED, {A}),
    _t("return_report", S.REPORT_SUBMITTED, S.REPORT_DUE, {ST}, needs_reason=True, public=True),
    _t("close", S.REPORT_SUBMITTED, S.CLOSED, {ST}),
    _t("start_reclaim", {S.REPORT_SUBMITTED, S.REPORT_DUE}, S.RECLAIM, {ST}, needs_reason=True, public=True),
    _t("settle_reclaim", S.RECLAIM, S.CLOSED, {SYSTEM, FI}),
    _t("withdraw", WITHDRAWABLE, S.WITHDRAWN, {A, ST}, public=True),
)

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}


def reason_for_applicant(action: str) -> bool:
    """May the applicant read the reason written with this step? Unknown steps: no."""
    t = BY_ACTION.get(action)
    return t is not None and t.reason_for_applicant


@dataclass(frozen=True)
class Verdict:
    """Whether a transition may be taken; `reason` says why not (English, for logs and tests)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def check_transition(action: str, state: State | str, actor: str, reason: str | None = None) -> Verdict:
    """May `actor` (a role name or SYSTEM) take `action` from `state`?"""
    t = BY_ACTION.get(action)
    if t is None:
        return Verdict(False, f"unknown action {action!r}")
    if State(state) not in t.sources:
        return Verdict(False, f"{action} is not possible in state {State(state).value}")
    if str(actor) not in t.actors:
        return Verdict(False, f"{actor} may not {action}")
    if t.needs_reason and not (reason or "").strip():
        return Verdict(False, f"{action} needs a reason")
    return Verdict(True)


def actions_from(state: State | str, actor: str) -> list[Transition]:
    """The transitions `actor` may take from `state` (for buttons in the UI)."""
    return [t for t in TRANSITIONS if State(state) in t.sources and str(actor) in t.actors]
