"""Onsets judged against the noise (issue 16): every significant rise found with its own two lines, stable windows
on rounded and Tafel-like rises, the sensitivity band, significance and the headline, the edge method, peaks.

The family of generated sweeps is :mod:`tests.analysis.voltammetry_family` (known two-line intersections of the
generating model)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aiida_ssb.analysis import voltammetry as vm
from aiida_ssb.analysis.voltammetry import OnsetSettings
from tests.analysis.voltammetry_family import Case, Feature, generate

GATE_V = 0.02
LEVEL = OnsetSettings().headline_significance_sigma
CASES = generate()


def _matches(onset: vm.Onset, truth: float) -> bool:
    """Within the gate of the model's intersection, or the model's intersection inside the onset's band."""
    return abs(onset.onset_v - truth) <= GATE_V or onset.band_low_v <= truth <= onset.band_high_v


@pytest.mark.parametrize('case', CASES, ids=[case.name for case in CASES])
def test_family_every_significant_feature_is_found_within_the_gate(case: Case):
    potential, current, _ = case.sweep()
    result = vm.find_onsets(potential, current, scan_rate_mv_s=case.scan_rate_mv_s)
    onsets = result.onsets
    significant = [truth for truth, sigma in zip(case.truth(), case.significance()) if sigma >= LEVEL]
    assert significant, 'the family must have a feature above the headline level in every case'
    for truth in significant:
        assert any(_matches(onset, truth) for onset in onsets), (truth, [o.onset_v for o in onsets])
    # nothing significant that the model does not have
    for onset in onsets:
        if onset.significance_sigma >= LEVEL:
            assert any(_matches(onset, truth) for truth in case.truth()), onset.onset_v
        assert onset.band_low_v <= onset.onset_v <= onset.band_high_v
    # the headline is the first feature above the level
    headline = result.oxidative_onset_v if case.direction == 'anodic' else result.reductive_onset_v
    assert (headline is not None and abs(headline - significant[0]) <= GATE_V) or any(
        o.headline and o.band_low_v <= significant[0] <= o.band_high_v for o in onsets
    )
    json.dumps(result.to_dict())


def test_family_covers_the_issue():
    """The family spans what issue 16 asks for: weak-before-strong 10x-1000x, knees 10-150 mV, Tafel rises with
    an ohmic limit, capacitive backgrounds with slope at 10 uV/s-1 mV/s, 0.1-1 % noise, spikes, both directions."""
    names = ' '.join(case.name for case in CASES)
    for word in ('10x', '1000x', 'knee 10 mV', 'knee 150 mV', 'Tafel', '10 uV/s', '1000 uV/s', 'spikes', 'cathodic'):
        assert word in names
    noises = {case.noise_fraction for case in CASES if case.noise_of == 'max'}
    assert min(noises) == 0.001 and max(noises) == 0.01
    weak = [case for case in CASES if 'weak-before-strong' in case.name]
    assert {round(c.features[1].slope_ma_v / c.features[0].slope_ma_v) for c in weak} == {10, 30, 100, 300, 1000}


def test_weak_rise_levelling_off_before_a_strong_one_is_the_headline():
    """Issue 16: a weak oxidation levelling off near 2e-4 mA, then one ~150 x steeper 0.77 V later. The weak one is
    found with its own two lines and is the headline; its plateau is the background of the strong one."""
    weak_slope = 2e-3
    weak = Feature('levelled', 3.485, weak_slope, 0.01, 2e-4 / weak_slope)
    strong = Feature('knee', 4.255, 150 * weak_slope, 0.01)
    case = Case('issue', 3.0, 4.6, (weak, strong), noise_fraction=0.01, noise_of='first', capacitance_f=1e-3)
    potential, current, sigma = case.sweep()
    result = vm.find_onsets(potential, current)
    first, second = result.onsets
    assert abs(first.onset_v - 3.485) <= GATE_V and abs(second.onset_v - 4.255) <= GATE_V
    assert result.oxidative_onset_v == first.onset_v and first.headline and not second.headline
    assert first.excess_current_ma == pytest.approx(2e-4, rel=0.1)
    assert first.significance_sigma == pytest.approx(2e-4 / sigma, rel=0.15)
    assert first.relative_significance < 0.01 and second.relative_significance == 1.0
    # the plateau (not the background before the weak rise) is the background of the strong one
    assert second.background.v_min >= first.rise.v_max
    assert abs(second.background.slope_ma_v) < 0.05 * first.rise.slope_ma_v
    level = second.background.intercept_ma + second.background.slope_ma_v * 4.0
    assert level - case.model(np.array([3.1]))[0] == pytest.approx(2e-4, rel=0.1)


def test_headline_levels_keep_minor_features_in_the_table():
    """The headline is the first onset at least ``headline_significance_sigma`` significant and at least
    ``headline_min_relative`` of the strongest rise; the others stay in the table."""
    case = Case(
        'minor',
        2.4,
        4.6,
        (Feature('knee', 2.9, 2e-4, 0.005), Feature('knee', 3.45, 3e-3, 0.005)),
        noise_fraction=0.02,
        noise_of='first',
        seed=3,
    )
    potential, current, _ = case.sweep()
    default = vm.find_onsets(potential, current)
    assert [round(o.onset_v, 2) for o in default.onsets] == [2.9, 3.45]
    assert default.oxidative_onset_v == pytest.approx(2.9, abs=GATE_V)
    relative = vm.find_onsets(potential, current, headline_min_relative=0.1)
    assert relative.oxidative_onset_v == pytest.approx(3.45, abs=GATE_V)
    assert len(relative.onsets) == 2 and [o.headline for o in relative.onsets] == [False, True]
    strict = vm.find_onsets(potential, current, headline_significance_sigma=1e9)
    assert strict.oxidative_onset_v is None and len(strict.onsets) == 2
    assert 'none reaches the headline significance' in strict.sweeps[0].message
    assert 'oxidative_onset_v' not in strict.to_dict()
    # below the detection level a feature is not reported at all
    quiet = vm.find_onsets(potential, current, min_significance_sigma=1e6)
    assert quiet.onsets == []


def test_the_band_is_wide_and_flagged_when_the_scan_stops_before_the_straight_part():
    """A Tafel rise reaching its ohmic line only near the end of the scan: the onset moves with the windows and with
    where the scan stops; the band says so (wide, flagged), and it reaches towards the model's intersection. A
    longer scan finds the intersection."""
    case = Case('short', 2.6, 3.95, (Feature('tafel', 3.45, 4e-3, 0.05),), noise_fraction=0.003)
    potential, current, _ = case.sweep()
    result = vm.find_onsets(potential, current)
    (onset,) = result.onsets
    assert abs(onset.onset_v - 3.45) > GATE_V  # what this scan can say ...
    assert 'wide_band' in onset.quality and onset.band_width_v > 0.05  # ... and how sure it is
    assert onset.band_low_v < onset.onset_v and abs(onset.band_low_v - 3.45) < abs(onset.onset_v - 3.45)
    assert onset.scan_end_sensitivity_v is not None
    flag = {f.rule: f for f in result.flags}['wide_band']
    assert flag.passed is False and 'scan end' in flag.reason and flag.value == pytest.approx(onset.band_width_v)
    longer = Case('long', 2.6, 4.45, (Feature('tafel', 3.45, 4e-3, 0.05),), noise_fraction=0.003)
    (onset,) = vm.find_onsets(*longer.sweep()[:2]).onsets
    assert abs(onset.onset_v - 3.45) <= GATE_V


def test_band_settings_change_the_band():
    case = Case('hinge', 2.5, 4.5, (Feature('knee', 3.45, 2e-3, 0.0),), noise_fraction=0.01, seed=4)
    potential, current, _ = case.sweep()
    narrow = vm.find_onsets(potential, current, band_shift_v=0.005).onsets[0]
    wide = vm.find_onsets(potential, current, band_shift_v=0.3).onsets[0]
    assert narrow.onset_v == wide.onset_v
    assert wide.window_sensitivity_v > narrow.window_sensitivity_v
    assert wide.band_low_v <= narrow.band_low_v and wide.band_high_v >= narrow.band_high_v
    assert 'wide_band' in vm.find_onsets(potential, current, band_max_v=1e-4).onsets[0].quality
    assert vm.find_onsets(potential, current, band_max_v=1.0).onsets[0].quality == 'ok'


def test_scan_end_sensitivity_of_a_rise_that_reaches_the_end():
    case = Case('hinge', 1.5, 4.0, (Feature('knee', 2.5, 2e-3, 0.02),), noise_fraction=0.003)
    potential, current, _ = case.sweep()
    (onset,) = vm.find_onsets(potential, current).onsets
    assert onset.rise.v_max == pytest.approx(4.0, abs=0.01)
    assert onset.scan_end_sensitivity_v is not None and onset.scan_end_sensitivity_v < 0.005
    few = vm.find_onsets(potential, current, band_end_fraction=0.9).onsets[0]
    assert few.scan_end_sensitivity_v is not None


def test_edge_method_is_the_tangent_at_the_steepest_point():
    """Seed 004's edge potential: the background meets the tangent at the steepest point of the rise. For a
    logistic step ``A / (1 + exp(-(E - Em)/w))`` that tangent meets the baseline at ``Em - 2 w``; for a straight
    (ohmic) rise it is the two-line onset."""
    e = np.linspace(3.0, 4.6, 1601)
    rng = np.random.default_rng(0)
    step = 1e-3 / (1 + np.exp(-(e - 4.0) / 0.03)) + rng.normal(0, 2e-7, e.size)
    edge = vm.find_onsets(e, step, method='edge')
    (onset,) = edge.onsets
    assert onset.method == 'edge' and onset.construction == 'tangent'
    assert onset.onset_v == pytest.approx(4.0 - 2 * 0.03, abs=0.005)
    # the tangent's slope is the steepest slope, A / (4 w)
    assert onset.rise.slope_ma_v == pytest.approx(1e-3 / (4 * 0.03), rel=0.05)
    hinge = Case('hinge', 2.6, 5.0, (Feature('knee', 4.14, 2e-3, 0.003),), noise_fraction=0.001)
    potential, current, _ = hinge.sweep()
    both = [vm.find_onsets(potential, current, method=m).oxidative_onset_v for m in ('two_line', 'edge')]
    assert both == pytest.approx([4.14, 4.14], abs=0.005)


def test_a_peak_is_reported_and_the_onset_after_it_uses_the_background_after_it():
    """Seed 004: a small anodic peak centred at 3.3 V, then the edge at 4.14 V. The peak is a peak (reported, never
    the headline), and the background after it is the background of the onset."""
    e = np.linspace(2.62, 5.0, 1191)
    rng = np.random.default_rng(1)
    current = 1e-5 + 2e-6 * (e - 2.6) + 1.2e-4 * np.exp(-0.5 * ((e - 3.3) / 0.06) ** 2)
    current = current + 2e-3 * 0.003 * np.logaddexp(0, (e - 4.14) / 0.003) + rng.normal(0, 2e-7, e.size)
    result = vm.find_onsets(e, current)
    (onset,) = result.onsets
    assert onset.onset_v == pytest.approx(4.14, abs=0.005) and onset.headline
    (peak,) = result.peaks
    assert peak.potential_v == pytest.approx(3.3, abs=0.01) and peak.height_ma == pytest.approx(1.2e-4, rel=0.05)
    assert onset.background.v_min > 3.3
    record = result.to_dict()
    assert record['n_peaks'] == 1 and record['peaks'][0]['potential_v'] == pytest.approx(3.3, abs=0.01)
    assert result.arrays()['peak_v'] == pytest.approx([3.3], abs=0.01)


def test_a_rise_that_falls_back_is_a_peak_not_an_onset():
    e = np.linspace(2.0, 4.0, 2001)
    rng = np.random.default_rng(2)
    bump = Feature('levelled', 2.6, 1e-3, 0.005, 0.3).current(e) - Feature('levelled', 2.95, 1e-3, 0.005, 0.3).current(
        e
    )
    current = 2e-5 + bump + rng.normal(0, 2e-6, e.size)
    result = vm.find_onsets(e, current)
    assert result.onsets == [] and len(result.peaks) == 1
    assert result.peaks[0].onset_v == pytest.approx(2.6, abs=GATE_V)
    assert result.oxidative_onset_v is None
    kept = vm.find_onsets(e, current, peak_return_fraction=0.0)
    assert [round(o.onset_v, 2) for o in kept.onsets] == [2.6]


def test_sweep_and_direction_selection():
    from tests.analysis.test_voltammetry import synthetic_cv

    potential, current, time, cycles = synthetic_cv(2)
    everything = vm.find_onsets(potential, current, time_s=time, cycle_index=cycles)
    assert [s.sweep.sweep_index for s in everything.sweeps] == [0, 1, 2, 3]
    second = vm.find_onsets(potential, current, time_s=time, cycle_index=cycles, sweep=2)
    assert [s.sweep.sweep_index for s in second.sweeps] == [2]
    assert second.oxidative_onset_v == pytest.approx(3.6, abs=GATE_V) and second.reductive_onset_v is None
    cathodic = vm.find_onsets(potential, current, time_s=time, cycle_index=cycles, direction='cathodic')
    assert {s.sweep.direction for s in cathodic.sweeps} == {'cathodic'}
    assert cathodic.reductive_onset_v == pytest.approx(1.2, abs=GATE_V)
    several = vm.find_onsets(potential, current, sweep=[1, 3], direction='cathodic')
    assert [s.sweep.sweep_index for s in several.sweeps] == [1, 3]
    with pytest.raises(vm.VoltammetryError, match='no sweep'):
        vm.find_onsets(potential, current, sweep=1, direction='anodic')


def test_given_window_lists_build_one_onset_per_pair():
    case = Case('two', 2.4, 4.6, (Feature('knee', 2.93, 2e-4, 0.01), Feature('knee', 4.07, 5e-3, 0.015)))
    potential, current, _ = case.sweep()
    windows = {'background_window_v': [[2.5, 2.85], [3.1, 3.95]], 'rise_window_v': [[3.1, 3.95], [4.2, 4.6]]}
    result = vm.find_onsets(potential, current, **windows)
    assert [o.windows for o in result.onsets] == ['given', 'given']
    assert [o.onset_v for o in result.onsets] == pytest.approx([2.93, 4.07], abs=GATE_V)
    assert all(o.band_low_v <= o.onset_v <= o.band_high_v for o in result.onsets)
    assert result.parameters['background_window_v'] == [[2.5, 2.85], [3.1, 3.95]]
