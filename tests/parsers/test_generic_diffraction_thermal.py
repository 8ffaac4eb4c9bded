"""Generic tables through a column_map, diffraction (.xy, .xrdml) and NETZSCH thermal exports, all on
synthetic files written here with a fixed seed."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_ssb.parsers import ParseError, UnsupportedFormatError, detect_format, read
from aiida_ssb.parsers.thermal import split_netzsch_column
from tests.parsers.helpers import assert_valid, synthetic_pattern, write_netzsch, write_xrdml


# ---------------------------------------------------------------------------------------------- generic
def _novocontrol(tmp_path, *, delimiter='\t', decimal='.'):
    rng = np.random.default_rng(11)
    frequency = np.logspace(7, -1, 41)
    real = 2e5 / (1 + (frequency / 3e3) ** 2) + 50
    imag = -2e5 * (frequency / 3e3) / (1 + (frequency / 3e3) ** 2)
    temperature = 25.0 + rng.normal(0, 0.01, frequency.size)
    header = delimiter.join(['Freq [Hz]', "Z' [Ohm]", "Z'' [Ohm]", 'T [K]', 'Comment'])
    rows = []
    for f, r, i, t in zip(frequency, real, imag, temperature):
        fields = [f'{f / 1e3:.8e}', f'{r / 1e3:.8e}', f'{-i:.8e}', f'{t + 273.15:.5f}']
        if decimal == ',':
            fields = [field.replace('.', ',') for field in fields]
        rows.append(delimiter.join(fields + ['ok']))
    text = '# Novocontrol Alpha-A export\n# sample SE-03 pellet\n' + header + '\n' + '\n'.join(rows) + '\n'
    path = tmp_path / 'novocontrol.txt'
    path.write_text(text, encoding='utf-8')
    return path, frequency, real, imag, temperature


COLUMN_MAP = {
    'frequency_hz': ('Freq [Hz]', 'kHz'),  # the export is in kHz despite its header
    'z_real_ohm': ("Z' [Ohm]", 'kohm'),
    'z_imag_ohm': ("Z'' [Ohm]", 'ohm', -1),  # the file holds -Im(Z)
    'temperature_c': (3, 'K'),
}


@pytest.mark.parametrize('delimiter,decimal', [('\t', '.'), (';', ','), (',', '.')])
def test_generic_table_with_column_map(tmp_path, delimiter, decimal):
    path, frequency, real, imag, temperature = _novocontrol(tmp_path, delimiter=delimiter, decimal=decimal)
    measurement = read(path, column_map=COLUMN_MAP, technique='peis')
    assert_valid(measurement)
    assert measurement.file_format == 'generic-csv'
    assert measurement.technique == 'peis'
    np.testing.assert_allclose(measurement['frequency_hz'], frequency, rtol=1e-7)
    np.testing.assert_allclose(measurement['z_real_ohm'], real, rtol=1e-7)
    np.testing.assert_allclose(measurement['z_imag_ohm'], imag, rtol=1e-7)
    np.testing.assert_allclose(measurement['temperature_c'], temperature, atol=1e-5)
    assert measurement.metadata['decimal_mark'] == decimal
    assert measurement.metadata['comments'].startswith('# Novocontrol')


def test_generic_infers_an_unambiguous_technique(tmp_path):
    path, *_ = _novocontrol(tmp_path)
    assert read(path, column_map=COLUMN_MAP).technique == 'eis'


def test_generic_errors_name_the_column(tmp_path):
    path, *_ = _novocontrol(tmp_path)
    with pytest.raises(ParseError, match=r"'Freq' .*is not in the file"):
        read(path, column_map={**COLUMN_MAP, 'frequency_hz': ('Freq', 'Hz')})
    with pytest.raises(ParseError, match=r"column 'Freq \[Hz\]' \(mapped to frequency_hz\).*not convertible"):
        read(path, column_map={**COLUMN_MAP, 'frequency_hz': ('Freq [Hz]', 'mA')})
    with pytest.raises(ParseError, match='not a canonical column name'):
        read(path, column_map={'freq': ('Freq [Hz]', 'Hz')})
    with pytest.raises(ParseError, match='outside the table'):
        read(path, column_map={**COLUMN_MAP, 'temperature_c': (9, 'K')})
    with pytest.raises(ParseError, match=r'must be \(column, unit\)'):
        read(path, column_map={**COLUMN_MAP, 'temperature_c': 'T [K]'})
    with pytest.raises(ParseError, match='pass technique'):
        read(path, column_map={'voltage_v': ("Z' [Ohm]", 'V')})
    with pytest.raises(ParseError, match='only used by the generic-csv reader'):
        read(path, column_map=COLUMN_MAP, file_format='xy')


def test_generic_non_numeric_mapped_cell(tmp_path):
    path, *_ = _novocontrol(tmp_path)
    lines = path.read_text().split('\n')
    fields = lines[5].split('\t')
    fields[1] = 'n/a'
    lines[5] = '\t'.join(fields)
    path.write_text('\n'.join(lines))
    with pytest.raises(ParseError, match="column \"Z' \\[Ohm\\]\" holds 'n/a'") as error:
        read(path, column_map=COLUMN_MAP)
    assert error.value.line == 6


def test_generic_thermal_table(tmp_path):
    temperature = np.linspace(25, 300, 56)
    heat_flow = np.sin(temperature / 40.0)
    path = tmp_path / 'dsc.csv'
    path.write_text(
        'Temperature (K),Heat flow (W),Time (min)\n'
        + '\n'.join(
            f'{t + 273.15:.4f},{h / 1e3:.9f},{i * 0.5:.2f}' for i, (t, h) in enumerate(zip(temperature, heat_flow))
        )
    )
    measurement = read(
        path,
        column_map={
            'temperature_c': ('Temperature (K)', 'K'),
            'heat_flow_mw': ('Heat flow (W)', 'W'),
            'time_s': ('Time (min)', 'min'),
        },
    )
    assert measurement.technique == 'dsc'
    np.testing.assert_allclose(measurement['temperature_c'], temperature, atol=1e-4)
    np.testing.assert_allclose(measurement['heat_flow_mw'], heat_flow, atol=1e-6)
    assert measurement['time_s'][-1] == pytest.approx(55 * 30.0)


# ---------------------------------------------------------------------------------------------- diffraction
def test_xy_pattern_with_comments(tmp_path):
    angles, counts = synthetic_pattern()
    path = tmp_path / 'pattern.xy'
    body = '\n'.join(f'{a:.4f} {c:.0f}' for a, c in zip(angles, counts))
    path.write_text(f'# SE-03, Cu Kalpha\n# wavelength: 1.5406 Å\n! step 0.2 deg\n{body}\n', encoding='utf-8')
    assert detect_format(path) == 'xy'
    measurement = read(path, expect_kind='diffraction')
    assert_valid(measurement)
    assert measurement.technique == 'xrd' and measurement.n_rows == angles.size
    np.testing.assert_allclose(measurement['two_theta_deg'], angles, atol=1e-4)
    np.testing.assert_array_equal(measurement['intensity_counts'], counts)
    assert measurement.metadata['wavelength_angstrom'] == pytest.approx(1.5406)


def test_csv_pattern_with_header_and_error_column(tmp_path):
    angles, counts = synthetic_pattern(seed=2)
    path = tmp_path / 'pattern.csv'
    path.write_text('2Theta,Intensity\n' + '\n'.join(f'{a:.3f},{c:.0f}' for a, c in zip(angles, counts)))
    assert detect_format(path) == 'xy'
    assert read(path).n_rows == angles.size
    path3 = tmp_path / 'pattern3.xy'
    path3.write_text('\n'.join(f'{a:.3f}\t{c:.0f}\t{np.sqrt(c):.2f}' for a, c in zip(angles, counts)))
    assert detect_format(path3) == 'xy'
    np.testing.assert_array_equal(read(path3)['intensity_counts'], counts)


def test_xy_rejects_angles_that_are_not_two_theta(tmp_path):
    path = tmp_path / 'q.xy'
    path.write_text('\n'.join(f'{q:.3f} {i}' for q, i in zip(np.linspace(100, 400, 20), range(20))))
    with pytest.raises(ParseError, match='outside 0-180'):
        read(path)


@pytest.mark.parametrize('tag,listed', [('counts', False), ('intensities', False), ('counts', True)])
def test_xrdml(tmp_path, tag, listed):
    path = tmp_path / 'scan.xrdml'
    angles, counts = write_xrdml(path, tag=tag, listed=listed)
    assert detect_format(path) == 'panalytical-xrdml'
    measurement = read(path)
    assert_valid(measurement)
    assert measurement.technique == 'xrd'
    np.testing.assert_allclose(measurement['two_theta_deg'], angles, atol=1e-4)
    np.testing.assert_array_equal(measurement['intensity_counts'], counts)
    metadata = measurement.metadata
    assert metadata['wavelength_kalpha1_angstrom'] == pytest.approx(1.540598)
    assert metadata['wavelength_kalpha2_angstrom'] == pytest.approx(1.544426)
    assert metadata['kalpha2_kalpha1_ratio'] == pytest.approx(0.5)
    assert metadata['anode'] == 'Cu' and metadata['tube_voltage_kv'] == 45
    assert metadata['start_time'] == '2024-03-14T09:15:00+01:00'
    assert metadata['start_time_unix_s'] == pytest.approx(1710404100.0)
    assert metadata['counting_time_s'] == 0.5
    assert metadata['sample_id'] == 'SE-03'
    assert metadata['instrument'] == '0000000011089873'
    assert metadata['software'] == 'Data Collector' and metadata['software_version'] == '5.5'


def test_xrdml_attenuation_and_several_scans(tmp_path):
    path = tmp_path / 'attenuated.xrdml'
    factors = np.ones(351)
    factors[100:110] = 10.0
    angles, counts = write_xrdml(path, attenuation=factors, scans=3)
    first = read(path)
    np.testing.assert_array_equal(first['intensity_counts'], counts * factors)
    assert first.metadata['attenuation_applied'] is True
    assert first.metadata['n_scans'] == 3
    every = read(path, scan='all')
    assert every.n_rows == 3 * angles.size
    assert set(np.unique(every['loop_index'])) == {0, 1, 2}
    assert read(path, scan=2).metadata['start_time'].endswith(':02+01:00')
    with pytest.raises(ParseError, match='scan must be'):
        read(path, scan=5)


def test_xrdml_broken_xml(tmp_path):
    path = tmp_path / 'broken.xrdml'
    write_xrdml(path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ParseError, match='not well-formed XML'):
        read(path, file_format='panalytical-xrdml')


# ---------------------------------------------------------------------------------------------- thermal
def test_netzsch_sta(tmp_path):
    path = tmp_path / 'sta.txt'
    temperature, minutes, dsc, mass = write_netzsch(path)
    assert detect_format(path) == 'netzsch-txt'
    measurement = read(path, expect_kind='thermal')
    assert_valid(measurement)
    assert measurement.technique == 'sta'
    np.testing.assert_allclose(measurement['temperature_c'], temperature, atol=1e-5)
    np.testing.assert_allclose(measurement['time_s'], minutes * 60.0, atol=1e-3)
    # mW/mg x 22.160 mg, turned exothermic-positive with the file's #EXO:-1
    np.testing.assert_allclose(measurement['heat_flow_mw'], -dsc * 22.160, atol=2e-4)
    assert measurement.metadata['heat_flow_sign'].startswith('exothermic positive')
    np.testing.assert_allclose(measurement['mass_percent'], mass, atol=1e-5)
    np.testing.assert_allclose(measurement['mass_mg'], mass / 100 * 22.160, atol=1e-5)
    metadata = measurement.metadata
    assert metadata['sample_mass_mg'] == pytest.approx(22.16)
    assert metadata['instrument'] == 'NETZSCH STA 449F3'
    assert metadata['exo_sign'] == -1
    assert metadata['heating_rate_k_min'] == 10.0
    assert metadata['start_time'] == '2024-06-19T12:34:56'
    assert metadata['crucible'] == 'Al2O3 70µl, lid'
    assert 'heat_flow_mw' in metadata['derived_columns']


def test_netzsch_tab_decimal_comma_dsc_only(tmp_path):
    path = tmp_path / 'dsc.txt'
    _temperature, _, dsc, _ = write_netzsch(
        path, separator='TAB', decimal='COMMA', with_mass_column=False, encoding='utf-8'
    )
    measurement = read(path)
    assert measurement.technique == 'dsc'
    assert measurement.metadata['decimal_mark'] == ','
    np.testing.assert_allclose(measurement['heat_flow_mw'], -dsc * 22.160, atol=2e-4)  # #EXO:-1


def test_netzsch_tga_in_mg_and_csv_separator(tmp_path):
    path = tmp_path / 'tga.csv'
    write_netzsch(path, separator='COMMA', columns='Temp./°C;Time/min;Mass/mg')
    measurement = read(path)
    assert measurement.technique == 'tga'
    assert 'mass_percent' in measurement.metadata['derived_columns']


def test_netzsch_needs_the_sample_mass_for_specific_heat_flow(tmp_path):
    path = tmp_path / 'nomass.txt'
    _, _, dsc, _ = write_netzsch(path, with_mass_line=False)
    with pytest.raises(ParseError, match='sample_mass_mg'):
        read(path)
    measurement = read(path, sample_mass_mg=10.0)
    np.testing.assert_allclose(measurement['heat_flow_mw'], -dsc * 10.0, atol=1e-4)  # #EXO:-1
    assert measurement.metadata['sample_mass_source'] == 'caller'


def test_netzsch_uncalibrated_signal_and_compare_exports(tmp_path):
    path = tmp_path / 'uv.txt'
    write_netzsch(path, columns='Temp./°C;Time/min;DSC/(uV/mg);Mass/%')
    measurement = read(path)
    assert 'heat_flow_mw' not in measurement and 'dsc_signal_not_converted' in measurement.metadata
    compare = tmp_path / 'compare.txt'
    compare.write_text(path.read_text(encoding='latin-1').replace('DATA ALL', 'DATA COMPARE'), encoding='latin-1')
    with pytest.raises(UnsupportedFormatError, match='DATA ALL'):
        read(compare)


def test_netzsch_column_names():
    assert split_netzsch_column('Temp./°C') == ('Temp.', '°C')
    assert split_netzsch_column('DSC/(mW/mg)') == ('DSC', 'mW/mg')
    assert split_netzsch_column('Gas Flow(purge1)/(ml/min)') == ('Gas Flow(purge1)', 'ml/min')
    assert split_netzsch_column('Segment') == ('Segment', '')
