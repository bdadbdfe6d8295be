"""Acceptance 5: an order end to end, with the events the storefront received asserted in order.

A storefront (an API key, and the reference consumer of ``integrations/storefront`` subscribed to
every event type through ``POST /api/v1/webhook-endpoints``) reserves stock and orders it over HTTP;
an operator picks, packs and ships the order on the handheld in Chromium. The server is a real
`wms serve` on PostgreSQL without a broker, so webhooks go out from its in-process delivery loop.

After each stage the storefront catches up with the feed (``GET /api/v1/events``): it has received
every event the stage committed, and the stage's own events (all but the stock levels) are the ones
expected, in the feed's order. At the end the consumer's replica of the stock levels equals the
database's, the shipment event carries the carrier and the tracking number, and `wms check` passes.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from integrations.storefront.consumer import ReceivedEvent, StorefrontConsumer
from tests.browser.conftest import (
    SECRET,
    Handheld,
    Ledger,
    MoveRow,
    Seed,
    Server,
    World,
)
from tests.commands import WMS, free_port, run_wms, stop, wait_until_healthy, wms_env
from tests.conftest import Database
from wms.auth.services import create_api_key

EARLY, LATE = "M-EARLY", "M-LATE"  # two lots of milk: first expiry first out picks EARLY
CARRIER, TRACKING = "SF Express", "SF1234567890"
WEIGHT_G = 1850
MUGS, MILK = 2, 3
CUSTOMER = {
    "name": "Li Wei",
    "address_lines": ["88 Century Avenue", "Apt 1203"],
    "city": "Shanghai",
    "postal_code": "200120",
    "country": "CN",
    "latitude": 31.23,
    "longitude": 121.50,
}
# Stock levels' counters, as the events carry them and ``stock_levels`` stores them.
COUNTERS = (
    "on_hand",
    "committed",
    "reserved",
    "quality_control",
    "damaged",
    "safety_stock",
    "incoming",
    "available",
    "version",
)
DELIVERY_WITHIN = 20.0  # seconds a stage's webhooks may take to arrive


# A server with webhook delivery --------------------------------------------------------------


@pytest.fixture
def server(pg: Database, world: World, tmp_path: Path) -> Iterator[Server]:
    """`wms serve` of this test alone, delivering webhooks from its in-process loop.

    It overrides the browser suite's shared server (whose background work is off) for this module:
    without a broker, the server's delivery loop sends each commit's events at once and sweeps every
    second. An exception the server logs fails the test.
    """
    port = free_port()
    env = wms_env(
        WMS_DATABASE_URL=pg.url,
        WMS_SECRET_KEY=SECRET,
        WMS_WEBHOOK_SWEEP_SECONDS="1",
        WMS_WEBHOOK_TIMEOUT_SECONDS="5",
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
    output = running.output()
    assert "Traceback" not in output, f"the server logged an exception:\n{output}"


# The storefront ------------------------------------------------------------------------------


@dataclass
class Storefront:
    """The shop: an API client and the webhook consumer it runs, with the feed to check it by."""

    http: httpx.Client
    consumer: StorefrontConsumer
    start: str  # the feed's cursor before the endpoint existed: it receives what follows

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def feed(self) -> list[dict[str, Any]]:
        """Every event after ``start``, in the feed's order (``GET /api/v1/events``, paged)."""
        events: list[dict[str, Any]] = []
        cursor = self.start
        while True:
            response = self.http.get("/api/v1/events", params={"after": cursor, "limit": 500})
            assert response.status_code == 200, response.text
            page = response.json()
            events += page["data"]
            if not page["data"]:
                return events
            cursor = page["next_cursor"]

    def caught_up(self, *, after: int) -> list[ReceivedEvent]:
        """Wait until the consumer holds every event of the feed; those that arrived after the
        first ``after``, ordered as in the feed."""
        wanted = [event["id"] for event in self.feed()]
        deadline = time.monotonic() + DELIVERY_WITHIN
        while not set(wanted) <= self.consumer.event_ids():
            if time.monotonic() > deadline:
                missing = [e for e in self.feed() if e["id"] not in self.consumer.event_ids()]
                pytest.fail(
                    f"the storefront did not receive {len(missing)} event(s) within "
                    f"{DELIVERY_WITHIN} s: {[(e['type'], e['id']) for e in missing]}"
                )
            time.sleep(0.05)
        received = self.consumer.events()
        assert len(received) == len(wanted), "the storefront received events not in the feed"
        position = {event_id: index for index, event_id in enumerate(wanted)}
        return sorted(received[after:], key=lambda event: position[event.id])


def business(events: list[ReceivedEvent]) -> list[str]:
    """The types of the events that are not stock-level updates."""
    return [event.type for event in events if not event.type.startswith("inventory.")]


@pytest.fixture
def storefront(pg: Database, server: Server) -> Iterator[Storefront]:
    with pg.uow() as uow:
        key = create_api_key(uow, name="storefront", scopes=["storefront"]).key
        uow.commit()
    with (
        StorefrontConsumer("whsec_" + "A" * 32) as consumer,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=10.0
        ) as http,
    ):
        shop = Storefront(http, consumer, start="")
        page = http.get("/api/v1/events", params={"limit": 500})
        while page.json()["data"]:  # the feed so far: the endpoint gets only what follows
            page = http.get("/api/v1/events", params={"after": page.json()["next_cursor"]})
        shop.start = page.json()["next_cursor"]
        endpoint = shop.post(
            "/api/v1/webhook-endpoints",
            {"url": consumer.url, "event_types": [], "description": "acceptance storefront"},
        )
        assert endpoint["secret"].startswith("whsec_")
        consumer.secret = endpoint["secret"]
        yield shop
    assert consumer.rejected == 0, "a delivery's signature did not verify"


def database_levels(ledger: Ledger) -> dict[tuple[str, str], dict[str, int]]:
    rows = ledger.rows(
        f"SELECT p.sku, w.code, {', '.join(f's.{c}' for c in COUNTERS)} "
        "FROM stock_levels s JOIN products p ON p.id = s.product_id "
        "JOIN warehouses w ON w.id = s.warehouse_id"
    )
    return {(row[0], row[1]): dict(zip(COUNTERS, row[2:], strict=True)) for row in rows}


# The flow ------------------------------------------------------------------------------------


def test_order_flow_end_to_end(
    hh: Handheld,
    world: World,
    seed: Seed,
    ledger: Ledger,
    storefront: Storefront,
    server: Server,
    tmp_path: Path,
) -> None:
    # Stock arrives: mugs in B03; milk of the later expiry in B02, the bin nearest the dock, and
    # of the earlier expiry in B04, further away. The storefront learns the levels.
    seed.stock("SHA", "B03", world.plain_sku, 10)
    seed.stock("SHA", "B02", world.lot_sku, 6, lot=LATE, expires_in_days=25)
    seed.stock("SHA", "B04", world.lot_sku, 4, lot=EARLY, expires_in_days=8)
    arrived = storefront.caught_up(after=0)
    assert arrived
    assert business(arrived) == []
    seen = len(arrived)
    lines = [{"sku": world.plain_sku, "quantity": MUGS}, {"sku": world.lot_sku, "quantity": MILK}]

    # Checkout: a reservation holds the stock, the order commits it.
    reservation = storefront.post(
        "/api/v1/reservations",
        {
            "external_ref": "cart-7",
            "lines": lines,
            "ttl_seconds": 600,
            "ship_to": {"latitude": CUSTOMER["latitude"], "longitude": CUSTOMER["longitude"]},
        },
    )
    assert reservation["status"] == "active"
    assert [(x["sku"], x["quantity"], x["warehouse"]) for x in reservation["lines"]] == [
        (world.plain_sku, MUGS, "SHA"),
        (world.lot_sku, MILK, "SHA"),
    ]
    arrived = storefront.caught_up(after=seen)
    assert business(arrived) == ["reservation.created"]
    seen += len(arrived)
    held = storefront.consumer.replica()[(world.lot_sku, "SHA")]
    assert (held["on_hand"], held["reserved"], held["available"]) == (10, MILK, 10 - MILK)

    order = storefront.post(
        "/api/v1/orders",
        {
            "external_ref": "WEB-1001",
            "lines": lines,
            "ship_to": CUSTOMER,
            "reservation_id": reservation["id"],
        },
    )
    assert (order["status"], order["reservation_id"]) == ("allocated", reservation["id"])
    [allocation] = order["allocation"]
    assert (allocation["warehouse"], allocation["status"]) == ("SHA", "released")
    fid = allocation["fulfillment_id"]
    arrived = storefront.caught_up(after=seen)
    assert business(arrived) == ["reservation.committed", "order.received", "order.allocated"]
    seen += len(arrived)
    committed = storefront.consumer.replica()[(world.lot_sku, "SHA")]
    assert (committed["reserved"], committed["committed"]) == (0, MILK)

    # Pick on the handheld: the stops in walking order, the milk from its earliest lot.
    hh.sign_in(world.operator)
    hh.choose_warehouse("SHA")
    hh.press("start", "pick", status="info", screen="pick.choose")
    expect(hh.button("open", fid)).to_be_visible()
    hh.shot("01-pick-list")
    hh.press("open", fid, status="ok", screen="pick.bin")
    expect(hh.page.get_by_test_id("prompt")).to_have_text("Go to bin SHA-B03")
    hh.shot("02-pick-first-stop")
    hh.scan("SHA-B03", status="ok", screen="pick.item")
    hh.scan(world.plain_ean, status="info", screen="pick.quantity")
    hh.scan("", status="ok", screen="pick.bin")  # Enter: the stop's quantity
    expect(hh.result).to_contain_text(f"Picked {MUGS} x {world.plain_sku} from SHA-B03")
    expect(hh.page.get_by_test_id("prompt")).to_have_text("Go to bin SHA-B04")
    hh.scan("SHA-B04", status="ok", screen="pick.item")
    hh.scan(world.lot_ean, status="info", screen="pick.lot")  # an EAN carries no lot
    expect(hh.page.get_by_test_id("prompt")).to_have_text(f"Scan lot {EARLY}")
    hh.scan(LATE, status="error", screen="pick.lot")  # the later lot is not this stop's
    hh.scan(EARLY, status="info", screen="pick.quantity")
    hh.scan("", status="ok", screen="pick.done")
    expect(hh.result).to_contain_text("All picked: take it to packing")
    hh.shot("03-picked")
    assert ledger.moves("pick") == [
        MoveRow(world.plain_sku, None, "SHA/B03", "SHA/PACK", MUGS, "pick", fid, "operator"),
        MoveRow(world.lot_sku, EARLY, "SHA/B04", "SHA/PACK", MILK, "pick", fid, "operator"),
    ]
    arrived = storefront.caught_up(after=seen)
    assert business(arrived) == ["fulfillment.picked"]
    seen += len(arrived)

    # Pack: both items into one package, weighed; its label is linked.
    hh.press("pack", status="ok", screen="pack.item")
    hh.scan(world.plain_ean, status="info", screen="pack.quantity")
    hh.scan("", status="ok", screen="pack.item")
    hh.scan(world.lot_ean, status="info", screen="pack.quantity")  # the one lot picked
    expect(hh.result).to_contain_text(f"{world.lot_sku} lot {EARLY}: {MILK} left to pack")
    hh.scan("", status="ok", screen="pack.weight")
    expect(hh.result).to_contain_text("Everything is packed")
    hh.shot("04-pack-weight")
    hh.scan(str(WEIGHT_G), status="ok", screen="pack.packed")
    sscc = str(ledger.scalar("SELECT sscc FROM packages"))
    expect(hh.page.locator(f"a[href='/handheld/labels/package.pdf?sscc={sscc}']")).to_be_visible()
    hh.shot("05-packed")
    arrived = storefront.caught_up(after=seen)
    assert business(arrived) == ["fulfillment.packed"]
    seen += len(arrived)

    # Ship: the carrier tapped, the tracking number scanned, then Ship.
    hh.press("ship", status="ok", screen="ship.carrier")
    hh.press("carrier", CARRIER, status="ok", screen="ship.tracking")
    hh.scan(TRACKING, status="ok", screen="ship.confirm")
    hh.shot("06-ship-confirm")
    hh.press("ship", status="ok", screen="ship.shipped")
    expect(hh.page.get_by_test_id("prompt")).to_have_text(f"Shipped with {CARRIER} {TRACKING}")
    hh.shot("07-shipped")
    arrived = storefront.caught_up(after=seen)
    assert business(arrived) == ["fulfillment.shipped"]

    # What the storefront learnt, in the feed's order, each event once.
    received = storefront.caught_up(after=0)
    assert business(received) == [
        "reservation.created",
        "reservation.committed",
        "order.received",
        "order.allocated",
        "fulfillment.picked",
        "fulfillment.packed",
        "fulfillment.shipped",
    ]
    assert storefront.consumer.duplicates == 0
    by_type = {event.type: event.data for event in received}
    assert by_type["reservation.committed"]["order_id"] == order["id"]
    shipped = by_type["fulfillment.shipped"]
    assert (shipped["carrier"], shipped["tracking_number"]) == (CARRIER, TRACKING)
    assert (shipped["fulfillment_id"], shipped["order_id"]) == (fid, order["id"])
    assert shipped["status"] == "shipped"
    assert [(line["sku"], line["shipped"]) for line in shipped["lines"]] == [
        (world.plain_sku, MUGS),
        (world.lot_sku, MILK),
    ]
    assert [(p["sscc"], p["weight_g"]) for p in shipped["packages"]] == [(sscc, WEIGHT_G)]
    assert sorted(
        (item["sku"], item["lot"], item["quantity"]) for item in shipped["packages"][0]["items"]
    ) == [(world.lot_sku, EARLY, MILK), (world.plain_sku, None, MUGS)]
    assert storefront.http.get(f"/api/v1/orders/{order['id']}").json()["status"] == "shipped"

    # The storefront's replica of the stock levels is the database's.
    database = database_levels(ledger)
    replica = storefront.consumer.replica()
    assert set(replica) == {(world.plain_sku, "SHA"), (world.lot_sku, "SHA")}
    assert replica == {key: database[key] for key in replica}
    mugs, milk = replica[(world.plain_sku, "SHA")], replica[(world.lot_sku, "SHA")]
    assert (mugs["on_hand"], mugs["committed"], mugs["reserved"]) == (10 - MUGS, 0, 0)
    assert (milk["on_hand"], milk["committed"], milk["reserved"]) == (10 - MILK, 0, 0)
    assert ledger.quant("SHA/PACK", world.lot_sku) == 0
    assert ledger.quant("SHA/B02", world.lot_sku, LATE) == 6  # the later lot stays
    assert ledger.quant("SHA/B04", world.lot_sku, EARLY) == 4 - MILK

    ledger.assert_consistent()
    env = wms_env(WMS_DATABASE_URL=ledger.pg.url, WMS_SECRET_KEY=SECRET)
    checked = run_wms("check", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
