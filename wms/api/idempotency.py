"""``Idempotency-Key`` on the API's state-changing POSTs.

The key is claimed in a transaction of its own, so a second request with the same key while the
first still runs gets 409 instead of waiting on a lock. The answer is stored in the same
transaction as the change, so a key is answered with its effect or not at all. A request that is
refused (a 4xx) or fails stores nothing: the key is freed and a retry with it runs afresh.
A retry of an answered request gets the stored answer with ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from wms.auth.services import ApiPrincipal
from wms.db.idempotency import check_key, claim, complete, fingerprint, release
from wms.db.uow import UnitOfWork, is_retryable
from wms.errors import BadRequest

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="A unique key per operation (a UUID); a retry with the same key and body "
        "gets the first answer and changes nothing.",
        max_length=255,
    ),
]

ATTEMPTS = 5


def idempotent(
    request: Request,
    *,
    principal: ApiPrincipal,
    key: str | None,
    body: Any,
    work: Callable[[UnitOfWork], Any],
    status_code: int = 201,
) -> JSONResponse:
    """Run ``work`` once per key and commit it with its answer; notify the event dispatcher."""
    if key is None:
        raise BadRequest(
            "send an Idempotency-Key header (a UUID) with every state-changing request",
            field="Idempotency-Key",
        )
    key = check_key(key)
    owner = principal.owner
    digest = fingerprint({"method": request.method, "path": request.url.path, "body": body})
    factory = request.app.state.session_factory
    stored = claim(factory, owner=owner, key=key, fingerprint=digest)
    if stored is not None:
        return JSONResponse(
            stored.response,
            status_code=stored.status_code,
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        response = _run(factory, owner, key, work, status_code)
    except BaseException:
        release(factory, owner=owner, key=key)
        raise
    request.app.state.notifier.notify()
    return JSONResponse(response, status_code=status_code)


def _run(
    factory: Any, owner: str, key: str, work: Callable[[UnitOfWork], Any], status_code: int
) -> Any:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with UnitOfWork(factory) as uow:
                response = jsonable_encoder(work(uow))
                complete(
                    uow.session, owner=owner, key=key, status_code=status_code, response=response
                )
                uow.commit()
                return response
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == ATTEMPTS:
                raise
            time.sleep(0.02 * attempt)
    raise AssertionError("unreachable")
