"""Small builders of master data for tests, all through the real services."""

from __future__ import annotations

import itertools

from wms.db.uow import UnitOfWork
from wms.inventory import catalog
from wms.inventory.gtin import make_gtin
from wms.inventory.models import LocationKind
from wms.procurement.models import Supplier

_gtins = itertools.count(1)

CITIES = {
    "SHA": ("Shanghai", 31.23, 121.47),
    "CAN": ("Guangzhou", 23.13, 113.26),
    "PEK": ("Beijing", 39.90, 116.41),
    "CTU": ("Chengdu", 30.57, 104.07),
}


def warehouse(uow: UnitOfWork, code: str = "SHA", *, bins: int = 4) -> list[str]:
    """A warehouse with ``bins`` storage bins named B01.. (returned)."""
    city, lat, lon = CITIES.get(code, (code.title(), 30.0, 115.0))
    catalog.create_warehouse(
        uow,
        code=code,
        name=f"{city} DC",
        region="China",
        address=f"1 Test Road, {city}",
        latitude=lat,
        longitude=lon,
        time_zone="Asia/Shanghai",
    )
    names = []
    for index in range(1, bins + 1):
        name = f"B{index:02d}"
        catalog.create_location(
            uow,
            warehouse=code,
            code=name,
            name=f"Bin {name}",
            kind=LocationKind.STORAGE,
            parent="STOCK",
            barcode=f"{code}-{name}",
        )
        names.append(name)
    return names


def product(
    uow: UnitOfWork,
    sku: str = "SKU-1",
    *,
    lot_tracked: bool = False,
    shelf_life_days: int | None = None,
    packs: list[catalog.PackSpec] | None = None,
) -> catalog.ProductRef:
    """A product with a valid, unique GTIN (and optionally packs of several units)."""
    return catalog.create_product(
        uow,
        sku=sku,
        name=f"Test product {sku}",
        gtin=new_gtin(),
        lot_tracked=lot_tracked,
        shelf_life_days=shelf_life_days,
        packs=packs,
    )


def new_gtin() -> str:
    """A valid GTIN no other test product uses."""
    return make_gtin(f"0690{next(_gtins):09d}")


def supplier(uow: UnitOfWork, code: str = "SUP-1", *, active: bool = True) -> int:
    """A supplier (there is no supplier service yet); returns its id."""
    row = Supplier(code=code, name=f"Supplier {code}", country="CN", active=active)
    uow.session.add(row)
    uow.session.flush()
    return row.id
