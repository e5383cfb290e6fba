"""Settings: topics with ✓, neighbourhood, notifications off and on."""

from __future__ import annotations

from sqlalchemy import select

from handlers.callbacks import NeighbourhoodCallback, SettingsCallback, TopicCallback
from storage.db import SessionMaker
from storage.models import Resident, Subscription
from tests.handlers.notifications_helpers import alerts, buttons, import_lists, onboard


async def test_resident_follows_topics_picks_a_neighbourhood_and_mutes_everything(
    resident_factory, sessionmaker: SessionMaker
) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    camille = resident_factory(3001)
    await onboard(camille)
    await camille.send("/settings")
    assert "Quartier\u00a0: non choisi" in camille.last_reply()
    assert "Notifications\u00a0: activées" in camille.last_reply()
    await camille.tap(SettingsCallback(action="topics").pack())
    assert [text for text, _ in buttons(camille)] == ["Urbanisme", "Culture"]
    await camille.tap(TopicCallback(code="culture").pack())
    assert [text for text, _ in buttons(camille)] == ["Urbanisme", "✓ Culture"]
    assert alerts(camille)[-1] == "Vous suivez ce thème."
    await camille.tap(TopicCallback(code="forged").pack())
    assert alerts(camille)[-1] == "Ce bouton n’est plus valable."
    await camille.tap(SettingsCallback(action="nbh").pack())
    assert [text for text, _ in buttons(camille)] == ["Centre-ville", "Nord", "Je préfère ne pas le dire"]
    await camille.tap(NeighbourhoodCallback(code="centre").pack())
    assert camille.last_reply() == "✅ Quartier enregistré\u00a0: Centre-ville. Et votre tranche d’âge\u202f?"
    await camille.send("/settings")
    assert "Quartier\u00a0: Centre-ville" in camille.last_reply()
    assert "Thèmes suivis\u00a0: 1" in camille.last_reply()
    await camille.tap(SettingsCallback(action="off").pack())
    assert alerts(camille)[-1] == (
        "🔕 Vous ne recevrez plus les annonces de la mairie. Nous vous tiendrons toujours au courant de vos signalements."
    )
    assert ("🔔 Activer les notifications", SettingsCallback(action="on").pack()) in buttons(camille)
    async with sessionmaker() as session:
        row = await session.scalar(select(Resident).where(Resident.telegram_id == 3001))
        topics = (await session.scalars(select(Subscription.topic_code))).all()
    assert row is not None and (row.neighbourhood, row.notifications_enabled) == ("centre", False)
    assert topics == ["culture"]
    await camille.tap(SettingsCallback(action="on").pack())
    async with sessionmaker() as session:
        row = await session.scalar(select(Resident).where(Resident.telegram_id == 3001))
    assert row is not None and row.notifications_enabled is True


async def test_topics_show_in_english_for_an_english_speaker(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    alex = resident_factory(3002, language_code="en")
    await onboard(alex, "en")
    await alex.send("/settings")
    await alex.tap(SettingsCallback(action="topics").pack())
    assert [text for text, _ in buttons(alex)] == ["Urban planning", "Culture"]
