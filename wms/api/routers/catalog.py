"""Warehouses and products."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, status

from wms.api.deps import Admin, Reader, Uow
from wms.api.schemas import PageOut, ProductIn, ProductOut, WarehouseIn, WarehouseOut
from wms.inventory import catalog, queries

router = APIRouter(tags=["catalog"])

Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/warehouses", response_model=PageOut[WarehouseOut])
def list_warehouses(
    uow: Uow, _: Reader, cursor: str | None = None, limit: Limit = 100
) -> dict[str, object]:
    page = queries.list_warehouses(uow.session, cursor=cursor, limit=limit)
    return {"data": [asdict(w) for w in page.items], "next_cursor": page.next_cursor}


@router.get("/warehouses/{code}", response_model=WarehouseOut)
def get_warehouse(code: str, uow: Uow, _: Reader) -> dict[str, object]:
    return asdict(queries.warehouse_detail(uow.session, code))


@router.post("/warehouses", response_model=WarehouseOut, status_code=status.HTTP_201_CREATED)
def create_warehouse(body: WarehouseIn, uow: Uow, _: Admin) -> dict[str, object]:
    ref = catalog.create_warehouse(uow, **body.model_dump())
    uow.commit()
    return asdict(queries.warehouse_detail(uow.session, ref.code))


@router.get("/products", response_model=PageOut[ProductOut])
def list_products(
    uow: Uow, _: Reader, cursor: str | None = None, limit: Limit = 100
) -> dict[str, object]:
    page = queries.list_products(uow.session, cursor=cursor, limit=limit)
    return {"data": [asdict(p) for p in page.items], "next_cursor": page.next_cursor}


@router.get("/products/{sku}", response_model=ProductOut)
def get_product(sku: str, uow: Uow, _: Reader) -> dict[str, object]:
    return asdict(queries.product_detail(uow.session, sku))


@router.post("/products", response_model=ProductOut, status_code=status.HTTP_201_CREATED)
def create_product(body: ProductIn, uow: Uow, _: Admin) -> dict[str, object]:
    fields = body.model_dump(exclude={"packs"})
    packs = [catalog.PackSpec(p.name, p.quantity, p.gtin) for p in body.packs]
    ref = catalog.create_product(uow, packs=packs, **fields)
    uow.commit()
    return asdict(queries.product_detail(uow.session, ref.sku))
