"""Who a leaderboard ranks: the one rule for the pages, the API and the digests.

A forecaster, source or tag is ranked only with at least ``LEADERBOARD_MIN_RESOLVED``
resolved forecasts (at least 2, 5 unless configured), so a single lucky forecast is
never ranked, let alone at the top. The others are listed apart as too few to rank,
with how many they have, in that order and never by score. Among the ranked, the
ranking score (``shrunk_brier``, :mod:`forecasts.scores.compute`) decides.
"""

from __future__ import annotations

from itertools import pairwise

from django.conf import settings


def min_resolved() -> int:
    """How many resolved forecasts a scope needs to be ranked."""
    return int(settings.LEADERBOARD_MIN_RESOLVED)


def is_ranked(resolved_count: int) -> bool:
    return resolved_count >= min_resolved()


def competition_ranks(scores: list[float]) -> list[int]:
    """Ranks of ``scores`` sorted best (lowest) first, equal scores sharing a rank
    ("1, 2, 2, 4"); ``ValueError`` when they are not sorted."""
    if any(later < earlier for earlier, later in pairwise(scores)):
        raise ValueError("scores must be sorted, lowest first")
    ranks: list[int] = []
    for position, score in enumerate(scores):
        tied = position > 0 and score == scores[position - 1]
        ranks.append(ranks[-1] if tied else position + 1)
    return ranks
