"""Errors a user may see. Messages are German msgids (German first); the web translates them
with gettext, the CLI prints them as they are."""

from __future__ import annotations


class ServiceError(Exception):
    """Something the user can fix or must be told; never a 500."""

    status = 400

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.msgid = message
        self.params = params


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    """The thing changed under the user's hands, or the action does not fit its state."""

    status = 409


class Invalid(ServiceError):
    status = 422
