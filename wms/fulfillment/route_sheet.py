"""The route sheet a driver takes along: per vehicle, the stops in order with the customer, the
address, the window, the planned arrival and the load; and the stops nobody could deliver.

As plain text (the command line) and as a PDF, one A4 page or more per vehicle. Times are the
warehouse's local clock. The planner prints the same sheet as an HTML page of its own.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from wms.fulfillment.delivery_views import RoutePlanView, StopView, TripView


def window_text(stop: StopView) -> str:
    return f"{stop.window[0]}-{stop.window[1]}" if stop.window else "any time"


def _weight(kg: float) -> str:
    return f"{kg:,.1f} kg"


def heading(plan: RoutePlanView) -> str:
    return (
        f"Route plan {plan.id} · {plan.warehouse} {plan.warehouse_name} · "
        f"{plan.delivery_date:%A %Y-%m-%d} · {plan.status}"
    )


def text_sheet(plan: RoutePlanView) -> str:
    """The route sheet as plain text, one block per vehicle."""
    lines = [heading(plan)]
    if plan.distance_km is not None:
        lines.append(
            f"{plan.stops_routed} stops on {len(plan.trips)} vehicle{'' if len(plan.trips) == 1 else 's'}, "
            f"{plan.distance_km:,.1f} km, cost {plan.cost or 0:,.2f}"
            + (f"; dispatched {plan.clock(plan.dispatched_at)}" if plan.dispatched_at else "")
        )
    for trip in plan.trips:
        lines += ["", *_trip_lines(plan, trip)]
    if plan.dropped:
        lines += ["", f"Not delivered ({len(plan.dropped)}):"]
        lines += [
            f"  {d.fulfillment_id}  {d.order_id}  {d.customer}: {d.reason}" for d in plan.dropped
        ]
    if not plan.trips and not plan.dropped and plan.finished:
        lines += ["", "Nothing to deliver."]
    return "\n".join(lines) + "\n"


def _trip_lines(plan: RoutePlanView, trip: TripView) -> Iterator[str]:
    yield (
        f"Vehicle {trip.vehicle}{f' ({trip.vehicle_name})' if trip.vehicle_name else ''}: "
        f"leaves {plan.clock(trip.departure_at)}, back {plan.clock(trip.return_at)}, "
        f"{trip.distance_km:,.1f} km, loads {_weight(trip.load_weight_kg)} "
        f"of {_weight(trip.capacity_weight_kg)}"
    )
    yield "  #  arrive  start  window       fulfilment / order                 customer, address"
    for s in trip.stops:
        yield (
            f"{s.seq:>3}  {plan.clock(s.arrival_at):>6}  {plan.clock(s.service_start_at):>5}  "
            f"{window_text(s):<11}  {s.fulfillment_id} / {s.order_id}  {s.customer}, {s.address}"
            f"  [{_weight(s.weight_kg)}; {_weight(s.load_weight_kg)} left; {s.distance_km:,.1f} km]"
        )


def _font(text: str, bold: bool = False) -> str:
    """Helvetica for Western text; a CJK font (not embedded) for anything else."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        return "STSong-Light"
    return "Helvetica-Bold" if bold else "Helvetica"


class _Page:
    """Lines of text down an A4 page, starting a new page when one is full."""

    def __init__(self, canvas: Canvas, title: str) -> None:
        self.canvas, self.title = canvas, title
        self.y = 0.0
        self.new()

    def new(self) -> None:
        if self.y:
            self.canvas.showPage()
        self.y = A4[1] - 18 * mm
        self.text(15 * mm, self.title, size=11, bold=True)
        self.y -= 3 * mm

    def text(self, x: float, value: str, *, size: float = 8.5, bold: bool = False) -> None:
        self.canvas.setFont(_font(value, bold), size)
        self.canvas.drawString(x, self.y, value)

    def row(self, cells: list[tuple[float, str]], *, bold: bool = False, gap: float = 5) -> None:
        if self.y < 20 * mm:
            self.new()
        for x, value in cells:
            self.text(x * mm, value, bold=bold)
        self.y -= gap * mm


COLUMNS = (15, 24, 37, 50, 70, 112, 176)


def pdf_sheet(plan: RoutePlanView) -> bytes:
    """The route sheet as an A4 PDF: a page (or more) per vehicle, then the undelivered stops."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"Route sheet {plan.id}")
    trips: list[TripView | None] = [*plan.trips] or [None]
    for index, trip in enumerate(trips):
        if index:
            canvas.showPage()
        page = _Page(canvas, heading(plan))
        if trip is None:
            page.row([(15, "No vehicle has a route in this plan.")])
        else:
            _pdf_trip(page, plan, trip)
        if index == len(trips) - 1 and plan.dropped:
            page.row([(15, f"Not delivered ({len(plan.dropped)})")], bold=True, gap=6)
            for d in plan.dropped:
                page.row([(15, d.fulfillment_id), (50, f"{d.customer}: {d.reason}"[:110])])
    canvas.save()
    return out.getvalue()


def _pdf_trip(page: _Page, plan: RoutePlanView, trip: TripView) -> None:
    trip_lines = list(_trip_lines(plan, trip))
    page.row([(15, trip_lines[0])], bold=True, gap=7)
    header = ["#", "Arrive", "Start", "Window", "Fulfilment / order", "Customer / address", "kg"]
    page.row(list(zip(COLUMNS, header, strict=True)), bold=True)
    for s in trip.stops:
        cells = [
            str(s.seq),
            plan.clock(s.arrival_at),
            plan.clock(s.service_start_at),
            window_text(s),
            f"{s.fulfillment_id}",
            s.customer[:42],
            f"{s.weight_kg:,.1f}",
        ]
        page.row(list(zip(COLUMNS, cells, strict=True)), gap=4)
        page.row([(COLUMNS[4], s.order_id), (COLUMNS[5], s.address[:48])], gap=6)
