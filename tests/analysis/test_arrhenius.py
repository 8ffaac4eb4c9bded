"""Arrhenius fits against synthetic data with known activation energies."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aiida_ssb.analysis.arrhenius import (
    EV_TO_KJ_PER_MOL,
    K_B_EV_PER_K,
    ArrheniusError,
    curvature_p_value,
    fit_arrhenius,
    linear_fit,
)
from aiida_ssb.demo_data.ncb_conductivity import NcbConductivity
from aiida_ssb.exceptions import AnalysisError

T0 = 273.15


def sigma_t_law(t_c, ea_ev, sigma_25c):
    """sigma(T) with sigma T = A exp(-Ea / kT), scaled so that sigma(25 C) = sigma_25c."""
    t = np.asarray(t_c, dtype=float) + T0
    ln_a = np.log(sigma_25c * (25 + T0)) + ea_ev / (K_B_EV_PER_K * (25 + T0))
    return np.exp(ln_a - ea_ev / (K_B_EV_PER_K * t)) / t


def two_regimes(t_c, knee_c=10.0, ea_low=0.671, ea_high=0.205, sigma_25c=4e-3):
    """Seed 004 MM-NCB: 671 meV below and 205 meV above a knee, continuous at the knee."""
    t = np.asarray(t_c, dtype=float) + T0
    tk = knee_c + T0
    ln_a_high = np.log(sigma_25c * (25 + T0)) + ea_high / (K_B_EV_PER_K * (25 + T0))
    ln_a_low = ln_a_high - ea_high / (K_B_EV_PER_K * tk) + ea_low / (K_B_EV_PER_K * tk)
    y = np.where(t < tk, ln_a_low - ea_low / (K_B_EV_PER_K * t), ln_a_high - ea_high / (K_B_EV_PER_K * t))
    return np.exp(y) / t


def test_constants():
    assert K_B_EV_PER_K == pytest.approx(8.617333e-5, rel=1e-6)
    assert EV_TO_KJ_PER_MOL == pytest.approx(96.485, rel=1e-5)


def test_single_regime_recovers_ea_and_sigma25():
    t = np.arange(-20.0, 101.0, 10.0)
    rng = np.random.default_rng(1)
    sigma = sigma_t_law(t, 0.205, 4e-3) * np.exp(0.01 * rng.standard_normal(t.size))
    result = fit_arrhenius(t, sigma)
    assert result.activation_energy_ev == pytest.approx(0.205, abs=0.005)
    d = result.to_dict()
    json.dumps(d, allow_nan=False)
    assert d['activation_energy_kj_mol'] == pytest.approx(d['activation_energy_ev'] * 96.485332)
    assert d['activation_energy_stderr_ev'] < 0.003
    assert d['prefactor_unit'] == 'S cm^-1 K' and 'prefactor_s_cm_k' in d
    assert d['prefactor_s_cm_k'] == pytest.approx(np.exp(d['ln_prefactor']))
    assert d['conductivity_at_reference_s_cm'] == pytest.approx(4e-3, rel=0.02)
    assert 0 < d['conductivity_at_reference_stderr_s_cm'] < 1e-4
    assert d['reference_extrapolated'] is False and d['r_squared'] > 0.999
    assert d['regimes'][0]['window_source'] == 'all' and d['n_regimes'] == 1


def test_noise_free_data_are_exact_in_both_forms():
    t = np.linspace(0, 100, 6)
    sigma = sigma_t_law(t, 0.4, 1e-4)
    assert fit_arrhenius(t, sigma).activation_energy_ev == pytest.approx(0.4, rel=1e-10)
    # sigma = sigma0 exp(-Ea/kT) exactly
    t_k = t + T0
    pure = 10.0 * np.exp(-0.3 / (K_B_EV_PER_K * t_k))
    result = fit_arrhenius(t, pure, form='sigma')
    assert result.activation_energy_ev == pytest.approx(0.3, rel=1e-10)
    assert result.to_dict()['prefactor_s_cm'] == pytest.approx(10.0, rel=1e-8)
    assert result.to_dict()['prefactor_unit'] == 'S cm^-1'


def test_standard_error_matches_monte_carlo():
    t = np.arange(0.0, 101.0, 10.0)
    values, errors = [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        r = fit_arrhenius(t, sigma_t_law(t, 0.3, 1e-3) * np.exp(0.02 * rng.standard_normal(t.size)))
        values.append(r.activation_energy_ev)
        errors.append(r.activation_energy_stderr_ev)
    assert np.mean(errors) == pytest.approx(np.std(values, ddof=1), rel=0.2)


def three_regimes(t_c, knees_c=(-20.0, 40.0), energies=(0.60, 0.40, 0.20), sigma_25c=1e-3):
    """Continuous piecewise Arrhenius law with three activation energies (low T first)."""
    t = np.asarray(t_c, dtype=float) + T0
    y = np.empty_like(t)
    ln_a = np.log(sigma_25c * (25 + T0)) + energies[1] / (K_B_EV_PER_K * (25 + T0))  # the middle regime through 25 C
    low_k, high_k = knees_c[0] + T0, knees_c[1] + T0
    ln_low = ln_a - energies[1] / (K_B_EV_PER_K * low_k) + energies[0] / (K_B_EV_PER_K * low_k)
    ln_high = ln_a - energies[1] / (K_B_EV_PER_K * high_k) + energies[2] / (K_B_EV_PER_K * high_k)
    y = np.where(t < low_k, ln_low - energies[0] / (K_B_EV_PER_K * t), ln_a - energies[1] / (K_B_EV_PER_K * t))
    y = np.where(t > high_k, ln_high - energies[2] / (K_B_EV_PER_K * t), y)
    return np.exp(y) / t


def test_number_of_regimes_by_evidence_over_noisy_families():
    """One, two and three regimes, 1 % noise, 40 repeats each: the evidence keeps the true number of regimes in
    at least 95 % of them and recovers every Ea within 0.005 eV where it does."""
    rng = np.random.default_rng(2)
    t = np.arange(-60.0, 101.0, 7.5)  # 22 points
    laws = {
        1: (lambda tc: sigma_t_law(tc, 0.35, 1e-3), [0.35]),
        2: (two_regimes, [0.671, 0.205]),
        3: (three_regimes, [0.60, 0.40, 0.20]),
    }
    for n, (law, energies) in laws.items():
        right = 0
        for _ in range(40):
            result = fit_arrhenius(t, law(t) * np.exp(0.01 * rng.standard_normal(t.size)))
            if len(result.regimes) == n:
                right += 1
                found = sorted((r.t_min_c, r.activation_energy_ev) for r in result.regimes)
                assert [e for _, e in found] == pytest.approx(energies, abs=0.005 if n < 3 else 0.02)
        assert right >= 38, (n, right)


def test_two_regimes_by_evidence_with_the_knee_and_the_scores():
    t = np.arange(-60.0, 101.0, 10.0)
    rng = np.random.default_rng(0)
    sigma = two_regimes(t) * np.exp(0.01 * rng.standard_normal(t.size))
    result = fit_arrhenius(t, sigma)
    low, high = result.regimes
    assert low.activation_energy_ev == pytest.approx(0.671, abs=0.005)
    assert high.activation_energy_ev == pytest.approx(0.205, abs=0.005)
    assert result.knee_temperature_c == pytest.approx(10.0, abs=3.0)
    assert low.t_max_c <= 10.0 <= high.t_min_c + 10
    # the headline is the regime containing 25 C
    assert result.headline is high and result.activation_energy_ev == high.activation_energy_ev
    d = result.to_dict()
    assert d['conductivity_at_reference_s_cm'] == pytest.approx(4e-3, rel=0.02)
    assert d['conductivity_at_reference_low_s_cm'] < 4e-3 < d['conductivity_at_reference_high_s_cm']
    assert d['knee_temperature_c'] == result.knee_temperature_c
    assert [r['window_source'] for r in d['regimes']] == ['evidence', 'evidence']
    (selection,) = d['regime_selection']
    assert selection['n_regimes'] == 2 and 'F-test' in selection['reason']
    scores = {score['n_regimes']: score for score in selection['scores']}
    assert scores[2]['f_p_value'] < 0.01 and scores[2]['bic'] < scores[1]['bic']
    assert d['activation_energy_low_ev'] < 0.205 < d['activation_energy_high_ev']
    arrays = result.arrays()
    assert set(arrays['regime_index']) == {0.0, 1.0}
    assert arrays['fit_ln_sigma_t'].size == arrays['fit_inverse_temperature_1000_per_k'].size == 40
    # forced numbers of regimes; 'auto' (the former name) is two
    assert len(fit_arrhenius(t, sigma, split='none').regimes) == 1
    assert [r.window_source for r in fit_arrhenius(t, sigma, split='auto').regimes] == ['forced', 'forced']


def test_weighted_regression_interval_of_ea_covers_the_truth():
    """Per-point relative errors known: the 95 % interval of Ea covers the truth in about 95 % of repeats; a
    stated geometry uncertainty widens the prefactor's interval, not Ea's."""
    t = np.arange(-20.0, 101.0, 20.0)
    stderr = np.full(t.size, 0.01)
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(300):
        sigma = sigma_t_law(t, 0.3, 1e-3) * np.exp(stderr * rng.standard_normal(t.size))
        d = fit_arrhenius(t, sigma, stderr_rel=stderr, split='none').to_dict()
        hits += d['activation_energy_low_ev'] <= 0.3 <= d['activation_energy_high_ev']
    assert 0.90 <= hits / 300 <= 0.99
    assert d['weighted'] is True and 'reduced_chi2' in d
    sigma = sigma_t_law(t, 0.3, 1e-3) * np.exp(stderr * rng.standard_normal(t.size))
    plain = fit_arrhenius(t, sigma, stderr_rel=stderr, split='none').to_dict()
    geometry = fit_arrhenius(t, sigma, stderr_rel=stderr, split='none', systematic_rel=0.03).to_dict()
    assert geometry['activation_energy_stderr_ev'] == plain['activation_energy_stderr_ev']
    assert geometry['ln_prefactor_stderr'] == pytest.approx(np.hypot(plain['ln_prefactor_stderr'], 0.03))
    assert geometry['prefactor_high_s_cm_k'] / geometry['prefactor_low_s_cm_k'] > (
        plain['prefactor_high_s_cm_k'] / plain['prefactor_low_s_cm_k']
    )


def test_automatic_path_from_spectra_recovers_ea():
    """Spectra -> automatic circuit -> conductivity (weighted by its fit error) -> Arrhenius: Ea within 0.005 eV."""
    from aiida_ssb.analysis.conductivity import conductivity_of_spectrum
    from aiida_ssb.analysis.eis.model import fit_spectrum
    from aiida_ssb.analysis.eis.synthetic import pellet_series

    temperatures, sigma, errors = [], [], []
    for s in pellet_series(2, [-20.0, 0.0, 20.0, 40.0, 60.0, 80.0], noise=0.005, seed=4):
        fit = fit_spectrum(
            s.frequency_hz, s.z, cell_format='blocking_pellet', thickness_cm=s.thickness_cm, area_cm2=s.area_cm2
        )
        c = conductivity_of_spectrum(
            s.frequency_hz, s.z, fit=fit.to_dict(), thickness_cm=s.thickness_cm, area_cm2=s.area_cm2
        )
        temperatures.append(s.temperature_c)
        sigma.append(c.conductivity_s_cm)
        errors.append(c.relative_stderr['fit'])
    result = fit_arrhenius(temperatures, sigma, stderr_rel=errors)
    assert len(result.regimes) == 1
    assert result.activation_energy_ev == pytest.approx(0.35, abs=0.005)


def test_explicit_windows():
    t = np.arange(-60.0, 101.0, 10.0)
    sigma = two_regimes(t)
    result = fit_arrhenius(t, sigma, windows=[(-60, 0), (20, 100)])
    assert [r.activation_energy_ev for r in result.regimes] == pytest.approx([0.671, 0.205], abs=1e-9)
    assert result.regimes[0].window_source == 'window' and result.to_dict()['split'] == 'windows'
    assert result.regime_of_point[t == 10.0][0] == -1  # between the windows: unused
    # reference below every window: nearest regime, flagged as extrapolated
    cold = fit_arrhenius(t, sigma, windows=[(40, 100)], reference_temperature_c=25)
    assert cold.reference_extrapolated is True


def test_heating_and_cooling_branches_are_separate():
    t = np.concatenate([np.arange(0.0, 101.0, 20.0), np.arange(100.0, -1.0, -20.0)])
    branch = ['heating'] * 6 + ['cooling'] * 6
    sigma = np.concatenate([sigma_t_law(t[:6], 0.30, 1e-3), sigma_t_law(t[6:], 0.25, 1e-3)])
    result = fit_arrhenius(t, sigma, branch=branch)
    heating, cooling = result.regimes
    assert heating.branch == 'heating' and cooling.branch == 'cooling'
    assert heating.activation_energy_ev == pytest.approx(0.30, rel=1e-9)
    assert cooling.activation_energy_ev == pytest.approx(0.25, rel=1e-9)
    d = result.to_dict()
    assert [r['branch'] for r in d['regimes']] == ['heating', 'cooling']
    assert [sel['branch'] for sel in d['regime_selection']] == ['heating', 'cooling']


@pytest.mark.parametrize(
    'kwargs, fragment',
    [
        ({'form': 'log'}, 'form: Input should be'),
        ({'split': 'four'}, 'split: Input should be'),
        ({'windows': [(50, 0)]}, 't_min_c < t_max_c'),
        ({'windows': [(200, 300)]}, 'at least min_points'),
        ({'branch': ['up'] * 5}, 'branch labels'),
        ({'min_points': 1}, 'min_points: Input should be greater'),
        ({'split': 'three'}, 'needs at least 3 x min_points'),
        ({'stderr_rel': [0.01] * 4}, 'one finite value > 0 per point'),
    ],
)
def test_bad_arguments(kwargs, fragment):
    t = np.arange(0.0, 50.0, 10.0)
    with pytest.raises(AnalysisError, match=fragment):
        fit_arrhenius(t, sigma_t_law(t, 0.3, 1e-3), **kwargs)


def test_bad_data():
    with pytest.raises(ArrheniusError, match='must be > 0'):
        fit_arrhenius([0, 10, 20], [1e-3, 0, 1e-3])
    with pytest.raises(ArrheniusError, match='has 3 values'):
        fit_arrhenius([0, 10, 20], [1e-3, 1e-3])
    with pytest.raises(ArrheniusError, match='all temperatures are equal'):
        fit_arrhenius([20, 20, 20], [1e-3, 2e-3, 3e-3])
    with pytest.raises(ArrheniusError, match='needs at least'):
        fit_arrhenius([0, 10, 20, 30], [1e-3] * 4, split='two')
    with pytest.raises(ArrheniusError, match='at least 2 points'):
        linear_fit([1.0], [1.0])


# ------------------------------------------------------------------ a curved crossover (seed 004's two steps in series)

SEED004_TEMPERATURES = np.array(sorted([float(v) for v in range(-100, 101, 10)] + [25.0]))


def series_law(crossover_c):
    """Seed 004's generator law: a fast (0.205 eV) and a slow (0.671 eV) step in series, equal at ``crossover_c``;
    the Arrhenius plot bends smoothly from one slope to the other (no sharp knee)."""
    return NcbConductivity(crossover_c=crossover_c).sigma_45_two_step


def local_ea(law, t_c, h=1e-3):
    """The true local slope (eV) of ln(sigma T) against -1/(kB T) at ``t_c``."""
    t1, t2 = t_c - h + T0, t_c + h + T0
    return float(-(np.log(law(t_c + h) * t2) - np.log(law(t_c - h) * t1)) / (1 / t2 - 1 / t1) * K_B_EV_PER_K)


def test_curvature_p_value_of_lines_and_bends():
    x = 1.0 / (np.linspace(0.0, 100.0, 8) + T0)
    assert curvature_p_value(x, 3.0 - 2000.0 * x) == 1.0  # exactly on a line
    assert curvature_p_value(x[:3], x[:3]) is None  # nothing to test
    rng = np.random.default_rng(4)
    noisy_line = 3.0 - 2000.0 * x + 0.01 * rng.standard_normal(x.size)
    assert curvature_p_value(x, noisy_line, np.full(x.size, 0.01)) > 0.01
    bent = 3.0 - 2000.0 * x + 4e6 * (x - x.mean()) ** 2
    assert curvature_p_value(x, bent + 0.001 * rng.standard_normal(x.size)) < 1e-4


@pytest.mark.parametrize('weighted', [True, False])
def test_highest_regime_of_a_curved_crossover_is_its_straight_end(weighted):
    """Crossovers at -40, -25 and -10 C, 0.1-1 % noise, 8 repeats each: the split by evidence alone puts part of
    the bend into the highest regime (0.213-0.223 eV for 0.205 eV); with its bend trimmed the highest regime is the
    straight high-temperature end: within 0.004 eV of the fast step for crossovers up to -25 C and noise up to
    0.3 %, within 0.015 eV always (at 1 % noise a bend near the end is not distinguishable from scatter); every
    trimmed result is flagged and keeps the untrimmed split (always trimmed up to 0.3 % noise)."""
    rng = np.random.default_rng(11)
    t = SEED004_TEMPERATURES
    for crossover in (-40.0, -25.0, -10.0):
        law = series_law(crossover)
        for noise in (0.001, 0.003, 0.01):
            for _ in range(8):
                sigma = law(t) * np.exp(noise * rng.standard_normal(t.size))
                result = fit_arrhenius(t, sigma, stderr_rel=np.full(t.size, noise) if weighted else None)
                top = max(result.regimes, key=lambda r: r.t_min_c)
                tolerance = 0.004 if crossover <= -25.0 and noise <= 0.003 else 0.015
                assert top.activation_energy_ev == pytest.approx(0.205, abs=tolerance), (crossover, noise)
                if top.untrimmed is None:
                    assert noise > 0.003, (crossover, noise)  # at 1 % the bend may hide in the scatter
                    continue
                assert top.untrimmed['n_points'] > top.n_points
                assert top.untrimmed['activation_energy_ev'] > top.activation_energy_ev
                d = result.to_dict()
                assert any(flag['flag'] == 'curved_regime' for flag in d['flags'])
                kept = set(np.flatnonzero(result.regime_of_point == result.regimes.index(top)))
                assert kept == set(np.flatnonzero(t >= top.t_min_c))
                if tolerance < 0.01:
                    # where the data can show it, the kept regime is nearly straight: the true slope changes
                    # across it by at most 0.02 eV (across the untrimmed highest regime: 0.055-0.09 eV)
                    bend = local_ea(law, top.t_min_c) - local_ea(law, top.t_max_c)
                    assert bend < 0.02, (crossover, noise, bend)


def test_curvature_flag_only_keeps_the_split_and_says_so():
    rng = np.random.default_rng(5)
    t = SEED004_TEMPERATURES
    sigma = series_law(-25.0)(t) * np.exp(0.001 * rng.standard_normal(t.size))
    flagged = fit_arrhenius(t, sigma, stderr_rel=np.full(t.size, 0.001), curvature='flag')
    trimmed = fit_arrhenius(t, sigma, stderr_rel=np.full(t.size, 0.001))
    top_flagged = max(flagged.regimes, key=lambda r: r.t_min_c)
    top_trimmed = max(trimmed.regimes, key=lambda r: r.t_min_c)
    assert top_flagged.untrimmed is None and top_flagged.t_max_c == top_trimmed.t_max_c
    assert top_flagged.n_points > top_trimmed.n_points
    assert top_flagged.activation_energy_ev > 0.205 + 0.005  # the bend is in it
    reasons = [flag['reason'] for flag in flagged.to_dict()['flags']]
    assert any('average over the bend' in reason for reason in reasons)
    regime = top_flagged.to_dict()
    assert regime['curvature_p_value'] < 0.01
    assert 'untrimmed' in top_trimmed.to_dict() and top_trimmed.to_dict()['curvature_p_value'] >= 0.01


def test_seed004_generator_law_gives_the_fast_step_above_room_temperature():
    """The demo's pellet (PEL-NCB-45, heating and cooling, 0.1 % noise like its fitted resistances): the highest
    heating regime gives the paper's 0.205 eV within the demo's tolerance, in every repeat."""
    model = NcbConductivity()
    heating = SEED004_TEMPERATURES
    cooling = np.array(sorted([float(v) for v in range(-100, 91, 10)] + [25.0], reverse=True))
    t = np.concatenate([heating, cooling])
    branch = ['heating'] * heating.size + ['cooling'] * cooling.size
    rng = np.random.default_rng(12)
    for _ in range(10):
        sigma = model.sigma(45, t) * np.exp(0.001 * rng.standard_normal(t.size))
        stderr = np.full(t.size, 0.001) * np.exp(0.3 * rng.standard_normal(t.size))
        result = fit_arrhenius(t, sigma, stderr_rel=stderr, branch=branch)
        heating_regimes = [r for r in result.regimes if r.branch == 'heating']
        assert max(heating_regimes, key=lambda r: r.t_min_c).activation_energy_ev == pytest.approx(0.205, abs=0.012)
        assert min(heating_regimes, key=lambda r: r.t_min_c).activation_energy_ev == pytest.approx(0.671, abs=0.012)


def test_sharp_knees_are_rarely_taken_for_bends():
    """One and two straight regimes, 1 % noise, 100 repeats: the bend test flags at most a few."""
    rng = np.random.default_rng(3)
    t = np.arange(-60.0, 101.0, 7.5)
    for law in (lambda tc: sigma_t_law(tc, 0.35, 1e-3), two_regimes):
        flagged = 0
        for _ in range(100):
            result = fit_arrhenius(t, law(t) * np.exp(0.01 * rng.standard_normal(t.size)), stderr_rel=np.full(22, 0.01))
            flagged += bool(result.to_dict()['flags'])
        assert flagged <= 5


@pytest.mark.parametrize('middle_points', [3, 4, 6])
def test_a_regime_too_short_to_test_for_a_bend_is_flagged(middle_points):
    """Three regimes whose middle one has 3, 4 or 6 temperatures (0.3 % noise, 10 repeats): a 3-point middle
    regime is always flagged short_regime, longer ones never; a single 3-point series is not (nothing beside it)."""
    rng = np.random.default_rng(middle_points)
    middle = np.linspace(-10.0, 30.0, middle_points)
    t = np.concatenate([np.linspace(-80.0, -30.0, 7), middle, np.linspace(50.0, 110.0, 7)])
    for _ in range(10):
        sigma = three_regimes(t) * np.exp(0.003 * rng.standard_normal(t.size))
        result = fit_arrhenius(t, sigma, split='three')
        short = [flag for flag in result.to_dict()['flags'] if flag['flag'] == 'short_regime']
        if middle_points == 3:
            assert len(short) == 1 and 'has 3 points' in short[0]['reason'], short
        else:
            assert short == []
    alone = fit_arrhenius(np.array([0.0, 25.0, 50.0]), sigma_t_law(np.array([0.0, 25.0, 50.0]), 0.35, 1e-3))
    assert not [flag for flag in alone.to_dict()['flags'] if flag['flag'] == 'short_regime']
