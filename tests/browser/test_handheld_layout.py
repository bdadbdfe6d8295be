"""The handheld at 360x640: touch targets of at least 48x48 px, no sideways scrolling, and the
scan field takes every keystroke."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Handheld, Seed, World

MIN_TARGET = 48
WIDTH = 360

# Every control a thumb can reach on the screen and in the header, with its size and scrolling.
_MEASURE = """
() => {
  const selector = ["#screen", "#topbar"]
    .flatMap((root) => ["button", "input", "a", "select", "textarea", "[role=button]"]
      .map((what) => `${root} ${what}`))
    .join(", ");
  const controls = [...document.querySelectorAll(selector)]
    .filter((el) => {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return box.width > 0 && box.height > 0 && style.visibility !== "hidden"
        && style.display !== "none" && !el.closest("[hidden]");
    })
    .map((el) => {
      const box = el.getBoundingClientRect();
      const name = (el.getAttribute("aria-label") || el.textContent || el.id || "").trim();
      return {
        control: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${name.slice(0, 40)}"`,
        width: Math.round(box.width * 10) / 10,
        height: Math.round(box.height * 10) / 10,
      };
    });
  return {
    controls,
    scrollWidth: document.scrollingElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  };
}
"""


def assert_thumb_friendly(hh: Handheld, where: str) -> int:
    """Every visible control is at least 48x48 px and nothing scrolls sideways; returns the count."""
    measured: dict[str, Any] = hh.page.evaluate(_MEASURE)
    controls = measured["controls"]
    assert controls, f"{where}: no controls found"
    small = [c for c in controls if c["width"] < MIN_TARGET or c["height"] < MIN_TARGET]
    assert not small, f"{where}: controls smaller than {MIN_TARGET}x{MIN_TARGET} px: {small}"
    assert measured["clientWidth"] == WIDTH, measured
    assert measured["scrollWidth"] <= WIDTH, f"{where}: scrolls sideways: {measured}"
    hh.shot(where)
    return len(controls)


def test_handheld_layout_targets_and_focus(hh: Handheld, world: World, seed: Seed) -> None:
    code = seed.receipt("SHA", world.supplier, {world.lot_sku: 24, world.plain_sku: 12})
    seed.stock("SHA", "RECV", world.plain_sku, 10)
    lot = "L-2030-06-LONG-LOT-CODE"
    seed.stock("SHA", "B01", world.lot_sku, 20, lot=lot, expires_in_days=90)
    task = seed.count_task("SHA", "B01")
    assert seed.counted(task, world.lot_sku, 2, lot=lot) == "recount"
    assert seed.counted(task, world.lot_sku, 2, lot=lot) == "pending_approval"
    checked = 0

    hh.page.goto("/handheld")
    expect(hh.page.locator("section.screen")).to_have_attribute("data-screen", "login")
    checked += assert_thumb_friendly(hh, "01-login")
    hh.sign_in(world.supervisor)
    checked += assert_thumb_friendly(hh, "02-warehouses")
    hh.choose_warehouse("SHA")
    checked += assert_thumb_friendly(hh, "03-menu")

    # Focus: a tap anywhere that is not a control puts the cursor back in the scan field, and
    # typing while a header button has focus still lands there.
    hh.page.get_by_test_id("sign-out").focus()
    expect(hh.page.locator("#scan")).not_to_be_focused()
    hh.screen.locator("h1.screen-title").tap()
    expect(hh.page.locator("#scan")).to_be_focused()
    hh.page.keyboard.type("SHA-B0")
    hh.page.locator("#kbd-toggle").focus()
    hh.page.keyboard.type("1")
    expect(hh.page.locator("#scan")).to_be_focused()
    expect(hh.page.locator("#scan")).to_have_value("SHA-B01")
    previous = hh.last_scan_id()
    hh.page.keyboard.press("Enter")
    hh.wait_answered(previous)
    hh.expect_outcome("ok", "inquiry.scan")  # a bin scanned on the menu: what is in it
    expect(hh.screen.locator("table.lines")).to_contain_text(lot)
    checked += assert_thumb_friendly(hh, "04-inquiry")

    hh.press("menu", status="info", screen="menu")
    hh.press("start", "receive", status="info", screen="receive.receipt")
    checked += assert_thumb_friendly(hh, "05-receipts")
    hh.press("open", code, status="ok", screen="receive.product")
    checked += assert_thumb_friendly(hh, "06-receipt")
    hh.scan("NO-SUCH-THING", status="error", screen="receive.product")
    checked += assert_thumb_friendly(hh, "07-error")
    hh.scan(world.lot_ean, status="info", screen="receive.lot")
    checked += assert_thumb_friendly(hh, "08-lot")
    hh.press("cancel_line", status="info", screen="receive.product")
    hh.press("close", status="info", screen="receive.confirm_close")
    checked += assert_thumb_friendly(hh, "09-confirm-close")
    hh.press("back", status="info", screen="receive.product")

    hh.press("menu", status="info", screen="menu")
    hh.press("start", "putaway", status="info", screen="putaway.item")
    hh.scan(world.plain_ean, status="info", screen="putaway.quantity")
    hh.scan("", status="info", screen="putaway.bin")
    hh.scan("SHA-B04", status="error", screen="putaway.bin")
    checked += assert_thumb_friendly(hh, "10-putaway-override")

    hh.press("menu", status="info", screen="menu")
    hh.press("start", "approvals", status="info", screen="approvals.list")
    checked += assert_thumb_friendly(hh, "11-approvals")
    hh.press("open", task, status="info", screen="approvals.review")
    checked += assert_thumb_friendly(hh, "12-review")
    assert checked > 60  # the check did look at the controls
