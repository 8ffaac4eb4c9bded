"""Distribution of relaxation times against spectra with known time constants."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aiida_ssb.analysis.eis.drt import DrtSettings, compute_drt, tail_onset_hz
from aiida_ssb.exceptions import SettingsError

F = np.logspace(6, -1, 70)
W = 2 * np.pi * F


def zarc(r, tau, alpha):
    return r / (1 + (1j * W * tau) ** alpha)


def noisy(z, relative, seed):
    rng = np.random.default_rng(seed)
    return z * (1 + relative * (rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size)) / np.sqrt(2))


CASES = [  # (tau_1, tau_2): two arcs three decades apart, inside the window
    (1e-5, 1e-2),
    (3e-6, 3e-3),
    (2e-5, 5e-2),
]


@pytest.mark.parametrize('alpha', [1.0, 0.95, 0.9])
@pytest.mark.parametrize('noise', [0.002, 0.01])
@pytest.mark.parametrize('taus', CASES)
def test_peaks_of_well_separated_arcs_are_at_their_time_constants(taus, noise, alpha):
    seed = int(1e3 * noise) + int(100 * alpha)
    z = noisy(10 + zarc(500, taus[0], alpha) + zarc(1500, taus[1], alpha), noise, seed)
    result = compute_drt(F, z)
    assert result.n_peaks == 2, [p.to_dict() for p in result.peaks]
    peaks = sorted(result.peaks, key=lambda p: p.tau_s)
    tolerance = 0.045 if noise < 0.005 else 0.06  # noise-free: below 0.5 %, 4 % for an ideal RC between grid points
    for peak, tau in zip(peaks, taus):
        assert peak.tau_s == pytest.approx(tau, rel=tolerance)
    # each peak holds its arc's resistance, the series resistance is R_inf
    assert peaks[0].resistance_ohm == pytest.approx(500, rel=0.15)
    assert peaks[1].resistance_ohm == pytest.approx(1500, rel=0.15)
    assert result.r_inf_ohm == pytest.approx(10, abs=3)
    assert result.polarisation_resistance_ohm == pytest.approx(2000, rel=0.1)
    assert np.all(result.gamma_ohm >= 0)
    assert result.rms_residual_rel < 2 * noise


def test_lambda_is_chosen_stored_and_can_be_given():
    z = noisy(zarc(1000, 1e-4, 0.9), 0.005, 0)
    result = compute_drt(F, z)
    d = result.to_dict()
    json.dumps(d, allow_nan=False)
    assert d['lambda_rule'] == 'gcv' and d['lambda'] == result.lambda_value > 0
    assert d['parameters']['gcv_rho'] == 2.0 and d['method'] == 'drt_tikhonov_nnls'
    arrays = result.arrays()
    assert arrays['gcv'].size == arrays['lambda_grid'].size
    i = int(np.argmin(arrays['gcv']))
    assert arrays['lambda_grid'][max(i - 1, 0)] <= result.lambda_value <= arrays['lambda_grid'][min(i + 1, 48)]
    given = compute_drt(F, z, lambda_value=1e-2)
    assert given.lambda_value == 1e-2 and given.lambda_rule == 'given' and given.gcv is None
    # a much larger lambda smooths the peak: lower and broader, same area
    smooth = compute_drt(F, z, lambda_value=10.0)
    assert smooth.gamma_ohm.max() < result.gamma_ohm.max()
    assert smooth.polarisation_resistance_ohm == pytest.approx(result.polarisation_resistance_ohm, rel=0.1)


@pytest.mark.parametrize('tail_alpha', [0.95, 0.85, 0.7])
def test_blocking_electrode_cpe_is_modelled_and_the_arcs_stay(tail_alpha):
    z = noisy(zarc(500, 1e-6, 0.95) + zarc(1500, 1e-3, 0.95) + 1 / (1e-5 * (1j * W) ** tail_alpha), 0.003, 4)
    result = compute_drt(F, z)
    assert result.tail_alpha == pytest.approx(tail_alpha, abs=0.05)
    assert result.tail_q_s_sa == pytest.approx(1e-5, rel=0.3)
    taus = sorted(p.tau_s for p in result.peaks if p.fraction > 0.1)
    assert len(taus) == 2, [p.to_dict() for p in result.peaks]
    for found, tau in zip(taus, (1e-6, 1e-3)):
        assert found == pytest.approx(tau, rel=0.1)


def test_settings_are_validated_and_the_grid_follows_them():
    z = zarc(1000, 1e-4, 0.9)
    dense = compute_drt(F, z, points_per_decade=20, extend_decades=0.5)
    assert np.diff(np.log10(dense.tau_s)) == pytest.approx(0.05)
    assert dense.tau_s[0] == pytest.approx(10**-0.5 / (2 * np.pi * F.max()), rel=1e-9)
    with pytest.raises(SettingsError, match='points_per_decade'):
        compute_drt(F, z, points_per_decade=1)
    with pytest.raises(SettingsError, match='known: points_per_decade'):
        DrtSettings.resolve({'lambda': 1.0})


def test_resolved_peaks_above_the_blocking_electrode():
    """Two arcs three decades apart and a blocking electrode that is not one CPE (two exponents): the onset of the
    electrode lies below the second arc, the shoulder the electrode leaves beside it (prominence near 0) does not
    count, the two arcs do; merged within four decades they are one."""
    electrode = 1 / (3e-5 * (1j * W) ** 0.85) + 1 / (3e-4 * (1j * W) ** 0.9)
    z = noisy(zarc(500, 1e-6, 0.92) + zarc(1500, 1e-3, 0.85) + electrode, 0.005, 3)
    result = compute_drt(F, z)
    onset = tail_onset_hz(F, z, 0.5)
    assert 1.0 < onset < 1 / (2 * np.pi * 1e-3) / 10
    assert tail_onset_hz(F, zarc(1500, 1e-3, 0.85), 0.5) is None  # no blocking element
    resolved = result.resolved_peaks(0.1, 0.2, 1.0, onset)
    assert [p.tau_s for p in resolved] == pytest.approx([1e-6, 1e-3], rel=0.15), [p.to_dict() for p in result.maxima]
    assert all(p.prominence > 0.5 for p in resolved)
    shoulders = [p for p in result.maxima if p.frequency_hz > onset and p.prominence < 0.2]
    assert shoulders and not set(map(id, shoulders)) & set(map(id, resolved))
    assert all(0 <= p.prominence <= 1 for p in result.maxima)
    assert len(result.maxima) >= len(result.peaks) >= len(resolved)
    assert len(result.resolved_peaks(0.1, 0.2, 2.0, onset)) == 2
    assert len(result.resolved_peaks(0.1, 0.2, 4.0, onset)) == 1
