"""Encryption at rest of personal fields: the key ring and the column types that use it.

AES-256-GCM (authenticated, from `cryptography`), one random 96-bit nonce per value. DATA_KEY
holds comma-separated keys: the first encrypts and all of them decrypt, which is how a key is
rotated (`palabre keys rotate`). The ring is installed once by whoever assembles the process
(`palabre run`, the CLI, tests): column types only look it up when a value is read or written.
Not Fernet: eight times slower per value, seconds more on large /results (bench/RESULTS.md §6).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import JSON, Text
from sqlalchemy.types import TypeDecorator

# Every stored token starts so: version 1 of the format, then base64 of nonce + ciphertext and tag.
TOKEN_PREFIX = "e1:"
NONCE_BYTES = 12
# An encrypted answer value inside the JSON column of answers: {"sealed": token}.
SEALED = "sealed"


MISSING_KEY_FOR_MIGRATION = (
    "This database holds personal data to encrypt but DATA_KEY is not set: "
    "run `palabre keys init` (or set DATA_KEY) and start again"
)


class DataKeyError(Exception):
    """DATA_KEY is missing, malformed, or cannot read what is stored; the message is for operators."""


class MissingKey(DataKeyError):
    pass


class WrongKey(DataKeyError):
    pass


_ring: list[AESGCM] = []
_keys: list[str] = []


def generate_key() -> str:
    """A new key: 32 random bytes in url-safe base64 (44 characters)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def _key_bytes(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise DataKeyError(
            "DATA_KEY is not a valid key (expected 44 characters of url-safe base64, as `palabre keys init` writes)"
        ) from exc
    if len(raw) != 32:
        raise DataKeyError(
            "DATA_KEY is not a valid key (expected 44 characters of url-safe base64, as `palabre keys init` writes)"
        )
    return raw


def parse_keys(data_key: str | None) -> list[str]:
    """The keys of a DATA_KEY value, first (encrypting) key first; malformed keys are refused."""
    keys = [part.strip() for part in (data_key or "").split(",") if part.strip()]
    for key in keys:
        _key_bytes(key)
    return keys


def install_keys(data_key: str | None) -> None:
    """Use the keys of `data_key` from now on (None or empty: no key, encrypted fields refuse to work)."""
    global _ring, _keys
    keys = parse_keys(data_key)
    _keys = keys
    _ring = [AESGCM(_key_bytes(key)) for key in keys]


def installed_keys() -> list[str]:
    return list(_keys)


def _first() -> AESGCM:
    if not _ring:
        raise MissingKey("DATA_KEY is not set: run `palabre keys init` once, then keep the key it writes in .env safe")
    return _ring[0]


def encrypt(text: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _first().encrypt(nonce, text.encode("utf-8"), None)
    return TOKEN_PREFIX + binascii.b2a_base64(nonce + sealed, newline=False).decode("ascii")


def _open(token: str, keys: list[AESGCM]) -> str | None:
    try:
        # binascii rather than base64: a tenth of the cost of decrypting 100,000 texts for /results.
        raw = binascii.a2b_base64(token[len(TOKEN_PREFIX) :])
    except (binascii.Error, ValueError):
        return None
    for key in keys:
        try:
            return key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode("utf-8")
        except InvalidTag:
            continue
    return None


def decrypt(token: str) -> str:
    _first()
    text = _open(token, _ring)
    if text is None:
        raise WrongKey("DATA_KEY cannot read the personal data already stored: it is not a key this database was encrypted with")
    return text


def with_first_key(token: str) -> bool:
    """True when the first key reads `token`: a rotation has nothing to do for it."""
    return _open(token, [_first()]) is not None


def rotated(token: str) -> str:
    """`token` encrypted again with the first key."""
    return encrypt(decrypt(token))


def is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


class EncryptedText(TypeDecorator[str]):
    """A string stored encrypted. The empty string stays empty, so `!= ""` filters keep working."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None or value == "":
            return value
        return encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)


class EncryptedFloat(TypeDecorator[float]):
    """A coordinate stored encrypted (its repr, so it reads back exactly)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: float | None, dialect: Any) -> str | None:
        return None if value is None else encrypt(repr(float(value)))

    def process_result_value(self, value: str | None, dialect: Any) -> float | None:
        return None if value is None else float(decrypt(value))


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value (outbox payloads, conversation data) stored as one encrypted text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(decrypt(value))


class FreeText(str):
    """A resident's typed answer on its way to the answers' JSON column: it is stored sealed."""

    __slots__ = ()


class AnswerValue(TypeDecorator[Any]):
    """An answer: choices and numbers in clear (they are counted in SQL), typed texts sealed.

    The domain marks typed texts with `FreeText`; they are stored as {"sealed": token}, and read
    back as plain strings. JSON aggregated by the database bypasses this: use `unsealed`.
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, FreeText):
            return {SEALED: encrypt(str(value))}
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return unseal(value)


def unseal(value: Any) -> Any:
    """A stored answer value as the domain knows it: a sealed text is decrypted, anything else kept."""
    if isinstance(value, dict) and len(value) == 1 and SEALED in value:
        return decrypt(value[SEALED])
    return value


def unsealed(answers: dict[str, Any]) -> dict[str, Any]:
    """Answers aggregated as JSON by the database, their sealed texts decrypted."""
    for qid, value in answers.items():
        if isinstance(value, dict):
            answers[qid] = unseal(value)
    return answers


def decrypted(texts: dict[str, str]) -> dict[str, str]:
    """Encrypted texts aggregated as JSON by the database, decrypted."""
    return {qid: decrypt(token) if token else token for qid, token in texts.items()}


# --- Coarse location, in clear, for the search of nearby reports ------------------------------

# 0.01° is about 1.1 km north-south and 0.75 km east-west in France: no finer than the
# neighbourhood already kept in clear, and much wider than the 50 m of the duplicate search.
CELL_DEGREES = 0.01


def cell_of(lat: float | None, lon: float | None) -> str | None:
    if lat is None or lon is None:
        return None
    return f"{math.floor(lat / CELL_DEGREES)}:{math.floor(lon / CELL_DEGREES)}"


def cells_covering(min_lat: float, max_lat: float, min_lon: float, max_lon: float) -> list[str]:
    """The cells that a bounding box touches (nine for the duplicate search's 50 m)."""
    rows = range(math.floor(min_lat / CELL_DEGREES), math.floor(max_lat / CELL_DEGREES) + 1)
    columns = range(math.floor(min_lon / CELL_DEGREES), math.floor(max_lon / CELL_DEGREES) + 1)
    return [f"{row}:{column}" for row in rows for column in columns]
