"""Replenishment planning on PostgreSQL: the problem built from a small stocked database, plan runs
end to end (proposals with reasons, projections, progress), editing, approving and ordering
proposals into purchase orders, an infeasible plan, and the in-process launcher."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from tests.conftest import Database
from tests.integration.procurement.support import (
    SUPPLIER,
    approved,
    incoming,
    picture,
    stocked,
)
from wms.db.base import utcnow
from wms.errors import Conflict, InvalidTransition, ValidationFailed
from wms.events.planning_tasks import ThreadPlanLauncher
from wms.procurement import proposals
from wms.procurement import purchase_orders as po
from wms.procurement.plan_parameters import PlanParameters
from wms.procurement.plan_views import plan_projections, plan_run_view, proposal_views
from wms.procurement.planning.problem import COST_SCALE
from wms.procurement.replenishment import build_problem, set_storage_capacity
from wms.procurement.replenishment_runs import create_run, run_plan
from wms.quality.suppliers import set_status

TODAY = utcnow().date()


@pytest.fixture
def db(pg: Database) -> Database:
    return stocked(pg, TODAY)


def params(**changes: object) -> PlanParameters:
    values: dict[str, object] = {"horizon_weeks": 8, "time_limit_seconds": 10.0, "today": TODAY}
    return PlanParameters(**{**values, **changes})  # type: ignore[arg-type]


def queue(db: Database, **changes: object) -> int:
    with db.uow() as uow:
        run_id = create_run(uow, parameters=params(**changes), actor="pei")
        uow.commit()
    return run_id


def planned(db: Database, **changes: object) -> int:
    run_id = queue(db, **changes)
    outcome = run_plan(db.session_factory, run_id=run_id)
    assert outcome.status == "succeeded", outcome
    return run_id


def test_the_problem_is_built_from_history_stock_receipts_and_offers(db: Database) -> None:
    on_order = approved(db, {"MUG": 120})  # expected in 14 days: week 2
    with db.uow() as uow:
        set_storage_capacity(uow, warehouse="SHA", capacity_m3=50)
        uow.commit()
    with db.uow() as uow:
        problem, context = build_problem(uow.session, parameters=params())
    assert on_order.startswith("PO-SHA-")
    assert problem.weeks == 8
    series = {s.key: s for s in problem.series}
    assert set(series) == {("MUG", "SHA"), ("TEA", "SHA")}
    mug = series[("MUG", "SHA")]
    assert mug.on_hand == 40
    assert all(24 <= d <= 36 for d in mug.demand)  # 30 a week in the history
    assert mug.incoming == (0, 0, 120, 0, 0, 0, 0, 0)
    assert mug.safety_stock > 0
    [option] = mug.options
    assert (option.supplier, option.lead_time_weeks, option.moq, option.pack) == (
        SUPPLIER,
        2,
        24,
        12,
    )
    assert [(b.min_quantity, b.unit_cost) for b in option.price_breaks] == [
        (1, 125_000),
        (100, 118_000),
        (500, 110_000),
    ]
    assert mug.holding_cost == round(12.5 * COST_SCALE * 0.005)
    assert mug.shortage_cost == round(12.5 * COST_SCALE * 2)
    assert problem.warehouse_capacity["SHA"] == 50_000_000  # no other stock takes room
    assert problem.budget is None
    assert context.series[("MUG", "SHA")].safety_stock == mug.safety_stock
    assert context.left_out == ()


def test_a_suspended_supplier_is_left_out_and_the_context_says_why(db: Database) -> None:
    with db.uow() as uow:
        set_status(uow, supplier=SUPPLIER, status="suspended", reason="failed audit", actor="qa")
        uow.commit()
    with db.uow() as uow:
        problem, context = build_problem(uow.session, parameters=params())
    assert problem.series == ()
    assert context.left_out == (
        {"supplier": SUPPLIER, "status": "suspended", "reason": "failed audit"},
    )
    assert any("MUG at SHA: no qualified supplier" in note for note in context.notes)


def test_a_run_stores_proposals_with_reasons_and_projections(db: Database) -> None:
    run_id = planned(db, budget_per_week=Decimal("5000"))
    with db.uow() as uow:
        run = plan_run_view(uow.session, run_id)
        lines = proposal_views(uow.session, run_id=run_id)
        projections = plan_projections(uow.session, run_id=run_id)
    assert run.result_status in ("optimal", "feasible")
    assert run.objective is not None
    assert run.bound is not None
    assert run.bound <= run.objective
    assert run.gap is not None
    assert run.gap >= 0
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.progress_message.startswith(run.result_status)
    assert run.context["week_starts"][0] == TODAY.isoformat()
    assert lines, "40 mugs do not last 8 weeks at 30 a week"
    for line in lines:
        assert line.status == "proposed"
        assert line.reason
        if line.sku == "MUG":  # MOQ 24 in packs of 12
            assert line.quantity >= 24
            assert line.quantity % 12 == 0
        assert line.order_date == TODAY + timedelta(weeks=line.order_week)
        assert line.arrival_date >= line.order_date
        assert line.currency == "CNY"
        assert line.unit_price in (Decimal("12.5"), Decimal("11.8"), Decimal("11"), Decimal(30))
    assert {p["sku"] for p in projections} == {"MUG", "TEA"}
    for projection in projections:
        assert len(projection["with_plan"]) == len(projection["without_plan"]) == 8
        assert projection["safety_stock"] >= 0
    mug = next(p for p in projections if p["sku"] == "MUG")
    assert sum(mug["with_plan"]) > sum(mug["without_plan"])
    assert sum(mug["short_with_plan"]) < sum(mug["demand"]) - 40


def test_running_a_finished_run_again_changes_nothing(db: Database) -> None:
    run_id = planned(db)
    before = picture(db)
    outcome = run_plan(db.session_factory, run_id=run_id)
    assert outcome.status == "succeeded"
    assert picture(db) == before


def test_proposals_are_edited_within_the_order_rules_approved_and_ordered(db: Database) -> None:
    run_id = planned(db)
    with db.uow() as uow:
        mug = next(p for p in proposal_views(uow.session, run_id=run_id) if p.sku == "MUG")
    before = picture(db)
    for bad in (30, 12):
        with db.uow() as uow, pytest.raises(ValidationFailed) as refused:
            proposals.edit_proposal(uow, proposal_id=mug.id, quantity=bad, actor="pei")
        assert refused.value.field == "quantity"
        assert "packs of 12" in refused.value.message
    assert picture(db) == before
    with db.uow() as uow:
        edited = proposals.edit_proposal(uow, proposal_id=mug.id, quantity=600, actor="pei")
        proposals.approve_proposals(uow, run_id=run_id, proposal_ids=[mug.id], actor="pei")
        uow.commit()
    assert (edited.quantity, edited.proposed_quantity, edited.unit_price) == (
        600,
        mug.quantity,
        Decimal("11.00"),
    )
    with db.uow() as uow:
        codes = proposals.order_proposals(uow, run_id=run_id, actor="pei")
        uow.commit()
    assert len(codes) == 1
    with db.uow() as uow:
        order = po.purchase_order_view(uow.session, codes[0])
        [ordered] = proposal_views(uow.session, run_id=run_id, ids=[mug.id])
    assert (order.status, order.plan_run_id, order.supplier) == ("draft", run_id, SUPPLIER)
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("MUG", 600, Decimal("11.00"))
    ]
    assert (ordered.status, ordered.purchase_order) == ("ordered", codes[0])
    with db.uow() as uow, pytest.raises(InvalidTransition):
        proposals.reject_proposals(uow, run_id=run_id, proposal_ids=[mug.id], actor="pei")
    with db.uow() as uow:
        po.approve_purchase_order(uow, code=codes[0], actor="pei")
        uow.commit()
    assert incoming(db, "MUG") == 600


def test_ordering_with_nothing_approved_is_refused(db: Database) -> None:
    run_id = planned(db)
    before = picture(db)
    with db.uow() as uow, pytest.raises(Conflict):
        proposals.order_proposals(uow, run_id=run_id, actor="pei")
    with db.uow() as uow:
        ids = [p.id for p in proposal_views(uow.session, run_id=run_id)]
    with db.uow() as uow, pytest.raises(InvalidTransition):
        proposals.order_proposals(uow, run_id=run_id, actor="pei", proposal_ids=ids)
    assert picture(db) == before


def test_an_infeasible_plan_is_stored_as_infeasible_with_its_reason(db: Database) -> None:
    approved(db, {"MUG": 500})  # arrives in week 2, with nowhere to go
    with db.uow() as uow:
        uow.session.execute(text("UPDATE products SET volume_cm3 = 1000"))
        set_storage_capacity(uow, warehouse="SHA", capacity_m3=0.2)  # 200 units
        uow.commit()
    run_id = planned(db)
    with db.uow() as uow:
        run = plan_run_view(uow.session, run_id)
    assert (run.status, run.result_status) == ("succeeded", "infeasible")
    assert "warehouse SHA is over capacity" in run.reason
    assert run.objective is None
    assert db.count("plan_proposals") == 0


def test_bad_parameters_are_refused_naming_the_field() -> None:
    for changes, field in (
        ({"horizon_weeks": 0}, "horizon_weeks"),
        ({"horizon_weeks": 53}, "horizon_weeks"),
        ({"time_limit_seconds": 0}, "time_limit_seconds"),
        ({"service_level": 1.0}, "service_level"),
        ({"budget_per_week": Decimal(-1)}, "budget_per_week"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            params(**changes)
        assert refused.value.field == field


def test_a_budget_below_any_order_fails_the_run_with_the_reason(db: Database) -> None:
    run_id = queue(db, budget_per_week=Decimal("10"))
    outcome = run_plan(db.session_factory, run_id=run_id)
    assert (outcome.status, outcome.invalid) == ("failed", True)
    assert "budget" in outcome.error
    with db.uow() as uow:
        assert plan_run_view(uow.session, run_id).error == outcome.error


def test_the_in_process_launcher_runs_queued_plans_in_the_background(db: Database) -> None:
    launcher = ThreadPlanLauncher(db.session_factory)
    first, second = queue(db), queue(db, warehouse="SHA")
    launcher.launch(first)
    launcher.launch(second)
    launcher.launch(first)  # a repeat is a no-op
    assert launcher.wait_idle(120)
    launcher.stop()
    with db.uow() as uow:
        runs = [plan_run_view(uow.session, run_id) for run_id in (first, second)]
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    assert all(r.proposals.get("proposed") for r in runs)  # two workers: ties may split apart
