"""Which template and title each kind of decision letter has, and rendering one to PDF/A and
DOCX from the same HTML. Pure rendering: what goes into the letter is grants.services.letters'
business; the batch renderer (grants.documents.batch) calls this in its helper processes."""

from __future__ import annotations

from grants.documents import docx_render, render

TEMPLATE_OF = {"approval": "approval.html", "partial_approval": "approval.html", "rejection": "rejection.html"}
TITLE_OF = {"approval": "Zuwendungsbescheid", "partial_approval": "Zuwendungsbescheid", "rejection": "Ablehnungsbescheid"}


def render_letter(kind: str, data: dict) -> tuple[bytes, bytes]:
    title = f"{TITLE_OF[kind]} {data['file_number']}"
    html = render.html(TEMPLATE_OF[kind], data)
    pdf = render.pdf(TEMPLATE_OF[kind], data, data={"kind": kind, **data}, title=title, rendered=html)
    return pdf, docx_render.build(html, title)
