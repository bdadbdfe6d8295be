"""Inbound inspection on PostgreSQL: held lots are never available, verdicts, dispositions, the
ledger, the switching rules on stored history, and refusals that write nothing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.concurrency import race
from tests.conftest import Database
from tests.integration.fulfillment.support import ship_to
from tests.integration.quality.support import (
    SUPPLIER,
    decide,
    find,
    ledger_balances,
    level,
    picture,
    receipt,
    receive,
    setup_inspected,
)
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import InvalidTransition, ValidationFailed
from wms.fulfillment import orders, reservations
from wms.fulfillment.views import LineRequest
from wms.inventory import putaway
from wms.inventory.errors import InsufficientStock
from wms.quality import dispositions, inbound, inspections, scorecard, suppliers
from wms.quality.errors import InspectionDiscontinued
from wms.quality.views import inspection_view


@pytest.fixture
def inspected(pg: Database) -> Database:
    return setup_inspected(pg)


def test_a_received_lot_of_an_inspected_product_is_held_and_never_available(
    inspected: Database,
) -> None:
    booking = receive(inspected, "KETTLE", 500)
    assert booking.inspection is not None
    assert booking.booking.location == "QC"
    assert level(inspected, "KETTLE") | {"version": 0} == {
        "on_hand": 500,
        "committed": 0,
        "reserved": 0,
        "quality_control": 500,
        "available": 0,
        "blocked": False,
        "version": 0,
    }
    with inspected.uow() as uow:
        view = inspection_view(uow.session, booking.inspection)
    # Lot 500, level II -> H; major AQL 1.0 -> n=50 Ac 1 Re 2; minor AQL 4.0 -> n=50 Ac 5 Re 6.
    assert view.plans["major"]["code_letter"] == "H"
    assert (view.plans["major"]["ac"], view.plans["major"]["re"]) == (1, 2)
    assert (view.plans["minor"]["ac"], view.plans["minor"]["re"]) == (5, 6)
    assert view.sample_size == 50
    assert len(view.units) == len(set(view.units)) == 50
    assert all(1 <= u <= 500 for u in view.units)
    assert ledger_balances(inspected)


def test_a_product_without_a_spec_from_an_approved_supplier_goes_to_the_dock(
    inspected: Database,
) -> None:
    booking = receive(inspected, "PLAIN", 20)
    assert booking.inspection is None
    assert booking.booking.location == "RECV"
    assert level(inspected, "PLAIN")["available"] == 20


def test_a_conditional_supplier_is_always_inspected(inspected: Database) -> None:
    with inspected.uow() as uow:
        suppliers.set_status(
            uow, supplier=SUPPLIER, status="conditional", reason="new supplier", actor="qa"
        )
        uow.commit()
    booking = receive(inspected, "PLAIN", 20)
    assert booking.inspection is not None
    assert booking.spec.reason == "the supplier is conditional, not fully qualified"
    assert level(inspected, "PLAIN")["available"] == 0


def test_a_second_booking_of_the_same_lot_grows_the_open_inspection(inspected: Database) -> None:
    with inspected.uow() as uow:
        code = receipt(uow, {"KETTLE": 300})
        first = inbound.receive_line(uow, receipt=code, sku="KETTLE", quantity=100, actor="ola")
        second = inbound.receive_line(uow, receipt=code, sku="KETTLE", quantity=200, actor="ola")
        uow.commit()
    assert first.inspection == second.inspection
    with inspected.uow() as uow:
        view = inspection_view(uow.session, str(first.inspection))
    assert view.quantity == 300
    assert view.plans["major"]["code_letter"] == "H"  # 281..500 at level II


def test_concurrent_orders_and_reservations_during_the_hold_all_fail(inspected: Database) -> None:
    receive(inspected, "KETTLE", 40)

    def attempt(uow: UnitOfWork, index: int) -> None:
        if index % 2:
            orders.create_order(
                uow,
                owner="apikey:1",
                external_ref=f"web-{index}",
                lines=[LineRequest("KETTLE", 1)],
                ship_to=ship_to(),
            )
        else:
            reservations.create_reservation(
                uow,
                owner="apikey:1",
                external_ref=f"cart-{index}",
                lines=[LineRequest("KETTLE", 1)],
            )

    outcomes = race(inspected, 16, attempt, refusals=(InsufficientStock,))
    assert outcomes == Counter({"InsufficientStock": 16})
    after = level(inspected, "KETTLE")
    assert (after["committed"], after["reserved"], after["quality_control"]) == (0, 0, 40)
    assert inspected.count("orders") == 0
    assert inspected.count("reservations") == 0


def test_held_stock_cannot_be_put_away_until_released(inspected: Database) -> None:
    receive(inspected, "KETTLE", 10)
    before = picture(inspected)
    with inspected.uow() as uow, pytest.raises(InsufficientStock):
        putaway.putaway(
            uow, warehouse="SHA", sku="KETTLE", quantity=10, to_location="B01", actor="ola"
        )
    assert picture(inspected) == before


def test_acceptance_releases_the_lot_to_the_dock_for_putaway(inspected: Database) -> None:
    code = str(receive(inspected, "KETTLE", 500).inspection)
    find(inspected, code, "major", [3])  # 1 major <= Ac 1
    decision = decide(inspected, code)
    assert decision.accepted
    assert level(inspected, "KETTLE")["available"] == 0  # decided, not yet released
    with inspected.uow() as uow:
        result = dispositions.dispose(uow, inspection=code, disposition="accept", actor="ines")
        uow.commit()
    assert result.quantity == 500
    after = level(inspected, "KETTLE")
    assert (after["quality_control"], after["available"]) == (0, 500)
    with inspected.uow() as uow:
        moved = putaway.putaway(
            uow,
            warehouse="SHA",
            sku="KETTLE",
            quantity=500,
            to_location="B01",
            actor="ola",
            override=True,
        )
        uow.commit()
    assert moved.to_location.endswith("B01")
    assert ledger_balances(inspected)


def test_rejection_and_return_leave_a_balanced_ledger_and_update_the_scorecard(
    inspected: Database,
) -> None:
    code = str(receive(inspected, "KETTLE", 500).inspection)
    find(inspected, code, "major", [1, 7])  # 2 major = Re 2
    decision = decide(inspected, code)
    assert not decision.accepted
    assert decision.ncr_code is not None
    with inspected.uow() as uow:
        result = dispositions.dispose(uow, inspection=code, disposition="return", actor="ines")
        uow.commit()
    assert result.return_code is not None
    assert result.return_code.startswith("RT-SHA-")
    after = level(inspected, "KETTLE")
    assert (after["on_hand"], after["quality_control"], after["available"]) == (0, 0, 0)
    moves = inspected.scalar(
        "SELECT string_agg(concat_ws(':', m.reason, f.kind, t.kind, m.quantity, m.reference), ',' "
        "ORDER BY m.id) FROM moves m JOIN locations f ON f.id = m.from_location_id "
        "JOIN locations t ON t.id = m.to_location_id"
    )
    assert (
        moves
        == f"receipt:supplier:qc_hold:500:{_receipt_of(inspected, code)},qc_return:qc_hold:supplier:500:{result.return_code}"
    )
    assert ledger_balances(inspected)
    with inspected.uow() as uow:
        card = scorecard.scorecard(uow.session, SUPPLIER)
    assert (card.lots_decided, card.lots_accepted) == (1, 0)
    assert card.acceptance_rate == 0.0
    assert card.ppm == 2 * 1_000_000 // 50


def _receipt_of(db: Database, inspection: str) -> str:
    return str(
        db.scalar(
            "SELECT r.code FROM inspections i JOIN receipts r ON r.id = i.receipt_id "
            "WHERE i.code = :c",
            c=inspection,
        )
    )


def test_scrap_rework_and_use_as_is(inspected: Database) -> None:
    codes = [str(receive(inspected, "KETTLE", 100).inspection) for _ in range(3)]
    for code in codes:
        find(inspected, code, "critical", [1])
        assert not decide(inspected, code).accepted
    with inspected.uow() as uow:
        scrapped = dispositions.dispose(uow, inspection=codes[0], disposition="scrap", actor="ines")
        reworked = dispositions.dispose(
            uow, inspection=codes[1], disposition="rework", actor="ines"
        )
        used = dispositions.dispose(
            uow, inspection=codes[2], disposition="use_as_is", actor="ines", approved_by="sam"
        )
        uow.commit()
    assert scrapped.posting is not None
    assert used.posting is not None
    assert reworked.resubmission is not None
    after = level(inspected, "KETTLE")
    # 100 scrapped, 100 held again for the resubmitted inspection, 100 released as is.
    assert (after["on_hand"], after["quality_control"], after["available"]) == (200, 100, 100)
    with inspected.uow() as uow:
        again = inspection_view(uow.session, reworked.resubmission)
    assert again.resubmission_of == codes[1]
    assert again.status == "open"
    assert ledger_balances(inspected)


def test_critical_defects_reject_whatever_the_major_plan(inspected: Database) -> None:
    code = str(receive(inspected, "KETTLE", 500).inspection)
    find(inspected, code, "critical", [50])
    decision = decide(inspected, code)
    assert not decision.accepted
    assert (decision.inspection.verdict_detail or {})["critical"]["outcome"] == "reject"
    assert (decision.inspection.verdict_detail or {})["major"]["outcome"] == "accept"


def test_two_rejections_in_five_lots_tighten_the_next_plan(inspected: Database) -> None:
    for units in ([1, 2], [], [3, 4]):
        code = str(receive(inspected, "KETTLE", 500).inspection)
        if units:
            find(inspected, code, "major", units)
        decide(inspected, code)
    code = str(receive(inspected, "KETTLE", 500).inspection)
    with inspected.uow() as uow:
        view = inspection_view(uow.session, code)
    assert view.plans["major"]["severity"] == "tightened"
    # Tightened, H, AQL 1.0: n=80 Ac 1 Re 2 (Table 2-B); minor stays on normal.
    assert (view.plans["major"]["sample_size"], view.plans["major"]["ac"]) == (80, 1)
    assert view.plans["minor"]["severity"] == "normal"
    switches = inspected.scalar(
        "SELECT string_agg(concat_ws(':', defect_class, from_severity, to_severity), ',') "
        "FROM switching_events"
    )
    assert switches == "major:normal:tightened"


def test_five_rejections_under_tightened_discontinue_until_corrective_action(
    inspected: Database,
) -> None:
    from wms.quality import ncr

    for _ in range(2 + 5):
        code = str(receive(inspected, "KETTLE", 500).inspection)
        find(inspected, code, "major", [1, 2, 3, 4])
        decide(inspected, code)
    with inspected.uow() as uow:
        code = receipt(uow, {"KETTLE": 10})
        uow.commit()
    before = picture(inspected)
    with inspected.uow() as uow, pytest.raises(InspectionDiscontinued):
        inbound.receive_line(uow, receipt=code, sku="KETTLE", quantity=10, actor="ola")
    assert picture(inspected) == before
    ncr_code = str(
        inspected.scalar("SELECT code FROM nonconformance_reports WHERE kind = 'discontinuation'")
    )
    with inspected.uow() as uow:
        action = ncr.request_corrective_action(
            uow,
            ncr=ncr_code,
            description="8D on the kettle lid seal",
            owner="supplier QA",
            due_date=utcnow().date() + timedelta(days=14),
            actor="qa",
        )
        uow.commit()
        action_id = action.id
    with inspected.uow() as uow:
        ncr.close_corrective_action(uow, action_id=action_id, resolution="new seal", actor="qa")
        uow.commit()
    booking = receive(inspected, "KETTLE", 500)
    with inspected.uow() as uow:
        view = inspection_view(uow.session, str(booking.inspection))
    assert view.plans["major"]["severity"] == "tightened"


@pytest.mark.parametrize(
    ("defect_class", "units", "field"),
    [
        ("major", [51], "unit"),
        ("major", [0], "unit"),
        ("cosmetic", [1], "defect_class"),
    ],
)
def test_findings_outside_the_sample_are_refused_and_write_nothing(
    inspected: Database, defect_class: str, units: list[int], field: str
) -> None:
    code = str(receive(inspected, "KETTLE", 500).inspection)
    before = picture(inspected)
    with inspected.uow() as uow, pytest.raises(ValidationFailed) as error:
        inspections.record_findings(
            uow,
            inspection=code,
            findings=[inspections.FindingInput(defect_class, u) for u in units],
            actor="ines",
        )
    assert error.value.field == field
    assert picture(inspected) == before


def test_more_defective_units_than_the_sample_are_refused(inspected: Database) -> None:
    code = str(receive(inspected, "KETTLE", 20).inspection)  # lot 20 -> C: n=5 (whole lot? no)
    with inspected.uow() as uow:
        sample = inspection_view(uow.session, code).plans["minor"]["sample_size"]
    before = picture(inspected)
    with inspected.uow() as uow, pytest.raises(ValidationFailed, match="more than the sample"):
        inspections.record_findings(
            uow,
            inspection=code,
            findings=[inspections.FindingInput("minor") for _ in range(sample + 1)],
            actor="ines",
        )
    assert picture(inspected) == before


def test_a_disposition_on_a_closed_inspection_is_refused_and_writes_nothing(
    inspected: Database,
) -> None:
    code = str(receive(inspected, "KETTLE", 100).inspection)
    decide(inspected, code)
    with inspected.uow() as uow:
        dispositions.dispose(uow, inspection=code, disposition="accept", actor="ines")
        uow.commit()
    before = picture(inspected)
    for disposition in ("accept", "scrap", "return"):
        with inspected.uow() as uow, pytest.raises(InvalidTransition):
            dispositions.dispose(uow, inspection=code, disposition=disposition, actor="ines")
    assert picture(inspected) == before


def test_a_rejected_lot_cannot_be_accepted_nor_used_as_is_without_approval(
    inspected: Database,
) -> None:
    code = str(receive(inspected, "KETTLE", 100).inspection)
    find(inspected, code, "critical", [1])
    decide(inspected, code)
    before = picture(inspected)
    with inspected.uow() as uow, pytest.raises(ValidationFailed) as error:
        dispositions.dispose(uow, inspection=code, disposition="accept", actor="ines")
    assert error.value.field == "disposition"
    with inspected.uow() as uow, pytest.raises(ValidationFailed) as error:
        dispositions.dispose(uow, inspection=code, disposition="use_as_is", actor="ines")
    assert error.value.field == "approved_by"
    assert picture(inspected) == before


def test_findings_after_the_verdict_are_refused(inspected: Database) -> None:
    code = str(receive(inspected, "KETTLE", 100).inspection)
    decide(inspected, code)
    with inspected.uow() as uow, pytest.raises(inspections.InspectionNotOpen):
        inspections.record_findings(
            uow, inspection=code, findings=[inspections.FindingInput("minor", 1)], actor="ines"
        )


def test_parallel_dispositions_of_one_lot_book_it_once(inspected: Database) -> None:
    code = str(receive(inspected, "KETTLE", 100).inspection)
    find(inspected, code, "critical", [1])
    decide(inspected, code)

    def dispose(uow: UnitOfWork, index: int) -> None:
        dispositions.dispose(
            uow, inspection=code, disposition=("scrap", "return")[index % 2], actor="ines"
        )

    outcomes = race(inspected, 8, dispose, refusals=(InvalidTransition,))
    assert outcomes == Counter({"ok": 1, "InvalidTransition": 7})
    with inspected.engine.connect() as connection:
        out = connection.execute(
            text("SELECT count(*) FROM moves WHERE reason IN ('qc_scrap', 'qc_return')")
        ).scalar()
    assert out == 1
    assert ledger_balances(inspected)


def test_parallel_verdicts_on_one_supplier_product_count_every_lot_once(
    inspected: Database,
) -> None:
    codes = [str(receive(inspected, "KETTLE", 500).inspection) for _ in range(6)]
    for code in codes:
        find(inspected, code, "minor", [1])

    def verdict(uow: UnitOfWork, index: int) -> None:
        inspections.decide(uow, inspection=codes[index], actor="ines")

    outcomes = race(inspected, 6, verdict)
    assert outcomes == Counter({"ok": 6})
    recent = inspected.scalar("SELECT recent FROM switching_states WHERE defect_class = 'minor'")
    assert recent == "AAAAA" or len(str(recent)) >= 5
    score = inspected.scalar(
        "SELECT switching_score FROM switching_states WHERE defect_class = 'minor'"
    )
    # Minor AQL 4.0 at H: Ac 5 >= 2, and 1 defect would pass at AQL 2.5 (Ac 3): +3 per lot.
    assert score == 18


def test_a_lot_inspected_before_a_switch_is_judged_but_not_counted_again(
    inspected: Database,
) -> None:
    codes = [str(receive(inspected, "KETTLE", 500).inspection) for _ in range(3)]
    for code in codes[:2]:
        find(inspected, code, "major", [1, 2])
        decide(inspected, code)  # the second rejection in five lots: major goes tightened
    find(inspected, codes[2], "major", [1, 2])
    decision = decide(inspected, codes[2])
    assert not decision.accepted
    assert (decision.inspection.verdict_detail or {})["major"]["switching"] == (
        "not counted: inspected normal, now tightened"
    )
    assert (
        inspected.scalar(
            "SELECT not_accepted_in_tightened FROM switching_states WHERE defect_class = 'major'"
        )
        == 0
    )
