"""Every error leaves the API as application/problem+json (RFC 9457), translated here only."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from wms.errors import ErrorKind, WmsError

log = structlog.get_logger("wms.api")

PROBLEM_JSON = "application/problem+json"

_STATUS = {
    ErrorKind.BAD_REQUEST: 400,
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.UNAUTHORIZED: 401,
}
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    *,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_RESERVED = frozenset({"type", "title", "status", "detail", "code", "errors", "headers"})


def wms_error_status(exc: WmsError) -> int:
    # A body that names something unknown is a bad request body, not a missing resource.
    if exc.kind is ErrorKind.NOT_FOUND and exc.field is not None:
        return 422
    return _STATUS[exc.kind]


async def _wms_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WmsError)
    status = wms_error_status(exc)
    errors = [{"field": exc.field, "reason": exc.message}] if exc.field else None
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    # Context never overrides the problem's own members (an error may carry a "status" of its own).
    context = {(f"{k}_value" if k in _RESERVED else k): v for k, v in exc.context.items()}
    return problem(
        status, code=exc.code, detail=exc.message, errors=errors, headers=headers, **context
    )


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "body"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem(
            400,
            code="malformed_json",
            detail="the request body is not valid JSON",
            errors=[{"field": "body", "reason": str(raw[0].get("msg", "invalid JSON"))}],
        )
    errors = [
        {"field": _field(tuple(e.get("loc", ()))), "reason": e.get("msg", "invalid")} for e in raw
    ]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return problem(422, code="validation_failed", detail=detail, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return problem(
        exc.status_code, code=code, detail=str(exc.detail), headers=dict(exc.headers or {}) or None
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # The database constraints are the backstop behind the domain checks; reaching one means
    # a concurrent request won a race (a duplicate key), and the request changed nothing.
    log.warning(
        "constraint_refused",
        path=request.url.path,
        error=str(exc.orig if hasattr(exc, "orig") else exc),
    )
    return problem(
        409,
        code="constraint_violation",
        detail="the change conflicts with the stored data; nothing was written",
    )


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # A value the database cannot hold (a total beyond its integer range): refused, nothing written.
    log.warning("value_out_of_range", path=request.url.path, error=str(getattr(exc, "orig", exc)))
    return problem(
        422,
        code="value_out_of_range",
        detail="a value, or a total it would produce, is out of the stored range; nothing was written",
    )


async def _operational_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("database_unavailable", path=request.url.path, error=str(exc))
    return problem(
        503,
        code="database_unavailable",
        detail="the database is unavailable; retry shortly",
        headers={"Retry-After": "1"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path)
    return problem(
        500, code="internal_error", detail="an unexpected error occurred; it has been logged"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(WmsError, _wms_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(Exception, _unexpected)
