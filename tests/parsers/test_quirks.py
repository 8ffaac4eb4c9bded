"""The quirks real instrument files carry (issue 18), each on a small file written here, read to the right
numbers; and what is truly damaged refused with its file and line."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_ssb.parsers import ParseError, _common, detect_format, read
from tests.parsers.helpers import assert_valid, ec_lab, write_mpt

GCPL = ['mode', 'Ns', 'time/s', 'Ewe/V', 'I/mA', 'cycle number']


def gcpl_rows(n: int = 6) -> tuple[list[list[str]], dict[str, np.ndarray]]:
    time = np.arange(n) * 10.0
    ewe = 3.0 + 0.01 * np.arange(n)
    current = np.where(np.arange(n) < n // 2, 0.25, -0.25)
    rows = [
        ['1', str(k // 3), ec_lab(time[k], 15), ec_lab(ewe[k]), ec_lab(current[k]), ec_lab(1.0, 15)] for k in range(n)
    ]
    return rows, {'time_s': time, 'voltage_v': ewe, 'current_ma': current}


def check_numbers(measurement, expected) -> None:
    assert_valid(measurement)
    for name, values in expected.items():
        np.testing.assert_allclose(measurement[name], values, rtol=1e-7, err_msg=name)


# ------------------------------------------------------------------------------------------ column names
def test_empty_name_and_trailing_tab_at_the_end_of_the_name_line(tmp_path):
    # EC-Lab writes "...\tEce/V\t \t" for some PEIS exports with Ece recorded: an empty name, then the tab
    rows, expected = gcpl_rows()
    path = tmp_path / 'empty_name.mpt'
    write_mpt(path, GCPL, rows, name_line='\t'.join(GCPL) + '\t \t')
    measurement = read(path)
    check_numbers(measurement, expected)
    assert measurement.metadata['empty_trailing_column_names'] == 1


def test_unnamed_column_between_others_is_kept_in_place_and_not_read(tmp_path):
    rows, expected = gcpl_rows()
    names = ['mode', 'Ns', 'time/s', '', 'Ewe/V', 'I/mA', 'cycle number']
    rows = [row[:3] + ['garbage'] + row[3:] for row in rows]  # the unnamed column may hold anything
    path = tmp_path / 'unnamed.mpt'
    write_mpt(path, names, rows)
    measurement = read(path)
    check_numbers(measurement, expected)
    assert measurement.metadata['unnamed_columns'] == [4]


def test_duplicated_column_name_first_one_wins(tmp_path):
    rows, expected = gcpl_rows()
    names = GCPL + ['Ewe/V']
    rows = [row + [ec_lab(9.99)] for row in rows]
    path = tmp_path / 'duplicated.mpt'
    write_mpt(path, names, rows)
    measurement = read(path)
    check_numbers(measurement, expected)
    assert measurement.metadata['duplicated_column_names'] == ['Ewe/V']


# ------------------------------------------------------------------------------------------ ragged rows
@pytest.mark.parametrize('extra', ['', '\t', '\t\t'])
def test_empty_extra_fields_are_kept(tmp_path, extra):
    rows, expected = gcpl_rows()
    path = tmp_path / 'trailing.mpt'
    write_mpt(path, GCPL, [row + ([''] if extra else []) for row in rows])  # a trailing separator on every row
    if extra:
        lines = path.read_bytes().split(b'\r\n')
        lines[8] += extra.encode()
        path.write_bytes(b'\r\n'.join(lines))
    check_numbers(read(path), expected)


def test_one_more_value_than_the_header_is_kept_and_flagged(tmp_path):
    # "has 18 fields where the header gives 17": the extra value follows the named columns
    rows, expected = gcpl_rows()
    rows[2] = rows[2] + [ec_lab(1.234)]
    rows[4] = rows[4] + [ec_lab(5.678)]
    path = tmp_path / 'ragged.mpt'
    write_mpt(path, GCPL, rows)
    measurement = read(path)
    check_numbers(measurement, expected)
    assert measurement.metadata['rows_with_extra_fields'] == 2
    assert any(flag['flag'] == 'extra_fields' for flag in measurement.metadata['flags'])


def test_a_value_that_moves_the_columns_is_refused(tmp_path):
    rows, _ = gcpl_rows()
    rows[3] = rows[3][:1] + [ec_lab(0.5)] + rows[3][1:]  # an inserted value: Ns now holds a fraction
    path = tmp_path / 'shifted.mpt'
    write_mpt(path, GCPL, rows)
    with pytest.raises(ParseError, match='do not line up') as error:
        read(path)
    assert error.value.line == 6 + 4  # 6 header lines (the names last), then the 4th data row


def test_a_missing_value_is_refused_with_its_line(tmp_path):
    rows, _ = gcpl_rows()
    rows[1] = rows[1][:2] + rows[1][3:]
    path = tmp_path / 'short.mpt'
    write_mpt(path, GCPL, rows)
    with pytest.raises(ParseError, match='has 5 fields where the header gives 6') as error:
        read(path)
    assert error.value.line == 8


def test_an_empty_field_in_the_middle_is_refused(tmp_path):
    rows, _ = gcpl_rows()
    rows[2][3] = ''
    path = tmp_path / 'empty_field.mpt'
    write_mpt(path, GCPL, rows)
    with pytest.raises(ParseError, match="column 'Ewe/V' is empty") as error:
        read(path)
    assert error.value.line == 9


# ------------------------------------------------------------------------------------------ decimal marks, dates
def test_comma_decimal_mark_and_a_european_date(tmp_path):
    rows, expected = gcpl_rows()
    rows = [[field.replace('.', ',') for field in row] for row in rows]
    path = tmp_path / 'comma.mpt'
    write_mpt(path, GCPL, rows, header=['Acquisition started on : 23.08.2021 11:44:40,646'])
    measurement = read(path)
    check_numbers(measurement, expected)
    assert measurement.metadata['decimal_mark'] == ','
    assert measurement.metadata['start_time'] == '2021-08-23T11:44:40.646000'


@pytest.mark.parametrize(
    'written,iso',
    [
        ('03/02/2021 16:17:59.000', '2021-03-02T16:17:59'),  # EC-Lab: month first
        ('23/08/2021 11:44:40', '2021-08-23T11:44:40'),  # day first: the first number cannot be a month
        ('15-Jan-25 11:49:32 AM', '2025-01-15T11:49:32'),
        ('15 März 2025 10:00:00', '2025-03-15T10:00:00'),
    ],
)
def test_locale_dates(tmp_path, written, iso):
    rows, _ = gcpl_rows()
    path = tmp_path / 'date.mpt'
    write_mpt(path, GCPL, rows, header=[f'Acquisition started on : {written}'])
    assert read(path).metadata['start_time'] == iso


# ------------------------------------------------------------------------------------------ truncation
def test_last_value_cut_inside_its_exponent(tmp_path):
    # E-002 -> E-0 still parses: the fixed width of EC-Lab's numbers tells it was cut
    rows, expected = gcpl_rows()
    path = tmp_path / 'cut.mpt'
    write_mpt(path, GCPL, rows, final_newline=False)
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(ParseError, match='shorter than the 22 characters') as error:
        read(path)
    message = str(error.value)
    assert 'allow_truncated: true' in message and '--allow-truncated' in message
    assert 'allow_truncated=True' not in message  # no user interface can pass a keyword argument
    measurement = read(path, allow_truncated=True)
    check_numbers(measurement, {name: values[:-1] for name, values in expected.items()})
    assert measurement.metadata['truncated_last_line'] == 6 + 6
    assert measurement.metadata['flags'][0]['flag'] == 'truncated'


def test_whole_last_line_without_a_line_end_is_not_a_truncation(tmp_path):
    rows, expected = gcpl_rows()
    path = tmp_path / 'no_final_newline.mpt'
    write_mpt(path, GCPL, rows, final_newline=False)
    check_numbers(read(path), expected)


def test_header_only_file_is_refused(tmp_path):
    path = tmp_path / 'header_only.mpt'
    write_mpt(path, GCPL, [])
    with pytest.raises(ParseError, match='no data rows'):
        read(path)


def test_size_guard(tmp_path, monkeypatch):
    rows, _ = gcpl_rows()
    path = tmp_path / 'big.mpt'
    write_mpt(path, GCPL, rows)
    monkeypatch.setattr(_common, 'MAX_TEXT_BYTES', 100)
    monkeypatch.setattr(_common.check_size, '__defaults__', (100, 'text export'))
    with pytest.raises(ParseError, match='larger than the 0 GiB'):
        read(path)


# ------------------------------------------------------------------------------------------ Gamry: units, aborted
GAMRY = """EXPLAIN\r
TAG\tEISPOT\r
TITLE\tLABEL\tPotentiostatic EIS\tTest &Identifier\r
DATE\tLABEL\t4/23/2018\tDate\r
TIME\tLABEL\t16:43:15\tTime\r
ZCURVE\tTABLE\t{declared}\r
\tPt\tTime\tFreq\tZreal\tZimag\tZmod\tZphz\r
\t#\ts\tHz\tohm\tohm\tohm\t{phase_unit}\r
{rows}{tail}"""


def gamry_rows(n: int) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    frequency = np.logspace(5, 1, n)
    z = 100.0 + 1.0 / (1j * 2 * np.pi * frequency * 1e-6)
    rows = ''.join(
        f'\t{k}\t{k + 1}\t{frequency[k]:.9g}\t{z[k].real:.9g}\t{z[k].imag:.9g}\t{abs(z[k]):.9g}'
        f'\t{np.degrees(np.angle(z[k])):.9g}\r\n'
        for k in range(n)
    )
    return rows, frequency, z.real, z.imag


@pytest.mark.parametrize('phase_unit', ['Â°', '\ufffd', '?', 'º'])
def test_gamry_mis_encoded_degree_sign_of_an_aborted_run(tmp_path, phase_unit):
    rows, frequency, real, imag = gamry_rows(8)
    text = GAMRY.format(
        declared=20, phase_unit=phase_unit, rows=rows, tail='EXPERIMENTABORTED\tTOGGLE\tT\tExperiment Aborted\r\n'
    )
    path = tmp_path / 'aborted.DTA'
    path.write_bytes(text.encode('utf-8'))
    measurement = read(path)
    np.testing.assert_allclose(measurement['frequency_hz'], frequency, rtol=1e-6)
    np.testing.assert_allclose(measurement['z_imag_ohm'], imag, rtol=1e-6)
    np.testing.assert_allclose(measurement['z_phase_deg'], np.degrees(np.arctan2(imag, real)), rtol=1e-6)
    flags = {flag['flag'] for flag in measurement.metadata['flags']}
    assert flags == {'run_aborted', 'repaired_units'}
    assert measurement.metadata['declared_points'] == 20


def test_gamry_table_shorter_than_declared_without_abort_is_refused(tmp_path):
    rows, *_ = gamry_rows(8)
    path = tmp_path / 'short.DTA'
    path.write_bytes(GAMRY.format(declared=20, phase_unit='°', rows=rows, tail='').encode('cp1252'))
    with pytest.raises(ParseError, match='declares 20 points but holds 8'):
        read(path)


def test_an_unknown_unit_is_still_refused(tmp_path):
    rows, *_ = gamry_rows(8)
    path = tmp_path / 'unit.DTA'
    path.write_bytes(GAMRY.format(declared=8, phase_unit='zorks', rows=rows, tail='').encode('cp1252'))
    with pytest.raises(ParseError, match='zorks'):
        read(path)


# ------------------------------------------------------------------------------------------ Maccor durations
MACCOR = (
    "Today's Date 01/15/2025  Date of Test:\t01/15/2025\t Filename:\tC:\\Data\\X.001 Procedure:\tP.000\r\n"
    'Rec#\tCyc#\tStep\tTestTime\tStepTime\tAmp-hr\tWatt-hr\tAmps\tVolts\tState\tES\tDPt Time\r\n'
)


def test_maccor_day_time_durations(tmp_path):
    seconds = [0.0, 5.05, 65.5, 3600.0, 90061.25]
    written = ['0d 00:00:00.00', '0d 00:00:05.05', '0d 00:01:05.50', '0d 01:00:00.00', '1d 01:01:01.25']
    lines = [
        f'{k + 1}\t1\t1\t{written[k]}\t{written[k]}\t0.001\t0.003\t0.0005\t{3.0 + 0.1 * k:.4f}\tC\t0\t'
        f'01/15/2025 11:49:{30 + k:02d}'
        for k in range(5)
    ]
    path = tmp_path / 'maccor.txt'
    path.write_bytes((MACCOR + '\r\n'.join(lines) + '\r\n').encode('cp1252'))
    assert detect_format(path) == 'maccor-txt'
    measurement = read(path)
    np.testing.assert_allclose(measurement['time_s'], seconds)
    np.testing.assert_allclose(measurement['step_time_s'], seconds)
    np.testing.assert_allclose(measurement['current_ma'], 0.5)


def test_maccor_cut_in_its_last_line(tmp_path):
    lines = [
        f'{k + 1}\t1\t1\t{10.0 * k:.2f}\t{10.0 * k:.2f}\t0.001\t0.003\t0.0005\t3.0000\tC\t0\t01/15/2025 11:49:{30 + k:02d}'
        for k in range(5)
    ]
    path = tmp_path / 'maccor_cut.txt'
    path.write_bytes((MACCOR.replace('TestTime', 'Test (Sec)') + '\r\n'.join(lines)).encode('cp1252')[:-4])
    with pytest.raises(ParseError, match='the file looks truncated'):
        read(path)
    assert read(path, allow_truncated=True).n_rows == 4


# ------------------------------------------------------------------------------------------ detection
def test_an_impedance_table_is_never_a_diffraction_pattern(tmp_path):
    # an ascending sweep from 3 mHz, cut before 180 Hz: range alone would call it 2theta
    frequency = np.logspace(np.log10(0.0031623), np.log10(150.0), 40)
    z = 0.05 + 1.0 / (1j * 2 * np.pi * frequency * 0.5)
    path = tmp_path / 'half.csv'
    path.write_text(''.join(f'{float(f)!r},{float(v.real)!r},{float(v.imag)!r}\n' for f, v in zip(frequency, z)))
    assert detect_format(path) == 'csv-impedance'
    assert read(path).kind == 'eis'
    # a real pattern (equal steps, counts never negative) is still one
    pattern = tmp_path / 'pattern.csv'
    pattern.write_text(''.join(f'{10 + 0.02 * k:.2f},{100 + k % 7},{10 + k % 3}\n' for k in range(60)))
    assert detect_format(pattern) == 'xy'
