"""Cycle counts on PostgreSQL: blind counts, recounts, approvals, scheduling, and races."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from tests import factories
from tests.concurrency import race
from tests.conftest import Database
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import AlreadyExists, InvalidTransition, ValidationFailed
from wms.events.jobs import JOBS, schedule_cycle_counts
from wms.inventory import counts, levels, stock
from wms.inventory.counts import (
    BinDue,
    CountedLine,
    CountPolicy,
    classify_velocity,
    due_bins,
)
from wms.inventory.errors import (
    InsufficientStock,
    InvalidQuantity,
    LocationNotUsable,
    LotRequired,
)
from wms.inventory.integrity import check_ledger
from wms.inventory.levels import LevelLine
from wms.inventory.models import CountStatus


@pytest.fixture
def bins(pg: Database) -> Database:
    """SHA with bins B01-B06: B01 holds 100 MUG and 10 BOWL, B02 holds 20 TEA of lot L1."""
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=6)
        factories.product(uow, "MUG")
        factories.product(uow, "BOWL")
        factories.product(uow, "TEA", lot_tracked=True, shelf_life_days=365)
        stock.receive(uow, sku="MUG", quantity=100, warehouse="SHA", location="B01", actor="t")
        stock.receive(uow, sku="BOWL", quantity=10, warehouse="SHA", location="B01", actor="t")
        stock.receive(
            uow,
            sku="TEA",
            quantity=20,
            warehouse="SHA",
            location="B02",
            lot="L1",
            expiry_date=date(2030, 1, 1),
            actor="t",
        )
        uow.commit()
    return pg


def create(db: Database, location: str = "B01") -> str:
    with db.uow() as uow:
        task = counts.create_count(uow, warehouse="SHA", location=location, actor="lead")
        uow.commit()
    return task.code


def submit(db: Database, code: str, *lines: CountedLine) -> counts.CountOutcome:
    with db.uow() as uow:
        outcome = counts.submit_count(uow, task_code=code, lines=list(lines), actor="counter")
        uow.commit()
    return outcome


def quant(db: Database, sku: str, location: str) -> int:
    value = db.scalar(
        "SELECT coalesce(sum(q.quantity), 0) FROM quants q JOIN products p ON p.id = q.product_id "
        "JOIN locations l ON l.id = q.location_id WHERE p.sku = :sku AND l.code = :loc",
        sku=sku,
        loc=location,
    )
    return int(str(value))


def status(db: Database, code: str) -> str:
    return str(db.scalar("SELECT status FROM count_tasks WHERE code = :c", c=code))


def cycle_count_moves(db: Database) -> int:
    return int(str(db.scalar("SELECT count(*) FROM moves WHERE reason = 'cycle_count'")))


def assert_ledger_agrees(db: Database) -> None:
    with db.uow() as uow:
        report = check_ledger(uow.session)
    assert report.ok, [d.describe() for d in report.discrepancies]
    assert db.scalar("SELECT count(*) FROM quants WHERE quantity < 0") == 0


def far_off_until_approval(db: Database, code: str) -> None:
    """Count MUG as 80, then 85 of 100: a recount, then a wait for a supervisor."""
    assert submit(db, code, CountedLine("MUG", 80), CountedLine("BOWL", 10)).status == "recount"
    assert (
        submit(db, code, CountedLine("MUG", 85), CountedLine("BOWL", 10)).status
        == "pending_approval"
    )


# Creating ------------------------------------------------------------------------------------


def test_a_count_is_created_on_demand_by_barcode_and_a_second_one_is_refused(
    bins: Database,
) -> None:
    with bins.uow() as uow:
        task = counts.create_count(uow, warehouse="SHA", location="SHA-B01", actor="lead")
        uow.commit()
    assert task.code.startswith("CC-SHA-")
    assert len(task.code.rsplit("-", 1)[1]) == 6
    assert (task.location, task.location_barcode, task.status) == ("B01", "SHA-B01", "open")
    assert (task.origin, task.attempts, task.due_date) == ("on_demand", 0, utcnow().date())
    with bins.uow() as uow, pytest.raises(AlreadyExists) as caught:
        counts.create_count(uow, warehouse="SHA", location="B01", actor="lead")
    assert caught.value.field == "location"
    assert caught.value.context["task"] == task.code
    assert task.code in caught.value.message
    assert bins.count("count_tasks") == 1


def test_a_grouping_location_cannot_be_counted(bins: Database) -> None:
    with bins.uow() as uow, pytest.raises(LocationNotUsable) as caught:
        counts.create_count(uow, warehouse="SHA", location="STOCK", actor="lead")
    assert caught.value.field == "location"
    assert bins.count("count_tasks") == 0


def test_sessions_racing_to_create_a_count_of_one_bin_make_one_task(bins: Database) -> None:
    outcomes = race(
        bins,
        8,
        lambda uow, _: counts.create_count(uow, warehouse="SHA", location="B03", actor="lead"),
    )
    assert outcomes == Counter({"ok": 1, "AlreadyExists": 7})
    assert bins.count("count_tasks") == 1


# Submitting ----------------------------------------------------------------------------------


def test_an_exact_blind_count_is_posted_without_moves(bins: Database) -> None:
    code = create(bins)
    outcome = submit(bins, code, CountedLine("MUG", 100), CountedLine("BOWL", 10))
    assert (outcome.status, outcome.attempt, outcome.posted_moves) == ("posted", 1, 0)
    assert [(v.sku, v.expected, v.counted, v.variance) for v in outcome.lines] == [
        ("BOWL", 10, 10, 0),
        ("MUG", 100, 100, 0),
    ]
    assert cycle_count_moves(bins) == 0
    assert bins.scalar("SELECT decided_at IS NOT NULL FROM count_tasks") is True
    assert bins.scalar("SELECT counted_by FROM count_tasks") == "counter"


def test_a_small_difference_is_posted_at_once_as_cycle_count_moves(bins: Database) -> None:
    code = create(bins)
    # MUG split over two scans (summed to 97: 3 short), BOWL 12 (2 over), one unexpected TEA.
    outcome = submit(
        bins,
        code,
        CountedLine("MUG", 90),
        CountedLine("BOWL", 12),
        CountedLine("MUG", 7),
        CountedLine("TEA", 1, lot="L1"),
    )
    assert outcome.status == "posted"
    assert outcome.posted_moves == 3
    assert {(v.sku, v.lot): v.variance for v in outcome.lines} == {
        ("BOWL", None): 2,
        ("MUG", None): -3,
        ("TEA", "L1"): 1,
    }
    assert (quant(bins, "MUG", "B01"), quant(bins, "BOWL", "B01"), quant(bins, "TEA", "B01")) == (
        97,
        12,
        1,
    )
    assert (
        bins.scalar(
            "SELECT count(*) FROM moves m JOIN locations f ON f.id = m.from_location_id "
            "JOIN locations t ON t.id = m.to_location_id WHERE m.reason = 'cycle_count' "
            "AND m.reference = :c AND (f.kind = 'adjustment' OR t.kind = 'adjustment')",
            c=code,
        )
        == 3
    )
    assert (
        bins.scalar(
            "SELECT on_hand FROM stock_levels sl JOIN products p ON p.id = sl.product_id "
            "WHERE p.sku = 'MUG'"
        )
        == 97
    )
    assert_ledger_agrees(bins)


def test_an_expected_item_that_was_not_counted_counts_as_zero(bins: Database) -> None:
    with bins.uow() as uow:
        stock.receive(uow, sku="BOWL", quantity=1, warehouse="SHA", location="B03", actor="t")
        uow.commit()
    code = create(bins, "B03")
    outcome = submit(bins, code)  # the counter found the bin empty
    assert outcome.status == "posted"
    assert [(v.sku, v.expected, v.counted) for v in outcome.lines] == [("BOWL", 1, 0)]
    assert quant(bins, "BOWL", "B03") == 0
    assert_ledger_agrees(bins)


def test_a_large_difference_on_the_first_count_asks_for_a_recount_and_posts_nothing(
    bins: Database,
) -> None:
    code = create(bins)
    outcome = submit(bins, code, CountedLine("MUG", 90), CountedLine("BOWL", 10))
    assert (outcome.status, outcome.attempt, outcome.posted_moves) == ("recount", 1, 0)
    assert status(bins, code) == "recount"
    assert cycle_count_moves(bins) == 0
    assert quant(bins, "MUG", "B01") == 100
    with bins.uow() as uow:
        (task,) = counts.list_count_tasks(uow.session, warehouse="SHA", statuses=["recount"])
    assert task.attempts == 1


def test_a_recount_within_tolerance_posts_the_recounted_quantities(bins: Database) -> None:
    code = create(bins)
    submit(bins, code, CountedLine("MUG", 90), CountedLine("BOWL", 10))
    outcome = submit(bins, code, CountedLine("MUG", 99), CountedLine("BOWL", 10))
    assert (outcome.status, outcome.attempt, outcome.posted_moves) == ("posted", 2, 1)
    assert quant(bins, "MUG", "B01") == 99
    assert bins.count("count_lines") == 4  # both attempts are kept
    assert_ledger_agrees(bins)


def test_a_recount_still_far_off_waits_for_a_supervisor_and_posts_nothing(bins: Database) -> None:
    code = create(bins)
    far_off_until_approval(bins, code)
    assert status(bins, code) == "pending_approval"
    assert cycle_count_moves(bins) == 0
    assert quant(bins, "MUG", "B01") == 100


def test_approving_posts_the_last_count_and_records_the_supervisor(bins: Database) -> None:
    code = create(bins)
    far_off_until_approval(bins, code)
    with bins.uow() as uow:
        outcome = counts.approve_count(uow, task_code=code, actor="boss")
        uow.commit()
    assert (outcome.status, outcome.posted_moves) == ("posted", 1)
    assert quant(bins, "MUG", "B01") == 85  # the recount, not the first count
    assert quant(bins, "BOWL", "B01") == 10
    assert bins.scalar("SELECT decided_by FROM count_tasks") == "boss"
    assert_ledger_agrees(bins)
    with bins.uow() as uow, pytest.raises(InvalidTransition):
        counts.approve_count(uow, task_code=code, actor="boss")
    assert cycle_count_moves(bins) == 1


def test_rejecting_posts_nothing_and_frees_the_bin_for_a_new_count(bins: Database) -> None:
    code = create(bins)
    far_off_until_approval(bins, code)
    with bins.uow() as uow:
        outcome = counts.reject_count(uow, task_code=code, actor="boss")
        uow.commit()
    assert (outcome.status, outcome.posted_moves) == ("rejected", 0)
    assert status(bins, code) == "rejected"
    assert bins.scalar("SELECT decided_by FROM count_tasks") == "boss"
    assert cycle_count_moves(bins) == 0
    assert quant(bins, "MUG", "B01") == 100
    assert create(bins) != code


def test_approving_after_stock_left_the_bin_is_refused_and_writes_nothing(bins: Database) -> None:
    code = create(bins)
    far_off_until_approval(bins, code)  # approval would take 15 MUG out of B01
    with bins.uow() as uow:
        stock.move(
            uow,
            sku="MUG",
            quantity=90,
            warehouse="SHA",
            from_location="B01",
            to_location="B02",
            actor="t",
        )
        uow.commit()
    with bins.uow() as uow, pytest.raises(InsufficientStock):
        counts.approve_count(uow, task_code=code, actor="boss")
    assert status(bins, code) == "pending_approval"
    assert cycle_count_moves(bins) == 0


def test_a_count_below_what_is_reserved_waits_for_approval_instead_of_failing(
    bins: Database,
) -> None:
    with bins.uow() as uow:
        levels.reserve(uow, lines=[LevelLine("BOWL", "SHA", 10)])
        uow.commit()
    code = create(bins)
    outcome = submit(bins, code, CountedLine("MUG", 100), CountedLine("BOWL", 9))
    assert outcome.status == "pending_approval"
    assert bins.count("count_lines") == 2  # the count itself is kept
    assert cycle_count_moves(bins) == 0


def test_a_lot_tracked_count_without_a_lot_is_refused_and_writes_nothing(bins: Database) -> None:
    code = create(bins, "B02")
    with bins.uow() as uow, pytest.raises(LotRequired):
        counts.submit_count(uow, task_code=code, lines=[CountedLine("TEA", 20)], actor="counter")
    assert bins.count("count_lines") == 0
    assert status(bins, code) == "open"
    assert bins.scalar("SELECT attempts FROM count_tasks") == 0


def test_a_new_lot_found_in_a_count_needs_its_expiry_date(bins: Database) -> None:
    code = create(bins, "B02")
    with bins.uow() as uow, pytest.raises(LotRequired, match="expiry"):
        counts.submit_count(
            uow, task_code=code, lines=[CountedLine("TEA", 1, lot="L9")], actor="counter"
        )
    outcome = submit(
        bins,
        code,
        CountedLine("TEA", 20, lot="L1"),
        CountedLine("TEA", 1, lot="L9", expiry_date=date(2031, 1, 1)),
    )
    assert outcome.status == "posted"
    assert bins.scalar("SELECT count(*) FROM lots") == 2
    assert_ledger_agrees(bins)


def test_negative_or_fractional_quantities_are_refused(bins: Database) -> None:
    code = create(bins)
    for bad in (-1, 1.5):
        with bins.uow() as uow, pytest.raises(InvalidQuantity) as caught:
            counts.submit_count(
                uow,
                task_code=code,
                lines=[CountedLine("MUG", 100), CountedLine("BOWL", bad)],  # type: ignore[arg-type]
                actor="counter",
            )
        assert caught.value.field == "lines[1].quantity"
    assert bins.count("count_lines") == 0


def test_submitting_a_posted_count_is_an_invalid_transition(bins: Database) -> None:
    code = create(bins)
    submit(bins, code, CountedLine("MUG", 100), CountedLine("BOWL", 10))
    with bins.uow() as uow, pytest.raises(InvalidTransition) as caught:
        counts.submit_count(uow, task_code=code, lines=[CountedLine("MUG", 1)], actor="counter")
    assert caught.value.context["current"] == "posted"
    assert bins.count("count_lines") == 2


# Reading -------------------------------------------------------------------------------------


def test_the_counter_sees_a_blind_task_and_the_supervisor_sees_the_expected(
    bins: Database,
) -> None:
    code = create(bins)
    submit(bins, code, CountedLine("MUG", 80))  # BOWL not counted: recount
    with bins.uow() as uow:
        blind = counts.get_count_task(uow.session, code, reveal_expected=False)
        revealed = counts.get_count_task(uow.session, code.lower(), reveal_expected=True)
    assert [(v.sku, v.expected, v.counted, v.variance) for v in blind.lines] == [
        ("MUG", None, 80, None)
    ]
    assert [(v.sku, v.expected, v.counted, v.variance) for v in revealed.lines] == [
        ("BOWL", 10, 0, -10),
        ("MUG", 100, 80, -20),
    ]
    assert (revealed.code, revealed.status, revealed.created_by) == (code, "recount", "lead")


def test_tasks_are_listed_by_due_date_and_filtered_by_status(bins: Database) -> None:
    with bins.uow() as uow:
        late = counts.create_count(
            uow, warehouse="SHA", location="B01", actor="l", due_date=date(2030, 1, 2)
        )
        early = counts.create_count(
            uow, warehouse="SHA", location="B02", actor="l", due_date=date(2030, 1, 1)
        )
        uow.commit()
    submit(bins, late.code, CountedLine("MUG", 100), CountedLine("BOWL", 10))
    with bins.uow() as uow:
        every = counts.list_count_tasks(uow.session, warehouse="SHA")
        waiting = counts.list_count_tasks(uow.session, warehouse="SHA", statuses=["open"])
        with pytest.raises(ValidationFailed):
            counts.list_count_tasks(uow.session, warehouse="SHA", statuses=["done"])
    assert [t.code for t in every] == [early.code, late.code]
    assert [t.code for t in waiting] == [early.code]
    assert every[1].counted_by == "counter"


# Scheduling ----------------------------------------------------------------------------------


def test_velocity_classes_split_units_eighty_fifteen_five() -> None:
    classes = classify_velocity({1: 70, 2: 20, 3: 6, 4: 4, 5: 0})
    assert classes == {1: "A", 2: "A", 3: "B", 4: "C"}


def test_due_bins_are_most_overdue_first_and_a_before_c_on_ties() -> None:
    today = date(2030, 6, 1)
    plan = due_bins(
        [
            BinDue(1, "C", today - timedelta(days=91)),  # 1 day overdue
            BinDue(2, "A", today - timedelta(days=3)),  # not due
            BinDue(3, "A", today - timedelta(days=8)),  # 1 day overdue
            BinDue(4, "B", today - timedelta(days=40)),  # 10 days overdue
            BinDue(5, "C", None),
            BinDue(6, "A", None),
        ],
        today=today,
        policy=CountPolicy(max_scheduled_per_warehouse=4),
    )
    assert [b.location_id for b in plan] == [6, 5, 4, 3]


@pytest.fixture
def movers(pg: Database) -> Database:
    """SHA: FAST (A) in B01 and B02, SLOW (B) in B03, STILL (C) in B04, B05-B06 empty."""
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=6)
        for sku in ("FAST", "SLOW", "STILL", "OLD"):
            factories.product(uow, sku)
        for sku, location in (("FAST", "B01"), ("FAST", "B02"), ("SLOW", "B03")):
            stock.receive(uow, sku=sku, quantity=100, warehouse="SHA", location=location, actor="t")
        stock.receive(uow, sku="STILL", quantity=5, warehouse="SHA", location="B04", actor="t")
        stock.receive(uow, sku="OLD", quantity=500, warehouse="SHA", location="RECV", actor="t")
        shipped = [stock.PickedLine("FAST", 40, "B01"), stock.PickedLine("FAST", 40, "B02")]
        stock.deliver(uow, warehouse="SHA", lines=shipped, actor="t")
        stock.deliver(uow, warehouse="SHA", lines=[stock.PickedLine("SLOW", 15, "B03")], actor="t")
        # Outside the 90-day window: OLD does not count as a mover, even in bulk.
        stock.deliver(
            uow,
            warehouse="SHA",
            lines=[stock.PickedLine("OLD", 400, "RECV")],
            actor="t",
            occurred_at=utcnow() - timedelta(days=120),
        )
        stock.move(
            uow,
            sku="OLD",
            quantity=100,
            warehouse="SHA",
            from_location="RECV",
            to_location="B04",
            actor="t",
        )
        uow.commit()
    return pg


def schedule(db: Database, today: date, **kwargs: object) -> list[str]:
    with db.uow() as uow:
        created = counts.schedule_counts(uow, today=today, **kwargs)  # type: ignore[arg-type]
        uow.commit()
    return created


def scheduled(db: Database) -> dict[str, str | None]:
    with db.uow() as uow:
        tasks = counts.list_count_tasks(uow.session, warehouse="SHA", statuses=["open"])
    return {t.location: t.velocity_class for t in tasks if t.origin == "scheduled"}


def test_storage_bins_are_scheduled_with_their_velocity_class(movers: Database) -> None:
    today = utcnow().date()
    created = schedule(movers, today)
    assert scheduled(movers) == {
        "B01": "A",
        "B02": "A",
        "B03": "B",
        "B04": "C",
        "B05": "C",
        "B06": "C",
    }
    assert len(created) == 6
    assert created[:2] == [f"CC-SHA-{i:06d}" for i in (1, 2)]  # A first
    assert schedule(movers, today) == []  # every bin has an unfinished count now


def test_a_limited_run_takes_the_fast_movers_first(movers: Database) -> None:
    created = schedule(movers, utcnow().date(), policy=CountPolicy(max_scheduled_per_warehouse=3))
    assert len(created) == 3
    assert scheduled(movers) == {"B01": "A", "B02": "A", "B03": "B"}


def test_a_bin_counted_recently_is_not_scheduled_until_its_interval_passes(
    movers: Database,
) -> None:
    code = create(movers, "B01")
    submit(movers, code, CountedLine("FAST", 60))
    today = utcnow().date()
    schedule(movers, today, policy=CountPolicy(max_scheduled_per_warehouse=1))
    assert scheduled(movers) == {"B02": "A"}  # B01 was counted today
    assert "B01" not in scheduled(movers)
    schedule(movers, today + timedelta(days=6))
    assert "B01" not in scheduled(movers)
    schedule(movers, today + timedelta(days=7))  # class A: every 7 days
    assert scheduled(movers)["B01"] == "A"


def test_a_bin_with_an_open_count_is_skipped_and_other_kinds_are_never_scheduled(
    movers: Database,
) -> None:
    create(movers, "B01")
    create(movers, "RECV")
    today = utcnow().date()
    # The busy A bin does not take the run's only place: the other A bin does.
    schedule(movers, today, policy=CountPolicy(max_scheduled_per_warehouse=1))
    assert scheduled(movers) == {"B02": "A"}
    schedule(movers, today)
    assert set(scheduled(movers)) == {"B02", "B03", "B04", "B05", "B06"}
    assert movers.count("count_tasks") == 7


def test_the_daily_job_schedules_every_warehouse_and_commits(movers: Database) -> None:
    with movers.uow() as uow:
        factories.warehouse(uow, "CAN", bins=2)
        uow.commit()
    assert "wms.schedule_cycle_counts" in {job.name for job in JOBS}
    assert schedule_cycle_counts(movers.session_factory) == {"created": 8}
    assert schedule_cycle_counts(movers.session_factory) == {"created": 0}
    assert (
        movers.scalar(
            "SELECT count(*) FROM count_tasks t JOIN warehouses w ON w.id = t.warehouse_id "
            "WHERE w.code = 'CAN' AND t.code LIKE 'CC-CAN-%'"
        )
        == 2
    )


# Races ---------------------------------------------------------------------------------------


def test_sessions_submitting_one_count_at_once_post_it_once(bins: Database) -> None:
    code = create(bins)
    outcomes = race(
        bins,
        6,
        lambda uow, _: counts.submit_count(
            uow,
            task_code=code,
            lines=[CountedLine("MUG", 99), CountedLine("BOWL", 10)],
            actor="counter",
        ),
    )
    assert outcomes == Counter({"ok": 1, "InvalidTransition": 5})
    assert cycle_count_moves(bins) == 1
    assert quant(bins, "MUG", "B01") == 99
    assert bins.count("count_lines") == 2
    assert_ledger_agrees(bins)


def test_an_approval_racing_a_move_out_of_the_bin_never_goes_negative(bins: Database) -> None:
    code = create(bins)
    far_off_until_approval(bins, code)  # approval takes 15 of the 100 MUG; the move takes 90

    def act(uow: UnitOfWork, index: int) -> None:
        if index == 0:
            counts.approve_count(uow, task_code=code, actor="boss")
        else:
            stock.move(
                uow,
                sku="MUG",
                quantity=90,
                warehouse="SHA",
                from_location="B01",
                to_location="B03",
                actor="t",
            )

    outcomes = race(bins, 2, act)
    assert outcomes == Counter({"ok": 1, "InsufficientStock": 1})
    if status(bins, code) == CountStatus.POSTED:
        assert (quant(bins, "MUG", "B01"), quant(bins, "MUG", "B03")) == (85, 0)
        assert cycle_count_moves(bins) == 1
    else:
        assert (quant(bins, "MUG", "B01"), quant(bins, "MUG", "B03")) == (10, 90)
        assert cycle_count_moves(bins) == 0
    assert_ledger_agrees(bins)


def test_counted_timestamps_are_utc(bins: Database) -> None:
    code = create(bins)
    submit(bins, code, CountedLine("MUG", 100), CountedLine("BOWL", 10))
    with bins.uow() as uow:
        detail = counts.get_count_task(uow.session, code, reveal_expected=True)
    assert detail.counted_at is not None
    assert detail.counted_at.tzinfo is not None
    assert abs(detail.counted_at - datetime.now(UTC)) < timedelta(minutes=5)
