"""Input checks shared by the scoring maths: array-likes in, 1-D float64 or int64 arrays out.

Each check raises ``ValueError`` naming the problem and, for a bad value, the first
offending index and value, as the conventions in :mod:`forecasts.scores.maths` promise.
Pure: numpy only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _as_1d_array(name: str, values: npt.ArrayLike, kinds: str) -> npt.NDArray[np.generic]:
    """Convert to a non-empty 1-D numpy array whose dtype kind is one of ``kinds``."""
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError) as exc:  # ragged nested sequences, for instance
        raise ValueError(f"{name} could not be read as a 1-D array: {exc}") from exc
    if raw.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {raw.shape}")
    if raw.size == 0:
        raise ValueError(f"{name} is empty")
    if raw.dtype.kind == "O":
        for i, item in enumerate(raw):
            if isinstance(item, str | bytes) or item is None:
                raise ValueError(f"{name}[{i}] = {item!r} is not a number")
        try:
            raw = raw.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} contains a value that is not a number: {exc}") from exc
    if raw.dtype.kind not in kinds:
        raise ValueError(f"{name} must hold numbers, got dtype {raw.dtype}")
    return raw


def _as_floats(name: str, values: npt.ArrayLike) -> FloatArray:
    arr = _as_1d_array(name, values, kinds="biuf").astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] = {arr[i]} is not a finite number")
    return arr


def as_probabilities(name: str, values: npt.ArrayLike) -> FloatArray:
    arr = _as_floats(name, values)
    bad = np.flatnonzero((arr < 0.0) | (arr > 1.0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] = {arr[i]} is outside [0, 1]")
    return arr


def as_outcomes(name: str, values: npt.ArrayLike) -> FloatArray:
    arr = _as_1d_array(name, values, kinds="biuf").astype(np.float64)
    bad = np.flatnonzero((arr != 0.0) & (arr != 1.0))  # NaN fails both tests too
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] = {arr[i]} is not 0 or 1")
    return arr


def as_ints(name: str, values: npt.ArrayLike) -> IntArray:
    arr = _as_1d_array(name, values, kinds="iu")
    return arr.astype(np.int64)


def same_length(**arrays: npt.NDArray[np.generic]) -> None:
    lengths = {name: len(arr) for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"length mismatch: {described}")


def validate(
    probabilities: npt.ArrayLike, outcomes: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """The checks every (probabilities, outcomes) function shares; float64 arrays out."""
    p = as_probabilities("probabilities", probabilities)
    o = as_outcomes("outcomes", outcomes)
    same_length(probabilities=p, outcomes=o)
    return p, o


def as_outcome(value: float) -> float:
    if isinstance(value, bool | int | float | np.integer | np.floating) and value in (0, 1):
        return float(value)
    raise ValueError(f"outcome = {value!r} is not 0 or 1")
