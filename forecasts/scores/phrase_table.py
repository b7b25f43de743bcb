"""How often the events described with each verbal phrase came true, per scope."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q

from forecasts.core.models import Basis, Estimate, ForecastQuerySet, Outcome
from forecasts.scores import maths
from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.scopes import forecasts_in_scope
from forecasts.scores.selectors import latest_overall


def phrase_table(
    forecasts: ForecastQuerySet | None = None, *, known_by: dt.date | None = None
) -> list[maths.PhraseCalibration]:
    """How often events described with each verbal phrase happened, counting the outcomes
    known by ``known_by`` (all of them when it is None).

    Each forecast counts once, under the phrase of the estimate it opened with (its
    first by ``made_on``, then id: the one its headline score uses). A forecast that
    opened with a number, or with a phrase about the proposition's negation, is not
    in the table, whatever phrases later estimates used."""
    # One filter() for every condition on the resolution, so that all of them hold for
    # the same (current) row: a separate filter() joins resolutions again, and a
    # superseded resolution's date would stand in for the current one's.
    resolution: dict[str, object] = {
        "forecast__resolutions__is_current": True,
        "forecast__resolutions__outcome__in": [Outcome.YES, Outcome.NO],
    }
    if known_by is not None:
        resolution["forecast__resolutions__known_on__lte"] = known_by
    earlier = Estimate.objects.filter(forecast=OuterRef("forecast")).filter(
        Q(made_on__lt=OuterRef("made_on")) | Q(made_on=OuterRef("made_on"), pk__lt=OuterRef("pk"))
    )
    estimates = Estimate.objects.filter(
        ~Exists(earlier),  # the forecast's first estimate
        basis=Basis.PHRASE,
        negated=False,
        forecast__published_at__isnull=False,
        **resolution,
    )
    if forecasts is not None:
        estimates = estimates.filter(forecast__in=forecasts)
    # Unordered: the table sorts its rows itself.
    rows = list(estimates.order_by().values_list("phrase", "forecast__resolutions__outcome"))
    if not rows:
        return []
    return maths.phrase_calibration(
        [phrase for phrase, _ in rows], [1 if outcome == Outcome.YES else 0 for _, outcome in rows]
    )


def scorecard_phrases(overall: ScoreSnapshot | None) -> list[maths.PhraseCalibration]:
    """The scorecard's phrase table: the one the latest overall snapshot holds (computed
    with it, off the request path), else computed now."""
    if overall is not None and overall.phrases is not None:
        return [maths.PhraseCalibration(**row) for row in overall.phrases]
    return phrase_table()


def scope_phrases(*, kind: str, scope_id: int) -> list[maths.PhraseCalibration]:
    """A scope's phrase table: everything's from its latest snapshot, a forecaster's,
    source's or tag's computed from its forecasts."""
    if kind == ScopeKind.ALL:
        return scorecard_phrases(latest_overall())
    return phrase_table(forecasts_in_scope(kind, scope_id))
