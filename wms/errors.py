"""The error hierarchy every domain subclasses; each surface translates it in one place."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorKind(StrEnum):
    """What sort of failure an error is; surfaces map kinds to status codes or exit codes."""

    BAD_REQUEST = "bad_request"  # the request itself is malformed (a required header missing)
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"


class WmsError(Exception):
    """Base of all domain errors: a stable ``code``, a message, the field at fault and context."""

    code: ClassVar[str] = "wms_error"
    kind: ClassVar[ErrorKind] = ErrorKind.INVALID

    def __init__(self, message: str, *, field: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        body.update(self.context)
        return body


class BadRequest(WmsError):
    """The request is missing something every request of its kind must carry."""

    code = "bad_request"
    kind = ErrorKind.BAD_REQUEST


class ValidationFailed(WmsError):
    """A value is well-formed but not acceptable (a zero quantity, a bad check digit)."""

    code = "validation_failed"
    kind = ErrorKind.INVALID


class NotFound(WmsError):
    """A referenced thing (SKU, warehouse, location, lot) does not exist."""

    code = "not_found"
    kind = ErrorKind.NOT_FOUND


class AlreadyExists(WmsError):
    """A unique name (SKU, code, barcode) is already taken."""

    code = "already_exists"
    kind = ErrorKind.CONFLICT


class Conflict(WmsError):
    """The request is valid but the current state refuses it."""

    code = "conflict"
    kind = ErrorKind.CONFLICT


class InvalidTransition(Conflict):
    """A state machine was asked to move along a transition it does not allow."""

    code = "invalid_transition"

    def __init__(self, entity: str, current: str, target: str) -> None:
        super().__init__(
            f"{entity} cannot go from {current} to {target}",
            entity=entity,
            current=current,
            target=target,
        )


class Unauthorized(WmsError):
    """No valid credentials were given."""

    code = "unauthorized"
    kind = ErrorKind.UNAUTHORIZED


class Forbidden(WmsError):
    """The credentials are valid but lack the scope or role."""

    code = "forbidden"
    kind = ErrorKind.FORBIDDEN
