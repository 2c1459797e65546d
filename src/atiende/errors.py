"""Domain errors carry their HTTP status, so services never import web code."""

from typing import Any, TypeVar


class AtiendeError(Exception):
    """A refusal the caller can act on. ``code`` is stable ("campaign.channel_in_use"): the API
    returns it and the UIs translate by it (catalog key ``errors.<code>``), so the English
    ``message`` of a service never has to reach a Spanish screen. A subclass sets its own ``code``;
    a raise may pass a more specific one."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, status_code: int | None = None,
                 extra: dict[str, Any] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code


class NotFound(AtiendeError):
    code = "not_found"
    status_code = 404


class Forbidden(AtiendeError):
    code = "forbidden"
    status_code = 403


class Unauthorized(AtiendeError):
    code = "unauthorized"
    status_code = 401


class Conflict(AtiendeError):
    code = "conflict"
    status_code = 409


class Invalid(AtiendeError):
    """A value that is well-formed but breaks a business rule or references nothing usable."""

    status_code = 422
    code = "invalid"


class TooManyRequests(AtiendeError):
    code = "too_many_requests"
    status_code = 429


_Cause = TypeVar("_Cause", bound=BaseException)


def cause_of(error: BaseException, kind: type[_Cause]) -> _Cause | None:
    """The first ``kind`` in ``error`` or the chain of its causes (``raise … from``), if any: what
    a sender's error was underneath (a network error, a channel's flood limit)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, kind):
            return cause
        cause = cause.__cause__
    return None
