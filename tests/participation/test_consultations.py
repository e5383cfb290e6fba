"""Answering a consultation: one response per resident, stale taps refused, resume, changes until closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from participation import audit
from participation import consultations as c
from participation.consultations import Refusal, Refused, ResponseStatus
from storage.models import ConsultationAnswer, ConsultationPoll, ConsultationResponse, OutboxMessage
from storage.types import utcnow
from tests.consultation_helpers import add_consultation, add_resident, hours, sample_spec

FREQUENCE, PRIORITES, SATISFACTION, PIETONNE, POURQUOI = range(5)


async def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return await session.scalar(select(func.count()).select_from(model))


async def test_reimport_updates_until_someone_answers(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    _, outcome = await c.import_consultation(
        session, sample_spec(title={"fr": "Nouveau titre"}), actor_telegram_id=None, source=audit.Source.CLI
    )
    assert outcome == c.ImportOutcome.UPDATED
    assert consultation.title == {"fr": "Nouveau titre"}
    resident = await add_resident(session, 10)
    await c.begin(session, consultation, resident)
    with pytest.raises(c.ConsultationLocked) as locked:
        await c.import_consultation(session, sample_spec(title={"fr": "Encore"}), actor_telegram_id=None, source=audit.Source.CLI)
    assert locked.value.responses == 1
    assert consultation.title == {"fr": "Nouveau titre"}


async def test_a_whole_response_with_a_conditional_question(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    resident = await add_resident(session, 11)
    view = await c.begin(session, consultation, resident)
    rid = view.response.id
    assert view.response.cursor == FREQUENCE and view.position() == (1, 4)  # the text question is hidden
    view = await c.answer(session, resident, rid, view.response.step, FREQUENCE, "hebdo")
    view = await c.toggle(session, resident, rid, view.response.step, PRIORITES, "arbres")
    view = await c.toggle(session, resident, rid, view.response.step, PRIORITES, "bancs")
    with pytest.raises(Refused) as too_many:
        await c.toggle(session, resident, rid, view.response.step, PRIORITES, "velos")
    assert too_many.value.reason == Refusal.TOO_MANY and too_many.value.detail == {"max": 2}
    view = await c.current_view(session, resident, rid)  # type: ignore[assignment]
    view = await c.validate_draft(session, resident, rid, view.response.step, PRIORITES)
    view = await c.answer(session, resident, rid, view.response.step, SATISFACTION, 4)
    view = await c.answer(session, resident, rid, view.response.step, PIETONNE, "no")
    assert view.response.cursor == POURQUOI and view.position() == (5, 5)
    with pytest.raises(Refused) as too_long:
        await c.answer(session, resident, rid, view.response.step, POURQUOI, "x" * 51)
    assert too_long.value.reason == Refusal.TOO_LONG
    view = await c.current_view(session, resident, rid)  # type: ignore[assignment]
    view = await c.answer(session, resident, rid, view.response.step, POURQUOI, "  Trop de bruit  ")
    assert view.response.cursor is None  # the summary
    view = await c.submit(session, resident, rid, view.response.step)
    assert view.response.status == ResponseStatus.SUBMITTED
    assert view.answers == {
        "frequence": "hebdo",
        "priorites": ["arbres", "bancs"],
        "satisfaction": 4,
        "pietonne": "no",
        "pourquoi": "Trop de bruit",
    }


async def test_old_steps_double_taps_and_forged_values_change_nothing(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    resident, other = await add_resident(session, 12), await add_resident(session, 13)
    view = await c.begin(session, consultation, resident)
    rid, step = view.response.id, view.response.step
    await c.answer(session, resident, rid, step, FREQUENCE, "hebdo")
    for attempt in (
        lambda: c.answer(session, resident, rid, step, FREQUENCE, "mois"),  # the same tap again
        lambda: c.answer(session, resident, rid, step + 1, FREQUENCE, "mois"),  # another question's step
        lambda: c.answer(session, other, rid, step + 1, PRIORITES, ["bancs"]),  # someone else's response
        lambda: c.answer(session, resident, rid, step + 1, PRIORITES, ["piscine"]),  # no such choice
        lambda: c.answer(session, resident, 999, 0, 0, "hebdo"),  # no such response
    ):
        with pytest.raises(Refused):
            await attempt()
    answers = (await session.execute(select(ConsultationAnswer.question_id, ConsultationAnswer.value))).all()
    assert answers == [("frequence", "hebdo")]
    assert await count(session, ConsultationResponse) == 1


async def test_closed_and_not_yet_open_consultations_refuse(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    resident = await add_resident(session, 14)
    view = await c.begin(session, consultation, resident)
    later = consultation.closes_at + timedelta(seconds=1)
    with pytest.raises(Refused) as closed:
        await c.answer(session, resident, view.response.id, view.response.step, FREQUENCE, "hebdo", now=later)
    assert closed.value.reason == Refusal.CLOSED
    future = await add_consultation(session, slug="plus-tard", opens_at=hours(2), closes_at=hours(5))
    with pytest.raises(Refused) as early:
        await c.begin(session, future, resident)
    assert early.value.reason == Refusal.NOT_OPEN_YET
    assert await count(session, ConsultationAnswer) == 0


async def test_audience_by_neighbourhood(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session, neighbourhoods=["centre"])
    inside, outside = (
        await add_resident(session, 15, neighbourhood="centre"),
        await add_resident(session, 16, neighbourhood="gare"),
    )
    assert [o.consultation.slug for o in await c.open_for(session, inside)] == ["place-du-marche"]
    assert await c.open_for(session, outside) == []
    with pytest.raises(Refused) as refused:
        await c.begin(session, consultation, outside)
    assert refused.value.reason == Refusal.NOT_IN_AUDIENCE


async def test_resuming_later_continues_at_the_next_question(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    async with sessionmaker.begin() as session:
        consultation = await add_consultation(session)
        resident = await add_resident(session, 17)
        view = await c.begin(session, consultation, resident)
        await c.answer(session, resident, view.response.id, view.response.step, FREQUENCE, "jamais")
    async with sessionmaker.begin() as session:  # a new session, as after a restart
        resident = await session.get(type(resident), resident.id)
        consultation = await c.get_by_slug(session, "place-du-marche")
        view = await c.begin(session, consultation, resident)  # type: ignore[arg-type]
        assert view.response.cursor == PRIORITES and view.answers == {"frequence": "jamais"}


async def test_answers_can_change_after_submitting_until_closing(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    resident = await add_resident(session, 18)
    view = await c.begin(session, consultation, resident)
    rid = view.response.id
    view = await c.answer(session, resident, rid, view.response.step, FREQUENCE, "hebdo")
    view = await c.skip(session, resident, rid, view.response.step, PRIORITES)
    view = await c.skip(session, resident, rid, view.response.step, SATISFACTION)
    step_before = view.response.step
    with pytest.raises(Refused) as required:
        await c.skip(session, resident, rid, step_before, PIETONNE)
    assert required.value.reason == Refusal.REQUIRED
    view = await c.answer(session, resident, rid, step_before, PIETONNE, "yes")  # the refused skip changed nothing
    view = await c.submit(session, resident, rid, view.response.step)
    view = await c.edit(session, resident, rid, view.response.step, FREQUENCE)
    view = await c.answer(session, resident, rid, view.response.step, FREQUENCE, "mois")
    assert view.response.cursor is None and view.response.status == ResponseStatus.SUBMITTED
    assert view.answers["frequence"] == "mois" and view.answers["priorites"] is None


async def test_submitting_drops_answers_to_questions_no_longer_asked(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    resident = await add_resident(session, 19)
    view = await c.begin(session, consultation, resident)
    rid = view.response.id
    for index, value in ((FREQUENCE, "hebdo"), (SATISFACTION, 2), (PIETONNE, "no"), (POURQUOI, "Le bruit")):
        if index == SATISFACTION:
            view = await c.skip(session, resident, rid, view.response.step, PRIORITES)
        view = await c.answer(session, resident, rid, view.response.step, index, value)
    view = await c.edit(session, resident, rid, view.response.step, PIETONNE)
    view = await c.answer(session, resident, rid, view.response.step, PIETONNE, "yes")
    view = await c.submit(session, resident, rid, view.response.step)
    assert "pourquoi" not in view.answers
    assert "pourquoi" not in [a.question_id for a in await session.scalars(select(ConsultationAnswer))]


async def test_native_poll_answers_count_once_per_resident(session) -> None:  # type: ignore[no-untyped-def]
    spec = sample_spec()
    consultation = await add_consultation(session, slug="sondage", questions=[spec.questions[PIETONNE]])
    resident, stranger = await add_resident(session, 20), await add_resident(session, 21)
    assert c.poll_refusal(consultation) is None
    assert await c.register_poll(session, consultation, resident)
    assert not await c.register_poll(session, consultation, resident)
    poll = await session.scalar(select(ConsultationPoll))

    class Sent:  # what Telegram answers to sendPoll
        message_id = 77
        poll = type("P", (), {"id": "poll-1"})()

    await c.record_poll_sent(
        session, OutboxMessage(chat_id=20, method="sendPoll", dedupe_key=c.poll_dedupe_key(consultation.id, resident.id)), Sent()
    )
    await session.refresh(poll)
    assert (poll.poll_id, poll.message_id, poll.status) == ("poll-1", 77, "open")
    assert await c.record_poll_answer(session, "poll-1", resident, [0]) == c.PollOutcome.RECORDED
    assert await c.record_poll_answer(session, "poll-1", resident, [1]) == c.PollOutcome.RECORDED  # changed their mind
    assert await c.record_poll_answer(session, "poll-1", stranger, [0]) == c.PollOutcome.IGNORED
    assert await c.record_poll_answer(session, "poll-1", resident, [5]) == c.PollOutcome.IGNORED
    assert await c.record_poll_answer(session, "poll-2", resident, [0]) == c.PollOutcome.UNKNOWN_POLL
    assert await count(session, ConsultationResponse) == 1
    assert [a.value for a in await session.scalars(select(ConsultationAnswer))] == ["no"]
    # Closing stops the poll once, however many times the job fires.
    assert await c.close_if_due(session, consultation.id, now=consultation.closes_at)
    assert not await c.close_if_due(session, consultation.id, now=consultation.closes_at)
    stops = (await session.scalars(select(OutboxMessage).where(OutboxMessage.method == "stopPoll"))).all()
    assert [(m.chat_id, m.payload) for m in stops] == [(20, {"chat_id": 20, "message_id": 77})]
    assert await c.record_poll_answer(session, "poll-1", resident, [0], now=consultation.closes_at) == c.PollOutcome.IGNORED


async def test_scheduler_transitions_claim_their_row_once(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session, opens_at=hours(-1), closes_at=hours(1))
    assert {(kind) for _, kind, _ in await c.due_transitions(session)} == {"open", "close"}
    assert await c.open_if_due(session, consultation.id)
    assert not await c.open_if_due(session, consultation.id)
    assert not await c.close_if_due(session, consultation.id)  # not yet
    assert await c.close_if_due(session, consultation.id, now=hours(2))
    await session.refresh(consultation)
    assert consultation.status == "closed" and await c.due_transitions(session) == []


async def test_participants_lists_finished_and_unfinished(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    done, halfway = await add_resident(session, 22), await add_resident(session, 23)
    view = await c.begin(session, consultation, done)
    for index, value in ((FREQUENCE, "hebdo"), (PRIORITES, None), (SATISFACTION, 3), (PIETONNE, "yes")):
        if value is None:
            view = await c.skip(session, done, view.response.id, view.response.step, index)
        else:
            view = await c.answer(session, done, view.response.id, view.response.step, index, value)
    await c.submit(session, done, view.response.id, view.response.step)
    await c.begin(session, consultation, halfway)
    found = await c.participants(session, consultation.id)
    assert [r.telegram_id for r in found.submitted] == [22] and [r.telegram_id for r in found.unfinished] == [23]
    assert utcnow() < consultation.closes_at


async def test_a_poll_delivered_after_closing_is_stopped_at_once(session) -> None:  # type: ignore[no-untyped-def]
    spec = sample_spec()
    consultation = await add_consultation(session, slug="sondage", questions=[spec.questions[PIETONNE]])
    resident = await add_resident(session, 24)
    await c.register_poll(session, consultation, resident)
    assert await c.close_if_due(session, consultation.id, now=consultation.closes_at)  # nothing sent yet: nothing to stop
    consultation.closes_at = utcnow() - timedelta(seconds=1)

    class Sent:
        message_id = 9
        poll = type("P", (), {"id": "late"})()

    await c.record_poll_sent(
        session, OutboxMessage(chat_id=24, method="sendPoll", dedupe_key=c.poll_dedupe_key(consultation.id, resident.id)), Sent()
    )
    stops = (await session.scalars(select(OutboxMessage).where(OutboxMessage.method == "stopPoll"))).all()
    assert [m.payload for m in stops] == [{"chat_id": 24, "message_id": 9}]


async def test_back_returns_to_the_previous_question_asked(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    resident = await add_resident(session, 25)
    view = await c.begin(session, consultation, resident)
    rid = view.response.id
    with pytest.raises(Refused):  # nothing before the first question
        await c.back(session, resident, rid, view.response.step, FREQUENCE)
    view = await c.answer(session, resident, rid, view.response.step, FREQUENCE, "hebdo")
    view = await c.back(session, resident, rid, view.response.step, PRIORITES)
    assert view.response.cursor == FREQUENCE and view.answers["frequence"] == "hebdo"
    for index, value in ((FREQUENCE, "mois"), (PRIORITES, None), (SATISFACTION, 1), (PIETONNE, "yes")):
        if value is None:
            view = await c.skip(session, resident, rid, view.response.step, index)
        else:
            view = await c.answer(session, resident, rid, view.response.step, index, value)
    view = await c.back(session, resident, rid, view.response.step, None)  # from the summary
    assert view.response.cursor == PIETONNE  # the hidden text question is not asked


async def test_mydata_lists_answers_and_forget_keeps_only_anonymous_choices(session) -> None:  # type: ignore[no-untyped-def]
    from participation.privacy import erase_resident, personal_data

    consultation = await add_consultation(session)
    resident = await add_resident(session, 26)
    view = await c.begin(session, consultation, resident)
    rid = view.response.id
    for index, value in (
        (FREQUENCE, "hebdo"),
        (PRIORITES, None),
        (SATISFACTION, 3),
        (PIETONNE, "no"),
        (POURQUOI, "J’habite au 3 rue X"),
    ):
        if value is None:
            view = await c.skip(session, resident, rid, view.response.step, index)
        else:
            view = await c.answer(session, resident, rid, view.response.step, index, value)
    await c.submit(session, resident, rid, view.response.step)
    await c.register_poll(session, consultation, resident)
    mine = (await personal_data(session, resident))["consultation_responses"]
    assert mine[0]["consultation"] == "place-du-marche" and mine[0]["status"] == "submitted"
    assert {a["question"]: a["value"] for a in mine[0]["answers"]}["pourquoi"] == "J’habite au 3 rue X"
    await erase_resident(session, resident)
    left = dict((await session.execute(select(ConsultationAnswer.question_id, ConsultationAnswer.value))).all())
    assert left == {"frequence": "hebdo", "priorites": None, "satisfaction": 3, "pietonne": "no"}
    assert await count(session, ConsultationPoll) == 0
