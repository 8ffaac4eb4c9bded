"""Conductivity from a resistance, the Nyquist intercept and the sigma' plateau."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from aiida_ssb.analysis.conductivity import (
    ConductivityError,
    area_from_diameter_cm2,
    conductivity_from_resistance,
    high_frequency_intercept,
    real_conductivity_plateau,
)
from aiida_ssb.analysis.eis import Circuit
from aiida_ssb.exceptions import MissingInputError

FREQ = np.logspace(7, -1, 81)


def test_area_from_diameter():
    assert area_from_diameter_cm2(1.0) == pytest.approx(math.pi / 4)
    assert area_from_diameter_cm2(0.635) == pytest.approx(0.31669, rel=1e-4)  # 1/4 inch pellet (seed 000)
    with pytest.raises(ConductivityError, match='diameter_cm must be finite and > 0'):
        area_from_diameter_cm2(0)


def test_conductivity_from_resistance_matches_seed_numbers():
    # seed 004: L = 0.05 cm, 10 mm die, R_bulk = 15.9 ohm -> 4 mS/cm
    result = conductivity_from_resistance(15.9, 0.05, area_from_diameter_cm2(1.0), resistance_source='R1')
    assert result.conductivity_s_cm == pytest.approx(4.0e-3, rel=0.005)
    assert result.area_specific_resistance_ohm_cm2 == pytest.approx(15.9 * math.pi / 4)
    # seed 000: sigma = L / ASR: 0.06 cm / 50 ohm cm2 = 1.2 mS/cm (R = ASR / A)
    area = 0.5
    assert conductivity_from_resistance(50 / area, 0.06, area).conductivity_s_cm == pytest.approx(1.2e-3)
    d = result.to_dict()
    json.dumps(d)
    assert d['method'] == 'resistance' and d['resistance_source'] == 'R1'
    assert d['thickness_cm'] == 0.05 and d['formula'] == 'sigma = L / (R A)'
    for bad in ({'resistance_ohm': -1}, {'thickness_cm': float('nan')}, {'area_cm2': 'x'}):
        kwargs = {'resistance_ohm': 10.0, 'thickness_cm': 0.05, 'area_cm2': 0.5}
        kwargs.update(bad)
        with pytest.raises(ConductivityError):
            conductivity_from_resistance(**kwargs)


def test_intercept_at_an_inductive_crossing():
    z = Circuit('L0-R0-p(R1,CPE1)').impedance(FREQ, [2e-6, 25.0, 300.0, 1e-6, 0.9])
    result = high_frequency_intercept(FREQ, z)
    assert result.method == 'crossing'
    assert result.resistance_ohm == pytest.approx(25.0, rel=0.02)
    assert result.to_dict()['method'] == 'nyquist_intercept_crossing'


def test_intercept_at_the_minimum_between_arc_and_spike():
    # a blocking pellet whose bulk arc is resolved: the valley before the electrode spike ~ R0 + R1
    z = Circuit('R0-p(R1,CPE1)-CPE2').impedance(FREQ, [5.0, 200.0, 1e-9, 0.95, 1e-5, 0.9])
    result = high_frequency_intercept(FREQ, z)
    assert result.method == 'minimum'
    assert result.resistance_ohm == pytest.approx(205.0, rel=0.03)
    assert result.imag_at_point_ohm < 0  # the minimum does not quite touch the axis


def test_spike_extrapolation_gives_the_total_resistance():
    # high temperature: the arc is above the measured range and only the spike is seen
    f = np.logspace(5, 0, 30)
    z = Circuit('R0-CPE1').impedance(f, [40.0, 1e-5, 0.9])
    result = high_frequency_intercept(f, z, method='spike')
    assert result.resistance_ohm == pytest.approx(40.0, rel=1e-6)
    automatic = high_frequency_intercept(f, z)  # no crossing and no minimum: 'auto' falls back to the spike
    assert automatic.method == 'spike' and automatic.resistance_ohm == pytest.approx(40.0, rel=1e-6)
    with pytest.raises(ConductivityError, match='no intercept'):
        high_frequency_intercept(f, z, method='minimum')
    flat = np.full(f.size, 5.0 - 1.0j)  # never nearing the real axis, no spike to extrapolate
    with pytest.raises(ConductivityError, match='no intercept'):
        high_frequency_intercept(f, flat)


def test_intercept_bad_input():
    with pytest.raises(ConductivityError, match='method must be'):
        high_frequency_intercept(FREQ, np.ones(FREQ.size, dtype=complex), method='circle')
    with pytest.raises(ConductivityError, match='must be complex'):
        high_frequency_intercept(FREQ, np.ones(FREQ.size))


def test_real_conductivity_plateau_recovers_sigma_dc():
    # seed 004 pellet: single bulk arc (no grain boundary in closo-borates) and a blocking spike
    thickness, area = 0.05, area_from_diameter_cm2(1.0)
    r_bulk = 15.9
    z = Circuit('p(R1,CPE1)-CPE2').impedance(FREQ, [r_bulk, 1e-10, 0.95, 2e-6, 0.9])
    rng = np.random.default_rng(0)
    z = z + 0.002 * np.abs(z) * (rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size))
    result = real_conductivity_plateau(FREQ, z, thickness, area)
    expected = thickness / (r_bulk * area)
    assert result.conductivity_s_cm == pytest.approx(expected, rel=0.01)
    # the bulk arc lies above 10 MHz here, the electrode spike takes over below ~100 kHz
    assert 1e4 < result.window_low_hz < 1e6 and result.window_high_hz == pytest.approx(1e7)
    d = result.to_dict()
    json.dumps(d)
    assert d['method'] == 'real_conductivity_plateau' and d['window_given'] is False
    arrays = result.arrays()
    assert arrays['sigma_real_s_cm'].size == FREQ.size and arrays['in_plateau'].sum() == result.n_points
    # an explicit window is used as given
    given = real_conductivity_plateau(FREQ, z, thickness, area, window_hz=(1e6, 1e7))
    assert given.window_given and given.conductivity_s_cm == pytest.approx(expected, rel=0.01)


def test_plateau_absent_raises():
    z = Circuit('CPE1').impedance(FREQ, [1e-6, 0.5])  # sigma' rises as f^0.5 everywhere
    with pytest.raises(ConductivityError, match='no plateau'):
        real_conductivity_plateau(FREQ, z, 0.05, 0.5)


# ------------------------------------------------------------------------------ the analysis of one spectrum


def _pellet(seed=0, noise=0.005):
    from aiida_ssb.analysis.eis.synthetic import pellet_series

    return pellet_series(2, [25.0], noise=noise, seed=seed)[0]


def _fit(spectrum):
    from aiida_ssb.analysis.eis.model import fit_spectrum

    return fit_spectrum(
        spectrum.frequency_hz,
        spectrum.z,
        circuit=spectrum.circuit,
        compare_pinned=False,
        drt_evidence=False,
        cell_format='blocking_pellet',
        thickness_cm=spectrum.thickness_cm,
        area_cm2=spectrum.area_cm2,
    ).to_dict()


def test_conductivity_interval_from_fit_covariance_and_stated_geometry():
    from aiida_ssb.analysis.conductivity import conductivity_of_spectrum

    s = _pellet()
    fit = _fit(s)
    geometry = {'thickness_cm': s.thickness_cm, 'area_cm2': s.area_cm2}
    plain = conductivity_of_spectrum(s.frequency_hz, s.z, fit=fit, **geometry).to_dict()
    assert plain['method_used'] == 'fit' and plain['resistance_source'] == 'fit: R1'
    assert plain['conductivity_s_cm'] == pytest.approx(s.conductivity_s_cm, rel=0.02)
    assert plain['interval_sources'] == ['fit']
    assert plain['conductivity_stderr_rel'] == pytest.approx(fit['r1_stderr_ohm'] / fit['r1_ohm'])
    stated = conductivity_of_spectrum(
        s.frequency_hz, s.z, fit=fit, thickness_stderr_cm=10e-4, area_stderr_cm2=0.01, **geometry
    ).to_dict()
    expected = math.sqrt(
        plain['conductivity_stderr_rel'] ** 2 + (10e-4 / s.thickness_cm) ** 2 + (0.01 / s.area_cm2) ** 2
    )
    assert stated['conductivity_stderr_rel'] == pytest.approx(expected)
    assert stated['conductivity_low_s_cm'] == pytest.approx(
        s.conductivity_s_cm * math.exp(-1.959964 * expected), rel=0.03
    )
    assert stated['conductivity_low_s_cm'] < stated['conductivity_s_cm'] < stated['conductivity_high_s_cm']
    json.dumps(stated, allow_nan=False)
    # bulk + grain boundary through their covariance
    both = conductivity_of_spectrum(s.frequency_hz, s.z, fit=fit, resistance='bulk+grain_boundary', **geometry)
    assert both.resistance_ohm == pytest.approx(s.values['R1'] + s.values['R2'], rel=0.02)


def test_conductivity_interval_covers_the_truth():
    """Over noisy repeats the 95 % interval of sigma (fit covariance only) covers the truth about 95 % of the time."""
    from aiida_ssb.analysis.conductivity import conductivity_of_spectrum

    hits = 0
    for seed in range(40):
        s = _pellet(seed=100 + seed)
        d = conductivity_of_spectrum(
            s.frequency_hz, s.z, fit=_fit(s), thickness_cm=s.thickness_cm, area_cm2=s.area_cm2
        ).to_dict()
        hits += d['conductivity_low_s_cm'] <= s.conductivity_s_cm <= d['conductivity_high_s_cm']
    assert hits >= 34  # 95 % of 40 is 38; binomial 2 sigma below is about 35


def test_auto_uses_the_intercept_for_a_rejected_fit_and_flags_a_flagged_one():
    from aiida_ssb.analysis.conductivity import conductivity_of_spectrum

    s = _pellet()
    fit = _fit(s)
    rejected = dict(fit, accepted=False, quality='rejected', quality_reason='chi2/|Z| = 0.6 above 0.02')
    result = conductivity_of_spectrum(s.frequency_hz, s.z, fit=rejected, thickness_cm=0.05, area_cm2=s.area_cm2)
    assert result.method_used == 'intercept' and 'rejected' in result.notes[0]
    flagged = dict(fit, quality='flagged', quality_reason='residuals structured')
    result = conductivity_of_spectrum(s.frequency_hz, s.z, fit=flagged, thickness_cm=0.05, area_cm2=s.area_cm2)
    assert result.method_used == 'fit' and result.flags[0]['flag'] == 'fit_flagged'
    plateau = conductivity_of_spectrum(
        s.frequency_hz, s.z, method='plateau', thickness_cm=0.05, area_cm2=s.area_cm2
    ).to_dict()
    assert plateau['method_used'] == 'plateau' and 'plateau' in plateau['interval_sources']
    with pytest.raises(MissingInputError, match='thickness or area'):
        conductivity_of_spectrum(s.frequency_hz, s.z, fit=fit)
