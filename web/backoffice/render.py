"""Jinja2 pages in the staff member's language, from the same gettext catalogs as the chat."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from aiohttp import web
from babel import Locale
from jinja2 import Environment, FileSystemLoader, select_autoescape

from notices.catalogs import translation

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Pages must never be cached by a shared proxy, nor leak their address (sign-in tokens) onward.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=4)
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translation(locale), newstyle=False)  # type: ignore[attr-defined]  # added at run time by jinja2.ext.i18n, undeclared
    env.globals["locale_name"] = lambda code: Locale.parse(code).get_display_name(locale)
    return env


def content_security_policy(tiles_url: str) -> str:
    """Scripts and styles from this server only; images from the tile server too."""
    from urllib.parse import urlsplit

    parts = urlsplit(tiles_url.replace("{s}", "a"))
    tiles = (
        f"{parts.scheme}://{parts.netloc.replace('a.', '*.', 1) if '{s}' in tiles_url else parts.netloc}" if parts.netloc else ""
    )
    return f"default-src 'self'; img-src 'self' data: {tiles}; script-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"


def page(locale: str, template: str, *, status: int = 200, csp: str, **values: Any) -> web.Response:
    html = environment(locale).get_template(template).render(locale=locale, **values)
    return web.Response(text=html, status=status, content_type="text/html", headers={**HEADERS, "Content-Security-Policy": csp})
