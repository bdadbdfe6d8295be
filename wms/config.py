"""Settings, read from the environment (prefix ``WMS_``) and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "wms.sqlite3"
# Seconds before each retry of a failed webhook: about 22 hours in all, then dead-lettered.
DEFAULT_WEBHOOK_RETRY_SCHEDULE = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 21600, 28800)


class ConfigurationError(Exception):
    """The settings cannot run the requested command."""


class Settings(BaseSettings):
    """Every knob the system reads; nothing here opens a connection."""

    model_config = SettingsConfigDict(env_prefix="WMS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy URL; a SQLite file under ./var/ by default, PostgreSQL in production.",
    )
    broker_url: str | None = Field(
        default=None, description="Celery broker; none means background work runs in-process."
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs sessions and secrets; required outside demo mode."
    )
    run_jobs_in_process: bool = Field(
        default=True,
        description="Without a broker, run scheduled jobs on a thread of the server process.",
    )
    demo: bool = Field(default=False, description="Demo mode: a built-in secret key is allowed.")
    log_level: str = "INFO"
    log_json: bool = Field(default=False, description="Log lines as JSON instead of key=value.")
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=20, ge=0, le=500)
    gs1_company_prefix: str = Field(
        default="0614141",
        pattern=r"^[0-9]{6,12}$",
        description="The GS1 Company Prefix in package SSCCs; the default is GS1's example prefix.",
    )
    short_stock: Literal["reject", "backorder"] = Field(
        default="reject",
        description="An order line no warehouse can cover: reject the order (409 naming every "
        "short line) or accept it with the line backordered. An order's `backorder` overrides it.",
    )
    reservation_ttl_seconds: int = Field(
        default=900, ge=1, le=86_400, description="How long a reservation holds stock by default."
    )
    reservation_max_ttl_seconds: int = Field(
        default=86_400, ge=1, le=86_400, description="The longest hold a reservation may ask for."
    )
    webhook_retry_schedule: Annotated[tuple[float, ...], NoDecode] = Field(
        default=tuple(float(s) for s in DEFAULT_WEBHOOK_RETRY_SCHEDULE),
        description="Seconds before each retry of a failed webhook delivery, comma-separated; "
        "after the last one the delivery is dead-lettered.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="How long one webhook POST may take."
    )
    webhook_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How long an attempt holds its delivery; a killed worker's delivery is tried "
        "again after this (at least the timeout plus 2 s).",
    )
    webhook_sweep_seconds: float = Field(
        default=2.0,
        ge=0.1,
        le=300,
        description="How often the sweeper fans new outbox rows out and sends due deliveries.",
    )

    routing_distance: str = Field(
        default="haversine",
        min_length=1,
        max_length=300,
        description="Distances and travel times of delivery routes: `haversine` (great-circle "
        "km times a road factor, minutes at an average speed; `haversine:road_factor=1.4,"
        "speed_kmh=35` sets both) or a routing engine, `osrm:http://host:5000`.",
    )
    routing_backend: Literal["auto", "ortools", "pyvrp"] = Field(
        default="ortools",
        description="The solver of delivery routes: OR-Tools routing, or PyVRP (`auto`).",
    )
    delivery_service_minutes: float = Field(
        default=5.0, ge=0, le=240, description="Minutes a delivery stop takes, plus per package."
    )
    delivery_minutes_per_package: float = Field(
        default=1.0, ge=0, le=60, description="Minutes each package adds to a delivery stop."
    )
    delivery_drop_penalty: float = Field(
        default=100_000.0,
        gt=0,
        le=1e9,
        description="What leaving a delivery off the routes costs the plan (currency units): far "
        "more than any route, so a stop is dropped only when no vehicle can serve it.",
    )
    delivery_time_limit_seconds: float = Field(
        default=10.0, gt=0, le=600, description="Default search time of a route plan."
    )

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _parse_schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [p for p in value.strip("[] ").replace(" ", ",").split(",") if p]
        if isinstance(value, list | tuple):
            if not value:
                raise ValueError("give at least one retry delay")
            delays = [float(part) for part in value]
            if any(not 0 < delay <= 7 * 86400 for delay in delays):
                raise ValueError("each retry delay is more than 0 and at most 7 days (in seconds)")
            return tuple(delays)
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        # psycopg 3 is the only PostgreSQL driver we ship.
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def require_secret_key(self) -> str:
        """The secret key, or a fixed development key in demo mode; refuses otherwise."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        if self.demo:
            return "demo-mode-secret-key-not-for-production"
        raise ConfigurationError(
            "WMS_SECRET_KEY is not set; set it (for example `openssl rand -hex 32`) "
            "or run `wms demo` for a demo server"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process, on first use."""
    return Settings()
