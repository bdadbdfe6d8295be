"""Idempotency records on PostgreSQL: a retried request gets the first answer, once per key."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.exc import IntegrityError

from tests.conftest import Database
from wms.db.idempotency import KeyReused, Stored, check_key, fingerprint, recall, remember
from wms.errors import ValidationFailed

BODY = {"sku": "MUG-1", "quantity": 3, "lines": [{"a": 1}]}


def test_a_remembered_answer_is_recalled_for_the_same_request(pg: Database) -> None:
    digest = fingerprint(BODY)
    with pg.uow() as uow:
        assert recall(uow.session, owner="handheld:1", key="scan-1", fingerprint=digest) is None
        remember(
            uow.session,
            owner="handheld:1",
            key="scan-1",
            fingerprint=digest,
            status_code=201,
            response={"outcome": {"status": "ok", "moved": [1, 2]}},
        )
        uow.commit()
    with pg.uow() as uow:
        stored = recall(uow.session, owner="handheld:1", key="scan-1", fingerprint=digest)
    assert stored == Stored(201, {"outcome": {"status": "ok", "moved": [1, 2]}})


def test_an_answer_not_committed_is_not_remembered(pg: Database) -> None:
    with pg.uow() as uow:
        remember(
            uow.session,
            owner="o",
            key="k",
            fingerprint=fingerprint(BODY),
            status_code=200,
            response={},
        )
    assert pg.count("idempotency_records") == 0


def test_the_fingerprint_ignores_key_order_but_not_values() -> None:
    reordered = {"lines": [{"a": 1}], "quantity": 3, "sku": "MUG-1"}
    assert fingerprint(reordered) == fingerprint(BODY)
    assert fingerprint({**BODY, "quantity": 4}) != fingerprint(BODY)


def test_a_different_request_under_the_same_key_is_refused(pg: Database) -> None:
    with pg.uow() as uow:
        remember(
            uow.session,
            owner="api:shop",
            key="order-7",
            fingerprint=fingerprint(BODY),
            status_code=201,
            response={"id": 1},
        )
        uow.commit()
    with pg.uow() as uow, pytest.raises(KeyReused) as caught:
        recall(
            uow.session,
            owner="api:shop",
            key="order-7",
            fingerprint=fingerprint({**BODY, "quantity": 4}),
        )
    assert caught.value.field == "Idempotency-Key"
    assert "order-7" in caught.value.message


def test_keys_belong_to_their_owner(pg: Database) -> None:
    digest = fingerprint(BODY)
    with pg.uow() as uow:
        for owner in ("handheld:1", "handheld:2"):
            remember(
                uow.session,
                owner=owner,
                key="scan-1",
                fingerprint=digest,
                status_code=200,
                response={"owner": owner},
            )
        uow.commit()
    with pg.uow() as uow:
        stored = recall(uow.session, owner="handheld:2", key="scan-1", fingerprint=digest)
        assert stored is not None
        assert stored.response == {"owner": "handheld:2"}
        assert recall(uow.session, owner="handheld:3", key="scan-1", fingerprint=digest) is None


def test_the_same_key_remembered_twice_is_refused_by_the_database(pg: Database) -> None:
    digest = fingerprint(BODY)
    with pg.uow() as uow:
        remember(uow.session, owner="o", key="k", fingerprint=digest, status_code=200, response={})
        with pytest.raises(IntegrityError):
            remember(
                uow.session, owner="o", key="k", fingerprint=digest, status_code=200, response={}
            )


def test_two_sessions_remembering_the_same_key_at_once_store_it_once(pg: Database) -> None:
    """The first holds the key uncommitted; the second waits for it, then fails on the key."""
    digest = fingerprint(BODY)
    second_started = threading.Event()
    outcome: list[BaseException | str] = []

    def second() -> None:
        try:
            with pg.uow() as uow:
                second_started.set()
                remember(
                    uow.session,
                    owner="o",
                    key="k",
                    fingerprint=digest,
                    status_code=200,
                    response={"by": "second"},
                )
                uow.commit()
            outcome.append("committed")
        except BaseException as exc:
            outcome.append(exc)

    with pg.uow() as first:
        remember(
            first.session,
            owner="o",
            key="k",
            fingerprint=digest,
            status_code=200,
            response={"by": "first"},
        )
        thread = threading.Thread(target=second)
        thread.start()
        assert second_started.wait(timeout=10)
        assert waiting_on_a_lock(pg), "the second insert should wait for the first transaction"
        first.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], IntegrityError), outcome
    assert pg.count("idempotency_records") == 1
    assert pg.scalar("SELECT response->>'by' FROM idempotency_records") == "first"


def waiting_on_a_lock(db: Database, timeout: float = 10.0) -> bool:
    """Whether another backend of this database is soon blocked on a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = db.scalar(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("key", ["", "   ", "x" * 65, "caf\u00e9", "a\tb"])
def test_a_key_is_1_to_64_printable_ascii_characters(key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_key(key)
    assert caught.value.field == "Idempotency-Key"


def test_a_key_is_trimmed() -> None:
    assert check_key("  abc-123 \n") == "abc-123"
    assert check_key("x" * 64) == "x" * 64
