"""OC curves as the planner draws them: the plans a supplier's lots face now, or one plan from
the OC tool, on one chart of Pa against p (percent nonconforming) with the AQLs marked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

from wms.errors import WmsError
from wms.quality import oc, sampling
from wms.quality.sampling import SamplingPlan
from wms.quality.scorecard import PlanInUse
from wms.web.charts import PALETTE, Guide, Marker, Series, line_chart

CLASSES = ("major", "minor")
_GRID_POINTS = 120
_CURVE_POINTS = 81
MAX_NAMED = 3  # products named in a legend entry before "+N"


@dataclass(frozen=True)
class CurvePlan:
    """One plan to draw, with its producer's (Pa 95 %) and consumer's (Pa 10 %) quality points."""

    label: str
    sku: str
    defect_class: str
    plan: SamplingPlan
    p95: float | None
    p10: float | None

    @property
    def aql_text(self) -> str:
        return sampling.aql_label(self.plan.aql)

    @property
    def per_hundred_units(self) -> bool:
        """Above AQL 10 the plan counts nonconformities per hundred units."""
        return self.plan.counts_nonconformities


def _label(plan: SamplingPlan, skus: Sequence[str], defect_class: str) -> str:
    names = ", ".join(skus[:MAX_NAMED]) + (
        f" +{len(skus) - MAX_NAMED}" if len(skus) > MAX_NAMED else ""
    )
    head = " ".join(part for part in (names, defect_class) if part)
    return (
        f"{head + ' · ' if head else ''}AQL {sampling.aql_label(plan.aql)} · {plan.severity} · "
        f"n={plan.sample_size} Ac={plan.ac} Re={plan.re}"
    )


def curve_plan(plan: SamplingPlan, *, sku: str = "", defect_class: str = "") -> CurvePlan:
    """A plan with its quality points and a legend label."""
    return CurvePlan(
        label=_label(plan, [sku] if sku else [], defect_class),
        sku=sku,
        defect_class=defect_class,
        plan=plan,
        p95=oc.p_at(plan, 0.95),
        p10=oc.p_at(plan, 0.10),
    )


@dataclass(frozen=True)
class PlansChart:
    curves: list[CurvePlan]
    notes: list[str]  # plans that cannot be drawn, and why


def plans_in_use_chart(plans: Sequence[PlanInUse]) -> PlansChart:
    """The major and minor plan of each product at its current severity for its last lot size."""
    curves: list[CurvePlan] = []
    notes: list[str] = []
    for item in plans:
        if item.last_lot_size is None:
            notes.append(f"{item.sku}: no lot received yet")
            continue
        for cls in CLASSES:
            severity = item.severities.get(cls, "normal")
            aql = item.major_aql if cls == "major" else item.minor_aql
            if severity == "discontinued":
                notes.append(f"{item.sku} {cls}: inspection discontinued, no plan applies")
                continue
            try:
                plan = sampling.sampling_plan(
                    item.last_lot_size,
                    aql,
                    level=item.level,
                    severity=severity,
                    standard=item.standard,
                )
            except WmsError as exc:
                notes.append(f"{item.sku} {cls}: {exc.message}")
                continue
            curves.append(curve_plan(plan, sku=item.sku, defect_class=cls))
    return PlansChart(curves, notes)


def _x_end(curves: Sequence[CurvePlan]) -> float:
    """Where the chart's p axis ends: where the last curve falls to Pa = 1 % (as a fraction)."""
    ends = [
        end for c in curves if (end := oc.p_at(c.plan, oc.CURVE_END_PA)) is not None and end > 0
    ]
    return max(ends) if ends else 1.0


def _points(plan: SamplingPlan, end: float) -> list[tuple[float, float]]:
    """(p in percent, Pa) over [0, end]: the plan's own curve, filled in on a shared grid."""
    grid = {end * i / _GRID_POINTS for i in range(_GRID_POINTS + 1)}
    own = {p for p, _ in oc.oc_curve(plan, points=_CURVE_POINTS) if p <= end}
    limit = float("inf") if plan.counts_nonconformities else 1.0
    return [(p * 100, oc.acceptance_probability(plan, p)) for p in sorted(grid | own) if p <= limit]


def _identical_plans_together(
    curves: Sequence[CurvePlan],
) -> list[tuple[str, tuple[str, ...], CurvePlan]]:
    """One curve per distinct plan (class, AQL, severity, n, Ac, Re): products on the same plan
    share a curve, which would otherwise be drawn over each other; with a label naming them."""
    groups: dict[tuple[object, ...], list[CurvePlan]] = {}
    for c in curves:
        key = (
            c.defect_class,
            c.plan.aql,
            c.plan.severity,
            c.plan.sample_size,
            c.plan.ac,
            c.plan.re,
        )
        groups.setdefault(key, []).append(c)
    out = []
    for members in groups.values():
        skus = tuple(m.sku for m in members if m.sku)
        first = members[0]
        out.append(
            (
                _label(first.plan, skus, first.defect_class) if len(members) > 1 else first.label,
                skus,
                first,
            )
        )
    return out


def oc_chart(
    curves: Sequence[CurvePlan],
    *,
    chart_id: str,
    title: str = "",
    quality_points: bool = False,
) -> Markup:
    """The SVG chart of ``curves``: each product a colour, minor plans dashed, the AQLs marked;
    with ``quality_points`` also the p at Pa 95 % and 10 % of a single plan."""
    end = _x_end(curves)
    colors: dict[tuple[str, ...], str] = {}
    series = []
    for label, skus, c in _identical_plans_together(curves):
        # The same products keep one colour; their minor plans are dashed.
        color = colors.setdefault(skus, PALETTE[len(colors) % len(PALETTE)])
        series.append(
            Series(label, _points(c.plan, end), color=color, dashed=c.defect_class == "minor")
        )
    aqls: dict[Decimal, str] = {c.plan.aql: c.aql_text for c in curves}
    markers = [Marker(float(aql), f"AQL {text}", "#374151") for aql, text in sorted(aqls.items())]
    if quality_points and len(curves) == 1:
        only = curves[0]
        if only.p95 is not None:
            markers.append(Marker(only.p95 * 100, f"p95 {only.p95 * 100:.3g}", "#15803d"))
        if only.p10 is not None:
            markers.append(Marker(only.p10 * 100, f"p10 {only.p10 * 100:.3g}", "#b91c1c"))
    x_label = "p: percent nonconforming"
    if curves and all(c.per_hundred_units for c in curves):
        x_label = "p: nonconformities per 100 units"
    elif any(c.per_hundred_units for c in curves):
        x_label += " (nonconformities per 100 units above AQL 10)"
    svg = line_chart(
        series,
        title=title,
        x_label=x_label,
        y_label="Pa: probability of acceptance",
        x_range=(0.0, end * 100),
        y_range=(0.0, 1.0),
        y_format=lambda v: f"{v * 100:.0f} %",
        markers=markers,
        guides=[Guide(0.95, "Pa 95 %"), Guide(0.10, "Pa 10 %")],
        chart_id=chart_id,
        width=960,
        plot_height=340,
        empty_text="No plan in use to draw",
    )
    return Markup(svg)  # noqa: S704 - line_chart escapes every piece of text it writes
