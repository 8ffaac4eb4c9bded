"""Settings of the cycling summary: every choice that changes a number of :func:`summarise_cycling`."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from aiida_ssb.analysis.constants import STANDARD_RETENTION_CYCLES
from aiida_ssb.analysis.settings import Settings

__all__ = [
    'CE_CONVENTIONS',
    'MASS_BASES',
    'STANDARD_RETENTION_CYCLES',
    'CyclingSettings',
    'parse_reference',
]

#: Accepted coulombic-efficiency conventions -> (numerator half, denominator half).
CE_CONVENTIONS: dict[str, tuple[str, str]] = {
    'discharge_over_charge': ('discharge', 'charge'),
    'charge_over_discharge': ('charge', 'discharge'),
}


#: mass bases of the specific capacities and energies -> what is weighed (see the page "How aiida-ssb counts")
MASS_BASES: dict[str, str] = {
    'active': 'active material of the electrode the capacity is counted on (the positive electrode of a full '
    'cell, the electrode under test of a half cell)',
    'composite': 'that electrode layer as stated (with any electrolyte mixed or infiltrated into it)',
    'both_composites': 'positive and negative electrode layers without their solid electrolyte (active material, '
    'carbon, binder; no separator, no current collector)',
    'stack': 'every layer of the stack (electrodes, separator, current collectors); only when every layer has a mass',
    'cell': 'the stack plus the housing; only when the housing mass is recorded',
    'electrolyte': 'the electrolyte/separator layer',
}

_REFERENCE = re.compile(
    r'^(first|first_after_formation|first_after_rate_test|cycle:\d+|c_rate:[0-9.]+|c_rate:C/[0-9.]+)$'
)

MassBasis = Literal['active', 'composite', 'both_composites', 'stack', 'cell', 'electrolyte']


class CyclingSettings(Settings):
    """Settings of the cycling summary (:func:`~aiida_ssb.analysis.cycling.summarise_cycling`).

    Masses, electrode area and the 1C current are inputs taken from the cell, not settings. ``auto`` conventions
    follow from the cell record by the rules of :mod:`aiida_ssb.analysis.cycling.conventions`; an explicit value
    wins."""

    first_half: Literal['auto', 'charge', 'discharge'] = Field(
        'auto',
        description='which half cycle opens a cycle; auto: from the cell (charge for a cathode half cell or a full '
        'cell, discharge for an anode half cell)',
    )
    ce_convention: Literal['auto', 'discharge_over_charge', 'charge_over_discharge'] = Field(
        'auto',
        description='coulombic efficiency convention; auto: from the cell (discharge/charge for a cathode half cell '
        'or a full cell, charge/discharge for an anode half cell)',
    )
    capacity_electrode: Literal['auto', 'positive', 'negative'] = Field(
        'auto',
        description='the electrode whose active material and layer give the active and composite mass bases and the '
        'theoretical capacity; auto: the electrode under test of a half cell, the positive one of a full cell',
    )
    c_rate_electrode: Literal['auto', 'positive', 'negative'] = Field(
        'auto', description='the electrode whose 1C current defines the C-rate; auto: as capacity_electrode'
    )
    reference: str = Field(
        'first_after_formation',
        description='retention reference: first, first_after_formation, first_after_rate_test, cycle:N or c_rate:C/5',
    )
    formation_cycles: int | None = Field(None, ge=0, description='number of formation cycles (detected when absent)')
    retention_at: tuple[int, ...] = Field(
        STANDARD_RETENTION_CYCLES, description='absolute cycle numbers at which retention is reported (and indexed)'
    )
    retention_after: tuple[int, ...] = Field(
        (), description='retention after N cycles counted from the reference cycle (the reference is cycle 1)'
    )
    retention_thresholds_percent: tuple[float, ...] = Field((95.0, 90.0, 80.0), description='cycles-to-x % thresholds')
    rest_current_ma: float | None = Field(
        None, gt=0, description='|I| at or below this is rest (default: from the data)'
    )
    integration: Literal['trapezoid', 'backward'] = Field(
        'trapezoid',
        description='integration of charge and energy: trapezoid (instantaneous current samples) or backward (the '
        'current column is the average over the interval, like EC-Lab <I>)',
    )
    mass_bases: tuple[MassBasis, ...] = Field(
        ('active', 'composite', 'both_composites', 'stack', 'cell'),
        description='mass bases of the specific capacities and energies (masses taken from the cell; a basis whose '
        'mass is not known is left out and the result says why)',
    )
    exclude_steps: tuple[int, ...] = Field((), description='instrument step indices whose rows are left out')
    rate_tolerance: float = Field(
        0.1, gt=0, lt=1, description='relative difference below which two cycles count as the same rate'
    )
    max_formation_cycles: int = Field(
        5, ge=1, description='the longest leading low-rate block that is detected as formation'
    )
    rate_step_cycles: tuple[int, int] = Field((2, 10), description='(min, max) cycles per step of a detected rate test')
    long_term_min_cycles: int = Field(20, ge=1, description='the shortest constant-rate block called long_term')
    cutoff_tolerance_v: float = Field(0.01, gt=0, description='voltage tolerance when grouping cut-off voltages')
    rate_test: tuple[int, int] | None = Field(
        None, description='(first_cycle, last_cycle) of the rate test, declared instead of detected'
    )
    min_half_cycle_fraction: float = Field(
        0.002,
        ge=0,
        lt=1,
        description='runs of reversed current below this fraction of the median half-cycle charge (and with no '
        'counter change) are noise',
    )
    cv_voltage_tolerance_v: float = Field(
        0.005, gt=0, description='voltage tolerance of the CV detection without a control-mode column'
    )
    cv_current_fraction: float = Field(
        0.9,
        gt=0,
        lt=1,
        description='without a control-mode column, a trailing constant-voltage run is CV when the current decays '
        'below this fraction of the half cycle largest current',
    )
    overpotential_soc_percent: float = Field(
        50.0,
        gt=0,
        lt=100,
        description='state of charge (percent of each half cycle capacity) at which the charge-discharge voltage '
        'gap and the overpotential are read',
    )
    plateau_soc_window_percent: tuple[float, float] = Field(
        (20.0, 80.0), description='window of state of charge over which the plateau voltage gap is averaged'
    )
    voltage_thresholds_v: tuple[float, ...] = Field(
        (), description='voltages V at which the fraction of each half cycle capacity below and above V is reported'
    )
    ce_levels_percent: tuple[float, ...] = Field(
        (98.0, 99.0, 99.9), description='CE levels x: the first cycle whose CE reaches x % is reported'
    )
    theoretical_capacity_tolerance_percent: float = Field(
        5.0,
        ge=0,
        description='plausibility: a half cell whose first capacity is more than this off the theoretical capacity '
        'is flagged; any cell above 100 % + this is flagged as impossible',
    )
    ce_tolerance_percent: float = Field(
        0.5, ge=0, description='plausibility: a CE above 100 % + this is flagged (outside the allowed first cycle)'
    )
    average_voltage_window_v: tuple[float, float] | None = Field(
        None,
        description='plausibility: expected window of the average discharge voltage (default: from the active '
        'materials of the cell, where known)',
    )

    @field_validator('reference')
    @classmethod
    def _reference(cls, value: str) -> str:
        value = value.strip()
        if not _REFERENCE.match(value):
            raise ValueError(
                f'{value!r} is not a reference rule: first, first_after_formation, first_after_rate_test, '
                'cycle:N or c_rate:C/5'
            )
        return value

    @model_validator(mode='after')
    def _ranges(self) -> CyclingSettings:
        for name in ('rate_step_cycles', 'rate_test', 'plateau_soc_window_percent', 'average_voltage_window_v'):
            pair = getattr(self, name)
            if pair is not None and not pair[0] <= pair[1]:
                raise ValueError(f'{name}: the first value must not exceed the second, got {list(pair)}')
        low, high = self.plateau_soc_window_percent
        if not 0 <= low < high <= 100:
            raise ValueError(f'plateau_soc_window_percent: must lie within 0-100 and be a window, got {[low, high]}')
        if self.rate_step_cycles[0] < 1:
            raise ValueError('rate_step_cycles: a step has at least one cycle')
        return self

    def reference_rule(self) -> Any:
        """``'cycle:6'`` -> ``('cycle', 6)``; ``'c_rate:C/5'`` -> ``('first_at_c_rate', 0.2)``; named rules as is."""
        return parse_reference(self.reference)


def parse_reference(value: str) -> Any:
    """``'cycle:6'`` -> ``('cycle', 6)``; ``'c_rate:C/5'`` -> ``('first_at_c_rate', 0.2)``; named rules unchanged."""
    if value.startswith('cycle:'):
        return ('cycle', int(value.split(':', 1)[1]))
    if value.startswith('c_rate:'):
        text = value.split(':', 1)[1].strip()
        rate = 1.0 / float(text[2:]) if text.upper().startswith('C/') else float(text)
        return ('first_at_c_rate', rate)
    return value
