"""Thermal analysis of DSC/TGA/STA records: baseline, peaks with tangent onsets and enthalpies, mass-loss
steps, transitions on heating and cooling.

Pure numpy/scipy. Input: the canonical columns of :mod:`aiida_ssb.parsers.thermal` (``temperature_c``,
``time_s``, ``heat_flow_mw`` exothermic positive, ``mass_percent``/``mass_mg``) and the sample mass.

Segments
    The record is split into heating, cooling and isothermal segments by the sign of the heating rate
    :math:`\\beta = dT/dt` (smoothed; ``min_rate_k_min`` separates isothermal rows). Each heating or cooling
    segment of at least ``min_segment_points`` rows is analysed on its own.

DSC
    The specific heat flow :math:`q = \\dot Q / m` (W/g; mW when the sample mass is unknown, flagged) is smoothed
    (Savitzky-Golay over ``smoothing_c``). The *global baseline* is a polynomial of degree ``baseline_degree``
    in :math:`T` fitted to the rows outside events, found by iterative sigma clipping (rows further than
    ``clip_sigma`` robust standard deviations from the fit, widened by ``smoothing_c``, are events). Peaks of
    :math:`\\pm(q - b)` (exothermic positive, endothermic negative) with a height of at least
    ``min_peak_w_g`` and ``noise_factor`` noise standard deviations are events. For each:

    * the limits: where :math:`|q - b|` falls below ``limit_fraction`` of the peak height on either side;
    * the integration baseline: the straight line through the global baseline at the two limits;
    * the peak enthalpy :math:`\\Delta H = \\int (q - b_\\mathrm{line})\\,dt` (J/g; over time, or over
      :math:`dT/\\beta` without a time column);
    * the **extrapolated onset** (tangent method, ISO 11357 / ASTM E794): the temperature where the tangent at
      the steepest point of the leading edge (a straight-line fit over a quarter of the edge around the
      steepest point of its Savitzky-Golay derivative) meets the integration baseline; the end set likewise on
      the trailing edge;
    * the peak temperature and height (W/g above the integration baseline).

TGA
    The mass (% of the initial mass) is smoothed and differentiated, :math:`\\mathrm{DTG} = -dm/dT`
    (%/°C). Peaks of DTG of at least ``min_step_rate_percent_c`` are mass-loss steps; each spans the rows
    where DTG exceeds ``limit_fraction`` of its peak (bounded by the neighbouring steps' valleys). A step
    reports its start and end temperature, the mass lost (%, and mg with the sample mass), the temperature of
    the fastest loss, and the extrapolated onset: the tangent at the fastest loss meets the horizontal through
    the mass at the step's start. Steps losing less than ``min_step_percent`` are dropped.

Transitions
    A heating endotherm and a cooling exotherm (or the reverse) whose onsets lie within ``match_window_c`` are
    one reversible transition, with its hysteresis (heating onset minus cooling onset).

Headline
    ``dsc_onset_c``: the onset of the first exothermic event of the first heating whose height is at least
    ``significant_fraction`` of that segment's largest exotherm above ``headline_min_c`` (decomposition
    onsets, thesis chapter 6); ``dsc_peak_c`` and ``dsc_peak_heat_flow_w_g``: the largest exotherm; the total
    exothermic and endothermic heats of the first heating; the total mass loss and the first step's onset.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from pydantic import Field
from scipy.signal import find_peaks

from aiida_ssb.analysis.settings import Settings
from aiida_ssb.analysis.signal import as_float_array, flag, robust_noise, runs, smooth, tangent_intersection
from aiida_ssb.exceptions import InsufficientDataError

__all__ = ['ThermalResult', 'ThermalSettings', 'thermal_analysis', 'thermal_analysis_measurement']


class ThermalSettings(Settings):
    """Settings of the DSC/TGA analysis."""

    #: fields whose suffix is not a unit of :mod:`aiida_ssb.model` (W/g, %/degC, K/min)
    unitless: ClassVar[frozenset[str]] = frozenset(
        {'min_peak_w_g', 'min_step_rate_percent_c', 'min_rate_k_min', 'heating_rate_k_min', 'min_step_percent'}
    )

    smoothing_c: float = Field(3.0, gt=0, description='Savitzky-Golay smoothing window, in degrees')
    baseline_degree: int = Field(2, ge=0, le=4, description='degree of the global DSC baseline polynomial in T')
    clip_sigma: float = Field(3.0, gt=0, description='rows further than this many robust sigmas are events (baseline)')
    min_peak_w_g: float = Field(0.02, ge=0, description='smallest DSC peak height (W/g, or mW without sample mass)')
    noise_factor: float = Field(6.0, ge=0, description='smallest DSC peak height in noise standard deviations')
    limit_fraction: float = Field(0.01, gt=0, lt=0.5, description='peak/step limits: this fraction of the height')
    min_step_rate_percent_c: float = Field(0.01, gt=0, description='smallest DTG peak of a mass-loss step (%/degC)')
    min_step_percent: float = Field(0.2, ge=0, description='smallest mass loss of a step (%)')
    min_rate_k_min: float = Field(0.2, gt=0, description='|dT/dt| below which rows are isothermal')
    min_segment_points: int = Field(30, ge=5, description='shortest heating or cooling segment analysed')
    match_window_c: float = Field(30.0, gt=0, description='largest onset difference of a heating/cooling pair')
    significant_fraction: float = Field(
        0.2, gt=0, le=1, description="headline onset: smallest exotherm, as a fraction of the segment's largest"
    )
    headline_min_c: float = Field(
        -273.15, description='headline onset: only exotherms above this temperature (e.g. 200 to skip desolvation)'
    )
    heating_rate_k_min: float | None = Field(
        None, gt=0, description='heating rate when the record has no time column (absent: from the metadata)'
    )


@dataclasses.dataclass
class ThermalResult:
    """Segments, DSC events, mass-loss steps, transitions, headline numbers and flags."""

    settings: ThermalSettings
    segments: list[dict[str, Any]]
    events: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    headline: dict[str, Any]
    flags: list[dict[str, Any]]
    curves: dict[str, np.ndarray]
    units: str

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            'method': 'thermal_tangent_onset',
            'parameters': self.settings.parameters(),
            'heat_flow_unit': self.units,
            'n_segments': len(self.segments),
            'n_events': len(self.events),
            'n_steps': len(self.steps),
            'segments': self.segments,
            'events': self.events,
            'mass_loss_steps': self.steps,
            'transitions': self.transitions,
            'flags': self.flags,
        }
        out.update(self.headline)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self.curves)


def _segments(
    temperature: np.ndarray, time: np.ndarray | None, s: ThermalSettings, rate_k_s: float | None
) -> tuple[list[tuple[int, int, int]], np.ndarray]:
    """(start, stop, direction) of heating (+1) and cooling (-1) runs; the smoothed rate in K/min."""
    n = temperature.size
    window = max(5, min(n // 10 * 2 + 1, 51))
    if time is not None and np.ptp(time) > 0:
        rate = smooth(np.gradient(temperature, time), window, 1) * 60.0
        direction = np.where(rate > s.min_rate_k_min, 1, np.where(rate < -s.min_rate_k_min, -1, 0))
    else:
        # no time axis: the direction from the temperature steps; the magnitude from the stated rate
        per_row = smooth(np.gradient(temperature), window, 1)
        typical = float(np.median(np.abs(per_row))) or 1.0
        moving = np.abs(per_row) > 0.1 * typical
        direction = np.where(moving, np.sign(per_row), 0).astype(int)
        rate = direction * (rate_k_s * 60.0 if rate_k_s else math.nan)
    found: list[tuple[int, int, int]] = []
    for sign in (1, -1):
        starts, stops = runs(direction == sign)
        for a, b in zip(starts, stops):
            if b - a >= s.min_segment_points:
                found.append((int(a), int(b), sign))
    found.sort()
    return found, rate


def _window_points(temperature: np.ndarray, width_c: float) -> int:
    spacing = float(np.median(np.abs(np.diff(temperature)))) if temperature.size > 1 else 1.0
    spacing = spacing or 1.0
    points = max(5, round(width_c / spacing))
    return points + 1 - points % 2


def _baseline(x: np.ndarray, y: np.ndarray, degree: int, clip: float, widen: int) -> tuple[np.ndarray, np.ndarray]:
    """Polynomial baseline by iterative sigma clipping; returns (baseline, event mask)."""
    scale = np.ptp(x) or 1.0
    u = (x - x.mean()) / scale
    events = np.zeros(x.size, dtype=bool)
    baseline = np.full_like(y, np.median(y))
    for _ in range(8):
        keep = ~events
        if keep.sum() <= degree + 2:
            break
        coefficients = np.polyfit(u[keep], y[keep], degree)
        baseline = np.polyval(coefficients, u)
        residual = y - baseline
        sigma = 1.4826 * float(np.median(np.abs(residual[keep] - np.median(residual[keep])))) or 1e-12
        new = np.abs(residual) > clip * sigma
        if widen > 0 and new.any():
            new = np.convolve(new.astype(float), np.ones(2 * widen + 1), mode='same') > 0
        if np.array_equal(new, events):
            break
        events = new
    return baseline, events


def _limits(signal: np.ndarray, peak: int, level: float, left_bound: int, right_bound: int) -> tuple[int, int]:
    """Rows on either side of ``peak`` where ``signal`` (positive at the peak) first drops to ``level``."""
    left = peak
    while left > left_bound and signal[left] > level:
        left -= 1
    right = peak
    while right < right_bound and signal[right] > level:
        right += 1
    return left, right


def _dsc_events(
    temperature: np.ndarray,
    time: np.ndarray | None,
    q: np.ndarray,
    direction: int,
    segment: int,
    rate_k_s: float | None,
    s: ThermalSettings,
) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray, float]:
    window = _window_points(temperature, s.smoothing_c)
    smoothed = smooth(q, window, 2)
    baseline, _ = _baseline(temperature, smoothed, s.baseline_degree, s.clip_sigma, window // 2)
    noise = robust_noise(q - smoothed) * 0.5 + robust_noise(smoothed) * 0.5
    net = smoothed - baseline
    threshold = max(s.min_peak_w_g, s.noise_factor * noise)
    # the time axis of the integral (s)
    if time is not None:
        seconds = time - time[0]
    elif rate_k_s:
        seconds = np.abs(temperature - temperature[0]) / rate_k_s
    else:
        seconds = None
    events = []
    for sign in (1, -1):
        found, _ = find_peaks(sign * net, height=threshold, prominence=threshold)
        for peak in found:
            level = s.limit_fraction * sign * net[peak]
            left, right = _limits(sign * net, int(peak), level, 0, net.size - 1)
            if right - left < 3:
                continue
            # the straight integration baseline through the global baseline at the limits
            x0, x1 = temperature[left], temperature[right]
            y0, y1 = baseline[left], baseline[right]
            base_slope = float((y1 - y0) / (x1 - x0)) if x1 != x0 else 0.0
            base_intercept = float(y0 - base_slope * x0)
            line = base_intercept + base_slope * temperature
            above = smoothed[left : right + 1] - line[left : right + 1]
            height = float(sign * (smoothed[peak] - line[peak]))
            event: dict[str, Any] = {
                'segment': segment,
                'direction': 'heating' if direction > 0 else 'cooling',
                'kind': 'exothermic' if sign > 0 else 'endothermic',
                'peak_c': float(temperature[peak]),
                'height': height,
                'start_c': float(x0),
                'end_c': float(x1),
            }
            if seconds is not None:
                event['enthalpy'] = float(np.trapezoid(above, seconds[left : right + 1]))
            # tangent onset on the leading edge (in time order), end set on the trailing edge: the tangent is a
            # straight-line fit around the edge's steepest point (slope from a Savitzky-Golay derivative whose
            # window spans a quarter of the edge), crossed with the integration baseline
            for edge, rows in (('onset_c', np.arange(left, peak + 1)), ('endset_c', np.arange(peak, right + 1))):
                if rows.size < 5:
                    continue
                width = max(window, int(0.25 * rows.size) | 1)
                derivative = smooth(smoothed[rows], width, 2, deriv=1) / np.gradient(temperature[rows])
                steepest = int(np.argmax(np.abs(derivative - base_slope)))
                around = rows[max(0, steepest - width // 2) : steepest + width // 2 + 1]
                if around.size < 3:
                    continue
                tangent_slope, tangent_intercept = np.polyfit(temperature[around], smoothed[around], 1)
                crossing = tangent_intersection(
                    float(tangent_slope), float(tangent_intercept), base_slope, base_intercept
                )
                low, high = min(x0, x1) - 5 * s.smoothing_c, max(x0, x1) + 5 * s.smoothing_c
                if crossing is not None and low <= crossing <= high:
                    event[edge] = crossing
            events.append(event)
    events.sort(key=lambda e: e['start_c'] * direction)
    return events, smoothed, baseline, noise


def _tga_steps(
    temperature: np.ndarray,
    mass: np.ndarray,
    direction: int,
    segment: int,
    sample_mass: float | None,
    s: ThermalSettings,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    window = _window_points(temperature, s.smoothing_c)
    smoothed = smooth(mass, window, 2)
    # mass lost per degree travelled (heating or cooling)
    travelled = np.abs(np.gradient(temperature))
    travelled[travelled == 0] = np.inf
    dtg = -np.gradient(smoothed) / travelled
    found, _ = find_peaks(dtg, height=s.min_step_rate_percent_c, prominence=s.min_step_rate_percent_c)
    steps = []
    for j, peak in enumerate(found):
        left_bound = int(found[j - 1] + np.argmin(dtg[found[j - 1] : peak + 1])) if j else 0
        right_bound = int(peak + np.argmin(dtg[peak : found[j + 1] + 1])) if j + 1 < found.size else dtg.size - 1
        left, right = _limits(dtg, int(peak), s.limit_fraction * dtg[peak], left_bound, right_bound)
        lost = float(smoothed[left] - smoothed[right])
        if lost < s.min_step_percent:
            continue
        slope = float(-dtg[peak]) * float(np.sign(temperature[right] - temperature[left]) or 1.0)
        step: dict[str, Any] = {
            'segment': segment,
            'start_c': float(temperature[left]),
            'end_c': float(temperature[right]),
            'fastest_c': float(temperature[peak]),
            'mass_loss_percent': lost,
            'rate_percent_c': float(dtg[peak]),
        }
        if slope != 0:
            step['onset_c'] = float(temperature[peak] + (smoothed[left] - smoothed[peak]) / slope)
        if sample_mass is not None:
            step['mass_loss_mg'] = lost / 100.0 * sample_mass
        steps.append(step)
    return steps, dtg


def thermal_analysis(
    temperature_c: Any,
    *,
    time_s: Any = None,
    heat_flow_mw: Any = None,
    mass_percent: Any = None,
    mass_mg: Any = None,
    sample_mass_mg: float | None = None,
    heating_rate_k_min: float | None = None,
    exothermic_positive: bool = True,
    settings: ThermalSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> ThermalResult:
    """DSC events and TGA steps of a thermal record (see the module docstring).

    :param heat_flow_mw: heat flow, exothermic positive.
    :param mass_percent: mass relative to the initial mass (or ``mass_mg`` with ``sample_mass_mg``).
    :param sample_mass_mg: the sample mass: heat flows become W/g and enthalpies J/g.
    :param heating_rate_k_min: from the file's metadata; needed for enthalpies without a time column.
    :param exothermic_positive: False when the file did not say which way is exothermic (flagged).
    :raises InsufficientDataError: neither heat flow nor mass, or no heating/cooling segment.
    """
    s = ThermalSettings.resolve(settings, **overrides)
    temperature = as_float_array('temperature_c', temperature_c)
    n = temperature.size
    time = None if time_s is None else as_float_array('time_s', time_s, n)
    flow = None if heat_flow_mw is None else as_float_array('heat_flow_mw', heat_flow_mw, n)
    mass = None if mass_percent is None else as_float_array('mass_percent', mass_percent, n)
    if mass is None and mass_mg is not None:
        absolute = as_float_array('mass_mg', mass_mg, n)
        reference = sample_mass_mg or float(absolute[np.isfinite(absolute)][0])
        mass = absolute / reference * 100.0
    if flow is None and mass is None:
        raise InsufficientDataError('a thermal analysis needs a heat-flow or a mass column')
    finite = np.isfinite(temperature) & (np.isfinite(flow) if flow is not None else True)
    if mass is not None:
        finite &= np.isfinite(mass)
    if finite.sum() < s.min_segment_points:
        raise InsufficientDataError(f'{int(finite.sum())} finite rows: fewer than min_segment_points')
    flags: list[dict[str, Any]] = []
    rate = s.heating_rate_k_min or heating_rate_k_min
    rate_k_s = None if rate is None else rate / 60.0
    if time is None and rate is None and flow is not None:
        flags.append(flag('no_time_axis', 'no time column and no heating rate: peak enthalpies are not computed'))
    units = 'w_g'
    q = None
    if flow is not None:
        if sample_mass_mg:
            q = flow / sample_mass_mg  # mW/mg = W/g
        else:
            q = flow.copy()
            units = 'mw'
            flags.append(flag('no_sample_mass', 'no sample mass: heat flows in mW and enthalpies in J, not per gram'))
        if not exothermic_positive:
            flags.append(
                flag('exo_direction_unknown', 'the file does not say which way is exothermic: kinds may be swapped')
            )
    segments, rate_curve = _segments(temperature, time, s, rate_k_s)
    if not segments:
        raise InsufficientDataError(
            f'no heating or cooling segment of {s.min_segment_points} rows (|dT/dt| > {s.min_rate_k_min:g} K/min)'
        )
    described, events, steps = [], [], []
    curves: dict[str, list[np.ndarray]] = {}
    for number, (a, b, direction) in enumerate(segments, start=1):
        rows = np.arange(a, b)
        rows = rows[finite[a:b]]
        temps = temperature[rows]
        segment_rate = float(np.median(rate_curve[rows]))
        entry = {
            'segment': number,
            'direction': 'heating' if direction > 0 else 'cooling',
            'start_c': float(temps[0]),
            'end_c': float(temps[-1]),
            'rate_k_min': segment_rate,
            'n_rows': int(rows.size),
        }
        add = curves.setdefault
        add('segment__index', []).append(np.full(rows.size, number, dtype=np.int64))
        add('segment__temperature_c', []).append(temps)
        if q is not None:
            found, smoothed, baseline, noise = _dsc_events(
                temps,
                None if time is None else time[rows],
                q[rows],
                direction,
                number,
                rate_k_s,
                s,
            )
            entry['noise'] = noise
            events.extend(found)
            add(f'segment__heat_flow_{units}', []).append(q[rows])
            add(f'segment__smoothed_{units}', []).append(smoothed)
            add(f'segment__baseline_{units}', []).append(baseline)
        if mass is not None:
            found_steps, dtg = _tga_steps(temps, mass[rows], direction, number, sample_mass_mg, s)
            steps.extend(found_steps)
            entry['mass_start_percent'] = float(mass[rows][0])
            entry['mass_end_percent'] = float(mass[rows][-1])
            add('segment__mass_percent', []).append(mass[rows])
            add('segment__dtg_percent_c', []).append(dtg)
        described.append(entry)
    enthalpy_key = 'enthalpy_j_g' if units == 'w_g' else 'enthalpy_j'
    height_key = 'height_w_g' if units == 'w_g' else 'height_mw'
    for event in events:
        event[height_key] = event.pop('height')
        if 'enthalpy' in event:
            event[enthalpy_key] = event.pop('enthalpy')
    transitions = _transitions(events, s.match_window_c)
    headline = _headline(described, events, steps, height_key, enthalpy_key, s)
    arrays = {key: np.concatenate(parts) for key, parts in curves.items()}
    return ThermalResult(s, described, events, steps, transitions, headline, flags, arrays, units)


def _transitions(events: list[dict[str, Any]], window: float) -> list[dict[str, Any]]:
    heating = [e for e in events if e['direction'] == 'heating' and 'onset_c' in e]
    cooling = [e for e in events if e['direction'] == 'cooling' and 'onset_c' in e]
    pairs = []
    used: set[int] = set()
    for up in heating:
        best, best_distance = None, math.inf
        for j, down in enumerate(cooling):
            if j in used or down['kind'] == up['kind']:
                continue
            distance = abs(up['onset_c'] - down['onset_c'])
            if distance <= window and distance < best_distance:
                best, best_distance = j, distance
        if best is not None:
            used.add(best)
            down = cooling[best]
            pairs.append(
                {
                    'heating_kind': up['kind'],
                    'heating_onset_c': up['onset_c'],
                    'heating_peak_c': up['peak_c'],
                    'cooling_onset_c': down['onset_c'],
                    'cooling_peak_c': down['peak_c'],
                    'hysteresis_c': up['onset_c'] - down['onset_c'],
                }
            )
    return pairs


def _headline(
    segments: list[dict[str, Any]],
    events: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    height_key: str,
    enthalpy_key: str,
    s: ThermalSettings,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    heating = [seg['segment'] for seg in segments if seg['direction'] == 'heating']
    if not heating:
        return out
    first = heating[0]
    exotherms = [e for e in events if e['segment'] == first and e['kind'] == 'exothermic']
    endotherms = [e for e in events if e['segment'] == first and e['kind'] == 'endothermic']
    suffix = 'w_g' if height_key == 'height_w_g' else 'mw'
    heat_suffix = 'j_g' if enthalpy_key == 'enthalpy_j_g' else 'j'
    if exotherms:
        largest = max(exotherms, key=lambda e: e[height_key])
        out['dsc_peak_c'] = largest['peak_c']
        out[f'dsc_peak_heat_flow_{suffix}'] = largest[height_key]
        candidates = [
            e
            for e in exotherms
            if e[height_key] >= s.significant_fraction * largest[height_key]
            and e['peak_c'] >= s.headline_min_c
            and 'onset_c' in e
        ]
        if candidates:
            onset = min(candidates, key=lambda e: e['onset_c'])
            out['dsc_onset_c'] = onset['onset_c']
        heats = [e[enthalpy_key] for e in exotherms if enthalpy_key in e]
        if heats:
            out[f'dsc_exotherm_{heat_suffix}'] = float(sum(heats))
    if endotherms:
        heats = [e[enthalpy_key] for e in endotherms if enthalpy_key in e]
        if heats:
            out[f'dsc_endotherm_{heat_suffix}'] = float(sum(heats))
        out['dsc_first_endotherm_onset_c'] = min(e.get('onset_c', e['peak_c']) for e in endotherms)
    segment = next(seg for seg in segments if seg['segment'] == first)
    if 'mass_start_percent' in segment:
        out['tga_mass_loss_percent'] = segment['mass_start_percent'] - segment['mass_end_percent']
        first_steps = [step for step in steps if step['segment'] == first]
        if first_steps:
            out['tga_first_step_onset_c'] = first_steps[0].get('onset_c', first_steps[0]['start_c'])
            out['tga_n_steps'] = len(first_steps)
    return out


def thermal_analysis_measurement(
    measurement: Any, *, settings: ThermalSettings | Mapping[str, Any] | None = None, **overrides: Any
) -> ThermalResult:
    """:func:`thermal_analysis` of a parsed record: columns by their canonical names, the sample mass, heating
    rate and heat-flow sign from its metadata."""
    columns = getattr(measurement, 'columns', measurement)
    metadata = getattr(measurement, 'metadata', {}) or {}
    if 'temperature_c' not in columns:
        raise InsufficientDataError(f'a thermal record needs temperature_c; it has {", ".join(columns)}')
    sign_text = str(metadata.get('heat_flow_sign', 'exothermic positive'))
    return thermal_analysis(
        columns['temperature_c'],
        time_s=columns.get('time_s'),
        heat_flow_mw=columns.get('heat_flow_mw'),
        mass_percent=columns.get('mass_percent'),
        mass_mg=columns.get('mass_mg'),
        sample_mass_mg=metadata.get('sample_mass_mg'),
        heating_rate_k_min=metadata.get('heating_rate_k_min'),
        exothermic_positive=sign_text.startswith('exothermic positive'),
        settings=settings,
        **overrides,
    )
