"""Form posts must be UTF-8: anything else is refused with a 400, not guessed at.

Django reads a urlencoded body that is not UTF-8 as Latin-1, and percent-escapes
that are not UTF-8 as U+FFFD, so ``a@b.org\\xff`` would become the address
``a@b.orgÿ`` and be stored (and mailed) as if someone had typed it.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseBase

FORM = "application/x-www-form-urlencoded"


def form_body_is_utf8(body: bytes) -> bool:
    try:
        parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


class FormEncodingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        posted = request.content_type == FORM and request.method not in ("GET", "HEAD")
        if posted and not form_body_is_utf8(request.body):
            return HttpResponseBadRequest(
                "The form data is not valid UTF-8 text; nothing was changed.\n",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
