"""DC polarisation: electronic conductivity with ion-blocking electrodes, and the Bruce-Vincent (Evans)
transference number of a symmetric cell.

Pure numpy.

Holds
    Potentiostatic holds are found in the record as runs of rows whose voltage stays within
    ``hold_tolerance_v`` of the run's median, carrying a current, lasting at least ``min_hold_s``. With an
    EC-Lab control-mode column, its potentiostatic rows (mode 2) are used instead.

Steady state
    The steady-state current :math:`I_{ss}` is the mean current over the last ``steady_fraction`` of the
    hold; the hold *reached* a steady state when the current changed by less than ``steady_tolerance``
    (relative) across that window (from a straight-line fit). The time to steady state is the first time
    after which the (running-median) current stays within ``steady_tolerance`` of :math:`I_{ss}`.

Electronic conductivity (blocking electrodes: Li | SE | Cu, C | SE | C...)
    The ionic current decays as the blocking electrodes polarise; what flows at the steady state is
    electronic (thesis chapter 8: "the equilibrium current after 24 h is purely electronic"):

    .. math:: \\sigma_e = \\frac{I_{ss}\\,L}{V\\,A}

    with the applied bias :math:`V` (the hold's median voltage less the open-circuit voltage of the rest just
    before it, e.g. 2.3 V for Li | SE | Cu; the hold voltage itself when no rest precedes it), the electrolyte thickness :math:`L` and area :math:`A`. With
    several holds, each gives :math:`\\sigma_e`; the headline is the lowest-voltage hold's (``headline_hold``),
    and a straight line :math:`I_{ss}(V)` through the origin gives an ohmic check (``ohmic_r2``).

Transference number (symmetric non-blocking cell: Li | SE | Li)
    Bruce and Vincent (1987), with the interfacial resistance before (:math:`R_0`) and after (:math:`R_{ss}`) the
    polarisation from impedance:

    .. math:: t_+ = \\frac{I_{ss}\\,(\\Delta V - I_0 R_0)}{I_0\\,(\\Delta V - I_{ss} R_{ss})}

    Without impedance, Evans' ratio :math:`t_+ = I_{ss}/I_0` (flagged). :math:`I_0` is the hold's first current
    (``initial_current='measured'``), or :math:`\\Delta V/(R_b + R_0)` from the impedance before
    (``'impedance'``: the first sampled point misses the true initial current when the double layer charges
    faster than the sampling); ``'auto'`` takes the impedance value when the bulk resistance is known.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import Field

from aiida_ssb.analysis.settings import Settings
from aiida_ssb.analysis.signal import as_float_array, flag, runs
from aiida_ssb.exceptions import InsufficientDataError, MissingInputError

__all__ = [
    'DcPolarisationSettings',
    'Hold',
    'PolarisationResult',
    'TransferenceSettings',
    'electronic_conductivity',
    'electronic_conductivity_measurement',
    'find_holds',
    'transference_number',
    'transference_number_measurement',
]


class _HoldSettings(Settings):
    hold_tolerance_v: float = Field(0.005, gt=0, description='voltage band of one potentiostatic hold')
    min_hold_s: float = Field(60.0, gt=0, description='shortest hold')
    steady_fraction: float = Field(0.1, gt=0, le=0.5, description='last part of the hold averaged for I_ss')
    steady_tolerance: float = Field(
        0.05, gt=0, lt=1, description='relative current change across the steady window that still counts as steady'
    )
    rest_current_ma: float | None = Field(
        None, ge=0, description='|I| at or below which a row carries no current (absent: 0)'
    )


class DcPolarisationSettings(_HoldSettings):
    """Settings of the electronic-conductivity analysis (DC polarisation with ion-blocking electrodes)."""

    thickness_cm: float | None = Field(None, gt=0, description='electrolyte thickness (absent: from the cell)')
    area_cm2: float | None = Field(None, gt=0, description='electrode area (absent: from the cell)')
    headline_hold: Literal['lowest_voltage', 'last', 'ohmic_fit'] = Field(
        'lowest_voltage',
        description='which hold gives the headline conductivity: the lowest |V|, the last, or the slope of I_ss(V)',
    )


class TransferenceSettings(_HoldSettings):
    """Settings of the Bruce-Vincent transference number."""

    initial_current: Literal['auto', 'measured', 'impedance'] = Field(
        'auto', description='I_0: the first sampled current, or Delta V/(R_b + R_0) from the impedance before'
    )


@dataclasses.dataclass
class Hold:
    """One potentiostatic hold: rows ``[start, stop)``."""

    start: int
    stop: int
    voltage_v: float
    duration_s: float
    initial_current_ma: float
    steady_current_ma: float
    steady_drift: float
    steady: bool
    time_to_steady_s: float | None
    rest_voltage_v: float | None = None

    @property
    def bias_v(self) -> float:
        """The applied polarisation: the hold voltage less the rest (open-circuit) voltage before it, else the
        hold voltage itself."""
        return self.voltage_v - (self.rest_voltage_v or 0.0)

    def to_dict(self) -> dict[str, Any]:
        out = {
            'voltage_v': self.voltage_v,
            'bias_v': self.bias_v,
            'duration_s': self.duration_s,
            'initial_current_ma': self.initial_current_ma,
            'steady_current_ma': self.steady_current_ma,
            'steady_drift': self.steady_drift,
            'steady': self.steady,
        }
        if self.time_to_steady_s is not None:
            out['time_to_steady_s'] = self.time_to_steady_s
        if self.rest_voltage_v is not None:
            out['rest_voltage_v'] = self.rest_voltage_v
        return out


def _running_median(values: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or values.size < width:
        return values
    pad = width // 2
    padded = np.pad(values, pad, mode='edge')
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    return np.asarray(np.median(windows, axis=1)[: values.size])


def find_holds(
    time_s: np.ndarray,
    voltage_v: np.ndarray,
    current_ma: np.ndarray,
    s: _HoldSettings,
    control_mode: np.ndarray | None = None,
) -> list[Hold]:
    """The potentiostatic holds of a record (see the module docstring)."""
    n = time_s.size
    threshold = s.rest_current_ma or 0.0
    carrying = np.abs(current_ma) > threshold
    if control_mode is not None:
        candidates = list(zip(*runs((control_mode == 2) & carrying)))
    else:
        candidates = []
        a = 0
        while a < n:
            if not carrying[a]:
                a += 1
                continue
            b = a + 1
            level = voltage_v[a]
            while b < n and carrying[b] and abs(voltage_v[b] - level) <= s.hold_tolerance_v:
                b += 1
            candidates.append((a, b))
            a = b
    holds = []
    for a, b in candidates:
        a, b = int(a), int(b)
        if b - a < 5:
            continue
        t0 = time_s[a - 1] if a > 0 and not carrying[a - 1] else time_s[a]
        duration = float(time_s[b - 1] - t0)
        if duration < s.min_hold_s:
            continue
        t = time_s[a:b]
        i = current_ma[a:b]
        window = t >= t[-1] - s.steady_fraction * (t[-1] - t[0])
        if window.sum() < 3:
            window[-3:] = True
        steady_current = float(np.mean(i[window]))
        slope = float(np.polyfit(t[window], i[window], 1)[0]) if np.ptp(t[window]) > 0 else 0.0
        drift = abs(slope * np.ptp(t[window]) / steady_current) if steady_current else math.inf
        smoothed = _running_median(i, max(1, min(11, (b - a) // 20 * 2 + 1)))
        outside = np.abs(smoothed - steady_current) > s.steady_tolerance * abs(steady_current)
        last_outside = np.flatnonzero(outside)
        time_to_steady = None
        if last_outside.size == 0:
            time_to_steady = 0.0
        elif last_outside[-1] < b - a - 1:
            time_to_steady = float(t[last_outside[-1] + 1] - t0)
        holds.append(
            Hold(
                start=a,
                stop=b,
                voltage_v=float(np.median(voltage_v[a:b])),
                duration_s=duration,
                initial_current_ma=float(i[0]),
                steady_current_ma=steady_current,
                steady_drift=float(drift),
                steady=bool(drift <= s.steady_tolerance),
                time_to_steady_s=time_to_steady,
                rest_voltage_v=float(voltage_v[a - 1]) if a > 0 and not carrying[a - 1] else None,
            )
        )
    return holds


@dataclasses.dataclass
class PolarisationResult:
    """Electronic conductivity or transference number, per hold, with the headline value and flags."""

    method: str
    settings: Settings
    holds: list[Hold]
    values: dict[str, Any]
    flags: list[dict[str, Any]]
    curves: dict[str, np.ndarray]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            'method': self.method,
            'parameters': self.settings.parameters(),
            'n_holds': len(self.holds),
            'holds': [hold.to_dict() for hold in self.holds],
            'flags': self.flags,
        }
        out.update(self.values)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self.curves)


def _prepare(time_s: Any, voltage_v: Any, current_ma: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = as_float_array('time_s', time_s)
    v = as_float_array('voltage_v', voltage_v, t.size)
    i = as_float_array('current_ma', current_ma, t.size)
    if t.size < 5:
        raise InsufficientDataError(f'{t.size} rows: a polarisation needs more')
    return t, v, i


def _hold_curves(t: np.ndarray, v: np.ndarray, i: np.ndarray, holds: list[Hold]) -> dict[str, np.ndarray]:
    index = np.concatenate([np.full(h.stop - h.start, k + 1) for k, h in enumerate(holds)])
    rows = np.concatenate([np.arange(h.start, h.stop) for h in holds])
    start = np.concatenate([np.full(h.stop - h.start, t[h.start - 1] if h.start else t[h.start]) for h in holds])
    return {
        'hold__index': index.astype(np.int64),
        'hold__time_s': t[rows] - start,
        'hold__current_ma': i[rows],
        'hold__voltage_v': v[rows],
    }


def electronic_conductivity(
    time_s: Any,
    voltage_v: Any,
    current_ma: Any,
    *,
    control_mode: Any = None,
    thickness_cm: float | None = None,
    area_cm2: float | None = None,
    settings: DcPolarisationSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> PolarisationResult:
    """Electronic conductivity sigma_e = I_ss L / (V A) of every hold of a DC polarisation with ion-blocking
    electrodes (see the module docstring). ``thickness_cm``/``area_cm2``: the cell's electrolyte geometry (the
    settings of the same names win).

    :raises MissingInputError: no thickness or area.
    :raises InsufficientDataError: no hold.
    """
    s = DcPolarisationSettings.resolve(settings, **overrides)
    t, v, i = _prepare(time_s, voltage_v, current_ma)
    thickness = s.thickness_cm or thickness_cm
    area = s.area_cm2 or area_cm2
    if thickness is None or area is None:
        raise MissingInputError(
            'the electrolyte thickness and area are needed (from the cell or thickness_cm/area_cm2)'
        )
    mode = None if control_mode is None else as_float_array('control_mode', control_mode, t.size)
    holds = find_holds(t, v, i, s, mode)
    if not holds:
        raise InsufficientDataError(f'no potentiostatic hold of at least {s.min_hold_s:g} s with a current')
    flags: list[dict[str, Any]] = []
    sigmas = []
    for hold in holds:
        bias = abs(hold.bias_v)
        sigma = abs(hold.steady_current_ma) * 1e-3 * thickness / (bias * area) if bias > 0 else math.nan
        sigmas.append(sigma)
    unsteady = [k + 1 for k, hold in enumerate(holds) if not hold.steady]
    if unsteady:
        flags.append(
            flag(
                'not_steady',
                f'the current still changes by more than {s.steady_tolerance:.0%} over the steady window of hold(s) '
                f'{", ".join(map(str, unsteady))}: I_ss is an upper bound of the electronic current',
            )
        )
    without_rest = [k + 1 for k, hold in enumerate(holds) if hold.rest_voltage_v is None]
    if without_rest:
        flags.append(
            flag(
                'no_rest_before',
                f'hold(s) {", ".join(map(str, without_rest))} follow no open-circuit row: the bias is taken as the '
                'hold voltage itself',
            )
        )
    voltages = np.array([abs(h.bias_v) for h in holds])
    currents = np.array([abs(h.steady_current_ma) for h in holds])
    values: dict[str, Any] = {
        'thickness_cm': thickness,
        'area_cm2': area,
        'hold_conductivities_s_cm': sigmas,
    }
    slope = None
    if len(holds) >= 2 and np.ptp(voltages) > 0:
        slope = float(np.sum(voltages * currents) / np.sum(voltages**2))
        predicted = slope * voltages
        total = float(np.sum((currents - currents.mean()) ** 2))
        values['ohmic_r2'] = 1.0 - float(np.sum((currents - predicted) ** 2)) / total if total > 0 else None
        values['ohmic_conductivity_s_cm'] = slope * 1e-3 * thickness / area
        if values['ohmic_r2'] is not None and values['ohmic_r2'] < 0.9:
            flags.append(
                flag('not_ohmic', f'I_ss is not proportional to V across the holds (R2 {values["ohmic_r2"]:.2f})')
            )
    if s.headline_hold == 'ohmic_fit' and slope is not None:
        chosen, sigma = None, values['ohmic_conductivity_s_cm']
    else:
        chosen = int(np.argmin(voltages)) if s.headline_hold == 'lowest_voltage' else len(holds) - 1
        sigma = sigmas[chosen]
    values['electronic_conductivity_s_cm'] = sigma
    if chosen is not None:
        hold = holds[chosen]
        values['headline_hold'] = chosen + 1
        values['voltage_v'] = hold.voltage_v
        values['bias_v'] = hold.bias_v
        values['steady_current_ma'] = hold.steady_current_ma
        values['steady'] = hold.steady
        if hold.time_to_steady_s is not None:
            values['time_to_steady_h'] = hold.time_to_steady_s / 3600.0
        if hold.steady_current_ma:
            values['electronic_resistance_ohm'] = abs(hold.bias_v / hold.steady_current_ma) * 1e3
    return PolarisationResult('dc_polarisation', s, holds, values, flags, _hold_curves(t, v, i, holds))


def transference_number(
    time_s: Any,
    voltage_v: Any,
    current_ma: Any,
    *,
    control_mode: Any = None,
    interface_resistance_before_ohm: float | None = None,
    interface_resistance_after_ohm: float | None = None,
    bulk_resistance_before_ohm: float | None = None,
    resistance_source: str | None = None,
    settings: TransferenceSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> PolarisationResult:
    """Bruce-Vincent transference number of the first hold of a symmetric-cell polarisation (Evans' ratio
    without impedance; see the module docstring). The resistances (ohm) come from impedance spectra taken
    before and after the polarisation.

    :raises InsufficientDataError: no hold.
    :raises MissingInputError: ``initial_current='impedance'`` without the bulk and interface resistances.
    """
    s = TransferenceSettings.resolve(settings, **overrides)
    t, v, i = _prepare(time_s, voltage_v, current_ma)
    mode = None if control_mode is None else as_float_array('control_mode', control_mode, t.size)
    holds = find_holds(t, v, i, s, mode)
    if not holds:
        raise InsufficientDataError(f'no potentiostatic hold of at least {s.min_hold_s:g} s with a current')
    hold = holds[0]
    flags: list[dict[str, Any]] = []
    delta_v = abs(hold.bias_v)
    i_ss = abs(hold.steady_current_ma) * 1e-3
    r0, rss, rb = interface_resistance_before_ohm, interface_resistance_after_ohm, bulk_resistance_before_ohm
    use_impedance = s.initial_current == 'impedance' or (
        s.initial_current == 'auto' and rb is not None and r0 is not None
    )
    if use_impedance:
        if rb is None or r0 is None:
            raise MissingInputError('initial_current=impedance needs the bulk and interface resistances before')
        i_0 = delta_v / (rb + r0)
        initial_source = 'impedance: Delta V / (R_b + R_0)'
    else:
        i_0 = abs(hold.initial_current_ma) * 1e-3
        initial_source = 'measured: first row of the hold'
    values: dict[str, Any] = {
        'delta_v': delta_v,
        'initial_current_ma': i_0 * 1e3,
        'initial_current_source': initial_source,
        'steady_current_ma': i_ss * 1e3,
        'measured_first_current_ma': abs(hold.initial_current_ma),
        'steady': hold.steady,
    }
    if hold.time_to_steady_s is not None:
        values['time_to_steady_h'] = hold.time_to_steady_s / 3600.0
    if r0 is not None and rss is not None:
        numerator = i_ss * (delta_v - i_0 * r0)
        denominator = i_0 * (delta_v - i_ss * rss)
        if denominator <= 0 or numerator < 0:
            raise InsufficientDataError(
                f'Bruce-Vincent undefined: Delta V {delta_v:.4g} V is not above the interfacial drops '
                f'(I_0 R_0 = {i_0 * r0:.4g} V, I_ss R_ss = {i_ss * rss:.4g} V)'
            )
        t_plus = numerator / denominator
        method = 'bruce_vincent'
        values['interface_resistance_before_ohm'] = r0
        values['interface_resistance_after_ohm'] = rss
        if resistance_source:
            values['resistance_source'] = resistance_source
    else:
        t_plus = i_ss / i_0
        method = 'evans'
        flags.append(
            flag('no_impedance', 'no interfacial resistances before and after: Evans ratio I_ss/I_0, not corrected')
        )
    if rb is not None:
        values['bulk_resistance_before_ohm'] = rb
    if not hold.steady:
        flags.append(flag('not_steady', 'the current had not reached a steady state at the end of the hold'))
    if not 0.0 <= t_plus <= 1.0:
        flags.append(flag('outside_0_1', f'the transference number {t_plus:.3g} lies outside [0, 1]'))
    values['transference_number'] = t_plus
    return PolarisationResult(method, s, holds[:1], values, flags, _hold_curves(t, v, i, holds[:1]))


def _record(measurement: Any) -> tuple[Mapping[str, Any], dict[str, Any]]:
    columns = getattr(measurement, 'columns', measurement)
    missing = [name for name in ('time_s', 'voltage_v', 'current_ma') if name not in columns]
    if missing:
        raise InsufficientDataError(f'the record lacks the column(s) {", ".join(missing)}')
    extra = {'control_mode': columns['control_mode']} if 'control_mode' in columns else {}
    return columns, extra


def electronic_conductivity_measurement(measurement: Any, **kwargs: Any) -> PolarisationResult:
    """:func:`electronic_conductivity` of a parsed record."""
    columns, extra = _record(measurement)
    return electronic_conductivity(columns['time_s'], columns['voltage_v'], columns['current_ma'], **extra, **kwargs)


def transference_number_measurement(measurement: Any, **kwargs: Any) -> PolarisationResult:
    """:func:`transference_number` of a parsed record."""
    columns, extra = _record(measurement)
    return transference_number(columns['time_s'], columns['voltage_v'], columns['current_ma'], **extra, **kwargs)
