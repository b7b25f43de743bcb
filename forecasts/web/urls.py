from django.urls import path

from forecasts.web import forecast_list, method, views

# Included by forecasts/urls.py under the "forecasts" namespace.
urlpatterns = [
    path("", views.scorecard, name="home"),
    path("leaderboards/<slug:name>/", views.leaderboard, name="leaderboard"),
    path("forecasters/", views.forecaster_index, name="forecasters"),
    path("sources/", views.source_index, name="sources"),
    path("tags/", views.tag_index, name="tags"),
    path("forecasters/<slug:slug>/", views.forecaster_detail, name="forecaster"),
    path("sources/<slug:key>/", views.source_detail, name="source"),
    path("tags/<slug:slug>/", views.tag_detail, name="tag"),
    path("forecasts/", forecast_list.forecast_list, name="list"),
    path("forecasts/<slug:slug>/", views.forecast_detail, name="detail"),
    path("scores/", views.scores, name="scores"),
    path("method/", method.method, name="method"),
    path("about/", method.about, name="about"),
]
