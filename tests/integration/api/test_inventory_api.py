"""Stock levels and stock adjustments over the JSON API; every refusal writes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import Database
from tests.integration.api.conftest import assert_problem, bearer, written
from tests.integration.events.horizon import settle
from wms.inventory import levels, stock
from wms.inventory.integrity import check_ledger
from wms.inventory.levels import LevelLine

MISSING = object()
REASONS = ("opening_balance", "cycle_count", "found", "lost", "theft", "correction")


@pytest.fixture
def stocked(pg: Database) -> Database:
    """SHA and CAN; 5 mugs in SHA/B01; tea in two lots (SOON 4 in B01, LATE 6 in B02)."""
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.warehouse(uow, "CAN")
        factories.product(uow, "MUG-1")
        factories.product(uow, "TEA-1", lot_tracked=True, shelf_life_days=365)
        factories.product(uow, "SPOON-1")
        stock.receive(uow, sku="MUG-1", quantity=5, warehouse="SHA", location="B01", actor="t")
        for lot, expiry, bin_code, quantity in (
            ("SOON", date(2030, 1, 1), "B01", 4),
            ("LATE", date(2031, 1, 1), "B02", 6),
        ):
            stock.receive(
                uow,
                sku="TEA-1",
                quantity=quantity,
                warehouse="SHA",
                location=bin_code,
                lot=lot,
                expiry_date=expiry,
                actor="t",
            )
        uow.commit()
    return pg


def adjustment(**overrides: object) -> dict[str, Any]:
    body: dict[str, Any] = {"sku": "MUG-1", "warehouse": "SHA", "quantity": 3, "reason": "found"}
    for key, value in overrides.items():
        if value is MISSING:
            del body[key]
        else:
            body[key] = value
    return body


def post_adjustment(client: TestClient, headers: dict[str, str], **overrides: object) -> Any:
    return client.post("/api/v1/stock-adjustments", headers=headers, json=adjustment(**overrides))


def levels_of(
    client: TestClient, headers: dict[str, str], **params: object
) -> list[dict[str, Any]]:
    response = client.get("/api/v1/inventory-levels", headers=headers, params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def one_level(client: TestClient, headers: dict[str, str], sku: str, wh: str) -> dict[str, Any]:
    (level,) = levels_of(client, headers, sku=sku, warehouse=wh)
    return level


def assert_ledger_agrees(db: Database) -> None:
    with db.uow() as uow:
        report = check_ledger(uow.session)
    assert report.ok, [d.describe() for d in report.discrepancies]


def test_an_adjustment_adds_stock_and_answers_with_the_new_level(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = one_level(client, admin, "MUG-1", "SHA")
    response = post_adjustment(client, admin, quantity=7, reason="found", reference="CC-1")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["moves"] == 1
    (level,) = body["levels"]
    assert (level["sku"], level["warehouse"], level["on_hand"], level["available"]) == (
        "MUG-1",
        "SHA",
        12,
        12,
    )
    assert level["version"] == before["version"] + 1
    assert one_level(client, admin, "MUG-1", "SHA") == level
    move = stocked.scalar(
        "SELECT concat_ws('|', reason, reference, actor, quantity) FROM moves "
        "ORDER BY id DESC LIMIT 1"
    )
    assert move == "adjustment:found|CC-1|apikey:back-office|7"
    assert_ledger_agrees(stocked)


def test_a_negative_adjustment_removes_stock_first_expiry_first(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    response = post_adjustment(client, admin, sku="TEA-1", quantity=-5, reason="lost")
    assert response.status_code == 201, response.text
    assert response.json()["moves"] == 2  # all of SOON, then one of LATE
    assert response.json()["levels"][0]["on_hand"] == 5
    remaining = stocked.scalar(
        "SELECT string_agg(l.code || ':' || q.quantity, ',' ORDER BY l.code) "
        "FROM quants q JOIN lots l ON l.id = q.lot_id"
    )
    assert remaining == "LATE:5,SOON:0"
    assert_ledger_agrees(stocked)


@pytest.mark.parametrize("reason", REASONS)
def test_every_adjustment_reason_is_accepted(
    stocked: Database, client: TestClient, admin: dict[str, str], reason: str
) -> None:
    sign = -1 if reason in {"lost", "theft"} else 1
    response = post_adjustment(client, admin, quantity=sign * 2, reason=reason)
    assert response.status_code == 201, response.text
    assert response.json()["levels"][0]["on_hand"] == 5 + sign * 2
    assert stocked.scalar("SELECT reason FROM moves ORDER BY id DESC LIMIT 1") == (
        f"adjustment:{reason}"
    )


def test_a_lot_tracked_adjustment_creates_its_lot_with_the_expiry(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    response = post_adjustment(
        client,
        admin,
        sku="TEA-1",
        quantity=8,
        reason="opening_balance",
        lot="NEW",
        expiry_date="2032-06-30",
        location="SHA-B03",
    )
    assert response.status_code == 201, response.text
    assert stocked.scalar("SELECT expiry_date FROM lots WHERE code = 'NEW'") == date(2032, 6, 30)
    assert (
        stocked.scalar(
            "SELECT q.quantity FROM quants q JOIN lots l ON l.id = q.lot_id "
            "JOIN locations loc ON loc.id = q.location_id WHERE l.code = 'NEW' AND loc.code = 'B03'"
        )
        == 8
    )
    assert_ledger_agrees(stocked)


def test_levels_can_be_asked_for_by_repeating_sku(
    stocked: Database, client: TestClient, reader: dict[str, str]
) -> None:
    data = levels_of(client, reader, sku=["TEA-1", "MUG-1"])
    assert sorted((lv["sku"], lv["warehouse"]) for lv in data) == [
        ("MUG-1", "CAN"),
        ("MUG-1", "SHA"),
        ("TEA-1", "CAN"),
        ("TEA-1", "SHA"),
    ]
    on_hand = {(lv["sku"], lv["warehouse"]): lv["on_hand"] for lv in data}
    assert on_hand[("MUG-1", "SHA")] == 5
    assert on_hand[("TEA-1", "SHA")] == 10
    assert on_hand[("TEA-1", "CAN")] == 0


def test_levels_can_be_filtered_by_warehouse(
    stocked: Database, client: TestClient, reader: dict[str, str]
) -> None:
    data = levels_of(client, reader, warehouse="CAN")
    assert {lv["warehouse"] for lv in data} == {"CAN"}
    assert {lv["sku"] for lv in data} == {"MUG-1", "TEA-1", "SPOON-1"}
    assert all(lv["on_hand"] == 0 and lv["version"] == 0 for lv in data)


def test_a_level_shows_every_counter_and_available_net_of_them(
    stocked: Database, client: TestClient, reader: dict[str, str]
) -> None:
    with stocked.uow() as uow:
        levels.reserve(uow, lines=[LevelLine("MUG-1", "SHA", 2)])
        levels.set_safety_stock(uow, sku="MUG-1", warehouse="SHA", quantity=1)
        uow.commit()
    level = one_level(client, reader, "MUG-1", "SHA")
    assert {k: v for k, v in level.items() if k not in {"updated_at", "version"}} == {
        "sku": "MUG-1",
        "warehouse": "SHA",
        "on_hand": 5,
        "committed": 0,
        "reserved": 2,
        "quality_control": 0,
        "damaged": 0,
        "safety_stock": 1,
        "incoming": 0,
        "available": 2,
        "blocked": False,
    }
    assert datetime.fromisoformat(level["updated_at"]).utcoffset() == timedelta(0)


def test_follows_next_cursor_through_every_page_of_levels(
    stocked: Database, client: TestClient, reader: dict[str, str]
) -> None:
    everything = levels_of(client, reader, limit=1000)
    assert len(everything) == 6
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, object] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/inventory-levels", headers=reader, params=params).json()
        seen += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything


def test_paging_keeps_the_sku_and_warehouse_filters(
    stocked: Database, client: TestClient, reader: dict[str, str]
) -> None:
    params: dict[str, object] = {"sku": ["MUG-1", "SPOON-1"], "warehouse": "SHA", "limit": 1}
    first = client.get("/api/v1/inventory-levels", headers=reader, params=params).json()
    second = client.get(
        "/api/v1/inventory-levels",
        headers=reader,
        params={**params, "cursor": first["next_cursor"]},
    ).json()
    assert [lv["sku"] for lv in first["data"] + second["data"]] == ["MUG-1", "SPOON-1"]
    assert second["next_cursor"] is None


def test_updated_since_returns_only_levels_changed_after_it(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    first = post_adjustment(client, admin, sku="MUG-1", quantity=1)
    since = first.json()["levels"][0]["updated_at"]
    post_adjustment(client, admin, sku="SPOON-1", quantity=4)
    changed = levels_of(client, admin, updated_since=since)
    assert [(lv["sku"], lv["warehouse"], lv["on_hand"]) for lv in changed] == [
        ("SPOON-1", "SHA", 4)
    ]
    shanghai_time = datetime.fromisoformat(since).astimezone(timezone(timedelta(hours=8)))
    assert shanghai_time.isoformat().endswith("+08:00")
    assert levels_of(client, admin, updated_since=shanghai_time.isoformat()) == changed
    assert levels_of(client, admin, updated_since="2000-01-01T00:00:00Z", sku="MUG-1")


def test_levels_can_be_asked_for_as_a_comma_separated_list(
    stocked: Database, client: TestClient, reader: dict[str, str]
) -> None:
    data = levels_of(client, reader, skus="TEA-1, MUG-1,,TEA-1", warehouse="SHA")
    assert sorted(lv["sku"] for lv in data) == ["MUG-1", "TEA-1"]
    both = levels_of(client, reader, sku="SPOON-1", skus="MUG-1", warehouse="SHA")
    assert sorted(lv["sku"] for lv in both) == ["MUG-1", "SPOON-1"]


def test_every_unknown_sku_of_a_list_is_named(
    stocked: Database, client: TestClient, reader: dict[str, str]
) -> None:
    response = client.get(
        "/api/v1/inventory-levels", headers=reader, params={"skus": "NOPE-2,MUG-1,NOPE-1"}
    )
    body = assert_problem(response, 422, "unknown_sku", field="skus")
    assert body["skus"] == ["NOPE-2", "NOPE-1"]
    assert "NOPE-2" in body["detail"]
    assert "NOPE-1" in body["detail"]


def test_five_hundred_skus_can_be_asked_for_at_once(
    pg: Database, client: TestClient, reader: dict[str, str]
) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=1)
        uow.commit()
    skus = [f"BULK-{n:03d}" for n in range(500)]
    with pg.uow() as uow:
        for sku in skus:
            factories.product(uow, sku)
        uow.commit()
    response = client.get(
        "/api/v1/inventory-levels",
        headers=reader,
        params={"sku": skus[:250], "skus": ",".join(skus[250:]), "limit": 1000},
    )
    assert response.status_code == 200, response.text
    assert sorted(lv["sku"] for lv in response.json()["data"]) == skus


def levels_page(client: TestClient, headers: dict[str, str], **params: object) -> dict[str, Any]:
    response = client.get("/api/v1/inventory-levels", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def events_after(
    db: Database, client: TestClient, headers: dict[str, str], after: str
) -> list[dict[str, Any]]:
    """Every event after ``after``, once transactions elsewhere on the server have let it be final."""
    settle(db)
    seen: list[dict[str, Any]] = []
    for _ in range(50):
        body = client.get("/api/v1/events", headers=headers, params={"after": after}).json()
        if not body["data"]:
            return seen
        seen += body["data"]
        after = body["next_cursor"]
    raise AssertionError("the feed did not settle")


def test_as_of_cursor_leads_to_the_changes_after_the_snapshot(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    settle(stocked)  # the setup's own events are final before the snapshot is taken
    page = levels_page(client, admin, sku="MUG-1", warehouse="SHA")
    assert set(page) == {"data", "next_cursor", "as_of_cursor"}
    assert events_after(stocked, client, admin, page["as_of_cursor"]) == []
    post_adjustment(client, admin, quantity=2)
    (event,) = events_after(stocked, client, admin, page["as_of_cursor"])
    assert event["type"] == "inventory.level.updated"
    assert event["subject"] == "MUG-1@SHA"
    assert (event["data"]["on_hand"], event["data"]["version"]) == (
        7,
        page["data"][0]["version"] + 1,
    )


def test_a_snapshot_and_the_feed_after_it_rebuild_every_level(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    """A write in flight while the snapshot is read is neither in it nor lost to the feed."""
    settle(stocked)
    with stocked.uow() as in_flight:
        stock.receive(
            in_flight, sku="MUG-1", quantity=4, warehouse="SHA", location="B02", actor="t"
        )
        in_flight.session.flush()
        post_adjustment(client, admin, sku="SPOON-1", quantity=2)  # a later transaction, done
        snapshot = levels_page(client, admin, limit=1000)
        assert one_level(client, admin, "MUG-1", "SHA")["on_hand"] == 5  # not committed yet
        post_adjustment(client, admin, sku="SPOON-1", quantity=3)  # commits inside the window
        in_flight.commit()
    post_adjustment(client, admin, sku="TEA-1", quantity=1, lot="SOON")
    replica = {(lv["sku"], lv["warehouse"]): lv for lv in snapshot["data"]}
    for event in events_after(stocked, client, admin, snapshot["as_of_cursor"]):
        if event["type"] != "inventory.level.updated":
            continue
        data = event["data"]
        key = (data["sku"], data["warehouse"])
        if data["version"] > replica[key]["version"]:
            replica[key] = {**replica[key], **data}
    fields = ("on_hand", "reserved", "committed", "available", "version")
    final = {(lv["sku"], lv["warehouse"]): lv for lv in levels_of(client, admin, limit=1000)}
    assert {k: [v[f] for f in fields] for k, v in replica.items()} == {
        k: [v[f] for f in fields] for k, v in final.items()
    }
    assert final[("MUG-1", "SHA")]["on_hand"] == 9
    assert final[("SPOON-1", "SHA")]["on_hand"] == 5


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        pytest.param({"sku": "NOPE-1"}, "unknown_sku", "sku", id="unknown-sku"),
        pytest.param({"sku": ["MUG-1", "NOPE-1"]}, "unknown_sku", "sku", id="one-sku-unknown"),
        pytest.param({"skus": "MUG-1,NOPE-1"}, "unknown_sku", "skus", id="unknown-in-skus"),
        pytest.param({"skus": "MUG-1,A\x00B"}, "unknown_sku", "skus", id="nul-in-skus"),
        pytest.param({"sku": "\x00"}, "unknown_sku", "sku", id="nul-sku"),
        pytest.param(
            {"skus": ",".join(f"S-{n}" for n in range(501))},
            "validation_failed",
            "skus",
            id="501-skus",
        ),
        pytest.param(
            {"sku": [f"S-{n}" for n in range(501)]}, "validation_failed", "sku", id="501-sku"
        ),
        pytest.param(
            {"sku": [f"S-{n}" for n in range(300)], "skus": ",".join(f"T-{n}" for n in range(201))},
            "validation_failed",
            "sku",
            id="501-together",
        ),
        pytest.param({"warehouse": "XXX"}, "unknown_warehouse", "warehouse", id="unknown-wh"),
        pytest.param(
            {"updated_since": "2026-01-01T00:00:00"},
            "validation_failed",
            "updated_since",
            id="naive-time",
        ),
        pytest.param(
            {"updated_since": "yesterday"}, "validation_failed", "updated_since", id="not-a-time"
        ),
        pytest.param({"cursor": "%%%"}, "validation_failed", "cursor", id="bad-cursor"),
        pytest.param({"cursor": "eyJiZWZvcmUiOiAxfQ"}, "validation_failed", "cursor", id="key"),
        pytest.param({"limit": 0}, "validation_failed", "limit", id="limit-zero"),
        pytest.param({"limit": -5}, "validation_failed", "limit", id="negative-limit"),
        pytest.param({"limit": 1001}, "validation_failed", "limit", id="limit-too-high"),
    ],
)
def test_a_bad_level_query_is_a_422_problem(
    stocked: Database,
    client: TestClient,
    reader: dict[str, str],
    params: dict[str, object],
    code: str,
    field: str,
) -> None:
    response = client.get("/api/v1/inventory-levels", headers=reader, params=params)
    assert_problem(response, 422, code, field=field)


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        pytest.param({"sku": "NOPE-1"}, 422, "unknown_sku", "sku", id="unknown-sku"),
        pytest.param({"warehouse": "XXX"}, 422, "unknown_warehouse", "warehouse", id="unknown-wh"),
        pytest.param({"quantity": 0}, 422, "invalid_quantity", "quantity", id="zero"),
        pytest.param({"quantity": "3"}, 422, "validation_failed", "quantity", id="string"),
        pytest.param({"quantity": "-3"}, 422, "validation_failed", "quantity", id="neg-string"),
        pytest.param({"quantity": 2.5}, 422, "validation_failed", "quantity", id="fraction"),
        pytest.param({"quantity": 3.0}, 422, "validation_failed", "quantity", id="float"),
        pytest.param({"quantity": True}, 422, "validation_failed", "quantity", id="boolean"),
        pytest.param({"quantity": None}, 422, "validation_failed", "quantity", id="null"),
        pytest.param({"quantity": [3]}, 422, "validation_failed", "quantity", id="list"),
        pytest.param({"reason": "whim"}, 422, "validation_failed", "reason", id="unknown-reason"),
        pytest.param({"reason": ""}, 422, "validation_failed", "reason", id="empty-reason"),
        pytest.param({"sku": ""}, 422, "validation_failed", "sku", id="empty-sku"),
        pytest.param({"warehouse": "S" * 17}, 422, "validation_failed", "warehouse", id="long"),
        pytest.param({"reference": "r" * 129}, 422, "validation_failed", "reference", id="ref"),
        pytest.param({"approved_by": "me"}, 422, "validation_failed", "approved_by", id="extra"),
        pytest.param({"sku": MISSING}, 422, "validation_failed", "sku", id="no-sku"),
        pytest.param({"warehouse": MISSING}, 422, "validation_failed", "warehouse", id="no-wh"),
        pytest.param({"quantity": MISSING}, 422, "validation_failed", "quantity", id="no-qty"),
        pytest.param({"reason": MISSING}, 422, "validation_failed", "reason", id="no-reason"),
        pytest.param(
            {"expiry_date": "2030-02-30"}, 422, "validation_failed", "expiry_date", id="bad-date"
        ),
        pytest.param(
            {"location": "Z-99"}, 422, "unknown_location", "location", id="unknown-location"
        ),
        pytest.param(
            {"location": "CAN-B01"}, 422, "unknown_location", "location", id="other-warehouse"
        ),
        pytest.param(
            {"location": "STOCK"}, 409, "location_not_usable", "location", id="grouping-location"
        ),
        pytest.param(
            {"sku": "TEA-1", "quantity": 5}, 422, "lot_required", "lot", id="lot-tracked-no-lot"
        ),
        pytest.param(
            {"sku": "TEA-1", "quantity": 5, "lot": "NEW"},
            422,
            "lot_required",
            "expiry_date",
            id="new-lot-no-expiry",
        ),
        pytest.param(
            {"sku": "TEA-1", "lot": "SOON", "expiry_date": "2035-01-01"},
            409,
            "lot_expiry_mismatch",
            "expiry_date",
            id="lot-expiry-mismatch",
        ),
        pytest.param(
            {"sku": "TEA-1", "quantity": -1, "lot": "NOPE"},
            422,
            "unknown_lot",
            "lot",
            id="unknown-lot",
        ),
        pytest.param({"lot": "L1"}, 422, "lot_not_tracked", "lot", id="lot-on-untracked"),
        pytest.param(
            {"quantity": -6, "reason": "lost"},
            409,
            "insufficient_stock",
            "quantity",
            id="more-than-on-hand",
        ),
        pytest.param(
            {"quantity": -(2**40), "reason": "lost"},
            422,
            "validation_failed",
            "quantity",
            id="beyond-one-operation",
        ),
        pytest.param(
            {"quantity": -1, "reason": "lost", "location": "B02"},
            409,
            "insufficient_stock",
            "quantity",
            id="empty-bin",
        ),
        pytest.param(
            {"sku": "TEA-1", "quantity": -11, "reason": "lost"},
            409,
            "insufficient_stock",
            "quantity",
            id="more-than-all-lots",
        ),
        pytest.param(
            {"quantity": 2**31},
            422,
            "validation_failed",
            "quantity",
            id="beyond-integer",
        ),
    ],
)
def test_refuses_a_bad_adjustment_and_writes_nothing(
    stocked: Database,
    client: TestClient,
    admin: dict[str, str],
    overrides: dict[str, object],
    status: int,
    code: str,
    field: str,
) -> None:
    before = written(stocked)
    response = post_adjustment(client, admin, **overrides)
    assert_problem(response, status, code, field=field)
    assert written(stocked) == before


def test_a_removal_beyond_on_hand_lists_the_short_line(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = written(stocked)
    response = post_adjustment(client, admin, quantity=-9, reason="theft")
    body = assert_problem(response, 409, "insufficient_stock", field="quantity")
    assert body["lines"] == [{"sku": "MUG-1", "requested": 9, "available": 5, "warehouse": "SHA"}]
    assert "requested 9, available 5" in body["detail"]
    assert written(stocked) == before


def test_a_removal_from_a_named_bin_names_the_bin(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = written(stocked)
    response = post_adjustment(client, admin, quantity=-6, reason="lost", location="SHA-B01")
    body = assert_problem(response, 409, "insufficient_stock", field="quantity")
    assert body["lines"] == [
        {
            "sku": "MUG-1",
            "requested": 6,
            "available": 5,
            "warehouse": "SHA",
            "location": "SHA/B01",
        }
    ]
    assert written(stocked) == before


def test_a_removal_draws_only_on_sellable_locations(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    with stocked.uow() as uow:
        stock.move(
            uow,
            sku="MUG-1",
            quantity=2,
            warehouse="SHA",
            from_location="B01",
            to_location="DMG",
            actor="t",
        )
        uow.commit()
    before = written(stocked)
    body = assert_problem(
        post_adjustment(client, admin, quantity=-4, reason="lost"), 409, "insufficient_stock"
    )
    assert body["lines"][0]["available"] == 3
    assert written(stocked) == before


def test_committed_stock_cannot_be_adjusted_away(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    with stocked.uow() as uow:
        levels.commit(uow, lines=[LevelLine("MUG-1", "SHA", 4)])
        uow.commit()
    before = written(stocked)
    body = assert_problem(
        post_adjustment(client, admin, quantity=-2, reason="lost"),
        409,
        "stock_allocated",
        field="quantity",
    )
    assert body["lines"] == [
        {"sku": "MUG-1", "warehouse": "SHA", "committed_and_reserved": 4, "sellable_after": 3}
    ]
    assert written(stocked) == before


def test_malformed_json_is_a_400_problem_and_writes_nothing(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = written(stocked)
    response = client.post(
        "/api/v1/stock-adjustments",
        headers={**admin, "Content-Type": "application/json"},
        content=b'{"sku": "MUG-1", "quantity": 3,}',
    )
    assert_problem(response, 400, "malformed_json", field="body")
    assert written(stocked) == before


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/x-www-form-urlencoded", b"sku=MUG-1&warehouse=SHA&quantity=3&reason=found"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="sku"'),
        ("text/plain", b'{"sku": "MUG-1", "warehouse": "SHA", "quantity": 3, "reason": "found"}'),
    ],
)
def test_a_body_that_is_not_json_is_a_415_problem_and_writes_nothing(
    stocked: Database,
    client: TestClient,
    admin: dict[str, str],
    content_type: str,
    content: bytes,
) -> None:
    before = written(stocked)
    response = client.post(
        "/api/v1/stock-adjustments",
        headers={**admin, "Content-Type": content_type},
        content=content,
    )
    assert_problem(response, 415, "unsupported_media_type", field="content-type")
    assert written(stocked) == before


def test_an_adjustment_without_a_body_is_a_422_problem(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = written(stocked)
    response = client.post("/api/v1/stock-adjustments", headers=admin)
    assert_problem(response, 422, "validation_failed", field="body")
    assert written(stocked) == before


def test_adjustments_without_an_api_key_are_refused_with_401(
    stocked: Database, client: TestClient
) -> None:
    before = written(stocked)
    response = client.post("/api/v1/stock-adjustments", json=adjustment())
    assert_problem(response, 401, "unauthorized")
    assert_problem(client.get("/api/v1/inventory-levels"), 401, "unauthorized")
    assert written(stocked) == before


@pytest.mark.parametrize("scope", ["read", "storefront"])
def test_keys_without_admin_scope_cannot_adjust_stock(
    stocked: Database, client: TestClient, scope: str
) -> None:
    headers = bearer(stocked, scope)
    assert one_level(client, headers, "MUG-1", "SHA")["on_hand"] == 5
    before = written(stocked)
    assert_problem(post_adjustment(client, headers), 403, "forbidden")
    assert written(stocked) == before


def test_a_garbage_key_cannot_adjust_stock(stocked: Database, client: TestClient) -> None:
    before = written(stocked)
    response = post_adjustment(client, {"Authorization": "Bearer wms_0000_nothing"})
    assert_problem(response, 401, "unauthorized")
    assert written(stocked) == before
