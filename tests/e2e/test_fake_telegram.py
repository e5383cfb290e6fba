"""Tests of the fake Bot API itself, driven by a real aiogram Bot (and Dispatcher).

If aiogram can talk to the fake and gets the exceptions it would get from Telegram, the e2e
tests built on the fake exercise the bot's real error handling.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F, html
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeDefault,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from tests.e2e.fake_telegram import SAMPLE_JPEG, FakeTelegram, parse_html

pytestmark = pytest.mark.asyncio(loop_scope="function")

RESIDENT = 1001


@pytest_asyncio.fixture(loop_scope="function")
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest_asyncio.fixture(loop_scope="function")
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    # Same defaults as Palabre's bot (bot/app.py): HTML parse mode, no link previews.
    bot = Bot(
        fake.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    yield bot
    await bot.session.close()


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)] for text, data in buttons])


async def started_resident(fake: FakeTelegram, user_id: int = RESIDENT, name: str = "Marie"):
    """A resident who sent /start, so that the bot may write to them."""
    resident = fake.user(user_id, name)
    await resident.send_command("/start")
    return resident


# ---- basics ---------------------------------------------------------------------------------


async def test_get_me_matches_token(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == bot.id == 123456
    assert me.is_bot and me.username == fake.bot_username


async def test_message_round_trip_parses_into_aiogram_types(fake: FakeTelegram, bot: Bot) -> None:
    resident = await started_resident(fake)
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.text == "/start"
    assert update.message.entities[0].type == "bot_command" and update.message.entities[0].length == 6
    assert update.message.from_user.id == RESIDENT and update.message.chat.type == "private"

    sent = await bot.send_message(
        RESIDENT, "<b>Bonjour</b> Marie 🏟 <i>et</i> bienvenue\n\n", reply_markup=keyboard(("Oui", "yes"))
    )
    assert isinstance(sent, Message)
    assert sent.text == "Bonjour Marie 🏟 et bienvenue"  # tags parsed, trailing newlines trimmed
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 7), ("italic", 17, 2)]
    assert sent.from_user.id == bot.id and sent.chat.id == RESIDENT
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "yes"
    assert sent.message_id == update.message.message_id + 1  # ids are per chat, shared with the user

    stored = resident.last_message
    assert stored["text"] == "Bonjour Marie 🏟 et bienvenue"
    assert stored["reply_markup"]["inline_keyboard"][0][0]["text"] == "Oui"
    assert fake.calls("sendMessage")[0]["text"].startswith("<b>Bonjour</b>")  # raw params are kept


async def test_unknown_chat_is_chat_not_found(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(RESIDENT)  # exists, but never wrote to the bot
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(RESIDENT, "Bonjour")
    fake.user(RESIDENT).open_chat()
    await bot.send_message(RESIDENT, "Bonjour")


async def test_raw_http_envelope_json_and_form_bodies(fake: FakeTelegram) -> None:
    await started_resident(fake)
    api = f"{fake.base_url}/bot{fake.token}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{api}/getMe") as response:
            body = await response.json()
            assert response.status == 200 and body["ok"] is True and body["result"]["id"] == 123456
        async with http.post(f"{api}/sendMessage", json={"chat_id": RESIDENT, "text": "json"}) as response:
            assert (await response.json())["result"]["text"] == "json"
        form = {
            "chat_id": str(RESIDENT),
            "text": "form",
            "reply_markup": '{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}',
        }
        async with http.post(f"{api}/sendMessage", data=form) as response:
            assert (await response.json())["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
        async with http.post(f"{api}/sendMessag", json={}) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with http.post(f"{fake.base_url}/bot123456:wrong/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


# ---- long polling ---------------------------------------------------------------------------


async def test_long_poll_returns_update_enqueued_during_the_wait(fake: FakeTelegram, bot: Bot) -> None:
    resident = fake.user(RESIDENT)
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await fake.wait_request("getUpdates")  # the request is now waiting inside the fake
    await resident.send_text("Bonjour")
    updates = await asyncio.wait_for(poll, 10)  # far less than the 20 s long-poll timeout
    assert [u.message.text for u in updates] == ["Bonjour"]


async def test_long_poll_without_updates_returns_empty_after_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9


async def test_offset_confirms_updates_and_limit_caps_batches(fake: FakeTelegram, bot: Bot) -> None:
    resident = fake.user(RESIDENT)
    for text in ("un", "deux", "trois"):
        await resident.send_text(text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["un", "deux"]
    again = await bot.get_updates()  # nothing confirmed yet: same updates again
    assert [u.message.text for u in again] == ["un", "deux", "trois"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["trois"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == []
    assert fake.pending_updates == []


async def test_concurrent_get_updates_conflict(fake: FakeTelegram, bot: Bot) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=20))
    await fake.wait_request("getUpdates")
    assert await bot.get_updates() == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(older, 10)


async def test_webhook_makes_get_updates_conflict(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="HTTPS URL"):
        await bot.set_webhook("http://example.org/hook")
    await bot.set_webhook("https://example.org/hook", secret_token="s3cret-token")
    assert fake.webhook["secret_token"] == "s3cret-token"
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == []


async def test_allowed_updates_filters_and_persists(fake: FakeTelegram, bot: Bot) -> None:
    resident = await started_resident(fake)
    await bot.send_message(RESIDENT, "Choix", reply_markup=keyboard(("A", "a")))
    await resident.tap("A")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.event_type for u in updates] == ["callback_query"]
    await resident.send_text("encore")
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == []  # still callback_query only


# ---- validation -----------------------------------------------------------------------------


async def test_text_length_is_checked_after_html_parsing(fake: FakeTelegram, bot: Bot) -> None:
    await started_resident(fake)
    await bot.send_message(RESIDENT, "é" * 4096)
    await bot.send_message(RESIDENT, "<b>" + "x" * 4096 + "</b>")  # 4103 raw, 4096 parsed
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(RESIDENT, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(RESIDENT, " \n <b></b> ")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(RESIDENT, BufferedInputFile(SAMPLE_JPEG, "p.jpg"), caption="c" * 1025)


async def test_callback_data_is_limited_to_64_bytes(fake: FakeTelegram, bot: Bot) -> None:
    await started_resident(fake)
    await bot.send_message(RESIDENT, "ok", reply_markup=keyboard(("A", "a" * 64)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(RESIDENT, "trop long", reply_markup=keyboard(("A", "a" * 65)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(RESIDENT, "octets", reply_markup=keyboard(("A", "é" * 33)))  # 66 bytes
    with pytest.raises(TelegramBadRequest, match="text buttons are unallowed"):
        await bot.send_message(RESIDENT, "vide", reply_markup=keyboard(("", "a")))
    with pytest.raises(TelegramBadRequest, match="Wrong HTTP URL"):
        await bot.send_message(
            RESIDENT,
            "lien",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Site", url="localhost:8080")]]),
        )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>gras", 'Can\'t find end tag corresponding to start tag "b"'),
        ("3 < 4", 'Unsupported start tag "" at byte offset 2'),
        ("ligne<br>suivante", 'Unsupported start tag "br" at byte offset 5'),
        ("<i>mal</b>", "Unmatched end tag"),
        ("Dupont & fils", 'Unescaped "&"'),
        ("a > b", 'Unescaped ">"'),
        ('<span class="rouge">x</span>', 'must have class "tg-spoiler"'),
    ],
)
async def test_bad_html_is_rejected(fake: FakeTelegram, bot: Bot, text: str, error: str) -> None:
    await started_resident(fake)
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as raised:
        await bot.send_message(RESIDENT, text)
    assert error in raised.value.message
    # Escaped, the same text is fine.
    sent = await bot.send_message(RESIDENT, html.quote(text))
    assert sent.text == text.strip()


async def test_html_parser_entities_use_utf16_offsets() -> None:
    text, entities = parse_html('🏟 <a href="https://exemple.fr">carte</a> <pre><code class="language-py">x</code></pre>')
    assert text == "🏟 carte x"
    assert entities == [
        {"type": "text_link", "offset": 3, "length": 5, "url": "https://exemple.fr/"},
        {"type": "pre", "offset": 9, "length": 1, "language": "py"},
    ]


async def test_commands_are_validated_and_recorded(fake: FakeTelegram, bot: Bot) -> None:
    commands = [BotCommand(command="start", description="Commencer"), BotCommand(command="aide", description="Aide")]
    await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code="fr")
    assert [c["command"] for c in fake.commands[("default", "fr")]] == ["start", "aide"]
    assert [c.command for c in await bot.get_my_commands(language_code="fr")] == ["start", "aide"]
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Signaler", description="x")])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand(command="aide", description="x" * 257)])
    await bot.delete_my_commands(language_code="fr")
    assert ("default", "fr") not in fake.commands


# ---- errors the sender must handle ----------------------------------------------------------


async def test_throttle_next_answers_429_with_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    await started_resident(fake)
    fake.throttle_next(1, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(RESIDENT, "Bonjour")
    assert raised.value.retry_after == 7
    assert fake.user(RESIDENT).messages == []  # the refused send was not performed
    await bot.send_message(RESIDENT, "Bonjour")
    assert fake.count_429 == 1


async def test_flood_limits(fake: FakeTelegram, bot: Bot) -> None:
    now = [1000.0]
    fake.clock = lambda: now[0]  # frozen: every send happens "at once", whatever the machine
    await started_resident(fake)
    fake.per_chat_per_second = 1
    await bot.send_message(RESIDENT, "un")
    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(RESIDENT, "deux")
    assert raised.value.retry_after == 1
    now[0] += 1.0  # the sliding window has moved on
    await bot.send_message(RESIDENT, "deux")

    group = fake.group(-100200, "Conseil de quartier")
    fake.per_group_per_minute = 2
    await bot.send_message(group.chat_id, "1")
    await bot.send_message(group.chat_id, "2")
    now[0] += 20.0
    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(group.chat_id, "3")
    assert raised.value.retry_after == 40  # until the first of the two leaves the minute
    assert fake.count_429 == 2 and [m["text"] for m in group.messages] == ["1", "2"]


async def test_global_limit_is_30_per_second_by_default(fake: FakeTelegram, bot: Bot) -> None:
    fake.clock = lambda: 1000.0
    for user_id in range(2000, 2031):
        fake.user(user_id).open_chat()
    results = await asyncio.gather(
        *(bot.send_message(user_id, "Alerte") for user_id in range(2000, 2031)), return_exceptions=True
    )
    assert sum(isinstance(r, TelegramRetryAfter) for r in results) == 1
    assert fake.count_429 == 1


async def test_blocked_user_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    await started_resident(fake)
    fake.block(RESIDENT, notify=True)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(RESIDENT, "Bonjour")
    updates = await bot.get_updates(allowed_updates=["my_chat_member"])
    assert updates[-1].my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(RESIDENT, "typing")
    await fake.user(RESIDENT).send_command("/start")  # writing to the bot again unblocks it
    await bot.send_message(RESIDENT, "Re-bonjour")


# ---- files ----------------------------------------------------------------------------------


async def test_photo_upload_then_get_file_and_download(fake: FakeTelegram, bot: Bot) -> None:
    await started_resident(fake)
    sent = await bot.send_photo(
        RESIDENT,
        BufferedInputFile(SAMPLE_JPEG, "carte.jpg"),
        caption="<b>Carte</b> du quartier",
        reply_markup=keyboard(("Voir", "see")),
    )
    assert sent.caption == "Carte du quartier" and sent.caption_entities[0].type == "bold"
    assert (sent.photo[-1].width, sent.photo[-1].height) == (160, 120)
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "see"  # nested JSON in multipart
    file = await bot.get_file(sent.photo[-1].file_id)
    assert file.file_path and file.file_size == len(SAMPLE_JPEG)
    downloaded = await bot.download(sent.photo[-1].file_id)
    assert isinstance(downloaded, io.BytesIO) and downloaded.getvalue() == SAMPLE_JPEG

    again = await bot.send_photo(RESIDENT, sent.photo[-1].file_id)  # by file_id
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(RESIDENT, BufferedInputFile(b"not an image", "x.jpg"))
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(RESIDENT, "AgACAgQAAxkBAAunknown")


async def test_files_sent_by_residents_are_downloadable(fake: FakeTelegram, bot: Bot) -> None:
    resident = fake.user(RESIDENT)
    await resident.send_photo()
    await resident.send_document("compte-rendu.pdf", b"%PDF-1.4 test")
    photo_update, document_update = await bot.get_updates()
    photo = photo_update.message.photo
    assert len(photo) == 2
    assert (await bot.download(photo[-1].file_id)).getvalue() == SAMPLE_JPEG
    document = document_update.message.document
    assert document.file_name == "compte-rendu.pdf" and document.mime_type == "application/pdf"
    assert (await bot.download(document.file_id)).getvalue() == b"%PDF-1.4 test"
    sent = await bot.send_document(RESIDENT, BufferedInputFile(b"a;b\n1;2\n", "export.csv"), caption="Export")
    assert sent.document.file_name == "export.csv" and sent.document.mime_type == "text/csv"
    assert (await bot.download(sent.document.file_id)).getvalue() == b"a;b\n1;2\n"


# ---- callbacks, edits, keyboards, polls -----------------------------------------------------


async def test_tap_sends_the_button_callback_data(fake: FakeTelegram, bot: Bot) -> None:
    resident = await started_resident(fake)
    await bot.send_message(RESIDENT, "Votre avis ?", reply_markup=keyboard(("👍 Oui", "vote:yes"), ("👎 Non", "vote:no")))
    await resident.tap("Non")  # substring of "👎 Non"
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query.data == "vote:no" and query.from_user.id == RESIDENT
    assert query.message.text == "Votre avis ?"

    await bot.answer_callback_query(query.id, text="Merci !", show_alert=True)
    answer = await resident.wait_callback_answer(timeout=1)
    assert answer["text"] == "Merci !" and answer["show_alert"] is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(AssertionError, match="no button 'Peut-être'"):
        await resident.tap("Peut-être")
    await resident.tap_data("vote:forged")
    forged = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert forged[-1].callback_query.data == "vote:forged"


async def test_edits_change_what_messages_shows(fake: FakeTelegram, bot: Bot) -> None:
    resident = await started_resident(fake)
    sent = await bot.send_message(RESIDENT, "Signalement reçu", reply_markup=keyboard(("Annuler", "cancel")))
    marker = resident.mark()
    edited = await bot.edit_message_text("Signalement <b>traité</b>", chat_id=RESIDENT, message_id=sent.message_id)
    assert edited.text == "Signalement traité" and edited.edit_date and edited.reply_markup is None
    assert [m["text"] for m in resident.messages] == ["Signalement traité"]
    assert "reply_markup" not in resident.last_message  # editing text without markup removes it
    assert (await resident.wait_message("traité", after=marker, timeout=1))["message_id"] == sent.message_id

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Signalement <b>traité</b>", chat_id=RESIDENT, message_id=sent.message_id)
    await bot.edit_message_reply_markup(chat_id=RESIDENT, message_id=sent.message_id, reply_markup=keyboard(("OK", "ok")))
    assert resident.last_message["reply_markup"]["inline_keyboard"][0][0]["text"] == "OK"
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=RESIDENT, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=RESIDENT, message_id=1)  # the resident's /start
    assert await bot.delete_message(RESIDENT, sent.message_id)
    assert resident.messages == [] and fake.deleted == [(RESIDENT, sent.message_id)]
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(RESIDENT, sent.message_id)


async def test_reply_keyboard_and_press(fake: FakeTelegram, bot: Bot) -> None:
    resident = await started_resident(fake)
    menu = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Signaler")], [KeyboardButton(text="Aide")]], resize_keyboard=True)
    sent = await bot.send_message(RESIDENT, "Menu", reply_markup=menu)
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    assert resident.reply_keyboard() == ["Signaler", "Aide"]
    await resident.press("Aide")
    with pytest.raises(AssertionError, match="no reply keyboard button"):
        await resident.press("Autre")
    await bot.send_message(RESIDENT, "Fermé", reply_markup=ReplyKeyboardRemove())
    assert resident.reply_keyboard() == []
    assert [u.message.text for u in await bot.get_updates()] == ["/start", "Aide"]


async def test_polls(fake: FakeTelegram, bot: Bot) -> None:
    resident = await started_resident(fake)
    sent = await bot.send_poll(
        RESIDENT,
        "Quel projet pour <b>la place</b> ?",
        [InputPollOption(text="Un parc &amp; des bancs"), InputPollOption(text="Une piste cyclable")],
        is_anonymous=False,
    )
    assert sent.poll.question == "Quel projet pour la place ?"  # question_parse_mode came from the default
    assert sent.poll.options[0].text == "Un parc & des bancs"
    update = await resident.answer_poll(sent.poll.id, [1])
    assert update["poll_answer"]["option_ids"] == [1]
    updates = await bot.get_updates(allowed_updates=["poll_answer"])
    assert updates[-1].poll_answer.option_ids == [1] and updates[-1].poll_answer.user.id == RESIDENT
    assert resident.last_message["poll"]["options"][1]["voter_count"] == 1

    closed = await bot.stop_poll(RESIDENT, sent.message_id)
    assert closed.is_closed
    with pytest.raises(TelegramBadRequest, match="poll has already been closed"):
        await bot.stop_poll(RESIDENT, sent.message_id)

    anonymous = await bot.send_poll(RESIDENT, "Anonyme ?", ["Oui", "Non"])
    with pytest.raises(AssertionError, match="anonymous"):
        await resident.answer_poll(anonymous.poll.id, [0])
    with pytest.raises(TelegramBadRequest, match="more than 12 options"):
        await bot.send_poll(RESIDENT, "Trop ?", [str(i) for i in range(13)])
    with pytest.raises(TelegramBadRequest, match="at least 2 option"):
        await bot.send_poll(RESIDENT, "Seul ?", ["Oui"])
    with pytest.raises(TelegramBadRequest, match="question length"):
        await bot.send_poll(RESIDENT, "q" * 301, ["Oui", "Non"])


# ---- groups ---------------------------------------------------------------------------------


async def test_group_privacy_mode_and_taps(fake: FakeTelegram, bot: Bot) -> None:
    group = fake.group(-100300, "Conseil de quartier")
    member = fake.user(2002, "Luc").in_chat(group.chat_id)
    await member.send_text("bonjour tout le monde")  # the bot does not see this (privacy mode)
    await member.send_command("/consultation")
    [update] = await bot.get_updates()
    assert update.message.text == "/consultation" and update.message.chat.type == "supergroup"
    sent = await bot.send_message(group.chat_id, "Consultation ouverte", reply_markup=keyboard(("Participer", "join")))
    assert sent.chat.title == "Conseil de quartier"
    await member.send_text("je participe", reply_to=group.messages[-1])  # replies to the bot are seen
    await member.tap("Participer")
    updates = await bot.get_updates(offset=update.update_id + 1)
    assert updates[0].message.reply_to_message.message_id == sent.message_id
    assert updates[1].callback_query.message.chat.id == group.chat_id
    assert len(fake.filtered_updates) == 1


# ---- a real Dispatcher ----------------------------------------------------------------------


async def test_dispatcher_end_to_end(fake: FakeTelegram, bot: Bot) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> None:
        name = html.quote(message.from_user.first_name)
        await message.answer(f"Bienvenue <b>{name}</b> !", reply_markup=keyboard(("Oui", "vote:yes"), ("Non", "vote:no")))

    @dispatcher.callback_query(F.data.startswith("vote:"))
    async def vote(query: CallbackQuery) -> None:
        await query.answer("Merci !")
        await query.message.edit_text(f"Vote enregistré : {query.data.removeprefix('vote:')}")

    polling = asyncio.create_task(dispatcher.start_polling(bot, polling_timeout=5, handle_signals=False, close_bot_session=False))
    try:
        resident = fake.user(RESIDENT, "Marie & Jo")
        await resident.send_command("/start")
        welcome = await resident.wait_message("Bienvenue")
        assert welcome["text"] == "Bienvenue Marie & Jo !"
        await resident.tap("Oui")
        assert (await resident.wait_callback_answer())["text"] == "Merci !"
        edited = await resident.wait_message("Vote enregistré")
        assert edited["message_id"] == welcome["message_id"] and edited["text"].endswith("yes")
        await resident.wait_idle(quiet=0.2)
        with pytest.raises(AssertionError, match="no bot message matching 'Au revoir'"):
            await resident.wait_message("Au revoir", timeout=0.2)
        fake.assert_no_errors()
    finally:
        if not polling.done():
            try:
                await dispatcher.stop_polling()
            except RuntimeError:  # failed before polling even started
                polling.cancel()
        await asyncio.wait_for(asyncio.gather(polling, return_exceptions=True), 10)


async def test_other_resident_messages_parse(fake: FakeTelegram, bot: Bot) -> None:
    resident = fake.user(RESIDENT, "Marie", language_code=None)
    await resident.send_sticker()
    await resident.send_location(48.8566, 2.3522)
    await resident.send_text("Voir ci-dessus", reply_to=1)
    sticker, location, reply = (u.message for u in await bot.get_updates())
    assert sticker.sticker.emoji == "👍" and sticker.from_user.language_code is None
    assert (await bot.download(sticker.sticker.file_id)).getvalue()[:4] == b"RIFF"
    assert (location.location.latitude, location.location.longitude) == (48.8566, 2.3522)
    assert reply.reply_to_message.message_id == sticker.message_id
    assert [m.message_id for m in (sticker, location, reply)] == [1, 2, 3]


async def test_misc_methods(fake: FakeTelegram, bot: Bot) -> None:
    resident = await started_resident(fake)
    assert await bot.send_chat_action(RESIDENT, "typing")
    assert fake.chat_actions == [(RESIDENT, "typing")]
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(RESIDENT, "dancing")
    assert await bot.set_chat_menu_button()
    assert (await bot.get_chat_menu_button()).type == "default"

    photo = await bot.send_photo(RESIDENT, BufferedInputFile(SAMPLE_JPEG, "p.jpg"), caption="Avant")
    edited = await bot.edit_message_caption(chat_id=RESIDENT, message_id=photo.message_id, caption="<i>Après</i>")
    assert edited.caption == "Après" and resident.last_message["caption"] == "Après"
    with pytest.raises(TelegramBadRequest, match="no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=RESIDENT, message_id=photo.message_id)

    await bot.send_message(RESIDENT, "Question", reply_markup=keyboard(("A", "a")))
    await resident.tap("A")
    query = (await bot.get_updates())[-1].callback_query
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query.id, text="x" * 201)
    await bot.answer_callback_query(query.id, text="x" * 200)

    empty_reply_button = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text=" ")]])
    with pytest.raises(TelegramBadRequest, match="keyboard button text must be non-empty"):
        await bot.send_message(RESIDENT, "Menu", reply_markup=empty_reply_button)
    too_many = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=str(i), callback_data=str(i))] for i in range(101)]
    )
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await bot.send_message(RESIDENT, "Liste", reply_markup=too_many)
    with pytest.raises(TelegramBadRequest, match="does not emulate parse_mode"):
        await bot.send_message(RESIDENT, "*gras*", parse_mode="MarkdownV2")
    assert await bot.log_out() and await bot.close()
