"""Updates that fail: retried when the failure passes, told and recorded when it does not."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import Message, Update
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select

from config.settings import Settings
from storage.db import SessionMaker
from storage.models import FailedUpdate, ProcessedUpdate
from tests.handlers.conftest import TOKEN, RecordingSession
from tests.handlers.notifications_helpers import onboard

SORRY = (
    "😕 Désolés, nous n’avons pas pu traiter votre dernier message à cause d’un problème technique. "
    "Merci de réessayer dans quelques minutes."
)


@pytest.fixture
def settings() -> Settings:
    # A short retry budget: the failures below never pass.
    return Settings(bot_token=TOKEN, admin_ids=[1], update_retry_seconds=0.3, _env_file=None)  # type: ignore[call-arg]


def fail_on(dp: Dispatcher, text: str, error: Exception, tries: list[int]) -> None:
    """A handler that fails on `text` (before the feature routers, which never see it)."""

    @dp.message(F.text == text)
    async def failing(message: Message, **_: Any) -> None:
        tries.append(1)
        raise error


async def failures(sessionmaker: SessionMaker) -> list[tuple[str, str]]:
    async with sessionmaker() as session:
        return [(row.kind, row.error) for row in await session.scalars(select(FailedUpdate))]


async def test_a_failure_that_persists_is_retried_then_told_and_recorded_without_the_text(
    dispatcher: tuple[Dispatcher, Bot],
    resident_factory,
    sessionmaker: SessionMaker,  # type: ignore[no-untyped-def]
) -> None:
    dp, _bot = dispatcher
    tries: list[int] = []
    fail_on(dp, "Rue des Lilas, 12", sa_exc.OperationalError("INSERT", {}, Exception("database is locked")), tries)
    camille = resident_factory(4001)
    await onboard(camille)
    await camille.send("Rue des Lilas, 12")
    assert len(tries) > 1  # tried again while the budget lasted
    assert camille.last_reply() == SORRY
    assert await failures(sessionmaker) == [("message", "OperationalError")]
    # The next message is handled normally.
    await camille.send("/help")
    assert "/consultations" in camille.last_reply()


async def test_a_bug_is_not_retried_but_the_resident_is_told(
    dispatcher: tuple[Dispatcher, Bot],
    resident_factory,
    sessionmaker: SessionMaker,  # type: ignore[no-untyped-def]
) -> None:
    dp, _bot = dispatcher
    tries: list[int] = []
    fail_on(dp, "boum", ValueError("a bug"), tries)
    camille = resident_factory(4002)
    await onboard(camille)
    await camille.send("boum")
    assert tries == [1]
    assert camille.last_reply() == SORRY
    assert await failures(sessionmaker) == [("message", "ValueError")]


async def test_the_same_update_fed_twice_is_handled_once(
    dispatcher: tuple[Dispatcher, Bot],
    resident_factory,
    sessionmaker: SessionMaker,  # type: ignore[no-untyped-def]
) -> None:
    dp, bot = dispatcher
    camille = resident_factory(4003)
    await onboard(camille)
    twice = Update(update_id=987_654, message=camille._message(text="/help"))
    await dp.feed_update(bot, twice)
    await dp.feed_update(bot, twice)
    assert sum("/consultations" in reply for reply in camille.replies()) == 1
    async with sessionmaker() as session:
        assert (
            await session.scalar(select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.update_id == 987_654))
            == 1
        )


async def test_a_reply_that_meets_a_network_error_is_sent_again_and_the_update_not_redone(
    dispatcher: tuple[Dispatcher, Bot],
    resident_factory,
    sessionmaker: SessionMaker,  # type: ignore[no-untyped-def]
) -> None:
    _dp, bot = dispatcher
    camille = resident_factory(4004)
    await onboard(camille)
    session = bot.session
    assert isinstance(session, RecordingSession)
    real = session.make_request
    failed: list[str] = []

    async def flaky(bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        if isinstance(method, SendMessage) and not failed:
            failed.append(method.text)
            raise TelegramNetworkError(method=method, message="Request timeout error")
        return await real(bot, method, timeout)

    session.make_request = flaky  # type: ignore[method-assign]
    await camille.send("/help")
    assert len(failed) == 1 and "/consultations" in failed[0]
    assert sum("/consultations" in reply for reply in camille.replies()) == 1  # sent again, once
    assert await failures(sessionmaker) == []
