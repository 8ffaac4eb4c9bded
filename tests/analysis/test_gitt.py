"""GITT and PITT on records generated from an exact slab-diffusion model with a known D."""

import math

import numpy as np
import pytest

from aiida_ssb.analysis.gitt import GittSettings, diffusion_length_cm, gitt, looks_like_gitt, looks_like_pitt, pitt
from aiida_ssb.exceptions import InsufficientDataError, MissingInputError
from tests.analysis.known_answers import FARADAY, galvanostatic_record, gitt_record, pitt_record

#: D (cm2/s), slab L (cm), pulse (s), voltage noise (V), sampling (s), tolerance on D (relative)
GITT_CASES = {
    'D 1e-10, clean': (1e-10, 1e-3, 60.0, 0.0, 1.0, 0.02),
    'D 1e-11, clean': (1e-11, 1e-3, 300.0, 0.0, 5.0, 0.02),
    'D 1e-9, thin': (1e-9, 3e-3, 60.0, 0.0, 1.0, 0.02),
    'noise 0.1 mV': (1e-10, 1e-3, 60.0, 1e-4, 1.0, 0.10),
    'noise 0.5 mV': (1e-10, 1e-3, 120.0, 5e-4, 1.0, 0.25),
}


@pytest.mark.parametrize('name', sorted(GITT_CASES))
def test_weppner_huggins_recovers_the_model_diffusion_coefficient(name):
    diffusion, length, pulse, noise, dt, tolerance = GITT_CASES[name]
    rest = 30 * length**2 / diffusion / math.pi**2  # relaxed: many relaxation times
    t, v, i = gitt_record(
        diffusion_cm2_s=diffusion, length_cm=length, pulse_s=pulse, rest_s=rest, noise_v=noise, pulse_dt_s=dt
    )
    result = gitt(t, v, i, particle_radius_um=length * 3e4)
    assert result.length_cm == pytest.approx(length)
    summary = result.to_dict()
    assert summary['n_pulses'] == 8
    assert summary['diffusion_coefficient_median_cm2_s'] == pytest.approx(diffusion, rel=tolerance)
    assert summary['internal_resistance_median_ohm'] == pytest.approx(20.0, rel=0.05 if noise else 0.01)
    assert not [f for f in result.flags if f['flag'] == 'short_time_condition']


def test_long_pulses_are_flagged_and_underestimate():
    t, v, i = gitt_record(diffusion_cm2_s=1e-9, length_cm=1e-3, pulse_s=600.0, rest_s=2000.0)
    result = gitt(t, v, i, particle_radius_um=30.0)
    assert any(f['flag'] == 'short_time_condition' for f in result.flags)
    assert result.to_dict()['diffusion_coefficient_median_cm2_s'] < 0.9e-9


def test_unrelaxed_rests_are_flagged():
    t, v, i = gitt_record(rest_s=300.0)
    assert any(f['flag'] == 'not_relaxed' for f in gitt(t, v, i, particle_radius_um=30.0).flags)


def test_electrode_geometry_gives_the_length():
    s = GittSettings(molar_volume_cm3_mol=40.0, molar_mass_g_mol=100.0)
    length, source = diffusion_length_cm(s, active_mass_mg=5.0, area_cm2=2.0)
    assert length == pytest.approx(5e-3 / 100.0 * 40.0 / 2.0)
    assert 'n V_m / S' in source
    with pytest.raises(MissingInputError, match='contact_area_cm2'):
        diffusion_length_cm(s, active_mass_mg=5.0)


def test_detection_tells_gitt_pitt_and_cycling_apart():
    gitt_t, gitt_v, gitt_i = gitt_record()
    pitt_t, pitt_v, pitt_i = pitt_record()
    cyc_t, cyc_v, cyc_i = galvanostatic_record([(3.6, 0.02, 0.5)], cycles=4)
    assert looks_like_gitt(gitt_t, gitt_i) and not looks_like_pitt(gitt_t, gitt_v, gitt_i)
    assert looks_like_pitt(pitt_t, pitt_v, pitt_i) and not looks_like_gitt(pitt_t, pitt_i)
    assert not looks_like_gitt(cyc_t, cyc_i) and not looks_like_pitt(cyc_t, cyc_v, cyc_i)
    with pytest.raises(InsufficientDataError):
        gitt(np.arange(10.0), np.ones(10), np.zeros(10), particle_radius_um=1.0)


@pytest.mark.parametrize(
    ('method', 'diffusion', 'noise', 'tolerance'),
    [
        ('long_time', 1e-10, 0.0, 0.01),
        ('long_time', 1e-11, 0.0, 0.01),
        ('long_time', 1e-10, 0.01, 0.05),
        ('cottrell', 1e-10, 0.0, 0.05),
        ('cottrell', 1e-9, 0.0, 0.05),
    ],
)
def test_pitt_recovers_the_model_diffusion_coefficient(method, diffusion, noise, tolerance):
    length = 1e-3
    t, v, i = pitt_record(
        diffusion_cm2_s=diffusion, length_cm=length, step_s=3 * length**2 / diffusion, noise_relative=noise
    )
    result = pitt(t, v, i, particle_radius_um=length * 3e4, method=method)
    summary = result.to_dict()
    assert summary['n_steps'] == 5
    assert summary['diffusion_coefficient_median_cm2_s'] == pytest.approx(diffusion, rel=tolerance)
    assert np.allclose(result.table['charge_mah'], 0.05, rtol=0.02)


def test_faraday_constant_matches_the_model():
    from aiida_ssb.analysis import gitt as module

    assert module.FARADAY == FARADAY
