"""Persistence: SQLModel tables, the async engine and sessions, Alembic migrations. No aiogram here."""
