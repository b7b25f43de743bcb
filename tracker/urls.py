from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from forecasts import feeds, views
from forecasts.api import api
from forecasts.caching import cached_public_page
from forecasts.exports import forecasts_csv

admin.site.site_header = "Forecast tracker administration"
admin.site.site_title = "Forecast tracker"


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("", include("forecasts.urls")),
    path("api/", api.urls),
    path("export/forecasts.csv", forecasts_csv, name="export-forecasts-csv"),
    path(
        "feeds/forecasts.atom", cached_public_page(feeds.NewForecastsFeed()), name="feed-forecasts"
    ),
    path(
        "feeds/resolutions.atom",
        cached_public_page(feeds.ResolutionsFeed()),
        name="feed-resolutions",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
