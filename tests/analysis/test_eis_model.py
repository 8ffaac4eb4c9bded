"""The automatic path on known-answer spectra: model choice, roles, residual test, pinned circuits.

The families here are small so that they run in seconds; ``benchmarks/bench_eis_model.py`` runs the large ones
and reports the rates."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from aiida_ssb.analysis.eis.model import (
    CELL_FAMILY,
    PELLET_FAMILY,
    EisFitSettings,
    fit_spectrum,
    information_criteria,
    parse_selector,
    residual_structure,
    select_circuit,
    selector_matches,
    weigh_drt,
)
from aiida_ssb.analysis.eis.synthetic import full_cell_series, pellet_series, visible_circuit
from aiida_ssb.exceptions import SettingsError


def accepted_circuits(spectrum):
    """The generating circuit, or what the window shows of it (arcs far above it merged into R0)."""
    return {spectrum.circuit, visible_circuit(spectrum)}


@pytest.mark.parametrize('n_arcs', [1, 2, 3])
def test_pellet_temperature_series_automatic_path(n_arcs):
    """1, 2 or 3 arcs, -20 to 100 C (the bulk arc leaves the window when hot), 0.2-1 % noise: the generating
    circuit is chosen, the roles are right, R_bulk is within 2 % wherever its apex is inside the window."""
    spectra = []
    for noise, temperature in ((0.002, -20.0), (0.005, 40.0), (0.01, 100.0)):
        spectra += pellet_series(n_arcs, [temperature], noise=noise, seed=n_arcs + int(1e3 * noise))
    for spectrum in spectra:
        result = fit_spectrum(
            spectrum.frequency_hz,
            spectrum.z,
            cell_format='blocking_pellet',
            thickness_cm=spectrum.thickness_cm,
            area_cm2=spectrum.area_cm2,
        )
        where = f'{n_arcs} arcs at {spectrum.temperature_c} C: {result.reason}'
        assert result.fit.circuit in accepted_circuits(spectrum), where
        assert result.accepted and result.quality == 'good', (where, result.flags)
        roles = result.roles.roles
        bulk = [e for e, r in roles.items() if r == 'bulk' and e.startswith('R')]
        assert len(bulk) == 1, (where, roles)
        if spectrum.in_window('R1'):
            assert result.fit.values[bulk[0]] == pytest.approx(spectrum.values['R1'], rel=0.02), where
        if n_arcs >= 2 and spectrum.in_window('R2'):
            (gb,) = [e for e, r in roles.items() if r == 'grain_boundary' and e.startswith('R')]
            assert result.fit.values[gb] == pytest.approx(spectrum.values['R2'], rel=0.03), where


def test_full_cell_interface_arc_appears_after_cycling():
    """Before cycling: R0, the interface arc and the blocking cathode; after: a second (interphase) arc."""
    for spectrum in full_cell_series([0, 3, 8], seed=5, noise=0.005):
        result = fit_spectrum(spectrum.frequency_hz, spectrum.z, cell_format='full', area_cm2=spectrum.area_cm2)
        assert result.fit.circuit == spectrum.circuit, result.reason
        roles = result.roles.roles
        assert roles['R0'] == 'electrolyte' and roles['R1'] == 'interface'
        assert result.fit.values['R1'] == pytest.approx(spectrum.values['R1'], rel=0.03)
        if 'R2' in spectrum.values:
            assert roles['R2'] == 'cathode_interphase'
            assert result.fit.values['R2'] == pytest.approx(spectrum.values['R2'], rel=0.03)
        else:
            assert roles['CPE2'] == 'electrode' and 'cathode_interphase' not in roles.values()


def test_one_arc_model_on_a_two_arc_spectrum_is_flagged_by_the_residual_test():
    """The issue's case: the default one-arc pellet circuit on bulk + grain boundary. chi2/|Z| stays far below
    the 0.02 gate; the residual structure says an arc is missing and the evidence rejects the pinned circuit."""
    (spectrum,) = pellet_series(2, [25.0], noise=0.005, seed=7, resistance_ratios=(0.3, 3.0))
    pinned = fit_spectrum(
        spectrum.frequency_hz,
        spectrum.z,
        circuit='p(R1,CPE1)-CPE2',
        cell_format='blocking_pellet',
        thickness_cm=spectrum.thickness_cm,
        area_cm2=spectrum.area_cm2,
    )
    assert pinned.fit.chi2_over_z < 0.02 and pinned.accepted  # the old gate cannot notice
    flags = {flag['flag'] for flag in pinned.flags}
    assert {'residual_structure', 'pinned_circuit_rejected'} <= flags, pinned.flags
    assert pinned.quality == 'flagged' and pinned.choice == 'pinned'
    assert pinned.residual['structured'] and pinned.residual['p'] < 1e-6
    # the one arc swallows the grain boundary: its "bulk" resistance is too high
    assert pinned.fit.values['R1'] > 1.1 * spectrum.values['R1']
    assert 'rejected by the evidence' in pinned.reason
    # the automatic path on the same spectrum recovers the bulk
    auto = fit_spectrum(
        spectrum.frequency_hz,
        spectrum.z,
        cell_format='blocking_pellet',
        thickness_cm=spectrum.thickness_cm,
        area_cm2=spectrum.area_cm2,
    )
    assert auto.fit.circuit == spectrum.circuit and auto.quality == 'good'
    assert auto.fit.values['R1'] == pytest.approx(spectrum.values['R1'], rel=0.02)


def test_residual_test_on_white_noise_rarely_fires():
    rng = np.random.default_rng(0)
    fired = sum(residual_structure(*rng.standard_normal((2, 70)))['structured'] for _ in range(2000))
    assert fired <= 10  # alpha = 1e-3 per spectrum (two tests, Bonferroni): about 2 in 2000 expected
    trend = np.sin(np.linspace(0, 3, 70))
    assert residual_structure(trend + 0.1 * rng.standard_normal(70), trend)['structured']


def test_pinned_circuits_by_selector_and_the_result_record():
    spectra = full_cell_series([0, 4], seed=9)
    settings = EisFitSettings(
        circuits={'cycle_index=0': 'R0-p(R1,CPE1)-CPE2', 'cycle_index>=1': 'R0-p(R1,CPE1)-p(R2,CPE2)'}
    )
    for spectrum in spectra:
        result = fit_spectrum(
            spectrum.frequency_hz,
            spectrum.z,
            cell_format='full',
            area_cm2=spectrum.area_cm2,
            state=spectrum.state,
            settings=settings,
        )
        assert result.choice == 'pinned_by_selector' and result.fit.circuit == spectrum.circuit
        assert result.quality == 'good', result.flags  # the evidence agrees with the pin
        d = result.to_dict()
        json.dumps(d, allow_nan=False)
        assert d['circuit_selector'] in settings.circuits
        assert d['candidates'][0]['status'] == 'pinned'
        assert {c['circuit'] for c in d['candidates']} == set(CELL_FAMILY)
        assert len(d['covariance']) == len(d['covariance_parameters']) == len(result.fit.free)
        assert d['parameters'] == settings.parameters()
        assert d['role_r1'] == 'interface' and d['role_source_r1'].startswith('C_eff/A')


def test_selectors_and_settings_are_validated():
    assert parse_selector('upper_cutoff_v >= 4.2') == ('upper_cutoff_v', '>=', 4.2)
    assert selector_matches('label=FC-01 PEIS 3', {'label': 'FC-01 PEIS 3'})
    assert not selector_matches('cycle_index=0', {})
    assert selector_matches('temperature_c<0', {'temperature_c': -20.0})
    with pytest.raises(SettingsError, match='LABEL OP VALUE'):
        EisFitSettings.resolve({'circuits': {'cycle 0': 'R0'}})
    with pytest.raises(SettingsError, match='needs a number'):
        parse_selector('state>initial')
    with pytest.raises(SettingsError, match='unknown element'):
        EisFitSettings.resolve({'circuit': 'R0-X1'})
    assert EisFitSettings().circuit == 'auto' and EisFitSettings().fit_settings().n_starts == 4


def test_information_criteria_penalise_parameters():
    ic = information_criteria(1.0, 140, 5)
    assert ic['bic'] == pytest.approx(140 * math.log(1 / 140) + 5 * math.log(140))
    assert ic['aicc'] == pytest.approx(140 * math.log(1 / 140) + 10 + 60 / 134)
    assert set(PELLET_FAMILY) >= {'p(R1,CPE1)-CPE2', 'R0-CPE1', 'R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)-CPE4'}


# --------------------------------------------------------------------------------- the DRT weighed in the choice


def _candidate(circuit, bic, arcs_hz, n_parameters, **status):
    return {
        'circuit': circuit,
        'bic': bic,
        'aicc': bic,
        'n_parameters': n_parameters,
        'arc_frequencies_hz': arcs_hz,
        'residual_p': 0.5,
        'success': True,
        'structured': False,
        'degenerate': None,
        **status,
    }


WINDOW_HZ = (1.0, 1e6)  # arcs and peaks from 3.2 Hz to 320 kHz count, within half a decade of the ends they may


def _two_candidates(difference):
    return [
        _candidate('p(R1,CPE1)-CPE2', -1000.0, [1e4], 5),
        _candidate('p(R1,CPE1)-p(R2,CPE2)-CPE3', -1000.0 + difference, [1e4, 100.0], 8),
    ]


def test_drt_decides_between_candidates_the_criterion_cannot_tell_apart():
    scores = _two_candidates(3.0)  # the two-arc circuit is 3 worse: within the margin (6)
    assert select_circuit(scores, 'bic')[0] == 0  # the criterion alone: the simpler circuit
    index, comparison = weigh_drt(scores, 0, 'bic', [1.1e4, 95.0], WINDOW_HZ)
    assert index == 1 and comparison['decision'] == 'changed'
    assert comparison['criterion_choice'] == 'p(R1,CPE1)-CPE2' and comparison['n_arcs'] == 2
    assert comparison['criterion_difference'] == pytest.approx(3.0)
    assert comparison['reason'].startswith('chosen by the DRT: the DRT shows 2 arc(s)')
    assert scores[1]['status'] == 'chosen'
    assert scores[0]['status'] == 'BIC lower by 3.0; 1 arc(s) where the DRT shows 2'
    # only the flag when the DRT may not decide
    index, comparison = weigh_drt(_two_candidates(3.0), 0, 'bic', [1.1e4, 95.0], WINDOW_HZ, decides=False)
    assert index == 0 and comparison['decision'] == 'disagrees'


def test_drt_disagreeing_beyond_the_margin_keeps_the_choice():
    scores = _two_candidates(25.0)
    assert select_circuit(scores, 'bic')[0] == 0
    index, comparison = weigh_drt(scores, 0, 'bic', [1.1e4, 95.0], WINDOW_HZ, margin=6.0)
    assert index == 0 and comparison['decision'] == 'disagrees'
    assert comparison['candidate'] == 'p(R1,CPE1)-p(R2,CPE2)-CPE3'
    assert 'higher by 25.0 (margin 6)' in comparison['reason']
    assert scores[0]['status'] == 'chosen'


def test_drt_agreement_near_the_window_ends_and_without_an_admissible_candidate():
    # a peak 2 MHz, within half a decade above the window: it may be the 1e4 Hz circuit's second arc or not
    index, comparison = weigh_drt(_two_candidates(3.0), 0, 'bic', [1.1e4, 2e6], WINDOW_HZ)
    assert index == 0 and comparison['decision'] == 'agrees' and comparison['n_arcs_range'] == [1, 2]
    # the DRT's two arcs have no candidate whose residuals are unstructured: noted, not decided
    scores = _two_candidates(3.0)
    scores[1]['structured'] = True
    index, comparison = weigh_drt(scores, 0, 'bic', [1.1e4, 95.0], WINDOW_HZ)
    assert index == 0 and comparison['decision'] == 'no_candidate'


def _pellet_fit(spectrum, **settings):
    return fit_spectrum(
        spectrum.frequency_hz,
        spectrum.z,
        cell_format='blocking_pellet',
        thickness_cm=spectrum.thickness_cm,
        area_cm2=spectrum.area_cm2,
        **settings,
    )


def test_drt_decides_a_pellet_the_criterion_cannot_tell():
    """Spectrum 274 of the benchmark's batch: one arc and the electrode at 51 C. AICc (which penalises parameters
    less than BIC) prefers a second arc by 2.3, no evidence either way; the DRT shows one arc, so the one-arc
    circuit is chosen, and it is the generating circuit."""
    (spectrum,) = pellet_series(
        1, [51.353662079280795], noise=0.00827104753039516, seed=662284945, sigma_25c_s_cm=1.6256417396232884e-05
    )
    result = _pellet_fit(spectrum, criterion='aicc')
    comparison = result.drt_comparison
    assert comparison['decision'] == 'changed', comparison
    assert comparison['criterion_choice'] == 'p(R1,CPE1)-p(R2,CPE2)-CPE3' != spectrum.circuit
    assert comparison['n_arcs'] == 1 and 0 < comparison['criterion_difference'] <= 6.0
    assert result.fit.circuit == spectrum.circuit == 'p(R1,CPE1)-CPE2'
    assert result.reason.startswith('p(R1,CPE1)-CPE2: chosen by the DRT: the DRT shows 1 arc(s) in the window')
    assert result.quality == 'good' and result.to_dict()['drt_comparison'] == comparison
    assert result.fit.values['R1'] == pytest.approx(spectrum.values['R1'], rel=0.02)
    # the criterion alone (the DRT only flags): the two-arc circuit, flagged
    alone = _pellet_fit(spectrum, criterion='aicc', drt_decides=False)
    assert alone.fit.circuit == 'p(R1,CPE1)-p(R2,CPE2)-CPE3'
    assert [flag['flag'] for flag in alone.flags] == ['drt_disagrees']


def test_drt_disagreeing_strongly_is_flagged():
    """Spectrum 189 of the benchmark's batch: a hot pellet whose one arc lies at 130 MHz, more than a decade above
    the window (10 MHz); the DRT shows its flank as a peak at 1.6 MHz. The only admissible candidate with an arc
    there is worse by more than the margin: the criterion's choice (the generating circuit) is kept and flagged."""
    (spectrum,) = pellet_series(
        1, [65.55874491104265], noise=0.00887878022037367, seed=405277570, sigma_25c_s_cm=0.00026226442895522947
    )
    result = _pellet_fit(spectrum)
    comparison = result.drt_comparison
    assert comparison['decision'] == 'disagrees' and comparison['criterion_difference'] > 6.0, comparison
    assert result.fit.circuit == spectrum.circuit
    assert result.quality == 'flagged'
    (flag,) = result.flags
    assert flag['flag'] == 'drt_disagrees'
    assert flag['reason'].startswith('DRT disagrees: the DRT shows 1 arc(s) in the window, p(R1,CPE1)-CPE2 has 0')
    assert "the criterion's choice is kept" in flag['reason']
