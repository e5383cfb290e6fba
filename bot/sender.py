"""The sender: the one place that delivers queued messages to Telegram, within its limits.

It drains the outbox (participation/outbox.py) at BROADCAST_RATE messages per second overall, at
most one message per second to a private chat and 20 per minute to a group, obeys `retry_after`
on HTTP 429, stops writing to residents who blocked the bot, and retries network failures with
backoff. Anything may enqueue; only this sends, so the limits hold whoever is talking.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiogram.methods as methods
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import TelegramMethod
from aiogram.types import FSInputFile
from sqlalchemy.ext.asyncio import AsyncSession

from bot.leader import Fence, LeadershipLost
from bot.response_models import hold_response_model
from config.logs import describe_crash
from participation import outbox
from storage.db import SessionMaker
from storage.models import OutboxMessage
from storage.types import utcnow

log = logging.getLogger("palabre.sender")

# The Bot API methods the outbox may carry, by their Bot API name.
ALLOWED_METHODS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": methods.SendMessage,
    "sendPhoto": methods.SendPhoto,
    "sendDocument": methods.SendDocument,
    "sendPoll": methods.SendPoll,
    "stopPoll": methods.StopPoll,
    "editMessageText": methods.EditMessageText,
    "editMessageCaption": methods.EditMessageCaption,  # an erased report's photo post in the agents' group
    "editMessageReplyMarkup": methods.EditMessageReplyMarkup,
    # A staff member's own command menu, set or removed after their roles change (notices/menus.py).
    "setMyCommands": methods.SetMyCommands,
    "deleteMyCommands": methods.DeleteMyCommands,
}
for _method in ALLOWED_METHODS.values():  # answer models built once per process (bot/response_models.py)
    hold_response_model(_method.__returning__)
# Payload fields that may name a local file to upload, as {"path": "..."}.
FILE_FIELDS = ("photo", "document")

WINDOW_SECONDS = 1.0  # Telegram's overall limit is counted per (sliding) second
PRIVATE_CHAT_INTERVAL = 1.0  # Telegram: about one message per second to one chat
GROUP_CHAT_INTERVAL = 3.0  # Telegram: 20 messages per minute to one group
IDLE_POLL_SECONDS = 1.0  # how often to look for work enqueued by another process (CLI, worker)
# More than 3 s of sending at 500/s, few enough that memory does not grow with a broadcast (bench/RESULTS.md §6).
CHAT_MEMORY = 2_000

# Called after a successful send, by message kind (e.g. remember the poll id of a native poll).
SentHook = Callable[[AsyncSession, OutboxMessage, Any], Awaitable[None]]
# Called in the claim's transaction for the claimed messages of a kind; returns those to send now
# (the others it postponed or closed itself), e.g. an edit given the message id it must change.
Resolver = Callable[[AsyncSession, list[OutboxMessage]], Awaitable[list[OutboxMessage]]]
# Called, by message kind, when Telegram refuses a message (400/404), instead of failing it plainly.
RefusedHook = Callable[[AsyncSession, OutboxMessage, str], Awaitable[None]]
# Telegram's answer to an edit that changes nothing: the message already says it, a success.
NOT_MODIFIED = "message is not modified"
# Adds one bounded chunk of rows to the outbox before each batch (a confirmed broadcast being
# expanded); True when it added something. Kept here so that expansion is paced by sending.
Feeder = Callable[[], Awaitable[bool]]


def build_method(message: OutboxMessage) -> TelegramMethod[Any]:
    method_class = ALLOWED_METHODS.get(message.method)
    if method_class is None:
        raise ValueError(f"method not allowed in the outbox: {message.method}")
    params = dict(message.payload)
    for field in FILE_FIELDS:
        value = params.get(field)
        if isinstance(value, dict) and "path" in value:
            params[field] = FSInputFile(value["path"], filename=value.get("filename"))
    if "chat_id" in method_class.model_fields:  # a menu's scope names its chat itself
        params.setdefault("chat_id", message.chat_id)
    return method_class(**params)


class RateLimiter:
    """A token bucket for the overall rate, plus the earliest next send per chat."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._capacity = max(1.0, rate / 10)  # small bursts only: Telegram counts per second
        self._tokens = self._capacity
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._chat_next: dict[int, float] = {}
        self._chat_wall: dict[int, datetime] = {}
        # Chats whose pause is over are forgotten once the dict outgrows this; it then follows the
        # chats really paused (a few seconds of sending) instead of the broadcast's size.
        self._chat_bound = CHAT_MEMORY
        # Telegram counts the sends it receives in a sliding second; the bucket alone let 429s
        # through (bench/RESULTS.md §6). A send reaches Telegram before it completes, so counting
        # the sends still in flight plus those completed in the last second bounds what Telegram
        # can have seen in any second.
        self._limit = max(1, int(rate))
        self._done: deque[float] = deque()
        self._in_flight = 0

    def chat_wait(self, chat_id: int) -> float:
        return max(0.0, self._chat_next.get(chat_id, 0.0) - time.monotonic())

    def chat_next_at(self, chat_id: int) -> datetime:
        """The chat's next free second as a wall-clock time: the same for every message waiting on it."""
        return self._chat_wall.get(chat_id) or utcnow()

    def note_chat(self, chat_id: int) -> None:
        interval = GROUP_CHAT_INTERVAL if chat_id < 0 else PRIVATE_CHAT_INTERVAL
        now = time.monotonic()
        self._chat_next[chat_id] = now + interval
        self._chat_wall[chat_id] = utcnow() + timedelta(seconds=interval)
        if len(self._chat_next) > self._chat_bound:
            self._chat_next = {chat: at for chat, at in self._chat_next.items() if at > now}
            self._chat_wall = {chat: at for chat, at in self._chat_wall.items() if chat in self._chat_next}
            self._chat_bound = max(CHAT_MEMORY, 2 * len(self._chat_next))

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def release(self) -> None:
        """A send acquired with `acquire` has completed (whatever Telegram answered)."""
        self._in_flight -= 1
        self._done.append(time.monotonic())

    async def acquire(self) -> None:
        while True:
            now = time.monotonic()
            if now < self._paused_until:
                await asyncio.sleep(self._paused_until - now)
                continue
            self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            done = self._done
            while done and now - done[0] >= WINDOW_SECONDS:
                done.popleft()
            if len(done) + self._in_flight >= self._limit:
                await asyncio.sleep(WINDOW_SECONDS - (now - done[0]) if done else 1 / self.rate)
                continue
            if self._tokens >= 1:
                self._tokens -= 1
                self._in_flight += 1
                return
            await asyncio.sleep((1 - self._tokens) / self.rate)


@dataclass(frozen=True)
class Delivered:
    """The outcome of a successful send: recorded with the others of its group in one UPDATE."""

    message: OutboxMessage
    result: Any
    hook: SentHook | None = None


@dataclass(frozen=True)
class Blocked:
    """The outcome of a 403: the resident blocked the bot; what still waits for them is stopped."""

    chat_id: int


Outcome = Callable[[AsyncSession], Awaitable[Any]] | Delivered | Blocked


class _Recorder:
    """Records the outcomes of sends, gathering them into short transactions of many messages.

    A transaction costs about the same whatever its size, and one per message made the database
    the bottleneck (bench/RESULTS.md §6): so an outcome waits up to GATHER_SECONDS for others,
    and deliveries, by far the most common outcome, are marked sent by one statement per group.
    Each sender slot is held until its outcome is committed, so the messages delivered but not yet
    recorded, the only ones a crash can make us send twice, are never more than the sender's
    `max_in_flight`: a group is committed at once when it holds half of them, or when the sender
    waits for a slot (`hurry()`), so the gathering never holds sending back.
    """

    MAX_GROUP = 200
    GATHER_SECONDS = 0.05

    def __init__(self, sessionmaker: SessionMaker, *, hurry_at: int = MAX_GROUP) -> None:
        self._sessionmaker = sessionmaker
        self._hurry_at = min(hurry_at, self.MAX_GROUP)
        self._pending: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()

    def record(self, outcome: Outcome) -> asyncio.Future[None]:
        """Queue `outcome`; the future is done once it is committed (or could not be recorded at all)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, done))
        if len(self._pending) >= self._hurry_at:
            self._hurry.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        return done

    def hurry(self) -> None:
        """Someone is waiting for these records: commit what has gathered without waiting more."""
        self._hurry.set()

    async def flush(self) -> None:
        """Wait until everything recorded so far is committed."""
        self.hurry()
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    async def _flush_all(self) -> None:
        try:
            while self._pending:
                if not self._hurry.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._hurry.wait(), self.GATHER_SECONDS)
                self._hurry.clear()
                group, self._pending = self._pending[: self.MAX_GROUP], self._pending[self.MAX_GROUP :]
                try:
                    await self._record(group)
                finally:
                    for _, done in group:
                        if not done.done():
                            done.set_result(None)
        finally:  # even when cancelled at shutdown: no sender slot may wait forever
            for _, done in self._pending:
                if not done.done():
                    done.set_result(None)

    async def _record(self, group: list[tuple[Outcome, asyncio.Future[None]]]) -> None:
        outcomes = [outcome for outcome, _ in group]
        try:
            async with self._sessionmaker.begin() as session:
                await self._apply(session, outcomes)
        except Exception:
            log.exception("outbox: recording a group of outcomes failed; recording them one by one")
            for outcome in outcomes:
                try:
                    async with self._sessionmaker.begin() as session:
                        await self._apply(session, [outcome])
                except Exception:
                    log.exception("outbox: could not record the outcome of a message")

    @staticmethod
    async def _apply(session: AsyncSession, outcomes: list[Outcome]) -> None:
        delivered = [outcome for outcome in outcomes if isinstance(outcome, Delivered)]
        # Deliveries first: a message that did arrive is sent, whatever else the group says about
        # its chat (a 403 from the same resident stops only what is still waiting).
        await outbox.mark_sent_many(session, [outcome.message.id for outcome in delivered if outcome.message.id is not None])
        for done in delivered:
            if done.hook is not None:
                await done.hook(session, done.message, done.result)
        for outcome in outcomes:
            if isinstance(outcome, Blocked):
                await outbox.mark_unreachable(session, outcome.chat_id, "403 forbidden")
            elif not isinstance(outcome, Delivered):
                await outcome(session)


class OutboxSender:
    """Runs as a task beside the dispatcher; `wake()` after enqueueing to send at once.

    Claiming, sending and recording overlap: the next messages are claimed while those at hand are
    sent, and outcomes are recorded in the background, so that sending never stops to wait for
    the database (it used to, at the end of every batch). What may be claimed at once stays one
    batch: a crash or a stop hands back at most `batch_size` messages, of which at most
    `max_in_flight` may have been delivered already.
    """

    def __init__(
        self,
        bot: Bot,
        sessionmaker: SessionMaker,
        *,
        rate: float,
        sent_hooks: dict[str, SentHook] | None = None,
        resolvers: dict[str, Resolver] | None = None,
        refused_hooks: dict[str, RefusedHook] | None = None,
        feeders: list[Feeder] | None = None,
        max_in_flight: int = 64,
        fence: Fence | None = None,
    ) -> None:
        self._bot = bot
        # The leader's fence: closed, nothing more is claimed or sent (see bot/leader.py).
        self._fence = fence
        self.fenced = False
        self._sessionmaker = sessionmaker
        self._limiter = RateLimiter(rate)
        self._hooks = sent_hooks or {}
        self._resolvers = resolvers or {}
        self._refused_hooks = refused_hooks or {}
        self._feeders = feeders or []
        # A batch is about one second of sending: it bounds what is claimed at any time.
        self.batch_size = max(1, min(200, int(rate)))
        # The next claim starts when no more than this is left in hand: half a second of sending
        # covers a claim even on a busy machine.
        self._refill_below = self.batch_size // 2
        # At most this many messages are ever sent but not yet recorded: after a crash, at most
        # this many can reach their recipient a second time.
        self.max_in_flight = max_in_flight
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._recorder = _Recorder(sessionmaker, hurry_at=max(1, max_in_flight // 2))
        # Claimed messages not sent yet, each with the number of the claim that took it.
        self._queue: deque[tuple[int, OutboxMessage]] = deque()
        self._claimed = 0  # claimed and not yet recorded (queued, in the air, or being recorded)
        self._claims = 0  # claims started so far
        self._claimed_since_feeding = 0
        self._last_claim_short = True
        self._next_claim_at = 0.0
        # Chats that answered 403 -> the first claim that cannot hold their stopped messages (None
        # while the 403 is not recorded yet). A message claimed before that is not sent: the
        # resident blocked the bot, and Telegram would only refuse it again.
        self._blocked: dict[int, int | None] = {}
        self._deliveries: set[asyncio.Task[None]] = set()
        self._woken = True
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        self._woken = True
        self._changed.set()

    async def stop(self) -> None:
        self._stopping.set()
        self._changed.set()

    def _may_send(self) -> bool:
        if self._fence is not None and not self._fence.is_open():
            self.fenced = True
        return not self.fenced

    async def run(self) -> None:
        try:
            async with self._sessionmaker.begin() as session:
                released = await outbox.release_in_flight(session)
                if self._fence is not None:
                    await self._fence.confirm(session)
        except LeadershipLost:
            self.fenced = True
            log.warning("outbox: this process is no longer the leader; the sender does not start")
            return
        if released:
            log.info("outbox: %d messages were in flight at the last stop and will be sent again", released)
        refill: asyncio.Task[None] | None = None
        try:
            while not self._stopping.is_set() and self._may_send():
                self._changed.clear()  # from here on, any change wakes the wait below
                if refill is not None and refill.done():
                    refill = None
                if (
                    refill is None
                    and self._claimed <= self._refill_below
                    and (self._woken or time.monotonic() >= self._next_claim_at)
                ):
                    refill = asyncio.create_task(self._refill())
                    refill.add_done_callback(lambda _: self._changed.set())
                if self._queue:
                    await self._dispatch(*self._queue.popleft())
                    continue
                # Nothing in hand: wait for the claim under way, for outcomes to be recorded (the
                # next claim waits for them), or until it is time to look for due messages again.
                timeout = None
                if refill is None and self._claimed > self._refill_below:
                    self._recorder.hurry()
                elif refill is None:
                    timeout = max(0.0, self._next_claim_at - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)
        finally:
            await self._finish(refill)

    async def _refill(self) -> None:
        """Claim due messages, up to one batch in hand in all; feed the outbox first when due."""
        if not self._may_send():  # a stale leader neither expands broadcasts nor claims
            self._changed.set()
            return
        self._woken = False  # a wake() from now on may be work this claim does not see
        fed = False
        if self._feeders and (self._last_claim_short or self._claimed_since_feeding >= self.batch_size):
            # At most one chunk per batch sent, as before the claims overlapped: expanding a
            # broadcast stays paced by sending.
            self._claimed_since_feeding = 0
            for feeder in self._feeders:
                try:
                    fed = await feeder() or fed
                except Exception as exc:  # noqa: BLE001 - a failed chunk is retried at the next round
                    # By class and place only: the statement's parameters would carry the broadcast's text.
                    log.error("outbox: feeding the queue failed: %s", describe_crash(exc))
        number = self._claims
        self._claims += 1
        oldest = self._queue[0][0] if self._queue else number
        self._blocked = {chat: safe for chat, safe in self._blocked.items() if safe is None or safe > oldest}
        limit = self.batch_size - self._claimed  # nothing else claims: it can only have gone down
        try:
            if not self._may_send():
                raise LeadershipLost
            async with self._sessionmaker.begin() as session:
                batch = await self._resolve(session, await outbox.claim_due(session, limit=limit))
                if batch and self._fence is not None:
                    # In the claim's transaction: what a stale leader claims is rolled back.
                    await self._fence.confirm(session)
        except LeadershipLost:
            self.fenced = True
            self._changed.set()
            batch = []
        except Exception:
            log.exception("outbox: claiming failed; trying again shortly")
            batch = []
        self._claimed += len(batch)
        self._claimed_since_feeding += len(batch)
        self._last_claim_short = len(batch) < limit
        self._queue.extend((number, message) for message in batch)
        if batch or fed:
            self._next_claim_at = 0.0
        else:  # nothing due: look again later, or as soon as something is enqueued (wake)
            self._next_claim_at = time.monotonic() + IDLE_POLL_SECONDS

    async def _resolve(self, session: AsyncSession, batch: list[OutboxMessage]) -> list[OutboxMessage]:
        """Let each kind's resolver prepare its claimed messages; the batch keeps its order."""
        if not self._resolvers or not any(message.kind in self._resolvers for message in batch):
            return batch
        kept: set[int] = set()
        for kind, resolver in self._resolvers.items():
            mine = [message for message in batch if message.kind == kind]
            if mine:
                kept.update(id(message) for message in await resolver(session, mine))
        return [message for message in batch if message.kind not in self._resolvers or id(message) in kept]

    async def _dispatch(self, claim: int, message: OutboxMessage) -> None:
        assert message.id is not None
        message_id, chat_id = message.id, message.chat_id
        if self._stopped(chat_id, claim):
            self._settle_on(self._recorder.record(Blocked(chat_id)))
            return
        wait = self._limiter.chat_wait(chat_id)
        if wait > 0:
            # One absolute time for every message of the chat waiting now: their ids keep them in order.
            until = self._limiter.chat_next_at(chat_id)
            self._settle_on(
                self._recorder.record(
                    lambda session: outbox.postpone(
                        session, message_id, wait, "paced: one message per chat per second", until=until
                    )
                )
            )
            return
        await self._limiter.acquire()
        if self._in_flight.locked():
            self._recorder.hurry()  # every slot waits for its outcome to be committed
        await self._in_flight.acquire()
        if not self._may_send():  # the waits above may have outlasted the lease, or a freeze
            self._limiter.release()
            self._in_flight.release()
            self._queue.appendleft((claim, message))
            return
        # Noted when it really leaves (acquire may have waited out a retry_after).
        self._limiter.note_chat(chat_id)
        task = asyncio.create_task(self._deliver(message))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    def _stopped(self, chat_id: int, claim: int) -> bool:
        """The chat answered 403, and this message was claimed before that was recorded."""
        if chat_id not in self._blocked:
            return False
        safe_from = self._blocked[chat_id]
        return safe_from is None or claim < safe_from

    def _settle_on(self, recorded: asyncio.Future[None]) -> None:
        recorded.add_done_callback(lambda _: self._settle())

    def _settle(self) -> None:
        self._claimed -= 1
        self._changed.set()

    async def _deliver(self, message: OutboxMessage) -> None:
        # The rate slot is freed once Telegram has answered; the in-flight slot only once the
        # outcome is committed (see _Recorder), which bounds what a crash can send twice.
        try:
            try:
                outcome = await self._call(message)
            finally:
                self._limiter.release()
            await self._recorder.record(outcome)
            if isinstance(outcome, Blocked):
                # Committed: the claims from now on no longer see the chat's stopped messages.
                self._blocked[outcome.chat_id] = self._claims
        finally:
            self._in_flight.release()
            self._settle()

    async def _finish(self, refill: asyncio.Task[None] | None) -> None:
        """On stop: let what is in the air land and be recorded, and hand back what was not sent."""
        if refill is not None:
            await refill  # what it claims is handed back below
        self._recorder.hurry()
        await asyncio.gather(*self._deliveries, return_exceptions=True)
        await self._recorder.flush()
        unsent = [message.id for _, message in self._queue if message.id is not None]
        self._queue.clear()
        if unsent and self.fenced:
            # A new leader may have released and claimed them again already: theirs to send now.
            log.warning("outbox: leadership lost; %d claimed messages are left to the next leader", len(unsent))
        elif unsent:
            async with self._sessionmaker.begin() as session:
                await outbox.release(session, unsent)
            self._claimed -= len(unsent)

    async def _call(self, message: OutboxMessage) -> Outcome:
        """Send, and return what to record about it (recorded in a short transaction after)."""
        assert message.id is not None
        message_id = message.id
        try:
            result = await self._bot(build_method(message))
        except TelegramRetryAfter as exc:
            # Copied out: Python unbinds `exc` when the except block ends, before the lambda runs.
            retry_after = exc.retry_after
            self._limiter.pause(retry_after)
            log.warning("outbox: Telegram asked to wait %ss", retry_after)
            return lambda session: outbox.postpone(session, message_id, retry_after, "429 retry_after")
        except TelegramForbiddenError:
            log.info("outbox: chat of message %s blocked the bot; marked unreachable", message_id)
            self._blocked[message.chat_id] = None  # not recorded yet: nothing claimed is sent to them
            return Blocked(message.chat_id)
        except (TelegramBadRequest, TelegramNotFound, ValueError, FileNotFoundError) as exc:
            # Telegram refused the message itself: sending it again would fail the same way.
            reason = type(exc).__name__ + ": " + str(getattr(exc, "message", exc))
            if message.method.startswith("edit") and NOT_MODIFIED in reason:
                return Delivered(message, None, self._hooks.get(message.kind))
            log.warning("outbox: message %s refused (%s)", message_id, reason)
            refused = self._refused_hooks.get(message.kind)
            if refused is not None:
                return lambda session: refused(session, message, reason)
            return lambda session: outbox.fail(session, message_id, reason)
        except (TimeoutError, TelegramNetworkError, TelegramServerError, OSError) as exc:
            reason = type(exc).__name__
            return lambda session: outbox.retry_or_fail(session, message, reason)
        except Exception as exc:
            # Anything unforeseen must not leave the message claimed ("sending") until a restart:
            # it is retried with backoff and given up after MAX_ATTEMPTS, with the reason kept.
            reason = "unexpected " + type(exc).__name__
            log.exception("outbox: message %s could not be sent", message_id)
            return lambda session: outbox.retry_or_fail(session, message, reason)
        return Delivered(message, result, self._hooks.get(message.kind))
