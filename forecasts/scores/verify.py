"""Checking the live scores: every score computed from the record again and compared, to
1e-9, with the stored rows, sums, tallies and today's snapshots (``verify_scores``, and
the nightly snapshot)."""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from forecasts.scores import additive
from forecasts.scores.additive import ALL_TIME, ANY_TAG, ScoredForecast, Sums, Tally
from forecasts.scores.compute import scope_snapshots, scored_forecasts
from forecasts.scores.live import opening_phrases, scored_arrays_now, scored_now_rows
from forecasts.scores.models import ForecastScore, ScopeKind, ScoreSnapshot, ScoreSum, ScoreTally
from forecasts.scores.rows import score_rows
from forecasts.scores.sums import (
    STORED_FIELDS,
    Scope,
    live_snapshots,
    phrase_rows,
    stored_forecasts,
)

TOLERANCE = 1e-9


@dataclass
class VerifyReport:
    forecasts: int = 0
    sums: int = 0
    tallies: int = 0
    snapshots: int = 0
    differences: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.differences

    def __str__(self) -> str:
        checked = (
            f"{self.forecasts:,} scored forecasts, {self.sums:,} sums, {self.tallies:,} "
            f"tallies, {self.snapshots:,} of today's snapshots ({self.seconds:.1f} s)"
        )
        if self.ok:
            return f"live scores agree with a full recomputation: {checked}"
        return f"{len(self.differences)} differences from a full recomputation: {checked}"


def scores_verify(*, limit: int = 20) -> VerifyReport:
    """Compute every score from the record again and compare it with the live rows, the
    sums, the tallies and today's snapshots, to 1e-9; list the first ``limit``
    differences."""
    began = time.perf_counter()
    report = VerifyReport()
    today = timezone.localdate()

    def differ(message: str) -> None:
        if len(report.differences) < limit:
            report.differences.append(message)
        elif len(report.differences) == limit:
            report.differences.append("… and more")

    with transaction.atomic():
        now = scored_arrays_now()
        scored = dict(scored_now_rows(now))
        stored = stored_forecasts(ForecastScore.objects.order_by().values_list(*STORED_FIELDS))
        report.forecasts = len(scored)
        for pk in sorted(set(scored) | set(stored)):
            expected, found = scored.get(pk), stored.get(pk)
            if expected is None or found is None:
                differ(f"forecast {pk}: scored {'live only' if expected is None else 'not live'}")
            elif not _same_forecast(expected, found):
                differ(f"forecast {pk}: live {found} but recomputed {expected}")
        sum_keys, sum_values = additive.sum_table(now.arrays)
        expected_sums = {
            (additive.KIND_NAMES[key[0]], *key[1:]): Sums(*value)
            for key, value in zip(sum_keys.tolist(), sum_values.tolist(), strict=True)
        }
        expected_sums.setdefault((ScopeKind.ALL.value, 0, ANY_TAG, ALL_TIME), Sums())
        found_sums = {
            (kind, scope_id, tag, month): Sums(*values)
            for kind, scope_id, tag, month, *values in ScoreSum.objects.order_by().values_list(
                *ScoreSum.KEY_FIELDS, *ScoreSum.SUM_FIELDS
            )
        }
        report.sums = len(found_sums)
        for key in sorted(set(found_sums) | set(expected_sums)):
            want, got = expected_sums.get(key, Sums()), found_sums.get(key, Sums())
            if not _close_sums(want, got):
                differ(f"sums {key}: live {got} but recomputed {want}")
        tally_scopes, probabilities, phrases, tally_values = additive.tally_table(now.arrays)
        expected_tallies = {
            (additive.KIND_NAMES[kind], scope_id, probability, phrase): (count, yes)
            for (kind, scope_id), probability, phrase, (count, yes) in zip(
                tally_scopes.tolist(),
                probabilities.tolist(),
                phrases,
                tally_values.tolist(),
                strict=True,
            )
        }
        found_tallies = {
            (kind, scope_id, probability, phrase): (count, yes)
            for kind, scope_id, probability, phrase, count, yes in (
                ScoreTally.objects.order_by().values_list(
                    "scope_kind",
                    "scope_id",
                    "probability",
                    "phrase",
                    "resolved_count",
                    "yes_count",
                )
            )
        }
        report.tallies = len(found_tallies)
        for key in sorted(set(found_tallies) | set(expected_tallies)):
            if found_tallies.get(key, (0, 0)) != expected_tallies.get(key, (0, 0)):
                differ(
                    f"tally {key}: live {found_tallies.get(key, (0, 0))} but recomputed "
                    f"{expected_tallies.get(key, (0, 0))}"
                )
        full = full_snapshots(as_of=today)
        live = {(s.scope_kind, s.scope_id): s for s in live_snapshots(as_of=today)}
        stored_today = {
            (s.scope_kind, s.scope_id): s for s in ScoreSnapshot.objects.filter(as_of=today)
        }
        report.snapshots = len(stored_today)
        expected_snapshots = {(s.scope_kind, s.scope_id): s for s in full}
        for what, snapshots in (("live", live), ("today's stored", stored_today)):
            if what == "today's stored" and not stored_today:
                continue  # no change yet today, and the nightly snapshot has not run
            for message in snapshots_differences(expected_snapshots, snapshots):
                differ(f"{what} snapshot {message}")
    report.seconds = time.perf_counter() - began
    return report


def full_snapshots(*, as_of: dt.date, phrases: bool = True) -> list[ScoreSnapshot]:
    """Every scope's snapshot computed from the whole record as it stood at the end of
    ``as_of``, with the phrase table unless ``phrases`` is False (what the nightly
    snapshot stores)."""
    scored = scored_forecasts(score_rows(as_of=as_of, recorded_by=as_of))
    snapshots = scope_snapshots(scored, as_of=as_of)
    if not phrases:
        return snapshots
    opening = opening_phrases(scored.opening_estimate_ids.tolist())
    tally: dict[tuple[str, int], int] = {}
    yes: dict[str, int] = {}
    for estimate_id, outcome in zip(
        scored.opening_estimate_ids.tolist(), scored.outcomes.tolist(), strict=True
    ):
        phrase = opening.get(estimate_id)
        if phrase:
            tally[(phrase, 0)] = tally.get((phrase, 0), 0) + 1
            yes[phrase] = yes.get(phrase, 0) + int(outcome == 1.0)
    table = phrase_rows(
        Tally.of([(0.0, phrase, count, yes[phrase]) for (phrase, _), count in tally.items()])
    )
    for snapshot in snapshots:
        if snapshot.scope_kind == ScopeKind.ALL:
            snapshot.phrases = [row.to_dict() for row in table]
    return snapshots


_SNAPSHOT_FIELDS = (
    "resolved_count",
    "yes_count",
    "brier",
    "shrunk_brier",
    "time_averaged_brier",
    "log_loss",
    "skill_vs_coin",
    "skill_vs_base_rate",
    "calibration",
    "murphy",
    "phrases",
)


def snapshots_differences(
    expected: dict[Scope, ScoreSnapshot], found: dict[Scope, ScoreSnapshot]
) -> list[str]:
    """How two sets of snapshots (by scope) differ, numbers compared to 1e-9."""
    messages = []
    for scope in sorted(set(expected) | set(found)):
        want, got = expected.get(scope), found.get(scope)
        if want is None or got is None:
            messages.append(f"{scope}: {'not expected' if want is None else 'missing'}")
            continue
        for name in _SNAPSHOT_FIELDS:
            if name == "phrases" and (scope[0] != ScopeKind.ALL or want.phrases is None):
                continue  # only everything's has one (and a backfilled date's none)
            if not _close(getattr(want, name), getattr(got, name)):
                messages.append(
                    f"{scope} {name}: {getattr(got, name)!r}, expected {getattr(want, name)!r}"
                )
    return messages


def _same_forecast(a: ScoredForecast, b: ScoredForecast) -> bool:
    return (
        (a.forecaster_id, a.source_id, a.tag_ids, a.phrase, a.happened, a.known_on)
        == (b.forecaster_id, b.source_id, b.tag_ids, b.phrase, b.happened, b.known_on)
        and _close(a.probability, b.probability)
        and _close(a.brier, b.brier)
        and _close(a.log_loss, b.log_loss)
        and _close(a.time_averaged_brier, b.time_averaged_brier)
    )


def _close_sums(a: Sums, b: Sums) -> bool:
    """Counts equal; each score sum within 1e-9 per forecast (rounding to fixed point is
    1e-12 each)."""
    slack = additive.fixed(TOLERANCE) * max(abs(a.count), 1)
    return (a.count, a.yes) == (b.count, b.yes) and all(
        abs(x - y) <= slack
        for x, y in (
            (a.brier, b.brier),
            (a.log_loss, b.log_loss),
            (a.time_averaged, b.time_averaged),
        )
    )


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=TOLERANCE) or (
            math.isnan(float(a)) and math.isnan(float(b))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.floating | np.integer):
        return _close(float(a), b)
    return bool(a == b)
