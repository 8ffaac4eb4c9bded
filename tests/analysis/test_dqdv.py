"""dQ/dV and dV/dQ on generated records whose incremental capacity is a known sum of Gaussians."""

import numpy as np
import pytest

from aiida_ssb.analysis.dqdv import DqdvSettings, incremental_capacity, peak_positions
from aiida_ssb.exceptions import InsufficientDataError, SettingsError
from tests.analysis.known_answers import galvanostatic_record

TWO_PLATEAUS = [(3.6, 0.02, 0.5), (4.0, 0.03, 0.4)]

#: documented tolerances: peak position within 1 mV without noise, 10 mV with 0.5-1 mV of voltage noise
CASES = {
    'clean': ({'noise_v': 0.0}, {}, 0.001),
    'noise 0.5 mV': ({'noise_v': 0.0005}, {}, 0.01),
    'noise 1 mV, wide window': ({'noise_v': 0.001, 'seed': 3}, {'window_v': 0.05}, 0.01),
    'spline, noise 0.5 mV': ({'noise_v': 0.0005, 'seed': 1}, {'method': 'spline'}, 0.01),
    'coarse sampling 20 s': ({'dt_s': 20.0}, {}, 0.003),
    'narrow and broad': ({'noise_v': 0.0002}, {}, 0.005),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_peak_positions_of_both_directions(name):
    record_kwargs, settings, tolerance = CASES[name]
    peaks = [(3.45, 0.01, 0.3), (3.9, 0.05, 0.6)] if name == 'narrow and broad' else TWO_PLATEAUS
    t, v, i = galvanostatic_record(peaks, **record_kwargs)
    result = incremental_capacity(t, v, i, settings=settings)
    for direction in ('charge', 'discharge'):
        found = peak_positions(result, direction)
        assert len(found) == len(peaks), (direction, found)
        for position, (centre, _, _) in zip(found, sorted(peaks)):
            assert abs(position - centre) <= tolerance, (direction, position, centre)


def test_areas_are_the_charge_of_each_plateau_and_the_integral_is_conserved():
    t, v, i = galvanostatic_record(TWO_PLATEAUS, background_mah_v=0.0, noise_v=0.0003)
    result = incremental_capacity(t, v, i)
    first = result.peaks['half_cycle'] == 1
    assert np.allclose(sorted(result.peaks['area_mah'][first]), sorted([0.4, 0.5]), rtol=0.03)
    for half in result.half_cycles:
        assert half['integral_over_charge'] == pytest.approx(1.0, abs=0.01)


def test_shift_and_fade_are_tracked_over_cycles():
    t, v, i = galvanostatic_record(TWO_PLATEAUS, cycles=5, shift_v_per_cycle=0.01, fade_per_cycle=0.05)
    result = incremental_capacity(t, v, i)
    summary = result.to_dict()
    assert summary['charge_peak_shift_v'] == pytest.approx(0.04, abs=0.003)
    assert summary['charge_peak_area_retention_percent'] == pytest.approx(80.0, abs=3.0)
    assert summary['charge_peak_last_cycle'] == 5
    tracks = [track for track in summary['tracks'] if track['direction'] == 'discharge']
    assert len(tracks) == 2 and all(track['n_half_cycles'] == 5 for track in tracks)
    assert summary['peak_separation_v'] == pytest.approx(0.0, abs=0.003)


def test_mass_normalisation_and_dvdq_curves():
    t, v, i = galvanostatic_record(TWO_PLATEAUS)
    result = incremental_capacity(t, v, i, mass_mg=2.0)
    arrays = result.arrays()
    assert np.allclose(arrays['curve__dqdv_mah_g_v'], arrays['curve__dqdv_mah_v'] * 500.0)
    # dV/dQ is smallest on the plateaus: its minimum on the first charge lies at the plateau voltage of 3.6 V
    first = arrays['dvdq__half_cycle'] == 1
    q, volts, dvdq = (
        arrays['dvdq__capacity_mah'][first],
        arrays['dvdq__voltage_v'][first],
        arrays['dvdq__dvdq_v_mah'][first],
    )
    inner = (q > 0.02) & (q < q.max() - 0.02)
    assert volts[inner][np.argmin(dvdq[inner])] == pytest.approx(3.6, abs=0.02)
    discharge = arrays['curve__dqdv_mah_v'][arrays['curve__half_cycle'] == 2]
    assert discharge.min() < -5.0 and discharge.max() < 0.05 * abs(discharge.min())  # discharge is negative


def test_voltage_window_cycles_and_edge_cases():
    t, v, i = galvanostatic_record(TWO_PLATEAUS, cycles=3)
    only = incremental_capacity(t, v, i, voltage_range_v=(3.8, 4.2), cycles=(2,))
    assert {row['cycle'] for row in only.half_cycles} == {2}
    assert peak_positions(only, 'charge') == pytest.approx([4.0], abs=0.002)
    with pytest.raises(InsufficientDataError):
        incremental_capacity(t[:5], v[:5], i[:5])
    with pytest.raises(InsufficientDataError):
        incremental_capacity(t, v, i, cycles=(9,))
    with pytest.raises(SettingsError):
        DqdvSettings.resolve({'voltage_range_v': (4.0, 3.0)})
    flat = incremental_capacity(t, np.full(t.size, 3.5) + np.linspace(0, 1e-3, t.size), i)
    assert flat.to_dict()['n_half_cycles'] == 6
