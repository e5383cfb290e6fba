"""No dead ends: a resident can always go on, whatever they answered before (issue 15, item 1)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, onboard
from tests.e2e.test_consultations import button_texts, import_file, with_times

OTHER_REQUIRED = """questions:
  - id: priorites
    type: multiple
    max: 2
    other: true
    required: true
    prompt: {fr: "Vos priorités ?", en: "Your priorities?"}
    choices:
      - {id: arbres, label: {fr: Des arbres, en: Trees}}
      - {id: bancs, label: {fr: Des bancs, en: Benches}}
      - {id: velos, label: {fr: Des vélos, en: Bikes}}
"""


async def test_a_revisited_multiple_choice_with_other_can_be_validated_and_submitted(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(days=7), questions=OTHER_REQUIRED))
    await palabre.start()
    alice = fake.user(1001, "Alice")
    await onboard(alice)
    await alice.press("🗳 Consultations")
    await alice.wait_message("Les consultations ouvertes pour vous")
    await alice.tap("Réaménagement de la place du marché")
    await alice.wait_message("Vos priorités")
    await alice.tap("Des arbres")
    await alice.wait_message(lambda m: "✓ Des arbres" in button_texts(m))
    await alice.tap("✏️ Autre…")
    await alice.wait_message("Écrivez votre réponse")
    await alice.send_text("Une fontaine")
    summary = await alice.wait_message("Voici vos réponses")
    assert "Des arbres, Autre\u00a0: Une fontaine" in summary["text"]

    # Back to the question from the summary: the ticks and « Autre » are shown, « Valider » works.
    await alice.tap("✏️ 1", summary)
    question = await alice.wait_message(lambda m: "✓ ✏️ Autre…" in button_texts(m))
    assert "✓ Des arbres" in button_texts(question)
    await alice.tap("✅ Valider", question)
    summary = await alice.wait_message("Voici vos réponses")
    assert "Des arbres, Autre\u00a0: Une fontaine" in summary["text"]

    # Revisited again, the « Autre » text is replaced, not refused as a third answer.
    await alice.tap("⬅️ Retour", summary)
    await alice.wait_message(lambda m: "✓ ✏️ Autre…" in button_texts(m))
    await alice.tap("✏️ Autre…")
    await alice.wait_message("Écrivez votre réponse")
    await alice.send_text("Un kiosque")
    summary = await alice.wait_message("Voici vos réponses")
    assert "Des arbres, Autre\u00a0: Un kiosque" in summary["text"]
    await alice.tap("📨 Envoyer", summary)
    done = await alice.wait_message("vos réponses sont enregistrées")
    assert "Un kiosque" in done["text"]
    fake.assert_no_errors()


async def test_the_help_is_readable_before_and_after_declining_the_notice(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    await palabre.start()
    bob = fake.user(1002, "Bob")
    await bob.send_command("/start")
    await bob.wait_message("Palabre")
    await bob.tap("Français")
    await bob.wait_message("Vos données")
    # Someone hesitating over the notice wants to know what the service is first.
    await bob.send_command("/aide")
    await bob.wait_message("Comment fonctionne Palabre")
    await bob.tap("Non merci")
    await bob.wait_message("/start")
    await bob.send_command("/help")
    await bob.wait_message("Comment fonctionne Palabre")
    fake.assert_no_errors()
