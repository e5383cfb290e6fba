"""Reports as people see them: callback data, status names, cards, keyboards, and the notifier.

`ReportNotices` is the ReportNotifier of participation/reports.py: it renders each notification in
its recipient's language (the agents' group in DEFAULT_LOCALE) and puts it in the outbox. The
chat, the command line and the Open311 server all use it, so everyone is told the same way.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.labels import spoken_date
from notices.locales import recipient_locale
from participation import outbox, report_cards
from participation.languages import in_language
from participation.report_desk import assignment_of
from participation.reports import CLOSED_STATUSES, Status, category_of, photos_of, report_by_id
from storage.models import Report, ReportAssignment, ReportCategory, ReportStatusChange, Resident
from storage.types import utcnow

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

    action: str  # ack | take | menu | set | nonote | dup
    report_id: int
    status: str = "-"


STATUS_LABELS = {
    Status.NEW: __("🆕 New"),
    Status.ACKNOWLEDGED: __("👀 Acknowledged"),
    Status.IN_PROGRESS: __("🔧 In progress"),
    Status.ACTION_SCHEDULED: __("📅 Action scheduled"),
    Status.FIXED: __("✅ Resolved"),
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


def agent_label(assignment: ReportAssignment) -> str:
    """Who handles a report, as HTML: a mention of the agent (their name when they took it in the chat)."""
    name = assignment.agent_name or _("agent {id}").format(id=assignment.agent_telegram_id)
    return f'<a href="tg://user?id={assignment.agent_telegram_id}">{html.escape(name)}</a>'


def agent_card(
    report: Report,
    category: ReportCategory,
    photo_count: int,
    settings: Settings,
    limit: int,
    *,
    assignment: ReportAssignment | None = None,
    last_change: str | None = None,
) -> str:
    """The report's card as the agents' group sees it, within Telegram's `limit` (caption or text)."""
    locale = settings.default_locale
    head = _("📍 <b>Report {ref}</b>\n<b>Category:</b> {category}\n<b>Place:</b> {place}\n<b>Status:</b> {status_name}").format(
        ref=report.ref,
        category=html.escape(category_label(category, locale, locale)),
        # Erased by its author (/forget): the card shows neither their words nor where they were.
        place=place_text(report) if report.description else _("removed"),
        status_name=status_label(report.status),
    )
    if assignment is not None:
        head += "\n" + _("<b>Handled by:</b> {agent}").format(agent=agent_label(assignment))
    if last_change:
        head += "\n" + _("<b>Last change:</b> {change}").format(change=last_change)
    if photo_count > 1:
        head += "\n" + _("📷 {count} photos").format(count=photo_count)
    # After /forget the description is empty: the card says why instead of showing nothing.
    if not report.description:
        return f"{head}\n\n" + _("🗑 Content removed at the request of the resident who sent it.")
    return f"{head}\n\n{fitted(report.description, limit - len(head) - 4)}"


def fitted(text: str, room: int) -> str:
    """`text` escaped for HTML in at most `room` characters, cut with « … » (never inside an entity)."""
    escaped = html.escape(text)
    if len(escaped) <= room:
        return escaped
    pieces: list[str] = []
    used = 0
    for character in text:
        piece = html.escape(character)
        if used + len(piece) > room - 1:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces) + "…"


def _agent_button(text: str, action: str, report_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=AgentAction(action=action, report_id=report_id).pack())


def agent_keyboard(report: Report) -> InlineKeyboardMarkup:
    """The card's buttons for the report's current status: a closed report can only be reopened."""
    assert report.id is not None
    if report.status in CLOSED_STATUSES:
        return InlineKeyboardMarkup(inline_keyboard=[[_agent_button(_("↩️ Reopen"), "menu", report.id)]])
    first = [_agent_button(_("🙋 I’ll handle it"), "take", report.id)]
    if report.status == Status.NEW:
        first.insert(0, _agent_button(_("👀 Acknowledge"), "ack", report.id))
    return InlineKeyboardMarkup(
        inline_keyboard=[
            first,
            [_agent_button(_("🔧 Set status"), "menu", report.id), _agent_button(_("🔁 Duplicate of…"), "dup", report.id)],
        ]
    )


def fixed_keyboard(report: Report) -> InlineKeyboardMarkup:
    assert report.id is not None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("👍 Yes, it is solved"), callback_data=ReportFixed(report_id=report.id, fixed=True).pack()
                ),
                InlineKeyboardButton(
                    text=_("👎 No, it is not"), callback_data=ReportFixed(report_id=report.id, fixed=False).pack()
                ),
            ]
        ]
    )


class ReportNotices:
    """Renders report notifications per recipient and enqueues them (a ReportNotifier).

    The agents' group holds one card per report (participation/report_cards.py): posted when the
    report is filed, edited at each change, with notes and the reporter's additions as replies.
    """

    def __init__(self, i18n: I18n, settings: Settings) -> None:
        self.i18n = i18n
        self.settings = settings

    def _when(self) -> str:
        return short_datetime(utcnow(), self.settings.default_locale, self.settings)

    async def _card(self, session: AsyncSession, report: Report, last_change: str | None) -> tuple[str, dict[str, Any]]:
        """The card's Bot API method and parameters for the report as it is now (DEFAULT_LOCALE)."""
        category = await category_of(session, report)
        photos = await photos_of(session, report)
        assignment = await assignment_of(session, report)
        with self.i18n.context(), self.i18n.use_locale(self.settings.default_locale):
            keyboard = agent_keyboard(report).model_dump(exclude_none=True)
            count = len(photos)
            limit = CAPTION_LIMIT if photos else TEXT_LIMIT
            card = agent_card(report, category, count, self.settings, limit, assignment=assignment, last_change=last_change)
        if photos:
            return "sendPhoto", {"photo": photos[0].file_id, "caption": card, "reply_markup": keyboard}
        return "sendMessage", {"text": card, "reply_markup": keyboard}

    async def _show(self, session: AsyncSession, report: Report, last_change: str) -> None:
        """Edit the report's card so that it shows its current state and `last_change`."""
        chat_id = self.settings.agents_chat_id
        if chat_id is None:
            return
        assert report.id is not None
        method, payload = await self._card(session, report, last_change)
        await report_cards.show(session, report.id, chat_id, method, payload)

    async def report_created(self, session: AsyncSession, report: Report, category: ReportCategory) -> None:
        chat_id = self.settings.agents_chat_id
        if chat_id is None:
            log.warning("report %s: AGENTS_CHAT_ID is not set; the agents were not told", report.id)
            return
        assert report.id is not None
        method, payload = await self._card(session, report, None)
        await report_cards.post(session, report.id, chat_id, method, payload)

    async def reopened_by_reporter(self, session: AsyncSession, report: Report) -> None:
        with self.i18n.context(), self.i18n.use_locale(self.settings.default_locale):
            change = _("⚠️ reopened: the reporter says it is not solved ({date})").format(date=self._when())
        await self._show(session, report, change)

    async def assigned(self, session: AsyncSession, report: Report) -> None:
        assignment = await assignment_of(session, report)
        with self.i18n.context(), self.i18n.use_locale(self.settings.default_locale):
            if assignment is None:
                change = _("no longer assigned ({date})").format(date=self._when())
            else:
                change = _("handed to {agent} ({date})").format(agent=agent_label(assignment), date=self._when())
        await self._show(session, report, change)

    async def reporter_adds(
        self, session: AsyncSession, report: Report, text: str | None, photo_file_id: str | None, key: str
    ) -> None:
        """What the reporter says after « not fixed yet » (why, or a photo), as a reply to the card."""
        chat_id = self.settings.agents_chat_id
        if chat_id is None:
            return
        assert report.id is not None
        with self.i18n.context(), self.i18n.use_locale(self.settings.default_locale):
            intro = _("💬 The reporter of {ref} adds:").format(ref=report.ref)
            change = _("the reporter added something, in reply below ({date})").format(date=self._when())
        limit = CAPTION_LIMIT if photo_file_id else TEXT_LIMIT
        body = f"{intro}\n{fitted(text, limit - len(intro) - 1)}" if text else intro
        payload: dict[str, Any]
        if photo_file_id:
            method, payload = "sendPhoto", {"photo": photo_file_id, "caption": body}
        else:
            method, payload = "sendMessage", {"text": body}
        await report_cards.reply(session, report.id, chat_id, method, payload, key)
        await self._show(session, report, change)

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
        await self._tell_agents(session, report, change, original)
        for person in recipients:
            assert person.telegram_id is not None
            locale = recipient_locale(person, self.i18n)
            with self.i18n.context(), self.i18n.use_locale(locale):
                text = status_notice(report, category, change, person, original, locale, self.settings)
                payload: dict[str, Any] = {"text": text}
                if ask_if_fixed is not None and person.id == ask_if_fixed.id:
                    payload["text"] += "\n\n" + _("Is the problem really solved?")
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

    async def _tell_agents(
        self, session: AsyncSession, report: Report, change: ReportStatusChange, original: Report | None
    ) -> None:
        """The card shows the new status; the public note, if any, is posted as a reply to it."""
        chat_id = self.settings.agents_chat_id
        if chat_id is None:
            return
        assert report.id is not None
        with self.i18n.context(), self.i18n.use_locale(self.settings.default_locale):
            if change.to_status == Status.DUPLICATE and original is not None:
                line = _("duplicate of {ref} ({date})").format(ref=original.ref, date=self._when())
            else:
                line = _("status {status} ({date})").format(status=status_label(change.to_status), date=self._when())
            note = (
                _("💬 Public note on {ref} ({status}):\n{note}").format(
                    ref=report.ref, status=status_label(change.to_status), note=fitted(change.note, 3000)
                )
                if change.note
                else None
            )
        if note is not None:
            await report_cards.reply(
                session, report.id, chat_id, "sendMessage", {"text": note}, f"report:{report.id}:note:{change.id}"
            )
        await self._show(session, report, line)


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
