"""Operator settings, read from the environment and `.env` (PRODUCT.md, "Settings")."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_LOCALES = ("fr", "en")
SUPPORTED_DATABASES = ("sqlite+aiosqlite", "postgresql+asyncpg")


def _split_csv(value: object) -> object:
    """Accept `1,2,3` from the environment as well as a real list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    """Everything an operator can set; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///palabre.db"
    telegram_api_url: str = "https://api.telegram.org"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    agents_chat_id: int | None = None
    default_locale: str = "fr"
    timezone: str = "Europe/Paris"
    redis_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    open311_api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    broadcast_rate: float = 25.0
    media_dir: Path = Path("media")
    log_level: str = "INFO"
    # Retention (RGPD): days after which free-text answers of a closed consultation, and the
    # personal details of a closed report (reporter, followers, contact), are purged.
    free_text_retention_days: int = Field(default=365, ge=1, le=3650)
    report_retention_days: int = Field(default=365, ge=1, le=3650)
    # Days after which messages that went out are purged from the outbox (they quote reports).
    outbox_retention_days: int = Field(default=30, ge=1, le=3650)
    # How to reach the data protection officer (DPO), named in the privacy notice.
    dpo_contact: str = ""
    # Days between two satisfaction questions ("how useful is this channel for you?").
    satisfaction_interval_days: int = Field(default=91, ge=7, le=3650)
    # The commune the bot speaks for (« la mairie de {commune_name} »): welcome, broadcasts, posters,
    # reports, the privacy notice (as data controller), charts' source; empty: « votre mairie ».
    commune_name: str = Field(default="", max_length=100)
    # How to reach the mairie without Telegram (required photos, posters); empty: not shown.
    commune_phone: str = ""
    commune_address: str = ""
    # Base Adresse Nationale (or a compatible service) to turn addresses into places; empty: off.
    geocoder_url: str = "https://api-adresse.data.gouv.fr"
    # The officials' web back office (web/backoffice), off unless asked for.
    web_enabled: bool = False
    web_base_url: str | None = None
    web_totp_for: Literal["admin", "staff"] = "admin"
    map_tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    # Addresses or networks (CIDR) of the reverse proxies in front of the back office: only their
    # X-Forwarded-For and X-Forwarded-Proto are believed. Empty: nobody's (the TCP peer counts).
    web_trusted_proxies: Annotated[list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode] = Field(default_factory=list)
    # Days ended or expired back-office sessions and used or expired sign-in links are kept (to
    # look into an incident) before the daily purge deletes them; 0: at the next purge.
    web_session_retention_days: int = Field(default=7, ge=0, le=365)
    # Comma-separated keys (AES-256) for personal fields at rest: the first encrypts, all decrypt.
    data_key: SecretStr | None = None
    # Seconds an update that failed for a passing reason (database locked or unreachable, Bot API
    # timeout) is tried again before the resident is told it could not be handled.
    update_retry_seconds: float = Field(default=120.0, ge=0, le=3600)
    # Seconds a leader's lease lasts without renewal: the longest a frozen leader goes unreplaced.
    leader_lease_seconds: float = Field(default=15.0, ge=2, le=300)

    @field_validator("admin_ids", "open311_api_keys", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("web_trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        parts = _split_csv(value)
        if not isinstance(parts, list):
            return parts
        networks = []
        for part in parts:
            try:
                networks.append(ipaddress.ip_network(str(part), strict=False))
            except ValueError as exc:
                raise ValueError(f"{part!r} is not an address or a network (e.g. 127.0.0.1, 10.0.0.0/8, ::1)") from exc
        return networks

    @field_validator(
        "agents_chat_id", "redis_url", "webhook_url", "webhook_secret", "bot_token", "web_base_url", "data_key", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # `.env.example` lists every setting with an empty value; empty means "not set".
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            driver = make_url(value).drivername
        except ArgumentError as exc:
            raise ValueError("is not a database address (e.g. sqlite+aiosqlite:///palabre.db)") from exc
        if driver not in SUPPORTED_DATABASES:
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (the drivers Palabre supports)")
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone (expected a name such as Europe/Paris)") from exc
        return value

    @field_validator("broadcast_rate")
    @classmethod
    def _positive_rate(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be a positive number of messages per second")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url is not None:
            if not self.webhook_url.startswith("https://"):
                raise ValueError("WEBHOOK_URL must be an https:// address (Telegram calls only HTTPS webhooks)")
            secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
            # Telegram sends it back in a header: 1-256 characters of A-Z, a-z, 0-9, _ and -.
            if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
                raise ValueError("WEBHOOK_SECRET must be set with WEBHOOK_URL: 16 to 256 characters of letters, digits, _ or -")
        return self

    @model_validator(mode="after")
    def _web_needs_base_url(self) -> Settings:
        # The link sent by /web must point at the proxy's HTTPS address, never at plain HTTP.
        if self.web_enabled and (
            not self.web_base_url or not self.web_base_url.startswith(("https://", "http://127.0.0.1", "http://localhost"))
        ):
            raise ValueError("WEB_ENABLED=true needs WEB_BASE_URL, the back office's public https:// address")
        return self

    @field_validator("data_key")
    @classmethod
    def _valid_data_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            for key in (part.strip() for part in value.get_secret_value().split(",") if part.strip()):
                try:
                    raw = base64.urlsafe_b64decode(key.encode("ascii"))
                except (binascii.Error, ValueError, UnicodeEncodeError):
                    raw = b""
                if len(raw) != 32:
                    raise ValueError("not a valid key (expected 44 characters of url-safe base64, as `palabre keys init` writes)")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: Any) -> Settings:  # any field's value: pydantic validates it
    """Build settings now (never at import time, so tests can set the environment first)."""
    return Settings(**overrides)
