"""Parabolic interphase growth R(t) = R0 + k sqrt(t) against the thesis numbers (seed 002b ch. 8)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aiida_ssb.analysis.growth import GrowthError, fit_parabolic_growth

R0_THESIS = 29.6  # ohm cm2
K_THESIS = 14.6  # ohm cm2 h^-0.5


def test_recovers_thesis_parameters_from_noisy_data():
    t = np.linspace(6, 80, 25)  # 6-80 h at open circuit
    rng = np.random.default_rng(8)
    r = R0_THESIS + K_THESIS * np.sqrt(t) + rng.normal(0, 2.0, t.size)
    result = fit_parabolic_growth(t, r)
    assert result.rate_constant_ohm_cm2_per_sqrt_h == pytest.approx(K_THESIS, abs=3 * result.fit.slope_stderr)
    assert result.initial_resistance_ohm_cm2 == pytest.approx(R0_THESIS, abs=3 * result.fit.intercept_stderr)
    assert result.rate_constant_ohm_cm2_per_sqrt_h == pytest.approx(K_THESIS, rel=0.05)
    assert result.initial_resistance_ohm_cm2 == pytest.approx(R0_THESIS, rel=0.1)
    assert result.r_squared > 0.98
    d = result.to_dict()
    json.dumps(d)
    assert d['method'] == 'parabolic_growth' and d['n_points'] == 25
    assert d['rate_constant_stderr_ohm_cm2_per_sqrt_h'] > 0
    arrays = result.arrays()
    np.testing.assert_allclose(arrays['sqrt_time_sqrt_h'] ** 2, t)
    np.testing.assert_allclose(
        result.predict([0.0, 100.0]),
        [
            result.initial_resistance_ohm_cm2,
            result.initial_resistance_ohm_cm2 + 10 * result.rate_constant_ohm_cm2_per_sqrt_h,
        ],
    )


def test_exact_data_and_time_window():
    t = np.array([0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100], dtype=float)
    r = R0_THESIS + K_THESIS * np.sqrt(t)
    r_late = r.copy()
    r_late[:2] += 50  # early points off the law, excluded by the window
    result = fit_parabolic_growth(t, r_late, time_window_h=(6, 80))
    assert result.rate_constant_ohm_cm2_per_sqrt_h == pytest.approx(K_THESIS, rel=1e-10)
    assert result.initial_resistance_ohm_cm2 == pytest.approx(R0_THESIS, rel=1e-10)
    assert (result.time_min_h, result.time_max_h, result.n_points) == (9.0, 64.0, 6)


def test_bad_input():
    with pytest.raises(GrowthError, match='>= 0'):
        fit_parabolic_growth([-1, 1, 2], [1, 2, 3])
    with pytest.raises(GrowthError, match='has 3 values'):
        fit_parabolic_growth([1, 2, 3], [1, 2])
    with pytest.raises(GrowthError, match='at least 3'):
        fit_parabolic_growth([1, 2, 3, 4], [1, 2, 3, 4], time_window_h=(0, 2.5))
    with pytest.raises(GrowthError, match='low < high'):
        fit_parabolic_growth([1, 2, 3], [1, 2, 3], time_window_h=(5, 1))
