"""Domain errors carry their HTTP status, so services never import web code."""

from typing import Any


class AtiendeError(Exception):
    status_code: int = 400

    def __init__(self, message: str, *, field: str | None = None, status_code: int | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code


class NotFound(AtiendeError):
    status_code = 404


class Forbidden(AtiendeError):
    status_code = 403


class Unauthorized(AtiendeError):
    status_code = 401


class Conflict(AtiendeError):
    status_code = 409


class Invalid(AtiendeError):
    """A value that is well-formed but breaks a business rule or references nothing usable."""

    status_code = 422


class TooManyRequests(AtiendeError):
    status_code = 429
