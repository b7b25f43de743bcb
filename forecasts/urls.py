from django.urls import path

from forecasts import digest_views, views

app_name = "forecasts"

urlpatterns = [
    path("", views.scorecard, name="home"),
    path("leaderboards/<slug:name>/", views.leaderboard, name="leaderboard"),
    path("forecasters/<slug:slug>/", views.forecaster_detail, name="forecaster"),
    path("sources/<slug:key>/", views.source_detail, name="source"),
    path("tags/<slug:slug>/", views.tag_detail, name="tag"),
    path("forecasts/", views.forecast_list, name="list"),
    path("forecasts/<slug:slug>/", views.forecast_detail, name="detail"),
    path("scores/", views.scores, name="scores"),
    path("review/", views.review_queue, name="review-queue"),
    path("review/forecast/<slug:slug>/", views.review_forecast, name="review-forecast"),
    path("review/link/<slug:slug>/<str:token>/", views.review_link, name="review-link"),
    path("digests/subscribe/", digest_views.subscribe, name="digest-subscribe"),
    path("digests/confirm/<str:token>/", digest_views.confirm, name="digest-confirm"),
    path("digests/preferences/<str:token>/", digest_views.preferences, name="digest-preferences"),
    path("digests/unsubscribe/<str:token>/", digest_views.unsubscribe, name="digest-unsubscribe"),
    path("digests/staff/", digest_views.staff_digest, name="digest-staff"),
]
