"""Electrochemical stability onsets from linear-sweep and cyclic voltammetry.

Pure numpy (no AiiDA). The methods follow the seed papers:

* **two-line method** (Asakura et al., *ACS Appl. Energy Mater.* 2019, thesis chapter 4): a straight line
  ``i = a + b E`` is fitted to the non-faradaic background current and one to the rising faradaic current; the
  onset is their intersection ``E_onset = (a_bg - a_F) / (b_F - b_bg)``. Without windows, the sweep is split into
  straight parts and curved transitions judged against its noise (:mod:`.structure`); every significant rise
  gets its own two lines, with its significance and sensitivity band (:func:`find_onsets`).
* **edge method** (seed 004, "edge potential"): the background line meets the tangent at the steepest point of
  the rise.
* **threshold method**: the first potential at which the (optionally background-subtracted) current or current
  density exceeds a threshold for ``k_consecutive`` points. Shown for comparison: its result depends on the
  threshold, the area and the scan rate.
* **derivative method**: the first potential at which the smoothed ``dI/dE`` exceeds the background's mean by
  ``k_sigma`` times its standard deviation.
* **stepwise CV** (seed 000, thesis chapter 5): per upper cut-off, the anodic charge, the cathodic charge on the
  reverse scan, the passivation ratios and the cut-off at which the anodic charge soars
  (:func:`analyse_stepwise_cv`).
* **validity rules** of the working electrode (thesis chapter 4): carbon volume fraction within 0.2-0.8, carbon
  surface area > 200 cm2, scan rate <= 20 uV/s (:func:`check_working_electrode`).

Sign convention (as in :mod:`aiida_ssb.parsers.base`): ``current_ma`` is positive for oxidation at the working
electrode. Anodic sweeps (increasing potential) give oxidative onsets, cathodic sweeps (decreasing potential)
give reductive onsets; cathodic sweeps are analysed in a mirrored frame (``-E``, ``-I``) so that one search
serves both, and every result is reported in the real frame.

The package: :mod:`.sweeps` (segmentation into sweeps), :mod:`.lines` (line fits from prefix sums),
:mod:`.structure` (straight parts, rises, peaks), :mod:`.onsets` (two-line and edge constructions, significance,
band), :mod:`.criteria` (threshold, derivative), :mod:`.api` (:func:`find_onsets`), :mod:`.electrode`
(working-electrode rules), :mod:`.stepwise` (stepwise CV), :mod:`.settings` and :mod:`.results`.

Bad input raises :class:`VoltammetryError` naming the argument and the problem; invalid settings raise
:class:`~aiida_ssb.exceptions.SettingsError`; a sweep without an onset gives a result saying so, never a number.
"""

from aiida_ssb.analysis.voltammetry.api import find_onsets, find_onsets_in_measurement
from aiida_ssb.analysis.voltammetry.common import (
    ANODIC,
    CATHODIC,
    Flag,
    VoltammetryError,
    estimate_noise_ma,
)
from aiida_ssb.analysis.voltammetry.electrode import (
    CARBON_SURFACE_AREA_MIN_CM2,
    CARBON_VOLUME_FRACTION_RANGE,
    SCAN_RATE_MAX_MV_S,
    WorkingElectrode,
    carbon_surface_area_cm2,
    carbon_volume_fraction,
    check_working_electrode,
)
from aiida_ssb.analysis.voltammetry.lines import LineFit
from aiida_ssb.analysis.voltammetry.results import Onset, OnsetAnalysis, Peak, SweepResult
from aiida_ssb.analysis.voltammetry.settings import METHODS, OnsetSettings, StepwiseCvSettings
from aiida_ssb.analysis.voltammetry.stepwise import StepwiseCvResult, StepwiseStep, analyse_stepwise_cv
from aiida_ssb.analysis.voltammetry.sweeps import Sweep, segment_sweeps

__all__ = [
    'ANODIC',
    'CARBON_SURFACE_AREA_MIN_CM2',
    'CARBON_VOLUME_FRACTION_RANGE',
    'CATHODIC',
    'METHODS',
    'SCAN_RATE_MAX_MV_S',
    'Flag',
    'LineFit',
    'Onset',
    'OnsetAnalysis',
    'OnsetSettings',
    'Peak',
    'StepwiseCvResult',
    'StepwiseCvSettings',
    'StepwiseStep',
    'Sweep',
    'SweepResult',
    'VoltammetryError',
    'WorkingElectrode',
    'analyse_stepwise_cv',
    'carbon_surface_area_cm2',
    'carbon_volume_fraction',
    'check_working_electrode',
    'estimate_noise_ma',
    'find_onsets',
    'find_onsets_in_measurement',
    'segment_sweeps',
]
