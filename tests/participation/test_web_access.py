"""Sign-in links, sessions and TOTP codes of the web back office (participation/web_access.py)."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from participation.audit import Source, entries
from participation.roles import Role, grant_role
from participation.web_access import (
    IDLE_TIMEOUT,
    LINK_TTL,
    MAX_TOTP_FAILURES,
    SignInRefusal,
    SignInRefused,
    confirm_totp,
    current_session,
    digest,
    issue_sign_in_link,
    redeem_sign_in_link,
    sign_out,
    totp_required,
    totp_secret_for,
)
from storage.models import RoleGrant, WebSignInToken
from storage.types import utcnow

AGENT, ADMIN, RESIDENT = 501, 502, 503


async def staff(session: AsyncSession) -> None:
    await grant_role(session, AGENT, Role.AGENT, granted_by=None, source=Source.CLI)


async def test_a_resident_gets_no_link_and_nothing_is_stored(session: AsyncSession) -> None:
    assert await issue_sign_in_link(session, RESIDENT, [ADMIN]) is None
    assert await session.scalar(select(func.count()).select_from(WebSignInToken)) == 0


async def test_a_link_opens_one_session_once_and_only_its_hash_is_kept(session: AsyncSession) -> None:
    await staff(session)
    token = await issue_sign_in_link(session, AGENT, [ADMIN])
    assert token is not None
    stored = await session.scalar(select(WebSignInToken.token_hash))
    assert stored == digest(token) and token not in stored
    new = await redeem_sign_in_link(session, token, [ADMIN])
    assert new.roles == frozenset({Role.AGENT}) and new.record.second_factor_at is None
    with pytest.raises(SignInRefused) as again:
        await redeem_sign_in_link(session, token, [ADMIN])
    assert again.value.reason == SignInRefusal.USED
    with pytest.raises(SignInRefused) as forged:
        await redeem_sign_in_link(session, token + "x", [ADMIN])
    assert forged.value.reason == SignInRefusal.UNKNOWN


async def test_a_link_expires_after_a_few_minutes(session: AsyncSession) -> None:
    await staff(session)
    issued = utcnow()
    token = await issue_sign_in_link(session, AGENT, [ADMIN], now=issued)
    assert token is not None
    with pytest.raises(SignInRefused) as late:
        await redeem_sign_in_link(session, token, [ADMIN], now=issued + LINK_TTL + timedelta(seconds=1))
    assert late.value.reason == SignInRefusal.EXPIRED


async def test_a_session_ends_when_idle_when_signed_out_everywhere_or_when_the_role_goes(session: AsyncSession) -> None:
    await staff(session)
    start = utcnow()
    first = await redeem_sign_in_link(session, (await issue_sign_in_link(session, AGENT, [], now=start)) or "", [], now=start)
    assert await current_session(session, first.cookie, [], now=start + IDLE_TIMEOUT - timedelta(seconds=1)) is not None
    # Touched a moment ago, so still alive a whole timeout later; then idle too long.
    later = start + IDLE_TIMEOUT - timedelta(seconds=1)
    assert await current_session(session, first.cookie, [], now=later + IDLE_TIMEOUT) is not None
    assert await current_session(session, first.cookie, [], now=later + 3 * IDLE_TIMEOUT) is None

    one = await redeem_sign_in_link(session, (await issue_sign_in_link(session, AGENT, [])) or "", [])
    two = await redeem_sign_in_link(session, (await issue_sign_in_link(session, AGENT, [])) or "", [])
    assert await sign_out(session, one.record, everywhere=True) == 2
    assert await current_session(session, two.cookie, []) is None

    three = await redeem_sign_in_link(session, (await issue_sign_in_link(session, AGENT, [])) or "", [])
    grant = await session.scalar(select(RoleGrant).where(RoleGrant.telegram_id == AGENT))
    await session.delete(grant)
    await session.flush()
    assert await current_session(session, three.cookie, []) is None
    assert "web.sign_out_everywhere" in [e.action for e in await entries(session)]


async def test_admins_always_confirm_with_a_code_and_staff_when_asked() -> None:
    assert totp_required(frozenset({Role.ADMIN}), "admin")
    assert not totp_required(frozenset({Role.AGENT}), "admin")
    assert totp_required(frozenset({Role.OFFICIAL}), "staff")
    assert not totp_required(frozenset(), "staff")


async def test_a_totp_code_is_accepted_once_and_a_wrong_one_never(session: AsyncSession) -> None:
    now = utcnow()
    new = await redeem_sign_in_link(session, (await issue_sign_in_link(session, ADMIN, [ADMIN], now=now)) or "", [ADMIN], now=now)
    secret = await totp_secret_for(session, ADMIN)
    code = pyotp.TOTP(secret.totp_secret).at(now)
    wrong = "000000" if code != "000000" else "111111"
    assert not await confirm_totp(session, new.record, wrong, now=now)
    assert new.record.second_factor_at is None
    assert await confirm_totp(session, new.record, code, now=now)
    assert new.record.second_factor_at == now and secret.confirmed_at == now
    # The same code, replayed by someone who saw it, is refused.
    other = await redeem_sign_in_link(
        session, (await issue_sign_in_link(session, ADMIN, [ADMIN], now=now)) or "", [ADMIN], now=now
    )
    assert not await confirm_totp(session, other.record, code, now=now)


async def test_too_many_wrong_codes_end_the_session(session: AsyncSession) -> None:
    now = utcnow()
    new = await redeem_sign_in_link(session, (await issue_sign_in_link(session, ADMIN, [ADMIN], now=now)) or "", [ADMIN], now=now)
    secret = await totp_secret_for(session, ADMIN)
    good = pyotp.TOTP(secret.totp_secret).at(now)
    wrong = "000000" if good != "000000" else "111111"
    for _attempt in range(MAX_TOTP_FAILURES):
        assert not await confirm_totp(session, new.record, wrong, now=now)
    assert new.record.ended_at is not None
    assert await current_session(session, new.cookie, [ADMIN], now=now) is None


async def test_the_purge_deletes_ended_sessions_and_spent_links_after_the_delay_and_spares_live_ones(
    session: AsyncSession,
) -> None:
    from participation.web_access import purge_ended
    from storage.models import WebSession

    await staff(session)
    start = utcnow() - timedelta(days=10)
    signed_out = await redeem_sign_in_link(
        session, (await issue_sign_in_link(session, AGENT, [], now=start)) or "", [], now=start
    )
    await sign_out(session, signed_out.record, everywhere=False, now=start)
    idle = await redeem_sign_in_link(session, (await issue_sign_in_link(session, AGENT, [], now=start)) or "", [], now=start)
    unused = await issue_sign_in_link(session, AGENT, [], now=start)  # never used, long expired
    live = await redeem_sign_in_link(session, (await issue_sign_in_link(session, AGENT, [])) or "", [])

    kept_a_week = await purge_ended(session, utcnow() - timedelta(days=14), dry_run=False)
    assert kept_a_week == {"web_sessions": 0, "web_sign_in_links": 0}
    dry = await purge_ended(session, utcnow() - timedelta(days=7), dry_run=True)
    assert dry == {"web_sessions": 2, "web_sign_in_links": 3}
    assert await session.scalar(select(func.count()).select_from(WebSession)) == 3
    assert await purge_ended(session, utcnow() - timedelta(days=7), dry_run=False) == dry
    remaining = list(await session.scalars(select(WebSession.id)))
    assert remaining == [live.record.id] and idle.record.id not in remaining
    # The live session's link was used just now: kept until the delay has passed, then the session still works.
    assert await session.scalar(select(func.count()).select_from(WebSignInToken)) == 1
    assert (
        unused is not None
        and await session.scalar(select(WebSignInToken).where(WebSignInToken.token_hash == digest(unused))) is None
    )
    assert await current_session(session, live.cookie, []) is not None
    assert await purge_ended(session, utcnow() - timedelta(days=7), dry_run=False) == {"web_sessions": 0, "web_sign_in_links": 0}


async def test_a_new_session_does_not_inherit_the_wrong_codes_of_a_purged_one(session: AsyncSession) -> None:
    from participation.web_access import purge_ended

    now = utcnow()
    first = await redeem_sign_in_link(
        session, (await issue_sign_in_link(session, ADMIN, [ADMIN], now=now)) or "", [ADMIN], now=now
    )
    secret = await totp_secret_for(session, ADMIN)
    good = pyotp.TOTP(secret.totp_secret).at(now)
    wrong = "000000" if good != "000000" else "111111"
    for _attempt in range(MAX_TOTP_FAILURES - 1):
        assert not await confirm_totp(session, first.record, wrong, now=now)
    await sign_out(session, first.record, everywhere=False)
    await purge_ended(session, utcnow() + timedelta(seconds=1), dry_run=False)
    later = utcnow() + timedelta(seconds=2)
    second = await redeem_sign_in_link(
        session, (await issue_sign_in_link(session, ADMIN, [ADMIN], now=later)) or "", [ADMIN], now=later
    )
    # On SQLite the new row may take the purged one's id; one wrong code must not end it.
    assert not await confirm_totp(session, second.record, wrong, now=later)
    assert second.record.ended_at is None
