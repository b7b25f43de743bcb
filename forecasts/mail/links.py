"""Signed links in e-mails, and the one way they are refused.

Review prompts (one-click resolve links) and digests (confirm, preferences,
unsubscribe) both send links whose token is a signed payload. :func:`token_read`
checks the signature and the age; the domain then checks what the payload names.
Every refusal is a :class:`LinkRefused` with a code, the HTTP status its page
answers with, and words for the reader.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing

INVALID_MESSAGE = "This link is not valid: it may have been cut or altered."

# What each refusal answers with.
STATUS = {
    "invalid": 400,  # tampered with, cut, or about another forecast
    "forbidden": 403,  # someone else's link, or no longer allowed
    "missing": 404,  # what it names no longer exists
    "changed": 409,  # what it is about changed since it was sent
    "expired": 410,
    "used": 410,  # single-use, already used
    "gone": 410,  # the subscription it was sent for has ended
}


class LinkRefused(Exception):
    """The link cannot be used; ``message`` says why in words for the page."""

    def __init__(self, code: str, message: str) -> None:
        if code not in STATUS:
            raise ValueError(f"Unknown refusal {code!r}; use one of {', '.join(STATUS)}.")
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return STATUS[self.code]


def token_sign(payload: dict[str, Any], *, salt: str, expires: bool) -> str:
    """A token for ``payload``; one that ``expires`` carries its signing time."""
    if expires:
        return signing.TimestampSigner(salt=salt).sign_object(payload, compress=True)
    return signing.Signer(salt=salt).sign_object(payload, compress=True)


def token_read(
    token: str, *, salt: str, max_age: dt.timedelta | None, expired_message: str = ""
) -> dict[str, Any]:
    """The payload of a token made by :func:`token_sign`, or :class:`LinkRefused`:
    ``invalid`` when it was altered or is not a payload, ``expired`` when older than
    ``max_age`` (None: it never expires)."""
    try:
        if max_age is None:
            payload = signing.Signer(salt=salt).unsign_object(token)
        else:
            payload = signing.TimestampSigner(salt=salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkRefused("expired", expired_message or "This link has expired.") from None
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError):
        raise LinkRefused("invalid", INVALID_MESSAGE) from None
    if not isinstance(payload, dict):
        raise LinkRefused("invalid", INVALID_MESSAGE)
    return payload


def int_fields(payload: dict[str, Any], *names: str) -> None:
    """Refuse a payload whose ``names`` are not all whole numbers."""
    if not all(isinstance(payload.get(name), int) for name in names):
        raise LinkRefused("invalid", INVALID_MESSAGE)
