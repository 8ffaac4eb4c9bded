"""The shape of one sweep: its straight parts and the curved transitions between them, and the rises (onsets),
peaks and levellings those transitions are.

**Straight parts.** The sweep (oriented frame, spikes excluded) is split recursively: in each part the most
significant kink of a continuous broken line ``y = a + b x + g max(0, x - x_k)`` is found, and the part is split
there when the kink's F statistic exceeds ``curvature_f_max`` (the residual variance is the part's own, and at
least a quarter of the noise's). A part with no significant kink is straight. A rounded knee is cut into short
parts until what is left on either side is straight within the noise: the straight line after the knee starts
where the curve is as close to linear as the noise can tell. Parts shorter than ``min_window_v / 2`` are not
split further; straight parts of at least ``min_window_v`` are the *lines*, everything between two lines is a
*transition*.

**Rises.** Walking along the lines, a reference line (the background) is compared with the next line: the next
line is a rise when its slope exceeds the reference's significantly (by ``sqrt(curvature_f_max)`` standard
errors), by ``min_slope_ratio`` when the reference itself rises, when its current at its end exceeds the
reference's by ``min_significance_sigma`` times the noise (and the uncertainty of both lines there), and when it
ends with a current of the reaction's sign. The two lines give the onset, and the rise becomes the reference for
the next one. A line that is not a rise replaces the reference when it is flatter (a levelled-off feature, a
plateau after a peak, a decaying transient); a steeper one that is not a rise is passed over when it is steep enough
for a rise (``min_slope_ratio``) but does not yet depart significantly, or when it departs and the line after it
(or the curved rise at the end of the sweep) rises above the reference (a piece of the knee); else it replaces
the reference (a bending background). A short line between two upward
transitions each longer than itself is a piece of one rounded knee and is passed over too. A rise whose current
falls back to its background (within ``peak_return_fraction`` of its height) is a peak; a transition that goes
up and comes back without a straight flank is recorded as a peak as well. A curved rise at the end of the sweep
with no straight part after it gets a tangent at its steepest point instead of a fitted line.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from aiida_ssb.analysis.voltammetry.lines import Fitter, Line, intersection
from aiida_ssb.analysis.voltammetry.settings import OnsetSettings

__all__ = ['Feature', 'Structure', 'find_structures', 'is_rise', 'steepest_tangent', 'walk']


@dataclasses.dataclass
class Feature:
    """A rise found in a sweep (oriented frame): its background and rise lines and where they meet, or a peak."""

    background: Line
    rise: Line | None
    x_on: float | None
    kind: str = 'onset'  # 'onset' or 'peak'
    construction: str = 'two_line'  # 'two_line', 'tangent' (edge method or a curved rise), 'peak'
    windows: str = 'auto'
    x_peak: float | None = None
    height: float | None = None  # current above the background at the end of the rise (or the peak's top)
    relaxed: bool = False  # found with lines straight by R2 only (no part straight within the noise)
    first_rise: Line | None = None  # the first straight part of a rise made of several (its band includes it)
    previous_background: Line | None = None  # the background before it bent (its band includes it)


@dataclasses.dataclass
class Structure:
    """The straight lines of a sweep in order (oriented frame)."""

    lines: list[Line]
    n_parts: int
    min_span: float
    relaxed: bool = False


def find_structures(fitter: Fitter, min_span: float, min_points: int, f_max: float) -> tuple[Structure, Structure]:
    """Split the sweep into straight parts (see the module docstring) and keep those of at least ``min_span``.

    Returns two structures from one recursion: the *strict* one (a part is straight when no kink in it is
    significant) and the *relaxed* one (a part is also straight when its line reaches ``r2_min``, the thesis' rule:
    for sweeps with no part straight within their noise, a smooth, physically curved current with little noise).
    The relaxed parts are the first parts, from the top of the recursion, that are straight by either rule."""
    x, envelope = fitter.x, fitter.x_envelope
    parts: list[tuple[int, int, bool]] = []  # the strict leaves
    relaxed_parts: list[tuple[int, int, bool]] = []
    level = [(0, fitter.n - 1, False)]  # (start, end, inside a part already straight by R2)
    while level:  # breadth first: the kinks of every part of one level in one vectorised search
        testable = []
        for start, end, covered in level:
            if end - start + 1 < 2 * min_points or envelope[end] - x[start] < 0.5 * min_span:
                parts.append((start, end, False))
                if not covered:
                    relaxed_parts.append((start, end, False))
            else:
                testable.append((start, end, covered))
        if not testable:
            break
        starts, ends = np.array([item[:2] for item in testable]).T
        rows, statistics, _ = fitter.best_hinges(starts, ends, min_points, refine_above=0.5 * f_max)
        level = []
        for (start, end, covered), k, statistic in zip(testable, rows.tolist(), statistics.tolist()):
            if k < 0 or statistic < f_max:
                parts.append((start, end, True))
                if not covered:
                    relaxed_parts.append((start, end, True))
                continue
            if not covered and fitter.r2(start, end) >= fitter.r2_min:
                relaxed_parts.append((start, end, True))
                covered = True
            level.extend(((start, k - 1, covered), (k, end, covered)))
    strict = _lines(fitter, _merge_straight(fitter, sorted(parts), min_points, f_max, False), min_span)
    relaxed = _lines(fitter, _merge_straight(fitter, sorted(relaxed_parts), min_points, f_max, True), min_span)
    return Structure(strict, len(parts), min_span), Structure(relaxed, len(relaxed_parts), min_span, True)


def _lines(fitter: Fitter, parts: list[tuple[int, int, bool]], min_span: float) -> list[Line]:
    lines = []
    for start, end, straight in parts:
        if straight and fitter.x_envelope[end] - fitter.x[start] >= min_span:
            line = fitter.line(start, end, straight=True)
            if line is not None:
                lines.append(line)
    return lines


def _merge_straight(
    fitter: Fitter, parts: list[tuple[int, int, bool]], min_points: int, f_max: float, relaxed: bool
) -> list[tuple[int, int, bool]]:
    """Join neighbouring straight parts whose union has no significant kink (a split made by noise); the unions
    are tested together, and a run of neighbours whose unions all pass is joined into one part."""
    pairs = [k for k in range(len(parts) - 1) if parts[k][2] and parts[k + 1][2]]
    if not pairs:
        return parts
    starts = np.array([parts[k][0] for k in pairs])
    ends = np.array([parts[k + 1][1] for k in pairs])
    _, statistics, _ = fitter.best_hinges(starts, ends, min_points, refine_above=0.5 * f_max)
    join = set()
    for k, start, end, statistic in zip(pairs, starts.tolist(), ends.tolist(), statistics.tolist()):
        if statistic < f_max or (relaxed and fitter.r2(start, end) >= fitter.r2_min):
            join.add(k)
    merged: list[tuple[int, int, bool]] = []
    for k, part in enumerate(parts):
        if k - 1 in join:
            merged[-1] = (merged[-1][0], part[1], True)
        else:
            merged.append(part)
    return merged


def _z(f_max: float) -> float:
    return math.sqrt(f_max)


def _excess(reference: Line, rise: Line, x_value: float) -> tuple[float, float]:
    """Current of ``rise`` above ``reference`` at ``x_value`` and the standard error of that difference."""
    excess = rise.y(x_value) - reference.y(x_value)
    return excess, math.sqrt(reference.y_variance(x_value) + rise.y_variance(x_value))


def is_rise(reference: Line, rise: Line, x_on: float | None, noise: float, s: OnsetSettings) -> bool:
    """Does ``rise`` rise above ``reference`` by the rules of the module docstring?"""
    if x_on is None or not math.isfinite(x_on) or not reference.x_start <= x_on <= rise.x_end:
        return False
    difference = rise.b - reference.b
    if rise.b <= 0 or difference <= _z(s.curvature_f_max) * math.hypot(reference.slope_se, rise.slope_se):
        return False
    if rise.b < s.min_slope_ratio * abs(reference.b):
        return False
    excess, error = _excess(reference, rise, rise.x_end)
    if excess < s.min_significance_sigma * math.hypot(noise, error):
        return False
    return bool(rise.y(rise.x_end) > 0)


def _steeper(line: Line, other: Line, f_max: float) -> bool:
    return other.b - line.b > _z(f_max) * math.hypot(line.slope_se, other.slope_se)


def _gap(fitter: Fitter, first: Line, second: Line) -> float:
    return float(max(0.0, fitter.x[second.start] - fitter.x[first.end]))


def _peak_in(fitter: Fitter, reference: Line, start: int, end: int) -> tuple[float, float] | None:
    """The highest point above ``reference`` within rows ``start..end`` (abscissa, excess), spikes excluded."""
    if end < start:
        return None
    rows = np.arange(start, end + 1)
    rows = rows[fitter.weight[rows] > 0]
    if rows.size == 0:
        return None
    excess = fitter.y[rows] - reference.y(fitter.x[rows])
    best = int(np.argmax(excess))
    return float(fitter.x[rows[best]]), float(excess[best])


def walk(
    fitter: Fitter,
    structure: Structure,
    noise: float,
    s: OnsetSettings,
    half: int,
    *,
    reference: Line | None = None,
    max_onsets: int | None = None,
) -> tuple[list[Feature], Line | None]:
    """The rises, levellings and peaks along the lines of a sweep (see the module docstring).

    ``reference`` starts the walk from a given background (only the lines after it are visited). Returns the
    features in order and the reference in force at the end (the background when there is no onset)."""
    lines = [line for line in structure.lines if reference is None or line.start > reference.end]
    features: list[Feature] = []
    last_onset: Feature | None = None  # the onset whose rise is the reference, until it levels off
    bent_from: Line | None = None  # the background the reference replaced because it bent

    def room() -> bool:
        return max_onsets is None or sum(f.kind == 'onset' for f in features) < max_onsets

    k = -1
    while k + 1 < len(lines):
        k += 1
        line = lines[k]
        if not room():
            break
        if reference is None:
            reference = line
            continue
        x_on = intersection(reference, line)
        if is_rise(reference, line, x_on, noise, s):
            following = lines[k + 1] if k + 1 < len(lines) else None
            if following is not None and _steeper(line, following, s.curvature_f_max):
                knee = max(_gap(fitter, reference, line), _gap(fitter, line, following))
                if line.span < knee:  # a short straight piece inside one rounded knee
                    continue
            first, last = line, _same_rise(lines, k, s, 2.0 * structure.min_span)
            if last != k and is_rise(reference, lines[last], intersection(reference, lines[last]), noise, s):
                k, line, x_on = last, lines[last], intersection(reference, lines[last])
            last_onset = _onset(reference, line, x_on)
            last_onset.first_rise = first if first is not line else None
            last_onset.previous_background, bent_from = bent_from, None
            features.append(last_onset)
            reference = line
            continue
        if reference.b >= 0 and _steeper(reference, line, s.curvature_f_max):
            if line.b >= s.min_slope_ratio * abs(reference.b):
                continue  # steep enough for a rise, not (yet) significant: the start of a rounded knee
            excess, error = _excess(reference, line, line.x_end)
            if excess >= s.min_significance_sigma * math.hypot(noise, error):  # it departs from the reference
                following = lines[k + 1] if k + 1 < len(lines) else None
                if following is not None and is_rise(
                    reference, following, intersection(reference, following), noise, s
                ):
                    continue  # steeper but not a rise, and the next one rises: a piece of the knee
                if following is None and _curved_tail(fitter, reference, line.end + 1, noise, s, half) is not None:
                    continue  # ... or the curved rise after it does
            bent_from = bent_from or reference
            reference, last_onset = line, None  # a bending background
            continue
        feature = _between(fitter, reference, line, noise, s, half, last_onset)
        if feature is not None:
            features.append(feature)
        continues = feature is None and _continues(reference, line, noise, s)
        joined = fitter.line(reference.start, line.end, straight=True) if continues else None
        reference = joined if joined is not None else line
        bent_from = None
        if last_onset is not None and last_onset.kind == 'peak':
            last_onset = None  # until the next onset, later lines may still bring its current back
    last_line_end = lines[-1].end if lines else -1
    if reference is not None and room():
        tail = _curved_tail(fitter, reference, max(reference.end, last_line_end) + 1, noise, s, half)
        if tail is not None:
            features.append(tail)
            reference = tail.rise
    return features, reference


def _same_rise(lines: list[Line], k: int, s: OnsetSettings, long_span: float) -> int:
    """The line of a rise made of several straight parts: from line ``k`` on, the next line is taken while the
    current one is short (less than ``long_span``: a piece of a rounded knee) and the next is neither a new rise
    above it (``min_slope_ratio`` times steeper) nor its levelling off (that many times flatter). The line reached
    is where the rise is closest to its straight asymptote (the end of a rounded knee, the ohmic part of a Tafel
    rise)."""
    while k + 1 < len(lines):
        current, following = lines[k], lines[k + 1]
        if current.span >= long_span or not current.b / s.min_slope_ratio < following.b < s.min_slope_ratio * current.b:
            break
        k += 1
    return k


def _onset(reference: Line, rise: Line, x_on: float | None, construction: str = 'two_line') -> Feature:
    feature = Feature(reference, rise, x_on, construction=construction)
    feature.height = _excess(reference, rise, rise.x_end)[0]
    return feature


def _between(
    fitter: Fitter,
    reference: Line,
    line: Line,
    noise: float,
    s: OnsetSettings,
    half: int,
    last_onset: Feature | None,
) -> Feature | None:
    """What the transition from ``reference`` to a line that is not a rise holds: the end of a peak (an onset
    whose current comes back), a peak without straight flanks, or a step up without a straight flank (an onset
    whose rise is the tangent at the steepest point of the step)."""
    if last_onset is not None:
        rise = last_onset.rise
        if _returns(last_onset, line, s):
            assert rise is not None  # an onset being followed has its rise line
            last_onset.kind = 'peak'
            top = _peak_in(fitter, last_onset.background, rise.start, line.start - 1)
            if top is not None:
                last_onset.x_peak, last_onset.height = top
            return None
        if (
            last_onset.kind == 'onset' and rise is not None and line.b < rise.b
        ):  # levelled off: its height is the plateau's
            plateau = line.y(line.x_start) - last_onset.background.y(line.x_start)
            last_onset.height = max(last_onset.height or 0.0, plateau)
    top = _peak_in(fitter, reference, reference.end + 1, line.start - 1)
    if top is None or top[1] < s.min_significance_sigma * noise:
        return None
    if _back_to(reference, line, top[1], s):
        return Feature(reference, None, None, kind='peak', construction='peak', x_peak=top[0], height=top[1])
    step, error = _excess(reference, line, line.x_start)
    if step < s.min_significance_sigma * math.hypot(noise, error):
        return None
    tangent = steepest_tangent(fitter, reference.end + 1, line.start - 1, half)
    if tangent is None:
        return None
    x_on = intersection(reference, tangent)
    if not is_rise(reference, tangent, x_on, noise, s):
        return None
    feature = _onset(reference, tangent, x_on, 'tangent')
    feature.height = max(feature.height or 0.0, step)  # the step up to the line after it
    return feature


def _continues(reference: Line, line: Line, noise: float, s: OnsetSettings) -> bool:
    """``line`` continues ``reference``: the same slope within the errors and no step beyond the noise."""
    same_slope = abs(line.b - reference.b) <= _z(s.curvature_f_max) * math.hypot(reference.slope_se, line.slope_se)
    step, error = _excess(reference, line, line.x_start)
    return same_slope and abs(step) <= s.min_significance_sigma * math.hypot(noise, error)


def _returns(onset: Feature, line: Line, s: OnsetSettings) -> bool:
    """After the rise of ``onset``, ``line`` is back near the onset's background: the rise was a peak."""
    return _back_to(onset.background, line, onset.height or 0.0, s)


def _back_to(background: Line, line: Line, height: float, s: OnsetSettings) -> bool:
    """``line`` lies within ``peak_return_fraction`` of ``height`` above ``background`` (at its middle)."""
    middle = 0.5 * (line.x_start + line.x_end)
    return height > 0 and line.y(middle) - background.y(middle) <= s.peak_return_fraction * height


def _curved_tail(
    fitter: Fitter, reference: Line, start: int, noise: float, s: OnsetSettings, half: int
) -> Feature | None:
    """A rise after the last line that never becomes straight (an accelerating current at the end of the sweep):
    the tangent at its steepest point, when the current there is significantly above the reference."""
    if fitter.n - start < 2 * half + 1 or fitter.n - start < s.min_points:
        return None
    tangent = steepest_tangent(fitter, start, fitter.n - 1, half)
    if tangent is None:
        return None
    x_on = intersection(reference, tangent)
    if not is_rise(reference, tangent, x_on, noise, s):
        return None
    return _onset(reference, tangent, x_on, 'tangent')


def steepest_tangent(fitter: Fitter, start: int, end: int, half: int) -> Line | None:
    """The local line over ``2 half + 1`` rows at the steepest point of rows ``start..end`` (the tangent)."""
    low, high = max(start, half), min(end, fitter.n - 1 - half)
    if high < low:
        centre = (start + end) // 2
        return _tangent(fitter, max(0, centre - half), min(fitter.n - 1, centre + half))
    slopes, _, _ = fitter.local_lines(half)
    window = slopes[low : high + 1]
    if not np.isfinite(window).any():
        return None
    centre = low + int(np.nanargmax(window))
    return _tangent(fitter, centre - half, centre + half)


def _tangent(fitter: Fitter, start: int, end: int) -> Line | None:
    line = fitter.line(start, end, straight=True)
    return None if line is None else dataclasses.replace(line, tangent=True)
