"""Impedance exports of other instruments (impedance.py's example data) and synthetic variants."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_ssb.parsers import ParseError, detect_format, read
from tests.parsers.helpers import assert_valid

# file -> (format, technique, rows, (f, Re, Im) of the first row, (f, Re, Im) of the last row)
EIS_FILES = {
    'exampleData.csv': (
        'csv-impedance',
        'eis',
        66,
        (0.0031623, 0.0494998977640506, -0.020438698544418925),
        (10000.0, 0.015771482660485933, 0.010157474564938236),
    ),
    'exampleDataGamry.DTA': (
        'gamry-dta',
        'peis',
        72,
        (200015.6, 825.8584, -1367.239),
        (0.0158898, 17007.49, -6635.557),
    ),
    'exampleDataZPlot.z': ('zplot-z', 'peis', 21, (3.0e5, 147.77, -11.335), (3.0e3, 613.68, -137.13)),
    'exampleDataAutolab.txt': (
        'autolab-txt',
        'eis',
        41,
        (10000.0, 0.013785863964281, 0.007191946305823),
        (0.1, 0.0345697771923854, -0.00390292888845954),
    ),
    'exampleDataBioLogic.mpt': (
        'biologic-mpt',
        'peis',
        43,
        (1000.3201, 65.470886, -0.38998979),
        (0.01689554, 110.97003, -2.3458567),
    ),
}


@pytest.mark.parametrize('name', sorted(EIS_FILES))
def test_every_eis_example_reads(shared_file, name):
    path = shared_file(f'eis/{name}')
    file_format, technique, rows, first, last = EIS_FILES[name]
    assert detect_format(path) == file_format
    measurement = read(path, expect_kind='eis')
    assert_valid(measurement)
    assert measurement.file_format == file_format
    assert measurement.technique == technique
    assert measurement.n_rows == rows
    for row, expected in ((0, first), (-1, last)):
        got = tuple(measurement[column][row] for column in ('frequency_hz', 'z_real_ohm', 'z_imag_ohm'))
        assert got == pytest.approx(expected, rel=1e-9)
    assert len(measurement.spectra()) == 1
    # a capacitive arc: Im(Z) negative at the low-frequency end of every file
    low = np.argmin(measurement['frequency_hz'])
    assert measurement['z_imag_ohm'][low] < 0


def test_gamry_metadata(shared_file):
    measurement = read(shared_file('eis/exampleDataGamry.DTA'))
    metadata = measurement.metadata
    assert metadata['start_time'] == '2018-04-23T16:43:15'
    assert metadata['instrument'] == 'REF3000' and metadata['instrument_serial'] == '34128'
    assert metadata['electrode_area_cm2'] == 1.0
    assert metadata['software_version'] == '7.05'
    assert metadata['gamry_tag'] == 'EISPOT'
    assert metadata['comments'] == '-50mV +5.66X10^-4 D8'
    assert metadata['settings']['FREQINIT'].startswith('2.00000E+005')
    # Idc is written in A; dc_current_ma is in mA
    assert measurement['dc_current_ma'][0] == pytest.approx(-5.89286e-3)
    assert measurement['dc_voltage_v'][0] == pytest.approx(-0.3413299)
    assert measurement['z_phase_deg'][0] == pytest.approx(-58.86662)


def test_zplot_metadata(shared_file):
    measurement = read(shared_file('eis/exampleDataZPlot.z'))
    assert measurement.metadata['start_time'] == '2018-10-12T11:04:34'
    assert measurement.metadata['software_version'] == '3.2c'
    assert measurement.metadata['declared_points'] == 56  # the file announces 56 points but holds 21
    assert measurement['time_s'][0] == pytest.approx(2.67)


def test_autolab_z60w_time_not_recorded(shared_file):
    measurement = read(shared_file('eis/exampleDataAutolab.txt'))
    assert 'time_s' not in measurement  # the export writes 0 for every time: unknown, not zero
    assert measurement.metadata['not_recorded'] == ['Time(Sec)']


def test_csv_impedance_refined_by_the_caller(shared_file):
    measurement = read(shared_file('eis/exampleData.csv'), technique='peis')
    assert measurement.technique == 'peis'
    assert measurement.metadata['technique_detected'] == 'eis'
    with pytest.raises(ParseError, match='not cv'):
        read(shared_file('eis/exampleData.csv'), technique='cv')


def test_csv_impedance_semicolon_and_decimal_comma(tmp_path):
    rng = np.random.default_rng(0)
    frequency = np.logspace(6, -1, 36)
    real = 100 + 1000 / (1 + (frequency / 1e3) ** 2) + rng.normal(0, 0.1, frequency.size)
    imag = -1000 * (frequency / 1e3) / (1 + (frequency / 1e3) ** 2)
    lines = ['Freq;ReZ;ImZ'] + [f'{f:.6e};{r:.6f};{-i:.6f}'.replace('.', ',') for f, r, i in zip(frequency, real, imag)]
    path = tmp_path / 'spectrum.csv'
    path.write_text('\n'.join(lines) + '\n')
    assert detect_format(path) == 'csv-impedance'
    measurement = read(path, imag_sign=-1)  # the file holds -Im(Z)
    np.testing.assert_allclose(measurement['frequency_hz'], frequency, rtol=1e-6)
    np.testing.assert_allclose(measurement['z_imag_ohm'], imag, rtol=1e-5, atol=1e-6)
    assert measurement.metadata['decimal_mark'] == ','
    warned = read(path)
    assert 'sign_warning' in warned.metadata


def test_nova_column_export(tmp_path):
    frequency = np.logspace(5, -1, 25)
    real = 50 + 500 / (1 + (frequency / 100) ** 2)
    imag = -500 * (frequency / 100) / (1 + (frequency / 100) ** 2)
    modulus = np.hypot(real, imag)
    phase = np.degrees(np.arctan2(imag, real))
    header = "Index;Frequency (Hz);Z' (Ω);-Z'' (Ω);Z (Ω);-Phase (°);Time (s)"
    rows = [
        f'{i + 1};{f:.6g};{r:.6g};{-m:.6g};{z:.6g};{-p:.6g};{i * 2.5:.2f}'
        for i, (f, r, m, z, p) in enumerate(zip(frequency, real, imag, modulus, phase))
    ]
    path = tmp_path / 'nova.txt'
    path.write_text(header + '\n' + '\n'.join(rows) + '\n', encoding='utf-8')
    assert detect_format(path) == 'autolab-txt'
    measurement = read(path)
    assert measurement.metadata['layout'] == 'NOVA column export'
    np.testing.assert_allclose(measurement['z_imag_ohm'], imag, rtol=1e-5)
    np.testing.assert_allclose(measurement['z_phase_deg'], phase, rtol=1e-5)
    np.testing.assert_allclose(measurement['time_s'][-1], 24 * 2.5)


def test_gamry_galvanostatic_with_decimal_comma(shared_file, tmp_path):
    text = shared_file('eis/exampleDataGamry.DTA').read_bytes().decode('cp1252')
    head, _, table = text.partition('ZCURVE\tTABLE')
    body_lines = table.split('\n')
    converted = body_lines[:3] + [line.replace('.', ',') for line in body_lines[3:]]
    galvanostatic = head.replace('TAG\tEISPOT', 'TAG\tEISGALV') + 'ZCURVE\tTABLE' + '\n'.join(converted)
    path = tmp_path / 'galv.DTA'
    path.write_bytes(galvanostatic.encode('cp1252'))
    measurement = read(path)
    assert measurement.technique == 'geis'
    assert measurement.metadata['decimal_mark'] == ','
    assert measurement['z_real_ohm'][0] == pytest.approx(825.8584)


def test_truncated_gamry_table(shared_file, tmp_path):
    raw = shared_file('eis/exampleDataGamry.DTA').read_bytes()
    cut = raw[: raw.rindex(b'\n\t67\t') + 12]  # the last row is cut in the middle
    path = tmp_path / 'cut.DTA'
    path.write_bytes(cut)
    with pytest.raises(ParseError, match='allow_truncated') as error:
        read(path)
    assert error.value.line is not None
    measurement = read(path, allow_truncated=True)
    assert measurement.n_rows == 67
    assert 'truncated_last_line' in measurement.metadata
