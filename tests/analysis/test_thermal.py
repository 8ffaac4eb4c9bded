"""DSC and TGA on traces with known onsets, enthalpies and mass-loss steps."""

import math

import numpy as np
import pytest

from aiida_ssb.analysis.thermal import thermal_analysis
from aiida_ssb.exceptions import InsufficientDataError
from tests.analysis.known_answers import dsc_trace, tga_trace

RATE = 5.0  # K/min

#: peaks (centre, sigma, height W/g); noise W/g. Tolerances: onset 1.5 degC, enthalpy 2 %, height 3 %
DSC_CASES = {
    'sharp exotherm (NaCrO2-like)': ([(540.0, 6.0, 5.0)], 0.0),
    'broad exotherm (NaFeO2-like)': ([(430.0, 20.0, 1.5)], 0.01),
    'endotherm then exotherm': ([(150.0, 15.0, -0.3), (470.0, 8.0, 4.9)], 0.005),
    'two exotherms': ([(420.0, 6.0, 2.0), (500.0, 6.0, 4.0)], 0.005),
    'small and noisy': ([(300.0, 5.0, 0.3)], 0.01),
}


@pytest.mark.parametrize('name', sorted(DSC_CASES))
def test_tangent_onsets_enthalpies_and_heights(name):
    peaks, noise = DSC_CASES[name]
    temperature, time, q = dsc_trace(peaks, rate_k_min=RATE, noise_w_g=noise, seed=7)
    result = thermal_analysis(temperature, time_s=time, heat_flow_mw=q * 12.0, sample_mass_mg=12.0)
    events = sorted(result.events, key=lambda e: e['peak_c'])
    assert len(events) == len(peaks), events
    for event, (centre, sigma, height) in zip(events, sorted(peaks)):
        assert event['kind'] == ('exothermic' if height > 0 else 'endothermic')
        assert event['onset_c'] == pytest.approx(centre - 2 * sigma, abs=1.5)
        assert event['peak_c'] == pytest.approx(centre, abs=max(0.5, 0.1 * sigma))
        assert event['height_w_g'] == pytest.approx(abs(height), rel=0.03)
        enthalpy = height * sigma * math.sqrt(2 * math.pi) / (RATE / 60.0)
        assert event['enthalpy_j_g'] == pytest.approx(enthalpy, rel=0.02)
    exotherms = [p for p in peaks if p[2] > 0]
    summary = result.to_dict()
    first_big = min(p[0] - 2 * p[1] for p in exotherms if p[2] >= 0.2 * max(e[2] for e in exotherms))
    assert summary['dsc_onset_c'] == pytest.approx(first_big, abs=1.5)
    assert summary['dsc_peak_heat_flow_w_g'] == pytest.approx(max(p[2] for p in exotherms), rel=0.03)


def test_mass_loss_steps_with_fractions_and_onsets():
    temperature, mass = tga_trace([(150.0, 8.0, 2.0), (520.0, 5.0, 1.0)], noise_percent=0.002)
    time = (temperature - temperature[0]) / RATE * 60
    result = thermal_analysis(temperature, time_s=time, mass_percent=mass, sample_mass_mg=20.0)
    steps = result.steps
    assert len(steps) == 2
    for step, (middle, width, loss) in zip(steps, [(150.0, 8.0, 2.0), (520.0, 5.0, 1.0)]):
        assert step['mass_loss_percent'] == pytest.approx(loss, rel=0.03)
        assert step['mass_loss_mg'] == pytest.approx(loss / 100 * 20.0, rel=0.03)
        assert step['onset_c'] == pytest.approx(middle - 2 * width, abs=1.5)
        assert step['fastest_c'] == pytest.approx(middle, abs=max(0.5, 0.15 * width))
    assert result.to_dict()['tga_mass_loss_percent'] == pytest.approx(3.0, abs=0.02)


def test_heating_and_cooling_transition_with_hysteresis():
    up_t, up_time, up_q = dsc_trace([(83.0, 3.0, -0.5)], t_start=20.0, t_end=150.0)
    down_t = up_t[::-1]
    down_q = 0.05 + 1e-4 * (down_t - 20.0) + 0.5 * np.exp(-0.5 * ((down_t - 70.0) / 3.0) ** 2)
    temperature = np.concatenate((up_t, down_t))
    time = np.concatenate((up_time, up_time[-1] + up_time + 1.0))
    q = np.concatenate((up_q, down_q))
    result = thermal_analysis(temperature, time_s=time, heat_flow_mw=q, sample_mass_mg=1.0)
    directions = [segment['direction'] for segment in result.segments]
    assert directions == ['heating', 'cooling']
    assert len(result.transitions) == 1
    transition = result.transitions[0]
    assert transition['heating_kind'] == 'endothermic'
    assert transition['heating_onset_c'] == pytest.approx(77.0, abs=1.0)
    assert transition['cooling_onset_c'] == pytest.approx(76.0, abs=1.0)  # cooling: leading edge at 70 + 2 x 3


def test_units_without_mass_and_missing_data():
    temperature, time, q = dsc_trace([(300.0, 5.0, 1.0)])
    result = thermal_analysis(temperature, time_s=time, heat_flow_mw=q)
    assert result.units == 'mw' and 'dsc_peak_heat_flow_mw' in result.to_dict()
    assert any(f['flag'] == 'no_sample_mass' for f in result.flags)
    no_time = thermal_analysis(temperature, heat_flow_mw=q, sample_mass_mg=1.0, heating_rate_k_min=RATE)
    assert no_time.events[0]['enthalpy_j_g'] == pytest.approx(1.0 * 5 * math.sqrt(2 * math.pi) * 12, rel=0.02)
    with pytest.raises(InsufficientDataError):
        thermal_analysis(temperature)
    with pytest.raises(InsufficientDataError):
        thermal_analysis(np.full(100, 25.0), time_s=np.arange(100.0), heat_flow_mw=np.zeros(100))
