from django.urls import path

from forecasts.reviews import views

# Included by forecasts/urls.py under the "forecasts" namespace.
urlpatterns = [
    path("review/", views.review_queue, name="review-queue"),
    path("review/forecast/<slug:slug>/", views.review_forecast, name="review-forecast"),
    path("review/link/<slug:slug>/<str:token>/", views.review_link, name="review-link"),
]
