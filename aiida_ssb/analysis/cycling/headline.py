"""The flat headline numbers of a cycling summary (unit-suffixed keys; unknown values are absent)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from aiida_ssb.analysis.cycling.protocol import cycles_below
from aiida_ssb.analysis.cycling.quantities import first_cycles_at_ce
from aiida_ssb.analysis.cycling.tables import to_python

__all__ = ['headline_numbers']


class _Out(dict[str, Any]):
    """A dict that keeps only finite numbers and plain Python scalars."""

    def put(self, key: str, value: Any) -> None:
        value = to_python(value)
        if isinstance(value, float) and not math.isfinite(value):
            return
        self[key] = value


def _cycle_numbers(
    out: _Out, prefix: str, cycles: Mapping[str, np.ndarray], pos: int, numerator: str, bases: Sequence[str]
) -> None:
    out.put(f'{prefix}_cycle', int(cycles['cycle'][pos]))
    for half_name in ('charge', 'discharge'):
        out.put(f'{prefix}_{half_name}_capacity_mah', cycles[f'{half_name}_capacity_mah'][pos])
        for basis in bases:
            out.put(f'{prefix}_{half_name}_capacity_mah_g_{basis}', cycles[f'{half_name}_capacity_mah_g_{basis}'][pos])
        out.put(f'{prefix}_{half_name}_energy_mwh', cycles[f'{half_name}_energy_mwh'][pos])
        out.put(f'{prefix}_average_{half_name}_voltage_v', cycles[f'average_{half_name}_voltage_v'][pos])
    out.put(f'{prefix}_coulombic_efficiency_percent', cycles['coulombic_efficiency_percent'][pos])
    out.put(f'{prefix}_energy_efficiency_percent', cycles['energy_efficiency_percent'][pos])
    out.put(f'{prefix}_voltage_gap_v', cycles['voltage_gap_v'][pos])
    for name in ('voltage_gap_at_soc_v', 'overpotential_at_soc_v', 'plateau_voltage_gap_v', 'plateau_overpotential_v'):
        if name in cycles:
            out.put(f'{prefix}_{name}', cycles[name][pos])
    for basis in bases:
        out.put(f'{prefix}_specific_energy_wh_kg_{basis}', cycles[f'{numerator}_energy_wh_kg_{basis}'][pos])
    if 'charge_capacity_mah_cm2' in cycles:
        out.put(f'{prefix}_{numerator}_capacity_mah_cm2', cycles[f'{numerator}_capacity_mah_cm2'][pos])


def _retention(
    out: _Out,
    cycles: Mapping[str, np.ndarray],
    reference_cycle: int,
    numerator: str,
    retention_at: Sequence[int],
    retention_after: Sequence[int],
    thresholds: Sequence[float],
) -> None:
    complete = cycles['complete']
    number_to_pos = {int(c): k for k, c in enumerate(cycles['cycle'])}
    end = int(np.flatnonzero(complete)[-1])
    retention = cycles['capacity_retention_percent']
    energy_retention = cycles['energy_retention_percent']
    out.put('capacity_retention_percent_at_end', retention[end])
    out.put('energy_retention_percent_at_end', energy_retention[end])
    requested = [(f'at_cycle_{int(c)}', int(c)) for c in retention_at]
    requested += [(f'after_{int(k)}_cycles', reference_cycle + int(k) - 1) for k in retention_after]
    for label, number in requested:
        pos = number_to_pos.get(number)
        if pos is None or not complete[pos]:
            continue
        out.put(f'capacity_retention_percent_{label}', retention[pos])
        out.put(f'energy_retention_percent_{label}', energy_retention[pos])
        out.put(f'{numerator}_capacity_mah_{label}', cycles[f'{numerator}_capacity_mah'][pos])
    comp_numbers = cycles['cycle'][complete]
    comp_ret = retention[complete]
    comp_eret = energy_retention[complete]
    ref_pos_c = int(np.flatnonzero(comp_numbers == reference_cycle)[0])
    for threshold in thresholds:
        tag = f'{threshold:g}'.replace('.', 'p')
        hit = cycles_below(comp_ret, ref_pos_c, threshold)
        if hit is not None:
            out.put(f'cycles_to_{tag}_percent', int(comp_numbers[hit]) - reference_cycle)
            out.put(f'cycle_below_{tag}_percent', int(comp_numbers[hit]))
        hit = cycles_below(comp_eret, ref_pos_c, threshold)
        if hit is not None:
            out.put(f'cycles_to_{tag}_percent_energy', int(comp_numbers[hit]) - reference_cycle)
    after = comp_ret[ref_pos_c:]
    if after.size:
        out.put('min_capacity_retention_percent', np.nanmin(after))


def _rate(out: _Out, rate_table: Mapping[str, np.ndarray], numerator: str) -> None:
    rate = rate_table['c_rate'] if 'c_rate' in rate_table else rate_table['current_ma']
    unit = 'c_rate' if 'c_rate' in rate_table else 'current_ma'
    low = int(np.nanargmin(rate))
    high = int(np.nanargmax(rate))
    capacity = rate_table[f'{numerator}_capacity_mah']
    out.put('rate_capability_percent', 100.0 * capacity[high] / capacity[low])
    out.put(f'rate_capability_high_{unit}', rate[high])
    out.put(f'rate_capability_low_{unit}', rate[low])
    if rate.size >= 2 and abs(rate[-1] / rate[0] - 1.0) <= 0.1:
        out.put('rate_recovery_percent', 100.0 * capacity[-1] / capacity[0])


def _first_half_cycles(out: _Out, half: Mapping[str, np.ndarray]) -> None:
    """Share of the capacity of the record's first charge and first discharge below / above each threshold."""
    for name, sign in (('charge', 1), ('discharge', -1)):
        found = np.flatnonzero(half['direction'] == sign)
        if not found.size:
            continue
        k = int(found[0])
        for column, values in half.items():
            if column.startswith(('capacity_below_', 'capacity_above_')):
                out.put(f'first_{name}_{column}', values[k])


def headline_numbers(
    half: Mapping[str, np.ndarray],
    cycles: Mapping[str, np.ndarray],
    blocks: Sequence[Mapping[str, Any]],
    rate_table: Mapping[str, np.ndarray],
    *,
    numerator: str,
    bases: Sequence[str],
    reference_cycle: int | None,
    reference_reason: str,
    settings: Any,
    pairing_agreement: float | None,
) -> dict[str, Any]:
    """The headline numbers (see the docs page ``analysis/cycling``): counts, the first (``initial_``), second,
    reference and last (``end_``) complete cycles, retention, cycles to x %, CE levels, rate capability."""
    out = _Out(
        n_half_cycles=int(half['half_cycle'].size),
        n_cycles=int(cycles['cycle'].size),
        n_complete_cycles=int(cycles['complete'].sum()),
        n_charge_half_cycles=int((half['direction'] > 0).sum()),
        n_discharge_half_cycles=int((half['direction'] < 0).sum()),
        total_charge_capacity_mah=float(half['capacity_mah'][half['direction'] > 0].sum()),
        total_discharge_capacity_mah=float(half['capacity_mah'][half['direction'] < 0].sum()),
    )
    if pairing_agreement is not None:
        out['instrument_pairing_agreement'] = pairing_agreement
    _first_half_cycles(out, half)
    complete = cycles['complete']
    positions = np.flatnonzero(complete)
    if positions.size == 0:
        return dict(out)
    first, end = int(positions[0]), int(positions[-1])
    _cycle_numbers(out, 'initial', cycles, first, numerator, bases)
    if positions.size > 1:
        second = int(positions[1])
        out.put('second_cycle', int(cycles['cycle'][second]))
        out.put('second_coulombic_efficiency_percent', cycles['coulombic_efficiency_percent'][second])
        out.put('second_energy_efficiency_percent', cycles['energy_efficiency_percent'][second])
    out.put('first_cycle_irreversible_capacity_mah', cycles['irreversible_capacity_mah'][first])
    for basis in bases:
        out.put(
            f'first_cycle_irreversible_capacity_mah_g_{basis}', cycles[f'irreversible_capacity_mah_g_{basis}'][first]
        )
    _cycle_numbers(out, 'end', cycles, end, numerator, bases)
    out['reference_reason'] = reference_reason
    if reference_cycle is not None:
        position = int(np.flatnonzero(cycles['cycle'] == reference_cycle)[0])
        _cycle_numbers(out, 'reference', cycles, position, numerator, bases)
        _retention(
            out,
            cycles,
            reference_cycle,
            numerator,
            settings.retention_at,
            settings.retention_after,
            settings.retention_thresholds_percent,
        )
    ce = cycles['coulombic_efficiency_percent'][complete]
    if ce.size > 1:
        out.put('median_coulombic_efficiency_percent_after_first', np.nanmedian(ce[1:]))
    out.update(first_cycles_at_ce(cycles, settings.ce_levels_percent))
    for block in blocks:
        if block['kind'] == 'formation':
            out.put('formation_cycles', block['n_cycles'])
            break
    if rate_table:
        _rate(out, rate_table, numerator)
    return dict(out)
