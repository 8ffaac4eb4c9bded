"""Linear Kramers-Kronig test on synthetic spectra."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aiida_ssb.analysis.eis import Circuit, lin_kk

FREQ = np.logspace(6, -1, 50)

CLEAN = {
    'R0-p(R1,CPE1)-p(R2,CPE2)-CPE3': [10, 500, 5e-9, 0.92, 1500, 5e-7, 0.85, 1e-5, 0.80],
    'p(R1,CPE1)-p(R2,CPE2)-CPE3': [800, 2e-9, 0.90, 3000, 1e-7, 0.80, 2e-6, 0.85],
    'R0-p(R1,CPE1)-p(R2,CPE2)': [50, 120, 2e-6, 0.85, 400, 5e-4, 0.75],
    'R0-p(R1,CPE1)-Wo1': [10, 500, 5e-9, 0.92, 1000, 1.0],
    'L0-R0-p(R1,CPE1)-p(R2,CPE2)-CPE3': [2e-7, 10, 500, 5e-9, 0.92, 1500, 5e-7, 0.85, 1e-5, 0.80],
    'R0-p(R1,CPE1)': [1e3, 1e6, 1e-10, 0.9],
}


def noisy(z0: np.ndarray, seed: int, noise: float = 0.005) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return z0 + noise * np.abs(z0) * (rng.standard_normal(z0.size) + 1j * rng.standard_normal(z0.size))


def drifting(spec: str, true, parameter: str, drift: float, seed: int) -> np.ndarray:
    """The circuit measured from 1 MHz down while ``parameter`` grows linearly in time by ``drift``.

    Each point lasts max(2 periods, 0.5 s), so most of the change happens at low frequency.
    """
    circuit = Circuit(spec)
    duration = np.maximum(2.0 / FREQ, 0.5)
    elapsed = np.cumsum(duration) / duration.sum()
    z = np.empty(FREQ.size, dtype=complex)
    i = circuit.index(parameter)
    for k, f in enumerate(FREQ):
        p = np.array(true, dtype=float)
        p[i] *= 1.0 + drift * elapsed[k]
        z[k] = circuit.impedance([f], p)[0]
    return noisy(z, seed)


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
@pytest.mark.parametrize('spec', list(CLEAN))
def test_clean_spectra_pass(spec, seed):
    z = noisy(Circuit(spec).impedance(FREQ, CLEAN[spec]), seed)
    result = lin_kk(FREQ, z)
    assert result.valid, result.reasons
    assert result.mu_criterion_met and result.mu < 0.85
    assert result.rms_residual_rel < 0.007


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
@pytest.mark.parametrize(
    'spec, parameter',
    [
        ('R0-p(R1,CPE1)-p(R2,CPE2)', 'R2'),  # interphase growing during the sweep (seed 000 full cell)
        ('R0-p(R1,CPE1)-p(R2,CPE2)-CPE3', 'CPE3_Q'),  # electrode contact changing
        ('R0-p(R1,CPE1)', 'R1'),
    ],
)
def test_drift_during_the_sweep_fails(spec, parameter, seed):
    z = drifting(spec, CLEAN[spec], parameter, 0.2, seed)
    result = lin_kk(FREQ, z)
    assert not result.valid
    assert any('systematic residual trend' in reason for reason in result.reasons)


def test_blocking_pellet_uses_a_series_capacitance():
    spec = 'R0-p(R1,CPE1)-p(R2,CPE2)-CPE3'
    z = noisy(Circuit(spec).impedance(FREQ, CLEAN[spec]), 0)
    auto = lin_kk(FREQ, z)
    assert auto.capacitance_used and not auto.inductance_used
    assert auto.series_capacitance_f == pytest.approx(1e-5, rel=1.0)  # of the order of the electrode CPE
    without = lin_kk(FREQ, z, capacitance=False)
    assert without.rms_residual_rel > auto.rms_residual_rel


def test_inductive_high_frequency_end_adds_an_inductance():
    spec = 'L0-R0-p(R1,CPE1)'
    z = Circuit(spec).impedance(FREQ, [1e-4, 10, 500, 5e-9, 0.92])
    assert z.imag[0] > 0
    result = lin_kk(FREQ, noisy(z, 0, 0.001))
    assert result.inductance_used
    assert result.series_inductance_h == pytest.approx(1e-4, rel=0.05)
    assert result.valid


def test_semi_infinite_warburg_needs_the_extended_grid():
    spec = 'R0-p(R1,C1)-W1'
    z = noisy(Circuit(spec).impedance(FREQ, [20, 300, 1e-8, 150]), 0)
    assert not lin_kk(FREQ, z).valid  # its time constants run past 1/omega_min
    assert lin_kk(FREQ, z, extend_decades=0.5).valid


def test_result_dict_and_arrays():
    spec = 'R0-p(R1,CPE1)-p(R2,CPE2)'
    z = noisy(Circuit(spec).impedance(FREQ, CLEAN[spec]), 0)
    result = lin_kk(FREQ, z)
    d = result.to_dict()
    json.dumps(d, allow_nan=False)
    assert d['method'] == 'linear_kramers_kronig' and d['valid'] is True
    assert d['n_voigt_elements'] == result.m and d['mu_threshold_c'] == 0.85
    arrays = result.arrays()
    assert all(a.shape == (FREQ.size,) for a in arrays.values())
    zs = z[np.argsort(-FREQ)]
    np.testing.assert_allclose(arrays['residual_imag_rel'], (zs.imag - arrays['z_kk_imag_ohm']) / np.abs(zs))
    assert result.resistance_ohm.size == result.m == result.tau_s.size


def test_bad_input():
    with pytest.raises(ValueError, match='c must lie'):
        lin_kk(FREQ, np.ones(FREQ.size, dtype=complex), c=1.5)
    with pytest.raises(ValueError, match='at least 4'):
        lin_kk(FREQ[:3], np.ones(3, dtype=complex))
    with pytest.raises(ValueError, match='must be complex'):
        lin_kk(FREQ, np.ones(FREQ.size))
