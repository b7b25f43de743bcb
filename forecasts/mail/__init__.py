"""E-mail: the one message builder, the one exactly-once outbox, and signed links."""
