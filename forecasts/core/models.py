"""The record: sources, forecasters, tags, forecasts, estimates, resolutions, extensions,
reviewer assignments, and the invariants the database itself guards.

Lifecycle states are derived from the data by :class:`ForecastQuerySet`
(``draft → open → due → resolved | annulled``). One part of the state is kept on the
forecast row, so that the states are index ranges: ``Forecast.current_outcome``, the
outcome of its current resolution, which the database itself keeps and guards
(migration ``0015_forecast_current_outcome``; see :mod:`forecasts.core.counts`).
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.utils import timezone

from forecasts.core.choices import Basis, DatePrecision, Outcome, Status
from forecasts.core.dates import EARLIEST_DATE, LATEST_DATE, dates_out_of_range, local_date
from forecasts.core.paths import slug_path

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "Basis",
    "DatePrecision",
    "DeadlineExtension",
    "Estimate",
    "EstimateQuerySet",
    "Forecast",
    "ForecastAmendment",
    "ForecastQuerySet",
    "Forecaster",
    "Outcome",
    "Resolution",
    "ReviewerAssignment",
    "Source",
    "Status",
    "Tag",
    "dates_out_of_range",
    "synthetic_flag",
    "validate_probability",
]


def synthetic_flag() -> models.BooleanField[bool, bool]:
    """Marks rows the developer tools wrote (benchmarks, load tests): they remove exactly
    the rows so marked, whatever their names."""
    return models.BooleanField(
        default=False,
        editable=False,
        help_text="Written by the developer tools (benchmarks, load tests), which remove it.",
    )


def validate_probability(value: float) -> None:
    """Reject NaN, infinities and values outside [0, 1] with one clear message."""
    if not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= 1:
        raise ValidationError(
            "A probability must be a number from 0 to 1 (got %(value)s).",
            code="probability_range",
            params={"value": value},
        )


class Tag(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    synthetic = synthetic_flag()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return slug_path("forecasts:tag", self.slug)


class Forecaster(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        OUTLET = "outlet", "Outlet"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERSON)
    url = models.URLField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    synthetic = synthetic_flag()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return slug_path("forecasts:forecaster", self.slug)


class Source(models.Model):
    """Where predictions came from: usually one article."""

    key = models.SlugField(
        max_length=200,
        unique=True,
        help_text="Stable identifier, used to re-import without duplicates.",
    )
    title = models.CharField(max_length=300)
    url = models.URLField(max_length=500, blank=True)
    publisher = models.CharField(max_length=200, blank=True)
    author = models.CharField(max_length=200, blank=True)
    published_on = models.DateField()
    published_precision = models.CharField(
        max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    text = models.TextField(blank=True, help_text="Full text, when supplied at run time.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    synthetic = synthetic_flag()

    class Meta:
        ordering = ["-published_on", "title"]
        indexes = [
            # The sources' index page lists them newest first, a page at a time.
            models.Index(fields=["-published_on", "-id"], name="source_newest_first"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["url"], condition=~Q(url=""), name="source_url_unique_when_set"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return slug_path("forecasts:source", self.key)

    def clean(self) -> None:
        if errors := dates_out_of_range(published_on=self.published_on):
            raise ValidationError(errors)


class ForecastQuerySet(models.QuerySet["Forecast"]):
    """Lifecycle states, derived from the data as of a moment ``at``."""

    def drafts(self) -> ForecastQuerySet:
        return self.filter(published_at__isnull=True)

    def candidates(self) -> ForecastQuerySet:
        """Drafts still waiting for an editor: not rejected."""
        return self.drafts().filter(rejected_at__isnull=True)

    def published(self) -> ForecastQuerySet:
        return self.filter(published_at__isnull=False)

    # The states read current_outcome (the current resolution's outcome, kept by the
    # database): unresolved forecasts are then a range of the partial index
    # forecast_unresolved_deadline, not an anti-join past every resolved one.
    def unresolved(self) -> ForecastQuerySet:
        return self.published().filter(current_outcome__isnull=True)

    def resolved(self) -> ForecastQuerySet:
        """Resolved YES or NO (annulled forecasts are not resolved: they are never scored)."""
        return self.published().filter(current_outcome__in=[Outcome.YES, Outcome.NO])

    def annulled(self) -> ForecastQuerySet:
        return self.published().filter(current_outcome=Outcome.ANNULLED)

    def open(self, *, at: dt.datetime) -> ForecastQuerySet:
        return self.unresolved().filter(resolve_by__gte=local_date(at))

    def due(self, *, at: dt.datetime) -> ForecastQuerySet:
        """Published, unresolved, and the deadline day has passed."""
        return self.unresolved().filter(resolve_by__lt=local_date(at))

    def with_status(self, *, at: dt.datetime) -> ForecastQuerySet:
        """Annotate ``status``, ``outcome``, ``probability`` (the estimate standing now) and
        ``published_probability`` (the first estimate, which the headline score uses)."""
        first = Estimate.objects.filter(forecast=OuterRef("pk")).order_by("made_on", "pk")
        return (
            self.with_probability()
            .annotate(
                outcome=F("current_outcome"),
                published_probability=Subquery(first.values("probability")[:1]),
            )
            .annotate(
                status=models.Case(
                    models.When(published_at__isnull=True, then=Value(Status.DRAFT)),
                    models.When(outcome=Outcome.ANNULLED, then=Value(Status.ANNULLED)),
                    models.When(outcome__isnull=False, then=Value(Status.RESOLVED)),
                    models.When(resolve_by__lt=local_date(at), then=Value(Status.DUE)),
                    default=Value(Status.OPEN),
                    output_field=models.CharField(),
                )
            )
        )

    def with_probability(self) -> ForecastQuerySet:
        """Annotate ``probability``: the estimate standing now (the latest made)."""
        latest = Estimate.objects.filter(forecast=OuterRef("pk")).order_by("-made_on", "-pk")
        return self.annotate(probability=Subquery(latest.values("probability")[:1]))

    def with_state(self, state: str, *, at: dt.datetime) -> ForecastQuerySet:
        """Filter by a :class:`Status` value; raises ``ValueError`` for an unknown one."""
        filters = {
            Status.DRAFT: lambda: self.drafts(),
            Status.OPEN: lambda: self.open(at=at),
            Status.DUE: lambda: self.due(at=at),
            Status.RESOLVED: lambda: self.resolved(),
            Status.ANNULLED: lambda: self.annulled(),
        }
        if state not in filters:
            raise ValueError(f"Unknown status {state!r}; use one of {', '.join(Status.values)}.")
        return filters[Status(state)]()


class Forecast(models.Model):
    """One binary proposition, phrased so that YES means the predicted thing happened."""

    slug = models.SlugField(max_length=200, unique=True)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="forecasts")
    forecaster = models.ForeignKey(Forecaster, on_delete=models.PROTECT, related_name="forecasts")
    statement = models.CharField(
        max_length=500, help_text="The proposition; YES means it happened."
    )
    quote = models.CharField(
        max_length=1000, blank=True, help_text="The sentence it comes from, verbatim (short)."
    )
    quote_start = models.PositiveIntegerField(null=True, blank=True)
    quote_end = models.PositiveIntegerField(null=True, blank=True)
    resolution_criteria = models.TextField()
    made_on = models.DateField(help_text="When the forecast was made (published).")
    made_on_precision = models.CharField(
        max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    resolve_by = models.DateField(help_text="Deadline: the forecast is due the day after.")
    resolve_by_note = models.CharField(
        max_length=300, blank=True, help_text="How a vague horizon was made explicit."
    )
    condition = models.CharField(
        max_length=500, blank=True, help_text="For conditional forecasts: the condition (if …)."
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="forecasts")
    reviewers = models.ManyToManyField(  # type: ignore[var-annotated]  # swappable user model
        settings.AUTH_USER_MODEL,
        through="ReviewerAssignment",
        blank=True,
        related_name="forecasts_to_review",
    )
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty while the forecast is a draft."
    )
    extraction_confidence = models.FloatField(
        null=True,
        blank=True,
        help_text="For drafts proposed from the source text: how sure the extractor was (0-1).",
    )
    rejected_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="An editor rejected this draft; kept so extracting again does not re-propose it.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    synthetic = synthetic_flag()
    updated_at = models.DateTimeField(auto_now=True)
    # NULL, not "": unresolved is "no current resolution", the value the guard compares.
    current_outcome = models.CharField(  # noqa: DJ001
        max_length=10,
        choices=Outcome.choices,
        null=True,
        blank=True,
        editable=False,
        help_text="The current resolution's outcome, empty while unresolved. Kept by the "
        "database from the resolutions, which refuses any other value.",
    )

    objects = ForecastQuerySet.as_manager()

    class Meta:
        ordering = ["resolve_by", "pk"]
        indexes = [
            models.Index(fields=["resolve_by"]),
            models.Index(fields=["published_at"]),
            # Awaiting a verdict and coming due: the unresolved by deadline, whatever
            # the number of resolved forecasts.
            models.Index(
                fields=["resolve_by", "id"],
                condition=Q(published_at__isnull=False, current_outcome__isnull=True),
                name="forecast_unresolved_deadline",
            ),
            # A forecaster's and a source's page: any page of their published forecasts,
            # in the page's order, is one range of these (a tag's: PublishedTagListing).
            models.Index(
                fields=["forecaster", "resolve_by", "id"],
                condition=Q(published_at__isnull=False),
                name="forecast_forecaster_deadline",
            ),
            models.Index(
                fields=["source", "quote_start", "id"],
                condition=Q(published_at__isnull=False),
                name="forecast_source_quote_order",
            ),
            # Clearing synthetic data finds its rows without scanning the real ones.
            models.Index(fields=["id"], condition=Q(synthetic=True), name="forecast_synthetic"),
        ]
        permissions = [("resolve_forecast", "Can resolve forecasts (as a member of Reviewers)")]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolve_by__gte=F("made_on")),
                name="forecast_deadline_not_before_made",
                violation_error_message=(
                    "The deadline cannot be before the date the forecast was made."
                ),
            ),
            models.CheckConstraint(
                condition=(Q(quote_start__isnull=True) & Q(quote_end__isnull=True))
                | (
                    Q(quote_start__isnull=False)
                    & Q(quote_end__isnull=False)
                    & Q(quote_end__gt=F("quote_start"))
                ),
                name="forecast_quote_offsets_consistent",
                violation_error_message="Quote offsets must both be set, with end after start.",
            ),
            models.CheckConstraint(condition=~Q(statement=""), name="forecast_statement_not_empty"),
            models.CheckConstraint(
                condition=Q(extraction_confidence__isnull=True)
                | (Q(extraction_confidence__gte=0) & Q(extraction_confidence__lte=1)),
                name="forecast_extraction_confidence_in_unit_interval",
                violation_error_message="An extraction confidence must be from 0 to 1.",
            ),
            models.CheckConstraint(
                condition=Q(rejected_at__isnull=True) | Q(published_at__isnull=True),
                name="forecast_rejected_only_while_draft",
                violation_error_message="A published forecast cannot be rejected.",
            ),
        ]

    def __str__(self) -> str:
        return self.statement

    def get_absolute_url(self) -> str:
        return slug_path("forecasts:detail", self.slug)

    def clean(self) -> None:
        if errors := dates_out_of_range(made_on=self.made_on, resolve_by=self.resolve_by):
            raise ValidationError(errors)
        if self.pk and self.made_on:
            earliest = (
                Estimate.objects.filter(forecast_id=self.pk)
                .order_by("made_on")
                .values_list("made_on", flat=True)
                .first()
            )
            if earliest is not None and earliest < self.made_on:
                raise ValidationError(
                    {
                        "made_on": f"An estimate of this forecast is dated {earliest}, before "
                        f"{self.made_on}: a forecast cannot be made after its own estimates. "
                        "Amend the forecast's date to one on or before it."
                    }
                )

    def current_resolution(self) -> Resolution | None:
        return self.resolutions.filter(is_current=True).first()

    def latest_estimate(self) -> Estimate | None:
        return self.estimates.order_by("-made_on", "-pk").first()


class ReviewerAssignment(models.Model):
    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["forecast", "reviewer"], name="reviewer_assigned_once"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} reviews {self.forecast_id}"


class EstimateQuerySet(models.QuerySet["Estimate"]):
    def recorded_by(self, day: dt.date) -> EstimateQuerySet:
        """Estimates on record by the end of ``day`` (the site's local day): recorded that
        day or earlier, or imported as historical and dated then (a historical import
        stands for what its source published on its date)."""
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=_local_zone())
        return self.filter(Q(created_at__lt=end) | Q(historical=True, made_on__lte=day))


def _local_zone() -> dt.tzinfo:
    return timezone.get_current_timezone()


class Estimate(models.Model):
    """A probability for the forecast's proposition at a point in time; the latest stands.

    Dated the day it is recorded (``made_on`` is never before ``created_at``'s day),
    except estimates of the audited historical import (``historical``), which carry the
    date their source published them.
    """

    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="estimates")
    probability = models.FloatField(validators=[validate_probability])
    low = models.FloatField(null=True, blank=True, validators=[validate_probability])
    high = models.FloatField(null=True, blank=True, validators=[validate_probability])
    basis = models.CharField(max_length=10, choices=Basis.choices)
    phrase = models.CharField(
        max_length=100, blank=True, help_text="The verbal phrase, when the basis is a phrase."
    )
    negated = models.BooleanField(
        default=False,
        help_text="The phrase qualified the negation of the proposition, so P = 1 − P(phrase).",
    )
    made_on = models.DateField()
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(
        "recorded at", default=timezone.now, editable=False, help_text="When it was recorded."
    )
    historical = models.BooleanField(
        default=False,
        editable=False,
        help_text="Entered through the audited historical import (the seed): dated when its "
        "source said it, before it was recorded here.",
    )

    objects = EstimateQuerySet.as_manager()

    class Meta:
        ordering = ["forecast", "made_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=1),
                name="estimate_probability_in_unit_interval",
                violation_error_message="A probability must be from 0 to 1.",
            ),
            models.CheckConstraint(
                condition=(Q(low__isnull=True) & Q(high__isnull=True))
                | (
                    Q(low__gte=0)
                    & Q(low__lte=F("probability"))
                    & Q(high__gte=F("probability"))
                    & Q(high__lte=1)
                ),
                name="estimate_range_brackets_probability",
                violation_error_message="The range must satisfy 0 ≤ low ≤ probability ≤ high ≤ 1.",
            ),
            models.CheckConstraint(
                condition=(Q(basis=Basis.NUMBER) & Q(phrase="") & Q(negated=False))
                | (Q(basis=Basis.PHRASE) & ~Q(phrase="")),
                name="estimate_phrase_matches_basis",
                violation_error_message=(
                    "A phrase-based estimate names its phrase; a numeric one has none."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.probability:.0%} on {self.made_on}"

    def clean(self) -> None:
        # Here rather than only in the service, so the admin's estimate forms keep it too.
        errors = dates_out_of_range(made_on=self.made_on)
        forecast = self._forecast_in_hand()
        if (
            not errors
            and forecast is not None
            and isinstance(self.made_on, dt.date)
            and isinstance(forecast.made_on, dt.date)
            and self.made_on < forecast.made_on
        ):
            errors["made_on"] = (
                f"An estimate cannot predate the forecast (made {forecast.made_on})."
            )
        if errors:
            raise ValidationError(errors)

    def _forecast_in_hand(self) -> Forecast | None:
        """The forecast, also while both are unsaved (an inline on the admin's add page)."""
        try:
            return self.forecast
        except Forecast.DoesNotExist:
            return None


class Resolution(models.Model):
    """An outcome with its evidence. A correction is a new row; history is never overwritten."""

    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="resolutions")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    known_on = models.DateField(help_text="The day the outcome became known.")
    evidence_url = models.URLField(max_length=500, blank=True)
    evidence_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    resolved_at = models.DateTimeField(default=timezone.now)
    is_current = models.BooleanField(default=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    correction_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["forecast", "resolved_at", "pk"]
        indexes = [
            # Recently resolved, newest first, read as a LIMIT off this index.
            models.Index(
                F("resolved_at").desc(),
                F("id").desc(),
                condition=Q(is_current=True),
                name="resolution_current_recent",
            ),
            # The earliest outcome known (the leaderboards' period choices): an indexed MIN.
            models.Index(
                fields=["known_on"], condition=Q(is_current=True), name="resolution_current_known"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values),
                name="resolution_outcome_valid",
                violation_error_message="The outcome must be YES, NO or ANNULLED.",
            ),
            models.UniqueConstraint(
                fields=["forecast"],
                condition=Q(is_current=True),
                name="one_current_resolution_per_forecast",
                violation_error_message="This forecast already has a current resolution.",
            ),
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True) | ~Q(correction_reason=""),
                name="resolution_correction_has_reason",
                violation_error_message="A correction must give its reason.",
            ),
            models.CheckConstraint(
                condition=~Q(evidence_url="") | ~Q(evidence_note=""),
                name="resolution_has_evidence",
                violation_error_message="A resolution needs evidence: a URL, a note, or both.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.known_on})"


class DeadlineExtension(models.Model):
    """A deadline moved later ("not yet knowable"): who, when, why. Never edited."""

    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="extensions")
    previous_resolve_by = models.DateField()
    new_resolve_by = models.DateField()
    reason = models.TextField()
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    extended_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-extended_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(new_resolve_by__gt=F("previous_resolve_by")),
                name="extension_moves_the_deadline_later",
                violation_error_message="An extension must move the deadline later.",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="extension_has_a_reason",
                violation_error_message="Say why the deadline is extended.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.previous_resolve_by} → {self.new_resolve_by}"

    def clean(self) -> None:
        if errors := dates_out_of_range(new_resolve_by=self.new_resolve_by):
            raise ValidationError(errors)


#: A published forecast's terms: they change only by a recorded amendment
#: (:func:`forecasts.core.services.forecast_amend`). The deadline changes only by an
#: extension; the slug and the publication time never change once published.
AMENDABLE_TERMS = (
    "statement",
    "quote",
    "condition",
    "resolution_criteria",
    "made_on",
    "made_on_precision",
    "forecaster",
    "source",
)


class ForecastAmendment(models.Model):
    """A change to a published forecast's terms: what changed, who, when and why. Never
    edited."""

    forecast = models.ForeignKey(Forecast, on_delete=models.PROTECT, related_name="amendments")
    changes = models.JSONField(
        help_text="Each changed term: {term: [before, after]} (ids for forecaster and source)."
    )
    reason = models.TextField()
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    amended_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["forecast", "amended_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="amendment_has_a_reason",
                violation_error_message="Say why the forecast's terms are amended.",
            ),
        ]

    def __str__(self) -> str:
        return f"amendment of {self.forecast_id} on {self.amended_at:%Y-%m-%d}"
