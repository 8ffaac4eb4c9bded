"""The onset analysis of a voltammetry record: :func:`find_onsets` and :func:`find_onsets_in_measurement`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from aiida_ssb.analysis.voltammetry.common import (
    ANODIC,
    Flag,
    VoltammetryError,
    check_inputs,
    noise,
    positive_or_none,
    spike_mask,
)
from aiida_ssb.analysis.voltammetry.criteria import derivative_onset, threshold_onset
from aiida_ssb.analysis.voltammetry.electrode import WorkingElectrode, check_working_electrode
from aiida_ssb.analysis.voltammetry.lines import Fitter
from aiida_ssb.analysis.voltammetry.onsets import SweepData, two_line_onsets
from aiida_ssb.analysis.voltammetry.results import OnsetAnalysis, Peak, SweepResult
from aiida_ssb.analysis.voltammetry.settings import OnsetSettings
from aiida_ssb.analysis.voltammetry.sweeps import Sweep, segment

__all__ = ['find_onsets', 'find_onsets_in_measurement']


def find_onsets(
    potential_v: Any,
    current_ma: Any,
    *,
    area_cm2: float | None = None,
    cycle_index: Any = None,
    time_s: Any = None,
    scan_rate_mv_s: float | None = None,
    working_electrode: WorkingElectrode | Mapping[str, Any] | None = None,
    settings: OnsetSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> OnsetAnalysis:
    """Oxidative (anodic sweeps) and reductive (cathodic sweeps) stability onsets of a CV or LSV record.

    The record is split into sweeps (:func:`~aiida_ssb.analysis.voltammetry.segment_sweeps`); every sweep of the
    requested ``direction``, ``cycles`` and ``sweep`` is analysed with one ``method`` (all settings are fields
    of :class:`OnsetSettings`, given as ``settings=`` or as keyword overrides):

    **two_line** (default; Asakura et al. 2019): ``E_onset = (a_bg - a_F) / (b_F - b_bg)`` for the background
    line ``i = a_bg + b_bg E`` and the faradaic line ``i = a_F + b_F E``. Without windows, the sweep is split
    into straight parts and curved transitions, judged against the noise (:mod:`.structure`); every rise that
    exceeds its background by ``min_significance_sigma`` noise sigmas gets its own two lines, however small it
    is next to later rises, and a levelled-off feature becomes the background of the next onset. Windows given
    (``background_window_v``, ``rise_window_v``: one pair each, or equal-length lists of pairs) are fitted as
    given; with only one of them given, the other is found.

    **edge** (seed 004's edge potential): the background line meets the tangent at the steepest point of the
    rise (local least-squares line over ``derivative_window_v``).

    **threshold**: the first potential at which the current (``threshold_ma``) or current density
    (``threshold_ma_cm2``, needs ``area_cm2``) exceeds the threshold for ``k_consecutive`` points after
    having been below it, optionally after subtracting the background line (``subtract_background``).

    **derivative**: the first potential after the background at which the local least-squares slope dI/dE over
    ``derivative_window_v`` exceeds the background's mean by ``k_sigma`` standard deviations for
    ``k_consecutive`` points (and the current reaches the reaction's sign after it).

    Every two-line and edge onset carries its significance (``significance_sigma``: current above its
    background in noise sigmas; ``relative_significance``: relative to the strongest rise of the sweep), its
    sensitivity band (the onset when each window is shifted by ``band_shift_v`` and when the end of a rise
    reaching the end of the scan moves back; a band wider than ``band_max_v`` is flagged) and quality flags.
    The headline onset of a sweep is its first onset with ``significance_sigma >= headline_significance_sigma``
    and ``relative_significance >= headline_min_relative``; the other onsets stay in the table.

    :param potential_v: working-electrode potential, V.
    :param current_ma: current, mA, positive for oxidation.
    :param area_cm2: electrode area: adds current densities; needed for ``threshold_ma_cm2``.
    :param cycle_index: the instrument's cycle counter per row (optional).
    :param time_s: time per row (optional): gives the scan rate.
    :param scan_rate_mv_s: the programmed scan rate; overrides the estimate from ``time_s``.
    :param working_electrode: a :class:`WorkingElectrode` (or dict of its fields) for the validity flags.
    :param settings: an :class:`OnsetSettings` (or a mapping of its fields); ``overrides`` replace fields.
    :raises SettingsError: invalid settings (named, with the known fields).
    :raises VoltammetryError: bad input (too few points, non-finite values, wrong shapes, a potential that does
        not vary or does not sweep, a window without points).
    """
    s = OnsetSettings.resolve(settings, **overrides)
    potential, current, time, cycle_values = check_inputs(potential_v, current_ma, time_s, cycle_index)
    if current is None:
        raise VoltammetryError('current_ma: the onsets need the current')
    area = positive_or_none('area_cm2', area_cm2)
    threshold = _threshold(s, area)
    given_rate = positive_or_none('scan_rate_mv_s', scan_rate_mv_s)
    sweeps = segment(potential, time, cycle_values, s.reversal_tolerance_v, 5)
    results = [
        _analyse(sweep, potential, current, s, area, threshold)
        for sweep in sweeps
        if s.direction in ('both', sweep.direction)
        and (s.cycles is None or sweep.cycle_index in s.cycles)
        and (s.sweep is None or sweep.sweep_index in s.sweep)
    ]
    if s.sweep is not None and not results:
        known = ', '.join(f'{sw.sweep_index} ({sw.direction})' for sw in sweeps)
        raise VoltammetryError(f'sweep: no sweep {list(s.sweep)} of direction {s.direction!r}; sweeps: {known}')
    rate: float | None = given_rate
    source: str | None = 'given' if given_rate is not None else None
    rates = [sw.scan_rate_mv_s for sw in sweeps if sw.scan_rate_mv_s is not None]
    if rate is None and rates:
        rate, source = float(np.median(rates)), 'estimated from time_s'
    flags = check_working_electrode(working_electrode, scan_rate_mv_s=rate)
    quality = [flag for result in results for flag in result[1]]
    return OnsetAnalysis(
        method=s.method,
        parameters=s.parameters(),
        sweeps=tuple(result[0] for result in results),
        flags=tuple(flags + quality),
        scan_rate_mv_s=rate,
        scan_rate_source=source,
        n_points=potential.size,
        area_cm2=area,
    )


def _threshold(s: OnsetSettings, area: float | None) -> float | None:
    """The threshold current of the threshold method, mA."""
    if s.method != 'threshold':
        return None
    if s.threshold_ma_cm2 is not None:
        if area is None:
            raise VoltammetryError('threshold_ma_cm2: needs area_cm2 (the electrode area) to convert to a current')
        return s.threshold_ma_cm2 * area
    return s.threshold_ma


def _analyse(
    sweep: Sweep,
    potential: np.ndarray,
    current: np.ndarray,
    s: OnsetSettings,
    area: float | None,
    threshold: float | None,
) -> tuple[SweepResult, list[Flag]]:
    data = _prepare(sweep, potential, current, s, area)
    if isinstance(data, str):
        return SweepResult(sweep, 'not_analysed', data), []
    peaks: list[Peak] = []
    flags: list[Flag] = []
    if s.method in ('two_line', 'edge'):
        onsets, peaks, flags, message = two_line_onsets(data, s)
    elif s.method == 'threshold':
        assert threshold is not None  # set for the threshold method
        onsets, message = threshold_onset(data, s, threshold)
    else:
        onsets, message = derivative_onset(data, s)
    result = SweepResult(
        sweep,
        'onset' if onsets else 'no_onset',
        message,
        tuple(onsets),
        noise_ma=data.noise,
        n_spikes=data.n_spikes,
        potential_min_v=float(data.potential.min()),
        potential_max_v=float(data.potential.max()),
        min_window_v=data.min_span,
        peaks=tuple(peaks),
    )
    return result, flags


def _prepare(
    sweep: Sweep, potential: np.ndarray, current: np.ndarray, s: OnsetSettings, area: float | None
) -> SweepData | str:
    """One sweep (within ``window_v``) in the oriented frame, despiked, with its noise and fitter; or why not."""
    rows = np.arange(sweep.start, sweep.stop)
    e = potential[rows]
    if s.window_v is not None:
        low, high = s.window_v
        inside = np.flatnonzero((e >= low) & (e <= high))
        if inside.size == 0:
            return f'no point of the sweep within window_v {low}..{high} V'
        rows = rows[inside.min() : inside.max() + 1]
        e = potential[rows]
    if rows.size < s.min_points + 2:
        return f'too few points to analyse ({rows.size} < {s.min_points + 2})'
    i = current[rows]
    sign = 1.0 if sweep.direction == ANODIC else -1.0
    x, y = sign * e, sign * i
    sigma = s.noise_ma if s.noise_ma is not None else noise(y)
    weight = np.ones(rows.size, dtype=bool)
    n_spikes = 0
    if s.despike:
        spikes = spike_mask(y, sigma, s.despike_factor)
        n_spikes = int(spikes.sum())
        weight &= ~spikes
    if np.ptp(x[weight]) <= 0:
        return 'potential does not vary within the sweep'
    sweep_range = abs(sweep.potential_end_v - sweep.potential_start_v)
    if s.window_v is not None:
        sweep_range = min(sweep_range, s.window_v[1] - s.window_v[0])
    min_span = s.min_window_v if s.min_window_v is not None else max(0.05, 0.05 * sweep_range)
    fitter = Fitter(x, y, weight, r2_min=s.r2_min, curvature_f_max=s.curvature_f_max)
    fitter.set_floor(sigma)
    return SweepData(sweep, sign, rows, e, i, x, y, weight, float(sigma), n_spikes, min_span, fitter, area)


def find_onsets_in_measurement(measurement: Any, **kwargs: Any) -> OnsetAnalysis:
    """:func:`find_onsets` on a parsed :class:`aiida_ssb.parsers.base.Measurement` (columns
    ``voltage_v``, ``current_ma`` and, when present, ``time_s`` and ``cycle_index``).

    The electrode area is *not* taken from the file's metadata (EC-Lab writes a placeholder such as
    0.001 cm2 when none was entered): pass ``area_cm2`` explicitly."""
    columns = getattr(measurement, 'columns', None)
    if not isinstance(columns, Mapping):
        raise VoltammetryError(
            f'measurement: expected a parsed Measurement with columns, got {type(measurement).__name__}'
        )
    for name in ('voltage_v', 'current_ma'):
        if name not in columns:
            raise VoltammetryError(f'measurement has no column {name!r}; it has: {", ".join(columns)}')
    kwargs.setdefault('time_s', columns.get('time_s'))
    kwargs.setdefault('cycle_index', columns.get('cycle_index'))
    return find_onsets(columns['voltage_v'], columns['current_ma'], **kwargs)
