"""E-mail digests: subscribers (double opt-in), periods, what a digest reports, sending it
exactly once, and the subscription pages."""
