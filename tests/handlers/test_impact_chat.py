"""Impact, feedback, satisfaction and figures in the chat, through the real Dispatcher."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.feedback import FeedbackCallback
from handlers.impact import SatisfactionCallback
from notices.feedback import FeedbackCancel
from notices.impact import CommentSkip
from notices.labels import spoken_date
from participation import satisfaction
from storage.db import SessionMaker
from storage.models import (
    AuditEntry,
    Consultation,
    ConsultationResponse,
    Feedback,
    OutboxMessage,
    Publication,
    Resident,
    SatisfactionAnswer,
    SatisfactionRound,
)
from storage.types import utcnow
from tests.handlers.notifications_helpers import alerts, buttons, make_official, onboard


async def test_feedback_reaches_officials_and_their_answer_reaches_the_resident(
    resident_factory, sessionmaker: SessionMaker
) -> None:  # type: ignore[no-untyped-def]
    official, anne = resident_factory(6001), resident_factory(6101, "en")
    await onboard(official, "fr")
    await onboard(anne, "en")
    await make_official(sessionmaker, 6001)

    await anne.send("/feedback")
    assert anne.last_reply() == "💬 An idea, a remark about this service? Write it in one message."
    assert buttons(anne) == [("❌ Cancel", FeedbackCancel().pack())]
    await anne.send_sticker()
    assert anne.last_reply() == "Please write your message as text."
    await anne.send("The buttons are <too> small")
    assert anne.last_reply() == "Thank you! Your message was passed on to the town hall; you will be told here when they answer."
    async with sessionmaker() as session:
        notices = {
            row.chat_id: row.payload
            for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "feedback"))
        }
        row = (await session.scalars(select(Feedback))).one()
    # The official (and the admin from ADMIN_IDS) hear of it, in French for the official, escaped.
    assert set(notices) == {1, 6001}
    assert notices[6001]["text"] == f"💬 <b>Nouvel avis n°{row.id}</b>\n\nThe buttons are &lt;too&gt; small"

    # A resident cannot use the officials' button; the official can, and answers.
    await anne.tap(FeedbackCallback(id=row.id).pack())
    assert alerts(anne)[-1] == "Sorry, this command is reserved for officials."
    await official.send("/feedbacks")
    assert (
        official.last_reply()
        == f"💬 <b>Message n°\u00a0{row.id}</b> ({spoken_date(row.created_at, ZoneInfo('Europe/Paris'), 'fr', with_time=False)})\n\nThe buttons are &lt;too&gt; small"
    )
    await official.tap(buttons(official)[0][1])
    assert official.last_reply() == f"Écrivez votre réponse à l’avis n°{row.id} en un message (ou /annuler)."
    await official.send("Nous les agrandissons dès lundi.")
    assert official.last_reply() == "Votre réponse est enregistrée\u00a0: l’habitant la reçoit dans un instant."
    await official.tap(FeedbackCallback(id=row.id).pack())  # an old button: answered already
    assert alerts(official)[-1] == "Cet avis a déjà reçu une réponse."
    await official.send("/feedbacks")
    assert official.last_reply() == "Aucun avis n’attend de réponse."
    async with sessionmaker() as session:
        answer = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "feedback-answer"))).one()
        audits = list(await session.scalars(select(AuditEntry.action)))
    assert answer.chat_id == 6101
    assert answer.payload["text"] == (
        "💬 <b>The town hall answered your feedback</b>\n\n«\u202fThe buttons are &lt;too&gt; small\u202f»\n\nNous les agrandissons dès lundi."
    )
    assert audits.count("feedback.answer") == 1

    await anne.send("/feedback " + "x" * 2001)
    assert anne.last_reply() == "Your message is too long (2001 characters out of 2000 allowed). Shorten it, then send it again."
    await official.send("/feedback")  # in French, the same shape; nothing was stored
    await official.send("é" * 2050)
    assert (
        official.last_reply()
        == "Votre message est trop long (2050 caractères sur 2000 possibles). Raccourcissez-le puis renvoyez-le."
    )
    async with sessionmaker() as session:
        assert len((await session.scalars(select(Feedback))).all()) == 1


async def test_impact_lists_consultations_and_sums_them_up(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    anne = resident_factory(6201)
    await onboard(anne, "fr")
    await anne.send("🌱 Mon impact")
    assert anne.last_reply().startswith("🌱 <b>Votre impact</b>\n\nVous avez répondu à 0 consultation.")
    assert anne.last_reply().endswith(
        "Rien pour l’instant\u00a0: répondez à une consultation ou signalez un problème, et vous verrez ici ce qu’il en est advenu."
    )
    now = utcnow()
    async with sessionmaker.begin() as session:
        me = (await session.scalars(select(Resident).where(Resident.telegram_id == 6201))).one()
        for slug, title, closes, status in (
            ("parc", "Le parc <Jaurès>", now - timedelta(days=2), "submitted"),
            ("halle", "La halle", now - timedelta(days=1), "submitted"),
            ("ecole", "L’école", now + timedelta(days=5), "in_progress"),
        ):
            c = Consultation(slug=slug, title={"fr": title}, opens_at=now - timedelta(days=10), closes_at=closes, status="open")
            session.add(c)
            await session.flush()
            session.add(ConsultationResponse(consultation_id=c.id, resident_id=me.id, status=status))  # type: ignore[arg-type]
            if slug == "parc":
                session.add(Publication(consultation_id=c.id, decision="Des bancs & des arbres dès le printemps", source="cli"))  # type: ignore[arg-type]
    await anne.send("/impact")
    text = anne.last_reply()
    assert "Vous avez répondu à 2 consultations. 1 a déjà abouti à une décision du conseil.\n" in text
    assert (
        "✅ Le parc &lt;Jaurès&gt;\u00a0: résultats publiés\u202f; le conseil a décidé\u00a0: Des bancs &amp; des arbres dès le printemps"
        in text
    )
    assert "✅ La halle\u00a0: close, résultats pas encore publiés" in text
    assert "⏸ L’école\u00a0: encore ouverte" in text


async def test_satisfaction_answer_with_a_comment_and_stale_buttons_refused(
    resident_factory, sessionmaker: SessionMaker, settings
) -> None:  # type: ignore[no-untyped-def]
    anne = resident_factory(6301)
    await onboard(anne, "fr")
    period = satisfaction.period_of(utcnow(), settings.satisfaction_interval_days)
    await anne.tap(SatisfactionCallback(period=period, score=4).pack())  # never asked: no round
    assert alerts(anne)[-1] == "Cette question est close\u202f; merci quand même."
    async with sessionmaker.begin() as session:
        session.add(SatisfactionRound(period=period))
    await anne.tap(SatisfactionCallback(period=period - 1, score=4).pack())  # last period's button
    assert alerts(anne)[-1] == "Cette question est close\u202f; merci quand même."
    await anne.tap(SatisfactionCallback(period=period, score=9).pack())  # forged score
    assert alerts(anne)[-1] == "Cette question est close\u202f; merci quand même."
    await anne.tap(SatisfactionCallback(period=period, score=2).pack())
    await anne.tap(SatisfactionCallback(period=period, score=4).pack())  # changes her mind
    assert (
        anne.last_reply()
        == "Merci\u202f! Voulez-vous ajouter un commentaire\u202f? Écrivez-le, ou touchez «\u202f⏭ Passer\u202f»."
    )
    assert buttons(anne) == [("⏭ Passer", CommentSkip(period=period).pack())]
    await anne.send_sticker()
    assert anne.last_reply() == "Écrivez votre commentaire sous forme de texte, ou /passer."
    await anne.send("z" * (satisfaction.MAX_COMMENT + 5))
    assert anne.last_reply() == (
        f"Votre commentaire est trop long ({satisfaction.MAX_COMMENT + 5} caractères sur {satisfaction.MAX_COMMENT} possibles). "
        "Raccourcissez-le puis renvoyez-le."
    )
    await anne.send("Pratique pour signaler les nids-de-poule")
    assert anne.last_reply() == "Merci, votre commentaire est enregistré."
    async with sessionmaker() as session:
        answers = [(a.period, a.score, a.comment) for a in await session.scalars(select(SatisfactionAnswer))]
    assert answers == [(period, 4, "Pratique pour signaler les nids-de-poule")]


async def test_stats_for_officials_only_as_text_and_report(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    official, anne = resident_factory(6401), resident_factory(6402)
    await onboard(official, "fr")
    await onboard(anne, "fr")
    await anne.send("/stats")
    assert anne.last_reply() == "Désolé, cette commande est réservée aux élus et chargés de participation."
    await make_official(sessionmaker, 6401)
    await official.send("/stats 2026-13-01")
    assert official.last_reply() == (
        "Ce jour ou cette heure n’existe pas\u00a0: vérifiez la date saisie. "
        "Pour une période\u00a0: /stats 1/09 30/11 (ou /stats seul pour les 90 derniers jours)."
    )
    await official.send("/stats")
    assert official.last_reply().startswith("Les chiffres de Palabre, du ")
    assert "Habitants\u00a0: 2 inscrits, 2 actifs sur la période, 0 a bloqué le bot." in official.last_reply()
    documents = [r for r in official.session.requests if type(r).__name__ == "SendDocument" and r.chat_id == 6401]
    assert len(documents) == 1 and documents[0].document.filename == "palabre-stats.pdf"
    assert documents[0].document.data.startswith(b"%PDF")


async def test_buttons_give_up_a_feedback_or_skip_a_comment_without_typing_a_command(
    resident_factory, sessionmaker: SessionMaker, settings
) -> None:  # type: ignore[no-untyped-def]
    anne = resident_factory(6501)
    await onboard(anne, "fr")
    await anne.send("/feedback")
    await anne.tap(FeedbackCancel().pack())
    assert anne.last_reply() == "Annulé\u00a0: rien n’a été envoyé."
    await anne.send("Finalement rien")  # no longer waiting for feedback: not sent to the town hall
    period = satisfaction.period_of(utcnow(), settings.satisfaction_interval_days)
    async with sessionmaker.begin() as session:
        session.add(SatisfactionRound(period=period))
    await anne.tap(SatisfactionCallback(period=period, score=5).pack())
    await anne.tap(CommentSkip(period=period).pack())
    assert anne.last_reply() == "C’est noté, merci."
    await anne.tap(CommentSkip(period=period).pack())  # the same button again: nothing waits for it
    assert alerts(anne)[-1] == "Ce bouton n’est plus valable."
    async with sessionmaker() as session:
        assert (await session.scalars(select(Feedback))).all() == []
        answers = [(a.score, a.comment) for a in await session.scalars(select(SatisfactionAnswer))]
    assert answers == [(5, None)]
