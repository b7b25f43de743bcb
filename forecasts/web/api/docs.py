"""The API's documentation page: Swagger UI from the static files django-ninja ships."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.template import engines
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

DOCS_TEMPLATE = """{% load static %}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ api.title }}</title>
<link rel="stylesheet" href="{% static 'ninja/swagger-ui.css' %}">
<link rel="icon" href="{% static 'ninja/favicon.svg' %}" type="image/svg+xml">
</head>
<body>
<noscript>
<h1>{{ api.title }}</h1>
<p>Read-only JSON. The OpenAPI 3 schema is at <a href="{{ schema_url }}">{{ schema_url }}</a>.</p>
<ul>{% for path in paths %}<li><code>GET {{ path }}</code></li>{% endfor %}</ul>
</noscript>
<script type="application/json" id="swagger-settings">{{ swagger_settings|safe }}</script>
<div id="swagger-ui"></div>
<script src="{% static 'ninja/swagger-ui-bundle.js' %}"></script>
<script src="{% static 'ninja/swagger-ui-init.js' %}"></script>
</body>
</html>
"""


class BundledSwagger(Swagger):
    """Swagger UI from the static files ninja ships: never a CDN, and a plain list of the
    endpoints for readers without JavaScript (only for them: Swagger shows its own title
    and paths, and the list drawn above it read as an unstyled duplicate header)."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        if "ninja" not in settings.INSTALLED_APPS:
            raise ImproperlyConfigured(
                "Add 'ninja' to INSTALLED_APPS: the API docs use its bundled Swagger UI files."
            )
        schema_url = self.get_openapi_url(api, kwargs)
        swagger_settings = {**self.settings, "url": schema_url}
        context = {
            "api": api,
            "schema_url": schema_url,
            "paths": list(api.get_openapi_schema(path_params=kwargs)["paths"]),
            # Escaped for an HTML <script> block: no "</script>" can end it early.
            "swagger_settings": json.dumps(swagger_settings).replace("<", "\\u003c"),
        }
        template = engines["django"].from_string(DOCS_TEMPLATE)
        return HttpResponse(template.render(context, request))
