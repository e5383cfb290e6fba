"""Settings: every one documented, read from the environment, refused clearly when wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_lists_and_empty_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "12, 34")
    monkeypatch.setenv("OPEN311_API_KEYS", "k1,k2")
    monkeypatch.setenv("AGENTS_CHAT_ID", "")
    monkeypatch.setenv("BOT_TOKEN", "")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.admin_ids == [12, 34]
    assert settings.open311_api_keys == ["k1", "k2"]
    assert settings.agents_chat_id is None and settings.bot_token is None
    assert settings.database_url == "sqlite+aiosqlite:///palabre.db" and settings.default_locale == "fr"


@pytest.mark.parametrize(
    ("name", "value"),
    [("DEFAULT_LOCALE", "de"), ("TIMEZONE", "Mars/Olympus"), ("BROADCAST_RATE", "0"), ("ADMIN_IDS", "abc")],
)
def test_wrong_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_the_token_is_never_shown() -> None:
    settings = Settings(bot_token="123:secret-token", _env_file=None)  # type: ignore[call-arg]
    assert "secret-token" not in repr(settings) and "secret-token" not in str(settings)


def test_the_web_back_office_needs_its_https_address_and_a_known_totp_rule() -> None:
    assert Settings(_env_file=None).web_enabled is False  # type: ignore[call-arg]
    for address in (None, "", "http://palabre.example.fr"):
        with pytest.raises(ValidationError, match="WEB_BASE_URL"):
            Settings(web_enabled=True, web_base_url=address, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="web_totp_for"):
        Settings(web_totp_for="everyone", _env_file=None)  # type: ignore[call-arg]
    assert Settings(web_enabled=True, web_base_url="https://palabre.example.fr", _env_file=None).web_totp_for == "admin"  # type: ignore[call-arg]
