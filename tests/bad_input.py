"""Hostile input for the bad-input tests: hypothesis strategies and the checks they share.

Every surface is held to the same promise: a 4xx or the form again with a
message (never a 500), nothing already stored changes, whatever is echoed is
escaped, and no e-mail goes anywhere the input chose.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from django.core import mail
from django.db import models
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from forecasts.models import (
    DeadlineExtension,
    DigestDelivery,
    Estimate,
    Forecast,
    Forecaster,
    Resolution,
    ReviewerAssignment,
    ReviewLinkUse,
    Source,
    Subscriber,
    Tag,
)

# Database tests reuse one fixture setup for every example: each example must
# leave the data as it found it, which is exactly what these tests assert.
examples = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
few_examples = settings(examples, max_examples=15)

# --- What is stored -----------------------------------------------------------------------

WATCHED: list[type[models.Model]] = [
    Forecast,
    Forecast.tags.through,
    Estimate,
    Resolution,
    DeadlineExtension,
    ReviewerAssignment,
    ReviewLinkUse,
    Source,
    Forecaster,
    Tag,
    Subscriber,
    Subscriber.tags.through,
    Subscriber.forecasters.through,
    DigestDelivery,
]


def stored() -> dict[str, str]:
    """A fingerprint of every row of every table bad input could reach."""
    state = {}
    for model in WATCHED:
        rows = list(model.objects.order_by("pk").values_list())  # type: ignore[attr-defined]
        state[model._meta.label] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return state


# --- Assertions -----------------------------------------------------------------------------


def assert_refused(response: Any, *, message: str | None = None) -> str:
    """A 4xx, or the page again (200) with an error on it; returns the HTML."""
    assert response.status_code < 500, response.status_code
    assert response.status_code in (200, 400, 403, 404, 409, 410, 413, 429), response.status_code
    html: str = response.content.decode("utf-8", errors="replace")
    if response.status_code == 200:
        assert 'class="errorlist' in html or "errornote" in html, html[:3000]
    if message is not None:
        assert message in html, html[:3000]
    return html


def assert_not_echoed_raw(html: str, *payloads: str) -> None:
    """Markup in the input never reaches the page as markup.

    Only payloads with a character that can open a tag or close an attribute count:
    an escaped "&" is "&amp;", which still contains the payload "x&" as it was."""
    for payload in payloads:
        if any(char in payload for char in "<>\"'") and len(payload) >= 4:
            assert payload not in html, f"unescaped: {payload!r}"


def assert_no_mail() -> None:
    assert mail.outbox == [], [m.to for m in mail.outbox]


def assert_clean_headers(message: Any, *, to: list[str]) -> None:
    """Recipients exactly as intended; no header was smuggled in through a value."""
    assert message.to == to
    assert not message.cc
    assert not message.bcc
    raw = message.message().as_bytes()
    head = raw.split(b"\n\n", 1)[0].lower()
    assert b"\nbcc:" not in head
    assert b"\ncc:" not in head
    assert b"evil" not in head


# --- Strategies -----------------------------------------------------------------------------

SCRIPTS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(2)</script>",
    "{{ 7|add:7 }}{% now 'Y' %}",
]
CONTROL = ["\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\u202e", "\u2066", "\ufeff", "\r", "\n"]


def probability_text() -> st.SearchStrategy[str]:
    """What someone might type as a probability that is not one."""
    floats = st.one_of(
        st.sampled_from([math.nan, math.inf, -math.inf, 1.0000001, -1e-9, 1e308, -5.0, 2.0]),
        st.floats(min_value=1.0, exclude_min=True, allow_infinity=True),
        st.floats(max_value=0.0, exclude_max=True, allow_infinity=True),
    )
    return st.one_of(
        floats.map(repr),
        st.sampled_from(
            [
                *("nan", "NaN", "inf", "-inf", "Infinity", "1e309", "0,5", "50%", "½"),
                *("0x1p-1", "one half", "0.5.1", "--0.5", "0.5\x00", "\uff11.\uff15"),
            ]
        ),
    )


def date_text(*, bad: bool = True) -> st.SearchStrategy[str]:
    """Dates that are not dates, or not dates a forecast can carry."""
    return st.one_of(
        st.sampled_from(
            [
                *("0000-01-01", "10000-01-01", "2025-02-30", "2025-13-01", "31/12/2025"),
                *("9999-12-31", "0001-01-01", "1799-12-31", "3000-01-01", "yesterday"),
                *("2025-01-01\x00", "2025-01-01T00:00", "-2025-01-01", "\uff12\uff10\uff12\uff15"),
            ]
        ),
        st.text(max_size=20).filter(lambda s: not s.strip()[:1].isdigit()),
    )


def nasty_text(*, min_size: int = 1) -> st.SearchStrategy[str]:
    """Markup, control characters, direction overrides, surrogate-free unicode."""
    return st.one_of(
        st.sampled_from(SCRIPTS),
        st.builds(lambda a, b: a + b, st.sampled_from(SCRIPTS), st.sampled_from(CONTROL)),
        st.text(
            alphabet=st.characters(blacklist_categories=["Cs"]),
            min_size=min_size,
            max_size=40,
        ),
    )


def header_injections() -> st.SearchStrategy[str]:
    """E-mail addresses that try to add recipients or headers; none is a valid address."""
    fixed = [
        "a@b.org\r\nBcc: evil@x.org",
        "a@b.org\nBcc: evil@x.org",
        "a@b.org\rCc: evil@x.org",
        '"x"\n@y.org',
        "a@b.org%0d%0aBcc:evil@x.org",
        "a@b.org, evil@x.org",
        "a@b.org;evil@x.org",
        "Evil <evil@x.org>",
        "a@b.org\x00evil@x.org",
        "a@b.org\u2028Bcc: evil@x.org",
        "<script>@x.org",
        "a" * 250 + "@x.org",
        "x@" + "a" * 260 + ".org",
    ]
    separators = st.sampled_from(["\r\n", "\n", "\r", "\x00", ",", ";", " "])
    return st.one_of(
        st.sampled_from(fixed),
        st.builds(lambda sep: f"a@b.org{sep}Bcc: evil@x.org", separators),
    )


def bad_bytes() -> st.SearchStrategy[bytes]:
    """Byte strings that are not UTF-8 (lone surrogates, stray continuation bytes, Latin-1)."""
    fixed = [b"\xff\xfe", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80", b"caf\xe9", b"\xf4\x90\x80\x80"]
    return st.builds(
        lambda before, bad, after: before + bad + after,
        st.binary(max_size=8).map(lambda b: bytes(c & 0x7F for c in b)),
        st.sampled_from(fixed),
        st.binary(max_size=8).map(lambda b: bytes(c & 0x7F for c in b)),
    )


def percent_encoded(data: bytes) -> bytes:
    return "".join(f"%{byte:02X}" for byte in data).encode("ascii")


def bad_urls() -> st.SearchStrategy[str]:
    """Evidence URLs that must be refused: scripts, other schemes, broken or oversized."""
    return st.sampled_from(
        [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "https://example.org/\x00",
            "https://" + "a" * 600 + ".org",
            "http://exa mple.org",
            "http://",
        ]
    )


# A valid URL (nothing but whitespace ends a path) that is markup once shown unescaped.
MARKUP_URL = 'https://example.org/"><script>alert(1)</script>'
