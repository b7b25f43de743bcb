from django.urls import path
from django.views.generic import RedirectView

from forecasts import views

app_name = "forecasts"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="forecasts:list", permanent=False), name="home"),
    path("forecasts/", views.forecast_list, name="list"),
    path("forecasts/<slug:slug>/", views.forecast_detail, name="detail"),
    path("scores/", views.scores, name="scores"),
    path("review/", views.review_queue, name="review-queue"),
    path("review/forecast/<slug:slug>/", views.review_forecast, name="review-forecast"),
    path("review/link/<slug:slug>/<str:token>/", views.review_link, name="review-link"),
]
