"""The agents' card of a report: edits wait for the card, the last state wins, a deleted card comes back."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from participation import outbox, report_cards
from participation.audit import Source
from participation.outbox import Status
from participation.reports import create_report
from storage.db import SessionMaker
from storage.models import OutboxMessage, Report, ReportCard
from storage.types import utcnow
from tests.participation.reports_support import RecordingNotifier, load_categories

GROUP = -100777
KEYBOARD = {"inline_keyboard": [[{"text": "🔧", "callback_data": "ag:menu:1:-"}]]}


async def new_report(sessionmaker: SessionMaker) -> Report:
    async with sessionmaker.begin() as session:
        categories = await load_categories(session)
        return await create_report(
            session,
            category=categories["voirie-chaussee"],
            description="Un nid-de-poule",
            photos=[],
            lat=None,
            lon=None,
            address="Rue de la Gare",
            resident=None,
            source=Source.CLI,
            notifier=RecordingNotifier(),
        )


async def post(sessionmaker: SessionMaker, report: Report, text: str) -> None:
    assert report.id is not None
    async with sessionmaker.begin() as session:
        await report_cards.post(session, report.id, GROUP, "sendMessage", {"text": text, "reply_markup": KEYBOARD})


async def show(sessionmaker: SessionMaker, report: Report, text: str) -> None:
    assert report.id is not None
    async with sessionmaker.begin() as session:
        await report_cards.show(session, report.id, GROUP, "sendMessage", {"text": text, "reply_markup": KEYBOARD})


async def claim(sessionmaker: SessionMaker) -> tuple[list[OutboxMessage], list[OutboxMessage]]:
    """Claim what is due, as the sender does: (card posts and replies ready, card edits ready)."""
    async with sessionmaker.begin() as session:
        await make_due(session)
        claimed = await outbox.claim_due(session, limit=50)
        posts = await report_cards.prepare_posts(session, [m for m in claimed if m.kind == outbox.AGENTS_POST_KIND])
        edits = await report_cards.prepare_edits(session, [m for m in claimed if m.kind == report_cards.CARD_EDIT_KIND])
    return posts, edits


async def make_due(session: AsyncSession) -> None:
    """Time passes: what waits for its card is due again."""
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.status == Status.PENDING).values(not_before=utcnow() - timedelta(seconds=1))
    )


async def sent(sessionmaker: SessionMaker, message: OutboxMessage, telegram_message_id: int) -> None:
    """Telegram took the message: the sender marks it sent and runs the agents' posts hook."""
    assert message.id is not None
    async with sessionmaker.begin() as session:
        await outbox.mark_sent_many(session, [message.id])
        await report_cards.record_posted(session, message, SimpleNamespace(message_id=telegram_message_id))


async def rows(sessionmaker: SessionMaker) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_an_edit_queued_before_the_card_went_out_waits_for_it_then_edits_it(sessionmaker: SessionMaker) -> None:
    report = await new_report(sessionmaker)
    await post(sessionmaker, report, "🆕 Nouveau")
    await show(sessionmaker, report, "👀 Pris en compte")
    [card], edits = await claim(sessionmaker)
    # Claimed with its card still in flight: the edit has no message to change yet and waits.
    assert edits == []
    waiting = (await rows(sessionmaker))[-1]
    assert (waiting.status, waiting.last_error) == (Status.PENDING, "waiting for the report's card to be sent")
    await sent(sessionmaker, card, 501)
    posts, [edit] = await claim(sessionmaker)
    assert posts == []
    assert edit.method == "editMessageText"
    assert edit.payload == {"text": "👀 Pris en compte", "reply_markup": KEYBOARD, "message_id": 501}


async def test_an_edit_after_the_card_went_out_edits_it_at_once(sessionmaker: SessionMaker) -> None:
    report = await new_report(sessionmaker)
    await post(sessionmaker, report, "🆕 Nouveau")
    [card], _ = await claim(sessionmaker)
    await sent(sessionmaker, card, 502)
    await show(sessionmaker, report, "✅ Résolu")
    _, [edit] = await claim(sessionmaker)
    assert edit.payload["message_id"] == 502 and edit.payload["text"] == "✅ Résolu"


async def test_the_last_state_wins_whatever_was_queued_or_in_flight(sessionmaker: SessionMaker) -> None:
    report = await new_report(sessionmaker)
    await post(sessionmaker, report, "v0")
    [card], _ = await claim(sessionmaker)
    await sent(sessionmaker, card, 503)
    await show(sessionmaker, report, "v1")
    async with sessionmaker.begin() as session:
        [in_flight] = await outbox.claim_due(session, limit=10)  # claimed, not resolved yet
    await show(sessionmaker, report, "v2")
    await show(sessionmaker, report, "v3")  # queued together with v2: v2 is dropped
    texts = [row.payload["text"] for row in await rows(sessionmaker) if row.kind == report_cards.CARD_EDIT_KIND]
    assert texts == ["v1", "v3"]
    # The older edit, resolved after the newer ones were queued, is skipped rather than sent last.
    async with sessionmaker.begin() as session:
        assert await report_cards.prepare_edits(session, [in_flight]) == []
    _, [edit] = await claim(sessionmaker)
    assert edit.payload["text"] == "v3" and edit.payload["message_id"] == 503
    statuses = {row.payload["text"]: (row.status, row.last_error) for row in await rows(sessionmaker)}
    assert statuses["v1"] == (Status.SKIPPED, "superseded by a newer state of the card")


async def test_a_card_deleted_from_the_group_is_posted_again_with_its_current_state(sessionmaker: SessionMaker) -> None:
    report = await new_report(sessionmaker)
    await post(sessionmaker, report, "v0")
    [card], _ = await claim(sessionmaker)
    await sent(sessionmaker, card, 504)
    await show(sessionmaker, report, "v1")
    _, [edit] = await claim(sessionmaker)
    async with sessionmaker.begin() as session:
        await report_cards.edit_refused(session, edit, "TelegramBadRequest: Bad Request: message to edit not found")
    async with sessionmaker() as session:
        stored = await session.get(ReportCard, report.id)
    assert stored is not None and stored.message_id is None and stored.posts == 2
    *_, refused, fresh = await rows(sessionmaker)
    assert refused.status == Status.FAILED
    assert (fresh.id, fresh.method, fresh.status) == (stored.outbox_id, "sendMessage", Status.PENDING)
    assert fresh.payload == {"text": "v1", "reply_markup": KEYBOARD}
    # Once the fresh card is out, the next change edits it.
    [again], _ = await claim(sessionmaker)
    await sent(sessionmaker, again, 600)
    await show(sessionmaker, report, "v2")
    _, [edit] = await claim(sessionmaker)
    assert edit.payload["message_id"] == 600


async def test_an_outdated_edit_refused_does_not_post_the_card_again(sessionmaker: SessionMaker) -> None:
    report = await new_report(sessionmaker)
    await post(sessionmaker, report, "v0")
    [card], _ = await claim(sessionmaker)
    await sent(sessionmaker, card, 505)
    await show(sessionmaker, report, "v1")
    _, [old] = await claim(sessionmaker)
    await show(sessionmaker, report, "v2")
    async with sessionmaker.begin() as session:
        await report_cards.edit_refused(session, old, "TelegramBadRequest: Bad Request: message to edit not found")
    posts = [row for row in await rows(sessionmaker) if row.kind == outbox.AGENTS_POST_KIND]
    assert len(posts) == 1  # the newest edit, refused in turn, is the one that posts it again


async def test_replies_wait_for_their_card_then_answer_it(sessionmaker: SessionMaker) -> None:
    report = await new_report(sessionmaker)
    assert report.id is not None
    await post(sessionmaker, report, "v0")
    async with sessionmaker.begin() as session:
        await report_cards.reply(session, report.id, GROUP, "sendMessage", {"text": "💬 Note"}, "report:1:note:1")
    [card], _ = await claim(sessionmaker)  # the reply waits: its card is in flight
    await sent(sessionmaker, card, 506)
    [note], _ = await claim(sessionmaker)
    # A card deleted meanwhile must not block the note: it then goes out on its own.
    assert note.payload == {
        "text": "💬 Note",
        "reply_parameters": {"message_id": 506, "allow_sending_without_reply": True},
    }


async def test_a_report_posted_before_cards_existed_gets_its_old_post_edited(sessionmaker: SessionMaker) -> None:
    report = await new_report(sessionmaker)
    async with sessionmaker.begin() as session:  # as the bot did before migration 0015: a post, no card
        await outbox.enqueue(
            session,
            chat_id=GROUP,
            method="sendMessage",
            payload={"text": "old"},
            kind=outbox.AGENTS_POST_KIND,
            dedupe_key=f"report:{report.id}:agents:new",
        )
    [old], _ = await claim(sessionmaker)
    async with sessionmaker.begin() as session:
        assert old.id is not None
        await outbox.mark_sent_many(session, [old.id])
        await outbox.record_sent_message_id(session, old, SimpleNamespace(message_id=42))
    await show(sessionmaker, report, "👀 Pris en compte")
    posts, [edit] = await claim(sessionmaker)
    assert posts == [] and edit.payload["message_id"] == 42 and edit.payload["text"] == "👀 Pris en compte"
