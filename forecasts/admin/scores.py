"""Score snapshots and the recompute claim: computed records, read-only."""

from django.contrib import admin

from forecasts.admin.site import ReadOnlyAdmin
from forecasts.scores.models import ScoreRecompute, ScoreSnapshot


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


@admin.register(ScoreRecompute)
class ScoreRecomputeAdmin(ReadOnlyAdmin[ScoreRecompute]):
    list_display = ("pk", "pending_since")
