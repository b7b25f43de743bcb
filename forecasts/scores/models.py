"""Score snapshots: every scope's scores as of a date, and the recompute claim."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class ScopeKind(models.TextChoices):
    ALL = "all", "Everything"
    FORECASTER = "forecaster", "Forecaster"
    SOURCE = "source", "Source"
    TAG = "tag", "Tag"


class ScoreSnapshot(models.Model):
    """Scores for one scope (everything, a forecaster, a source or a tag) as of a date.

    Computed from the record as it stood at the end of ``as_of``: the resolution then
    current (YES or NO; annulled forecasts never count) and the estimates recorded by
    then. Written by ``scores_snapshot`` and ``scores_backfill``, which replace a
    date's snapshots atomically, so there is at most one per scope and date.
    """

    scope_kind = models.CharField(max_length=10, choices=ScopeKind.choices)
    scope_id = models.PositiveBigIntegerField(
        default=0, help_text="The forecaster, source or tag id; 0 for everything."
    )
    as_of = models.DateField()
    resolved_count = models.PositiveIntegerField()
    yes_count = models.PositiveIntegerField()
    brier = models.FloatField(
        null=True, help_text="Mean Brier score at publication (0 best, 1 worst)."
    )
    shrunk_brier = models.FloatField(
        null=True,
        help_text="Brier pulled toward a coin flip's 0.25 by a pseudo-count (for ranking).",
    )
    time_averaged_brier = models.FloatField(null=True)
    log_loss = models.FloatField(null=True)
    skill_vs_coin = models.FloatField(null=True, help_text="1 − Brier / 0.25.")
    skill_vs_base_rate = models.FloatField(
        null=True, help_text="1 − Brier / Brier of always forecasting the base rate."
    )
    calibration = models.JSONField(default=list, blank=True)
    murphy = models.JSONField(default=dict, blank=True)
    phrases = models.JSONField(
        null=True,
        blank=True,
        help_text="Scope 'all' only: the phrase table (how often each verbal phrase came "
        "true) as of this date; empty where it was not computed (backfilled dates).",
    )
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-as_of", "scope_kind", "scope_id"]
        indexes = [
            models.Index(fields=["scope_kind", "scope_id", "-as_of"]),
            # A date's snapshots are replaced, and a backfill's stale dates deleted, by date.
            models.Index(fields=["as_of"], name="snapshot_as_of"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["scope_kind", "scope_id", "as_of"], name="one_snapshot_per_scope_and_date"
            ),
            models.CheckConstraint(
                condition=Q(scope_kind__in=ScopeKind.values), name="snapshot_scope_kind_valid"
            ),
            models.CheckConstraint(
                condition=(Q(scope_kind=ScopeKind.ALL) & Q(scope_id=0))
                | (~Q(scope_kind=ScopeKind.ALL) & Q(scope_id__gt=0)),
                name="snapshot_scope_id_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(yes_count__lte=F("resolved_count")), name="snapshot_yes_within_resolved"
            ),
            models.CheckConstraint(
                condition=Q(brier__isnull=True) | (Q(brier__gte=0) & Q(brier__lte=1)),
                name="snapshot_brier_in_unit_interval",
            ),
            models.CheckConstraint(
                condition=Q(resolved_count__gt=0) | Q(brier__isnull=True),
                name="snapshot_no_scores_without_resolutions",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_kind}:{self.scope_id} as of {self.as_of}"


class ScoreRecompute(models.Model):
    """One row saying whether a score recompute is already queued.

    Resolutions claim it with a conditional update before queueing a task, so
    ten resolutions in a minute queue one recompute, not ten.
    """

    pending_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recompute pending since {self.pending_since}" if self.pending_since else "idle"
