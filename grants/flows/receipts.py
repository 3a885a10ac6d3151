"""After a submission: the receipt as PDF, kept and mailed (safe to run twice)."""

from __future__ import annotations

from prefect import flow, task

from grants import runtime
from grants.documents import docx_render, render
from grants.flows import NO_RESULTS
from grants.services import receipts


@task(name="render-receipt", retries=2, retry_delay_seconds=5)
def render_receipt(case_id: int) -> tuple[bytes, bytes] | None:

    _, db = runtime.current()
    with db.session() as s:
        context = receipts.receipt_context(s, case_id)
    if context is None:
        return None
    # rendered outside any transaction: the database is not held while WeasyPrint works
    title = f"Eingangsbestätigung {context['file_number']}"
    html = render.html("receipt.html", context)
    return (render.pdf("receipt.html", context, data={"kind": "receipt", **context}, title=title, rendered=html),
            docx_render.build(html, title))


@task(name="store-and-mail-receipt", retries=2, retry_delay_seconds=5)
def store(case_id: int, pdf: bytes, docx: bytes) -> bool:
    config, db = runtime.current()
    with db.session() as s:
        return receipts.store_receipt(s, config.storage, case_id, pdf, docx) is not None


@flow(name="send-receipt", **NO_RESULTS)
def send_receipt(case_id: int) -> dict:
    rendered = render_receipt(case_id)
    stored = store(case_id, *rendered) if rendered else False
    return {"case_id": case_id, "stored": stored}
