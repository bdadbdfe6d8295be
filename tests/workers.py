"""A real Celery worker (`wms worker`) in its own process group, on a Redis database of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.conftest import Database
from wms.config import Settings


@contextmanager
def celery_worker(pg: Database, broker: str) -> Iterator[Settings]:
    """Run `wms worker` on ``broker`` against ``pg``; yields the settings a client needs.

    The broker database is emptied before and after, so a test never sees another's tasks.
    """
    redis.Redis.from_url(broker).flushdb()
    env = {
        **os.environ,
        "WMS_DATABASE_URL": pg.url,
        "WMS_BROKER_URL": broker,
        "WMS_SECRET_KEY": "t",
    }
    wms = Path(sys.executable).parent / "wms"
    process = subprocess.Popen(
        [str(wms), "worker", "--concurrency", "1", "--loglevel", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield Settings(database_url=pg.url, broker_url=broker, secret_key="t", _env_file=None)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        redis.Redis.from_url(broker).flushdb()
