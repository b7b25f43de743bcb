"""Synthetic forecasts for benchmarks and load tests, and removing them again.

Every row written here carries the ``synthetic`` flag (sources, forecasters,
tags, forecasts), so :func:`synthetic_clear` removes exactly what
:func:`synthetic_generate` wrote and nothing else: a real forecast whose slug
happens to start with "synthetic-" is not touched. (Keys and slugs still start
with :data:`PREFIX`, for people reading the pages.)

The data is shaped for the scoring code: forecasters differ in skill (each has
its own noise and over-confidence), estimates drift toward the outcome as the
deadline nears, a fifth of them come from verbal phrases, and resolutions are
drawn from the same latent probability the estimates are noisy readings of.
The same ``seed`` (and ``today``) gives the same rows, whatever the batch size.

Rows are written in bulk (``bulk_create``; estimates, nine rows in ten, by
COPY or ``executemany``), one transaction per batch of forecasts holding the
batch's estimates, resolutions and tag links too: an interrupted run leaves
whole forecasts behind, never a forecast without its estimate. Rows skip
``full_clean`` for speed; they are built to satisfy the models' constraints,
which the database enforces anyway.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from forecasts.core import phrases
from forecasts.core.models import (
    Basis,
    Estimate,
    Forecast,
    Forecaster,
    Outcome,
    Resolution,
    ReviewerAssignment,
    Source,
    Tag,
)

Progress = Callable[[int, int], None]
_M = TypeVar("_M", bound=models.Model)

PREFIX = "synthetic-"

FIRST_DAY = dt.date(2015, 1, 1)
LAST_DAY = dt.date(2025, 12, 31)
HORIZON_DAYS = (30, 730)
# Outcomes become known from a month before the deadline to two months after it.
KNOWN_OFFSET_DAYS = (-30, 60)
DRAFT_SHARE = 0.01
# Of the published forecasts whose outcome can be known by today. Nearly all can
# for made_on up to 2025, so about three quarters of all forecasts end resolved.
RESOLVED_SHARE = 0.78
ANNULLED_SHARE = 0.02
PHRASE_SHARE = 0.2
PHRASES = (
    "highly unlikely",
    "unlikely",
    "may",
    "likely",
    "probably",
    "very likely",
    "almost certain",
)
MAX_TAGS = 3
# A forecaster reports c·logit(p) + N(0, noise²) for a latent probability p:
# noise is how much they miss, c > 1 over-confidence and c < 1 timidity.
NOISE = (0.1, 2.5)
OVERCONFIDENCE = (0.6, 1.6)
# How far the latent probability moves toward the outcome by the deadline:
# later estimates know more, so they should score better.
HINDSIGHT = 0.7
EVIDENCE_NOTE = "Synthetic resolution."


@dataclass(frozen=True)
class SyntheticReport:
    forecasts: int
    estimates: int
    resolutions: int
    forecasters: int
    sources: int
    tags: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"Synthetic data: {self.forecasts} forecasts, {self.estimates} estimates, "
            f"{self.resolutions} resolutions, {self.forecasters} forecasters, "
            f"{self.sources} sources, {self.tags} tags in {self.seconds:.1f} s"
        )


@dataclass(frozen=True, slots=True)
class _Skill:
    """How a forecaster distorts the latent probability (in log-odds)."""

    noise: float
    overconfidence: float


def synthetic_sizes_check(
    *,
    forecasts: int,
    estimates: int,
    forecasters: int,
    sources: int,
    tags: int,
    batch_size: int = 5000,
) -> None:
    """Raise ``ValidationError`` if :func:`synthetic_generate` would refuse these sizes."""
    errors = [
        f"{name} cannot be negative (got {value})."
        for name, value in (
            ("forecasts", forecasts),
            ("estimates", estimates),
            ("forecasters", forecasters),
            ("sources", sources),
            ("tags", tags),
        )
        if value < 0
    ]
    if batch_size < 1:
        errors.append(f"batch_size must be at least 1 (got {batch_size}).")
    if forecasts > 0 and estimates < forecasts:
        errors.append(
            f"estimates ({estimates}) must be at least forecasts ({forecasts}): "
            "every forecast has at least one estimate."
        )
    if forecasts == 0 and estimates > 0:
        errors.append(f"estimates ({estimates}) need forecasts to belong to.")
    if forecasts > 0 and forecasters == 0:
        errors.append("forecasts need at least one forecaster.")
    if forecasts > 0 and sources == 0:
        errors.append("forecasts need at least one source.")
    if errors:
        raise ValidationError(errors)


def _synthetic_present() -> bool:
    """Whether any synthetic row (forecast, source, forecaster or tag) exists."""
    return any(
        model._default_manager.filter(synthetic=True).exists()
        for model in (Forecast, Source, Forecaster, Tag)
    )


def _names_taken() -> str:
    """Which real (unflagged) rows already hold a key or slug the generator writes."""
    names = (
        (Forecast, "slug", f"{PREFIX}forecast-"),
        (Source, "key", f"{PREFIX}source-"),
        (Forecaster, "slug", f"{PREFIX}forecaster-"),
        (Tag, "slug", f"{PREFIX}topic-"),
    )
    return ", ".join(
        f"{model._meta.verbose_name_plural} named {prefix}…"
        for model, field, prefix in names
        if model._default_manager.filter(
            synthetic=False, **{f"{field}__startswith": prefix}
        ).exists()
    )


def _statistics_refresh() -> None:
    """Bring PostgreSQL's planner statistics up to date after a bulk load.

    Autovacuum gets there within a minute or so, but a benchmark or load test
    started at once would otherwise run its first queries with plans made for
    empty tables (seconds instead of milliseconds).
    """
    if connection.vendor != "postgresql":
        return
    tables = [
        model._meta.db_table for model in (Forecast, Estimate, Resolution, Source, Forecaster, Tag)
    ]
    tables.append(Forecast.tags.through._meta.db_table)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')


def synthetic_generate(
    *,
    forecasts: int,
    estimates: int,
    forecasters: int,
    sources: int,
    tags: int,
    seed: int = 0,
    batch_size: int = 5000,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> SyntheticReport:
    """Write synthetic forecasts with exactly ``estimates`` estimates between them.

    Refuses (``ValidationError``) bad sizes and a database that already holds
    synthetic rows: clear them first with :func:`synthetic_clear`. ``progress``
    is called with (forecasts written, forecasts) after each batch. ``today``
    (default: the local date) separates due forecasts from open ones and bounds
    resolution and estimate dates.
    """
    synthetic_sizes_check(
        forecasts=forecasts,
        estimates=estimates,
        forecasters=forecasters,
        sources=sources,
        tags=tags,
        batch_size=batch_size,
    )
    if _synthetic_present():
        raise ValidationError(
            "Synthetic data is already present; clear it first (synthetic_clear, "
            "or generate_synthetic --clear)."
        )
    if taken := _names_taken():
        raise ValidationError(
            f"Real rows hold the names synthetic data would use ({taken}); they are not "
            "synthetic (not flagged), so they are neither replaced nor removed. Rename them "
            "first."
        )
    started = time.perf_counter()
    today = today or timezone.localdate()
    rng = random.Random(seed)  # noqa: S311  # reproducible data, not secrets
    now = timezone.now()

    with transaction.atomic():
        source_ids = _sources_create(rng, count=sources, now=now)
        skills = _forecasters_create(rng, count=forecasters)
        tag_ids = _tags_create(count=tags)

    writer = _BatchWriter(
        rng=rng,
        today=today,
        now=now,
        source_ids=source_ids,
        skills=skills,
        tag_ids=tag_ids,
        readings=sorted((phrases.estimate(text) for text in PHRASES), key=lambda r: r.probability),
        batch_size=batch_size,
    )
    counts = _estimate_counts(rng, forecasts=forecasts, estimates=estimates)
    resolutions = 0
    for start in range(0, forecasts, batch_size):
        with transaction.atomic():
            resolutions += writer.write(first=start, counts=counts[start : start + batch_size])
        if progress is not None:
            progress(min(start + batch_size, forecasts), forecasts)
    _statistics_refresh()

    return SyntheticReport(
        forecasts=forecasts,
        estimates=estimates,
        resolutions=resolutions,
        forecasters=forecasters,
        sources=sources,
        tags=tags,
        seconds=time.perf_counter() - started,
    )


def synthetic_clear(*, batch_size: int = 5000, progress: Progress | None = None) -> int:
    """Delete every synthetic row and nothing else; returns the forecasts deleted.

    Forecasts go in batches of ``batch_size`` (one transaction each), their
    estimates, tag links, reviewer rows and resolutions first, each as one
    DELETE. ``progress`` is called with (forecasts deleted, forecasts) after each
    batch. Synthetic sources and forecasters still used by a non-synthetic
    forecast are kept; synthetic tags go, along with their links to any forecast.
    """
    if batch_size < 1:
        raise ValidationError(f"batch_size must be at least 1 (got {batch_size}).")
    pks = list(Forecast.objects.filter(synthetic=True).order_by("pk").values_list("pk", flat=True))
    total = len(pks)
    for start in range(0, total, batch_size):
        chunk = pks[start : start + batch_size]
        with transaction.atomic():
            _forecasts_delete(first_pk=chunk[0], last_pk=chunk[-1])
        if progress is not None:
            progress(start + len(chunk), total)
    with transaction.atomic():
        Tag.objects.filter(synthetic=True).delete()
        Source.objects.filter(synthetic=True, forecasts__isnull=True).delete()
        Forecaster.objects.filter(synthetic=True, forecasts__isnull=True).delete()
    return total


def _forecasts_delete(*, first_pk: int, last_pk: int) -> None:
    forecasts = Forecast.objects.filter(synthetic=True, pk__range=(first_pk, last_pk))
    # Nothing hangs off these rows, so each goes as one DELETE with a subquery,
    # without loading them (a million estimates). Only resolutions and the
    # forecasts themselves pass through the collector, a batch at a time.
    Estimate.objects.filter(forecast__in=forecasts).delete()
    Forecast.tags.through.objects.filter(forecast__in=forecasts).delete()
    ReviewerAssignment.objects.filter(forecast__in=forecasts).delete()
    resolutions = Resolution.objects.filter(forecast__in=forecasts)
    # A correction PROTECTs the resolution it supersedes; unlinking the chain
    # lets the whole history go at once.
    resolutions.filter(supersedes__isnull=False).update(supersedes=None)
    resolutions.delete()
    forecasts.delete()


def _sources_create(rng: random.Random, *, count: int, now: dt.datetime) -> list[int]:
    span = (LAST_DAY - FIRST_DAY).days
    created = Source.objects.bulk_create(
        [
            Source(
                key=f"{PREFIX}source-{number:04d}",
                title=f"Synthetic analysis {number}",
                publisher=f"Synthetic Press {number % 17 + 1}",
                author=f"Synthetic Author {number % 97 + 1}",
                published_on=FIRST_DAY + dt.timedelta(days=rng.randrange(span + 1)),
                created_at=now,
                synthetic=True,
            )
            for number in range(1, count + 1)
        ]
    )
    return _pks(created, Source, "key")


def _forecasters_create(rng: random.Random, *, count: int) -> list[tuple[int, _Skill]]:
    # Noise levels are stratified over the range, so even a handful of
    # forecasters spans sharp to hopeless; which one gets which is random.
    ranks = list(range(count))
    rng.shuffle(ranks)
    skills = [
        _Skill(
            noise=NOISE[0] + (NOISE[1] - NOISE[0]) * (rank + rng.random()) / count,
            overconfidence=rng.uniform(*OVERCONFIDENCE),
        )
        for rank in ranks
    ]
    created = Forecaster.objects.bulk_create(
        [
            Forecaster(
                name=f"Synthetic forecaster {number:04d}",
                slug=f"{PREFIX}forecaster-{number:04d}",
                kind=Forecaster.Kind.OUTLET if number % 10 == 0 else Forecaster.Kind.PERSON,
                synthetic=True,
            )
            for number in range(1, count + 1)
        ]
    )
    return list(zip(_pks(created, Forecaster, "slug"), skills, strict=True))


def _tags_create(*, count: int) -> list[int]:
    created = Tag.objects.bulk_create(
        [
            Tag(
                name=f"Synthetic topic {number:03d}",
                slug=f"{PREFIX}topic-{number:03d}",
                synthetic=True,
            )
            for number in range(1, count + 1)
        ]
    )
    return _pks(created, Tag, "slug")


def _pks(objs: Sequence[_M], model: type[_M], key: str) -> list[int]:
    """Primary keys in ``objs`` order, read back on databases that cannot return them."""
    if all(obj.pk is not None for obj in objs):
        return [obj.pk for obj in objs]
    values = [getattr(obj, key) for obj in objs]
    found = dict(model._default_manager.filter(**{f"{key}__in": values}).values_list(key, "pk"))
    return [found[value] for value in values]


def _estimate_counts(rng: random.Random, *, forecasts: int, estimates: int) -> list[int]:
    """One estimate each, the rest spread unevenly; the total is exactly ``estimates``."""
    if forecasts == 0:
        return []
    # Integer weights keep the arithmetic exact: the floors never overshoot.
    weights = [int(rng.expovariate(1.0) * 1000) + 1 for _ in range(forecasts)]
    total = sum(weights)
    extra = estimates - forecasts
    counts = [1 + extra * weight // total for weight in weights]
    for index in rng.sample(range(forecasts), estimates - sum(counts)):
        counts[index] += 1
    return counts


# (probability, low, high, basis, phrase, made_on), then with forecast_id in front.
_EstimateValues = tuple[float, float | None, float | None, str, str, dt.date]
_EstimateRow = tuple[int, float, float | None, float | None, str, str, dt.date]
_ESTIMATE_COLUMNS = ("forecast_id", "probability", "low", "high", "basis", "phrase", "made_on")


def _estimates_insert(rows: list[_EstimateRow]) -> None:
    """Insert estimates from plain tuples: COPY on PostgreSQL, executemany elsewhere.

    ``bulk_create`` spends most of its time
    building a model per row and preparing each value through its field (about
    100 µs a row on a small machine: minutes for a million); these rows are
    made of values that need no preparing but the date. Columns come from the
    model's fields, so fields added later are written with their defaults, and
    the database still checks every constraint.
    """
    fields = [field for field in Estimate._meta.concrete_fields if not field.primary_key]
    fixed = [field for field in fields if field.attname not in _ESTIMATE_COLUMNS]
    fixed_values = tuple(field.get_db_prep_save(field.get_default(), connection) for field in fixed)
    names = [*_ESTIMATE_COLUMNS, *(field.attname for field in fixed)]
    in_table_order = operator.itemgetter(*(names.index(field.attname) for field in fields))
    made_on = Estimate._meta.get_field("made_on")
    days = {day: made_on.get_db_prep_save(day, connection) for *_, day in rows}
    values = [in_table_order((*row[:-1], days[row[-1]], *fixed_values)) for row in rows]

    quote = connection.ops.quote_name
    table = quote(Estimate._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            # Table and column names come from _meta, quoted; values are parameters.
            insert = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
            cursor.executemany(insert, values)


class _BatchWriter:
    """Draws forecasts in order from one random stream and bulk-writes them.

    Each forecast's draws (its fields, estimates and tags) are consecutive in
    the stream, so the batch size does not change the data.
    """

    def __init__(
        self,
        *,
        rng: random.Random,
        today: dt.date,
        now: dt.datetime,
        source_ids: list[int],
        skills: list[tuple[int, _Skill]],
        tag_ids: list[int],
        readings: list[phrases.PhraseEstimate],
        batch_size: int,
    ) -> None:
        self.rng = rng
        self.today = today
        self.now = now
        self.source_ids = source_ids
        self.skills = skills
        self.tag_ids = tag_ids
        self.readings = readings
        self.batch_size = batch_size
        self.made_on_span = (LAST_DAY - FIRST_DAY).days

    def write(self, *, first: int, counts: list[int]) -> int:
        """Write one batch of forecasts; returns the number of resolutions written."""
        drafts = [
            self._draw(number=first + offset + 1, estimates=count)
            for offset, count in enumerate(counts)
        ]
        forecasts = Forecast.objects.bulk_create([draft.forecast for draft in drafts])
        pks = _pks(forecasts, Forecast, "slug")
        resolutions = [
            Resolution(
                forecast_id=pk,
                outcome=draft.outcome,
                known_on=draft.known_on,
                evidence_note=EVIDENCE_NOTE,
                # Recorded within a week of the outcome becoming known, as reviewers
                # do: digests and feeds then see a realistic week, not every
                # resolution at once.
                resolved_at=min(
                    self.now,
                    dt.datetime.combine(
                        draft.known_on + dt.timedelta(days=pk % 7), dt.time(9), tzinfo=dt.UTC
                    ),
                ),
                is_current=True,
            )
            for pk, draft in zip(pks, drafts, strict=True)
            if draft.outcome is not None and draft.known_on is not None
        ]
        link_model = Forecast.tags.through
        links = [
            link_model(forecast_id=pk, tag_id=tag_id)
            for pk, draft in zip(pks, drafts, strict=True)
            for tag_id in draft.tag_ids
        ]
        _estimates_insert(
            [
                (pk, *estimate)
                for pk, draft in zip(pks, drafts, strict=True)
                for estimate in draft.estimates
            ]
        )
        Resolution.objects.bulk_create(resolutions, batch_size=self.batch_size)
        link_model.objects.bulk_create(links, batch_size=self.batch_size)
        return len(resolutions)

    def _draw(self, *, number: int, estimates: int) -> _Draft:
        rng = self.rng
        forecaster_id, skill = rng.choice(self.skills)
        made_on = FIRST_DAY + dt.timedelta(days=rng.randrange(self.made_on_span + 1))
        resolve_by = made_on + dt.timedelta(days=rng.randint(*HORIZON_DAYS))
        latent = min(max(rng.betavariate(0.8, 0.8), 0.02), 0.98)
        happened = rng.random() < latent
        published = rng.random() >= DRAFT_SHARE
        outcome: str | None = None
        known_on: dt.date | None = None
        if published and rng.random() < RESOLVED_SHARE:
            candidate = max(
                made_on, resolve_by + dt.timedelta(days=rng.randint(*KNOWN_OFFSET_DAYS))
            )
            if candidate <= self.today:  # nobody knows outcomes from the future
                known_on = candidate
                if rng.random() < ANNULLED_SHARE:
                    outcome = Outcome.ANNULLED
                else:
                    outcome = Outcome.YES if happened else Outcome.NO
        forecast = Forecast(
            synthetic=True,
            slug=f"{PREFIX}forecast-{number:07d}",
            source_id=rng.choice(self.source_ids),
            forecaster_id=forecaster_id,
            statement=f"Synthetic event {number} happens by {resolve_by}.",
            resolution_criteria=(
                f"YES if synthetic event {number} happens on or before {resolve_by}."
            ),
            made_on=made_on,
            resolve_by=resolve_by,
            published_at=(
                dt.datetime.combine(made_on, dt.time(12), tzinfo=dt.UTC) if published else None
            ),
            created_at=self.now,
        )
        last = min(resolve_by, self.today)
        if known_on is not None:  # estimates stop before the outcome is known
            last = min(last, known_on - dt.timedelta(days=1))
        tag_count = rng.randint(0, min(MAX_TAGS, len(self.tag_ids)))
        return _Draft(
            forecast=forecast,
            outcome=outcome,
            known_on=known_on,
            estimates=self._estimates(
                made_on=made_on,
                horizon=(resolve_by - made_on).days,
                room=max((last - made_on).days, 0),
                count=estimates,
                skill=skill,
                latent=latent,
                target=1.0 if happened else 0.0,
            ),
            tag_ids=rng.sample(self.tag_ids, tag_count),
        )

    def _estimates(
        self,
        *,
        made_on: dt.date,
        horizon: int,
        room: int,
        count: int,
        skill: _Skill,
        latent: float,
        target: float,
    ) -> list[_EstimateValues]:
        """The first on made_on, later ones on increasing days within ``room`` days.

        Each is the forecaster's noisy reading of the latent probability, which
        drifts toward the outcome (``target``) as the deadline nears.
        """
        rng = self.rng
        if count - 1 <= room:
            offsets = sorted(rng.sample(range(1, room + 1), count - 1))
        else:  # more updates than days: several on one day
            offsets = sorted(rng.choices(range(room + 1), k=count - 1))
        estimates: list[_EstimateValues] = []
        for offset in [0, *offsets]:
            informed = latent + (target - latent) * HINDSIGHT * offset / horizon
            log_odds = skill.overconfidence * _logit(informed) + rng.gauss(0.0, skill.noise)
            probability = round(min(max(_sigmoid(log_odds), 0.01), 0.99), 2)
            made = made_on + dt.timedelta(days=offset)
            if rng.random() < PHRASE_SHARE:
                reading = min(self.readings, key=lambda r: abs(r.probability - probability))
                estimates.append(
                    (
                        reading.probability,
                        reading.low,
                        reading.high,
                        Basis.PHRASE.value,
                        reading.phrase.text,
                        made,
                    )
                )
            else:
                estimates.append((probability, None, None, Basis.NUMBER.value, "", made))
        return estimates


@dataclass(frozen=True)
class _Draft:
    """One forecast drawn but not yet written, with what hangs off it."""

    forecast: Forecast
    outcome: str | None
    known_on: dt.date | None
    estimates: list[_EstimateValues]
    tag_ids: list[int]


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
