"""The command line's fast cells table (:mod:`aiida_ssb.query.fast`, one SQL query, no ORM, no pandas) gives
the same table as the full path (:func:`aiida_ssb.query.tables.cells`) on the same profile, in every output format,
and hands what it cannot answer identically to the full path."""

import ast
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb
from aiida_ssb.query import fast

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / 'examples' / 'manifests' / 'seed000_nvopf_4v.yaml'
CAMPAIGN = 'seed000-nvopf-4v'
WIDE = [
    'sample_id',
    'format',
    'stack_pressure_mpa',
    'literature',
    'n_cycles',
    'capacity_retention_percent_at_end',
    'capacity_retention_percent_at_100',
    'upper_cutoff_v',
    'eis_fit_quality',
]


def _invoke(*args):
    return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope='module')
def profile(aiida_profile, tmp_path_factory):
    """The seed 000 example and eight more cells, with query-index values of every kind: integers (one above
    10,000), floats with 17 digits, missing values, booleans and text, as the index writers store them."""
    from aiida_ssb.data.cell import CellData
    from aiida_ssb.data.material import MaterialData
    from aiida_ssb.query.index import INDEX_EXTRA

    aiida_profile.reset_storage()
    assert _invoke('import', EXAMPLE).exit_code == 0
    spectrum = tmp_path_factory.mktemp('spectra') / 'FC-01_PEIS.csv'
    frequency = np.logspace(6, -1, 30)
    z = 50.0 + 200.0 / (1 + 1j * frequency * 1e-4)
    np.savetxt(spectrum, np.column_stack([frequency, z.real, -z.imag]), delimiter=',')
    result = _invoke('import-file', spectrum, '--cell', 'FC-01', '--temperature', '25 degC', '--technique', 'peis')
    assert result.exit_code == 0, result.output
    materials = {}
    for spec in (
        {'sample_id': 'FAST-CAM', 'name': 'NaCrO2', 'role': 'active_material', 'theoretical_capacity_mah_g': 120.0},
        {'sample_id': 'FAST-SE', 'name': 'Na4(B12H12)(B10H10)', 'role': 'electrolyte'},
        {'sample_id': 'FAST-NA', 'name': 'sodium metal', 'role': 'metal_foil'},
    ):
        material = MaterialData(spec).store()
        materials[material.sample_id] = material.facts()
    indexes = [
        {'n_cycles': 12345, 'capacity_retention_percent_at_end': 81.23456789012345, 'upper_cutoff_v': 4.15},
        {'n_cycles': 100, 'capacity_retention_percent_at_end': 79.5, 'eis_fit_quality': 'good'},
        {'n_cycles': 7, 'capacity_retention_percent_at_100': 90.0},
        {'capacity_retention_percent_at_end': 95.0},
        {'n_cycles': 100, 'capacity_retention_percent_at_end': 79.5, 'eis_fit_quality': 'flagged: fit 3'},
        {},
        None,
        {'capacity_retention_percent_at_end': 88, 'upper_cutoff_v': 4.3},
    ]
    for number, index in enumerate(indexes):
        cell = CellData(
            {
                'sample_id': f'FAST-{number:02d}',
                'format': 'half' if number % 3 else 'symmetric',
                'diameter': '10 mm',
                'layers': [
                    {'role': 'positive', 'material': 'FAST-CAM', 'mass': '10 mg', 'active_fraction': 0.7},
                    {'role': 'separator', 'material': 'FAST-SE', 'mass': '50 mg'},
                    {'role': 'negative', 'material': 'FAST-NA'},
                ],
                **({'stack_pressure': f'{0.5 * number + 0.123456789012345678} MPa'} if number != 5 else {}),
                'one_c': '120 mA/g',
                **({'literature': number == 2, 'reference': '10.1000/fast'} if number in (2, 3) else {}),
            },
            materials=materials,
        ).store()
        if index is not None:
            cell.base.extras.set(INDEX_EXTRA, index)
    return aiida_profile


def _plain(frame):
    """Missing values as None, whatever the column's dtype (pandas 3 holds missing text as NaN)."""
    return frame.astype(object).where(frame.notna(), None)


CASES = [
    {},
    {'columns': WIDE},
    {'columns': WIDE, 'filters': ['stack_pressure_mpa < 1']},
    {'columns': WIDE, 'filters': ['capacity_retention_percent_at_end >= 80'], 'sort': 'n_cycles', 'descending': True},
    {'columns': WIDE, 'filters': ['n_cycles != 100'], 'sort': 'capacity_retention_percent_at_end'},
    {'columns': WIDE, 'filters': ['n_cycles == 100', 'stack_pressure_mpa > 1 bar']},
    {'columns': WIDE, 'filters': ['format != half', 'upper_cutoff_v <= 4.2']},
    {'columns': WIDE, 'filters': ['eis_fit_quality == good']},
    {'columns': WIDE, 'filters': ['eis_fit_quality != good'], 'sort': 'format', 'descending': True, 'limit': 4},
    {'columns': ['sample_id', 'conductivity_25c_s_cm']},  # shows eis_fit_quality beside it
    {'cell_format': 'blocking_pellet'},
    {'cell_format': 'half', 'columns': WIDE, 'sort': 'stack_pressure_mpa', 'descending': True, 'limit': 3},
    {'campaign': CAMPAIGN, 'columns': WIDE},
    {'columns': ['format', 'mass_loading_mg_cm2'], 'limit': 0},
    {'columns': ['sample_id', 'mass_loading_mg_cm2', 'active_mass_mg'], 'sort': 'mass_loading_mg_cm2', 'limit': 5},
]


@pytest.mark.parametrize('case', CASES, ids=[str(number) for number in range(len(CASES))])
def test_fast_and_full_tables_are_identical(profile, case):
    from aiida_ssb.query.tables import cells

    answered = fast.cells_table(**case)
    assert answered is not None, 'the fast path should answer this'
    full = cells(**case)
    mine = fast.frame_of(*answered)
    pd.testing.assert_frame_equal(_plain(mine), _plain(full))
    for name in full.columns:  # a column of missing values only has no dtype to agree on
        if mine[name].notna().any():
            assert mine[name].dtype == full[name].dtype, name
    if case.get('limit') != 0:
        assert len(full) > 0


def test_the_profile_has_what_the_cases_need(profile):
    """The cases above meet integers above 10,000, missing values, booleans and text (else they prove little)."""
    columns, rows = fast.cells_table(columns=WIDE)
    assert len(rows) == 11
    values = {name: [row[name] for row in rows] for name in columns}
    assert 12345 in values['n_cycles'] and None in values['n_cycles']
    assert {True, False} <= set(values['literature'])
    assert {'FC-01', 'FAST-00', 'FAST-07'} <= set(values['sample_id'])


@pytest.mark.parametrize('output_format', ['table', 'csv', 'json'])
@pytest.mark.parametrize(
    'args',
    [
        [],
        ['--columns', ','.join(WIDE), '--sort', 'n_cycles', '--desc'],
        ['--retention-min', 80, '--columns', ','.join(WIDE)],
        ['--campaign', CAMPAIGN, '--stack-pressure-max', 1],
        ['--where', 'eis_fit_quality != good', '--columns', 'sample_id,n_cycles,eis_fit_quality', '--limit', 5],
    ],
    ids=['default', 'sorted', 'retention', 'campaign', 'text'],
)
def test_cli_prints_the_same_either_way(profile, monkeypatch, args, output_format):
    answered = _invoke('cells', *args, '--format', output_format)
    monkeypatch.setattr(fast, 'ENABLED', False)
    full = _invoke('cells', *args, '--format', output_format)
    assert answered.exit_code == 0 and full.exit_code == 0, answered.output + full.output
    assert answered.output == full.output
    assert answered.output.strip() and '(no rows)' not in answered.output
    if output_format == 'json':
        assert json.loads(answered.output)


@pytest.mark.parametrize(
    'case',
    [
        {'columns': ['sample_id', 'electrolyte.ball_milling.duration_min']},  # lineage
        {'filters': ['settings.c_rate > 0.1']},  # settings
        {'columns': ['sample_id', 'flags']},
        {'filters': ['flags contains relative_density_above_1']},
        {'filters': ['literature == true']},  # booleans: SQLite stores them as numbers
        {'filters': ['format < half']},  # ordering text depends on the collation
        {'columns': ['sample_id', 'no_such_field']},
        {'campaign': 'no-such-campaign'},
        {'sort': 'n_cycles'},  # not among the columns: the full path says so
    ],
)
def test_what_the_fast_path_leaves_to_the_full_path(profile, case):
    assert fast.cells_table(**case) is None


def test_errors_are_still_the_full_paths(profile):
    result = CliRunner().invoke(cmd_ssb, ['cells', '--columns', 'sample_id,no_such_field'])
    assert result.exit_code == 1 and 'unknown cell field' in result.output
    result = CliRunner().invoke(cmd_ssb, ['cells', '--campaign', 'no-such-campaign'])
    assert result.exit_code == 1 and "no campaign 'no-such-campaign'" in result.output


def test_stored_names_match_the_writers():
    from aiida_ssb.data.campaign import CAMPAIGN_PREFIX
    from aiida_ssb.data.cell import CellData
    from aiida_ssb.data.index import INDEX_EXTRA
    from aiida_ssb.data.sample import SUPERSEDED_EXTRA

    assert fast.CELL_NODE_TYPE == CellData._plugin_type_string
    assert fast.INDEX_EXTRA == INDEX_EXTRA
    assert fast.SUPERSEDED_EXTRA == SUPERSEDED_EXTRA
    assert fast.CAMPAIGN_PREFIX == CAMPAIGN_PREFIX


def _modules_a_command_imports(profile, arguments: list[str], modules: tuple[str, ...]) -> tuple[str, list[str]]:
    """Run ``aiida-ssb ARGUMENTS`` in a fresh interpreter: its output and which of ``modules`` it imported."""
    code = (
        'import sys\n'
        'from aiida_ssb.cli import cmd_ssb\n'
        'try:\n'
        f'    cmd_ssb(["-p", {profile.name!r}, *{arguments!r}])\n'
        'except SystemExit:\n'
        '    pass\n'
        f'print("IMPORTED", [name for name in {modules!r} if name in sys.modules])\n'
    )
    result = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, env=dict(os.environ), check=False
    )
    assert result.returncode == 0, result.stderr
    output, _, imported = result.stdout.strip().rpartition('\n')
    assert imported.startswith('IMPORTED '), result.stdout[-500:]
    return output, ast.literal_eval(imported[len('IMPORTED ') :])


def test_cells_command_imports_neither_the_orm_nor_pandas(profile):
    """In a fresh interpreter, ``aiida-ssb cells`` answers without importing AiiDA's ORM, its engine, pandas,
    numpy, scipy or matplotlib (their imports were most of its start-up time)."""
    heavy = ('aiida.orm', 'aiida.engine', 'pandas', 'numpy', 'scipy', 'matplotlib', 'sqlalchemy')
    output, imported = _modules_a_command_imports(profile, ['cells', '--retention-min', '80'], heavy)
    assert 'FAST-00' in output
    assert imported == []


def test_show_command_imports_neither_the_analyses_nor_pandas(profile):
    """``aiida-ssb show`` reads the ORM (its sections need the provenance) but neither the analyses (scipy, the
    process functions) nor pandas or matplotlib: their imports were half of its time."""
    heavy = ('scipy', 'pandas', 'matplotlib', 'aiida_ssb.workflows.cell', 'aiida_ssb.calculations.impedance')
    output, imported = _modules_a_command_imports(profile, ['show', 'FC-01'], heavy)
    assert output.startswith('FC-01'), output[:500]
    assert imported == []


def test_simple_table_is_tabulates_simple_format():
    """The fast table printer gives tabulate's 'simple' format character for character (random ASCII tables,
    blanks and inner spaces included); other text is left to tabulate itself."""
    import random
    import string

    from tabulate import tabulate

    from aiida_ssb.cli.utils import simple_table

    rng = random.Random(22)
    alphabet = string.ascii_letters + string.digits + ' .-_,:'
    for _ in range(2000):
        ncol, nrow = rng.randint(1, 6), rng.randint(1, 5)
        headers = [''.join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(ncol)]
        cells = [
            [''.join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(ncol)] for _ in range(nrow)
        ]
        assert simple_table(headers, cells) == tabulate(
            cells, headers=headers, tablefmt='simple', disable_numparse=True
        )
    wide = [['25 °C', 'µm'], ['电池', '']]
    assert simple_table(['a', 'b'], wide) == tabulate(
        wide, headers=['a', 'b'], tablefmt='simple', disable_numparse=True
    )
