"""Records of issue 21's analyses for the demonstration: the thesis' DSC/TG of cathode composites (seed 002,
chapter 6), its electronic conductivity by DC polarisation of Li | SE | Cu (chapter 8), and the powder pattern of
milled NaCB11H12 (seed 004). Writers of NETZSCH STA exports, two-column patterns and EC-Lab chronoamperometry
exports; every file says it is synthetic."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from aiida_ssb.demo_data.campaign import SYNTHETIC, Campaign
from aiida_ssb.demo_data.eclab import Column, MptFile, settings_block, write_mpt

__all__ = ['COMPOSITES', 'ca_file', 'electronic_conductivity_cell', 'netzsch_file', 'thermal_records', 'xrd_record']

#: thesis ch. 6 (DSC/TG-MS, 5 degC/min, He, composites 70:20:10): composite id, name, exotherms (onset degC, width
#: sigma degC, height W/g); the tangent onset of a Gaussian is its centre - 2 sigma
COMPOSITES = (
    ('S2-COMP-NACRO2', 'NaCrO2 + Na4(B12H12)(B10H10) + C (70:20:10)', [(525.0, 4.0, 5.0)], 1.0),
    ('S2-COMP-NAMNO2', 'NaMnO2 + Na4(B12H12)(B10H10) + C (70:20:10)', [(421.0, 5.0, 4.9), (468.0, 6.0, 2.5)], 0.8),
    ('S2-COMP-NAFEO2', 'NaFeO2 + Na4(B12H12)(B10H10) + C (70:20:10)', [(393.0, 20.0, 1.5)], 1.5),
)
RATE_K_MIN = 5.0


def netzsch_file(
    path: Path,
    temperature_c: np.ndarray,
    time_min: np.ndarray,
    dsc_mw_mg: np.ndarray,
    mass_percent: np.ndarray,
    *,
    sample_mass_mg: float,
    sample: str,
    comment: str,
) -> int:
    """A NETZSCH Proteus 'DATA ALL' export of an STA 449 F3 run (semicolon separated, exothermic up)."""
    header = [
        '#EXPORTTYPE:DATA ALL',
        '#FILE:' + path.stem + '.ngb-ss3',
        '#FORMAT:NETZSCH5',
        '#FTYPE:ANSI',
        '#IDENTITY:' + sample,
        '#DECIMAL:POINT',
        '#SEPARATOR:SEMICOLON',
        '#INSTRUMENT:NETZSCH STA 449F3',
        '#SAMPLE:' + sample,
        f'#SAMPLE MASS /mg:{sample_mass_mg:.3f}',
        '#TYPE OF CRUCIBLE:Al pan',
        '#PURGE GAS 1:Helium',
        f'#RANGE:{temperature_c[0]:.0f}°C/{RATE_K_MIN:.1f}(K/min)/{temperature_c[-1]:.0f}°C',
        '#EXO:1',
        '#REMARK:' + comment,
        '##Temp./°C;Time/min;DSC/(mW/mg);Mass/%',
    ]
    rows = [f'{a:.3f};{b:.4f};{c:.5f};{d:.4f}' for a, b, c, d in zip(temperature_c, time_min, dsc_mw_mg, mass_percent)]
    data = ('\r\n'.join(header + rows) + '\r\n').encode('latin-1')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def thermal_records(camp: Campaign, reduced: bool) -> dict[str, Any]:
    """One STA run per composite: a dehydration endotherm (100-200 degC, reversible H2O loss), the exotherms of
    the table above, ~1 % mass loss at the decomposition; He, 5 K/min, 30-600 degC."""
    step = 0.5 if reduced else 0.2
    temperature = np.arange(30.0, 600.0 + step / 2, step)
    time_min = (temperature - 30.0) / RATE_K_MIN
    expected: dict[str, Any] = {'dsc_onset_c': {}, 'dsc_peak_heat_flow_w_g': {}, 'dsc_exotherm_j_g': {}}
    for sample, name, exotherms, loss in COMPOSITES:
        rng = camp.rng(f'{sample}/sta')
        q = 0.02 + 2e-4 * (temperature - 30.0) - 0.15 * np.exp(-0.5 * ((temperature - 150.0) / 15.0) ** 2)
        heat = 0.0
        for onset, sigma, height in exotherms:
            q = q + height * np.exp(-0.5 * ((temperature - onset - 2 * sigma) / sigma) ** 2)
            heat += height * sigma * math.sqrt(2 * math.pi) / (RATE_K_MIN / 60.0)
        q = q + rng.normal(0.0, 0.004, temperature.size)
        first = exotherms[0][0] + 2 * exotherms[0][1]
        mass = (
            100.0
            - 0.6 / (1 + np.exp(-(temperature - 150.0) / 10.0))
            - loss / (1 + np.exp(-(temperature - first) / 6.0))
        )
        mass = mass + rng.normal(0.0, 0.002, temperature.size)
        path = camp.raw_path(f'{sample}_STA_5Kmin.txt')
        size = netzsch_file(
            path,
            temperature,
            time_min,
            q,
            mass,
            sample_mass_mg=8.0,
            sample=name,
            comment=f'{SYNTHETIC}; thesis ch. 6 composite',
        )
        camp.add_file(path, size)
        camp.measure(path, material=sample, technique='sta', atmosphere='helium', instrument='NETZSCH STA 449 F3')
        expected['dsc_onset_c'][sample] = exotherms[0][0]
        expected['dsc_peak_heat_flow_w_g'][sample] = max(height for _, _, height in exotherms)
        expected['dsc_exotherm_j_g'][sample] = heat
    return expected


def ca_file(
    path: Path,
    time_s: np.ndarray,
    voltage_v: np.ndarray,
    current_ma: np.ndarray,
    mode: np.ndarray,
    step: np.ndarray,
    *,
    camp: Campaign,
    started_h: float,
    area_cm2: float,
    comment: str,
    holds_v: list[float],
) -> int:
    """An EC-Lab chronoamperometry export (control/V, Ns, mode 2 during holds and 3 at rest)."""
    dq = np.concatenate(([0.0], 0.5 * (current_ma[1:] + current_ma[:-1]) * np.diff(time_s) / 3600.0))
    columns = [
        Column('mode', mode.astype(np.int64), 'int'),
        Column('ox/red', (current_ma > 0).astype(np.int64), 'int'),
        Column('error', np.zeros(time_s.size, dtype=np.int64), 'int'),
        Column('control changes', np.zeros(time_s.size, dtype=np.int64), 'int'),
        Column('Ns changes', np.r_[0, (np.diff(step) != 0).astype(np.int64)], 'int'),
        Column('counter inc.', np.zeros(time_s.size, dtype=np.int64), 'int'),
        Column('Ns', step.astype(np.int64), 'int'),
        Column('time/s', time_s, 'f15'),
        Column('control/V', voltage_v),
        Column('Ewe/V', voltage_v),
        Column('<I>/mA', current_ma),
        Column('dq/mA.h', dq, 'f15'),
        Column('(Q-Qo)/mA.h', np.cumsum(dq), 'f15'),
        Column('cycle number', np.zeros(time_s.size), 'f15'),
    ]
    cell_lines = [
        'Electrode material : Cu (ion blocking)',
        'Initial state : ',
        'Electrolyte : Li2(B11H14)(CB11H12)',
        f'Comments : {comment}',
        f'Electrode surface area : {area_cm2:.3f} cm²',
        'Characteristic mass : 0.001 g',
    ]
    settings = settings_block(
        [
            ('Ns', [str(k) for k in range(len(holds_v))]),
            ('Ei (V)', [f'{v:.3f}' for v in holds_v]),
            ('vs.', ['Eoc'] * len(holds_v)),
            ('ti (h:m:s)', ['24:00:0.0000'] * len(holds_v)),
        ]
    )
    mpt = MptFile(
        technique='Chronoamperometry / Chronocoulometry',
        started=camp.started(started_h),
        filename=path.with_suffix('.mpr').name,
        directory=camp.directory_label,
        instrument=camp.instrument,
        cell_lines=cell_lines,
        settings=settings,
        columns=columns,
    )
    return write_mpt(path, mpt)


def electronic_conductivity_cell(camp: Campaign, reduced: bool, *, started_h: float) -> dict[str, Any]:
    """Li | Li2(B11H14)(CB11H12) | Cu at 60 degC: 24 h OCV (2.3 V) then DC 0.25, 0.5, 0.75, 1.0 V above it, each
    held 24 h with 24 h rests. The 0.25 V hold has sigma_e = 5e-9 S/cm (thesis ch. 8); from 0.5 V the electrolyte
    decomposes at the Cu (> 2.6 V vs Li) and the steady currents stay smaller (insulating products)."""
    area = math.pi * 0.5**2
    thickness_cm = 0.06
    sigma = 5.0e-9
    electronic = thickness_cm / (sigma * area)
    ionic_ohm, tau_s = 2.0e5, 2.0 * 3600.0
    holds = [0.25, 0.5, 0.75, 1.0]
    suppression = [1.0, 0.6, 0.45, 0.35]  # decomposition products: the steady current below the ohmic one
    points = 120 if reduced else 400
    rng = camp.rng('S2-LI-SE-CU/ca')
    t_parts, v_parts, i_parts, mode_parts, step_parts = [], [], [], [], []
    now, ocv = 0.0, 2.3
    for number, (bias, factor) in enumerate(zip(holds, suppression)):
        rest = np.linspace(0.0, 24 * 3600.0, 25)[1:]
        t_parts.append(now + rest)
        v_parts.append(np.full(rest.size, ocv))
        i_parts.append(np.zeros(rest.size))
        mode_parts.append(np.full(rest.size, 3))
        step_parts.append(np.full(rest.size, 2 * number))
        now += 24 * 3600.0
        local = np.unique(
            np.concatenate((np.geomspace(2.0, 24 * 3600.0, points // 2), np.linspace(600.0, 24 * 3600.0, points // 2)))
        )
        current_a = bias / electronic * factor + bias / ionic_ohm * np.exp(-local / tau_s)
        current_a = current_a * (1.0 + rng.normal(0.0, 0.003, local.size))
        t_parts.append(now + local)
        v_parts.append(np.full(local.size, ocv + bias))
        i_parts.append(current_a * 1e3)
        mode_parts.append(np.full(local.size, 2))
        step_parts.append(np.full(local.size, 2 * number + 1))
        now += 24 * 3600.0
    path = camp.raw_path('S2-LI-SE-CU_CA_DC.mpt')
    size = ca_file(
        path,
        np.concatenate(t_parts),
        np.concatenate(v_parts),
        np.concatenate(i_parts),
        np.concatenate(mode_parts),
        np.concatenate(step_parts),
        camp=camp,
        started_h=started_h,
        area_cm2=area,
        comment=f'{SYNTHETIC}; DC polarisation, 24 h per step, 24 h OCV between',
        holds_v=holds,
    )
    camp.add_file(path, size)
    camp.measure(path, cell='S2-LI-SE-CU', technique='ca', temperature='60 degC', instrument='VMP3')
    return {'electronic_conductivity_s_cm': {'S2-LI-SE-CU': sigma}, 'electronic_conductivity_holds_v': holds}


def electronic_conductivity_cell_spec(electrolyte: str, lithium: str, copper: str, doi: str) -> dict[str, Any]:
    return {
        'id': 'S2-LI-SE-CU',
        'name': 'Li | Li2(B11H14)(CB11H12) | Cu (electronic conductivity)',
        'format': 'half',
        'diameter': '10 mm',
        'layers': [
            {'role': 'working', 'material': copper},
            {'role': 'electrolyte', 'material': electrolyte, 'thickness': '600 um'},
            {'role': 'counter', 'material': lithium, 'diameter': '10 mm'},
        ],
        'reference': doi,
        'notes': 'Cu is ion blocking: the steady current of a DC polarisation is electronic (thesis ch. 8)',
    }


def xrd_record(camp: Campaign, reduced: bool, *, material: str) -> dict[str, Any]:
    """Cu K-alpha1 pattern of milled NaCB11H12 (recrystallised): bcc Im-3m a = 7.882 A (seed 004, Table 1) with
    crystallites of 80 nm, plus residual orthorhombic NCB (8 %: its (111) reflection at 2theta = 15.6 deg)."""
    rng = camp.rng(f'{material}/xrd')
    wavelength, a = 1.5406, 7.882
    x = np.linspace(10.0, 70.0, 3000 if reduced else 6001)
    y = 150.0 + 0.6 * (x - 10.0) + 80.0 * np.exp(-0.5 * ((x - 22.0) / 7.0) ** 2)
    lines: list[tuple[int, float]] = []
    for h in range(7):
        for k in range(h + 1):
            for l in range(k + 1):  # noqa: E741
                s = h * h + k * k + l * l
                if s and (h + k + l) % 2 == 0 and s not in [q for q, _ in lines]:
                    ratio = wavelength * math.sqrt(s) / (2 * a)
                    if ratio < 1 and 2 * math.degrees(math.asin(ratio)) < 70.5:
                        lines.append((s, 2 * math.degrees(math.asin(ratio))))
    for s, centre in lines:
        fwhm = math.hypot(math.degrees(0.9 * wavelength / (800.0 * math.cos(math.radians(centre / 2)))), 0.08)
        y = y + 4000.0 / s * np.exp(-4 * math.log(2) * ((x - centre) / fwhm) ** 2)
    y = y + 300.0 * np.exp(-4 * math.log(2) * ((x - 15.6) / 0.1) ** 2)  # orthorhombic (111)
    counts = rng.poisson(y)
    path = camp.raw_path(f'{material}_XRD_CuKa.xy')
    text = (
        '\n'.join(
            [
                f'# {SYNTHETIC}',
                '# Rigaku MiniFlex 600 style scan, Be window; wavelength: 1.5406 A',
                '# 2theta intensity',
            ]
            + [f'{angle:.4f} {count}' for angle, count in zip(x, counts)]
        )
        + '\n'
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding='utf-8')
    camp.add_file(path, len(text.encode()))
    camp.measure(path, material=material, technique='xrd', temperature='25 degC')
    return {'lattice_a_angstrom': {material: a}, 'crystallite_size_nm': {material: 80.0}}
