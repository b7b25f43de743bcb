"""How synthetic forecasts are drawn and bulk-written: the shape of the data.

Forecasters differ in skill (each has its own noise and over-confidence),
estimates drift toward the outcome as the deadline nears, a fifth of them come
from verbal phrases, and resolutions are drawn from the same latent probability
the estimates are noisy readings of. Each forecast's draws are consecutive in
one random stream, so the batch size does not change the data.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db import connection, models
from django.utils import timezone

from forecasts.core import phrases
from forecasts.core.models import (
    Basis,
    Estimate,
    Forecast,
    Outcome,
    Resolution,
)

PREFIX = "synthetic-"

_M = TypeVar("_M", bound=models.Model)

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


@dataclass(frozen=True, slots=True)
class Skill:
    """How a forecaster distorts the latent probability (in log-odds)."""

    noise: float
    overconfidence: float


_EstimateValues = tuple[float, float | None, float | None, str, str, dt.date]
_EstimateRow = tuple[int, float, float | None, float | None, str, str, dt.date]
_ESTIMATE_COLUMNS = ("forecast_id", "probability", "low", "high", "basis", "phrase", "made_on")


def _estimates_insert(rows: list[_EstimateRow]) -> None:
    """Insert estimates from plain tuples (:func:`rows_insert`), each recorded at noon on
    the day it was made (never after now), as ``estimate_record`` dates them: score
    history as of a past date then sees the estimates made by then."""
    now, zone = timezone.now(), timezone.get_current_timezone()
    recorded = {
        day: min(now, dt.datetime.combine(day, dt.time(12), tzinfo=zone))
        for day in {row[-1] for row in rows}
    }
    rows_insert(
        Estimate,
        (*_ESTIMATE_COLUMNS, "created_at"),
        [(*row, recorded[row[-1]]) for row in rows],
    )


def rows_insert(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """Insert ``rows`` (values for the fields ``names``, by attname) from plain tuples:
    COPY on PostgreSQL, executemany elsewhere.

    ``bulk_create`` spends most of its time
    building a model per row and preparing each value through its field (about
    100 µs a row on a small machine: minutes for a million); these rows are
    made of values that need no preparing but dates and moments. Columns come from
    the model's fields, so fields added later are written with their defaults, and
    the database still checks every constraint.
    """
    if not rows:
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    fixed = [field for field in fields if field.attname not in names]
    fixed_values = tuple(field.get_db_prep_save(field.get_default(), connection) for field in fixed)
    every = [*names, *(field.attname for field in fixed)]
    in_table_order = operator.itemgetter(*(every.index(field.attname) for field in fields))
    # Dates and moments are prepared through their field (each distinct value once).
    dated = [
        (index, field)
        for index, name in enumerate(names)
        if isinstance(field := model._meta.get_field(name), models.DateField)
    ]
    prepared: dict[object, object] = {}

    def prepare(row: Sequence[object]) -> tuple[object, ...]:
        values = list(row)
        for index, field in dated:
            value = values[index]
            if value not in prepared:
                prepared[value] = field.get_db_prep_save(value, connection)
            values[index] = prepared[value]
        return tuple(values)

    values = [in_table_order((*(prepare(row) if dated else row), *fixed_values)) for row in rows]

    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
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


class BatchWriter:
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
        skills: list[tuple[int, Skill]],
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

    def write(self, *, first: int, counts: list[int]) -> tuple[list[Forecast], list[Resolution]]:
        """Write one batch of forecasts; returns them (with their primary keys) and the
        resolutions written."""
        drafts = [
            self._draw(number=first + offset + 1, estimates=count)
            for offset, count in enumerate(counts)
        ]
        forecasts = Forecast.objects.bulk_create([draft.forecast for draft in drafts])
        pks = primary_keys(forecasts, Forecast, "slug")
        for forecast, pk in zip(forecasts, pks, strict=True):
            forecast.pk = pk
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
        if any(resolution.pk is None for resolution in resolutions):  # no RETURNING here
            ids = dict(
                Resolution.objects.filter(forecast_id__in=pks).values_list("forecast_id", "pk")
            )
            for resolution in resolutions:
                resolution.pk = ids[resolution.forecast_id]
        link_model.objects.bulk_create(links, batch_size=self.batch_size)
        return forecasts, resolutions

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
        skill: Skill,
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


def primary_keys(objs: Sequence[_M], model: type[_M], key: str) -> list[int]:
    """Primary keys in ``objs`` order, read back on databases that cannot return them."""
    if all(obj.pk is not None for obj in objs):
        return [obj.pk for obj in objs]
    values = [getattr(obj, key) for obj in objs]
    found = dict(model._default_manager.filter(**{f"{key}__in": values}).values_list(key, "pk"))
    return [found[value] for value in values]
