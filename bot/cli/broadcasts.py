"""Notifications: topics and neighbourhoods import, broadcast, broadcast status."""

from __future__ import annotations

import os
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import fail, in_session, read_text_or_exit, settings_or_exit
from participation.audit import Source
from storage.models import Broadcast


def _import_file(path: str, kind: str) -> None:
    from participation import subscriptions

    text = read_text_or_exit(path)
    importer = subscriptions.import_topics if kind == "topics" else subscriptions.import_neighbourhoods
    settings = settings_or_exit()
    try:
        result = in_session(settings, lambda session: importer(session, text))
    except subscriptions.FileInvalid as exc:
        for problem in exc.problems:
            click.echo(f"{path}: {problem}", err=True)
        fail(f"Nothing was imported ({len(exc.problems)} problem(s)).")
    click.echo(f"{kind.capitalize()} imported: {result.created} new, {result.updated} updated.")


@click.group()
def topics() -> None:
    """The commune's topics, that residents can follow."""


@topics.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def topics_import(file: str) -> None:
    """Create or update the topics listed in FILE (YAML)."""
    _import_file(file, "topics")


@click.group()
def neighbourhoods() -> None:
    """The commune's neighbourhoods (quartiers)."""


@neighbourhoods.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def neighbourhoods_import(file: str) -> None:
    """Create or update the neighbourhoods listed in FILE (YAML)."""
    _import_file(file, "neighbourhoods")


PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # Telegram's limit for photos


@click.group(invoke_without_command=True)
@click.option(
    "--audience",
    help="all, topic:CODE, neighbourhood:CODE, age:BRACKET (such as 30-44), consultation:SLUG, or underrepresented:SLUG "
    "(residents of the groups under-represented in open consultation SLUG who have not answered it)",
)
@click.option("--text", "text", help="The message (the text under the photo when --photo is given).")
@click.option("--photo", type=click.Path(dir_okay=False), help="A photo to send (JPEG, PNG or WebP).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def broadcast(ctx: click.Context, audience: str | None, text: str | None, photo: str | None, yes: bool) -> None:
    """Send a message to residents: shows how many will receive it, then asks to confirm."""
    if ctx.invoked_subcommand is not None:
        return
    from participation import broadcasts
    from participation.residents import AgeBracket

    if audience is None or (text is None and photo is None):
        fail("Give --audience and --text (or --photo); see palabre broadcast --help.", 2)
    try:
        parsed = broadcasts.Audience.parse(audience)
    except broadcasts.UnknownAudience:
        fail(
            f"Unknown audience {audience!r}: use all, topic:CODE, neighbourhood:CODE, age:BRACKET, consultation:SLUG "
            "or underrepresented:SLUG.",
            2,
        )
    photo_path = None
    if photo is not None:
        path = os.path.abspath(photo)
        if not os.path.isfile(path) or not path.lower().endswith(PHOTO_SUFFIXES):
            fail(f"{photo} is not a photo file (JPEG, PNG or WebP).", 2)
        if os.path.getsize(path) > MAX_PHOTO_BYTES:
            fail(f"{photo} is larger than 10 MB, Telegram's limit for photos.", 2)
        photo_path = path
    try:
        body = broadcasts.check_text(text or "", with_photo=photo_path is not None)
    except broadcasts.InvalidMessage:
        limit = broadcasts.MAX_CAPTION if photo_path else broadcasts.MAX_TEXT
        fail(f"The text must be 1 to {limit} characters long.", 2)

    async def count(session: AsyncSession) -> tuple[int, list[Any]]:
        groups: list[Any] = []
        if parsed.kind == broadcasts.AudienceKind.UNDERREPRESENTED:
            from participation.consultations import get_by_slug
            from participation.population import under_represented

            found = await get_by_slug(session, parsed.value or "")
            groups = (await under_represented(session, found) or []) if found is not None else []
        return await broadcasts.count_audience(session, parsed), groups

    settings = settings_or_exit()
    try:
        recipients, groups = in_session(settings, count)
    except broadcasts.AudienceUnavailable as exc:
        if exc.reason == "no_population":
            fail("The population margins are not known yet: run `palabre population import FILE` first.")
        fail(f"Consultation {parsed.value!r} is not open: a reminder only makes sense while residents can answer.")
    except broadcasts.UnknownAudience:
        if parsed.kind == broadcasts.AudienceKind.UNDERREPRESENTED:
            fail(f"There is no consultation {parsed.value!r}: see `palabre consultation list`.")
        if parsed.kind == broadcasts.AudienceKind.AGE:
            brackets = ", ".join(bracket.value for bracket in AgeBracket)
            fail(f"There is no age bracket {parsed.value!r}: use one of {brackets}.")
        fail(f"There is no {parsed.kind.value} {parsed.value!r}.")
    for group in groups:
        click.echo(
            f"Under-represented: {group.dimension} {group.code} ({group.participants} participant{'s' if group.participants != 1 else ''}, "
            f"{round(100 * group.participant_share)} % of participants, {round(100 * group.population_share)} % of the population)"
        )
    if parsed.kind == broadcasts.AudienceKind.UNDERREPRESENTED and not groups:
        click.echo("No group is under-represented among the participants at the moment.")
    if recipients == 0:
        fail("Nobody would receive this message: no resident of this audience accepts announcements. Nothing was sent.")
    click.echo(f"This message will be sent to {recipients} residents.")
    if not yes and not click.confirm("Send it?", default=False):
        click.echo("Cancelled: nothing was sent.")
        return

    async def send(session: AsyncSession) -> Broadcast:
        draft = await broadcasts.create_draft(session, audience=parsed, text=body, photo_path=photo_path, created_by=None)
        assert draft.id is not None  # flushed by create_draft
        confirmed = await broadcasts.confirm(session, draft.id, actor_telegram_id=None, source=Source.CLI)
        assert confirmed is not None  # the draft was created in this very transaction, by the operator
        return confirmed

    confirmed = in_session(settings, send)
    click.echo(f"Broadcast {confirmed.id} confirmed for {confirmed.recipient_count} residents; the running bot sends it.")
    click.echo(f"Follow it with: palabre broadcast status {confirmed.id}")


@broadcast.command("status")
@click.argument("broadcast_id", type=int)
def broadcast_status(broadcast_id: int) -> None:
    """Delivery figures of broadcast BROADCAST_ID: sent, pending, failed, unreachable."""
    from participation import broadcasts

    settings = settings_or_exit()
    figures = in_session(settings, lambda session: broadcasts.figures(session, broadcast_id))
    if figures is None:
        fail(f"There is no broadcast {broadcast_id}.")
    click.echo(
        f"Broadcast {broadcast_id} ({figures.status.value}, {figures.recipients} recipients): "
        f"sent {figures.sent}, pending {figures.pending}, failed {figures.failed}, unreachable {figures.unreachable}"
    )
