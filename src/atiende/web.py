"""HTTP plumbing shared by every router: error rendering and the request body limit."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atiende.errors import AtiendeError


class ErrorOut(BaseModel):
    """The body of every error answer."""

    detail: str
    field: str | None = None
    code: str | None = None
    errors: list[dict[str, Any]] | None = None
    retry_after: int | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": description} for code, description in {
        400: "Bad request", 401: "Not authenticated", 403: "Not allowed for your role or license",
        404: "Not found (or belongs to another client)", 409: "Conflicts with existing data",
        413: "Body too large", 422: "Invalid value; `field` names it", 429: "Too many requests",
    }.items()
}


def error_response(error: AtiendeError) -> JSONResponse:
    body: dict[str, Any] = {"detail": error.message, "field": error.field, "code": error.code}
    body.update(error.extra)
    headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
    if "retry_after" in error.extra:
        headers = {"Retry-After": str(error.extra["retry_after"])}
    return JSONResponse(body, status_code=error.status_code, headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AtiendeError)
    async def _domain(_request: Request, exc: AtiendeError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_of(tuple(e.get("loc", ()))), "message": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "message": "Invalid request"}
        code = f"validation.{first['type']}" if first.get("type") else "validation.invalid"
        return JSONResponse({"detail": first["message"], "field": first["field"], "code": code,
                             "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return JSONResponse({"detail": exc.detail, "field": None, "code": f"http.{exc.status_code}"},
                            status_code=exc.status_code,
                            headers=headers or None)


def _allowed_methods(request: Request) -> list[str]:
    """Every method any route serves on this path (Starlette reports only the first route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "__none__"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods.update(route.methods)
    return sorted(methods)


# Exact paths allowed a larger body than ``max_bytes`` (path → limit): a page registers the
# upload route of its file picker while it lives (the contacts import takes files up to 20 MB).
LARGE_BODY_PATHS: dict[str, int] = {}


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413 before the app reads them (declared or streamed);
    ``larger`` names path prefixes with their own limit, ``LARGE_BODY_PATHS`` exact paths."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: tuple[tuple[str, int], ...] = ()) -> None:
        self.app = app
        self.default_max = max_bytes
        self.larger = larger

    def _limit(self, path: str) -> int:
        if path in LARGE_BODY_PATHS:
            return LARGE_BODY_PATHS[path]
        return next((limit for prefix, limit in self.larger if path.startswith(prefix)), self.default_max)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope.get("path", ""))
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._reject(send, max_bytes)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await self._reject(send, max_bytes)

    async def _reject(self, send: Send, max_bytes: int) -> None:
        response = JSONResponse({"detail": f"Request body larger than {max_bytes} bytes", "field": "body"},
                                status_code=413)
        await response({"type": "http"}, _empty_receive, send)


class _BodyTooLarge(Exception):
    pass


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}
