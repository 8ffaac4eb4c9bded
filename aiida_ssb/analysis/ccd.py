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
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from aiida_ssb.analysis.cycling import CyclingError, _as_float, _check_time, _optional, segment_half_cycles
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
    """Settings of the critical current density (:func:`critical_current_density`). The area is an input."""

    drop_fraction: float = Field(
        0.5,
        gt=0,
        lt=1,
        description='a half cycle whose |V| falls below this fraction of its plateau (or of the ohmic expectation) '
        'is a sudden drop',
    )
    short_voltage_v: float = Field(0.005, gt=0, description='|V| below this, sustained, is a short (0 V criterion)')
    short_min_duration_s: float = Field(30.0, ge=0, description='how long |V| must stay below short_voltage_v')
    criterion: Literal['sudden_drop', 'zero_volt'] = Field(
        'sudden_drop',
        description='the criterion of the headline CCD: the last stable step before a sudden drop, or the step '
        'whose |V| collapses to 0 V',
    )
    voltage_limit_v: float | None = Field(None, gt=0, description='cut-off voltage (divergence detection)')
    rest_current_ma: float | None = Field(None, gt=0, description='|I| below this is rest (default: from the data)')


def _rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or values.size < window:
        return values
    half = window // 2
    padded = np.pad(values, (half, window - 1 - half), mode='edge')
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)


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
        if self.warnings:
            out['warnings'] = list(self.warnings)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Both tables as one flat dict: ``half_cycle__<column>`` and ``step__<column>``."""
        out = {f'half_cycle__{k}': v for k, v in self.half_cycles.items()}
        out.update({f'step__{k}': v for k, v in self.steps.items()})
        return out


def critical_current_density(
    time_s: Any,
    voltage_v: Any,
    current_ma: Any,
    area_cm2: float,
    *,
    drop_fraction: float = 0.5,
    short_voltage_v: float = 0.005,
    short_min_duration_s: float = 30.0,
    short_min_points: int = 3,
    drop_min_points: int = 2,
    settle_fraction: float = 0.1,
    smooth_points: int = 3,
    criterion: str = 'sudden_drop',
    step_tolerance: float = 0.05,
    voltage_limit_v: float | None = None,
    one_c_ma_cm2: float | None = None,
    control_mode: Any = None,
    half_cycle_index: Any = None,
    cycle_index: Any = None,
    step_index: Any = None,
    exclude: Any = None,
    exclude_steps: Sequence[int] | None = None,
    rest_current_ma: float | None = None,
) -> CcdResult:
    """Critical current density of a symmetric cell cycled at stepped current density.

    :param time_s: time (s), non-decreasing.
    :param voltage_v: cell voltage (V); its sign follows the current.
    :param current_ma: current (mA); the sign gives the plating/stripping direction.
    :param area_cm2: electrode area (cm2), for current density and areal capacity.
    :param drop_fraction: a half cycle fails by sudden drop when its smoothed ``|V|`` falls below this
        fraction of its own running plateau, or its plateau is below this fraction of the ohmic
        expectation from the last stable half cycle.
    :param short_voltage_v: ``|V|`` below which the cell counts as shorted (0 V criterion).
    :param short_min_duration_s: the short must last at least this long ...
    :param short_min_points: ... and cover at least this many rows.
    :param drop_min_points: a drop within a half cycle must hold for this many consecutive rows.
    :param settle_fraction: fraction of each half cycle's duration skipped before the plateau is measured
        (the polarisation builds up after each reversal).
    :param smooth_points: window (rows) of the running median applied to ``|V|`` before the drop test.
    :param criterion: ``'sudden_drop'`` or ``'zero_volt'``: which criterion gives the headline ``ccd_ma_cm2``.
    :param step_tolerance: relative difference below which two half cycles are at the same current density.
    :param voltage_limit_v: optional ``|V|`` limit (the cycler's cut-off): half cycles reaching it are
        reported as *divergence* (contact loss, voids), which is not a short.
    :param one_c_ma_cm2: optional 1C current density, to express the CCD as a C-rate.
    :param control_mode: EC-Lab control mode (3 = rest) if recorded.
    :param half_cycle_index: instrument half-cycle counter, if recorded.
    :param cycle_index: instrument cycle counter, if recorded.
    :param step_index: instrument step counter, needed with ``exclude_steps``.
    :param exclude: boolean mask of rows to leave out (impedance points).
    :param exclude_steps: step indices to leave out.
    :param rest_current_ma: ``|I|`` at or below which a row is at rest (default: 0.1 % of the 99th percentile).
    :raises CcdError: for unusable input (the field is named).
    """
    try:
        t = _as_float('time_s', time_s, None)
        n = t.size
        if n < 2:
            raise CcdError(f'time_s: at least 2 rows are needed, got {n}')
        v = _as_float('voltage_v', voltage_v, n)
        i = _as_float('current_ma', current_ma, n)
        _check_time(t)
        mode = _optional('control_mode', control_mode, n)
        hci = _optional('half_cycle_index', half_cycle_index, n)
        cyi = _optional('cycle_index', cycle_index, n)
        sti = _optional('step_index', step_index, n)
    except CyclingError as exc:
        raise CcdError(str(exc)) from None
    try:
        area = float(area_cm2)
    except (TypeError, ValueError):
        raise CcdError(f'area_cm2: {area_cm2!r} is not a number') from None
    if not math.isfinite(area) or area <= 0:
        raise CcdError(f'area_cm2: must be a positive number of cm2, got {area_cm2!r}')
    if criterion not in CRITERIA:
        raise CcdError(f'criterion: {criterion!r} is not one of {", ".join(CRITERIA)}')
    if not 0 < drop_fraction < 1:
        raise CcdError(f'drop_fraction: must be between 0 and 1, got {drop_fraction!r}')
    if not short_voltage_v > 0:
        raise CcdError(f'short_voltage_v: must be positive, got {short_voltage_v!r}')
    if not 0 <= settle_fraction < 1:
        raise CcdError(f'settle_fraction: must be in [0, 1), got {settle_fraction!r}')
    try:
        seg = segment_half_cycles(
            t,
            v,
            i,
            half_cycle_index=hci,
            cycle_index=cyi,
            control_mode=mode,
            step_index=sti,
            exclude=exclude,
            exclude_steps=exclude_steps,
            rest_current_ma=rest_current_ma,
        )
    except CyclingError as exc:
        raise CcdError(str(exc)) from None

    nh = seg.n_half_cycles
    capacity = seg.reduce(seg.dq_c)
    duration = seg.reduce(seg.dt_c)
    current_density = np.empty(nh)
    plateau = np.empty(nh)
    peak = np.empty(nh)
    expected = np.full(nh, np.nan)
    drop_time = np.full(nh, np.nan)
    short_time = np.full(nh, np.nan)
    drop_kind = np.zeros(nh, dtype=np.int64)  # 0 none, 1 within the half cycle, 2 below the ohmic expectation
    limit = np.zeros(nh, dtype=bool)
    last_stable: dict[int, tuple[float, float]] = {}
    for k in range(nh):
        lo, hi = seg.seg_start[k], seg.seg_stop[k]
        times = t[seg.rows[lo:hi]]
        absolute = np.abs(seg.voltage_c[lo:hi])
        current_density[k] = float(np.median(seg.current_c[lo:hi])) / area
        settled = times >= times[0] + settle_fraction * (times[-1] - times[0])
        if settled.sum() < 2:
            settled[:] = True
        smooth = _rolling_median(absolute, smooth_points)
        plateau[k] = float(np.median(absolute[settled]))
        peak[k] = float(absolute.max())
        if voltage_limit_v is not None and peak[k] >= voltage_limit_v:
            limit[k] = True
        # 0 V criterion
        start = _first_sustained(absolute < short_voltage_v, times, short_min_points, short_min_duration_s)
        if start is not None:
            short_time[k] = times[start]
        # sudden drop within the half cycle, against its own running plateau
        s_times = times[settled]
        s_smooth = smooth[settled]
        running = np.maximum.accumulate(s_smooth)
        fallen = s_smooth < drop_fraction * running
        first = _first_sustained(fallen, s_times, drop_min_points, 0.0)
        if first is not None:
            drop_kind[k] = 1
            drop_time[k] = s_times[first]
        # against the ohmic expectation from the last stable half cycle (same direction when available)
        direction = int(seg.direction[k])
        reference = last_stable.get(direction) or last_stable.get(-direction)
        if reference is not None:
            expected[k] = reference[0] * current_density[k] / reference[1]
            if drop_kind[k] == 0 and plateau[k] < drop_fraction * expected[k]:
                drop_kind[k] = 2
                below = np.flatnonzero(s_smooth < drop_fraction * expected[k])
                drop_time[k] = s_times[below[0]] if below.size else times[0]
        if drop_kind[k] == 0 and np.isnan(short_time[k]):
            last_stable[direction] = (plateau[k], current_density[k])

    # steps of current density
    brk = np.ones(nh, dtype=bool)
    if nh > 1:
        with np.errstate(divide='ignore', invalid='ignore'):
            brk[1:] = np.abs(current_density[1:] / current_density[:-1] - 1.0) > step_tolerance
    step_of_half = np.cumsum(brk) - 1
    step_start = np.flatnonzero(brk)
    step_stop = np.r_[step_start[1:], nh]
    n_steps = step_start.size
    step_density = np.array([np.median(current_density[a:b]) for a, b in zip(step_start, step_stop, strict=True)])
    step_plateau = np.array([np.median(plateau[a:b]) for a, b in zip(step_start, step_stop, strict=True)])
    areal_capacity = capacity / area
    steps = {
        'step': np.arange(1, n_steps + 1),
        'current_density_ma_cm2': step_density,
        'first_half_cycle': step_start + 1,
        'last_half_cycle': step_stop,
        'n_half_cycles': step_stop - step_start,
        'areal_capacity_mah_cm2': np.array(
            [np.median(areal_capacity[a:b]) for a, b in zip(step_start, step_stop, strict=True)]
        ),
        'half_cycle_duration_s': np.array(
            [np.median(duration[a:b]) for a, b in zip(step_start, step_stop, strict=True)]
        ),
        'median_abs_voltage_v': step_plateau,
        'area_specific_resistance_ohm_cm2': step_plateau / step_density * 1000.0,
    }
    half = {
        'half_cycle': np.arange(1, nh + 1),
        'direction': seg.direction,
        'step': step_of_half + 1,
        'start_time_s': t[seg.first_row],
        'end_time_s': t[seg.last_row],
        'duration_s': duration,
        'capacity_mah': capacity,
        'areal_capacity_mah_cm2': areal_capacity,
        'current_density_ma_cm2': current_density,
        'median_abs_voltage_v': plateau,
        'max_abs_voltage_v': peak,
        'expected_abs_voltage_v': expected,
        'sudden_drop': (drop_kind > 0).astype(np.int64),
        'sudden_drop_time_s': drop_time,
        'zero_volt': np.isfinite(short_time).astype(np.int64),
        'zero_volt_time_s': short_time,
    }
    if voltage_limit_v is not None:
        half['voltage_limit_reached'] = limit.astype(np.int64)

    def stable_before(k: int) -> float | None:
        s = int(step_of_half[k])
        return float(step_density[s - 1]) if s > 0 else None

    def describe(k: int, time_value: float, extra: dict[str, Any]) -> dict[str, Any]:
        found = {
            'half_cycle': k + 1,
            'step': int(step_of_half[k]) + 1,
            'time_s': float(time_value),
            'failing_ma_cm2': float(step_density[step_of_half[k]]),
            'last_stable_ma_cm2': stable_before(k),
        }
        found.update(extra)
        return found

    dropped = np.flatnonzero(drop_kind > 0)
    sudden = None
    if dropped.size:
        k = int(dropped[0])
        reason = 'within_half_cycle' if drop_kind[k] == 1 else 'below_expected'
        sudden = describe(k, drop_time[k], {'reason': reason})
    shorted = np.flatnonzero(np.isfinite(short_time))
    zero = None
    if shorted.size:
        k = int(shorted[0])
        zero = describe(k, short_time[k], {})
    limited = None
    if limit.any():
        k = int(np.flatnonzero(limit)[0])
        limited = describe(k, t[seg.first_row[k]], {'limit_v': float(voltage_limit_v)})

    max_density = float(np.max(step_density))
    ccd = None
    unit = 'mA/cm2'
    if criterion == 'sudden_drop':
        if sudden is None:
            message = f'no CCD reached up to {max_density:.4g} {unit} (sudden-drop criterion)'
        elif sudden['last_stable_ma_cm2'] is None:
            message = (
                f'sudden drop already at the first step ({sudden["failing_ma_cm2"]:.4g} {unit}, half cycle '
                f'{sudden["half_cycle"]}): CCD below {sudden["failing_ma_cm2"]:.4g} {unit}'
            )
        else:
            ccd = sudden['last_stable_ma_cm2']
            message = (
                f'CCD {ccd:.4g} {unit} (sudden drop in half cycle {sudden["half_cycle"]} at '
                f'{sudden["failing_ma_cm2"]:.4g} {unit}, t = {sudden["time_s"]:.0f} s)'
            )
    elif zero is None:
        message = f'no CCD reached up to {max_density:.4g} {unit} (0 V criterion)'
    else:
        ccd = zero['failing_ma_cm2']
        message = (
            f'CCD {ccd:.4g} {unit} (|V| < {1000 * short_voltage_v:g} mV in half cycle '
            f'{zero["half_cycle"]}, t = {zero["time_s"]:.0f} s)'
        )

    warnings = list(seg.notes)
    increasing = bool(n_steps > 1 and np.all(np.diff(step_density) > 0))
    if n_steps < 2:
        warnings.append('the current density never changes: not a stepped-current test')
    elif not increasing:
        warnings.append('the current density does not increase monotonically from step to step')
    if limited is not None:
        warnings.append(
            f'|V| reached the {voltage_limit_v:g} V limit in half cycle {limited["half_cycle"]}: divergence '
            '(contact loss or voids), not a short'
        )
    summary: dict[str, Any] = {
        'n_half_cycles': nh,
        'n_steps': n_steps,
        'current_increasing': increasing,
        'protocol': _protocol(steps),
        'areal_capacity_per_half_cycle_mah_cm2': float(np.median(areal_capacity)),
    }
    if one_c_ma_cm2 is not None:
        if ccd is not None:
            summary['ccd_c_rate'] = ccd / float(one_c_ma_cm2)
        summary['max_c_rate'] = max_density / float(one_c_ma_cm2)
    parameters = {
        'area_cm2': area,
        'drop_fraction': drop_fraction,
        'short_voltage_v': short_voltage_v,
        'short_min_duration_s': short_min_duration_s,
        'short_min_points': short_min_points,
        'drop_min_points': drop_min_points,
        'settle_fraction': settle_fraction,
        'smooth_points': smooth_points,
        'step_tolerance': step_tolerance,
        'rest_current_ma': seg.rest_current_ma,
    }
    if voltage_limit_v is not None:
        parameters['voltage_limit_v'] = float(voltage_limit_v)
    if one_c_ma_cm2 is not None:
        parameters['one_c_ma_cm2'] = float(one_c_ma_cm2)
    return CcdResult(
        half_cycles=half,
        steps=steps,
        criterion=criterion,
        ccd_ma_cm2=ccd,
        max_current_density_ma_cm2=max_density,
        sudden_drop=sudden,
        zero_volt=zero,
        voltage_limit=limited,
        message=message,
        parameters=parameters,
        summary=summary,
        warnings=warnings,
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
