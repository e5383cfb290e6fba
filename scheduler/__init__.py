"""Scheduled work: APScheduler only wakes things up, the database says what is due and when."""
