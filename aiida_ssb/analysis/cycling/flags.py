"""Plausibility checks of a cycling result: flags with their reason and threshold, stored with the result.

A flag never changes a number and never stops an analysis or an import; it says that a number contradicts the
cell record or physics. Each check, its threshold and the setting that moves it are listed in :data:`FLAGS` and on
the page "How aiida-ssb counts".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from aiida_ssb.analysis.cycling.conventions import CellFacts

__all__ = ['FLAGS', 'flag', 'plausibility_flags']

#: flag name -> (severity, what it means and its threshold)
FLAGS: dict[str, tuple[str, str]] = {
    'first_step_contradicts_convention': (
        'warning',
        'the record opens with the other half cycle than the convention of the cell says (e.g. a discharge first in '
        'a cathode half cell); nothing is relabelled: check the cell record or set first_half',
    ),
    'capacity_above_theoretical': (
        'error',
        'the first-cycle capacity per active mass exceeds the active material theoretical capacity by more than '
        'theoretical_capacity_tolerance_percent (5 %): impossible, the mass, the material or the record is wrong',
    ),
    'capacity_off_theoretical': (
        'warning',
        'half cells: the first-cycle capacity per active mass is more than theoretical_capacity_tolerance_percent '
        '(5 %) off the theoretical capacity (the papers keep only cells within +-5 %)',
    ),
    'ce_above_100_percent': (
        'warning',
        'a coulombic efficiency above 100 % + ce_tolerance_percent (0.5 %) in a complete cycle (the first cycle of '
        'an anode-limited full cell, N/P < 1, excepted)',
    ),
    'average_voltage_outside_window': (
        'warning',
        'the average discharge voltage of the first complete cycle lies outside the window expected for the cell '
        'chemistry (average_voltage_window_v, else from the active materials)',
    ),
}


def flag(name: str, reason: str, **details: Any) -> dict[str, Any]:
    """One flag as stored: ``{'flag', 'severity', 'reason', ...details}``."""
    out = {'flag': name, 'severity': FLAGS[name][0], 'reason': reason}
    out.update({key: value for key, value in details.items() if value is not None})
    return out


def _first_step(half: Mapping[str, np.ndarray], first_half: str, source: str) -> list[dict[str, Any]]:
    directions = half['direction']
    if directions.size == 0:
        return []
    wanted = 1 if first_half == 'charge' else -1
    if int(directions[0]) == wanted:
        return []
    found = 'charge (positive current)' if directions[0] > 0 else 'discharge (negative current)'
    return [
        flag(
            'first_step_contradicts_convention',
            f'the record opens with a {found}, but cycles open with a {first_half} ({source}); the first half cycle '
            'is counted in cycle 0 and nothing is relabelled',
        )
    ]


def _theoretical(
    headline: Mapping[str, Any], numerator: str, facts: CellFacts, electrode: str | None, tolerance: float
) -> list[dict[str, Any]]:
    capacity = headline.get(f'initial_{numerator}_capacity_mah_g_active')
    theoretical = facts.electrode_value(electrode, 'theoretical_capacity_mah_g')
    if capacity is None or not theoretical:
        return []
    ratio = 100.0 * capacity / theoretical
    details = {'value_percent': ratio, 'theoretical_capacity_mah_g': theoretical}
    if ratio > 100.0 + tolerance:
        return [
            flag(
                'capacity_above_theoretical',
                f'first {numerator} capacity {capacity:.4g} mAh/g is {ratio:.1f} % of the theoretical '
                f'{theoretical:.4g} mAh/g (limit {100 + tolerance:g} %)',
                **details,
            )
        ]
    if facts.kind in ('cathode_half_cell', 'anode_half_cell') and abs(ratio - 100.0) > tolerance:
        return [
            flag(
                'capacity_off_theoretical',
                f'first {numerator} capacity {capacity:.4g} mAh/g is {ratio:.1f} % of the theoretical '
                f'{theoretical:.4g} mAh/g (outside +-{tolerance:g} %)',
                **details,
            )
        ]
    return []


def _anode_limited(facts: CellFacts) -> bool:
    if facts.kind not in ('full_cell', 'three_electrode_cell'):
        return False
    ratio = facts.values.get('np_ratio_measured') or facts.values.get('np_ratio_theoretical')
    return ratio is not None and ratio < 1.0


def _coulombic(cycles: Mapping[str, np.ndarray], facts: CellFacts, tolerance: float) -> list[dict[str, Any]]:
    complete = cycles['complete']
    numbers = cycles['cycle'][complete]
    ce = cycles['coulombic_efficiency_percent'][complete]
    above = ce > 100.0 + tolerance
    allowed = ''
    if above.size and _anode_limited(facts):
        above[0] = False
        allowed = ' (the first cycle of this anode-limited cell is allowed)'
    if not above.any():
        return []
    cycles_above = [int(x) for x in numbers[above]]
    shown = ', '.join(str(x) for x in cycles_above[:8]) + (' ...' if len(cycles_above) > 8 else '')
    return [
        flag(
            'ce_above_100_percent',
            f'CE above {100 + tolerance:g} % in {len(cycles_above)} cycle(s) ({shown}; highest '
            f'{float(np.nanmax(ce[above])):.2f} %){allowed}: a wrong CE convention, a side reaction or a record '
            'that mixes two cells',
            cycles=cycles_above[:50],
        )
    ]


def _voltage_window(
    headline: Mapping[str, Any], window: Sequence[float] | None, rule: str | None
) -> list[dict[str, Any]]:
    voltage = headline.get('initial_average_discharge_voltage_v')
    if voltage is None or window is None:
        return []
    low, high = float(window[0]), float(window[1])
    if low <= voltage <= high:
        return []
    return [
        flag(
            'average_voltage_outside_window',
            f'average discharge voltage {voltage:.3f} V of the first complete cycle is outside {low:g}-{high:g} V '
            f'({rule})',
            value_v=voltage,
            window_v=[low, high],
        )
    ]


def plausibility_flags(
    *,
    half: Mapping[str, np.ndarray],
    cycles: Mapping[str, np.ndarray],
    headline: Mapping[str, Any],
    facts: CellFacts,
    settings: Any,
    first_half: str,
    first_half_source: str,
    numerator: str,
    capacity_electrode: str | None,
) -> list[dict[str, Any]]:
    """Every flag of :data:`FLAGS` that the result raises (an empty list when none)."""
    flags = _first_step(half, first_half, first_half_source)
    flags += _theoretical(
        headline, numerator, facts, capacity_electrode, settings.theoretical_capacity_tolerance_percent
    )
    flags += _coulombic(cycles, facts, settings.ce_tolerance_percent)
    if settings.average_voltage_window_v is not None:
        window, rule = settings.average_voltage_window_v, 'average_voltage_window_v option'
    else:
        window = facts.values.get('average_voltage_window_v')
        rule = facts.values.get('average_voltage_window_rule') or 'from the cell record'
    flags += _voltage_window(headline, window, rule)
    return flags
