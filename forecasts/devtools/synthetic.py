"""Synthetic forecasts for benchmarks and load tests, and removing them again.

Every row written here carries the ``synthetic`` flag (sources, forecasters,
tags, forecasts), so :func:`synthetic_clear` removes exactly what
:func:`synthetic_generate` wrote and nothing else: a real forecast whose slug
happens to start with "synthetic-" is not touched. (Keys and slugs still start
with :data:`PREFIX`, for people reading the pages.)

The data is shaped for the scoring code (:mod:`.synthetic_draws`). The same
``seed`` (and ``today``) gives the same rows, whatever the batch size.

Rows are written in bulk (``bulk_create``; estimates, nine rows in ten, by
COPY or ``executemany``), one transaction per batch of forecasts holding the
batch's estimates, resolutions and tag links too: an interrupted run leaves
whole forecasts behind, never a forecast without its estimate. Rows skip
``full_clean`` for speed; they are built to satisfy the models' constraints,
which the database enforces anyway.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from forecasts.core import phrases
from forecasts.core.changes import public_pages_changed
from forecasts.core.ledger.models import LedgerEntry
from forecasts.core.models import (
    Estimate,
    Forecast,
    Forecaster,
    Resolution,
    ReviewerAssignment,
    Source,
    Tag,
)
from forecasts.devtools.synthetic_draws import (
    EVIDENCE_NOTE,
    FIRST_DAY,
    LAST_DAY,
    NOISE,
    OVERCONFIDENCE,
    PHRASES,
    PREFIX,
    BatchWriter,
    Skill,
    primary_keys,
)
from forecasts.devtools.synthetic_ledger import SyntheticLedger, synthetic_ledger_clear
from forecasts.scores.live import scores_rebuild

__all__ = [
    "EVIDENCE_NOTE",
    "PREFIX",
    "synthetic_clear",
    "synthetic_generate",
    "synthetic_sizes_check",
]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SyntheticReport:
    forecasts: int
    estimates: int
    resolutions: int
    forecasters: int
    sources: int
    tags: int
    seconds: float
    entries: int = 0

    def __str__(self) -> str:
        return (
            f"Synthetic data: {self.forecasts} forecasts, {self.estimates} estimates, "
            f"{self.resolutions} resolutions, {self.forecasters} forecasters, "
            f"{self.sources} sources, {self.tags} tags, {self.entries} ledger entries "
            f"in {self.seconds:.1f} s"
        )


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
        model._meta.db_table
        for model in (Forecast, Estimate, Resolution, Source, Forecaster, Tag, LedgerEntry)
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

    writer = BatchWriter(
        rng=rng,
        today=today,
        now=now,
        source_ids=source_ids,
        skills=skills,
        tag_ids=tag_ids,
        readings=sorted((phrases.estimate(text) for text in PHRASES), key=lambda r: r.probability),
        batch_size=batch_size,
    )
    ledger = SyntheticLedger(forecasters=[pk for pk, _ in skills], sources=source_ids)
    counts = _estimate_counts(rng, forecasts=forecasts, estimates=estimates)
    resolutions = entries = 0
    for start in range(0, forecasts, batch_size):
        with transaction.atomic():
            written, resolved = writer.write(first=start, counts=counts[start : start + batch_size])
            entries += ledger.write(forecasts=written, resolutions=resolved)
            resolutions += len(resolved)
        if progress is not None:
            progress(min(start + batch_size, forecasts), forecasts)
    _statistics_refresh()
    # Written without the services: score it all at once, as a migration would.
    scores_rebuild()
    public_pages_changed()  # the synthetic chain's head moved, and the scores

    return SyntheticReport(
        forecasts=forecasts,
        estimates=estimates,
        resolutions=resolutions,
        forecasters=forecasters,
        sources=sources,
        tags=tags,
        entries=entries,
        seconds=time.perf_counter() - started,
    )


def synthetic_clear(*, batch_size: int = 5000, progress: Progress | None = None) -> int:
    """Delete every synthetic row and nothing else; returns the forecasts deleted.

    The synthetic ledger chain goes first (its entries protect the forecasts; its head
    is reset to the genesis hash). Then forecasts go in batches of ``batch_size`` (one
    transaction each), their estimates, tag links, reviewer rows and resolutions first, each as one
    DELETE. ``progress`` is called with (forecasts deleted, forecasts) after each
    batch. Synthetic sources and forecasters still used by a non-synthetic
    forecast are kept; synthetic tags go, along with their links to any forecast.
    """
    if batch_size < 1:
        raise ValidationError(f"batch_size must be at least 1 (got {batch_size}).")
    with transaction.atomic():
        synthetic_ledger_clear()
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
    scores_rebuild()
    public_pages_changed()
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
    return primary_keys(created, Source, "key")


def _forecasters_create(rng: random.Random, *, count: int) -> list[tuple[int, Skill]]:
    # Noise levels are stratified over the range, so even a handful of
    # forecasters spans sharp to hopeless; which one gets which is random.
    ranks = list(range(count))
    rng.shuffle(ranks)
    skills = [
        Skill(
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
    return list(zip(primary_keys(created, Forecaster, "slug"), skills, strict=True))


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
    return primary_keys(created, Tag, "slug")


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
