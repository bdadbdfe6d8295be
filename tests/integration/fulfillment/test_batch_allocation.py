"""Batch re-optimisation of the orders not yet released to picking, on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.commands import run_wms, wms_env
from tests.concurrency import race
from tests.conftest import Database
from tests.integration.api.conftest import assert_problem, bearer
from tests.integration.fulfillment.support import OWNER, events, level, levels_picture, ship_to
from wms.api.app import create_app
from wms.config import Settings
from wms.db.uow import UnitOfWork
from wms.fulfillment import batch_allocation, orders, picking
from wms.fulfillment.batch_allocation import (
    ReoptimisationSummary,
    StockChangedDuringReoptimisation,
    reoptimise_allocations,
)
from wms.fulfillment.views import LineRequest, OrderView
from wms.inventory.errors import InsufficientStock
from wms.inventory.integrity import check_ledger
from wms.routing import allocate
from wms.routing.allocate import BatchParameters, BatchProblem, BatchResult

NANCHANG = (28.68, 115.86)  # a little nearer Shanghai than Guangzhou
SHANGHAI = (31.2, 121.5)


def place(db: Database, ref: str, where: tuple[float, float], *lines: tuple[str, int]) -> OrderView:
    with db.uow() as uow:
        view = orders.create_order(
            uow,
            owner=OWNER,
            external_ref=ref,
            lines=[LineRequest(sku, qty) for sku, qty in lines],
            ship_to=ship_to(*where),
        )
        uow.commit()
    return view


def current(db: Database, view: OrderView) -> OrderView:
    with db.uow() as uow:
        return orders.get_order(uow.session, owner=OWNER, order_id=view.id)


def warehouses_of(db: Database, view: OrderView) -> list[str | None]:
    return [line.warehouse for line in current(db, view).lines]


def reoptimise(db: Database, **options: Any) -> ReoptimisationSummary:
    with db.uow() as uow:
        summary = reoptimise_allocations(uow, time_limit_seconds=5, actor="planner", **options)
        uow.commit()
    return summary


def assert_levels_consistent(db: Database) -> None:
    with db.uow() as uow:
        report = check_ledger(uow.session)
    assert report.ok, [d.describe() for d in report.discrepancies]
    assert db.count("stock_levels WHERE committed + reserved > on_hand OR committed < 0") == 0


def one_at_a_time(db: Database) -> tuple[OrderView, OrderView]:
    """Nanchang takes Shanghai's ten mugs first; Shanghai's own order must then come from CAN."""
    first = place(db, "nanchang", NANCHANG, ("MUG", 10))
    second = place(db, "shanghai", SHANGHAI, ("MUG", 10))
    assert warehouses_of(db, first) == ["SHA"]
    assert warehouses_of(db, second) == ["CAN"]
    return first, second


def test_reoptimisation_swaps_what_one_order_at_a_time_got_wrong(stocked: Database) -> None:
    first, second = one_at_a_time(stocked)
    before = len(events(stocked, "order."))

    summary = reoptimise(stocked)

    assert summary.applied
    assert (summary.lines_considered, summary.lines_moved, summary.orders_changed) == (2, 2, 2)
    assert summary.cost_after < summary.cost_before
    assert summary.bound <= summary.cost_after
    assert summary.gap == pytest.approx((summary.cost_after - summary.bound) / summary.cost_after)
    assert summary.skipped == 0
    assert warehouses_of(stocked, first) == ["CAN"]
    assert warehouses_of(stocked, second) == ["SHA"]
    moved = current(stocked, second)
    assert [(a.warehouse, a.status) for a in moved.allocation] == [
        ("CAN", "cancelled"),
        ("SHA", "released"),
    ]
    assert level(stocked, "MUG", "SHA")["committed"] == 10
    assert level(stocked, "MUG", "CAN")["committed"] == 10
    assert_levels_consistent(stocked)
    written = events(stocked, "order.")[before:]
    assert sorted((kind, subject) for kind, subject, _ in written) == sorted(
        [("order.allocated", first.id), ("order.allocated", second.id)]
    )
    assert {data["actor"] for _, _, data in written} == {"planner"}
    by_order = {subject: data for _, subject, data in written}
    assert [(a["warehouse"], a["status"]) for a in by_order[second.id]["allocation"]] == [
        ("CAN", "cancelled"),
        ("SHA", "released"),
    ]


def test_a_moved_line_joins_the_released_fulfilment_already_at_its_new_warehouse(
    stocked: Database,
) -> None:
    place(stocked, "nanchang", NANCHANG, ("MUG", 10))
    split = place(stocked, "shanghai", SHANGHAI, ("MUG", 10), ("TEA", 5))
    assert warehouses_of(stocked, split) == ["CAN", "SHA"]  # tea from the nearer one

    summary = reoptimise(stocked)

    assert summary.lines_moved == 2
    after = current(stocked, split)
    assert warehouses_of(stocked, split) == ["SHA", "SHA"]
    shipping = [a for a in after.allocation if a.status == "released"]
    assert [(a.warehouse, sorted(fl.sku for fl in a.lines)) for a in shipping] == [
        ("SHA", ["MUG", "TEA"])
    ]
    assert len(after.allocation) == 2  # CAN's cancelled, SHA's reused: no third fulfilment
    assert_levels_consistent(stocked)


def test_a_second_run_finds_nothing_cheaper_and_writes_nothing(stocked: Database) -> None:
    one_at_a_time(stocked)
    reoptimise(stocked)
    picture, written = levels_picture(stocked), len(events(stocked))

    summary = reoptimise(stocked)

    assert not summary.applied
    assert summary.lines_moved == 0
    assert summary.cost_after == summary.cost_before
    assert levels_picture(stocked) == picture
    assert len(events(stocked)) == written


def test_a_line_already_on_a_pick_list_is_never_moved(stocked: Database) -> None:
    first, second = one_at_a_time(stocked)
    with stocked.uow() as uow:
        picking.pick_list(uow, current(stocked, first).allocation[0].fulfillment_id, actor="ann")
        uow.commit()
    picture, written = levels_picture(stocked), len(events(stocked, "order."))

    summary = reoptimise(stocked)

    assert summary.lines_considered == 1  # only the Shanghai order's line, at CAN
    assert summary.lines_moved == 0
    assert warehouses_of(stocked, first) == ["SHA"]
    assert warehouses_of(stocked, second) == ["CAN"]
    assert levels_picture(stocked) == picture
    assert len(events(stocked, "order.")) == written


def test_only_lines_at_the_given_warehouses_are_considered(stocked: Database) -> None:
    one_at_a_time(stocked)
    picture = levels_picture(stocked)

    summary = reoptimise(stocked, warehouses=["PEK"])

    assert summary.lines_considered == 0
    assert levels_picture(stocked) == picture


def stranded(db: Database) -> OrderView:
    """Shanghai's order went to CAN while SHA had no mugs; then SHA's ten mugs came free."""
    early = place(db, "early", SHANGHAI, ("MUG", 10))
    late = place(db, "late", SHANGHAI, ("MUG", 10))
    assert warehouses_of(db, late) == ["CAN"]
    with db.uow() as uow:
        orders.cancel_order(uow, owner=OWNER, order_id=early.id)
        uow.commit()
    return late


def test_stock_taken_while_solving_rolls_the_whole_move_back(
    stocked: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = stranded(stocked)
    real_solve = allocate.solve

    def solve_while_an_order_takes_the_stock(
        problem: BatchProblem, params: BatchParameters
    ) -> BatchResult:
        place(stocked, "rival", SHANGHAI, ("MUG", 10))  # another session, committed
        return real_solve(problem, params)

    monkeypatch.setattr(batch_allocation, "solve", solve_while_an_order_takes_the_stock)
    picture = levels_picture(stocked)
    late_events = len([e for e in events(stocked, "order.") if e[1] == late.id])

    with pytest.raises(StockChangedDuringReoptimisation) as refused:
        reoptimise(stocked)

    assert refused.value.code == "stock_changed"
    assert "nothing was moved" in refused.value.message
    assert warehouses_of(stocked, late) == ["CAN"]
    assert level(stocked, "MUG", "CAN")["committed"] == 10
    assert level(stocked, "MUG", "SHA")["committed"] == 10  # the rival's, nothing more
    assert levels_picture(stocked) != picture  # only by the rival's order
    assert len([e for e in events(stocked, "order.") if e[1] == late.id]) == late_events
    assert_levels_consistent(stocked)


def test_reoptimisation_racing_an_order_for_the_same_stock_never_oversells(
    stocked: Database,
) -> None:
    late = stranded(stocked)

    def act(uow: UnitOfWork, index: int) -> None:
        if index == 0:
            reoptimise_allocations(uow, time_limit_seconds=5, actor="planner")
        else:
            orders.create_order(
                uow,
                owner=OWNER,
                external_ref="rival",
                lines=[LineRequest("MUG", 10)],
                ship_to=ship_to(*SHANGHAI),
            )

    outcomes = race(stocked, 2, act, refusals=(StockChangedDuringReoptimisation, InsufficientStock))

    assert sum(outcomes.values()) == 2
    assert outcomes["InsufficientStock"] == 0  # CAN's ten come free if the move wins
    assert level(stocked, "MUG", "SHA")["committed"] == 10
    assert level(stocked, "MUG", "CAN")["committed"] == 10
    assert_levels_consistent(stocked)
    moved = warehouses_of(stocked, late) == ["SHA"]
    allocated = [subject for _, subject, _ in events(stocked, "order.allocated")]
    assert allocated.count(late.id) == (2 if moved else 1)  # placed, and moved if it was
    if outcomes["StockChangedDuringReoptimisation"]:
        assert not moved


@pytest.fixture
def client(pg: Database) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=pg.url, secret_key="test-secret"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_api_reoptimises_and_answers_the_summary(stocked: Database, client: TestClient) -> None:
    one_at_a_time(stocked)
    headers = {**bearer(stocked, "admin"), "Idempotency-Key": str(uuid.uuid4())}

    response = client.post(
        "/api/v1/allocations/reoptimise", json={"time_limit_seconds": 5}, headers=headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["lines_moved"] == 2
    assert body["cost_after"] < body["cost_before"]
    again = client.post(
        "/api/v1/allocations/reoptimise", json={"time_limit_seconds": 5}, headers=headers
    )
    assert again.json() == body  # replayed, not run twice


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_limit_seconds": 0}, "time_limit_seconds"),
        ({"time_limit_seconds": 5, "warehouses": []}, "warehouses"),
    ],
)
def test_the_api_refuses_a_bad_body_naming_the_field(
    stocked: Database, client: TestClient, body: dict[str, Any], field: str
) -> None:
    one_at_a_time(stocked)
    picture = levels_picture(stocked)

    response = client.post(
        "/api/v1/allocations/reoptimise", json=body, headers=bearer(stocked, "admin")
    )

    assert_problem(response, 422, "validation_failed", field=field)
    assert levels_picture(stocked) == picture


def test_the_api_refuses_an_unknown_warehouse_in_the_body(
    stocked: Database, client: TestClient
) -> None:
    response = client.post(
        "/api/v1/allocations/reoptimise",
        json={"time_limit_seconds": 5, "warehouses": ["NOPE"]},
        headers={**bearer(stocked, "admin"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert_problem(response, 422, "unknown_warehouse", field="warehouses")


def test_the_api_needs_the_admin_scope(stocked: Database, client: TestClient) -> None:
    response = client.post(
        "/api/v1/allocations/reoptimise",
        json={"time_limit_seconds": 5},
        headers=bearer(stocked, "read"),
    )
    assert response.status_code == 403


def test_the_cli_prints_the_summary_as_json(stocked: Database, tmp_path: Path) -> None:
    one_at_a_time(stocked)
    env = wms_env(WMS_DATABASE_URL=stocked.url)

    done = run_wms(
        "allocate", "reoptimise", "--time-limit", "5", "--json", env=env, cwd=tmp_path, timeout=120
    )

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) == {
        "lines_considered", "lines_moved", "orders_changed", "cost_before", "cost_after",
        "bound", "gap", "seconds", "skipped", "applied", "solver",
    }  # fmt: skip
    assert summary["lines_moved"] == 2
    assert summary["applied"] is True


def test_the_cli_refuses_a_time_limit_of_zero(stocked: Database, tmp_path: Path) -> None:
    env = wms_env(WMS_DATABASE_URL=stocked.url)
    done = run_wms("allocate", "reoptimise", "--time-limit", "0", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: the time limit must be more than 0 seconds")
