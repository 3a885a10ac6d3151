"""Configuration from the environment (README.md "Configuration")."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Config:
    home: Path
    database_url: str
    secret_key: str
    smtp_url: str | None
    # The Prefect API the *user* configured. None means the embedded default.
    prefect_api_url: str | None
    # Files every process must reach (uploads, letters, minutes, outbox, statements): with workers
    # on other machines a shared mount, at the same path everywhere. Paths kept in the database
    # are relative to it; load_config defaults it to GRANTS_HOME so that those of the embedded
    # default stay valid.
    storage: Path
    base_url: str = "http://127.0.0.1:5000"
    mail_from: str = "Stadt Osnabrück – Dein Quartier und du <quartier@osnabrueck.example>"
    prefect_ui_port: int = 4200
    # Scale-out: how often a worker asks Prefect for new runs and a dispatcher looks for new jobs.
    poll_seconds: float = 1.0
    # Scale-out: this installation's name on the Prefect server; its deployments are `<flow>/<instance>`,
    # so that two installations (say test and production) can share one server without mixing work.
    instance: str = "grants"
    # When Prefect's schedules run the daily flows, on the city's clock (grants.clock), as HH:MM.
    reminders_at: str = "06:00"
    retention_at: str = "03:00"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def uploads_dir(self) -> Path:
        return self.storage / "uploads"

    @property
    def letters_dir(self) -> Path:
        return self.storage / "letters"

    @property
    def outbox_dir(self) -> Path:
        return self.storage / "outbox"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    @property
    def embedded_engine(self) -> bool:
        return not self.prefect_api_url

    def ensure_dirs(self) -> None:
        for d in (self.home, self.storage, self.uploads_dir, self.letters_dir, self.outbox_dir, self.prefect_home):
            d.mkdir(parents=True, exist_ok=True)


def _secret_key(home: Path, env: Mapping[str, str]) -> str:
    """The session key: from the environment, else generated once into GRANTS_HOME."""
    key = env.get("GRANTS_SECRET_KEY")
    if key:
        return key
    path = home / "secret_key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two processes starting at once must end up with one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def _clock(value: str | None, default: str, name: str) -> str:
    """HH:MM, checked at start-up: a typo should stop the process, not the reminders."""
    value = (value or default).strip()
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60 and len(minutes) == 2):
        raise ValueError(f"{name}={value!r}: expected a time of day as HH:MM")
    return f"{int(hours):02d}:{minutes}"


def load_config(env: Mapping[str, str] | None = None) -> Config:
    if env is None:
        env = os.environ
    home = Path(env.get("GRANTS_HOME") or "./var").resolve()
    database_url = env.get("GRANTS_DATABASE_URL") or f"sqlite:///{home / 'grants.db'}"
    return Config(
        home=home,
        database_url=database_url,
        secret_key=_secret_key(home, env),
        smtp_url=env.get("GRANTS_SMTP_URL") or None,
        prefect_api_url=env.get("PREFECT_API_URL") or None,
        base_url=(env.get("GRANTS_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        mail_from=env.get("GRANTS_MAIL_FROM") or Config.mail_from,
        prefect_ui_port=int(env.get("GRANTS_PREFECT_PORT") or 4200),
        storage=Path(env["GRANTS_STORAGE"]).resolve() if env.get("GRANTS_STORAGE") else home,
        poll_seconds=float(env.get("GRANTS_POLL_SECONDS") or 1),
        instance=env.get("GRANTS_INSTANCE") or "grants",
        reminders_at=_clock(env.get("GRANTS_REMINDERS_AT"), Config.reminders_at, "GRANTS_REMINDERS_AT"),
        retention_at=_clock(env.get("GRANTS_RETENTION_AT"), Config.retention_at, "GRANTS_RETENTION_AT"),
    )
