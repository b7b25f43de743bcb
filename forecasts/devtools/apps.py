from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "forecasts.devtools"
    label = "devtools"
    verbose_name = "Developer tools"
