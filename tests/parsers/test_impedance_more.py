"""CH Instruments, Parstat and VersaStudio exports (the other formats impedance.py reads), written here."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_ssb.parsers import ParseError, detect_format, read
from tests.parsers.helpers import assert_valid


def spectrum(n: int = 15):
    frequency = np.logspace(5, -1, n)
    z = 20.0 + 1.0 / (1.0 / 500.0 + 1j * 2 * np.pi * frequency * 1e-6)
    return frequency, z


def check(measurement, frequency, z, technique='eis'):
    assert_valid(measurement)
    assert measurement.technique == technique
    np.testing.assert_allclose(measurement['frequency_hz'], frequency, rtol=1e-9)
    np.testing.assert_allclose(measurement['z_real_ohm'], z.real, rtol=1e-9)
    np.testing.assert_allclose(measurement['z_imag_ohm'], z.imag, rtol=1e-9)
    assert (measurement['z_imag_ohm'] < 0).all()  # Im(Z) itself: a capacitive arc


CHI = """Mar. 5, 2019   10:01:26
A.C. Impedance
File:  C:\\data\\pellet.bin
Data Source:  Experiment
Instrument Model:  CHI660E
Header:
Note:

Init E (V) = 0
High Frequency (Hz) = 1e+5
Low Frequency (Hz) = 0.1
Amplitude (V) = 0.005
Quiet Time (sec) = 2

Freq/Hz, Z'/ohm, Z"/ohm, Z/ohm, Phase/deg

"""


def test_ch_instruments_impedance(tmp_path):
    frequency, z = spectrum()
    rows = ''.join(
        f'{f:.10e}, {v.real:.10e}, {v.imag:.10e}, {abs(v):.10e}, {np.degrees(np.angle(v)):.6f}\n'
        for f, v in zip(frequency, z)
    )
    path = tmp_path / 'chi.txt'
    path.write_text(CHI + rows)
    assert detect_format(path) == 'chi-txt'
    measurement = read(path)
    check(measurement, frequency, z)
    assert measurement.metadata['instrument'] == 'CHI660E'
    summary = measurement.metadata['settings_summary']
    assert summary['max_frequency_hz'] == 1e5 and summary['min_frequency_hz'] == 0.1
    assert summary['amplitude_mv'] == pytest.approx(5.0)


def test_ch_instruments_cyclic_voltammetry(tmp_path):
    potential = np.concatenate([np.linspace(0, 1, 11), np.linspace(1, 0, 11)[1:]])
    current = 1e-6 * potential
    text = (
        'Mar. 5, 2019   10:01:26\nCyclic Voltammetry\nInstrument Model:  CHI660E\n\n'
        'Init E (V) = 0\nHigh E (V) = 1\nLow E (V) = 0\nScan Rate (V/s) = 0.01\n\n'
        'Potential/V, Current/A\n\n' + ''.join(f'{e:.3f}, {i:.6e}\n' for e, i in zip(potential, current))
    )
    path = tmp_path / 'cv.txt'
    path.write_text(text)
    measurement = read(path)
    assert measurement.technique == 'cv'
    np.testing.assert_allclose(measurement['current_ma'], current * 1e3, rtol=1e-6)
    assert measurement.metadata['settings_summary']['scan_rate_mv_s'] == pytest.approx(10.0)
    assert measurement.metadata['settings_summary']['upper_voltage_limit_v'] == 1.0


def test_parstat_powersine_text(tmp_path):
    frequency, z = spectrum()
    rows = ''.join(
        f'1 {k + 1} 0.000 {f:.10e} {v.real:.10e} {v.imag:.10e} {abs(v):.6e}\n'
        for k, (f, v) in enumerate(zip(frequency, z))
    )
    path = tmp_path / 'parstat.txt'
    path.write_text("Segment# Point# E(V) Freq(Hz) Z'(Ohm) Z''(Ohm) |Z|(Ohm)\n" + '1 0 0.000 0 0 0 0\n' + rows)
    assert detect_format(path) == 'parstat-txt'
    measurement = read(path)
    check(measurement, frequency, z)
    assert measurement.metadata['dropped_dc_rows'] == 1


def test_versastudio_par_two_segments(tmp_path):
    frequency, z = spectrum(8)
    definition = (
        'Definition=Segment #, Point #, E(V), I(A), Elapsed Time(s), ADC Sync Input(V), Current Range, Status, '
        'E Applied(V), Frequency(Hz), E Real, E Imag, I Real, I Imag, Z Real, Z Imag'
    )

    def segment(number):
        rows = '\n'.join(
            f'{number},{k},0.1,1e-6,{k},0,1,0,0.1,{float(f)!r},0,0,0,0,{float(v.real)!r},{float(v.imag)!r}'
            for k, (f, v) in enumerate(zip(frequency, z))
        )
        return f'<Segment{number}>\nType=EIS\nName=PEIS\n{definition}\n{rows}\n</Segment{number}>\n'

    path = tmp_path / 'pellet.par'
    path.write_text('<VersaStudioSoftware>\n<Experiment>\nSegments=2\n</Experiment>\n' + segment(1) + segment(2))
    assert detect_format(path) == 'versastudio-par'
    measurement = read(path)
    assert measurement.n_rows == 16
    assert len(measurement.spectra()) == 2
    check(measurement.spectra()[1], frequency, z)


def test_versastudio_segment_never_closed(tmp_path):
    path = tmp_path / 'cut.par'
    path.write_text('<VersaStudioSoftware>\n<Segment1>\nDefinition=Frequency(Hz), Z Real, Z Imag\n1,2,3\n')
    with pytest.raises(ParseError, match='never closes'):
        read(path)
