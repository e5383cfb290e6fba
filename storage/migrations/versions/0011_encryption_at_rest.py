"""Encryption at rest: personal fields become encrypted texts, reports get a clear coarse cell

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 23:50:00
"""

import sqlalchemy as sa
from alembic import op

from storage import crypto, rekey

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# table -> columns whose type becomes TEXT (an encrypted value is longer than its text).
TO_TEXT = {
    "conversation_state": ["data"],
    "outbox_message": ["payload"],
    "consultation_answer": ["other_text"],
    "report": ["description", "address", "lat", "lon"],
    "report_status_change": ["note"],
    "feedback": ["text", "answer"],
    "satisfaction_answer": ["comment"],
}


def upgrade() -> None:
    bind = op.get_bind()
    # Decided before any change, so that a database is never left half encrypted (storage.migrate
    # checks it too, before the migrations that come earlier in the same upgrade).
    if rekey.has_clear_personal_data(bind) and not crypto.installed_keys():
        raise crypto.MissingKey(crypto.MISSING_KEY_FOR_MIGRATION)
    # Read the exact coordinates before their column turns into text (SQLite would round them).
    located = bind.execute(sa.text("SELECT id, lat, lon FROM report WHERE lat IS NOT NULL AND lon IS NOT NULL")).all()

    postgresql = bind.dialect.name == "postgresql"
    for table, columns in TO_TEXT.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                using = {"postgresql_using": f"{column}::text"} if postgresql else {}
                batch_op.alter_column(column, type_=sa.Text(), **using)
            if table == "report":
                batch_op.add_column(sa.Column("cell", sa.String(length=24), nullable=True))
                batch_op.create_index("ix_report_cell", ["cell"], unique=False)

    report = sa.table("report", sa.column("id"), sa.column("lat", sa.Text), sa.column("lon", sa.Text), sa.column("cell"))
    for report_id, lat, lon in located:
        bind.execute(
            sa.update(report).where(report.c.id == report_id).values(
                lat=crypto.encrypt(repr(float(lat))), lon=crypto.encrypt(repr(float(lon))),
                cell=crypto.cell_of(float(lat), float(lon)),
            )
        )
    if crypto.installed_keys():
        rekey.encrypt_clear_values(bind)


def downgrade() -> None:
    # Decrypting back to clear would defeat the point; restore a backup taken before 0011 instead.
    raise NotImplementedError("encryption at rest cannot be undone: restore the backup taken before upgrading")
