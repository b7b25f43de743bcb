from django.contrib import admin
from django.urls import include, path

from forecasts import views

admin.site.site_header = "Forecast tracker administration"
admin.site.site_title = "Forecast tracker"

urlpatterns = [
    path("", include("forecasts.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
