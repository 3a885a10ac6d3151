"""Delivering recorded messages (mail) with retries."""

from __future__ import annotations

from prefect import flow, task

from grants import runtime
from grants.flows import NO_RESULTS
from grants.models import Message
from grants.services import messenger


@task(name="deliver", retries=3, retry_delay_seconds=[5, 30, 120])
def deliver_task(message_id: int) -> str:
    config, db = runtime.current()
    try:
        with db.session() as s:
            msg = messenger.deliver(s, message_id, smtp_url=config.smtp_url, outbox=config.outbox_dir,
                                    mail_from=config.mail_from)
            return msg.state if msg is not None else "missing"
    except Exception as e:
        # keep the failure visible to staff, then let Prefect retry
        with db.session() as s:
            msg = s.get(Message, message_id)
            if msg is not None and msg.state != "sent":
                msg.state, msg.attempts = "failed", msg.attempts + 1
                msg.error = f"{type(e).__name__}: {e}"[:2000]
        raise


@flow(name="deliver-message", **NO_RESULTS)
def deliver_message(message_id: int) -> str:
    return deliver_task(message_id)


@flow(name="noop", **NO_RESULTS)
def noop() -> dict:
    """An empty flow: the engine's own cost, for health checks and benchmarks."""
    return {"ok": True}
