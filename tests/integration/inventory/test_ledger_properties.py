"""Property-based: random sequences of stock operations keep the ledger balanced and agreeing.

A hypothesis state machine drives receipts, moves, adjustments, scraps, shipments and transfers
through the real services on PostgreSQL, keeps its own model of where every unit is, and after
every step checks the stored quants against the model and the whole database with `check_ledger`.
Operations that ask for more than is there must be refused and must write nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, text

from tests import factories
from tests.conftest import _truncate
from wms.db.engine import make_session_factory
from wms.db.uow import UnitOfWork
from wms.inventory import stock
from wms.inventory.errors import InsufficientStock
from wms.inventory.integrity import check_ledger, ledger_balances

WAREHOUSES = ("SHA", "CAN")
BINS = ("B01", "B02", "B03")
SKUS = ("MUG", "TEA")  # TEA is lot-tracked
LOTS = ("L1", "L2")
EXPIRY = {"L1": date(2030, 1, 1), "L2": date(2031, 6, 1)}

Key = tuple[str, str, str, str | None]  # warehouse, location, sku, lot

quantities = st.integers(min_value=1, max_value=40)
warehouses = st.sampled_from(WAREHOUSES)
locations = st.sampled_from((*BINS, "RECV", "QC", "DMG"))
skus = st.sampled_from(SKUS)
lots = st.sampled_from(LOTS)


class LedgerMachine(RuleBasedStateMachine):
    transfers = Bundle("transfers")

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.factory = make_session_factory(engine)
        self.model: defaultdict[Key, int] = defaultdict(int)
        self.in_transit: dict[str, list[tuple[str, str | None, int, str]]] = {}
        self.refusals = 0
        self.transfer_seq = 1

    @initialize()
    def master_data(self) -> None:
        _truncate(self.engine)
        with UnitOfWork(self.factory) as uow:
            for code in WAREHOUSES:
                factories.warehouse(uow, code, bins=len(BINS))
            factories.product(uow, "MUG")
            factories.product(uow, "TEA", lot_tracked=True, shelf_life_days=400)
            uow.commit()

    def _draw_stock(
        self, data: st.DataObject, *, warehouse_only: bool = True
    ) -> tuple[Key, int] | None:
        """A place that holds stock per the model, and a quantity that sometimes exceeds it."""
        stocked = sorted(
            (k for k, q in self.model.items() if q > 0 and (k[0] or not warehouse_only)),
            key=lambda k: (k[0], k[1], k[2], k[3] or ""),
        )
        if not stocked:
            return None
        key = data.draw(st.sampled_from(stocked), label="from")
        qty = data.draw(st.integers(1, self.model[key] + 3), label="quantity")
        return key, qty

    def _lot(self, sku: str, lot: str) -> str | None:
        return lot if sku == "TEA" else None

    def _moves(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM moves")).scalar_one())

    def _attempt(self, action, changes: list[tuple[Key, int]]) -> bool:  # type: ignore[no-untyped-def]
        """Run ``action``; it must succeed exactly when the model says no location goes negative."""
        feasible = all(self.model[key] + delta >= 0 for key, delta in _net(changes).items())
        before = self._moves()
        with UnitOfWork(self.factory) as uow:
            try:
                action(uow)
                uow.commit()
            except InsufficientStock:
                assert not feasible, "refused although the stock was there"
                assert self._moves() == before, "a refused operation wrote moves"
                self.refusals += 1
                return False
        assert feasible, "accepted although a location would go negative"
        for key, delta in changes:
            self.model[key] += delta
        return True

    @rule(wh=warehouses, loc=locations, sku=skus, lot=lots, qty=quantities)
    def receive(self, wh: str, loc: str, sku: str, lot: str, qty: int) -> None:
        lot_code = self._lot(sku, lot)
        self._attempt(
            lambda uow: stock.receive(
                uow,
                sku=sku,
                quantity=qty,
                warehouse=wh,
                location=loc,
                lot=lot_code,
                expiry_date=EXPIRY[lot] if lot_code else None,
                actor="h",
            ),
            [((wh, loc, sku, lot_code), qty)],
        )

    @rule(data=st.data(), dst=locations)
    def move(self, data: st.DataObject, dst: str) -> None:
        drawn = self._draw_stock(data)
        if drawn is None or drawn[0][1] == dst:
            return
        (wh, src, sku, lot_code), qty = drawn
        self._attempt(
            lambda uow: stock.move(
                uow,
                sku=sku,
                quantity=qty,
                warehouse=wh,
                from_location=src,
                to_location=dst,
                lot=lot_code,
                actor="h",
            ),
            [((wh, src, sku, lot_code), -qty), ((wh, dst, sku, lot_code), qty)],
        )

    @rule(wh=warehouses, loc=locations, sku=skus, lot=lots, qty=st.integers(-40, 40).filter(bool))
    def adjust(self, wh: str, loc: str, sku: str, lot: str, qty: int) -> None:
        lot_code = self._lot(sku, lot)
        if qty < 0 and lot_code and not self._lot_exists(sku, lot_code):
            return
        self._attempt(
            lambda uow: stock.adjust(
                uow,
                sku=sku,
                warehouse=wh,
                quantity=qty,
                location=loc,
                lot=lot_code,
                expiry_date=EXPIRY[lot] if lot_code else None,
                reason="found" if qty > 0 else "lost",
                actor="h",
            ),
            [((wh, loc, sku, lot_code), qty)],
        )

    @rule(data=st.data())
    def scrap(self, data: st.DataObject) -> None:
        drawn = self._draw_stock(data)
        if drawn is None:
            return
        (wh, loc, sku, lot_code), qty = drawn
        self._attempt(
            lambda uow: stock.scrap(
                uow, sku=sku, quantity=qty, warehouse=wh, location=loc, lot=lot_code, actor="h"
            ),
            [((wh, loc, sku, lot_code), -qty)],
        )

    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        drawn = self._draw_stock(data)
        if drawn is None:
            return
        (wh, loc, sku, lot_code), qty = drawn
        self._attempt(
            lambda uow: stock.deliver(
                uow, warehouse=wh, lines=[stock.PickedLine(sku, qty, loc, lot_code)], actor="h"
            ),
            [((wh, loc, sku, lot_code), -qty)],
        )

    @rule(target=transfers, data=st.data())
    def ship_transfer(self, data: st.DataObject) -> str:
        drawn = self._draw_stock(data)
        if drawn is None:
            return ""
        (src, loc, sku, lot_code), qty = drawn
        dst = WAREHOUSES[1 - WAREHOUSES.index(src)]
        reference = f"TR-{self.transfer_seq}"
        self.transfer_seq += 1
        shipped = self._attempt(
            lambda uow: stock.ship_transfer(
                uow,
                from_warehouse=src,
                to_warehouse=dst,
                reference=reference,
                lines=[stock.TransferLineRequest(sku, qty, loc, lot_code)],
                actor="h",
            ),
            [((src, loc, sku, lot_code), -qty), (("", "TRANSIT", sku, lot_code), qty)],
        )
        if not shipped:
            return ""
        self.in_transit[reference] = [(sku, lot_code, qty, dst)]
        return reference

    @rule(reference=transfers, loc=locations)
    def receive_transfer(self, reference: str, loc: str) -> None:
        lines = self.in_transit.pop(reference, None) if reference else None
        if not lines:
            return
        changes: list[tuple[Key, int]] = []
        for sku, lot_code, qty, dst in lines:
            changes += [(("", "TRANSIT", sku, lot_code), -qty), ((dst, loc, sku, lot_code), qty)]
        self._attempt(
            lambda uow: stock.receive_transfer(uow, reference=reference, location=loc, actor="h"),
            changes,
        )

    @rule(data=st.data())
    def remove_by_adjustment_anywhere(self, data: st.DataObject) -> None:
        """A negative adjustment naming no location draws from sellable places first-expiry-first."""
        drawn = self._draw_stock(data)
        if drawn is None or drawn[0][1] in ("QC", "DMG"):
            return
        (wh, _loc, sku, lot_code), _ = drawn
        sellable = {
            k: q
            for k, q in self.model.items()
            if k[0] == wh
            and k[2] == sku
            and k[3] == lot_code
            and k[1] not in ("QC", "DMG")
            and q > 0
        }
        total = sum(sellable.values())
        qty = data.draw(st.integers(1, total + 2), label="quantity")
        before = self._moves()
        with UnitOfWork(self.factory) as uow:
            try:
                stock.adjust(
                    uow,
                    sku=sku,
                    warehouse=wh,
                    quantity=-qty,
                    lot=lot_code,
                    reason="lost",
                    actor="h",
                )
                uow.commit()
            except InsufficientStock:
                assert qty > total
                assert self._moves() == before
                return
        assert qty <= total
        self._resync_from_database()

    def _stored_quants(self) -> dict[Key, int]:
        """Every quant as (warehouse, location, sku, lot) -> quantity; transit has no warehouse."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT coalesce(w.code, ''), l.code, p.sku, lot.code, q.quantity FROM quants q "
                    "JOIN locations l ON l.id = q.location_id LEFT JOIN warehouses w ON w.id = l.warehouse_id "
                    "JOIN products p ON p.id = q.product_id LEFT JOIN lots lot ON lot.id = q.lot_id"
                )
            ).all()
        return {(w, loc, sku, lot): qty for w, loc, sku, lot, qty in rows}

    def _resync_from_database(self) -> None:
        """Where the service chose the locations, take them from the quants (checked by check_ledger)."""
        self.model = defaultdict(int, self._stored_quants())

    def _lot_exists(self, sku: str, lot: str) -> bool:
        with self.engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT 1 FROM lots JOIN products p ON p.id = lots.product_id WHERE p.sku = :s AND lots.code = :l"
                ),
                {"s": sku, "l": lot},
            ).first()
        return found is not None

    @invariant()
    def stored_stock_matches_the_model(self) -> None:
        stored = {key: qty for key, qty in self._stored_quants().items() if qty}
        expected = {key: qty for key, qty in self.model.items() if qty}
        assert stored == expected
        assert all(qty >= 0 for qty in stored.values())

    @invariant()
    def the_ledger_balances_and_agrees_with_check(self) -> None:
        with UnitOfWork(self.factory) as uow:
            report = check_ledger(uow.session)
            totals: defaultdict[tuple[int, int | None], int] = defaultdict(int)
            for (product_id, lot_id, _), quantity in ledger_balances(uow.session).items():
                totals[(product_id, lot_id)] += quantity
        assert report.ok, [d.describe() for d in report.discrepancies]
        assert all(total == 0 for total in totals.values())


def _net(changes: list[tuple[Key, int]]) -> dict[Key, int]:
    net: defaultdict[Key, int] = defaultdict(int)
    for key, delta in changes:
        net[key] += delta
    return net


@pytest.mark.slow
def test_random_operation_sequences_keep_the_ledger_balanced(pg_engine: Engine) -> None:
    run_state_machine_as_test(
        lambda: LedgerMachine(pg_engine),  # type: ignore[arg-type]  # a factory works too
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
