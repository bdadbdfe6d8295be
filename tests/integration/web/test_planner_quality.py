"""The planner's quality pages over the ASGI app on PostgreSQL: sign-in, supplier scorecards with
OC curves, certificates, audits and status, the OC tool, inspections, NCRs and delisting."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests import factories
from tests.conftest import Database
from wms.api.app import create_app
from wms.auth.services import create_user
from wms.config import Settings
from wms.inventory import receipts
from wms.quality import inbound, inspections, specs

SVG = "{http://www.w3.org/2000/svg}"
PASSWORD = "plan-pass-1"
TODAY = date.today()  # noqa: DTZ011 - calendar days, as the forms take them


def png() -> bytes:
    """A valid 1x1 PNG, as a finding's photo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class World:
    inspection: str
    finding_id: int


@pytest.fixture
def world(pg: Database) -> World:
    """SUP-1 delivered 500 MUG under inspection (a minor finding with a photo, accepted); LAMP
    is on sale; SUP-2 delivered nothing. Pat plans, Oscar operates."""
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=2)
        factories.product(uow, "MUG")
        factories.product(uow, "LAMP")
        factories.supplier(uow, "SUP-1")
        factories.supplier(uow, "SUP-2")
        for username, role in (("pat", "planner"), ("oscar", "operator"), ("ines", "inspector")):
            create_user(
                uow, username=username, display_name=username.title(), role=role, password=PASSWORD
            )
        specs.set_spec(uow, actor="qa", sku="MUG", supplier="SUP-1")
        receipt = receipts.create_receipt(
            uow,
            warehouse="SHA",
            supplier="SUP-1",
            expected_date=TODAY,
            lines=[receipts.ReceiptLineRequest("MUG", 500)],
            actor="pat",
        )
        uow.commit()
    with pg.uow() as uow:
        booking = inbound.receive_line(
            uow, receipt=receipt.code, sku="MUG", quantity=500, actor="oscar"
        )
        uow.commit()
    assert booking.inspection is not None
    with pg.uow() as uow:
        inspections.record_findings(
            uow,
            inspection=booking.inspection,
            findings=[
                inspections.FindingInput(
                    "minor",
                    unit=1,
                    note="scratch on the glaze",
                    photo=png(),
                    photo_type="image/png",
                )
            ],
            actor="ines",
        )
        inspections.decide(uow, inspection=booking.inspection, actor="ines")
        uow.commit()
    finding_id = pg.scalar("SELECT id FROM inspection_findings")
    assert isinstance(finding_id, int)
    return World(booking.inspection, finding_id)


@pytest.fixture
def client(pg: Database, world: World) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=pg.url, secret_key="test-secret"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def sign_in(client: TestClient, username: str = "pat") -> Response:
    response: Response = client.post(
        "/planner/login",
        data={"username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    return response


@pytest.fixture
def planner(client: TestClient) -> TestClient:
    assert sign_in(client).status_code == 303
    return client


def svg_of(html: str, chart_id: str) -> ET.Element:
    found = re.search(rf'<svg[^>]*id="{chart_id}".*?</svg>', html, re.DOTALL)
    assert found, f"no chart {chart_id} on the page"
    return ET.fromstring(found.group(0))  # our own markup


def field_error(html: str, form: str, field: str) -> str:
    found = re.search(rf'data-testid="{form}-{field}-error">([^<]*)<', html)
    assert found, f"no error next to {form}.{field}"
    return found.group(1)


def input_value(html: str, form: str, field: str) -> str:
    found = re.search(rf'id="{form}-{field}"[^>]*value="([^"]*)"', html)
    assert found, f"no input {form}.{field}"
    return found.group(1)


# Signing in --------------------------------------------------------------------------------------


PAGES = (
    "/planner/suppliers",
    "/planner/suppliers/SUP-1",
    "/planner/quality/oc?lot_size=500&aql=1.0",
    "/planner/inspections",
    "/planner/ncrs",
    "/planner/quality/blocks",
)


def test_pages_send_a_visitor_without_a_session_to_sign_in(
    client: TestClient, pg: Database
) -> None:
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/planner/login?next=%2Fplanner%2F"), path
    refused = client.post(
        "/planner/suppliers/SUP-1/status",
        data={"status": "suspended", "reason": "late"},
        headers={"referer": "http://testserver/planner/suppliers/SUP-1"},
        follow_redirects=False,
    )
    assert refused.status_code == 303  # back to the form's page once signed in
    assert refused.headers["location"] == "/planner/login?next=%2Fplanner%2Fsuppliers%2FSUP-1"
    assert pg.scalar("SELECT quality_status FROM suppliers WHERE code = 'SUP-1'") == "approved"


def test_signing_in_returns_to_the_page_asked_for_and_signing_out_ends_the_session(
    client: TestClient,
) -> None:
    asked = client.get("/planner/ncrs?status=open", follow_redirects=False)
    login = client.get(asked.headers["location"])
    assert login.status_code == 200
    assert 'name="next" value="/planner/ncrs?status=open"' in login.text
    signed_in = client.post(
        "/planner/login",
        data={"username": "pat", "password": PASSWORD, "next": "/planner/ncrs?status=open"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/planner/ncrs?status=open"
    assert client.get("/planner/ncrs").status_code == 200
    out = client.post("/planner/logout", follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/planner/ncrs", follow_redirects=False).status_code == 303


def test_an_operator_cannot_sign_in_to_the_planner(client: TestClient) -> None:
    refused = sign_in(client, "oscar")
    assert refused.status_code == 403
    assert "operator" in refused.text
    assert "/handheld" in refused.text
    assert "wms_planner" not in refused.headers.get("set-cookie", "")
    assert client.get("/planner/suppliers", follow_redirects=False).status_code == 303


def test_a_wrong_password_is_refused_without_saying_which_part(client: TestClient) -> None:
    refused = client.post("/planner/login", data={"username": "pat", "password": "nope-nope"})
    assert refused.status_code == 401
    assert "unknown user or wrong password" in refused.text
    assert 'value="pat"' in refused.text  # what was typed stays


def test_an_offsite_next_is_not_followed(client: TestClient) -> None:
    signed_in = client.post(
        "/planner/login",
        data={"username": "pat", "password": PASSWORD, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == "/planner/suppliers"


def test_the_root_still_leads_to_the_api_docs(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.headers["location"] == "/docs"
    assert client.get("/planner", follow_redirects=False).headers["location"] == (
        "/planner/suppliers"
    )


# Suppliers ---------------------------------------------------------------------------------------


def test_the_suppliers_page_lists_every_supplier_with_its_status_and_figures(
    planner: TestClient,
) -> None:
    planner.post(
        "/planner/suppliers/SUP-2/status",
        data={"status": "suspended", "reason": "failed the dye test"},
    )
    page = planner.get("/planner/suppliers")
    assert page.status_code == 200
    rows = dict(re.findall(r'<tr data-supplier="([^"]+)">(.*?)</tr>', page.text, re.DOTALL))
    assert set(rows) == {"SUP-1", "SUP-2"}
    assert 'data-status="approved"' in rows["SUP-1"]
    assert 'data-status="suspended"' in rows["SUP-2"]
    assert "failed the dye test" in rows["SUP-2"]
    assert "100.0 %" in rows["SUP-1"]  # one lot, accepted
    assert "1 / 1 lots" in rows["SUP-1"]


def test_expired_and_expiring_certificates_are_flagged(planner: TestClient) -> None:
    for number, days in (("OLD-1", -3), ("SOON-1", 10), ("LATER-1", 200)):
        planner.post(
            "/planner/suppliers/SUP-1/certificates",
            data={
                "type": "ISO 9001",
                "number": number,
                "valid_until": str(TODAY + timedelta(days)),
            },
        )
    page = planner.get("/planner/suppliers").text
    banner = re.search(r'data-testid="expiring-banner">(.*?)</section>', page, re.DOTALL)
    assert banner
    assert "OLD-1" in banner.group(1)
    assert "SOON-1" in banner.group(1)
    assert "LATER-1" not in banner.group(1)
    assert "1 expired" in page
    assert "1 expiring" in page


def test_the_supplier_page_draws_the_oc_curve_of_each_plan_in_use(planner: TestClient) -> None:
    page = planner.get("/planner/suppliers/SUP-1")
    assert page.status_code == 200
    chart = svg_of(page.text, "oc-plans-in-use")
    curves = chart.findall(f".//{SVG}path[@class='series-line']")
    assert [c.get("data-series", "").split(" · ")[0] for c in curves] == ["MUG major", "MUG minor"]
    assert all(len(c.get("d", "").split("L")) > 20 for c in curves)
    legend = [t.text for t in chart.iterfind(f".//{SVG}g[@class='legend-item']/{SVG}text")]
    assert legend[0] == "MUG major · AQL 1.0 · normal · n=50 Ac=1 Re=2"
    marked = {t.text for t in chart.iterfind(f".//{SVG}g[@class='marker']/{SVG}text")}
    assert marked == {"AQL 1.0", "AQL 4.0"}
    assert chart.find(f".//{SVG}g[@class='x-ticks']") is not None
    assert "QC-SHA-000001" in page.text  # the supplier's inspections, linked


def test_a_supplier_without_inspections_has_no_curves_and_an_unknown_one_is_not_found(
    planner: TestClient,
) -> None:
    page = planner.get("/planner/suppliers/SUP-2")
    assert page.status_code == 200
    assert 'data-testid="no-plans"' in page.text
    missing = planner.get("/planner/suppliers/NOPE")
    assert missing.status_code == 404
    assert "no supplier 'NOPE'" in missing.text.replace("&#39;", "'")


def test_adding_a_certificate_and_an_audit_shows_them_on_the_supplier_page(
    planner: TestClient, pg: Database
) -> None:
    added = planner.post(
        "/planner/suppliers/SUP-1/certificates",
        data={
            "type": "ISO 9001",
            "number": "CN-9001-77",
            "issued_by": "SGS",
            "valid_until": str(TODAY + timedelta(days=365)),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/planner/suppliers/SUP-1?done=certificate#certificate"
    audited = planner.post(
        "/planner/suppliers/SUP-1/audits",
        data={
            "audit_date": str(TODAY - timedelta(days=2)),
            "auditor": "Ines",
            "score": "87",
            "result": "pass",
            "findings": "glaze line clean",
        },
        follow_redirects=False,
    )
    assert audited.status_code == 303
    page = planner.get(audited.headers["location"]).text
    assert "Audit recorded." in page
    assert "CN-9001-77" in page
    assert "glaze line clean" in page
    assert pg.scalar("SELECT created_by FROM supplier_certificates") == "pat"
    assert pg.scalar("SELECT created_by FROM supplier_audits") == "pat"
    assert re.search(r"Latest audit</span><span class=\"value\">87<", page)


def test_a_bad_certificate_is_shown_on_its_form_with_what_was_typed(
    planner: TestClient, pg: Database
) -> None:
    refused = planner.post(
        "/planner/suppliers/SUP-1/certificates",
        data={"type": "ISO 9001", "number": "CN-1", "valid_until": "next year"},
    )
    assert refused.status_code == 422
    assert "not a date" in field_error(refused.text, "certificate", "valid_until")
    assert input_value(refused.text, "certificate", "number") == "CN-1"
    assert input_value(refused.text, "certificate", "valid_until") == "next year"
    twice = {"type": "ISO 9001", "number": "CN-2", "valid_until": str(TODAY)}
    planner.post("/planner/suppliers/SUP-1/certificates", data=twice)
    again = planner.post("/planner/suppliers/SUP-1/certificates", data=twice)
    assert again.status_code == 409
    assert "already has" in field_error(again.text, "certificate", "number")
    assert pg.count("supplier_certificates") == 1


def test_an_audit_score_out_of_range_is_refused(planner: TestClient, pg: Database) -> None:
    refused = planner.post(
        "/planner/suppliers/SUP-1/audits",
        data={"audit_date": str(TODAY), "auditor": "Ines", "score": "120", "result": "pass"},
    )
    assert refused.status_code == 422
    assert "0 to 100" in field_error(refused.text, "audit", "score")
    assert input_value(refused.text, "audit", "score") == "120"
    assert pg.count("supplier_audits") == 0


def test_changing_a_status_needs_a_reason_and_writes_nothing_without_one(
    planner: TestClient, pg: Database
) -> None:
    refused = planner.post(
        "/planner/suppliers/SUP-1/status", data={"status": "suspended", "reason": "  "}
    )
    assert refused.status_code == 422
    assert "say why" in field_error(refused.text, "status", "reason")
    assert 'value="suspended" selected' in refused.text  # the choice stays
    assert pg.scalar("SELECT quality_status FROM suppliers WHERE code = 'SUP-1'") == "approved"
    assert pg.scalar("SELECT quality_status_changed_by FROM suppliers WHERE code = 'SUP-1'") is None
    changed = planner.post(
        "/planner/suppliers/SUP-1/status",
        data={"status": "suspended", "reason": "3 lots rejected in May"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    page = planner.get(changed.headers["location"]).text
    assert "Supplier status changed." in page
    assert 'data-status="suspended"' in page
    assert pg.scalar("SELECT quality_status_changed_by FROM suppliers WHERE code = 'SUP-1'") == (
        "pat"
    )


# The OC tool -------------------------------------------------------------------------------------


def test_the_oc_tool_shows_the_plan_and_its_curve(planner: TestClient) -> None:
    page = planner.get(
        "/planner/quality/oc",
        params={"lot_size": "500", "aql": "1.0", "level": "II", "severity": "normal"},
    )
    assert page.status_code == 200
    facts = dict(re.findall(r'data-testid="(code-letter|sample-size|ac|re)">([^<]*)<', page.text))
    assert facts == {"code-letter": "H", "sample-size": "50", "ac": "1", "re": "2"}
    assert "%" in re.findall(r'data-testid="p95">([^<]*)<', page.text)[0]
    chart = svg_of(page.text, "oc-tool")
    assert len(chart.findall(f".//{SVG}path[@class='series-line']")) == 1
    marked = [t.text or "" for t in chart.iterfind(f".//{SVG}g[@class='marker']/{SVG}text")]
    assert "AQL 1.0" in marked
    assert any(m.startswith("p95") for m in marked)
    assert any(m.startswith("p10") for m in marked)
    empty = planner.get("/planner/quality/oc")
    assert empty.status_code == 200
    assert 'id="oc-tool"' not in empty.text


def test_the_oc_tool_names_each_bad_field_and_never_fails(planner: TestClient) -> None:
    bad_aql = planner.get("/planner/quality/oc", params={"lot_size": "500", "aql": "0.3"})
    assert bad_aql.status_code == 422
    assert "AQL 0.3 is not in the ISO 2859-1 tables" in field_error(bad_aql.text, "oc", "aql")
    assert input_value(bad_aql.text, "oc", "aql") == "0.3"
    both = planner.get("/planner/quality/oc", params={"lot_size": "0", "aql": "0.3", "level": "IV"})
    assert both.status_code == 422
    assert "lot size 0" in field_error(both.text, "oc", "lot_size")
    assert field_error(both.text, "oc", "aql")
    assert field_error(both.text, "oc", "level")
    words = planner.get("/planner/quality/oc", params={"lot_size": "many", "aql": "1.0"})
    assert words.status_code == 422
    assert field_error(words.text, "oc", "lot_size")


# Inspections -------------------------------------------------------------------------------------


def test_inspections_are_listed_with_a_status_filter_and_shown_with_their_findings(
    planner: TestClient, world: World
) -> None:
    listed = planner.get("/planner/inspections")
    assert f'data-inspection="{world.inspection}"' in listed.text
    accepted = planner.get("/planner/inspections", params={"status": "accepted"})
    assert f'data-inspection="{world.inspection}"' in accepted.text
    waiting = planner.get("/planner/inspections", params={"status": "waiting"})
    assert f'data-inspection="{world.inspection}"' not in waiting.text
    detail = planner.get(f"/planner/inspections/{world.inspection}")
    assert detail.status_code == 200
    assert 'data-verdict="accepted"' in detail.text
    assert "scratch on the glaze" in detail.text
    photo_url = f"/planner/inspections/{world.inspection}/findings/{world.finding_id}/photo"
    assert f'src="{photo_url}"' in detail.text
    photo = planner.get(photo_url)
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/png"
    assert photo.content == png()
    assert planner.get("/planner/inspections/QC-NOPE").status_code == 404
    assert planner.get(
        f"/planner/inspections/{world.inspection}/findings/999/photo"
    ).status_code == (404)


# NCRs and delisting -----------------------------------------------------------------------------


def test_delisting_a_product_then_closing_its_action_puts_it_back_on_sale(
    planner: TestClient, pg: Database
) -> None:
    due = str(TODAY + timedelta(days=14))
    delisted = planner.post(
        "/planner/quality/blocks",
        data={
            "sku": "LAMP",
            "reason": "cracked shades reported by customers",
            "action": "supplier replaces the shade mould",
            "owner": "pat",
            "due_date": due,
        },
        follow_redirects=False,
    )
    assert delisted.status_code == 303
    assert pg.scalar("SELECT sales_blocked FROM products WHERE sku = 'LAMP'") is True
    blocks = planner.get(delisted.headers["location"]).text
    row = re.search(r'<tr data-sku="LAMP">(.*?)</tr>', blocks, re.DOTALL)
    assert row
    assert "cracked shades" in row.group(1)
    ncr = re.search(r'href="/planner/ncrs/(NCR-\d+)"', row.group(1))
    assert ncr
    code = ncr.group(1)

    assert f'<tr data-ncr="{code}"' in planner.get("/planner/ncrs", params={"status": "open"}).text
    report = planner.get(f"/planner/ncrs/{code}").text
    action = re.search(r'<tr data-action="(\d+)"', report)
    assert action
    action_id = action.group(1)
    assert "supplier replaces the shade mould" in report

    unresolved = planner.post(
        f"/planner/ncrs/{code}/actions/{action_id}/close", data={"resolution": " "}
    )
    assert unresolved.status_code == 422
    assert "resolution is required" in field_error(
        unresolved.text, f"close-{action_id}", "resolution"
    )
    assert pg.scalar("SELECT sales_blocked FROM products WHERE sku = 'LAMP'") is True

    closed = planner.post(
        f"/planner/ncrs/{code}/actions/{action_id}/close",
        data={"resolution": "new mould qualified, first lot inspected"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    report = planner.get(closed.headers["location"]).text
    assert 'data-ncr="closed"' in report
    assert "new mould qualified" in report
    assert pg.scalar("SELECT sales_blocked FROM products WHERE sku = 'LAMP'") is False
    assert pg.scalar("SELECT closed_by FROM corrective_actions") == "pat"
    assert 'data-sku="LAMP"' not in planner.get("/planner/quality/blocks").text


def test_delisting_is_refused_on_its_form_for_an_unknown_product_or_a_second_time(
    planner: TestClient, pg: Database
) -> None:
    form = {
        "sku": "NOPE",
        "reason": "broken",
        "action": "fix it",
        "owner": "pat",
        "due_date": str(TODAY + timedelta(days=7)),
    }
    unknown = planner.post("/planner/quality/blocks", data=form)
    assert unknown.status_code == 404
    assert field_error(unknown.text, "delist", "sku")
    assert input_value(unknown.text, "delist", "owner") == "pat"
    past = planner.post(
        "/planner/quality/blocks", data={**form, "sku": "LAMP", "due_date": "2001-01-01"}
    )
    assert past.status_code == 422
    assert "in the past" in field_error(past.text, "delist", "due_date")
    assert pg.count("nonconformance_reports") == 0  # nothing of the refused delistings stays
    planner.post("/planner/quality/blocks", data={**form, "sku": "LAMP"})
    again = planner.post("/planner/quality/blocks", data={**form, "sku": "LAMP"})
    assert again.status_code == 409
    assert "already off sale" in field_error(again.text, "delist", "sku")


def test_a_corrective_action_needs_a_due_date_not_in_the_past(
    planner: TestClient, pg: Database
) -> None:
    planner.post(
        "/planner/quality/blocks",
        data={
            "sku": "LAMP",
            "reason": "broken",
            "action": "fix it",
            "owner": "pat",
            "due_date": str(TODAY + timedelta(days=7)),
        },
    )
    code = pg.scalar("SELECT code FROM nonconformance_reports")
    refused = planner.post(
        f"/planner/ncrs/{code}/actions",
        data={"description": "retrain the packers", "owner": "lee", "due_date": "2001-01-01"},
    )
    assert refused.status_code == 422
    assert "in the past" in field_error(refused.text, "action", "due_date")
    assert pg.count("corrective_actions") == 1
    added = planner.post(
        f"/planner/ncrs/{code}/actions",
        data={
            "description": "retrain the packers",
            "owner": "lee",
            "due_date": str(TODAY + timedelta(days=3)),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert pg.count("corrective_actions") == 2
    assert "retrain the packers" in planner.get(added.headers["location"]).text
    assert planner.get("/planner/ncrs/NCR-999999").status_code == 404
    stray = planner.post("/planner/ncrs/NCR-999999/actions/1/close", data={"resolution": "done"})
    assert stray.status_code == 404
