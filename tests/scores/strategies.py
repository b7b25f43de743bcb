"""What the pure scoring tests share: the float tolerance, Hypothesis settings and the
strategies that draw forecasts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st

EPS = float(np.finfo(np.float64).eps)


def exactly(expected: object) -> Any:
    """Equal up to floating-point rounding."""
    return pytest.approx(expected, abs=1e-12, rel=0)


PROPERTY = settings(max_examples=100, deadline=None)

# Exact 0 and 1, inner bin edges as typed (0.3 is below linspace's 0.30000000000000004)
# and as linspace computes them, and values a hair from the ends.
SPECIAL = [
    0.0,
    1.0,
    0.1,
    0.2,
    0.3,
    0.5,
    0.6,
    0.7,
    0.9,
    0.30000000000000004,
    0.6000000000000001,
    0.7000000000000001,
    EPS / 2,
    1.0 - EPS / 2,
    1.0 - EPS,
]
probability = st.one_of(st.sampled_from(SPECIAL), st.floats(0.0, 1.0))


@st.composite
def scored_forecasts(draw: st.DrawFn) -> tuple[list[float], list[int]]:
    """1..200 (probability, outcome) pairs; the probabilities spread over [0, 1], or
    confined to one to three of the ten bins (with their edges), or repeated from a
    small pool so that grouping by value matters."""
    kind = draw(st.sampled_from(["spread", "clustered", "few distinct"]))
    element = probability
    if kind == "clustered":
        bins = draw(st.lists(st.integers(0, 9), min_size=1, max_size=3, unique=True))
        element = st.one_of(
            *(st.floats(b / 10, (b + 1) / 10) for b in bins),
            st.sampled_from([b / 10 for b in bins] + [(b + 1) / 10 for b in bins]),
        )
    elif kind == "few distinct":
        element = st.sampled_from(draw(st.lists(probability, min_size=1, max_size=5)))
    pairs = draw(st.lists(st.tuples(element, st.sampled_from([0, 1])), min_size=1, max_size=200))
    return [p for p, _ in pairs], [o for _, o in pairs]
