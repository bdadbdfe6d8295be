"""`wms route`: plan vehicle routes for a benchmark instance file (Solomon or VRPLIB)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from wms.routing.vrp import RoutingResult
    from wms.routing.vrp.instances import Instance

route_app = typer.Typer(no_args_is_help=True)

console = Console()
err = Console(stderr=True)


@route_app.callback()
def _route() -> None:
    """Vehicle routing: delivery routes with capacities and time windows."""


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _plain_errors() -> Iterator[None]:
    """Expected failures (bad file, bad option) as one line and exit 2, never a traceback."""
    from wms.errors import WmsError

    try:
        yield
    except WmsError as exc:
        _fail(exc.message)


@route_app.command("solve")
def route_solve(
    file: Annotated[Path, typer.Argument(help="A Solomon .txt or VRPLIB .vrp instance.")],
    format: Annotated[
        str | None, typer.Option("--format", help="solomon or vrplib; from the file if omitted.")
    ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds to search.")] = 10.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the search.")] = 0,
    backend: Annotated[str, typer.Option("--backend", help="auto, pyvrp or ortools.")] = "auto",
    metric: Annotated[
        str | None,
        typer.Option(
            "--metric",
            help="Distance to optimise: euclidean, euclidean_trunc1 or euclidean_nint; "
            "the instance's benchmark convention if omitted.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Solve a CVRP/VRPTW instance. Exit 0 when every customer is served, 1 when not, 2 on bad input.

    The reported distance is exact Euclidean; `feasible` is judged under the metric optimised.
    """
    from dataclasses import replace

    from wms.routing.vrp import SolveParameters, check_backend, make_matrix, solve
    from wms.routing.vrp.instances import read_instance

    with _plain_errors():
        params = SolveParameters(time_limit_seconds=time_limit, seed=seed)
        check_backend(backend)
        instance = read_instance(file, format=format)
        problem = instance.problem if metric is None else replace(instance.problem, metric=metric)
        matrix = make_matrix(problem.metric)
        problem.validate()
        # Checked above, so no error can come out in the middle of the live status line.
        with _status(f"solving {instance.name} ({backend}, {time_limit:g} s)", show=not as_json):
            result = solve(problem, params, backend=backend, matrix=matrix)
    distance = _exact_distance(instance, result)
    if as_json:
        typer.echo(json.dumps(_answer(result, distance)))
    else:
        console.print(result.summary(), markup=False, highlight=False, soft_wrap=True)
        console.print(f"exact Euclidean distance {distance:.4f}", highlight=False)
    raise typer.Exit(0 if result.is_feasible() else 1)


def _answer(result: RoutingResult, distance: float) -> dict[str, object]:
    """The JSON answer: customer numbers as in the file, depot left out."""
    return {
        "routes": [[int(s) for s in route.stops] for route in result.routes],
        "distance": round(distance, 6),
        "vehicles": result.vehicles_used,
        "feasible": result.is_feasible(),
    }


def _exact_distance(instance: Instance, result: RoutingResult) -> float:
    from wms.routing.vrp import EuclideanMatrix, evaluate, travel_table

    routes = {route.vehicle: route.stops for route in result.routes}
    table = travel_table(instance.problem, EuclideanMatrix())
    dropped = [d.stop for d in result.dropped]
    return evaluate(instance.problem, routes, table=table, dropped=dropped).distance


@contextmanager
def _status(description: str, *, show: bool) -> Iterator[None]:
    """A live line with the time spent, on stderr when it is a terminal, while the search runs."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    if not (show and err.is_terminal):
        yield
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        progress.add_task(description, total=None)
        yield
