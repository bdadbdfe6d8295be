"""`GET /events` and `GET /events/stream` over HTTP on PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from tests.commands import free_port
from tests.conftest import Database
from tests.integration.api.conftest import assert_problem, bearer
from tests.integration.events.horizon import settle
from wms.api.app import create_app
from wms.api.routers import events as events_router
from wms.config import Settings
from wms.db.outbox import record_event
from wms.events.feed import Cursor

TYPES = (
    "inventory.level.updated",
    "order.received",
    "inventory.item.out_of_stock",
    "fulfillment.shipped",
    "order.cancelled",
)


def emit(db: Database, type_: str, subject: str, **data: object) -> None:
    with db.uow() as uow:
        record_event(uow.session, type_, subject, dict(data))
        uow.commit()
    settle(db)


@pytest.fixture
def storefront(pg: Database) -> dict[str, str]:
    return bearer(pg, "storefront", name="shop")


@pytest.fixture
def five(pg: Database) -> Database:
    """Five events of different types, subjects e0..e4, each in its own transaction."""
    for n, type_ in enumerate(TYPES):
        emit(pg, type_, f"e{n}", n=n, version=n + 1)
    return pg


def get_events(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/events", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def subjects(body: dict[str, Any]) -> list[str]:
    return [event["subject"] for event in body["data"]]


@dataclass
class Frame:
    fields: dict[str, str]
    comments: list[str]


def parse_sse(text: str) -> list[Frame]:
    """Split an event stream into frames, strictly: every line is a comment or `field: value`."""
    assert text.endswith("\n\n"), repr(text[-40:])
    frames = []
    for block in text[:-2].split("\n\n"):
        fields: dict[str, str] = {}
        comments: list[str] = []
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line[1:].strip())
                continue
            name, sep, value = line.partition(": ")
            assert sep, f"not an SSE line: {line!r}"
            assert name not in fields, f"field {name} repeated in {block!r}"
            fields[name] = value
        frames.append(Frame(fields, comments))
    return frames


def event_frames(text: str) -> list[dict[str, str]]:
    return [f.fields for f in parse_sse(text) if "data" in f.fields]


def stream(
    client: TestClient, headers: dict[str, str], **params: Any
) -> tuple[httpx.Response, str]:
    with client.stream("GET", "/api/v1/events/stream", headers=headers, params=params) as resp:
        text = "".join(resp.iter_text())
    return resp, text


# --- GET /events -----------------------------------------------------------------------------


def test_events_come_in_order_with_their_cursors(
    five: Database, client: TestClient, storefront: dict[str, str]
) -> None:
    body = get_events(client, storefront)
    assert set(body) == {"data", "next_cursor"}
    assert subjects(body) == ["e0", "e1", "e2", "e3", "e4"]
    first = body["data"][0]
    assert set(first) == {"id", "type", "subject", "created_at", "data", "cursor"}
    assert first["id"].startswith("evt_")
    assert (first["type"], first["data"]) == ("inventory.level.updated", {"n": 0, "version": 1})
    assert first["created_at"].endswith(("Z", "+00:00"))
    stored = five.scalar("SELECT txid || '-' || id FROM outbox_events ORDER BY id LIMIT 1")
    assert first["cursor"] == stored
    assert body["next_cursor"] == body["data"][-1]["cursor"]


def test_next_cursor_is_always_there_so_a_client_can_poll(
    pg: Database, client: TestClient, storefront: dict[str, str]
) -> None:
    empty = get_events(client, storefront)
    assert empty == {"data": [], "next_cursor": "0-0"}
    emit(pg, "order.received", "o1")
    first = get_events(client, storefront, after=empty["next_cursor"])
    assert subjects(first) == ["o1"]
    idle = get_events(client, storefront, after=first["next_cursor"])
    assert idle == {"data": [], "next_cursor": first["next_cursor"]}
    emit(pg, "order.received", "o2")
    assert subjects(get_events(client, storefront, after=idle["next_cursor"])) == ["o2"]


def test_limit_pages_through_every_event_once(
    five: Database, client: TestClient, storefront: dict[str, str]
) -> None:
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if after:
            params["after"] = after
        body = get_events(client, storefront, **params)
        if not body["data"]:
            assert body["next_cursor"] == after
            break
        pages += 1
        assert len(body["data"]) <= 2
        seen += subjects(body)
        after = body["next_cursor"]
    assert (seen, pages) == (["e0", "e1", "e2", "e3", "e4"], 3)
    assert len(get_events(client, storefront, limit=1000)["data"]) == 5


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"types": "order.received"}, ["e1"], id="one"),
        pytest.param({"types": ["order.received", "fulfillment.shipped"]}, ["e1", "e3"], id="rep"),
        pytest.param({"types": "order.received,fulfillment.shipped"}, ["e1", "e3"], id="comma"),
        pytest.param({"types": "inventory.*"}, ["e0", "e2"], id="prefix"),
        pytest.param({"types": ["inventory.*", "order.cancelled"]}, ["e0", "e2", "e4"], id="mix"),
        pytest.param({"types": "*"}, ["e0", "e1", "e2", "e3", "e4"], id="star"),
        pytest.param({"types": "reservation.expired"}, [], id="none"),
    ],
)
def test_types_filter_the_feed(
    five: Database,
    client: TestClient,
    storefront: dict[str, str],
    params: dict[str, Any],
    expected: list[str],
) -> None:
    everything = get_events(client, storefront)
    body = get_events(client, storefront, **params)
    assert subjects(body) == expected
    # The cursor moves past events that did not match, to where an unfiltered read would stop.
    assert body["next_cursor"] == everything["next_cursor"]


@pytest.mark.parametrize(
    "after",
    ["nope", "1", "1-", "-1", "1-2-3", "01-2", "1-2 ", "9" * 30 + "-1", "eyJhZnRlciI6IDF9"],
)
def test_a_malformed_cursor_is_a_422_naming_after(
    pg: Database, client: TestClient, storefront: dict[str, str], after: str
) -> None:
    response = client.get("/api/v1/events", headers=storefront, params={"after": after})
    assert_problem(response, 422, "validation_failed", field="after")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"limit": 0}, "limit", id="limit-0"),
        pytest.param({"limit": 1001}, "limit", id="limit-1001"),
        pytest.param({"limit": "ten"}, "limit", id="limit-text"),
        pytest.param({"types": "Order.Received"}, "types", id="bad-type"),
        pytest.param({"types": "order.*.x"}, "types", id="bad-pattern"),
        pytest.param({"types": "order.\x00"}, "types", id="nul-in-type"),
        pytest.param({"after": "1-\x00"}, "after", id="nul-in-after"),
        pytest.param({"types": [f"t{n}.x" for n in range(51)]}, "types", id="too-many"),
        pytest.param({"after": "1" * 65}, "after", id="long-after"),
    ],
)
def test_a_bad_feed_query_is_a_422_problem(
    pg: Database,
    client: TestClient,
    storefront: dict[str, str],
    params: dict[str, Any],
    field: str,
) -> None:
    response = client.get("/api/v1/events", headers=storefront, params=params)
    body = assert_problem(response, 422, "validation_failed", field=field)
    assert body["type"] == "/problems/validation_failed"


def test_the_feed_needs_a_key_with_read_access(
    pg: Database, client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    assert_problem(client.get("/api/v1/events"), 401, "unauthorized")
    assert_problem(client.get("/api/v1/events/stream"), 401, "unauthorized")
    bogus = {"Authorization": "Bearer wms_nope"}
    assert client.get("/api/v1/events", headers=bogus).status_code == 401
    for headers in (admin, reader):
        assert client.get("/api/v1/events", headers=headers).status_code == 200


# --- GET /events/stream ----------------------------------------------------------------------


def test_the_stream_frames_each_event_as_the_feed_shows_it(
    five: Database, client: TestClient, storefront: dict[str, str]
) -> None:
    response, text = stream(client, storefront, max_events=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    frames = parse_sse(text)
    assert frames[0].fields == {"retry": "2000"}
    assert frames[0].comments == ["connected"]
    listed = get_events(client, storefront)["data"]
    sent = event_frames(text)
    assert [f["id"] for f in sent] == [e["cursor"] for e in listed]
    assert [f["event"] for f in sent] == list(TYPES)
    assert [json.loads(f["data"]) for f in sent] == listed
    assert all("\n" not in f["data"] for f in sent)


def test_the_stream_resumes_after_last_event_id(
    five: Database, client: TestClient, storefront: dict[str, str]
) -> None:
    _, first = stream(client, storefront, max_events=2)
    received = event_frames(first)
    assert [json.loads(f["data"])["subject"] for f in received] == ["e0", "e1"]
    # An EventSource reconnects to the same URL, sending the last id it saw.
    _, rest = stream(
        client,
        {**storefront, "Last-Event-ID": received[-1]["id"]},
        max_events=3,
        after="0-0",  # the original URL's `after` loses to Last-Event-ID
    )
    resumed = event_frames(rest)
    assert [json.loads(f["data"])["subject"] for f in resumed] == ["e2", "e3", "e4"]
    _, from_after = stream(client, storefront, after=received[0]["id"], max_events=1)
    assert [json.loads(f["data"])["subject"] for f in event_frames(from_after)] == ["e1"]


def test_the_stream_filters_types(
    five: Database, client: TestClient, storefront: dict[str, str]
) -> None:
    _, text = stream(client, storefront, types="order.*", max_events=2)
    assert [f["event"] for f in event_frames(text)] == ["order.received", "order.cancelled"]


def test_an_idle_stream_sends_keepalive_comments(
    pg: Database,
    client: TestClient,
    storefront: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events_router, "POLL_SECONDS", 0.02)
    monkeypatch.setattr(events_router, "KEEPALIVE_SECONDS", 0.1)
    started = time.monotonic()
    _, text = stream(client, storefront, max_seconds=0.5)
    assert 0.45 <= time.monotonic() - started < 5
    frames = parse_sse(text)
    assert event_frames(text) == []
    keepalives = [f for f in frames[1:] if f.comments == ["keepalive"] and not f.fields]
    assert 2 <= len(keepalives) == len(frames) - 1


@pytest.mark.parametrize(
    ("params", "headers", "field"),
    [
        pytest.param({"after": "x"}, {}, "after", id="after"),
        pytest.param({}, {"Last-Event-ID": "1-2-3"}, "Last-Event-ID", id="last-event-id"),
        pytest.param({"types": "BAD"}, {}, "types", id="types"),
        pytest.param({"max_events": 0}, {}, "max_events", id="max-events"),
        pytest.param({"max_seconds": -1}, {}, "max_seconds", id="max-seconds"),
    ],
)
def test_a_bad_stream_request_is_a_422_problem_not_a_stream(
    pg: Database,
    client: TestClient,
    storefront: dict[str, str],
    params: dict[str, Any],
    headers: dict[str, str],
    field: str,
) -> None:
    response = client.get("/api/v1/events/stream", headers={**storefront, **headers}, params=params)
    assert_problem(response, 422, "validation_failed", field=field)


# --- the stream on a real server -------------------------------------------------------------


@pytest.fixture
def live_server(pg: Database) -> Iterator[str]:
    """The app on uvicorn in a thread: real sockets, so a client can really go away."""
    settings = Settings(database_url=pg.url, secret_key="test-secret", run_jobs_in_process=False)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_config=None,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn exited"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive(), "uvicorn did not stop"


def test_a_live_stream_delivers_new_commits_and_ends_when_the_client_leaves(
    pg: Database, live_server: str, storefront: dict[str, str]
) -> None:
    with capture_logs() as logs, httpx.Client(base_url=live_server, timeout=10) as http:
        with http.stream("GET", "/api/v1/events/stream", headers=storefront) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            assert next(lines) == "retry: 2000"
            assert next(lines) == ": connected"
            assert next(lines) == ""
            emit(pg, "order.received", "live-1")
            received: dict[str, str] = {}
            for line in lines:
                if not line:
                    break
                name, _, value = line.partition(": ")
                received[name] = value
            assert received["event"] == "order.received"
            assert json.loads(received["data"])["subject"] == "live-1"
            assert Cursor.parse(received["id"]).id == 1
        # The client has hung up; the server's generator must notice and stop polling.
        deadline = time.monotonic() + 5
        while not any(e["event"] == "event_stream_closed" for e in logs):
            assert time.monotonic() < deadline, f"the stream kept running: {logs}"
            time.sleep(0.05)
    closed = next(e for e in logs if e["event"] == "event_stream_closed")
    assert closed["ended"] == "disconnected"
    assert closed["events"] == 1
