from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from forecasts.web import feeds, health
from forecasts.web.api.endpoints import api
from forecasts.web.caching import cached_public_page
from forecasts.web.exports import forecasts_csv


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("", include("forecasts.urls")),
    path("api/", api.urls),
    path("export/forecasts.csv", forecasts_csv, name="export-forecasts-csv"),
    path(
        "feeds/forecasts.atom",
        cached_public_page(params=())(feeds.NewForecastsFeed()),
        name="feed-forecasts",
    ),
    path(
        "feeds/resolutions.atom",
        cached_public_page(params=())(feeds.ResolutionsFeed()),
        name="feed-resolutions",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
