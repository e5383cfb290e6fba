"""The job sources of every feature, in one list that the application hands to the scheduler."""

from __future__ import annotations

from scheduler.core import JobSource

JOB_SOURCES: list[JobSource] = []
