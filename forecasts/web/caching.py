"""Server-side caching of public pages, invalidated by the writes that change them.

Every cached page is stamped with the public data version; services bump it on
commit of anything a public page shows (a resolution, an extension, a new
forecast, a score snapshot: :func:`forecasts.core.changes.public_pages_changed`),
so the next request renders afresh.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase, QueryDict
from django.utils.cache import patch_cache_control, patch_vary_headers

from forecasts.core.changes import public_version

View = Callable[..., HttpResponseBase]


# How long one request may hold the right to re-render a page after a change;
# meanwhile the others are served the previous version.
RENDER_LOCK_SECONDS = 30


def cached_public_page(*, params: Iterable[str]) -> Callable[[View], View]:
    """Cache a public GET page for anonymous readers, keyed by its path and the query
    parameters it reads (``params``), stamped with the data version.

    The view sees only those parameters: any other (``/?junk=1``, a tracking tag) is
    dropped before it runs, so it neither changes the page nor makes a cache entry of
    its own (each one was a full render and an entry, a way to fill the cache at will).

    After a change (a new data version) the first request re-renders the page;
    requests arriving while it renders are served the previous version instead
    of all rendering it at once (stale-while-revalidate). Without that, a score
    snapshot, which changes every page, made every worker render the scorecard
    at the same moment under load.
    """
    read = frozenset(params)

    def decorate(page_view: View) -> View:
        @functools.wraps(page_view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            return _cached(page_view, read, request, *args, **kwargs)

        return wrapper

    return decorate


def _cached(
    page_view: View, read: frozenset[str], request: HttpRequest, *args: Any, **kwargs: Any
) -> HttpResponseBase:
    if request.method not in ("GET", "HEAD") or request.user.is_authenticated:
        return page_view(request, *args, **kwargs)
    request.GET = _only(request.GET, read)  # type: ignore[assignment]  # immutable too
    canonical = request.path + ("?" + request.GET.urlencode() if request.GET else "")
    path = hashlib.sha256(canonical.encode()).hexdigest()
    key = f"public-page:{path}"
    version = public_version()
    entry: tuple[int, HttpResponseBase] | None = cache.get(key)
    if entry is not None and entry[0] == version:
        response = entry[1]
    elif entry is not None and not cache.add(
        f"public-page-render:{path}:{version}", 1, timeout=RENDER_LOCK_SECONDS
    ):
        response = entry[1]  # another request is rendering this version
    else:
        response = page_view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            cache.set(key, (version, response), timeout=settings.PUBLIC_PAGE_MAX_AGE * 10)
    if response.status_code == 200:
        patch_cache_control(response, public=True, max_age=settings.PUBLIC_PAGE_MAX_AGE)
        patch_vary_headers(response, ["Cookie"])
    return response


def _only(query: QueryDict, names: frozenset[str]) -> QueryDict:
    """The parameters of ``query`` named in ``names``, in name order (so that ``?b=1&a=2``
    and ``?a=2&b=1`` are one page), each with all its values."""
    kept = QueryDict(mutable=True)
    for name in sorted(names & query.keys()):
        kept.setlist(name, query.getlist(name))
    kept._mutable = False
    return kept
