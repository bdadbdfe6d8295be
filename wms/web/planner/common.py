"""What every planner page shares: the page shell, form state with its error, status codes,
parsing of typed values, and short notices shown after a redirect."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session, sessionmaker

from wms.auth.services import UserRef
from wms.db.uow import UnitOfWork, transaction
from wms.errors import ErrorKind, ValidationFailed, WmsError
from wms.web.templating import templates

T = TypeVar("T")

# The navigation bar, in order: (path, label).
NAV: tuple[tuple[str, str], ...] = (
    ("/planner/suppliers", "Suppliers"),
    ("/planner/plans", "Plans"),
    ("/planner/purchase-orders", "Purchase orders"),
    ("/planner/routes", "Routes"),
    ("/planner/fleet", "Fleet"),
    ("/planner/inspections", "Inspections"),
    ("/planner/ncrs", "NCRs"),
    ("/planner/quality/blocks", "Delisting"),
    ("/planner/quality/oc", "OC curves"),
)

# What a redirect after a successful form says, by the key in ``?done=``.
NOTICES: Mapping[str, str] = {
    "certificate": "Certificate recorded.",
    "audit": "Audit recorded.",
    "status": "Supplier status changed.",
    "action": "Corrective action requested.",
    "closed": "Corrective action closed.",
    "delisted": "Product pulled from sale; a nonconformance report was opened.",
    "signed-out": "You are signed out.",
    "plan-queued": "Plan run queued; it starts as soon as the planner is free.",
    "quantity": "Quantity changed and priced again.",
    "approved": "Lines approved.",
    "rejected": "Lines rejected.",
    "po-created": "Purchase order created as a draft.",
    "po-approved": "Purchase order approved: its receipt is expected at the warehouse.",
    "po-sent": "Purchase order marked as sent.",
    "po-cancelled": "Purchase order cancelled.",
    "po-closed": "Purchase order closed.",
    "ordered": "Purchase orders created from the approved lines, as drafts to approve.",
    "routes-queued": "Route plan queued; the routes appear when the solver is done.",
    "routes-dispatched": "Routes dispatched: every routed delivery has its ETA, sent to the storefront.",
    "routes-cancelled": "Route plan cancelled.",
    "vehicle-added": "Vehicle added to the fleet.",
    "vehicle-saved": "Vehicle saved.",
}

_STATUS = {
    ErrorKind.BAD_REQUEST: 400,
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.UNAUTHORIZED: 401,
}


def error_status(exc: WmsError) -> int:
    """The HTTP status of a domain error shown on a page."""
    return _STATUS[exc.kind]


@dataclass(frozen=True)
class FormState:
    """A form as the user filled it in, and the errors it came back with.

    ``fields`` are the inputs the form shows: an error naming one is printed next to it, any other
    error at the top of the form. ``aliases`` map a service's field name to the form's.
    """

    name: str
    fields: tuple[str, ...]
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)  # field (or "") -> message
    aliases: Mapping[str, str] = field(default_factory=dict)

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def error_for(self, name: str) -> str | None:
        return self.errors.get(name)

    @property
    def general_error(self) -> str | None:
        other = [message for where, message in self.errors.items() if where not in self.fields]
        return "; ".join(other) if other else None

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def failed(self, exc: WmsError) -> FormState:
        """This form with ``exc``'s message placed at its field (first error per field wins)."""
        where = self.aliases.get(exc.field or "", exc.field) or ""
        if where in self.errors:
            return self
        return replace(self, errors={**self.errors, where: exc.message})

    def filled(self, **values: str) -> FormState:
        return replace(self, values={**self.values, **values})


def factory(request: Request) -> sessionmaker[Session]:
    maker: sessionmaker[Session] = request.app.state.session_factory
    return maker


def read(request: Request, work: Callable[[Session], T]) -> T:
    """Run a read in a unit of work of its own (rolled back: nothing is written)."""
    with UnitOfWork(factory(request)) as uow:
        return work(uow.session)


def write(request: Request, work: Callable[[UnitOfWork], T]) -> T:
    """Run a change in a unit of work and commit it (again after a deadlock)."""
    return transaction(factory(request), work)


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def sign_in_redirect(request: Request) -> RedirectResponse:
    """To the sign-in page, coming back afterwards: to this page for a GET, and for a form
    posted without a session to the page the form was on (its Referer) or the start page."""
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        target = referer.path + (f"?{referer.query}" if referer.query else "")
    if not target.startswith("/planner/"):
        target = "/planner/suppliers"
    return redirect(f"/planner/login?next={quote(target, safe='')}")


def page(
    request: Request,
    template: str,
    *,
    user: UserRef | None,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a planner page in the shell (nav bar, signed-in user, notice after a redirect)."""
    context.update(
        user=user,
        title=title,
        nav=NAV,
        path=request.url.path,
        notice=NOTICES.get(request.query_params.get("done", "")) if status_code < 400 else None,
        fmt=Fmt,
    )
    return templates.TemplateResponse(
        request, f"planner/{template}", context, status_code=status_code
    )


def not_found(request: Request, user: UserRef | None, exc: WmsError) -> HTMLResponse:
    return page(
        request, "error.html", user=user, title="Not found", status_code=404, message=exc.message
    )


class Fmt:
    """Formatting the templates use; a missing figure prints as a dash."""

    DASH = "—"

    @staticmethod
    def pct(value: float | None, places: int = 1) -> str:
        return Fmt.DASH if value is None else f"{value * 100:.{places}f} %"

    @staticmethod
    def num(value: float | int | None) -> str:
        return Fmt.DASH if value is None else f"{value:,}"

    @staticmethod
    def p(value: float | None, per_hundred_units: bool = False) -> str:
        """A quality as a percentage nonconforming (or nonconformities per 100 units)."""
        if value is None:
            return Fmt.DASH
        percent = value * 100
        text = f"{percent:.3g}" if percent < 10 else f"{percent:.1f}"
        return f"{text} per 100 units" if per_hundred_units else f"{text} %"

    @staticmethod
    def day(value: date | datetime | str | None) -> str:
        if value is None:
            return Fmt.DASH
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.strftime("%Y-%m-%d")

    @staticmethod
    def when(value: datetime | str | None) -> str:
        if value is None:
            return Fmt.DASH
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.strftime("%Y-%m-%d %H:%M")


# Parsing what was typed into a form ------------------------------------------------------------


def parse_date(text: str, field_name: str) -> date:
    """A date typed as YYYY-MM-DD (what a date input sends)."""
    text = text.strip()
    if not text:
        raise ValidationFailed(f"{field_name.replace('_', ' ')} is required", field=field_name)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{text!r} is not a date; use YYYY-MM-DD", field=field_name
        ) from None


def parse_int(text: str, field_name: str) -> int:
    """A whole number typed into a form."""
    try:
        return int(text.strip())
    except ValueError:
        raise ValidationFailed(
            f"{field_name.replace('_', ' ')} must be a whole number, not {text.strip()!r}",
            field=field_name,
        ) from None
