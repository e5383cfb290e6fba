"""The domain: residents, roles, consultations, reports, notifications, privacy, results.

Plain async functions over a database session; they never import aiogram, never commit and never
format text for people (handlers do that).
"""
