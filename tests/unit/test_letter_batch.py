"""Letters rendered as a batch on two processes: every letter exactly once, each result in its
place, and handed over as soon as it is ready."""

from __future__ import annotations

import io

import docx

from grants.documents import batch
from grants.documents.demo_data import DEMO


def _docx_text(data: bytes) -> str:
    d = docx.Document(io.BytesIO(data))
    return " ".join([p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells])


def test_a_batch_with_a_helper_renders_every_letter_once_in_its_place():
    n = batch.HELPERS_FROM + 4
    jobs = [("approval", dict(DEMO, file_number=f"DQD-2026-{i:04d}")) for i in range(n)]
    handed = []
    out = batch.render_many(jobs, workers=2, done=lambda i, pdf, d: handed.append(i))
    assert sorted(handed) == list(range(n))
    for i, (pdf, d) in enumerate(out):
        assert pdf.startswith(b"%PDF")
        assert f"DQD-2026-{i:04d}" in _docx_text(d)


def test_a_small_batch_stays_in_this_process():
    calls = []
    original = batch._render
    batch._render = lambda job: calls.append(job) or original(job)
    try:
        out = batch.render_many([("rejection", DEMO)] * 2, workers=2)
    finally:
        batch._render = original
    assert len(calls) == 2 and all(pdf.startswith(b"%PDF") for pdf, _ in out)
