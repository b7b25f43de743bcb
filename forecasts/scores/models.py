"""Score snapshots (every scope's scores as of a date) and the live score rows: each scored
forecast's scores and the additive sums of every scope, kept in step with the record in
the transaction that changes it (:mod:`forecasts.scores.live`)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from forecasts.core.models import Forecast, Forecaster, Source


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


class ForecastScore(models.Model):
    """One published forecast's scores as its record stands now, and the scopes they count in.

    A row exists exactly while the forecast is scored: resolved YES or NO with an estimate
    made before the outcome became known. Written only by
    :func:`forecasts.scores.live.scores_refresh`, in the transaction that changed the
    forecast's resolution, scope or publication, which also moves the scope sums by the
    difference between the old row and the new one.
    """

    forecast = models.OneToOneField(
        Forecast, on_delete=models.CASCADE, primary_key=True, related_name="live_score"
    )
    forecaster = models.ForeignKey(Forecaster, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    tags = models.JSONField(default=list, help_text="The tag ids it counts under.")
    probability = models.FloatField(help_text="The first estimate: the published probability.")
    phrase = models.CharField(
        max_length=100,
        blank=True,
        help_text="The verbal phrase it opened with (stripped, lower case); empty for a "
        "number or a phrase about the negation.",
    )
    happened = models.BooleanField()
    known_on = models.DateField()
    brier = models.FloatField()
    log_loss = models.FloatField()
    time_averaged_brier = models.FloatField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # A period's boards read the rows of the part-months at its ends.
            models.Index(fields=["known_on"], name="forecast_score_known_on"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=1),
                name="forecast_score_probability_in_unit_interval",
            ),
        ]

    def __str__(self) -> str:
        return f"scores of forecast {self.forecast_id}"


class ScoreSum(models.Model):
    """The additive sums of one scope's scored forecasts, optionally only those with a tag
    (``tag_id``) and whose outcome became known in a month (``month``, as year × 100 +
    month; 0 for all time).

    Sums of scores are fixed-point integers (``forecasts.scores.additive.SCALE`` units),
    so adding a forecast and taking it away again leaves them exactly as they were. The
    row of everything (all zeros in its key) is never deleted: locking it serialises
    the writers of these tables.
    """

    scope_kind = models.CharField(max_length=10, choices=ScopeKind.choices)
    scope_id = models.PositiveBigIntegerField(default=0)
    tag_id = models.PositiveBigIntegerField(default=0, help_text="0: every forecast.")
    month = models.PositiveIntegerField(default=0, help_text="YYYYMM of known_on; 0: all time.")
    resolved_count = models.BigIntegerField(default=0)
    yes_count = models.BigIntegerField(default=0)
    brier_sum = models.BigIntegerField(default=0)
    log_loss_sum = models.BigIntegerField(default=0)
    time_averaged_sum = models.BigIntegerField(default=0)

    # The key and the sums, in the order of ``additive.Sums``: every reader and writer of
    # whole rows (the live update, the rebuild, the check) names them through these.
    KEY_FIELDS = ("scope_kind", "scope_id", "tag_id", "month")
    SUM_FIELDS = ("resolved_count", "yes_count", "brier_sum", "log_loss_sum", "time_averaged_sum")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope_kind", "scope_id", "tag_id", "month"], name="one_score_sum_per_key"
            ),
        ]
        indexes = [
            # A board: every scope of a kind, for one tag filter and month (or all time);
            # and one scope's row of those.
            models.Index(
                fields=["scope_kind", "tag_id", "month", "scope_id"], name="score_sum_board"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_kind}:{self.scope_id} tag {self.tag_id} month {self.month}"


class ScoreTally(models.Model):
    """How many of a scope's scored forecasts were published at one probability, opening
    with one phrase, and how many of them happened: what calibration, the Murphy
    decomposition and the phrase table are computed from (all time, no filter)."""

    scope_kind = models.CharField(max_length=10, choices=ScopeKind.choices)
    scope_id = models.PositiveBigIntegerField(default=0)
    probability = models.FloatField()
    phrase = models.CharField(max_length=100, blank=True)
    resolved_count = models.BigIntegerField(default=0)
    yes_count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope_kind", "scope_id", "probability", "phrase"],
                name="one_score_tally_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_kind}:{self.scope_id} p={self.probability} {self.phrase!r}"
