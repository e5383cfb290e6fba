"""Back office pages: sign-in, TOTP, reports, consultations. Each calls the domain, commits, renders."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from aiogram.utils.i18n import I18n
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from config.settings import Settings
from notices.catalogs import translation
from notices.feedback import answer_and_queue
from notices.impact import neighbourhood_names
from notices.reports import ReportNotices
from notices.roles import after_role_change
from notices.stats_report import render_pdf, render_png, render_text
from participation import audit, broadcast_photos, broadcasts, publication
from participation import results as results_module
from participation.consultation_file import InvalidConsultation, parse_consultation_file
from participation.consultations import (
    ConsultationLocked,
    get_by_slug,
    import_consultation,
    list_consultations,
    status_at,
)
from participation.consultations import Status as ConsultationStatus
from participation.dates import DateRefused, parse_day, parse_period
from participation.feedback import FeedbackRefused, list_feedback
from participation.languages import in_language
from participation.report_desk import (
    ReportFilter,
    SavedReplyProblem,
    add_saved_reply,
    assign,
    assigned_agent,
    list_reports,
    saved_replies_for,
)
from participation.reports import (
    ReportError,
    Status,
    allowed_next,
    category_of,
    change_status,
    history_of,
    photos_of,
    report_by_id,
)
from participation.roles import (
    Role,
    UnknownRole,
    allows,
    grant_role,
    parse_grantable_role,
    revoke_role,
)
from participation.stats import compute_stats
from participation.text import clean_text
from participation.web_access import (
    IDLE_TIMEOUT,
    LINK_TTL,
    SignedIn,
    SignInRefused,
    confirm_totp,
    current_session,
    provisioning_uri,
    redeem_sign_in_link,
    sign_out,
    totp_required,
    totp_secret_for,
)
from storage.db import SessionMaker
from storage.models import (
    Broadcast,
    Neighbourhood,
    ReportCategory,
    ReportPhoto,
    Resident,
    RoleGrant,
    SavedReply,
)
from storage.types import utcnow
from web.backoffice.render import content_security_policy, page
from web.forwarded import client_address, scheme

log = logging.getLogger("palabre.web")

PREFIX = "/backoffice"
COOKIE = "palabre_session"
# Set with the sign-in page and echoed by its form: a sign-in POST from another site carries neither.
SIGN_IN_COOKIE = "palabre_signin"
STATIC = Path(__file__).resolve().parent.parent / "static"
SIGN_IN_ATTEMPTS = 10  # per address and minute: links are long, this only slows a scan down
MAX_UPLOAD = 512 * 1024
MAX_TRACKED_ADDRESSES = 10_000


@dataclass
class BackofficeContext:
    sessionmaker: SessionMaker
    settings: Settings
    i18n: I18n
    wake_sender: Callable[[], None]
    attempts: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))


CONTEXT_KEY = web.AppKey("backoffice", BackofficeContext)


@dataclass
class Page:
    """What a staff page handler gets: the request, its transaction, who is signed in."""

    request: web.Request
    context: BackofficeContext
    session: AsyncSession
    signed: SignedIn
    locale: str
    form: MultiDictProxy[Any] | None
    wake: bool = False  # messages were queued: wake the sender once they are committed

    def render(self, template: str, *, status: int = 200, **values: Any) -> web.Response:
        return render(self.context, self.locale, template, status=status, signed=self.signed, **values)

    def field(self, name: str) -> str:
        value = self.form.get(name, "") if self.form is not None else self.request.query.get(name, "")
        return value.strip() if isinstance(value, str) else ""


def render(
    context: BackofficeContext, locale: str, template: str, *, status: int = 200, signed: SignedIn | None = None, **values: Any
) -> web.Response:
    roles = signed.roles if signed else frozenset()
    return page(
        locale,
        template,
        status=status,
        csp=content_security_policy(context.settings.map_tiles_url),
        signed=signed,
        csrf=signed.record.csrf_token if signed else "",
        prefix=PREFIX,
        can_reports=allows(roles, Role.AGENT) or allows(roles, Role.OFFICIAL),
        is_agent=allows(roles, Role.AGENT),
        can_consultations=allows(roles, Role.OFFICIAL),
        is_admin=Role.ADMIN in roles,
        **values,
    )


def _context(request: web.Request) -> BackofficeContext:
    return request.app[CONTEXT_KEY]


async def _staff_locale(session: AsyncSession, telegram_id: int, default: str) -> str:
    locale = await session.scalar(select(col(Resident.locale)).where(col(Resident.telegram_id) == telegram_id))
    return locale if locale in ("fr", "en") else default


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


# --- Guards ----------------------------------------------------------------------------------


@web.middleware
async def https_only(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Behind a proxy that says the browser came over plain HTTP, refuse: cookies and links would leak."""
    context = _context(request)
    if request.path.startswith(PREFIX) and scheme(request, context.settings.web_trusted_proxies) != "https":
        return render(context, context.settings.default_locale, "refused.html", status=403, reason="https")
    return await handler(request)


def staff_page(
    *roles: Role, second_factor: bool = True, max_body: int | None = None
) -> Callable[[Callable[[Page], Awaitable[web.Response]]], Callable[[web.Request], Awaitable[web.Response]]]:
    """Wrap a page: signed in, second factor given when owed, one of `roles`, CSRF on POST.

    `max_body` lets the page take a larger upload than the server's default, from staff only.
    """

    def wrap(inner: Callable[[Page], Awaitable[web.Response]]) -> Callable[[web.Request], Awaitable[web.Response]]:
        @functools.wraps(inner)
        async def handler(request: web.Request) -> web.Response:
            context = _context(request)
            settings = context.settings
            cookie = request.cookies.get(COOKIE)
            if max_body is not None and request.method == "POST":
                if not await _may_upload(context, cookie, roles):  # nobody else makes us store a large body
                    return render(context, settings.default_locale, "refused.html", status=401, reason="signed_out")
                request = request.clone(client_max_size=max_body)
            try:
                form = await request.post() if request.method == "POST" else None
            except web.HTTPRequestEntityTooLarge:
                return render(context, settings.default_locale, "refused.html", status=413, reason="too_large")
            # One transaction per request: committed when the page is built, before it is sent.
            async with context.sessionmaker.begin() as session:
                signed = await current_session(session, cookie, settings.admin_ids) if cookie else None
                if signed is None:
                    return render(context, settings.default_locale, "refused.html", status=401, reason="signed_out")
                locale = await _staff_locale(session, signed.record.telegram_id, settings.default_locale)
                if (
                    second_factor
                    and totp_required(signed.roles, settings.web_totp_for)
                    and signed.record.second_factor_at is None
                ):
                    return _redirect(f"{PREFIX}/totp")
                if roles and not any(allows(signed.roles, role) for role in roles):
                    return render(context, locale, "refused.html", status=403, reason="role", signed=signed)
                if form is not None and not secrets.compare_digest(str(form.get("csrf", "")), signed.record.csrf_token):
                    log.warning("web: a form without its CSRF token was refused")
                    return render(context, locale, "refused.html", status=403, reason="csrf", signed=signed)
                current = Page(request, context, session, signed, locale, form)
                response = await inner(current)
            if current.wake:
                context.wake_sender()
            return response

        return handler

    return wrap


async def _may_upload(context: BackofficeContext, cookie: str | None, roles: tuple[Role, ...]) -> bool:
    """Signed in with one of `roles`, checked before a large body is read (nothing is kept: rolled back)."""
    if not cookie:
        return False
    async with context.sessionmaker() as session:
        signed = await current_session(session, cookie, context.settings.admin_ids)
        return signed is not None and (not roles or any(allows(signed.roles, role) for role in roles))


def _rate_limited(context: BackofficeContext, request: web.Request) -> bool:
    """Counted per browser address: behind a trusted proxy, the one it forwards, not the proxy's own."""
    now = time.monotonic()
    if len(context.attempts) > MAX_TRACKED_ADDRESSES:  # forget the quiet ones, so memory stays bounded
        for address in [a for a, seen in context.attempts.items() if not seen or now - seen[-1] > 60]:
            del context.attempts[address]
    seen = context.attempts[client_address(request, context.settings.web_trusted_proxies)]
    while seen and now - seen[0] > 60:
        seen.popleft()
    seen.append(now)
    return len(seen) > SIGN_IN_ATTEMPTS


# --- Sign-in, second factor, sign-out ----------------------------------------------------------


async def sign_in_form(request: web.Request) -> web.Response:
    """GET of the link: a button, so that link previews (which fetch the address) do not use it up."""
    context = _context(request)
    # The link is bound to its staff member, not to a browser: without this pair, another staff
    # member's page could post their own link and sign a colleague into their session (login CSRF).
    nonce = secrets.token_urlsafe(32)
    response = render(context, context.settings.default_locale, "signin.html", token=request.match_info["token"], nonce=nonce)
    response.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        path=PREFIX,
        httponly=True,
        secure=True,
        samesite="Strict",
        max_age=int(LINK_TTL.total_seconds()),
    )
    return response


async def sign_in(request: web.Request) -> web.Response:
    context = _context(request)
    settings = context.settings
    if _rate_limited(context, request):
        return render(context, settings.default_locale, "refused.html", status=429, reason="too_many")
    form = await request.post()
    nonce = request.cookies.get(SIGN_IN_COOKIE, "")
    if not nonce or not secrets.compare_digest(str(form.get("csrf", "")), nonce):
        log.warning("web: a sign-in without its sign-in page was refused")
        return render(context, settings.default_locale, "refused.html", status=403, reason="csrf")
    token = str(form.get("token", ""))[:100]
    try:
        async with context.sessionmaker.begin() as session:
            new = await redeem_sign_in_link(session, token, settings.admin_ids)
    except SignInRefused as refused:
        return render(context, settings.default_locale, "refused.html", status=403, reason=refused.reason.value)
    needs_code = totp_required(new.roles, settings.web_totp_for)
    response = _redirect(f"{PREFIX}/totp" if needs_code else f"{PREFIX}/")
    response.set_cookie(
        COOKIE,
        new.cookie,
        path=PREFIX,
        httponly=True,
        secure=True,
        samesite="Strict",
        max_age=int(IDLE_TIMEOUT.total_seconds()) * 16,
    )
    response.del_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


@staff_page(second_factor=False)
async def totp_form(p: Page) -> web.Response:
    if p.signed.record.second_factor_at is not None:
        return _redirect(f"{PREFIX}/")
    secret = await totp_secret_for(p.session, p.signed.record.telegram_id)
    enrol = None
    if secret.confirmed_at is None:
        # Shown only until a first code matched: after that the secret never leaves the server.
        uri = provisioning_uri(secret, str(p.signed.record.telegram_id))
        enrol = {"qr": segno.make(uri, error="m").png_data_uri(scale=5, border=2), "secret": secret.totp_secret}
    failed = p.request.method == "POST"
    if failed and await confirm_totp(p.session, p.signed.record, p.field("code")):
        return _redirect(f"{PREFIX}/")
    if p.signed.record.ended_at is not None:  # too many wrong codes: a new link is needed
        response = render(p.context, p.locale, "refused.html", status=401, reason="signed_out")
        response.del_cookie(COOKIE, path=PREFIX)
        return response
    return p.render("totp.html", enrol=enrol, failed=failed, status=400 if failed else 200)


@staff_page(second_factor=False)
async def sign_out_page(p: Page) -> web.Response:
    ended = await sign_out(p.session, p.signed.record, everywhere=p.field("everywhere") == "1")
    response = render(p.context, p.locale, "signed_out.html", ended=ended)
    response.del_cookie(COOKIE, path=PREFIX)
    return response


@staff_page()
async def home(p: Page) -> web.Response:
    return p.render("home.html")


# --- Reports -------------------------------------------------------------------------------------


def _day(text: str, tz: ZoneInfo) -> date | None:
    """A filter's day, in the grammar officials type everywhere (the browser's date picker sends 2026-12-01)."""
    try:
        return parse_day(text, tz) if text else None
    except DateRefused:
        return None


async def _choices(session: AsyncSession, locale: str, default_locale: str) -> dict[str, Any]:
    categories = list(
        await session.scalars(select(ReportCategory).order_by(col(ReportCategory.position), col(ReportCategory.code)))
    )
    neighbourhoods = list(
        await session.scalars(select(Neighbourhood).order_by(col(Neighbourhood.position), col(Neighbourhood.code)))
    )
    # (grant row id, Telegram id): the filter's URL carries the row id, never a person's Telegram id.
    agents = [
        tuple(row)
        for row in (
            await session.execute(
                select(col(RoleGrant.id), col(RoleGrant.telegram_id))
                .where(col(RoleGrant.role) == Role.AGENT.value)
                .order_by(col(RoleGrant.telegram_id))
            )
        ).all()
    ]
    return {
        "categories": [(c.code, in_language(c.name, locale, default_locale)) for c in categories],
        "neighbourhoods": [(n.code, in_language(n.names, locale, default_locale)) for n in neighbourhoods],
        "agents": agents,
    }


@staff_page(Role.AGENT, Role.OFFICIAL)
async def reports_page(p: Page) -> web.Response:
    settings = p.context.settings
    choices = await _choices(p.session, p.locale, settings.default_locale)
    grant = p.field("agent")
    agent = next((telegram_id for grant_id, telegram_id in choices["agents"] if str(grant_id) == grant), None)
    wanted = ReportFilter(
        status=p.field("status") if p.field("status") in {s.value for s in Status} else None,
        category=p.field("category") or None,
        neighbourhood=p.field("neighbourhood") or None,
        since=_day(p.field("since"), p.context.settings.tz),
        until=_day(p.field("until"), p.context.settings.tz),
        agent=agent,
    )
    rows = await list_reports(p.session, wanted)
    points = [
        {"lat": r.report.lat, "lon": r.report.lon, "ref": r.report.ref, "url": f"{PREFIX}/reports/{r.report.id}"}
        for r in rows
        if r.report.lat is not None and r.report.lon is not None
    ]
    return p.render(
        "reports.html",
        rows=rows,
        wanted=wanted,
        statuses=list(Status),
        points=points,
        tiles=settings.map_tiles_url,
        category_name=lambda c: in_language(c.name, p.locale, settings.default_locale),
        **choices,
    )


async def _report_or_404(p: Page) -> Any:
    ref_id = p.request.match_info["id"]
    report = await report_by_id(p.session, int(ref_id)) if ref_id.isdigit() and len(ref_id) < 12 else None
    if report is None:
        raise web.HTTPNotFound()
    return report


@staff_page(Role.AGENT, Role.OFFICIAL)
async def report_page(p: Page) -> web.Response:
    report = await _report_or_404(p)
    done = p.request.query.get("done")
    return await _report_view(p, report, done=done if done in ("status", "assigned") else None)


async def _report_view(p: Page, report: Any, *, problem: str | None = None, done: str | None = None) -> web.Response:
    settings = p.context.settings
    category = await category_of(p.session, report)
    return p.render(
        "report.html",
        status=400 if problem else 200,
        report=report,
        tz=settings.tz,
        category=in_language(category.name, p.locale, settings.default_locale),
        photos=await photos_of(p.session, report),
        history=await history_of(p.session, report),
        next_statuses=allowed_next(report.status),
        agent=await assigned_agent(p.session, report),
        replies=await saved_replies_for(p.session, category.code, None),
        problem=problem,
        done=done,
        **await _choices(p.session, p.locale, settings.default_locale),
    )


@staff_page(Role.AGENT)
async def report_status(p: Page) -> web.Response:
    report = await _report_or_404(p)
    note = p.field("note") or await _saved_reply_text(p)
    try:
        await change_status(
            p.session,
            report,
            p.field("status"),
            author_telegram_id=p.signed.record.telegram_id,
            note=note or None,
            source=audit.Source.WEB,
            notifier=ReportNotices(p.context.i18n, p.context.settings),
        )
    except ReportError as error:
        return await _report_view(p, report, problem=error.problem.value)
    p.wake = True
    return _redirect(f"{PREFIX}/reports/{report.id}?done=status")


async def _saved_reply_text(p: Page) -> str | None:
    """The saved reply picked under the note (without JavaScript: a radio button, used when no note is typed)."""
    number = p.field("reply")
    reply = await p.session.get(SavedReply, int(number)) if number.isdigit() and len(number) < 12 else None
    return reply.text if reply is not None else None


@staff_page(Role.AGENT)
async def replies_page(p: Page) -> web.Response:
    """Saved replies (response templates per category and status), as FixMyStreet's staff keep them."""
    settings = p.context.settings
    problem = False
    if p.form is not None:
        try:
            await add_saved_reply(
                p.session,
                title=p.field("title"),
                text=p.field("text"),
                category_code=p.field("category") or None,
                status=p.field("status") or None,
                by=p.signed.record.telegram_id,
                source=audit.Source.WEB,
            )
        except SavedReplyProblem:
            problem = True
        else:
            return _redirect(f"{PREFIX}/replies?done=1")
    replies = list(await p.session.scalars(select(SavedReply).order_by(col(SavedReply.title), col(SavedReply.id))))
    return p.render(
        "replies.html",
        replies=replies,
        statuses=list(Status),
        problem=problem,
        done=p.request.query.get("done") == "1",
        status=400 if problem else 200,
        **await _choices(p.session, p.locale, settings.default_locale),
    )


@staff_page(Role.AGENT)
async def report_assign(p: Page) -> web.Response:
    report = await _report_or_404(p)
    agent = p.field("agent")
    target = int(agent) if agent.isdigit() and len(agent) < 20 else None
    await assign(
        p.session,
        report,
        target,
        by=p.signed.record.telegram_id,
        source=audit.Source.WEB,
        notifier=ReportNotices(p.context.i18n, p.context.settings),
    )
    p.wake = True
    return _redirect(f"{PREFIX}/reports/{report.id}?done=assigned")


@staff_page(Role.AGENT, Role.OFFICIAL)
async def report_photo(p: Page) -> web.Response:
    photo_id = p.request.match_info["photo"]
    photo = await p.session.get(ReportPhoto, int(photo_id)) if photo_id.isdigit() and len(photo_id) < 12 else None
    media = p.context.settings.media_dir.resolve()
    path = (media / photo.path).resolve() if photo is not None and photo.path else None
    if path is None or media not in path.parents or not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(body=path.read_bytes(), content_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


# --- Consultations -----------------------------------------------------------------------------


@staff_page(Role.OFFICIAL)
async def consultations_page(p: Page) -> web.Response:
    rows = await list_consultations(p.session)
    settings = p.context.settings
    return p.render(
        "consultations.html",
        rows=rows,
        tz=settings.tz,
        title=lambda c: in_language(c.title, p.locale, settings.default_locale),
    )


@staff_page(Role.OFFICIAL)
async def consultation_import(p: Page) -> web.Response:
    if p.form is None:
        return p.render("import.html", problems=[], text="")
    upload = p.form.get("file")
    text = p.field("text")
    if upload is not None and hasattr(upload, "file"):
        raw = upload.file.read(MAX_UPLOAD + 1)
        if raw:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return p.render("import.html", problems=["utf-8"], text="", status=400)
    settings = p.context.settings
    try:
        spec = parse_consultation_file(text, settings.default_locale, settings.tz)
        consultation, outcome = await import_consultation(
            p.session, spec, actor_telegram_id=p.signed.record.telegram_id, source=audit.Source.WEB
        )
    except InvalidConsultation as invalid:
        return p.render("import.html", problems=invalid.problems, text=text, status=400)
    except ConsultationLocked as locked:
        return p.render("import.html", problems=[], locked=locked.responses, text=text, status=400)
    return _redirect(f"{PREFIX}/consultations/{consultation.slug}?done={outcome.value}")


async def _results(p: Page, with_responses: bool) -> Any:
    settings = p.context.settings
    consultation = await get_by_slug(p.session, p.request.match_info["slug"])
    if consultation is None:
        raise web.HTTPNotFound()
    _ = translation(p.locale).gettext
    return await results_module.compute_results(
        p.session,
        consultation,
        locale=p.locale,
        default_locale=settings.default_locale,
        yes=_("Yes"),
        no=_("No"),
        other=_("Other"),
        with_responses=with_responses,
    )


@staff_page(Role.OFFICIAL)
async def consultation_page(p: Page) -> web.Response:
    return await _consultation_page(p)


async def _consultation_page(p: Page, *, problem: str | None = None) -> web.Response:
    """The results page, with the problem of a refused publication when there is one."""
    results = await _results(p, with_responses=False)
    consultation = await get_by_slug(p.session, results.slug)
    assert consultation is not None and consultation.id is not None
    published = await publication.publication_of(p.session, consultation.id)
    closed = status_at(consultation) == ConsultationStatus.CLOSED
    done = p.request.query.get("done")
    return p.render(
        "results.html",
        results=results,
        done=done if done in ("created", "replaced", "published") else None,
        tz=p.context.settings.tz,
        published=published,
        closed=closed,
        problem=problem,
        recipients=await publication.count_recipients(p.session, consultation) if closed and published is None else 0,
        other_locales=_other_locales(p.context.settings),
        status=400 if problem else 200,
    )


def _other_locales(settings: Settings) -> list[str]:
    """The languages residents may use besides the default: the decision can be given in each."""
    from notices.catalogs import LOCALES_DIR

    return sorted(
        path.name for path in LOCALES_DIR.iterdir() if (path / "LC_MESSAGES").is_dir() and path.name != settings.default_locale
    )


@staff_page(Role.OFFICIAL)
async def consultation_publish(p: Page) -> web.Response:
    """Publish the decision to participants and the topic's subscribers, as /publish does."""
    slug = p.request.match_info["slug"]
    try:
        # Residents reading another language get the council's words in it when an official gave them.
        translations = {
            locale: publication.check_decision(p.field(f"decision_{locale}"))
            for locale in _other_locales(p.context.settings)
            if p.field(f"decision_{locale}")
        }
        await publication.publish(
            p.session,
            slug,
            p.field("decision"),
            actor_telegram_id=p.signed.record.telegram_id,
            source=audit.Source.WEB,
            translations=translations,
        )
    except publication.PublishRefused as refused:
        if refused.reason == publication.PublishRefusal.UNKNOWN:
            raise web.HTTPNotFound() from refused
        return await _consultation_page(p, problem=refused.reason.value)
    p.wake = True
    return _redirect(f"{PREFIX}/consultations/{slug}?done=published")


EXPORTS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


@staff_page(Role.OFFICIAL)
async def consultation_export(p: Page) -> web.Response:
    fmt = p.request.match_info["fmt"]
    if fmt not in EXPORTS:
        raise web.HTTPNotFound()
    results = await _results(p, with_responses=True)
    body: bytes
    if fmt == "csv":
        body = results_module.to_csv(results)
    elif fmt == "xlsx":
        body = results_module.to_xlsx(results)
    else:
        body = results_module.to_json(results).encode("utf-8")
    await audit.record(
        p.session,
        actor_telegram_id=p.signed.record.telegram_id,
        source=audit.Source.WEB,
        action="results.export",
        subject=results.slug,
        detail={"format": fmt},
    )
    return web.Response(
        body=body,
        content_type=EXPORTS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{results.slug}.{fmt}"', "Cache-Control": "no-store"},
    )


@staff_page(Role.OFFICIAL)
async def consultation_chart(p: Page) -> web.Response:
    results = await _results(p, with_responses=False)
    number = p.request.match_info["n"]
    index = int(number) - 1 if number.isdigit() and len(number) < 4 else -1
    if not 0 <= index < len(results.questions):
        raise web.HTTPNotFound()
    caption = translation(p.locale).gettext("answers")
    png = await asyncio.to_thread(results_module.chart_png, results.questions[index], caption=caption)
    if png is None:
        raise web.HTTPNotFound()
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})


# --- Broadcasts, residents' messages, council figures ----------------------------------------------


@staff_page(Role.OFFICIAL, max_body=broadcast_photos.MAX_BYTES + 64 * 1024)
async def broadcasts_page(p: Page) -> web.Response:
    """Compose (with a photo if wanted) → the audience's size → confirm; then delivery figures (as /broadcast)."""
    settings = p.context.settings
    audiences = await _audiences(p.session, p.locale, settings.default_locale)
    recent = list(
        await p.session.scalars(
            select(Broadcast).where(col(Broadcast.status) != broadcasts.Status.DRAFT).order_by(col(Broadcast.id).desc()).limit(20)
        )
    )
    shown: dict[str, Any] = {"audiences": audiences, "recent": recent, "max_caption": broadcasts.MAX_CAPTION}
    if p.form is None:
        return p.render("broadcasts.html", draft=None, text="", chosen="all", problem=None, **shown)
    chosen, text = p.field("audience"), p.field("text")
    upload = p.form.get("photo")
    photo = upload.file.read(broadcast_photos.MAX_BYTES + 1) if isinstance(upload, web.FileField) else b""
    problem: str | None = None
    try:
        audience = broadcasts.Audience.parse(chosen)
        broadcasts.check_text(text, with_photo=bool(photo))  # before the photo is kept: a refusal leaves no file
        photo_path = await _store_photo(settings, photo) if photo else None
        draft = await broadcasts.create_draft(
            p.session, audience=audience, text=text, created_by=p.signed.record.telegram_id, photo_path=photo_path
        )
    except broadcasts.UnknownAudience:
        problem = "audience"
    except broadcasts.InvalidMessage:
        problem = "caption" if photo else "text"
    except broadcast_photos.InvalidPhoto as refused:
        problem = "photo_" + refused.problem.value
    if problem is not None:
        length = len(clean_text(text))
        return p.render(
            "broadcasts.html", draft=None, text=text, chosen=chosen, problem=problem, length=length, status=400, **shown
        )
    return p.render("broadcasts.html", draft=draft, text=text, chosen=chosen, problem=None, **shown)


async def _store_photo(settings: Settings, data: bytes) -> str:
    """Checked, then kept under MEDIA_DIR/broadcasts for the sender to upload; returns its absolute path."""
    suffix = await asyncio.to_thread(broadcast_photos.check_photo, data)
    folder = settings.media_dir / "broadcasts"
    path = (folder / f"{secrets.token_hex(16)}{suffix}").resolve()

    def write() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    await asyncio.to_thread(write)
    return str(path)


async def _audiences(session: AsyncSession, locale: str, default_locale: str) -> list[tuple[str, str]]:
    """Every audience an official may pick, as (value, label); the label's kind is translated in the page."""
    from storage.models import Consultation, Topic

    found: list[tuple[str, str]] = [("all", "")]
    for topic in await session.scalars(select(Topic).order_by(col(Topic.position), col(Topic.code))):
        found.append((f"topic:{topic.code}", in_language(topic.names, locale, default_locale)))
    for hood in await session.scalars(select(Neighbourhood).order_by(col(Neighbourhood.position), col(Neighbourhood.code))):
        found.append((f"neighbourhood:{hood.code}", in_language(hood.names, locale, default_locale)))
    for bracket in ("15-29", "30-44", "45-59", "60-74", "75-plus"):
        found.append((f"age:{bracket}", bracket))
    for consultation in await session.scalars(select(Consultation).order_by(col(Consultation.opens_at).desc())):
        found.append((f"consultation:{consultation.slug}", in_language(consultation.title, locale, default_locale)))
    return found


@staff_page(Role.OFFICIAL)
async def broadcast_confirm(p: Page) -> web.Response:
    number = p.request.match_info["id"]
    confirmed = (
        await broadcasts.confirm(
            p.session,
            int(number) if number.isdigit() and len(number) < 12 else 0,
            actor_telegram_id=p.signed.record.telegram_id,
            source=audit.Source.WEB,
        )
        if number.isdigit()
        else None
    )
    if confirmed is None:
        raise web.HTTPNotFound()
    p.wake = True
    return _redirect(f"{PREFIX}/broadcasts/{confirmed.id}")


@staff_page(Role.OFFICIAL)
async def broadcast_page(p: Page) -> web.Response:
    number = p.request.match_info["id"]
    figures = await broadcasts.figures(p.session, int(number)) if number.isdigit() and len(number) < 12 else None
    if figures is None:
        raise web.HTTPNotFound()
    return p.render("broadcast.html", figures=figures, number=number)


@staff_page(Role.OFFICIAL)
async def feedback_page(p: Page) -> web.Response:
    """Residents' messages (/feedback), newest first, each answerable once; the answer reaches them."""
    problem = None
    if p.form is not None:
        number = p.field("id")
        try:
            with p.context.i18n.context():
                await answer_and_queue(
                    p.session,
                    int(number) if number.isdigit() and len(number) < 12 else 0,
                    p.field("answer"),
                    actor_telegram_id=p.signed.record.telegram_id,
                    source=audit.Source.WEB,
                    i18n=p.context.i18n,
                )
        except FeedbackRefused as refused:
            problem = refused.reason.value
        else:
            p.wake = True
            return _redirect(f"{PREFIX}/feedback?done=1")
    rows = await list_feedback(p.session, limit=200)
    return p.render(
        "feedback.html", rows=rows, problem=problem, done=p.request.query.get("done") == "1", status=400 if problem else 200
    )


@staff_page(Role.OFFICIAL)
async def stats_page(p: Page) -> web.Response:
    """The council's figures for a period, as `palabre stats` and /stats give them."""
    settings = p.context.settings
    since, until = p.field("from") or None, p.field("to") or None
    try:
        first, last = parse_period(since, until, settings)
    except ValueError:
        return p.render("stats.html", text=None, since=since or "", until=until or "", problem=True, status=400)
    figures = await compute_stats(p.session, first, last, now=utcnow(), interval_days=settings.satisfaction_interval_days)
    names = await neighbourhood_names(p.session, p.locale, settings.default_locale)
    fmt = p.request.match_info.get("fmt")
    if fmt in ("png", "pdf"):
        body = await asyncio.to_thread(render_report_in, p.context.i18n, figures, p.locale, settings, names, fmt)
        return web.Response(
            body=body, content_type="image/png" if fmt == "png" else "application/pdf", headers={"Cache-Control": "no-store"}
        )
    with p.context.i18n.context(), p.context.i18n.use_locale(p.locale):
        text = render_text(figures, locale=p.locale, tz=settings.tz, hood_names=names)
    return p.render("stats.html", text=text, since=since or "", until=until or "", problem=False)


def render_report_in(i18n: I18n, figures: Any, locale: str, settings: Settings, names: dict[str, str], fmt: str) -> bytes:
    """The one-page report, drawn in a thread (matplotlib) in the staff member's language."""
    render = render_png if fmt == "png" else render_pdf
    with i18n.context(), i18n.use_locale(locale):
        return render(figures, locale=locale, tz=settings.tz, hood_names=names)


# --- Admins: audit log and roles -------------------------------------------------------------------


@staff_page(Role.ADMIN)
async def audit_page(p: Page) -> web.Response:
    rows = await audit.latest(p.session, limit=300)
    return p.render("audit.html", rows=rows)


@staff_page(Role.ADMIN)
async def roles_page(p: Page) -> web.Response:
    problem = None
    if p.form is not None:
        user, name = p.field("user"), p.field("role")
        try:
            role = parse_grantable_role(name)
            if not user.isdigit() or len(user) > 19:
                raise UnknownRole(user)
        except UnknownRole:
            problem = "input"
        else:
            actor = p.signed.record.telegram_id
            if p.field("action") == "revoke":
                changed = await revoke_role(p.session, int(user), role, revoked_by=actor, source=audit.Source.WEB)
            else:
                changed = await grant_role(p.session, int(user), role, granted_by=actor, source=audit.Source.WEB)
            if changed:  # the person's menu (and, for a grant, their commands) go out after the commit
                with p.context.i18n.context():
                    await after_role_change(
                        p.session,
                        int(user),
                        p.context.settings.admin_ids,
                        p.context.i18n,
                        granted_role=None if p.field("action") == "revoke" else role,
                    )
            return _redirect(f"{PREFIX}/roles?done=1")
    grants = list(await p.session.scalars(select(RoleGrant).order_by(col(RoleGrant.role), col(RoleGrant.telegram_id))))
    return p.render(
        "roles.html",
        grants=grants,
        admins=p.context.settings.admin_ids,
        problem=problem,
        done=p.request.query.get("done") == "1",
        status=400 if problem else 200,
    )


def add_backoffice_routes(app: web.Application, context: BackofficeContext) -> None:
    app[CONTEXT_KEY] = context
    app.middlewares.append(https_only)
    app.router.add_static(f"{PREFIX}/static", STATIC, append_version=True)
    app.router.add_get(f"{PREFIX}/signin/{{token}}", sign_in_form)
    app.router.add_post(f"{PREFIX}/signin", sign_in)
    app.router.add_route("*", f"{PREFIX}/totp", totp_form)
    app.router.add_post(f"{PREFIX}/signout", sign_out_page)
    app.router.add_get(f"{PREFIX}/", home)
    app.router.add_get(f"{PREFIX}/reports", reports_page)
    app.router.add_get(f"{PREFIX}/reports/{{id}}", report_page)
    app.router.add_post(f"{PREFIX}/reports/{{id}}/status", report_status)
    app.router.add_post(f"{PREFIX}/reports/{{id}}/assign", report_assign)
    app.router.add_get(f"{PREFIX}/photos/{{photo}}", report_photo)
    app.router.add_route("*", f"{PREFIX}/replies", replies_page)
    app.router.add_get(f"{PREFIX}/consultations", consultations_page)
    app.router.add_route("*", f"{PREFIX}/consultations/import", consultation_import)
    app.router.add_get(f"{PREFIX}/consultations/{{slug}}", consultation_page)
    app.router.add_get(f"{PREFIX}/consultations/{{slug}}/export.{{fmt}}", consultation_export)
    app.router.add_post(f"{PREFIX}/consultations/{{slug}}/publish", consultation_publish)
    app.router.add_get(f"{PREFIX}/consultations/{{slug}}/chart/{{n}}.png", consultation_chart)
    app.router.add_route("*", f"{PREFIX}/broadcasts", broadcasts_page)
    app.router.add_post(f"{PREFIX}/broadcasts/{{id}}/confirm", broadcast_confirm)
    app.router.add_get(f"{PREFIX}/broadcasts/{{id}}", broadcast_page)
    app.router.add_route("*", f"{PREFIX}/feedback", feedback_page)
    app.router.add_get(f"{PREFIX}/stats", stats_page)
    app.router.add_get(f"{PREFIX}/stats.{{fmt:png|pdf}}", stats_page)
    app.router.add_get(f"{PREFIX}/audit", audit_page)
    app.router.add_route("*", f"{PREFIX}/roles", roles_page)
