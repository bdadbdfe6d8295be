"""The online policy: each order's least-cost plan on its own, behind the AllocationPolicy protocol."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Hashable
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from wms.routing.allocate import CostModel, LeastCostPolicy, Penalties
from wms.routing.allocate.search import plan_order
from wms.routing.allocation import (
    AllocationLine,
    AllocationPolicy,
    AllocationProblem,
    AllocationResult,
    WarehouseOption,
)

SHANGHAI = (31.23, 121.47)
HANGZHOU = (30.27, 120.16)
BEIJING = (39.90, 116.41)
GUANGZHOU = (23.13, 113.26)
NEW_YEAR = date(2026, 1, 1)


def wh(code: str, at: tuple[float, float], **available: int) -> WarehouseOption:
    return WarehouseOption(code, at[0], at[1], available)


def lines(*items: tuple[str, int]) -> tuple[AllocationLine, ...]:
    return tuple(AllocationLine(i + 1, sku, qty) for i, (sku, qty) in enumerate(items))


def policy(costs: CostModel | None = None, region: str | None = None) -> LeastCostPolicy:
    return LeastCostPolicy(
        costs, today=lambda: NEW_YEAR, region_of=(lambda _: region) if region else None
    )


def cost_of(chosen: LeastCostPolicy, problem: AllocationProblem, where: list[int]) -> int | None:
    """The plan's cost at the policy's own prices, or None if it over-ships a warehouse."""
    unit_cost, _ = chosen.unit_costs(problem)
    fees = chosen.costs.penalties
    taken: defaultdict[tuple[int, str], int] = defaultdict(int)
    cost = 0
    for i, (line, w) in enumerate(zip(problem.lines, where, strict=True)):
        if w < 0:
            cost += fees.unfilled_unit * line.quantity
            continue
        taken[(w, line.sku)] += line.quantity
        cost += int(unit_cost[i, w]) * line.quantity
    if any(q > problem.warehouses[w].has(sku) for (w, sku), q in taken.items()):
        return None
    return cost + fees.order_fees(len({w for w in where if w >= 0}))


def positions(problem: AllocationProblem, result: AllocationResult) -> list[int]:
    codes = [w.code for w in problem.warehouses]
    return [
        -1 if (code := result.assignments[line.key]) is None else codes.index(code)
        for line in problem.lines
    ]


def test_it_is_an_allocation_policy_with_a_name() -> None:
    chosen: AllocationPolicy = LeastCostPolicy()
    assert chosen.name == "least_cost"


def test_an_order_ships_whole_from_the_nearest_warehouse_that_has_it() -> None:
    problem = AllocationProblem(
        lines=lines(("A", 2), ("B", 1)),
        warehouses=(wh("PEK", BEIJING, A=9, B=9), wh("SHA", SHANGHAI, A=9, B=9)),
        destination=HANGZHOU,
    )
    result = policy().allocate(problem)
    assert dict(result.assignments) == {1: "SHA", 2: "SHA"}
    assert [(s.warehouse, s.line_keys) for s in result.shipments] == [("SHA", (1, 2))]
    assert result.shipments[0].distance_km is not None
    assert result.policy == "least_cost"


def test_a_split_is_taken_when_it_costs_less_than_leaving_a_line_unfilled() -> None:
    problem = AllocationProblem(
        lines=lines(("A", 1), ("B", 1)),
        warehouses=(wh("SHA", SHANGHAI, A=5), wh("PEK", BEIJING, B=5)),
        destination=HANGZHOU,
    )
    assert dict(policy().allocate(problem).assignments) == {1: "SHA", 2: "PEK"}


def test_a_detour_is_taken_when_a_split_would_cost_more() -> None:
    # SHA has both; CAN is a little nearer for B alone, but a second parcel costs 800 cents.
    problem = AllocationProblem(
        lines=lines(("A", 1), ("B", 1)),
        warehouses=(wh("SHA", SHANGHAI, A=5, B=5), wh("HGH", HANGZHOU, B=5)),
        destination=HANGZHOU,
    )
    result = policy().allocate(problem)
    assert dict(result.assignments) == {1: "SHA", 2: "SHA"}


def test_lateness_against_the_promised_date_can_outweigh_a_cheaper_rate() -> None:
    model = CostModel(late_day_unit_cents=5_000, rates={("PEK", "east"): 100})
    problem = AllocationProblem(
        lines=lines(
            ("A", 1),
        ),
        warehouses=(wh("PEK", BEIJING, A=5), wh("SHA", SHANGHAI, A=5)),
        destination=HANGZHOU,
    )
    cheap = policy(model, region="east")
    assert dict(cheap.allocate(problem).assignments) == {1: "PEK"}
    promised = AllocationProblem(
        lines=problem.lines,
        warehouses=problem.warehouses,
        destination=HANGZHOU,
        promised_by=date(2026, 1, 2),  # one day: PEK is 1100 km (3+ days) away
    )
    assert dict(cheap.allocate(promised).assignments) == {1: "SHA"}


def test_without_a_destination_the_fees_decide_and_ties_go_to_the_first_warehouse() -> None:
    problem = AllocationProblem(
        lines=lines(("A", 1), ("B", 1)),
        warehouses=(wh("CAN", GUANGZHOU, A=1), wh("PEK", BEIJING, A=1, B=1)),
    )
    result = policy().allocate(problem)
    assert dict(result.assignments) == {1: "PEK", 2: "PEK"}
    assert result.shipments[0].distance_km is None


def test_a_line_that_no_warehouse_has_whole_stays_unassigned() -> None:
    problem = AllocationProblem(
        lines=lines(
            ("A", 8),
        ),
        warehouses=(wh("SHA", SHANGHAI, A=5), wh("PEK", BEIJING, A=5)),
        destination=SHANGHAI,
    )
    result = policy().allocate(problem)
    assert result.unassigned == (1,)
    assert result.shipments == ()


def test_a_huge_order_stops_at_the_node_limit_with_a_plan_that_keeps_to_the_stock() -> None:
    qty = [1] * 40
    unit_cost = [[(7 * i + 3 * w) % 11 + 1 for w in range(10)] for i in range(40)]
    sku = [i % 7 for i in range(40)]
    left: dict[tuple[int, Hashable], int] = {(w, s): 3 for w in range(10) for s in range(7)}
    plan = plan_order(unit_cost, qty, sku, left, Penalties(50, 30, 1000), node_limit=500)
    assert not plan.exact
    used = Counter((w, s) for w, s in zip(plan.warehouses, sku, strict=True) if w >= 0)
    assert all(n <= 3 for n in used.values())
    assert left == {(w, s): 3 for w in range(10) for s in range(7)}  # handed back untouched


# Property tests ---------------------------------------------------------------------------------

SKUS = ("A", "B", "C")
PLACES = (SHANGHAI, HANGZHOU, BEIJING, GUANGZHOU)


@st.composite
def orders(draw: st.DrawFn) -> AllocationProblem:
    codes = draw(st.lists(st.sampled_from(("W1", "W2", "W3", "W4")), unique=True, max_size=4))
    warehouses = tuple(
        WarehouseOption(
            code,
            *draw(st.sampled_from(PLACES)),
            draw(st.dictionaries(st.sampled_from(SKUS), st.integers(0, 5))),
        )
        for code in codes
    )
    items = draw(st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 4)), max_size=4))
    destination = draw(st.none() | st.sampled_from(PLACES))
    promised = draw(st.none() | st.sampled_from([date(2026, 1, 1), date(2026, 1, 3)]))
    return AllocationProblem(lines(*items), warehouses, destination, promised)


MODEL = CostModel(late_day_unit_cents=200, penalties=Penalties(500, 300, 2_000))


@settings(max_examples=120, deadline=None)
@given(orders())
def test_the_plan_is_the_brute_force_optimum_and_keeps_to_the_stock(
    problem: AllocationProblem,
) -> None:
    chosen = policy(MODEL)
    result = chosen.allocate(problem)
    found = cost_of(chosen, problem, positions(problem, result))
    assert found is not None  # never more than a warehouse has
    choices = range(-1, len(problem.warehouses))
    costs = [
        cost
        for where in itertools.product(choices, repeat=len(problem.lines))
        if (cost := cost_of(chosen, problem, list(where))) is not None
    ]
    assert found == min(costs)


@settings(max_examples=80, deadline=None)
@given(orders())
def test_every_line_gets_one_answer_and_shipments_partition_the_assigned_lines(
    problem: AllocationProblem,
) -> None:
    result = policy().allocate(problem)
    assert set(result.assignments) == {line.key for line in problem.lines}
    shipped = [key for shipment in result.shipments for key in shipment.line_keys]
    assert Counter(shipped) == Counter(k for k, code in result.assignments.items() if code)
    assert len({s.warehouse for s in result.shipments}) == len(result.shipments)


@settings(max_examples=60, deadline=None)
@given(orders())
def test_the_same_order_gets_the_same_answer(problem: AllocationProblem) -> None:
    assert policy().allocate(problem) == policy().allocate(problem)
