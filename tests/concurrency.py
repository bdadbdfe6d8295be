"""Racing parallel sessions on PostgreSQL: released together, each in its own unit of work."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from tests.conftest import Database
from wms.db.uow import UnitOfWork
from wms.errors import WmsError


def race(
    db: Database,
    workers: int,
    action: Callable[[UnitOfWork, int], object],
    *,
    refusals: tuple[type[BaseException], ...] = (WmsError,),
    within: float = 120,
) -> Counter[str]:
    """Run ``action`` in ``workers`` threads released together; count outcomes by name.

    A commit counts as "ok", an exception in ``refusals`` by its class name. Anything else (a
    deadlock, a constraint error) fails the test, and so does a worker that hangs.
    """
    barrier = threading.Barrier(workers)
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            with db.uow() as uow:
                action(uow, index)
                uow.commit()
            result = "ok"
        except refusals as exc:
            result = type(exc).__name__
        except BaseException as exc:  # a deadlock or constraint error fails the test
            with lock:
                errors.append(exc)
            result = "error"
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=within)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not errors, f"unexpected errors: {errors[:3]!r}"
    return outcomes
