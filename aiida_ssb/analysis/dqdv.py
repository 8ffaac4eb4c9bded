"""Incremental capacity (dQ/dV) and differential voltage (dV/dQ) per half cycle, their peaks, and the peaks'
evolution over cycling.

Pure numpy/scipy. The record is split into half cycles by :func:`aiida_ssb.analysis.cycling.segment_half_cycles`
(the cycling summary's rules); the constant-voltage part of a half cycle is left out (its dQ/dV is unbounded).

dQ/dV on a voltage grid
    The voltage axis is cut into bins of ``grid_step_v`` aligned on multiples of the step (so every half cycle
    of every cell shares one grid). The charge passed while the voltage was in a bin, divided by the step, is
    the raw incremental capacity; its running sum is Q(V) on the grid (charge passed below, or for a discharge
    above, each grid voltage). ``method='savgol'`` smooths the raw incremental capacity with a
    Savitzky-Golay filter of width ``window_v`` and order ``polyorder`` (equivalently, the filter's first
    derivative of Q(V)); ``method='spline'`` differentiates a cubic smoothing spline of Q(V) whose smoothing
    is chosen by generalised cross-validation (``spline_lambda`` fixes it instead). The binned charge sums to
    the half cycle's charge, so the integral of dQ/dV over V is the charge whatever the noise.

dV/dQ on a capacity grid
    The voltage is interpolated at ``capacity_points`` equally spaced charges of the half cycle and
    differentiated with a Savitzky-Golay filter spanning ``dvdq_window_fraction`` of the half cycle.

Peaks
    ``scipy.signal.find_peaks`` on the magnitude of the smoothed dQ/dV, with a prominence of at least
    ``prominence_fraction`` of the half cycle's largest value and ``min_separation_v`` between peaks; the
    position and height are refined by the parabola through the three grid points around the maximum; the
    width is the full width at half maximum; the area is the charge between the valleys on either side
    (the lowest points towards the neighbouring peaks or the grid's ends).

Evolution
    Peaks of half cycles of one direction are chained into tracks: each peak joins the track whose last
    position is nearest within ``track_tolerance_v``, else opens a new track. Each track reports its first
    and last position, the shift, and the area and height retention.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator
from scipy.interpolate import make_smoothing_spline
from scipy.signal import find_peaks, peak_widths, savgol_coeffs

from aiida_ssb.analysis.cycling import segment_half_cycles
from aiida_ssb.analysis.settings import Settings
from aiida_ssb.analysis.signal import as_float_array, flag, odd_window, parabolic_peak, smooth
from aiida_ssb.exceptions import InsufficientDataError

__all__ = ['DqdvResult', 'DqdvSettings', 'incremental_capacity', 'incremental_capacity_measurement', 'peak_positions']

_OPTIONAL_COLUMNS = {
    'cycle_index': 'cycle_index',
    'half_cycle_index': 'half_cycle_index',
    'control_mode': 'control_mode',
    'step_index': 'step_index',
}


class DqdvSettings(Settings):
    """Settings of the incremental-capacity (dQ/dV) and differential-voltage (dV/dQ) analysis."""

    method: Literal['savgol', 'spline'] = Field(
        'savgol', description='smoothing of dQ/dV: Savitzky-Golay on the voltage grid, or a smoothing spline of Q(V)'
    )
    grid_step_v: float = Field(0.002, gt=0, le=0.1, description='voltage grid step')
    window_v: float = Field(0.03, gt=0, description='Savitzky-Golay window width (savgol)')
    polyorder: int = Field(2, ge=1, le=5, description='Savitzky-Golay polynomial order (savgol)')
    spline_lambda: float | None = Field(
        None, gt=0, description='smoothing parameter of the spline (spline; absent: chosen by cross-validation)'
    )
    capacity_points: int = Field(400, ge=20, le=100000, description='points of the capacity grid of dV/dQ')
    dvdq_window_fraction: float = Field(
        0.03, gt=0, lt=0.5, description='Savitzky-Golay window of dV/dQ, as a fraction of the half cycle'
    )
    prominence_fraction: float = Field(
        0.05, gt=0, lt=1, description="minimum peak prominence, as a fraction of the half cycle's largest |dQ/dV|"
    )
    noise_factor: float = Field(
        4.0, ge=0, description="minimum peak prominence, in standard deviations of the smoothed curve's noise"
    )
    min_separation_v: float = Field(0.02, ge=0, description='minimum voltage between two peaks')
    track_tolerance_v: float = Field(0.05, gt=0, description='largest shift between cycles that continues a track')
    voltage_range_v: tuple[float, float] | None = Field(
        None, description='analyse only this voltage window (absent: the whole range)'
    )
    cycles: tuple[int, ...] = Field((), description='analyse only these cycles (1-based; empty: every cycle)')
    rest_current_ma: float | None = Field(
        None, ge=0, description='rest threshold of the half-cycle split (absent: 0.1 % of the largest current)'
    )
    min_half_cycle_points: int = Field(10, ge=3, description='half cycles with fewer constant-current rows are skipped')

    @model_validator(mode='after')
    def _check(self) -> DqdvSettings:
        if self.voltage_range_v is not None and not self.voltage_range_v[0] < self.voltage_range_v[1]:
            raise ValueError('voltage_range_v must be (low, high) with low < high')
        if self.window_v < 3 * self.grid_step_v:
            raise ValueError('window_v must span at least three grid steps')
        return self


@dataclasses.dataclass
class DqdvResult:
    """dQ/dV and dV/dQ curves per half cycle, the peak table and the peak tracks."""

    settings: DqdvSettings
    half_cycles: list[dict[str, Any]]
    peaks: dict[str, np.ndarray]
    tracks: list[dict[str, Any]]
    curves: dict[str, np.ndarray]
    flags: list[dict[str, Any]]
    headline: dict[str, Any]
    mass_mg: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: method, parameters, per-half-cycle quality, tracks, headline numbers, flags."""
        result: dict[str, Any] = {
            'method': f'dqdv_{self.settings.method}',
            'parameters': self.settings.parameters(),
            'n_half_cycles': len(self.half_cycles),
            'n_peaks': int(self.peaks['voltage_v'].size),
            'half_cycles': self.half_cycles,
            'tracks': self.tracks,
            'flags': self.flags,
        }
        if self.mass_mg is not None:
            result['mass_mg'] = self.mass_mg
        result.update(self.headline)
        return result

    def arrays(self) -> dict[str, np.ndarray]:
        """Curves (``curve__*``: half cycle, voltage, dQ/dV; ``dvdq__*``: capacity, dV/dQ) and the peak table
        (``peak__*``), flat arrays keyed by half cycle."""
        out = dict(self.curves)
        out.update({f'peak__{key}': value for key, value in self.peaks.items()})
        return out


def _cycle_numbers(directions: np.ndarray) -> np.ndarray:
    """1-based cycle of each half cycle: a cycle is the first half cycle's direction and the next of the other."""
    cycles = np.empty(directions.size, dtype=np.int64)
    cycle, first = 1, directions[0] if directions.size else 1
    for k, direction in enumerate(directions):
        if k and direction == first and directions[k - 1] != first:
            cycle += 1
        cycles[k] = cycle
    return cycles


def _valleys(magnitude: np.ndarray, peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left and right valley index of each peak: the minimum towards the neighbour peak (or the grid's end)."""
    left = np.empty(peaks.size, dtype=np.int64)
    right = np.empty(peaks.size, dtype=np.int64)
    for j, p in enumerate(peaks):
        a = peaks[j - 1] if j else 0
        b = peaks[j + 1] if j + 1 < peaks.size else magnitude.size - 1
        left[j] = a + int(np.argmin(magnitude[a : p + 1]))
        right[j] = p + int(np.argmin(magnitude[p : b + 1]))
    return left, right


def _dqdv_of_half(voltage: np.ndarray, dq: np.ndarray, s: DqdvSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid voltages (bin centres), raw and smoothed |dQ/dV| (mAh/V) of one half cycle."""
    step = s.grid_step_v
    bins = np.floor(voltage / step).astype(np.int64)
    low, high = int(bins.min()), int(bins.max())
    raw = np.bincount(bins - low, weights=dq, minlength=high - low + 1) / step
    centres = (np.arange(low, high + 1) + 0.5) * step
    if s.method == 'savgol':
        window = odd_window(s.window_v, step, minimum=s.polyorder + 2)
        smoothed = smooth(raw, window, s.polyorder)
    else:
        edges = np.arange(low, high + 2) * step
        cumulative = np.concatenate(([0.0], np.cumsum(raw * step)))
        if edges.size < 5:
            smoothed = raw.copy()
        else:
            spline = make_smoothing_spline(edges, cumulative, lam=s.spline_lambda)
            smoothed = spline.derivative()(centres)
    return centres, raw, smoothed


def _noise_of_smoothed(raw: np.ndarray, smoothed: np.ndarray, s: DqdvSettings) -> float:
    """Standard deviation of the smoothed curve's noise: the robust spread of the raw values about the smoothed
    curve, times the noise gain of the Savitzky-Golay filter (the root sum of squares of its coefficients)."""
    if raw.size < 5:
        return 0.0
    residual = raw - smoothed
    sigma = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    window = odd_window(s.window_v, s.grid_step_v, minimum=s.polyorder + 2, maximum=raw.size)
    order = min(s.polyorder, window - 1)
    gain = float(np.sqrt(np.sum(savgol_coeffs(window, order) ** 2)))
    return sigma * gain


def _peaks_of_half(centres: np.ndarray, magnitude: np.ndarray, noise: float, s: DqdvSettings) -> list[dict[str, float]]:
    if magnitude.size < 3 or not np.any(magnitude > 0):
        return []
    distance = max(1, round(s.min_separation_v / s.grid_step_v))
    top = float(magnitude.max())
    threshold = max(s.prominence_fraction * top, s.noise_factor * noise)
    found, properties = find_peaks(magnitude, prominence=threshold, distance=distance)
    if found.size == 0:
        return []
    widths = peak_widths(magnitude, found, rel_height=0.5)[0] * s.grid_step_v
    left, right = _valleys(magnitude, found)
    peaks = []
    for j, index in enumerate(found):
        position, height = parabolic_peak(centres, magnitude, int(index))
        area = float(np.sum(magnitude[left[j] : right[j] + 1]) * s.grid_step_v)
        peaks.append(
            {
                'voltage_v': position,
                'height_mah_v': height,
                'area_mah': area,
                'fwhm_v': float(widths[j]),
                'prominence_mah_v': float(properties['prominences'][j]),
                'valley_low_v': float(centres[left[j]]),
                'valley_high_v': float(centres[right[j]]),
            }
        )
    return peaks


def _tracks(table: list[dict[str, Any]], tolerance: float) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Chain peaks of each direction over half cycles; returns the track id of every peak and the track list."""
    track_of = np.full(len(table), -1, dtype=np.int64)
    tracks: list[dict[str, Any]] = []
    last_position: dict[int, float] = {}
    by_half: dict[int, list[int]] = {}
    for index, row in enumerate(table):
        by_half.setdefault(row['half_cycle'], []).append(index)
    for half in sorted(by_half):
        members = by_half[half]
        direction = table[members[0]]['direction']
        open_tracks = [t for t in range(len(tracks)) if tracks[t]['direction'] == direction]
        pairs = sorted(
            (abs(table[i]['voltage_v'] - last_position[t]), i, t)
            for i in members
            for t in open_tracks
            if abs(table[i]['voltage_v'] - last_position[t]) <= tolerance
        )
        used_peaks: set[int] = set()
        used_tracks: set[int] = set()
        for _, i, t in pairs:
            if i in used_peaks or t in used_tracks:
                continue
            track_of[i] = t
            used_peaks.add(i)
            used_tracks.add(t)
        for i in members:
            if track_of[i] < 0:
                tracks.append({'direction': direction, 'members': []})
                track_of[i] = len(tracks) - 1
            tracks[track_of[i]]['members'].append(i)
            last_position[int(track_of[i])] = table[i]['voltage_v']
    described = []
    for number, track in enumerate(tracks):
        rows = [table[i] for i in track['members']]
        first, last = rows[0], rows[-1]
        entry = {
            'track': number,
            'direction': 'charge' if track['direction'] > 0 else 'discharge',
            'n_half_cycles': len(rows),
            'first_cycle': first['cycle'],
            'last_cycle': last['cycle'],
            'first_voltage_v': first['voltage_v'],
            'last_voltage_v': last['voltage_v'],
            'shift_v': last['voltage_v'] - first['voltage_v'],
            'first_area_mah': first['area_mah'],
            'last_area_mah': last['area_mah'],
            'first_height_mah_v': first['height_mah_v'],
            'last_height_mah_v': last['height_mah_v'],
        }
        if first['area_mah'] > 0:
            entry['area_retention_percent'] = 100.0 * last['area_mah'] / first['area_mah']
        if first['height_mah_v'] > 0:
            entry['height_retention_percent'] = 100.0 * last['height_mah_v'] / first['height_mah_v']
        described.append(entry)
    return track_of, described


def incremental_capacity(
    time_s: Any,
    voltage_v: Any,
    current_ma: Any,
    *,
    cycle_index: Any = None,
    half_cycle_index: Any = None,
    control_mode: Any = None,
    step_index: Any = None,
    mass_mg: float | None = None,
    settings: DqdvSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> DqdvResult:
    """dQ/dV and dV/dQ of every half cycle of a galvanostatic record, their peaks and the peaks' tracks.

    :param time_s: time (s), non-decreasing.
    :param voltage_v: voltage (V).
    :param current_ma: current (mA), positive for charge (oxidation at the working electrode).
    :param cycle_index: instrument cycle counter (helps the half-cycle split), optional.
    :param half_cycle_index: instrument half-cycle counter, optional.
    :param control_mode: EC-Lab control mode (its constant-voltage rows are left out), optional.
    :param step_index: instrument step counter, optional.
    :param mass_mg: active mass; with it every capacity is also given per gram (``_mah_g``).
    :param settings: a :class:`DqdvSettings` (or mapping); keyword overrides apply on top.
    :raises InsufficientDataError: too few rows, no current, no half cycle with enough constant-current rows.
    """
    s = DqdvSettings.resolve(settings, **overrides)
    t, v, i = _columns(time_s, voltage_v, current_ma, mass_mg, s)
    n = t.size
    optional = {
        name: None if values is None else as_float_array(name, values, n)
        for name, values in (
            ('cycle_index', cycle_index),
            ('half_cycle_index', half_cycle_index),
            ('control_mode', control_mode),
            ('step_index', step_index),
        )
    }
    seg = segment_half_cycles(
        t,
        v,
        i,
        half_cycle_index=optional['half_cycle_index'],
        cycle_index=optional['cycle_index'],
        control_mode=optional['control_mode'],
        step_index=optional['step_index'],
        rest_current_ma=s.rest_current_ma,
    )
    directions = seg.direction
    cycles = _cycle_numbers(directions)
    flags: list[dict[str, Any]] = []
    half_cycles: list[dict[str, Any]] = []
    table: list[dict[str, Any]] = []
    curve_half: list[np.ndarray] = []
    curve_v: list[np.ndarray] = []
    curve_raw: list[np.ndarray] = []
    curve_smooth: list[np.ndarray] = []
    dvdq_half: list[np.ndarray] = []
    dvdq_q: list[np.ndarray] = []
    dvdq_v: list[np.ndarray] = []
    dvdq_d: list[np.ndarray] = []
    skipped = 0
    wanted = set(s.cycles)
    cc_all = ~seg.cv_c
    for k in range(seg.n_half_cycles):
        if wanted and int(cycles[k]) not in wanted:
            continue
        a, b = int(seg.seg_start[k]), int(seg.seg_stop[k])
        keep = cc_all[a:b]
        volts = seg.voltage_c[a:b][keep]
        dq = seg.dq_c[a:b][keep]
        if s.voltage_range_v is not None:
            inside = (volts >= s.voltage_range_v[0]) & (volts <= s.voltage_range_v[1])
            volts, dq = volts[inside], dq[inside]
        if volts.size < s.min_half_cycle_points:
            skipped += 1
            continue
        direction = int(directions[k])
        centres, raw, smoothed = _dqdv_of_half(volts, dq, s)
        magnitude = np.clip(smoothed, 0.0, None)
        charge = float(dq.sum())
        integral = float(np.sum(smoothed) * s.grid_step_v)
        number = k + 1
        entry = {
            'half_cycle': number,
            'cycle': int(cycles[k]),
            'direction': 'charge' if direction > 0 else 'discharge',
            'charge_mah': charge,
            'integral_over_charge': integral / charge if charge > 0 else None,
            'voltage_low_v': float(volts.min()),
            'voltage_high_v': float(volts.max()),
            'n_rows': int(volts.size),
        }
        noise = _noise_of_smoothed(raw, smoothed, s)
        half_peaks = _peaks_of_half(centres, magnitude, noise, s)
        entry['n_peaks'] = len(half_peaks)
        entry['noise_mah_v'] = noise
        half_cycles.append(entry)
        for peak in half_peaks:
            table.append({'half_cycle': number, 'cycle': int(cycles[k]), 'direction': direction, **peak})
        curve_half.append(np.full(centres.size, number, dtype=np.int64))
        curve_v.append(centres)
        curve_raw.append(direction * raw)
        curve_smooth.append(direction * smoothed)
        found = _dvdq_of_half(volts, dq, s)
        if found is not None:
            grid, volts_on_grid, derivative = found
            dvdq_half.append(np.full(grid.size, number, dtype=np.int64))
            dvdq_q.append(grid)
            dvdq_v.append(volts_on_grid)
            dvdq_d.append(derivative)
    if not half_cycles:
        raise InsufficientDataError(
            f'no half cycle has {s.min_half_cycle_points} constant-current rows'
            + (' in the chosen cycles/voltage range' if wanted or s.voltage_range_v else '')
        )
    if skipped:
        flags.append(flag('half_cycles_skipped', f'{skipped} half cycle(s) with too few constant-current rows'))
    if bool(seg.cv_c.any()):
        flags.append(flag('constant_voltage_left_out', 'constant-voltage rows are not part of dQ/dV'))
    if not table:
        flags.append(flag('no_peaks', 'no dQ/dV peak passed the prominence threshold'))
    track_of, tracks = _tracks(table, s.track_tolerance_v)
    peaks = _peak_columns(table, track_of)
    curves = {
        'curve__half_cycle': np.concatenate(curve_half),
        'curve__voltage_v': np.concatenate(curve_v),
        'curve__dqdv_raw_mah_v': np.concatenate(curve_raw),
        'curve__dqdv_mah_v': np.concatenate(curve_smooth),
    }
    if dvdq_half:
        curves.update(
            {
                'dvdq__half_cycle': np.concatenate(dvdq_half),
                'dvdq__capacity_mah': np.concatenate(dvdq_q),
                'dvdq__voltage_v': np.concatenate(dvdq_v),
                'dvdq__dvdq_v_mah': np.concatenate(dvdq_d),
            }
        )
    if mass_mg is not None:
        _add_per_gram(1000.0 / mass_mg, curves, peaks, tracks)
    headline = _headline(table, track_of, tracks)
    return DqdvResult(s, half_cycles, peaks, tracks, curves, flags, headline, mass_mg)


def _columns(
    time_s: Any, voltage_v: Any, current_ma: Any, mass_mg: float | None, s: DqdvSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time, voltage and current as float arrays of one length, checked (:class:`InsufficientDataError`)."""
    t = as_float_array('time_s', time_s)
    n = t.size
    v = as_float_array('voltage_v', voltage_v, n)
    i = as_float_array('current_ma', current_ma, n)
    if n < s.min_half_cycle_points:
        raise InsufficientDataError(f'{n} rows: dQ/dV needs at least {s.min_half_cycle_points}')
    if np.any(np.diff(t) < 0):
        raise InsufficientDataError('time_s: not non-decreasing (sort the record or split it)')
    if mass_mg is not None and not mass_mg > 0:
        raise InsufficientDataError(f'mass_mg must be positive, not {mass_mg!r}')
    return t, v, i


def _dvdq_of_half(
    volts: np.ndarray, dq: np.ndarray, s: DqdvSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """dV/dQ of one half cycle on an even capacity grid (constant-current rows, in time order): ``(capacity grid,
    voltage on it, dV/dQ)``; None for a half cycle without charge or with fewer than 5 rows."""
    q_cum = np.cumsum(dq)
    if not (q_cum[-1] > 0 and volts.size >= 5):
        return None
    grid = np.linspace(0.0, q_cum[-1], s.capacity_points)
    volts_on_grid = np.interp(grid, q_cum, volts)
    step_q = grid[1] - grid[0]
    window = odd_window(s.dvdq_window_fraction * q_cum[-1], step_q, minimum=5)
    return grid, volts_on_grid, smooth(volts_on_grid, window, 2, deriv=1, delta=step_q)


def _peak_columns(table: list[dict[str, Any]], track_of: np.ndarray) -> dict[str, np.ndarray]:
    """The peak table as columns."""
    return {
        'half_cycle': np.array([row['half_cycle'] for row in table], dtype=np.int64),
        'cycle': np.array([row['cycle'] for row in table], dtype=np.int64),
        'direction': np.array([row['direction'] for row in table], dtype=np.int64),
        'voltage_v': np.array([row['voltage_v'] for row in table], dtype=float),
        'height_mah_v': np.array([row['height_mah_v'] for row in table], dtype=float),
        'area_mah': np.array([row['area_mah'] for row in table], dtype=float),
        'fwhm_v': np.array([row['fwhm_v'] for row in table], dtype=float),
        'track': track_of,
    }


def _add_per_gram(
    per_gram: float, curves: dict[str, np.ndarray], peaks: dict[str, np.ndarray], tracks: list[dict[str, Any]]
) -> None:
    """The capacities per gram of active mass (``per_gram`` = 1000 / mass in mg) beside the absolute ones."""
    curves['curve__dqdv_mah_g_v'] = curves['curve__dqdv_mah_v'] * per_gram
    peaks['area_mah_g'] = peaks['area_mah'] * per_gram
    peaks['height_mah_g_v'] = peaks['height_mah_v'] * per_gram
    for track in tracks:
        track['first_area_mah_g'] = track['first_area_mah'] * per_gram
        track['last_area_mah_g'] = track['last_area_mah'] * per_gram


def _headline(table: list[dict[str, Any]], track_of: np.ndarray, tracks: list[dict[str, Any]]) -> dict[str, Any]:
    """The main peak (largest area) of the first charge and first discharge, its track's shift, and the
    charge-discharge separation of the two main peaks (a polarisation measure)."""
    out: dict[str, Any] = {}
    for direction, name in ((1, 'charge'), (-1, 'discharge')):
        rows = [(j, row) for j, row in enumerate(table) if row['direction'] == direction]
        if not rows:
            continue
        first_half = min(row['half_cycle'] for _, row in rows)
        j, main = max(((j, row) for j, row in rows if row['half_cycle'] == first_half), key=lambda x: x[1]['area_mah'])
        out[f'{name}_peak_v'] = main['voltage_v']
        out[f'{name}_peak_height_mah_v'] = main['height_mah_v']
        out[f'{name}_peak_area_mah'] = main['area_mah']
        track = tracks[int(track_of[j])]
        if track['n_half_cycles'] > 1:
            out[f'{name}_peak_shift_v'] = track['shift_v']
            out[f'{name}_peak_last_cycle'] = track['last_cycle']
            if 'area_retention_percent' in track:
                out[f'{name}_peak_area_retention_percent'] = track['area_retention_percent']
    if 'charge_peak_v' in out and 'discharge_peak_v' in out:
        out['peak_separation_v'] = out['charge_peak_v'] - out['discharge_peak_v']
    return out


def incremental_capacity_measurement(
    measurement: Any,
    *,
    mass_mg: float | None = None,
    settings: DqdvSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> DqdvResult:
    """:func:`incremental_capacity` of a parsed record (anything with a ``columns`` mapping holding
    ``time_s``, ``voltage_v`` and ``current_ma``; the instrument counters and control mode are used when
    present)."""
    columns = getattr(measurement, 'columns', measurement)
    missing = [name for name in ('time_s', 'voltage_v', 'current_ma') if name not in columns]
    if missing:
        raise InsufficientDataError(f'dQ/dV needs the column(s) {", ".join(missing)}; have {", ".join(columns)}')
    extra = {keyword: columns[column] for keyword, column in _OPTIONAL_COLUMNS.items() if column in columns}
    return incremental_capacity(
        columns['time_s'],
        columns['voltage_v'],
        columns['current_ma'],
        mass_mg=mass_mg,
        settings=settings,
        **extra,
        **overrides,
    )


def peak_positions(result: DqdvResult, direction: str = 'charge', half_cycle: int | None = None) -> list[float]:
    """Peak voltages of one half cycle (the first of ``direction`` by default), ascending."""
    sign = 1 if direction == 'charge' else -1
    peaks = result.peaks
    chosen = peaks['direction'] == sign
    if half_cycle is None:
        if not chosen.any():
            return []
        half_cycle = int(peaks['half_cycle'][chosen].min())
    chosen &= peaks['half_cycle'] == half_cycle
    return sorted(float(x) for x in peaks['voltage_v'][chosen])
