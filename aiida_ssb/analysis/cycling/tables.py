"""The half-cycle and cycle tables of a segmented record (dicts of equally long numpy arrays)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from aiida_ssb.analysis.cycling.inputs import SECONDS_PER_HOUR
from aiida_ssb.analysis.cycling.segment import Segmentation, counter_increments
from aiida_ssb.analysis.cycling.settings import CE_CONVENTIONS

__all__ = [
    'Counters',
    'cycle_table',
    'half_cycle_table',
    'per_mass',
    'ratio_percent',
    'relative_change',
    'to_python',
    'truncated_last_half_cycle',
]


def to_python(value: Any) -> Any:
    """Plain Python scalar (JSON-serialisable) from a numpy scalar."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class Counters:
    """The instrument's optional columns (validated arrays or None): cycle and half-cycle counters, and its
    per-half-cycle capacity and energy counters."""

    def __init__(self, **columns: np.ndarray | None):
        self.half_cycle_index = columns.get('half_cycle_index')
        self.cycle_index = columns.get('cycle_index')
        self.charge_capacity_mah = columns.get('charge_capacity_mah')
        self.discharge_capacity_mah = columns.get('discharge_capacity_mah')
        self.charge_energy_mwh = columns.get('charge_energy_mwh')
        self.discharge_energy_mwh = columns.get('discharge_energy_mwh')


def per_mass(table: dict[str, np.ndarray], masses: dict[str, float], pairs: Sequence[tuple[str, str, str]]) -> None:
    """Add specific columns: (source column, target stem, kind) with kind 'mah_g' or 'wh_kg'."""
    for source, stem, kind in pairs:
        for basis, mass_mg in masses.items():
            # mAh / mg * 1000 = mAh/g ; mWh / mg * 1000 = Wh/kg
            table[f'{stem}_{kind}_{basis}'] = table[source] * (1000.0 / mass_mg)


def ratio_percent(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide='ignore', invalid='ignore'):
        out = 100.0 * numerator / denominator
    out[~np.isfinite(out)] = np.nan
    return np.asarray(out)


def relative_change(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.asarray(np.abs(values[1:] / values[:-1] - 1.0))


def half_cycle_table(
    seg: Segmentation,
    t: np.ndarray,
    v: np.ndarray,
    masses: dict[str, float],
    area: float | None,
    one_c: float | None,
    counters: Counters,
) -> dict[str, np.ndarray]:
    """One row per half cycle (see the docs page ``analysis/cycling`` for every column). ``v`` is the voltage
    column whose values the segmentation integrated (``seg.voltage_c`` are its counted rows)."""
    starts = seg.seg_start
    first, last = seg.first_row, seg.last_row
    voltage_c = seg.voltage_c
    capacity = seg.reduce(seg.dq_c)
    energy = seg.reduce(seg.de_c)
    duration = seg.reduce(seg.dt_c)
    if seg.cv_c.any():
        cv_capacity = seg.reduce(np.where(seg.cv_c, seg.dq_c, 0.0))
        cv_energy = seg.reduce(np.where(seg.cv_c, seg.de_c, 0.0))
        cv_duration = seg.reduce(np.where(seg.cv_c, seg.dt_c, 0.0))
    else:
        cv_capacity = np.zeros(starts.size)
        cv_energy = np.zeros(starts.size)
        cv_duration = np.zeros(starts.size)
    cc_capacity = capacity - cv_capacity
    cc_duration = duration - cv_duration
    with np.errstate(divide='ignore', invalid='ignore'):
        average_voltage = np.where(capacity > 0, energy / capacity, np.nan)
        mean_current = np.where(duration > 0, capacity / (duration / SECONDS_PER_HOUR), np.nan)
        cc_current = np.where(cc_duration > 0, cc_capacity / (cc_duration / SECONDS_PER_HOUR), np.nan)
    table: dict[str, np.ndarray] = {
        'half_cycle': np.arange(1, starts.size + 1),
        'direction': seg.direction,
        'start_row': first,
        'end_row': last,
        'n_points': seg.seg_stop - starts,
        'start_time_s': t[first],
        'end_time_s': t[last],
        'duration_s': duration,
        'capacity_mah': capacity,
        'energy_mwh': energy,
        'average_voltage_v': average_voltage,
        'mean_current_ma': mean_current,
        'max_current_ma': np.maximum.reduceat(seg.current_c, starts),
        'start_voltage_v': v[first],
        'end_voltage_v': v[last],
        'min_voltage_v': np.minimum.reduceat(voltage_c, starts),
        'max_voltage_v': np.maximum.reduceat(voltage_c, starts),
        'cc_capacity_mah': cc_capacity,
        'cv_capacity_mah': cv_capacity,
        'cc_energy_mwh': energy - cv_energy,
        'cv_energy_mwh': cv_energy,
        'cc_duration_s': cc_duration,
        'cv_duration_s': cv_duration,
        'cc_current_ma': cc_current,
    }
    if one_c is not None:
        table['c_rate'] = cc_current / one_c
    if area is not None:
        table['capacity_mah_cm2'] = capacity / area
        table['current_density_ma_cm2'] = cc_current / area
    charge = seg.direction > 0
    if counters.charge_capacity_mah is not None and counters.discharge_capacity_mah is not None:
        inc_ch = seg.reduce(counter_increments(counters.charge_capacity_mah, seg))
        inc_dis = seg.reduce(counter_increments(counters.discharge_capacity_mah, seg))
        table['capacity_instrument_mah'] = np.where(charge, inc_ch, inc_dis)
    if counters.charge_energy_mwh is not None and counters.discharge_energy_mwh is not None:
        inc_ch = seg.reduce(counter_increments(counters.charge_energy_mwh, seg))
        inc_dis = seg.reduce(counter_increments(counters.discharge_energy_mwh, seg))
        table['energy_instrument_mwh'] = np.where(charge, inc_ch, inc_dis)
    if counters.half_cycle_index is not None:
        table['instrument_half_cycle_index'] = counters.half_cycle_index[first]
    if counters.cycle_index is not None:
        table['instrument_cycle_index'] = counters.cycle_index[first]
    per_mass(table, masses, (('capacity_mah', 'capacity', 'mah_g'), ('energy_mwh', 'energy', 'wh_kg')))
    return table


def truncated_last_half_cycle(half: dict[str, np.ndarray], cutoff_tolerance_v: float) -> str | None:
    """A message when the record seems to end inside its last half cycle, else None.

    The last half cycle is *truncated* when it neither ends near the voltage at which the earlier half cycles
    of its direction end (within ``max(3 x cutoff_tolerance_v, 2 % of the voltage span)``) nor lasts at least
    98 % of their duration (a time- or capacity-limited protocol ends normally). "The earlier half cycles" is
    checked twice: their median, and the one just before (the same direction); matching either is enough. The
    median alone would flag the complete last half cycle of a long record whose end voltage drifts and whose
    capacity fades gradually, because the median sits in the middle of the record, not at its end. Needs at
    least two earlier half cycles of that direction.
    """
    direction = half['direction']
    k = direction.size - 1
    same = np.flatnonzero(direction[:k] == direction[k])
    if same.size < 2:
        return None
    end_v = half['end_voltage_v']
    duration = half['duration_s']
    span = float(np.max(half['max_voltage_v']) - np.min(half['min_voltage_v']))
    tolerance = max(3.0 * cutoff_tolerance_v, 0.02 * span)
    previous = int(same[-1])
    references = (
        (float(np.median(end_v[same])), float(np.median(duration[same]))),
        (float(end_v[previous]), float(duration[previous])),
    )
    for reference_v, reference_s in references:
        if abs(end_v[k] - reference_v) <= tolerance or duration[k] >= 0.98 * reference_s:
            return None
    (median_v, median_s), (previous_v, previous_s) = references
    name = 'charge' if direction[k] > 0 else 'discharge'
    return (
        f'the record seems to end inside half cycle {k + 1} ({name} ends at {end_v[k]:.3f} V after '
        f'{duration[k]:.0f} s; the earlier ones end at {median_v:.3f} V after {median_s:.0f} s, the one before '
        f'at {previous_v:.3f} V after {previous_s:.0f} s): its cycle is treated as incomplete'
    )


def cycle_table(
    half: dict[str, np.ndarray],
    first_half: str,
    ce_convention: str,
    masses: dict[str, float],
    area: float | None,
    one_c: float | None,
) -> tuple[dict[str, np.ndarray], float | None]:
    direction = half['direction']
    opening = 1 if first_half == 'charge' else -1
    cycle_of_half = np.cumsum(direction == opening)
    first_number = int(cycle_of_half[0])
    slot = cycle_of_half - first_number
    n_cycles = int(slot[-1]) + 1
    is_ch = direction > 0
    is_dis = ~is_ch

    def by_cycle(values: np.ndarray, which: np.ndarray) -> np.ndarray:
        return np.bincount(slot, weights=np.where(which, values, 0.0), minlength=n_cycles)

    n_ch = np.bincount(slot, weights=is_ch.astype(float), minlength=n_cycles)
    n_dis = np.bincount(slot, weights=is_dis.astype(float), minlength=n_cycles)
    has_ch = n_ch > 0
    has_dis = n_dis > 0

    def masked(values: np.ndarray, present: np.ndarray) -> np.ndarray:
        return np.where(present, values, np.nan)

    q_ch = masked(by_cycle(half['capacity_mah'], is_ch), has_ch)
    q_dis = masked(by_cycle(half['capacity_mah'], is_dis), has_dis)
    e_ch = masked(by_cycle(half['energy_mwh'], is_ch), has_ch)
    e_dis = masked(by_cycle(half['energy_mwh'], is_dis), has_dis)
    cc_q_ch = by_cycle(half['cc_capacity_mah'], is_ch)
    cc_q_dis = by_cycle(half['cc_capacity_mah'], is_dis)
    cc_t_ch = by_cycle(half['cc_duration_s'], is_ch)
    cc_t_dis = by_cycle(half['cc_duration_s'], is_dis)
    with np.errstate(divide='ignore', invalid='ignore'):
        v_ch = e_ch / q_ch
        v_dis = e_dis / q_dis
        i_ch = np.where(cc_t_ch > 0, cc_q_ch / (cc_t_ch / SECONDS_PER_HOUR), np.nan)
        i_dis = np.where(cc_t_dis > 0, cc_q_dis / (cc_t_dis / SECONDS_PER_HOUR), np.nan)
    upper = np.full(n_cycles, -np.inf)
    lower = np.full(n_cycles, np.inf)
    np.maximum.at(upper, slot, half['max_voltage_v'])
    np.minimum.at(lower, slot, half['min_voltage_v'])
    ch_upper = np.full(n_cycles, -np.inf)
    np.maximum.at(ch_upper, slot[is_ch], half['max_voltage_v'][is_ch])
    start_time = np.full(n_cycles, np.inf)
    end_time = np.full(n_cycles, -np.inf)
    np.minimum.at(start_time, slot, half['start_time_s'])
    np.maximum.at(end_time, slot, half['end_time_s'])

    complete = has_ch & has_dis
    complete &= np.bincount(slot, weights=half['truncated'], minlength=n_cycles) == 0
    numerator, denominator = CE_CONVENTIONS[ce_convention]
    q = {'charge': q_ch, 'discharge': q_dis}
    e = {'charge': e_ch, 'discharge': e_dis}
    ce = ratio_percent(q[numerator], q[denominator])
    ee = ratio_percent(e['discharge'], e['charge'])  # energy out over energy in, whatever the CE orientation
    irreversible = q[denominator] - q[numerator]
    table: dict[str, np.ndarray] = {
        'cycle': np.arange(n_cycles) + first_number,
        'complete': complete,
        'n_half_cycles': np.bincount(slot, minlength=n_cycles),
        'start_time_s': start_time,
        'end_time_s': end_time,
        'charge_capacity_mah': q_ch,
        'discharge_capacity_mah': q_dis,
        'charge_energy_mwh': e_ch,
        'discharge_energy_mwh': e_dis,
        'average_charge_voltage_v': v_ch,
        'average_discharge_voltage_v': v_dis,
        'voltage_gap_v': v_ch - v_dis,
        'coulombic_efficiency_percent': ce,
        'energy_efficiency_percent': ee,
        'irreversible_capacity_mah': irreversible,
        'cumulative_irreversible_capacity_mah': np.cumsum(np.nan_to_num(irreversible)),
        'cumulative_charge_capacity_mah': np.cumsum(np.nan_to_num(q_ch)),
        'cumulative_discharge_capacity_mah': np.cumsum(np.nan_to_num(q_dis)),
        'charge_current_ma': i_ch,
        'discharge_current_ma': i_dis,
        'upper_voltage_v': np.where(np.isfinite(upper), upper, np.nan),
        'lower_voltage_v': np.where(np.isfinite(lower), lower, np.nan),
        'charge_upper_voltage_v': np.where(np.isfinite(ch_upper), ch_upper, np.nan),
    }
    if one_c is not None:
        table['charge_c_rate'] = i_ch / one_c
        table['discharge_c_rate'] = i_dis / one_c
    if 'capacity_instrument_mah' in half:
        table['charge_capacity_instrument_mah'] = masked(by_cycle(half['capacity_instrument_mah'], is_ch), has_ch)
        table['discharge_capacity_instrument_mah'] = masked(by_cycle(half['capacity_instrument_mah'], is_dis), has_dis)
    if 'energy_instrument_mwh' in half:
        table['charge_energy_instrument_mwh'] = masked(by_cycle(half['energy_instrument_mwh'], is_ch), has_ch)
        table['discharge_energy_instrument_mwh'] = masked(by_cycle(half['energy_instrument_mwh'], is_dis), has_dis)
    if area is not None:
        table['charge_capacity_mah_cm2'] = q_ch / area
        table['discharge_capacity_mah_cm2'] = q_dis / area
    per_mass(
        table,
        masses,
        (
            ('charge_capacity_mah', 'charge_capacity', 'mah_g'),
            ('discharge_capacity_mah', 'discharge_capacity', 'mah_g'),
            ('irreversible_capacity_mah', 'irreversible_capacity', 'mah_g'),
            ('charge_energy_mwh', 'charge_energy', 'wh_kg'),
            ('discharge_energy_mwh', 'discharge_energy', 'wh_kg'),
        ),
    )
    half['cycle'] = cycle_of_half
    pairing = None
    if 'instrument_cycle_index' in half and complete.any():
        inst = half['instrument_cycle_index']
        lo = np.full(n_cycles, np.inf)
        hi = np.full(n_cycles, -np.inf)
        np.minimum.at(lo, slot, inst)
        np.maximum.at(hi, slot, inst)
        same = (lo == hi)[complete]
        if np.unique(inst).size > 1:
            pairing = float(same.mean())
        table['instrument_cycle_index'] = np.where(np.isfinite(lo), lo, np.nan)
    return table, pairing
