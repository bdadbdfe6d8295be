"""The event feed over the outbox on PostgreSQL: order, paging, filters, and late commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Database
from tests.integration.events.horizon import settle
from wms.db.outbox import OutboxEvent, record_event
from wms.db.uow import UnitOfWork
from wms.errors import ValidationFailed
from wms.events import feed
from wms.events.feed import Cursor
from wms.inventory import stock


def emit(db: Database, type_: str, subject: str = "s", **data: object) -> None:
    """One event in its own committed transaction, final for the feed unless we hold it back."""
    with db.uow() as uow:
        record_event(uow.session, type_, subject, dict(data))
        uow.commit()
    settle(db)


@contextmanager
def open_writer(db: Database, type_: str, subject: str) -> Iterator[UnitOfWork]:
    """A transaction that has written an event and stays open until the block ends (then commits)."""
    with db.uow() as uow:
        record_event(uow.session, type_, subject, {})
        uow.session.flush()
        yield uow
        uow.commit()
    settle(db)


def read(
    db: Database, after: Cursor | None = None, limit: int = 100, types: tuple[str, ...] = ()
) -> feed.FeedPage:
    with db.uow() as uow:
        return feed.read_events(uow.session, after=after, limit=limit, types=types)


def subjects(page: feed.FeedPage) -> list[str]:
    return [event.subject for event in page.events]


def follow(db: Database, after: Cursor | None = None, **kwargs: object) -> tuple[list[str], Cursor]:
    """Every event after ``after``, page by page; the subjects and the final cursor."""
    seen: list[str] = []
    cursor = after
    for _ in range(100):
        page = read(db, cursor, **kwargs)  # type: ignore[arg-type]
        seen += subjects(page)
        if not page.events and cursor is not None and page.next_cursor == cursor:
            return seen, cursor
        cursor = page.next_cursor
    raise AssertionError("the feed did not settle")


def naive_read(db: Database, last_id: int) -> list[tuple[int, str]]:
    """(id, subject) of what a reader following bare serial ids would see after ``last_id``."""
    with db.uow() as uow:
        rows = uow.session.execute(
            select(OutboxEvent.id, OutboxEvent.subject)
            .where(OutboxEvent.id > last_id)
            .order_by(OutboxEvent.id)
        )
        return [(row.id, row.subject) for row in rows]


# --- cursors ---------------------------------------------------------------------------------


def test_a_cursor_survives_its_own_text() -> None:
    for cursor in (Cursor(0, 0), Cursor(742, 3), Cursor(2**63 - 1, 2**63 - 1)):
        assert Cursor.parse(str(cursor)) == cursor
    assert str(Cursor(12, 34)) == "12-34"
    assert Cursor(1, 9) < Cursor(2, 1) < Cursor(2, 2)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "12",
        "12-",
        "-12",
        "1-2-3",
        "01-2",
        "1-02",
        "1_2",
        " 1-2",
        "1-2 ",
        "1-2\n",
        "+1-2",
        "1.0-2",
        "\u0661-\u0662",  # Arabic-Indic digits: int() would take them, the feed does not
        f"{2**63}-1",
        f"1-{2**63}",
        "9" * 40 + "-1",
        "MTIzLTQ1",
    ],
)
def test_a_malformed_cursor_names_the_field(value: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Cursor.parse(value)
    assert caught.value.field == "after"
    with pytest.raises(ValidationFailed) as caught:
        Cursor.parse(value, field="Last-Event-ID")
    assert caught.value.field == "Last-Event-ID"


# --- order and paging ------------------------------------------------------------------------


def test_an_empty_feed_answers_with_where_to_poll_from(pg: Database) -> None:
    page = read(pg)
    assert page.events == []
    assert page.next_cursor == feed.START
    page = read(pg, Cursor(5, 7))
    assert page.events == []
    assert page.next_cursor == Cursor(5, 7)


def test_pages_follow_each_other_without_gaps_or_repeats(pg: Database) -> None:
    for n in range(7):
        emit(pg, "order.received", f"o{n}", n=n)
    first = read(pg, limit=3)
    assert subjects(first) == ["o0", "o1", "o2"]
    assert first.next_cursor == Cursor.parse(first.events[-1].cursor)
    second = read(pg, first.next_cursor, limit=3)
    third = read(pg, second.next_cursor, limit=3)
    assert subjects(second) == ["o3", "o4", "o5"]
    assert subjects(third) == ["o6"]
    idle = read(pg, third.next_cursor, limit=3)
    assert idle.events == []
    assert idle.next_cursor == third.next_cursor
    emit(pg, "order.received", "o7")
    assert subjects(read(pg, idle.next_cursor, limit=3)) == ["o7"]


def test_an_event_shows_what_the_outbox_row_holds(pg: Database) -> None:
    emit(pg, "order.allocated", "ord_1", status="allocated", version=3)
    (event,) = read(pg).events
    row = pg.scalar("SELECT event_id || '|' || txid || '-' || id FROM outbox_events")
    assert f"{event.id}|{event.cursor}" == row
    assert event.id.startswith("evt_")
    assert (event.type, event.subject, event.data) == (
        "order.allocated",
        "ord_1",
        {"status": "allocated", "version": 3},
    )
    assert event.created_at.utcoffset() is not None
    assert set(event.as_dict()) == {"id", "type", "subject", "created_at", "data", "cursor"}


def test_events_of_one_transaction_keep_their_insertion_order(pg: Database) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.product(uow, "MUG-1")
        factories.product(uow, "TEA-1")
        uow.commit()
    with pg.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=5, warehouse="SHA", location="B01", actor="t")
        stock.receive(uow, sku="TEA-1", quantity=2, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    settle(pg)
    events = read(pg).events
    assert [(e.type, e.subject) for e in events] == [
        ("inventory.level.updated", "MUG-1@SHA"),
        ("inventory.item.back_in_stock", "MUG-1@SHA"),
        ("inventory.level.updated", "TEA-1@SHA"),
        ("inventory.item.back_in_stock", "TEA-1@SHA"),
    ]
    assert len({Cursor.parse(e.cursor).txid for e in events}) == 1
    assert events[0].data["on_hand"] == 5
    assert events[0].data["version"] == 1


def test_the_limit_is_bounded(pg: Database) -> None:
    for limit in (0, -1, feed.MAX_LIMIT + 1):
        with pytest.raises(ValidationFailed) as caught:
            read(pg, limit=limit)
        assert caught.value.field == "limit"


# --- late commits ----------------------------------------------------------------------------


def test_a_transaction_that_commits_late_is_not_skipped(pg: Database) -> None:
    emit(pg, "order.received", "before")
    start = read(pg).next_cursor
    with open_writer(pg, "order.received", "late"):
        emit(pg, "order.received", "early")  # a later id and transaction, committed first
        # A naive reader sees `early` and moves past the id `late` still holds.
        naive = naive_read(pg, 1)
        assert [subject for _, subject in naive] == ["early"]
        naive_position = naive[-1][0]
        # The feed waits: nothing after the open transaction is final yet.
        waiting = read(pg, start)
        assert waiting.events == []
        assert waiting.next_cursor == start
    assert naive_read(pg, naive_position) == []  # the naive reader has lost `late` for good
    assert subjects(read(pg, start)) == ["late", "early"]
    assert follow(pg)[0] == ["before", "late", "early"]


def test_a_late_commit_is_delivered_once_even_to_a_reader_that_kept_polling(pg: Database) -> None:
    seen: list[str] = []
    cursor: Cursor | None = None

    def poll() -> None:
        nonlocal cursor
        page = read(pg, cursor)
        seen.extend(subjects(page))
        cursor = page.next_cursor

    with open_writer(pg, "t.x", "A"):
        emit(pg, "t.x", "B")
        poll()
        with open_writer(pg, "t.x", "C"):
            emit(pg, "t.x", "D")
            poll()
        poll()  # C and D are final now, but A still holds them back
        assert seen == []
    poll()
    poll()
    assert seen == ["A", "B", "C", "D"]


def test_a_rolled_back_transaction_does_not_hold_the_feed(pg: Database) -> None:
    with pg.uow() as uow:
        record_event(uow.session, "t.x", "ghost", {})
        uow.session.flush()
        emit(pg, "t.x", "kept")
        uow.rollback()
    settle(pg)
    assert subjects(read(pg)) == ["kept"]


def test_a_reader_that_writes_nothing_holds_nothing_back(pg: Database) -> None:
    with pg.uow() as idle:
        idle.session.execute(text("SELECT 1"))  # an open, read-only transaction
        emit(pg, "t.x", "one")
        assert subjects(read(pg)) == ["one"]


# --- type filters ----------------------------------------------------------------------------


@pytest.fixture
def mixed(pg: Database) -> Database:
    for type_, subject in (
        ("inventory.level.updated", "l1"),
        ("order.received", "o1"),
        ("inventory.item.out_of_stock", "s1"),
        ("fulfillment.shipped", "f1"),
        ("order.cancelled", "o2"),
        ("inventoryx.level", "x1"),
        ("out_of.thing", "u1"),
        ("outxof.thing", "u2"),
    ):
        emit(pg, type_, subject)
    return pg


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        pytest.param((), ["l1", "o1", "s1", "f1", "o2", "x1", "u1", "u2"], id="none"),
        pytest.param(("*",), ["l1", "o1", "s1", "f1", "o2", "x1", "u1", "u2"], id="star"),
        pytest.param(("order.received",), ["o1"], id="exact"),
        pytest.param(("inventory.*",), ["l1", "s1"], id="prefix-stops-at-the-dot"),
        pytest.param(("order.*", "fulfillment.shipped"), ["o1", "f1", "o2"], id="mixed"),
        pytest.param(("order.received,order.cancelled",), ["o1", "o2"], id="comma"),
        pytest.param(("out_of.*",), ["u1"], id="underscore-is-not-a-wildcard"),
        pytest.param(("nothing.here",), [], id="no-match"),
    ],
)
def test_type_filters(mixed: Database, types: tuple[str, ...], expected: list[str]) -> None:
    assert subjects(read(mixed, types=types)) == expected
    assert follow(mixed, types=types)[0] == expected


def test_a_filter_moves_the_cursor_past_rows_it_did_not_return(mixed: Database) -> None:
    last = read(mixed).next_cursor
    rare = read(mixed, types=("fulfillment.*",))
    assert subjects(rare) == ["f1"]
    assert rare.next_cursor == last  # not f1's cursor: everything up to the end was scanned
    nothing = read(mixed, types=("nothing.here",))
    assert nothing.events == []
    assert nothing.next_cursor == last
    again = read(mixed, last, types=("nothing.here",))
    assert again.events == []
    assert again.next_cursor == last


def test_a_full_filtered_page_continues_after_its_last_event(mixed: Database) -> None:
    page = read(mixed, limit=1, types=("order.*",))
    assert subjects(page) == ["o1"]
    assert page.next_cursor == Cursor.parse(page.events[0].cursor)
    assert subjects(read(mixed, page.next_cursor, limit=1, types=("order.*",))) == ["o2"]


def test_a_filter_does_not_move_past_a_transaction_still_open(pg: Database) -> None:
    emit(pg, "order.received", "o1")
    with open_writer(pg, "order.received", "late"):
        emit(pg, "inventory.level.updated", "l1")
        page = read(pg, types=("order.*",))
        assert subjects(page) == ["o1"]
        cursor = page.next_cursor
    assert subjects(read(pg, cursor, types=("order.*",))) == ["late"]


@pytest.mark.parametrize(
    "value",
    [
        "Order.received",
        "order..received",
        "order.",
        ".order",
        "order*",
        "*.received",
        "or der",
        "order.*.x",
        "a" * 65,
        "order.rec%eived",
        "order.received;",
    ],
)
def test_a_malformed_type_is_refused(value: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        feed.parse_types([value])
    assert caught.value.field == "types"


def test_types_are_split_on_commas_and_deduplicated() -> None:
    assert feed.parse_types(["a.b, c.*", "a.b", "", " , "]) == ("a.b", "c.*")
    with pytest.raises(ValidationFailed):
        feed.parse_types([",".join(f"t{n}.x" for n in range(feed.MAX_TYPES + 1))])


# --- the cursor of a snapshot ----------------------------------------------------------------


def test_the_cursor_of_a_snapshot_yields_every_change_it_does_not_show(pg: Database) -> None:
    emit(pg, "t.x", "shown")
    with open_writer(pg, "t.x", "open-during-snapshot"):
        emit(pg, "t.x", "committed-before-snapshot")  # a later transaction, already done
        with pg.engine.connect() as connection:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin(), Session(bind=connection) as session:
                as_of = feed.current_cursor(session)
                visible = session.scalar(
                    text("SELECT string_agg(subject, ',' ORDER BY id) FROM outbox_events")
                )
                xmin = session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())"))
        assert as_of == Cursor(int(str(xmin)), 0)
        assert visible == "shown,committed-before-snapshot"
    emit(pg, "t.x", "after")
    # What the snapshot missed, plus one it showed already (a harmless repeat), never "shown".
    assert follow(pg, as_of)[0] == ["open-during-snapshot", "committed-before-snapshot", "after"]


def test_current_cursor_is_where_an_idle_reader_would_be(pg: Database) -> None:
    emit(pg, "t.x", "one")
    with pg.uow() as uow:
        as_of = feed.current_cursor(uow.session)
    assert read(pg, as_of).events == []
    emit(pg, "t.x", "two")
    assert subjects(read(pg, as_of)) == ["two"]


# --- SQLite ----------------------------------------------------------------------------------


def test_on_sqlite_the_feed_follows_ids(sqlite_db: Database) -> None:
    for n in range(5):
        emit(sqlite_db, "order.received" if n % 2 else "inventory.level.updated", f"e{n}")
    page = read(sqlite_db, limit=2)
    assert subjects(page) == ["e0", "e1"]
    assert page.next_cursor == Cursor(0, 2)
    assert subjects(read(sqlite_db, page.next_cursor)) == ["e2", "e3", "e4"]
    filtered = read(sqlite_db, types=("order.*",))
    assert subjects(filtered) == ["e1", "e3"]
    assert filtered.next_cursor == Cursor(0, 5)
    with sqlite_db.uow() as uow:
        assert feed.current_cursor(uow.session) == Cursor(0, 5)
