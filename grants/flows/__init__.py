"""Prefect flows: thin wrappers around services, with retries and idempotency keys."""

import tempfile as _tempfile
from pathlib import Path as _Path
from typing import TypedDict as _TypedDict


class _ResultOptions(_TypedDict):
    persist_result: bool
    result_storage: _Path


# Nothing reads a flow's result back from Prefect's result storage (the job row keeps what
# matters). Naming a storage here spares Prefect asking its server for the default one twice on
# every run: two of the seven requests an empty flow run makes. Prefect still writes the exception
# of a failed run there (a few bytes); in the temporary directory, not wherever the process started.
NO_RESULTS: _ResultOptions = {"persist_result": False,
                              "result_storage": _Path(_tempfile.gettempdir()) / "grants-prefect-results"}
