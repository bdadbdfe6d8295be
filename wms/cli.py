"""The `wms` command: demo, serve, database, integrity check, API keys, users, sampling plans."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from wms.cli_allocate import allocate_app
from wms.cli_dispatch import dispatch_app
from wms.cli_route import route_app
from wms.config import ConfigurationError, Settings, get_settings
from wms.db.uow import UnitOfWork

if TYPE_CHECKING:
    from wms.procurement.plan_parameters import PlanParameters

app = typer.Typer(help="Warehouse management system.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for the JSON API.", no_args_is_help=True)
user_app = typer.Typer(help="Users of the web UIs.", no_args_is_help=True)
qc_app = typer.Typer(help="Quality: ISO 2859-1 sampling plans.", no_args_is_help=True)
replenish_app = typer.Typer(help="Replenishment: optimised purchase plans.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(qc_app, name="qc")
app.add_typer(replenish_app, name="replenish")
app.add_typer(route_app, name="route")
app.add_typer(dispatch_app, name="dispatch")
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.add_typer(allocate_app, name="allocate")

console = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """One plain line on stderr and a non-zero exit."""
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def plain_errors() -> Iterator[None]:
    """Turn expected failures into one line and exit 2, never a traceback."""
    from wms.errors import WmsError

    try:
        yield
    except WmsError as exc:
        fail(exc.message)
    except ConfigurationError as exc:
        fail(str(exc))
    except OperationalError as exc:
        fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}")


def _engine(settings: Settings, *, require_schema: bool = True) -> Engine:
    from wms.db.engine import make_engine
    from wms.db.migrate import is_up_to_date

    engine = make_engine(settings.database_url)
    if require_schema and not is_up_to_date(engine):
        fail("the database schema is not up to date; run `wms db upgrade`")
    return engine


def _uow(engine: Engine) -> UnitOfWork:
    from wms.db.engine import make_session_factory

    return UnitOfWork(make_session_factory(engine))


@app.callback()
def _main() -> None:
    from wms.logging import configure_logging

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Create or migrate the schema to the latest revision."""
    from wms.db.migrate import current_revision, upgrade

    with plain_errors():
        engine = _engine(get_settings(), require_schema=False)
        upgrade(engine, revision)
        console.print(f"database at revision {current_revision(engine)}")


@app.command()
def check(as_json: JsonFlag = False) -> None:
    """Rebuild quants and stock levels from the ledger and compare; exit 1 on any disagreement."""
    from wms.inventory.integrity import check_ledger

    with plain_errors():
        engine = _engine(get_settings())
        started = time.perf_counter()
        with _uow(engine) as uow:
            report = check_ledger(uow.session)
        elapsed = time.perf_counter() - started
    if as_json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "moves": report.moves,
                    "quants": report.quants,
                    "levels": report.levels,
                    "seconds": round(elapsed, 3),
                    "discrepancies": [
                        {**d.__dict__, "description": d.describe()} for d in report.discrepancies
                    ],
                }
            )
        )
    elif report.ok:
        console.print(
            f"[green]ok[/green]: {report.moves} moves, {report.quants} quants and "
            f"{report.levels} stock levels agree ({elapsed:.2f} s)"
        )
    else:
        err.print(
            f"{len(report.discrepancies)} disagreement(s) between the ledger and the stored stock:"
        )
        for item in report.discrepancies:
            err.print(f"  {item.describe()}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(0 if report.ok else 1)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key.")],
    scope: Annotated[
        list[str], typer.Option("--scope", help="admin, storefront or read; repeat for more.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    from wms.auth.services import create_api_key

    with plain_errors():
        engine = _engine(get_settings())
        with _uow(engine) as uow:
            issued = create_api_key(uow, name=name, scopes=scope)
            uow.commit()
    if as_json:
        print(json.dumps({"key": issued.key, "name": issued.name, "scopes": issued.scopes}))
    else:
        console.print(f"API key for {issued.name} ({', '.join(issued.scopes)}), shown only now:")
        print(issued.key)


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="admin, planner, inspector, supervisor or operator.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="Password.")],
    display_name: Annotated[str | None, typer.Option(help="Name shown in the UIs.")] = None,
    pin: Annotated[
        str | None, typer.Option(help="Handheld PIN (4-12 digits) to sign in with the user name.")
    ] = None,
    badge: Annotated[
        str | None, typer.Option(help="Badge barcode (8+ characters) that signs in on a scan.")
    ] = None,
) -> None:
    """Create a user of the web UIs (and of the handheld, with a PIN or a badge)."""
    from wms.auth.services import create_user
    from wms.auth.sessions import set_badge, set_pin

    with plain_errors():
        engine = _engine(get_settings())
        with _uow(engine) as uow:
            user = create_user(
                uow,
                username=username,
                display_name=display_name or username,
                role=role,
                password=password,
            )
            if pin is not None:
                set_pin(uow, username=user.username, pin=pin)
            if badge is not None:
                set_badge(uow, username=user.username, badge=badge)
            uow.commit()
    console.print(f"user {user.username} ({user.role.value}) created")


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (one per core is typical).")
    ] = 1,
) -> None:
    """Serve the web UIs and the API."""
    with plain_errors():
        settings = get_settings()
        settings.require_secret_key()
        _engine(settings)
    _run_server(host, port, workers=workers)


@app.command()
def worker(
    beat: Annotated[
        bool, typer.Option("--beat", help="Also run the scheduler in this process.")
    ] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 2,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Run a Celery worker on WMS_BROKER_URL (deliveries, expiries, solves, scheduled jobs)."""
    from wms.events.celery_app import create_celery

    with plain_errors():
        settings = get_settings()
        if not settings.broker_url:
            fail(
                "WMS_BROKER_URL is not set; without a broker the server runs background work itself"
            )
        _engine(settings)
        celery = create_celery(settings)
    argv = ["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "--without-gossip"]
    if beat:
        _schedule_dir()
        argv += ["--beat", "--schedule=var/celerybeat-schedule"]
    celery.worker_main(argv)


@app.command()
def beat(loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO") -> None:
    """Run the Celery beat scheduler alone (one per deployment)."""
    from wms.events.celery_app import create_celery

    with plain_errors():
        settings = get_settings()
        if not settings.broker_url:
            fail(
                "WMS_BROKER_URL is not set; without a broker the server runs scheduled jobs itself"
            )
        celery = create_celery(settings)
    _schedule_dir()
    celery.start(["beat", f"--loglevel={loglevel}", "--schedule=var/celerybeat-schedule"])


def _schedule_dir() -> None:
    """Beat keeps its last run times in ./var/, which a fresh checkout does not have yet."""
    from pathlib import Path

    Path("var").mkdir(exist_ok=True)


def _run_server(host: str, port: int, *, workers: int = 1) -> None:
    import uvicorn

    uvicorn.run(
        "wms.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
    )


@app.command()
def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Create the data, then exit.")
    ] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Start again from an empty SQLite file.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed of the generated history.")] = 7,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """Create a demo database with realistic data (unless it exists), print logins, and serve."""
    import os

    from sqlalchemy.engine import make_url

    from wms.demo import build_demo, describe_existing

    os.environ["WMS_DEMO"] = "1"
    get_settings.cache_clear()
    settings = get_settings()
    with plain_errors():
        if reset:
            _reset_sqlite(settings)
        from wms.db.engine import create_database_if_missing
        from wms.db.migrate import upgrade

        if create_database_if_missing(settings.database_url):
            console.print(f"created database {make_url(settings.database_url).database}")
        engine = _engine(settings, require_schema=False)
        upgrade(engine)
        summary = describe_existing(engine)
        if summary is None:
            summary = build_demo(engine, seed=seed, progress=_progress)
        else:
            console.print(
                "[yellow]using the existing demo database[/yellow] (--reset starts again)"
            )
    console.print(summary.render(host=host, port=port))
    if not no_serve:
        _run_server(host, port)


def _reset_sqlite(settings: Settings) -> None:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    if not settings.is_sqlite:
        fail("--reset only deletes the embedded SQLite file; drop a PostgreSQL database yourself")
    path = make_url(settings.database_url).database
    if path and path != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)


@contextmanager
def _progress(total: int, description: str) -> Iterator[Callable[[int], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


@qc_app.command("plan")
def qc_plan(
    lot_size: Annotated[int, typer.Option("--lot-size", help="Units in the lot.")],
    aql: Annotated[str, typer.Option("--aql", help="Acceptance quality limit, 0.010 to 1000.")],
    level: Annotated[str, typer.Option(help="Inspection level: S-1..S-4, I, II, III.")] = "II",
    severity: Annotated[str, typer.Option(help="normal, tightened or reduced.")] = "normal",
    standard: Annotated[
        str, typer.Option(help="iso2859-1 (= GB/T 2828.1), or z14 (ANSI/ASQ Z1.4 reduced).")
    ] = "iso2859-1",
    as_json: JsonFlag = False,
) -> None:
    """The single sampling plan for a lot: code letter, sample size, Ac and Re."""
    from wms.quality import oc, sampling

    with plain_errors():
        plan = sampling.sampling_plan(
            lot_size, aql, level=level, severity=severity, standard=standard
        )
    if as_json:
        keys = ("code_letter", "sample_size", "ac", "re")
        print(json.dumps({key: getattr(plan, key) for key in keys}))
        return
    whole = " (the whole lot)" if plan.whole_lot else ""
    p95, p10 = oc.p_at(plan, 0.95), oc.p_at(plan, 0.10)
    console.print(
        f"lot {plan.lot_size}, level {plan.level}, AQL {sampling.aql_label(plan.aql)}, "
        f"{plan.severity} ({plan.standard})\n"
        f"code letter {plan.code_letter} -> plan {plan.plan_letter}: "
        f"inspect {plan.sample_size}{whole}, accept on {plan.ac}, reject on {plan.re}\n"
        f"accepts 95% of lots at {_pct(p95)} nonconforming, 10% at {_pct(p10)}",
        highlight=False,
    )


def _pct(p: float | None) -> str:
    return "n/a" if p is None else f"{p * 100:.3g}%"


Warehouse = Annotated[
    str | None, typer.Option("--warehouse", help="Plan one warehouse; all when omitted.")
]
Horizon = Annotated[int, typer.Option("--horizon", help="Weeks to plan (1-52).")]
ServiceLevel = Annotated[
    float, typer.Option("--service-level", help="Cycle service level for safety stock.")
]
Budget = Annotated[
    float | None, typer.Option("--budget", help="Money the orders of one week may commit.")
]


def _plan_parameters(
    *,
    warehouse: str | None,
    horizon: int,
    service_level: float,
    budget: float | None,
    time_limit: float = 30.0,
) -> PlanParameters:
    from decimal import Decimal

    from wms.procurement.plan_parameters import PlanParameters

    return PlanParameters(
        warehouse=warehouse,
        horizon_weeks=horizon,
        service_level=service_level,
        budget_per_week=None if budget is None else Decimal(str(budget)),
        time_limit_seconds=time_limit,
    )


@contextmanager
def _plan_progress() -> Iterator[Callable[[int, int, str], None]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        task = progress.add_task("planning", total=None)

        def report(done: int, total: int, message: str) -> None:
            progress.update(task, completed=done, total=total or None, description=message)

        yield report


@replenish_app.command("plan")
def replenish_plan(
    warehouse: Warehouse = None,
    horizon: Horizon = 12,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds the solver may take.")
    ] = 30.0,
    service_level: ServiceLevel = 0.95,
    budget: Budget = None,
    as_json: JsonFlag = False,
) -> None:
    """Forecast demand, solve the replenishment plan and store it as a plan run."""
    from wms.db.engine import make_session_factory
    from wms.procurement.plan_views import plan_summary
    from wms.procurement.replenishment_runs import create_run, run_plan

    with plain_errors():
        params = _plan_parameters(
            warehouse=warehouse,
            horizon=horizon,
            time_limit=time_limit,
            service_level=service_level,
            budget=budget,
        )
        factory = make_session_factory(_engine(get_settings()))
        with UnitOfWork(factory) as uow:
            run_id = create_run(uow, parameters=params, actor="cli")
            uow.commit()
    with _plan_progress() as report:
        outcome = run_plan(factory, run_id=run_id, progress=report)
    if outcome.status == "failed":
        fail(outcome.error, 2 if outcome.invalid else 1)
    with UnitOfWork(factory) as uow:
        summary = plan_summary(uow.session, run_id)
    if as_json:
        print(json.dumps(summary))
    else:
        _print_plan(summary)
    raise typer.Exit(0 if summary["status"] in ("optimal", "feasible") else 1)


def _print_plan(summary: dict[str, object]) -> None:
    status, lines = summary["status"], summary["lines"]
    assert isinstance(lines, list)
    if status not in ("optimal", "feasible"):
        console.print(
            f"plan run {summary['run_id']}: {status}: {summary['reason']}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    gap = summary["gap"]
    console.print(
        f"plan run {summary['run_id']}: {status}, cost {summary['objective']:,.2f} "
        f"{summary['currency']} (bound {summary['bound']:,.2f}, gap "
        f"{'n/a' if gap is None else f'{gap:.2%}'}), {len(lines)} order lines",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for line in lines:
        console.print(
            f"  week {line['order_week']:>2}  {line['warehouse']:<5} {line['sku']:<16} "
            f"{line['quantity']:>8} from {line['supplier']}: {line['reason']}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@replenish_app.command("export")
def replenish_export(
    path: Annotated[str, typer.Argument(help="FILE.lp or FILE.mps")],
    warehouse: Warehouse = None,
    horizon: Horizon = 12,
    service_level: ServiceLevel = 0.95,
    budget: Budget = None,
) -> None:
    """Write the replenishment model, built from the database, as an LP or MPS file (PuLP)."""
    from wms.procurement.replenishment import build_problem

    if not path.lower().endswith((".lp", ".mps")):
        fail(f"{path}: the file name must end in .lp or .mps")
    with plain_errors():
        params = _plan_parameters(
            warehouse=warehouse, horizon=horizon, service_level=service_level, budget=budget
        )
        engine = _engine(get_settings())
        with _uow(engine) as uow:
            problem, _context = build_problem(uow.session, parameters=params)
        from wms.procurement.planning.pulp_backend import write_model

        write_model(problem, path)
    console.print(
        f"wrote {path}: {len(problem.series)} series over {problem.weeks} weeks",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
