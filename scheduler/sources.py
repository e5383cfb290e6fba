"""The job sources of every feature, in one list that the application hands to the scheduler."""

from __future__ import annotations

from scheduler.consultations import consultation_jobs
from scheduler.core import JobSource
from scheduler.meetings import meeting_reminder_jobs
from scheduler.reminders import consultation_reminder_jobs
from scheduler.retention import retention_jobs
from scheduler.satisfaction import satisfaction_jobs

JOB_SOURCES: list[JobSource] = [consultation_jobs, meeting_reminder_jobs, consultation_reminder_jobs, retention_jobs]
JOB_SOURCES.append(satisfaction_jobs)
