"""`wms dispatch`: plan a warehouse's delivery day on its own fleet, send it out (ETAs to the
storefront) with its route sheet, print a sheet again, and list the vehicles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from wms.config import ConfigurationError, get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from wms.fulfillment.delivery_views import RoutePlanView

dispatch_app = typer.Typer(no_args_is_help=True)

console = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
PlanArg = Annotated[str, typer.Argument(help="The route plan's id, as RP-SHA-20260512-1.")]


@dispatch_app.callback()
def _dispatch() -> None:
    """Delivery routes of the warehouses' own fleets: plan a day, send it, print route sheets."""


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _plain_errors() -> Iterator[None]:
    """Expected failures as one line and exit 2, never a traceback."""
    from wms.errors import WmsError

    try:
        yield
    except WmsError as exc:
        _fail(exc.message)
    except ConfigurationError as exc:
        _fail(str(exc))
    except OperationalError as exc:
        _fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}")


def _factory() -> sessionmaker[Session]:
    from wms.db.engine import make_engine, make_session_factory
    from wms.db.migrate import is_up_to_date

    engine = make_engine(get_settings().database_url)
    if not is_up_to_date(engine):
        _fail("the database schema is not up to date; run `wms db upgrade`")
    return make_session_factory(engine)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"--date {text!r} is not a date; use YYYY-MM-DD")


def _print(payload: Any) -> None:
    from fastapi.encoders import jsonable_encoder

    print(json.dumps(jsonable_encoder(payload)))  # noqa: T201 - machine-readable output


def _plan_json(view: RoutePlanView) -> dict[str, Any]:
    return {
        **asdict(view),
        "stops_routed": view.stops_routed,
        "stops_dropped": len(view.dropped),
    }


@dispatch_app.command("plan")
def dispatch_plan(
    warehouse: Annotated[str, typer.Option("--warehouse", help="The warehouse's code.")],
    day: Annotated[str, typer.Option("--date", help="The delivery day, YYYY-MM-DD.")],
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Seconds to search (default: settings).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the search.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Route the warehouse's fulfilments of a day on its fleet and store the plan (not sent)."""
    from wms.db.uow import UnitOfWork
    from wms.events.routing_tasks import route_parameters
    from wms.fulfillment.delivery_routes import queue_route_plan
    from wms.fulfillment.delivery_runs import plan_id_of, run_route_plan
    from wms.fulfillment.delivery_views import route_plan_view

    on = _day(day)
    with _plain_errors():
        params = route_parameters(get_settings(), time_limit_seconds=time_limit, seed=seed)
        factory = _factory()
        with UnitOfWork(factory) as uow:
            queued = queue_route_plan(
                uow, warehouse=warehouse.strip(), on=on, actor="cli", parameters=params
            )
            plan_id = plan_id_of(uow.session, queued.id)
            uow.commit()
    with err.status(f"planning {queued.id}") as status:
        outcome = run_route_plan(
            factory, plan_id=plan_id, progress=lambda m: status.update(f"{queued.id}: {m}")
        )
    if outcome.status != "planned":
        _fail(outcome.error or f"the plan ended {outcome.status}", 2 if outcome.invalid else 1)
    with UnitOfWork(factory) as uow:
        view = route_plan_view(uow.session, queued.id)
    if as_json:
        _print(_plan_json(view))
    else:
        _print_plan(view)


def _print_plan(view: RoutePlanView) -> None:
    console.print(
        f"{view.id}: {view.stops_routed} stops on {len(view.trips)} vehicle{'' if len(view.trips) == 1 else 's'}, "
        f"{view.distance_km or 0:,.1f} km, cost {view.cost or 0:,.2f}, "
        f"{len(view.dropped)} dropped ({view.solver_method}, {view.solver_seconds or 0:.1f} s)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for trip in view.trips:
        stops = " ".join(s.fulfillment_id for s in trip.stops)
        console.print(
            f"  {trip.vehicle}: {view.clock(trip.departure_at)}-{view.clock(trip.return_at)}, "
            f"{trip.distance_km:,.1f} km, {trip.load_weight_kg:,.1f} kg: {stops}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    for d in view.dropped:
        console.print(
            f"  dropped {d.fulfillment_id}: {d.reason}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"send it with: wms dispatch send {view.id}", markup=False, highlight=False, soft_wrap=True
    )


@dispatch_app.command("send")
def dispatch_send(plan: PlanArg, as_json: JsonFlag = False) -> None:
    """Dispatch a planned plan: write every ETA (an event to the storefront each), print the sheet."""
    from wms.db.uow import transaction
    from wms.fulfillment.delivery_routes import dispatch
    from wms.fulfillment.delivery_views import route_plan_view
    from wms.fulfillment.route_sheet import text_sheet

    with _plain_errors():
        factory = _factory()
        result = transaction(factory, lambda uow: dispatch(uow, plan=plan, actor="cli"))
        with factory() as session:
            view = route_plan_view(session, result.plan)
    if as_json:
        _print(
            {
                "id": result.plan,
                "etas": [{"fulfillment_id": f, "eta": eta} for f, eta in result.etas],
                "skipped": [{"fulfillment_id": f, "reason": r} for f, r in result.skipped],
                "dropped": [{"fulfillment_id": f, "reason": r} for f, r in result.dropped],
            }
        )
        return
    console.print(text_sheet(view), markup=False, highlight=False, soft_wrap=True, end="")
    for fulfilment, reason in result.skipped:
        err.print(f"not sent: {fulfilment}: {reason}", markup=False, highlight=False)


@dispatch_app.command("sheet")
def dispatch_sheet(
    plan: PlanArg,
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Write the sheet as a PDF here.")
    ] = None,
) -> None:
    """Print a plan's route sheet (or write it as a PDF)."""
    from wms.fulfillment.delivery_views import route_plan_view
    from wms.fulfillment.route_sheet import pdf_sheet, text_sheet

    with _plain_errors(), _factory()() as session:
        view = route_plan_view(session, plan)
    if pdf is None:
        console.print(text_sheet(view), markup=False, highlight=False, soft_wrap=True, end="")
        return
    try:
        pdf.write_bytes(pdf_sheet(view))
    except OSError as exc:
        _fail(f"cannot write {pdf}: {exc.strerror}")
    console.print(f"wrote {pdf}", markup=False, highlight=False)


@dispatch_app.command("cancel")
def dispatch_cancel(plan: PlanArg) -> None:
    """Cancel a plan that is queued or planned."""
    from wms.db.uow import transaction
    from wms.fulfillment.delivery_routes import cancel

    with _plain_errors():
        done = transaction(_factory(), lambda uow: cancel(uow, plan=plan, actor="cli"))
    console.print(f"{done.id}: {done.status}", markup=False, highlight=False)


@dispatch_app.command("vehicles")
def dispatch_vehicles(
    warehouse: Annotated[
        str | None, typer.Option("--warehouse", help="One warehouse; all when omitted.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The fleets: each vehicle's capacity, shift and costs."""
    from wms.fulfillment.fleet import list_vehicles

    with _plain_errors(), _factory()() as session:
        vehicles = list_vehicles(session, warehouse=warehouse.strip() if warehouse else None)
    if as_json:
        _print([asdict(v) for v in vehicles])
        return
    if not vehicles:
        console.print("no vehicles", markup=False, highlight=False)
    for v in vehicles:
        volume = f"{v.capacity_volume_cm3 / 1000:,.0f} l" if v.capacity_volume_cm3 else "any volume"
        console.print(
            f"{v.warehouse:<5} {v.code:<10} {v.capacity_weight_kg:>8,.0f} kg  {volume:>10}  "
            f"{v.shift_start}-{v.shift_end}  {v.cost_per_km:.2f}/km + {v.fixed_cost:.2f}"
            f"{'' if v.active else '  (inactive)'}  {v.name}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
