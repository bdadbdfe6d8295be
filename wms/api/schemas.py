"""Request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from wms.inventory.stock import MAX_QUANTITY

T = TypeVar("T")

Code = Annotated[str, Field(min_length=1, max_length=16)]
Quantity = Annotated[int, Field(strict=True, ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
Measure = Annotated[int, Field(strict=True, ge=0, le=2**31 - 1)]
Days = Annotated[int, Field(strict=True, ge=1, le=36500)]
Sku = Annotated[str, Field(min_length=1, max_length=64)]


class Body(BaseModel):
    """Request bodies refuse unknown fields and coerce nothing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageOut(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class WarehouseIn(Body):
    code: Code = Field(examples=["SHA"])
    name: Annotated[str, Field(min_length=1, max_length=120)]
    region: Annotated[str, Field(min_length=1, max_length=64)]
    address: Annotated[str, Field(min_length=1, max_length=255)]
    latitude: Annotated[float, Field(ge=-90, le=90, strict=True)]
    longitude: Annotated[float, Field(ge=-180, le=180, strict=True)]
    time_zone: Annotated[str, Field(min_length=1, max_length=64, examples=["Asia/Shanghai"])]


class WarehouseOut(BaseModel):
    code: str
    name: str
    region: str
    address: str
    latitude: float
    longitude: float
    time_zone: str
    active: bool


class PackIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=32)]
    quantity: Annotated[int, Field(strict=True, ge=2, le=MAX_QUANTITY)]
    gtin: str | None = None


class PackOut(BaseModel):
    name: str
    quantity: int
    gtin: str | None


class ProductIn(Body):
    sku: Sku
    name: Annotated[str, Field(min_length=1, max_length=200)]
    gtin: Annotated[
        str | None, Field(description="GTIN-8, -12, -13 or -14; stored as GTIN-14.")
    ] = None
    description: Annotated[str, Field(max_length=4000)] = ""
    base_unit: Annotated[str, Field(min_length=1, max_length=16)] = "EA"
    weight_g: Measure | None = None
    volume_cm3: Measure | None = None
    lot_tracked: StrictBool = False
    shelf_life_days: Days | None = None
    packs: list[PackIn] = Field(default_factory=list, max_length=10)


class ProductOut(BaseModel):
    sku: str
    gtin: str | None
    name: str
    description: str
    base_unit: str
    weight_g: int | None
    volume_cm3: int | None
    lot_tracked: bool
    shelf_life_days: int | None
    active: bool
    packs: list[PackOut]


class LevelOut(BaseModel):
    sku: str
    warehouse: str
    on_hand: int
    committed: int
    reserved: int
    quality_control: int
    damaged: int
    safety_stock: int
    incoming: int
    available: int = Field(
        description="on_hand - committed - reserved - quality_control - damaged - safety_stock, at least 0; 0 while blocked"
    )
    version: int = Field(description="Increases on every change of this level.")
    updated_at: datetime
    blocked: bool = Field(
        default=False, description="The product is pulled from sale (a quality block)."
    )


class AdjustmentIn(Body):
    sku: Sku
    warehouse: Code
    quantity: Quantity = Field(
        description="Signed: positive adds stock, negative removes it. Not zero."
    )
    reason: Annotated[str, Field(min_length=1, max_length=32, examples=["cycle_count"])]
    location: Annotated[
        str | None,
        Field(
            max_length=64,
            description="Code or barcode; receiving (add) or sellable locations (remove) by default.",
        ),
    ] = None
    lot: Annotated[str | None, Field(max_length=64)] = None
    expiry_date: date | None = None
    reference: Annotated[str, Field(max_length=128)] = ""


class AdjustmentOut(BaseModel):
    moves: int
    levels: list[LevelOut]
