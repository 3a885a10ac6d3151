"""The flows by the names that services use when they ask for background work."""

from __future__ import annotations

from typing import Any

from prefect import Flow

from grants.flows.committee import decide_session, decision_letter, decision_letters, prepare_session
from grants.flows.messages import deliver_message, noop
from grants.flows.proof import reclaim_letter, reminder_letter, reminders, retention
from grants.flows.receipts import send_receipt
from grants.flows.reconciliation import reconcile_statement
from grants.flows.screening import screen
from grants.services.committee.sessions import DECIDE_FLOW
from grants.services.messenger import DELIVER_FLOW
from grants.services.receipts import RECEIPT_FLOW
from grants.services.screening import SCREENING_FLOW
from grants.services.statements import RECONCILE_FLOW

FLOWS: dict[str, Flow[..., Any]] = {
    DELIVER_FLOW: deliver_message,
    RECONCILE_FLOW: reconcile_statement,
    RECEIPT_FLOW: send_receipt,
    SCREENING_FLOW: screen,
    "noop": noop,
    DECIDE_FLOW: decide_session,
    "prepare_session": prepare_session,
    "decision_letter": decision_letter,
    "decision_letters": decision_letters,
    "reclaim_letter": reclaim_letter,
    "reminder_letter": reminder_letter,
    "reminders": reminders,
    "retention": retention,
}
