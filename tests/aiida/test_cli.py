"""The command line: import, tables with filters and formats, show, clean errors (no traceback, exit 1)."""

import json
import pathlib

import pytest
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / 'examples' / 'manifests' / 'seed000_nvopf_4v.yaml'


def _invoke(*args):
    return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def run():
    return _invoke


@pytest.fixture(scope='module')
def imported(aiida_profile):
    """The seed 000 example imported once for the read-only tests of this module."""
    aiida_profile.reset_storage()
    result = _invoke('import', EXAMPLE)
    assert result.exit_code == 0, result.output
    return _invoke


@pytest.mark.heavy
def test_import_dry_run_stores_nothing(imported):
    from aiida import orm

    count = orm.QueryBuilder().append(orm.Node).count()
    result = imported('import', '--dry-run', EXAMPLE)
    assert result.exit_code == 0 and 'is valid' in result.output and 'nothing was stored' in result.output
    assert orm.QueryBuilder().append(orm.Node).count() == count


def test_import_then_again(imported):
    result = imported('import', EXAMPLE)
    assert result.exit_code == 0 and 'Nothing new' in result.output


def test_cells_filters_and_formats(imported):
    result = imported('cells', '--loading-min', 5, '--format', 'json')
    rows = json.loads(result.output)
    assert [row['sample_id'] for row in rows] == ['FC-HL-01']
    assert rows[0]['mass_loading_mg_cm2'] == pytest.approx(7.986, abs=1e-3)
    result = imported('cells', '--stack-pressure-max', 1, '--format', 'csv')
    assert result.output.splitlines()[0].startswith('sample_id,format')
    assert [line.split(',')[0] for line in result.output.splitlines()[1:]] == ['FC-01']
    result = imported('cells', '--cell-format', 'blocking_pellet')
    assert 'COND-NCBB-01' in result.output and 'FC-01' not in result.output
    result = imported('cells', '--where', 'mass_loading_mg_cm2 < 2', '--columns', 'sample_id,active_mass_mg')
    assert 'FC-01' in result.output and '1.4' in result.output and 'FC-HL-01' not in result.output


def test_samples_by_role(imported):
    result = imported('samples', '--role', 'electrolyte', '--format', 'json')
    rows = json.loads(result.output)
    assert [(row['sample_id'], row['made_by']) for row in rows] == [('SE-NCBB-01', 'ball_milling')]
    result = imported('samples', '--role', 'precursor', '--where', 'supplier == KatChem')
    assert 'NCB-KC-01' in result.output and 'V2O5' not in result.output


def test_show_prints_history_to_purchased_precursors(imported):
    result = imported('show', 'FC-01')
    assert result.exit_code == 0
    for text in (
        'mass_loading_mg_cm2',
        'ball_milling',
        'NCB-KC-01',
        'purchased',
        'solution_impregnation',
        'Measurements',
    ):
        assert text in result.output


@pytest.mark.parametrize(
    'args, message',
    [
        (('show', 'FC-99'), "no material or cell with sample id 'FC-99'"),
        (('cells', '--where', 'voltage_wrong > 3'), "unknown cell field 'voltage_wrong'; fields that exist:"),
        (('cells', '--where', 'stack pressure ~ 3'), 'cannot read the filter'),
        (('samples', '--campaign', 'nope'), "no campaign 'nope'"),
        (('import', 'missing.yaml'), 'cannot read the file'),
    ],
)
def test_errors_are_clean(imported, args, message):
    runner = CliRunner()
    result = runner.invoke(cmd_ssb, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert 'Traceback' not in result.output


def test_verdi_data_ssb_is_the_same_group():
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group='aiida.cmdline.data') if e.name == 'ssb']
    assert entry.load() is cmd_ssb


@pytest.mark.heavy
def test_demo_profile_replaces_a_dangling_default(tmp_path):
    """A configuration whose default profile no longer exists (e.g. a deleted temporary profile) gets a fresh
    `verdi presto` profile instead of a ProfileConfigurationError traceback."""
    import json
    import os
    import subprocess
    import sys

    config = tmp_path / '.aiida' / 'config.json'
    config.parent.mkdir()
    config.write_text(
        json.dumps(
            {'CONFIG_VERSION': {'CURRENT': 10, 'OLDEST_COMPATIBLE': 10}, 'profiles': {}, 'default_profile': 'gone'}
        )
    )
    env = dict(os.environ, AIIDA_PATH=str(tmp_path), PYTHONWARNINGS='ignore')
    env.pop('AIIDA_PROFILE', None)
    env['PATH'] = f'{os.path.dirname(sys.executable)}{os.pathsep}{env.get("PATH", "")}'
    result = subprocess.run(
        [sys.executable, '-c', 'from aiida_ssb.cli.demo import ensure_profile; print(ensure_profile())'],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "The default profile 'gone'" in result.stdout
    name = result.stdout.strip().splitlines()[-1]
    stored = json.loads(config.read_text())
    assert stored['default_profile'] == name and name in stored['profiles']


def test_spectrum_legend_names_what_tells_the_spectra_apart():
    from types import SimpleNamespace

    from aiida_ssb.plotting.figures import spectrum_labels as _spectrum_labels

    def spectrum(pk, label='', **conditions):
        return SimpleNamespace(pk=pk, label=label, conditions=conditions)

    stepwise = [
        spectrum(1, temperature_c=25.0, cycle_index=0),
        spectrum(2, temperature_c=25.0, cycle_index=2, upper_cutoff_v=4.05),
    ]
    assert _spectrum_labels(stepwise) == ['cycle 0', 'cycle 2, after 4.05 V']
    series = [spectrum(3, temperature_c=-20.0, branch='heating'), spectrum(4, temperature_c=90.0, branch='cooling')]
    assert _spectrum_labels(series) == ['-20 °C, heating', '90 °C, cooling']
    same = [spectrum(5, 'a.mpt', temperature_c=25.0), spectrum(6, temperature_c=25.0)]
    assert _spectrum_labels(same) == ['a.mpt', 'spectrum 6']
