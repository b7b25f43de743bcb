"""The paths of the public pages named by one slug: a forecast's, forecaster's, source's
or tag's page.

``reverse()`` costs tens of microseconds; a list page links every row to two or three
of these pages, which made URL reversal a tenth of an uncached page's time. The path of
such a route is the same text around the slug every time, so :func:`slug_path` reverses
each route once with a marker for the slug, keeps the text before and after it, and then
only joins three strings. A slug (letters, digits, ``-`` and ``_``) is the same text
quoted or not, so the joined path is exactly what ``reverse()`` returns; anything that
is not a slug goes through ``reverse()`` (which refuses it, as the route does).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
_MARKER = "0slug-marker0"  # a slug itself, so every slug route accepts it
# (route name, script prefix, URLconf) -> the path's text before and after the slug
_AROUND: dict[tuple[str, str, object], tuple[str, str]] = {}


def slug_path(viewname: str, slug: str) -> str:
    """``reverse(viewname, args=[slug])`` for a route whose one argument is a slug."""
    if not _SLUG.match(slug):
        return reverse(viewname, args=[slug])
    before, after = slug_path_around(viewname)
    return before + slug + after


def slug_path_around(viewname: str) -> tuple[str, str]:
    """The path of a slug route as the text before and after its slug (for joining many
    slugs in, as :func:`slug_path` and the CSV export's page column do)."""
    key = (viewname, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    around = _AROUND.get(key)
    if around is None:
        marked = reverse(viewname, args=[_MARKER])
        if marked.count(_MARKER) != 1:  # a route that rewrites its argument
            raise ValueError(f"{viewname} does not keep its slug as it is given.")
        before, _, after = marked.partition(_MARKER)
        around = _AROUND[key] = (before, after)
    return around
