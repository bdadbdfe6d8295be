"""What every state-changing route of the API shares: the actor's name, unknown things named in
the path answered as 404, and the body run once per Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request, status
from fastapi.responses import JSONResponse

from wms.api.idempotency import idempotent
from wms.auth.services import ApiPrincipal
from wms.db.uow import UnitOfWork
from wms.errors import NotFound

PathNames = bool | Collection[str]


def actor(principal: ApiPrincipal) -> str:
    """How an API key signs the changes it makes."""
    return f"apikey:{principal.name}"


@contextmanager
def named_in_path(names: PathNames = True) -> Iterator[None]:
    """A document, supplier or SKU named in the path that does not exist is a missing resource
    (404), not a bad body (422): with ``names`` a collection, only errors about those fields."""
    try:
        yield
    except NotFound as exc:
        if names is True or (not isinstance(names, bool) and exc.field in names):
            exc.field = None
        raise


def write(
    request: Request,
    principal: ApiPrincipal,
    key: str | None,
    body: Any,
    work: Callable[[UnitOfWork], Any],
    code: int = status.HTTP_200_OK,
    *,
    path_names: PathNames = True,
) -> JSONResponse:
    """``work`` once per Idempotency-Key (``body`` a request model or None)."""

    def run(uow: UnitOfWork) -> Any:
        with named_in_path(path_names):
            return work(uow)

    return idempotent(
        request,
        principal=principal,
        key=key,
        body=body.model_dump(mode="json") if body is not None else None,
        work=run,
        status_code=code,
    )
