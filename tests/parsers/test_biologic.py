"""BioLogic .mpt (own reader) and .mpr (galvani) on the real files of /work/shared/data."""

from __future__ import annotations

import datetime
import sys

import numpy as np
import pytest

from aiida_ssb.parsers import SUPPORTED_FORMATS, ParseError, UnsupportedFormatError, detect_format, read
from aiida_ssb.parsers.biologic import split_column_name, technique_from_columns, technique_from_name
from tests.parsers.helpers import assert_valid, raw_mpt

# file -> (technique, rows after reading, rows in the raw table)
BIOLOGIC = {
    'ca': ('ca', 721),
    'cp': ('cp', 121),
    'cv': ('cv', 5103),
    'gcpl.pr_182.1': ('gcpl', 2533),
    'geis': ('geis', 2499),
    'lsv': ('lsv', 1186),
    'mb': ('mb', 1588),
    'ocv': ('ocv', 602),
    'peis': ('peis', 32),
    'zir': ('zir', 1),
}
TWINS = sorted(BIOLOGIC)

# canonical column -> (EC-Lab column names in order of preference, factor from the raw value)
SPOT_CHECKS = {
    'time_s': (('time/s',), 1.0),
    'frequency_hz': (('freq/Hz',), 1.0),
    'z_real_ohm': (('Re(Z)/Ohm',), 1.0),
    'z_imag_ohm': (('-Im(Z)/Ohm',), -1.0),
    'z_mod_ohm': (('|Z|/Ohm',), 1.0),
    'z_phase_deg': (('Phase(Z)/deg',), 1.0),
    'charge_mah': (('(Q-Qo)/mA.h',), 1.0),
    'charge_energy_mwh': (('Energy charge/W.h',), 1000.0),
    'discharge_energy_mwh': (('Energy discharge/W.h',), 1000.0),
    'charge_capacity_mah': (('Q charge/mA.h',), 1.0),
    'discharge_capacity_mah': (('Q discharge/mA.h',), 1.0),
    'power_mw': (('P/W',), 1000.0),
    'cycle_index': (('cycle number',), 1.0),
    'half_cycle_index': (('half cycle',), 1.0),
    'step_index': (('Ns',), 1.0),
    'control_mode': (('mode',), 1.0),
    'cell_voltage_v': (('Ewe-Ece/V',), 1.0),
}


@pytest.mark.parametrize('stem', sorted(BIOLOGIC))
@pytest.mark.parametrize('extension', ['mpt', 'mpr'])
def test_every_biologic_file_reads(shared_file, stem, extension):
    path = shared_file(f'biologic/{stem}.{extension}')
    technique, rows = BIOLOGIC[stem]
    measurement = read(path)
    assert_valid(measurement)
    assert measurement.technique == technique
    assert measurement.n_rows == rows
    assert measurement.file_format == f'biologic-{extension}'
    assert detect_format(path) == f'biologic-{extension}'
    assert measurement.metadata['original_columns']
    # physical quantities are floats, counters integers
    for name, values in measurement.columns.items():
        assert values.dtype == (np.int64 if measurement.units[name] == '1' else np.float64), name
    if stem != 'gcpl.pr_182.1':  # that export has no header, its .mpr no log module
        assert 'start_time' in measurement.metadata
        assert isinstance(measurement.metadata['start_time_unix_s'], float)


@pytest.mark.parametrize('extension', ['mpt', 'mpr'])
def test_a_record_without_data_rows_is_refused(shared_file, extension):
    # wait.mpt/.mpr: a header (and a settings module) but not one data row; zero rows is an error, never an
    # empty measurement stored as if it were one
    with pytest.raises(ParseError, match='no data rows'):
        read(shared_file(f'biologic/wait.{extension}'))


@pytest.mark.parametrize('stem', sorted(BIOLOGIC))
def test_mpt_first_and_last_rows_match_the_raw_text(shared_file, stem):
    path = shared_file(f'biologic/{stem}.mpt')
    names, table = raw_mpt(path)
    measurement = read(path, keep_dc_rows=True)
    assert measurement.n_rows == table.shape[0]
    checked = 0
    for canonical, (candidates, factor) in SPOT_CHECKS.items():
        name = next((candidate for candidate in candidates if candidate in names), None)
        if name is None or canonical not in measurement.columns:
            continue
        raw = table[:, names.index(name)] * factor
        ours = measurement[canonical]
        for row in (0, -1):
            if canonical.startswith(('z_', 'frequency')) and table[row, names.index('freq/Hz')] == 0:
                assert np.isnan(ours[row])  # DC rows carry no impedance
                continue
            assert ours[row] == pytest.approx(raw[row], rel=1e-12, abs=1e-15), (canonical, row)
        checked += 1
    assert checked >= 2
    # voltage and current, instantaneous preferred over averaged
    kind_voltage = 'dc_voltage_v' if measurement.kind == 'eis' else 'voltage_v'
    for canonical, candidates in ((kind_voltage, ('Ewe/V', '<Ewe>/V')),):
        name = next(candidate for candidate in candidates if candidate in names)
        assert measurement[canonical][-1] == pytest.approx(table[-1, names.index(name)])


def test_peis_values_and_sign_convention(shared_file):
    measurement = read(shared_file('biologic/peis.mpt'))
    # first line of data: 1.9999814E+005  1.0512296E+001  7.3047662E-001 (-Im(Z))
    assert measurement['frequency_hz'][0] == pytest.approx(1.9999814e5)
    assert measurement['z_real_ohm'][0] == pytest.approx(10.512296)
    assert measurement['z_imag_ohm'][0] == pytest.approx(-0.73047662)
    assert measurement['z_phase_deg'][0] == pytest.approx(-3.9749699)
    assert measurement['dc_current_ma'][0] == pytest.approx(-109.88599)
    metadata = measurement.metadata
    assert metadata['instrument'] == 'SP-240'
    assert metadata['software'] == 'EC-Lab' and metadata['software_version'] == '11.33'
    assert metadata['start_time'] == '2021-03-02T16:17:59'
    assert metadata['technique_name'] == 'Potentio Electrochemical Impedance Spectroscopy'
    assert metadata['settings']['fi'] == '200.000'
    assert metadata['settings']['unit fi'] == 'kHz'
    assert metadata['settings']['Va (mV)'] == '10.0'
    # EC-Lab's 0.001 "not set" values are absent, never reported as a real area or mass
    assert 'electrode_area_cm2' not in metadata
    assert 'characteristic_mass_mg' not in metadata
    assert metadata['original_columns'][:3] == ['freq/Hz', 'Re(Z)/Ohm', '-Im(Z)/Ohm']


def test_cell_characteristics_from_the_header(shared_file):
    ca = read(shared_file('biologic/ca.mpt'))
    assert ca.metadata['electrode_area_cm2'] == pytest.approx(1.131)
    assert ca.metadata['active_mass_mg'] == pytest.approx(0.875)
    assert ca.metadata['battery_capacity_mah'] == pytest.approx(0.105)  # 105.000 µA.h
    assert ca.metadata['instrument'] == 'VMP3' and ca.metadata['instrument_serial'] == '0967'
    geis = read(shared_file('biologic/geis.mpt'))
    assert geis.metadata['characteristic_mass_mg'] == pytest.approx(5.544)
    assert geis.metadata['electrolyte'] == 'WIS pH 6'
    assert geis.metadata['settings']['Is'] == '0.380'
    with_placeholders = read(shared_file('biologic/peis.mpt'), keep_placeholders=True)
    assert with_placeholders.metadata['electrode_area_cm2'] == pytest.approx(0.001)


def test_modulo_bat_settings_keep_every_sequence(shared_file):
    measurement = read(shared_file('biologic/mb.mpt'))
    settings = measurement.metadata['settings']
    assert settings['ctrl_type'] == ['Rest', 'PEIS', 'Rest', 'CC', 'CC', 'Rest', 'PEIS', 'Loop']
    assert settings['ctrl1_val_unit'][3] == 'µA'
    for name in ('cycle_index', 'half_cycle_index', 'step_index', 'control_mode'):
        assert name in measurement
    # one measurement with its sequences: each row's Ns names a sequence of the validated settings
    sequences = measurement.metadata['technique_settings']['sequences']
    assert [sequence['label'] for sequence in sequences] == settings['ctrl_type']
    assert [sequence['control'] for sequence in sequences] == [
        'rest', 'impedance', 'rest', 'current', 'current', 'rest', 'impedance', 'loop'
    ]  # fmt: skip
    assert set(np.unique(measurement['step_index'])) <= {sequence['index'] for sequence in sequences}
    assert sequences[4]['set_current_ma'] == pytest.approx(-0.0028) and sequences[4]['lower_voltage_limit_v'] == -5
    # the impedance columns are NaN outside the impedance sequences
    frequency = measurement['frequency_hz']
    assert np.isnan(frequency).sum() == measurement.metadata['dc_rows'] == 1028
    assert np.all(np.isnan(measurement['z_real_ohm'][np.isnan(frequency)]))


def test_geis_comes_apart_into_its_spectra(shared_file):
    for extension in ('mpt', 'mpr'):
        measurement = read(shared_file(f'biologic/geis.{extension}'))
        assert measurement.metadata['dropped_dc_rows'] == 29
        spectra = measurement.spectra()
        assert len(spectra) == 61
        assert [part.n_rows for part in spectra[:3]] == [41, 41, 41]
        assert spectra[-1].n_rows == 39
        assert all(np.all(np.diff(part['frequency_hz']) < 0) for part in spectra)
        kept = read(shared_file(f'biologic/geis.{extension}'), keep_dc_rows=True)
        assert kept.n_rows == 2528
        assert np.isnan(kept['frequency_hz'][:29]).all()


def test_cv_keeps_its_cycles(shared_file):
    measurement = read(shared_file('biologic/cv.mpr'))
    assert set(np.unique(measurement['cycle_index'])) == {1, 2}
    assert measurement.kind == 'voltammetry'
    assert measurement['voltage_v'].max() == pytest.approx(5.5, abs=0.01)


def test_vsp_with_external_device_has_many_spectra(shared_file):
    measurement = read(shared_file('biologic/vsp_peis_with.mpr'))
    assert measurement.technique == 'peis' and measurement.n_rows == 2240
    assert len(measurement.spectra()) == 32
    assert measurement.metadata['start_date'] == '2022-02-17'  # no log module: no time of day
    assert measurement.metadata['electrode_area_cm2'] == pytest.approx(0.317)


@pytest.mark.parametrize('stem', TWINS)
def test_mpr_and_its_mpt_give_the_same_numbers(shared_file, stem):
    text = read(shared_file(f'biologic/{stem}.mpt'))
    binary = read(shared_file(f'biologic/{stem}.mpr'))
    assert text.technique == binary.technique
    assert text.n_rows == binary.n_rows
    shared = set(text.columns) & set(binary.columns)
    assert {'time_s'} <= shared
    for name in sorted(shared):
        a = text[name].astype(float)
        b = binary[name].astype(float)
        both = np.isfinite(a) & np.isfinite(b)
        # only the first row of a current derived from dq (no previous point) may differ in finiteness
        assert (np.isfinite(a) != np.isfinite(b)).sum() <= (1 if name == 'current_ma' else 0), name
        np.testing.assert_allclose(b[both], a[both], rtol=2e-6, atol=1e-9, err_msg=name)
    for key in ('start_time', 'technique_name', 'electrode_area_cm2', 'software_version', 'original_filename'):
        if key in text.metadata and key in binary.metadata:
            assert text.metadata[key] == binary.metadata[key], key


def test_derived_columns_are_declared(shared_file):
    measurement = read(shared_file('biologic/gcpl.pr_182.1.mpr'))
    derived = measurement.metadata['derived_columns']
    assert set(derived) >= {'current_ma', 'charge_capacity_mah', 'discharge_capacity_mah', 'cycle_index'}
    assert np.isnan(measurement['current_ma'][0])
    # the set point is a current only in galvanostatic rows
    mode = measurement['control_mode']
    assert np.all(np.isnan(measurement['control_current_ma'][mode != 1]))
    assert np.all(np.isfinite(measurement['control_current_ma'][mode == 1]))


def test_jdb11_gcpl(shared_file):
    path = shared_file('biologic/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr')
    measurement = read(path, expect_kind='cycling')
    assert measurement.n_rows == 46102
    assert measurement.technique == 'gcpl'
    assert measurement['voltage_v'].min() >= 1.99 and measurement['voltage_v'].max() <= 3.81
    assert set(np.unique(measurement['cycle_index'])) >= {0, 1, 2, 3, 4}
    assert measurement.metadata['start_time'].startswith('2020-10-26T12:49:58')
    charge = measurement['current_ma'] > 0
    assert charge.any() and (measurement['current_ma'] < 0).any()


def test_mpr_without_galvani_says_how_to_install(shared_file, monkeypatch):
    monkeypatch.setitem(sys.modules, 'galvani', None)
    with pytest.raises(UnsupportedFormatError, match=r'aiida-ssb\[mpr\]'):
        read(shared_file('biologic/peis.mpr'))


def test_headerless_short_export(shared_file, tmp_path):
    names, table = raw_mpt(shared_file('biologic/peis.mpt'))
    lines = ['\t'.join(names)] + ['\t'.join(f'{v:.7E}' for v in row) for row in table[:5]]
    path = tmp_path / 'short.mpt'
    path.write_text('\n'.join(lines) + '\n', encoding='latin-1')
    assert detect_format(path) == 'biologic-mpt'
    measurement = read(path)
    assert measurement.technique == 'eis'  # the columns cannot tell PEIS from GEIS
    assert measurement.metadata['technique_source'].startswith('columns')
    assert read(path, technique='peis').technique == 'peis'


def test_german_locale_export(shared_file, tmp_path):
    raw = shared_file('biologic/cv.mpt').read_bytes().decode('latin-1')
    header, _, data = raw.partition('mode\tox/red')
    german = header + 'mode\tox/red' + data.replace('.', ',')
    path = tmp_path / 'cv.de.mpt'
    path.write_bytes(german.encode('latin-1'))
    original = read(shared_file('biologic/cv.mpt'))
    measurement = read(path)
    assert measurement.metadata['decimal_mark'] == ','
    np.testing.assert_array_equal(measurement['voltage_v'], original['voltage_v'])


def test_absolute_time_export(shared_file, tmp_path):
    names, table = raw_mpt(shared_file('biologic/ocv.mpt'))
    raw = shared_file('biologic/ocv.mpt').read_bytes().decode('latin-1').replace('\r\n', '\n').split('\n')
    count = int(raw[1].split(':')[1])
    position = names.index('time/s')
    lines = raw[:count]
    start = datetime.datetime(2020, 1, 16, 14, 13, 34)
    for row in table[:4]:
        fields = [f'{value:.6f}' for value in row]
        moment = start + datetime.timedelta(seconds=round(row[position] - table[0, position], 4))
        fields[position] = moment.strftime('%m/%d/%Y %H:%M:%S.%f')[:-2]
        lines.append('\t'.join(fields))
    path = tmp_path / 'absolute.mpt'
    path.write_text('\n'.join(lines) + '\n', encoding='latin-1')
    measurement = read(path)
    assert measurement.metadata['time_format'].startswith('absolute')
    np.testing.assert_allclose(measurement['time_s'], table[:4, position] - table[0, position], atol=1e-3)


def test_biologic_helpers():
    assert split_column_name('Q charge/discharge/mA.h') == ('Q charge/discharge', 'mA.h')
    assert split_column_name('control/V/mA') == ('control/V/mA', '')
    assert split_column_name('cycle number') == ('cycle number', '')
    assert technique_from_name('Modulo Bat') == 'mb'
    assert technique_from_name('Chronoamperometry / Chronocoulometry') == 'ca'
    assert technique_from_name('Cyclic Voltammetry Advanced') == 'cva'
    assert technique_from_name('Wait') == 'wait'
    assert technique_from_name('Waiting for Godot') is None
    assert technique_from_columns(['time/s', 'control/V', 'Ewe/V', '<I>/mA', 'cycle number']) == 'cv'
    assert technique_from_columns(['time/s', 'control/V', 'Ewe/V', '<I>/mA']) == 'lsv'
    assert technique_from_columns(['time/s', 'Ewe/V']) == 'ocv'
    assert technique_from_columns(['time/s', 'Ewe/V', 'I/mA']) == 'wait'
    assert technique_from_columns(['x/y']) is None
    assert 'biologic-mpr' in SUPPORTED_FORMATS


def test_reading_never_modifies_the_file(shared_file):
    for name in ('biologic/peis.mpt', 'biologic/peis.mpr'):
        path = shared_file(name)
        before = (path.read_bytes(), path.stat().st_mtime_ns)
        read(path)
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_wrong_technique_for_a_biologic_file(shared_file):
    with pytest.raises(ParseError, match='gcpl'):
        read(shared_file('biologic/gcpl.pr_182.1.mpr'), technique='peis')
    with pytest.raises(ParseError, match='geis'):
        read(shared_file('biologic/geis.mpt'), technique='peis')  # the file records GEIS
    with pytest.raises(ParseError, match='expected a eis measurement'):
        read(shared_file('biologic/cv.mpt'), expect_kind='eis')
    assert read(shared_file('biologic/cv.mpt'), expect_kind='voltammetry').kind == 'voltammetry'


def test_mpt_units_are_converted(tmp_path):
    """Currents in A or µA, charge in C, energy in mW.h and a -Im(Z) column all end canonical."""
    header = ['EC-Lab ASCII FILE', 'Nb header lines : 6', '', 'Chronopotentiometry', '']
    names = ['mode', 'time/s', 'Ewe/V', 'I/A', '(Q-Qo)/C', 'Energy charge/mW.h', 'P/W', 'control/µA']
    rows = ['1\t0.0\t3.0\t0.002\t0.0\t0.0\t0.006\t2000', '1\t1.0\t3.1\t0.002\t0.002\t0.0017\t0.0062\t2000']
    path = tmp_path / 'units.mpt'
    path.write_bytes('\n'.join(header + ['\t'.join(names)] + rows).encode('latin-1'))
    measurement = read(path)
    assert measurement.technique == 'cp'
    assert measurement['current_ma'].tolist() == pytest.approx([2.0, 2.0])
    assert measurement['charge_mah'][1] == pytest.approx(0.002 / 3.6)
    assert measurement['charge_energy_mwh'][1] == pytest.approx(0.0017)
    assert measurement['power_mw'][1] == pytest.approx(6.2)
    assert measurement['control_current_ma'][0] == pytest.approx(2.0)
    bad = tmp_path / 'bad_unit.mpt'
    bad.write_bytes('\n'.join(header + ['\t'.join(names).replace('I/A', 'I/V')] + rows).encode('latin-1'))
    with pytest.raises(ParseError, match="column 'I/V'"):
        read(bad)


# columns EC-Lab computes only when it exports a record as text (its .mpr has no such column and no exact rule
# rebuilds them): CP's energies and capacitances, Modulo Bat's R
EXPORT_ONLY = {
    'cp': {'charge_energy_mwh', 'discharge_energy_mwh', 'charge_capacitance_uf', 'discharge_capacitance_uf'},
    'mb': {'resistance_ohm'},
}


@pytest.mark.parametrize('stem', TWINS)
def test_mpt_and_mpr_give_the_same_columns(shared_file, stem):
    text = set(read(shared_file(f'biologic/{stem}.mpt')).columns)
    binary = set(read(shared_file(f'biologic/{stem}.mpr')).columns)
    assert binary <= text
    assert text - binary == EXPORT_ONLY.get(stem, set())


def test_every_battery_column_name_of_either_ec_lab_version(tmp_path):
    """Newer EC-Lab writes ``Energy we charge``, ``Pwe``, ``Rwe`` where older versions (and galvani's names for an
    .mpr) say ``Energy charge``, ``P``, ``R``; counter-electrode and cell (we-ce) quantities have their own columns."""
    from tests.parsers.helpers import ec_lab, write_mpt

    names = [
        'mode', 'time/s', 'Ewe/V', 'Ece/V', 'I/mA', '(Q-Qo)/mA.h', 'Q charge/discharge/mA.h', 'half cycle',
        'Energy we charge/W.h', 'Energy we discharge/W.h', 'Energy ce charge/W.h', 'Energy ce discharge/W.h',
        'Energy we-ce charge/W.h', 'Energy we-ce discharge/W.h', 'Pwe/W', 'Pce/W', 'Pwe-ce/W', 'Rwe/Ohm',
        'Capacitance charge/µF', 'Capacitance discharge/µF', 'x',
    ]  # fmt: skip
    values = [1, 10.0, 3.5, 0.25, 2.0, 0.5, 0.5, 0, 1.5e-3, 0.0, -2e-5, 0.0, 1.4e-3, 0.0, 7e-3, -5e-4, 6.5e-3, 12.5,
              3.3, 0.0, 0.42]  # fmt: skip
    rows = [[str(value) if isinstance(value, int) else ec_lab(value) for value in values] for _ in range(3)]
    path = tmp_path / 'names.mpt'
    write_mpt(path, names, rows)
    measurement = read(path)
    expected = {
        'voltage_v': 3.5, 'counter_voltage_v': 0.25, 'cell_voltage_v': 3.25, 'current_ma': 2.0,
        'charge_mah': 0.5, 'capacity_mah': 0.5, 'charge_energy_mwh': 1.5, 'counter_charge_energy_mwh': -0.02,
        'cell_charge_energy_mwh': 1.4, 'power_mw': 7.0, 'counter_power_mw': -0.5, 'cell_power_mw': 6.5,
        'resistance_ohm': 12.5, 'charge_capacitance_uf': 3.3, 'intercalation_x': 0.42,
    }  # fmt: skip
    for name, value in expected.items():
        assert measurement[name][0] == pytest.approx(value, rel=1e-7), name
    assert measurement.metadata['derived_columns']['cell_voltage_v'] == 'Ewe - Ece'


@pytest.mark.parametrize('stem', [stem for stem in TWINS if stem not in ('gcpl.pr_182.1', 'mb')])
def test_settings_of_the_mpr_module_agree_with_its_mpt_export(shared_file, stem):
    """The .mpr settings module, read through the record layouts, gives what the .mpt settings block says."""
    text = read(shared_file(f'biologic/{stem}.mpt')).metadata['settings_summary']
    binary = read(shared_file(f'biologic/{stem}.mpr')).metadata['settings_summary']
    assert set(binary) == set(text)
    for key, value in text.items():
        assert binary[key] == (pytest.approx(value, rel=1e-6) if isinstance(value, float) else value), key


def test_settings_of_every_shared_ec_lab_file(shared_data):
    """Every EC-Lab file of the shared folder records its settings, except those whose layout is not read: the
    Modulo Bat .mpr (its .mpt twin gives them), the BT-Lab GCPL export without a header and its .mpr."""
    not_read = {'mb.mpr', 'gcpl.pr_182.1.mpt', 'gcpl.pr_182.1.mpr', 'wait.mpt', 'wait.mpr'}
    for path in sorted((shared_data / 'biologic').glob('*.mp[rt]')):
        if path.name in not_read:
            continue
        measurement = read(path)
        assert measurement.metadata['settings_summary']['technique'] == measurement.technique, path.name
        assert measurement.metadata['technique_settings']['sequences'], path.name
    jdb = read(shared_data / 'biologic' / 'jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr')
    summary = jdb.metadata['settings_summary']
    assert summary['upper_voltage_limit_v'] == pytest.approx(3.8) and summary['lower_voltage_limit_v'] == pytest.approx(
        2.0
    )
