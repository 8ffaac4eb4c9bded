"""Options of every analysis: validated here, stored as the ``options`` input of the ``analyse_*`` process.

Everything that changes a result is an option (or comes from an input node such as the cell): the stored
options Dict, the measurement and the cell make a result reproducible and cacheable.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from aiida_ssb.schemas.base import SsbModel

__all__ = [
    'ANALYSIS_OPTIONS',
    'ArrheniusOptions',
    'CcdOptions',
    'ConductivityOptions',
    'CyclingOptions',
    'EisFitOptions',
    'GrowthOptions',
    'OnsetOptions',
    'StepwiseCvOptions',
    'parse_reference',
]

#: bounds on a circuit string, checked before it is parsed (a 1,200-deep nesting would exhaust the parser)
MAX_CIRCUIT_LENGTH = 500
MAX_CIRCUIT_DEPTH = 16

#: cycles at which retention is reported by default (the cells table can filter at these)
STANDARD_RETENTION_CYCLES = (10, 20, 50, 100, 150, 200, 300, 400, 500, 800, 1000)

_REFERENCE = re.compile(
    r'^(first|first_after_formation|first_after_rate_test|cycle:\d+|c_rate:[0-9.]+|c_rate:C/[0-9.]+)$'
)


def parse_reference(value: str) -> Any:
    """``'cycle:6'`` -> ``('cycle', 6)``; ``'c_rate:C/5'`` -> ``('first_at_c_rate', 0.2)``; named rules unchanged."""
    if value.startswith('cycle:'):
        return ('cycle', int(value.split(':', 1)[1]))
    if value.startswith('c_rate:'):
        from aiida_ssb.schemas.cell import parse_c_rate

        return ('first_at_c_rate', parse_c_rate(value.split(':', 1)[1]))
    return value


class CyclingOptions(SsbModel):
    """Options of :func:`aiida_ssb.analysis.cycling.summarise_cycling` as stored with a cycling analysis.
    Masses, electrode area and the 1C current come from the cell."""

    first_half: Literal['charge', 'discharge'] = Field(
        'charge', description='which half cycle opens a cycle (charge for a cathode against a metal anode)'
    )
    ce_convention: Literal['discharge_over_charge', 'charge_over_discharge'] = Field(
        'discharge_over_charge', description='coulombic efficiency convention (cathode-limited cells: discharge/charge)'
    )
    reference: str = Field(
        'first_after_formation',
        description='retention reference: first, first_after_formation, first_after_rate_test, cycle:N or c_rate:C/5',
    )
    formation_cycles: int | None = Field(None, ge=0, description='number of formation cycles (detected when absent)')
    retention_at: list[int] = Field(
        list(STANDARD_RETENTION_CYCLES),
        description='absolute cycle numbers at which retention is reported (and indexed)',
    )
    retention_after: list[int] = Field(
        [], description='retention after N cycles counted from the reference cycle (the reference is cycle 1)'
    )
    retention_thresholds_percent: list[float] = Field([95.0, 90.0, 80.0], description='cycles-to-x % thresholds')
    rest_current_ma: float | None = Field(None, gt=0, description='|I| below this is rest (default: from the data)')
    integration: Literal['trapezoid', 'backward'] = 'trapezoid'
    mass_bases: list[Literal['active', 'composite', 'electrolyte', 'cell']] = Field(
        ['active', 'composite'], description='mass bases of the specific capacities (masses taken from the cell)'
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

    def kwargs(self) -> dict[str, Any]:
        data = self.model_dump(exclude={'mass_bases'})
        data['reference'] = parse_reference(self.reference)
        data['retention_at'] = tuple(self.retention_at)
        data['retention_after'] = tuple(self.retention_after)
        data['retention_thresholds_percent'] = tuple(self.retention_thresholds_percent)
        return {key: value for key, value in data.items() if value is not None}


class CcdOptions(SsbModel):
    """Options of :func:`aiida_ssb.analysis.ccd.critical_current_density`. The area comes from the cell."""

    drop_fraction: float = Field(
        0.5,
        gt=0,
        lt=1,
        description='a half cycle whose |V| falls below this fraction of its '
        'plateau (or of the ohmic expectation) is a sudden drop',
    )
    short_voltage_v: float = Field(0.005, gt=0, description='|V| below this, sustained, is a short (0 V criterion)')
    short_min_duration_s: float = Field(30.0, ge=0, description='how long |V| must stay below short_voltage_v')
    criterion: Literal['sudden_drop', 'zero_volt'] = Field(
        'sudden_drop',
        description='the criterion of the headline CCD: the last stable step before a sudden drop, or the step whose |V| collapses to 0 V',
    )
    voltage_limit_v: float | None = Field(None, gt=0, description='cut-off voltage (divergence detection)')
    rest_current_ma: float | None = Field(None, gt=0)

    def kwargs(self) -> dict[str, Any]:
        return {key: value for key, value in self.model_dump().items() if value is not None}


class OnsetOptions(SsbModel):
    """Options of :func:`aiida_ssb.analysis.voltammetry.find_onsets`. The electrode area (current density) comes
    from the cell, the scan rate from the measurement conditions (else estimated from the data)."""

    method: Literal['two_line', 'threshold', 'derivative'] = Field('two_line', description='onset method')
    direction: Literal['anodic', 'cathodic', 'both'] = Field('both', description='which sweeps to analyse')
    cycles: list[int] | None = Field(None, description='only these cycle indices (default: all)')
    r2_min: float = Field(0.99, gt=0, le=1, description='R2 each fitted line must reach (two-line method)')
    window_v: list[float] | None = Field(
        None, min_length=2, max_length=2, description='analyse only this potential range'
    )
    background_window_v: list[float] | None = Field(
        None, min_length=2, max_length=2, description='background fit window (automatic when absent)'
    )
    rise_window_v: list[float] | None = Field(
        None, min_length=2, max_length=2, description='faradaic rise fit window (automatic when absent)'
    )
    max_onsets: int | None = Field(None, gt=0, description='stop after this many onsets per sweep')
    threshold_ma: float | None = Field(None, gt=0, description='threshold method: current threshold')
    threshold_ma_cm2: float | None = Field(None, gt=0, description='threshold method: current-density threshold')
    k_consecutive: int = Field(3, gt=0, description='threshold method: points in a row above the threshold')
    subtract_background: bool = Field(False, description='threshold method: subtract a fitted background first')
    derivative_window_v: float = Field(0.05, gt=0, description='derivative method: smoothing window')
    k_sigma: float = Field(5.0, gt=0, description='derivative method: dI/dE above k x the background sigma')
    despike: bool = Field(True, description='ignore isolated single-point spikes')

    def kwargs(self) -> dict[str, Any]:
        data = self.model_dump()
        for key in ('window_v', 'background_window_v', 'rise_window_v'):
            if data[key] is not None:
                data[key] = tuple(data[key])
        return {key: value for key, value in data.items() if value is not None}


class StepwiseCvOptions(SsbModel):
    """Options of :func:`aiida_ssb.analysis.voltammetry.analyse_stepwise_cv` (a CV whose upper cut-off is raised
    step by step, seed 000)."""

    soar_factor: float = Field(
        3.0,
        gt=1,
        description='charge per volt of newly opened range, relative to the median '
        'of the previous steps, above which the current "soars"',
    )
    reference_steps: int = Field(3, ge=1, description='how many previous steps form that reference')
    confirm_steps: int = Field(1, ge=0, description='how many following steps must confirm the soaring')
    min_steps: int = Field(3, ge=2, description='a record is treated as stepwise from this many rising cut-offs')


class EisFitOptions(SsbModel):
    """Options of an equivalent-circuit fit (:func:`aiida_ssb.analysis.eis.fit_circuit`)."""

    circuit: str = Field(description='circuit string, e.g. R0-p(R1,CPE1)-p(R2,CPE2)-CPE3')
    roles: dict[str, str] = Field(
        {}, description='element -> physical role (bulk, grain_boundary, electrode, interface, cathode_interphase...)'
    )
    weighting: Literal['modulus', 'proportional', 'unit'] = Field('modulus', description='residual weighting')
    fixed: dict[str, float] = Field({}, description='parameters held at these values')
    initial: dict[str, float] | None = Field(None, description='initial guess (automatic when absent)')
    n_starts: int | None = Field(None, ge=1, description='multistart count (default of the fitter)')
    seed: int = Field(0, description='seed of the multistart')
    frequency_range_hz: list[float] | None = Field(
        None, min_length=2, max_length=2, description='fit only this frequency window'
    )
    max_chi2_over_z: float = Field(0.02, gt=0, description='fits above this chi2/|Z| are flagged not accepted')

    @field_validator('circuit')
    @classmethod
    def _parse_circuit(cls, value: str) -> str:
        from aiida_ssb.analysis.eis import Circuit

        if len(value) > MAX_CIRCUIT_LENGTH:
            raise ValueError(f'a circuit string has at most {MAX_CIRCUIT_LENGTH} characters')
        depth = deepest = 0
        for char in value:
            depth += (char == '(') - (char == ')')
            deepest = max(deepest, depth)
        if deepest > MAX_CIRCUIT_DEPTH:
            raise ValueError(f'a circuit nests at most {MAX_CIRCUIT_DEPTH} levels of p(...)')
        Circuit(value)  # raises a CircuitSyntaxError (a ValueError) naming the column
        return value


class ConductivityOptions(SsbModel):
    """How a conductivity is obtained from a spectrum: sigma = L / (R A), geometry from the cell."""

    method: Literal['auto', 'fit', 'intercept', 'plateau'] = Field(
        'auto',
        description='fit: a fitted resistance; intercept: the high-frequency real-axis intercept; '
        'plateau: the DC plateau of the real conductivity; auto: the fit when it is accepted '
        'and its arc lies within the measured frequencies, else the intercept',
    )
    resistance: str = Field(
        'bulk',
        description='fit method: which resistance, a role (bulk, bulk+grain_boundary, '
        'total) or element names joined by + (R1+R2)',
    )
    thickness_cm: float | None = Field(None, gt=0, description='override of the electrolyte thickness')
    area_cm2: float | None = Field(None, gt=0, description='override of the area')


class ArrheniusOptions(SsbModel):
    """Options of :func:`aiida_ssb.analysis.arrhenius.fit_arrhenius`."""

    form: Literal['sigma_t', 'sigma'] = Field('sigma_t', description='fit ln(sigma T) (default, seed 004) or ln(sigma)')
    windows: list[list[float]] | None = Field(
        None, description='temperature windows in degC, e.g. [[30, 100], [-20, 0]]'
    )
    split: Literal['none', 'auto'] = Field('none', description='auto: split into two regimes at a knee')
    min_points: int = Field(3, ge=2, description='fewest points per regime')
    separate_branches: bool = Field(True, description='fit heating and cooling branches apart when both exist')


class GrowthOptions(SsbModel):
    """Tracking of a fitted interface resistance over a cell's spectra, with the parabolic growth law."""

    element: str = Field('R1', description='the resistance to track: an element name (R2) or a role (interface)')
    against: Literal['time_since_assembly_h', 'cycle_index', 'upper_cutoff_v'] = Field(
        'time_since_assembly_h', description='the state label of the spectra to plot it against'
    )
    area_normalise: bool = Field(True, description='report ohm cm2 (resistance x electrode area)')
    fit_law: bool = Field(True, description='fit R(t) = R0 + k sqrt(t) (against time only)')
    time_window_h: list[float] | None = Field(None, min_length=2, max_length=2, description='fit only this time range')


ANALYSIS_OPTIONS: dict[str, type[SsbModel]] = {
    'growth': GrowthOptions,
    'cycling': CyclingOptions,
    'ccd': CcdOptions,
    'onsets': OnsetOptions,
    'stepwise_cv': StepwiseCvOptions,
    'eis': EisFitOptions,
    'conductivity': ConductivityOptions,
    'arrhenius': ArrheniusOptions,
}
