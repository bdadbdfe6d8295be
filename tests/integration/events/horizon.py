"""Waiting out other databases' transactions that hold the feed's horizon back.

The feed's horizon (``pg_snapshot_xmin``) is cluster-wide: a transaction that holds a transaction
id in *another* database of the same PostgreSQL server (a parallel test run, say) delays the feed
until it ends. It never loses an event, but a test asserting "this committed event is in the feed
now" would be timing-dependent. Tests call ``settle`` after committing: it waits until no other
database's transaction is older than the newest outbox row. Our own open transactions still hold
the horizon, as the tests intend.
"""

from __future__ import annotations

import time

from tests.conftest import Database

# backend_xid is a 32-bit xid; outbox txids are 64-bit (epoch << 32 | xid). Compare the low bits,
# which is exact for any test cluster that has not wrapped around.
_HELD_BY_OTHERS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname IS DISTINCT FROM current_database()
  AND backend_xid IS NOT NULL
  AND backend_xid::text::bigint <= (SELECT coalesce(max(txid), 0) % 4294967296 FROM outbox_events)
"""


def settle(db: Database, *, within: float = 30.0) -> None:
    """Wait until transactions of other databases no longer hold the horizon below our rows."""
    if db.engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + within
    while int(str(db.scalar(_HELD_BY_OTHERS))) > 0:
        if time.monotonic() > deadline:
            return  # let the test's own assertion report what it did not see
        time.sleep(0.02)
