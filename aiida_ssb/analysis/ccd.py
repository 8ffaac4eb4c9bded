"""Critical current density (CCD) of symmetric cells (Li|SE|Li, Na|SE|Na) cycled at stepped current density.

Pure numpy (no AiiDA). The record is split into half cycles with the same rules as the cycling summary
(:func:`aiida_ssb.analysis.cycling.segment_half_cycles`: current sign, rests, excluded impedance rows,
instrument counters). Per half cycle this module measures the areal current density, the areal capacity
and the polarisation (median and maximum of ``|V|``); consecutive half cycles at the same current density
form a *step*. Two failure criteria are evaluated, and both are always reported:

* **sudden drop** (dendrite penetration, the "more rigorous" definition): ``|V|`` falls below
  ``drop_fraction`` of its own earlier plateau within a half cycle, or a half cycle's plateau is below
  ``drop_fraction`` of the ohmic expectation scaled from the last stable half cycle
  (``|V|_ref x j / j_ref``). The CCD is the current density of the last stable step (the paper phrase
  "penetration above 0.12 mA cm-2" gives CCD = 0.12).
* **zero volt** (short circuit, Sharafi's original definition): ``|V|`` stays below ``short_voltage_v`` for at
  least ``short_min_duration_s`` and ``short_min_points`` rows. The CCD is the current density of the
  half cycle where that happens.

Without a failure the result says "no CCD reached up to X mA/cm2": ``ccd_ma_cm2`` is absent and
``max_current_density_ma_cm2`` is X.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import Field

from aiida_ssb.analysis.cycling.inputs import CyclingError, _as_float, _check_time, _optional
from aiida_ssb.analysis.cycling.segment import segment_half_cycles
from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import AnalysisError

__all__ = [
    'CRITERIA',
    'CcdError',
    'CcdResult',
    'CcdSettings',
    'critical_current_density',
    'critical_current_density_measurement',
]

#: Criterion name -> what the headline ``ccd_ma_cm2`` reports.
CRITERIA = {
    'sudden_drop': 'current density of the last stable step before a sudden drop of |V|',
    'zero_volt': 'current density of the half cycle in which |V| collapses to ~0 V (short circuit)',
}


class CcdError(AnalysisError):
    """Input that cannot be analysed; the message names the field and what is wrong."""


class CcdSettings(Settings):
    """Settings of the critical current density (:func:`critical_current_density`). The area, the 1C current
    density and the number of interfaces are inputs from the cell, not settings."""

    drop_fraction: float = Field(
        0.5,
        gt=0,
        lt=1,
        description='a half cycle whose |V| falls below this fraction of its plateau (or of the ohmic expectation) '
        'is a sudden drop',
    )
    short_voltage_v: float = Field(0.005, gt=0, description='|V| below this, sustained, is a short (0 V criterion)')
    short_min_duration_s: float = Field(30.0, ge=0, description='how long |V| must stay below short_voltage_v')
    short_min_points: int = Field(3, ge=1, description='how many rows |V| must stay below short_voltage_v')
    drop_min_points: int = Field(
        2, ge=1, description='a drop within a half cycle must hold for this many consecutive rows'
    )
    settle_fraction: float = Field(
        0.1,
        ge=0,
        lt=1,
        description='fraction of each half cycle skipped before its plateau is measured (the polarisation builds up '
        'after each reversal)',
    )
    smooth_points: int = Field(3, ge=1, description='window (rows) of the running median of |V| before the drop test')
    step_tolerance: float = Field(
        0.05, gt=0, lt=1, description='relative difference below which two half cycles are at the same current density'
    )
    criterion: Literal['sudden_drop', 'zero_volt'] = Field(
        'sudden_drop',
        description='the criterion of the headline CCD: the last stable step before a sudden drop, or the step '
        'whose |V| collapses to 0 V',
    )
    voltage_limit_v: float | None = Field(None, gt=0, description='cut-off voltage (divergence detection)')
    rest_current_ma: float | None = Field(None, gt=0, description='|I| below this is rest (default: from the data)')
    exclude_steps: tuple[int, ...] = Field((), description='instrument step indices whose rows are left out')
    min_half_cycle_fraction: float = Field(
        0.002,
        ge=0,
        lt=1,
        description='runs of reversed current below this fraction of the median half-cycle charge are noise',
    )
    integration: Literal['trapezoid', 'backward'] = Field(
        'trapezoid', description='integration of the areal capacity of each half cycle (as in the cycling summary)'
    )


def _rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or values.size < window:
        return values
    half = window // 2
    padded = np.pad(values, (half, window - 1 - half), mode='edge')
    return np.asarray(np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1))


def _first_sustained(mask: np.ndarray, times: np.ndarray, min_points: int, min_duration_s: float) -> int | None:
    """Index of the first run of True with >= min_points rows spanning >= min_duration_s (or ending the data)."""
    if not mask.any():
        return None
    edges = np.diff(mask.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    for start, stop in zip(starts, stops, strict=True):
        length = stop - start
        span = times[stop - 1] - times[start]
        if length >= min_points and span >= min_duration_s:
            return int(start)
    return None


@dataclasses.dataclass
class CcdResult:
    """Result of :func:`critical_current_density`.

    ``half_cycles`` and ``steps`` are tables (dict of 1-D arrays, unit-suffixed names; NaN = unknown);
    ``sudden_drop`` and ``zero_volt`` describe the first failing half cycle by each criterion (None when
    there is none); ``ccd_ma_cm2`` is the headline by ``criterion`` (None when no CCD was reached).
    """

    half_cycles: dict[str, np.ndarray]
    steps: dict[str, np.ndarray]
    criterion: str
    ccd_ma_cm2: float | None
    max_current_density_ma_cm2: float
    sudden_drop: dict[str, Any] | None
    zero_volt: dict[str, Any] | None
    voltage_limit: dict[str, Any] | None
    message: str
    parameters: dict[str, Any]
    summary: dict[str, Any]
    warnings: list[str]
    flags: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Flat, JSON-serialisable numbers (unknown values are absent)."""
        out: dict[str, Any] = {
            'method': 'aiida_ssb.analysis.ccd.critical_current_density',
            'criterion': self.criterion,
            'message': self.message,
            'max_current_density_ma_cm2': self.max_current_density_ma_cm2,
        }
        if self.ccd_ma_cm2 is not None:
            out['ccd_ma_cm2'] = self.ccd_ma_cm2
        for name, found in (
            ('sudden_drop', self.sudden_drop),
            ('zero_volt', self.zero_volt),
            ('voltage_limit', self.voltage_limit),
        ):
            if found is None:
                continue
            for key, value in found.items():
                if value is not None:
                    out[f'{name}_{key}'] = value
        out.update(self.summary)
        out['parameters'] = dict(self.parameters)
        out['flags'] = [dict(item) for item in self.flags]
        if self.warnings:
            out['warnings'] = list(self.warnings)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Both tables as one flat dict: ``half_cycle__<column>`` and ``step__<column>``."""
        out = {f'half_cycle__{k}': v for k, v in self.half_cycles.items()}
        out.update({f'step__{k}': v for k, v in self.steps.items()})
        return out


def _read(
    time_s: Any, voltage_v: Any, current_ma: Any, area_cm2: Any, optional: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, dict[str, np.ndarray | None]]:
    """Validated columns and area (a :class:`CcdError` naming the field otherwise)."""
    try:
        t = _as_float('time_s', time_s, None)
        n = t.size
        if n < 2:
            raise CcdError(f'time_s: at least 2 rows are needed, got {n}')
        v = _as_float('voltage_v', voltage_v, n)
        i = _as_float('current_ma', current_ma, n)
        _check_time(t)
        columns = {name: _optional(name, values, n) for name, values in optional.items()}
    except CyclingError as exc:
        raise CcdError(str(exc)) from None
    try:
        area = float(area_cm2)
    except (TypeError, ValueError):
        raise CcdError(f'area_cm2: {area_cm2!r} is not a number') from None
    if not math.isfinite(area) or area <= 0:
        raise CcdError(f'area_cm2: must be a positive number of cm2, got {area_cm2!r}')
    return t, v, i, area, columns


@dataclasses.dataclass
class _HalfCycles:
    """Per half cycle: current density, plateau and peak |V|, the ohmic expectation, and the failure tests."""

    current_density: np.ndarray
    plateau: np.ndarray
    peak: np.ndarray
    expected: np.ndarray
    drop_time: np.ndarray
    short_time: np.ndarray
    drop_kind: np.ndarray  # 0 none, 1 within the half cycle, 2 below the ohmic expectation
    limit: np.ndarray


def _half_cycles(t: np.ndarray, seg: Any, area: float, s: CcdSettings) -> _HalfCycles:
    """Measure each half cycle and test it for a short (0 V) and a sudden drop (against its own running plateau,
    and against the ohmic expectation scaled from the last stable half cycle, same direction when available)."""
    nh = seg.n_half_cycles
    out = _HalfCycles(
        current_density=np.empty(nh),
        plateau=np.empty(nh),
        peak=np.empty(nh),
        expected=np.full(nh, np.nan),
        drop_time=np.full(nh, np.nan),
        short_time=np.full(nh, np.nan),
        drop_kind=np.zeros(nh, dtype=np.int64),
        limit=np.zeros(nh, dtype=bool),
    )
    last_stable: dict[int, tuple[float, float]] = {}
    for k in range(nh):
        lo, hi = seg.seg_start[k], seg.seg_stop[k]
        times = t[seg.rows[lo:hi]]
        absolute = np.abs(seg.voltage_c[lo:hi])
        out.current_density[k] = float(np.median(seg.current_c[lo:hi])) / area
        settled = times >= times[0] + s.settle_fraction * (times[-1] - times[0])
        if settled.sum() < 2:
            settled[:] = True
        smooth = _rolling_median(absolute, s.smooth_points)
        out.plateau[k] = float(np.median(absolute[settled]))
        out.peak[k] = float(absolute.max())
        if s.voltage_limit_v is not None and out.peak[k] >= s.voltage_limit_v:
            out.limit[k] = True
        start = _first_sustained(absolute < s.short_voltage_v, times, s.short_min_points, s.short_min_duration_s)
        if start is not None:
            out.short_time[k] = times[start]
        s_times = times[settled]
        s_smooth = smooth[settled]
        running = np.maximum.accumulate(s_smooth)
        first = _first_sustained(s_smooth < s.drop_fraction * running, s_times, s.drop_min_points, 0.0)
        if first is not None:
            out.drop_kind[k] = 1
            out.drop_time[k] = s_times[first]
        direction = int(seg.direction[k])
        reference = last_stable.get(direction) or last_stable.get(-direction)
        if reference is not None:
            out.expected[k] = reference[0] * out.current_density[k] / reference[1]
            if out.drop_kind[k] == 0 and out.plateau[k] < s.drop_fraction * out.expected[k]:
                out.drop_kind[k] = 2
                below = np.flatnonzero(s_smooth < s.drop_fraction * out.expected[k])
                out.drop_time[k] = s_times[below[0]] if below.size else times[0]
        if out.drop_kind[k] == 0 and np.isnan(out.short_time[k]):
            last_stable[direction] = (out.plateau[k], out.current_density[k])
    return out


def _steps(
    measured: _HalfCycles, capacity: np.ndarray, duration: np.ndarray, area: float, s: CcdSettings, n_interfaces: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The steps of current density (consecutive half cycles within ``step_tolerance``) and the step of each
    half cycle (0-based)."""
    density = measured.current_density
    nh = density.size
    brk = np.ones(nh, dtype=bool)
    if nh > 1:
        with np.errstate(divide='ignore', invalid='ignore'):
            brk[1:] = np.abs(density[1:] / density[:-1] - 1.0) > s.step_tolerance
    step_of_half = np.cumsum(brk) - 1
    start = np.flatnonzero(brk)
    stop = np.r_[start[1:], nh]
    pairs = list(zip(start, stop, strict=True))

    def median(values: np.ndarray) -> np.ndarray:
        return np.array([np.median(values[a:b]) for a, b in pairs])

    step_density = median(density)
    step_plateau = median(measured.plateau)
    asr = step_plateau / step_density * 1000.0
    steps = {
        'step': np.arange(1, start.size + 1),
        'current_density_ma_cm2': step_density,
        'first_half_cycle': start + 1,
        'last_half_cycle': stop,
        'n_half_cycles': stop - start,
        'areal_capacity_mah_cm2': median(capacity / area),
        'half_cycle_duration_s': median(duration),
        'median_abs_voltage_v': step_plateau,
        'area_specific_resistance_ohm_cm2': asr,
        'area_specific_resistance_per_interface_ohm_cm2': asr / n_interfaces,
    }
    return steps, step_of_half


def _failures(
    measured: _HalfCycles, steps: dict[str, np.ndarray], step_of_half: np.ndarray, t_first: np.ndarray, s: CcdSettings
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
    """The first half cycle failing by sudden drop, by 0 V and reaching the voltage limit (None each when none)."""
    step_density = steps['current_density_ma_cm2']

    def describe(k: int, time_value: float, extra: dict[str, Any]) -> dict[str, Any]:
        step = int(step_of_half[k])
        found = {
            'half_cycle': k + 1,
            'step': step + 1,
            'time_s': float(time_value),
            'failing_ma_cm2': float(step_density[step]),
            'last_stable_ma_cm2': float(step_density[step - 1]) if step > 0 else None,
        }
        found.update(extra)
        return found

    sudden = zero = limited = None
    dropped = np.flatnonzero(measured.drop_kind > 0)
    if dropped.size:
        k = int(dropped[0])
        reason = 'within_half_cycle' if measured.drop_kind[k] == 1 else 'below_expected'
        sudden = describe(k, measured.drop_time[k], {'reason': reason})
    shorted = np.flatnonzero(np.isfinite(measured.short_time))
    if shorted.size:
        k = int(shorted[0])
        zero = describe(k, measured.short_time[k], {})
    if measured.limit.any():
        k = int(np.flatnonzero(measured.limit)[0])
        limited = describe(k, t_first[k], {'limit_v': s.voltage_limit_v})
    return sudden, zero, limited


def _headline(
    s: CcdSettings, sudden: dict[str, Any] | None, zero: dict[str, Any] | None, max_density: float
) -> tuple[float | None, str]:
    """The headline CCD by the chosen criterion (None when not reached) and its message."""
    unit = 'mA/cm2'
    if s.criterion == 'sudden_drop':
        if sudden is None:
            return None, f'no CCD reached up to {max_density:.4g} {unit} (sudden-drop criterion)'
        if sudden['last_stable_ma_cm2'] is None:
            return None, (
                f'sudden drop already at the first step ({sudden["failing_ma_cm2"]:.4g} {unit}, half cycle '
                f'{sudden["half_cycle"]}): CCD below {sudden["failing_ma_cm2"]:.4g} {unit}'
            )
        ccd = sudden['last_stable_ma_cm2']
        return ccd, (
            f'CCD {ccd:.4g} {unit} (sudden drop in half cycle {sudden["half_cycle"]} at '
            f'{sudden["failing_ma_cm2"]:.4g} {unit}, t = {sudden["time_s"]:.0f} s)'
        )
    if zero is None:
        return None, f'no CCD reached up to {max_density:.4g} {unit} (0 V criterion)'
    ccd = zero['failing_ma_cm2']
    return ccd, (
        f'CCD {ccd:.4g} {unit} (|V| < {1000 * s.short_voltage_v:g} mV in half cycle {zero["half_cycle"]}, '
        f't = {zero["time_s"]:.0f} s)'
    )


def _quality(
    steps: dict[str, np.ndarray], sudden: dict[str, Any] | None, limited: dict[str, Any] | None, s: CcdSettings
) -> tuple[list[str], list[dict[str, Any]], bool]:
    """Warnings and flags about the protocol and the failure, and whether the current density increases."""
    n_steps = steps['step'].size
    density = steps['current_density_ma_cm2']
    increasing = bool(n_steps > 1 and np.all(np.diff(density) > 0))
    warnings: list[str] = []
    flags: list[dict[str, Any]] = []

    def note(name: str, text: str) -> None:
        warnings.append(text)
        flags.append({'flag': name, 'severity': 'warning', 'reason': text})

    if n_steps < 2:
        note('not_a_stepped_test', 'the current density never changes: not a stepped-current test')
    elif not increasing:
        note('current_not_increasing', 'the current density does not increase monotonically from step to step')
    if sudden is not None and sudden['last_stable_ma_cm2'] is None:
        note('failed_at_first_step', 'the cell fails at the first current density: the CCD is only bounded above')
    if limited is not None:
        note(
            'voltage_limit_reached',
            f'|V| reached the {s.voltage_limit_v:g} V limit in half cycle {limited["half_cycle"]}: divergence '
            '(contact loss or voids), not a short',
        )
    return warnings, flags, increasing


def critical_current_density(
    time_s: Any,
    voltage_v: Any,
    current_ma: Any,
    area_cm2: float,
    *,
    one_c_ma_cm2: float | None = None,
    area_rule: str | None = None,
    n_interfaces: int = 2,
    control_mode: Any = None,
    half_cycle_index: Any = None,
    cycle_index: Any = None,
    step_index: Any = None,
    exclude: Any = None,
    settings: CcdSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> CcdResult:
    """Critical current density of a symmetric cell cycled at stepped current density.

    :param time_s: time (s), non-decreasing.
    :param voltage_v: cell voltage (V); its sign follows the current.
    :param current_ma: current (mA); the sign gives the plating/stripping direction.
    :param area_cm2: the area the current density is counted on (cm2): for a symmetric cell the smaller
        electrode contact (the cell's ``electrode_area_cm2``).
    :param one_c_ma_cm2: optional 1C current density, to express the CCD as a C-rate.
    :param area_rule: which area ``area_cm2`` is (stored with the result).
    :param n_interfaces: electrode/electrolyte interfaces in series (2 in a symmetric cell): the area-specific
        resistance per interface is the total divided by this.
    :param control_mode: EC-Lab control mode (3 = rest) if recorded.
    :param half_cycle_index: instrument half-cycle counter, if recorded.
    :param cycle_index: instrument cycle counter, if recorded.
    :param step_index: instrument step counter, needed with the ``exclude_steps`` setting.
    :param exclude: boolean mask of rows to leave out (impedance points).
    :param settings: a :class:`CcdSettings` or a mapping of its fields (see there for the criteria's
        thresholds); ``overrides`` are applied on top.
    :raises CcdError: for unusable input (the field is named).
    """
    s = CcdSettings.resolve(settings, **overrides)
    if int(n_interfaces) < 1:
        raise CcdError(f'n_interfaces: must be at least 1, got {n_interfaces!r}')
    optional = {
        'control_mode': control_mode,
        'half_cycle_index': half_cycle_index,
        'cycle_index': cycle_index,
        'step_index': step_index,
    }
    t, v, i, area, columns = _read(time_s, voltage_v, current_ma, area_cm2, optional)
    try:
        seg = segment_half_cycles(
            t,
            v,
            i,
            half_cycle_index=columns['half_cycle_index'],
            cycle_index=columns['cycle_index'],
            control_mode=columns['control_mode'],
            step_index=columns['step_index'],
            exclude=exclude,
            exclude_steps=s.exclude_steps,
            rest_current_ma=s.rest_current_ma,
            min_half_cycle_fraction=s.min_half_cycle_fraction,
            integration=s.integration,
        )
    except CyclingError as exc:
        raise CcdError(str(exc)) from None
    measured = _half_cycles(t, seg, area, s)
    capacity = seg.reduce(seg.dq_c)
    duration = seg.reduce(seg.dt_c)
    steps, step_of_half = _steps(measured, capacity, duration, area, s, int(n_interfaces))
    half = {
        'half_cycle': np.arange(1, seg.n_half_cycles + 1),
        'direction': seg.direction,
        'step': step_of_half + 1,
        'start_time_s': t[seg.first_row],
        'end_time_s': t[seg.last_row],
        'duration_s': duration,
        'capacity_mah': capacity,
        'areal_capacity_mah_cm2': capacity / area,
        'current_density_ma_cm2': measured.current_density,
        'median_abs_voltage_v': measured.plateau,
        'max_abs_voltage_v': measured.peak,
        'expected_abs_voltage_v': measured.expected,
        'sudden_drop': (measured.drop_kind > 0).astype(np.int64),
        'sudden_drop_time_s': measured.drop_time,
        'zero_volt': np.isfinite(measured.short_time).astype(np.int64),
        'zero_volt_time_s': measured.short_time,
    }
    if s.voltage_limit_v is not None:
        half['voltage_limit_reached'] = measured.limit.astype(np.int64)
    sudden, zero, limited = _failures(measured, steps, step_of_half, t[seg.first_row], s)
    max_density = float(np.max(steps['current_density_ma_cm2']))
    ccd, message = _headline(s, sudden, zero, max_density)
    warnings, flags, increasing = _quality(steps, sudden, limited, s)
    summary: dict[str, Any] = {
        'n_half_cycles': seg.n_half_cycles,
        'n_steps': int(steps['step'].size),
        'current_increasing': increasing,
        'protocol': _protocol(steps),
        'areal_capacity_per_half_cycle_mah_cm2': float(np.median(capacity / area)),
        'initial_area_specific_resistance_ohm_cm2': float(steps['area_specific_resistance_ohm_cm2'][0]),
        'initial_area_specific_resistance_per_interface_ohm_cm2': float(
            steps['area_specific_resistance_per_interface_ohm_cm2'][0]
        ),
        'area_cm2': area,
        'n_interfaces': int(n_interfaces),
        'rest_current_ma': seg.rest_current_ma,
    }
    if area_rule:
        summary['area_rule'] = area_rule
    if one_c_ma_cm2 is not None:
        summary['one_c_ma_cm2'] = float(one_c_ma_cm2)
        if ccd is not None:
            summary['ccd_c_rate'] = ccd / float(one_c_ma_cm2)
        summary['max_c_rate'] = max_density / float(one_c_ma_cm2)
    return CcdResult(
        half_cycles=half,
        steps=steps,
        criterion=s.criterion,
        ccd_ma_cm2=ccd,
        max_current_density_ma_cm2=max_density,
        sudden_drop=sudden,
        zero_volt=zero,
        voltage_limit=limited,
        message=message,
        parameters=s.parameters(),
        summary=summary,
        warnings=warnings + list(seg.notes),
        flags=flags,
    )


def _protocol(steps: dict[str, np.ndarray]) -> str:
    """'constant_capacity' or 'constant_time' per half cycle across steps (within 5 %), else 'other'."""
    if steps['step'].size < 2:
        return 'single_step'

    def constant(values: np.ndarray) -> bool:
        middle = float(np.median(values))
        return middle > 0 and bool(np.all(np.abs(values / middle - 1.0) <= 0.05))

    # the last step may be cut short by the failure: judge on the others
    body = slice(0, -1) if steps['step'].size > 2 else slice(None)
    if constant(steps['areal_capacity_mah_cm2'][body]):
        return 'constant_capacity'
    if constant(steps['half_cycle_duration_s'][body]):
        return 'constant_time'
    return 'other'


def critical_current_density_measurement(measurement: Any, area_cm2: float, **options: Any) -> CcdResult:
    """:func:`critical_current_density` on a parsed measurement (anything with a ``columns`` mapping).

    :param measurement: an :class:`aiida_ssb.parsers.base.Measurement` (or a mapping of column arrays) with
        ``time_s``, ``voltage_v`` and ``current_ma``; ``control_mode`` and the counters are used when present.
    :param area_cm2: electrode area (cm2).
    :param options: keyword arguments of :func:`critical_current_density`.
    :raises CcdError: when a required column is missing, or for the reasons of :func:`critical_current_density`.
    """
    columns = getattr(measurement, 'columns', measurement)
    missing = [name for name in ('time_s', 'voltage_v', 'current_ma') if name not in columns]
    if missing:
        raise CcdError(f'measurement: missing column(s) {", ".join(missing)}')
    for name in ('control_mode', 'half_cycle_index', 'cycle_index', 'step_index'):
        if name not in options and name in columns:
            options[name] = columns[name]
    return critical_current_density(columns['time_s'], columns['voltage_v'], columns['current_ma'], area_cm2, **options)
