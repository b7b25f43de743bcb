"""The one e-mail builder: every message has a subject, a plain-text part and an HTML part.

``templates/emails/{name}-subject.txt``, ``{name}-body.txt`` and
``{name}-body.html`` make up one message. The text templates turn
autoescaping off themselves (``{% autoescape off %}``); the HTML one keeps it.
The bodies also get the rendered ``subject``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, make_msgid
from django.template.loader import render_to_string

_BLANK_LINES = re.compile(r"\n{3,}")


def build_message(
    name: str,
    context: dict[str, Any],
    *,
    to: list[str],
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """An unsent message from the ``emails/{name}-*`` templates, from ``DEFAULT_FROM_EMAIL``.

    The Message-ID is set here (``message.extra_headers["Message-ID"]``) so the
    caller can record it before or after sending.
    """
    # Whatever the template or the data hold, the subject is one line: a
    # newline in a header would let a value inject headers of its own.
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    body_context = {**context, "subject": subject}
    text = _tidy(render_to_string(f"emails/{name}-body.txt", body_context))
    html = render_to_string(f"emails/{name}-body.html", body_context)
    return _assemble(subject, text, html, to=to, headers=headers or {})


def message_id() -> str:
    """A new, globally unique Message-ID on this site's domain."""
    return make_msgid(domain=urlsplit(settings.SITE_URL).hostname or "localhost")


def message_id_for(parts: Iterable[str]) -> str:
    """One stable Message-ID for a message made of several claimed items (each with its
    own Message-ID): the same items give the same Message-ID, other items another."""
    digest = hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:32]
    return f"<{digest}@{urlsplit(settings.SITE_URL).hostname or 'localhost'}>"


def _assemble(
    subject: str, text: str, html: str, *, to: list[str], headers: dict[str, str]
) -> EmailMultiAlternatives:
    message = _Message(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"Message-ID": message_id(), **headers},
    )
    message.attach_alternative(html, "text/html")
    return message


def personalise(
    template: EmailMultiAlternatives,
    *,
    to: list[str],
    replace: dict[str, str],
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """A copy of a built message for another recipient, with placeholders replaced.

    For mass mail whose body differs per recipient only in a few strings (a
    signed token): render the templates once with a placeholder, then copy per
    recipient. Placeholders must be plain letters and digits, which neither
    template escaping nor line wrapping changes. Each copy gets its own Message-ID.
    """

    def fill(value: str) -> str:
        for placeholder, actual in replace.items():
            value = value.replace(placeholder, actual)
        return value

    [(html, _)] = template.alternatives
    kept = {k: v for k, v in template.extra_headers.items() if k != "Message-ID"}
    merged = {k: fill(v) for k, v in {**kept, **(headers or {})}.items()}
    return _assemble(
        fill(str(template.subject)),
        fill(str(template.body)),
        fill(str(html)),
        to=to,
        headers=merged,
    )


class _Message(EmailMultiAlternatives):
    def message(self) -> Any:
        mime = super().message()
        if mime.is_multipart():
            # A random boundary chosen here spares the generator from making one and
            # compiling a regular expression per message to check it is unique: at a
            # digest run's volume that is a noticeable share of the time, and 128
            # random bits do not occur in our text by accident.
            mime.set_boundary(f"=={uuid.uuid4().hex}==")
        return mime


def _tidy(text: str) -> str:
    """Template tags leave blank lines behind; keep at most one in a row."""
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return _BLANK_LINES.sub("\n\n", lines) + "\n"
