"""The event feed over HTTP: pages after a cursor, and the same feed as server-sent events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from wms.api.deps import Reader, Uow
from wms.db.uow import UnitOfWork
from wms.events import feed

router = APIRouter(tags=["events"])
log = structlog.get_logger("wms.events.stream")

# How often an idle stream looks for new events, and how long it stays silent before a comment
# keeps proxies and clients from timing the connection out.
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
STREAM_BATCH = 100
RETRY_MILLISECONDS = 2000

AFTER_DESCRIPTION = (
    "Return events strictly after this cursor (a `cursor` or `next_cursor` from an earlier "
    "answer, or `as_of_cursor` from `GET /inventory-levels`). Omit to start at the beginning."
)
TYPES_DESCRIPTION = (
    "Only these event types: exact names (`order.allocated`) or prefix patterns "
    "(`inventory.*`); repeat the parameter or separate with commas."
)


class EventOut(BaseModel):
    id: str = Field(description="The event id; deduplicate on it.", examples=["evt_9f2c..."])
    type: str = Field(examples=["inventory.level.updated"])
    subject: str = Field(description="What the event is about.", examples=["MUG-1@SHA"])
    created_at: datetime
    data: dict[str, Any] = Field(description="Absolute state after the change, with a version.")
    cursor: str = Field(description="The feed position of this event; resume after it.")


class EventPageOut(BaseModel):
    data: list[EventOut]
    next_cursor: str = Field(
        description=(
            "Pass as `after` to continue. Always present: when nothing new has committed it is "
            "the cursor you sent, so a client polls with it until events appear."
        )
    )


TypesQuery = Annotated[list[str], Query(description=TYPES_DESCRIPTION, max_length=50)]


@router.get("/events", response_model=EventPageOut)
def list_events(
    uow: Uow,
    _: Reader,
    after: Annotated[str | None, Query(description=AFTER_DESCRIPTION, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=feed.MAX_LIMIT)] = 100,
    types: TypesQuery = [],  # noqa: B006
) -> dict[str, object]:
    """Events in the order they became final; a cursor never skips an event that commits late."""
    cursor = feed.Cursor.parse(after, field="after") if after else None
    page = feed.read_events(
        uow.session, after=cursor, limit=limit, types=feed.parse_types(types, field="types")
    )
    return {
        "data": [event.as_dict() for event in page.events],
        "next_cursor": str(page.next_cursor),
    }


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": (
                "`text/event-stream`: each event as `id: <cursor>`, `event: <type>`, "
                "`data: <the event as JSON, as in GET /events>`; `: keepalive` comments while idle."
            ),
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def stream_events(
    request: Request,
    _: Reader,
    after: Annotated[str | None, Query(description=AFTER_DESCRIPTION, max_length=64)] = None,
    types: TypesQuery = [],  # noqa: B006
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="Sent by an EventSource on reconnect; takes precedence over `after`.",
            max_length=64,
        ),
    ] = None,
    max_events: Annotated[
        int | None,
        Query(ge=1, le=100_000, description="End the stream after this many events."),
    ] = None,
    max_seconds: Annotated[
        float | None,
        Query(gt=0, le=86_400, description="End the stream after this many seconds."),
    ] = None,
) -> StreamingResponse:
    """The feed as server-sent events, resuming after `Last-Event-ID` (or `after`).

    The stream polls the outbox and holds no database connection between polls. It runs until
    the client disconnects, or until `max_events`/`max_seconds` if given (for bounded clients
    and tests).
    """
    if last_event_id:
        start: feed.Cursor | None = feed.Cursor.parse(last_event_id, field="Last-Event-ID")
    else:
        start = feed.Cursor.parse(after, field="after") if after else None
    patterns = feed.parse_types(types, field="types")
    frames = _frames(
        request.app.state.session_factory,
        start=start or feed.START,
        types=patterns,
        max_events=max_events,
        max_seconds=max_seconds,
    )
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _read(
    session_factory: sessionmaker[Session], after: feed.Cursor, limit: int, types: Sequence[str]
) -> feed.FeedPage:
    with UnitOfWork(session_factory) as uow:
        return feed.read_events(uow.session, after=after, limit=limit, types=types)


def _frame(event: feed.EventView) -> str:
    payload = EventOut.model_validate(event.as_dict()).model_dump_json()
    return f"id: {event.cursor}\nevent: {event.type}\ndata: {payload}\n\n"


async def _frames(
    session_factory: sessionmaker[Session],
    *,
    start: feed.Cursor,
    types: Sequence[str],
    max_events: int | None,
    max_seconds: float | None,
) -> AsyncIterator[str]:
    """The SSE body. A disconnect cancels this generator at its next ``await``."""
    began = time.monotonic()
    deadline = began + max_seconds if max_seconds is not None else None
    cursor = start
    sent = 0
    ended = "disconnected"  # unless the loop ends by itself: then a limit was reached
    log.info("event_stream_opened", after=str(start), types=list(types))
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
        last_write = time.monotonic()
        while True:
            limit = STREAM_BATCH if max_events is None else min(STREAM_BATCH, max_events - sent)
            page = await run_in_threadpool(_read, session_factory, cursor, limit, types)
            for event in page.events:
                yield _frame(event)
            cursor = page.next_cursor
            sent += len(page.events)
            now = time.monotonic()
            if page.events:
                last_write = now
            if (max_events is not None and sent >= max_events) or (
                deadline is not None and now >= deadline
            ):
                ended = "limit"
                return
            if len(page.events) == limit:
                continue  # more may be waiting: read on without sleeping
            if now - last_write >= KEEPALIVE_SECONDS:
                yield ": keepalive\n\n"
                last_write = now
            pause = POLL_SECONDS if deadline is None else min(POLL_SECONDS, deadline - now)
            await asyncio.sleep(pause)
    finally:
        log.info("event_stream_closed", events=sent, cursor=str(cursor), ended=ended)
