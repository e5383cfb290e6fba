"""Consultations: import, list, results, qr, poll, publish."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import fail, in_session, settings_or_exit, write_output
from config.settings import Settings
from participation.audit import Source
from participation.audit import record as audit_record

if TYPE_CHECKING:
    from participation.results import Results, WeightingSummary


@click.group()
def consultation() -> None:
    """Consultations: import from a YAML file, list."""


@consultation.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def consultation_import(file: Path) -> None:
    """Validate the consultation FILE (YAML) and import it; nothing is imported if it has a problem."""
    from participation.consultation_file import InvalidConsultation, parse_consultation_file
    from participation.consultations import ConsultationLocked, import_consultation

    settings = settings_or_exit()
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{file}: not a UTF-8 text file.")
    try:
        spec = parse_consultation_file(text, settings.default_locale, settings.tz)
    except InvalidConsultation as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}", err=True)
        fail(f"{len(exc.problems)} problem(s): nothing was imported.")

    async def work(session: AsyncSession) -> Any:
        return await import_consultation(session, spec, actor_telegram_id=None, source=Source.CLI)

    try:
        _consultation, outcome = in_session(settings, work)
    except ConsultationLocked as exc:
        fail(
            f"Consultation {spec.slug} already has {exc.responses} response(s): it cannot be replaced any more "
            "(import it under a new slug instead)."
        )
    click.echo(f"Consultation {spec.slug} {outcome.value} ({len(spec.questions)} questions).")


@consultation.command("list")
def consultation_list() -> None:
    """Show every consultation: slug, title, dates, status and participation."""
    from participation.consultations import list_consultations
    from participation.languages import in_language

    settings = settings_or_exit()
    rows = in_session(settings, list_consultations)
    if not rows:
        click.echo("No consultation yet: import one with `palabre consultation import FILE` (or try `palabre demo`).")
        return
    click.echo(f"{'slug':<30} {'status':<10} {'opens':<17} {'closes':<17} {'started':>7} {'finished':>8}  title")
    for row in rows:
        c = row.consultation
        opens = c.opens_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        closes = c.closes_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        title = in_language(c.title, settings.default_locale, settings.default_locale)
        click.echo(f"{c.slug:<30} {row.status.value:<10} {opens:<17} {closes:<17} {row.started:>7} {row.submitted:>8}  {title}")


def _weighting_text(weighting: WeightingSummary) -> list[str]:
    lines = [
        f"Weighted to the population ({weighting.source}): {weighting.weighted} participants with a complete profile, "
        f"{weighting.unweighted} left out of the weighted figures; effective size {weighting.n_effective:g}, "
        f"design effect {weighting.design_effect if weighting.design_effect is not None else '-'}, "
        f"margin of error ±{weighting.margin_of_error if weighting.margin_of_error is not None else '-'} points (95 %).",
    ]
    for group in weighting.empty_groups:
        lines.append(f"Warning: no participant in {group.dimension} {group.code}; weighting cannot represent them.")
    for group in weighting.small_groups:
        people = "participant" if group.participants == 1 else "participants"
        lines.append(
            f"Warning: only {group.participants} {people} in {group.dimension} {group.code}; their weighted figures are fragile."
        )
    return lines


def _results_text(results: Results) -> str:
    lines = [
        f"{results.title} ({results.slug}) — {results.status}",
        f"Participation: {results.started} started, {results.finished} finished.",
    ]
    if results.by_neighbourhood:
        parts = [f"{code or 'unknown'}: {s} started, {f} finished" for code, (s, f) in results.by_neighbourhood.items()]
        lines.append("By neighbourhood: " + "; ".join(parts) + ".")
    if results.weighting is not None:
        lines.extend(_weighting_text(results.weighting))
    for number, question in enumerate(results.questions, start=1):
        lines.append("")
        lines.append(
            f"{number}. {question.prompt} [{question.id}, {question.type}] — {question.answered} answers, {question.skipped} skipped"
        )
        if question.several:
            lines.append("   (several answers were possible: percentages add up to more than 100 %)")
        for option in question.options:
            rank = f", mean rank {option.mean_rank:g}" if option.mean_rank is not None else ""
            first = " ranked first" if question.ranked else ""
            weighted = f", weighted {option.weighted_percent:g} %" if option.weighted_percent is not None else ""
            lines.append(f"   {option.label}: {option.count}{first} ({option.percent:g} %{weighted}){rank}")
        if question.margin_of_error is not None:
            lines.append(
                f"   weighted: effective size {question.n_effective:g}, margin of error ±{question.margin_of_error:g} points"
            )
        if question.mean is not None:
            weighted_mean = f", weighted {question.weighted_mean:g}" if question.weighted_mean is not None else ""
            lines.append(f"   mean: {question.mean:g}{weighted_mean}")
        for text in question.texts:
            lines.append(f"   « {text} »")
    return "\n".join(lines)


@click.command()
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "xlsx", "json", "png"]), default="text", show_default=True)
@click.option(
    "--output", type=click.Path(path_type=Path), help="File to write (PNG: one file per question, FILE-<question>.png)."
)
def results(slug: str, fmt: str, output: Path | None) -> None:
    """Results of consultation SLUG: counts and percentages, or an export."""
    from notices.catalogs import translation
    from participation import results as results_module
    from participation.consultations import get_by_slug

    settings = settings_or_exit()
    # Answers are shown in the commune's language, like the consultation's own texts. Not through
    # aiogram: importing it costs about 3 s and 130 MB, half the peak of a 100,000-response export.
    _ = translation(settings.default_locale).gettext
    words = {"yes": _("Yes"), "no": _("No"), "other": _("Other")}
    caption = _("answers")

    async def work(session: AsyncSession) -> Any:
        found = await get_by_slug(session, slug)
        if found is None:
            return None
        if fmt == "csv":  # streamed from the database: flat memory however many responses, and no counts
            if output is None:
                return await results_module.write_csv(session, found, sys.stdout.buffer)
            with output.open("wb") as out:
                return await results_module.write_csv(session, found, out)
        return await results_module.compute_results(
            session,
            found,
            locale=settings.default_locale,
            default_locale=settings.default_locale,
            with_responses=fmt in ("xlsx", "json"),
            **words,
        )

    computed = in_session(settings, work)
    if computed is None:
        fail(f"No consultation with the slug {slug!r}: see `palabre consultation list`.")
    if fmt == "csv":
        if output is not None:
            click.echo(f"Wrote {output} ({computed} responses).")
        return
    if fmt == "text":
        click.echo(_results_text(computed))
        return
    if fmt == "png":
        target = output or Path(f"{slug}.png")
        from notices import result_texts
        from notices.numbers import format_percent

        ngettext = translation(settings.default_locale).ngettext
        written = results_module.write_charts(
            computed,
            target,
            caption=caption,
            notes={q.id: result_texts.question_note(q, _) for q in computed.questions},
            footer=result_texts.chart_footer(computed, settings.default_locale, settings.tz, settings.commune_name, _, ngettext),
            format_share=lambda share: format_percent(share, settings.default_locale),
            weighted_word=_("weighted"),
        )
        for path in written:
            click.echo(f"Wrote {path}")
        if not written:
            click.echo("No question with counts to chart (only free-text questions).")
        return
    data: bytes = {
        "xlsx": lambda: results_module.to_xlsx(computed),
        "json": lambda: results_module.to_json(computed).encode("utf-8"),
    }[fmt]()
    if output is None and fmt == "xlsx":
        fail("An XLSX export needs --output FILE.", 2)
    if write_output(data, output):
        click.echo(f"Wrote {output} ({len(computed.responses)} responses).")


@click.command()
@click.argument("slug")
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="poster.png, poster.svg or poster.pdf"
)
@click.option("--bot", "bot_username", help="The bot's username (asked from Telegram with BOT_TOKEN when not given).")
def qr(slug: str, output: Path, bot_username: str | None) -> None:
    """A printable poster of consultation SLUG with the QR code of its deep link."""
    from bot.i18n import build_i18n
    from bot.poster import POSTER_FORMATS, deep_link, write_poster
    from participation.consultations import get_by_slug
    from participation.languages import in_language

    if output.suffix.lower() not in POSTER_FORMATS:
        fail("The poster's file name must end with .png, .svg or .pdf.", 2)
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Any:
        return await get_by_slug(session, slug)

    found = in_session(settings, work)
    if found is None:
        fail(f"No consultation with the slug {slug!r}: see `palabre consultation list`.")
    if bot_username is None:
        bot_username = _ask_bot_username(settings)
    i18n = build_i18n(settings.default_locale)
    from aiogram.utils.i18n import gettext as _

    from notices.labels import capitalized, spoken_date, town_hall

    locale = settings.default_locale
    with i18n.context(), i18n.use_locale(locale):
        call = _("Scan this code with your phone to give your opinion on Telegram (a free app).")
        deadline = _("Answer until {date}").format(date=spoken_date(found.closes_at, settings.tz, locale))
        header = capitalized(town_hall(settings.commune_name)) if settings.commune_name else ""
        ways = []
        if settings.commune_phone:
            ways.append(_("call {phone}").format(phone=settings.commune_phone))
        if settings.commune_address:
            ways.append(_("come to the town hall, {address}").format(address=settings.commune_address))
        other_ways = _("Without Telegram? {ways}.").format(ways=capitalized(_(" or ").join(ways))) if ways else ""
    write_poster(
        output,
        title=in_language(found.title, locale, locale),
        link=deep_link(bot_username, slug),
        call_to_action=call,
        header=header,
        description=in_language(found.description, locale, locale) if found.description else "",
        deadline=deadline,
        other_ways=other_ways,
    )
    click.echo(f"Wrote {output} ({deep_link(bot_username, slug)}).")


def _ask_bot_username(settings: Settings) -> str:
    if settings.bot_token is None:
        fail("Give the bot's username with --bot (or set BOT_TOKEN so that it can be asked from Telegram).", 2)
    from bot.app import build_bot

    async def ask() -> str:
        bot = build_bot(settings)
        try:
            me = await bot.get_me()
        finally:
            await bot.session.close()
        return me.username or ""

    try:
        username = asyncio.run(ask())
    except Exception:  # noqa: BLE001 - any failure to reach Telegram is the same advice
        fail("Could not ask Telegram for the bot's username: give it with --bot.")
    return username


@click.command()
@click.argument("slug")
def poll(slug: str) -> None:
    """Send consultation SLUG (one question) as a native Telegram poll to its audience."""
    from bot.i18n import build_i18n
    from notices.consultations import queue_polls
    from participation.consultations import PollRefusal, get_by_slug, poll_refusal

    settings = settings_or_exit()
    i18n = build_i18n(settings.default_locale)
    reasons = {
        PollRefusal.NOT_ONE_QUESTION: "a native poll needs a consultation of exactly one question",
        PollRefusal.WRONG_TYPE: "a native poll works for single, multiple and yesno questions without other",
        PollRefusal.NOT_OPEN: "the consultation is not open",
    }

    async def work(session: AsyncSession) -> Any:
        found = await get_by_slug(session, slug)
        if found is None:
            return None
        refusal = poll_refusal(found)
        if refusal is not None:
            return reasons[refusal]
        with i18n.context():
            queued = await queue_polls(session, found, i18n, settings)
        await audit_record(
            session,
            actor_telegram_id=None,
            source=Source.CLI,
            action="consultation.poll",
            subject=slug,
            detail={"recipients": queued},
        )
        return queued

    outcome = in_session(settings, work)
    if outcome is None:
        fail(f"No consultation with the slug {slug!r}: see `palabre consultation list`.")
    if isinstance(outcome, str):
        fail(f"Cannot send {slug} as a poll: {outcome}.")
    click.echo(f"Poll of {slug} queued for {outcome} residents; the running bot sends it.")


@click.command()
@click.argument("slug")
@click.option("--decision", required=True, help="The council's decision, as residents will read it.")
@click.option(
    "--translation",
    "translations",
    multiple=True,
    metavar="LOCALE=TEXT",
    help='The decision in another language residents use, such as en="The square will be…" (repeatable).',
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def publish(slug: str, decision: str, translations: tuple[str, ...], yes: bool) -> None:
    """Publish the outcome of closed consultation SLUG: results and DECISION to participants and subscribers."""
    from participation import publication

    reasons = {
        publication.PublishRefusal.UNKNOWN: f"No consultation with the slug {slug!r}: see `palabre consultation list`.",
        publication.PublishRefusal.NOT_CLOSED: f"Consultation {slug} is not closed yet: publish its outcome once it closes.",
        publication.PublishRefusal.ALREADY_PUBLISHED: f"The outcome of {slug} was already published; send a broadcast to its participants to add something.",
        publication.PublishRefusal.EMPTY: "The decision is empty.",
        publication.PublishRefusal.TOO_LONG: f"The decision must be at most {publication.MAX_DECISION} characters long.",
    }
    try:
        text = publication.check_decision(decision)
    except publication.PublishRefused as refused:
        fail(reasons[refused.reason], 2)
    settings = settings_or_exit()
    from notices.catalogs import LOCALES_DIR

    known = sorted(path.name for path in LOCALES_DIR.iterdir() if (path / "LC_MESSAGES").is_dir())
    other_languages: dict[str, str] = {}
    for item in translations:
        locale, _, translated = item.partition("=")
        locale = locale.strip()
        if locale not in known or locale == settings.default_locale or locale in other_languages:
            fail(
                f"--translation {item[:20]!r}: give another language residents use ({', '.join(known)}), once, as LOCALE=TEXT.", 2
            )
        try:
            other_languages[locale] = publication.check_decision(translated)
        except publication.PublishRefused as refused:
            fail(f"--translation {locale}: {reasons[refused.reason]}", 2)

    async def count(session: AsyncSession) -> int:
        return await publication.count_recipients(session, await publication.publishable(session, slug))

    async def send(session: AsyncSession) -> Any:
        return await publication.publish(
            session, slug, text, actor_telegram_id=None, source=Source.CLI, translations=other_languages
        )

    try:
        recipients = in_session(settings, count)
        click.echo(f"The results of {slug} and this decision will be sent to {recipients} residents, each in their language.")
        if not yes and not click.confirm("Publish it?", default=False):
            click.echo("Cancelled: nothing was published.")
            return
        published = in_session(settings, send)
    except publication.PublishRefused as refused:
        fail(reasons[refused.reason])
    click.echo(f"Outcome of {slug} published for {published.recipient_count} residents; the running bot sends it.")
