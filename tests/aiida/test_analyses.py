"""Analysis processes: inputs hold every parameter, results are versioned and cacheable, failures are clean."""

import numpy as np
import pytest
from aiida import orm
from aiida.manage.caching import enable_caching

from aiida_ssb.calculations.analyse import analyse_cycling, run_analysis
from aiida_ssb.calculations.record import assemble_cell
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.measurements import CyclingData, SymmetricCellData, VoltammogramData
from aiida_ssb.parsers.base import Measurement
from aiida_ssb.workflows import steps
from aiida_ssb.workflows.run import AnalysisRun


def gcpl_record(n_cycles=6, capacity_mah=0.15, fade=0.01, current_ma=0.0182, dt=60.0):
    """CC cycling of a cathode with a linear fade: discharge capacity of cycle k = capacity x (1 - fade k)."""
    t, v, i, cycle = [], [], [], []
    now = 0.0
    for k in range(n_cycles):
        q = capacity_mah * (1 - fade * k)
        for sign, (v0, v1) in ((1, (3.4, 4.1)), (-1, (4.0, 3.3))):
            duration = (q / 0.98 if sign > 0 else q) / current_ma * 3600.0
            steps = np.arange(0.0, duration, dt)
            t.extend(now + steps)
            v.extend(v0 + (v1 - v0) * steps / duration)
            i.extend(np.full(steps.size, sign * current_ma))
            cycle.extend(np.full(steps.size, k))
            now += duration + dt
    return Measurement(
        'gcpl',
        {
            'time_s': np.array(t),
            'voltage_v': np.array(v),
            'current_ma': np.array(i),
            'cycle_index': np.array(cycle, dtype=float),
        },
    )


@pytest.fixture
def cell(aiida_profile_clean):
    MaterialData(
        {
            'id': 'CATH',
            'role': 'composite',
            'nominal_composition': [
                {'material': 'NVOPF', 'fraction': '70 wt%', 'role': 'active_material'},
                {'material': 'SE', 'fraction': '30 wt%', 'role': 'electrolyte'},
            ],
        }
    ).store()
    MaterialData({'id': 'SE', 'role': 'electrolyte'}).store()
    MaterialData({'id': 'NA', 'role': 'metal_foil'}).store()
    node, _ = assemble_cell(
        {
            'id': 'FC',
            'format': 'full',
            'diameter': '12 mm',
            'one_c': '130 mA/g',
            'layers': [
                {'role': 'positive', 'material': 'CATH', 'mass': '2 mg'},
                {'role': 'separator', 'material': 'SE', 'mass': '80 mg'},
                {'role': 'negative', 'material': 'NA'},
            ],
        }
    )
    return node


def run_steps(cell, nodes, names, options=None):
    """The given steps of the cell analysis on these measurements (no workchain around them)."""
    run = AnalysisRun(cell, options, measurements=nodes)
    for name in names:
        getattr(steps, name)(run)
    return run


def summaries(run, name):
    return [outcome.outputs['summary'] for outcome in run.successful(name).values()]


def stored(cls, measurement, **conditions):
    return cls(measurement, conditions=conditions, sample_id='FC').store()


def test_cycling_summary_uses_the_cell_masses(cell):
    record = stored(CyclingData, gcpl_record())
    outputs, node = run_analysis(
        analyse_cycling,
        'test',
        measurement=record,
        cell=cell,
        options=orm.Dict({'reference': 'first', 'retention_at': [5]}),
    )
    summary = outputs['summary'].get_dict()
    assert summary['masses_mg'] == {'active': pytest.approx(1.4), 'composite': 2.0}
    assert summary['initial_discharge_capacity_mah_g_active'] == pytest.approx(0.15 / 1.4e-3, rel=5e-3)
    assert summary['capacity_retention_percent_at_end'] == pytest.approx(95.0, abs=0.3)
    assert summary['conventions']['ce_convention'] == 'discharge_over_charge'
    assert node.base.attributes.get('version')['plugin']
    curves = outputs['curves']
    assert curves.get_array('cycle__discharge_capacity_mah').shape[0] >= 6


def test_bad_option_is_refused_before_running(cell):
    record = stored(CyclingData, gcpl_record())
    with pytest.raises(ValueError, match='reference rule'):
        run_analysis(analyse_cycling, 'test', measurement=record, cell=cell, options=orm.Dict({'reference': 'second'}))


def test_impossible_analysis_fails_with_a_message(cell):
    record = stored(CyclingData, gcpl_record(n_cycles=3))
    with pytest.raises(ValueError, match='cycle 50 is missing'):
        run_analysis(
            analyse_cycling, 'test', measurement=record, cell=cell, options=orm.Dict({'reference': 'cycle:50'})
        )


def test_analyses_come_from_the_cache_when_nothing_changed(cell):
    record = stored(CyclingData, gcpl_record())
    options = {'reference': 'first'}
    with enable_caching(identifier='aiida.calculations:ssb.analyse.*'):
        _, first = run_analysis(analyse_cycling, 'a', measurement=record, cell=cell, options=orm.Dict(options))
        _, again = run_analysis(analyse_cycling, 'b', measurement=record, cell=cell, options=orm.Dict(options))
        _, changed = run_analysis(
            analyse_cycling, 'c', measurement=record, cell=cell, options=orm.Dict({'reference': 'cycle:2'})
        )
    assert again.base.caching.is_created_from_cache and again.base.caching.get_cache_source() == first.uuid
    assert not changed.base.caching.is_created_from_cache


def _symmetric_cell_record():
    """A stepped-current Na|SE|Na record whose soft short comes at 0.14 mA and the hard one at 0.30 mA."""
    from tests.analysis.test_ccd import Failure, make_symmetric_record

    (t, v, i), _ = make_symmetric_record(
        soft=Failure(0.14, 0, 0.5, 0.3), hard=Failure(0.30, 1, 0.5, 0.0), area_cm2=0.785
    )
    return t, v, i


def test_cycling_workchain_runs_ccd_on_symmetric_records(aiida_profile_clean):
    MaterialData({'id': 'SE', 'role': 'electrolyte'}).store()
    MaterialData({'id': 'NA', 'role': 'metal_foil'}).store()
    sym, _ = assemble_cell(
        {
            'id': 'SYM',
            'format': 'symmetric',
            'diameter': '10 mm',
            'layers': [
                {'role': 'negative', 'material': 'NA'},
                {'role': 'electrolyte', 'material': 'SE'},
                {'role': 'negative', 'material': 'NA'},
            ],
        }
    )
    t, v, i = _symmetric_cell_record()
    record = SymmetricCellData(
        Measurement('gcpl', {'time_s': t, 'voltage_v': v, 'current_ma': i}), sample_id='SYM'
    ).store()
    run = run_steps(sym, [record], ('cycling', 'ccd', 'dqdv', 'gitt', 'pitt', 'dc_polarisation', 'transference_number'))
    assert not run.failures, run.failures
    assert 'cycling' not in run.results  # a symmetric cell's record gets the CCD, not a cycling summary
    # what cannot apply to a symmetric cell's galvanostatic record is recorded, not reported
    assert {'cycling', 'dqdv', 'gitt', 'pitt', 'transference_number'} <= set(run.skipped)
    assert run.skips_to_report() == {}
    (summary,) = summaries(run, 'ccd')
    assert summary['ccd_ma_cm2'] == pytest.approx(0.12, abs=1e-3)  # generator area 0.785, cell 0.7854 cm2
    assert summary['zero_volt_failing_ma_cm2'] == pytest.approx(0.30, abs=1e-3)
    assert summary['area_cm2'] == pytest.approx(0.7854, abs=1e-4)


def test_a_half_cell_run_reports_no_analysis_that_cannot_apply(cell):
    """A full cell's GCPL record: no CCD (not symmetric), no GITT/PITT (other protocols), no Arrhenius (no
    spectra) in the report of what was not run; each is still recorded with its reason."""
    record = stored(CyclingData, gcpl_record())
    run = run_steps(cell, [record], ('cycling', 'ccd', 'gitt', 'pitt', 'dc_polarisation', 'arrhenius'))
    assert not run.failures, run.failures
    assert {'ccd', 'gitt', 'pitt', 'dc_polarisation', 'arrhenius'} <= set(run.skipped)
    assert run.skips_to_report() == {}


def test_workchain_reports_failures_and_keeps_the_successes(cell):
    good = stored(CyclingData, gcpl_record())
    one_direction = Measurement(
        'gcpl', {'time_s': np.arange(10.0), 'voltage_v': np.linspace(3, 4, 10), 'current_ma': np.zeros(10)}
    )
    bad = stored(CyclingData, one_direction)
    run = run_steps(cell, [good, bad], ('cycling',), {'cycling': {'reference': 'first'}})
    assert len(run.failures) == 1 and 'cycling' in run.failures[0]
    assert len(summaries(run, 'cycling')) == 1
    failed = [outcome.process for outcome in run.results['cycling'].values() if not outcome.ok]
    assert failed[0].exit_status >= 300 and failed[0].exit_message


def test_oxidative_stability_links_the_electrolyte(cell, shared_file):
    from aiida_ssb.parsers import read

    record = stored(VoltammogramData, read(shared_file('biologic/cv.mpt')), temperature_c=60.0)
    run = run_steps(cell, [record], ('onsets', 'stepwise_cv'), {'onsets': {'direction': 'anodic'}})
    assert not run.failures, run.failures
    (summary,) = summaries(run, 'onsets')
    # a smoothly accelerating current: the onset comes with a wide band (tests/analysis/test_voltammetry.py)
    assert (
        summary['oxidative_onset_band_low_v'] <= summary['oxidative_onset_v'] <= summary['oxidative_onset_band_high_v']
    )
    assert 3.1 < summary['oxidative_onset_v'] < 3.5
    assert summary['electrolyte_sample_id'] == 'SE' and summary['measurement_temperature_c'] == 60.0
    process = summary.creator
    assert process.inputs.electrolyte.base.attributes.get('sample_id') == 'SE'
    assert process.inputs.measurement.uuid == record.uuid


@pytest.mark.heavy
def test_stepwise_cv_is_recognised_and_analysed(cell, tmp_path):
    from aiida_ssb.calculations.analyse import rising_cutoffs
    from tests.analysis.test_voltammetry import synthetic_stepwise

    potential, current, time, cutoffs = synthetic_stepwise()
    record = stored(
        VoltammogramData,
        Measurement('cv', {'time_s': time, 'voltage_v': potential, 'current_ma': current}),
        temperature_c=25.0,
        scan_rate_mv_s=0.05,
    )
    assert len(rising_cutoffs(record)) == len(cutoffs)
    run = run_steps(cell, [record], ('onsets', 'stepwise_cv'))
    assert not run.failures, run.failures
    (stepwise,) = summaries(run, 'stepwise_cv')
    assert stepwise['soaring_cutoff_v'] == pytest.approx(4.25, abs=0.051)
    assert stepwise['n_steps'] == len(cutoffs)
    from aiida_ssb.plotting.common import save_figure
    from aiida_ssb.plotting.voltammetry import plot_stepwise_cv

    save_figure(plot_stepwise_cv(potential, current, stepwise['steps']), tmp_path / 'stepwise.png')
    assert (tmp_path / 'stepwise.png').stat().st_size > 5000
