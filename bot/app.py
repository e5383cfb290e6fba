"""Assembly of the running application. Nothing here runs at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.utils.i18n import I18n
from aiohttp import web

from bot.fsm_storage import DatabaseStorage
from bot.i18n import ResidentI18nMiddleware, build_i18n
from bot.logs import setup_logging
from bot.middlewares import DbSessionMiddleware, HandlerNameMiddleware, ResidentMiddleware, UpdateLogMiddleware
from bot.sender import OutboxSender
from bot.settings import Settings
from handlers import build_root_router
from handlers.menu import set_command_menus
from scheduler.core import JobContext, Scheduler
from scheduler.sources import JOB_SOURCES
from storage.db import SessionMaker, make_engine, make_sessionmaker
from storage.migrate import upgrade
from web.app import build_web_app
from web.open311 import Open311Context

log = logging.getLogger("palabre")


def build_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(
    settings: Settings,
    sessionmaker: SessionMaker,
    i18n: I18n,
    *,
    storage: BaseStorage | None = None,
    wake_sender=lambda: None,  # type: ignore[no-untyped-def]
) -> Dispatcher:
    """The Dispatcher with its middlewares and routers; long-lived objects are injected here."""
    dp = Dispatcher(
        storage=storage or DatabaseStorage(sessionmaker),
        # Two updates of one resident are never handled at once (double taps, fast typing).
        events_isolation=SimpleEventIsolation(),
        settings=settings,
        sessionmaker=sessionmaker,
        wake_sender=wake_sender,
    )
    dp.update.outer_middleware(UpdateLogMiddleware())
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker, wake_sender))
    dp.update.outer_middleware(ResidentMiddleware())
    dp.update.outer_middleware(ResidentI18nMiddleware(i18n, settings.default_locale))
    for name, observer in dp.observers.items():
        if name != "update":
            observer.middleware(HandlerNameMiddleware())
    dp.include_router(build_root_router())
    return dp


async def run_bot(settings: Settings) -> None:
    """`palabre run`: settings → logging → store → migrations → I18n → Dispatcher → scheduler → serve."""
    setup_logging(settings.log_level)
    engine = make_engine(settings.database_url)
    await upgrade(engine)
    sessionmaker = make_sessionmaker(engine)
    i18n = build_i18n(settings.default_locale)
    bot = build_bot(settings)
    sender = OutboxSender(bot, sessionmaker, rate=settings.broadcast_rate)
    dp = build_dispatcher(settings, sessionmaker, i18n, wake_sender=sender.wake)
    scheduler = Scheduler(JobContext(sessionmaker, settings, sender.wake), JOB_SOURCES)

    open311 = Open311Context(sessionmaker, settings, i18n, sender.wake)
    runner = web.AppRunner(build_web_app(engine, open311=open311), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    sender_task = asyncio.create_task(sender.run(), name="outbox-sender")
    try:
        try:
            await set_command_menus(bot, i18n)
        except Exception:  # noqa: BLE001 - a missing command menu must not keep the bot down
            log.warning("could not set the command menus; continuing", exc_info=True)
        await scheduler.start()
        # A webhook left set would make Telegram refuse long polling.
        await bot.delete_webhook(drop_pending_updates=False)
        log.info("palabre: polling started")
        await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types(), handle_signals=True)
    finally:
        await sender.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sender_task, timeout=5)
        await scheduler.shutdown()
        await runner.cleanup()
        await bot.session.close()
        await engine.dispose()
