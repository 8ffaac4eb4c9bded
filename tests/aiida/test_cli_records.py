"""Issue 19, points 2, 3, 9 and 10 on the command line: several records of one kind per cell (show numbers them
and marks the headline one, plot --record / --run, --index refused), analysis options that persist on the cell
(show and compare say where each came from), import-file's options and errors, and correcting a stored record
(the re-import diff by path, aiida-ssb amend).

The cell FC-19 has two cycling records, written as CSV tables read through a column map: a.csv with 10 cycles (the
headline record of the cycling numbers: the most cycles) and b.csv with 6 (the one the dQ/dV headline numbers come
from: the last by label), so that a figure's default record follows its own analysis's headline."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb
from tests.aiida.test_analyses import gcpl_record

CELL = 'FC-19'
COLUMN_MAP = {
    'time_s': ['time_s', 's'],
    'voltage_v': ['voltage_v', 'V'],
    'current_ma': ['current_ma', 'mA'],
    'cycle_index': ['cycle', '1'],
}


def _invoke(*args):
    return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)


def _write_csv(path: pathlib.Path, n_cycles: int, capacity_mah: float = 0.15, truncate: bool = False) -> pathlib.Path:
    columns = gcpl_record(n_cycles=n_cycles, capacity_mah=capacity_mah).columns
    lines = ['time_s,voltage_v,current_ma,cycle']
    for row in zip(columns['time_s'], columns['voltage_v'], columns['current_ma'], columns['cycle_index']):
        lines.append(','.join(f'{value:.6g}' for value in row))
    text = '\n'.join(lines) + '\n'
    if truncate:
        text = text[: text.rindex('\n', 0, len(text) - 1) + 6]  # the last line cut after a few characters
    path.write_text(text)
    return path


def _manifest(folder: pathlib.Path, positive_mass: str = '2 mg') -> pathlib.Path:
    manifest = {
        'campaign': 'issue-19',
        'materials': [
            {
                'id': 'CATH-19',
                'role': 'composite',
                'nominal_composition': [
                    {'material': 'NVOPF-19', 'fraction': '70 wt%', 'role': 'active_material'},
                    {'material': 'SE-19', 'fraction': '30 wt%', 'role': 'electrolyte'},
                ],
            },
            {'id': 'SE-19', 'role': 'electrolyte'},
            {'id': 'NA-19', 'role': 'metal_foil'},
        ],
        'cells': [
            {
                'id': CELL,
                'format': 'full',
                'diameter': '12 mm',
                'one_c': '130 mA/g',
                'layers': [
                    {'role': 'positive', 'material': 'CATH-19', 'mass': positive_mass},
                    {'role': 'separator', 'material': 'SE-19', 'mass': '80 mg'},
                    {'role': 'negative', 'material': 'NA-19'},
                ],
            }
        ],
        'measurements': [
            {
                'cell': CELL,
                'file': name,
                'technique': 'gcpl',
                'format': 'generic-csv',
                'column_map': COLUMN_MAP,
                'c_rate': c_rate,
            }
            for name, c_rate in (('a.csv', 0.1), ('b.csv', 0.2))
        ],
    }
    target = folder / 'manifest.yaml'
    target.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return target


@pytest.fixture(scope='module')
def folder(aiida_profile, tmp_path_factory):
    aiida_profile.reset_storage()
    folder = tmp_path_factory.mktemp('issue19')
    _write_csv(folder / 'a.csv', 10, capacity_mah=0.14)
    _write_csv(folder / 'b.csv', 6)
    manifest = _manifest(folder)
    result = _invoke('import', manifest)
    assert result.exit_code == 0, result.output
    result = _invoke('analyse', CELL)
    assert result.exit_code == 0, result.output
    assert f'{CELL}: analysed' in result.output
    return folder


def _cycling_option(key):
    from aiida_ssb.query.results import latest_results

    result = latest_results(CELL, 'cycling', limit=1)[0]
    return result.process.inputs.options.get_dict().get(key)


# point 2: several records of one kind


def test_show_numbers_every_record_and_marks_the_headline_one(folder):
    result = _invoke('show', CELL)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    first = next(line for line in lines if 'a.csv' in line and '#' in line)
    second = next(line for line in lines if 'b.csv' in line and '#' in line)
    assert first.split()[0] == '#1' and second.split()[0] == '#2'
    assert first.endswith('<- headline cycling') and second.endswith('<- headline dqdv')
    record_line = next(line for line in lines if line.strip().startswith('cycling_record'))
    assert 'a.csv (gcpl; 0.1 C)' in record_line
    assert any(line.strip().startswith('n_cycles') and line.split()[-1] == '10' for line in lines)


def test_cells_table_names_the_headline_record(folder):
    result = _invoke('cells', '--columns', 'sample_id,n_cycles,cycling_record', '--format', 'json')
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row == {'sample_id': CELL, 'n_cycles': 10, 'cycling_record': 'a.csv (gcpl; 0.1 C)'}


def test_plot_takes_a_record_by_number_or_file_name(folder, tmp_path, monkeypatch):
    from aiida_ssb.plotting import figures

    drawn = []
    original = figures._pick  # the result a figure of one record draws, among those the Selection chose

    def spy(results, index, sample_id, what):
        result = original(results, index, sample_id, what)
        drawn.append(result.process.inputs.measurement.base.attributes.get('source_filename'))
        return result

    monkeypatch.setattr(figures, '_pick', spy)
    for kind, extra, expected in (
        ('capacity', [], 'a.csv'),  # the cycling headline record
        ('dqdv', [], 'b.csv'),  # the dQ/dV headline record
        ('capacity', ['--record', '2'], 'b.csv'),
        ('capacity', ['--record', 'b.csv'], 'b.csv'),
        ('dqdv', ['--record', 'a.c'], 'a.csv'),
    ):
        output = tmp_path / f'{kind}{len(drawn)}.png'
        result = _invoke('plot', CELL, '--kind', kind, *extra, '-o', output)
        assert result.exit_code == 0, result.output
        assert f'Wrote {output}' in result.output and output.stat().st_size > 1000
        assert drawn[-1] == expected


def test_plot_selectors_fail_with_a_message_not_a_traceback(folder, tmp_path):
    output = tmp_path / 'x.png'
    result = _invoke('plot', CELL, '--kind', 'capacity', '--record', '7', '-o', output)
    assert result.exit_code == 1
    assert '--record 7: FC-19 has 2 record(s), numbered 1 to 2: #1 a.csv (gcpl; 0.1 C); #2 b.csv (gcpl; 0.2 C)' in (
        result.output
    )
    result = _invoke('plot', CELL, '--kind', 'capacity', '--record', 'c.csv', '-o', output)
    assert result.exit_code == 1 and 'no record of FC-19 has that file name' in result.output
    result = _invoke('plot', CELL, '--kind', 'capacity', '--index', '7', '-o', output)
    assert result.exit_code == 2 and '--index was replaced: --record N' in result.output
    assert 'Traceback' not in result.output and 'IndexError' not in result.output
    result = _invoke('plot', CELL, '--kind', 'capacity', '--run', '999999', '-o', output)
    assert result.exit_code == 1 and '--run 999999 is not an analysis run of FC-19' in result.output
    assert not output.exists()


def test_plot_says_why_an_analysis_does_not_apply(folder, tmp_path):
    result = _invoke('plot', CELL, '--kind', 'resistance', '-o', tmp_path / 'r.png')
    assert result.exit_code == 1
    assert 'interface_growth does not apply to FC-19: no series of spectra with a state label' in result.output
    assert 'analyse FC-19 first' not in result.output


# point 3: options persist on the cell


def test_options_set_once_persist_until_changed(folder):
    result = _invoke('reanalyse', CELL, '--set', 'cycling.reference=cycle:2')
    assert result.exit_code == 0, result.output
    assert 'cycling.reference: (default) -> "cycle:2" (--set)' in result.output
    assert _cycling_option('reference') == 'cycle:2'
    result = _invoke('analyse', CELL)  # plain: the option stays
    assert result.exit_code == 0, result.output
    assert _cycling_option('reference') == 'cycle:2'
    result = _invoke('compare', CELL)
    assert 'cycling.reference: "cycle:2" (--set) -> "cycle:2" (stored on the cell)  (unchanged)' in result.output
    result = _invoke('show', CELL)
    line = next(line for line in result.output.splitlines() if 'cycling.reference' in line)
    assert '"cycle:2"' in line and '[stored on the cell]' in line


def test_an_option_that_makes_its_analysis_fail_everywhere_is_not_remembered(folder):
    from aiida_ssb.data.sample import load_sample

    result = _invoke('reanalyse', CELL, '--set', 'cycling.reference=cycle:50')
    assert 'some analyses failed: cycling a.csv' in result.output and 'cycling b.csv' in result.output
    assert load_sample(CELL).base.extras.get('ssb_options')['cycling']['reference'] == 'cycle:2'
    result = _invoke('analyse', CELL)
    assert result.exit_code == 0, result.output
    assert _cycling_option('reference') == 'cycle:2'


def test_an_option_that_fits_one_of_two_records_is_remembered(folder):
    from aiida_ssb.data.sample import load_sample

    result = _invoke('reanalyse', CELL, '--set', 'cycling.reference=cycle:8')  # a.csv has 10 cycles, b.csv 6
    assert 'some analyses failed: cycling b.csv' in result.output and 'cycling a.csv' not in result.output
    assert load_sample(CELL).base.extras.get('ssb_options')['cycling']['reference'] == 'cycle:8'
    result = _invoke('analyse', CELL)
    assert _cycling_option('reference') == 'cycle:8'
    result = _invoke('reanalyse', CELL, '--set', 'cycling.reference=cycle:2')
    assert result.exit_code == 0, result.output
    assert 'cycling.reference: "cycle:8" (stored on the cell) -> "cycle:2" (--set)' in result.output


# point 9: errors and option parity


def test_import_file_has_an_option_for_every_manifest_field():
    from aiida_ssb.cli.records import cmd_import_file, condition_flags
    from aiida_ssb.schemas.measurement import MeasurementEntry

    options = {opt for param in cmd_import_file.params for opt in getattr(param, 'opts', [])}
    flags = condition_flags()
    for field in MeasurementEntry.model_fields:
        assert flags[field] in options | {'FILE'}, field
    for flag in ('--scan-rate', '--c-rate', '--branch', '--lower-cutoff', '--stack-pressure', '--instrument', '--date'):
        assert flag in options


def test_import_file_bad_quantity_is_one_line_naming_the_option(folder):
    _write_csv(folder / 'c.csv', 3)
    result = _invoke(
        'import-file', folder / 'c.csv', '--cell', CELL, '--file-format', 'generic-csv', '--temperature', '25'
    )
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == 'Error: --temperature \'25\': give a quantity with its unit, e.g. --temperature "25 degC"'
    )
    result = _invoke('import-file', folder / 'c.csv', '--cell', CELL, '--scan-rate', '1 V', '--branch', 'heating')
    assert (
        result.exit_code == 1
        and '--scan-rate \'1 V\': give a quantity with its unit, e.g. --scan-rate "0.1 mV/s"' in (result.output)
    )
    assert 'pydantic' not in result.output and 'http' not in result.output and 'object at' not in result.output


def test_import_file_stores_the_new_conditions(folder):
    result = _invoke(
        'import-file',
        folder / 'c.csv',
        '--cell',
        CELL,
        '--technique',
        'gcpl',
        '--file-format',
        'generic-csv',
        *[part for name, spec in COLUMN_MAP.items() for part in ('--column-map', f'{name}={spec[0]},{spec[1]}')],
        '--c-rate',
        '0.5',
        '--lower-cutoff',
        '2.5 V',
        '--temperature',
        '25 degC',
        '--branch',
        'heating',
        '--operator',
        'A. N. Other',
    )
    assert result.exit_code == 0, result.output
    assert 'Stored' in result.output and 'CyclingData' in result.output
    result = _invoke('show', CELL)
    line = next(line for line in result.output.splitlines() if 'c.csv' in line)
    assert line.split()[0] == '#3'
    for text in ('temperature 25 °C', 'lower cutoff 2.5 V', 'c rate 0.5', 'branch heating', 'operator A. N. Other'):
        assert text in line


def test_truncated_file_names_the_flag(folder):
    _write_csv(folder / 'cut.csv', 2, truncate=True)
    arguments = [
        'import-file',
        folder / 'cut.csv',
        '--cell',
        CELL,
        '--technique',
        'gcpl',
        '--file-format',
        'generic-csv',
    ]
    arguments += [part for name, spec in COLUMN_MAP.items() for part in ('--column-map', f'{name}={spec[0]},{spec[1]}')]
    result = _invoke(*arguments)
    assert result.exit_code == 1 and 'truncated' in result.output
    assert '--allow-truncated' in result.output and 'allow_truncated=True' not in result.output
    result = _invoke(*arguments, '--allow-truncated')
    assert result.exit_code == 0, result.output


def test_show_of_a_deleted_sample_says_so(folder):
    from aiida.tools.graph.deletions import delete_nodes

    from aiida_ssb.data.material import MaterialData

    node = MaterialData({'id': 'GONE-19', 'role': 'electrolyte'}).store()
    delete_nodes([node.pk], dry_run=False)
    result = _invoke('show', 'GONE-19')
    assert result.exit_code == 1
    assert "no material or cell with sample id 'GONE-19': it was deleted" in result.output
    assert 'did you mean' not in result.output


def test_submit_without_broker_or_daemon_says_so(folder, monkeypatch):
    result = _invoke('analyse', CELL, '--submit')
    assert result.exit_code == 1 and 'has no broker, so nothing can be submitted to a daemon' in result.output
    from aiida_ssb.cli import analysis

    monkeypatch.setattr(analysis, 'daemon_state', lambda: ('lab', False))
    monkeypatch.setattr(
        analysis, 'run_cell_analyses', lambda cells, options, submit: list(analysis.previous_runs(cells[0], 1))
    )
    result = CliRunner().invoke(cmd_ssb, ['analyse', CELL, '--submit'], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "the daemon of profile 'lab' is not running" in result.stderr
    assert 'verdi daemon start' in result.stderr and 'stay "created"' in result.stderr


# point 10: correcting a record


def test_reimport_with_a_changed_value_shows_only_the_difference(folder):
    manifest = _manifest(folder, positive_mass='2.5 mg')
    result = _invoke('import', manifest)
    assert result.exit_code == 1
    assert "'FC-19' already exists with different values: layers[0].mass_mg: 2.0 -> 2.5." in result.output
    assert "'role'" not in result.output  # not the whole layer list
    assert f'aiida-ssb amend {CELL} --set layers[0].mass_mg=2.5 --reason TEXT' in result.output


def test_amend_makes_a_new_version_and_keeps_the_old(folder):
    from aiida_ssb.data.sample import load_sample

    old = load_sample(CELL)
    result = _invoke('amend', CELL, '--set', 'layers[0].mass_mg=2.5', '--reason', 'weighing typo', '--dry-run')
    assert (
        result.exit_code == 0
        and 'layers[0].mass_mg: 2.0 -> 2.5' in result.output
        and 'nothing was stored' in result.output
    )
    assert load_sample(CELL).pk == old.pk
    result = _invoke('amend', CELL, '--set', 'layers[4].mass_mg=2.5', '--reason', 'typo')
    assert result.exit_code == 1 and 'layers has 3 entries' in result.output
    result = _invoke('amend', CELL, '--set', 'layers[0].mass=2.5 mg', '--reason', 'weighing typo')
    assert result.exit_code == 0, result.output
    assert 'layers[0].mass_mg: 2.0 -> 2.5' in result.output and f'supersedes CellData<{old.pk}>' in result.output
    assert 'run `aiida-ssb analyse FC-19`' in result.output
    new = load_sample(CELL)
    assert new.pk != old.pk and new.base.attributes.get('active_mass_mg') == pytest.approx(1.75)
    assert old.base.extras.get('ssb_superseded_by') == new.uuid
    assert new.base.extras.get('ssb_options')['cycling']['reference'] == 'cycle:2'
    result = _invoke('show', CELL)
    assert (
        'Amendments (this is version 2' in result.output
        and 'layers[0].mass_mg: 2.0 -> 2.5 (reason: weighing typo)' in (result.output)
    )
    assert '#1' in result.output and 'a.csv' in result.output  # the records of the old version are the cell's
    assert 'previous version, superseded' in result.output
    result = _invoke('cells', '--columns', 'sample_id,active_mass_mg', '--format', 'json')
    assert json.loads(result.output) == [{'sample_id': CELL, 'active_mass_mg': pytest.approx(1.75)}]
    from aiida_ssb.query.overview import sample_ids_like

    assert sample_ids_like(CELL[:3], cells_only=True) == [CELL]  # the web search box: each sample once
    result = _invoke('import', _manifest(folder, positive_mass='2.5 mg'))
    assert result.exit_code == 0 and 'Nothing new' in result.output, result.output


def test_amended_cell_is_analysed_from_the_corrected_record(folder):
    from aiida_ssb.query.results import latest_results

    def of_a():
        for result in latest_results(CELL, 'cycling'):
            if result.process.inputs.measurement.base.attributes.get('source_filename') == 'a.csv':
                return result.summary
        return None

    before = of_a()['initial_discharge_capacity_mah_g_active']
    result = _invoke('analyse', CELL)
    assert result.exit_code == 0, result.output
    summary = of_a()
    assert summary['initial_discharge_capacity_mah_g_active'] == pytest.approx(before * 2.0 / 2.5, rel=1e-6)
    result = _invoke('compare', CELL)  # the last run of the old version against the first of the new one
    line = next(line for line in result.output.splitlines() if line.startswith('initial_discharge_capacity_mah_g '))
    assert line.split()[-1].startswith('-')
    assert _cycling_option('reference') == 'cycle:2'


def test_differences_name_the_changed_item_only():
    from aiida_ssb.importer.existing import differences

    old = {'format': 'full', 'layers': [{'role': 'positive', 'mass_mg': 9.75}, {'role': 'separator'}], 'notes': None}
    new = {'format': 'full', 'layers': [{'role': 'positive', 'mass_mg': 9.5}, {'role': 'separator', 'mass_mg': 80.0}]}
    assert differences(old, new, ['format', 'layers', 'notes']) == [
        'layers[0].mass_mg: 9.75 -> 9.5',
        'layers[1].mass_mg: (absent) -> 80.0',
    ]
    three = {'layers': [{'role': 'a'}, {'role': 'b'}, {'role': 'c'}]}
    assert differences(three, {'layers': three['layers'][:2]}, ['layers']) == ["layers[2]: {'role': 'c'} -> (absent)"]


def test_amend_paths():
    from aiida_ssb.exceptions import InputError
    from aiida_ssb.importer.amend import apply_change, parse_path

    assert parse_path('layers[1].mass_mg') == ['layers', 1, 'mass_mg']
    assert parse_path('fabrication[0].pressure') == ['fabrication', 0, 'pressure']
    for bad in ('layers[x].mass', '.mass', 'layers..mass', '[0]'):
        with pytest.raises(InputError, match='cannot read the field path'):
            parse_path(bad)
    data = {'layers': [{'role': 'positive', 'mass_mg': 9.75}], 'stack_pressure_mpa': 3.0}
    apply_change(data, 'layers[0].mass', '9.5 mg')
    assert data['layers'][0] == {'role': 'positive', 'mass': '9.5 mg'}
    apply_change(data, 'stack_pressure_mpa', None)
    assert 'stack_pressure_mpa' not in data
    with pytest.raises(InputError, match=r'layers has 1 entry \(0-based: \[0\] to \[0\]\)'):
        apply_change(data, 'layers[3].mass_mg', 1.0)
