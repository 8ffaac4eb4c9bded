"""Electrochemical stability onsets from linear-sweep and cyclic voltammetry.

Pure numpy (no AiiDA, no scipy, no pandas). The methods follow the seed papers:

* **two-line method** (Asakura et al., *ACS Appl. Energy Mater.* 2019, thesis chapter 4): a straight
  line ``i = a + b E`` is fitted to the non-faradaic background current and one to the rising faradaic
  current, each with ``R^2 > r2_min`` (0.99); the onset is their intersection
  ``E_onset = (a_bg - a_F) / (b_F - b_bg)``. Windows are given by the user or found automatically
  (:func:`find_onsets`, see the module documentation page for the search rules); several onsets per
  sweep are found in order.
* **threshold method**: the first potential at which the (optionally background-subtracted) current or
  current density exceeds a threshold for ``k_consecutive`` points. Shown for comparison: its result
  depends on the threshold, the area and the scan rate.
* **derivative method**: the first potential at which the smoothed ``dI/dE`` exceeds the background's
  mean by ``k_sigma`` times its standard deviation.
* **stepwise CV** (seed 000, thesis chapter 5): per upper cut-off, the anodic charge, the cathodic
  charge on the reverse scan, the passivation ratios and the cut-off at which the anodic charge soars
  (:func:`analyse_stepwise_cv`).
* **validity rules** of the working electrode (thesis chapter 4): carbon volume fraction within 0.2-0.8,
  carbon surface area > 200 cm2, scan rate <= 20 uV/s (:func:`check_working_electrode`).

Sign convention (as in :mod:`aiida_ssb.parsers.base`): ``current_ma`` is positive for oxidation at the
working electrode. Anodic sweeps (increasing potential) give oxidative onsets, cathodic sweeps
(decreasing potential) give reductive onsets; cathodic sweeps are analysed in a mirrored frame
(``-E``, ``-I``) so that one search serves both, and every result is reported in the real frame.

Bad input raises :class:`VoltammetryError` (a ``ValueError``) naming the argument and the problem; a
sweep without an onset gives a result saying so, never a number.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import AnalysisError

__all__ = [
    'ANODIC',
    'CARBON_SURFACE_AREA_MIN_CM2',
    'CARBON_VOLUME_FRACTION_RANGE',
    'CATHODIC',
    'METHODS',
    'SCAN_RATE_MAX_MV_S',
    'Flag',
    'LineFit',
    'Onset',
    'OnsetAnalysis',
    'OnsetSettings',
    'StepwiseCvResult',
    'StepwiseCvSettings',
    'StepwiseStep',
    'Sweep',
    'SweepResult',
    'VoltammetryError',
    'WorkingElectrode',
    'analyse_stepwise_cv',
    'carbon_surface_area_cm2',
    'carbon_volume_fraction',
    'check_working_electrode',
    'estimate_noise_ma',
    'find_onsets',
    'find_onsets_in_measurement',
    'segment_sweeps',
]

ANODIC = 'anodic'
CATHODIC = 'cathodic'
METHODS = ('two_line', 'threshold', 'derivative')
_KIND = {ANODIC: 'oxidative', CATHODIC: 'reductive'}

#: Thesis chapter 4 validity limits (Asakura et al. 2019).
CARBON_VOLUME_FRACTION_RANGE = (0.2, 0.8)
CARBON_SURFACE_AREA_MIN_CM2 = 200.0
SCAN_RATE_MAX_MV_S = 0.020  # 20 uV/s

MIN_POINTS_TOTAL = 10


class VoltammetryError(AnalysisError):
    """Input that cannot be analysed (too few points, non-finite values, wrong shapes, a potential
    that does not sweep). The message names the argument and what is wrong."""


Window = tuple[float, float]


class OnsetSettings(Settings):
    """Settings of the onset analysis (:func:`find_onsets`). The electrode area (current density) is an input
    (from the cell), the scan rate from the measurement conditions (else estimated from the data)."""

    method: Literal['two_line', 'threshold', 'derivative'] = Field('two_line', description='onset method')
    direction: Literal['anodic', 'cathodic', 'both'] = Field('both', description='which sweeps to analyse')
    cycles: tuple[int, ...] | None = Field(None, description='only these cycle indices (default: all)')
    r2_min: float = Field(0.99, gt=0, le=1, description='R2 each fitted line must reach (two-line method)')
    window_v: Window | None = Field(None, description='analyse only this potential range')
    background_window_v: Window | None = Field(None, description='background fit window (automatic when absent)')
    rise_window_v: Window | None = Field(None, description='faradaic rise fit window (automatic when absent)')
    max_onsets: int | None = Field(None, gt=0, description='stop after this many onsets per sweep')
    threshold_ma: float | None = Field(None, gt=0, description='threshold method: current threshold')
    threshold_ma_cm2: float | None = Field(None, gt=0, description='threshold method: current-density threshold')
    k_consecutive: int = Field(3, gt=0, description='threshold method: points in a row above the threshold')
    subtract_background: bool = Field(False, description='threshold method: subtract a fitted background first')
    derivative_window_v: float = Field(0.05, gt=0, description='derivative method: smoothing window')
    k_sigma: float = Field(5.0, gt=0, description='derivative method: dI/dE above k x the background sigma')
    despike: bool = Field(True, description='ignore isolated single-point spikes')


class StepwiseCvSettings(Settings):
    """Settings of the stepwise CV analysis (:func:`analyse_stepwise_cv`: a CV whose upper cut-off is raised
    step by step, seed 000)."""

    soar_factor: float = Field(
        3.0,
        gt=1,
        description='charge per volt of newly opened range, relative to the median of the previous steps, above '
        'which the current "soars"',
    )
    reference_steps: int = Field(3, ge=1, description='how many previous steps form that reference')
    confirm_steps: int = Field(1, ge=0, description='how many following steps must confirm the soaring')
    min_steps: int = Field(3, ge=2, description='a record is treated as stepwise from this many rising cut-offs')


# ====================================================================================== input checks
def _as_1d(name: str, values: Any, length: int | None = None) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise VoltammetryError(f'{name}: not numeric ({error})') from None
    if array.ndim != 1:
        raise VoltammetryError(f'{name}: expected a one-dimensional array, got shape {array.shape}')
    if length is not None and array.shape[0] != length:
        raise VoltammetryError(f'{name}: length {array.shape[0]} differs from potential_v length {length}')
    bad = ~np.isfinite(array)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise VoltammetryError(f'{name}: {int(bad.sum())} non-finite value(s) (NaN/inf), first at index {first}')
    return array


def _check_inputs(potential_v, current_ma=None, time_s=None, cycle_index=None):
    potential = _as_1d('potential_v', potential_v)
    n = potential.shape[0]
    if n < MIN_POINTS_TOTAL:
        raise VoltammetryError(f'potential_v: too few points ({n} < {MIN_POINTS_TOTAL})')
    current = None if current_ma is None else _as_1d('current_ma', current_ma, n)
    time = None if time_s is None else _as_1d('time_s', time_s, n)
    cycles = None if cycle_index is None else _as_1d('cycle_index', cycle_index, n)
    if time is not None and np.any(np.diff(time) < 0):
        first = int(np.flatnonzero(np.diff(time) < 0)[0]) + 1
        raise VoltammetryError(f'time_s: decreases at index {first}')
    return potential, current, time, cycles


def _positive_or_none(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise VoltammetryError(f'{name}: not a number: {value!r}') from None
    if not math.isfinite(value) or value <= 0:
        raise VoltammetryError(f'{name}: must be a positive finite number, got {value}')
    return value


def _clean(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Drop None values and turn numpy scalars into Python ones (JSON-ready)."""
    result = {}
    for key, value in mapping.items():
        if value is None:
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            continue
        if isinstance(value, tuple):
            value = list(value)
        result[key] = value
    return result


# ====================================================================================== sweeps
@dataclasses.dataclass(frozen=True)
class Sweep:
    """One monotonic sweep of a voltammetry record.

    :param sweep_index: position of the sweep in the record (0-based, after dropping edge transients).
    :param direction: ``'anodic'`` (potential increasing) or ``'cathodic'`` (decreasing).
    :param cycle_index: the instrument's cycle counter (most frequent value in the sweep) or, without
        one, ``1 +`` the number of earlier sweeps of the same direction.
    :param start: first row of the sweep in the record.
    :param stop: one past the last row (the turning point is the last row of a sweep and the first of
        the next one).
    :param potential_start_v: potential at ``start``.
    :param potential_end_v: potential at the turning point ending the sweep.
    :param scan_rate_mv_s: ``|dE/dt|`` from a straight-line fit of potential against time (absent
        without time).
    """

    sweep_index: int
    direction: str
    cycle_index: int
    start: int
    stop: int
    potential_start_v: float
    potential_end_v: float
    scan_rate_mv_s: float | None = None

    @property
    def n_points(self) -> int:
        return self.stop - self.start

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                'sweep_index': self.sweep_index,
                'direction': self.direction,
                'cycle_index': self.cycle_index,
                'start_row': self.start,
                'n_points': self.n_points,
                'potential_start_v': self.potential_start_v,
                'potential_end_v': self.potential_end_v,
                'scan_rate_mv_s': self.scan_rate_mv_s,
            }
        )


def _robust_sigma(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _turning_points(potential: np.ndarray, tolerance_v: float) -> list[int]:
    """Row indices of the turning points (zig-zag filter with hysteresis ``tolerance_v``), including
    the first and the last row. Raises when the potential never moves by ``tolerance_v``."""
    n = potential.size
    step_sign = np.sign(np.diff(potential))
    moving = np.flatnonzero(step_sign)
    if moving.size == 0:
        raise VoltammetryError('potential_v: does not vary (all values equal)')
    signs = step_sign[moving]
    change = np.flatnonzero(signs[1:] != signs[:-1])
    candidates = np.concatenate(([0], moving[change] + 1, [n - 1]))
    values = potential[candidates]
    trend = 0
    low = high = 0
    extreme = 0
    pivots: list[int] = []
    for k in range(1, candidates.size):
        value = values[k]
        if trend == 0:
            if value > values[high]:
                high = k
            if value < values[low]:
                low = k
            if values[high] - values[low] >= tolerance_v:
                trend, extreme = (1, high) if high > low else (-1, low)
        elif trend == 1:
            if value >= values[extreme]:
                extreme = k
            elif values[extreme] - value >= tolerance_v:
                pivots.append(int(candidates[extreme]))
                trend, extreme = -1, k
        elif value <= values[extreme]:
            extreme = k
        elif value - values[extreme] >= tolerance_v:
            pivots.append(int(candidates[extreme]))
            trend, extreme = 1, k
    if trend == 0:
        raise VoltammetryError(
            f'potential_v: does not vary by more than the reversal tolerance ({np.ptp(potential):.4g} V range, '
            f'tolerance {tolerance_v:.4g} V): not a voltammetric sweep'
        )
    return [0, *pivots, n - 1]


def _scan_rate_mv_s(potential: np.ndarray, time: np.ndarray) -> float | None:
    if time is None or potential.size < 3:
        return None
    t = time - time.mean()
    denominator = float(np.dot(t, t))
    if denominator <= 0:
        return None
    slope = float(np.dot(t, potential - potential.mean())) / denominator
    return abs(slope) * 1000.0


def segment_sweeps(
    potential_v: Any,
    *,
    time_s: Any = None,
    cycle_index: Any = None,
    reversal_tolerance_v: float | None = None,
    min_sweep_points: int = 5,
) -> list[Sweep]:
    """Split a voltammetry record into monotonic sweeps.

    A turning point is confirmed only when the potential has moved back by ``reversal_tolerance_v``
    from the last extreme (hysteresis), so noise and small reversals do not split a sweep. Sweeps of
    fewer than ``min_sweep_points`` rows at the start or end of the record (e.g. the first point of an
    EC-Lab LSV, recorded before the sweep starts) are dropped; short sweeps inside the record are
    dropped too, and their same-direction neighbours merged, as long as they are rare.

    :param potential_v: working-electrode potential, V.
    :param time_s: time, s (optional): gives each sweep's scan rate.
    :param cycle_index: the instrument's cycle counter (optional).
    :param reversal_tolerance_v: hysteresis of the turning-point detection. Default:
        ``max(0.02 V, 10 x`` the point-to-point potential noise``)``.
    :param min_sweep_points: the fewest rows a sweep may have.
    :raises VoltammetryError: too few points, non-finite values, wrong shapes, a potential that does
        not vary, or a potential that reverses so often that it is not a sweep (garbage).
    """
    potential, _, time, cycles = _check_inputs(potential_v, None, time_s, cycle_index)
    return _segment(potential, time, cycles, reversal_tolerance_v, min_sweep_points)


def _segment(potential, time, cycles, reversal_tolerance_v, min_sweep_points) -> list[Sweep]:
    n = potential.size
    if min_sweep_points < 2:
        raise VoltammetryError(f'min_sweep_points: must be >= 2, got {min_sweep_points}')
    if reversal_tolerance_v is None:
        noise = _robust_sigma(np.diff(potential, 2)) / math.sqrt(6.0)
        tolerance = max(0.02, 10.0 * noise)
    else:
        tolerance = _positive_or_none('reversal_tolerance_v', reversal_tolerance_v)
    bounds = _turning_points(potential, tolerance)
    raw = [(bounds[k], bounds[k + 1] + 1) for k in range(len(bounds) - 1)]
    lengths = np.array([stop - start for start, stop in raw])
    short = lengths < min_sweep_points
    interior_short = short.copy()
    interior_short[0] = interior_short[-1] = False
    # leading/trailing short runs are edge transients; inside the record they must be rare
    if len(raw) > 2 and interior_short.any():
        points_short = int(lengths[interior_short].sum())
        if interior_short.sum() > max(2, 0.1 * len(raw)) or points_short > 0.05 * n:
            raise VoltammetryError(
                f'potential_v: not a voltammetric sweep: it reverses direction {len(raw) - 1} times by more than '
                f'{tolerance:.3g} V in {n} points ({int(interior_short.sum())} sweeps shorter than '
                f'{min_sweep_points} points)'
            )
    kept = [(start, stop) for (start, stop), is_short in zip(raw, short) if not is_short]
    if not kept:
        raise VoltammetryError(f'potential_v: no sweep with at least {min_sweep_points} points')
    # raw sweeps alternate in direction, so two kept neighbours of the same direction had only dropped
    # glitches between them: merge them (the glitch rows join the sweep)
    merged: list[list[int]] = []
    for start, stop in kept:
        direction = 1 if potential[stop - 1] > potential[start] else -1
        if merged and merged[-1][2] == direction:
            merged[-1][1] = stop
        else:
            merged.append([start, stop, direction])
    sweeps = []
    counts = {ANODIC: 0, CATHODIC: 0}
    for index, (start, stop, sign) in enumerate(merged):
        direction = ANODIC if sign > 0 else CATHODIC
        counts[direction] += 1
        if cycles is not None:
            values = np.rint(cycles[start:stop]).astype(np.int64)
            uniques, frequency = np.unique(values, return_counts=True)
            cycle = int(uniques[np.argmax(frequency)])
        else:
            cycle = counts[direction]
        rate = None if time is None else _scan_rate_mv_s(potential[start:stop], time[start:stop])
        sweeps.append(
            Sweep(
                sweep_index=index,
                direction=direction,
                cycle_index=cycle,
                start=int(start),
                stop=int(stop),
                potential_start_v=float(potential[start]),
                potential_end_v=float(potential[stop - 1]),
                scan_rate_mv_s=rate,
            )
        )
    return sweeps


# ====================================================================================== line fits
@dataclasses.dataclass(frozen=True)
class LineFit:
    """A straight line ``current_ma = intercept_ma + slope_ma_v * potential_v`` fitted to a window.

    :param v_min: lower potential bound of the window.
    :param v_max: upper potential bound of the window.
    :param r2: coefficient of determination (absent when the current is constant).
    :param rms_ma: root-mean-square residual.
    :param curvature_f: F statistic of a quadratic term added to the line (1 and n-3 degrees of
        freedom): large when the window is curved.
    :param criterion: which acceptance rule the window meets: ``'r2'`` (``r2 >= r2_min``),
        ``'no_curvature'`` (R2 below the limit, as for a flat noisy background where R2 measures nothing,
        but no significant curvature: ``curvature_f <= curvature_f_max``) or ``'failed'`` (neither; only
        possible for windows given by the user).
    """

    v_min: float
    v_max: float
    intercept_ma: float
    slope_ma_v: float
    r2: float | None
    rms_ma: float
    n_points: int
    criterion: str
    curvature_f: float | None = None

    def current_ma(self, potential_v: Any) -> np.ndarray:
        return self.intercept_ma + self.slope_ma_v * np.asarray(potential_v, dtype=float)

    @property
    def ok(self) -> bool:
        return self.criterion != 'failed'

    def to_dict(self, prefix: str) -> dict[str, Any]:
        return _clean(
            {
                f'{prefix}_v_min': self.v_min,
                f'{prefix}_v_max': self.v_max,
                f'{prefix}_intercept_ma': self.intercept_ma,
                f'{prefix}_slope_ma_v': self.slope_ma_v,
                f'{prefix}_r2': self.r2,
                f'{prefix}_rms_ma': self.rms_ma,
                f'{prefix}_n_points': self.n_points,
                f'{prefix}_curvature_f': self.curvature_f,
                f'{prefix}_fit_criterion': self.criterion,
            }
        )


@dataclasses.dataclass(frozen=True)
class _Window:
    """A fitted window in the oriented frame (x increasing along the sweep, y rising for the reaction)."""

    start: int
    end: int  # inclusive
    a: float
    b: float
    r2: float | None
    rms: float
    n: int
    criterion: str
    x_start: float
    x_end: float
    curvature_f: float | None = None
    slope_se: float = 0.0  # standard error of the slope, oriented units

    def y(self, x):
        return self.a + self.b * x

    @property
    def span(self) -> float:
        return self.x_end - self.x_start


class _Fitter:
    """Straight-line fits over windows of one sweep (oriented frame) in O(1) per window from prefix
    sums, and the acceptance rule: a window is a line when ``R^2 >= r2_min`` or, where R2 measures
    nothing (flat, noisy), when a quadratic term does not explain a significant part of the residual
    (``curvature_f <= curvature_f_max``, an F statistic with 1 and n-3 degrees of freedom).

    Potential and current are scaled to [-1, 1] about the sweep's centre before summing; the rounding
    error of the central moments then stays below ~3 % for windows of >= 1/500 of the sweep, which is
    why ``min_points`` is raised to ``n // 500`` for very long sweeps."""

    def __init__(self, x, y, weight, *, r2_min, curvature_f_max, min_points):
        n = x.size
        valid = weight > 0
        self.x = x
        self.u0 = 0.5 * float(x.max() + x.min())
        self.us = 0.5 * float(np.ptp(x)) or 1.0
        self.v0 = 0.5 * float(y[valid].max() + y[valid].min())
        self.vs = 0.5 * float(np.ptp(y[valid])) or 1.0
        u = (x - self.u0) / self.us
        v = (y - self.v0) / self.vs
        w = weight.astype(float)
        wu = w * u
        wuu = wu * u
        columns = np.stack((w, wu, w * v, wuu, wu * v, w * v * v, wuu * u, wuu * u * u, wuu * v))
        self.prefix = np.zeros((columns.shape[0], n + 1))
        np.cumsum(columns, axis=1, out=self.prefix[:, 1:])
        self.r2_min = r2_min
        self.f_max = curvature_f_max
        self.min_points = max(int(min_points), n // 500)
        self.x_envelope = np.maximum.accumulate(x)
        starts = np.arange(max(n - self.min_points + 1, 0))
        self.min_ok = np.zeros(n, dtype=bool)
        self.min_ok[: starts.size] = self._accept(starts, starts + self.min_points - 1)

    def _stats(self, start, ends, curvature: bool = True):
        """Window statistics (normalised units) of the windows ``[start, e]`` for ``e`` in ``ends``:
        n, cuu, cvv, r2, curvature_f (None unless asked), slope, intercept, rss."""
        sums = self.prefix[:, np.asarray(ends) + 1] - self.prefix[:, np.atleast_1d(start)]
        n, su, sv, suu, suv, svv, s3, s4, suuv = sums
        old = np.seterr(divide='ignore', invalid='ignore')
        try:
            mean = su / n
            cuu = suu - su * mean
            cuv = suv - mean * sv
            cvv = svv - sv * sv / n
            slope = cuv / cuu
            rss = np.maximum(cvv - slope * cuv, 0.0)
            r2 = 1.0 - rss / cvv
            curvature_f = None
            if curvature:
                mean2 = mean * mean
                c3 = s3 - 3 * mean * suu + 3 * mean2 * su - n * mean2 * mean
                c4 = s4 - 4 * mean * s3 + 6 * mean2 * suu - 4 * mean2 * mean * su + n * mean2 * mean2
                c2v = suuv - 2 * mean * suv + mean2 * sv
                ratio = c3 / cuu
                qq = c4 - cuu * cuu / n - c3 * ratio
                qv = c2v - (cuu / n) * sv - ratio * cuv
                gain = np.minimum(np.where(qq > 0, qv * qv / qq, 0.0), rss)
                curvature_f = gain * (n - 3) / (rss - gain)
            intercept = (sv - slope * su) / n
        finally:
            np.seterr(**old)
        return n, cuu, cvv, r2, curvature_f, slope, intercept, rss

    def _accept(self, start, ends):
        """Acceptance of the windows ``[start, e]`` (``start`` and ``ends`` broadcast together)."""
        sums = self.prefix[:, np.asarray(ends) + 1] - self.prefix[:, np.atleast_1d(start)]
        n, su, sv, suu, suv, svv = sums[:6]
        with np.errstate(divide='ignore', invalid='ignore'):
            mean = su / n
            cuu = suu - su * mean
            cuv = suv - mean * sv
            cvv = svv - sv * sv / n
            rss = np.maximum(cvv - cuv * cuv / cuu, 0.0)
            good = (n >= 3) & (cuu > 0)
            by_r2 = (cvv > 0) & (rss <= (1.0 - self.r2_min) * cvv)
            accepted = good & by_r2
            need = good & ~by_r2 & (n >= 4)
            if not need.any():
                return accepted
            # the curvature test, only where R2 does not decide
            n, su, sv, suu, suv, s3, s4, suuv = (sums[k][need] for k in (0, 1, 2, 3, 4, 6, 7, 8))
            mean, cuu, cuv, rss = mean[need], cuu[need], cuv[need], rss[need]
            mean2 = mean * mean
            c3 = s3 - 3 * mean * suu + 3 * mean2 * su - n * mean2 * mean
            c4 = s4 - 4 * mean * s3 + 6 * mean2 * suu - 4 * mean2 * mean * su + n * mean2 * mean2
            c2v = suuv - 2 * mean * suv + mean2 * sv
            ratio = c3 / cuu
            qq = c4 - cuu * cuu / n - c3 * ratio
            qv = c2v - (cuu / n) * sv - ratio * cuv
            gain = np.minimum(np.where(qq > 0, qv * qv / qq, 0.0), rss)
            accepted[need] = gain * (n - 3) <= self.f_max * (rss - gain)
        return accepted

    def first_long(self, starts: np.ndarray, min_span: float, stop: int) -> int | None:
        """The first of ``starts`` whose accepted window reaches ``min_span`` (None if none does)."""
        starts = np.asarray(starts, dtype=np.int64)
        m = self.min_points
        reach = np.searchsorted(self.x_envelope, self.x[starts] + min_span)  # first row spanning min_span
        possible = (starts + m - 1 < stop) & (reach < stop)
        possible[possible] &= self.min_ok[starts[possible]]
        rows = np.flatnonzero(possible)
        if rows.size == 0:
            return None
        need = np.maximum(reach[rows], starts[rows] + m - 1)
        low = starts[rows] + m
        width = int((need - low).max()) + 1
        if width <= 0:
            return int(rows[0])
        columns = low[:, None] + np.arange(width)[None, :]
        relevant = columns <= need[:, None]
        good = self._accept(starts[rows][:, None], np.minimum(columns, stop - 1))
        reaches = ~(~good & relevant).any(axis=1)
        hits = np.flatnonzero(reaches)
        return int(rows[hits[0]]) if hits.size else None

    def grow(self, start: int, stop: int) -> int | None:
        """The largest ``end`` (< stop) such that every window ``[start, e]`` with at least
        ``min_points`` rows and ``e <= end`` is accepted; None if the shortest one is not."""
        first = start + self.min_points - 1
        if first >= stop or not self.min_ok[start]:
            return None
        chunk = 64
        low = first + 1
        while low < stop:
            high = min(low + chunk, stop)
            good = self._accept(start, np.arange(low, high))
            bad = np.flatnonzero(~good)
            if bad.size:
                return int(low + bad[0] - 1)
            low = high
            chunk *= 2
        return stop - 1

    def grow_many(self, starts: np.ndarray, stop: int) -> np.ndarray:
        """:meth:`grow` for several starts at once (-1 where the shortest window is not accepted)."""
        starts = np.asarray(starts, dtype=np.int64)
        m = self.min_points
        result = np.full(starts.size, -1, dtype=np.int64)
        possible = starts + m - 1 < stop
        possible[possible] &= self.min_ok[starts[possible]]
        active = np.flatnonzero(possible)
        low = starts + m  # next end to test per start
        width = 64
        while active.size:
            columns = low[active][:, None] + np.arange(width)[None, :]
            inside = columns < stop
            good = self._accept(starts[active][:, None], np.minimum(columns, stop - 1))
            failed = ~good & inside
            has_failure = failed.any(axis=1)
            first = np.argmax(failed, axis=1)
            rows = active[has_failure]
            result[rows] = low[rows] + first[has_failure] - 1
            reached = ~has_failure & ~inside[:, -1]
            result[active[reached]] = stop - 1
            keep = ~has_failure & inside[:, -1]
            low[active[keep]] += width
            active = active[keep]
            width *= 2
        return result

    def lines(self, starts: np.ndarray, ends: np.ndarray):
        """Slope, intercept (real units, oriented frame) and R2 of many windows at once."""
        _n, _cuu, cvv, r2, _, slope, intercept, _ = self._stats(np.asarray(starts), np.asarray(ends), curvature=False)
        b = slope * self.vs / self.us
        a = self.v0 + self.vs * intercept - b * self.u0
        return a, b, np.where(cvv > 0, r2, np.nan)

    def window(self, start: int, end: int, force: bool = False) -> _Window | None:
        n, cuu, cvv, r2, f, slope, intercept, rss = (float(value[0]) for value in self._stats(start, [end]))
        if n < 3 or not cuu > 0:
            return None
        r2_value = r2 if cvv > 0 and math.isfinite(r2) else None
        curvature = f if n >= 4 and math.isfinite(f) else None
        if r2_value is not None and r2_value >= self.r2_min:
            criterion = 'r2'
        elif curvature is not None and curvature <= self.f_max:
            criterion = 'no_curvature'
        else:
            criterion = 'failed'
            if not force:
                return None
        b = slope * self.vs / self.us
        a = self.v0 + self.vs * intercept - b * self.u0
        slope_se = math.sqrt(rss / max(n - 2, 1) / cuu) * self.vs / self.us
        return _Window(
            start=start,
            end=end,
            a=a,
            b=b,
            r2=r2_value,
            rms=math.sqrt(rss / n) * self.vs,
            n=round(n),
            criterion=criterion,
            x_start=float(self.x[start]),
            x_end=float(self.x[end]),
            curvature_f=curvature,
            slope_se=slope_se,
        )


# ====================================================================================== noise, spikes
def estimate_noise_ma(current_ma: Any) -> float:
    """Point-to-point noise of a current record, mA: a robust (MAD) standard deviation of the second
    differences divided by sqrt(6), so that linear trends and smooth curvature do not count as noise.
    Falls back to the root-mean-square second difference when more than half of them are equal
    (quantised currents)."""
    current = _as_1d('current_ma', current_ma)
    return _noise(current)


def _noise(y: np.ndarray) -> float:
    if y.size < 4:
        return 0.0
    second = np.diff(y, 2)
    sigma = _robust_sigma(second) / math.sqrt(6.0)
    if sigma <= 0:
        sigma = float(np.sqrt(np.mean(second**2) / 6.0))
    return sigma


def _sort_pairs(values: list[np.ndarray], pairs: Iterable[tuple[int, int]]) -> None:
    for i, j in pairs:
        low = np.minimum(values[i], values[j])
        values[j] = np.maximum(values[i], values[j])
        values[i] = low


def _spike_mask(y: np.ndarray, sigma: float, factor: float) -> np.ndarray:
    """True for isolated spikes: points further than ``factor`` x noise from the median of their
    five-point neighbourhood and more than 5 x further than their neighbours are (so that the top of a
    smooth peak is never a spike)."""
    n = y.size
    mask = np.zeros(n, dtype=bool)
    if n < 5:
        return mask
    columns = [y[k : n - 4 + k] for k in range(5)]
    ordered = list(columns)
    _sort_pairs(ordered, ((0, 1), (3, 4), (2, 4), (2, 3), (0, 3), (0, 2), (1, 4), (1, 3), (1, 2)))
    median = ordered[2]
    deviation = np.abs(columns[2] - median)
    neighbours = [np.abs(columns[k] - median) for k in (0, 1, 3, 4)]
    _sort_pairs(neighbours, ((0, 1), (2, 3), (0, 2), (1, 3), (1, 2)))
    spread = 0.5 * (neighbours[1] + neighbours[2])
    mask[2:-2] = (deviation > factor * max(sigma, 1e-300)) & (deviation > 5.0 * spread)
    return mask


# ====================================================================================== results
@dataclasses.dataclass(frozen=True)
class Flag:
    """One validity rule and its verdict.

    :param rule: short name, e.g. ``'carbon_volume_fraction'``.
    :param passed: True/False, or None when the rule could not be evaluated (inputs unknown).
    :param value: the value checked (absent when unknown).
    :param limit: the limit, as text (e.g. ``'0.2 <= x <= 0.8'``).
    :param reason: a sentence saying why, with the source of the rule.
    """

    rule: str
    passed: bool | None
    value: float | None
    limit: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return _clean(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class Onset:
    """One onset found in one sweep.

    :param method: ``'two_line'``, ``'threshold'`` or ``'derivative'``.
    :param direction: sweep direction, ``'anodic'`` or ``'cathodic'``.
    :param order: 1 for the first onset of the sweep, 2 for the next...
    :param onset_v: the onset potential, V.
    :param current_at_onset_ma: two-line: the common current of both lines at the onset; threshold and
        derivative: the measured current interpolated at the onset.
    :param measured_current_at_onset_ma: the measured current interpolated at the onset potential.
    :param background: two-line (and background-subtracted threshold/derivative): the background line.
    :param rise: two-line: the faradaic line.
    :param fit_ok: False when a line given by the user does not meet the acceptance rule.
    :param windows: ``'auto'`` or ``'given'``.
    :param details: method-specific numbers (threshold, k, derivative statistics...), flat and unit-named.
    """

    method: str
    direction: str
    sweep_index: int
    cycle_index: int
    order: int
    onset_v: float
    current_at_onset_ma: float
    measured_current_at_onset_ma: float | None
    current_density_at_onset_ma_cm2: float | None = None
    background: LineFit | None = None
    rise: LineFit | None = None
    fit_ok: bool = True
    windows: str = 'auto'
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``'oxidative'`` (anodic sweep) or ``'reductive'`` (cathodic sweep)."""
        return _KIND[self.direction]

    def to_dict(self) -> dict[str, Any]:
        result = {
            'method': self.method,
            'direction': self.direction,
            'kind': self.kind,
            'sweep_index': self.sweep_index,
            'cycle_index': self.cycle_index,
            'order': self.order,
            'onset_v': self.onset_v,
            'current_at_onset_ma': self.current_at_onset_ma,
            'measured_current_at_onset_ma': self.measured_current_at_onset_ma,
            'current_density_at_onset_ma_cm2': self.current_density_at_onset_ma_cm2,
            'fit_ok': self.fit_ok,
            'windows': self.windows,
        }
        if self.background is not None:
            result.update(self.background.to_dict('background'))
        if self.rise is not None:
            result.update(self.rise.to_dict('rise'))
        result.update(self.details)
        return _clean(result)


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """The analysis of one sweep: its onsets, or the reason there are none.

    :param status: ``'onset'``, ``'no_onset'`` or ``'not_analysed'``.
    :param message: what was found, or why not (e.g. ``'no onset within the window'``).
    :param noise_ma: the point-to-point noise used by the search, mA.
    :param n_spikes: points excluded as isolated spikes.
    :param potential_min_v: lower end of the analysed part of the sweep.
    :param potential_max_v: upper end of the analysed part of the sweep.
    :param min_window_v: the shortest window of the automatic search used for this sweep.
    """

    sweep: Sweep
    status: str
    message: str
    onsets: tuple[Onset, ...] = ()
    noise_ma: float | None = None
    n_spikes: int = 0
    potential_min_v: float | None = None
    potential_max_v: float | None = None
    min_window_v: float | None = None

    def to_dict(self) -> dict[str, Any]:
        result = self.sweep.to_dict()
        result.update(
            {
                'status': self.status,
                'message': self.message,
                'n_onsets': len(self.onsets),
                'noise_ma': self.noise_ma,
                'n_spikes_excluded': self.n_spikes,
                'analysed_v_min': self.potential_min_v,
                'analysed_v_max': self.potential_max_v,
                'min_window_v': self.min_window_v,
            }
        )
        if self.onsets:
            result['first_onset_v'] = self.onsets[0].onset_v
        return _clean(result)


@dataclasses.dataclass(frozen=True)
class OnsetAnalysis:
    """Result of :func:`find_onsets`.

    ``oxidative_onset_v`` / ``reductive_onset_v`` are the first onset of the first analysed sweep of
    that direction (absent when that sweep has none: the other sweeps are in :attr:`sweeps`).
    """

    method: str
    parameters: Mapping[str, Any]
    sweeps: tuple[SweepResult, ...]
    flags: tuple[Flag, ...] = ()
    scan_rate_mv_s: float | None = None
    scan_rate_source: str | None = None
    n_points: int = 0

    @property
    def onsets(self) -> list[Onset]:
        return [onset for sweep in self.sweeps for onset in sweep.onsets]

    def _headline(self, direction: str) -> float | None:
        for sweep in self.sweeps:
            if sweep.sweep.direction == direction and sweep.status != 'not_analysed':
                return sweep.onsets[0].onset_v if sweep.onsets else None
        return None

    @property
    def oxidative_onset_v(self) -> float | None:
        return self._headline(ANODIC)

    @property
    def reductive_onset_v(self) -> float | None:
        return self._headline(CATHODIC)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {'method': self.method}
        result.update(_clean(self.parameters))
        result.update(
            _clean(
                {
                    'scan_rate_mv_s': self.scan_rate_mv_s,
                    'scan_rate_source': self.scan_rate_source,
                    'n_points': self.n_points,
                    'n_sweeps': len(self.sweeps),
                    'n_onsets': len(self.onsets),
                    'oxidative_onset_v': self.oxidative_onset_v,
                    'reductive_onset_v': self.reductive_onset_v,
                }
            )
        )
        result['onsets'] = [onset.to_dict() for onset in self.onsets]
        result['sweeps'] = [sweep.to_dict() for sweep in self.sweeps]
        result['flags'] = [flag.to_dict() for flag in self.flags]
        return result

    def arrays(self) -> dict[str, np.ndarray]:
        """Arrays for plotting: ``onset_v`` and ``onset_current_ma`` (all onsets in order) and, per onset
        ``k`` (1-based, in the order of :attr:`onsets`), the fitted lines over their windows, extended
        to the onset: ``onset{k}_background_v`` / ``onset{k}_background_ma`` and ``onset{k}_rise_v`` /
        ``onset{k}_rise_ma``."""
        onsets = self.onsets
        result = {
            'onset_v': np.array([onset.onset_v for onset in onsets], dtype=float),
            'onset_current_ma': np.array([onset.current_at_onset_ma for onset in onsets], dtype=float),
        }
        for k, onset in enumerate(onsets, start=1):
            for name, line in (('background', onset.background), ('rise', onset.rise)):
                if line is None:
                    continue
                low = min(line.v_min, onset.onset_v)
                high = max(line.v_max, onset.onset_v)
                potential = np.linspace(low, high, 50)
                result[f'onset{k}_{name}_v'] = potential
                result[f'onset{k}_{name}_ma'] = line.current_ma(potential)
        return result


# ====================================================================================== working electrode
@dataclasses.dataclass(frozen=True)
class WorkingElectrode:
    """The composite working electrode of a stability test (thesis chapter 4).

    Either give the derived descriptors directly (``carbon_volume_fraction``,
    ``carbon_surface_area_cm2``) or the quantities they are computed from.

    :param carbon_mass_fraction: carbon weight fraction of the composite (0.25 for 75:25).
    :param carbon_density_g_cm3: carbon density (Super P bulk 0.16; state the kind in ``carbon_density_kind``).
    :param electrolyte_density_g_cm3: electrolyte density (LiBH4 0.666).
    :param composite_mass_mg: mass of composite in the cell (5 mg in the thesis).
    :param carbon_bet_m2_g: BET specific surface area of the carbon (Super P 58).
    :param carbon_name: e.g. ``'Super P'``.
    :param carbon_density_kind: ``'bulk'``, ``'tap'``, ``'skeletal'``...
    """

    carbon_mass_fraction: float | None = None
    carbon_density_g_cm3: float | None = None
    electrolyte_density_g_cm3: float | None = None
    composite_mass_mg: float | None = None
    carbon_bet_m2_g: float | None = None
    carbon_volume_fraction: float | None = None
    carbon_surface_area_cm2: float | None = None
    carbon_name: str | None = None
    carbon_density_kind: str | None = None

    def volume_fraction(self) -> float | None:
        """The carbon volume fraction (given, or computed), None when unknown."""
        if self.carbon_volume_fraction is not None:
            return float(self.carbon_volume_fraction)
        if None in (self.carbon_mass_fraction, self.carbon_density_g_cm3, self.electrolyte_density_g_cm3):
            return None
        return carbon_volume_fraction(
            self.carbon_mass_fraction, self.carbon_density_g_cm3, self.electrolyte_density_g_cm3
        )

    def surface_area_cm2(self) -> float | None:
        """The total carbon surface area in the composite (given, or computed), None when unknown."""
        if self.carbon_surface_area_cm2 is not None:
            return float(self.carbon_surface_area_cm2)
        if None in (self.carbon_mass_fraction, self.composite_mass_mg, self.carbon_bet_m2_g):
            return None
        return carbon_surface_area_cm2(self.composite_mass_mg, self.carbon_mass_fraction, self.carbon_bet_m2_g)

    def to_dict(self) -> dict[str, Any]:
        result = _clean(dataclasses.asdict(self))
        result.update(
            _clean(
                {'carbon_volume_fraction': self.volume_fraction(), 'carbon_surface_area_cm2': self.surface_area_cm2()}
            )
        )
        return result


def carbon_volume_fraction(
    carbon_mass_fraction: float, carbon_density_g_cm3: float, electrolyte_density_g_cm3: float
) -> float:
    """Volume fraction of carbon in an electrolyte/carbon composite, from weights and densities
    (thesis chapter 4): ``phi = (w_C/rho_C) / (w_C/rho_C + (1 - w_C)/rho_SE)``.

    25 wt % Super P (0.16 g/cm3) in LiBH4 (0.666 g/cm3) gives 0.58; 25 wt % MCMB (tap 1.3) gives 0.15."""
    w = float(carbon_mass_fraction)
    if not 0.0 <= w <= 1.0:
        raise VoltammetryError(f'carbon_mass_fraction: must lie within 0..1, got {w}')
    rho_c = _positive_or_none('carbon_density_g_cm3', carbon_density_g_cm3)
    rho_e = _positive_or_none('electrolyte_density_g_cm3', electrolyte_density_g_cm3)
    carbon = w / rho_c
    return carbon / (carbon + (1.0 - w) / rho_e)


def carbon_surface_area_cm2(composite_mass_mg: float, carbon_mass_fraction: float, carbon_bet_m2_g: float) -> float:
    """Total carbon surface area in the composite, cm2: ``m_composite * w_C * S_BET`` (thesis chapter 4).

    0.5 mg Super P (58 m2/g) gives 290 cm2 (the thesis rounds to 292 cm2)."""
    mass = _positive_or_none('composite_mass_mg', composite_mass_mg)
    w = float(carbon_mass_fraction)
    if not 0.0 <= w <= 1.0:
        raise VoltammetryError(f'carbon_mass_fraction: must lie within 0..1, got {w}')
    bet = float(carbon_bet_m2_g)
    if not bet >= 0:
        raise VoltammetryError(f'carbon_bet_m2_g: must be >= 0, got {bet}')
    return mass * 1e-3 * w * bet * 1e4


def check_working_electrode(
    electrode: WorkingElectrode | Mapping[str, Any] | None = None, *, scan_rate_mv_s: float | None = None
) -> list[Flag]:
    """Validity flags of a stability measurement (thesis chapter 4, Asakura et al. 2019).

    * ``carbon_volume_fraction``: 0.2 <= phi <= 0.8 (lower: too little electronic contact, the onset is
      overestimated, e.g. MCMB 0.15 gave 2.61 V for LiBH4; higher: too little electrolyte);
    * ``carbon_surface_area``: > 200 cm2 (stated for a 5 mg LiBH4/carbon composite);
    * ``scan_rate``: <= 20 uV/s (0.020 mV/s); faster scans raise the capacitive background and the onset
      (> 100 mV at 100 uV/s, > 500 mV at 500 uV/s for LiBH4/Super P).

    A rule whose inputs are unknown gives a flag with ``passed=None`` saying what is missing.
    """
    if electrode is None:
        electrode = WorkingElectrode()
    elif isinstance(electrode, Mapping):
        known = {field.name for field in dataclasses.fields(WorkingElectrode)}
        unknown = sorted(set(electrode) - known)
        if unknown:
            raise VoltammetryError(
                f'working_electrode: unknown key(s) {", ".join(unknown)}; known: {", ".join(sorted(known))}'
            )
        electrode = WorkingElectrode(**electrode)
    return [_volume_fraction_flag(electrode), _surface_area_flag(electrode), _scan_rate_flag(scan_rate_mv_s)]


def _volume_fraction_flag(electrode: WorkingElectrode) -> Flag:
    low, high = CARBON_VOLUME_FRACTION_RANGE
    rule, limit = 'carbon_volume_fraction', f'{low} <= carbon volume fraction <= {high}'
    phi = electrode.volume_fraction()
    if phi is None:
        return Flag(rule, None, None, limit, 'not evaluated: carbon mass fraction and densities not given')
    if phi == 0:
        reason = (
            'no carbon in the working electrode: the onset is overestimated (LiBH4: 3.10 V without carbon vs '
            '2.04 V with 25 wt % Super P, 10 uV/s, 60 C; thesis ch. 4)'
        )
        return Flag(rule, False, phi, limit, reason)
    if phi < low:
        reason = (
            f'carbon volume fraction {phi:.3f} < {low}: insufficient electronic contact, the onset is '
            'overestimated (thesis ch. 4: MCMB, 0.15, gave 2.61 V vs 2.04 V for LiBH4)'
        )
        return Flag(rule, False, phi, limit, reason)
    if phi > high:
        reason = (
            f'carbon volume fraction {phi:.3f} > {high}: too little electrolyte in the composite, smaller '
            'decomposition currents, the onset shifts up (thesis ch. 4)'
        )
        return Flag(rule, False, phi, limit, reason)
    return Flag(rule, True, phi, limit, f'carbon volume fraction {phi:.3f} within {low}-{high} (thesis ch. 4)')


def _surface_area_flag(electrode: WorkingElectrode) -> Flag:
    rule, limit = 'carbon_surface_area', f'carbon surface area > {CARBON_SURFACE_AREA_MIN_CM2:g} cm2'
    area = electrode.surface_area_cm2()
    if area is None:
        return Flag(rule, None, None, limit, 'not evaluated: composite mass, carbon fraction or BET area not given')
    passed = area > CARBON_SURFACE_AREA_MIN_CM2
    reason = (
        f'total carbon surface area {area:.0f} cm2 {">" if passed else "<="} {CARBON_SURFACE_AREA_MIN_CM2:g} cm2 '
        '(thesis ch. 4, stated for a 5 mg LiBH4/carbon composite)'
    )
    return Flag(rule, passed, area, limit, reason)


def _scan_rate_flag(scan_rate_mv_s: float | None) -> Flag:
    rule, limit = 'scan_rate', f'scan rate <= {SCAN_RATE_MAX_MV_S * 1000:g} uV/s'
    if scan_rate_mv_s is None:
        return Flag(rule, None, None, limit, 'not evaluated: scan rate not given and no time to estimate it')
    rate = float(scan_rate_mv_s)
    if rate <= SCAN_RATE_MAX_MV_S * (1 + 1e-6):
        reason = (
            f'scan rate {rate * 1000:.3g} uV/s: below 20 uV/s the capacitive background has a minor effect on '
            'the onset (thesis ch. 4)'
        )
        return Flag(rule, True, rate, limit, reason)
    reason = (
        f'scan rate {rate * 1000:.3g} uV/s > 20 uV/s: the capacitive background raises the onset '
        '(LiBH4/Super P: > 100 mV higher at 100 uV/s, > 500 mV at 500 uV/s)'
    )
    return Flag(rule, False, rate, limit, reason)


# ====================================================================================== onset search
@dataclasses.dataclass
class _SweepData:
    """One sweep restricted to the analysed window, in the oriented frame."""

    sweep: Sweep
    sign: float  # +1 anodic, -1 cathodic
    rows: np.ndarray  # rows of the record
    potential: np.ndarray
    current: np.ndarray
    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    noise: float
    n_spikes: int
    min_excess: float = 0.0  # a rise must exceed its reference by this much (oriented mA)

    def to_real(self, window: _Window) -> LineFit:
        potentials = self.potential[window.start : window.end + 1]
        return LineFit(
            v_min=float(potentials.min()),
            v_max=float(potentials.max()),
            intercept_ma=self.sign * window.a,
            slope_ma_v=window.b,
            r2=window.r2,
            rms_ma=window.rms,
            n_points=window.n,
            criterion=window.criterion,
            curvature_f=window.curvature_f,
        )

    def measured_current(self, x_value: float) -> float:
        """The measured current (real sign) interpolated at ``x_value``, spikes excluded."""
        valid = self.weight > 0
        x, y = self.x[valid], self.y[valid]
        order = np.argsort(x, kind='stable')
        return float(self.sign * np.interp(x_value, x[order], y[order]))


class _Settings:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def _intersection(ref: _Window, rise: _Window) -> float | None:
    denominator = rise.b - ref.b
    if denominator == 0:
        return None
    return (ref.a - rise.a) / denominator


def _rises(window: _Window, ref: _Window, settings: _Settings, min_excess: float) -> bool:
    """Does ``window`` rise above ``ref`` enough to be a faradaic rise? (oriented frame): steeper than
    ``slope_ratio_min`` x a rising reference, above it by ``min_excess`` at its end, and ending with a
    current of the reaction's sign."""
    if not (window.b > 0 and window.b > ref.b):
        return False
    if ref.b > 0 and window.b < settings.slope_ratio_min * ref.b:
        return False
    excess = window.y(window.x_end) - ref.y(window.x_end)
    # the rise must end with a current of the reaction's sign (anodic for oxidation, cathodic for reduction)
    return excess > 0 and excess >= min_excess and window.y(window.x_end) > 0


def _valid_onset(ref: _Window, rise: _Window, x_on: float | None) -> bool:
    return x_on is not None and math.isfinite(x_on) and ref.x_start <= x_on <= rise.x_end


def _auto_onsets(data: _SweepData, fitter: _Fitter, settings: _Settings, ref: _Window | None = None, cursor: int = 0):
    """The automatic two-line search of one sweep (oriented frame); see the module docs.

    Walks along the sweep through maximal accepted windows of at least ``min_span``. The first window
    is the reference (background). A window that rises above the reference (:func:`_rises`) starts a
    rise: the longest window of that rise near its start (:func:`_refine_rise`) and the reference give
    an onset, and the rise becomes the next reference. A window that is not a rise extends the
    reference when it continues it (same slope within 3 standard errors, within the noise margin),
    replaces it when it is flatter (a plateau after a peak, the decay of a transient) or when it is
    steeper but the window after it does not rise either (a bending background); a steeper window
    followed by a rise is a piece of the knee and is passed over.

    Returns ``(triples, reference)``: the (background, rise, x_onset) triples in order, and the
    reference in force when the search ended (the background when no onset was found)."""
    x = data.x
    n = x.size
    m = fitter.min_points
    step = max(1, n // 200)
    batch = 8
    cache: dict[int, tuple[_Window | None, int]] = {}

    def next_window(position: int) -> tuple[_Window | None, int]:
        """The first accepted window of at least ``min_span`` starting at or after ``position``
        (None when there is none) and the row to continue from."""
        if position in cache:
            return cache[position]
        start = position
        # the common case first: a long window right at the position
        end = fitter.grow(start, n) if start <= n - m else None
        if end is not None and x[end] - x[start] >= settings.min_span:
            window = fitter.window(start, end)
            if window is not None:
                cache[position] = (window, end + 1)
                return cache[position]
        while start <= n - m:
            starts = np.arange(start, min(start + batch * step, n - m + 1), step)
            found = fitter.first_long(starts, settings.min_span, n)
            if found is None:
                start = int(starts[-1]) + step
                continue
            start = int(starts[found])
            end = fitter.grow(start, n)
            window = None if end is None else fitter.window(start, end)
            if window is None:
                start += step
                continue
            cache[position] = (window, end + 1)
            return cache[position]
        cache[position] = (None, n)
        return cache[position]

    triples = []
    while cursor <= n - m:
        if settings.max_onsets is not None and len(triples) >= settings.max_onsets:
            break
        window, following = next_window(cursor)
        if window is None:
            break
        if ref is None:
            ref, cursor = window, following
            continue
        if _rises(window, ref, settings, data.min_excess):
            rise = _refine_rise(window, ref, fitter, settings, data.min_excess, step)
            x_on = _intersection(ref, rise)
            if _valid_onset(ref, rise, x_on):
                triples.append((ref, rise, x_on))
                ref, cursor = rise, rise.end + 1
                continue
        excess = window.y(window.x_end) - ref.y(window.x_end)
        same_slope = abs(window.b - ref.b) <= 3.0 * math.hypot(window.slope_se, ref.slope_se)
        if excess < settings.noise_margin * data.noise and same_slope:
            # a continuation of the reference within the noise: extend the reference when the joined
            # window is still a line, else move it forward
            joined = fitter.window(ref.start, window.end)
            ref = joined if joined is not None else window
        elif window.b <= ref.b:
            ref = window  # flatter: a plateau after a peak, the decay of a transient
        else:
            # steeper but not a rise: a piece of the knee when the next window rises above the
            # reference (pass it over), else a bending background (it becomes the reference)
            after, _ = next_window(following)
            if after is None or not _rises(after, ref, settings, data.min_excess):
                ref = window
        cursor = following
    return _trim_references(triples, fitter), ref


def _trim_references(triples, fitter: _Fitter):
    """Keep every reference line out of the knee of the onset that follows it.

    A window grown until R2 drops below ``r2_min`` ends some way into the next knee, which tilts it
    (most for a weak rise followed by a strong one). Each reference window is therefore cut to end
    before ``x_onset - delta``, where ``delta`` (the knee's half-width) is the gap between the onset
    and the start of its rise window (at most half the reference's span), refitted, and the onsets
    recomputed. A cut that would leave fewer than ``min_points`` rows or an invalid intersection is
    not made."""
    result = [list(triple) for triple in triples]
    for k, (ref, rise, x_on) in enumerate(triples):
        delta = min(max(0.0, rise.x_start - x_on), 0.5 * ref.span)
        limit = x_on - delta
        if ref.x_end <= limit:
            continue
        end = int(np.searchsorted(fitter.x_envelope, limit, side='right')) - 1
        end = min(end, ref.end)
        if end - ref.start + 1 < fitter.min_points:
            continue
        trimmed = fitter.window(ref.start, end, force=True)
        if trimmed is None:
            continue
        x_new = _intersection(trimmed, rise)
        if not _valid_onset(trimmed, rise, x_new):
            continue
        if k > 0 and result[k - 1][1] is ref:
            x_previous = _intersection(result[k - 1][0], trimmed)
            if not _valid_onset(result[k - 1][0], trimmed, x_previous):
                continue
            result[k - 1][1], result[k - 1][2] = trimmed, x_previous
        result[k][0], result[k][2] = trimmed, x_new
    return [tuple(triple) for triple in result]


def _refine_rise(
    first: _Window, ref: _Window, fitter: _Fitter, settings: _Settings, min_excess: float, step: int
) -> _Window:
    """Among the accepted windows starting within the first ``rise_search_fraction`` of the first
    qualifying one, the longest (the first of equals) that still qualifies as a rise above ``ref``, is
    not itself a rise above the first window (slope < ``slope_ratio_min`` x its slope: the same rise,
    not the next one) and gives an intersection within the fitted range. This moves the rise window
    past the curved knee onto the straight part of the faradaic current."""
    x = fitter.x
    n = x.size
    limit = first.start + int(settings.rise_search_fraction * (first.end - first.start))
    step = max(step, (limit - first.start) // 10)
    starts = np.arange(first.start + step, limit + 1, step)
    if starts.size == 0:
        return first
    ends = fitter.grow_many(starts, n)
    usable = ends >= 0
    usable[usable] &= x[ends[usable]] - x[starts[usable]] >= settings.min_span
    if not usable.any():
        return first
    starts, ends = starts[usable], ends[usable]
    a, b, _r2 = fitter.lines(starts, ends)
    x_end = x[ends]
    excess = (a + b * x_end) - (ref.a + ref.b * x_end)
    qualifies = (b > 0) & (b > ref.b) & (excess > 0) & (excess >= min_excess) & (a + b * x_end > 0)
    if ref.b > 0:
        qualifies &= b >= settings.slope_ratio_min * ref.b
    # the same rise, not the next one: not itself a rise above the first window
    qualifies &= b < settings.slope_ratio_min * first.b
    with np.errstate(divide='ignore', invalid='ignore'):
        x_on = (ref.a - a) / (b - ref.b)
    qualifies &= np.isfinite(x_on) & (x_on >= ref.x_start) & (x_on <= x_end)
    score = np.where(qualifies, x_end - x[starts], -np.inf)
    best = int(np.argmax(score))
    if not np.isfinite(score[best]) or score[best] <= first.span:
        return first
    window = fitter.window(int(starts[best]), int(ends[best]))
    return window if window is not None else first


def _window_rows(data: _SweepData, window_v: Sequence[float], what: str) -> tuple[int, int]:
    low, high = _pair(window_v, what)
    inside = np.flatnonzero((data.potential >= low) & (data.potential <= high) & (data.weight > 0))
    if inside.size < 3:
        raise VoltammetryError(
            f'{what}: only {inside.size} point(s) of sweep {data.sweep.sweep_index} lie within {low}..{high} V '
            '(need >= 3)'
        )
    return int(inside.min()), int(inside.max())


def _given_window(data: _SweepData, fitter: _Fitter, window_v: Sequence[float], what: str) -> _Window:
    """The line over a window given by the user (fitted whatever its quality, which is reported)."""
    start, end = _window_rows(data, window_v, what)
    window = fitter.window(start, end, force=True)
    if window is None:
        raise VoltammetryError(
            f'{what}: the potential does not vary within {window_v!r} in sweep {data.sweep.sweep_index}'
        )
    return window


def _pair(window_v: Sequence[float], what: str) -> tuple[float, float]:
    try:
        low, high = (float(value) for value in window_v)
    except (TypeError, ValueError):
        raise VoltammetryError(f'{what}: expected (v_min, v_max), got {window_v!r}') from None
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise VoltammetryError(f'{what}: expected finite v_min < v_max, got {window_v!r}')
    return low, high


def _window_list(value, what: str) -> list[tuple[float, float]] | None:
    """One (v_min, v_max) pair or a list of pairs -> list of pairs."""
    if value is None:
        return None
    seq = list(value)
    if len(seq) == 2 and all(isinstance(item, (int, float, np.integer, np.floating)) for item in seq):
        return [_pair(seq, what)]
    return [_pair(item, what) for item in seq]


def _two_line(data: _SweepData, settings: _Settings) -> tuple[list[Onset], str]:
    fitter = _Fitter(
        data.x,
        data.y,
        data.weight,
        r2_min=settings.r2_min,
        curvature_f_max=settings.curvature_f_max,
        min_points=settings.min_points,
    )
    background_windows = settings.background_windows
    rise_windows = settings.rise_windows
    triples = []  # (background _Window, rise _Window, x_on, windows-label)
    if background_windows is None and rise_windows is None:
        found, _ = _auto_onsets(data, fitter, settings)
        triples = [(bg, rise, x_on, 'auto') for bg, rise, x_on in found]
    elif background_windows is not None and rise_windows is not None:
        if len(background_windows) != len(rise_windows):
            raise VoltammetryError(
                f'background_window_v and rise_window_v: {len(background_windows)} background window(s) but '
                f'{len(rise_windows)} rise window(s); give one of each per onset'
            )
        for bg_v, rise_v in zip(background_windows, rise_windows):
            bg = _given_window(data, fitter, bg_v, 'background_window_v')
            rise = _given_window(data, fitter, rise_v, 'rise_window_v')
            triples.append((bg, rise, _intersection(bg, rise), 'given'))
    elif background_windows is not None:
        for bg_v in background_windows:
            bg = _given_window(data, fitter, bg_v, 'background_window_v')
            local = _Settings(**{**settings.__dict__, 'max_onsets': 1})
            pairs, _ = _auto_onsets(data, fitter, local, ref=bg, cursor=bg.end + 1)
            if pairs:
                triples.append((bg, pairs[0][1], pairs[0][2], 'background given, rise auto'))
    else:
        for rise_v in rise_windows:
            rise = _given_window(data, fitter, rise_v, 'rise_window_v')
            bg = _longest_before(fitter, rise.start)
            if bg is not None:
                triples.append((bg, rise, _intersection(bg, rise), 'rise given, background auto'))
    onsets = []
    problems = []
    for bg, rise, x_on, label in triples:
        difference = abs(rise.b - bg.b)
        tolerance = max(3.0 * math.hypot(bg.slope_se, rise.slope_se), 1e-9 * max(abs(rise.b), abs(bg.b)))
        if x_on is None or not math.isfinite(x_on) or difference <= tolerance:
            problems.append(
                f'the lines of windows {_fmt_window(data, bg)} and {_fmt_window(data, rise)} have the same slope '
                'within 3 standard errors (parallel): no onset'
            )
            continue
        x_low = min(bg.x_start, rise.x_start)
        x_high = max(bg.x_end, rise.x_end)
        if not x_low <= x_on <= x_high:
            problems.append(
                f'the lines of windows {_fmt_window(data, bg)} and {_fmt_window(data, rise)} intersect at '
                f'{data.sign * x_on:.4g} V, outside the fitted windows: no onset'
            )
            continue
        background = data.to_real(bg)
        rising = data.to_real(rise)
        onset_v = data.sign * x_on
        current = background.intercept_ma + background.slope_ma_v * onset_v
        fit_ok = background.ok and rising.ok
        details = {}
        if not fit_ok:
            bad = [name for name, line in (('background', background), ('rise', rising)) if not line.ok]
            details['note'] = f'{" and ".join(bad)} line: R2 below r2_min and significantly curved'
        onsets.append(
            Onset(
                method='two_line',
                direction=data.sweep.direction,
                sweep_index=data.sweep.sweep_index,
                cycle_index=data.sweep.cycle_index,
                order=len(onsets) + 1,
                onset_v=float(onset_v),
                current_at_onset_ma=float(current),
                measured_current_at_onset_ma=data.measured_current(x_on),
                current_density_at_onset_ma_cm2=_density(current, settings.area_cm2),
                background=background,
                rise=rising,
                fit_ok=fit_ok,
                windows=label,
                details=details,
            )
        )
    if onsets:
        message = f'{len(onsets)} onset(s) found'
        if problems:
            message += '; ' + '; '.join(problems)
    elif problems:
        message = '; '.join(problems)
    else:
        message = 'no onset within the window'
    return onsets, message


def _density(current_ma: float, area_cm2: float | None) -> float | None:
    return None if area_cm2 is None else float(current_ma / area_cm2)


def _fmt_window(data: _SweepData, window: _Window) -> str:
    values = data.potential[[window.start, window.end]]
    return f'{values.min():.4g}-{values.max():.4g} V'


def _longest_before(fitter: _Fitter, stop: int) -> _Window | None:
    """The longest accepted window ending before row ``stop`` (the background for a given rise),
    searched over up to 100 evenly spaced starts."""
    x = fitter.x
    starts = np.arange(0, max(stop - fitter.min_points + 1, 0), max(1, stop // 100))
    if starts.size == 0:
        return None
    ends = fitter.grow_many(starts, stop)
    spans = np.where(ends >= 0, x[np.maximum(ends, 0)] - x[starts], -np.inf)
    best = int(np.argmax(spans))
    if not np.isfinite(spans[best]):
        return None
    return fitter.window(int(starts[best]), int(ends[best]))


def _auto_background(data: _SweepData, settings: _Settings) -> _Window | None:
    """The background of the automatic two-line search (the reference before the first onset, or the
    last reference when there is none) - used by the threshold and derivative methods."""
    fitter = _Fitter(
        data.x,
        data.y,
        data.weight,
        r2_min=settings.r2_min,
        curvature_f_max=settings.curvature_f_max,
        min_points=settings.min_points,
    )
    if settings.background_windows is not None:
        return _given_window(data, fitter, settings.background_windows[0], 'background_window_v')
    local = _Settings(**{**settings.__dict__, 'max_onsets': 1})
    pairs, ref = _auto_onsets(data, fitter, local)
    return pairs[0][0] if pairs else ref


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


def _threshold(data: _SweepData, settings: _Settings) -> tuple[list[Onset], str]:
    y = data.y.copy()
    details: dict[str, Any] = {
        'threshold_ma': settings.threshold_ma,
        'threshold_ma_cm2': settings.threshold_ma_cm2,
        'k_consecutive': settings.k_consecutive,
        'background_subtracted': settings.subtract_background,
        'interpolated': settings.interpolate,
    }
    background = None
    if settings.subtract_background:
        bg = _auto_background(data, settings)
        if bg is None:
            return [], 'no background line could be fitted for the subtraction'
        y = y - bg.y(data.x)
        background = data.to_real(bg)
    valid = data.weight > 0
    x = data.x[valid]
    y = y[valid]
    level = settings.threshold_ma
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


def _single_onset(method: str, data, settings, x_on: float, background, details: dict) -> Onset:
    """The one onset of a threshold or derivative search, at ``x_on`` (in the sweep's signed potential)."""
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
        current_density_at_onset_ma_cm2=_density(measured, settings.area_cm2),
        background=background,
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
    return slope


def _derivative(data: _SweepData, settings: _Settings) -> tuple[list[Onset], str]:
    spacing = float(np.median(np.abs(np.diff(data.x)))) if data.x.size > 1 else 0.0
    if spacing <= 0:
        return [], 'potential spacing is zero: no derivative'
    half = max(2, round(settings.derivative_window_v / spacing / 2))
    slopes = _local_slopes(data.x, data.y, data.weight, half)
    bg = _auto_background(data, settings)
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


def _prepare_sweep(sweep: Sweep, potential, current, settings: _Settings) -> _SweepData | str:
    rows = np.arange(sweep.start, sweep.stop)
    e = potential[rows]
    if settings.window_v is not None:
        low, high = settings.window_v
        inside = np.flatnonzero((e >= low) & (e <= high))
        if inside.size == 0:
            return f'no point of the sweep within window_v {low}..{high} V'
        rows = rows[inside.min() : inside.max() + 1]
        e = potential[rows]
    if rows.size < settings.min_points + 2:
        return f'too few points to analyse ({rows.size} < {settings.min_points + 2})'
    i = current[rows]
    sign = 1.0 if sweep.direction == ANODIC else -1.0
    x = sign * e
    y = sign * i
    noise = settings.noise_ma if settings.noise_ma is not None else _noise(y)
    weight = np.ones(rows.size, dtype=bool)
    n_spikes = 0
    if settings.despike:
        spikes = _spike_mask(y, noise, settings.despike_factor)
        n_spikes = int(spikes.sum())
        weight &= ~spikes
    if np.ptp(x[weight]) <= 0:
        return 'potential does not vary within the sweep'
    low, high = np.percentile(y[weight], [1.0, 99.0])  # the current range, robust to a few glitches
    min_excess = max(settings.noise_margin * noise, settings.min_rise_fraction * float(high - low))
    return _SweepData(sweep, sign, rows, e, i, x, y, weight, float(noise), n_spikes, min_excess)


def find_onsets(
    potential_v: Any,
    current_ma: Any,
    *,
    direction: str = 'both',
    method: str = 'two_line',
    area_cm2: float | None = None,
    cycle_index: Any = None,
    time_s: Any = None,
    scan_rate_mv_s: float | None = None,
    cycles: Iterable[int] | None = None,
    window_v: Sequence[float] | None = None,
    background_window_v: Any = None,
    rise_window_v: Any = None,
    r2_min: float = 0.99,
    min_window_v: float | None = None,
    min_points: int = 10,
    slope_ratio_min: float = 3.0,
    noise_margin: float = 10.0,
    min_rise_fraction: float = 0.02,
    curvature_f_max: float = 10.8,
    noise_ma: float | None = None,
    max_onsets: int | None = None,
    rise_search_fraction: float = 1.0,
    despike: bool = True,
    despike_factor: float = 20.0,
    threshold_ma: float | None = None,
    threshold_ma_cm2: float | None = None,
    k_consecutive: int = 3,
    subtract_background: bool = False,
    interpolate: bool = True,
    derivative_window_v: float = 0.05,
    k_sigma: float = 5.0,
    working_electrode: WorkingElectrode | Mapping[str, Any] | None = None,
    reversal_tolerance_v: float | None = None,
) -> OnsetAnalysis:
    """Oxidative (anodic sweeps) and reductive (cathodic sweeps) stability onsets of a CV or LSV record.

    The record is split into sweeps (:func:`segment_sweeps`); every sweep of the requested direction
    (and cycles) is analysed with one method.

    **two_line** (default; Asakura et al. 2019): ``E_onset = (a_bg - a_F) / (b_F - b_bg)`` for the
    background line ``i = a_bg + b_bg E`` and the faradaic line ``i = a_F + b_F E``, each accepted when
    ``R^2 >= r2_min`` or, for a flat noisy line where R2 measures nothing, when a quadratic term is not
    significant (``curvature_f <= curvature_f_max``). Windows: ``background_window_v`` and
    ``rise_window_v`` given (one pair each, or equal-length lists of pairs for several onsets), one of
    them given (the other found), or both found automatically. The automatic search (documented in
    ``docs/source/analysis/voltammetry.rst``) walks along the sweep through maximal accepted windows of
    at least ``min_window_v``. A window that rises above the reference line (slope >=
    ``slope_ratio_min`` x the reference's, current above it by >= ``noise_margin`` x noise and >=
    ``min_rise_fraction`` x the sweep's current range, current of the reaction's sign) starts a rise:
    the longest accepted window of that same rise starting within its first ``rise_search_fraction``
    gives the onset with the reference, and becomes the next reference. A continuation of the
    reference (same slope within 3 standard errors, within the noise margin) extends it; a flatter
    window (plateau, decaying transient) replaces it; a steeper window that is not a rise is passed
    over when the next window rises (the knee), else it replaces the reference (a bending background).
    Finally each reference is cut to end before the knee of the onset that follows it, and refitted.

    **threshold**: the first potential at which the current (``threshold_ma``) or current density
    (``threshold_ma_cm2``, needs ``area_cm2``) exceeds the threshold for ``k_consecutive`` points after
    having been below it, optionally after subtracting the background line (``subtract_background``),
    linearly interpolated between the last point below and the first above (``interpolate``).

    **derivative**: the first potential after the background window at which the local least-squares
    slope dI/dE over ``derivative_window_v`` exceeds the background's mean by ``k_sigma`` standard
    deviations for ``k_consecutive`` points (and the current reaches the reaction's sign after it).

    :param potential_v: working-electrode potential, V.
    :param current_ma: current, mA, positive for oxidation.
    :param direction: ``'anodic'`` (oxidative onsets), ``'cathodic'`` (reductive onsets) or ``'both'``.
    :param method: ``'two_line'``, ``'threshold'`` or ``'derivative'``.
    :param area_cm2: electrode area: adds current densities; needed for ``threshold_ma_cm2``.
    :param cycle_index: the instrument's cycle counter per row (optional).
    :param time_s: time per row (optional): gives the scan rate.
    :param scan_rate_mv_s: the programmed scan rate; overrides the estimate from ``time_s``.
    :param cycles: analyse only sweeps of these cycle indices.
    :param window_v: analyse only this potential range ``(v_min, v_max)`` of each sweep.
    :param background_window_v: background window(s) ``(v_min, v_max)`` (two-line; also the background of
        the threshold subtraction and of the derivative statistics).
    :param rise_window_v: faradaic window(s) ``(v_min, v_max)`` (two-line).
    :param r2_min: acceptance of a line (thesis: R2 > 0.99).
    :param min_window_v: shortest window of the automatic search, V. Default ``max(0.05 V, 5 %`` of the
        sweep's range``)``.
    :param min_points: fewest rows in a window.
    :param slope_ratio_min: a rise must be this many times steeper than a rising reference line.
    :param noise_margin: a rise must exceed the reference line by this many noise sigmas at its end.
    :param min_rise_fraction: a rise must also exceed the reference line by this fraction of the
        sweep's current range (1st to 99th percentile) at its end. This rejects a slowly bending
        background; lower it, or narrow ``window_v``, to find a weak onset far below a strong one.
    :param curvature_f_max: a window whose R2 is below ``r2_min`` is still a line when the F statistic of
        an added quadratic term is at most this (10.8: p = 0.001 for large windows). Applies to flat
        noisy lines, where R2 measures nothing.
    :param noise_ma: the noise, mA; default: estimated per sweep (:func:`estimate_noise_ma`).
    :param max_onsets: stop after this many onsets per sweep (default: all).
    :param rise_search_fraction: part of the first qualifying rise window within which later starts are
        tried (the longest accepted window of the same rise wins: it starts past the knee).
    :param despike: exclude isolated spikes from the fits (two-line, derivative, threshold).
    :param despike_factor: a spike deviates by more than this many noise sigmas from its neighbourhood median.
    :param threshold_ma: threshold current, mA (threshold method).
    :param threshold_ma_cm2: threshold current density, mA/cm2 (threshold method; needs ``area_cm2``).
    :param k_consecutive: consecutive points required above the threshold / derivative level.
    :param subtract_background: threshold method: subtract the background line first.
    :param interpolate: interpolate the threshold / derivative crossing between points.
    :param derivative_window_v: width of the local-slope window of the derivative method, V.
    :param k_sigma: derivative level in background standard deviations.
    :param working_electrode: a :class:`WorkingElectrode` (or dict of its fields) for the validity flags.
    :param reversal_tolerance_v: hysteresis of the sweep segmentation (see :func:`segment_sweeps`).
    :raises VoltammetryError: bad input (too few points, non-finite values, wrong shapes, potential not
        varying or not sweeping, inconsistent parameters).
    """
    potential, current, time, cycle_values = _check_inputs(potential_v, current_ma, time_s, cycle_index)
    if direction not in (ANODIC, CATHODIC, 'both'):
        raise VoltammetryError(f"direction: expected 'anodic', 'cathodic' or 'both', got {direction!r}")
    if method not in METHODS:
        raise VoltammetryError(f'method: expected one of {", ".join(METHODS)}, got {method!r}')
    area = _positive_or_none('area_cm2', area_cm2)
    if not 0 < r2_min < 1:
        raise VoltammetryError(f'r2_min: must lie within (0, 1), got {r2_min}')
    if int(min_points) < 3:
        raise VoltammetryError(f'min_points: must be >= 3, got {min_points}')
    if int(k_consecutive) < 1:
        raise VoltammetryError(f'k_consecutive: must be >= 1, got {k_consecutive}')
    checks = (  # name, value, lowest allowed, highest allowed, lowest excluded
        ('slope_ratio_min', slope_ratio_min, 1.0, math.inf, False),
        ('noise_margin', noise_margin, 0.0, math.inf, False),
        ('min_rise_fraction', min_rise_fraction, 0.0, 1.0, False),
        ('curvature_f_max', curvature_f_max, 0.0, math.inf, True),
        ('rise_search_fraction', rise_search_fraction, 0.0, 1.0, True),
        ('despike_factor', despike_factor, 0.0, math.inf, True),
        ('derivative_window_v', derivative_window_v, 0.0, math.inf, True),
        ('k_sigma', k_sigma, 0.0, math.inf, True),
        ('min_window_v', min_window_v, 0.0, math.inf, True),
    )
    for name, value, low, high, exclusive in checks:
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise VoltammetryError(f'{name}: not a number: {value!r}') from None
        if math.isnan(number) or number < low or number > high or (exclusive and number == low):
            bound = '>' if exclusive else '>='
            raise VoltammetryError(f'{name}: must be {bound} {low:g} and <= {high:g}, got {value!r}')
    if max_onsets is not None and int(max_onsets) < 1:
        raise VoltammetryError(f'max_onsets: must be >= 1, got {max_onsets}')
    noise_value = None if noise_ma is None else float(noise_ma)
    if noise_value is not None and not (math.isfinite(noise_value) and noise_value >= 0):
        raise VoltammetryError(f'noise_ma: must be a finite number >= 0, got {noise_ma}')
    threshold = None
    if method == 'threshold':
        if (threshold_ma is None) == (threshold_ma_cm2 is None):
            raise VoltammetryError('threshold method: give exactly one of threshold_ma or threshold_ma_cm2')
        if threshold_ma_cm2 is not None:
            if area is None:
                raise VoltammetryError('threshold_ma_cm2: needs area_cm2 (the electrode area) to convert to a current')
            threshold = float(threshold_ma_cm2) * area
        else:
            threshold = float(threshold_ma)
        if not (math.isfinite(threshold) and threshold > 0):
            raise VoltammetryError(f'threshold: must be a positive finite number, got {threshold}')
    window = None if window_v is None else _pair(window_v, 'window_v')
    backgrounds = _window_list(background_window_v, 'background_window_v')
    rises = _window_list(rise_window_v, 'rise_window_v')
    given_rate = _positive_or_none('scan_rate_mv_s', scan_rate_mv_s)

    sweeps = _segment(potential, time, cycle_values, reversal_tolerance_v, 5)
    wanted_cycles = None if cycles is None else {int(c) for c in cycles}

    parameters = {
        'direction': direction,
        'area_cm2': area,
        'window_v_min': None if window is None else window[0],
        'window_v_max': None if window is None else window[1],
        'cycles': None if wanted_cycles is None else sorted(wanted_cycles),
        'despike': despike,
        'despike_factor': despike_factor if despike else None,
        'noise_ma_given': noise_value,
        'reversal_tolerance_v': reversal_tolerance_v,
    }
    # the window search also gives the background of the derivative method and of a subtraction
    uses_search = method in ('two_line', 'derivative') or (subtract_background and backgrounds is None)
    if uses_search:
        parameters.update({'r2_min': r2_min, 'min_window_v': min_window_v, 'min_points': int(min_points)})
        parameters.update(
            {
                'slope_ratio_min': slope_ratio_min,
                'noise_margin': noise_margin,
                'min_rise_fraction': min_rise_fraction,
                'curvature_f_max': curvature_f_max,
                'max_onsets': max_onsets,
                'rise_search_fraction': rise_search_fraction,
            }
        )
    if backgrounds is not None:
        parameters['background_window_v'] = [list(pair) for pair in backgrounds]
    if rises is not None and method == 'two_line':
        parameters['rise_window_v'] = [list(pair) for pair in rises]
    if method == 'threshold':
        parameters.update(
            {
                'threshold_ma': threshold,
                'threshold_ma_cm2': None if threshold_ma_cm2 is None else float(threshold_ma_cm2),
                'k_consecutive': int(k_consecutive),
                'subtract_background': subtract_background,
                'interpolate': interpolate,
            }
        )
    if method == 'derivative':
        parameters.update(
            {
                'derivative_window_v': derivative_window_v,
                'k_sigma': k_sigma,
                'k_consecutive': int(k_consecutive),
                'interpolate': interpolate,
            }
        )

    results = []
    for sweep in sweeps:
        if direction not in ('both', sweep.direction):
            continue
        if wanted_cycles is not None and sweep.cycle_index not in wanted_cycles:
            continue
        sweep_range = abs(sweep.potential_end_v - sweep.potential_start_v)
        if window is not None:
            sweep_range = min(sweep_range, window[1] - window[0])
        min_span = float(min_window_v) if min_window_v is not None else max(0.05, 0.05 * sweep_range)
        settings = _Settings(
            r2_min=float(r2_min),
            min_points=int(min_points),
            min_span=min_span,
            slope_ratio_min=float(slope_ratio_min),
            noise_margin=float(noise_margin),
            min_rise_fraction=float(min_rise_fraction),
            curvature_f_max=float(curvature_f_max),
            noise_ma=noise_value,
            max_onsets=None if max_onsets is None else int(max_onsets),
            rise_search_fraction=float(rise_search_fraction),
            despike=bool(despike),
            despike_factor=float(despike_factor),
            window_v=window,
            background_windows=backgrounds,
            rise_windows=rises,
            area_cm2=area,
            threshold_ma=threshold,
            threshold_ma_cm2=None if threshold_ma_cm2 is None else float(threshold_ma_cm2),
            k_consecutive=int(k_consecutive),
            subtract_background=bool(subtract_background),
            interpolate=bool(interpolate),
            derivative_window_v=float(derivative_window_v),
            k_sigma=float(k_sigma),
        )
        data = _prepare_sweep(sweep, potential, current, settings)
        if isinstance(data, str):
            results.append(SweepResult(sweep, 'not_analysed', data))
            continue
        if method == 'two_line':
            onsets, message = _two_line(data, settings)
        elif method == 'threshold':
            onsets, message = _threshold(data, settings)
        else:
            onsets, message = _derivative(data, settings)
        results.append(
            SweepResult(
                sweep,
                'onset' if onsets else 'no_onset',
                message,
                tuple(onsets),
                noise_ma=data.noise,
                n_spikes=data.n_spikes,
                potential_min_v=float(data.potential.min()),
                potential_max_v=float(data.potential.max()),
                min_window_v=min_span,
            )
        )
    if given_rate is not None:
        rate, source = given_rate, 'given'
    else:
        rates = [s.scan_rate_mv_s for s in sweeps if s.scan_rate_mv_s is not None]
        rate, source = (float(np.median(rates)), 'estimated from time_s') if rates else (None, None)
    flags = check_working_electrode(working_electrode, scan_rate_mv_s=rate)
    return OnsetAnalysis(
        method=method,
        parameters=parameters,
        sweeps=tuple(results),
        flags=tuple(flags),
        scan_rate_mv_s=rate,
        scan_rate_source=source,
        n_points=potential.size,
    )


def find_onsets_in_measurement(measurement: Any, **kwargs: Any) -> OnsetAnalysis:
    """:func:`find_onsets` on a parsed :class:`aiida_ssb.parsers.base.Measurement` (columns
    ``voltage_v``, ``current_ma`` and, when present, ``time_s`` and ``cycle_index``).

    The electrode area is *not* taken from the file's metadata (EC-Lab writes a placeholder such as
    0.001 cm2 when none was entered): pass ``area_cm2`` explicitly."""
    columns = getattr(measurement, 'columns', None)
    if not isinstance(columns, Mapping):
        raise VoltammetryError(
            f'measurement: expected a parsed Measurement with columns, got {type(measurement).__name__}'
        )
    for name in ('voltage_v', 'current_ma'):
        if name not in columns:
            raise VoltammetryError(f'measurement has no column {name!r}; it has: {", ".join(columns)}')
    kwargs.setdefault('time_s', columns.get('time_s'))
    kwargs.setdefault('cycle_index', columns.get('cycle_index'))
    return find_onsets(columns['voltage_v'], columns['current_ma'], **kwargs)


# ====================================================================================== stepwise CV
@dataclasses.dataclass(frozen=True)
class StepwiseStep:
    """One upper cut-off of a stepwise CV. Charges in mAh; ratios dimensionless.

    :param step_index: 0 for the lowest upper cut-off.
    :param upper_cutoff_v: vertex potential of the step's first anodic scan.
    :param cutoff_increment_v: ``upper_cutoff_v`` minus the previous step's (absent for the first step).
    :param lower_cutoff_v: lowest potential of the reverse scan (absent without one).
    :param n_scans: anodic scans recorded at this cut-off.
    :param anodic_charge_mah: ``integral I+ dt`` over the step's first anodic scan.
    :param cathodic_charge_mah: ``integral (-I)+ dt`` over the reverse scan that follows it (absent when
        the record ends before it).
    :param reverse_charge_ratio: cathodic / anodic charge: near 0 means the decomposition products are
        not reduced back (not redox active).
    :param new_window_charge_mah: anodic charge of the first scan above the previous cut-off (the
        potential range this step opens).
    :param new_window_charge_mah_v: the same per volt of newly opened range (comparable across 0.10 V
        and 0.05 V steps).
    :param soar_ratio: ``new_window_charge_mah_v`` over the median of the previous ``reference_steps``.
    :param passivation_charge_ratio: anodic charge of this step's first scan below the previous cut-off
        over that of the previous step's last scan (same range): < 1 means passivation.
    :param passivation_current_ratio: current of this step's first scan at the previous cut-off over the
        previous step's current at its vertex.
    :param vertex_current_ma: current at the vertex of the first anodic scan.
    :param soaring: True for the step at which the anodic charge soars (at most one step).
    """

    step_index: int
    upper_cutoff_v: float
    cutoff_increment_v: float | None
    lower_cutoff_v: float | None
    n_scans: int
    anodic_charge_mah: float
    cathodic_charge_mah: float | None
    reverse_charge_ratio: float | None
    new_window_charge_mah: float
    new_window_charge_mah_v: float | None
    soar_ratio: float | None
    passivation_charge_ratio: float | None
    passivation_current_ratio: float | None
    vertex_current_ma: float
    soaring: bool = False

    def to_dict(self) -> dict[str, Any]:
        return _clean(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class StepwiseCvResult:
    """Result of :func:`analyse_stepwise_cv`. ``soaring_cutoff_v`` is the first upper cut-off at which
    the anodic charge soars (absent when it never does)."""

    steps: tuple[StepwiseStep, ...]
    parameters: Mapping[str, Any]
    soaring_cutoff_v: float | None
    soaring_step_index: int | None
    scan_rate_mv_s: float | None

    def to_dict(self) -> dict[str, Any]:
        result = {'method': 'stepwise_cv', 'charge_unit': 'mAh'}
        result.update(_clean(self.parameters))
        result.update(
            _clean(
                {
                    'n_steps': len(self.steps),
                    'soaring_cutoff_v': self.soaring_cutoff_v,
                    'soaring_step_index': self.soaring_step_index,
                    'scan_rate_mv_s': self.scan_rate_mv_s,
                }
            )
        )
        result['steps'] = [step.to_dict() for step in self.steps]
        return result

    def arrays(self) -> dict[str, np.ndarray]:
        """Per-step arrays (NaN where a value is undefined) for plotting against ``upper_cutoff_v``."""

        def column(name):
            return np.array([np.nan if getattr(s, name) is None else getattr(s, name) for s in self.steps], dtype=float)

        names = (
            'upper_cutoff_v',
            'anodic_charge_mah',
            'cathodic_charge_mah',
            'reverse_charge_ratio',
            'new_window_charge_mah_v',
            'soar_ratio',
            'passivation_charge_ratio',
            'passivation_current_ratio',
            'vertex_current_ma',
        )
        return {name: column(name) for name in names}


def _charge_mah(current: np.ndarray, time: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Trapezoidal integral of the current over the rows where ``mask`` holds (both ends of an interval)."""
    if current.size < 2:
        return 0.0
    segment = 0.5 * (current[1:] + current[:-1]) * np.diff(time)
    if mask is not None:
        segment = segment[mask[1:] & mask[:-1]]
    return float(segment.sum()) / 3600.0


def analyse_stepwise_cv(
    potential_v: Any,
    current_ma: Any,
    *,
    time_s: Any = None,
    scan_rate_mv_s: float | None = None,
    cycle_index: Any = None,
    soar_factor: float = 3.0,
    reference_steps: int = 3,
    confirm_steps: int = 1,
    ucv_tolerance_v: float = 0.01,
    reversal_tolerance_v: float | None = None,
) -> StepwiseCvResult:
    """Stepwise cyclic voltammetry (seed 000 / thesis chapter 5): the upper cut-off rises step by step
    (e.g. 2.8 -> 4.0 V by 0.10 V, then 4.0 -> 5.0 V by 0.05 V) at a fixed lower cut-off.

    Vertices are detected from the data (:func:`segment_sweeps`); anodic scans with the same vertex
    (within ``ucv_tolerance_v``) form one step. Per step: the anodic charge, the cathodic charge of the
    reverse scan (are the decomposition products redox active?), the passivation ratios (is the
    current of the next scan below the previous cut-off lower?), and the charge of the newly opened
    potential range per volt. **Soaring** is defined as: the first step whose new-range charge per
    volt is at least ``soar_factor`` times the median of the previous ``reference_steps`` steps, and
    does not fall below that value in the next ``confirm_steps`` steps (where recorded).

    Charges are integrals of the total current (the capacitive part included), in mAh; they need
    ``time_s`` or, without it, ``scan_rate_mv_s`` (``dt = |dE| / rate``).

    :raises VoltammetryError: bad input, no anodic scan, or upper cut-offs that decrease.
    """
    potential, current, time, cycles = _check_inputs(potential_v, current_ma, time_s, cycle_index)
    rate_given = _positive_or_none('scan_rate_mv_s', scan_rate_mv_s)
    if time is None:
        if rate_given is None:
            raise VoltammetryError('stepwise CV: charges need time_s or scan_rate_mv_s')
        travel = np.concatenate(([0.0], np.cumsum(np.abs(np.diff(potential)))))
        time = travel / (rate_given / 1000.0)
    if not soar_factor > 1:
        raise VoltammetryError(f'soar_factor: must be > 1, got {soar_factor}')
    if int(reference_steps) < 1:
        raise VoltammetryError(f'reference_steps: must be >= 1, got {reference_steps}')
    if int(confirm_steps) < 0:
        raise VoltammetryError(f'confirm_steps: must be >= 0, got {confirm_steps}')
    tolerance = _positive_or_none('ucv_tolerance_v', ucv_tolerance_v)
    sweeps = _segment(potential, time, cycles, reversal_tolerance_v, 5)
    anodic = [k for k, s in enumerate(sweeps) if s.direction == ANODIC]
    if not anodic:
        raise VoltammetryError('stepwise CV: the record has no anodic (upward) scan')
    # group anodic scans into steps by their vertex
    groups: list[list[int]] = []
    vertices: list[float] = []
    for k in anodic:
        vertex = float(potential[sweeps[k].slice].max())
        if groups and abs(vertex - vertices[-1]) <= tolerance:
            groups[-1].append(k)
            continue
        if groups and vertex < vertices[-1] - tolerance:
            # a last scan cut short by the end of the record is not a step
            if k == anodic[-1] and k == len(sweeps) - 1:
                break
            raise VoltammetryError(
                f'stepwise CV: the upper cut-off decreases at sweep {k} ({vertex:.4g} V after {vertices[-1]:.4g} V)'
            )
        groups.append([k])
        vertices.append(vertex)

    def scan(k):
        sl = sweeps[k].slice
        return potential[sl], current[sl], time[sl]

    charge_per_volt: list[float | None] = []
    records = []
    for index, (group, ucv) in enumerate(zip(groups, vertices)):
        first = group[0]
        e, i, t = scan(first)
        anodic_charge = _charge_mah(np.clip(i, 0, None), t)
        cathodic = None
        lower = None
        if first + 1 < len(sweeps) and sweeps[first + 1].direction == CATHODIC:
            er, ir, tr = scan(first + 1)
            cathodic = _charge_mah(np.clip(-ir, 0, None), tr)
            lower = float(er.min())
        previous = vertices[index - 1] if index else None
        opened_from = previous if previous is not None else float(e.min())
        new_mask = e > opened_from if previous is not None else np.ones(e.size, dtype=bool)
        new_charge = _charge_mah(np.clip(i, 0, None), t, new_mask)
        width = ucv - opened_from
        per_volt = new_charge / width if width > 0 else None
        charge_per_volt.append(per_volt)
        passivation_charge = passivation_current = None
        if previous is not None:
            ep, ip, tp = scan(groups[index - 1][-1])
            below_prev = _charge_mah(np.clip(ip, 0, None), tp, ep <= previous)
            below_now = _charge_mah(np.clip(i, 0, None), t, e <= previous)
            if below_prev > 0:
                passivation_charge = below_now / below_prev
            vertex_current_prev = float(ip[np.argmax(ep)])
            order = np.argsort(e, kind='stable')
            current_now = float(np.interp(previous, e[order], i[order]))
            if vertex_current_prev != 0:
                passivation_current = current_now / vertex_current_prev
        records.append(
            {
                'step_index': index,
                'upper_cutoff_v': ucv,
                'cutoff_increment_v': None if previous is None else ucv - previous,
                'lower_cutoff_v': lower,
                'n_scans': len(group),
                'anodic_charge_mah': anodic_charge,
                'cathodic_charge_mah': cathodic,
                'reverse_charge_ratio': None if cathodic is None or anodic_charge <= 0 else cathodic / anodic_charge,
                'new_window_charge_mah': new_charge,
                'new_window_charge_mah_v': per_volt,
                'passivation_charge_ratio': passivation_charge,
                'passivation_current_ratio': passivation_current,
                'vertex_current_ma': float(i[np.argmax(e)]),
            }
        )
    # soar ratios and the soaring step
    soaring_index = None
    for index, record in enumerate(records):
        ratio = None
        previous_values = [v for v in charge_per_volt[max(0, index - int(reference_steps)) : index] if v is not None]
        value = charge_per_volt[index]
        if previous_values and value is not None:
            reference = float(np.median(previous_values))
            if reference > 0:
                ratio = value / reference
        record['soar_ratio'] = ratio
        if soaring_index is None and ratio is not None and ratio >= soar_factor:
            following = [v for v in charge_per_volt[index + 1 : index + 1 + int(confirm_steps)] if v is not None]
            if all(v >= value for v in following):
                soaring_index = index
    steps = tuple(StepwiseStep(soaring=(k == soaring_index), **record) for k, record in enumerate(records))
    rates = [s.scan_rate_mv_s for s in sweeps if s.scan_rate_mv_s is not None]
    rate = rate_given if rate_given is not None else (float(np.median(rates)) if rates else None)
    parameters = {
        'soar_factor': float(soar_factor),
        'reference_steps': int(reference_steps),
        'confirm_steps': int(confirm_steps),
        'ucv_tolerance_v': tolerance,
        'reversal_tolerance_v': reversal_tolerance_v,
        'charge_basis': 'total current (capacitive included), trapezoidal integral over time',
    }
    return StepwiseCvResult(
        steps=steps,
        parameters=parameters,
        soaring_cutoff_v=None if soaring_index is None else steps[soaring_index].upper_cutoff_v,
        soaring_step_index=soaring_index,
        scan_rate_mv_s=rate,
    )
