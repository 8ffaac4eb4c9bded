"""Technique settings stored with the measurement, cross-checked, and queried from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb
from tests.parsers.helpers import ec_lab, write_mpt

NAMES = ['mode', 'Ns', 'time/s', 'Ewe/V', 'I/mA', 'cycle number']


def settings_block(current_ma: float, upper_v: float, lower_v: float) -> list[str]:
    def line(key, *values):
        return key.ljust(20) + ''.join(str(value).ljust(20) for value in values)

    return [
        'Cycle Definition : Charge/Discharge alternance',
        line('Ns', 0, 1),
        line('Set I/C', 'I', 'I'),
        line('Is', f'{current_ma:.3f}', f'{-current_ma:.3f}'),
        line('unit Is', 'mA', 'mA'),
        line('vs.', '<None>', '<None>'),
        line('N', '1.00', '1.00'),
        line('I sign', '> 0', '< 0'),
        line('t1 (h:m:s)', '0:00:0.0000', '0:00:0.0000'),
        line('EM (V)', f'{upper_v:.3f}', f'{lower_v:.3f}'),
        line('nc cycles', 0, 0),
    ]


def write_gcpl(path, set_current_ma, recorded_current_ma, upper_v, lower_v, n=40):
    rows = []
    for k in range(n):
        step = 0 if k < n // 2 else 1
        current = recorded_current_ma if step == 0 else -recorded_current_ma
        ewe = 3.0 + 0.02 * k if step == 0 else 3.8 - 0.02 * (k - n // 2)
        rows.append(['1', str(step), ec_lab(10.0 * k, 15), ec_lab(ewe), ec_lab(current), ec_lab(1.0, 15)])
    write_mpt(path, NAMES, rows, header=settings_block(set_current_ma, upper_v, lower_v))


@pytest.fixture
def cells_with_records(aiida_profile_clean, tmp_path):
    from aiida_ssb.calculations.record import assemble_cell
    from aiida_ssb.data.material import MaterialData
    from aiida_ssb.importer.measurements import import_file

    MaterialData({'id': 'S-SE', 'role': 'electrolyte'}).store()
    MaterialData({'id': 'S-NA', 'role': 'metal_foil'}).store()
    for cell, (set_point, recorded, upper, lower) in {
        'GC-415': (0.20, 0.20, 4.15, 2.5),
        'GC-420': (0.20, 0.20, 4.20, 2.5),
        'GC-OFF': (0.20, 0.25, 4.15, 2.0),  # the cycler delivered 25 % more current than it was told
    }.items():
        assemble_cell(
            {
                'id': cell,
                'format': 'symmetric',
                'diameter': '10 mm',
                'stack_pressure': '5 MPa',
                'layers': [
                    {'role': 'negative', 'material': 'S-NA'},
                    {'role': 'electrolyte', 'material': 'S-SE'},
                    {'role': 'negative', 'material': 'S-NA'},
                ],
            }
        )
        path = tmp_path / f'{cell}.mpt'
        write_gcpl(path, set_point, recorded, upper, lower)
        status, _ = import_file(path, cell, technique='galvanostatic_cycling')
        assert status == 'new'
    return tmp_path


def test_settings_are_stored_validated_and_cross_checked(cells_with_records):
    from aiida import orm

    from aiida_ssb.data.measurements import CyclingData, SymmetricCellData

    records = {
        node.base.attributes.get('sample_id'): node
        for node in orm.QueryBuilder().append((CyclingData, SymmetricCellData)).all(flat=True)
    }
    good = records['GC-415']
    assert good.settings == {
        'technique': 'gcpl',
        'n_sequences': 2,
        'controls': 'current',
        'set_current_ma': pytest.approx(0.2),
        'max_abs_set_current_ma': pytest.approx(0.2),
        'upper_voltage_limit_v': pytest.approx(4.15),
        'lower_voltage_limit_v': pytest.approx(2.5),
    }
    sequences = good.technique_settings['sequences']
    assert [sequence['set_current_ma'] for sequence in sequences] == pytest.approx([0.2, -0.2])
    assert 'flags' not in good.base.attributes.all
    flags = records['GC-OFF'].base.attributes.get('flags')
    assert [flag['flag'] for flag in flags] == ['current_differs_from_set_point', 'current_differs_from_set_point']
    assert '0.25 mA' in flags[0]['reason'] and '0.2 mA' in flags[0]['reason']
    assert np.isfinite(records['GC-OFF'].get_array('current_ma')).all()


def test_a_query_on_settings_from_the_command_line(cells_with_records):
    def cells(*args):
        result = CliRunner().invoke(cmd_ssb, ['cells', '--format', 'json', *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    rows = cells(
        '--where',
        'settings.technique == gcpl',
        '--where',
        'settings.upper_voltage_limit_v <= 4.15 V',
        '--where',
        'settings.set_current_ma >= 200 uA',
        '--columns',
        'sample_id,settings.upper_voltage_limit_v,settings.lower_voltage_limit_v',
    )
    assert [row['sample_id'] for row in rows] == ['GC-415', 'GC-OFF']
    assert rows[1]['settings.lower_voltage_limit_v'] == pytest.approx(2.0)
    assert [row['sample_id'] for row in cells('--where', 'settings.upper_voltage_limit_v > 4.15')] == ['GC-420']
    assert cells('--where', 'settings.technique == peis') == []
    result = CliRunner().invoke(cmd_ssb, ['cells', '--where', 'settings.voltage == 4'])
    assert result.exit_code != 0 and 'settings.upper_voltage_limit_v' in result.output


def test_export_as_bdf_and_back(cells_with_records, tmp_path):
    from aiida import orm

    from aiida_ssb.data.measurements import CyclingData, SymmetricCellData
    from aiida_ssb.parsers import read

    folder = tmp_path / 'export'
    result = CliRunner().invoke(cmd_ssb, ['export', 'GC-415', '--format', 'bdf', '-o', str(folder)])
    assert result.exit_code == 0, result.output
    files = sorted((folder / 'measurements').glob('*.bdf.csv'))
    assert len(files) == 1
    header = files[0].read_text().split('\n', 1)[0].split(',')
    assert header[:3] == ['Test Time / s', 'Voltage / V', 'Current / A'] and 'Applied Pressure / Pa' in header
    document = json.loads(files[0].with_name(files[0].name.replace('.bdf.csv', '.bdf.metadata.json')).read_text())
    assert document['cell']['sample_id'] == 'GC-415'
    assert document['technique_settings']['upper_voltage_limit_v'] == pytest.approx(4.15)
    back = read(files[0])
    assert back.metadata['applied_pressure_mpa'] == pytest.approx(5.0)
    node = next(
        node
        for node in orm.QueryBuilder().append((CyclingData, SymmetricCellData)).all(flat=True)
        if node.base.attributes.get('sample_id') == 'GC-415'
    )
    assert set(back.columns) == set(node.units)
    for name in node.units:
        np.testing.assert_allclose(back[name], node.get_array(name), rtol=1e-14, equal_nan=True, err_msg=name)
