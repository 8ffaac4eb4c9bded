"""Small signal helpers shared by the dQ/dV, GITT/PITT, polarisation, thermal and diffraction analyses.

Pure numpy/scipy. Every helper is deterministic and documented with the rule it applies, since the analyses
that use them state those rules in their docs pages.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.signal import savgol_filter

from aiida_ssb.exceptions import InsufficientDataError

__all__ = [
    'as_float_array',
    'flag',
    'odd_window',
    'parabolic_peak',
    'robust_noise',
    'runs',
    'smooth',
    'tangent_intersection',
]


def flag(name: str, reason: str, **extra: Any) -> dict[str, Any]:
    """One flag of a result: ``{'flag': name, 'reason': text, ...}`` (the form every analysis here uses)."""
    entry: dict[str, Any] = {'flag': name, 'reason': reason}
    entry.update({key: value for key, value in extra.items() if value is not None})
    return entry


def as_float_array(name: str, values: Any, n: int | None = None) -> np.ndarray:
    """``values`` as a 1-D float64 array (of length ``n`` when given); a ValueError naming ``name`` otherwise."""

    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise InsufficientDataError(f'{name}: expected a one-dimensional array, got shape {array.shape}')
    if n is not None and array.size != n:
        raise InsufficientDataError(f'{name}: expected {n} values, got {array.size}')
    return array


def odd_window(width: float, step: float, minimum: int, maximum: int | None = None) -> int:
    """The number of points (odd, at least ``minimum``, at most ``maximum`` when given) spanning ``width`` on a
    grid of spacing ``step``."""
    points = max(round(width / step), minimum)
    if points % 2 == 0:
        points += 1
    if maximum is not None and points > maximum:
        points = maximum if maximum % 2 else maximum - 1
    return max(points, 1)


def smooth(values: np.ndarray, window: int, polyorder: int, deriv: int = 0, delta: float = 1.0) -> np.ndarray:
    """Savitzky-Golay filter that degrades gracefully: with fewer points than the window, the window shrinks
    to the largest odd number of points available (and the order with it); a single point is returned as is."""
    n = values.size
    if n < 3:
        return np.asarray(np.gradient(values, delta) if deriv and n > 1 else values.astype(float).copy())
    window = min(window, n if n % 2 else n - 1)
    order = min(polyorder, window - 1)
    if deriv > order:
        order = min(deriv, window - 1)
    return np.asarray(savgol_filter(values, window, order, deriv=deriv, delta=delta, mode='interp'))


def robust_noise(values: np.ndarray) -> float:
    """Standard deviation of white noise estimated from the first differences (median absolute deviation,
    scaled for a normal distribution and the difference's doubling of the variance)."""
    if values.size < 3:
        return 0.0
    diff = np.diff(values)
    mad = float(np.median(np.abs(diff - np.median(diff))))
    return 1.4826 * mad / math.sqrt(2.0)


def parabolic_peak(x: np.ndarray, y: np.ndarray, index: int) -> tuple[float, float]:
    """Position and height of the vertex of the parabola through the three points around ``index`` (the
    point itself at an edge or when the points are not a maximum)."""
    if index <= 0 or index >= y.size - 1:
        return float(x[index]), float(y[index])
    y0, y1, y2 = y[index - 1], y[index], y[index + 1]
    denominator = y0 - 2.0 * y1 + y2
    if denominator >= 0:
        return float(x[index]), float(y1)
    shift = 0.5 * (y0 - y2) / denominator
    shift = max(-1.0, min(1.0, shift))
    step = 0.5 * (x[index + 1] - x[index - 1])
    return float(x[index] + shift * step), float(y1 - 0.25 * (y0 - y2) * shift)


def tangent_intersection(slope_a: float, intercept_a: float, slope_b: float, intercept_b: float) -> float | None:
    """x where two lines ``y = slope * x + intercept`` cross; None when (nearly) parallel."""
    difference = slope_a - slope_b
    if abs(difference) < 1e-300 or not math.isfinite(difference):
        return None
    x = (intercept_b - intercept_a) / difference
    return float(x) if math.isfinite(x) else None


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) indices of the runs of True in a boolean array."""
    if mask.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    edges = np.diff(mask.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
