"""Polish a feasible plan: let one series at a time re-plan within what the others leave free.

Repair only takes away, so a repaired plan often loses sales a week where room was left. Here a
series' own usage is given back, the limits become hard caps of what remains (budget and supplier
units per order week, stock per week for its warehouse), and the exact lot-sizing DP finds its
cheapest plan inside them at the true costs. The new plan is kept when the evaluator confirms it
is cheaper and breaks nothing. Each step keeps the plan feasible, so it can stop at any time.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from wms.procurement.planning.evaluate import Evaluation, evaluate
from wms.procurement.planning.lotsizing import Caps, SeriesDP
from wms.procurement.planning.model import BuiltModel, build_model
from wms.procurement.planning.repair import Repair, Row, usage_of


def _caps(state: Repair, g: int) -> Caps:
    """What the limits leave for group ``g``: the slack plus its own current usage."""
    p = state.p
    own = usage_of(state.groups[g].ev)
    weeks = range(p.weeks)

    def left(row: Row, cap: int) -> int:
        return max(0, cap - state.used.get(row, 0) + own.get(row, 0))

    s = state.groups[g].problem.series[0]
    units = {
        o.supplier: [left(("supplier_capacity", o.supplier, t), caps[t]) for t in weeks]
        for o in s.options
        if (caps := p.supplier_capacity.get(o.supplier)) is not None
    }
    spend = None if p.budget is None else [left(("budget", "", t), p.budget[t]) for t in weeks]
    room = p.warehouse_capacity.get(s.warehouse)
    stock = None
    if room is not None and s.volume_cm3 > 0:
        stock = [left(("warehouse_capacity", s.warehouse, t), room) // s.volume_cm3 for t in weeks]
    return Caps(units, spend, stock)


def _worth(state: Repair, g: int) -> int:
    costs = state.groups[g].ev.costs
    return costs.shortage + costs.below_safety + costs.closing


def refine(state: Repair, *, deadline: float, passes: int = 2) -> int:
    """Re-plan the series that lose most, one at a time, until the deadline; returns the gain."""
    gain = 0
    models: dict[int, _Model] = {}
    for _ in range(passes):
        targets = sorted(
            (g for g, grp in enumerate(state.groups) if len(grp.problem.series) == 1),
            key=lambda g: -_worth(state, g),
        )
        improved = 0
        for g in targets:
            if time.perf_counter() > deadline or _worth(state, g) == 0:
                break
            improved += _replan(state, g, models)
        gain += improved
        if improved == 0:
            break
    return gain


_Model = tuple[SeriesDP, npt.NDArray[np.int64], BuiltModel]


def _replan(state: Repair, g: int, models: dict[int, _Model]) -> int:
    group = state.groups[g]
    if g not in models:
        built = build_model(group.problem, relax_coupling=True, names=False)
        costs = np.zeros(len(built.model.lb), dtype=np.int64)
        variables, coefs = built.model.objective
        costs[list(variables)] = list(coefs)
        models[g] = (SeriesDP(group.problem, built, 0), costs, built)
    dp, costs, built = models[g]
    solved = dp.solve(costs, _caps(state, g))
    if solved is None:
        return 0
    lines, moves = built.plan(group.problem, solved[1])
    new = evaluate(group.problem, lines, moves)
    gain = group.ev.total - new.total
    if gain <= 0 or not _fits(state, g, new):
        return 0
    state.replace(g, list(lines), list(moves), new)
    return gain


def _fits(state: Repair, g: int, new: Evaluation) -> bool:
    """Every limit holds with the group's new usage (two orders in one week share the caps)."""
    before, after = usage_of(state.groups[g].ev), usage_of(new)
    for row in set(before) | set(after):
        cap = state.limit(row)
        grow = after.get(row, 0) - before.get(row, 0)
        if cap is not None and grow > 0 and state.used.get(row, 0) + grow > cap:
            return False
    return True


def polish(state: Repair, *, seconds: float) -> int:
    """Refine for at most ``seconds``; returns the saving in points."""
    return refine(state, deadline=time.perf_counter() + seconds)
