"""What a person receives: messages and keyboards composed from domain objects and a locale, queued
to the outbox when they are not the direct answer to an update. Used by handlers, scheduler, web and the CLI."""
