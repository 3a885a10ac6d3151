"""What a flow needs from its process: the configuration and the database.

`grants serve` and the tests install theirs; a worker on another machine builds one from its
environment on first use."""

from __future__ import annotations

import threading

from grants.config import Config, load_config
from grants.db import Database

_lock = threading.Lock()
_current: tuple[Config, Database] | None = None


def install(config: Config, db: Database) -> None:
    global _current
    with _lock:
        _current = (config, db)


def current() -> tuple[Config, Database]:
    global _current
    with _lock:
        if _current is None:
            config = load_config()
            _current = (config, Database(config.database_url))
        return _current


def reset() -> None:
    global _current
    with _lock:
        _current = None
