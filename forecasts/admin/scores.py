"""Score snapshots and the live scores: computed records, read-only."""

from django.contrib import admin

from forecasts.admin.site import ReadOnlyAdmin
from forecasts.scores.models import ForecastScore, ScoreSnapshot


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(ReadOnlyAdmin[ScoreSnapshot]):
    list_display = (
        "as_of",
        "scope_kind",
        "scope_id",
        "resolved_count",
        "brier",
        "shrunk_brier",
        "time_averaged_brier",
        "skill_vs_coin",
    )
    list_filter = ("scope_kind", "as_of")
    date_hierarchy = "as_of"


@admin.register(ForecastScore)
class ForecastScoreAdmin(ReadOnlyAdmin[ForecastScore]):
    list_display = ("forecast", "probability", "happened", "known_on", "brier", "updated_at")
    list_select_related = ("forecast",)
    date_hierarchy = "known_on"
