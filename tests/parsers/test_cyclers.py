"""Battery cyclers: Neware .ndax (NewareNDA), Arbin .res (mdbtools or access-parser), Maccor text."""

from __future__ import annotations

import importlib.util
import shutil
import sys

import numpy as np
import pytest

from aiida_ssb.parsers import ParseError, UnsupportedFormatError, cyclers, detect_format, read
from tests.parsers.helpers import assert_valid


def test_maccor_text_export(shared_file):
    path = shared_file('cyclers/maccor_example.txt')
    assert detect_format(path) == 'maccor-txt'
    measurement = read(path, expect_kind='cycling')
    assert_valid(measurement)
    assert measurement.technique == 'cycling' and measurement.n_rows == 37
    # row 1: rest at 2.314 V; row 6: first charge point, 0.61 mA, 5.0833e-6 Ah
    assert measurement['voltage_v'][0] == pytest.approx(2.314)
    assert measurement['current_ma'][0] == 0.0
    assert measurement['current_ma'][5] == pytest.approx(0.61)
    assert measurement['charge_capacity_mah'][5] == pytest.approx(0.0050833)
    assert np.isnan(measurement['discharge_capacity_mah'][5])
    # last row: discharge, the unsigned Amps get their sign from State
    assert measurement['current_ma'][-1] == pytest.approx(-0.61)
    assert measurement['discharge_capacity_mah'][-1] == pytest.approx(0.1626667)
    assert measurement['time_s'][-1] == pytest.approx(37 * 60.0)
    assert measurement['step_index'].tolist()[:6] == [1, 1, 1, 1, 1, 3]
    metadata = measurement.metadata
    assert metadata['start_time'] == '2025-01-15T11:49:32'
    assert metadata['original_filename'] == 'EX-1-1-a1-b2.001'
    assert metadata['procedure'].startswith('25_01_15_EX-1-1-a1-b2.000')


def test_neware_ndax(shared_file):
    pytest.importorskip('NewareNDA')
    path = shared_file('cyclers/test.ndax')
    assert detect_format(path) == 'neware-ndax'
    measurement = read(path)
    assert_valid(measurement)
    assert measurement.file_format == 'neware-ndax' and measurement.n_rows == 1464
    # Neware's Time restarts each step; time_s runs on: 20:24:23 -> 08:34:23 is 43,800 s
    assert measurement['time_s'][-1] == pytest.approx(43800.0)
    assert np.all(np.diff(measurement['time_s']) >= 0)
    assert measurement['step_index'].min() == 1 and measurement['step_index'].max() == 4
    assert measurement['charge_capacity_mah'].max() == pytest.approx(0.593, abs=1e-3)
    assert measurement['current_ma'][11] == pytest.approx(0.1199, abs=1e-4)
    assert measurement.metadata['start_time'] == '2024-02-01T20:24:23'
    assert measurement.metadata['step_status']['2'] == 'CCCV_Chg'


def test_neware_without_the_library(shared_file, monkeypatch):
    monkeypatch.setitem(sys.modules, 'NewareNDA', None)
    with pytest.raises(UnsupportedFormatError, match=r'aiida-ssb\[neware\]'):
        read(shared_file('cyclers/test.ndax'))


def test_neware_total_time_rule():
    step_time = np.array([0.0, 30.0, 60.0, 0.0, 30.0, 0.0, 10.0])
    step = np.array([1, 1, 1, 2, 2, 3, 3])
    np.testing.assert_allclose(cyclers._total_time(step_time, step), [0, 30, 60, 60, 90, 90, 100])


BACKENDS = []
if shutil.which('mdb-export'):
    BACKENDS.append('mdbtools')
if importlib.util.find_spec('access_parser') is not None:
    BACKENDS.append('access-parser')


@pytest.mark.parametrize('backend', BACKENDS or [pytest.param('none', marks=pytest.mark.skip('no Arbin backend'))])
def test_arbin_res(shared_file, backend):
    path = shared_file('cyclers/arbin_example.res')
    assert detect_format(path) == 'arbin-res'
    measurement = read(path, backend=backend)
    assert_valid(measurement)
    assert measurement.n_rows == 2150
    assert measurement['voltage_v'][0] == pytest.approx(3.8591957)
    assert measurement['time_s'][1] == pytest.approx(300.0801607718582)
    assert measurement['cycle_index'][-1] == 5
    assert measurement.metadata['start_time'] == '2023-07-24T18:50:00'
    assert measurement.metadata['test_name'] == 'ajm314_LCO_ajm5-SSB1-F_Wait48hr-Repeat-01-012'
    charge = measurement['current_ma'] > 0
    assert charge.any() and (measurement['current_ma'] < 0).any()
    assert measurement['charge_capacity_mah'].max() > 0


def test_arbin_backends_agree(shared_file):
    if len(BACKENDS) < 2:
        pytest.skip('needs both mdb-export and access-parser')
    path = shared_file('cyclers/arbin_example.res')
    first, second = (read(path, backend=backend) for backend in BACKENDS)
    for name in first.columns:
        np.testing.assert_allclose(first[name], second[name], rtol=1e-7, err_msg=name)


def test_arbin_without_a_backend_says_what_to_install(shared_file, monkeypatch):
    monkeypatch.setattr(shutil, 'which', lambda name: None)
    monkeypatch.setitem(sys.modules, 'access_parser', None)
    with pytest.raises(UnsupportedFormatError, match='mdbtools') as error:
        read(shared_file('cyclers/arbin_example.res'))
    assert 'export' in str(error.value) and 'CSV' in str(error.value)


def test_maccor_bad_cell_names_the_line(shared_file, tmp_path):
    lines = shared_file('cyclers/maccor_example.txt').read_text(encoding='latin-1').split('\n')
    fields = lines[10].split('\t')
    fields[8] = '2.4x7'  # the Volts column
    lines[10] = '\t'.join(fields)
    path = tmp_path / 'maccor.txt'
    path.write_text('\n'.join(lines), encoding='latin-1')
    with pytest.raises(ParseError, match=r"'Volts' holds '2\.4x7'") as error:
        read(path)
    assert error.value.line == 11
