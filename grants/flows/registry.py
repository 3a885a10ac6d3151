"""The flows by the names that services use when they ask for background work."""

from __future__ import annotations

from grants.flows.messages import deliver_message
from grants.services.messenger import DELIVER_FLOW

FLOWS = {
    DELIVER_FLOW: deliver_message,
}
