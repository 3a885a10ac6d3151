"""Prefect flows: thin wrappers around services, with retries and idempotency keys."""

from pathlib import Path as _Path

# Nothing reads a flow's result back from Prefect's result storage (the job row keeps what
# matters). Naming a storage here, unused, spares Prefect asking its server for the default one
# twice on every run: two of the seven requests an empty flow run makes.
NO_RESULTS = {"persist_result": False, "result_storage": _Path("grants-unused-result-storage")}
