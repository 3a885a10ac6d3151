"""Rendering many letters at once on every core: WeasyPrint is CPU-bound Python, so threads do not
help; spawned processes do (spawned, not forked: the parent runs threads).

The calling process renders too, from the same list: a helper process needs about a second to
start and import WeasyPrint, so with a fixed split a small batch would wait for it, and the
calling process would sit idle on its core. Here every letter is claimed in a shared table by
whoever gets to it first, so nobody waits for a helper that has not started, and each finished
letter is handed to the caller at once (it can be stored while the rest are rendered)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from grants.documents.decision_letter import render_letter

_claims = None  # in a helper process: the batch's claim table
# Below this many letters this process is done before a helper is ready (start, imports and the
# warm-up letter take about as long as 8 letters here); a helper would only burn the other core.
HELPERS_FROM = 8


def _init(claims, sample: tuple[str, dict]) -> None:
    """Warm up on a letter of the batch before claiming any: a cold process's first letter takes
    several times as long (fonts, stylesheet, layout caches), and the batch's end would wait for it."""
    global _claims
    try:
        _render(sample)
    except Exception:  # noqa: BLE001 - the letter's own render reports it, in the calling process
        pass
    _claims = claims


def _claim(claims, i: int) -> bool:
    with claims.get_lock():
        if claims[i]:
            return False
        claims[i] = 1
        return True


def _render(job: tuple[str, dict]) -> tuple[bytes, bytes]:
    kind, data = job
    return render_letter(kind, data)


def _render_if_free(i: int, job: tuple[str, dict]) -> tuple[bytes, bytes] | None:
    return _render(job) if _claim(_claims, i) else None


def _helpers(workers: int | None, letters: int) -> int:
    """Helper processes beside this one: as asked, or by default one for each idle core. A helper
    on a core that is busy anyway only takes turns with this process and adds its start (measured
    here: a 60-letter batch 40 % slower with the other core taken)."""
    if letters < HELPERS_FROM:
        return 0
    if workers is not None:
        return max(0, min(workers, letters) - 1)
    cores = os.cpu_count() or 1
    # this process takes one core; the load average (of the last minute) tells how busy the rest is
    return max(0, min(cores - 1, round(cores - 1 - os.getloadavg()[0])))


Failed = Callable[[int, Exception], None]


def render_many(jobs: list[tuple[str, dict]], workers: int | None = None,
                done: Callable[[int, bytes, bytes], None] | None = None,
                failed: Failed | None = None) -> list[tuple[bytes, bytes] | None]:
    """(pdf, docx) for each (kind, data), in order. `workers`: how many processes render, this one
    included (default: this one and one for each idle core). `done(i, pdf, docx)` runs in this
    thread as soon as letter i is ready. `failed(i, error)`: a letter that cannot be rendered is
    reported there (its result is None) and the others are still made; without it, it raises."""
    # A flow's process holds some 400,000 long-lived objects (Prefect, SQLAlchemy, pydantic), and
    # WeasyPrint's garbage set off full collections that walked them all: 0.36 s each, twice in 60
    # letters, 16 ms a letter. Frozen, they are left alone while the letters' garbage is collected.
    gc.freeze()
    try:
        return _render_many(jobs, workers, done, failed)
    finally:
        gc.unfreeze()


def _render_many(jobs: list[tuple[str, dict]], workers: int | None,
                 done: Callable[[int, bytes, bytes], None] | None,
                 failed: Failed | None) -> list[tuple[bytes, bytes] | None]:
    results: list = [None] * len(jobs)
    errors: set[int] = set()

    def finish(i: int, rendered: tuple[bytes, bytes]) -> None:
        results[i] = rendered
        if done is not None:
            done(i, *rendered)

    def fail(i: int, error: Exception) -> None:
        if failed is None:
            raise error
        errors.add(i)
        failed(i, error)

    def make(i: int, job: tuple[str, dict]) -> None:
        try:
            rendered = _render(job)
        except Exception as e:  # noqa: BLE001 - one letter's fault is reported, the batch goes on
            fail(i, e)
        else:
            finish(i, rendered)

    helpers = _helpers(workers, len(jobs))
    if not helpers:
        for i, job in enumerate(jobs):
            make(i, job)
        return results
    ctx = multiprocessing.get_context("spawn")
    claims = ctx.Array("b", len(jobs))
    pool = ProcessPoolExecutor(max_workers=helpers, mp_context=ctx, initializer=_init,
                               initargs=(claims, jobs[0]))
    try:
        # all submitted at once, in order: a helper skips (cheaply) what this process has claimed
        futures = {pool.submit(_render_if_free, i, job): i for i, job in enumerate(jobs)}

        def collect(block: bool) -> None:
            ready = [f for f in futures if f.done()] if not block else wait(futures, return_when=FIRST_COMPLETED).done
            for f in ready:
                i = futures.pop(f)
                try:
                    rendered = f.result()
                except BrokenProcessPool:   # a helper died (memory?): its letters are made below
                    continue
                except Exception as e:  # noqa: BLE001 - the letter itself failed in the helper
                    fail(i, e)
                    continue
                if rendered is not None:
                    finish(i, rendered)

        for i, job in enumerate(jobs):
            if _claim(claims, i):
                make(i, job)
            collect(block=False)
        while any(results[i] is None and i not in errors for i in futures.values()):
            collect(block=True)
        for i, job in enumerate(jobs):
            if results[i] is None and i not in errors:
                make(i, job)
    finally:
        # Left-over futures only skip letters already made: a helper still starting is not waited
        # for here but in the background, which also keeps the claim table alive until it is gone.
        threading.Thread(target=_close, args=(pool, claims), name="letters-pool-close", daemon=True).start()
    return results


def _close(pool: ProcessPoolExecutor, claims) -> None:
    pool.shutdown(wait=True, cancel_futures=True)
    del claims
