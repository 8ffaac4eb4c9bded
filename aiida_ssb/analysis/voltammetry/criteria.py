"""The threshold and derivative onset criteria of the literature, for comparison with the two-line method: the
first potential at which the current (or its derivative) exceeds a level."""

from __future__ import annotations

from typing import Any

import numpy as np

from aiida_ssb.analysis.voltammetry.lines import LineFit
from aiida_ssb.analysis.voltammetry.onsets import SweepData, background_line
from aiida_ssb.analysis.voltammetry.results import Onset
from aiida_ssb.analysis.voltammetry.settings import OnsetSettings

__all__ = ['derivative_onset', 'threshold_onset']


def _first_run(above: np.ndarray, k: int, start: int = 0, from_below: bool = True) -> int | None:
    """First index ``i >= start`` with ``above[i:i+k]`` all True. With ``from_below`` the run must
    also follow a False (``above[i-1]``: the level is crossed, not already exceeded at ``i``)."""
    n = above.size
    if n < k:
        return None
    # counts[i] = number of True in above[i:i+k]
    counts = np.convolve(above.astype(np.int64), np.ones(k, dtype=np.int64), mode='valid')
    full = counts == k
    if from_below:
        candidates = np.flatnonzero(full[1:] & ~above[: n - k]) + 1
    else:
        candidates = np.flatnonzero(full)
    candidates = candidates[candidates >= max(start, 1 if from_below else 0)]
    return int(candidates[0]) if candidates.size else None


def _crossing(x: np.ndarray, values: np.ndarray, level: float, index: int) -> float:
    x0, x1 = x[index - 1], x[index]
    v0, v1 = values[index - 1], values[index]
    if v1 == v0:
        return float(x1)
    return float(x0 + (level - v0) * (x1 - x0) / (v1 - v0))


def threshold_onset(data: SweepData, settings: OnsetSettings, threshold: float) -> tuple[list[Onset], str]:
    """The first potential at which the current (background-subtracted when asked) exceeds ``threshold`` (mA) for
    ``k_consecutive`` points after having been below it."""
    y = data.y.copy()
    details: dict[str, Any] = {
        'threshold_ma': threshold,
        'threshold_ma_cm2': settings.threshold_ma_cm2,
        'k_consecutive': settings.k_consecutive,
        'background_subtracted': settings.subtract_background,
        'interpolated': settings.interpolate,
    }
    background = None
    if settings.subtract_background:
        bg = background_line(data, settings)
        if bg is None:
            return [], 'no background line could be fitted for the subtraction'
        y = y - bg.y(data.x)
        background = data.to_real(bg)
    valid = data.weight > 0
    x = data.x[valid]
    y = y[valid]
    level = threshold
    index = _first_run(y > level, settings.k_consecutive)
    if index is None:
        if y[0] > level:
            return [], (
                f'no onset within the window: the current is above the threshold ({level:g} mA) from the start of '
                'the sweep and never crosses it from below'
            )
        return [], (
            f'no onset within the window: the current never exceeds {level:g} mA for '
            f'{settings.k_consecutive} consecutive points'
        )
    x_on = _crossing(x, y, level, index) if settings.interpolate else float(x[index])
    details['first_point_above_v'] = float(data.sign * x[index])
    return [_single_onset('threshold', data, settings, x_on, background, details)], 'onset found'


def _single_onset(
    method: str,
    data: SweepData,
    settings: OnsetSettings,
    x_on: float,
    background: LineFit | None,
    details: dict[str, Any],
) -> Onset:
    """The one onset of a threshold or derivative search, at ``x_on`` (in the sweep's signed potential); it is the
    headline of its sweep."""
    measured = data.measured_current(x_on)
    return Onset(
        method=method,
        direction=data.sweep.direction,
        sweep_index=data.sweep.sweep_index,
        cycle_index=data.sweep.cycle_index,
        order=1,
        onset_v=float(data.sign * x_on),
        current_at_onset_ma=measured,
        measured_current_at_onset_ma=measured,
        current_density_at_onset_ma_cm2=None if data.area_cm2 is None else measured / data.area_cm2,
        background=background,
        headline=True,
        details=details,
    )


def _local_slopes(x: np.ndarray, y: np.ndarray, weight: np.ndarray, half: int) -> np.ndarray:
    """Least-squares slope dy/dx over the rows [i-half, i+half] (clipped at the ends) for every i."""
    n = x.size
    x0 = x.mean()
    w = weight.astype(float)
    xc = x - x0
    prefix = [np.concatenate(([0.0], np.cumsum(values))) for values in (w, w * xc, w * y, w * xc * xc, w * xc * y)]
    index = np.arange(n)
    low = np.clip(index - half, 0, n - 1)
    high = np.clip(index + half, 0, n - 1)
    s0, sx, sy, sxx, sxy = (p[high + 1] - p[low] for p in prefix)
    with np.errstate(divide='ignore', invalid='ignore'):
        slope = (sxy - sx * sy / s0) / (sxx - sx * sx / s0)
    return np.asarray(slope)


def derivative_onset(data: SweepData, settings: OnsetSettings) -> tuple[list[Onset], str]:
    """The first potential after the background window at which the local slope dI/dE exceeds the background's
    mean by ``k_sigma`` standard deviations for ``k_consecutive`` points."""
    spacing = float(np.median(np.abs(np.diff(data.x)))) if data.x.size > 1 else 0.0
    if spacing <= 0:
        return [], 'potential spacing is zero: no derivative'
    half = max(2, round(settings.derivative_window_v / spacing / 2))
    slopes = _local_slopes(data.x, data.y, data.weight, half)
    bg = background_line(data, settings)
    if bg is None:
        return [], 'no background window could be found for the derivative statistics'
    inside = slice(bg.start, bg.end + 1)
    bg_slopes = slopes[inside][np.isfinite(slopes[inside])]
    if bg_slopes.size < 3:
        return [], 'too few background points for the derivative statistics'
    mean = float(bg_slopes.mean())
    std = float(bg_slopes.std())
    floor = 1e-9 * float(np.nanmax(np.abs(slopes))) if np.isfinite(slopes).any() else 0.0
    std_used = max(std, floor, 1e-300)
    level = mean + settings.k_sigma * std_used
    finite = np.where(np.isfinite(slopes), slopes, -np.inf)
    index = _first_run(finite > level, settings.k_consecutive, start=bg.end + 1, from_below=False)
    details = {
        'derivative_window_v': settings.derivative_window_v,
        'derivative_window_points': 2 * half + 1,
        'k_sigma': settings.k_sigma,
        'k_consecutive': settings.k_consecutive,
        'background_derivative_mean_ma_v': mean,
        'background_derivative_std_ma_v': std,
        'derivative_level_ma_v': level,
    }
    background = data.to_real(bg)
    if index is None:
        return [], (
            f'no onset within the window: dI/dE never exceeds the background mean + {settings.k_sigma:g} sigma '
            'after the background window'
        )
    if not np.any(data.y[index:][data.weight[index:]] > 0):
        return [], (
            'no onset within the window: dI/dE rises, but the current never has the sign of the reaction '
            f'({"anodic" if data.sign > 0 else "cathodic"}) after it'
        )
    if settings.interpolate and index > 0 and np.isfinite(finite[index - 1]) and finite[index - 1] <= level:
        x_on = _crossing(data.x, finite, level, index)
    else:
        x_on = float(data.x[index])
    return [_single_onset('derivative', data, settings, x_on, background, details)], 'onset found'
