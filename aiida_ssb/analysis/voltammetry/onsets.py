"""The two-line and edge constructions of one sweep: the rises found by :mod:`.structure` (or in windows given by
the user) turned into :class:`~.results.Onset` s with their significance, sensitivity band and quality flags."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from aiida_ssb.analysis.voltammetry.common import Flag, VoltammetryError
from aiida_ssb.analysis.voltammetry.lines import Fitter, Line, LineFit, intersection
from aiida_ssb.analysis.voltammetry.results import Onset, Peak
from aiida_ssb.analysis.voltammetry.settings import OnsetSettings
from aiida_ssb.analysis.voltammetry.structure import (
    Feature,
    Structure,
    find_structures,
    is_rise,
    steepest_tangent,
    walk,
)
from aiida_ssb.analysis.voltammetry.sweeps import Sweep

__all__ = ['SweepData', 'background_line', 'two_line_onsets']


@dataclasses.dataclass
class SweepData:
    """One sweep restricted to the analysed window, in the oriented frame, with its fitter."""

    sweep: Sweep
    sign: float  # +1 anodic, -1 cathodic
    rows: np.ndarray  # rows of the record
    potential: np.ndarray
    current: np.ndarray
    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    noise: float
    n_spikes: int
    min_span: float
    fitter: Fitter
    area_cm2: float | None = None
    _structures: dict[bool, Structure] = dataclasses.field(default_factory=dict)
    _half: int | None = None

    def structure(self, s: OnsetSettings, relaxed: bool = False) -> Structure:
        """The straight lines of the sweep (:func:`~.structure.find_structures`), computed once."""
        if not self._structures:
            strict, loose = find_structures(self.fitter, self.min_span, self.min_points(s), s.curvature_f_max)
            self._structures.update({False: strict, True: loose})
        return self._structures[relaxed]

    def min_points(self, s: OnsetSettings) -> int:
        return max(s.min_points, self.x.size // 500)

    def half(self, s: OnsetSettings) -> int:
        """Half-width (rows) of the local lines of the edge method and of the tangents."""
        if self._half is None:
            spacing = float(np.median(np.abs(np.diff(self.x)))) if self.x.size > 1 else 0.0
            half = max(2, self.min_points(s) // 2)
            if spacing > 0:
                half = max(half, round(s.derivative_window_v / spacing / 2))
            self._half = half
        return self._half

    def to_real(self, line: Line) -> LineFit:
        potentials = self.potential[line.start : line.end + 1]
        return LineFit(
            v_min=float(potentials.min()),
            v_max=float(potentials.max()),
            intercept_ma=self.sign * line.a,
            slope_ma_v=line.b,
            r2=line.r2,
            rms_ma=line.rms,
            n_points=line.n,
            criterion=line.criterion,
            curvature_f=line.curvature_f,
        )

    def measured_current(self, x_value: float) -> float:
        """The measured current (real sign) interpolated at ``x_value``, spikes excluded."""
        valid = self.weight > 0
        x, y = self.x[valid], self.y[valid]
        order = np.argsort(x, kind='stable')
        return float(self.sign * np.interp(x_value, x[order], y[order]))

    def window_text(self, line: Line) -> str:
        values = self.potential[[line.start, line.end]]
        return f'{values.min():.4g}-{values.max():.4g} V'


# ====================================================================================== automatic and given
def two_line_onsets(data: SweepData, s: OnsetSettings) -> tuple[list[Onset], list[Peak], list[Flag], str]:
    """The onsets (two-line or edge) and peaks of one sweep, the quality flags and a message."""
    features, problems = _features(data, s)
    if s.method == 'edge':
        features = [_edge(data, s, feature) for feature in features]
    onsets: list[Onset] = []
    peaks: list[Peak] = []
    flags: list[Flag] = []
    heights = [abs(f.height) for f in features if f.height is not None and math.isfinite(f.height)]
    strongest = max(heights) if heights else 0.0
    headline_found = False
    for feature in features:
        if feature.kind == 'peak':
            peaks.append(_peak(data, feature))
            continue
        onset, onset_flags = _onset(data, s, feature, len(onsets) + 1, strongest)
        if onset is None:
            problems.append(onset_flags[0].reason)
            continue
        if not headline_found and _headline(onset, s):
            onset = dataclasses.replace(onset, headline=True)
            headline_found = True
        onsets.append(onset)
        flags.extend(onset_flags)
    if onsets:
        message = f'{len(onsets)} onset(s) found'
        if not headline_found:
            message += ' (none reaches the headline significance)'
    else:
        message = 'no onset within the window'
    if peaks:
        message += f'; {len(peaks)} peak(s)'
    if problems:
        message += '; ' + '; '.join(problems)
    return onsets, peaks, flags, message


def _headline(onset: Onset, s: OnsetSettings) -> bool:
    if onset.significance_sigma is None:
        return True
    relative = onset.relative_significance if onset.relative_significance is not None else 1.0
    return onset.significance_sigma >= s.headline_significance_sigma and relative >= s.headline_min_relative


def _features(data: SweepData, s: OnsetSettings) -> tuple[list[Feature], list[str]]:
    """The rises of a sweep: automatic, or from the windows given (one or both per onset)."""
    fitter = data.fitter
    backgrounds, rises = s.background_window_v, s.rise_window_v
    noise = data.noise
    half = data.half(s)
    features: list[Feature] = []
    problems: list[str] = []
    if backgrounds is None and rises is None:
        features, _ = walk(fitter, data.structure(s), noise, s, half, max_onsets=s.max_onsets)
        if not any(feature.kind == 'onset' for feature in features):
            relaxed, _ = walk(fitter, data.structure(s, relaxed=True), noise, s, half, max_onsets=s.max_onsets)
            if any(feature.kind == 'onset' for feature in relaxed):
                for feature in relaxed:
                    feature.relaxed = True
                features = relaxed
        return features, problems
    if backgrounds is not None and rises is not None:
        for bg_v, rise_v in zip(backgrounds, rises):
            bg = _given(data, bg_v, 'background_window_v')
            rise = _given(data, rise_v, 'rise_window_v')
            features.append(Feature(bg, rise, intersection(bg, rise), windows='given'))
    elif backgrounds is not None:
        for bg_v in backgrounds:
            bg = _given(data, bg_v, 'background_window_v')
            found, _ = walk(fitter, data.structure(s), noise, s, half, reference=bg, max_onsets=1)
            onsets = [f for f in found if f.kind == 'onset']
            if onsets:
                features.append(dataclasses.replace(onsets[0], windows='background given, rise auto'))
            else:
                problems.append(f'no rise found after the background window {bg_v[0]:g}-{bg_v[1]:g} V')
    elif rises is not None:
        for rise_v in rises:
            rise = _given(data, rise_v, 'rise_window_v')
            before = _line_before(data, s, rise.start)
            if before is None:
                problems.append(f'no straight background before the rise window {rise_v[0]:g}-{rise_v[1]:g} V')
                continue
            features.append(Feature(before, rise, intersection(before, rise), windows='rise given, background auto'))
    for feature in features:
        if feature.x_on is not None and feature.rise is not None:
            feature.height = feature.rise.y(feature.rise.x_end) - feature.background.y(feature.rise.x_end)
    return features, problems


def background_line(data: SweepData, s: OnsetSettings) -> Line | None:
    """The background before the first onset (the first given background window, else the reference line of the
    automatic search): the background of the threshold subtraction and of the derivative statistics."""
    if s.background_window_v is not None:
        return _given(data, s.background_window_v[0], 'background_window_v')
    references = []
    for relaxed in (False, True):
        features, reference = walk(data.fitter, data.structure(s, relaxed), data.noise, s, data.half(s), max_onsets=1)
        onsets = [feature for feature in features if feature.kind == 'onset']
        if onsets:
            return onsets[0].background
        references.append(reference)
    for reference in references:
        if reference is not None:
            return reference
    end = data.fitter.row_at(data.x[0] + data.min_span, side='right') - 1
    return data.fitter.line(0, max(end, data.min_points(s) - 1))


def _line_before(data: SweepData, s: OnsetSettings, row: int) -> Line | None:
    """The last straight line of the sweep ending before ``row`` (the background of a given rise window), else
    the line over everything before it."""
    before = [line for line in data.structure(s).lines if line.end < row]
    if before:
        return before[-1]
    return data.fitter.line(0, row - 1) if row >= data.min_points(s) else None


def _given(data: SweepData, window_v: Sequence[float], what: str) -> Line:
    """The line over a window given by the user (fitted whatever its quality, which is reported)."""
    low, high = window_v
    inside = np.flatnonzero((data.potential >= low) & (data.potential <= high) & (data.weight > 0))
    if inside.size < 3:
        raise VoltammetryError(
            f'{what}: only {inside.size} point(s) of sweep {data.sweep.sweep_index} lie within {low}..{high} V '
            '(need >= 3)'
        )
    line = data.fitter.line(int(inside.min()), int(inside.max()))
    if line is None:
        raise VoltammetryError(f'{what}: the potential does not vary within {low}..{high} V in sweep {data.sweep}')
    return line


def _edge(data: SweepData, s: OnsetSettings, feature: Feature) -> Feature:
    """The edge potential (seed 004): the background meets the tangent at the steepest point of the rise (from
    the end of the background to the end of the rise line): the local line over ``derivative_window_v`` where the
    local slope is highest, or the straight rise line itself when that is as steep within the noise (the tangent
    to a straight part is that part, and its fit over more points is the better estimate)."""
    if feature.kind != 'onset' or feature.rise is None or feature.rise.tangent:
        return feature
    tangent = steepest_tangent(data.fitter, feature.background.end + 1, feature.rise.end, data.half(s))
    if tangent is None:
        return feature
    windows = max(2.0, (feature.rise.x_end - feature.background.x_end) / max(tangent.span, 1e-12))
    allowance = math.sqrt(2.0 * math.log(windows)) + 1.5  # the steepest of many noisy tangents is biased up
    if feature.rise.b >= tangent.b - allowance * math.hypot(tangent.slope_se, feature.rise.slope_se):
        # the straight part is as steep as the steepest tangent (within the noise): it is the tangent
        return dataclasses.replace(feature, construction='tangent')
    x_on = intersection(feature.background, tangent)
    if x_on is None or not math.isfinite(x_on):
        return feature
    result = dataclasses.replace(feature, rise=tangent, x_on=x_on, construction='tangent')
    result.height = tangent.y(tangent.x_end) - feature.background.y(tangent.x_end)
    return result


# ====================================================================================== one onset
def _rise(feature: Feature) -> Line:
    """The rise line of an onset (an onset always has one; a peak without a straight flank does not)."""
    if feature.rise is None:
        raise VoltammetryError('internal: an onset without a rise line')
    return feature.rise


def _x_on(feature: Feature) -> float:
    if feature.x_on is None:
        raise VoltammetryError('internal: an onset without an intersection')
    return feature.x_on


def _onset(
    data: SweepData, s: OnsetSettings, feature: Feature, order: int, strongest: float
) -> tuple[Onset | None, list[Flag]]:
    bg, rise, x_on = feature.background, _rise(feature), feature.x_on
    where = f'sweep {data.sweep.sweep_index}'
    tolerance = max(3.0 * math.hypot(bg.slope_se, rise.slope_se), 1e-9 * max(abs(rise.b), abs(bg.b)))
    if x_on is None or not math.isfinite(x_on) or abs(rise.b - bg.b) <= tolerance:
        reason = (
            f'the lines of windows {data.window_text(bg)} and {data.window_text(rise)} have the same slope within '
            '3 standard errors (parallel): no onset'
        )
        return None, [Flag('parallel_lines', False, None, 'lines not parallel', reason)]
    if not min(bg.x_start, rise.x_start) <= x_on <= max(bg.x_end, rise.x_end):
        reason = (
            f'the lines of windows {data.window_text(bg)} and {data.window_text(rise)} intersect at '
            f'{data.sign * x_on:.4g} V, outside the fitted windows: no onset'
        )
        return None, [Flag('intersection_outside', False, None, 'within the fitted windows', reason)]
    background, rising = data.to_real(bg), data.to_real(rise)
    onset_v = data.sign * x_on
    current = data.sign * bg.y(x_on)
    low, high, window_move, end_move = _band(data, s, feature)
    height = feature.height if feature.height is not None else 0.0
    significance = abs(height) / data.noise if data.noise > 0 else None
    quality, flags = _quality(data, s, feature, onset_v, (low, high), where)
    onset = Onset(
        method=s.method,
        direction=data.sweep.direction,
        sweep_index=data.sweep.sweep_index,
        cycle_index=data.sweep.cycle_index,
        order=order,
        onset_v=float(onset_v),
        current_at_onset_ma=float(current),
        measured_current_at_onset_ma=data.measured_current(x_on),
        current_density_at_onset_ma_cm2=None if data.area_cm2 is None else float(current / data.area_cm2),
        background=background,
        rise=rising,
        fit_ok=background.ok and rising.ok,
        windows=feature.windows,
        construction=feature.construction,
        excess_current_ma=data.sign * height,
        significance_sigma=significance,
        relative_significance=abs(height) / strongest if strongest > 0 else None,
        band_low_v=low,
        band_high_v=high,
        window_sensitivity_v=window_move,
        scan_end_sensitivity_v=end_move,
        quality=quality,
    )
    return onset, flags


def _quality(
    data: SweepData, s: OnsetSettings, feature: Feature, onset_v: float, band: tuple[float, float], where: str
) -> tuple[str, list[Flag]]:
    names, flags = [], []
    label = f'{data.sweep.direction} onset at {onset_v:.3f} V ({where})'
    width = band[1] - band[0]
    if width > s.band_max_v:
        names.append('wide_band')
        reason = (
            f'{label}: moves over {band[0]:.3f}-{band[1]:.3f} V when its windows or the scan end move: the rise is '
            'rounded or has no straight part, so the two-line onset is not sharply defined'
        )
        flags.append(Flag('wide_band', False, width, f'band <= {s.band_max_v:g} V', reason))
    if feature.relaxed:
        names.append('not_straight_within_noise')
        reason = (
            f'{label}: no part of the sweep is straight within its noise; lines straight by the thesis rule '
            f'(R2 >= {s.r2_min:g}) were used'
        )
        flags.append(Flag('not_straight_within_noise', False, None, 'lines straight within the noise', reason))
    if feature.construction == 'tangent' and s.method != 'edge':
        names.append('no_straight_rise')
        reason = f'{label}: the rise never becomes straight before the end of the sweep; tangent at its steepest point'
        flags.append(Flag('no_straight_rise', False, None, 'a straight faradaic line', reason))
    bad = [
        name
        for name, line in (('background', feature.background), ('rise', feature.rise))
        if line is not None and line.criterion == 'failed'
    ]
    if bad:
        names.append('line_not_straight')
        reason = f'{label}: {" and ".join(bad)} line has R2 below r2_min and is significantly curved'
        flags.append(Flag('line_not_straight', False, None, f'R2 >= {s.r2_min:g} or not curved', reason))
    return (','.join(names) or 'ok'), flags


def _peak(data: SweepData, feature: Feature) -> Peak:
    height = feature.height or 0.0
    onset_v = None
    if feature.x_on is not None and math.isfinite(feature.x_on):
        onset_v = float(data.sign * feature.x_on)
    return Peak(
        direction=data.sweep.direction,
        sweep_index=data.sweep.sweep_index,
        cycle_index=data.sweep.cycle_index,
        potential_v=None if feature.x_peak is None else float(data.sign * feature.x_peak),
        height_ma=float(data.sign * height),
        significance_sigma=abs(height) / data.noise if data.noise > 0 else None,
        onset_v=onset_v,
        background=data.to_real(feature.background),
    )


# ====================================================================================== sensitivity band
def _band(data: SweepData, s: OnsetSettings, feature: Feature) -> tuple[float, float, float | None, float | None]:
    """The onset's sensitivity band (real potentials), the largest move for a shifted window and the move for a
    scan end moved back (None when the rise does not reach the end of the scan)."""
    fitter = data.fitter
    shift = s.band_shift_v if s.band_shift_v is not None else 0.5 * data.min_span
    bg, rise, x_on = feature.background, _rise(feature), _x_on(feature)
    minimum = data.min_points(s)
    # a window may move into the transitions on either side of it, up to their middle, not into the next line
    middle = fitter.row_at(0.5 * (bg.x_end + rise.x_start)) if rise.x_start > bg.x_end else rise.start
    lines = data.structure(s, feature.relaxed).lines
    before = [line.end for line in lines if line.end < bg.start]
    after = [line.start for line in lines if line.start > rise.end]
    low = (before[-1] + bg.start) // 2 if before else 0
    high = (rise.end + after[0]) // 2 if after else fitter.n - 1
    windows_bg = [_shifted(fitter, bg, delta, minimum, low, max(middle - 1, bg.end)) for delta in (-shift, shift)]
    least = 3 if rise.tangent else minimum
    windows_rise = [_shifted(fitter, rise, delta, least, min(middle, rise.start), high) for delta in (-shift, shift)]
    moves = []
    pairs = [(w, (rise.start, rise.end)) for w in windows_bg if w] + [
        ((bg.start, bg.end), w) for w in windows_rise if w
    ]
    if feature.first_rise is not None:  # the rise window moved back to the first straight part of the rise
        pairs.append(((bg.start, bg.end), (feature.first_rise.start, feature.first_rise.end)))
    if feature.previous_background is not None:  # the background before it bent
        pairs.append(((feature.previous_background.start, feature.previous_background.end), (rise.start, rise.end)))
    if bg.span > 1.5 * data.min_span:  # the background window cut to its last min_window_v (a bending background)
        start = fitter.row_at(bg.x_end - data.min_span)
        if bg.end - start + 1 >= minimum:
            pairs.append(((start, bg.end), (rise.start, rise.end)))
    for (b0, b1), (r0, r1) in pairs:
        value = _crossing(fitter, b0, b1, r0, r1)
        if value is not None:
            moves.append(value)
    end_value = _scan_end(data, s, feature)
    values = [x_on, *moves] + ([end_value] if end_value is not None else [])
    real = [data.sign * value for value in values]
    window_move = max((abs(value - x_on) for value in moves), default=None)
    end_move = None if end_value is None else abs(end_value - x_on)
    return float(min(real)), float(max(real)), window_move, end_move


def _shifted(fitter: Fitter, line: Line, delta: float, minimum: int, low: int, high: int) -> tuple[int, int] | None:
    """Rows of ``line``'s window moved by ``delta`` along the sweep, kept within rows ``low..high`` (None when
    fewer than ``minimum`` rows are left)."""
    start = fitter.row_at(fitter.x[line.start] + delta)
    end = fitter.row_at(fitter.x[line.end] + delta, side='right') - 1
    start, end = max(start, low), min(end, high)
    if end - start + 1 < minimum:
        return None
    return start, end


def _crossing(fitter: Fitter, b0: int, b1: int, r0: int, r1: int) -> float | None:
    a, b, _ = fitter.lines(np.array([b0, r0]), np.array([b1, r1]))
    if not (np.isfinite(b).all() and b[1] != b[0]):
        return None
    value = float((a[0] - a[1]) / (b[1] - b[0]))
    return value if math.isfinite(value) else None


def _scan_end(data: SweepData, s: OnsetSettings, feature: Feature) -> float | None:
    """The onset when the scan stops earlier: the rise reaching the end of the sweep is cut back by
    ``band_end_fraction`` of its window (a tangent is then taken at the steepest point left)."""
    fitter, rise = data.fitter, _rise(feature)
    if rise.end < fitter.n - 1 - max(2, data.min_points(s) // 2):
        if feature.windows != 'auto' or any(line.start > rise.end for line in data.structure(s, feature.relaxed).lines):
            return None
        # the rise line is followed by a curved part up to the end of the scan: the slope there
        tangent = _tangent_at_end(data, s)
        if tangent is None or not is_rise(
            feature.background, tangent, intersection(feature.background, tangent), data.noise, s
        ):
            return None
        return intersection(feature.background, tangent)
    if rise.tangent:
        start = feature.background.end + 1
        cut = fitter.row_at(fitter.x[-1] - s.band_end_fraction * (fitter.x[-1] - fitter.x[start]))
        tangent = steepest_tangent(fitter, start, cut, data.half(s))
        if tangent is None or not is_rise(
            feature.background, tangent, intersection(feature.background, tangent), data.noise, s
        ):
            return None
        return intersection(feature.background, tangent)
    end = fitter.row_at(rise.x_end - s.band_end_fraction * rise.span, side='right') - 1
    if end - rise.start + 1 < data.min_points(s):
        return None
    return _crossing(fitter, feature.background.start, feature.background.end, rise.start, end)


def _tangent_at_end(data: SweepData, s: OnsetSettings) -> Line | None:
    half = data.half(s)
    end = data.fitter.n - 1
    line = data.fitter.line(max(0, end - 2 * half), end, straight=True)
    return None if line is None else dataclasses.replace(line, tangent=True)
