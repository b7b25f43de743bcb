from django.urls import path

from forecasts.digests import views

# Included by forecasts/urls.py under the "forecasts" namespace.
urlpatterns = [
    path("digests/subscribe/", views.subscribe, name="digest-subscribe"),
    path("digests/confirm/<str:token>/", views.confirm, name="digest-confirm"),
    path("digests/preferences/<str:token>/", views.preferences, name="digest-preferences"),
    path("digests/unsubscribe/<str:token>/", views.unsubscribe, name="digest-unsubscribe"),
    path("digests/staff/", views.staff_digest, name="digest-staff"),
]
