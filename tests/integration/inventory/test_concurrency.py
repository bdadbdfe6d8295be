"""Concurrency on PostgreSQL: parallel sessions race for the same stock; none oversells or deadlocks."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

import pytest

from tests import factories
from tests.concurrency import race as shared_race
from tests.conftest import Database
from wms.db.uow import UnitOfWork, transaction
from wms.inventory import levels, stock
from wms.inventory.errors import InsufficientStock, StockAllocated
from wms.inventory.integrity import check_ledger
from wms.inventory.levels import LevelLine


def race(db: Database, workers: int, action: Callable[[UnitOfWork, int], object]) -> Counter[str]:
    """Races here may only be refused for want of stock."""
    return shared_race(db, workers, action, refusals=(InsufficientStock, StockAllocated))


def assert_consistent(db: Database) -> None:
    with db.uow() as uow:
        report = check_ledger(uow.session)
    assert report.ok, [d.describe() for d in report.discrepancies]
    assert db.scalar("SELECT count(*) FROM quants WHERE quantity < 0") == 0


@pytest.fixture
def stocked(pg: Database) -> Database:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=4)
        factories.warehouse(uow, "CAN", bins=2)
        for sku in ("LAST", "X", "Y"):
            factories.product(uow, sku)
        stock.receive(uow, sku="LAST", quantity=10, warehouse="SHA", location="B01", actor="t")
        stock.receive(uow, sku="X", quantity=100, warehouse="SHA", location="B01", actor="t")
        stock.receive(uow, sku="X", quantity=100, warehouse="SHA", location="B02", actor="t")
        stock.receive(uow, sku="Y", quantity=100, warehouse="SHA", location="B01", actor="t")
        stock.receive(uow, sku="Y", quantity=100, warehouse="SHA", location="B02", actor="t")
        uow.commit()
    return pg


def test_fifty_sessions_holding_the_last_ten_units_exactly_ten_win(stocked: Database) -> None:
    outcomes = race(
        stocked, 50, lambda uow, _: levels.reserve(uow, lines=[LevelLine("LAST", "SHA", 1)])
    )
    assert outcomes == Counter({"ok": 10, "InsufficientStock": 40})
    assert (
        stocked.scalar(
            "SELECT reserved FROM stock_levels sl JOIN products p ON p.id = sl.product_id "
            "JOIN warehouses w ON w.id = sl.warehouse_id WHERE p.sku = 'LAST' AND w.code = 'SHA'"
        )
        == 10
    )
    # each winning hold bumped the version once, and nothing else changed it
    assert (
        stocked.scalar(
            "SELECT version FROM stock_levels sl JOIN products p ON p.id = sl.product_id "
            "JOIN warehouses w ON w.id = sl.warehouse_id WHERE p.sku = 'LAST' AND w.code = 'SHA'"
        )
        == 11
    )
    assert_consistent(stocked)


def test_fifty_sessions_shipping_the_last_ten_units_exactly_ten_win(stocked: Database) -> None:
    outcomes = race(
        stocked,
        50,
        lambda uow, _: stock.deliver(
            uow, warehouse="SHA", lines=[stock.PickedLine("LAST", 1, "B01")], actor="t"
        ),
    )
    assert outcomes == Counter({"ok": 10, "InsufficientStock": 40})
    assert stocked.scalar("SELECT count(*) FROM moves WHERE reason = 'shipment'") == 10
    assert_consistent(stocked)


def test_moves_crossing_the_same_quants_in_opposite_orders_neither_deadlock_nor_go_negative(
    stocked: Database,
) -> None:
    """Each worker makes 10 postings, each in its own transaction, as every stock service does."""

    def shuffle(index: int) -> None:
        rng = random.Random(index)
        first, second = ("X", "Y") if index % 2 else ("Y", "X")
        for _ in range(10):
            source, target = ("B01", "B02") if rng.random() < 0.5 else ("B02", "B01")
            with stocked.uow() as uow:
                kind = rng.randrange(3)
                try:
                    if kind == 0:  # two products from both bins in one posting, opposite orders
                        stock.deliver(
                            uow,
                            warehouse="SHA",
                            actor="t",
                            lines=[
                                stock.PickedLine(first, 1, source),
                                stock.PickedLine(second, 1, target),
                            ],
                        )
                    elif kind == 1:
                        stock.move(
                            uow,
                            sku=first,
                            quantity=rng.randint(1, 30),
                            warehouse="SHA",
                            from_location=source,
                            to_location=target,
                            actor="t",
                        )
                    else:
                        stock.ship_transfer(
                            uow,
                            from_warehouse="SHA",
                            to_warehouse="CAN",
                            actor="t",
                            lines=[
                                stock.TransferLineRequest(second, 1, target),
                                stock.TransferLineRequest(first, 1, source),
                            ],
                        )
                    uow.commit()
                except InsufficientStock:
                    continue

    outcomes = race(stocked, 24, lambda _uow, index: shuffle(index))
    assert outcomes == Counter({"ok": 24})
    shipped = int(
        str(
            stocked.scalar("SELECT coalesce(sum(quantity), 0) FROM moves WHERE reason = 'shipment'")
        )
    )
    on_hand = int(
        str(
            stocked.scalar(
                "SELECT sum(on_hand) + sum(incoming) FROM stock_levels sl JOIN products p ON p.id = sl.product_id "
                "WHERE p.sku IN ('X','Y')"
            )
        )
    )
    assert on_hand + shipped == 400  # nothing created or lost: in stock, in transit, or shipped
    assert_consistent(stocked)


def test_multi_step_transactions_complete_through_retry_on_deadlock(stocked: Database) -> None:
    """Two postings in one transaction cannot keep one lock order; `transaction` retries them."""
    attempts = Counter[int]()

    def move_then_ship(index: int) -> None:
        first, second = ("X", "Y") if index % 2 else ("Y", "X")

        def work(uow: UnitOfWork) -> None:
            attempts[index] += 1
            stock.move(
                uow,
                sku=first,
                quantity=1,
                warehouse="SHA",
                from_location="B01",
                to_location="B02",
                actor="t",
            )
            stock.deliver(
                uow, warehouse="SHA", actor="t", lines=[stock.PickedLine(second, 1, "B01")]
            )

        for _ in range(3):
            transaction(stocked.session_factory, work, attempts=ATTEMPTS)

    outcomes = race(stocked, 6, lambda _uow, index: move_then_ship(index))
    assert outcomes == Counter({"ok": 6})
    assert stocked.scalar("SELECT count(*) FROM moves WHERE reason = 'shipment'") == 6 * 3
    assert_consistent(stocked)


ATTEMPTS = 10


def test_holds_and_adjustments_racing_never_oversell(stocked: Database) -> None:
    """Reservations and stock removals on the same level: committed + reserved stays sellable."""

    def act(uow: UnitOfWork, index: int) -> None:
        if index % 3 == 0:
            stock.adjust(
                uow,
                sku="LAST",
                warehouse="SHA",
                quantity=-2,
                location="B01",
                reason="lost",
                actor="t",
            )
        else:
            levels.reserve(uow, lines=[LevelLine("LAST", "SHA", 1)])

    race(stocked, 30, act)
    on_hand, reserved = (
        stocked.scalar(
            "SELECT on_hand FROM stock_levels sl JOIN products p ON p.id = sl.product_id "
            "JOIN warehouses w ON w.id = sl.warehouse_id WHERE p.sku = 'LAST' AND w.code = 'SHA'"
        ),
        stocked.scalar(
            "SELECT reserved FROM stock_levels sl JOIN products p ON p.id = sl.product_id "
            "JOIN warehouses w ON w.id = sl.warehouse_id WHERE p.sku = 'LAST' AND w.code = 'SHA'"
        ),
    )
    assert int(str(reserved)) <= int(str(on_hand))
    assert_consistent(stocked)


def test_parallel_receipts_of_a_new_lot_create_it_once(stocked: Database) -> None:
    from datetime import date

    with stocked.uow() as uow:
        factories.product(uow, "TEA", lot_tracked=True, shelf_life_days=365)
        uow.commit()
    outcomes = race(
        stocked,
        16,
        lambda uow, i: stock.receive(
            uow,
            sku="TEA",
            quantity=1,
            warehouse="SHA",
            location=f"B0{i % 4 + 1}",
            lot="NEW",
            expiry_date=date(2030, 1, 1),
            actor="t",
        ),
    )
    assert outcomes == Counter({"ok": 16})
    assert stocked.scalar("SELECT count(*) FROM lots WHERE code = 'NEW'") == 1
    assert_consistent(stocked)


def test_the_integrity_check_reads_one_snapshot_while_writers_post(stocked: Database) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        rng = random.Random(index)
        while not stop.is_set():
            source, target = ("B01", "B02") if rng.random() < 0.5 else ("B02", "B01")
            try:
                with stocked.uow() as uow:
                    stock.move(
                        uow,
                        sku="X",
                        quantity=1,
                        warehouse="SHA",
                        from_location=source,
                        to_location=target,
                        actor="t",
                    )
                    stock.deliver(
                        uow, warehouse="SHA", lines=[stock.PickedLine("Y", 1, source)], actor="t"
                    )
                    uow.commit()
            except InsufficientStock:
                continue
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    try:
        reports = []
        for _ in range(15):
            with stocked.uow() as uow:
                reports.append(check_ledger(uow.session))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors
    assert len({r.moves for r in reports}) > 1, "the writers did not run during the checks"
    assert all(r.ok for r in reports), [d.describe() for r in reports for d in r.discrepancies][:5]
