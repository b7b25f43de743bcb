"""How often the events described with each verbal phrase came true, per scope.

Each scored forecast counts once, under the phrase of the estimate it opened with (its
first by ``made_on``, then id: the one its headline score uses, made before the
outcome became known). A forecast that opened with a number, or with a phrase about the
proposition's negation, is not in the table, whatever phrases later estimates used.
The live scores keep the counts (:class:`forecasts.scores.models.ScoreTally`).
"""

from __future__ import annotations

from forecasts.scores import maths
from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.selectors import latest_overall
from forecasts.scores.sums import scope_phrase_table


def scorecard_phrases(overall: ScoreSnapshot | None) -> list[maths.PhraseCalibration]:
    """The scorecard's phrase table: the one the latest overall snapshot holds (today's is
    kept live), else read from the live counts."""
    if overall is not None and overall.phrases is not None:
        return [maths.PhraseCalibration(**row) for row in overall.phrases]
    return scope_phrase_table(kind=ScopeKind.ALL, scope_id=0)


def scope_phrases(*, kind: str, scope_id: int) -> list[maths.PhraseCalibration]:
    """A scope's phrase table as it stands now."""
    if kind == ScopeKind.ALL:
        return scorecard_phrases(latest_overall())
    return scope_phrase_table(kind=kind, scope_id=scope_id)
