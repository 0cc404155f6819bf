"""Outgoing mail: composed from the outbox by a worker, never inside a web request."""
