"""Suppliers and supplier products on PostgreSQL: order rules and price breaks, every bad input
refused naming its field with nothing written, and lead times learned and pooled (Welford)."""

from __future__ import annotations

import math
import statistics
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Database
from tests.integration.procurement.support import (
    SUPPLIER,
    approved,
    days_ago,
    offer_mug,
    picture,
    receive,
    setup_purchasing,
)
from wms.errors import AlreadyExists, NotFound, ValidationFailed
from wms.inventory.errors import UnknownSku
from wms.procurement import suppliers
from wms.procurement.lead_times import pooled, welford
from wms.quality.suppliers import UnknownSupplier


@pytest.fixture
def db(pg: Database) -> Database:
    return setup_purchasing(pg)


def test_a_supplier_product_keeps_its_order_rules_and_rising_breaks(db: Database) -> None:
    with db.uow() as uow:
        [mug] = suppliers.supplier_products(uow.session, sku="MUG")
    assert (mug.supplier, mug.currency, mug.moq, mug.pack_multiple) == (SUPPLIER, "CNY", 24, 12)
    assert mug.lead_time_days == 14
    assert [(b.min_quantity, b.unit_price) for b in mug.price_breaks] == [
        (1, Decimal("12.50")),
        (100, Decimal("11.80")),
        (500, Decimal("11.00")),
    ]
    assert (mug.lead_time_samples, mug.lead_time_mean_days, mug.capacity_per_week) == (
        0,
        None,
        None,
    )
    breaks = mug.price_breaks
    assert [suppliers.unit_price_for(breaks, q) for q in (24, 100, 499, 500)] == [
        Decimal("12.50"),
        Decimal("11.80"),
        Decimal("11.80"),
        Decimal("11.00"),
    ]


def test_setting_an_offer_again_replaces_its_breaks_and_keeps_what_was_learned(
    db: Database,
) -> None:
    code = approved(db, {"MUG": 120}, at=days_ago(9))
    receive(db, code, "MUG", 120)
    with db.uow() as uow:
        offer_mug(uow, moq=36, price_breaks=[(1, Decimal("12")), (1000, Decimal("10.5"))])
        uow.commit()
    with db.uow() as uow:
        [mug] = suppliers.supplier_products(uow.session, sku="MUG")
    assert mug.moq == 36
    assert [(b.min_quantity, b.unit_price) for b in mug.price_breaks] == [
        (1, Decimal("12")),
        (1000, Decimal("10.5")),
    ]
    assert mug.lead_time_samples == 1
    assert mug.lead_time_mean_days == pytest.approx(9, abs=0.01)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lead_time_days": -1}, "lead_time_days"),
        ({"pack_multiple": 0}, "pack_multiple"),
        ({"moq": 0}, "moq"),
        ({"price_breaks": []}, "price_breaks"),
        (
            {"price_breaks": [(10, Decimal("5")), (10, Decimal("4"))]},
            "price_breaks[1].min_quantity",
        ),
        ({"price_breaks": [(10, Decimal("5")), (5, Decimal("4"))]}, "price_breaks[1].min_quantity"),
        ({"price_breaks": [(1, Decimal("5")), (10, Decimal("6"))]}, "price_breaks[1].unit_price"),
        ({"price_breaks": [(1, Decimal("-1"))]}, "price_breaks[0].unit_price"),
        ({"price_breaks": [(0, Decimal("1"))]}, "price_breaks[0].min_quantity"),
        ({"price_breaks": [(1, Decimal("1.00001"))]}, "price_breaks[0].unit_price"),
        ({"currency": "yuan"}, "currency"),
        ({"capacity_per_week": 0}, "capacity_per_week"),
        ({"fixed_order_cost": Decimal("-5")}, "fixed_order_cost"),
    ],
)
def test_bad_supplier_product_input_is_refused_naming_the_field(
    db: Database, changes: dict[str, Any], field: str
) -> None:
    before = picture(db)
    with db.uow() as uow, pytest.raises(ValidationFailed) as refused:
        offer_mug(uow, **changes)
    assert refused.value.field == field
    assert refused.value.message
    assert picture(db) == before


@pytest.mark.parametrize(
    ("supplier", "sku", "error", "field"),
    [("NOPE", "MUG", UnknownSupplier, "supplier"), (SUPPLIER, "NOPE", UnknownSku, "sku")],
)
def test_an_unknown_supplier_or_sku_is_not_found_and_writes_nothing(
    db: Database, supplier: str, sku: str, error: type[NotFound], field: str
) -> None:
    before = picture(db)
    with db.uow() as uow, pytest.raises(error) as refused:
        suppliers.set_supplier_product(
            uow,
            supplier=supplier,
            sku=sku,
            currency="CNY",
            moq=1,
            pack_multiple=1,
            lead_time_days=5,
            price_breaks=[(1, Decimal("1"))],
        )
    assert isinstance(refused.value, NotFound)
    assert refused.value.field == field
    assert picture(db) == before


def test_suppliers_are_created_updated_and_their_codes_unique(db: Database) -> None:
    with db.uow() as uow:
        made = suppliers.create_supplier(
            uow, code="nb-new", name="Ningbo New Co.", country="CN", email="a@b.cn"
        )
        changed = suppliers.update_supplier(uow, code="NB-NEW", city="Ningbo", active=False)
        uow.commit()
    assert (made.code, made.quality_status) == ("NB-NEW", "approved")
    assert (changed.city, changed.active, changed.name) == ("Ningbo", False, "Ningbo New Co.")
    before = picture(db)
    with db.uow() as uow, pytest.raises(AlreadyExists):
        suppliers.create_supplier(uow, code="NB-NEW", name="Again", country="CN")
    for bad, field in (({"country": "China"}, "country"), ({"email": "nope"}, "email")):
        with db.uow() as uow, pytest.raises(ValidationFailed) as refused:
            suppliers.create_supplier(uow, **{"code": "X-1", "name": "X", "country": "CN", **bad})
        assert refused.value.field == field
    assert picture(db) == before


def test_welford_and_pooling_match_the_textbook() -> None:
    days = [10.0, 14.0, 11.5, 20.0, 9.0]
    n, mean, sd = 0, 0.0, 0.0
    for x in days:
        n, mean, sd = welford(n, mean if n else None, sd if n else None, x)
    assert n == 5
    assert mean == pytest.approx(statistics.fmean(days))
    assert sd == pytest.approx(statistics.stdev(days))
    left, right = days[:2], days[2:]
    together = pooled(
        [
            (2, statistics.fmean(left), statistics.stdev(left)),
            (3, statistics.fmean(right), statistics.stdev(right)),
            (0, None, None),
        ]
    )
    count, pooled_mean, pooled_sd = together
    assert count == 5
    assert pooled_mean == pytest.approx(statistics.fmean(days))
    assert pooled_sd == pytest.approx(sd)
    assert welford(0, None, None, 7.0) == (1, 7.0, 0.0)


def test_the_supplier_list_sets_planned_against_learned_lead_times(db: Database) -> None:
    for ago, sku in ((10, "MUG"), (14, "TEA")):
        code = approved(db, {sku: 24}, at=days_ago(ago))
        receive(db, code, sku, 24)
    approved(db, {"MUG": 48})  # open: counted, not yet learned from
    with db.uow() as uow:
        [listed] = suppliers.supplier_list(uow.session)
    assert listed.supplier.code == SUPPLIER
    assert listed.products == 2
    assert listed.planned_mean_days == pytest.approx((14 + 7) / 2)
    assert listed.learned_samples == 2
    assert listed.learned_mean_days == pytest.approx(12, abs=0.01)
    assert listed.learned_sd_days == pytest.approx(math.sqrt(8), abs=0.01)
    assert (listed.deliveries, listed.on_time_rate, listed.open_orders) == (2, 1.0, 1)
