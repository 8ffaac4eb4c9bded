"""Results of the onset analysis: one :class:`Onset` per onset found, the :class:`Peak` s, a :class:`SweepResult` per
sweep and the :class:`OnsetAnalysis` of a record (its headline numbers, flags and arrays for plotting)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from aiida_ssb.analysis.voltammetry.common import ANODIC, CATHODIC, KIND, Flag, clean
from aiida_ssb.analysis.voltammetry.lines import LineFit
from aiida_ssb.analysis.voltammetry.sweeps import Sweep

__all__ = ['Onset', 'OnsetAnalysis', 'Peak', 'SweepResult']


@dataclasses.dataclass(frozen=True)
class Onset:
    """One onset found in one sweep.

    :param method: ``'two_line'``, ``'edge'``, ``'threshold'`` or ``'derivative'``.
    :param direction: sweep direction, ``'anodic'`` or ``'cathodic'``.
    :param order: 1 for the first onset of the sweep, 2 for the next...
    :param onset_v: the onset potential, V.
    :param current_at_onset_ma: two-line and edge: the common current of both lines at the onset; threshold and
        derivative: the measured current interpolated at the onset.
    :param measured_current_at_onset_ma: the measured current interpolated at the onset potential.
    :param background: the background line (two-line, edge; background-subtracted threshold, derivative).
    :param rise: two-line: the faradaic line; edge (or a rise with no straight part): the tangent at its
        steepest point.
    :param fit_ok: False when a line does not meet the thesis' quality rule (:attr:`LineFit.criterion`).
    :param windows: ``'auto'``, ``'given'``, ``'background given, rise auto'`` or ``'rise given, background auto'``.
    :param construction: ``'two_line'`` (a line fitted to the straight part of the rise) or ``'tangent'`` (the
        tangent at the steepest point: the edge method, or a rise that never becomes straight).
    :param excess_current_ma: current of the rise line above the background line at the end of the rise (the
        size of the feature; real sign).
    :param significance_sigma: ``|excess_current_ma|`` in units of the sweep's noise.
    :param relative_significance: ``excess_current_ma`` relative to the largest of the sweep's rises.
    :param band_low_v: lowest onset among the window shifts and the moved scan end (the sensitivity band).
    :param band_high_v: highest one.
    :param window_sensitivity_v: the largest move of the onset when one window is shifted by ``band_shift_v``.
    :param scan_end_sensitivity_v: the move of the onset when the end of a rise that reaches the end of the scan
        is moved back (absent when the rise ends before the end of the scan).
    :param headline: True for the headline onset of its sweep (the first one at least as significant as the
        headline levels).
    :param quality: ``'ok'`` or the names of the quality flags of this onset (``wide_band``,
        ``no_straight_rise``, ``line_not_straight``), comma-separated; the reasons are in the result's flags.
    :param details: method-specific numbers (threshold, k, derivative statistics...), flat and unit-named.
    """

    method: str
    direction: str
    sweep_index: int
    cycle_index: int
    order: int
    onset_v: float
    current_at_onset_ma: float
    measured_current_at_onset_ma: float | None
    current_density_at_onset_ma_cm2: float | None = None
    background: LineFit | None = None
    rise: LineFit | None = None
    fit_ok: bool = True
    windows: str = 'auto'
    construction: str | None = None
    excess_current_ma: float | None = None
    significance_sigma: float | None = None
    relative_significance: float | None = None
    band_low_v: float | None = None
    band_high_v: float | None = None
    window_sensitivity_v: float | None = None
    scan_end_sensitivity_v: float | None = None
    headline: bool = False
    quality: str = 'ok'
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``'oxidative'`` (anodic sweep) or ``'reductive'`` (cathodic sweep)."""
        return KIND[self.direction]

    @property
    def band_width_v(self) -> float | None:
        if self.band_low_v is None or self.band_high_v is None:
            return None
        return self.band_high_v - self.band_low_v

    def to_dict(self) -> dict[str, Any]:
        result = {
            'method': self.method,
            'direction': self.direction,
            'kind': self.kind,
            'sweep_index': self.sweep_index,
            'cycle_index': self.cycle_index,
            'order': self.order,
            'onset_v': self.onset_v,
            'current_at_onset_ma': self.current_at_onset_ma,
            'measured_current_at_onset_ma': self.measured_current_at_onset_ma,
            'current_density_at_onset_ma_cm2': self.current_density_at_onset_ma_cm2,
            'fit_ok': self.fit_ok,
            'windows': self.windows,
            'construction': self.construction,
            'excess_current_ma': self.excess_current_ma,
            'significance_sigma': self.significance_sigma,
            'relative_significance': self.relative_significance,
            'band_low_v': self.band_low_v,
            'band_high_v': self.band_high_v,
            'band_width_v': self.band_width_v,
            'window_sensitivity_v': self.window_sensitivity_v,
            'scan_end_sensitivity_v': self.scan_end_sensitivity_v,
            'headline': self.headline,
            'quality': self.quality,
        }
        if self.background is not None:
            result.update(self.background.to_dict('background'))
        if self.rise is not None:
            result.update(self.rise.to_dict('rise'))
        result.update(self.details)
        return clean(result)


@dataclasses.dataclass(frozen=True)
class Peak:
    """A rise whose current comes back to its background: reported, never an onset nor a headline.

    :param potential_v: potential of the highest point above the background.
    :param height_ma: its current above the background line (real sign).
    :param significance_sigma: ``|height_ma|`` in units of the sweep's noise.
    :param onset_v: where the background line meets the straight rising flank, when there is one.
    """

    direction: str
    sweep_index: int
    cycle_index: int
    potential_v: float | None
    height_ma: float
    significance_sigma: float | None
    onset_v: float | None = None
    background: LineFit | None = None

    def to_dict(self) -> dict[str, Any]:
        result = {
            'direction': self.direction,
            'sweep_index': self.sweep_index,
            'cycle_index': self.cycle_index,
            'potential_v': self.potential_v,
            'height_ma': self.height_ma,
            'significance_sigma': self.significance_sigma,
            'onset_v': self.onset_v,
        }
        if self.background is not None:
            result.update(self.background.to_dict('background'))
        return clean(result)


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """The analysis of one sweep: its onsets and peaks, or the reason there are none.

    :param status: ``'onset'``, ``'no_onset'`` or ``'not_analysed'``.
    :param message: what was found, or why not (e.g. ``'no onset within the window'``).
    :param noise_ma: the point-to-point noise used by the search, mA.
    :param n_spikes: points excluded as isolated spikes.
    :param potential_min_v: lower end of the analysed part of the sweep.
    :param potential_max_v: upper end of the analysed part of the sweep.
    :param min_window_v: the shortest line of the automatic search used for this sweep.
    """

    sweep: Sweep
    status: str
    message: str
    onsets: tuple[Onset, ...] = ()
    noise_ma: float | None = None
    n_spikes: int = 0
    potential_min_v: float | None = None
    potential_max_v: float | None = None
    min_window_v: float | None = None
    peaks: tuple[Peak, ...] = ()

    @property
    def headline(self) -> Onset | None:
        """The headline onset of the sweep (None when no onset reaches the headline levels)."""
        return next((onset for onset in self.onsets if onset.headline), None)

    def to_dict(self) -> dict[str, Any]:
        result = self.sweep.to_dict()
        headline = self.headline
        result.update(
            {
                'status': self.status,
                'message': self.message,
                'n_onsets': len(self.onsets),
                'n_peaks': len(self.peaks),
                'noise_ma': self.noise_ma,
                'n_spikes_excluded': self.n_spikes,
                'analysed_v_min': self.potential_min_v,
                'analysed_v_max': self.potential_max_v,
                'min_window_v': self.min_window_v,
                'headline_onset_v': None if headline is None else headline.onset_v,
            }
        )
        if self.onsets:
            result['first_onset_v'] = self.onsets[0].onset_v
        return clean(result)


@dataclasses.dataclass(frozen=True)
class OnsetAnalysis:
    """Result of :func:`~aiida_ssb.analysis.voltammetry.find_onsets`.

    ``oxidative_onset_v`` / ``reductive_onset_v`` are the headline onset of the first analysed sweep of that
    direction (absent when that sweep has none reaching the headline levels: the other onsets and sweeps are in
    :attr:`sweeps`).
    """

    method: str
    parameters: Mapping[str, Any]
    sweeps: tuple[SweepResult, ...]
    flags: tuple[Flag, ...] = ()
    scan_rate_mv_s: float | None = None
    scan_rate_source: str | None = None
    n_points: int = 0
    area_cm2: float | None = None

    @property
    def onsets(self) -> list[Onset]:
        return [onset for sweep in self.sweeps for onset in sweep.onsets]

    @property
    def peaks(self) -> list[Peak]:
        return [peak for sweep in self.sweeps for peak in sweep.peaks]

    def headline_onset(self, direction: str) -> Onset | None:
        """The headline onset of the first analysed sweep of ``direction``."""
        for sweep in self.sweeps:
            if sweep.sweep.direction == direction and sweep.status != 'not_analysed':
                return sweep.headline
        return None

    @property
    def oxidative_onset_v(self) -> float | None:
        onset = self.headline_onset(ANODIC)
        return None if onset is None else onset.onset_v

    @property
    def reductive_onset_v(self) -> float | None:
        onset = self.headline_onset(CATHODIC)
        return None if onset is None else onset.onset_v

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {'method': self.method}
        result.update(clean(self.parameters))
        oxidative, reductive = self.headline_onset(ANODIC), self.headline_onset(CATHODIC)
        result.update(
            clean(
                {
                    'area_cm2': self.area_cm2,
                    'scan_rate_mv_s': self.scan_rate_mv_s,
                    'scan_rate_source': self.scan_rate_source,
                    'n_points': self.n_points,
                    'n_sweeps': len(self.sweeps),
                    'n_onsets': len(self.onsets),
                    'n_peaks': len(self.peaks),
                    'oxidative_onset_v': None if oxidative is None else oxidative.onset_v,
                    'oxidative_onset_band_low_v': None if oxidative is None else oxidative.band_low_v,
                    'oxidative_onset_band_high_v': None if oxidative is None else oxidative.band_high_v,
                    'oxidative_onset_significance_sigma': None if oxidative is None else oxidative.significance_sigma,
                    'reductive_onset_v': None if reductive is None else reductive.onset_v,
                    'reductive_onset_band_low_v': None if reductive is None else reductive.band_low_v,
                    'reductive_onset_band_high_v': None if reductive is None else reductive.band_high_v,
                }
            )
        )
        result['onsets'] = [onset.to_dict() for onset in self.onsets]
        result['peaks'] = [peak.to_dict() for peak in self.peaks]
        result['sweeps'] = [sweep.to_dict() for sweep in self.sweeps]
        result['flags'] = [flag.to_dict() for flag in self.flags]
        return result

    def arrays(self) -> dict[str, np.ndarray]:
        """Arrays for plotting: ``onset_v``, ``onset_current_ma``, ``onset_band_low_v``/``_high_v`` and
        ``onset_headline`` (1 for headline onsets) for all onsets in order; ``peak_v`` and ``peak_height_ma``; and,
        per onset ``k`` (1-based, in the order of :attr:`onsets`), the fitted lines over their windows, extended
        to the onset: ``onset{k}_background_v`` / ``onset{k}_background_ma`` and ``onset{k}_rise_v`` /
        ``onset{k}_rise_ma``."""
        onsets = self.onsets
        nan = float('nan')
        result = {
            'onset_v': np.array([onset.onset_v for onset in onsets], dtype=float),
            'onset_current_ma': np.array([onset.current_at_onset_ma for onset in onsets], dtype=float),
            'onset_band_low_v': np.array([o.band_low_v if o.band_low_v is not None else nan for o in onsets]),
            'onset_band_high_v': np.array([o.band_high_v if o.band_high_v is not None else nan for o in onsets]),
            'onset_headline': np.array([1.0 if onset.headline else 0.0 for onset in onsets]),
        }
        peaks = [peak for peak in self.peaks if peak.potential_v is not None]
        if peaks:
            result['peak_v'] = np.array([peak.potential_v for peak in peaks], dtype=float)
            result['peak_height_ma'] = np.array([peak.height_ma for peak in peaks], dtype=float)
        for k, onset in enumerate(onsets, start=1):
            for name, line in (('background', onset.background), ('rise', onset.rise)):
                if line is None:
                    continue
                low = min(line.v_min, onset.onset_v)
                high = max(line.v_max, onset.onset_v)
                potential = np.linspace(low, high, 50)
                result[f'onset{k}_{name}_v'] = potential
                result[f'onset{k}_{name}_ma'] = line.current_ma(potential)
        return result
