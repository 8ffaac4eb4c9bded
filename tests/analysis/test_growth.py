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


def test_weighted_fit_interval_covers_the_truth_and_carries_the_area():
    """Known per-point errors: the 95 % interval of k covers the truth in about 95 % of noisy repeats; the area's
    stated uncertainty widens k's interval by k x its relative size."""
    t = np.array([6, 10, 20, 30, 45, 60, 80], dtype=float)
    truth = R0_THESIS + K_THESIS * np.sqrt(t)
    stderr = 0.02 * truth
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(400):
        result = fit_parabolic_growth(t, truth + stderr * rng.standard_normal(t.size), stderr_ohm_cm2=stderr)
        d = result.to_dict()
        hits += d['rate_constant_low_ohm_cm2_per_sqrt_h'] <= K_THESIS <= d['rate_constant_high_ohm_cm2_per_sqrt_h']
    assert 0.90 <= hits / 400 <= 0.99
    assert d['weighted'] is True and d['interval_confidence'] == 0.95
    plain = fit_parabolic_growth(t, truth + stderr * rng.standard_normal(t.size), stderr_ohm_cm2=stderr)
    wide = fit_parabolic_growth(t, plain.resistance_ohm_cm2, stderr_ohm_cm2=stderr, systematic_rel=0.05)
    k, se = plain.rate_constant_ohm_cm2_per_sqrt_h, plain.rate_constant_stderr_ohm_cm2_per_sqrt_h
    assert wide.rate_constant_stderr_ohm_cm2_per_sqrt_h == pytest.approx(np.hypot(se, 0.05 * k))
    assert wide.to_dict()['systematic_rel'] == 0.05


def test_settings_object_and_overrides():
    from aiida_ssb.analysis.growth import GrowthSettings

    t = np.linspace(6, 80, 8)
    r = R0_THESIS + K_THESIS * np.sqrt(t)
    a = fit_parabolic_growth(t, r, settings=GrowthSettings(time_window_h=(10, 80), confidence=0.9))
    b = fit_parabolic_growth(t, r, time_window_h=(10, 80), confidence=0.9)
    assert a.to_dict() == b.to_dict() and a.to_dict()['parameters']['confidence'] == 0.9
