"""Tables and the invariants the database itself guards.

Lifecycle states are never stored: they are derived from the data by
:class:`ForecastQuerySet` (``draft → open → due → resolved | annulled``).
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


def validate_probability(value: float) -> None:
    """Reject NaN, infinities and values outside [0, 1] with one clear message."""
    if not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= 1:
        raise ValidationError(
            "A probability must be a number from 0 to 1 (got %(value)s).",
            code="probability_range",
            params={"value": value},
        )


# Dates a forecast can sensibly carry. A typo such as 9999-12-31 is a valid date, but
# charts, the "extend by 90 days" default and date arithmetic elsewhere fail on it.
EARLIEST_DATE = dt.date(1800, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)


def dates_out_of_range(**dates: dt.date | None) -> dict[str, str]:
    """An error message for each of ``dates`` outside EARLIEST_DATE … LATEST_DATE."""
    return {
        name: f"The date must be from {EARLIEST_DATE} to {LATEST_DATE}."
        for name, value in dates.items()
        if isinstance(value, dt.date) and not EARLIEST_DATE <= value <= LATEST_DATE
    }


class DatePrecision(models.TextChoices):
    DAY = "day", "exact day"
    MONTH = "month", "month (day estimated)"
    YEAR = "year", "year (month and day estimated)"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    DUE = "due", "Due"
    RESOLVED = "resolved", "Resolved"
    ANNULLED = "annulled", "Annulled"


class Outcome(models.TextChoices):
    YES = "YES", "Yes"
    NO = "NO", "No"
    ANNULLED = "ANNULLED", "Annulled"


class Basis(models.TextChoices):
    NUMBER = "number", "stated as a number"
    PHRASE = "phrase", "derived from a verbal phrase"


class Tag(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Forecaster(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        OUTLET = "outlet", "Outlet"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERSON)
    url = models.URLField(max_length=500, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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

    class Meta:
        ordering = ["-published_on", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["url"], condition=~Q(url=""), name="source_url_unique_when_set"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if errors := dates_out_of_range(published_on=self.published_on):
            raise ValidationError(errors)


class ForecastQuerySet(models.QuerySet["Forecast"]):
    """Lifecycle states, derived from the data as of a moment ``at``."""

    def _current_resolutions(self) -> models.QuerySet[Resolution]:
        # order_by(): the default ordering would join forecasts into every subquery.
        return Resolution.objects.filter(forecast=OuterRef("pk"), is_current=True).order_by()

    def drafts(self) -> ForecastQuerySet:
        return self.filter(published_at__isnull=True)

    def candidates(self) -> ForecastQuerySet:
        """Drafts still waiting for an editor: not rejected."""
        return self.drafts().filter(rejected_at__isnull=True)

    def published(self) -> ForecastQuerySet:
        return self.filter(published_at__isnull=False)

    def unresolved(self) -> ForecastQuerySet:
        return self.published().filter(~Exists(self._current_resolutions()))

    def resolved(self) -> ForecastQuerySet:
        """Resolved YES or NO (annulled forecasts are not resolved: they are never scored)."""
        decided = self._current_resolutions().filter(outcome__in=[Outcome.YES, Outcome.NO])
        return self.published().filter(Exists(decided))

    def annulled(self) -> ForecastQuerySet:
        annulled = self._current_resolutions().filter(outcome=Outcome.ANNULLED)
        return self.published().filter(Exists(annulled))

    def open(self, *, at: dt.datetime) -> ForecastQuerySet:
        return self.unresolved().filter(resolve_by__gte=_local_date(at))

    def due(self, *, at: dt.datetime) -> ForecastQuerySet:
        """Published, unresolved, and the deadline day has passed."""
        return self.unresolved().filter(resolve_by__lt=_local_date(at))

    def with_status(self, *, at: dt.datetime) -> ForecastQuerySet:
        """Annotate ``status``, ``outcome``, ``probability`` (the estimate standing now) and
        ``published_probability`` (the first estimate, which the headline score uses)."""
        current = self._current_resolutions()
        estimates = Estimate.objects.filter(forecast=OuterRef("pk"))
        latest = estimates.order_by("-made_on", "-pk")
        first = estimates.order_by("made_on", "pk")
        return self.annotate(
            outcome=Subquery(current.values("outcome")[:1]),
            probability=Subquery(latest.values("probability")[:1]),
            published_probability=Subquery(first.values("probability")[:1]),
        ).annotate(
            status=models.Case(
                models.When(published_at__isnull=True, then=Value(Status.DRAFT)),
                models.When(outcome=Outcome.ANNULLED, then=Value(Status.ANNULLED)),
                models.When(outcome__isnull=False, then=Value(Status.RESOLVED)),
                models.When(resolve_by__lt=_local_date(at), then=Value(Status.DUE)),
                default=Value(Status.OPEN),
                output_field=models.CharField(),
            )
        )

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


def _local_date(at: dt.datetime) -> dt.date:
    return timezone.localdate(at) if timezone.is_aware(at) else at.date()


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
    updated_at = models.DateTimeField(auto_now=True)

    objects = ForecastQuerySet.as_manager()

    class Meta:
        ordering = ["resolve_by", "pk"]
        indexes = [models.Index(fields=["resolve_by"]), models.Index(fields=["published_at"])]
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
        return reverse("forecasts:detail", kwargs={"slug": self.slug})

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
                        "Move or delete that estimate first."
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


class Estimate(models.Model):
    """A probability for the forecast's proposition at a point in time; the latest stands."""

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
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

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
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    resolved_at = models.DateTimeField(default=timezone.now)
    is_current = models.BooleanField(default=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    correction_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["forecast", "resolved_at", "pk"]
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


class ScopeKind(models.TextChoices):
    ALL = "all", "Everything"
    FORECASTER = "forecaster", "Forecaster"
    SOURCE = "source", "Source"
    TAG = "tag", "Tag"


class ScoreSnapshot(models.Model):
    """Scores for one scope (everything, a forecaster, a source or a tag) as of a date.

    Only forecasts resolved YES or NO with the outcome known by ``as_of`` count;
    annulled forecasts never do. Written by ``scores_snapshot``, which replaces a
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
        indexes = [models.Index(fields=["scope_kind", "scope_id", "-as_of"])]
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


class ReviewStep(models.TextChoices):
    PROMPT = "prompt", "Prompt"
    REMINDER = "reminder", "First reminder"
    SECOND_REMINDER = "second_reminder", "Second reminder"
    ESCALATION = "escalation", "Escalation to the admins"


class ReviewPrompt(models.Model):
    """One step of the review workflow for one forecast and one person.

    The row is the claim: it is inserted before the e-mail is sent (the unique
    constraint makes a second insert fail), then marked sent. A claim whose
    sender died is taken over by a later run once it is stale.
    """

    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="review_prompts")
    step = models.CharField(max_length=20, choices=ReviewStep.choices)
    deadline = models.DateField(
        help_text="The deadline the step is about: an extension starts the steps again."
    )
    recipient = models.EmailField(help_text="Lower-cased address the step goes to.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="review_prompts",
    )
    claim = models.UUIDField(help_text="The run that holds (or held) the claim.")
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-claimed_at", "pk"]
        indexes = [models.Index(fields=["sent_at", "claimed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["forecast", "deadline", "step", "recipient"],
                name="review_prompt_once_per_step_and_person",
            ),
            models.CheckConstraint(
                condition=Q(step__in=ReviewStep.values), name="review_prompt_step_valid"
            ),
            models.CheckConstraint(
                condition=Q(recipient=Lower("recipient")) & ~Q(recipient=""),
                name="review_prompt_recipient_lower_case",
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(sent_at__gte=F("claimed_at")),
                name="review_prompt_sent_after_claim",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} to {self.recipient} for forecast {self.forecast_id}"


class DeadlineExtension(models.Model):
    """A deadline moved later ("not yet knowable"): who, when, why. Never edited."""

    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="extensions")
    previous_resolve_by = models.DateField()
    new_resolve_by = models.DateField()
    reason = models.TextField()
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
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


class ReviewLinkUse(models.Model):
    """A one-click review link that has been used: each link works once."""

    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token.")
    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="link_uses")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    action = models.CharField(max_length=10)
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-used_at"]

    def __str__(self) -> str:
        return f"{self.action} link for forecast {self.forecast_id} used {self.used_at:%Y-%m-%d}"


# --- E-mail digests -------------------------------------------------------------------------


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    PAUSED = "paused", "Paused (repeated permanent delivery failures)"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class Subscriber(models.Model):
    """An address that asked for periodic digests. Nothing but the confirmation is sent
    until the address confirms (double opt-in)."""

    email = models.EmailField(help_text="Stored lower-cased; unique.")
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.WEEKLY)
    status = models.CharField(
        max_length=12, choices=SubscriberStatus.choices, default=SubscriberStatus.PENDING
    )
    tags = models.ManyToManyField(
        Tag, blank=True, related_name="subscribers", help_text="Only these topics (none: all)."
    )
    forecasters = models.ManyToManyField(
        Forecaster,
        blank=True,
        related_name="subscribers",
        help_text="Only these forecasters (none: all).",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="digest_subscriptions",
        help_text="The staff account whose overdue review queue the digest adds.",
    )
    include_review_queue = models.BooleanField(
        default=False, help_text="Staff digest: add the linked user's overdue review queue."
    )
    token_version = models.PositiveIntegerField(
        default=1, help_text="Bumped on re-subscription: links sent before stop working."
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    permanent_failures = models.PositiveSmallIntegerField(
        default=0, help_text="Permanent delivery failures in a row; reset by a delivery."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["email"]
        indexes = [models.Index(fields=["status", "cadence"])]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="subscriber_email_unique_case_insensitive",
                violation_error_message="This address is already subscribed.",
            ),
            models.CheckConstraint(
                condition=Q(email=Lower("email")) & ~Q(email=""),
                name="subscriber_email_lower_case",
            ),
            models.CheckConstraint(
                condition=Q(cadence__in=Cadence.values), name="subscriber_cadence_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SubscriberStatus.values), name="subscriber_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=SubscriberStatus.CONFIRMED) | Q(confirmed_at__isnull=False),
                name="subscriber_confirmed_has_confirmed_at",
            ),
            models.CheckConstraint(
                condition=Q(include_review_queue=False) | Q(user__isnull=False),
                name="subscriber_review_queue_needs_user",
            ),
        ]

    def __str__(self) -> str:
        return self.email


class DeliveryStatus(models.TextChoices):
    CLAIMED = "claimed", "Claimed (being sent)"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped (nothing to report)"
    FAILED = "failed", "Failed (permanent)"


class DigestDelivery(models.Model):
    """One subscriber's digest for one period. The row is the claim: inserted before the
    e-mail is sent (the unique constraint stops a second run), then marked sent."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    cadence = models.CharField(max_length=10, choices=Cadence.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.CLAIMED
    )
    claim = models.UUIDField(help_text="The run that holds (or held) the claim.")
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-period_start", "subscriber"]
        indexes = [models.Index(fields=["status", "claimed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "cadence", "period_start"],
                name="digest_delivery_once_per_subscriber_and_period",
            ),
            models.CheckConstraint(
                condition=Q(cadence__in=Cadence.values), name="digest_delivery_cadence_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="digest_delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")),
                name="digest_delivery_period_in_order",
            ),
            models.CheckConstraint(
                condition=(Q(status=DeliveryStatus.SENT) & Q(sent_at__isnull=False))
                | (~Q(status=DeliveryStatus.SENT) & Q(sent_at__isnull=True)),
                name="digest_delivery_sent_at_iff_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cadence} digest from {self.period_start:%Y-%m-%d} to {self.subscriber_id}"
