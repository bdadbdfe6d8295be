"""Request-scoped dependencies: the unit of work and the caller's API key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wms.auth.models import Scope
from wms.auth.services import ApiPrincipal, verify_api_key
from wms.db.uow import UnitOfWork
from wms.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer wms_...`")


def get_uow(request: Request) -> Iterator[UnitOfWork]:
    """One unit of work per request; the route commits, everything else rolls back."""
    with UnitOfWork(request.app.state.session_factory) as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(get_uow)]


def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiPrincipal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send an API key as `Authorization: Bearer <key>`")
    with UnitOfWork(request.app.state.session_factory) as uow:
        return verify_api_key(uow, key=credentials.credentials)


def require(scope: Scope) -> Callable[..., ApiPrincipal]:
    """A dependency that admits API keys holding ``scope`` (admin holds every scope)."""

    def dependency(principal: Annotated[ApiPrincipal, Depends(_principal)]) -> ApiPrincipal:
        if not principal.allows(scope):
            raise Forbidden(f"this API key lacks the {scope.value!r} scope", scope=scope.value)
        return principal

    return dependency


Reader = Annotated[ApiPrincipal, Depends(require(Scope.READ))]
Admin = Annotated[ApiPrincipal, Depends(require(Scope.ADMIN))]
Storefront = Annotated[ApiPrincipal, Depends(require(Scope.STOREFRONT))]
