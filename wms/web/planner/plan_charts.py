"""One SKU at one warehouse in a plan: projected stock per week with the plan and without it,
against safety stock, with the forecast demand and the arrivals of the proposed lines, drawn as
an inline SVG chart, and the same figures as a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from wms.errors import NotFound
from wms.procurement.plan_views import (
    ProposalView,
    plan_projections,
    plan_run_view,
    proposal_views,
)
from wms.web.charts import Bars, Series, line_chart
from wms.web.planner.auth import Viewer
from wms.web.planner.common import not_found, page, read, redirect, sign_in_redirect
from wms.web.planner.plans import currency_of, money, parse_run_id

router = APIRouter()

WITH_PLAN = "Projected stock with the plan"
WITHOUT_PLAN = "Projected stock without the plan"
DEMAND = "Demand (forecast)"
SAFETY = "Safety stock"
ARRIVALS = "Arrivals of the proposed lines"


@dataclass(frozen=True)
class Week:
    """One week of a projection, as the table under the chart shows it."""

    index: int
    start: date | None
    demand: float
    arrivals: int
    with_plan: float
    without_plan: float
    short: float

    def below(self, safety_stock: float) -> bool:
        return self.with_plan < safety_stock


def _floats(values: Sequence[Any], weeks: int) -> list[float]:
    out = [float(v) for v in values[:weeks]]
    return out + [0.0] * (weeks - len(out))


def arrivals_by_week(proposals: Sequence[ProposalView], week_starts: Sequence[date]) -> list[int]:
    """What the plan's lines bring in each week of the horizon (their proposed quantities, which
    the projection assumed); a line arriving after the horizon is left out."""
    totals = [0] * len(week_starts)
    if not week_starts:
        return totals
    first = week_starts[0]
    for p in proposals:
        week = (p.arrival_date - first).days // 7
        if 0 <= week < len(totals):
            totals[week] += p.proposed_quantity
    return totals


def projection_weeks(
    projection: Mapping[str, Any],
    proposals: Sequence[ProposalView],
    week_starts: Sequence[date],
) -> list[Week]:
    """The projection week by week with the arrivals of ``proposals``."""
    weeks = len(projection.get("with_plan") or ())
    starts: list[date | None] = [*week_starts[:weeks]]
    starts += [None] * (weeks - len(starts))
    arrivals = arrivals_by_week(proposals, week_starts[:weeks])
    arrivals += [0] * (weeks - len(arrivals))
    demand = _floats(projection.get("demand") or (), weeks)
    with_plan = _floats(projection.get("with_plan") or (), weeks)
    without = _floats(projection.get("without_plan") or (), weeks)
    short = _floats(projection.get("short_with_plan") or (), weeks)
    return [
        Week(i, starts[i], demand[i], arrivals[i], with_plan[i], without[i], short[i])
        for i in range(weeks)
    ]


def series_chart(
    weeks: Sequence[Week], safety_stock: float, *, chart_id: str = "series-chart"
) -> Markup:
    """The chart: both projections, safety stock and demand as lines, arrivals as bars."""
    count = max(1, len(weeks))
    labels = {w.index: w.start.strftime("%b %d") if w.start else f"w{w.index}" for w in weeks}

    def week_label(value: float) -> str:
        return labels.get(int(value), "") if float(value).is_integer() else ""

    svg = line_chart(
        [
            Series(WITH_PLAN, [(w.index, w.with_plan) for w in weeks], color="#1f5fbf"),
            Series(
                WITHOUT_PLAN,
                [(w.index, w.without_plan) for w in weeks],
                color="#d55e00",
                dashed=True,
            ),
            Series(SAFETY, [(w.index, safety_stock) for w in weeks], color="#b91c1c", dashed=True),
            Series(DEMAND, [(w.index, w.demand) for w in weeks], color="#009e73"),
        ],
        bars=[Bars(ARRIVALS, [(w.index, w.arrivals) for w in weeks if w.arrivals], "#0e7490")],
        x_label="Week starting",
        y_label="Units at the end of the week",
        x_range=(-0.5, count - 0.5),
        x_ticks=min(count, 13),
        x_format=week_label,
        chart_id=chart_id,
        width=960,
        plot_height=340,
        empty_text="The plan has no projection for this SKU",
    )
    return Markup(svg)  # noqa: S704 - line_chart escapes every piece of text it writes


def _week_starts(context: Mapping[str, Any]) -> list[date]:
    starts = []
    for text in context.get("week_starts") or ():
        try:
            starts.append(date.fromisoformat(str(text)))
        except ValueError:
            break
    return starts


def _load(session: Session, run_id: int, sku: str, warehouse: str) -> dict[str, Any]:
    run = plan_run_view(session, run_id)
    everything = plan_projections(session, run_id=run_id)
    found = [p for p in everything if p["sku"] == sku and p["warehouse"] == warehouse]
    if not found:
        raise NotFound(f"plan run {run_id} has no projection of {sku} at {warehouse}")
    projection = found[0]
    lines = proposal_views(session, run_id=run_id, sku=sku, warehouse=warehouse)
    weeks = projection_weeks(projection, lines, _week_starts(run.context))
    safety = float(projection.get("safety_stock") or 0)
    return {
        "run": run,
        "sku": sku,
        "warehouse": warehouse,
        "projection": projection,
        "weeks": weeks,
        "safety_stock": safety,
        "lines": lines,
        "chart_svg": series_chart(weeks, safety),
        "series": sorted((p["sku"], p["warehouse"]) for p in everything),
        "currency": currency_of(run),
    }


def series_path(run_id: int, sku: str, warehouse: str) -> str:
    return f"/planner/plans/{run_id}/series/{quote(sku)}/{quote(warehouse, safe='')}"


@router.get("/plans/{run_id}/series", response_class=HTMLResponse)
def pick_series(request: Request, user: Viewer, run_id: str, key: str = "") -> Response:
    """The chart picker's answer (``key`` is ``SKU@WAREHOUSE``): to the chart's own address."""
    if user is None:
        return sign_in_redirect(request)
    sku, _, warehouse = key.rpartition("@")
    try:
        number = parse_run_id(run_id)
    except NotFound as exc:
        return not_found(request, user, exc)
    if not sku or not warehouse:
        return redirect(f"/planner/plans/{number}#proposals")
    return redirect(series_path(number, sku, warehouse))


@router.get("/plans/{run_id}/series/{sku:path}/{warehouse}", response_class=HTMLResponse)
def series_page(request: Request, user: Viewer, run_id: str, sku: str, warehouse: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    try:
        number = parse_run_id(run_id)
        context = read(request, lambda session: _load(session, number, sku, warehouse))
    except NotFound as exc:
        return not_found(request, user, exc)
    return page(
        request,
        "plan_series.html",
        user=user,
        title=f"{sku} at {warehouse} · plan run {number}",
        money=money,
        series_path=series_path,
        **context,
    )
