"""The handheld flows driven directly on PostgreSQL: what a scan does, without a browser."""

from __future__ import annotations

import uuid
from typing import Any

from tests import factories
from tests.conftest import Database
from wms.auth.services import create_user
from wms.db.uow import UnitOfWork
from wms.inventory import stock
from wms.inventory.catalog import get_warehouse
from wms.inventory.integrity import check_ledger
from wms.web.handheld import flows
from wms.web.handheld.screens import Outcome


def _ctx(uow: UnitOfWork, state: dict[str, Any]) -> flows.Ctx:
    user = create_user(
        uow,
        username=f"op{uuid.uuid4().hex[:6]}",
        display_name="Op",
        role="operator",
        password="pw-1234",
    )
    return flows.Ctx(uow, user, get_warehouse(uow.session, "SHA"), state)


def _scan(ctx: flows.Ctx, value: str) -> Outcome:
    return flows.apply(ctx, flows.Entry(id=uuid.uuid4().hex, kind="scan", value=value))


def _press(ctx: flows.Ctx, action: str, arg: str = "") -> Outcome:
    return flows.apply(ctx, flows.Entry(id=uuid.uuid4().hex, kind="action", action=action, arg=arg))


def test_a_bin_without_a_planned_count_is_counted_on_demand(pg: Database) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.product(uow, "MUG")
        stock.receive(uow, sku="MUG", quantity=5, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    with pg.uow() as uow:
        ctx = _ctx(uow, {"flow": flows.MENU})
        assert _press(ctx, "start", "count").status == "info"
        opened = _scan(ctx, "SHA-B01")
        assert opened.status == "ok", opened.message
        assert ctx.state["step"] == "count"
        assert _scan(ctx, "MUG").status == "info"
        assert _scan(ctx, "5").status == "ok"
        done = _press(ctx, "done")
        assert done.status == "ok", done.message
        uow.commit()
    assert pg.scalar("SELECT origin FROM count_tasks") == "on_demand"
    assert pg.scalar("SELECT status FROM count_tasks") == "posted"
    assert pg.count("moves") == 1  # the receipt only: the count matched
    with pg.uow() as uow:
        assert check_ledger(uow.session).ok


def test_a_refused_scan_leaves_the_step_and_the_ledger_alone(pg: Database) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.product(uow, "MUG")
        stock.receive(uow, sku="MUG", quantity=5, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    with pg.uow() as uow:
        ctx = _ctx(uow, {"flow": flows.MENU})
        _press(ctx, "start", "move")
        _scan(ctx, "SHA-B01")
        _scan(ctx, "MUG")
        before = dict(ctx.state)
        refused = _scan(ctx, "6")  # one more than the bin holds
        assert refused.status == "error"
        assert refused.scanned == "6"
        assert "only 5" in refused.message
        assert ctx.state == before
        uow.commit()
    assert pg.count("moves") == 1


def test_a_scan_on_the_menu_opens_the_task_it_belongs_to(pg: Database) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.product(uow, "MUG")
        uow.commit()
    with pg.uow() as uow:
        ctx = _ctx(uow, {"flow": flows.MENU})
        outcome = _scan(ctx, "SHA-B02")
        assert outcome.status == "ok"
        assert ctx.state["flow"] == "inquiry"
        assert flows.screen_for(ctx).facts[0] == ("Bin", "SHA-B02")
