"""After a submission: the receipt as PDF, kept and mailed (safe to run twice)."""

from __future__ import annotations

from prefect import flow, task

from grants.documents import render
from grants.flows import runtime
from grants.services import receipts


@task(name="render-receipt", retries=2, retry_delay_seconds=5)
def render_receipt(case_id: int) -> bytes | None:
    _, db = runtime.current()
    with db.session() as s:
        context = receipts.receipt_context(s, case_id)
    if context is None:
        return None
    # rendered outside any transaction: the database is not held while WeasyPrint works
    return render.pdf("receipt.html", context, data={"kind": "receipt", **context},
                      title=f"Eingangsbestätigung {context['file_number']}")


@task(name="store-and-mail-receipt", retries=2, retry_delay_seconds=5)
def store(case_id: int, pdf: bytes) -> bool:
    config, db = runtime.current()
    with db.session() as s:
        return receipts.store_receipt(s, config.home, case_id, pdf) is not None


@flow(name="send-receipt")
def send_receipt(case_id: int) -> dict:
    pdf = render_receipt(case_id)
    stored = store(case_id, pdf) if pdf else False
    return {"case_id": case_id, "stored": stored}
