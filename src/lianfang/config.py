"""Typed settings, read from the environment (``LIANFANG_*``) or ``lianfang.toml``."""

from __future__ import annotations

import enum
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Environment(enum.StrEnum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    """Every setting lianfang reads; see docs/settings.md."""

    model_config = SettingsConfigDict(
        env_prefix="LIANFANG_", toml_file="lianfang.toml", extra="forbid"
    )

    environment: Environment = Field(
        Environment.development,
        description="development or production; production requires HTTPS cookies.",
    )
    database_url: str = Field(
        "sqlite:///lianfang.db",
        description="SQLAlchemy URL: sqlite:///FILE or postgresql://USER@HOST/DB.",
    )
    pool_size: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="Database connections a server process opens at most (one for the periodic "
        "jobs, the rest for requests); default 5 on SQLite, 7 on PostgreSQL.",
    )
    pool_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="Seconds a request waits for a free database connection before it is "
        "answered 503 with Retry-After.",
    )
    host: str = Field("127.0.0.1", description="Address `lianfang serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `lianfang serve` listens on.")
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Server processes `lianfang serve` runs (more serve more requests a second "
        "where cores are free); they share the port, the database and the forecast queue's limit.",
    )
    language: str = Field("zh", description="Default interface language: zh or en.")
    session_hours: float = Field(
        12.0, gt=0, le=24 * 30, description="How long a web sign-in lasts, in hours."
    )
    token_days: int = Field(90, ge=1, le=3650, description="How long an API token lasts, in days.")
    cookie_secure: bool = Field(
        False, description="Send the session cookie over HTTPS only (forced on in production)."
    )
    admin_password: str | None = Field(
        None,
        description="Password `lianfang init` gives the administrator; random when unset.",
        repr=False,
    )
    stale_hours: float = Field(
        24.0,
        gt=0,
        le=24 * 30,
        description="Hours after which a facility's capacity report or stock figure is flagged "
        "stale wherever it is shown.",
    )
    public_lookups_per_minute: float = Field(
        30.0,
        gt=0,
        le=10_000,
        description="How many public medicine lookups one client address may make a minute.",
    )
    forecast_stale_days: float = Field(
        7.0,
        gt=0,
        le=365,
        description="An adopted planning forecast made longer ago than this many days is "
        "flagged stale wherever it is shown.",
    )
    export_background_rows: int = Field(
        5000,
        ge=0,
        le=10_000_000,
        description="Exports of more rows than this are made in the background, with a "
        "download link when ready; smaller ones are answered at once.",
    )
    export_keep_hours: float = Field(
        24.0, gt=0, le=24 * 30, description="How long a background export's file is kept."
    )
    today: date | None = Field(
        None,
        description="The day the world is in (YYYY-MM-DD) for a demo or an exercise; "
        "unset: a demo database's day, else the real date.",
    )

    forecast_jobs: int = Field(
        2,
        ge=0,
        le=64,
        description="Forecast runs and fits a server computes at the same time; the rest wait "
        "in a queue, in the order they were started. 0: this server computes none (they wait "
        "for a server that does).",
    )
    smtp_host: str | None = Field(
        None, description="SMTP server that e-mail notification channels send through."
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="The SMTP server's port.")
    smtp_from: str = Field(
        "lianfang@localhost", description="The sender address of notification e-mail."
    )
    smtp_username: str | None = Field(None, description="SMTP user name, when it asks for one.")
    smtp_password: str | None = Field(None, description="SMTP password.", repr=False)
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    notify_timeout_s: float = Field(
        10.0, gt=0, le=120, description="How long one delivery may take (SMTP or HTTP)."
    )
    notify_attempts: int = Field(
        8,
        ge=1,
        le=50,
        description="Attempts per notification delivery before it is given up (waits double "
        "from 1 minute, at most 1 hour apart).",
    )
    public_url: str | None = Field(
        None,
        description="The address users reach lianfang at (https://lianfang.example.gov.cn), so "
        "that notifications sent outside carry links that open; unset: links are left out.",
    )
    jobs: bool = Field(
        True,
        description="Run the periodic jobs (escalation of overdue tasks, reminders, ...) inside "
        "the server. Set to false on every web process but one, or on all of them when "
        "`lianfang worker` runs the jobs; the lease table keeps each job to one process anyway.",
    )
    dask_scheduler: str | None = Field(
        None,
        description="Address of a Dask distributed scheduler (tcp://HOST:8786) that ensemble "
        "batches run on; unset: a local process pool.",
    )

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("zh", "en"):
            raise ValueError("language must be zh or en")
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.environment is Environment.production:
            self.cookie_secure = True
            if self.admin_password is not None and len(self.admin_password) < 12:
                raise ValueError("LIANFANG_ADMIN_PASSWORD must have 12 characters or more")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the URL is SQLite, else None."""
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None


@lru_cache
def get_settings() -> Settings:
    """Read the settings once per process."""
    return Settings()
