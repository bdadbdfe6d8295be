"""Delivery allocation as optimisation: which warehouse ships which order line, at least cost.

* ``costs``: the cost model (shipping per unit by distance and transit days or a rate table,
  fees per shipment and per split, lateness, unfilled units), in cents;
* ``online``: ``LeastCostPolicy``, one order at a time as it arrives (an ``AllocationPolicy``);
* ``batch``: ``solve``, many orders re-optimised together, with a proven lower bound;
* ``problem`` / ``instances`` / ``evaluate``: the batch as arrays, the shared instance format,
  and an independent check of any assignment's cost and stock.

Only ``mip`` imports the solver (HiGHS).
"""

from wms.routing.allocate.batch import BatchParameters, solve
from wms.routing.allocate.costs import CostModel, Penalties
from wms.routing.allocate.evaluate import Evaluation, evaluate
from wms.routing.allocate.instances import Instance, read_instance
from wms.routing.allocate.online import LeastCostPolicy
from wms.routing.allocate.problem import UNFILLED, BatchProblem, BatchResult

__all__ = [
    "UNFILLED",
    "BatchParameters",
    "BatchProblem",
    "BatchResult",
    "CostModel",
    "Evaluation",
    "Instance",
    "LeastCostPolicy",
    "Penalties",
    "evaluate",
    "read_instance",
    "solve",
]
