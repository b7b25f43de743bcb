"""How often the events described with each verbal phrase came true, per scope."""

from __future__ import annotations

import datetime as dt

from forecasts.core.models import Basis, Estimate, ForecastQuerySet, Outcome
from forecasts.scores import maths
from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.scopes import forecasts_in_scope
from forecasts.scores.selectors import latest_overall


def phrase_table(
    forecasts: ForecastQuerySet | None = None, *, known_by: dt.date | None = None
) -> list[maths.PhraseCalibration]:
    """How often events described with each verbal phrase happened (first estimates only),
    counting the outcomes known by ``known_by`` (all of them when it is None)."""
    # One filter() for every condition on the resolution, so that all of them hold for
    # the same (current) row: a separate filter() joins resolutions again, and a
    # superseded resolution's date would stand in for the current one's.
    resolution: dict[str, object] = {
        "forecast__resolutions__is_current": True,
        "forecast__resolutions__outcome__in": [Outcome.YES, Outcome.NO],
    }
    if known_by is not None:
        resolution["forecast__resolutions__known_on__lte"] = known_by
    estimates = Estimate.objects.filter(
        basis=Basis.PHRASE, negated=False, forecast__published_at__isnull=False, **resolution
    )
    if forecasts is not None:
        estimates = estimates.filter(forecast__in=forecasts)
    rows = list(
        estimates.order_by("forecast_id", "made_on", "pk").values_list(
            "forecast_id", "phrase", "forecast__resolutions__outcome"
        )
    )
    first: dict[int, tuple[str, int]] = {}
    for forecast_id, phrase, outcome in rows:
        first.setdefault(forecast_id, (phrase, 1 if outcome == Outcome.YES else 0))
    if not first:
        return []
    phrases, outcomes = zip(*first.values(), strict=True)
    return maths.phrase_calibration(list(phrases), list(outcomes))


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
