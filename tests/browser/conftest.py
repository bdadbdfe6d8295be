"""Browser tests of the handheld UI: Chromium driven by Playwright against a real `wms serve`.

Each test gets an emptied PostgreSQL database (the ``pg`` fixture) with master data seeded through
the services, and a fresh phone-sized browser context (360x640, touch) on a `wms serve` subprocess
that the session shares. Scans are typed the way a keyboard-wedge scanner types them: characters,
then Enter; every check of stock reads the ledger in the database. Every test saves full-page
screenshots to ``test-artifacts/handheld/<test>-<step>.png`` at the repository root.

Chromium comes from Debian (``/usr/bin/chromium``, see ``make system-deps``); without it these
tests fail rather than skip, so that CI cannot pass without running them.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright
from sqlalchemy import Engine, text

from tests.commands import WMS, free_port, stop, wait_until_healthy, wms_env
from tests.conftest import Database
from wms.auth.services import create_user
from wms.auth.sessions import set_badge, set_pin
from wms.db.uow import UnitOfWork
from wms.demo import DEMO_BADGES, DEMO_PINS
from wms.inventory import catalog, counts, receipts, stock
from wms.inventory.gtin import make_gtin
from wms.inventory.integrity import check_ledger
from wms.inventory.models import LocationKind
from wms.procurement.models import Supplier

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "handheld"
# Debian's Chromium; WMS_TEST_CHROMIUM names another build of it.
CHROMIUM = Path(os.environ.get("WMS_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 640},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}
TIMEOUT_MS = 10_000
SECRET = "browser-test-secret"

expect.set_options(timeout=TIMEOUT_MS)


# The world every test starts from --------------------------------------------------------------


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    pin: str
    badge: str


@dataclass(frozen=True)
class World:
    """What ``world`` seeded: two warehouses, two products, a supplier, two users."""

    lot_sku: str
    lot_gtin: str  # GTIN-14
    plain_sku: str
    plain_gtin: str  # GTIN-14; its EAN-13 is plain_ean
    supplier: str
    operator: User
    supervisor: User

    @property
    def plain_ean(self) -> str:
        return self.plain_gtin[1:]

    @property
    def lot_ean(self) -> str:
        return self.lot_gtin[1:]


OPERATOR = User("operator", "Oscar Operator", DEMO_PINS["operator"], DEMO_BADGES["operator"])
SUPERVISOR = User(
    "supervisor", "Sui Supervisor", DEMO_PINS["supervisor"], DEMO_BADGES["supervisor"]
)
# Bins on the floor plan, in metres from the receiving dock (at 0, 0): the nearest empty bin is
# B02, then B03, B04, B01, so the putaway suggestion is known in advance.
BIN_PLACES = {"B01": (12.0, 0.0), "B02": (3.0, 0.0), "B03": (3.0, 2.4), "B04": (6.0, 1.2)}


def _warehouse(uow: UnitOfWork, code: str, name: str, lat: float, lon: float) -> None:
    catalog.create_warehouse(
        uow,
        code=code,
        name=name,
        region="China",
        address=f"1 Test Road, {name}",
        latitude=lat,
        longitude=lon,
        time_zone="Asia/Shanghai",
    )
    for bin_code, (x, y) in BIN_PLACES.items():
        catalog.create_location(
            uow,
            warehouse=code,
            code=bin_code,
            name=f"Bin {bin_code}",
            kind=LocationKind.STORAGE,
            parent="STOCK",
            barcode=f"{code}-{bin_code}",
            x=x,
            y=y,
        )


@pytest.fixture
def world(pg: Database) -> World:
    """Master data through the real services, committed before the server or browser acts."""
    seeded = World(
        lot_sku="MILK-1L",
        lot_gtin=make_gtin("0690123450001"),
        plain_sku="MUG-350",
        plain_gtin=make_gtin("0690123450002"),
        supplier="SUP-DAIRY",
        operator=OPERATOR,
        supervisor=SUPERVISOR,
    )
    with pg.uow() as uow:
        _warehouse(uow, "SHA", "Shanghai DC", 31.23, 121.47)
        _warehouse(uow, "CAN", "Guangzhou DC", 23.13, 113.26)
        catalog.create_product(
            uow,
            sku=seeded.lot_sku,
            name="Fresh milk 1 l",
            gtin=seeded.lot_gtin,
            lot_tracked=True,
            shelf_life_days=30,
        )
        catalog.create_product(
            uow, sku=seeded.plain_sku, name="Ceramic mug 350 ml", gtin=seeded.plain_gtin
        )
        uow.session.add(
            Supplier(code=seeded.supplier, name="Bright Dairy", country="CN", active=True)
        )
        uow.session.flush()
        for user, role in ((OPERATOR, "operator"), (SUPERVISOR, "supervisor")):
            create_user(
                uow,
                username=user.username,
                display_name=user.display_name,
                role=role,
                password="not-used-here",
            )
            set_pin(uow, username=user.username, pin=user.pin)
            set_badge(uow, username=user.username, badge=user.badge)
        uow.commit()
    return seeded


# Seeding work for a test ------------------------------------------------------------------------


class Seed:
    """Documents and stock a test needs before the operator starts, booked through the services."""

    def __init__(self, pg: Database) -> None:
        self.pg = pg

    def receipt(
        self, warehouse: str, supplier: str, lines: dict[str, int], *, tolerance_pct: int = 10
    ) -> str:
        with self.pg.uow() as uow:
            view = receipts.create_receipt(
                uow,
                warehouse=warehouse,
                supplier=supplier,
                expected_date=date.today(),  # noqa: DTZ011 - a calendar day, as the UI shows it
                lines=[receipts.ReceiptLineRequest(sku, qty) for sku, qty in lines.items()],
                over_tolerance_pct=tolerance_pct,
                actor="planner",
            )
            uow.commit()
        return view.code

    def stock(
        self,
        warehouse: str,
        location: str,
        sku: str,
        quantity: int,
        *,
        lot: str | None = None,
        expires_in_days: int | None = None,
    ) -> None:
        """Goods from the supplier straight into a location (``RECV`` or a bin)."""
        with self.pg.uow() as uow:
            stock.receive(
                uow,
                sku=sku,
                quantity=quantity,
                warehouse=warehouse,
                location=location,
                lot=lot,
                expiry_date=date.today() + timedelta(days=expires_in_days)  # noqa: DTZ011
                if expires_in_days is not None
                else None,
                reference="seed",
                actor="seed",
            )
            uow.commit()

    def count_task(self, warehouse: str, location: str) -> str:
        with self.pg.uow() as uow:
            task = counts.create_count(uow, warehouse=warehouse, location=location, actor="planner")
            uow.commit()
        return task.code

    def counted(
        self, task: str, sku: str, quantity: int, *, lot: str | None = None, actor: str = "operator"
    ) -> str:
        """A count of one product submitted as a counter would; the task's status afterwards."""
        with self.pg.uow() as uow:
            outcome = counts.submit_count(
                uow,
                task_code=task,
                lines=[counts.CountedLine(sku, quantity, lot=lot)],
                actor=actor,
            )
            uow.commit()
        return str(outcome.status)


@pytest.fixture
def seed(pg: Database, world: World) -> Seed:
    return Seed(pg)


# Reading the ledger -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MoveRow:
    sku: str
    lot: str | None
    source: str  # "SHA/RECV", or a virtual location's code such as "SUPPLIER"
    target: str
    quantity: int
    reason: str
    reference: str
    actor: str


_MOVES = """
SELECT p.sku, l.code AS lot,
       coalesce(fw.code || '/', '') || f.code AS source,
       coalesce(tw.code || '/', '') || t.code AS target,
       m.quantity, m.reason, m.reference, m.actor
FROM moves m
JOIN products p ON p.id = m.product_id
LEFT JOIN lots l ON l.id = m.lot_id
JOIN locations f ON f.id = m.from_location_id
LEFT JOIN warehouses fw ON fw.id = f.warehouse_id
JOIN locations t ON t.id = m.to_location_id
LEFT JOIN warehouses tw ON tw.id = t.warehouse_id
WHERE m.actor <> 'seed'
ORDER BY m.id
"""


class Ledger:
    """The database as the tests check it: moves, quants, levels and the integrity check."""

    def __init__(self, pg: Database) -> None:
        self.pg = pg

    def rows(self, sql: str, **params: object) -> list[Any]:
        with self.pg.engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    def moves(self, reason: str | None = None) -> list[MoveRow]:
        """Moves booked after seeding (the seed's own are left out), oldest first."""
        rows = [MoveRow(*row) for row in self.rows(_MOVES)]
        return [m for m in rows if reason is None or m.reason == reason]

    def quant(self, location: str, sku: str, lot: str | None = None) -> int:
        """Units of ``sku`` (and ``lot``) at ``location`` ("SHA/B02", "TRANSIT")."""
        warehouse, _, code = location.rpartition("/")
        rows = self.rows(
            """
            SELECT coalesce(sum(q.quantity), 0)
            FROM quants q
            JOIN products p ON p.id = q.product_id
            LEFT JOIN lots l ON l.id = q.lot_id
            JOIN locations loc ON loc.id = q.location_id
            LEFT JOIN warehouses w ON w.id = loc.warehouse_id
            WHERE p.sku = :sku AND loc.code = :code
              AND coalesce(w.code, '') = :warehouse
              AND (CAST(:lot AS text) IS NULL OR l.code = :lot)
            """,
            sku=sku,
            code=code,
            warehouse=warehouse,
            lot=lot,
        )
        return int(rows[0][0])

    def level(self, warehouse: str, sku: str) -> dict[str, int]:
        rows = self.rows(
            """
            SELECT s.on_hand, s.incoming, s.available
            FROM stock_levels s
            JOIN products p ON p.id = s.product_id
            JOIN warehouses w ON w.id = s.warehouse_id
            WHERE p.sku = :sku AND w.code = :warehouse
            """,
            sku=sku,
            warehouse=warehouse,
        )
        if not rows:
            return {"on_hand": 0, "incoming": 0, "available": 0}
        on_hand, incoming, available = rows[0]
        return {"on_hand": on_hand, "incoming": incoming, "available": available}

    def lot_expiry(self, sku: str, lot: str) -> date | None:
        rows = self.rows(
            "SELECT l.expiry_date FROM lots l JOIN products p ON p.id = l.product_id "
            "WHERE p.sku = :sku AND l.code = :lot",
            sku=sku,
            lot=lot,
        )
        assert rows, f"no lot {lot} of {sku}"
        value: date | None = rows[0][0]
        return value

    def scalar(self, sql: str, **params: object) -> Any:
        return self.pg.scalar(sql, **params)

    def assert_consistent(self) -> None:
        """Quants and stock levels agree with the moves (``wms check``'s own check)."""
        with self.pg.session_factory() as session:
            report = check_ledger(session)
        assert report.ok, f"ledger discrepancies: {report.discrepancies}"


@pytest.fixture
def ledger(pg: Database) -> Ledger:
    return Ledger(pg)


# The server -------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self, since: int = 0) -> str:
        with self.log.open("rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log.stat().st_size


@pytest.fixture(scope="session")
def server_process(pg_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`wms serve` on a free port against the test database, for the whole session.

    Starting the server takes seconds, so the tests share one; each test empties the database
    (the ``pg`` fixture) and the server keeps nothing between requests but its connection pool.
    Scheduled jobs are off so that nothing but the handheld writes while a test runs.
    """
    port = free_port()
    url = pg_engine.url.render_as_string(hide_password=False)
    env = wms_env(WMS_DATABASE_URL=url, WMS_SECRET_KEY=SECRET, WMS_RUN_JOBS_IN_PROCESS="false")
    cwd = tmp_path_factory.mktemp("server")
    log = cwd / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [WMS, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_healthy(running)
        yield running
    finally:
        stop(process)


@pytest.fixture
def server(server_process: Server, pg: Database, world: World) -> Iterator[Server]:
    """The shared server, after this test's data is seeded; an exception it logs fails the test."""
    if server_process.process.poll() is not None:
        pytest.fail(f"the server died:\n{server_process.output()}")
    start = server_process.log_size()
    yield server_process
    output = server_process.output(since=start)
    assert "Traceback" not in output, f"the server logged an exception:\n{output}"


# The browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is missing: the handheld browser tests need {CHROMIUM} "
            "(Debian package `chromium`; run `make system-deps`)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    """A fresh phone: no cookies, no local storage, 360x640 with touch."""
    ctx = browser.new_context(base_url=server.base_url, **PHONE)
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """The handheld's tab; a JavaScript error on it fails the test."""
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    assert not errors, f"JavaScript errors on the page: {errors}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


class Handheld:
    """A person with a handheld: signs in, scans (typed, then Enter) and taps buttons.

    Every scan and tap waits until the device has the server's answer to it (the body's
    ``data-last-scan-id`` changes and nothing is waiting in the queue) before returning.
    """

    def __init__(self, page: Page, test_name: str) -> None:
        self.page = page
        self.test_name = _slug(test_name)
        self.shots: list[Path] = []

    # Looking at the screen

    @property
    def body(self) -> Locator:
        return self.page.locator("body")

    @property
    def screen(self) -> Locator:
        return self.page.locator("#screen section.screen")

    @property
    def error_box(self) -> Locator:
        return self.page.get_by_test_id("error-box")

    @property
    def result(self) -> Locator:
        return self.page.locator("#result")

    @property
    def waiting(self) -> Locator:
        return self.page.locator("#waiting")

    def button(self, action: str, arg: str | None = None) -> Locator:
        selector = f":is(#screen, #topbar) [data-action='{action}']"
        if arg is not None:
            selector += f"[data-arg='{arg}']"
        return self.page.locator(selector)

    def expect_screen(self, name: str) -> None:
        expect(self.screen).to_have_attribute("data-screen", name)

    def shot(self, step: str) -> Path:
        """A full-page screenshot: test-artifacts/handheld/<test>-<step>.png."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # After the ok/error flash (350 ms), which would tint the whole picture.
        expect(self.page.locator("#flash")).not_to_have_class(re.compile(r"flash-(ok|error)"))
        path = ARTIFACTS / f"{self.test_name}-{_slug(step)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    # Signing in

    def sign_in(self, user: User) -> None:
        """User name and PIN on the sign-in page; lands on the warehouse choice."""
        self.page.goto("/handheld")
        expect(self.page.locator("section.screen")).to_have_attribute("data-screen", "login")
        self.page.get_by_test_id("username").fill(user.username)
        self.page.get_by_test_id("pin").fill(user.pin)
        self.page.get_by_test_id("sign-in").click()
        expect(self.page.locator("section.screen")).to_have_attribute("data-screen", "warehouse")

    def sign_in_with_badge(self, user: User) -> None:
        """A badge scan: the badge field has focus, the scanner types the code and Enter."""
        self.page.goto("/handheld")
        expect(self.page.locator("section.screen")).to_have_attribute("data-screen", "login")
        expect(self.page.get_by_test_id("badge")).to_be_focused()
        self.page.keyboard.type(user.badge)
        self.page.keyboard.press("Enter")
        expect(self.page.locator("section.screen")).to_have_attribute("data-screen", "warehouse")

    def choose_warehouse(self, code: str) -> None:
        self.page.get_by_test_id(f"warehouse-{code}").click()
        self.expect_screen("menu")
        expect(self.page.get_by_test_id("warehouse-code")).to_have_text(code)
        expect(self.page.locator("#scan")).to_be_focused()

    def sign_out(self) -> None:
        self.page.get_by_test_id("sign-out").click()
        expect(self.page.locator("section.screen")).to_have_attribute("data-screen", "login")

    # Scanning and tapping

    def last_scan_id(self) -> str:
        return self.body.get_attribute("data-last-scan-id") or ""

    def type_scan(self, value: str, *, gs: Literal["ctrl", "insert"] = "ctrl") -> None:
        """Type a scan as a wedge scanner does, without the Enter.

        The GS1 group separator (GS, 0x1d) has no key: scanners send it as Ctrl+] (``ctrl``,
        which handheld.js turns into the character) or as the character itself (``insert``).
        """
        for index, part in enumerate(value.split("\x1d")):
            if index and gs == "ctrl":
                self.page.keyboard.press("Control+BracketRight")
            elif index:
                self.page.keyboard.insert_text("\x1d")
            if part:
                self.page.keyboard.type(part)

    def wait_answered(self, previous: str) -> None:
        """Until the device shows the answer to a newer entry and has nothing left to send."""
        expect(self.body).not_to_have_attribute("data-last-scan-id", previous)
        self.page.wait_for_function("() => window.wmsHandheld.queueLength() === 0")
        expect(self.waiting).to_be_hidden()

    def scan(
        self, value: str, *, status: str, screen: str, gs: Literal["ctrl", "insert"] = "ctrl"
    ) -> None:
        """Scan ``value`` (characters, then Enter) and check the answer's status and screen."""
        previous = self.last_scan_id()
        self.type_scan(value, gs=gs)
        self.page.keyboard.press("Enter")
        self.wait_answered(previous)
        self.expect_outcome(status, screen)

    def press(self, action: str, arg: str | None = None, *, status: str, screen: str) -> None:
        """Tap the button that sends ``action`` (with ``arg``) and check the answer."""
        previous = self.last_scan_id()
        self.button(action, arg).click()
        self.wait_answered(previous)
        self.expect_outcome(status, screen)

    def expect_outcome(self, status: str, screen: str) -> None:
        expect(self.body).to_have_attribute("data-scan-status", status)
        self.expect_screen(screen)
        if status == "error":
            expect(self.error_box).to_be_visible()
        else:
            expect(self.error_box).to_have_count(0)

    def expect_error(self, *, scanned: str | None, expected: str, next_step: str) -> None:
        """The error box says what was scanned, what was expected and what to do next."""
        expect(self.error_box).to_be_visible()
        expect(self.body).to_have_attribute("data-scan-status", "error")
        expect(self.result).to_have_attribute("data-sound", "error")
        if scanned is None:
            expect(self.page.get_by_test_id("error-scanned")).to_have_count(0)
        else:
            expect(self.page.get_by_test_id("error-scanned")).to_have_text(scanned)
        expect(self.page.get_by_test_id("error-expected")).to_contain_text(expected)
        expect(self.page.get_by_test_id("error-next")).to_contain_text(next_step)


@pytest.fixture
def hh(page: Page, request: pytest.FixtureRequest) -> Handheld:
    return Handheld(page, request.node.name)
