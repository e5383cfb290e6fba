"""The job sources of every feature, in one list that the application hands to the scheduler."""

from __future__ import annotations

from scheduler.core import JobSource

JOB_SOURCES: list[JobSource] = []

# --- Notifications: public meeting reminders ---
from scheduler.meetings import meeting_reminder_jobs  # noqa: E402 - kept beside its registration for clean merges

JOB_SOURCES.append(meeting_reminder_jobs)
