"""Impedance spectra from equivalent circuits, and their EC-Lab PEIS export.

Elements (angular frequency omega = 2 pi f):

* resistor ``Z = R``;
* constant-phase element ``Z = 1 / (Q (j omega)^alpha)`` (Q in F s^(alpha-1); alpha = 1 is a capacitor);
* parallel ``Z = Z1 Z2 / (Z1 + Z2)``, series ``Z = Z1 + Z2``.

Noise: every point is multiplied by ``1 + e (n1 + j n2)`` with n1, n2 standard normal and ``e`` the relative
noise (0.5 % by default): proportional noise, as an impedance analyser's relative accuracy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aiida_ssb.demo_data.eclab import Column, Instrument, MptFile, settings_block, write_mpt

__all__ = ['PeisSettings', 'add_noise', 'cpe', 'frequencies_hz', 'geometric_cpe_q', 'parallel', 'peis_file']

VACUUM_PERMITTIVITY_F_CM = 8.8541878128e-14


def cpe(q: float, alpha: float, omega: np.ndarray) -> np.ndarray:
    """Impedance of a constant-phase element, Z = 1 / (Q (j omega)^alpha)."""
    return 1.0 / (q * (1j * omega) ** alpha)


def parallel(z1: np.ndarray | float, z2: np.ndarray) -> np.ndarray:
    """Two impedances in parallel."""
    return z1 * z2 / (z1 + z2)


def geometric_cpe_q(
    area_cm2: float, thickness_cm: float, permittivity: float, alpha: float, reference_hz: float = 1.0e6
) -> float:
    """Q of a bulk CPE whose impedance equals that of the geometric capacitance eps0 eps_r A / L at
    ``reference_hz``: Q = C_geo omega_ref^(1 - alpha)."""
    capacitance = VACUUM_PERMITTIVITY_F_CM * permittivity * area_cm2 / thickness_cm
    return capacitance * (2.0 * np.pi * reference_hz) ** (1.0 - alpha)


def frequencies_hz(f_initial_hz: float, f_final_hz: float, points_per_decade: int) -> np.ndarray:
    """EC-Lab logarithmic sweep from ``f_initial_hz`` down to ``f_final_hz`` (both included)."""
    decades = np.log10(f_initial_hz / f_final_hz)
    n = round(float(points_per_decade * decades)) + 1
    return np.logspace(np.log10(f_initial_hz), np.log10(f_final_hz), n)


def add_noise(z: np.ndarray, rng: np.random.Generator, relative: float = 0.005) -> np.ndarray:
    """Proportional complex noise: Z (1 + relative (n1 + j n2))."""
    noise = rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size)
    return z * (1.0 + relative * noise)


@dataclass(frozen=True)
class PeisSettings:
    """The PEIS technique settings written in the header."""

    f_initial_hz: float
    f_final_hz: float
    points_per_decade: int = 10
    amplitude_mv: float = 10.0
    dc_voltage_v: float = 0.0
    averages: int = 2


def _freq_setting(value_hz: float) -> tuple[str, str]:
    for unit, factor in (('MHz', 1e6), ('kHz', 1e3), ('Hz', 1.0), ('mHz', 1e-3)):
        if value_hz >= factor * 0.9999:
            return f'{value_hz / factor:.3f}', unit
    return f'{value_hz * 1e3:.3f}', 'mHz'


def _settings(settings: PeisSettings) -> list[str]:
    fi, fi_unit = _freq_setting(settings.f_initial_hz)
    ff, ff_unit = _freq_setting(settings.f_final_hz)
    return settings_block(
        [
            ('Mode', ['Single sine']),
            ('E (V)', [f'{settings.dc_voltage_v:.4f}']),
            ('vs.', ['Eoc']),
            ('tE (h:m:s)', ['0:00:0.0000']),
            ('record', ['0']),
            ('dI', ['0.000']),
            ('unit dI', ['mA']),
            ('dt (s)', ['0.000']),
            ('fi', [fi]),
            ('unit fi', [fi_unit]),
            ('ff', [ff]),
            ('unit ff', [ff_unit]),
            ('Nd', [str(settings.points_per_decade)]),
            ('Points', ['per decade']),
            ('spacing', ['Logarithmic']),
            ('Va (mV)', [f'{settings.amplitude_mv:.1f}']),
            ('pw', ['0.10']),
            ('Na', [str(settings.averages)]),
            ('corr', ['0']),
            ('E range min (V)', ['-10.000']),
            ('E range max (V)', ['10.000']),
            ('I Range', ['Auto']),
            ('Bandwidth', ['8']),
            ('nc cycles', ['0']),
            ("goto Ns'", ['0']),
            ('nr cycles', ['0']),
            ('inc. cycle', ['0']),
        ]
    )


def peis_file(
    path: Path,
    *,
    z_ohm: np.ndarray,
    freq_hz: np.ndarray,
    settings: PeisSettings,
    started: dt.datetime,
    instrument: Instrument,
    directory: str,
    area_cm2: float,
    mass_mg: float | None,
    electrode_material: str,
    electrolyte: str,
    comment: str,
    ocv_v: float,
    rng: np.random.Generator,
    time_offset_s: float = 0.0,
) -> int:
    """Write one PEIS record (one sweep) as EC-Lab exports it; returns the file size."""
    omega = 2.0 * np.pi * freq_hz
    real, imag = z_ohm.real, z_ohm.imag
    modulus = np.abs(z_ohm)
    phase_deg = np.degrees(np.arctan2(imag, real))
    admittance = 1.0 / z_ohm
    # measurement time of each frequency: `averages` periods plus the settling fraction, at least 0.3 s
    step_s = np.maximum((settings.averages + 0.1) / freq_hz, 0.3) + 0.05
    time_s = time_offset_s + np.cumsum(step_s)
    amplitude_v = settings.amplitude_mv / 1000.0
    dc_noise = rng.standard_normal(freq_hz.size)
    ewe = ocv_v + 2e-5 * dc_noise
    current_ma = 1e-6 * rng.standard_normal(freq_hz.size)
    with np.errstate(divide='ignore'):
        cs_uf = -1.0 / (omega * imag) * 1e6
        cp_uf = admittance.imag / omega * 1e6
    columns = [
        Column('freq/Hz', freq_hz),
        Column('Re(Z)/Ohm', real),
        Column('-Im(Z)/Ohm', -imag),
        Column('|Z|/Ohm', modulus),
        Column('Phase(Z)/deg', phase_deg),
        Column('time/s', time_s, 'f15'),
        Column('<Ewe>/V', ewe),
        Column('<I>/mA', current_ma),
        Column('Cs/µF', cs_uf),
        Column('Cp/µF', cp_uf),
        Column('cycle number', np.ones(freq_hz.size), 'f15'),
        Column('|Ewe|/V', np.full(freq_hz.size, amplitude_v)),
        Column('|I|/A', amplitude_v / modulus),
        Column('Re(Y)/Ohm-1', admittance.real),
        Column('Im(Y)/Ohm-1', admittance.imag),
        Column('|Y|/Ohm-1', np.abs(admittance)),
        Column('Phase(Y)/deg', np.degrees(np.arctan2(admittance.imag, admittance.real))),
    ]
    cell_lines = [
        f'Electrode material : {electrode_material}',
        'Initial state : ',
        f'Electrolyte : {electrolyte}',
        f'Comments : {comment}',
        'Cable : standard',
        'Reference electrode : ',
        f'Electrode surface area : {area_cm2:.3f} cm²',
        f'Characteristic mass : {mass_mg:.3f} mg' if mass_mg else 'Characteristic mass : 0.001 g',
        'Equivalent Weight : 0.000 g/eq.',
        'Density : 0.000 g/cm3',
        'Volume (V) : 0.000 m³',
        'Text export',
        '   Mode : Standard',
        '   Time format : Elapsed',
    ]
    mpt = MptFile(
        technique='Potentio Electrochemical Impedance Spectroscopy',
        started=started,
        filename=path.with_suffix('.mpr').name,
        directory=directory,
        instrument=instrument,
        cell_lines=cell_lines,
        settings=_settings(settings),
        columns=columns,
    )
    return write_mpt(path, mpt)
