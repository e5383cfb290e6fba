"""Turns results publications into outbox rows, one chunk per call, each in its recipient's language.

Runs as a feeder of the sender (bot/sender.py), like BroadcastFeeder: each call queues at most one
chunk, in its own transaction that also moves the publication's cursor, so a crash resumes after
the last committed chunk and never queues anyone twice (dedupe keys `pub:<id>:<resident>:<part>`).

Charts are drawn once per language into MEDIA_DIR/publications/<id>/ and sent by path; a file is
written under a temporary name and renamed, so a crash never leaves a half-written chart.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n, gettext, ngettext

from config.settings import Settings
from notices import publication as texts
from notices import result_texts
from notices.locales import recipient_locale
from notices.numbers import format_percent
from participation import outbox, publication, results
from storage.db import SessionMaker
from storage.models import Consultation, Publication

KIND = "publication"


class PublicationFeeder:
    def __init__(self, sessionmaker: SessionMaker, i18n: I18n, settings: Settings, *, chunk: int = publication.CHUNK) -> None:
        self._sessionmaker = sessionmaker
        self._i18n = i18n
        self._settings = settings
        self._chunk = chunk
        # The outcome of a closed consultation no longer changes: rendered once per language and
        # publication, not once per chunk (100 chunks for 100,000 recipients).
        self._rendered: dict[tuple[int, str], list[tuple[str, dict[str, Any]]]] = {}

    async def __call__(self) -> bool:
        """Queue the next chunk of the oldest publication being queued; False when none is waiting."""
        async with self._sessionmaker.begin() as session:
            found = await publication.next_chunk(session, limit=self._chunk)
            if found is None:
                return False
            item, consultation, recipients = found
            assert item.id is not None
            rendered = {key: value for key, value in self._rendered.items() if key[0] == item.id}
            rows = []
            for recipient in recipients:
                locale = recipient_locale(recipient.locale, self._i18n)
                key = (item.id, locale)
                if key not in rendered:
                    rendered[key] = await self._render(session, item, consultation, locale)
                for part, (method, payload) in enumerate(rendered[key]):
                    rows.append(
                        {
                            "chat_id": recipient.telegram_id,
                            "resident_id": recipient.resident_id,
                            "method": method,
                            "payload": payload,
                            "kind": KIND,
                            "dedupe_key": publication.dedupe_key(item.id, recipient.resident_id, part),
                        }
                    )
            await outbox.enqueue_many(session, rows)
            await publication.chunk_done(session, item, recipients, limit=self._chunk)
        self._rendered = rendered  # only the publication being queued is kept
        return True

    async def _render(
        self, session: Any, item: Publication, consultation: Consultation, locale: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """The text (the council's decision first) then the charts (as photos, by path), in `locale`."""
        with self._i18n.context(), self._i18n.use_locale(locale):
            computed = await texts.compute(session, consultation, locale, self._i18n.default_locale)
            messages: list[tuple[str, dict[str, Any]]] = [
                ("sendMessage", {"text": text})
                for text in texts.outcome_texts(computed, publication.decision_in(item, locale), locale)
            ]
            footer = result_texts.chart_footer(
                computed, locale, self._settings.tz, self._settings.commune_name, gettext, ngettext
            )
            folder = Path(self._settings.media_dir) / "publications" / str(item.id) / locale
            number = 0
            for index, question in enumerate(computed.questions, start=1):
                if not question.options or number >= texts.MAX_CHARTS:
                    continue
                number += 1
                path = folder / f"{question.id}.png"
                if not path.exists():
                    png = await asyncio.to_thread(
                        results.chart_png,
                        question,
                        caption=texts.chart_axis_label(question),
                        format_share=lambda share: format_percent(share, locale),
                        weighted_word=gettext("weighted"),
                        note=result_texts.question_note(question, gettext),
                        footer=footer,
                    )
                    if png is None:
                        continue
                    await asyncio.to_thread(_write_atomically, path, png)
                messages.append(
                    ("sendPhoto", {"photo": {"path": str(path.resolve())}, "caption": texts.chart_caption(computed, index)})
                )
        return messages


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, path)
