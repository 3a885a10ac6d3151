"""Rendering many letters at once on every core: WeasyPrint is CPU-bound Python, so threads do not
help; a pool of spawned processes does (spawned, not forked: the parent runs threads)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor


def _init() -> None:
    import weasyprint  # noqa: F401 - pay the import once per worker, not per letter


def _render(job: tuple[str, dict]) -> tuple[bytes, bytes]:
    from grants.services.letters import render_letter

    kind, data = job
    return render_letter(kind, data)


def render_many(jobs: list[tuple[str, dict]], workers: int | None = None) -> list[tuple[bytes, bytes]]:
    """(pdf, docx) for each (kind, data), in order."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < 2:
        return [_render(j) for j in jobs]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx, initializer=_init) as pool:
        return list(pool.map(_render, jobs, chunksize=max(1, len(jobs) // (workers * 4))))
