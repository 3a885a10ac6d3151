"""Uploaded files: checked by content, stored under a random key, never trusted by name."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from grants.domain.files import ALLOWED, MAX_BYTES, safe_name, sniff
from grants.models import Attachment
from grants.services import audit
from grants.services.actor import Actor
from grants.services.errors import Forbidden, Invalid, NotFound


def store(db: Session, actor: Actor, folder: Path, *, organisation_id: int, application_id: int | None,
          kind: str, filename: str, stream: IO[bytes]) -> Attachment:
    if not actor.member_of(organisation_id):
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    head = stream.read(16)
    content_type = sniff(head)
    if content_type is None:
        raise Invalid("Diese Datei ist kein PDF, JPEG oder PNG. Bitte laden Sie eine Datei in einem dieser Formate hoch.")
    key = f"{organisation_id}/{secrets.token_hex(16)}{ALLOWED[content_type]}"
    target = folder / key
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(head)
    size = len(head)
    tmp = target.with_suffix(".part")
    try:
        with open(tmp, "wb") as out:
            out.write(head)
            for chunk in iter(lambda: stream.read(1 << 16), b""):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise Invalid("Die Datei ist zu groß. Erlaubt sind höchstens %(mb)d MB.", mb=MAX_BYTES // 2**20)
                digest.update(chunk)
                out.write(chunk)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    att = Attachment(organisation_id=organisation_id, application_id=application_id, kind=kind[:50],
                     filename=safe_name(filename, content_type), content_type=content_type, size=size,
                     sha256=digest.hexdigest(), storage_key=key, uploaded_by_id=actor.user_id)
    db.add(att)
    try:
        db.flush()
    except Exception:
        target.unlink(missing_ok=True)
        raise
    audit.record(db, actor, "attachment_uploaded", obj=att, application_id=application_id,
                 data={"file": att.filename, "size": size})
    return att


def remove(db: Session, actor: Actor, folder: Path, attachment_id: int, application_id: int) -> Path:
    """Delete the record; returns the file to delete once the transaction has committed."""
    att = db.get(Attachment, attachment_id)
    if att is None or att.application_id != application_id or not actor.member_of(att.organisation_id):
        raise NotFound("Diese Datei gibt es nicht.")
    db.delete(att)
    audit.record(db, actor, "attachment_removed", application_id=application_id, data={"file": att.filename})
    return folder / att.storage_key


def path_of(folder: Path, att: Attachment) -> Path:
    return folder / att.storage_key
