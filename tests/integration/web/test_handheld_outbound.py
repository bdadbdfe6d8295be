"""Pick, pack, ship and short picks on the handheld, through its HTTP routes on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests import factories
from tests.conftest import Database
from tests.integration.fulfillment import floor
from wms.api.app import create_app
from wms.auth.services import create_user
from wms.auth.sessions import set_pin
from wms.config import Settings
from wms.db.base import utcnow
from wms.inventory.integrity import check_ledger
from wms.inventory.models import Product


class CountingNotifier:
    def __init__(self) -> None:
        self.calls = 0

    def notify(self) -> None:
        self.calls += 1


class Device:
    """A signed-in handheld: scans and button presses as the page's scan queue sends them."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def sign_in(self, username: str, pin: str, warehouse: str = "SHA") -> None:
        self.client.cookies.clear()
        signed = self.client.post(
            "/handheld/login", data={"username": username, "pin": pin}, follow_redirects=False
        )
        assert signed.status_code == 303, signed.text
        self.client.post("/handheld/warehouse", data={"warehouse": warehouse})

    def send(self, entry: dict[str, str]) -> dict[str, Any]:
        response = self.client.post("/handheld/scan", json=entry)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def scan(self, value: str, *, expect: str, screen: str) -> dict[str, Any]:
        body = self.send({"id": uuid.uuid4().hex, "kind": "scan", "value": value})
        assert (body["status"], body["screen"]) == (expect, screen), body["message"]
        assert f'data-screen="{screen}"' in body["html"]
        return body

    def press(self, action: str, arg: str = "", *, expect: str, screen: str) -> dict[str, Any]:
        entry = {"id": uuid.uuid4().hex, "kind": "action", "action": action, "arg": arg}
        body = self.send(entry)
        assert (body["status"], body["screen"]) == (expect, screen), body["message"]
        return body


@pytest.fixture
def notifier() -> CountingNotifier:
    return CountingNotifier()


@pytest.fixture
def device(pg: Database, notifier: CountingNotifier) -> Iterator[Device]:
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        factories.product(uow, "TEA", lot_tracked=True, shelf_life_days=365)
        floor.put(uow, "MUG", "B01", 10)
        floor.put(uow, "TEA", "B02", 10, lot="T1", expiry=utcnow().date() + timedelta(days=60))
        for name, role, pin in (("op", "operator", "1234"), ("boss", "supervisor", "9876")):
            create_user(
                uow, username=name, display_name=name.title(), role=role, password="pw-12345"
            )
            set_pin(uow, username=name, pin=pin)
        uow.commit()
    app = create_app(Settings(database_url=pg.url, secret_key="test-secret"))
    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.notifier = notifier
        yield Device(client)


def _gtin(pg: Database, sku: str) -> str:
    with pg.uow() as uow:
        gtin = uow.session.scalar(select(Product.gtin).where(Product.sku == sku))
    assert gtin is not None
    return gtin


def _order(pg: Database, *lines: tuple[str, int]) -> str:
    with pg.uow() as uow:
        fid = floor.order(uow, *lines)
        uow.commit()
    return fid


def test_a_fulfilment_is_picked_packed_and_shipped_on_the_handheld(
    pg: Database, device: Device, notifier: CountingNotifier
) -> None:
    fid = _order(pg, ("MUG", 2), ("TEA", 3))
    device.sign_in("op", "1234")
    menu = device.client.get("/handheld").text
    for flow in ("pick", "pack", "ship"):
        assert f'data-action="start" data-arg="{flow}"' in menu
    assert 'data-arg="pick_exceptions"' not in menu  # for supervisors

    # Pick: the fulfilment's barcode on the menu opens its pick list at the first stop.
    opened = device.scan(fid.upper(), expect="ok", screen="pick.bin")
    assert "Go to bin SHA-B01" in opened["html"]
    moves = pg.count("moves")
    wrong = device.scan("SHA-B02", expect="error", screen="pick.bin")
    assert "Scanned bin SHA-B02, expected SHA-B01" in wrong["message"]
    assert 'data-testid="error-expected">bin SHA-B01<' in wrong["html"]
    device.scan("SHA-B01", expect="ok", screen="pick.item")
    wrong = device.scan(_gtin(pg, "TEA"), expect="error", screen="pick.item")
    assert "expected MUG" in wrong["message"]
    device.scan(_gtin(pg, "MUG"), expect="info", screen="pick.quantity")
    device.scan("3", expect="error", screen="pick.quantity")  # the stop asks for 2
    picked = device.scan("", expect="ok", screen="pick.bin")  # Enter: the stop's quantity
    assert picked["message"] == "Picked 2 x MUG from SHA-B01"
    device.scan("SHA-B02", expect="ok", screen="pick.item")
    device.scan(_gtin(pg, "TEA"), expect="info", screen="pick.lot")  # no lot in an EAN
    device.scan("T9", expect="error", screen="pick.lot")
    device.scan("T1", expect="info", screen="pick.quantity")
    done = device.scan("", expect="ok", screen="pick.done")
    assert "All picked: take it to packing" in done["message"]
    assert floor.fulfillment_status(pg, fid) == "picked"
    assert pg.count("moves") == moves + 2

    # Pack: one package, weighed, with its label.
    device.press("pack", expect="ok", screen="pack.item")
    device.scan("SPOON", expect="error", screen="pack.item")
    device.scan(_gtin(pg, "MUG"), expect="info", screen="pack.quantity")
    device.scan("", expect="ok", screen="pack.item")
    device.scan(f"(01){_gtin(pg, 'TEA')}(10)T1", expect="info", screen="pack.quantity")
    packed = device.scan("", expect="ok", screen="pack.weight")
    assert "Everything is packed" in packed["message"]
    device.scan("0", expect="error", screen="pack.weight")
    closed = device.scan("1250", expect="ok", screen="pack.packed")
    sscc = str(pg.scalar("SELECT sscc FROM packages"))
    assert f"/handheld/labels/package.pdf?sscc={sscc}" in closed["html"]
    label = device.client.get(f"/handheld/labels/package.pdf?sscc={sscc}")
    assert label.status_code == 200
    assert label.content.startswith(b"%PDF-")

    # Ship: carrier, tracking number, confirm; a replayed confirmation books nothing more.
    device.press("ship", expect="ok", screen="ship.carrier")
    device.press("carrier", "SF Express", expect="ok", screen="ship.tracking")
    device.scan("SF1234567890", expect="ok", screen="ship.confirm")
    calls = notifier.calls
    ship = {"id": uuid.uuid4().hex, "kind": "action", "action": "ship", "arg": ""}
    shipped = device.send(ship)
    assert (shipped["status"], shipped["screen"]) == ("ok", "ship.shipped"), shipped["message"]
    assert notifier.calls == calls + 1
    again = device.send(ship)
    assert again["duplicate"] is True
    assert notifier.calls == calls + 1
    assert pg.scalar("SELECT count(*) FROM moves WHERE reason = 'shipment'") == 2
    assert pg.scalar("SELECT carrier || ' ' || tracking_number FROM fulfillment_orders") == (
        "SF Express SF1234567890"
    )
    assert [t for t, _ in floor.events(pg)] == [
        "fulfillment.picked",
        "fulfillment.packed",
        "fulfillment.shipped",
    ]
    with pg.uow() as uow:
        assert check_ledger(uow.session).ok


def test_a_short_pick_goes_to_a_supervisor_on_the_handheld(pg: Database, device: Device) -> None:
    fid = _order(pg, ("MUG", 4))
    device.sign_in("op", "1234")
    device.press("start", "pick", expect="info", screen="pick.choose")
    device.press("open", fid, expect="ok", screen="pick.bin")
    device.press("short", expect="info", screen="pick.short")
    device.scan("4", expect="error", screen="pick.short")  # not short at all
    waiting = device.scan("1", expect="ok", screen="pick.done")
    assert "3 x MUG missing" in waiting["message"]
    assert "Waiting for a supervisor: 1 short pick(s)" in waiting["html"]
    refused = device.press("start", "pick_exceptions", expect="error", screen="pick.done")
    assert "for supervisors" in refused["message"]

    device.sign_in("boss", "9876")
    device.press("start", "pick_exceptions", expect="info", screen="pick_exceptions.list")
    exception_id = str(pg.scalar("SELECT id FROM pick_exceptions"))
    review = device.press("open", exception_id, expect="info", screen="pick_exceptions.review")
    assert "3 x MUG missing" in review["html"]
    resolved = device.press("resolve", "backorder", expect="ok", screen="pick_exceptions.list")
    assert "3 x MUG backordered" in resolved["message"]
    assert "No short picks are waiting" in resolved["html"]
    assert floor.fulfillment_status(pg, fid) == "picked"
    assert pg.scalar("SELECT status FROM orders") == "backordered"

    # The packer finds it ready: scanning it on the menu opens packing.
    device.press("menu", expect="info", screen="menu")
    device.scan(fid, expect="ok", screen="pack.item")


def test_a_fulfilment_of_another_warehouse_or_state_is_refused_by_name(
    pg: Database, device: Device
) -> None:
    fid = _order(pg, ("MUG", 1))
    with pg.uow() as uow:
        floor.warehouse(uow, "CAN")
        uow.commit()
    device.sign_in("op", "1234")
    device.press("start", "ship", expect="info", screen="ship.choose")
    refused = device.scan(fid, expect="error", screen="ship.choose")
    assert f"Fulfilment {fid} is released; only a packed one ships" in refused["message"]
    unknown = device.scan("ful_nothing", expect="error", screen="ship.choose")
    assert "no fulfilment order has this barcode" in unknown["message"]
    device.sign_in("op", "1234", warehouse="CAN")
    device.press("start", "pick", expect="info", screen="pick.choose")
    elsewhere = device.scan(fid, expect="error", screen="pick.choose")
    assert f"Fulfilment {fid} ships from another warehouse, not CAN" in elsewhere["message"]
    device.press("menu", expect="info", screen="menu")
    on_menu = device.scan(fid, expect="error", screen="menu")
    assert f"Fulfilment {fid} ships from another warehouse, not CAN" in on_menu["message"]
    assert pg.count("pick_tasks") == 0
