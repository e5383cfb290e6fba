"""Staff access to the web back office: one-time sign-in links, browser sessions, TOTP codes.

Tokens are random and only their SHA-256 is stored: a copy of the database opens no session.
The chat (/web) issues links, the web side redeems them; both call these functions.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit
from participation.roles import Role, roles_of
from storage.models import AuditEntry, WebSession, WebSignInToken, WebTotpSecret
from storage.types import utcnow
from storage.upsert import affected_rows

LINK_TTL = timedelta(minutes=10)
IDLE_TIMEOUT = timedelta(minutes=30)
STAFF_ROLES = frozenset({Role.ADMIN, Role.AGENT, Role.OFFICIAL})
TOTP_ISSUER = "Palabre"
MAX_TOTP_FAILURES = 5  # per session: guessing a 6-digit code then needs a new link from the bot each time


class TotpFor(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"


class SignInRefusal(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    NOT_STAFF = "not_staff"


class SignInRefused(Exception):
    """The link cannot open a session; `reason` says why, for the page to word."""

    def __init__(self, reason: SignInRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_staff(roles: frozenset[Role]) -> bool:
    return bool(roles & STAFF_ROLES)


def totp_required(roles: frozenset[Role], totp_for: str) -> bool:
    """Admins always confirm with a code; everyone on the staff does when WEB_TOTP_FOR=staff."""
    return Role.ADMIN in roles or (totp_for == TotpFor.STAFF and is_staff(roles))


async def issue_sign_in_link(
    session: AsyncSession, telegram_id: int, admin_ids: Iterable[int], *, now: datetime | None = None
) -> str | None:
    """A fresh one-time token for a staff member; None for anyone else (nothing stored)."""
    if not is_staff(await roles_of(session, telegram_id, admin_ids)):
        return None
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(WebSignInToken(token_hash=digest(token), telegram_id=telegram_id, created_at=now, expires_at=now + LINK_TTL))
    await session.flush()
    await audit.record(session, actor_telegram_id=telegram_id, source=audit.Source.CHAT, action="web.link")
    return token


@dataclass(frozen=True)
class NewSession:
    cookie: str  # the raw session token, for the browser only
    record: WebSession
    roles: frozenset[Role]


async def redeem_sign_in_link(
    session: AsyncSession, token: str, admin_ids: Iterable[int], *, now: datetime | None = None
) -> NewSession:
    """Use the link (once) and open a session; the TOTP step is still owed when required."""
    now = now or utcnow()
    # Claimed by a conditional UPDATE, so two browsers racing with one link cannot both win.
    found = await session.scalar(select(WebSignInToken).where(col(WebSignInToken.token_hash) == digest(token)))
    if found is None:
        raise SignInRefused(SignInRefusal.UNKNOWN)
    if found.used_at is not None:
        raise SignInRefused(SignInRefusal.USED)
    if found.expires_at <= now:
        raise SignInRefused(SignInRefusal.EXPIRED)
    claimed = await session.execute(
        update(WebSignInToken)
        .where(col(WebSignInToken.id) == found.id, col(WebSignInToken.used_at).is_(None))
        .values(used_at=now)
    )
    if affected_rows(claimed) != 1:
        raise SignInRefused(SignInRefusal.USED)
    roles = await roles_of(session, found.telegram_id, admin_ids)
    if not is_staff(roles):
        raise SignInRefused(SignInRefusal.NOT_STAFF)
    cookie = secrets.token_urlsafe(32)
    record = WebSession(
        token_hash=digest(cookie),
        telegram_id=found.telegram_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
    )
    session.add(record)
    await session.flush()
    await audit.record(session, actor_telegram_id=found.telegram_id, source=audit.Source.WEB, action="web.sign_in")
    return NewSession(cookie, record, roles)


@dataclass(frozen=True)
class SignedIn:
    record: WebSession
    roles: frozenset[Role]


async def current_session(
    session: AsyncSession, cookie: str, admin_ids: Iterable[int], *, now: datetime | None = None
) -> SignedIn | None:
    """The live session behind a cookie, touched; None when ended, idle too long or no longer staff."""
    now = now or utcnow()
    record = await session.scalar(select(WebSession).where(col(WebSession.token_hash) == digest(cookie)))
    if record is None or record.ended_at is not None:
        return None
    if now - record.last_seen_at > IDLE_TIMEOUT:
        record.ended_at = now
        session.add(record)
        return None
    roles = await roles_of(session, record.telegram_id, admin_ids)
    if not is_staff(roles):  # a revoked role ends the session at the next page
        record.ended_at = now
        session.add(record)
        return None
    record.last_seen_at = now
    session.add(record)
    await session.flush()
    return SignedIn(record, roles)


async def sign_out(session: AsyncSession, record: WebSession, *, everywhere: bool, now: datetime | None = None) -> int:
    """End this session, or every session of the person; returns how many were ended."""
    now = now or utcnow()
    query = update(WebSession).where(col(WebSession.ended_at).is_(None)).values(ended_at=now)
    query = (
        query.where(col(WebSession.telegram_id) == record.telegram_id)
        if everywhere
        else query.where(col(WebSession.id) == record.id)
    )
    ended = await session.execute(query)
    await audit.record(
        session,
        actor_telegram_id=record.telegram_id,
        source=audit.Source.WEB,
        action="web.sign_out_everywhere" if everywhere else "web.sign_out",
    )
    return affected_rows(ended)


async def totp_secret_for(session: AsyncSession, telegram_id: int) -> WebTotpSecret:
    """The person's secret, created (unconfirmed) at the first sign-in that needs one."""
    found = await session.get(WebTotpSecret, telegram_id)
    if found is None:
        found = WebTotpSecret(telegram_id=telegram_id, totp_secret=pyotp.random_base32())
        session.add(found)
        await session.flush()
    return found


def provisioning_uri(secret: WebTotpSecret, account: str) -> str:
    """The otpauth:// address an authenticator app reads from the enrolment QR code."""
    return pyotp.TOTP(secret.totp_secret).provisioning_uri(name=account, issuer_name=TOTP_ISSUER)


async def confirm_totp(session: AsyncSession, record: WebSession, code: str, *, now: datetime | None = None) -> bool:
    """Check the 6-digit code (one step of clock drift either way, never the same step twice)."""
    now = now or utcnow()
    code = "".join(code.split())
    secret = await totp_secret_for(session, record.telegram_id)
    totp = pyotp.TOTP(secret.totp_secret)
    step = int(now.timestamp()) // totp.interval
    matched = next(
        (
            s
            for s in (step - 1, step, step + 1)
            if s > secret.last_step and code.isdigit() and secrets.compare_digest(totp.generate_otp(s), code)
        ),
        None,
    )
    if matched is None:
        await audit.record(
            session,
            actor_telegram_id=record.telegram_id,
            source=audit.Source.WEB,
            action="web.totp_refused",
            subject=f"web_session:{record.id}",
        )
        failures = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                col(AuditEntry.action) == "web.totp_refused",
                col(AuditEntry.subject) == f"web_session:{record.id}",
                # SQLite may give a purged session's id to a new one: only this session's refusals count.
                col(AuditEntry.at) >= record.created_at,
            )
        )
        if (failures or 0) >= MAX_TOTP_FAILURES:
            record.ended_at = now
            session.add(record)
            await session.flush()
        return False
    secret.last_step = matched
    if secret.confirmed_at is None:
        secret.confirmed_at = now
    record.second_factor_at = now
    session.add_all([secret, record])
    await session.flush()
    await audit.record(session, actor_telegram_id=record.telegram_id, source=audit.Source.WEB, action="web.totp_confirmed")
    return True


async def purge_ended(session: AsyncSession, before: datetime, *, dry_run: bool) -> dict[str, int]:
    """Delete sessions ended (signed out, idle, role revoked) and links used or expired before `before`.

    A live session is never touched: it ends only by signing out or by IDLE_TIMEOUT without a page.
    """
    sessions = or_(
        col(WebSession.ended_at) < before,
        col(WebSession.ended_at).is_(None) & (col(WebSession.last_seen_at) < before - IDLE_TIMEOUT),
    )
    links = or_(col(WebSignInToken.used_at) < before, col(WebSignInToken.expires_at) < before)
    counts = {
        "web_sessions": int(await session.scalar(select(func.count()).select_from(WebSession).where(sessions)) or 0),
        "web_sign_in_links": int(await session.scalar(select(func.count()).select_from(WebSignInToken).where(links)) or 0),
    }
    if not dry_run:
        await session.execute(delete(WebSession).where(sessions))
        await session.execute(delete(WebSignInToken).where(links))
    return counts
