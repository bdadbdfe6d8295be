"""The stocked database of the outbound services' tests."""

from __future__ import annotations

import pytest

from tests.conftest import Database
from tests.integration.fulfillment.support import stock_up


@pytest.fixture
def stocked(pg: Database) -> Database:
    return stock_up(pg)
