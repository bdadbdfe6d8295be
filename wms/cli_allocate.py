"""`wms allocate`: solve a batch allocation instance directory (which warehouse ships each line)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from wms.routing.allocate import BatchResult, Instance

allocate_app = typer.Typer(
    help="Allocation: which warehouse ships which order line, at least cost.",
    no_args_is_help=True,
)

err = Console(stderr=True)
out = Console()

LINES_HELP = (
    "Lines are numbered by their row in orders.csv, 0 for the first data row (in the shared "
    "instances this is the `line` column); warehouses by their id in warehouses.csv; -1 means "
    "the line is left unfilled."
)


def _fail(message: str) -> NoReturn:
    """One plain line on stderr and exit 2."""
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        _fail(f"--time-limit {text!r} is not a number of seconds")


@allocate_app.command(
    "solve", help=f"Solve the instance in DIRECTORY with a proven lower bound. {LINES_HELP}"
)
def solve_command(
    directory: Annotated[
        str,
        typer.Argument(
            help="Instance directory: warehouses.csv, orders.csv, stock.csv, unit_cost_cents.csv.",
            show_default=False,
        ),
    ],
    time_limit: Annotated[
        str,
        typer.Option(
            "--time-limit",
            metavar="SECONDS",
            help="Seconds the solver may take at most (the work itself is budgeted).",
        ),
    ] = "30",
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            # Brackets escaped: the help is rich markup.
            help='Print {"assignment": \\[\\[line, warehouse or -1], ...], "cost": cents, '
            '"bound": cents}.',
        ),
    ] = False,
) -> None:
    """Solve an instance directory; print the answer (or JSON)."""
    from wms.errors import WmsError
    from wms.routing.allocate import BatchParameters, read_instance, solve

    try:
        params = BatchParameters(time_limit=_seconds(time_limit))
        instance = read_instance(directory)
        if as_json:
            result = solve(instance.problem, params)
        else:
            with err.status(f"solving {instance.name}") as status:
                result = solve(
                    instance.problem,
                    params,
                    progress=lambda message: status.update(f"{instance.name}: {message}"),
                )
    except WmsError as exc:
        _fail(exc.message)
    if as_json:
        ids = instance.warehouse_ids
        pairs = [
            [line, -1 if w < 0 else ids[w]] for line, w in enumerate(result.assignment.tolist())
        ]
        typer.echo(json.dumps({"assignment": pairs, "cost": result.cost, "bound": result.bound}))
    else:
        _print(instance, result)


def _print(instance: Instance, result: BatchResult) -> None:
    problem = instance.problem
    for line in (
        f"{instance.name}: {problem.lines:,} lines in {problem.orders:,} orders, "
        f"{problem.warehouses} warehouses",
        result.summary(),
        f"cost {result.cost / 100:,.2f} EUR, at least {result.bound / 100:,.2f} EUR is needed",
    ):
        out.print(line, highlight=False, soft_wrap=True, markup=False)


@allocate_app.command(
    "reoptimise",
    help="Re-optimise the allocated lines not yet released to picking, all together; apply the "
    "answer only if it costs less than the current allocation. Prints the cost before and after, "
    "the proven lower bound and the gap.",
)
def reoptimise_command(
    warehouse: Annotated[
        list[str] | None,
        typer.Option(
            "--warehouse",
            metavar="CODE",
            help="Only lines now at this warehouse (repeat for several); all by default.",
        ),
    ] = None,
    time_limit: Annotated[
        str,
        typer.Option("--time-limit", metavar="SECONDS", help="Seconds the solver may take."),
    ] = "30",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
) -> None:
    """Re-optimise on the configured database; print the summary (or JSON)."""
    from dataclasses import asdict

    from sqlalchemy.exc import OperationalError

    from wms.config import ConfigurationError, get_settings
    from wms.db.engine import make_engine, make_session_factory
    from wms.db.migrate import is_up_to_date
    from wms.db.uow import transaction
    from wms.errors import WmsError
    from wms.fulfillment.batch_allocation import reoptimise_allocations

    seconds = _seconds(time_limit)
    try:
        engine = make_engine(get_settings().database_url)
        if not is_up_to_date(engine):
            _fail("the database schema is not up to date; run `wms db upgrade`")
        summary = transaction(
            make_session_factory(engine),
            lambda uow: reoptimise_allocations(
                uow, time_limit_seconds=seconds, actor="cli", warehouses=warehouse or None
            ),
        )
    except WmsError as exc:
        _fail(exc.message)
    except ConfigurationError as exc:
        _fail(str(exc))
    except OperationalError as exc:
        _fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}")
    if as_json:
        typer.echo(json.dumps(asdict(summary)))
        return
    for line in (
        f"{summary.lines_considered:,} lines considered, {summary.skipped:,} skipped (changed "
        f"meanwhile); {summary.lines_moved:,} moved in {summary.orders_changed:,} orders",
        f"cost {summary.cost_before / 100:,.2f} EUR before, {summary.cost_after / 100:,.2f} EUR "
        f"after; at least {summary.bound / 100:,.2f} EUR is needed (gap {summary.gap:.2%})",
        ("applied" if summary.applied else "not applied: no cheaper allocation found")
        + f" ({summary.solver}, {summary.seconds:.1f} s)",
    ):
        out.print(line, highlight=False, soft_wrap=True, markup=False)
