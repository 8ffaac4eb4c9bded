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
                {'role': 'electrolyte', 'material': 'SE', 'thickness': f'{THICKNESS_CM * 1e4} um +- 10 um'},
                {'role': 'blocking_electrode', 'material': 'C'},
            ],
        }
    )
    return cell


@pytest.mark.heavy
def test_conductivity_and_arrhenius_from_a_temperature_series(pellet):
    nodes = []
    for index, t_c in enumerate(range(-10, 61, 14)):
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
        assert summary['conductivity_low_s_cm'] < summary['conductivity_s_cm'] < summary['conductivity_high_s_cm']
        assert summary['interval_sources'] == ['fit', 'thickness']  # the pellet's '500 um +- 10 um'
    (arrhenius,) = summaries(run, 'arrhenius')
    assert arrhenius['activation_energy_ev'] == pytest.approx(0.35, abs=0.01)
    assert arrhenius['conductivity_at_reference_s_cm'] == pytest.approx(1e-3, rel=0.03)
    assert arrhenius['form'] == 'sigma_t' and arrhenius['n_regimes'] == 1
    assert (
        arrhenius['activation_energy_low_ev']
        < arrhenius['activation_energy_ev']
        < arrhenius['activation_energy_high_ev']
    )
    assert arrhenius['systematic_rel'] == pytest.approx(10 / 500)
    fits = summaries(run, 'eis_fit')
    assert all(fit['accepted'] and fit['role_r1'] == 'bulk' and fit['circuit_choice'] == 'automatic' for fit in fits)


@pytest.mark.heavy
def test_a_pellet_at_two_temperatures_reports_why_it_has_no_arrhenius_fit(pellet):
    """The Arrhenius fit applies to a pellet but needs three temperatures: reported; interface growth and cell
    impedance cannot apply to it: recorded, not reported."""
    nodes = []
    for index, t_c in enumerate((20.0, 40.0)):
        r_bulk = THICKNESS_CM / (sigma_true(t_c) * AREA)
        record = spectrum([rq(r_bulk, 2e-10, 0.92), cpe(2e-6, 0.85)], f=np.logspace(7, -1, 31), seed=index)
        nodes.append(ImpedanceSpectrumData(record, conditions={'temperature_c': t_c}, sample_id='PEL').store())
    run = run_steps(pellet, nodes, ('eis_fit', 'conductivity', 'arrhenius', 'interface_growth', 'cell_impedance'))
    assert not run.failures, run.failures
    assert {'interface_growth', 'cell_impedance'} <= set(run.skipped)
    assert run.skips_to_report() == {'arrhenius': '2 distinct temperatures'}


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
    # a bare circuit string, no roles: the interface is found by physics (the failure)
    options = {'eis': {'circuit': 'R0-p(R1,CPE1)', 'compare_pinned': False}, 'growth': {'element': 'interface'}}
    run = run_steps(cell, nodes, ('eis_fit', 'interface_growth'), options)
    assert not run.failures, run.failures
    (growth,) = summaries(run, 'interface_growth')
    assert growth['rate_constant_ohm_cm2_per_sqrt_h'] == pytest.approx(14.6, rel=0.03)
    assert growth['initial_resistance_ohm_cm2'] == pytest.approx(29.6, rel=0.05)
    assert growth['element'] == 'R1'
    assert growth['rate_constant_low_ohm_cm2_per_sqrt_h'] < 14.6 < growth['rate_constant_high_ohm_cm2_per_sqrt_h']


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


def full_cell(sample_id, fmt='full'):
    MaterialData({'id': 'CATH', 'role': 'composite'}).store()
    MaterialData({'id': 'SE', 'role': 'electrolyte'}).store()
    MaterialData({'id': 'NA', 'role': 'metal_foil'}).store()
    cell, _ = assemble_cell(
        {
            'id': sample_id,
            'format': fmt,
            'diameter': '12 mm',
            'layers': [
                {'role': 'positive', 'material': 'CATH', 'mass': '2 mg'},
                {'role': 'separator', 'material': 'SE', 'mass': '80 mg', 'thickness': '600 um'},
                {'role': 'negative', 'material': 'NA'},
            ],
        }
    )
    return cell


def known_records(spectra, sample_id, **conditions):
    nodes = []
    for k, known in enumerate(spectra):
        record = Measurement(
            'peis', {'frequency_hz': known.frequency_hz, 'z_real_ohm': known.z.real, 'z_imag_ohm': known.z.imag}
        )
        labels = {key: int(v) for key, v in known.state.items() if key == 'cycle_index'}
        nodes.append(ImpedanceSpectrumData(record, conditions={**labels, **conditions}, sample_id=sample_id).store())
    return nodes


@pytest.mark.heavy
def test_full_cell_interphase_tracked_from_the_automatic_path(aiida_profile_clean):
    """The interface arc appears only after cycling: the initial spectrum gets the one-arc circuit, the others two,
    and the cathode interphase (by physics) is tracked over cycles; the spectrum without it is listed, not 0."""
    from aiida_ssb.analysis.eis.synthetic import full_cell_series

    cell = full_cell('FC')
    spectra = full_cell_series([0, 2, 5, 9], seed=1, frequency_hz=np.logspace(np.log10(2e5), -2, 43))
    run = run_steps(cell, known_records(spectra, 'FC'), ('eis_fit', 'interface_growth', 'cell_impedance'))
    assert not run.failures, run.failures
    fits = {fit['measurement_cycle_index']: fit for fit in summaries(run, 'eis_fit')}
    assert fits[0]['circuit'] == 'R0-p(R1,CPE1)-CPE2' and fits[5]['circuit'] == 'R0-p(R1,CPE1)-p(R2,CPE2)'
    (growth,) = summaries(run, 'interface_growth')
    assert growth['against'] == 'cycle_index' and growth['element'] == 'R2' and growth['n_points'] == 3
    assert len(growth['spectra_without_element']) == 1
    expected = spectra[-1].values['R2'] * spectra[-1].area_cm2
    assert growth['last_resistance_ohm_cm2'] == pytest.approx(expected, rel=0.03)
    assert run.skipped['cell_impedance'].startswith('the spectra go to')


def test_unlabelled_half_cell_spectra_go_to_cell_impedance(aiida_profile_clean):
    from aiida_ssb.analysis.eis.synthetic import full_cell_series

    cell = full_cell('HC', 'half')
    (known,) = full_cell_series([3], seed=2, frequency_hz=np.logspace(np.log10(2e5), -2, 43))
    known.state = {}
    nodes = known_records([known], 'HC', temperature_c=25.0)
    run = run_steps(cell, nodes, ('eis_fit', 'conductivity', 'cell_impedance'))
    assert not run.failures, run.failures
    assert 'conductivity' in run.skipped and 'conductivity' not in run.results
    (result,) = summaries(run, 'cell_impedance')
    assert result['interface_resistance_ohm_cm2'] == pytest.approx(known.values['R1'] * known.area_cm2, rel=0.03)
    assert result['cathode_interphase_resistance_ohm_cm2'] == pytest.approx(
        known.values['R2'] * known.area_cm2, rel=0.03
    )
    assert result['electrolyte_conductivity_s_cm'] == pytest.approx(0.06 / 50.0, rel=0.03)
    assert result['interface_resistance_low_ohm_cm2'] < result['interface_resistance_ohm_cm2']
    assert steps.impedance_route(run) == 'cell_impedance'


@pytest.mark.heavy
def test_failed_reanalysis_keeps_the_previous_numbers_and_show_prints_intervals(pellet, tmp_path):
    """`analyse`, then a re-analysis whose options make the conductivity fail: the cell still reports its
    conductivity, its interval and the fit quality (issue 15: the failed run emptied it)."""
    from click.testing import CliRunner

    from aiida_ssb.cli import cmd_ssb

    def cli(*args):
        return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)

    for index, t_c in enumerate((0.0, 25.0, 50.0)):
        r_bulk = THICKNESS_CM / (sigma_true(t_c) * AREA)
        record = spectrum([rq(r_bulk, 2e-10, 0.92), cpe(2e-6, 0.85)], f=np.logspace(7, -1, 41), seed=index)
        path = tmp_path / f'PEL_{index}.csv'
        columns = record.columns
        np.savetxt(
            path,
            np.column_stack([columns['frequency_hz'], columns['z_real_ohm'], columns['z_imag_ohm']]),
            delimiter=',',
        )
        imported = cli('import-file', path, '--cell', 'PEL', '--temperature', f'{t_c} degC', '--technique', 'peis')
        assert imported.exit_code == 0, imported.output
    first = cli('analyse', 'PEL')
    assert first.exit_code == 0 and 'PEL: analysed' in first.output, first.output
    before = pellet.base.extras.get('ssb')
    assert before['conductivity_25c_s_cm'] == pytest.approx(1e-3, rel=0.03)
    assert before['eis_fit_quality'] == 'good' and before['eis_fits'] == 3
    assert before['conductivity_25c_low_s_cm'] < before['conductivity_25c_s_cm'] < before['conductivity_25c_high_s_cm']
    # the cell summary links what it reads: every fit, the sources of its numbers and the flagged summaries; not
    # the unflagged DRTs
    from aiida_ssb.data.index import latest_cell_summary

    summary = latest_cell_summary(pellet)
    linked = [node for node in summary.creator.base.links.get_incoming().all_nodes() if isinstance(node, orm.Dict)]
    sources = set(summary['sources'].values())
    assert [n.base.attributes.get('analysis') for n in linked].count('eis_fit') == 3
    for node in linked:
        assert node.uuid in sources or node['analysis'] == 'eis_fit' or node.get('flags'), node.get_dict()
    assert len(linked) < 3 * 3 + 1  # 3 fits, 3 DRTs, 3 conductivities and the Arrhenius fit were made
    shown = cli('show', 'PEL').output
    for key in ('conductivity_25c_low_s_cm', 'activation_energy_low_ev', 'eis_fit_quality'):
        assert key in shown, shown
    failing = cli(
        'analyse',
        'PEL',
        '--set',
        'eis_fit.circuit=R0-CPE1',
        '--set',
        'conductivity.method=fit',
        '--set',
        'conductivity.resistance=grain_boundary',
    )
    assert 'some analyses failed' in failing.output and "no resistance 'grain_boundary'" in failing.output
    assert 'impedance fits: 3 of 3 flagged (pinned_circuit_rejected' in failing.output
    after = pellet.base.extras.get('ssb')
    assert after['conductivity_25c_s_cm'] == before['conductivity_25c_s_cm']
    assert after['activation_energy_ev'] == before['activation_energy_ev']
    assert after['eis_fits_flagged'] == 3 and 'pinned_circuit_rejected' in after['eis_fit_quality']
