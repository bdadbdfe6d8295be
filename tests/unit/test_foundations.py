"""Settings, cursors and errors: small pieces every surface relies on."""

from __future__ import annotations

import pytest

from wms.config import ConfigurationError, Settings
from wms.db.pagination import decode_cursor, encode_cursor
from wms.errors import ValidationFailed
from wms.inventory.errors import InsufficientStock, ShortLine


def test_postgres_urls_use_the_psycopg_driver() -> None:
    settings = Settings(database_url="postgresql://u@h/db", _env_file=None)
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_the_default_database_is_a_sqlite_file_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WMS_DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///var/wms.sqlite3"
    assert settings.broker_url is None


def test_a_secret_key_is_required_outside_demo_mode() -> None:
    with pytest.raises(ConfigurationError, match="WMS_SECRET_KEY"):
        Settings(demo=False, secret_key=None, _env_file=None).require_secret_key()
    assert Settings(demo=True, _env_file=None).require_secret_key()
    assert Settings(secret_key="s3cret", _env_file=None).require_secret_key() == "s3cret"


def test_cursors_round_trip() -> None:
    assert decode_cursor(encode_cursor(1234)) == 1234
    assert decode_cursor(None) == 0


@pytest.mark.parametrize("garbage", ["not-a-cursor", "eyJ4IjogMX0", "eyJhZnRlciI6IC0xfQ", "%%%"])
def test_a_forged_cursor_is_a_validation_error(garbage: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(garbage)
    assert caught.value.field == "cursor"


def test_insufficient_stock_lists_every_short_line() -> None:
    error = InsufficientStock(
        [
            ShortLine(sku="A", requested=5, available=2, warehouse="SHA"),
            ShortLine(sku="B", requested=1, available=0, warehouse="CAN", lot="L1"),
        ]
    )
    assert "A at SHA: requested 5, available 2" in error.message
    assert "B lot L1 at CAN" in error.message
    assert error.to_dict()["lines"] == [
        {"sku": "A", "requested": 5, "available": 2, "warehouse": "SHA"},
        {"sku": "B", "requested": 1, "available": 0, "warehouse": "CAN", "lot": "L1"},
    ]
