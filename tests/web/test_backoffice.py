"""The back office over HTTP without a browser: off by default, HTTPS only, sign-in rate-limited, safe headers."""

from __future__ import annotations

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import build_i18n
from config.settings import Settings
from participation.audit import Source
from participation.roles import Role, grant_role
from participation.web_access import issue_sign_in_link
from storage.db import SessionMaker
from storage.models import AuditEntry
from web.app import build_web_app
from web.backoffice import BackofficeContext

AGENT = 601
OFFICIAL = 602


def settings(**overrides: object) -> Settings:
    return Settings(web_enabled=True, web_base_url="https://palabre.example.fr", admin_ids=[1], _env_file=None, **overrides)  # type: ignore[arg-type]


def app(engine: AsyncEngine, sessionmaker: SessionMaker, **overrides: object):  # type: ignore[no-untyped-def]
    context = BackofficeContext(sessionmaker, settings(**overrides), build_i18n("fr"), lambda: None)
    return build_web_app(engine, backoffice=context)


async def test_nothing_is_served_unless_enabled(engine: AsyncEngine) -> None:
    async with TestClient(TestServer(build_web_app(engine))) as client:
        assert (await client.get("/backoffice/")).status == 404
        assert (await client.get("/backoffice/signin/abc")).status == 404


async def test_plain_http_behind_a_proxy_is_refused_and_pages_are_not_cached(
    engine: AsyncEngine, sessionmaker: SessionMaker
) -> None:
    async with TestClient(TestServer(app(engine, sessionmaker))) as client:
        plain = await client.get("/backoffice/signin/abc", headers={"X-Forwarded-Proto": "http"})
        assert plain.status == 403 and "HTTPS" in await plain.text()
        page = await client.get("/backoffice/signin/abc", headers={"X-Forwarded-Proto": "https"})
        assert page.status == 200
        assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]


async def test_a_good_link_sets_a_secure_cookie_and_sign_in_is_rate_limited(
    engine: AsyncEngine, sessionmaker: SessionMaker
) -> None:
    async with sessionmaker.begin() as session:
        await grant_role(session, AGENT, Role.AGENT, granted_by=None, source=Source.CLI)
        token = await issue_sign_in_link(session, AGENT, [1])
    async with TestClient(TestServer(app(engine, sessionmaker))) as client:
        signed = await post_link(client, token)
        assert signed.status == 303 and signed.headers["Location"] == "/backoffice/"
        cookie = next(c for c in signed.headers.getall("Set-Cookie") if c.startswith("palabre_session="))
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
        statuses = [(await client.post("/backoffice/signin", data={"token": f"guess-{n}"})).status for n in range(12)]
        assert statuses[:9] == [403] * 9 and statuses[-1] == 429
    async with sessionmaker() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions.count("web.sign_in") == 1


def cookie_named(response: ClientResponse, name: str) -> dict[str, str]:
    """The Cookie header for the cookie `name` the response set (sent by hand: aiohttp keeps Secure cookies off plain HTTP)."""
    found = [c.split(";")[0] for c in response.headers.getall("Set-Cookie", []) if c.startswith(name + "=")]
    assert found, response.headers
    return {"Cookie": found[0]}


async def post_link(client: TestClient, token: str | None) -> ClientResponse:
    """What the browser does with a link: open its page, then press its button."""
    import re

    page = await client.get(f"/backoffice/signin/{token}")
    nonce = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert nonce is not None
    return await client.post(
        "/backoffice/signin",
        data={"token": token, "csrf": nonce.group(1)},
        headers=cookie_named(page, "palabre_signin"),
        allow_redirects=False,
    )


async def signed_in(client: TestClient, sessionmaker: SessionMaker, telegram_id: int) -> dict[str, str]:
    """The Cookie header of a fresh session."""
    async with sessionmaker.begin() as session:
        token = await issue_sign_in_link(session, telegram_id, [1])
    return cookie_named(await post_link(client, token), "palabre_session")


async def test_pages_speak_the_staff_members_language_and_follow_their_role(
    engine: AsyncEngine, sessionmaker: SessionMaker
) -> None:
    from storage.models import Resident

    async with sessionmaker.begin() as session:
        await grant_role(session, AGENT, Role.AGENT, granted_by=None, source=Source.CLI)
        session.add(Resident(telegram_id=AGENT, locale="en"))
    async with TestClient(TestServer(app(engine, sessionmaker))) as client:
        cookie = await signed_in(client, sessionmaker, AGENT)
        home = await client.get("/backoffice/", headers=cookie)
        assert home.status == 200 and '<html lang="en">' in await home.text() and "Saved replies" in await home.text()
        assert "Consultations" not in await home.text()
        for path in ("/backoffice/consultations", "/backoffice/broadcasts", "/backoffice/audit", "/backoffice/roles"):
            refused = await client.get(path, headers=cookie)
            assert refused.status == 403 and "Your role does not give access to this page." in await refused.text(), path
        assert (await client.get("/backoffice/reports?since=not-a-date&agent=x", headers=cookie)).status == 200


async def test_an_official_gives_the_decision_in_each_language_residents_read(
    engine: AsyncEngine, sessionmaker: SessionMaker
) -> None:
    import re

    from participation import publication
    from tests.consultation_helpers import add_consultation, hours

    async with sessionmaker.begin() as session:
        consultation = await add_consultation(session, opens_at=hours(-48), closes_at=hours(-1))
        slug, consultation_id = consultation.slug, consultation.id
        await grant_role(session, OFFICIAL, Role.OFFICIAL, granted_by=None, source=Source.CLI)
    async with TestClient(TestServer(app(engine, sessionmaker))) as client:
        cookie = await signed_in(client, sessionmaker, OFFICIAL)
        page = await (await client.get(f"/backoffice/consultations/{slug}", headers=cookie)).text()
        assert 'name="decision_en"' in page and "anglais" in page  # the form offers the other language, named in French
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        sent = await client.post(
            f"/backoffice/consultations/{slug}/publish",
            headers=cookie,
            allow_redirects=False,
            data={
                "csrf": csrf.group(1),
                "decision": "Le marché reste le samedi.",
                "decision_en": "The market stays on Saturdays.",
            },
        )
        assert sent.status == 303
    async with sessionmaker() as session:
        published = await publication.publication_of(session, consultation_id)
    assert published is not None
    assert (published.decision, published.translations) == (
        "Le marché reste le samedi.",
        {"en": "The market stays on Saturdays."},
    )


async def csrf_of(client: TestClient, cookie: dict[str, str], path: str = "/backoffice/") -> str:
    import re

    found = re.search(r'name="csrf" value="([^"]+)"', await (await client.get(path, headers=cookie)).text())
    assert found is not None
    return found.group(1)


async def test_the_daily_purge_deletes_signed_out_sessions_and_spent_links_and_a_live_session_still_works(
    engine: AsyncEngine, sessionmaker: SessionMaker
) -> None:
    from sqlalchemy import func

    from scheduler.core import JobContext
    from scheduler.retention import run_purge
    from storage.models import WebSession, WebSignInToken

    async with sessionmaker.begin() as session:
        await grant_role(session, AGENT, Role.AGENT, granted_by=None, source=Source.CLI)
    async with TestClient(TestServer(app(engine, sessionmaker))) as client:
        leaving, staying = await signed_in(client, sessionmaker, AGENT), await signed_in(client, sessionmaker, AGENT)
        out = await client.post("/backoffice/signout", headers=leaving, data={"csrf": await csrf_of(client, leaving)})
        assert out.status == 200
        async with sessionmaker.begin() as session:
            assert await issue_sign_in_link(session, AGENT, [1]) is not None  # asked for, never used: expires
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(WebSession)) == 2
        await run_purge(JobContext(sessionmaker, settings(web_session_retention_days=0), lambda: None))
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(WebSession)) == 1
            # Both used links go at once (WEB_SESSION_RETENTION_DAYS=0); the unused one is still valid.
            assert await session.scalar(select(func.count()).select_from(WebSignInToken)) == 1
            purge = await session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.purge"))
        assert purge is not None and purge.detail["web_sessions"] == 1 and purge.detail["web_sign_in_links"] == 2
        assert (await client.get("/backoffice/", headers=staying)).status == 200
        assert (await client.get("/backoffice/", headers=leaving)).status == 401


async def sign_in_statuses(client: TestClient, count: int, forwarded_for: str | None) -> list[int]:
    headers = {"X-Forwarded-Proto": "https"} | ({"X-Forwarded-For": forwarded_for} if forwarded_for else {})
    return [(await client.post("/backoffice/signin", data={"token": f"guess-{n}"}, headers=headers)).status for n in range(count)]


async def test_behind_a_trusted_proxy_each_browser_has_its_own_sign_in_counter(
    engine: AsyncEngine, sessionmaker: SessionMaker
) -> None:
    # The test client connects from 127.0.0.1: here, the reverse proxy.
    async with TestClient(TestServer(app(engine, sessionmaker, web_trusted_proxies="127.0.0.1,10.0.0.0/8"))) as client:
        assert (await sign_in_statuses(client, 11, "203.0.113.5"))[-1] == 429
        # Another official behind the same proxy is not locked out by the first address.
        assert await sign_in_statuses(client, 3, "203.0.113.6") == [403] * 3
        # A client cannot escape its counter by claiming another address: the proxy appends the real one,
        # and a second proxy of ours (10.0.0.0/8) in the chain is skipped.
        assert await sign_in_statuses(client, 1, "203.0.113.9, 203.0.113.5") == [429]
        assert await sign_in_statuses(client, 1, "203.0.113.5, 10.1.2.3") == [429]


async def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(engine: AsyncEngine, sessionmaker: SessionMaker) -> None:
    async with TestClient(TestServer(app(engine, sessionmaker))) as client:
        statuses = [(await sign_in_statuses(client, 1, f"198.51.100.{n}"))[0] for n in range(11)]
    assert statuses[:10] == [403] * 10 and statuses[-1] == 429


async def test_only_a_trusted_proxy_may_say_the_browser_used_https(engine: AsyncEngine, sessionmaker: SessionMaker) -> None:
    async with TestClient(TestServer(app(engine, sessionmaker, web_trusted_proxies="127.0.0.1"))) as client:
        assert (await client.get("/backoffice/signin/abc", headers={"X-Forwarded-Proto": "https"})).status == 200
        assert (await client.get("/backoffice/signin/abc")).status == 403  # our proxy must say how the browser came
    # Reached directly (not through the proxy named): plain HTTP, whatever the request claims.
    async with TestClient(TestServer(app(engine, sessionmaker, web_trusted_proxies="192.0.2.1"))) as client:
        direct = await client.get("/backoffice/signin/abc", headers={"X-Forwarded-Proto": "https"})
        assert direct.status == 403 and "HTTPS" in await direct.text()


def test_trusted_proxies_are_addresses_or_networks() -> None:
    import ipaddress

    import pytest
    from pydantic import ValidationError

    assert settings(web_trusted_proxies="127.0.0.1, 10.0.0.0/8,::1").web_trusted_proxies == [
        ipaddress.ip_network("127.0.0.1"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1"),
    ]
    assert settings().web_trusted_proxies == []
    with pytest.raises(ValidationError, match="not an address or a network"):
        settings(web_trusted_proxies="proxy.example.fr")


async def test_a_link_posted_from_another_site_signs_nobody_in_and_stays_usable(
    engine: AsyncEngine, sessionmaker: SessionMaker
) -> None:
    """Login CSRF: a staff member's page posting their own link must not sign a colleague's browser into their session."""
    from sqlalchemy import func

    from storage.models import WebSession

    async with sessionmaker.begin() as session:
        await grant_role(session, AGENT, Role.AGENT, granted_by=None, source=Source.CLI)
        token = await issue_sign_in_link(session, AGENT, [1])
    async with TestClient(TestServer(app(engine, sessionmaker))) as client:
        # Another site's form: the link, no sign-in cookie (SameSite=Strict keeps it off cross-site posts).
        forged = await client.post("/backoffice/signin", data={"token": token}, allow_redirects=False)
        assert forged.status == 403 and "ne vient pas de l’espace agents" in await forged.text()
        assert "palabre_session" not in forged.headers.get("Set-Cookie", "")
        # The attacker's own sign-in cookie with a guessed form value is refused too.
        page = await client.get(f"/backoffice/signin/{token}")
        guessed = await client.post(
            "/backoffice/signin",
            data={"token": token, "csrf": "guessed"},
            headers=cookie_named(page, "palabre_signin"),
            allow_redirects=False,
        )
        assert guessed.status == 403
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(WebSession)) == 0
        # The link was not used up: its owner signs in with it from the page.
        assert (await post_link(client, token)).status == 303


def image(kind: str, size: tuple[int, int] = (40, 30)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, kind)
    return buffer.getvalue()


async def post_broadcast(client: TestClient, cookie: dict[str, str], text: str, photo: bytes | None, name: str = "affiche.png"):  # type: ignore[no-untyped-def]
    from aiohttp import FormData

    form = FormData()
    form.add_field("csrf", await csrf_of(client, cookie, "/backoffice/broadcasts"))
    form.add_field("audience", "all")
    form.add_field("text", text)
    if photo is not None:
        form.add_field("photo", photo, filename=name, content_type="application/octet-stream")
    return await client.post("/backoffice/broadcasts", data=form, headers=cookie)


async def test_an_official_broadcasts_a_photo_with_its_caption_through_the_outbox(
    engine: AsyncEngine, sessionmaker: SessionMaker, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import re

    from bot.broadcasting import BroadcastFeeder
    from storage.models import OutboxMessage
    from tests.consultation_helpers import add_resident

    async with sessionmaker.begin() as session:
        await grant_role(session, OFFICIAL, Role.OFFICIAL, granted_by=None, source=Source.CLI)
        for telegram_id in (8801, 8802):
            await add_resident(session, telegram_id)
    photo = image("PNG")
    async with TestClient(TestServer(app(engine, sessionmaker, media_dir=tmp_path))) as client:
        cookie = await signed_in(client, sessionmaker, OFFICIAL)
        page = await client.get("/backoffice/broadcasts", headers=cookie)
        assert 'enctype="multipart/form-data"' in await page.text() and 'name="photo"' in await page.text()
        draft = await post_broadcast(client, cookie, "Fête du village samedi", photo)
        text = await draft.text()
        assert draft.status == 200 and "La photo accompagne le message" in text and "2 habitants" in text
        action = re.search(r'action="(/backoffice/broadcasts/\d+/confirm)"', text)
        assert action is not None
        confirmed = await client.post(
            action.group(1), headers=cookie, data={"csrf": await csrf_of(client, cookie)}, allow_redirects=False
        )
        assert confirmed.status == 303
    settings_ = settings(media_dir=tmp_path)
    assert await BroadcastFeeder(sessionmaker, build_i18n("fr"), settings_)()
    async with sessionmaker() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.chat_id)))
    assert [(row.chat_id, row.method) for row in rows] == [(8801, "sendPhoto"), (8802, "sendPhoto")]
    assert "Fête du village samedi" in rows[0].payload["caption"]
    from pathlib import Path

    stored = Path(rows[0].payload["photo"]["path"])
    assert stored.read_bytes() == photo and stored.suffix == ".png" and tmp_path in stored.parents


async def test_a_photo_telegram_would_refuse_or_a_caption_too_long_is_refused_and_nothing_is_kept(
    engine: AsyncEngine, sessionmaker: SessionMaker, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from participation.broadcasts import MAX_CAPTION
    from storage.models import Broadcast

    async with sessionmaker.begin() as session:
        await grant_role(session, OFFICIAL, Role.OFFICIAL, granted_by=None, source=Source.CLI)
    async with TestClient(TestServer(app(engine, sessionmaker, media_dir=tmp_path / "media"))) as client:
        cookie = await signed_in(client, sessionmaker, OFFICIAL)
        long = await post_broadcast(client, cookie, "x" * (MAX_CAPTION + 1), image("JPEG"))
        assert long.status == 400
        assert f"{MAX_CAPTION} caractères au plus, et celui-ci en compte {MAX_CAPTION + 1}" in await long.text()
        gif = await post_broadcast(client, cookie, "Fête", image("GIF"), name="affiche.gif")
        assert gif.status == 400 and "n’est pas une photo JPEG ou PNG" in await gif.text()
        fake = await post_broadcast(client, cookie, "Fête", b"\xff\xd8\xff" + b"not really a jpeg" * 10, name="a.jpg")
        assert fake.status == 400 and "n’est pas une photo JPEG ou PNG" in await fake.text()
        narrow = await post_broadcast(client, cookie, "Fête", image("PNG", (2100, 100)))
        assert narrow.status == 400 and "dimensions" in await narrow.text()
        heavy = await post_broadcast(client, cookie, "Fête", b"\x89PNG" + bytes(10 * 1024 * 1024))
        assert heavy.status == 400 and "dépasse 10" in await heavy.text()
        huge = await post_broadcast(client, cookie, "Fête", bytes(11 * 1024 * 1024))
        assert huge.status == 413 and "trop volumineux" in await huge.text()
        # Too large for any page: refused before it is read, and only for the signed-in.
        from aiohttp import FormData

        upload = FormData()
        upload.add_field("photo", b"x" * 1024, filename="a.png")
        anonymous = await client.post("/backoffice/broadcasts", data=upload)
        assert anonymous.status == 401
        # Without a file the form still makes a text broadcast (browsers send an empty file part).
        plain = await post_broadcast(client, cookie, "Fête", b"", name="")
        assert plain.status == 200 and "2 habitants" not in await plain.text() and "La photo accompagne" not in await plain.text()
    async with sessionmaker() as session:
        drafts = list(await session.scalars(select(Broadcast)))
    assert [(d.text, d.photo_path) for d in drafts] == [("Fête", None)]
    assert not any((tmp_path / "media").rglob("*.*"))  # no file left by a refusal
