"""Officials find their tools: their own command menu, set per person (issue 15, item 8)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, onboard
from tests.e2e.test_broadcasts import wait_for
from tests.e2e.test_consultations import import_file, with_times


async def test_each_staff_member_gets_the_command_menu_of_their_role(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    admin = fake.user(6001, "Maire")
    await palabre.start(ADMIN_IDS="6001")
    await onboard(admin)
    await palabre.processes[0].restart()  # menus are set at start, for everyone known by then
    await fake.wait_request("setMyCommands", count=4, timeout=30)
    french = [c["command"] for c in fake.commands[("default", "fr")]]
    assert "signaler" in french and "aide" in french and "report" not in french and "grant" not in french
    mine = [c["command"] for c in fake.commands[(f"chat:{admin.chat_id}", "")]]
    assert "grant" in mine and "newconsultation" in mine and "stats" in mine


async def test_an_admin_gives_a_role_in_the_chat_the_official_uses_it_then_loses_it(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    """Issue 15 item 8: grant in the chat → the new official is told their commands and gets their menu;
    they pick a consultation from buttons to read its results; the admin takes the role back (menu removed)."""
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(days=5)))
    admin, lea = fake.user(6101, "Maire"), fake.user(6102, "Léa")
    await palabre.start(ADMIN_IDS="6101")
    await onboard(admin)
    await onboard(lea)
    lea_menu = (f"chat:{lea.chat_id}", "")

    await lea.send_command("/results")  # not yet an official
    assert (await lea.wait_message())["text"] == "Désolé, cette commande est réservée aux élus et chargés de participation."

    await admin.send_command("/grant 6102")
    await admin.wait_message("Quel rôle donner à 6102")
    await admin.tap("élu ou chargé de participation")
    assert (await admin.wait_message("maintenant"))["text"] == (
        "✅ 6102 est maintenant «\u202félu ou chargé de participation\u202f». Nous avons prévenu cette personne."
    )
    news = await lea.wait_message("Vos commandes", timeout=30)
    assert news["text"].startswith("👋 Vous êtes maintenant «\u202félu ou chargé de participation\u202f» sur Palabre.")
    assert "/results — Les résultats d’une consultation" in news["text"]
    await wait_for(lambda: lea_menu in fake.commands, timeout=30, what="her command menu")
    commands = [c["command"] for c in fake.commands[lea_menu]]
    assert "results" in commands and "signaler" in commands and "grant" not in commands

    await lea.send_command("/results")
    assert (await lea.wait_message("Quelle consultation"))["text"] == "Quelle consultation\u202f?"
    await lea.tap("Réaménagement de la place du marché (ouverte)")
    summary = await lea.wait_message("📊")
    assert "Participation\u00a0: 0 commencées, 0 terminées." in summary["text"]

    await admin.send_command("/roles")
    await admin.wait_message("Rôles")
    await admin.tap("6102")
    await admin.wait_message("Retirer à 6102")
    await admin.tap("✅ Retirer le rôle")
    assert (await admin.wait_message("n’est plus"))["text"] == "✅ 6102 n’est plus «\u202félu ou chargé de participation\u202f»."
    await wait_for(lambda: lea_menu not in fake.commands, timeout=30, what="her menu removed")
    await lea.send_command("/results")
    assert (await lea.wait_message())["text"] == "Désolé, cette commande est réservée aux élus et chargés de participation."
    fake.assert_no_errors()
