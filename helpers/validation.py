"""Argument checks shared by every module: one error style for the whole package.

A message names the argument, says what was given and what is allowed, so a learner can fix
the call without reading the source. Each check returns the cleaned value.
"""

from __future__ import annotations

import math

import numpy as np


def check_int(name: str, value, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]``; bools are refused (``True`` is no count).

    Use it for every size argument (``chunk``, ``k``, ``n_runs``...): a zero or negative chunk
    would otherwise leave an output array uninitialised instead of failing.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return int(value)


def check_choice(name: str, value, allowed) -> object:
    """``value`` if it is one of ``allowed``; otherwise a ``ValueError`` listing the choices."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_positive(name: str, value, *, allow_zero: bool = False, upper: float | None = None) -> float:
    """``value`` as a finite ``float`` above zero (or at least zero), and at most ``upper``."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {bound} number, got {value}")
    if upper is not None and value > upper:
        raise ValueError(f"{name} must be at most {upper}, got {value}")
    return value


def check_finite_array(name: str, values, *, dtype=float, ndim: int | None = None) -> np.ndarray:
    """``values`` as an array of ``dtype`` whose entries are all finite (no NaN, no infinity).

    ``ndim``, when given, is the number of dimensions required. A value too large for ``dtype``
    counts as not finite, so an overflow is reported here rather than deep inside a learner.
    """
    try:
        with np.errstate(over="raise", invalid="raise"):
            array = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError, FloatingPointError):
        raise TypeError(f"{name} must be an array of numbers, got {type(values).__name__}") from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = int(np.size(array) - np.isfinite(array).sum())
        raise ValueError(f"{name} must be finite: {bad} of {array.size} values are NaN or infinite; "
                         "check the scale of the inputs (standardise contexts, bound rewards)")
    return array


def check_no_missing(name: str, values, fix: str = "drop or fill those rows first") -> None:
    """Raise unless ``values`` (array, Series, Index) holds no missing value (NaN, NaT, None, NA).

    The message counts the missing values and names the first one's position: a missing time
    must never be compared as if it were a time (NaT sorts after every date, so it would see the
    future).
    """
    import pandas as pd

    missing = pd.isna(pd.Series(np.asarray(values, dtype=object) if not hasattr(values, "dtype") else values))
    missing = np.asarray(missing, dtype=bool)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(f"{name} has {int(missing.sum())} missing value(s) of {missing.size} "
                         f"(first at position {first}); {fix}")


def overflow_error(name: str, values) -> ValueError:
    """The error for finite inputs so large that a learner's statistics would overflow float64.

    Every learner raises it (after :func:`check_finite_array` let the inputs pass) before its state changes, so a badly scaled context or reward is a clear error at
    ``update`` instead of NaN statistics or an ``IndexError`` later.
    """
    largest = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return ValueError(f"{name} would overflow the learner's statistics: values up to {largest:.3g} in absolute "
                      f"value, while its sums and products must stay below {np.finfo(float).max:.3g}; rescale "
                      f"{name} (standardise contexts to mean 0 and standard deviation 1, bound rewards, "
                      "e.g. to [0, 1])")
