"""Neware BTS and Arbin MITS exports (CSV and XLSX; Neware's record and step layouts), on files written here."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_ssb.parsers import ParseError, detect_format, read
from tests.parsers.helpers import assert_valid

N = 12


def neware_record_rows(signed: bool = True):
    """A charge (steps 1, 3) and discharge (step 2) at 0.5 A, a point every 30 s; BTS 8 names and h:mm:ss times."""
    rows = []
    step_of = [1] * 4 + [2] * 4 + [3] * 4
    kinds = {1: 'CC Chg', 2: 'CC DChg', 3: 'Rest'}
    for k in range(N):
        step = step_of[k]
        within = k - step_of.index(step)
        current = {1: 0.5, 2: -0.5 if signed else 0.5, 3: 0.0}[step]
        voltage = 3.0 + 0.05 * k
        total = 30.0 * k
        rows.append(
            [
                str(k + 1),
                '1',
                str(step),
                kinds[step],
                f'00:00:{30 * within:02d}' if within < 2 else f'00:0{30 * within // 60}:{30 * within % 60:02d}',
                f'{int(total // 3600):02d}:{int(total % 3600 // 60):02d}:{total % 60:06.3f}',
                f'{current:.4f}',
                f'{voltage:.4f}',
                f'{0.001 * within:.6f}',
                f'{0.5 * within:.3f}',
                f'2024-02-01 20:{24 + k // 2:02d}:{(k % 2) * 30:02d}',
            ]
        )
    return rows


NEWARE_HEADER = [
    'DataPoint', 'Cycle Index', 'Step Index', 'Step Type', 'Time', 'Cumulative Time', 'Current(A)', 'Voltage(V)',
    'Capacity(Ah)', 'Spec. Cap.(mAh/g)', 'Date',
]  # fmt: skip


def check_neware(measurement, signed_in_file=True):
    assert_valid(measurement)
    assert measurement.technique == 'cycling'
    np.testing.assert_allclose(measurement['time_s'], 30.0 * np.arange(N))
    np.testing.assert_allclose(measurement['voltage_v'], 3.0 + 0.05 * np.arange(N), rtol=1e-9)
    np.testing.assert_allclose(measurement['current_ma'], [500.0] * 4 + [-500.0] * 4 + [0.0] * 4)
    assert measurement['step_index'].tolist() == [1] * 4 + [2] * 4 + [3] * 4
    assert measurement['control_mode'].tolist() == [1] * 8 + [3] * 4
    np.testing.assert_allclose(measurement['step_time_s'][:4], [0, 30, 60, 90])
    np.testing.assert_allclose(measurement['capacity_mah'][:4], [0, 1, 2, 3])
    assert measurement.metadata['start_time'] == '2024-02-01T20:24:00'
    assert measurement.metadata['layout'] == 'record'
    if not signed_in_file:
        assert 'step type' in measurement.metadata['current_sign']


@pytest.mark.parametrize('signed', [True, False])
def test_neware_bts_csv_record_layout(tmp_path, signed):
    path = tmp_path / 'neware.csv'
    path.write_text(
        ','.join(NEWARE_HEADER) + '\n' + '\n'.join(','.join(row) for row in neware_record_rows(signed)) + '\n',
        encoding='utf-8-sig',
    )
    assert detect_format(path) == 'neware-csv'
    measurement = read(path)
    assert measurement.file_format == 'neware-csv'
    check_neware(measurement, signed)


def test_neware_bts_csv_step_layout(tmp_path):
    header = 'Cycle Index,Step Index,Step Number,Step Type,Step Time,Oneset Date,End Date,Capacity(Ah),Energy(Wh),Onset Volt.(V),End Voltage(V),Current(A)'
    rows = [
        '1,1,1,CC Chg,01:00:00,2024-02-01 20:24:23,2024-02-01 21:24:23,0.0005,0.0018,3.00,3.80,0.0005',
        '1,2,2,Rest,00:10:00,2024-02-01 21:24:23,2024-02-01 21:34:23,0,0,3.80,3.75,0',
        '1,3,3,CC DChg,00:55:00,2024-02-01 21:34:23,2024-02-01 22:29:23,0.00046,0.0016,3.75,2.50,-0.0005',
    ]
    path = tmp_path / 'steps.csv'
    path.write_text(header + '\n' + '\n'.join(rows) + '\n')
    assert detect_format(path) == 'neware-csv'
    measurement = read(path)
    assert measurement.metadata['layout'] == 'step table'
    np.testing.assert_allclose(measurement['time_s'], [3600, 4200, 7500])
    np.testing.assert_allclose(measurement['voltage_v'], [3.80, 3.75, 2.50])
    np.testing.assert_allclose(measurement['capacity_mah'], [0.5, 0.0, 0.46])
    settings = measurement.metadata['technique_settings']
    assert [step['label'] for step in settings['sequences']] == ['CC Chg', 'Rest', 'CC DChg']
    assert [step['control'] for step in settings['sequences']] == ['current', 'rest', 'current']


def test_neware_xlsx_record_and_step_sheets(tmp_path):
    openpyxl = pytest.importorskip('openpyxl')
    workbook = openpyxl.Workbook()
    workbook.active.title = 'test'
    workbook.active.append(['Start Time', '2024-02-01 20:24:00'])
    steps = workbook.create_sheet('step')
    steps.append(['Cycle Index', 'Step Index', 'Step Type', 'Step Time', 'Capacity(Ah)', 'End Voltage(V)'])
    for step, kind in ((1, 'CC Chg'), (2, 'CC DChg'), (3, 'Rest')):
        steps.append([1, step, kind, '00:01:30', 0.003, 3.1])
    record = workbook.create_sheet('record')
    record.append(NEWARE_HEADER)
    for row in neware_record_rows():
        record.append([float(value) if value.replace('.', '').replace('-', '').isdigit() else value for value in row])
    path = tmp_path / 'neware.xlsx'
    workbook.save(path)
    assert detect_format(path) == 'neware-xlsx'
    measurement = read(path)
    check_neware(measurement)
    assert measurement.metadata['sheet'] == 'record' and measurement.metadata['step_sheet'] == 'step'
    assert measurement.metadata['settings_summary']['n_sequences'] == 3


ARBIN_HEADER = [
    'Data_Point', 'Date_Time', 'Test_Time(s)', 'Step_Time(s)', 'Cycle_Index', 'Step_Index', 'Current(A)',
    'Voltage(V)', 'Charge_Capacity(Ah)', 'Discharge_Capacity(Ah)', 'Charge_Energy(Wh)', 'Discharge_Energy(Wh)',
    'Internal_Resistance(Ohm)', 'Aux_Temperature_1(C)',
]  # fmt: skip


def arbin_rows():
    rows = []
    for k in range(N):
        current = 0.25 if k < 6 else -0.25
        rows.append(
            [k + 1, f'02/01/2024 20:{24 + k:02d}:00', 60.0 * k, 60.0 * (k % 6), 1, 1 if k < 6 else 2, current,
             3.2 + 0.01 * k, 0.25 * k / 60 if k < 6 else 0.025, 0.0 if k < 6 else 0.25 * (k - 6) / 60, 0.0, 0.0,
             0.05, 25.0]
        )  # fmt: skip
    return rows


def check_arbin(measurement):
    assert_valid(measurement)
    np.testing.assert_allclose(measurement['time_s'], 60.0 * np.arange(N))
    np.testing.assert_allclose(measurement['current_ma'], [250.0] * 6 + [-250.0] * 6)
    np.testing.assert_allclose(measurement['charge_capacity_mah'][5], 1000 * 0.25 * 5 / 60)
    assert measurement['step_index'].tolist() == [1] * 6 + [2] * 6
    np.testing.assert_allclose(measurement['temperature_c'], 25.0)
    np.testing.assert_allclose(measurement['resistance_ohm'], 0.05)
    assert measurement.metadata['start_time'] == '2024-02-01T20:24:00'


def test_arbin_csv(tmp_path):
    path = tmp_path / 'arbin.csv'
    path.write_text(','.join(ARBIN_HEADER) + '\n' + '\n'.join(','.join(map(str, row)) for row in arbin_rows()) + '\n')
    assert detect_format(path) == 'arbin-csv'
    check_arbin(read(path))


def test_arbin_xlsx(tmp_path):
    openpyxl = pytest.importorskip('openpyxl')
    workbook = openpyxl.Workbook()
    workbook.active.title = 'Global_Info'
    workbook.active.append(['TEST REPORT'])
    sheet = workbook.create_sheet('Channel_1-007')
    sheet.append(ARBIN_HEADER)
    for row in arbin_rows():
        sheet.append(row)
    path = tmp_path / 'arbin.xlsx'
    workbook.save(path)
    assert detect_format(path) == 'arbin-xlsx'
    check_arbin(read(path))


def test_cycler_csv_cut_in_its_last_line(tmp_path):
    path = tmp_path / 'cut.csv'
    text = ','.join(ARBIN_HEADER) + '\n' + '\n'.join(','.join(map(str, row)) for row in arbin_rows())
    path.write_text(text[: text.rindex(',') - 3])
    with pytest.raises(ParseError, match='--allow-truncated'):
        read(path)
    assert read(path, allow_truncated=True).n_rows == N - 1


def test_a_cell_that_is_not_a_number(tmp_path):
    rows = arbin_rows()
    rows[4][7] = '3.2V'
    path = tmp_path / 'bad.csv'
    path.write_text(','.join(ARBIN_HEADER) + '\n' + '\n'.join(','.join(map(str, row)) for row in rows) + '\n')
    with pytest.raises(ParseError, match=r"column 'Voltage\(V\)' holds '3.2V'") as error:
        read(path)
    assert error.value.line == 6
