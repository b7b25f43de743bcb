"""Tests for forecasts.scores.grouped: every group's row equals the single-group functions
of forecasts.scores.maths."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts.scores.grouped import grouped_scores
from forecasts.scores.maths import (
    BASE_RATE,
    COIN_FLIP,
    brier_score,
    brier_skill_score,
    calibration_bins,
    log_loss,
    murphy_decomposition,
)
from tests.scores.strategies import exactly, scored_forecasts


@st.composite
def grouped_forecasts(draw: st.DrawFn) -> tuple[list[int], list[float], list[int]]:
    probabilities, outcomes = draw(scored_forecasts())
    groups = draw(st.lists(st.integers(0, 6), min_size=len(outcomes), max_size=len(outcomes)))
    return groups, probabilities, outcomes


@settings(max_examples=100, deadline=None)
@given(grouped_forecasts())
def test_grouped_scores_equal_the_single_group_functions(
    case: tuple[list[int], list[float], list[int]],
) -> None:
    groups, probabilities, outcomes = case
    result = grouped_scores(groups, probabilities, outcomes, n_groups=8)
    for group in range(8):
        members = [i for i, g in enumerate(groups) if g == group]
        assert result.count[group] == len(members)
        if not members:
            assert math.isnan(result.brier[group])
            continue
        p = [probabilities[i] for i in members]
        o = [outcomes[i] for i in members]
        assert result.happened[group] == sum(o)
        assert result.brier[group] == exactly(brier_score(p, o))
        assert result.log_loss[group] == exactly(log_loss(p, o))
        assert result.skill_vs_coin[group] == exactly(brier_skill_score(p, o, COIN_FLIP))
        if len(set(o)) == 1:
            assert math.isnan(result.skill_vs_base_rate[group])
        else:
            assert result.skill_vs_base_rate[group] == exactly(brier_skill_score(p, o, BASE_RATE))
        murphy = murphy_decomposition(p, o)
        grouped = result.murphy(group)
        assert grouped.reliability == exactly(murphy.reliability)
        assert grouped.resolution == exactly(murphy.resolution)
        assert grouped.uncertainty == exactly(murphy.uncertainty)
        assert grouped.reliability - grouped.resolution + grouped.uncertainty == exactly(
            brier_score(p, o)
        )
        assert [b.to_dict() for b in result.calibration(group)] == [
            pytest.approx(b.to_dict(), abs=1e-12) for b in calibration_bins(p, o)
        ]


def test_grouped_scores_reject_bad_groups() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        grouped_scores([0, -1], [0.5, 0.5], [0, 1])
    with pytest.raises(ValueError, match="too small for group 3"):
        grouped_scores([0, 3], [0.5, 0.5], [0, 1], n_groups=2)
    with pytest.raises(ValueError, match=r"same length|mismatch|length"):
        grouped_scores([0], [0.5, 0.5], [0, 1])
    with pytest.raises(ValueError, match="outside"):
        grouped_scores([0, 0], [0.5, 1.5], [0, 1])
