"""The one e-mail builder: every message has a subject, a plain-text part and an HTML part.

``templates/emails/{name}-subject.txt``, ``{name}-body.txt`` and
``{name}-body.html`` make up one message. The text templates turn
autoescaping off themselves (``{% autoescape off %}``); the HTML one keeps it.
The bodies also get the rendered ``subject``.
"""

from __future__ import annotations

import re
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
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"Message-ID": make_msgid(domain=domain), **(headers or {})},
    )
    message.attach_alternative(html, "text/html")
    return message


def _tidy(text: str) -> str:
    """Template tags leave blank lines behind; keep at most one in a row."""
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return _BLANK_LINES.sub("\n\n", lines) + "\n"
