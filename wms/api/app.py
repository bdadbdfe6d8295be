"""The FastAPI application factory; nothing is built until `create_app` is called."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from wms import __version__
from wms.api import problems
from wms.api.routers import (
    allocations,
    catalog,
    delivery_routes,
    events,
    fulfillments,
    inventory,
    labels,
    orders,
    procurement,
    quality,
    receipts,
    reservations,
)
from wms.api.routers import webhooks as webhook_routes
from wms.config import Settings, get_settings
from wms.db.engine import make_engine, make_session_factory
from wms.events.delivery import DeliveryConfig
from wms.events.inprocess import DeliveryLoop, InProcessScheduler
from wms.events.notify import CeleryNotifier, Notifier, NullNotifier, ThreadNotifier
from wms.web.handheld import inspection_routes as handheld_inspections
from wms.web.handheld import routes as handheld
from wms.web.planner import routes as planner
from wms.web.templating import STATIC_DIR

log = structlog.get_logger("wms.http")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API: engine and session factory on ``app.state``, routers, error translation."""
    settings = settings or get_settings()
    settings.require_secret_key()
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if not settings.broker_url and settings.run_jobs_in_process:
            scheduler = InProcessScheduler(app.state.session_factory)
            scheduler.start()
        delivery_loop: DeliveryLoop | None = app.state.delivery_loop
        if delivery_loop is not None:
            delivery_loop.start()
        yield
        if delivery_loop is not None:
            delivery_loop.stop()
        if scheduler is not None:
            scheduler.stop()
        engine.dispose()

    app = FastAPI(
        title="WMS API",
        version=__version__,
        description=(
            "Stock levels, reservations, orders and events for storefronts; master data and "
            "adjustments for administrators. Authenticate with `Authorization: Bearer <API key>`. "
            "Errors are `application/problem+json` naming the field and the reason."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    # After a commit that wrote events: a Celery task with a broker, else the in-process loop.
    app.state.delivery_loop = None
    notifier: Notifier = NullNotifier()
    if settings.broker_url:
        notifier = CeleryNotifier.for_broker(settings.broker_url)
    elif settings.run_jobs_in_process:
        app.state.delivery_loop = DeliveryLoop(
            app.state.session_factory, DeliveryConfig.from_settings(settings)
        )
        notifier = ThreadNotifier(app.state.delivery_loop)
    app.state.notifier = notifier
    problems.install(app)
    app.middleware("http")(_require_json)
    app.middleware("http")(_log_requests)
    for api in (
        catalog,
        events,
        inventory,
        labels,
        receipts,
        reservations,
        orders,
        fulfillments,
        webhook_routes,
        quality,
        procurement,
        delivery_routes,
        allocations,
    ):
        app.include_router(api.router, prefix="/api/v1")
    for pages in (handheld, handheld_inspections, planner):
        app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/healthz", tags=["operations"])
    def healthz(request: Request) -> dict[str, str]:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return app


async def _require_json(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """A body sent to the API must be JSON; anything else is refused before it is parsed."""
    has_body = (
        request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    )
    if (
        request.method in {"POST", "PUT", "PATCH"}
        and request.url.path.startswith("/api/")
        and has_body
    ):
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            return problems.problem(
                415,
                code="unsupported_media_type",
                detail=f"send the body as application/json, not {media_type or 'no content type'}",
                errors=[{"field": "content-type", "reason": "must be application/json"}],
            )
    return await call_next(request)


async def _log_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        response = await call_next(request)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    response.headers["x-request-id"] = request_id
    log.info(
        "request",
        method=request.method,
        path=request.url.path,
        status=response.status_code,
        duration_ms=elapsed_ms,
        request_id=request_id,
    )
    return response
