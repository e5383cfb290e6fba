"""Text as Telegram reads it: UTF-16 offsets, the HTML parse mode, trimming."""

from __future__ import annotations

import itertools
import re
import urllib.parse
from dataclasses import dataclass

from tests.e2e.fake_telegram.limits import EntityParseError, Json

# --------------------------------------------------------------------------------------------
# Text: UTF-16 offsets, HTML parse mode, trimming
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's entity offsets and lengths."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_PLAIN_RUN = re.compile(r"[^&<>]+")
_ASCII_SPACE = " \t\n\r\v\f"


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output where the entity starts
    out_index: int  # index in the output pieces, to recover the tag's text (for <a> without href)
    order: int  # opening order, to sort entities covering the same range outer-first


def _decode_html_entity(source: str, i: int) -> tuple[str, int] | None:
    """Decode the character reference at source[i] == '&' like tdlib does.

    Returns (character, index after it), or None when tdlib would keep the '&' literally
    (unknown named entity, malformed numeric reference).
    """
    n = len(source)
    j = i + 1
    if j < n and source[j] == "#":
        j += 1
        base = 10
        if j < n and source[j] == "x":  # tdlib only knows the lowercase x
            base = 16
            j += 1
        start = j
        allowed = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
        while j < n and source[j] in allowed:
            j += 1
        digits = source[start:j]
        if not digits or j - i >= 10:
            return None
        code = int(digits, base)
        if code == 0 or code >= 0x10FFFF:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units"
            )
        char = chr(code)
    else:
        start = j
        while j < n and source[j].isascii() and source[j].isalpha():
            j += 1
        char = _NAMED_ENTITIES.get(source[start:j], "")
        if not char:
            return None
    if j < n and source[j] == ";":
        j += 1
    return char, j


def _normalize_link(url: str) -> str | None:
    """What tdlib's check_url makes of an href: None when Telegram drops the link."""
    if not url or any(c.isspace() for c in url):
        return None
    parsed = urllib.parse.urlsplit(url if "://" in url or url.lower().startswith("tg:") else "http://" + url)
    scheme = parsed.scheme.lower()
    if scheme == "tg":
        return url
    if scheme not in {"http", "https", "ton", "ftp"}:
        return None
    host = parsed.hostname or ""
    if "." not in host or host.endswith(".") or host.startswith("."):
        return None
    normalized = parsed.geturl()
    if not parsed.path:
        normalized = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, "/", parsed.query, parsed.fragment))
    return normalized


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[Json]]:
    """Parse Telegram's HTML parse mode into (plain text, entities), or raise EntityParseError.

    Follows tdlib's parser (tags, attributes, error messages with byte offsets). With ``strict``,
    a '&' that is not a character reference and a bare '>' are errors too (see module docstring).
    """
    out: list[str] = []
    pos = 0
    stack: list[_OpenTag] = []
    found: list[tuple[int, int, int, Json]] = []  # (offset, -length, order, entity)
    orders = itertools.count()
    n = len(source)
    i = 0

    def byte_offset(index: int) -> int:
        return len(source[:index].encode("utf-8", "surrogatepass"))

    def emit(piece: str) -> None:
        nonlocal pos
        out.append(piece)
        pos += utf16_len(piece)

    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_html_entity(source, i)
            if decoded is None:
                if strict:
                    raise EntityParseError(
                        f'Unescaped "&" at byte offset {byte_offset(i)} (FakeTelegram strict_html: the Bot API requires &amp;)'
                    )
                emit("&")
                i += 1
                continue
            emit(decoded[0])
            i = decoded[1]
            continue
        if char == ">":
            if strict:
                raise EntityParseError(
                    f'Unescaped ">" at byte offset {byte_offset(i)} (FakeTelegram strict_html: the Bot API requires &gt;)'
                )
            emit(">")
            i += 1
            continue
        if char != "<":
            match = _PLAIN_RUN.match(source, i)
            assert match is not None
            emit(match.group())
            i = match.end()
            continue

        begin = i
        if i + 1 < n and source[i + 1] == "/":
            # End tag: closes the innermost open tag ("</>" closes whatever is open).
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            j = i + 2
            while j < n and not source[j].isspace() and source[j] != ">":
                j += 1
            end_name = source[i + 2 : j].lower()
            while j < n and source[j].isspace():
                j += 1
            if j >= n or source[j] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            top = stack[-1]
            if end_name and end_name != top.name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{top.name}>", found "</{end_name}>"'
                )
            stack.pop()
            i = j + 1
            entity = _entity_for(top, pos, "".join(out[top.out_index :]), found)
            if entity is not None:
                found.append((entity["offset"], -entity["length"], top.order, entity))
            continue

        # Start tag.
        j = i + 1
        while j < n and not source[j].isspace() and source[j] != ">":
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            if source[j] == ">":
                break
            attr_start = j
            while j < n and not source[j].isspace() and source[j] not in "=>":
                j += 1
            attr = source[attr_start:j].lower()
            if not attr:
                raise EntityParseError(f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(begin)}')
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            if source[j] != "=":
                attrs.setdefault(attr, "")  # valueless attribute, e.g. <blockquote expandable>
                continue
            j += 1
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            quote = source[j]
            if quote in "\"'":
                j += 1
                value: list[str] = []
                while j < n and source[j] != quote:
                    if source[j] == "&":
                        decoded = _decode_html_entity(source, j)
                        if decoded is not None:
                            value.append(decoded[0])
                            j = decoded[1]
                            continue
                    value.append(source[j])
                    j += 1
                if j >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                j += 1
                attrs.setdefault(attr, "".join(value))
            else:
                token_start = j
                while j < n and ((source[j].isascii() and source[j].isalnum()) or source[j] in ".-"):
                    j += 1
                if j < n and not source[j].isspace() and source[j] != ">":
                    raise EntityParseError(f"Unexpected end of name token at byte offset {byte_offset(token_start)}")
                attrs.setdefault(attr, source[token_start:j].lower())
        i = j + 1
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError(f'Tag "tg-emoji" must have a numeric "emoji-id" at byte offset {byte_offset(begin)}')
        if name == "tg-time" and not attrs.get("unix", "").isdigit():
            raise EntityParseError(f'Tag "tg-time" must have a numeric "unix" at byte offset {byte_offset(begin)}')
        stack.append(_OpenTag(name, attrs, pos, len(out), next(orders)))

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities = [entity for *_, entity in sorted(found, key=lambda item: item[:3])]
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), entities


def _entity_for(tag: _OpenTag, end: int, inner_text: str, found: list[tuple[int, int, int, Json]]) -> Json | None:
    """The entity a closed tag produces (None for empty ranges and dropped links)."""
    length = end - tag.start
    if length <= 0:
        return None
    entity: Json = {"type": _HTML_TAGS[tag.name], "offset": tag.start, "length": length}
    if tag.name == "a":
        url = _normalize_link(tag.attrs.get("href") or inner_text)
        if url is None:
            return None
        entity["url"] = url
    elif tag.name == "code":
        css = tag.attrs.get("class", "")
        if css.startswith("language-") and len(css) > len("language-"):
            entity["_language"] = css[len("language-") :]
    elif tag.name == "pre":
        # <pre><code class="language-x">...</code></pre> is one pre entity with a language.
        for index, (_, _, _, inner) in enumerate(found):
            if inner["type"] == "code" and "_language" in inner and inner["offset"] == tag.start and inner["length"] == length:
                entity["language"] = inner["_language"]
                del found[index]
                break
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    elif tag.name == "tg-time":
        entity["unix_time"] = int(tag.attrs["unix"])
        if tag.attrs.get("format"):
            entity["date_time_format"] = tag.attrs["format"]
    return entity


def trim_text(text: str, entities: list[Json]) -> tuple[str, list[Json]]:
    """Strip surrounding whitespace like Telegram does, keeping entities on the same characters."""
    stripped = text.strip(_ASCII_SPACE)
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip(_ASCII_SPACE))])
    total = utf16_len(stripped)
    kept: list[Json] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, total)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept
