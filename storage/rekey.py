"""Encrypting the values stored in clear (migration 0011) and re-encrypting them with a new key.

Both walk the encrypted columns in batches of primary keys, on raw values (no column types), so
that they run the same inside a migration and from `palabre keys rotate`. Both skip what is
already done: a crash leaves nothing half-written, and running again finishes the work.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage import crypto

# (table, primary key, column) of every value stored as one token (storage.models).
TOKEN_COLUMNS: list[tuple[str, str, str]] = [
    ("conversation_state", "key", "data"),
    ("outbox_message", "id", "payload"),
    ("consultation_answer", "id", "other_text"),
    ("report", "id", "description"),
    ("report", "id", "address"),
    ("report", "id", "lat"),
    ("report", "id", "lon"),
    ("report_status_change", "id", "note"),
    ("feedback", "id", "text"),
    ("feedback", "id", "answer"),
    ("satisfaction_answer", "id", "comment"),
    ("web_totp_secret", "telegram_id", "totp_secret"),
    ("report_assignment", "report_id", "agent_name"),
]
# Typed answers are sealed inside the answers' JSON column: {"sealed": token}.
ANSWERS = ("consultation_answer", "id", "value")

Transform = Callable[[Any], Any]


def _token_columns(connection: Connection) -> list[tuple[str, str, str]]:
    """The encrypted columns whose table exists yet: migration 0011 runs before later tables are made."""
    tables = set(sa.inspect(connection).get_table_names())
    return [entry for entry in TOKEN_COLUMNS if entry[0] in tables]


def _rewrite(
    connection: Connection,
    table: str,
    pk: str,
    column: str,
    transform: Transform,
    *,
    batch: int,
    commit: bool,
    json_column: bool = False,
    where: Any = None,
) -> int:
    """Apply `transform` to the raw values of `column` (None: leave it), batch by batch; how many changed."""
    key: sa.ColumnClause[Any] = sa.column(pk)
    raw = sa.column(column, sa.JSON if json_column else sa.Text)
    read = sa.cast(sa.column(column), sa.Text) if json_column else sa.column(column, sa.Text)
    source = sa.table(table, key, raw)
    changed, last = 0, None
    while True:
        query = sa.select(key, read).select_from(source).where(sa.column(column).is_not(None)).order_by(key).limit(batch)
        if where is not None:
            query = query.where(where)
        if last is not None:
            query = query.where(key > last)
        rows = connection.execute(query).all()
        if not rows:
            return changed
        updates = []
        for row_key, value in rows:
            new = transform(value)
            if new is not None:
                updates.append({"k": row_key, "v": new})
        if updates:
            connection.execute(
                sa.update(source).where(key == sa.bindparam("k")).values({column: sa.bindparam("v", type_=raw.type)}),
                updates,
            )
            changed += len(updates)
        if commit:
            connection.commit()  # each batch kept: a crash resumes after it
        last = rows[-1][0]


def _clear_to_token(value: Any) -> str | None:
    if value == "" or _already_encrypted(value):
        return None
    return crypto.encrypt(str(value))


def _already_encrypted(value: Any) -> bool:
    if not crypto.is_token(value):
        return False
    try:
        crypto.decrypt(value)
        return True
    except crypto.WrongKey:
        return False


def _text_questions(connection: Connection) -> dict[int, list[str]]:
    """Consultation id → ids of its text questions (the answers to seal)."""
    found = {}
    for consultation_id, questions in connection.execute(sa.text("SELECT id, CAST(questions AS TEXT) FROM consultation")):
        ids = [q["id"] for q in json.loads(questions or "[]") if q.get("type") == "text"]
        if ids:
            found[consultation_id] = ids
    return found


def _answers_of(connection: Connection, consultation_id: int, question_ids: list[str]) -> Any:
    responses: sa.Select[Any] = (
        sa.select(sa.column("id"))
        .select_from(sa.table("consultation_response"))
        .where(sa.column("consultation_id") == consultation_id)
    )
    return sa.and_(sa.column("response_id").in_(responses), sa.column("question_id").in_(question_ids))


def has_clear_personal_data(connection: Connection) -> bool:
    """True when some personal value is stored (before migration 0011: all of them in clear)."""
    for table, _pk, column in _token_columns(connection):
        query = sa.select(sa.literal(1)).select_from(sa.table(table)).where(sa.column(column).is_not(None)).limit(1)
        if table == "conversation_state":
            query = query.where(sa.cast(sa.column(column), sa.Text) != "{}")
        if connection.execute(query).first() is not None:
            return True
    return (
        bool(_text_questions(connection))
        and connection.execute(sa.select(sa.literal(1)).select_from(sa.table("consultation_answer")).limit(1)).first() is not None
    )


def encrypt_clear_values(connection: Connection, *, batch: int = 500, commit: bool = False) -> int:
    """Encrypt every personal value still in clear; how many were."""
    changed = 0
    for table, pk, column in _token_columns(connection):
        changed += _rewrite(connection, table, pk, column, _clear_to_token, batch=batch, commit=commit)

    def seal(raw: Any) -> Any:
        value = json.loads(raw) if raw is not None else None
        return {crypto.SEALED: crypto.encrypt(value)} if isinstance(value, str) else None

    for consultation_id, question_ids in _text_questions(connection).items():
        changed += _rewrite(
            connection,
            *ANSWERS,
            seal,
            batch=batch,
            commit=commit,
            json_column=True,
            where=_answers_of(connection, consultation_id, question_ids),
        )
    return changed


def reencrypt_values(connection: Connection, *, batch: int = 500, commit: bool = True) -> int:
    """Encrypt again with the first key every value encrypted with another one; how many were."""

    def again(token: Any) -> str | None:
        if not crypto.is_token(token) or crypto.with_first_key(token):
            return None
        return crypto.rotated(token)

    def again_sealed(raw: Any) -> Any:
        value = json.loads(raw) if raw is not None else None
        if not (isinstance(value, dict) and crypto.SEALED in value):
            return None
        token = again(value[crypto.SEALED])
        return None if token is None else {crypto.SEALED: token}

    changed = 0
    for table, pk, column in _token_columns(connection):
        changed += _rewrite(connection, table, pk, column, again, batch=batch, commit=commit)
    changed += _rewrite(
        connection,
        *ANSWERS,
        again_sealed,
        batch=batch,
        commit=commit,
        json_column=True,
        where=sa.cast(sa.column("value"), sa.Text).like('{"sealed"%'),
    )
    return changed


def check_key(connection: Connection) -> None:
    """Raise WrongKey when the installed keys cannot read a value already stored (one per column)."""
    for table, _pk, column in _token_columns(connection):
        value = connection.execute(
            sa.select(sa.column(column, sa.Text))
            .select_from(sa.table(table))
            .where(sa.column(column).is_not(None), sa.column(column) != "")
            .limit(1)
        ).scalar()
        if isinstance(value, str) and crypto.is_token(value):
            crypto.decrypt(value)
