"""Pick paths and first-expiry-first-out picks: pure decisions over plain values."""

from __future__ import annotations

import itertools
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from wms.fulfillment.pickplan import PlannedPick, StockCandidate, plan_picks
from wms.routing.pickpath import BinPoint, shortest_walk, walk_length, walking_order

TODAY = date(2025, 6, 1)


def codes(points: list[BinPoint]) -> list[str]:
    return [p.code for p in points]


def test_aisles_are_walked_up_then_down_in_ascending_x() -> None:
    bins = [
        BinPoint("C-1", 10.0, 1.0),
        BinPoint("A-9", 2.0, 9.0),
        BinPoint("B-1", 6.0, 1.0),
        BinPoint("A-1", 2.0, 1.0),
        BinPoint("B-9", 6.2, 9.0),  # the same aisle, a little off the line
        BinPoint("C-9", 10.0, 9.0),
    ]
    assert codes(walking_order(bins)) == ["A-1", "A-9", "B-9", "B-1", "C-1", "C-9"]


def test_only_aisles_with_a_stop_count_for_the_direction() -> None:
    bins = [BinPoint("A-1", 2.0, 1.0), BinPoint("C-1", 10.0, 1.0), BinPoint("C-9", 10.0, 9.0)]
    assert codes(walking_order(bins)) == ["A-1", "C-9", "C-1"]


def test_bins_without_coordinates_come_last_by_code_and_each_bin_once() -> None:
    bins = [
        BinPoint("Z", None, None),
        BinPoint("B", 1.0, None),
        BinPoint("A-1", 2.0, 1.0),
        BinPoint("A-1", 2.0, 1.0),
    ]
    assert codes(walking_order(bins)) == ["A-1", "B", "Z"]


@given(
    st.lists(
        st.builds(
            BinPoint,
            st.text("ABC123", min_size=1, max_size=4),
            st.one_of(st.none(), st.floats(0, 100)),
            st.one_of(st.none(), st.floats(0, 100)),
        ),
        max_size=30,
    )
)
def test_every_bin_is_visited_exactly_once(bins: list[BinPoint]) -> None:
    route = walking_order(bins)
    assert sorted(codes(route)) == sorted({b.code for b in bins})


bin_points = st.lists(
    st.builds(
        BinPoint,
        st.text("ABCDEFGH12345", min_size=1, max_size=4),
        st.sampled_from([0.0, 3.0, 6.0, 9.0, 12.0, 15.0]),  # aisles 3 m apart
        st.floats(0, 40).map(lambda y: round(y, 1)),
    ),
    max_size=25,
)


def brute_force_length(bins: list[BinPoint]) -> float:
    """The shortest closed walk over every visiting order (for up to 7 bins)."""
    unique = list({b.code: b for b in bins}.values())
    return min(walk_length(list(order)) for order in itertools.permutations(unique))


def test_the_shortest_walk_leaves_a_long_aisle_by_the_back_when_that_is_shorter() -> None:
    # Two stops at the far end of neighbouring aisles and one near the front: the S-shape
    # walks A up, B down and C up again; crossing at the back saves a whole aisle length.
    bins = [BinPoint("A-40", 0.0, 40.0), BinPoint("B-40", 3.0, 40.0), BinPoint("A-0", 0.0, 0.0)]
    walk = shortest_walk(bins)
    assert walk_length(walk) <= walk_length(walking_order(bins))
    assert walk_length(walk) == brute_force_length(bins)


@given(bin_points)
def test_the_shortest_walk_visits_every_bin_once_and_is_never_longer_than_the_s_shape(
    bins: list[BinPoint],
) -> None:
    walk = shortest_walk(bins)
    assert sorted(codes(walk)) == sorted({b.code for b in bins})
    assert walk_length(walk) <= walk_length(walking_order(bins)) + 1e-9


@given(bin_points.filter(lambda bins: len({b.code for b in bins}) <= 6))
def test_the_shortest_walk_is_within_a_tenth_of_the_optimum_on_small_pick_lists(
    bins: list[BinPoint],
) -> None:
    if not bins:
        return
    assert walk_length(shortest_walk(bins)) <= 1.1 * brute_force_length(bins) + 1e-9


def candidate(code: str, qty: int, expiry: date | None, lot: int | None = None) -> StockCandidate:
    return StockCandidate(int(code[1:]), code, lot, expiry, qty)


def test_picks_take_the_earliest_expiry_first_then_the_larger_quant() -> None:
    plan = plan_picks(
        6,
        [
            candidate("B1", 10, None),
            candidate("B2", 2, date(2025, 9, 1), lot=2),
            candidate("B3", 3, date(2025, 7, 1), lot=1),
            candidate("B4", 5, date(2025, 7, 1), lot=1),
        ],
        today=TODAY,
    )
    assert plan.is_complete
    assert plan.picks == [PlannedPick(4, 1, 5), PlannedPick(3, 1, 1)]


def test_expired_lots_are_never_picked_and_the_shortfall_is_reported() -> None:
    plan = plan_picks(
        5,
        [candidate("B1", 10, date(2025, 5, 31), lot=1), candidate("B2", 2, TODAY, lot=2)],
        today=TODAY,
    )
    assert plan.picks == [PlannedPick(2, 2, 2)]
    assert plan.short == 3
    assert not plan.is_complete


@given(
    st.integers(1, 50),
    st.lists(st.integers(-3, 20), max_size=8),
)
def test_a_plan_never_takes_more_than_asked_or_than_a_bin_holds(
    quantity: int, held: list[int]
) -> None:
    candidates = [candidate(f"B{i}", q, None) for i, q in enumerate(held)]
    plan = plan_picks(quantity, candidates, today=TODAY)
    assert sum(p.quantity for p in plan.picks) + plan.short == quantity
    for pick in plan.picks:
        assert 0 < pick.quantity <= held[pick.location_id]
