"""The officials' web back office in a real browser, against the real `palabre run` and the fake Bot API."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import update

from storage.db import make_engine, make_sessionmaker
from storage.models import Consultation, WebSignInToken
from storage.types import utcnow
from tests.e2e.browser import chromium, shoot
from tests.e2e.fake_telegram import FakeTelegram, FakeUser
from tests.e2e.harness import BotProcess, PalabreFactory, import_categories, onboard, palabre_cli
from tests.e2e.test_reports import AGENTS_CHAT, file_pothole, human

AGENT = 7001
OFFICIAL = 7002
SECOND_AGENT = 7004  # a second agent, with nothing assigned
LINK = re.compile(r"http://\S+/backoffice/signin/[A-Za-z0-9_-]+")
# A tile server nobody answers on: the map must still show its markers and the page its table.
NO_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"


async def start(palabre: PalabreFactory, tmp_path: Path, **env: str) -> BotProcess:
    bot = palabre.process(AGENTS_CHAT_ID=AGENTS_CHAT, WEB_ENABLED="true", MAP_TILES_URL=NO_TILES, **env)
    bot.env["WEB_BASE_URL"] = bot.http_url
    await import_categories(bot, tmp_path)
    await palabre_cli(bot, "role", "grant", str(AGENT), "agent")
    await palabre_cli(bot, "role", "grant", str(OFFICIAL), "official")
    await palabre_cli(bot, "role", "grant", str(SECOND_AGENT), "agent")
    return await bot.start()


async def ask_link(user: FakeUser) -> str:
    await human()
    await user.send_command("/web")
    message = await user.wait_message("/backoffice/signin/")
    found = LINK.search(message["text"])
    assert found, message["text"]
    return found.group(0)


async def expire_links(database_url: str) -> None:
    """Ten minutes pass for every link issued so far (the clock of the store, not a sleep)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            await session.execute(update(WebSignInToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    finally:
        await engine.dispose()


async def close_consultation(database_url: str, slug: str) -> None:
    """The consultation's closing time comes (moved in the store rather than waited for)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            await session.execute(
                update(Consultation).where(Consultation.slug == slug).values(closes_at=utcnow() - timedelta(seconds=1))
            )
    finally:
        await engine.dispose()


async def test_agent_signs_in_filters_reports_and_changes_a_status_the_reporter_hears(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path, screenshots: Path
) -> None:
    fake.group(AGENTS_CHAT, "Agents de la mairie")
    bot = await start(palabre, tmp_path, WEB_TOTP_FOR="staff")
    shots = screenshots

    camille = fake.user(7101, "Camille", language_code="fr")
    await onboard(camille)
    ref = await file_pothole(camille)

    # A resident asking for a link is politely refused, and no link exists for them.
    await human()
    await camille.send_command("/web")
    refusal = await camille.wait_message("réservé")
    assert "/backoffice/" not in refusal["text"]

    agent = fake.user(AGENT, "Dominique", language_code="fr")
    link = await ask_link(agent)
    async with chromium() as browser:
        context = await browser.new_context(locale="fr-FR")
        page = await context.new_page()
        await page.goto(link)
        await shoot(page, shots, "01-signin")
        await page.get_by_role("button", name="Se connecter à l’espace agents").click()
        await page.wait_for_url("**/backoffice/totp")
        await shoot(page, shots, "02-totp-enrolment")
        # A wrong code is refused and keeps the session waiting for the second factor.
        await page.get_by_label("Code à 6 chiffres").fill("000000")
        await page.get_by_role("button", name="Confirmer").click()
        assert "Ce code n’est pas valable" in await page.inner_text("main")
        reports_before_code = await page.goto(f"{bot.http_url}/backoffice/reports")
        assert reports_before_code is not None and page.url.endswith("/backoffice/totp")
        secret = (await page.locator("#totp-secret").text_content() or "").strip()
        await page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
        await page.get_by_role("button", name="Confirmer").click()
        await page.wait_for_url("**/backoffice/")
        await shoot(page, shots, "03-home")

        # The same link cannot be used twice.
        other = await browser.new_context(locale="fr-FR")
        replay = await other.new_page()
        await replay.goto(link)
        await replay.get_by_role("button", name="Se connecter à l’espace agents").click()
        assert "déjà servi" in await replay.inner_text("main")

        # Reports: filters, then the report's page.
        await page.get_by_role("link", name="Signalements").first.click()
        await page.get_by_label("Statut").select_option("new")
        await page.get_by_label("Catégorie").select_option("voirie-chaussee")
        await page.get_by_role("button", name="Filtrer").click()
        assert await page.locator("#count").inner_text() == "1 signalement"
        assert ref in await page.locator("table").inner_text()
        await page.wait_for_selector("#map.ready .leaflet-marker-icon")  # markers without any tile
        await shoot(page, shots, "04-reports")
        await page.get_by_label("Statut").select_option("fixed")
        await page.get_by_role("button", name="Filtrer").click()
        assert await page.locator("#count").inner_text() == "0 signalement"

        await page.goto(f"{bot.http_url}/backoffice/reports")
        await page.get_by_role("link", name=ref).click()
        await page.wait_for_selector("h1")
        await shoot(page, shots, "05-report")

        # A form posted without its CSRF token changes nothing.
        report_url = page.url
        forged = await page.request.post(f"{report_url}/status", form={"status": "fixed", "note": "forgé"})
        assert forged.status == 403
        await page.reload()
        assert "Nouveau" in await page.locator("#status").inner_text()

        # Assigned to the agent, it shows under the "assigned agent" filter.
        await page.get_by_label("Agent", exact=True).select_option(str(AGENT))
        await page.get_by_role("button", name="Attribuer").click()
        await page.wait_for_selector(".notice.ok")
        await page.goto(f"{bot.http_url}/backoffice/reports")
        await page.get_by_label("Agent chargé").select_option(label=str(AGENT))
        await page.get_by_role("button", name="Filtrer").click()
        assert await page.locator("#count").inner_text() == "1 signalement"
        assert str(AGENT) not in page.url  # a Telegram id never goes into an address
        await page.get_by_label("Agent chargé").select_option(label=str(SECOND_AGENT))
        await page.get_by_role("button", name="Filtrer").click()
        assert await page.locator("#count").inner_text() == "0 signalement"

        # A saved reply for the category, picked under the note instead of typing it.
        await page.get_by_role("link", name="Réponses types").click()
        await page.get_by_label("Titre").fill("Équipe prévue")
        await page.get_by_label("Catégorie").select_option("voirie-chaussee")
        await page.get_by_label("Texte").fill("Une équipe passe demain matin")
        await page.get_by_role("button", name="Ajouter").click()
        await page.wait_for_selector(".notice.ok")
        await shoot(page, shots, "05b-saved-replies")
        await page.goto(report_url)
        await page.get_by_label("Nouveau statut").select_option("in_progress")
        await page.get_by_label("Équipe prévue").check()
        await page.get_by_role("button", name="Changer le statut").click()
        await page.wait_for_selector(".notice.ok")
        assert "En cours" in await page.locator("#status").inner_text()
        await shoot(page, shots, "06-report-changed")

        # The reporter hears it in the chat, as when an agent taps in the group.
        notice = await camille.wait_message("Une équipe passe demain matin", timeout=15)
        assert ref in notice["text"] and "En cours" in notice["text"]
        # The report's one card in the agents' group is edited in place: its status and who handles it.
        watcher = fake.user(7098, "Lou").in_chat(AGENTS_CHAT)

        def card_text(message: dict[str, Any]) -> str:
            return str(message.get("caption") or message.get("text") or "")

        await watcher.wait_message(
            lambda m: (
                card_text(m).startswith(f"📍 Signalement {ref}")
                and "Statut\u00a0: 🔧 En cours" in card_text(m)
                and f"Suivi par\u00a0: agent {AGENT}" in card_text(m)
            ),
            timeout=15,
        )
        assert len([m for m in watcher.messages if card_text(m).startswith(f"📍 Signalement {ref}")]) == 1

        # Sign out everywhere: the session no longer opens any page.
        await page.get_by_role("button", name="Se déconnecter partout").click()
        assert "1 session a été fermée." in await page.inner_text("main")
        closed = await page.goto(f"{bot.http_url}/backoffice/reports")
        assert closed is not None and closed.status == 401

        # A link left unused past its few minutes is refused.
        late = await ask_link(agent)
        await expire_links(palabre.database_url)
        await replay.goto(late)
        await replay.get_by_role("button", name="Se connecter à l’espace agents").click()
        assert "a expiré" in await replay.inner_text("main")
        await shoot(replay, shots, "07-expired-link")

        # Without a session (a resident has none to get), no page opens.
        anonymous = await (await browser.new_context()).new_page()
        for path in ("/backoffice/", "/backoffice/reports", "/backoffice/consultations", "/backoffice/totp"):
            response = await anonymous.goto(f"{bot.http_url}{path}")
            assert response is not None and response.status == 401, path
        # A proxy saying the browser came over plain HTTP gets nothing either.
        plain = await anonymous.request.get(f"{bot.http_url}/backoffice/reports", headers={"X-Forwarded-Proto": "http"})
        assert plain.status == 403
    fake.assert_no_errors()
    await bot.stop()
    assert "Une équipe passe" not in bot.logs and "/backoffice/signin/" not in bot.logs


GARDEN = """slug: jardin-partage
title: {{fr: Un jardin partagé, en: A shared garden}}
description: {{fr: "Derrière la mairie.", en: "Behind the town hall."}}
opens_at: {opens}
closes_at: {closes}
questions:
  - id: jardin
    type: {qtype}
    prompt: {{fr: "Voulez-vous un jardin partagé ?", en: "Do you want a shared garden?"}}
    required: true
"""


async def answer_garden(user: FakeUser, choice: str) -> None:
    await human()
    await user.press("🗳 Consultations")
    await user.wait_message("Les consultations ouvertes pour vous")
    await human()
    await user.tap("Un jardin partagé")
    await user.wait_message("Question")
    await human()
    await user.tap(choice)
    await user.wait_message("Voici vos réponses")
    await human()
    await user.tap("Envoyer")
    await user.wait_message("vos réponses sont enregistrées")


async def test_official_imports_a_file_fixes_its_error_and_exports_what_residents_tapped(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path, screenshots: Path
) -> None:
    bot = await start(palabre, tmp_path)  # WEB_TOTP_FOR=admin: an official signs in without a code
    shots = screenshots
    now = utcnow()
    times = {"opens": (now - timedelta(minutes=1)).isoformat(), "closes": (now + timedelta(days=7)).isoformat()}
    broken = tmp_path / "jardin.yaml"
    broken.write_text(GARDEN.format(qtype="oui-non", **times), encoding="utf-8")

    official = fake.user(OFFICIAL, "Claude", language_code="fr")
    link = await ask_link(official)
    async with chromium() as browser:
        page = await (await browser.new_context(locale="fr-FR", accept_downloads=True)).new_page()
        await page.goto(link)
        await page.get_by_role("button", name="Se connecter à l’espace agents").click()
        await page.wait_for_url("**/backoffice/")
        await page.get_by_role("link", name="Consultations").first.click()
        await page.get_by_role("link", name="Importer un fichier de consultation").click()
        await shoot(page, shots, "10-import")

        # The file with a mistake: its problem is listed, nothing is imported.
        await page.get_by_label("Fichier de consultation (YAML)").set_input_files(str(broken))
        await page.get_by_role("button", name="Importer", exact=True).click()
        problems = await page.locator("#problems").inner_text()
        assert "1 problème\u00a0: rien n’a été importé." in problems and "questions[0].type: expected one of" in problems
        await shoot(page, shots, "11-import-error")
        await page.goto(f"{bot.http_url}/backoffice/consultations")
        assert "Aucune consultation" in await page.inner_text("main")

        # Fixed, it is imported.
        broken.write_text(GARDEN.format(qtype="yesno", **times), encoding="utf-8")
        await page.goto(f"{bot.http_url}/backoffice/consultations/import")
        await page.get_by_label("Fichier de consultation (YAML)").set_input_files(str(broken))
        await page.get_by_role("button", name="Importer", exact=True).click()
        await page.wait_for_url("**/backoffice/consultations/jardin-partage?done=created")

        # Three residents answer in the chat: two yes, one no.
        residents = [fake.user(8100 + n, f"Habitant {n}") for n in range(3)]
        for person, choice in zip(residents, ["Oui", "Oui", "Non"], strict=True):
            await onboard(person)
            await answer_garden(person, choice)

        await page.goto(f"{bot.http_url}/backoffice/consultations")
        listed = await page.locator("table").inner_text()
        assert "Un jardin partagé" in listed and "100 %" in listed
        await shoot(page, shots, "12-consultations")
        await page.get_by_role("link", name="Un jardin partagé").click()
        assert await page.locator("#participation").inner_text() == "3 commencées, 3 terminées."
        await page.wait_for_load_state("networkidle")  # the charts are drawn on the server, as PNG
        await shoot(page, shots, "13-results")

        async with page.expect_download() as csv_download:
            await page.get_by_role("link", name="CSV").click()
        rows = Path(await (await csv_download.value).path()).read_text(encoding="utf-8").splitlines()
        answers = [line.split(",")[-1] for line in rows[1:]]
        assert sorted(answers) == ["no", "yes", "yes"], rows
        json_export = await page.request.get(f"{bot.http_url}/backoffice/consultations/jardin-partage/export.json")
        counts = {o["value"]: o["count"] for o in (await json_export.json())["questions"][0]["options"]}
        assert counts == {"yes": 2, "no": 1}
        xlsx = await page.request.get(f"{bot.http_url}/backoffice/consultations/jardin-partage/export.xlsx")
        assert xlsx.ok and (await xlsx.body())[:2] == b"PK"
        chart = await page.request.get(f"{bot.http_url}/backoffice/consultations/jardin-partage/chart/1.png")
        assert chart.ok and (await chart.body())[:4] == b"\x89PNG"

        # Once it closes, the decision goes to the three participants.
        assert "une fois la consultation close" in await page.inner_text("main")
        await close_consultation(palabre.database_url, "jardin-partage")
        await page.reload()
        assert "Elle atteindra 3 habitants." in await page.inner_text("main")
        await page.get_by_label("Ce que le conseil a décidé", exact=False).fill("Le jardin ouvrira au printemps.")
        await page.get_by_role("button", name="Publier la décision").click()
        await page.wait_for_selector("#decision")
        await shoot(page, shots, "14-decision")
        for person in residents:
            await person.wait_message("Le jardin ouvrira au printemps.", timeout=20)

        # An official is not an agent: the reports' status form refuses them.
        refused = await page.request.post(f"{bot.http_url}/backoffice/reports/1/status", form={"status": "fixed"})
        assert refused.status == 403
    fake.assert_no_errors(allow=["Too Many Requests"])
    await bot.stop()


async def test_a_missing_chromium_fails_with_a_clear_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.e2e import browser

    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(AssertionError, match="install Debian's chromium"):
        async with chromium():
            pass


async def test_admin_grants_roles_broadcasts_answers_a_resident_and_reads_the_figures_and_the_log(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path, screenshots: Path
) -> None:
    admin_id = 9001
    bot = await start(palabre, tmp_path, ADMIN_IDS=str(admin_id))  # admins always confirm with a code
    camille, alex = fake.user(8201, "Camille"), fake.user(8202, "Alex")
    for person in (camille, alex):
        await onboard(person)
    await human()
    await camille.send_command("/feedback")
    await camille.wait_message("Une idée, une remarque")
    await human()
    await camille.send_text("Pourriez-vous annoncer les conseils municipaux ?")
    await camille.wait_message("Merci")

    admin = fake.user(admin_id, "Maire", language_code="fr")
    link = await ask_link(admin)
    async with chromium() as browser:
        page = await (await browser.new_context(locale="fr-FR")).new_page()
        await page.goto(link)
        await page.get_by_role("button", name="Se connecter à l’espace agents").click()
        await page.wait_for_url("**/backoffice/totp")
        secret = (await page.locator("#totp-secret").text_content() or "").strip()
        await page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
        await page.get_by_role("button", name="Confirmer").click()
        await page.wait_for_url("**/backoffice/")

        # Roles: grant, then revoke; both are in the audit log.
        await page.get_by_role("link", name="Rôles").click()
        await page.get_by_label("Identifiant Telegram", exact=False).fill("7003")
        await page.get_by_label("Rôle", exact=True).select_option("agent")
        await page.get_by_role("button", name="Attribuer le rôle").click()
        await page.wait_for_selector(".notice.ok")
        assert "7003" in await page.locator("table").inner_text()
        await shoot(page, screenshots, "20-roles")
        await page.get_by_role("row", name="7003").get_by_role("button", name="Retirer").click()
        await page.wait_for_selector(".notice.ok")
        assert "7003" not in await page.locator("table").inner_text()
        await page.get_by_role("link", name="Journal d’audit").click()
        log = await page.locator("table").inner_text()
        assert "role.grant" in log and "role.revoke" in log and "web.totp_confirmed" in log
        await shoot(page, screenshots, "21-audit")

        # A broadcast with a photo: its audience's size before sending, then its delivery as a photo.
        from PIL import Image

        poster = tmp_path / "affiche.png"
        Image.new("RGB", (600, 400), (30, 90, 160)).save(poster)
        await page.get_by_role("link", name="Messages groupés").click()
        await page.get_by_label("Destinataires").select_option("all")
        await page.get_by_label("Message", exact=True).fill("Réunion publique jeudi à 18 h")
        await page.get_by_label("Photo (facultative)").set_input_files(poster)
        await page.get_by_role("button", name="Voir le nombre de destinataires").click()
        assert await page.locator("#audience-size").inner_text() == "Ce message atteindra 2 habitants."
        assert "La photo accompagne le message" in await page.inner_text("main")
        await shoot(page, screenshots, "22-broadcast-check")
        await page.get_by_role("button", name="Confirmer et envoyer").click()
        for person in (camille, alex):
            received = await person.wait_message("Réunion publique jeudi à 18 h", timeout=20)
            assert received.get("photo") and "Réunion publique jeudi à 18 h" in received["caption"]  # sent with sendPhoto
        delivery = page.locator("#delivery")
        while "Envoyés 2" not in " ".join((await delivery.inner_text()).split()):
            await page.reload()  # the sender records each delivery just after Telegram's answer
        await shoot(page, screenshots, "23-broadcast-delivery")

        # Residents' messages: read and answer; the answer reaches the resident.
        await page.get_by_role("link", name="Messages des habitants").click()
        assert "Pourriez-vous annoncer les conseils municipaux" in await page.inner_text("main")
        await page.get_by_label("Votre réponse").fill("Oui, dès janvier.")
        await page.get_by_role("button", name="Envoyer la réponse").click()
        await page.wait_for_selector(".notice.ok")
        await shoot(page, screenshots, "24-feedback")
        answer = await camille.wait_message("Oui, dès janvier.", timeout=20)
        assert "Pourriez-vous annoncer" in answer["text"]

        # Council figures for a period, and the one-page report.
        await page.get_by_role("link", name="Chiffres pour le conseil").click()
        figures = await page.locator("pre.figures").inner_text()
        assert "Palabre" in figures
        await shoot(page, screenshots, "25-stats")
        png = await page.request.get(f"{bot.http_url}/backoffice/stats.png")
        assert png.ok and (await png.body())[:4] == b"\x89PNG"
        pdf = await page.request.get(f"{bot.http_url}/backoffice/stats.pdf?from=2026-01-01")
        assert pdf.ok and (await pdf.body())[:4] == b"%PDF"
        await page.get_by_role("link", name="Messages groupés").click()
        assert "Message groupé n° 1" in await page.locator("main ul").last.inner_text()
        bad = await page.request.get(f"{bot.http_url}/backoffice/stats?from=2026-12-01&to=2026-01-01")
        assert bad.status == 400
    # The official granted in start() never wrote to the bot, so Telegram refuses them the notice
    # of the new feedback (as it would); the admin opened the chat only later.
    fake.assert_no_errors(allow=["Too Many Requests", "chat not found"])
    await bot.stop()
    assert "Pourriez-vous" not in bot.logs and "Réunion publique" not in bot.logs
