"""The first allocation policy: nearest warehouse with the whole order, else the fewest shipments."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wms.routing.allocation import (
    DEFAULT_POLICY,
    AllocationLine,
    AllocationProblem,
    AllocationResult,
    NearestThenFewestShipments,
    WarehouseOption,
    haversine_km,
)

SHANGHAI = (31.23, 121.47)
GUANGZHOU = (23.13, 113.26)
BEIJING = (39.90, 116.41)
CHENGDU = (30.57, 104.07)
HANGZHOU = (30.27, 120.16)
NANJING = (32.06, 118.80)


def wh(code: str, at: tuple[float, float], **available: int) -> WarehouseOption:
    return WarehouseOption(
        code, at[0], at[1], {k.replace("_", "-"): v for k, v in available.items()}
    )


def lines(*items: tuple[str, int]) -> tuple[AllocationLine, ...]:
    return tuple(AllocationLine(i + 1, sku, qty) for i, (sku, qty) in enumerate(items))


def allocate(problem: AllocationProblem) -> AllocationResult:
    return NearestThenFewestShipments().allocate(problem)


def test_haversine_gives_the_great_circle_distance_between_cities() -> None:
    assert haversine_km(SHANGHAI, SHANGHAI) == 0
    assert haversine_km(SHANGHAI, BEIJING) == pytest.approx(1067, abs=5)
    assert haversine_km(SHANGHAI, GUANGZHOU) == pytest.approx(1213, abs=5)
    assert haversine_km(BEIJING, SHANGHAI) == haversine_km(SHANGHAI, BEIJING)


def test_the_nearest_warehouse_with_the_whole_order_ships_everything() -> None:
    problem = AllocationProblem(
        lines=lines(("A", 2), ("B", 1)),
        warehouses=(
            wh("PEK", BEIJING, A=10, B=10),
            wh("CAN", GUANGZHOU, A=10, B=10),
            wh("SHA", SHANGHAI, A=10),  # nearest, but without B
        ),
        destination=NANJING,
    )
    result = allocate(problem)
    assert dict(result.assignments) == {1: "PEK", 2: "PEK"}
    assert len(result.shipments) == 1
    assert result.shipments[0].warehouse == "PEK"
    assert result.shipments[0].distance_km == pytest.approx(haversine_km(BEIJING, NANJING))
    assert result.is_complete()
    assert result.policy == "nearest_then_fewest_shipments"


def test_a_whole_order_counts_lines_of_the_same_sku_together() -> None:
    problem = AllocationProblem(
        lines=lines(("A", 3), ("A", 3)),
        warehouses=(wh("SHA", SHANGHAI, A=5), wh("PEK", BEIJING, A=6)),
        destination=SHANGHAI,
    )
    assert dict(allocate(problem).assignments) == {1: "PEK", 2: "PEK"}


def test_without_a_whole_order_anywhere_the_fewest_shipments_are_used() -> None:
    # SHA is nearest but covers one line; PEK covers two; CTU covers the last.
    problem = AllocationProblem(
        lines=lines(("A", 1), ("B", 1), ("C", 1)),
        warehouses=(
            wh("SHA", SHANGHAI, A=5),
            wh("PEK", BEIJING, A=5, B=5),
            wh("CTU", CHENGDU, C=5),
        ),
        destination=SHANGHAI,
    )
    result = allocate(problem)
    assert dict(result.assignments) == {1: "PEK", 2: "PEK", 3: "CTU"}
    assert [s.warehouse for s in result.shipments] == ["PEK", "CTU"]
    assert "PEK: 2 line(s)" in result.summary()


def test_ties_in_coverage_go_to_the_nearer_warehouse() -> None:
    problem = AllocationProblem(
        lines=lines(("A", 1), ("B", 1)),
        warehouses=(wh("PEK", BEIJING, A=1), wh("SHA", SHANGHAI, A=1), wh("CAN", GUANGZHOU, B=1)),
        destination=HANGZHOU,
    )
    assert dict(allocate(problem).assignments) == {1: "SHA", 2: "CAN"}


def test_a_line_is_never_split_and_stays_unassigned_when_no_warehouse_has_all_of_it() -> None:
    problem = AllocationProblem(
        lines=lines(("A", 8), ("B", 1)),
        warehouses=(wh("SHA", SHANGHAI, A=5, B=1), wh("PEK", BEIJING, A=5)),
        destination=SHANGHAI,
    )
    result = allocate(problem)
    assert dict(result.assignments) == {1: None, 2: "SHA"}
    assert result.unassigned == (1,)
    assert not result.is_complete()
    assert "unassigned: 1 line(s)" in result.summary()


def test_without_a_destination_warehouses_rank_by_stock_then_code() -> None:
    problem = AllocationProblem(
        lines=lines(("A", 1)),
        warehouses=(wh("SHA", SHANGHAI, A=3), wh("CAN", GUANGZHOU, A=9), wh("BJS", BEIJING, A=9)),
    )
    result = allocate(problem)
    assert dict(result.assignments) == {1: "BJS"}
    assert result.shipments[0].distance_km is None


def test_within_one_warehouse_small_lines_go_first_to_cover_the_most_lines() -> None:
    problem = AllocationProblem(
        lines=lines(("A", 4), ("A", 1), ("A", 2)),
        warehouses=(wh("SHA", SHANGHAI, A=3),),
        destination=SHANGHAI,
    )
    assert dict(allocate(problem).assignments) == {1: None, 2: "SHA", 3: "SHA"}


def test_nothing_available_anywhere_leaves_every_line_unassigned() -> None:
    problem = AllocationProblem(lines=lines(("A", 1), ("B", 2)), warehouses=())
    result = allocate(problem)
    assert result.unassigned == (1, 2)
    assert result.shipments == ()


def test_problems_refuse_duplicate_keys_codes_and_quantities_below_one() -> None:
    with pytest.raises(ValueError, match="positive"):
        AllocationLine(1, "A", 0)
    with pytest.raises(ValueError, match="line keys"):
        AllocationProblem(
            lines=(AllocationLine(1, "A", 1), AllocationLine(1, "B", 1)), warehouses=()
        )
    with pytest.raises(ValueError, match="warehouse codes"):
        AllocationProblem(lines=(), warehouses=(wh("SHA", SHANGHAI), wh("SHA", BEIJING)))


# Property tests ---------------------------------------------------------------------------------

SKUS = ("A", "B", "C", "D")
CODES = ("W1", "W2", "W3", "W4", "W5")

coordinates = st.tuples(
    st.floats(min_value=-89, max_value=89, allow_nan=False),
    st.floats(min_value=-179, max_value=179, allow_nan=False),
)


@st.composite
def problems(draw: st.DrawFn) -> AllocationProblem:
    codes = draw(st.lists(st.sampled_from(CODES), unique=True, max_size=len(CODES)))
    warehouses = tuple(
        WarehouseOption(
            code,
            *draw(coordinates),
            draw(st.dictionaries(st.sampled_from(SKUS), st.integers(0, 12))),
        )
        for code in codes
    )
    items = draw(st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 8)), max_size=8))
    destination = draw(st.none() | coordinates)
    return AllocationProblem(lines=lines(*items), warehouses=warehouses, destination=destination)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_no_warehouse_is_ever_given_more_of_a_sku_than_it_has(problem: AllocationProblem) -> None:
    result = DEFAULT_POLICY.allocate(problem)
    given_to: defaultdict[tuple[str, str], int] = defaultdict(int)
    for line in problem.lines:
        code = result.assignments[line.key]
        if code is not None:
            given_to[(code, line.sku)] += line.quantity
    by_code = {w.code: w for w in problem.warehouses}
    for (code, sku), quantity in given_to.items():
        assert quantity <= by_code[code].has(sku)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_every_line_gets_one_answer_and_shipments_partition_the_assigned_lines(
    problem: AllocationProblem,
) -> None:
    result = DEFAULT_POLICY.allocate(problem)
    assert set(result.assignments) == {line.key for line in problem.lines}
    shipped = [key for shipment in result.shipments for key in shipment.line_keys]
    assert Counter(shipped) == Counter(k for k, code in result.assignments.items() if code)
    assert len({s.warehouse for s in result.shipments}) == len(result.shipments)
    for shipment in result.shipments:
        assert all(result.assignments[key] == shipment.warehouse for key in shipment.line_keys)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_an_order_one_warehouse_can_ship_whole_ships_whole_from_the_nearest_such(
    problem: AllocationProblem,
) -> None:
    demand = problem.demand()
    whole = [w for w in problem.warehouses if all(w.has(s) >= q for s, q in demand.items())]
    result = DEFAULT_POLICY.allocate(problem)
    if not whole or not problem.lines:
        return
    assert len(result.shipments) == 1
    assert result.is_complete()
    if problem.destination is not None:
        chosen = result.shipments[0].warehouse
        nearest = min(haversine_km((w.latitude, w.longitude), problem.destination) for w in whole)
        chosen_wh = next(w for w in whole if w.code == chosen)
        assert (
            haversine_km((chosen_wh.latitude, chosen_wh.longitude), problem.destination) == nearest
        )


@settings(max_examples=150, deadline=None)
@given(problems())
def test_a_line_is_left_unassigned_only_when_no_warehouse_has_enough_left_for_it(
    problem: AllocationProblem,
) -> None:
    result = DEFAULT_POLICY.allocate(problem)
    left = {w.code: {s: w.has(s) for s in SKUS} for w in problem.warehouses}
    for line in problem.lines:
        code = result.assignments[line.key]
        if code is not None:
            left[code][line.sku] -= line.quantity
    for line in problem.lines:
        if result.assignments[line.key] is None:
            assert all(stock[line.sku] < line.quantity for stock in left.values())


@settings(max_examples=100, deadline=None)
@given(problems())
def test_the_same_problem_gets_the_same_answer(problem: AllocationProblem) -> None:
    assert DEFAULT_POLICY.allocate(problem) == DEFAULT_POLICY.allocate(problem)
