"""Assembly of the running application. Nothing here runs at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError, TelegramNotFound, TelegramServerError, TelegramUnauthorizedError
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import DisabledEventIsolation, SimpleEventIsolation
from aiogram.utils.i18n import I18n
from aiohttp import web

from bot.broadcasting import BroadcastFeeder
from bot.errors import StartupError
from bot.flood import FloodControlMiddleware, FloodCounter, MemoryFloodCounter, RedisFloodCounter
from bot.fsm_storage import DatabaseStorage
from bot.i18n import ResidentI18nMiddleware, build_i18n
from bot.leader import Fence, LeaseStore, lead
from bot.middlewares import (
    CleanTextMiddleware,
    DbSessionMiddleware,
    HandlerNameMiddleware,
    ResidentMiddleware,
    UpdateLockMiddleware,
    UpdateLogMiddleware,
)
from bot.pipeline import CommitBeforeSpeaking, UpdateRetryMiddleware
from bot.publishing import PublicationFeeder
from bot.response_models import HoldResponseModels
from bot.retry import RetryShortFloodWait
from bot.sender import OutboxSender
from bot.supervision import Supervisor, TaskState
from config.logs import setup_logging
from config.settings import Settings
from handlers import build_root_router
from handlers.menu import set_command_menus
from notices.menus import queue_staff_menu
from participation import report_cards
from participation.consultations import POLL_KIND, record_poll_sent
from participation.outbox import AGENTS_POST_KIND
from participation.roles import staff_in_reach
from scheduler.core import JobContext, Scheduler
from scheduler.sources import JOB_SOURCES
from storage import crypto
from storage.db import SessionMaker, make_engine, make_sessionmaker
from storage.migrate import upgrade
from storage.rekey import check_key
from web.app import build_web_app
from web.open311 import Open311Context
from web.webhook import CheckedRequestHandler

log = logging.getLogger("palabre")


class ProcessRole(StrEnum):
    """What one `palabre run` process does (several processes share one database)."""

    ALL = "all"  # updates (polling or webhook), and the scheduler + sender when elected leader
    WEB = "web"  # webhook and HTTP only: several of these behind a load balancer
    WORKER = "worker"  # the scheduler and the sender only, when elected leader


def reply_middlewares(settings: Settings) -> list[BaseRequestMiddleware]:
    """The request middlewares of the Bot that answers updates, outermost first."""
    # The update's writes are committed before anything reaches Telegram (bot/pipeline.py).
    return [CommitBeforeSpeaking(settings.update_retry_seconds), HoldResponseModels(), RetryShortFloodWait()]


def build_bot(settings: Settings, *, for_replies: bool = True) -> Bot:
    """The Bot client; the one for direct replies commits first and waits out a short 429 (bot/retry.py)."""
    assert settings.bot_token is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    for middleware in reply_middlewares(settings) if for_replies else [HoldResponseModels()]:
        session.middleware(middleware)
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_state_backends(settings: Settings, sessionmaker: SessionMaker) -> tuple[BaseStorage, BaseEventIsolation, FloodCounter]:
    """Conversation state, per-resident locking and flood counters: in Redis with several workers."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        storage = RedisStorage.from_url(
            settings.redis_url, key_builder=DefaultKeyBuilder(prefix="palabre", with_bot_id=True, with_destiny=True)
        )
        return storage, RedisEventIsolation(storage.redis), RedisFloodCounter(storage.redis)
    return DatabaseStorage(sessionmaker), SimpleEventIsolation(), MemoryFloodCounter()


def build_dispatcher(
    settings: Settings,
    sessionmaker: SessionMaker,
    i18n: I18n,
    *,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    flood_counter: FloodCounter | None = None,
    wake_sender: Any = lambda: None,
) -> Dispatcher:
    """The Dispatcher with its middlewares and routers; long-lived objects are injected here."""
    isolation = events_isolation or SimpleEventIsolation()
    dp = Dispatcher(
        storage=storage or DatabaseStorage(sessionmaker),
        events_isolation=isolation,
        settings=settings,
        sessionmaker=sessionmaker,
        wake_sender=wake_sender,
    )
    # The log line and flood control go before the per-resident lock: a flood must be counted as
    # it arrives, not as the lock lets it through.
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(UpdateLogMiddleware())
    dp.update.outer_middleware(CleanTextMiddleware())
    dp.update.outer_middleware(
        FloodControlMiddleware(flood_counter or MemoryFloodCounter(), i18n, sessionmaker, settings.default_locale)
    )
    # The per-resident lock, then the update's session, then the state read inside that session
    # (see UpdateLockMiddleware). `dp.fsm` stays the Dispatcher's, which closes the storage and
    # the lock at shutdown.
    dp.update.outer_middleware(UpdateLockMiddleware(dp.fsm, isolation))
    # Retries inside the lock: the resident's next update waits until this one succeeded or gave up.
    dp.update.outer_middleware(UpdateRetryMiddleware(sessionmaker, i18n, settings.default_locale, settings.update_retry_seconds))
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker, wake_sender))
    dp.update.outer_middleware(FSMContextMiddleware(dp.fsm.storage, DisabledEventIsolation(), dp.fsm.strategy))
    dp.update.outer_middleware(ResidentMiddleware())
    dp.update.outer_middleware(ResidentI18nMiddleware(i18n, settings.default_locale))
    for name, observer in dp.observers.items():
        if name != "update":
            observer.middleware(HandlerNameMiddleware())
    dp.include_router(build_root_router())
    return dp


class BackgroundWork:
    """The scheduler and the sender, started when this process becomes leader, each supervised."""

    def __init__(self, bot: Bot, sessionmaker: SessionMaker, settings: Settings, i18n: I18n, fence: Fence | None = None) -> None:
        self._bot, self._sessionmaker, self._settings, self._i18n = bot, sessionmaker, settings, i18n
        self._fence = fence
        self.sender: OutboxSender | None = None
        self._scheduler: Scheduler | None = None
        self._supervisors: dict[str, Supervisor] = {}
        # Set when a task keeps crashing: the leader then gives its lease up (bot/leader.py).
        self.gave_up = asyncio.Event()

    def wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    def sender_problem(self) -> str | None:
        """Why this process leads but does not send (for /healthz); None when all is well or not leader."""
        supervisor = self._supervisors.get("outbox-sender")
        if supervisor is None or supervisor.state is TaskState.RUNNING:
            return None
        return supervisor.state.value

    def _new_sender(self) -> OutboxSender:
        return OutboxSender(
            self._bot,
            self._sessionmaker,
            rate=self._settings.broadcast_rate,
            sent_hooks={POLL_KIND: record_poll_sent, AGENTS_POST_KIND: report_cards.record_posted},
            # The agents' card of a report: edits and replies find the card's message when they go out.
            resolvers={AGENTS_POST_KIND: report_cards.prepare_posts, report_cards.CARD_EDIT_KIND: report_cards.prepare_edits},
            refused_hooks={report_cards.CARD_EDIT_KIND: report_cards.edit_refused},
            # Confirmed broadcasts are expanded into the outbox chunk by chunk, paced by sending.
            feeders=[
                BroadcastFeeder(self._sessionmaker, self._i18n, self._settings),
                PublicationFeeder(self._sessionmaker, self._i18n, self._settings),
            ],
            fence=self._fence,
        )

    async def _run_sender(self) -> None:
        # A new sender each run: a crashed one may have left its in-memory state half-way.
        self.sender = self._new_sender()
        await self.sender.run()

    async def _run_scheduler(self) -> None:
        context = JobContext(self._sessionmaker, self._settings, self.wake_sender, extra={"i18n": self._i18n})
        may_run = self._fence.is_open if self._fence is not None else (lambda: True)
        self._scheduler = Scheduler(context, JOB_SOURCES, may_run=may_run)
        await self._scheduler.run()

    async def start(self) -> None:
        self.gave_up.clear()
        self._supervisors = {
            "outbox-sender": Supervisor("outbox-sender", self._run_sender, on_give_up=self.gave_up.set),
            "scheduler": Supervisor("scheduler", self._run_scheduler, on_give_up=self.gave_up.set),
        }
        for supervisor in self._supervisors.values():
            supervisor.start()

    async def stop(self) -> None:
        for supervisor in self._supervisors.values():
            supervisor.request_stop()
        if self._scheduler is not None:
            await self._scheduler.shutdown()
        if self.sender is not None:
            await self.sender.stop()
        for supervisor in self._supervisors.values():
            await supervisor.stop()
        self._supervisors = {}
        self.sender = self._scheduler = None

    async def close(self) -> None:
        await self._bot.session.close()


async def check_telegram(bot: Bot, settings: Settings) -> None:
    """Ask Telegram who we are: a refused token or no network is a StartupError, said in one sentence."""
    try:
        await bot.get_me()
    except (TelegramUnauthorizedError, TelegramNotFound) as exc:
        raise StartupError(
            "Telegram refused BOT_TOKEN: copy the token again from @BotFather (it may have been revoked)."
        ) from exc
    except (TimeoutError, TelegramNetworkError, TelegramServerError, aiohttp.ClientError, OSError) as exc:
        raise StartupError(
            f"Cannot reach the Telegram Bot API at {settings.telegram_api_url}: check the network "
            "(and TELEGRAM_API_URL), then start Palabre again."
        ) from exc


def webhook_path(settings: Settings) -> str:
    return urlsplit(settings.webhook_url or "").path or "/webhook"


async def run_bot(settings: Settings, role: ProcessRole = ProcessRole.ALL) -> None:
    """`palabre run`: settings → logging → store → migrations → I18n → Dispatcher → scheduler → serve."""
    setup_logging(settings.log_level)
    crypto.install_keys(settings.data_key.get_secret_value() if settings.data_key else None)
    engine = make_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            # A wrong key stops the start here, not at the first resident who reads their data.
            await connection.run_sync(check_key)
    except BaseException:
        await engine.dispose()
        raise
    sessionmaker = make_sessionmaker(engine)
    i18n = build_i18n(settings.default_locale)
    bot = build_bot(settings)
    try:
        await check_telegram(bot, settings)
    except StartupError:
        # Before anything else starts: no scheduler or sender to stop, one sentence to print.
        await bot.session.close()
        await engine.dispose()
        raise
    storage, isolation, flood = build_state_backends(settings, sessionmaker)
    # The sender gets its own client, without the reply retry: it paces and postpones by itself.
    lease = LeaseStore(sessionmaker, settings.leader_lease_seconds)
    fence = Fence(lease)
    background = BackgroundWork(build_bot(settings, for_replies=False), sessionmaker, settings, i18n, fence)
    dp = build_dispatcher(
        settings,
        sessionmaker,
        i18n,
        storage=storage,
        events_isolation=isolation,
        flood_counter=flood,
        wake_sender=background.wake_sender,
    )
    stopping = asyncio.Event()
    webhook = settings.webhook_url is not None and role != ProcessRole.WORKER

    # Open311 answers in every process; a POSTed request wakes whichever sender runs here.
    open311 = Open311Context(sessionmaker, settings, i18n, background.wake_sender)
    backoffice = None
    if settings.web_enabled:
        from web.backoffice import BackofficeContext

        backoffice = BackofficeContext(sessionmaker, settings, i18n, background.wake_sender)
    app = build_web_app(engine, open311=open311, backoffice=backoffice, sender_problem=background.sender_problem)
    if webhook:
        assert settings.webhook_secret is not None
        # Not in the background: Telegram gets its 200 once the update is handled and stored, so
        # a crash mid-update makes Telegram send it again instead of losing it.
        CheckedRequestHandler(
            dispatcher=dp,
            bot=bot,
            handle_in_background=False,
            secret_token=settings.webhook_secret.get_secret_value(),
        ).register(app, path=webhook_path(settings))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()

    leadership: asyncio.Task[None] | None = None
    if role in (ProcessRole.ALL, ProcessRole.WORKER):
        leadership = asyncio.create_task(lead(lease, fence, background, stopping), name="leadership")
    try:
        if role != ProcessRole.WORKER:
            try:
                await set_command_menus(bot, i18n)
                # Each staff member's own menu, in their language, through the outbox like every later change.
                async with sessionmaker.begin() as session:
                    with i18n.context():
                        for telegram_id in await staff_in_reach(session, settings.admin_ids):
                            await queue_staff_menu(session, telegram_id, settings.admin_ids, i18n)
            except Exception:
                log.warning("could not set the command menus; continuing", exc_info=True)
        if role == ProcessRole.ALL and not webhook:
            # A webhook left set would make Telegram refuse long polling.
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("palabre: polling started")
            await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types(), handle_signals=True)
        else:
            if webhook:
                assert settings.webhook_url is not None and settings.webhook_secret is not None  # checked by Settings
                await bot.set_webhook(
                    settings.webhook_url,
                    secret_token=settings.webhook_secret.get_secret_value(),
                    allowed_updates=dp.resolve_used_update_types(),
                )
                await dp.emit_startup(bot=bot)
                log.info("palabre: serving the webhook on %s", webhook_path(settings))
            else:
                log.info("palabre: worker started")
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stopping.set)
            await stopping.wait()
    finally:
        stopping.set()
        if leadership is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(leadership, timeout=15)
        await runner.cleanup()
        await bot.session.close()
        await background.close()
        await engine.dispose()
        if hasattr(storage, "close"):
            with contextlib.suppress(Exception):
                await storage.close()
