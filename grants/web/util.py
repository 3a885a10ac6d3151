"""Small helpers for views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, g, request

from grants.config import Config
from grants.db import Database


def db() -> Database:
    return current_app.extensions["grants"]["db"]


def page_cache():
    return current_app.extensions["grants"]["cache"]


def reading():
    """The request's read session (Database.read): the logged-in user and a page's reads share
    one connection, with no transaction round trips on PostgreSQL. Closed when the request ends."""
    held = g.get("_reading")
    if held is None:
        manager = db().read()
        held = g._reading = (manager, manager.__enter__())
    return held[1]


def close_reading(exc: BaseException | None = None) -> None:
    held = g.pop("_reading", None)
    if held is not None:
        held[0].__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)


def config() -> Config:
    return current_app.extensions["grants"]["config"]


def wake_engine() -> None:
    """Tell the job runner of this process that new work was committed."""
    engine = current_app.extensions["grants"].get("engine")
    if engine is not None:
        engine.wake()


def client_addr() -> str:
    return request.remote_addr or "unknown"


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: a login link must not send people to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def actor():
    return g.actor


MAX_PAGE = 100_000


def page_number() -> int:
    """?page= of a list: a plain number from 1 on; anything else (letters, "²", a number too
    large for the database's OFFSET) is a page that does not exist, not a server error."""
    arg = request.args.get("page", "1")
    if not (arg.isascii() and arg.isdigit()) or not 1 <= int(arg) <= MAX_PAGE:
        abort(404)
    return int(arg)
