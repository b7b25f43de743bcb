"""What stood on record on each day: which resolution, and which estimates.

A forecast's scores as of day D use the resolution that stood at the end of D (the
latest one recorded by then, corrections included) and the estimates recorded by D
that were made before that resolution's outcome became known. Both change only on
the days something was recorded, so the whole history is a list of *standings*: a
resolution with the estimates it scores, and the days [``valid_from``, ``valid_to``)
on which that combination stood. A backfill scores every standing once and then
picks, for each date, the ones standing on it.

Pure, like :mod:`forecasts.scores.maths`: day numbers and ids in, index arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasts.scores.validation import IntArray

#: ``valid_to`` of a standing nothing has replaced yet.
NEVER = 10**9
ANNULLED = -1

# Sort keys pack (row, day) into one integer: days from 1800 to 2999 fit in the span.
_DAY_MIN = -200_000
_SPAN = 2**20


@dataclass(frozen=True)
class Standings:
    """Standings sorted by resolution row, then ``valid_from``; members by standing,
    then the estimates' order (day made, then id)."""

    resolution: IntArray  # index into the resolution rows
    valid_from: IntArray  # first day it stands
    valid_to: IntArray  # first day it no longer stands (NEVER: it still does)
    member_standing: IntArray  # one entry per (standing, estimate) it scores
    member_estimate: IntArray  # index into the estimate rows


def standings(
    *,
    forecasts: IntArray,
    outcomes: IntArray,
    known: IntArray,
    recorded: IntArray,
    estimate_forecasts: IntArray,
    estimate_ids: IntArray,
    estimate_made: IntArray,
    estimate_recorded: IntArray,
) -> Standings:
    """Every standing with at least one estimate, of resolutions other than ANNULLED.

    Resolution rows (``forecasts``, ``outcomes``, ``known`` day, ``recorded`` day) must
    be grouped by forecast and, within each, in the order they were recorded. A row
    stands from the day it was recorded (or its outcome became known, if later) until
    the day the next one of its forecast was recorded; one replaced on the day it was
    recorded never stood at a day's end. An annulment stands too, but scores nothing.
    An estimate counts from the day it was recorded, and only if it was made before the
    outcome became known; a late-recorded one splits its resolution's days in two.
    """
    same_next = np.r_[forecasts[1:] == forecasts[:-1], False]
    row_to = np.where(same_next, np.r_[recorded[1:], 0], NEVER)
    row_from = np.maximum(recorded, known)
    rows = np.flatnonzero((outcomes != ANNULLED) & (row_from < row_to))
    row_forecasts, row_known = forecasts[rows], known[rows]
    row_from, row_to = row_from[rows], row_to[rows]

    # Estimates by forecast, day made and id; each row's are a slice, cut at its known day.
    order = np.lexsort((estimate_ids, estimate_made, estimate_forecasts))
    keys = estimate_forecasts[order] * _SPAN + (estimate_made[order] - _DAY_MIN)
    first = np.searchsorted(keys, row_forecasts * _SPAN, side="left")
    end = np.searchsorted(keys, row_forecasts * _SPAN + (row_known - _DAY_MIN), side="left")
    pair_row, pair_estimate = _ragged(first, end - first)
    pair_recorded = estimate_recorded[order][pair_estimate]

    # A standing starts where its row does and wherever an estimate recorded later joins.
    late = (pair_recorded > row_from[pair_row]) & (pair_recorded < row_to[pair_row])
    standing_keys = np.unique(
        np.r_[
            np.arange(len(rows)) * _SPAN + (row_from - _DAY_MIN),
            pair_row[late] * _SPAN + (pair_recorded[late] - _DAY_MIN),
        ]
    )
    standing_row = standing_keys // _SPAN
    valid_from = standing_keys % _SPAN + _DAY_MIN
    same_row_next = np.r_[standing_row[1:] == standing_row[:-1], False]
    valid_to = np.where(same_row_next, np.r_[valid_from[1:], 0], row_to[standing_row])

    # An estimate belongs to its row's standings from the one it was recorded by onwards.
    joins = np.maximum(pair_recorded, row_from[pair_row])
    from_standing = np.searchsorted(
        standing_keys, pair_row * _SPAN + (joins - _DAY_MIN), side="left"
    )
    to_standing = np.searchsorted(standing_keys, (pair_row + 1) * _SPAN, side="left")
    pair, member_standing = _ragged(from_standing, np.maximum(to_standing - from_standing, 0))
    member_estimate = pair_estimate[pair]
    by_standing = np.lexsort((member_estimate, member_standing))
    member_standing, member_estimate = member_standing[by_standing], member_estimate[by_standing]

    # A standing without an estimate scores nothing: drop it and number the rest densely.
    scored = np.bincount(member_standing, minlength=len(standing_keys)) > 0
    renumber = np.cumsum(scored) - 1
    return Standings(
        resolution=rows[standing_row[scored]],
        valid_from=valid_from[scored],
        valid_to=valid_to[scored],
        member_standing=renumber[member_standing],
        member_estimate=order[member_estimate],
    )


def _ragged(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    """For slices [start, start + count): each element's slice number and position."""
    owner = np.repeat(np.arange(len(counts)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.repeat(starts, counts) + offsets
