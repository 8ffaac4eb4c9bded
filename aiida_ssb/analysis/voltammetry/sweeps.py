"""Sweeps of a voltammetry record: where the potential turns, each sweep's direction, cycle and scan rate."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from aiida_ssb.analysis.voltammetry.common import (
    ANODIC,
    CATHODIC,
    VoltammetryError,
    check_inputs,
    clean,
    positive_or_none,
    robust_sigma,
)

__all__ = ['Sweep', 'scan_rate_mv_s', 'segment', 'segment_sweeps']


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
        return clean(
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


def scan_rate_mv_s(potential: np.ndarray, time: np.ndarray) -> float | None:
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
    potential, _, time, cycles = check_inputs(potential_v, None, time_s, cycle_index)
    return segment(potential, time, cycles, reversal_tolerance_v, min_sweep_points)


def segment(
    potential: np.ndarray,
    time: np.ndarray | None,
    cycles: np.ndarray | None,
    reversal_tolerance_v: float | None,
    min_sweep_points: int,
) -> list[Sweep]:
    """:func:`segment_sweeps` of arrays already checked."""
    n = potential.size
    if min_sweep_points < 2:
        raise VoltammetryError(f'min_sweep_points: must be >= 2, got {min_sweep_points}')
    given = positive_or_none('reversal_tolerance_v', reversal_tolerance_v)
    if given is None:
        noise = robust_sigma(np.diff(potential, 2)) / math.sqrt(6.0)
        tolerance = max(0.02, 10.0 * noise)
    else:
        tolerance = given
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
        step = 1 if potential[stop - 1] > potential[start] else -1
        if merged and merged[-1][2] == step:
            merged[-1][1] = stop
        else:
            merged.append([start, stop, step])
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
        rate = None if time is None else scan_rate_mv_s(potential[start:stop], time[start:stop])
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
