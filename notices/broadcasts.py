"""Broadcasts as residents receive them."""

from __future__ import annotations

import html
from typing import Any

from aiogram.utils.i18n import gettext as _

from notices.labels import town_hall
from storage.models import Broadcast


def render(broadcast: Broadcast, commune_name: str = "") -> tuple[str, dict[str, Any]]:
    """The Bot API method and parameters of `broadcast`, in the current locale, signed by the commune."""
    header = _("📢 <b>Message from {town_hall}</b>").format(town_hall=town_hall(commune_name))
    body = header + ("\n\n" + html.escape(broadcast.text) if broadcast.text else "")
    if broadcast.photo_file_id or broadcast.photo_path:
        photo: Any = broadcast.photo_file_id or {"path": broadcast.photo_path}
        return "sendPhoto", {"photo": photo, "caption": body}
    return "sendMessage", {"text": body}
