"""Impedance steps of the cell analysis: conductivity against temperature with Arrhenius, interface growth over time."""

import numpy as np
import pytest
from aiida import orm

from aiida_ssb.calculations.record import assemble_cell
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.measurements import ImpedanceSpectrumData
from aiida_ssb.parsers.base import Measurement
from aiida_ssb.workflows import steps
from aiida_ssb.workflows.run import AnalysisRun

K_B = 8.617333262e-5
THICKNESS_CM, DIAMETER_MM = 0.05, 10.0
AREA = np.pi * 0.5**2


def spectrum(parts, f=None, noise=0.003, seed=0):
    f = np.logspace(7, -1, 60) if f is None else f
    w = 2j * np.pi * f
    z = sum(part(w) for part in parts)
    rng = np.random.default_rng(seed)
    z = z + noise * np.abs(z) * (rng.normal(size=f.size) + 1j * rng.normal(size=f.size)) / np.sqrt(2)
    return Measurement('peis', {'frequency_hz': f, 'z_real_ohm': z.real, 'z_imag_ohm': z.imag})


def rq(r, q, a):
    return lambda w: r / (1 + r * q * w**a)


def cpe(q, a):
    return lambda w: 1 / (q * w**a)


def run_steps(cell, nodes, names, options=None):
    """The given steps of the cell analysis on these measurements (no workchain around them)."""
    run = AnalysisRun(cell, options, measurements=nodes)
    for name in names:
        getattr(steps, name)(run)
    return run


def summaries(run, name):
    return [outcome.outputs['summary'] for outcome in run.successful(name).values()]


def sigma_true(t_c, ea=0.35, sigma25=1e-3):
    t = t_c + 273.15
    return sigma25 * 298.15 / t * np.exp(-ea / K_B * (1 / t - 1 / 298.15))


@pytest.fixture
def pellet(aiida_profile_clean):
    MaterialData({'id': 'SE', 'role': 'electrolyte'}).store()
    MaterialData({'id': 'C', 'role': 'carbon'}).store()
    cell, _ = assemble_cell(
        {
            'id': 'PEL',
            'format': 'blocking_pellet',
            'diameter': f'{DIAMETER_MM} mm',
            'layers': [
                {'role': 'blocking_electrode', 'material': 'C'},
                {'role': 'electrolyte', 'material': 'SE', 'thickness': f'{THICKNESS_CM * 1e4} um'},
                {'role': 'blocking_electrode', 'material': 'C'},
            ],
        }
    )
    return cell


def test_conductivity_and_arrhenius_from_a_temperature_series(pellet):
    nodes = []
    for index, t_c in enumerate(range(-10, 61, 10)):
        r_bulk = THICKNESS_CM / (sigma_true(t_c) * AREA)
        record = spectrum([rq(r_bulk, 2e-10, 0.92), cpe(2e-6, 0.85)], seed=index)
        nodes.append(ImpedanceSpectrumData(record, conditions={'temperature_c': float(t_c)}, sample_id='PEL').store())
    run = run_steps(pellet, nodes, ('eis_fit', 'conductivity', 'arrhenius'))
    assert not run.failures, run.failures
    conductivities = {c['measurement_temperature_c']: c for c in summaries(run, 'conductivity')}
    assert len(conductivities) == len(nodes)
    for t_c, summary in conductivities.items():
        assert summary['conductivity_s_cm'] == pytest.approx(sigma_true(t_c), rel=0.02), t_c
        assert summary['electrolyte_sample_id'] == 'SE'
    (arrhenius,) = summaries(run, 'arrhenius')
    assert arrhenius['activation_energy_ev'] == pytest.approx(0.35, abs=0.01)
    assert arrhenius['conductivity_at_reference_s_cm'] == pytest.approx(1e-3, rel=0.03)
    assert arrhenius['form'] == 'sigma_t'
    fits = summaries(run, 'eis_fit')
    assert all(fit['accepted'] and fit['role_r1'] == 'bulk' for fit in fits)


def test_interface_growth_reproduces_the_parabolic_law(aiida_profile_clean):
    MaterialData({'id': 'SE', 'role': 'electrolyte'}).store()
    MaterialData({'id': 'LI', 'role': 'metal_foil'}).store()
    cell, _ = assemble_cell(
        {
            'id': 'SYM',
            'format': 'symmetric',
            'diameter': '10 mm',
            'layers': [
                {'role': 'negative', 'material': 'LI'},
                {'role': 'electrolyte', 'material': 'SE', 'thickness': '500 um'},
                {'role': 'negative', 'material': 'LI'},
            ],
        }
    )
    nodes = []
    for index, t_h in enumerate((6, 10, 20, 30, 45, 60, 80)):
        r_sei = (29.6 + 14.6 * np.sqrt(t_h)) / AREA
        record = spectrum([lambda w: 50.0, rq(r_sei, 1e-6, 0.9)], f=np.logspace(6, -1, 50), seed=index)
        nodes.append(
            ImpedanceSpectrumData(record, conditions={'time_since_assembly_h': float(t_h)}, sample_id='SYM').store()
        )
    options = {
        'eis': {'circuit': 'R0-p(R1,CPE1)', 'roles': {'R0': 'electrolyte', 'R1': 'interface'}},
        'growth': {'element': 'interface'},
    }
    run = run_steps(cell, nodes, ('eis_fit', 'interface_growth'), options)
    assert not run.failures, run.failures
    (growth,) = summaries(run, 'interface_growth')
    assert growth['rate_constant_ohm_cm2_per_sqrt_h'] == pytest.approx(14.6, rel=0.03)
    assert growth['initial_resistance_ohm_cm2'] == pytest.approx(29.6, rel=0.05)
    assert growth['element'] == 'R1'


def test_missing_geometry_is_a_clear_failure(aiida_profile_clean):
    MaterialData({'id': 'SE', 'role': 'electrolyte'}).store()
    cell, _ = assemble_cell(
        {'id': 'P2', 'format': 'blocking_pellet', 'layers': [{'role': 'electrolyte', 'material': 'SE'}]}
    )
    record = ImpedanceSpectrumData(spectrum([rq(100, 1e-9, 0.9), cpe(1e-6, 0.85)]), sample_id='P2').store()
    run = run_steps(cell, [record], ('eis_fit', 'conductivity'))
    (outcome,) = run.results['conductivity'].values()
    assert outcome.process.exit_status == 340  # MissingInputError
    assert 'lacks the electrolyte thickness or area' in outcome.process.exit_message
    assert any('lacks the electrolyte thickness' in failure for failure in run.failures)


def test_real_spectrum_conductivity_methods(pellet, shared_file):
    from aiida_ssb.calculations.analyse import analyse_conductivity, run_analysis
    from aiida_ssb.parsers import read

    record = ImpedanceSpectrumData(read(shared_file('eis/exampleData.csv')), conditions={'temperature_c': 25.0}).store()
    values = {}
    for method in ('intercept', 'plateau'):
        outputs, _ = run_analysis(
            analyse_conductivity, method, spectrum=record, cell=pellet, options=orm.Dict({'method': method})
        )
        values[method] = outputs['summary'].get_dict()
        assert values[method]['conductivity_s_cm'] > 0 and values[method]['method_used'] == method
