"""Diffusion coefficients from titration records: GITT (Weppner-Huggins) and PITT (Wen et al.).

Pure numpy/scipy.

GITT (galvanostatic intermittent titration)
    Pulses of constant current :math:`I` for :math:`\\tau`, each followed by a rest, are found from the record
    (runs of rows with :math:`|I|` above the rest threshold, of at least ``min_pulse_s``, followed by a rest
    of at least ``min_rest_s``). For pulse :math:`k`:

    * :math:`E_0`: the relaxed voltage before the pulse (mean of the last three rows of the preceding rest);
    * :math:`\\Delta E_s = E_\\mathrm{relaxed,after} - E_0` (the change of the equilibrium voltage);
    * :math:`\\Delta E_\\tau`: the voltage change during the pulse without the ohmic jump. With
      ``transient='sqrt_fit'`` (default), the slope of :math:`E` against :math:`\\sqrt{t}` fitted over the
      pulse (after the first ``skip_fraction``) times :math:`\\sqrt{\\tau}`; with ``'difference'``,
      :math:`E(\\tau) - E(0^+)` between the pulse's last and first rows;
    * Weppner and Huggins (1977), valid for :math:`\\tau \\ll L^2/D` with a linear :math:`E(\\sqrt t)`:

      .. math:: D = \\frac{4}{\\pi\\tau}\\,L^2\\left(\\frac{\\Delta E_s}{\\Delta E_\\tau}\\right)^2,
                \\qquad L = \\frac{n_m V_m}{S} = \\frac{m V_m}{M S}

      where :math:`L` is the diffusion length: the electrode's volume over its contact area from the active
      mass :math:`m`, molar mass :math:`M`, molar volume :math:`V_m` and area :math:`S`, or, for spherical
      particles of radius :math:`r`, :math:`L = r/3` (volume over surface of a sphere);
    * the internal resistance :math:`R = |E(0^+) - E_0| / |I|` (the ohmic jump: :math:`E(0^+)` is the intercept of
      the :math:`\\sqrt t` fit, or the pulse's first row with ``'difference'``) and the
      overpotential at the end of the pulse :math:`\\eta = E(\\tau) - E_\\mathrm{relaxed,after}`.

    Each pulse reports :math:`\\tau D / L^2` (flagged above ``max_tau_d_over_l2``: the short-time condition
    fails), the linearity of :math:`E(\\sqrt t)` (:math:`R^2`) and whether the rest relaxed (voltage drift at its
    end below ``relaxed_drift_mv_h``).

PITT (potentiostatic intermittent titration)
    Potential steps are found from the record (runs of near-constant voltage within ``step_tolerance_v``
    lasting at least ``min_step_s``, with a current). For each step the charge :math:`\\Delta Q = \\int I\\,dt`
    and :math:`D` from the current transient of a planar electrode of thickness :math:`L`:

    * ``method='long_time'`` (default): :math:`I(t) \\approx \\frac{2\\Delta Q D}{L^2}
      \\exp\\left(-\\frac{\\pi^2 D t}{4 L^2}\\right)`, so :math:`D = -\\frac{4 L^2}{\\pi^2}\\,
      \\frac{d\\ln|I|}{dt}` from a straight-line fit of :math:`\\ln|I|` over the part of the step after
      ``long_time_start_fraction`` of its duration where :math:`|I|` is above ``min_current_fraction`` of the
      current at the window's start (the noise floor);
    * ``method='cottrell'``: :math:`I(t) = \\frac{\\Delta Q}{L}\\sqrt{\\frac{D}{\\pi t}}` at short times, so
      :math:`D = \\pi\\,(k L / \\Delta Q)^2` from the slope :math:`k` of :math:`|I|` against :math:`t^{-1/2}` over the
      first ``cottrell_fraction`` of the step.

Both need :math:`L`: give ``particle_radius_um`` or (``molar_volume_cm3_mol``, ``molar_mass_g_mol``, the active
mass and the contact area; the mass and area come from the cell when not set). Without them the analysis
raises :class:`~aiida_ssb.exceptions.MissingInputError`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from aiida_ssb.analysis.settings import Settings
from aiida_ssb.analysis.signal import as_float_array, flag, runs
from aiida_ssb.exceptions import InsufficientDataError, MissingInputError

__all__ = [
    'GittSettings',
    'PittSettings',
    'TitrationResult',
    'diffusion_length_cm',
    'find_pulses',
    'find_steps',
    'gitt',
    'gitt_measurement',
    'looks_like_gitt',
    'looks_like_pitt',
    'pitt',
    'pitt_measurement',
]

FARADAY = 96485.33212


class _GeometrySettings(Settings):
    #: field names whose suffix is not a unit of :mod:`aiida_ssb.model` (cm3/mol)
    unitless: ClassVar[frozenset[str]] = frozenset({'molar_volume_cm3_mol'})

    particle_radius_um: float | None = Field(
        None, gt=0, description='radius of spherical active particles: L = r/3 (wins over the electrode geometry)'
    )
    molar_volume_cm3_mol: float | None = Field(None, gt=0, description='molar volume of the active material')
    molar_mass_g_mol: float | None = Field(None, gt=0, description='molar mass of the active material')
    active_mass_mg: float | None = Field(None, gt=0, description='active mass (absent: from the cell)')
    contact_area_cm2: float | None = Field(
        None, gt=0, description='electrode/electrolyte contact area (absent: the electrode area of the cell)'
    )
    rest_current_ma: float | None = Field(
        None, ge=0, description='|I| at or below which a row is at rest (absent: 1 % of the largest |I|)'
    )


class GittSettings(_GeometrySettings):
    """Settings of the GITT analysis (Weppner-Huggins)."""

    transient: Literal['sqrt_fit', 'difference'] = Field(
        'sqrt_fit', description='how Delta E_tau is taken: slope of E against sqrt(t), or last minus first pulse row'
    )
    skip_fraction: float = Field(
        0.05, ge=0, lt=0.9, description='sqrt_fit: the part of the pulse left out at its start (after the jump)'
    )
    min_pulse_s: float = Field(1.0, gt=0, description='shortest pulse')
    min_rest_s: float = Field(10.0, gt=0, description='shortest rest after a pulse')
    min_pulses: int = Field(3, ge=1, description='fewest pulses of one direction for a GITT record')
    max_tau_d_over_l2: float = Field(
        0.1, gt=0, description='tau D / L^2 above which a pulse is flagged (short-time condition)'
    )
    relaxed_drift_mv_h: float = Field(
        5.0, gt=0, description='voltage drift at the end of a rest above which it is flagged as not relaxed'
    )


class PittSettings(_GeometrySettings):
    """Settings of the PITT analysis (long-time or Cottrell)."""

    method: Literal['long_time', 'cottrell'] = Field('long_time', description='which transient regime gives D')
    step_tolerance_v: float = Field(0.002, gt=0, description='voltage band of one potential step')
    min_step_s: float = Field(10.0, gt=0, description='shortest potential step')
    min_steps: int = Field(3, ge=1, description='fewest steps for a PITT record')
    max_step_v: float = Field(0.1, gt=0, description='largest potential step of a PITT record (detection)')
    long_time_start_fraction: float = Field(
        0.3, ge=0, lt=1, description='long_time: the fit starts after this fraction of the step'
    )
    min_current_fraction: float = Field(
        0.002,
        gt=0,
        lt=1,
        description="long_time: the fit stops where |I| falls below this fraction of the fit window's first",
    )
    cottrell_fraction: float = Field(0.05, gt=0, le=0.5, description='cottrell: the part of the step fitted')


def diffusion_length_cm(
    s: _GeometrySettings, active_mass_mg: float | None = None, area_cm2: float | None = None
) -> tuple[float, str]:
    """The diffusion length L (cm) and how it was obtained (see the module docstring)."""
    if s.particle_radius_um is not None:
        return s.particle_radius_um * 1e-4 / 3.0, f'particle radius {s.particle_radius_um:g} um / 3'
    mass = s.active_mass_mg if s.active_mass_mg is not None else active_mass_mg
    area = s.contact_area_cm2 if s.contact_area_cm2 is not None else area_cm2
    missing = [
        name
        for name, value in (
            ('molar_volume_cm3_mol', s.molar_volume_cm3_mol),
            ('molar_mass_g_mol', s.molar_mass_g_mol),
            ('active_mass_mg', mass),
            ('contact_area_cm2', area),
        )
        if value is None
    ]
    molar_mass, molar_volume = s.molar_mass_g_mol, s.molar_volume_cm3_mol
    if missing or mass is None or area is None or molar_mass is None or molar_volume is None:
        raise MissingInputError(
            'the diffusion length needs particle_radius_um, or molar_volume_cm3_mol, molar_mass_g_mol, the active '
            f'mass and the contact area; missing: {", ".join(missing)}'
        )
    moles = mass * 1e-3 / molar_mass
    return (
        moles * molar_volume / area,
        f'n V_m / S = {moles:.4g} mol x {molar_volume:g} cm3/mol / {area:.4g} cm2',
    )


@dataclasses.dataclass
class TitrationResult:
    """Per-pulse (GITT) or per-step (PITT) table, summary statistics and flags."""

    method: str
    settings: Settings
    table: dict[str, np.ndarray]
    length_cm: float
    length_source: str
    flags: list[dict[str, Any]]

    @property
    def n(self) -> int:
        return int(self.table['diffusion_coefficient_cm2_s'].size)

    def to_dict(self) -> dict[str, Any]:
        d = self.table['diffusion_coefficient_cm2_s']
        good = d[np.isfinite(d) & (d > 0)]
        result: dict[str, Any] = {
            'method': self.method,
            'parameters': self.settings.parameters(),
            'diffusion_length_cm': self.length_cm,
            'diffusion_length_source': self.length_source,
            f'n_{"pulses" if self.method.startswith("gitt") else "steps"}': self.n,
            'flags': self.flags,
        }
        if good.size:
            logs = np.log10(good)
            result['diffusion_coefficient_median_cm2_s'] = float(10 ** np.median(logs))
            result['diffusion_coefficient_min_cm2_s'] = float(good.min())
            result['diffusion_coefficient_max_cm2_s'] = float(good.max())
            result['log10_diffusion_coefficient_std'] = float(np.std(logs)) if good.size > 1 else 0.0
        for key in ('internal_resistance_ohm', 'overpotential_v'):
            if key in self.table:
                values = self.table[key][np.isfinite(self.table[key])]
                if values.size:
                    result[f'{key.rsplit("_", 1)[0]}_median_{key.rsplit("_", 1)[1]}'] = float(np.median(values))
        return result

    def arrays(self) -> dict[str, np.ndarray]:
        prefix = 'pulse' if self.method.startswith('gitt') else 'step'
        return {f'{prefix}__{key}': value for key, value in self.table.items()}


def _rest_threshold(current: np.ndarray, given: float | None) -> float:
    if given is not None:
        return given
    top = float(np.max(np.abs(current))) if current.size else 0.0
    return 0.01 * top


def find_pulses(
    time_s: np.ndarray, current_ma: np.ndarray, rest_current_ma: float, min_pulse_s: float, min_rest_s: float
) -> list[tuple[int, int, int]]:
    """GITT pulses: ``(first row, row after the pulse, row after the following rest)`` for each run of rows
    with ``|I| > rest_current_ma`` of one sign lasting at least ``min_pulse_s``, preceded by a rest row and
    followed by a rest of at least ``min_rest_s``."""
    active = np.abs(current_ma) > rest_current_ma
    sign = np.sign(current_ma)
    starts, stops = runs(active)
    pulses = []
    n = time_s.size
    for index, (a, b) in enumerate(zip(starts, stops)):
        if a == 0 or b >= n:
            continue
        if np.any(sign[a:b] != sign[a]):
            continue
        level = float(np.median(current_ma[a:b]))
        if np.max(np.abs(current_ma[a:b] - level)) > 0.1 * abs(level):
            continue  # not a constant-current pulse (e.g. a decaying potentiostatic step)
        if time_s[b - 1] - time_s[a - 1] < min_pulse_s:
            continue
        rest_end = starts[index + 1] if index + 1 < starts.size else n
        if time_s[rest_end - 1] - time_s[b - 1] < min_rest_s:
            continue
        pulses.append((int(a), int(b), int(rest_end)))
    return pulses


def looks_like_gitt(time_s: Any, current_ma: Any, *, settings: GittSettings | Mapping[str, Any] | None = None) -> bool:
    """True when the record holds at least ``min_pulses`` consecutive pulses of one direction, each followed by
    a rest (a galvanostatic cycling record alternates directions and is not one)."""
    s = GittSettings.resolve(settings)
    t = np.asarray(time_s, dtype=float)
    i = np.asarray(current_ma, dtype=float)
    if t.size < 10:
        return False
    pulses = find_pulses(t, i, _rest_threshold(i, s.rest_current_ma), s.min_pulse_s, s.min_rest_s)
    best = current = 0
    previous = 0.0
    for a, _, _ in pulses:
        direction = math.copysign(1.0, i[a])
        current = current + 1 if direction == previous else 1
        previous = direction
        best = max(best, current)
    return best >= s.min_pulses


def gitt(
    time_s: Any,
    voltage_v: Any,
    current_ma: Any,
    *,
    active_mass_mg: float | None = None,
    area_cm2: float | None = None,
    settings: GittSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> TitrationResult:
    """Weppner-Huggins diffusion coefficient, internal resistance and overpotential of every GITT pulse (see the
    module docstring).

    :param active_mass_mg: active mass from the cell (the setting ``active_mass_mg`` wins).
    :param area_cm2: electrode area from the cell (the setting ``contact_area_cm2`` wins).
    :raises MissingInputError: no way to compute the diffusion length.
    :raises InsufficientDataError: no pulse followed by a rest.
    """
    s = GittSettings.resolve(settings, **overrides)
    t = as_float_array('time_s', time_s)
    v = as_float_array('voltage_v', voltage_v, t.size)
    i = as_float_array('current_ma', current_ma, t.size)
    length, source = diffusion_length_cm(s, active_mass_mg, area_cm2)
    pulses = find_pulses(t, i, _rest_threshold(i, s.rest_current_ma), s.min_pulse_s, s.min_rest_s)
    if not pulses:
        raise InsufficientDataError('no current pulse followed by a rest: not a GITT record')
    rows: dict[str, list[float]] = {
        key: []
        for key in (
            'pulse',
            'start_time_s',
            'duration_s',
            'current_ma',
            'charge_mah',
            'cumulative_charge_mah',
            'relaxed_before_v',
            'relaxed_after_v',
            'delta_es_v',
            'delta_et_v',
            'sqrt_fit_r2',
            'internal_resistance_ohm',
            'overpotential_v',
            'tau_d_over_l2',
            'relaxed',
            'diffusion_coefficient_cm2_s',
        )
    }
    flags: list[dict[str, Any]] = []
    cumulative = 0.0
    not_short, not_relaxed, nonlinear = [], [], []
    for number, (a, b, rest_end) in enumerate(pulses, start=1):
        tau = float(t[b - 1] - t[a - 1])
        current = float(np.mean(i[a:b]))
        charge = current * tau / 3600.0
        cumulative += charge
        e0 = _relaxed(v, a)
        e_first, e_last = float(v[a]), float(v[b - 1])
        e_after = _relaxed(v, rest_end)
        delta_es = e_after - e0
        # E against sqrt(time since the pulse began), the start left out
        elapsed = t[a:b] - t[a - 1]
        keep = elapsed >= s.skip_fraction * tau
        r2 = math.nan
        if s.transient == 'sqrt_fit' and keep.sum() >= 3:
            x = np.sqrt(elapsed[keep])
            y = v[a:b][keep]
            slope, intercept = np.polyfit(x, y, 1)
            fitted = slope * x + intercept
            total = float(np.sum((y - y.mean()) ** 2))
            r2 = 1.0 - float(np.sum((y - fitted) ** 2)) / total if total > 0 else math.nan
            delta_et = float(slope * math.sqrt(tau))
            jump = float(intercept) - e0  # E(0+) from the fit: the ohmic jump without the first row's diffusion
        else:
            delta_et = e_last - e_first
            jump = e_first - e0
        resistance = abs(jump) / abs(current) * 1000.0 if current else math.nan
        if delta_et != 0 and tau > 0:
            diffusion = 4.0 / (math.pi * tau) * length**2 * (delta_es / delta_et) ** 2
        else:
            diffusion = math.nan
        tau_ratio = tau * diffusion / length**2 if math.isfinite(diffusion) else math.nan
        # drift at the end of the rest: slope over its last fifth (at least 3 rows)
        rest_rows = np.arange(b, rest_end)
        tail = rest_rows[-max(3, rest_rows.size // 5) :]
        drift = math.nan
        if tail.size >= 3 and t[tail[-1]] > t[tail[0]]:
            drift = float(np.polyfit(t[tail], v[tail], 1)[0]) * 3.6e6  # V/s -> mV/h
        relaxed = bool(math.isfinite(drift) and abs(drift) <= s.relaxed_drift_mv_h)
        if math.isfinite(tau_ratio) and tau_ratio > s.max_tau_d_over_l2:
            not_short.append(number)
        if not relaxed:
            not_relaxed.append(number)
        if math.isfinite(r2) and r2 < 0.95:
            nonlinear.append(number)
        for key, value in (
            ('pulse', number),
            ('start_time_s', float(t[a - 1])),
            ('duration_s', tau),
            ('current_ma', current),
            ('charge_mah', charge),
            ('cumulative_charge_mah', cumulative),
            ('relaxed_before_v', e0),
            ('relaxed_after_v', e_after),
            ('delta_es_v', delta_es),
            ('delta_et_v', delta_et),
            ('sqrt_fit_r2', r2),
            ('internal_resistance_ohm', resistance),
            ('overpotential_v', e_last - e_after),
            ('tau_d_over_l2', tau_ratio),
            ('relaxed', float(relaxed)),
            ('diffusion_coefficient_cm2_s', diffusion),
        ):
            rows[key].append(value)
    if not_short:
        flags.append(
            flag(
                'short_time_condition',
                f'tau D / L^2 above {s.max_tau_d_over_l2:g} in {len(not_short)} pulse(s): Weppner-Huggins '
                'underestimates D there',
                pulses=not_short[:50],
            )
        )
    if not_relaxed:
        flags.append(
            flag(
                'not_relaxed',
                f'{len(not_relaxed)} rest(s) still drift by more than {s.relaxed_drift_mv_h:g} mV/h at their end: '
                'Delta E_s is uncertain',
                pulses=not_relaxed[:50],
            )
        )
    if nonlinear:
        flags.append(
            flag(
                'nonlinear_sqrt_t',
                f'E against sqrt(t) has R2 < 0.95 in {len(nonlinear)} pulse(s)',
                pulses=nonlinear[:50],
            )
        )
    table = {key: np.asarray(values, dtype=float) for key, values in rows.items()}
    table['pulse'] = table['pulse'].astype(np.int64)
    table['relaxed'] = table['relaxed'].astype(bool)
    return TitrationResult(f'gitt_{s.transient}', s, table, length, source, flags)


def _relaxed(voltage: np.ndarray, stop: int, points: int = 3) -> float:
    """The relaxed voltage at the end of a rest: the mean of its last ``points`` rows (before ``stop``)."""
    return float(np.mean(voltage[max(0, stop - points) : stop]))


def find_steps(
    time_s: np.ndarray,
    voltage_v: np.ndarray,
    current_ma: np.ndarray,
    tolerance_v: float,
    min_step_s: float,
    rest_current_ma: float,
) -> list[tuple[int, int]]:
    """Potential steps: ``(first row, row after)`` of runs of rows within ``tolerance_v`` of the run's first
    row, carrying a current, lasting at least ``min_step_s``."""
    n = time_s.size
    steps = []
    a = 0
    while a < n:
        b = a + 1
        while b < n and abs(voltage_v[b] - voltage_v[a]) <= tolerance_v:
            b += 1
        if time_s[b - 1] - time_s[a] >= min_step_s and np.any(np.abs(current_ma[a:b]) > rest_current_ma):
            steps.append((a, b))
        a = b
    return steps


def looks_like_pitt(
    time_s: Any, voltage_v: Any, current_ma: Any, *, settings: PittSettings | Mapping[str, Any] | None = None
) -> bool:
    """True when the record holds at least ``min_steps`` potential steps of one direction whose currents
    decay, each at most ``max_step_v`` from the previous and (mostly) following it without a rest (a
    potentiostatic titration)."""
    s = PittSettings.resolve(settings)
    t = np.asarray(time_s, dtype=float)
    v = np.asarray(voltage_v, dtype=float)
    i = np.asarray(current_ma, dtype=float)
    if t.size < 10:
        return False
    steps = find_steps(t, v, i, s.step_tolerance_v, s.min_step_s, _rest_threshold(i, s.rest_current_ma))
    if len(steps) < s.min_steps:
        return False
    decaying = [
        abs(i[b - 1]) < 0.5 * abs(i[a]) and np.mean(np.abs(i[a:b]) > 0.5 * abs(i[b - 1])) > 0.8 for a, b in steps
    ]
    levels = np.array([np.median(v[a:b]) for a, b in steps])
    same_direction = np.all(np.diff(levels) > 0) or np.all(np.diff(levels) < 0)
    # a titration steps the potential by a few mV from one step straight into the next; holds of a DC
    # polarisation (tenths of a volt, open-circuit rests between them) are not one
    small = np.all(np.abs(np.diff(levels)) <= s.max_step_v)
    contiguous = sum(steps[k + 1][0] == steps[k][1] for k in range(len(steps) - 1)) >= 0.5 * (len(steps) - 1)
    return bool(sum(decaying) >= s.min_steps and same_direction and small and contiguous)


def pitt(
    time_s: Any,
    voltage_v: Any,
    current_ma: Any,
    *,
    active_mass_mg: float | None = None,
    area_cm2: float | None = None,
    settings: PittSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> TitrationResult:
    """Diffusion coefficient of every PITT potential step (see the module docstring)."""
    s = PittSettings.resolve(settings, **overrides)
    t = as_float_array('time_s', time_s)
    v = as_float_array('voltage_v', voltage_v, t.size)
    i = as_float_array('current_ma', current_ma, t.size)
    length, source = diffusion_length_cm(s, active_mass_mg, area_cm2)
    steps = find_steps(t, v, i, s.step_tolerance_v, s.min_step_s, _rest_threshold(i, s.rest_current_ma))
    if not steps:
        raise InsufficientDataError('no potential step with a current: not a PITT record')
    rows: dict[str, list[float]] = {
        key: []
        for key in (
            'step',
            'start_time_s',
            'duration_s',
            'voltage_v',
            'delta_v',
            'charge_mah',
            'fit_points',
            'fit_r2',
            'diffusion_coefficient_cm2_s',
        )
    }
    flags: list[dict[str, Any]] = []
    short_fits = []
    previous_level = None
    for number, (a, b) in enumerate(steps, start=1):
        # time since the step began: from the last row before it (the potential was switched there)
        t0 = float(t[a - 1]) if a > 0 else float(t[a])
        elapsed = t[a:b] - t0
        current = i[a:b]
        duration = float(t[b - 1] - t0)
        level = float(np.median(v[a:b]))
        # trapezoids between rows; the first interval (since the switch) with the first row's current
        charge_mas = float(current[0] * elapsed[0] + np.trapezoid(current, elapsed))
        charge = charge_mas / 3600.0
        magnitude = np.abs(current)
        diffusion, r2, points = math.nan, math.nan, 0
        if s.method == 'long_time':
            window = elapsed >= s.long_time_start_fraction * duration
            keep = window & (magnitude > s.min_current_fraction * (magnitude[window][0] if window.any() else 0.0))
            points = int(keep.sum())
            if points >= 3:
                slope, intercept = np.polyfit(elapsed[keep], np.log(magnitude[keep]), 1)
                r2 = _r2(elapsed[keep], np.log(magnitude[keep]), slope, intercept)
                if slope < 0:
                    diffusion = -slope * 4.0 * length**2 / math.pi**2
        else:
            keep = (elapsed > 0) & (elapsed <= s.cottrell_fraction * duration)
            points = int(keep.sum())
            if points >= 3 and charge_mas != 0:
                x = 1.0 / np.sqrt(elapsed[keep])
                slope, intercept = np.polyfit(x, magnitude[keep], 1)
                r2 = _r2(x, magnitude[keep], slope, intercept)
                diffusion = math.pi * (slope * length / abs(charge_mas)) ** 2
        if points < 3:
            short_fits.append(number)
        for key, value in (
            ('step', number),
            ('start_time_s', t0),
            ('duration_s', duration),
            ('voltage_v', level),
            ('delta_v', math.nan if previous_level is None else level - previous_level),
            ('charge_mah', charge),
            ('fit_points', points),
            ('fit_r2', r2),
            ('diffusion_coefficient_cm2_s', diffusion),
        ):
            rows[key].append(value)
        previous_level = level
    if short_fits:
        flags.append(
            flag('too_few_fit_points', f'{len(short_fits)} step(s) have fewer than 3 points in the fit window')
        )
    table = {key: np.asarray(values, dtype=float) for key, values in rows.items()}
    table['step'] = table['step'].astype(np.int64)
    table['fit_points'] = table['fit_points'].astype(np.int64)
    return TitrationResult(f'pitt_{s.method}', s, table, length, source, flags)


def _r2(x: np.ndarray, y: np.ndarray, slope: float, intercept: float) -> float:
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - slope * x - intercept) ** 2)) / total if total > 0 else math.nan


def _columns(measurement: Any) -> Mapping[str, Any]:
    columns: Mapping[str, Any] = getattr(measurement, 'columns', measurement)
    missing = [name for name in ('time_s', 'voltage_v', 'current_ma') if name not in columns]
    if missing:
        raise InsufficientDataError(f'the record lacks the column(s) {", ".join(missing)}')
    return columns


def gitt_measurement(measurement: Any, **kwargs: Any) -> TitrationResult:
    """:func:`gitt` of a parsed record."""
    columns = _columns(measurement)
    return gitt(columns['time_s'], columns['voltage_v'], columns['current_ma'], **kwargs)


def pitt_measurement(measurement: Any, **kwargs: Any) -> TitrationResult:
    """:func:`pitt` of a parsed record."""
    columns = _columns(measurement)
    return pitt(columns['time_s'], columns['voltage_v'], columns['current_ma'], **kwargs)
