"""Prefect flows: thin wrappers around services, with retries and idempotency keys."""
