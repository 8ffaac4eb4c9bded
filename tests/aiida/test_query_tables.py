"""The tables tell the truth at a glance (issue 19, points 1, 4, 5, 6): lineage columns that never contradict the
filter, every stored number queryable under its documented name, results in the default tables, per-cycle and
per-spectrum tables."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb
from tests.parsers.helpers import ec_lab, write_mpt

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / 'examples' / 'manifests' / 'seed000_nvopf_4v.yaml'
GCPL_NAMES = ['mode', 'Ns', 'time/s', 'Ewe/V', 'I/mA', 'cycle number']


def invoke(*args):
    return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)


def write_cycling(path: pathlib.Path, n_cycles: int = 7, capacity_mah: float = 0.15, fade: float = 0.02) -> None:
    """An EC-Lab GCPL export of a cathode with a linear fade (discharge capacity of cycle k: capacity (1 - fade k))."""
    current, dt, now, rows = 0.05, 30.0, 0.0, []
    for k in range(n_cycles):
        q = capacity_mah * (1 - fade * k)
        for step, (sign, v0, v1) in enumerate(((1, 3.4, 4.1), (-1, 4.0, 3.3))):
            duration = (q / 0.98 if sign > 0 else q) / current * 3600.0
            for t in np.arange(0.0, duration, dt):
                voltage = v0 + (v1 - v0) * t / duration
                rows.append(['1', str(step), ec_lab(now + t, 15), ec_lab(voltage), ec_lab(sign * current), ec_lab(k)])
            now += duration + dt
    write_mpt(path, GCPL_NAMES, rows)


def write_spectrum(path: pathlib.Path, r: float) -> None:
    """An impedance table (frequency, Z', Z'') of an R||C arc and a blocking capacitance of resistance ``r``."""
    f = np.logspace(6, -1, 40)
    z = r / (1 + 1j * 2 * np.pi * f * r * 1e-9) + 1 / (1j * 2 * np.pi * f * 1e-6)
    path.write_text(''.join(f'{a:.6e},{b:.6e},{c:.6e}\n' for a, b, c in zip(f, z.real, z.imag)))


@pytest.fixture(scope='module')
def campaign(aiida_profile, tmp_path_factory):
    """Seed 000 imported (its positive electrode has ball millings of 30 and 90 min upstream), a cycling record
    of FC-01 analysed with retention at cycle 5, three spectra of the conductivity pellet (25, 40, 60 degC)."""
    from aiida_ssb.importer.measurements import import_file

    aiida_profile.reset_storage()
    folder = tmp_path_factory.mktemp('records')
    assert invoke('import', EXAMPLE).exit_code == 0
    write_cycling(folder / 'FC-01_gcpl.mpt')
    import_file(folder / 'FC-01_gcpl.mpt', 'FC-01', technique='galvanostatic_cycling', temperature='25 degC')
    for temperature, r in ((25, 4000.0), (40, 1500.0), (60, 600.0)):
        path = folder / f'PEIS_{temperature}C.csv'
        write_spectrum(path, r)
        import_file(path, 'COND-NCBB-01', technique='impedance', temperature=f'{temperature} degC')
    result = invoke('analyse', 'FC-01', 'COND-NCBB-01', '--set', 'cycling.retention_at=[5]')
    assert result.exit_code == 0, result.output
    return folder


def rows(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# ------------------------------------------------------------------------------------------------ 1: lineage
def test_lineage_column_shows_every_upstream_value_that_the_filter_saw(campaign):
    """FC-01's positive electrode has a 30-min milling (nearest) and a 90-min one further upstream: the filter
    ">= 90" matches through the 90-min one, and the column shows both, nearest first, never only the 30."""
    found = rows(
        invoke(
            'cells',
            '--where',
            'positive.ball_milling.duration_min >= 90',
            '--columns',
            'sample_id,positive.ball_milling.duration_min',
            '--format',
            'json',
        )
    )
    assert found == [
        {'sample_id': 'FC-01', 'positive.ball_milling.duration_min': '30; 90'},
        {'sample_id': 'FC-HL-01', 'positive.ball_milling.duration_min': '30; 90'},
    ]
    text = invoke(
        'cells',
        '--where',
        'positive.ball_milling.duration_min >= 90',
        '--columns',
        'sample_id,positive.ball_milling.duration_min',
    ).output
    assert '30; 90' in text and 'COND-NCBB-01' not in text


def test_lineage_nearest_reads_only_the_nearest_step(campaign):
    args = ('cells', '--lineage', 'nearest', '--columns', 'sample_id,positive.ball_milling.duration_min')
    assert 'no rows' in invoke(*args, '--where', 'positive.ball_milling.duration_min >= 90').output
    found = rows(invoke(*args, '--where', 'positive.ball_milling.duration_min >= 30', '--format', 'json'))
    assert [(row['sample_id'], row['positive.ball_milling.duration_min']) for row in found] == [
        ('FC-01', 30),
        ('FC-HL-01', 30),
    ]


def test_lineage_columns_sort_by_the_nearest_value_and_samples_follow_the_same_rule(campaign):
    result = invoke(
        'cells',
        '--columns',
        'sample_id,positive.ball_milling.duration_min',
        '--sort',
        'positive.ball_milling.duration_min',
    )
    assert result.exit_code == 0, result.output
    found = rows(
        invoke(
            'samples',
            '--where',
            'ball_milling.duration_min >= 90',
            '--columns',
            'sample_id,ball_milling.duration_min',
            '--format',
            'json',
        )
    )
    values = {row['sample_id']: row['ball_milling.duration_min'] for row in found}
    assert values['VPO4-PRE-01'] == 90 and values['CATH-01'] == '30; 90' and values['NVOPF-WM-01'] == '30; 90'
    assert 'NVOPF-WM-01' not in {
        row['sample_id']
        for row in rows(
            invoke('samples', '--lineage', 'nearest', '--where', 'ball_milling.duration_min >= 90', '--format', 'json')
        )
    }


def test_web_page_and_python_api_follow_the_same_lineage_rule(campaign):
    from aiida_ssb.query import QueryError, cells
    from aiida_ssb.query.paging import table_page

    page = table_page('cells', columns=['sample_id', 'positive.ball_milling.duration_min'])
    values = {row['sample_id']: row['positive.ball_milling.duration_min'] for row in page.rows}
    assert values == {'COND-NCBB-01': None, 'FC-01': '30; 90', 'FC-HL-01': '30; 90'}
    frame = cells(columns=['sample_id', 'positive.ball_milling.duration_min'], lineage='nearest')
    assert list(frame['positive.ball_milling.duration_min'].dropna()) == [30, 30]
    with pytest.raises(QueryError, match='any, nearest'):
        cells(lineage='closest')


# ------------------------------------------------------------------------------------------------ 4: every field
def test_parametrised_retention_is_queryable_at_any_computed_cycle(campaign):
    found = rows(
        invoke(
            'cells',
            '--where',
            'capacity_retention_percent_at_5 >= 90',
            '--columns',
            'sample_id,capacity_retention_percent_at_5',
            '--format',
            'json',
        )
    )
    assert [row['sample_id'] for row in found] == ['FC-01']
    assert found[0]['capacity_retention_percent_at_5'] == pytest.approx(92.0, abs=0.6)
    found = rows(invoke('cells', '--retention-min', 90, '--at-cycle', 5, '--format', 'json'))
    assert [row['sample_id'] for row in found] == ['FC-01']
    assert found[0]['capacity_retention_percent_at_5'] == pytest.approx(92.0, abs=0.6)
    # a value with a unit: percent
    for value, expected in (('95 %', []), ('90 %', ['FC-01'])):
        found = rows(invoke('cells', '--where', f'capacity_retention_percent_at_5 >= {value}', '--format', 'json'))
        assert [row['sample_id'] for row in found] == expected


def test_at_cycle_takes_any_cycle_from_the_per_cycle_table(campaign):
    """Cycle 3 was not among cycling.retention_at: the value comes from the per-cycle table of the same result,
    which gives exactly the indexed value at cycle 5."""
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.query.catalogue import _PerCycle

    found = rows(invoke('cells', '--retention-min', 95, '--at-cycle', 3, '--format', 'json'))
    assert [row['sample_id'] for row in found] == ['FC-01']
    assert found[0]['capacity_retention_percent_at_3'] == pytest.approx(96.0, abs=0.6)
    index = dict(load_sample('FC-01').base.extras.get('ssb'))
    indexed = index.pop('capacity_retention_percent_at_5')
    assert _PerCycle().value(index, 'capacity_retention_percent_at_5') == pytest.approx(indexed, rel=1e-12)
    from aiida_ssb.query.paging import table_page

    page = table_page(
        'cells', filters=['capacity_retention_percent_at_3 >= 95'], columns=['capacity_retention_percent_at_3']
    )
    assert [row['sample_id'] for row in page.rows] == ['FC-01'] and not page.exact_paging
    assert page.rows[0]['capacity_retention_percent_at_3'] == pytest.approx(96.0, abs=0.6)
    result = CliRunner().invoke(cmd_ssb, ['cells', '--retention-min', '50', '--at-cycle', '50'])
    assert result.exit_code == 0
    assert 'no rows' in result.output and 'No analysed cell has a complete cycle 50' in result.output


def test_exported_values_are_queryable_under_their_names(campaign):
    found = rows(invoke('cells', '--where', 'area_cm2 > 1', '--columns', 'sample_id,area_cm2', '--format', 'json'))
    assert [row['sample_id'] for row in found] == ['FC-01', 'FC-HL-01']
    assert found[0]['area_cm2'] == pytest.approx(1.131, abs=1e-3)
    result = invoke('cells', '--columns', 'sample_id,conductivity_25c_extrapolated,energy_retention_percent_at_5')
    assert result.exit_code == 0 and 'conductivity_25c_extrapolated' in result.output
    # every scalar value of the cells export is a field of the cells table
    from aiida import orm

    from aiida_ssb.data.cell import CellData
    from aiida_ssb.query.export import _cell_row
    from aiida_ssb.query.tables import cells

    for cell in orm.QueryBuilder().append(CellData).all(flat=True):
        names = [name for name in _cell_row(cell) if name not in ('layers', 'summary_uuid', 'indexed_unix_s')]
        frame = cells(columns=names)
        assert list(frame.columns) == names


def test_any_number_of_an_analysis_result_is_a_field(campaign):
    """ANALYSIS.KEY: a number of the newest summary of that analysis (the analyses export has the same names)."""
    found = rows(
        invoke(
            'cells',
            '--where',
            'cycling.cycles_to_95_percent <= 3',
            '--columns',
            'sample_id,cycling.cycles_to_95_percent,cycling.area_cm2',
            '--format',
            'json',
        )
    )
    assert [(row['sample_id'], row['cycling.cycles_to_95_percent']) for row in found] == [('FC-01', 3)]
    assert found[0]['cycling.area_cm2'] == pytest.approx(1.131, abs=1e-3)
    found = rows(invoke('cells', '--columns', 'sample_id,conductivity.area_cm2', '--format', 'json'))
    assert [row['conductivity.area_cm2'] is not None for row in found] == [True, False, False]
    result = CliRunner().invoke(cmd_ssb, ['cells', '--where', 'cycling.cycles_to_96_percent < 3'])
    assert (
        result.exit_code == 1 and 'no cycling result holds' in result.output and 'cycles_to_95_percent' in result.output
    )


def test_field_list_is_generated_from_the_code_and_the_profile(campaign):
    text = invoke('cells', '--help-fields').output
    for line in (
        'capacity_retention_percent_at_5 [percent]  (analysis)',
        'capacity_retention_percent_at_N [percent]  (analysis)',
        'area_cm2 [cm^2]  (record)',
        'conductivity_25c_extrapolated  (analysis)',
        'interface_resistance_ohm_cm2 [ohm*cm^2]  (analysis)',
        'gitt_diffusion_coefficient_cm2_s [cm^2/s]  (analysis)',
        'ROLE.KIND.PARAMETER',
    ):
        assert line in text, line
    assert 'reference cycle' in next(
        line for line in text.splitlines() if line.startswith('average_discharge_voltage_v')
    )
    result = CliRunner().invoke(cmd_ssb, ['cells', '--where', 'capacity_retention_at_5 > 1'])
    assert result.exit_code == 1 and 'Traceback' not in result.output
    assert 'capacity_retention_percent_at_5' in result.output and 'area_cm2' in result.output
    assert '--help-fields' in result.output
    assert 'tga_mass_loss_percent' in invoke('samples', '--help-fields').output


def test_values_with_units_convert_to_the_unit_of_result_names():
    from aiida_ssb.query.tables import parse_filter

    assert parse_filter('interface_resistance_ohm_cm2 < 5 kohm*cm^2').value == pytest.approx(5000.0)
    assert parse_filter('gitt_diffusion_coefficient_cm2_s > 1e-12 m^2/s').value == pytest.approx(1e-8)
    assert parse_filter('capacity_retention_percent_at_7 >= 0.8').value == pytest.approx(0.8)
    assert parse_filter('capacity_retention_percent_at_7 >= 80 %').value == pytest.approx(80.0)


# ------------------------------------------------------------------------------------------------ 5: default tables
def test_default_tables_show_the_headline_results_of_the_analyses_that_ran(campaign):
    result = invoke('cells', '--format', 'json')
    found = {row['sample_id']: row for row in rows(result)}
    assert found['FC-01']['initial_discharge_capacity_mah_g'] == pytest.approx(107.2, abs=0.5)
    assert found['FC-01']['initial_coulombic_efficiency_percent'] == pytest.approx(98.2, abs=0.3)
    assert found['FC-01']['capacity_retention_percent_at_end'] == pytest.approx(88.0, abs=0.6)
    assert found['COND-NCBB-01']['conductivity_25c_s_cm'] == pytest.approx(7.0e-5, rel=0.05)
    assert found['COND-NCBB-01']['activation_energy_ev'] == pytest.approx(0.49, abs=0.02)
    assert found['COND-NCBB-01']['eis_fit_quality'] == 'good'
    assert 'ccd_ma_cm2' not in found['FC-01']  # no CCD ran: no empty column
    header = invoke('cells').output.splitlines()[0]
    assert 'conductivity_25c_s_cm' in header and 'capacity_retention_percent_at_end' in header
    samples = {row['sample_id']: row for row in rows(invoke('samples', '--format', 'json'))}
    assert samples['SE-NCBB-01']['conductivity_25c_s_cm'] == pytest.approx(7.0e-5, rel=0.05)
    assert 'onset_v' not in samples['SE-NCBB-01']


# ------------------------------------------------------------------------------------------------ 6: per-cycle tables
def test_cycles_table_one_row_per_cycle(campaign):
    from aiida_ssb.query import cycles

    frame = cycles(['FC-01'])
    assert list(frame['cycle_index']) == [1, 2, 3, 4, 5, 6, 7]
    assert list(frame.columns[:8]) == [
        'sample_id',
        'record',
        'technique',
        'record_uuid',
        'temperature_c',
        'analysis_uuid',
        'headline',
        'cycle_index',
    ]
    assert set(frame['record']) == {'FC-01_gcpl.mpt'} and set(frame['temperature_c']) == {25.0}
    assert frame['headline'].all()
    assert list(frame['is_reference_cycle']) == [True] + [False] * 6
    expected = [0.15 * (1 - 0.02 * k) for k in range(7)]
    assert list(frame['discharge_capacity_mah']) == pytest.approx(expected, rel=0.01)
    assert frame['coulombic_efficiency_percent'].iloc[1] == pytest.approx(98.0, abs=0.5)
    assert frame['capacity_retention_percent'].iloc[4] == pytest.approx(92.0, abs=0.6)
    for name in ('discharge_capacity_mah_g_active', 'charge_c_rate', 'average_discharge_voltage_v'):
        assert name in frame.columns
    assert cycles(['COND-NCBB-01']).empty


def test_spectra_table_one_row_per_spectrum(campaign):
    from aiida_ssb.query import spectra

    frame = spectra(['COND-NCBB-01'])
    assert list(frame['record']) == ['PEIS_25C.csv', 'PEIS_40C.csv', 'PEIS_60C.csv']
    assert list(frame['temperature_c']) == [25.0, 40.0, 60.0]
    assert set(frame['n_points']) == {40}
    assert frame['frequency_min_hz'].iloc[0] == pytest.approx(0.1) and frame['frequency_max_hz'].iloc[
        0
    ] == pytest.approx(1e6)
    assert set(frame['fit_quality']) == {'good'} and frame['fit_circuit'].notna().all()
    # sigma = L / (R A): the resistances 4000, 1500, 600 ohm
    area, thickness = frame['area_cm2'].iloc[0], frame['thickness_cm'].iloc[0]
    assert thickness == pytest.approx(0.085)
    assert list(frame['conductivity_s_cm']) == pytest.approx(
        [thickness / (r * area) for r in (4000, 1500, 600)], rel=0.02
    )


def test_export_writes_cycles_spectra_and_synthesis_parameters(campaign, tmp_path):
    import pandas as pd

    out = tmp_path / 'export'
    result = invoke('export', 'FC-01', 'COND-NCBB-01', 'CATH-01', 'VPO4-PRE-01', '-o', out)
    assert result.exit_code == 0, result.output
    per_cycle = pd.read_csv(out / 'cycles.csv')
    assert list(per_cycle['cycle_index']) == [1, 2, 3, 4, 5, 6, 7] and set(per_cycle['sample_id']) == {'FC-01'}
    per_spectrum = pd.read_csv(out / 'spectra.csv')
    assert list(per_spectrum['temperature_c']) == [25.0, 40.0, 60.0]
    materials = pd.read_csv(out / 'samples.csv').set_index('sample_id')
    assert str(materials.loc['CATH-01', 'ball_milling.duration_min']) == '30; 90'
    assert float(materials.loc['VPO4-PRE-01', 'ball_milling.duration_min']) == 90.0
    assert materials.loc['CATH-01', 'mixing.method'] == 'mortar'
    cells_table = pd.read_csv(out / 'cells.csv').set_index('sample_id')
    assert cells_table.loc['FC-01', 'capacity_retention_percent_at_5'] == pytest.approx(92.0, abs=0.6)
    index = pd.read_csv(out / 'index.csv')
    assert {'cycles.csv', 'spectra.csv'} <= set(index['file'])
    # Parquet: a column of numbers and text ('30; 90') is written as text
    result = invoke('export', 'FC-01', 'CATH-01', 'VPO4-PRE-01', '--format', 'parquet', '-o', tmp_path / 'parquet')
    assert result.exit_code == 0, result.output
    materials = pd.read_parquet(tmp_path / 'parquet' / 'samples.parquet').set_index('sample_id')
    assert materials.loc['CATH-01', 'ball_milling.duration_min'] == '30; 90'
    assert materials.loc['VPO4-PRE-01', 'ball_milling.duration_min'] == '90.0'
    assert len(pd.read_parquet(tmp_path / 'parquet' / 'cycles.parquet')) == 7


def test_campaign_scatter_of_a_lineage_field_plots_the_nearest_step(campaign):
    """FC-01's positive electrode was milled for 90 min, then 30 min: a scatter against the milling duration puts
    the cell at 30 (the nearest step, one number per point), not at the text '30; 90' of the table column."""
    import yaml

    from aiida_ssb.plotting.figures import campaign_figure

    name = yaml.safe_load(EXAMPLE.read_text(encoding='utf-8'))['campaign']
    figure = campaign_figure(
        name, 'scatter', x='positive.ball_milling.duration_min', y='initial_discharge_capacity_mah_g'
    )
    (line,) = figure.axes[0].get_lines()
    assert list(line.get_xdata()) == [30.0]
    assert figure.axes[0].get_xlabel().startswith('positive')
