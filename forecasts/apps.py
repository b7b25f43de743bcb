from importlib import import_module

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ForecastsConfig(AppConfig):
    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "forecasts"
    verbose_name = "Forecasts"

    def ready(self) -> None:
        # Domains subscribe to the record's events here, once the models are loaded:
        # core announces, and never imports those who listen (docs/ARCHITECTURE.md).
        import_module("forecasts.scores.receivers")


class TrackerAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with this project's site as the default ``admin.site``
    (installed in its place: ``tracker/settings.py``)."""

    default = False
    default_site = "forecasts.admin.site.TrackerAdminSite"

    def ready(self) -> None:
        # This app's admins register first. Were the site first created by another
        # app's registration (auth's, during autodiscovery), creating it would import
        # forecasts.admin, whose registrations would land on a second instance that
        # the first then replaces.
        import_module("forecasts.admin")
        super().ready()
