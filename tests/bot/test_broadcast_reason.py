"""A broadcast says why the resident receives it, when Telegram's limits leave room for the line."""

from __future__ import annotations

from bot.i18n import build_i18n
from notices.broadcasts import render
from storage.models import Broadcast

REASON = "Vous recevez ce message car vous avez choisi le quartier Centre-ville."


def test_the_reason_closes_the_message() -> None:
    i18n = build_i18n("fr")
    broadcast = Broadcast(text="Travaux rue Haute lundi", audience_kind="neighbourhood", audience_value="centre")
    with i18n.context(), i18n.use_locale("fr"):
        method, payload = render(broadcast, "Saint-Palabre", REASON)
    assert method == "sendMessage"
    assert payload["text"].endswith("Travaux rue Haute lundi\n\n<i>" + REASON + "</i>")


def test_a_full_caption_keeps_the_officials_words_and_drops_the_reason() -> None:
    i18n = build_i18n("fr")
    broadcast = Broadcast(text="é" * 900, audience_kind="all", photo_file_id="AgAD")  # the longest text a photo may carry
    with i18n.context(), i18n.use_locale("fr"):
        method, payload = render(broadcast, "Saint-Palabre-sur-Loire", REASON)
    assert method == "sendPhoto"
    assert payload["caption"].endswith("é" * 900) and len(payload["caption"]) <= 1024
