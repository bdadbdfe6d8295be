"""The planner's procurement pages over the ASGI app on PostgreSQL: running a plan and following
it, proposals by supplier with their quantities, approval and ordering, a SKU's projected stock
chart, purchase orders through their steps, a new order by hand, lead times and a supplier's
products."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import Database
from tests.integration.procurement.support import SUPPLIER, draft, incoming, picture, stocked
from wms.api.app import create_app
from wms.auth.services import create_user
from wms.config import Settings
from wms.db.base import utcnow
from wms.procurement.plan_parameters import PlanParameters
from wms.procurement.plan_views import ProposalView, proposal_views
from wms.procurement.replenishment_runs import create_run, run_plan
from wms.quality.suppliers import set_status

SVG = "{http://www.w3.org/2000/svg}"
PASSWORD = "plan-pass-1"
TODAY = utcnow().date()
RUN_TIMEOUT_SECONDS = 180


@pytest.fixture
def db(pg: Database) -> Database:
    """SUP-1 sells MUG (MOQ 24, packs of 12) and TEA to SHA, which holds 40 MUG and 30 TEA
    after 12 weeks of selling about 30 MUG and 10 TEA a week; Pat plans."""
    stocked(pg, TODAY)
    with pg.uow() as uow:
        create_user(uow, username="pat", display_name="Pat", role="planner", password=PASSWORD)
        uow.commit()
    return pg


@pytest.fixture
def planner(db: Database) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db.url, secret_key="test-secret"))
    with TestClient(app, raise_server_exceptions=False) as client:
        signed_in = client.post(
            "/planner/login",
            data={"username": "pat", "password": PASSWORD},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        yield client


@pytest.fixture
def run_id(db: Database) -> int:
    """A finished 8-week plan of SHA, solved here rather than on the launcher's thread."""
    with db.uow() as uow:
        queued = create_run(
            uow,
            parameters=PlanParameters(horizon_weeks=8, time_limit_seconds=10.0, today=TODAY),
            actor="pat",
        )
        uow.commit()
    assert run_plan(db.session_factory, run_id=queued).status == "succeeded"
    return queued


def lines_of(db: Database, run: int) -> list[ProposalView]:
    with db.uow() as uow:
        return proposal_views(uow.session, run_id=run)


def mug_line(db: Database, run: int) -> ProposalView:
    return next(p for p in lines_of(db, run) if p.sku == "MUG")


def field_error(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert found, f"no {testid} on the page"
    return found.group(1)


def location_of(response: Response) -> str:
    assert response.status_code == 303, response.text[:2000]
    return response.headers["location"]


# Plans ---------------------------------------------------------------------------------------


def test_plan_pages_send_a_visitor_without_a_session_to_sign_in(db: Database) -> None:
    app = create_app(Settings(database_url=db.url, secret_key="test-secret"))
    with TestClient(app) as client:
        for path in ("/planner/plans", "/planner/plans/1", "/planner/purchase-orders"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/planner/login?next=")


def test_the_plans_page_offers_the_run_form_and_the_nav_leads_to_plans_and_orders(
    planner: TestClient,
) -> None:
    html = planner.get("/planner/plans").text
    assert 'data-testid="run-form"' in html
    assert '<option value="SHA"' in html
    assert 'data-testid="nav-plans"' in html
    assert 'data-testid="nav-purchase-orders"' in html
    assert "No plan has been run yet." in html


def test_bad_parameters_are_shown_next_to_their_fields_and_nothing_is_queued(
    planner: TestClient, db: Database
) -> None:
    answer = planner.post(
        "/planner/plans",
        data={
            "horizon_weeks": "0",
            "service_level": "most",
            "time_limit_seconds": "10",
            "budget_per_week": "lots",
        },
    )
    assert answer.status_code == 422
    assert "horizon" in field_error(answer.text, "run-horizon_weeks-error")
    assert "number" in field_error(answer.text, "run-service_level-error")
    assert "budget" in field_error(answer.text, "run-budget_per_week-error")
    assert 'value="most"' in answer.text  # what was typed stays
    unknown = planner.post(
        "/planner/plans",
        data={"warehouse": "XYZ", "horizon_weeks": "8", "service_level": "95"}
        | {"time_limit_seconds": "10"},
    )
    assert unknown.status_code == 404
    assert "XYZ" in field_error(unknown.text, "run-warehouse-error")
    assert db.count("plan_runs") == 0


def test_a_planner_runs_a_plan_follows_its_progress_and_reads_the_proposals_by_supplier(
    planner: TestClient, db: Database
) -> None:
    started = planner.post(
        "/planner/plans",
        data={
            "warehouse": "SHA",
            "horizon_weeks": "8",
            "service_level": "95",
            "time_limit_seconds": "10",
            "budget_per_week": "",
        },
        follow_redirects=False,
    )
    run_page = location_of(started)
    found = re.fullmatch(r"/planner/plans/(\d+)\?done=plan-queued", run_page)
    assert found, run_page
    run = int(found.group(1))
    first = planner.get(run_page).text
    assert "Plan run queued" in first
    if 'data-testid="progress"' in first:  # still working: the page polls its progress
        assert f'hx-get="/planner/plans/{run}/progress"' in first
        assert "vendor/htmx.min.js" in first
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while True:
        fragment = planner.get(f"/planner/plans/{run}/progress")
        assert fragment.status_code == 200
        assert 'data-testid="progress-message"' in fragment.text
        if fragment.headers.get("HX-Redirect") == f"/planner/plans/{run}":
            break
        assert time.monotonic() < deadline, "the plan did not finish in time"
        time.sleep(0.5)
    html = planner.get(f"/planner/plans/{run}").text
    assert 'data-testid="progress"' not in html
    assert "vendor/htmx.min.js" not in html  # a finished run polls nothing
    assert re.search(r'data-run="succeeded"', html)
    assert re.search(r'data-result="(optimal|feasible)"', html)
    for figure in ("objective", "bound", "gap"):
        assert field_error(html, figure) != "—"
    group = re.search(
        rf'<section class="panel supplier-group" data-supplier="{SUPPLIER}".*?</section>',
        html,
        re.DOTALL,
    )
    assert group, "no group of SUP-1's lines"
    mug = mug_line(db, run)
    row = re.search(rf'<tr id="p-{mug.id}".*?</tr>', group.group(0), re.DOTALL)
    assert row
    assert f'value="{mug.quantity}"' in row.group(0)  # the quantity, editable inline
    assert "MOQ 24, packs of 12" in row.group(0)
    assert mug.reason[:30] in row.group(0).replace("&#39;", "'")
    assert f"/planner/plans/{run}/series/MUG/SHA" in row.group(0)
    listed = planner.get("/planner/plans").text
    assert re.search(rf'<tr data-run-id="{run}">.*?pat.*?SHA · 8 weeks', listed, re.DOTALL)


def test_a_queued_run_shows_its_progress_and_polls_it_until_it_has_finished(
    planner: TestClient, db: Database
) -> None:
    with db.uow() as uow:  # queued but never launched
        queued = create_run(uow, parameters=PlanParameters(horizon_weeks=8), actor="pat")
        uow.commit()
    html = planner.get(f"/planner/plans/{queued}").text
    assert 'data-testid="progress"' in html
    assert f'hx-get="/planner/plans/{queued}/progress" hx-trigger="every 1s"' in html
    assert '<noscript><meta http-equiv="refresh"' in html  # without script, the page reloads
    assert 'data-testid="decide-form"' not in html
    fragment = planner.get(f"/planner/plans/{queued}/progress")
    assert "HX-Redirect" not in fragment.headers
    assert "queued" in field_error(fragment.text, "progress-message")
    assert fragment.headers["Cache-Control"] == "no-store"
    run_plan(db.session_factory, run_id=queued)
    done = planner.get(f"/planner/plans/{queued}/progress")
    assert done.headers["HX-Redirect"] == f"/planner/plans/{queued}"


def test_a_run_that_failed_says_why_and_offers_nothing_to_approve(
    planner: TestClient, db: Database
) -> None:
    with db.uow() as uow:
        queued = create_run(
            uow,
            parameters=PlanParameters(
                horizon_weeks=8, time_limit_seconds=10.0, budget_per_week=Decimal(10), today=TODAY
            ),
            actor="pat",
        )
        uow.commit()
    assert run_plan(db.session_factory, run_id=queued).status == "failed"
    html = planner.get(f"/planner/plans/{queued}").text
    assert 'data-run="failed"' in html
    error = re.search(r'data-testid="run-error">.*?<p>([^<]*)</p>', html, re.DOTALL)
    assert error
    assert "budget" in error.group(1)
    assert 'data-testid="decide-form"' not in html
    refused = planner.post(f"/planner/plans/{queued}/order")
    assert refused.status_code == 409
    assert "failed" in field_error(refused.text, "page-error")


def test_a_quantity_below_the_moq_is_refused_on_its_line_and_nothing_is_written(
    planner: TestClient, db: Database, run_id: int
) -> None:
    mug = mug_line(db, run_id)
    before = picture(db)
    for typed, expected in (("12", "MOQ"), ("30", "packs of 12"), ("many", "whole number")):
        answer = planner.post(
            f"/planner/plans/{run_id}/proposals/{mug.id}/quantity", data={"quantity": typed}
        )
        assert answer.status_code == 422
        assert expected in field_error(answer.text, f"qty-{mug.id}-quantity-error")
        assert re.search(
            rf'id="qty-{mug.id}-quantity" name="quantity" value="{typed}"', answer.text
        )
        assert answer.text.count("field-error") == 1  # on that line only
    assert picture(db) == before
    changed = planner.post(
        f"/planner/plans/{run_id}/proposals/{mug.id}/quantity",
        data={"quantity": "600"},
        follow_redirects=False,
    )
    assert location_of(changed) == f"/planner/plans/{run_id}?done=quantity#p-{mug.id}"
    assert mug_line(db, run_id).quantity == 600
    html = planner.get(f"/planner/plans/{run_id}").text
    assert f"proposed {mug.quantity}" in html


def test_selected_lines_are_approved_and_ordered_into_a_purchase_order_that_gets_a_receipt(
    planner: TestClient, db: Database, run_id: int
) -> None:
    mug = mug_line(db, run_id)
    approved = planner.post(
        f"/planner/plans/{run_id}/proposals/decide",
        data={"action": "approve", "proposal_ids": [str(mug.id)]},
        follow_redirects=False,
    )
    assert location_of(approved) == f"/planner/plans/{run_id}?done=approved#proposals"
    assert mug_line(db, run_id).status == "approved"
    ordered = planner.post(f"/planner/plans/{run_id}/order", follow_redirects=False)
    target = location_of(ordered)
    [code] = re.findall(r"code=([A-Z0-9-]+)", target)
    assert target.startswith(f"/planner/purchase-orders?run={run_id}&code=")
    listed = planner.get(target).text
    assert "Purchase orders created from the approved lines" in listed
    assert f'data-order="{code}"' in listed
    assert listed.count("data-order=") == 1  # only the new one
    assert mug_line(db, run_id).purchase_order == code

    detail = planner.get(f"/planner/purchase-orders/{code}").text
    assert 'data-po="draft"' in detail
    assert re.search(rf'<tr data-sku="MUG">.*?{mug.quantity}', detail, re.DOTALL)
    assert 'data-testid="po-approve"' in detail
    assert 'data-testid="po-close"' not in detail
    assert incoming(db, "MUG") == 0
    done = planner.post(f"/planner/purchase-orders/{code}/approve", follow_redirects=False)
    assert location_of(done) == f"/planner/purchase-orders/{code}?done=po-approved"
    approved_page = planner.get(location_of(done)).text
    assert 'data-po="approved"' in approved_page
    receipt = re.search(r'data-receipt-code="(RC-[A-Z0-9-]+)"', approved_page)
    assert receipt, "the approved order shows its receipt"
    assert 'data-receipt="open"' in approved_page
    assert incoming(db, "MUG") == mug.quantity
    assert 'data-testid="po-send"' in approved_page
    assert 'data-testid="po-approve"' not in approved_page


def test_deciding_on_nothing_or_ordering_nothing_approved_is_refused_with_a_message(
    planner: TestClient, db: Database, run_id: int
) -> None:
    before = picture(db)
    nothing = planner.post(f"/planner/plans/{run_id}/proposals/decide", data={"action": "approve"})
    assert nothing.status_code == 422
    assert "select the lines" in field_error(nothing.text, "decide-error")
    none_approved = planner.post(f"/planner/plans/{run_id}/order")
    assert none_approved.status_code == 409
    assert "no approved proposal" in field_error(none_approved.text, "order-error")
    missing = planner.get("/planner/plans/999999")
    assert missing.status_code == 404
    assert planner.get("/planner/plans/not-a-run").status_code == 404
    assert planner.post("/planner/plans/999999/order").status_code == 404
    assert picture(db) == before


def test_rejected_lines_show_as_rejected_and_can_be_approved_again(
    planner: TestClient, db: Database, run_id: int
) -> None:
    ids = [str(p.id) for p in lines_of(db, run_id)]
    planner.post(
        f"/planner/plans/{run_id}/proposals/decide", data={"action": "reject", "proposal_ids": ids}
    )
    assert {p.status for p in lines_of(db, run_id)} == {"rejected"}
    html = planner.get(f"/planner/plans/{run_id}").text
    assert 'class="status-rejected"' in html
    assert 'data-proposal="rejected"' in html
    assert 'data-testid="qty-form-' not in html  # a rejected line's quantity is not edited
    planner.post(
        f"/planner/plans/{run_id}/proposals/decide",
        data={"action": "approve", "proposal_ids": ids[:1]},
    )
    assert lines_of(db, run_id)[0].status == "approved"


# The SKU chart ---------------------------------------------------------------------------------


def test_the_sku_chart_draws_both_projections_the_safety_stock_and_the_arrivals(
    planner: TestClient, db: Database, run_id: int
) -> None:
    answer = planner.get(f"/planner/plans/{run_id}/series/MUG/SHA")
    assert answer.status_code == 200
    found = re.search(r'<svg[^>]*id="series-chart".*?</svg>', answer.text, re.DOTALL)
    assert found, "no chart"
    chart = ET.fromstring(found.group(0))
    drawn = {p.get("data-series") for p in chart.iter(f"{SVG}path")}
    assert {
        "Projected stock with the plan",
        "Projected stock without the plan",
        "Safety stock",
        "Demand (forecast)",
    } <= drawn
    arrivals = [r for r in chart.iter(f"{SVG}rect") if r.get("class") == "series-bar"]
    assert arrivals, "the proposed lines' arrivals are drawn as bars"
    assert answer.text.count("<tr", answer.text.index('data-testid="weeks"')) >= 9  # 8 weeks
    picked = planner.get(
        f"/planner/plans/{run_id}/series", params={"key": "TEA@SHA"}, follow_redirects=False
    )
    assert location_of(picked) == f"/planner/plans/{run_id}/series/TEA/SHA"
    assert planner.get(f"/planner/plans/{run_id}/series/LAMP/SHA").status_code == 404


# Purchase orders -------------------------------------------------------------------------------


def test_a_suspended_suppliers_order_is_not_approved_and_the_page_says_why(
    planner: TestClient, db: Database
) -> None:
    code = draft(db, {"MUG": 120})
    with db.uow() as uow:
        set_status(uow, supplier=SUPPLIER, status="suspended", reason="failed audit", actor="qa")
        uow.commit()
    before = picture(db)
    refused = planner.post(f"/planner/purchase-orders/{code}/approve")
    assert refused.status_code == 409
    message = field_error(refused.text, "action-error")
    assert "suspended" in message
    assert "failed audit" in message
    assert 'data-po="draft"' in refused.text
    assert picture(db) == before


def test_orders_are_listed_by_status_and_taken_through_their_steps(
    planner: TestClient, db: Database
) -> None:
    first, second = draft(db, {"MUG": 120}), draft(db, {"TEA": 5})
    planner.post(f"/planner/purchase-orders/{second}/cancel")
    drafts = planner.get("/planner/purchase-orders", params={"status": "draft"}).text
    assert f'data-order="{first}"' in drafts
    assert f'data-order="{second}"' not in drafts
    cancelled = planner.get("/planner/purchase-orders", params={"status": "cancelled"}).text
    assert f'data-order="{second}"' in cancelled
    for step in ("approve", "send"):
        assert planner.post(f"/planner/purchase-orders/{first}/{step}").status_code == 200
    sent = planner.get(f"/planner/purchase-orders/{first}").text
    assert 'data-po="sent"' in sent
    stale = planner.post(f"/planner/purchase-orders/{first}/close")
    assert stale.status_code == 409
    assert "sent" in field_error(stale.text, "action-error")
    assert planner.get("/planner/purchase-orders/PO-NOPE").status_code == 404
    assert planner.post(f"/planner/purchase-orders/{first}/explode").status_code == 404
    unknown = planner.get("/planner/purchase-orders", params={"status": "lost"})
    assert "There is no status" in unknown.text


def test_a_new_order_by_hand_is_written_as_a_draft_and_a_bad_line_is_named(
    planner: TestClient, db: Database
) -> None:
    form = planner.get("/planner/purchase-orders/new").text
    assert f'<option value="{SUPPLIER}"' in form
    before = picture(db)
    bad = planner.post(
        "/planner/purchase-orders",
        data={
            "supplier": SUPPLIER,
            "warehouse": "SHA",
            "sku-0": "MUG",
            "quantity-0": "120",
            "sku-2": "NOPE",
            "quantity-2": "5",
        },
    )
    assert bad.status_code == 404
    assert "NOPE" in field_error(bad.text, "new-po-sku-2-error")
    assert re.search(r'id="new-po-quantity-0" name="quantity-0" type="text" value="120"', bad.text)
    empty = planner.post("/planner/purchase-orders", data={"supplier": SUPPLIER})
    assert empty.status_code == 422
    assert "at least one line" in field_error(empty.text, "new-po-sku-0-error")
    assert picture(db) == before
    made = planner.post(
        "/planner/purchase-orders",
        data={"supplier": SUPPLIER, "warehouse": "SHA", "sku-1": "MUG", "quantity-1": "120"},
        follow_redirects=False,
    )
    target = location_of(made)
    assert re.fullmatch(r"/planner/purchase-orders/PO-SHA-[0-9A-Z-]+\?done=po-created", target)
    detail = planner.get(target).text
    assert 'data-po="draft"' in detail
    assert "11.80" in detail  # priced from the 100+ break


# Suppliers -------------------------------------------------------------------------------------


def test_lead_times_and_a_suppliers_products_and_prices_are_shown(
    planner: TestClient, db: Database
) -> None:
    tab = planner.get("/planner/suppliers/lead-times")
    assert tab.status_code == 200
    assert field_error(tab.text, f"planned-{SUPPLIER}").strip() == "10.5 d"  # 14 and 7 days
    assert field_error(tab.text, f"learned-{SUPPLIER}").strip() == "—"
    assert 'data-testid="supplier-tabs"' in planner.get("/planner/suppliers").text
    detail = planner.get(f"/planner/suppliers/{SUPPLIER}").text
    panel = re.search(r'data-testid="supplier-products".*?</table>', detail, re.DOTALL)
    assert panel
    mug = re.search(r'<tr data-sku="MUG".*?</tr>', panel.group(0), re.DOTALL)
    assert mug
    cells = re.sub(r"\s+", " ", mug.group(0))
    assert "24" in cells
    assert "12" in cells
    assert "14 d" in cells
    assert "100+: 11.80" in cells
    assert "500+: 11.00" in cells
    assert "no delivery yet" in cells
