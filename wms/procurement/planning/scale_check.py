"""Scale check, run by hand (not a test): solve a synthetic problem and print time and gap.

    .venv/bin/python -m wms.procurement.planning.scale_check              # 10,000 x 5 x 12
    .venv/bin/python -m wms.procurement.planning.scale_check --skus 1000 --time-limit 60

Wall time depends on what else the machine runs, so CPU seconds (this process and its workers)
are printed as well. The plan is checked again by the independent evaluator at the end.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from wms.procurement.planning import solve
from wms.procurement.planning.evaluate import evaluate
from wms.procurement.planning.problem import COST_SCALE, SolveParameters
from wms.procurement.planning.synthetic import synthetic_problem


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Generate, solve, check and print the figures; exit 1 if the plan breaks a rule."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--warehouses", type=int, default=5)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--gap", type=float, default=0.005)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--transfers", action="store_true", help="add transfer lanes")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    problem = synthetic_problem(
        args.skus, args.warehouses, args.weeks, args.seed, transfers=args.transfers
    )
    generated = time.perf_counter() - began
    _say(f"{len(problem.series):,} series x {problem.weeks} weeks generated in {generated:.1f} s")
    params = SolveParameters(
        time_limit_seconds=args.time_limit,
        relative_gap=args.gap,
        seed=args.seed,
        workers=args.workers,
    )
    began = time.perf_counter()

    def progress(done: int, total: int, message: str) -> None:
        _say(f"  {time.perf_counter() - began:7.1f} s  [{done}/{total}] {message}")

    result = solve(problem, params, progress=progress)
    wall = time.perf_counter() - began
    ev = evaluate(problem, result.lines, result.transfers)
    _say(result.summary())
    _say(f"solve wall time {wall:.1f} s, CPU {_cpu_seconds():.1f} s on {args.workers} workers")
    if result.objective is not None and result.bound is not None:
        _say(
            f"objective {result.objective / COST_SCALE:,.2f}  bound {result.bound / COST_SCALE:,.2f}"
            f"  gap {result.gap:.3%}"
        )
    _say(f"evaluator: cost {ev.total / COST_SCALE:,.2f}, {len(ev.violations)} violations")
    return 1 if ev.violations or ev.total != result.objective else 0


if __name__ == "__main__":
    sys.exit(main())
