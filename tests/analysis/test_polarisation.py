"""DC polarisation (RC model with a known electronic resistance) and Bruce-Vincent (a known t+)."""

import numpy as np
import pytest

from aiida_ssb.analysis.polarisation import electronic_conductivity, transference_number
from aiida_ssb.exceptions import InsufficientDataError, MissingInputError
from tests.analysis.known_answers import polarisation_record, symmetric_polarisation

THICKNESS, AREA = 0.05, 0.785

#: electronic R (ohm), ionic R, tau (s), hold (s), noise: sigma_e within 1 % (2 % with 1 % noise)
CASES = {
    'thesis-like 5e-9 S/cm': (THICKNESS / (5e-9 * AREA), 1e4, 3600.0, 86400.0, 0.0, 0.01),
    'fast decay': (1e8, 1e5, 60.0, 3600.0, 0.0, 0.01),
    '1 % noise': (1e9, 1e4, 1800.0, 86400.0, 0.01, 0.02),
    'electronic conductor': (1e3, 1e5, 100.0, 3600.0, 0.0, 0.01),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_electronic_conductivity_of_an_rc_model(name):
    electronic, ionic, tau, hold, noise, tolerance = CASES[name]
    t, v, i = polarisation_record(
        biases_v=(0.25, 0.5),
        ocv_v=2.3,
        electronic_ohm=electronic,
        ionic_ohm=ionic,
        tau_s=tau,
        hold_s=hold,
        noise_relative=noise,
    )
    result = electronic_conductivity(t, v, i, thickness_cm=THICKNESS, area_cm2=AREA)
    summary = result.to_dict()
    expected = THICKNESS / (electronic * AREA)
    assert summary['n_holds'] == 2
    assert summary['bias_v'] == pytest.approx(0.25)
    assert summary['electronic_conductivity_s_cm'] == pytest.approx(expected, rel=tolerance)
    assert summary['ohmic_conductivity_s_cm'] == pytest.approx(expected, rel=tolerance)
    assert summary['steady'] is True
    # time to steady state: |I - I_ss| <= 5 % I_ss once (R_e / R_i) exp(-t / tau) <= 0.05
    ratio = electronic / ionic
    if ratio > 0.05 and not noise:
        assert summary['time_to_steady_h'] * 3600 == pytest.approx(tau * np.log(ratio / 0.05), rel=0.05)


def test_unsteady_hold_is_flagged_and_non_ohmic_holds_are_said():
    t, v, i = polarisation_record(electronic_ohm=1e9, ionic_ohm=1e4, tau_s=20000.0, hold_s=20000.0)
    result = electronic_conductivity(t, v, i, thickness_cm=THICKNESS, area_cm2=AREA)
    assert any(f['flag'] == 'not_steady' for f in result.flags)
    t1, v1, i1 = polarisation_record(biases_v=(0.25,), electronic_ohm=1e8, hold_s=86400.0)
    t2, v2, i2 = polarisation_record(biases_v=(0.5,), electronic_ohm=1e10, hold_s=86400.0)
    t = np.concatenate((t1, t2 + t1[-1] + 10))
    result = electronic_conductivity(
        t, np.concatenate((v1, v2)), np.concatenate((i1, i2)), thickness_cm=THICKNESS, area_cm2=AREA
    )
    assert any(f['flag'] == 'not_ohmic' for f in result.flags)
    assert result.to_dict()['electronic_conductivity_s_cm'] == pytest.approx(THICKNESS / (1e8 * AREA), rel=0.01)
    with pytest.raises(MissingInputError):
        electronic_conductivity(t, v1.tolist() + v2.tolist(), i1.tolist() + i2.tolist())
    with pytest.raises(InsufficientDataError):
        electronic_conductivity(np.arange(20.0), np.zeros(20), np.zeros(20), thickness_cm=1, area_cm2=1)


@pytest.mark.parametrize('t_plus', [0.2, 0.5, 0.71, 0.91, 1.0])
@pytest.mark.parametrize('interfaces', [(300.0, 400.0), (50.0, 50.0), (2000.0, 3000.0)])
def test_bruce_vincent_recovers_the_transference_number(t_plus, interfaces):
    before, after = interfaces
    t, v, i, _ = symmetric_polarisation(
        t_plus=t_plus, interface_before_ohm=before, interface_after_ohm=after, delta_v=0.05
    )
    result = transference_number(
        t,
        v,
        i,
        interface_resistance_before_ohm=before,
        interface_resistance_after_ohm=after,
        bulk_resistance_before_ohm=500.0,
    )
    assert result.method == 'bruce_vincent'
    assert result.to_dict()['transference_number'] == pytest.approx(t_plus, abs=0.005)
    assert result.to_dict()['initial_current_source'].startswith('impedance')


def test_evans_without_impedance_is_flagged_and_impossible_drops_raise():
    t, v, i, i_ss = symmetric_polarisation(t_plus=0.9)
    result = transference_number(t, v, i)
    assert result.method == 'evans'
    assert any(f['flag'] == 'no_impedance' for f in result.flags)
    assert result.to_dict()['transference_number'] == pytest.approx(i_ss * 1e3 / i[np.flatnonzero(i)[0]], rel=1e-4)
    with pytest.raises(InsufficientDataError, match='Bruce-Vincent undefined'):
        transference_number(t, v, i, interface_resistance_before_ohm=1e6, interface_resistance_after_ohm=1e6)
