"""Turns confirmed broadcasts into outbox rows, one chunk per call, each rendered in its recipient's language.

Runs as a feeder of the sender (bot/sender.py): before each batch it queues at most one chunk, in
its own transaction that also moves the broadcast's cursor, so a crash resumes after the last
committed chunk and never queues anyone twice (dedupe keys `b:<broadcast>:<resident>`).
"""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import I18n

from config.settings import Settings
from notices import broadcasts as broadcast_texts
from notices import meetings as meeting_texts
from notices.locales import recipient_locale
from participation import broadcasts, outbox
from storage.db import SessionMaker
from storage.models import Meeting


class BroadcastFeeder:
    def __init__(self, sessionmaker: SessionMaker, i18n: I18n, settings: Settings, *, chunk: int = broadcasts.CHUNK) -> None:
        self._sessionmaker = sessionmaker
        self._i18n = i18n
        self._settings = settings
        self._chunk = chunk

    async def __call__(self) -> bool:
        """Queue the next chunk of the oldest confirmed broadcast; False when none is waiting."""
        async with self._sessionmaker.begin() as session:
            found = await broadcasts.next_chunk(session, limit=self._chunk)
            if found is None:
                return False
            broadcast, recipients = found
            assert broadcast.id is not None  # read from the table
            meeting = await session.get(Meeting, broadcast.meeting_id) if broadcast.meeting_id else None
            rendered: dict[str, tuple[str, dict[str, Any]]] = {}
            rows = []
            for recipient in recipients:
                locale = recipient_locale(recipient.locale, self._i18n)
                if locale not in rendered:
                    with self._i18n.context(), self._i18n.use_locale(locale):
                        if meeting is not None:
                            rendered[locale] = meeting_texts.render_invitation(meeting, self._settings.tz, locale)
                        else:
                            reason = await broadcast_texts.audience_reason(
                                session, broadcast, locale, self._settings.default_locale
                            )
                            rendered[locale] = broadcast_texts.render(broadcast, self._settings.commune_name, reason)
                method, payload = rendered[locale]
                rows.append(
                    {
                        "chat_id": recipient.telegram_id,
                        "resident_id": recipient.resident_id,
                        "method": method,
                        "payload": payload,
                        "kind": "meeting" if meeting is not None else "broadcast",
                        "dedupe_key": broadcasts.dedupe_key(broadcast.id, recipient.resident_id),
                        "broadcast_id": broadcast.id,
                    }
                )
            await outbox.enqueue_many(session, rows)
            await broadcasts.chunk_done(session, broadcast, recipients, limit=self._chunk)
        return True
