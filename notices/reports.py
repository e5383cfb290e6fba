"""Reports as people see them: callback data, status names, cards, keyboards, and the notifier.

`ReportNotices` is the ReportNotifier of participation/reports.py: it renders each notification in
its recipient's language (the agents' group in DEFAULT_LOCALE) and puts it in the outbox. The
chat, the command line and the Open311 server all use it, so everyone is told the same way.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.labels import spoken_date
from participation import outbox
from participation.languages import in_language
from participation.reports import Status, category_of, photos_of, report_by_id
from storage.models import Report, ReportCategory, ReportStatusChange, Resident

log = logging.getLogger("palabre.reports")

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096


class ReportStep(CallbackData, prefix="rs"):
    """Buttons of the resident's reporting flow (checked against the conversation's state)."""

    action: str
    value: int = 0


class ReportFollow(CallbackData, prefix="rf"):
    report_id: int


class ReportFixed(CallbackData, prefix="rx"):
    report_id: int
    fixed: bool


class SavedReplyPick(CallbackData, prefix="sr"):
    """A saved reply tapped under the status prompt in the agents' group: the note to send."""

    report_id: int
    status: str
    reply_id: int


class ReportShow(CallbackData, prefix="rh"):
    report_id: int


class AgentAction(CallbackData, prefix="ag"):
    """Buttons under a report in the agents' group."""

    action: str  # ack | menu | set | nonote | dup
    report_id: int
    status: str = "-"


STATUS_LABELS = {
    Status.NEW: __("🆕 New"),
    Status.ACKNOWLEDGED: __("👀 Acknowledged"),
    Status.IN_PROGRESS: __("🔧 In progress"),
    Status.ACTION_SCHEDULED: __("📅 Action scheduled"),
    Status.FIXED: __("✅ Fixed"),
    Status.DUPLICATE: __("🔁 Duplicate"),
    Status.NOT_RESPONSIBLE: __("↪️ Not the town hall’s responsibility"),
    Status.NO_FURTHER_ACTION: __("⏹ No further action"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS[Status(status)])


def category_label(category: ReportCategory, locale: str, default_locale: str) -> str:
    return f"{in_language(category.group_name, locale, default_locale)} › {in_language(category.name, locale, default_locale)}"


def map_link(report: Report) -> str:
    """The report's coordinates as a map link (HTML), without the address its author typed."""
    if report.lat is None or report.lon is None:
        return _("not given")
    link = f"https://www.openstreetmap.org/?mlat={report.lat:.6f}&mlon={report.lon:.6f}#map=19/{report.lat:.6f}/{report.lon:.6f}"
    label = _("map")
    return f'<a href="{html.escape(link)}">{label}</a>'


def place_text(report: Report) -> str:
    """Where the problem is, as HTML: the typed address, or the coordinates with a map link."""
    if report.lat is not None and report.lon is not None:
        link = (
            f"https://www.openstreetmap.org/?mlat={report.lat:.6f}&mlon={report.lon:.6f}#map=19/{report.lat:.6f}/{report.lon:.6f}"
        )
        where = f'<a href="{html.escape(link)}">{report.lat:.5f}, {report.lon:.5f}</a>'
        return f"{html.escape(report.address)} ({where})" if report.address else where
    if report.address:
        return html.escape(report.address)
    return _("not given")


def short_datetime(moment: datetime, locale: str, settings: Settings) -> str:
    return spoken_date(moment, settings.tz, locale)


def agent_card(report: Report, category: ReportCategory, photo_count: int, settings: Settings, limit: int) -> str:
    """The report as the agents' group sees it, within Telegram's `limit` (caption or text)."""
    locale = settings.default_locale
    head = _("📍 <b>Report {ref}</b>\n<b>Category:</b> {category}\n<b>Place:</b> {place}\n<b>Status:</b> {status_name}").format(
        ref=report.ref,
        category=html.escape(category_label(category, locale, locale)),
        place=place_text(report),
        status_name=status_label(report.status),
    )
    if photo_count > 1:
        head += "\n" + _("📷 {count} photos").format(count=photo_count)
    room = limit - len(head) - 4
    description = report.description if len(report.description) <= room else report.description[: max(0, room - 1)] + "…"
    return f"{head}\n\n{html.escape(description)}"


def agent_keyboard(report: Report) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("👀 Acknowledge"), callback_data=AgentAction(action="ack", report_id=report.id).pack()
                ),  # type: ignore[arg-type]
                InlineKeyboardButton(
                    text=_("🔧 Set status"), callback_data=AgentAction(action="menu", report_id=report.id).pack()
                ),  # type: ignore[arg-type]
            ],
            [
                InlineKeyboardButton(
                    text=_("🔁 Duplicate of…"), callback_data=AgentAction(action="dup", report_id=report.id).pack()
                )
            ],  # type: ignore[arg-type]
        ]
    )


def fixed_keyboard(report: Report) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("👍 Yes, it is fixed"), callback_data=ReportFixed(report_id=report.id, fixed=True).pack()
                ),  # type: ignore[arg-type]
                InlineKeyboardButton(
                    text=_("👎 No, it is not"), callback_data=ReportFixed(report_id=report.id, fixed=False).pack()
                ),  # type: ignore[arg-type]
            ]
        ]
    )


class ReportNotices:
    """Renders report notifications per recipient and enqueues them (a ReportNotifier)."""

    def __init__(self, i18n: I18n, settings: Settings) -> None:
        self.i18n = i18n
        self.settings = settings

    def _locale(self, resident: Resident | None) -> str:
        locale = resident.locale if resident is not None else None
        return locale if locale in self.i18n.available_locales else self.settings.default_locale

    async def _post_to_agents(self, session: AsyncSession, report: Report, intro: str | None, key: str) -> None:
        chat_id = self.settings.agents_chat_id
        if chat_id is None:
            log.warning("report %s: AGENTS_CHAT_ID is not set; the agents were not told", report.id)
            return
        category = await category_of(session, report)
        photos = await photos_of(session, report)
        with self.i18n.context(), self.i18n.use_locale(self.settings.default_locale):
            keyboard = agent_keyboard(report).model_dump(exclude_none=True)
            prefix = f"{intro}\n\n" if intro else ""
            if photos:
                card = agent_card(report, category, len(photos), self.settings, CAPTION_LIMIT - len(prefix))
                method, payload = "sendPhoto", {"photo": photos[0].file_id, "caption": prefix + card, "reply_markup": keyboard}
            else:
                card = agent_card(report, category, 0, self.settings, TEXT_LIMIT - len(prefix))
                method, payload = "sendMessage", {"text": prefix + card, "reply_markup": keyboard}
        await outbox.enqueue(session, chat_id=chat_id, method=method, payload=payload, kind="report_agents", dedupe_key=key)

    async def report_created(self, session: AsyncSession, report: Report, category: ReportCategory) -> None:
        await self._post_to_agents(session, report, None, f"report:{report.id}:agents:new")

    async def reopened_by_reporter(self, session: AsyncSession, report: Report) -> None:
        with self.i18n.context(), self.i18n.use_locale(self.settings.default_locale):
            intro = _("⚠️ The reporter says report {ref} is <b>not fixed</b>: it is reopened.").format(ref=report.ref)
        await self._post_to_agents(session, report, intro, f"report:{report.id}:agents:reopened:{report.updated_at.isoformat()}")

    async def reporter_adds(
        self, session: AsyncSession, report: Report, text: str | None, photo_file_id: str | None, key: str
    ) -> None:
        """What the reporter says after « not fixed yet » (why, or a photo), for the agents."""
        chat_id = self.settings.agents_chat_id
        if chat_id is None:
            return
        with self.i18n.context(), self.i18n.use_locale(self.settings.default_locale):
            intro = _("💬 The reporter of {ref} adds:").format(ref=report.ref)
        body = f"{intro}\n{html.escape(text)}" if text else intro
        if photo_file_id:
            method, payload = "sendPhoto", {"photo": photo_file_id, "caption": body[:CAPTION_LIMIT]}
        else:
            method, payload = "sendMessage", {"text": body[:TEXT_LIMIT]}
        await outbox.enqueue(session, chat_id=chat_id, method=method, payload=payload, kind="report_agents", dedupe_key=key)

    async def status_changed(
        self,
        session: AsyncSession,
        report: Report,
        change: ReportStatusChange,
        recipients: list[Resident],
        ask_if_fixed: Resident | None,
    ) -> None:
        category = await category_of(session, report)
        original = await report_by_id(session, report.duplicate_of_id) if report.duplicate_of_id else None
        for person in recipients:
            assert person.telegram_id is not None
            locale = self._locale(person)
            with self.i18n.context(), self.i18n.use_locale(locale):
                text = status_notice(report, category, change, person, original, locale, self.settings)
                payload: dict = {"text": text}  # type: ignore[type-arg]
                if ask_if_fixed is not None and person.id == ask_if_fixed.id:
                    payload["text"] += "\n\n" + _("Is it really fixed?")
                    payload["reply_markup"] = fixed_keyboard(report).model_dump(exclude_none=True)
            await outbox.enqueue(
                session,
                chat_id=person.telegram_id,
                method="sendMessage",
                payload=payload,
                resident_id=person.id,
                kind="report_status",
                dedupe_key=f"report:{report.id}:change:{change.id}:to:{person.id}",
            )


def status_notice(
    report: Report,
    category: ReportCategory,
    change: ReportStatusChange,
    person: Resident,
    original: Report | None,
    locale: str,
    settings: Settings,
) -> str:
    """What a reporter or follower reads when the status changes (in the current locale)."""
    label = html.escape(category_label(category, locale, settings.default_locale))
    if person.id == report.resident_id:
        text = _("📍 Your report {ref} ({category}) is now: <b>{status}</b>").format(
            ref=report.ref, category=label, status=status_label(change.to_status)
        )
    else:
        text = _("📍 The report {ref} you follow ({category}) is now: <b>{status}</b>").format(
            ref=report.ref, category=label, status=status_label(change.to_status)
        )
    if change.to_status == Status.DUPLICATE and original is not None:
        text += "\n" + _("It is the same problem as report {ref}: you now follow that one.").format(ref=original.ref)
    if change.note:
        text += "\n\n" + _("💬 Note from the town hall: {note}").format(note=html.escape(change.note))
    return text
