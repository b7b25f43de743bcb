"""Template filters of the public pages (``{% load forecasts %}``, registered in
``TEMPLATES["OPTIONS"]["libraries"]``)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def status_badge(status: str) -> SafeString:
    """A forecast's status as its coloured label: one filter call per row of a list,
    where an ``{% include %}`` would render a sub-template each time."""
    return format_html('<span class="status status-{}">{}</span>', status, status.capitalize())
