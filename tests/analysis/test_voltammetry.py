"""Tests of :mod:`aiida_ssb.analysis.voltammetry` (stability onsets, stepwise CV, validity rules).

Synthetic sweeps use a *softplus* rise ``k * w * log(1 + exp((E - E0) / w))``: an exponential onset
that turns into a straight (ohmic-limited) faradaic current. Its two asymptotes (0 and
``k * (E - E0)``) meet exactly at ``E0``, so ``E0`` is the true two-line onset. ``w = 0`` gives a
hinge (linear rise).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiida_ssb.analysis import voltammetry as vm
from aiida_ssb.analysis.voltammetry import VoltammetryError
from aiida_ssb.exceptions import SettingsError

UA = 1e-3  # 1 uA in mA


# ---------------------------------------------------------------------------------------- generators
def synthetic_sweep(
    e_start,
    e_end,
    rises,
    *,
    n=2001,
    background=(5e-5, 2e-5, 5e-6),
    noise_ma=3e-6,
    seed=0,
):
    """One LSV sweep; current in mA, positive for oxidation.

    ``background = (i0, slope, curvature)`` along the sweep direction (capacitive, small curvature);
    ``rises = [(E0, added slope mA/V, width V), ...]`` in the reaction's direction (anodic for an
    upward sweep, cathodic for a downward one)."""
    rng = np.random.default_rng(seed)
    potential = np.linspace(e_start, e_end, n)
    sign = 1.0 if e_end > e_start else -1.0
    distance = sign * (potential - e_start)
    i0, b1, c2 = background
    current = sign * (i0 + b1 * distance + c2 * distance**2)
    for e0, slope, width in rises:
        z = sign * (potential - e0)
        rise = slope * width * np.logaddexp(0.0, z / width) if width > 0 else slope * np.maximum(z, 0.0)
        current = current + sign * rise
    return potential, current + rng.normal(0.0, noise_ma, n)


def synthetic_cv(n_cycles=3, *, e_low=0.5, e_high=4.5, e_ox=3.6, e_red=1.2, points=1201, seed=0):
    """A multi-cycle CV: capacitive +-2 uA, oxidation above e_ox, reduction below e_red."""
    rng = np.random.default_rng(seed)
    up = np.linspace(e_low, e_high, points)
    down = up[::-1][1:]
    potentials, currents, cycles = [], [], []
    for cycle in range(1, n_cycles + 1):
        for part, sign in ((up if cycle == 1 else up[1:], 1.0), (down, -1.0)):
            current = sign * 2 * UA * (1 - np.exp(-np.abs(part - (e_low if sign > 0 else e_high)) / 0.05))
            current = current + 4e-3 * 0.02 * np.logaddexp(0.0, (part - e_ox) / 0.02)
            current = current - 3e-3 * 0.02 * np.logaddexp(0.0, (e_red - part) / 0.02)
            potentials.append(part)
            currents.append(current)
            cycles.append(np.full(part.size, cycle))
    potential = np.concatenate(potentials)
    current = np.concatenate(currents) + rng.normal(0, 0.01 * UA, potential.size)
    time = np.concatenate(([0.0], np.cumsum(np.abs(np.diff(potential))))) / 1e-4  # 0.1 mV/s
    return potential, current, time, np.concatenate(cycles)


def synthetic_stepwise(seed=0):
    """Stepwise CV after seed 000: lower cut-off 2.5 V, upper cut-off 2.8 -> 4.0 V by 0.10 V, then
    4.0 -> 5.0 V by 0.05 V, 50 uV/s. Capacitive +-0.05 uA; a passivating decomposition above 3.4 V that
    only flows on potential not reached before; a non-passivating one soaring above 4.20 V (an
    exponential onset at 4.22 V turning into a 100 uA/V ohmic rise)."""
    rng = np.random.default_rng(seed)
    cutoffs = [round(2.8 + 0.1 * k, 2) for k in range(13)] + [round(4.05 + 0.05 * k, 2) for k in range(20)]
    low, step = 2.5, 0.005
    parts, currents = [], []
    reached = low
    for cutoff in cutoffs:
        up = np.append(np.arange(low, cutoff, step), cutoff)
        down = np.append(np.arange(cutoff, low, -step)[1:], low)
        i_up = 5e-5 * (1 - np.exp(-(up - low) / 0.05))
        i_up += np.where((up > reached) & (up > 3.4), 2e-5 * np.exp((up - 3.4) / 0.4), 0.0)
        i_up += 0.1 * 0.01 * np.logaddexp(0.0, (up - 4.22) / 0.01)
        i_down = -5e-5 * (1 - np.exp(-(cutoff - down) / 0.05))
        reached = max(reached, cutoff)
        parts += [up, down]
        currents += [i_up, i_down]
    potential = np.concatenate(parts)
    current = np.concatenate(currents) + rng.normal(0, 2e-7, potential.size)
    time = np.concatenate(([0.0], np.cumsum(np.abs(np.diff(potential))))) / 5e-5
    return potential, current, time, cutoffs


# ---------------------------------------------------------------------------------------- two-line method
SINGLE_CASES = {
    'LiBH4-like softplus': {'e_start': 1.5, 'e_end': 4.0, 'rises': [(2.04, 2e-3, 0.02)]},
    'linear rise (hinge)': {'e_start': 1.5, 'e_end': 4.0, 'rises': [(2.5, 1e-3, 0.0)]},
    'wide exponential knee': {'e_start': 1.5, 'e_end': 4.0, 'rises': [(3.0, 5e-3, 0.05)]},
    'noisy (SNR ~ 20)': {'e_start': 1.5, 'e_end': 4.0, 'rises': [(3.1, 1e-3, 0.03)], 'noise_ma': 5e-5},
}


@pytest.mark.parametrize('case', sorted(SINGLE_CASES))
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_two_line_recovers_single_onset(case, seed):
    kwargs = SINGLE_CASES[case]
    potential, current = synthetic_sweep(**kwargs, seed=seed)
    result = vm.find_onsets(potential, current)
    assert len(result.onsets) == 1, result.sweeps[0].message
    onset = result.onsets[0]
    assert abs(onset.onset_v - kwargs['rises'][0][0]) < 0.02
    assert onset.kind == 'oxidative' and onset.method == 'two_line'
    assert result.oxidative_onset_v == onset.onset_v
    assert result.reductive_onset_v is None


@pytest.mark.parametrize('seed', range(5))
@pytest.mark.parametrize('noise_ma', [3e-6, 2e-5])
def test_two_line_weak_first_onset_before_strong_second(seed, noise_ma):
    """Na4(CB11H12)2(B12H12): a small contribution at 2.93 V, then the large one at 4.07 V."""
    potential, current = synthetic_sweep(
        2.5, 4.5, [(2.93, 5e-4, 0.015), (4.07, 8e-3, 0.02)], noise_ma=noise_ma, seed=seed
    )
    result = vm.find_onsets(potential, current)
    onsets = result.onsets
    assert [o.order for o in onsets] == [1, 2]
    assert abs(onsets[0].onset_v - 2.93) < 0.02
    assert abs(onsets[1].onset_v - 4.07) < 0.02
    # the second onset's background is the continuation of the first onset's faradaic line
    assert onsets[1].background.slope_ma_v == pytest.approx(onsets[0].rise.slope_ma_v, rel=0.2)
    assert onsets[0].rise.v_min <= onsets[1].background.v_min < onsets[1].onset_v
    assert result.to_dict()['n_onsets'] == 2
    assert result.oxidative_onset_v == onsets[0].onset_v


@pytest.mark.parametrize(
    'rises',
    [[(1.90, 1e-3, 0.015), (2.41, 6e-3, 0.015)], [(3.02, 1e-3, 0.01), (3.22, 5e-3, 0.01)]],
    ids=['Na3(BH4)(B12H12) 1.90/2.41', 'Na4(B12H12)(B10H10) 3.02/3.22'],
)
def test_two_line_two_step_onsets_of_the_thesis(rises):
    start = rises[0][0] - 0.4
    potential, current = synthetic_sweep(start, rises[1][0] + 0.6, rises, seed=3)
    onsets = vm.find_onsets(potential, current).onsets
    assert len(onsets) == 2
    for onset, (e0, _, _) in zip(onsets, rises):
        assert abs(onset.onset_v - e0) < 0.02


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_cathodic_sweep_gives_reductive_onset(seed):
    potential, current = synthetic_sweep(3.0, 0.0, [(0.8, 3e-3, 0.02)], seed=seed)
    result = vm.find_onsets(potential, current)
    assert result.oxidative_onset_v is None
    onset = result.onsets[0]
    assert onset.direction == 'cathodic' and onset.kind == 'reductive'
    assert abs(result.reductive_onset_v - 0.8) < 0.02
    # real-frame lines: the reduction current grows more negative as the potential falls
    assert onset.rise.slope_ma_v > 0
    assert onset.current_at_onset_ma < 0
    # the onset is the intersection of the two reported lines
    bg, rise = onset.background, onset.rise
    recomputed = (bg.intercept_ma - rise.intercept_ma) / (rise.slope_ma_v - bg.slope_ma_v)
    assert recomputed == pytest.approx(onset.onset_v, abs=1e-12)


def test_direction_filter_and_both():
    potential, current = synthetic_sweep(3.0, 0.0, [(0.8, 3e-3, 0.02)])
    assert vm.find_onsets(potential, current, direction='anodic').sweeps == ()
    assert vm.find_onsets(potential, current, direction='cathodic').reductive_onset_v is not None


def test_onset_is_reproducible_from_reported_numbers():
    potential, current = synthetic_sweep(1.5, 4.0, [(2.04, 2e-3, 0.02)])
    result = vm.find_onsets(potential, current)
    record = result.to_dict()['onsets'][0]
    a_bg, b_bg = record['background_intercept_ma'], record['background_slope_ma_v']
    a_f, b_f = record['rise_intercept_ma'], record['rise_slope_ma_v']
    assert (a_bg - a_f) / (b_f - b_bg) == pytest.approx(record['onset_v'], abs=1e-12)
    assert record['current_at_onset_ma'] == pytest.approx(a_bg + b_bg * record['onset_v'])
    # refit the reported windows independently
    for prefix in ('background', 'rise'):
        inside = (potential >= record[f'{prefix}_v_min']) & (potential <= record[f'{prefix}_v_max'])
        slope, intercept = np.polyfit(potential[inside], current[inside], 1)
        assert slope == pytest.approx(record[f'{prefix}_slope_ma_v'], rel=1e-6)
        assert intercept == pytest.approx(record[f'{prefix}_intercept_ma'], rel=1e-6, abs=1e-12)
        assert record[f'{prefix}_n_points'] == int(inside.sum())
    assert record['rise_r2'] >= 0.99
    assert record['rise_fit_criterion'] == 'r2'
    assert record['background_fit_criterion'] in ('r2', 'no_curvature')


def test_given_windows_match_numpy_and_report_quality():
    potential, current = synthetic_sweep(1.5, 4.0, [(2.04, 2e-3, 0.02)])
    result = vm.find_onsets(potential, current, background_window_v=(1.6, 1.95), rise_window_v=(2.3, 3.5))
    onset = result.onsets[0]
    assert onset.windows == 'given'
    fits = []
    for low, high in ((1.6, 1.95), (2.3, 3.5)):
        inside = (potential >= low) & (potential <= high)
        fits.append(np.polyfit(potential[inside], current[inside], 1))
    (b_bg, a_bg), (b_f, a_f) = fits
    assert onset.onset_v == pytest.approx((a_bg - a_f) / (b_f - b_bg), rel=1e-9)
    inside = (potential >= 2.3) & (potential <= 3.5)
    r = np.corrcoef(potential[inside], current[inside])[0, 1]
    assert onset.rise.r2 == pytest.approx(r * r, rel=1e-9)
    assert abs(onset.onset_v - 2.04) < 0.02 and onset.fit_ok
    # a rise window across the knee is curved: reported, flagged, not hidden
    curved = vm.find_onsets(
        potential, current, background_window_v=(1.6, 1.95), rise_window_v=(1.95, 2.2), r2_min=0.999
    )
    assert curved.onsets and not curved.onsets[0].fit_ok
    record = curved.onsets[0].to_dict()
    assert record['fit_ok'] is False and 'line_not_straight' in record['quality']
    assert 'line_not_straight' in {flag.rule for flag in curved.flags}


def test_given_windows_for_two_onsets_and_half_given():
    potential, current = synthetic_sweep(2.5, 4.5, [(2.93, 5e-4, 0.015), (4.07, 8e-3, 0.02)])
    both = vm.find_onsets(
        potential, current, background_window_v=[(2.55, 2.85), (3.1, 4.0)], rise_window_v=[(3.1, 4.0), (4.15, 4.5)]
    )
    assert [round(o.onset_v, 2) for o in both.onsets] == [2.93, 4.07]
    only_bg = vm.find_onsets(potential, current, background_window_v=(2.55, 2.85))
    assert len(only_bg.onsets) == 1 and abs(only_bg.onsets[0].onset_v - 2.93) < 0.02
    assert only_bg.onsets[0].windows == 'background given, rise auto'
    only_rise = vm.find_onsets(potential, current, rise_window_v=(4.15, 4.5))
    assert len(only_rise.onsets) == 1 and only_rise.onsets[0].windows == 'rise given, background auto'
    assert abs(only_rise.onsets[0].onset_v - 4.07) < 0.03
    with pytest.raises(SettingsError, match='give one of each per onset'):
        vm.find_onsets(potential, current, background_window_v=[(2.55, 2.85)], rise_window_v=[(3.1, 4.0), (4.15, 4.5)])


def test_given_parallel_or_far_lines_give_no_made_up_onset():
    potential = np.linspace(2.0, 4.0, 401)
    current = 1e-4 + 1e-5 * potential
    result = vm.find_onsets(potential, current, background_window_v=(2.0, 2.5), rise_window_v=(3.0, 3.5))
    assert result.onsets == []
    assert 'no onset' in result.sweeps[0].message or 'parallel' in result.sweeps[0].message
    assert 'onset_v' not in result.to_dict()['sweeps'][0] and 'oxidative_onset_v' not in result.to_dict()


def test_max_onsets_and_window_restriction():
    potential, current = synthetic_sweep(2.5, 4.5, [(2.93, 5e-4, 0.015), (4.07, 8e-3, 0.02)])
    assert len(vm.find_onsets(potential, current, max_onsets=1).onsets) == 1
    upper = vm.find_onsets(potential, current, window_v=(3.3, 4.5))
    assert len(upper.onsets) == 1 and abs(upper.onsets[0].onset_v - 4.07) < 0.02
    nothing = vm.find_onsets(potential, current, window_v=(5.0, 6.0))
    assert nothing.sweeps[0].status == 'not_analysed' and 'window_v' in nothing.sweeps[0].message


def test_isolated_spikes_do_not_move_the_onset():
    potential, current = synthetic_sweep(1.5, 4.0, [(2.5, 2e-3, 0.02)], seed=4)
    clean = vm.find_onsets(potential, current).oxidative_onset_v
    spiky = current.copy()
    spiky[[300, 301, 700, 1500]] += [0.3, 1.0, -0.5, 0.4]
    result = vm.find_onsets(potential, spiky)
    assert result.sweeps[0].n_spikes == 4
    assert result.oxidative_onset_v == pytest.approx(clean, abs=0.005)


def test_area_gives_current_densities():
    potential, current = synthetic_sweep(1.5, 4.0, [(2.04, 2e-3, 0.02)])
    result = vm.find_onsets(potential, current, area_cm2=1.13)
    onset = result.onsets[0]
    assert onset.current_density_at_onset_ma_cm2 == pytest.approx(onset.current_at_onset_ma / 1.13)
    assert result.to_dict()['area_cm2'] == 1.13


# ---------------------------------------------------------------------------------------- threshold / derivative
def test_threshold_onset_moves_with_the_threshold():
    """A threshold alone misleads: on the same sweep, 1 -> 50 uA moves the onset by far more than 0.1 V."""
    potential, current = synthetic_sweep(1.5, 4.0, [(2.04, 5e-2, 0.02)], noise_ma=1e-5)
    two_line = vm.find_onsets(potential, current).oxidative_onset_v
    onsets = {}
    for threshold_ua in (1, 10, 50):
        result = vm.find_onsets(potential, current, method='threshold', threshold_ma=threshold_ua * UA)
        onsets[threshold_ua] = result.oxidative_onset_v
        assert result.onsets[0].method == 'threshold'
        assert result.to_dict()['threshold_ma'] == threshold_ua * UA
    assert onsets[1] < onsets[10] < onsets[50]
    assert onsets[50] - onsets[1] > 0.1
    # with a 50 uA background (capacitive at a fast scan), 1 uA fires at the start of the sweep: no onset
    shifted = vm.find_onsets(potential, current + 0.05, method='threshold', threshold_ma=1 * UA)
    assert shifted.onsets == [] and 'from the start' in shifted.sweeps[0].message
    assert abs(two_line - 2.04) < 0.02


def test_threshold_density_background_subtraction_and_consecutive_points():
    potential, current = synthetic_sweep(1.5, 4.0, [(2.04, 5e-2, 0.02)], noise_ma=1e-5)
    by_density = vm.find_onsets(potential, current, method='threshold', threshold_ma_cm2=10 * UA, area_cm2=0.5)
    by_current = vm.find_onsets(potential, current, method='threshold', threshold_ma=5 * UA)
    assert by_density.oxidative_onset_v == pytest.approx(by_current.oxidative_onset_v)
    subtracted = vm.find_onsets(potential, current, method='threshold', threshold_ma=5 * UA, subtract_background=True)
    record = subtracted.to_dict()['onsets'][0]
    assert record['background_subtracted'] is True and 'background_slope_ma_v' in record
    assert subtracted.oxidative_onset_v != by_current.oxidative_onset_v
    spiky = current.copy()
    spiky[200] = 1.0  # one point far above any threshold, well before the onset
    naive = vm.find_onsets(potential, spiky, method='threshold', threshold_ma=5 * UA, k_consecutive=1, despike=False)
    assert naive.oxidative_onset_v == pytest.approx(potential[200], abs=0.002)
    robust = vm.find_onsets(potential, spiky, method='threshold', threshold_ma=5 * UA, k_consecutive=3, despike=False)
    assert robust.oxidative_onset_v == pytest.approx(by_current.oxidative_onset_v)


def test_derivative_method_is_labelled_and_near_the_onset():
    potential, current = synthetic_sweep(1.5, 4.0, [(2.5, 2e-3, 0.02)], noise_ma=1e-5)
    result = vm.find_onsets(potential, current, method='derivative')
    onset = result.onsets[0]
    assert onset.method == 'derivative'
    assert 2.4 < onset.onset_v < 2.55
    record = onset.to_dict()
    assert record['k_sigma'] == 5.0 and record['background_derivative_std_ma_v'] > 0
    flat = vm.find_onsets(*synthetic_sweep(1.5, 4.0, [], noise_ma=1e-5), method='derivative')
    assert flat.onsets == [] and 'no onset' in flat.sweeps[0].message


def test_a_decaying_anodic_current_is_not_a_reductive_onset():
    """On a downward sweep an anodic current that falls looks like a rise in the mirrored frame; the
    onset needs a current of the reaction's sign (cathodic), for both the two-line and derivative methods."""
    potential = np.linspace(4.0, 2.0, 2001)
    noise = np.random.default_rng(0).normal(0, 1e-6, potential.size)
    anodic = 5e-3 - 2e-3 * 0.02 * np.logaddexp(0.0, (3.2 - potential) / 0.02) + noise  # > 0 throughout
    assert vm.find_onsets(potential, anodic).onsets == []
    derivative = vm.find_onsets(potential, anodic, method='derivative', background_window_v=(3.4, 4.0))
    assert derivative.onsets == [] and 'sign of the reaction' in derivative.sweeps[0].message
    cathodic = anodic - 6e-3  # the same shape, now a reduction current
    assert abs(vm.find_onsets(potential, cathodic).reductive_onset_v - 3.2) < 0.02
    shifted = vm.find_onsets(potential, cathodic, method='derivative', background_window_v=(3.4, 4.0))
    assert 3.2 < shifted.reductive_onset_v < 3.35


# ---------------------------------------------------------------------------------------- multi-cycle CV
def test_multi_cycle_cv_gives_onsets_per_cycle_and_direction():
    potential, current, time, cycles = synthetic_cv(3)
    result = vm.find_onsets(potential, current, time_s=time, cycle_index=cycles)
    directions = [(s.sweep.direction, s.sweep.cycle_index) for s in result.sweeps]
    assert directions == [(direction, cycle) for cycle in (1, 2, 3) for direction in ('anodic', 'cathodic')]
    for sweep in result.sweeps:
        assert sweep.onsets, sweep.message
        expected = 3.6 if sweep.sweep.direction == 'anodic' else 1.2
        assert abs(sweep.onsets[0].onset_v - expected) < 0.02
    assert result.scan_rate_mv_s == pytest.approx(0.1, rel=1e-3)
    assert result.scan_rate_source == 'estimated from time_s'
    only_two = vm.find_onsets(potential, current, cycle_index=cycles, cycles=[2], direction='cathodic')
    assert [(s.sweep.cycle_index, s.sweep.direction) for s in only_two.sweeps] == [(2, 'cathodic')]
    # without the instrument counter, cycles are counted per direction
    derived = vm.find_onsets(potential, current)
    assert [s.sweep.cycle_index for s in derived.sweeps] == [1, 1, 2, 2, 3, 3]


def test_result_dict_is_flat_json_and_arrays_cover_the_lines():
    potential, current, time, cycles = synthetic_cv(2)
    result = vm.find_onsets(potential, current, time_s=time, cycle_index=cycles, area_cm2=1.13)
    record = result.to_dict()
    text = json.dumps(record)
    assert 'NaN' not in text and 'Infinity' not in text
    assert record['method'] == 'two_line' and record['r2_min'] == 0.99
    assert record['n_onsets'] == len(record['onsets']) == 4
    assert record['oxidative_onset_v'] == record['onsets'][0]['onset_v']
    for onset in record['onsets']:
        assert all(not isinstance(value, (dict, list)) for value in onset.values())
        assert onset['background_v_min'] < onset['background_v_max']
    arrays = result.arrays()
    assert arrays['onset_v'].shape == (4,)
    for k in range(1, 5):
        for name in ('background', 'rise'):
            assert arrays[f'onset{k}_{name}_v'].shape == arrays[f'onset{k}_{name}_ma'].shape
    line = result.onsets[0].background
    expected = line.intercept_ma + line.slope_ma_v * arrays['onset1_background_v']
    assert np.allclose(arrays['onset1_background_ma'], expected)


# ---------------------------------------------------------------------------------------- segmentation
def test_segment_sweeps_tolerates_small_reversals():
    rng = np.random.default_rng(1)
    up = np.linspace(1.0, 3.0, 500)
    potential = np.concatenate((up, up[::-1][1:], up[1:]))
    potential = potential + rng.normal(0, 0.002, potential.size)  # reversals of a few mV
    sweeps = vm.segment_sweeps(potential, time_s=np.arange(potential.size) * 10.0)
    assert [s.direction for s in sweeps] == ['anodic', 'cathodic', 'anodic']
    assert [s.cycle_index for s in sweeps] == [1, 1, 2]
    assert sweeps[0].stop - 1 == sweeps[1].start  # the vertex closes one sweep and opens the next
    assert abs(sweeps[0].potential_end_v - 3.0) < 0.01
    assert sweeps[0].scan_rate_mv_s == pytest.approx(2.0 / 499 / 10 * 1000, rel=0.01)
    assert json.dumps([s.to_dict() for s in sweeps])


def test_segment_sweeps_drops_edge_transients():
    potential = np.concatenate(([-0.25], np.linspace(-0.06, -4.0, 300)))  # EC-Lab's first LSV point
    sweeps = vm.segment_sweeps(potential)
    assert len(sweeps) == 1 and sweeps[0].direction == 'cathodic' and sweeps[0].start == 1


def test_segment_sweeps_rejects_garbage_and_constant_potential():
    rng = np.random.default_rng(0)
    with pytest.raises(VoltammetryError, match='not a voltammetric sweep'):
        vm.segment_sweeps(rng.uniform(1.0, 4.0, 500))
    with pytest.raises(VoltammetryError, match='does not vary'):
        vm.segment_sweeps(np.full(100, 3.0))
    with pytest.raises(VoltammetryError, match='does not vary'):
        vm.segment_sweeps(3.0 + rng.normal(0, 1e-4, 100))
    with pytest.raises(VoltammetryError, match='not a voltammetric sweep'):
        vm.find_onsets(rng.uniform(1.0, 4.0, 500), rng.normal(0, 1e-3, 500))


# ---------------------------------------------------------------------------------------- bad input, no onset
@pytest.mark.parametrize(
    'potential, current, match',
    [
        (np.linspace(1, 2, 5), np.zeros(5), 'too few points'),
        (np.linspace(1, 2, 50), np.zeros(49), 'length 49 differs'),
        (np.linspace(1, 2, 50).reshape(5, 10), np.zeros(50), 'one-dimensional'),
        (np.linspace(1, 2, 50), np.zeros((50, 2)), 'one-dimensional'),
        (np.where(np.arange(50) == 7, np.nan, np.linspace(1, 2, 50)), np.zeros(50), r'potential_v: 1 non-finite.*7'),
        (np.linspace(1, 2, 50), np.where(np.arange(50) == 3, np.inf, 0.0), 'current_ma: 1 non-finite'),
        (['a'] * 50, np.zeros(50), 'not numeric'),
    ],
)
def test_bad_input_raises_clear_errors(potential, current, match):
    with pytest.raises(VoltammetryError, match=match):
        vm.find_onsets(potential, current)


def test_bad_parameters_raise_clear_errors():
    potential, current = synthetic_sweep(1.5, 4.0, [(2.04, 2e-3, 0.02)])
    settings_cases = [
        ({'direction': 'up'}, 'direction'),
        ({'method': 'tangent'}, 'method'),
        ({'method': 'threshold'}, 'exactly one of threshold_ma'),
        ({'method': 'threshold', 'threshold_ma': -1}, 'threshold_ma'),
        ({'r2_min': 1.5}, 'r2_min'),
        ({'background_window_v': (3.0, 2.0)}, 'v_min < v_max'),
        ({'min_significance_sigma': 0}, 'min_significance_sigma'),
        ({'noise_margin': 10}, 'known: method'),  # former keyword, now min_significance_sigma
    ]
    for kwargs, match in settings_cases:
        with pytest.raises(SettingsError, match=match):
            vm.find_onsets(potential, current, **kwargs)
    input_cases = [
        ({'method': 'threshold', 'threshold_ma_cm2': 0.01}, 'needs area_cm2'),
        ({'area_cm2': 0}, 'area_cm2'),
        ({'background_window_v': (5.0, 6.0)}, 'only 0 point'),
        ({'time_s': np.linspace(10, 0, potential.size)}, 'time_s: decreases'),
        ({'working_electrode': {'carbon_fraction': 0.25}}, 'unknown key'),
        ({'sweep': 3}, 'no sweep'),
    ]
    for kwargs, match in input_cases:
        with pytest.raises(VoltammetryError, match=match):
            vm.find_onsets(potential, current, **kwargs)
    assert issubclass(VoltammetryError, ValueError) and issubclass(SettingsError, ValueError)


@pytest.mark.parametrize('noise_ma', [0.0, 3e-6, 1e-4])
def test_flat_sweep_has_no_onset(noise_ma):
    potential, current = synthetic_sweep(2.0, 4.0, [], noise_ma=noise_ma, seed=5)
    for method, extra in (('two_line', {}), ('threshold', {'threshold_ma': 1 * UA}), ('derivative', {})):
        result = vm.find_onsets(potential, current, method=method, **extra)
        assert result.onsets == []
        assert result.sweeps[0].status == 'no_onset'
        assert 'no onset within the window' in result.sweeps[0].message
        record = result.to_dict()
        assert 'oxidative_onset_v' not in record and record['n_onsets'] == 0
        assert 'first_onset_v' not in record['sweeps'][0]


def test_too_short_sweep_is_reported_not_analysed():
    potential = np.concatenate((np.linspace(2.0, 4.0, 400), np.linspace(4.0, 3.9, 8)[1:]))
    current = np.full(potential.size, 1e-4)
    result = vm.find_onsets(potential, current)
    statuses = [(s.sweep.direction, s.status) for s in result.sweeps]
    assert statuses == [('anodic', 'no_onset'), ('cathodic', 'not_analysed')]
    assert 'too few points' in result.sweeps[1].message
    assert 'reductive_onset_v' not in result.to_dict()


@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    e0=st.floats(2.3, 3.2),
    slope=st.floats(5e-4, 5e-3),
    background_slope=st.floats(-2e-5, 5e-5),
    seed=st.integers(0, 1000),
)
def test_property_hinge_onsets_are_found_or_honestly_absent(e0, slope, background_slope, seed):
    potential, current = synthetic_sweep(
        1.8, 4.0, [(e0, slope, 0.01)], background=(2e-5, background_slope, 0.0), noise_ma=1e-5, seed=seed
    )
    result = vm.find_onsets(potential, current)
    assert len(result.onsets) == 1
    assert abs(result.onsets[0].onset_v - e0) < 0.02


# ---------------------------------------------------------------------------------------- validity rules
def test_working_electrode_rules_reproduce_the_thesis_numbers():
    super_p = {
        'carbon_density_g_cm3': 0.16,
        'electrolyte_density_g_cm3': 0.666,
        'carbon_bet_m2_g': 58,
        'composite_mass_mg': 5,
    }
    assert vm.carbon_volume_fraction(0.25, 0.16, 0.666) == pytest.approx(0.581, abs=0.001)
    assert vm.carbon_volume_fraction(0.25, 1.3, 0.666) == pytest.approx(0.146, abs=0.001)  # MCMB, tap density
    assert vm.carbon_surface_area_cm2(2, 0.25, 58) == pytest.approx(290)  # 0.5 mg Super P ("292 cm2")
    assert vm.carbon_surface_area_cm2(5, 0.10, 58) == pytest.approx(290)

    electrode = dict(carbon_mass_fraction=0.25, **super_p)
    flags = {f.rule: f for f in vm.check_working_electrode(electrode, scan_rate_mv_s=0.010)}
    assert flags['carbon_volume_fraction'].passed and flags['carbon_surface_area'].passed and flags['scan_rate'].passed
    assert flags['carbon_surface_area'].value == pytest.approx(725)

    mcmb = vm.WorkingElectrode(0.25, 1.3, 0.666, 5, 1.2, carbon_name='MCMB', carbon_density_kind='tap')
    flags = {f.rule: f for f in vm.check_working_electrode(mcmb, scan_rate_mv_s=0.1)}
    assert flags['carbon_volume_fraction'].passed is False and '2.61' in flags['carbon_volume_fraction'].reason
    assert flags['carbon_surface_area'].passed is False and flags['carbon_surface_area'].value == pytest.approx(15)
    assert flags['scan_rate'].passed is False and '100 uV/s' in flags['scan_rate'].reason

    fifty = {f.rule: f for f in vm.check_working_electrode(dict(carbon_mass_fraction=0.5, **super_p))}
    assert fifty['carbon_volume_fraction'].passed is False and fifty['carbon_volume_fraction'].value > 0.8
    assert fifty['scan_rate'].passed is None and 'not evaluated' in fifty['scan_rate'].reason
    ks6_electrode = {'carbon_mass_fraction': 0.25, 'carbon_bet_m2_g': 16, 'composite_mass_mg': 5}
    ks6 = {f.rule: f for f in vm.check_working_electrode(ks6_electrode)}
    assert ks6['carbon_surface_area'].passed is False  # 200 cm2 is not > 200 cm2
    assert ks6['carbon_volume_fraction'].passed is None
    bare = {f.rule: f for f in vm.check_working_electrode({'carbon_volume_fraction': 0.0})}
    assert bare['carbon_volume_fraction'].passed is False and '3.10 V' in bare['carbon_volume_fraction'].reason
    assert json.dumps([f.to_dict() for f in vm.check_working_electrode()])
    with pytest.raises(VoltammetryError, match='carbon_mass_fraction'):
        vm.carbon_volume_fraction(1.5, 0.16, 0.666)


def test_flags_travel_with_the_onset_result():
    potential, current, time, _cycles = synthetic_cv(1)
    result = vm.find_onsets(
        potential,
        current,
        time_s=time,
        working_electrode={'carbon_volume_fraction': 0.58, 'carbon_surface_area_cm2': 750},
    )
    flags = {f['rule']: f for f in result.to_dict()['flags']}
    assert flags['carbon_volume_fraction']['passed'] is True
    assert flags['scan_rate']['passed'] is False and flags['scan_rate']['value'] == pytest.approx(0.1, rel=1e-3)
    given_rate = vm.find_onsets(potential, current, scan_rate_mv_s=0.01)
    assert given_rate.scan_rate_source == 'given'
    assert {f.rule: f for f in given_rate.flags}['scan_rate'].passed is True


# ---------------------------------------------------------------------------------------- stepwise CV
def test_stepwise_cv_finds_the_soaring_cutoff():
    potential, current, time, cutoffs = synthetic_stepwise()
    result = vm.analyse_stepwise_cv(potential, current, time_s=time)
    assert [round(s.upper_cutoff_v, 3) for s in result.steps] == cutoffs
    assert result.soaring_cutoff_v == pytest.approx(4.25)
    steps = {round(s.upper_cutoff_v, 2): s for s in result.steps}
    assert steps[4.25].soaring and sum(s.soaring for s in result.steps) == 1
    assert steps[2.9].cutoff_increment_v == pytest.approx(0.1) and steps[4.1].cutoff_increment_v == pytest.approx(0.05)
    # passivation below 4.2 V: the next scan passes less charge below the previous cut-off
    for cutoff in (3.6, 3.8, 4.0, 4.1, 4.2):
        assert steps[cutoff].passivation_charge_ratio < 0.97
        assert steps[cutoff].passivation_current_ratio < 0.9
        assert steps[cutoff].soar_ratio < 3
    # irreversible decomposition: almost no cathodic charge on the reverse scan
    assert steps[4.5].reverse_charge_ratio < 0.1
    assert steps[3.0].reverse_charge_ratio == pytest.approx(1.0, abs=0.05)  # capacitive only
    assert steps[2.8].soar_ratio is None and steps[2.8].passivation_charge_ratio is None
    record = result.to_dict()
    assert record['charge_unit'] == 'mAh' and record['soaring_cutoff_v'] == pytest.approx(4.25)
    json.dumps(record)
    arrays = result.arrays()
    assert arrays['upper_cutoff_v'].shape == (len(cutoffs),) and np.isnan(arrays['soar_ratio'][0])


def test_stepwise_cv_without_time_and_its_errors():
    potential, current, time, _ = synthetic_stepwise()
    from_rate = vm.analyse_stepwise_cv(potential, current, scan_rate_mv_s=0.05)
    from_time = vm.analyse_stepwise_cv(potential, current, time_s=time)
    assert from_rate.soaring_cutoff_v == from_time.soaring_cutoff_v
    assert from_rate.steps[10].anodic_charge_mah == pytest.approx(from_time.steps[10].anodic_charge_mah, rel=1e-6)
    with pytest.raises(VoltammetryError, match='time_s or scan_rate_mv_s'):
        vm.analyse_stepwise_cv(potential, current)
    triangle = np.concatenate(
        [np.r_[np.linspace(2.5, top, 200)[:-1], np.linspace(top, 2.5, 200)[:-1]] for top in (4.0, 3.5)]
    )
    with pytest.raises(VoltammetryError, match='upper cut-off decreases'):
        vm.analyse_stepwise_cv(triangle, np.zeros(triangle.size), scan_rate_mv_s=0.05)
    no_soar = vm.analyse_stepwise_cv(potential, np.full(potential.size, 1e-6), time_s=time)
    assert no_soar.soaring_cutoff_v is None and 'soaring_cutoff_v' not in no_soar.to_dict()


# ---------------------------------------------------------------------------------------- real instrument files
def _read(shared_file, name):
    parsers = pytest.importorskip('aiida_ssb.parsers')
    return parsers.read(shared_file(f'biologic/{name}'))


@pytest.mark.parametrize('name', ['cv.mpt', 'cv.mpr'])
def test_real_cv_two_line(shared_file, name):
    """Na | Na2B12H12 | Na2B12H12+Super P, VMP3, 1.5-5.5 V at 0.1 mV/s (EC-Lab file of Asakura's). Its anodic
    current accelerates smoothly from ~3 V with very little noise: no part is straight within the noise, so the
    lines are straight by the thesis' R2 rule, and the onset is reported with a wide band and flagged."""
    measurement = _read(shared_file, name)
    result = vm.find_onsets_in_measurement(measurement)
    assert [(s.sweep.direction, s.sweep.cycle_index) for s in result.sweeps] == [
        ('cathodic', 1),
        ('anodic', 1),
        ('cathodic', 1),
        ('anodic', 2),
    ]
    onset = result.onsets[0]
    assert onset.sweep_index == 1 and onset.direction == 'anodic' and onset.headline
    assert 3.1 < result.oxidative_onset_v < 3.5
    assert onset.band_low_v <= onset.onset_v <= onset.band_high_v and onset.band_width_v > 0.05
    assert set(onset.quality.split(',')) >= {'wide_band', 'not_straight_within_noise'}
    assert onset.background.r2 >= 0.99 and onset.rise.r2 >= 0.99
    assert onset.background.v_max < onset.onset_v < onset.rise.v_max
    assert result.reductive_onset_v is None  # the reverse sweep (currents of ~10 mA, noisy) has no reductive onset
    assert result.scan_rate_mv_s == pytest.approx(0.1, rel=1e-3)
    rules = {f.rule: f for f in result.flags}
    assert rules['scan_rate'].passed is False and rules['wide_band'].passed is False


def test_real_cv_thresholds_reproduce_the_anchors(shared_file):
    """anchors-analysis 4.2: 1, 10, 50 uA give 3.48, 5.26, 5.45 V: the first recorded point of the first
    anodic sweep whose raw current exceeds the threshold (k = 1, no spike removal). The 50 uA value
    comes from a two-point glitch (274 and 1037 uA at 5.450 and 5.458 V); with 3 consecutive points, or
    spikes removed, the current (13.6 uA at 5.5 V) never reaches 50 uA."""
    columns = _read(shared_file, 'cv.mpt').columns
    args = (columns['voltage_v'], columns['current_ma'])
    naive = {'method': 'threshold', 'direction': 'anodic', 'k_consecutive': 1, 'despike': False, 'interpolate': False}
    for threshold_ua, expected in ((1, 3.48), (10, 5.26), (50, 5.45)):
        result = vm.find_onsets(*args, threshold_ma=threshold_ua * UA, **naive)
        assert round(result.oxidative_onset_v, 2) == expected
    interpolated = vm.find_onsets(*args, threshold_ma=1 * UA, **{**naive, 'interpolate': True})
    assert interpolated.oxidative_onset_v == pytest.approx(3.4758, abs=1e-3)
    robust = vm.find_onsets(*args, method='threshold', direction='anodic', threshold_ma=50 * UA)
    assert robust.oxidative_onset_v is None and 'never exceeds' in robust.sweeps[0].message
    derivative = vm.find_onsets(*args, method='derivative', direction='anodic')
    assert derivative.oxidative_onset_v == pytest.approx(2.95, abs=0.01)


def test_real_cathodic_lsv_gives_a_reductive_onset(shared_file):
    """SP-240, cathodic LSV at 20 mV/s from -0.06 to -4 V: flat noisy background, a rounded knee near -1.5 V,
    then a reduction current rising almost linearly."""
    for name in ('lsv.mpt', 'lsv.mpr'):
        measurement = _read(shared_file, name)
        result = vm.find_onsets_in_measurement(measurement)
        assert len(result.sweeps) == 1 and result.sweeps[0].sweep.direction == 'cathodic'
        (onset,) = result.onsets
        assert onset.kind == 'reductive' and onset.headline
        assert -1.6 < result.reductive_onset_v < -1.45
        assert onset.band_low_v <= onset.onset_v <= onset.band_high_v
        assert onset.background.criterion == 'no_curvature'  # flat noisy background: R2 measures nothing
        assert onset.background.v_max > -0.5 and onset.background.v_max > onset.onset_v > onset.rise.v_max
        assert onset.rise.r2 > 0.99 and onset.rise.slope_ma_v > 40
        assert onset.significance_sigma > 10
        assert result.scan_rate_mv_s == pytest.approx(20.0, rel=1e-3)
        json.dumps(result.to_dict())
