"""The papers' derived quantities of a cycling record: the voltage gap and the overpotential at matched state of
charge (at one state of charge and over the plateau), the fraction of a half cycle's capacity below and above a
voltage, and the first cycle whose coulombic efficiency reaches a level.

State of charge (SOC) within a cycle is counted on each half cycle's own capacity: after a fraction *s* of the
charge the SOC is *s*, after a fraction *u* of the discharge it is *1 - u*. The gap at matched SOC *s* is

    gap(s) = V_charge(s Q_charge) - V_discharge((1 - s) Q_discharge)

and the overpotential is half of its magnitude (each half cycle carries half of the polarisation). The plateau
gap is the mean of gap(s) over the SOC window. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from aiida_ssb.analysis.cycling.segment import Segmentation

__all__ = ['add_capacity_fractions', 'add_soc_gaps', 'first_cycles_at_ce', 'threshold_tag', 'voltage_at_fractions']

_PLATEAU_SAMPLES = 7


def threshold_tag(value: float) -> str:
    """``2.5`` -> ``'2p5'``, ``99.0`` -> ``'99'`` (a number as part of a field name)."""
    return f'{value:g}'.replace('.', 'p').replace('-', 'm')


def voltage_at_fractions(seg: Segmentation, voltage_c: np.ndarray, fractions: Sequence[float]) -> np.ndarray:
    """The voltage of each half cycle after each fraction of its capacity, shape (half cycles, fractions);
    linear in the charge passed between rows, the first row's voltage before it."""
    cumulative = np.cumsum(seg.dq_c)
    start, stop = seg.seg_start, seg.seg_stop
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    total = cumulative[stop - 1] - before
    wanted = np.asarray(fractions, dtype=np.float64)
    order = np.argsort(wanted)
    # within a half cycle the targets rise with the fraction, and each half cycle lies after the previous one:
    # all targets, row by row, are sorted, so one search serves them all
    target = before[:, None] + wanted[order][None, :] * total[:, None]
    low_row = start[:, None]
    high_row = stop[:, None] - 1
    index = np.searchsorted(cumulative, target.ravel(), side='left').reshape(target.shape)
    index = np.clip(index, low_row, high_row)
    previous = np.maximum(index - 1, low_row)
    low, high = cumulative[previous], cumulative[index]
    with np.errstate(divide='ignore', invalid='ignore'):
        weight = np.where(high > low, (target - low) / (high - low), 1.0)
    weight = np.clip(weight, 0.0, 1.0)
    weight = np.where(index > low_row, weight, 1.0)
    values = voltage_c[previous] + weight * (voltage_c[index] - voltage_c[previous])
    out = np.empty_like(values)
    out[:, order] = values
    out[total <= 0] = np.nan
    return np.asarray(out)


def _pairs(half: dict[str, np.ndarray], cycles: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per cycle, the index of its largest charge and of its largest discharge half cycle (-1 where absent)."""
    number = {int(c): k for k, c in enumerate(cycles['cycle'])}
    charge = np.full(cycles['cycle'].size, -1)
    discharge = np.full(cycles['cycle'].size, -1)
    best = np.zeros((cycles['cycle'].size, 2))
    for k, (cycle, direction, capacity) in enumerate(zip(half['cycle'], half['direction'], half['capacity_mah'])):
        position = number[int(cycle)]
        slot = 0 if direction > 0 else 1
        if capacity > best[position, slot]:
            best[position, slot] = capacity
            (charge if slot == 0 else discharge)[position] = k
    return charge, discharge


def add_soc_gaps(
    half: dict[str, np.ndarray],
    cycles: dict[str, np.ndarray],
    seg: Segmentation,
    voltage_c: np.ndarray,
    soc_percent: float,
    window_percent: tuple[float, float],
) -> None:
    """Add ``voltage_at_soc_v`` to the half cycles and ``voltage_gap_at_soc_v``, ``overpotential_at_soc_v``,
    ``plateau_voltage_gap_v`` and ``plateau_overpotential_v`` to the cycles (NaN where a half is missing)."""
    s = soc_percent / 100.0
    window = np.linspace(window_percent[0] / 100.0, window_percent[1] / 100.0, _PLATEAU_SAMPLES)
    fractions = [s, 1.0 - s, *window, *(1.0 - window)]
    voltages = voltage_at_fractions(seg, voltage_c, fractions)
    charge_half = half['direction'] > 0
    half['voltage_at_soc_v'] = np.where(charge_half, voltages[:, 0], voltages[:, 1])
    charge, discharge = _pairs(half, cycles)
    both = (charge >= 0) & (discharge >= 0)
    gap = np.full(charge.size, np.nan)
    plateau = np.full(charge.size, np.nan)
    n = window.size
    ch, dis = charge[both], discharge[both]
    gap[both] = voltages[ch, 0] - voltages[dis, 1]
    plateau[both] = np.mean(voltages[ch, 2 : 2 + n] - voltages[dis, 2 + n : 2 + 2 * n], axis=1)
    cycles['voltage_gap_at_soc_v'] = gap
    cycles['overpotential_at_soc_v'] = 0.5 * np.abs(gap)
    cycles['plateau_voltage_gap_v'] = plateau
    cycles['plateau_overpotential_v'] = 0.5 * np.abs(plateau)


def add_capacity_fractions(
    half: dict[str, np.ndarray], seg: Segmentation, voltage_c: np.ndarray, thresholds_v: Sequence[float]
) -> None:
    """Add ``capacity_below_<V>_v_percent`` and ``capacity_above_<V>_v_percent`` to the half cycles: the share of
    each half cycle's capacity passed below (above) the voltage V. An interval inside a half cycle counts at the
    mean of its two rows' voltages, an opening interval at its row's voltage."""
    if not thresholds_v:
        return
    interval_v = voltage_c.copy()
    inner = seg.prev_same_c.copy()
    inner[0] = False
    interval_v[1:] = np.where(inner[1:], 0.5 * (voltage_c[1:] + voltage_c[:-1]), voltage_c[1:])
    total = seg.reduce(seg.dq_c)
    for threshold in thresholds_v:
        below = seg.reduce(np.where(interval_v < threshold, seg.dq_c, 0.0))
        with np.errstate(divide='ignore', invalid='ignore'):
            share = np.where(total > 0, 100.0 * below / total, np.nan)
        tag = threshold_tag(threshold)
        half[f'capacity_below_{tag}_v_percent'] = share
        half[f'capacity_above_{tag}_v_percent'] = 100.0 - share


def first_cycles_at_ce(cycles: Mapping[str, np.ndarray], levels_percent: Sequence[float]) -> dict[str, int]:
    """``first_cycle_ce_above_<x>_percent``: the first complete cycle whose CE reaches x %, for each level
    reached."""
    complete = cycles['complete']
    numbers = cycles['cycle'][complete]
    ce = cycles['coulombic_efficiency_percent'][complete]
    out = {}
    for level in levels_percent:
        hit = np.flatnonzero(ce >= level)
        if hit.size:
            out[f'first_cycle_ce_above_{threshold_tag(level)}_percent'] = int(numbers[hit[0]])
    return out
