"""Equivalent-circuit fits of synthetic spectra with known parameters."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from aiida_ssb.analysis.eis import Circuit, EisFitError, fit_circuit, initial_guess
from aiida_ssb.analysis.eis.fit import FitSettings
from aiida_ssb.exceptions import SettingsError

FREQ = np.logspace(6, -1, 50)  # 1 MHz - 0.1 Hz, 50 points

ANCHOR_SPEC = 'R0-p(R1,CPE1)-p(R2,CPE2)-CPE3'
ANCHOR_TRUE = np.array([10, 500, 5e-9, 0.92, 1500, 5e-7, 0.85, 1e-5, 0.80])
ANCHOR_P0 = np.array([20, 1000, 1e-8, 0.85, 800, 1e-6, 0.90, 2e-5, 0.75])

# realistic solid-electrolyte spectra (anchors-analysis 0.1 and seeds 000/002b)
CASES = {
    # full cell: bulk intercept, Na/SE interface arc, cathode interphase arc (seed 000)
    'R0-p(R1,CPE1)-p(R2,CPE2)': [50, 120, 2e-6, 0.85, 400, 5e-4, 0.75],
    # blocking-electrode pellet without a resolved intercept: bulk, grain boundary, electrode spike
    'p(R1,CPE1)-p(R2,CPE2)-CPE3': [800, 2e-9, 0.90, 3000, 1e-7, 0.80, 2e-6, 0.85],
    # bulk arc plus finite-length (reflective) diffusion
    'R0-p(R1,CPE1)-Wo1': [50, 500, 5e-9, 0.92, 1000, 1.0],
}


def spectrum(spec: str, true, seed: int, noise: float = 0.005):
    """Model spectrum with complex Gaussian noise of ``noise |Z|`` on each component (seeded)."""
    circuit = Circuit(spec)
    z0 = circuit.impedance(FREQ, true)
    rng = np.random.default_rng(seed)
    return circuit, z0 + noise * np.abs(z0) * (rng.standard_normal(z0.size) + 1j * rng.standard_normal(z0.size))


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('spec', list(CASES))
def test_automatic_guess_recovers_parameters(spec, seed):
    true = np.array(CASES[spec], dtype=float)
    circuit, z = spectrum(spec, true, seed)
    result = fit_circuit(circuit, FREQ, z)
    assert result.success
    assert result.initial_source == 'automatic'
    reference = fit_circuit(circuit, FREQ, z, initial=true, n_starts=1)
    assert result.chi2_modulus <= reference.chi2_modulus * (1 + 1e-6)
    fitted = circuit.values_array(result.values)
    for i, (name, unit) in enumerate(zip(circuit.parameter_names, circuit.parameter_units)):
        if unit == 'ohm':
            assert fitted[i] == pytest.approx(true[i], rel=0.02), name
        elif unit == '1':
            assert fitted[i] == pytest.approx(true[i], abs=0.03), name
        else:  # Q, tau: noise-limited, within 25 %
            assert fitted[i] == pytest.approx(true[i], rel=0.25), name
    # standard errors are defined and the truth is within 4 standard errors of every resistance
    for name in circuit.parameter_names:
        if circuit.parameter_units[circuit.index(name)] == 'ohm':
            se = result.stderr[name]
            assert se is not None and se > 0
            assert abs(result.values[name] - true[circuit.index(name)]) < 4 * se + 1e-9


@pytest.mark.parametrize(
    'truth',
    [
        # grain-boundary arc merged into the electrode spike (no maximum of its own)
        [20.2, 184, 6.22e-9, 0.922, 3480, 1.16e-6, 0.837, 3.2e-6, 0.826],
        # bulk and grain-boundary arcs only a factor 8 apart (one broad maximum)
        [10.1, 1170, 1.25e-8, 0.92, 984, 3.02e-7, 0.81, 2.75e-5, 0.755],
        # bulk arc apex near the highest frequency, its high-frequency foot outside the range
        [4.47, 436, 2.74e-9, 0.892, 1200, 1.98e-7, 0.867, 2.94e-5, 0.78],
    ],
)
def test_hard_arc_placements_reach_the_optimum(truth):
    circuit, z = spectrum(ANCHOR_SPEC, truth, 5)
    # one of the guess's starts has both arc resistances within a factor 2 of the truth
    guess = initial_guess(circuit, FREQ, z)
    starts = [guess.values, *guess.alternatives]
    assert any(all(0.5 < start[name] / truth[circuit.index(name)] < 2 for name in ('R1', 'R2')) for start in starts)
    result = fit_circuit(circuit, FREQ, z)
    reference = fit_circuit(circuit, FREQ, z, initial=truth, n_starts=1)
    assert result.chi2_modulus <= reference.chi2_modulus * 1.001


def test_guess_is_close_for_the_anchor_spectrum():
    circuit, z = spectrum(ANCHOR_SPEC, ANCHOR_TRUE, 42)
    guess = initial_guess(circuit, FREQ, z)
    g = circuit.values_array(guess.values)
    for name in ('R1', 'R2'):
        assert g[circuit.index(name)] == pytest.approx(ANCHOR_TRUE[circuit.index(name)], rel=0.2)
    assert g[circuit.index('CPE3_alpha')] == pytest.approx(0.8, abs=0.05)
    assert set(guess.rules) == set(circuit.parameter_names)


def _optimum(circuit, z):
    best = fit_circuit(circuit, FREQ, z, initial=ANCHOR_TRUE, n_starts=8, seed=11)
    return min(best.chi2_modulus, fit_circuit(circuit, FREQ, z).chi2_modulus)


def test_anchor_benchmark_from_twice_off_guess():
    circuit, z = spectrum(ANCHOR_SPEC, ANCHOR_TRUE, 42)
    optimum = _optimum(circuit, z)
    result = fit_circuit(circuit, FREQ, z, initial=ANCHOR_P0)
    assert result.initial_source == 'user'
    assert result.chi2_modulus <= 1.01 * optimum
    fitted = circuit.values_array(result.values)
    np.testing.assert_allclose(fitted, ANCHOR_TRUE, rtol=0.05)
    # a single local fit from the same start reaches it too
    single = fit_circuit(circuit, FREQ, z, initial=ANCHOR_P0, n_starts=1)
    assert single.chi2_modulus <= 1.01 * optimum
    assert single.n_starts_run == 1


def test_random_starts_over_a_decade_reach_the_optimum():
    circuit, z = spectrum(ANCHOR_SPEC, ANCHOR_TRUE, 42)
    optimum = _optimum(circuit, z)
    rng = np.random.default_rng(2024)
    log = circuit.log_mask
    hits_single = hits_multi = 0
    n = 40
    for _ in range(n):
        start = ANCHOR_TRUE.copy()
        start[log] *= 10 ** rng.uniform(-1, 1, log.sum())
        start[~log] = np.clip(start[~log] + rng.uniform(-0.1, 0.1, (~log).sum()), 0.05, 1.0)
        hits_single += fit_circuit(circuit, FREQ, z, initial=start, n_starts=1).chi2_modulus <= 1.01 * optimum
        hits_multi += fit_circuit(circuit, FREQ, z, initial=start).chi2_modulus <= 1.01 * optimum
    assert hits_multi / n >= 0.95
    assert hits_single / n >= 0.90


def test_fit_is_deterministic_for_a_seed():
    circuit, z = spectrum(ANCHOR_SPEC, ANCHOR_TRUE, 3)
    a = fit_circuit(circuit, FREQ, z, seed=5).to_dict()
    b = fit_circuit(circuit, FREQ, z, seed=5).to_dict()
    assert a == b


def test_standard_errors_match_monte_carlo_scatter():
    spec = 'R0-p(R1,CPE1)'
    true = np.array([100, 1000, 1e-8, 0.9])
    values, errors = [], []
    for seed in range(20):
        circuit, z = spectrum(spec, true, 100 + seed)
        r = fit_circuit(circuit, FREQ, z, n_starts=1)
        values.append(r.values['R1'])
        errors.append(r.stderr['R1'])
    scatter = np.std(values, ddof=1)
    assert 0.5 < np.mean(errors) / scatter < 2.0


def test_fixed_bounds_roles_and_weightings():
    circuit, z = spectrum(ANCHOR_SPEC, ANCHOR_TRUE, 7)
    r = fit_circuit(
        circuit,
        FREQ,
        z,
        fixed={'CPE3_alpha': 0.8, 'r0_ohm': 10.0},
        bounds={'R2': (1000, 1400)},
        roles={'R0': 'bulk', 'R1': 'grain_boundary', 'CPE3': 'electrode'},
    )
    assert r.values['CPE3_alpha'] == 0.8 and r.values['R0'] == 10.0
    assert r.stderr['CPE3_alpha'] is None
    assert 'CPE3_alpha' not in r.free and len(r.free) == 7
    assert 1000 <= r.values['R2'] <= 1400
    assert r.values['R2'] == pytest.approx(1400, rel=1e-5)  # the truth (1500) lies outside: pinned at the bound
    assert 'R2' in r.at_bounds
    d = r.to_dict()
    assert d['fixed_parameters'] == ['CPE3_alpha', 'R0']
    assert d['role_r0'] == 'bulk' and d['role_cpe3'] == 'electrode'
    assert d['bound_upper_r2_ohm'] == 1400
    for weighting in ('modulus', 'proportional', 'unit'):
        w = fit_circuit(circuit, FREQ, z, weighting=weighting)
        assert w.weighting == weighting
        assert w.values['R2'] == pytest.approx(1500, rel=0.05)


def test_frequency_range_restricts_the_fit():
    circuit, z = spectrum(ANCHOR_SPEC, ANCHOR_TRUE, 1)
    r = fit_circuit(circuit, FREQ, z, frequency_range_hz=(1.0, None))
    assert r.frequency_hz.min() >= 1.0 and r.frequency_hz.size == int(np.sum(FREQ >= 1.0))
    assert r.values['R1'] == pytest.approx(500, rel=0.03)
    assert r.values['R2'] == pytest.approx(1500, rel=0.03)
    assert r.to_dict()['frequency_range_min_hz'] == 1.0
    assert r.to_dict()['frequency_range_max_hz'] is None


def test_interchangeable_arcs_are_ordered_fastest_first():
    spec = 'R0-p(R1,CPE1)-p(R2,CPE2)'
    true = np.array(CASES[spec])
    circuit, z = spectrum(spec, true, 0)
    swapped = true[[0, 4, 5, 6, 1, 2, 3]]  # slow arc written first
    r = fit_circuit(circuit, FREQ, z, initial=swapped, n_starts=1)
    assert r.values['R1'] == pytest.approx(120, rel=0.02)
    assert r.values['R2'] == pytest.approx(400, rel=0.02)
    kept = fit_circuit(circuit, FREQ, z, initial=swapped, n_starts=1, order_arcs=False)
    assert kept.values['R1'] == pytest.approx(400, rel=0.02)
    assert kept.arcs_reordered is False


def test_result_serialisation_and_arrays():
    circuit, z = spectrum(ANCHOR_SPEC, ANCHOR_TRUE, 0)
    r = fit_circuit(circuit, FREQ, z)
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert all(
        not isinstance(v, (dict, list, tuple)) or k in ('fixed_parameters', 'parameters_at_bounds', 'parameters')
        for k, v in d.items()
    )
    assert d['parameters']['n_starts'] == 4 and d['parameters']['weighting'] == 'modulus'
    for key, skey in zip(circuit.parameter_keys, circuit.stderr_keys):
        assert key in d and skey in d and f'initial_{key}' in d
    assert d['method'] == 'equivalent_circuit_fit' and d['circuit'] == ANCHOR_SPEC
    # chi2/|Z| exactly as documented: sum |dZ|^2 / |Z|
    zf = circuit.impedance(r.frequency_hz, r.values)
    assert d['chi2_ohm'] == pytest.approx(np.sum(np.abs(r.z - zf) ** 2 / np.abs(r.z)), rel=1e-10)
    assert d['chi2_over_z'] == pytest.approx(d['chi2_ohm'] / np.sum(np.abs(r.z)), rel=1e-10)
    assert d['chi2_over_z'] < 0.02  # 0.5 % noise passes seed 000's acceptance threshold
    assert d['chi2_modulus'] == pytest.approx(np.sum(np.abs(r.z - zf) ** 2 / np.abs(r.z) ** 2), rel=1e-10)
    assert d['weighted_rss'] == pytest.approx(d['chi2_modulus'], rel=1e-8)  # modulus weighting
    assert d['chi2_modulus'] < 0.02
    arrays = r.arrays()
    assert set(arrays) == {'frequency_hz', 'z_fit_real_ohm', 'z_fit_imag_ohm', 'residual_real_rel', 'residual_imag_rel'}
    assert all(a.ndim == 1 and a.size == FREQ.size for a in arrays.values())
    np.testing.assert_allclose(arrays['residual_real_rel'], (r.z.real - zf.real) / np.abs(r.z))
    assert r.value('r1_ohm') == r.values['R1']
    np.testing.assert_allclose(r.impedance(r.frequency_hz), zf)
    assert r.correlation.shape == (9, 9)
    np.testing.assert_allclose(np.diag(r.correlation), 1.0)


@pytest.mark.parametrize(
    'kwargs, error, fragment',
    [
        ({'weighting': 'boukamp'}, SettingsError, 'weighting: Input should be'),
        ({'fixed': {'R9': 1.0}}, EisFitError, "fixed: 'R9' is not a parameter"),
        ({'bounds': {'R1': (10, 1)}}, EisFitError, 'must be < high'),
        ({'initial': [1, 2, 3]}, EisFitError, 'initial:'),
        ({'roles': {'X1': 'bulk'}}, EisFitError, "roles: 'X1' is not an element"),
        ({'n_starts': 0}, SettingsError, 'n_starts: Input should be greater than or equal to 1'),
        ({'frequency_range_hz': (1e7, 1e8)}, EisFitError, 'at least'),
        ({'frequency_range_hz': (1e3, 1e2)}, SettingsError, 'low < high'),
        ({'fixed': {'R0': -1.0}}, EisFitError, 'must be finite and > 0'),
        ({'tolerance': 1.0}, SettingsError, 'known: roles'),
    ],
)
def test_bad_input_raises_clear_errors(kwargs, error, fragment):
    circuit, z = spectrum('R0-p(R1,CPE1)', [100, 1000, 1e-8, 0.9], 0)
    with pytest.raises(error, match=fragment.replace('(', r'\(').replace(')', r'\)')):
        fit_circuit(circuit, FREQ, z, **kwargs)


def test_settings_object_and_overrides_are_the_same_fit():
    circuit, z = spectrum('R0-p(R1,CPE1)', [100, 1000, 1e-8, 0.9], 3)
    settings = FitSettings(weighting='proportional', n_starts=2, seed=4)
    a = fit_circuit(circuit, FREQ, z, settings=settings)
    b = fit_circuit(circuit, FREQ, z, weighting='proportional', n_starts=2, seed=4)
    c = fit_circuit(circuit, FREQ, z, settings={'weighting': 'proportional', 'n_starts': 1}, n_starts=2, seed=4)
    assert a.values == b.values == c.values
    assert a.to_dict()['parameters'] == settings.parameters()


def test_bad_spectra_raise_clear_errors():
    circuit, z = spectrum('R0-p(R1,CPE1)', [100, 1000, 1e-8, 0.9], 0)
    with pytest.raises(EisFitError, match='must be complex'):
        fit_circuit(circuit, FREQ, z.real)
    with pytest.raises(EisFitError, match='has 50 values but z has 49'):
        fit_circuit(circuit, FREQ, z[:-1])
    bad = z.copy()
    bad[3] = np.nan
    with pytest.raises(EisFitError, match='non-finite'):
        fit_circuit(circuit, FREQ, bad)
    with pytest.raises(EisFitError, match='> 0'):
        fit_circuit(circuit, -FREQ, z)
    # a (real, imag) tuple is accepted
    assert fit_circuit(circuit, FREQ, (z.real, z.imag)).success


def test_import_pulls_in_neither_aiida_nor_pandas():
    code = 'import sys, aiida_ssb.analysis.eis; print("aiida" in sys.modules, "pandas" in sys.modules)'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ['False', 'False']
