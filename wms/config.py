"""Settings, read from the environment (prefix ``WMS_``) and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "wms.sqlite3"


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
