"""Acceptance 4: writers with long transactions while readers follow the feed; nothing is lost.

Writer threads hold their transactions open for random times (so transactions that began early
often commit after later ones), one of them deliberately so. Meanwhile four readers follow the
outbox as fast as they can:

- the feed library (`read_events`) in-process,
- `GET /api/v1/events` on a real `wms serve`,
- `GET /api/v1/events/stream` on the same server, reconnecting with `Last-Event-ID`,
- a naive reader that follows bare serial ids (`id > last_id`).

At the end the first three have each seen every outbox row exactly once. The naive reader has
missed at least the row of the deliberately late transaction: that shows the run really produced
the late commits the feed has to survive, so the test would fail for a reader that skips them.
"""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests import factories
from tests.commands import WMS, free_port, stop, wait_until_healthy, wms_env
from tests.conftest import Database
from wms.auth.services import create_api_key
from wms.db.outbox import OutboxEvent, record_event
from wms.events import feed
from wms.inventory import stock

WRITERS = 6
TRANSACTIONS_PER_WRITER = 5
MAX_HOLD_SECONDS = 1.2
SETTLE_SECONDS = 20.0


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def server(pg: Database, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = wms_env(
        WMS_DATABASE_URL=pg.url, WMS_SECRET_KEY="e2e-secret", WMS_RUN_JOBS_IN_PROCESS="false"
    )
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [WMS, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_healthy(running)
        yield running
    finally:
        stop(process)


@dataclass
class Reader:
    """What one reader saw, in order, and whether it has stopped with an error."""

    name: str
    seen: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def run_thread(target: Callable[[], None], reader: Reader | None = None) -> threading.Thread:
    def guarded() -> None:
        try:
            target()
        except BaseException as exc:  # surfaced by the assertions below
            if reader is not None:
                reader.errors.append(exc)
            raise

    thread = threading.Thread(target=guarded, daemon=True)
    thread.start()
    return thread


def test_readers_see_every_row_exactly_once_despite_late_commits(
    pg: Database, server: Server
) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=2)
        for n in range(WRITERS):
            factories.product(uow, f"LATE-{n}")
        key = create_api_key(uow, name="feed-reader", scopes=["storefront"]).key
        uow.commit()
    headers = {"Authorization": f"Bearer {key}"}

    stop_reading = threading.Event()
    long_started = threading.Event()
    naive_passed = threading.Event()
    long_row_id: list[int] = []
    writer_errors: list[BaseException] = []
    rng = random.Random(4)

    # --- writers ------------------------------------------------------------------------------

    def long_writer() -> None:
        """Begins first and commits only after the naive reader has gone past its row."""
        with pg.uow() as uow:
            record_event(uow.session, "test.long", "long", {"n": 0})
            uow.session.flush()
            row_id = uow.session.scalar(
                select(OutboxEvent.id).where(OutboxEvent.type == "test.long")
            )
            assert row_id is not None
            long_row_id.append(row_id)
            long_started.set()
            if not naive_passed.wait(timeout=15):
                raise AssertionError("no later transaction committed while the long one was open")
            time.sleep(0.3)  # the feed readers poll meanwhile and must wait for this one
            uow.commit()

    def writer(index: int, holds: list[float]) -> None:
        long_started.wait(timeout=10)
        for n, hold in enumerate(holds):
            with pg.uow() as uow:
                record_event(uow.session, "test.write", f"w{index}", {"writer": index, "n": n})
                if n % 2 == 0:  # a stock receipt writes its own level events in the same commit
                    stock.receive(
                        uow,
                        sku=f"LATE-{index}",
                        quantity=n + 1,
                        warehouse="SHA",
                        location="B01",
                        actor="e2e",
                    )
                uow.session.flush()
                time.sleep(hold)  # others begin and commit while this one is open
                uow.commit()

    # --- readers ------------------------------------------------------------------------------

    library = Reader("read_events")
    api = Reader("GET /events")
    sse = Reader("GET /events/stream")
    naive = Reader("id > last_id")

    def follow_library() -> None:
        cursor: feed.Cursor | None = None
        while not stop_reading.is_set():
            with pg.uow() as uow:
                page = feed.read_events(uow.session, after=cursor, limit=7)
            library.seen += [event.id for event in page.events]
            cursor = page.next_cursor
            time.sleep(0.002)

    def follow_api() -> None:
        after: str | None = None
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as http:
            while not stop_reading.is_set():
                params: dict[str, str | int] = {"limit": 11}
                if after is not None:
                    params["after"] = after
                response = http.get("/api/v1/events", params=params)
                assert response.status_code == 200, response.text
                body = response.json()
                api.seen += [event["id"] for event in body["data"]]
                after = body["next_cursor"]
                time.sleep(0.002)

    def follow_stream() -> None:
        last_event_id: str | None = None
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            while not stop_reading.is_set():
                request_headers = dict(headers)
                if last_event_id is not None:
                    request_headers["Last-Event-ID"] = last_event_id
                params = {"max_events": 9, "max_seconds": 1.5}  # reconnect often
                with http.stream(
                    "GET", "/api/v1/events/stream", headers=request_headers, params=params
                ) as response:
                    assert response.status_code == 200
                    fields: dict[str, str] = {}
                    for line in response.iter_lines():
                        if line.startswith(":"):
                            continue
                        if line:
                            name, _, value = line.partition(": ")
                            fields[name] = value
                            continue
                        if "data" in fields:
                            sse.seen.append(json.loads(fields["data"])["id"])
                            last_event_id = fields["id"]
                        fields = {}

    def follow_naively() -> None:
        last_id = 0
        while not stop_reading.is_set():
            with pg.uow() as uow:
                rows = uow.session.execute(
                    select(OutboxEvent.id, OutboxEvent.event_id)
                    .where(OutboxEvent.id > last_id)
                    .order_by(OutboxEvent.id)
                ).all()
            for row in rows:
                naive.seen.append(row.event_id)
                last_id = row.id
            if long_row_id and last_id > long_row_id[0] and not naive_passed.is_set():
                naive_passed.set()
            time.sleep(0.002)

    readers = [library, api, sse, naive]
    reader_threads = [
        run_thread(follow_library, library),
        run_thread(follow_api, api),
        run_thread(follow_stream, sse),
        run_thread(follow_naively, naive),
    ]

    def guarded_writer(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:
                writer_errors.append(exc)
                raise

        return run

    started = time.monotonic()
    writer_threads = [run_thread(guarded_writer(long_writer))]
    for index in range(WRITERS):
        holds = [rng.uniform(0, MAX_HOLD_SECONDS) for _ in range(TRANSACTIONS_PER_WRITER)]
        writer_threads.append(run_thread(guarded_writer(partial(writer, index, holds))))
    for thread in writer_threads:
        thread.join(timeout=60)
    assert not writer_errors, writer_errors
    writing_took = time.monotonic() - started

    # --- settle and compare -------------------------------------------------------------------

    with pg.uow() as uow:
        rows = uow.session.execute(
            select(OutboxEvent.event_id).order_by(OutboxEvent.txid, OutboxEvent.id)
        ).all()
    table = [row.event_id for row in rows]
    receipts = (TRANSACTIONS_PER_WRITER + 1) // 2
    # The long one, one per writer transaction, a level update per receipt and one back-in-stock
    # for each writer's first receipt.
    assert len(table) == 1 + WRITERS * TRANSACTIONS_PER_WRITER + WRITERS * (receipts + 1)

    deadline = time.monotonic() + SETTLE_SECONDS
    feed_readers = [library, api, sse]
    while any(len(r.seen) < len(table) for r in feed_readers) and time.monotonic() < deadline:
        assert not any(r.errors for r in readers), {r.name: r.errors for r in readers}
        time.sleep(0.05)
    time.sleep(0.5)  # one more round of polls: anything read twice would show up now
    stop_reading.set()
    for thread in reader_threads:
        thread.join(timeout=10)
    assert not any(r.errors for r in readers), {r.name: r.errors for r in readers}

    for reader in feed_readers:
        duplicates = {e for e in reader.seen if reader.seen.count(e) > 1}
        assert not duplicates, f"{reader.name} saw {len(duplicates)} events twice"
        missing = set(table) - set(reader.seen)
        assert not missing, f"{reader.name} missed {len(missing)} of {len(table)} events"
        assert reader.seen == table, f"{reader.name} saw the feed out of (txid, id) order"

    # The run produced late commits: a reader following ids alone lost at least the long one.
    naive_missed = set(table) - set(naive.seen)
    with pg.uow() as uow:
        long_event = uow.session.scalar(
            select(OutboxEvent.event_id).where(OutboxEvent.id == long_row_id[0])
        )
    assert long_event in naive_missed
    assert writing_took < 20, writing_took
