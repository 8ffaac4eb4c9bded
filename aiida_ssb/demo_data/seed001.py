"""Campaign ``seed001-infiltrated-electrodes``: NaCrO2 electrodes slurry-cast, then infiltrated with
Na4(B12H12)(B10H10) crystallised from isopropanol (Duchene, Kim et al., Energy Storage Mater. 2020,
doi:10.1016/j.ensm.2019.11.027).

Files: three NaCrO2 | NBH | Na-Sn half cells (30 degC): cycling at 70 MPa and at ~3 MPa stack pressure
(2 cycles at 0.1C, then 100 at 0.5C), and a rate test (0.1, 0.2, 0.5, 1, 2, 5C, two cycles each); and, from
:mod:`demo.seed001_cells`, the Sn half cell, the NaCrO2 half cell of the full cell's sheet, the N/P 1.20 full cell
and the three-electrode cell.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from aiida_ssb.demo_data.campaign import SYNTHETIC, Campaign
from aiida_ssb.demo_data.cathode_cycling import CycleSpec, run_cycles
from aiida_ssb.demo_data.eclab import Instrument
from aiida_ssb.demo_data.electrode import GcplRecorder, GcplSequence, gcpl_file, nacro2_ocv
from aiida_ssb.demo_data.seed001_cells import generate_cells

NAME = 'seed001-infiltrated-electrodes'
DOI = 'doi:10.1016/j.ensm.2019.11.027'
ONE_C_MA_G = 120.0
NACRO2_MOLAR_MASS = 106.98
NA_SN_V = 0.10  # Na3Sn vs Na+/Na
PRISTINE_OCV_V = 2.60  # NaCrO2 vs Na+/Na before the first charge (modelling choice)
LOWER_V = 2.10 - NA_SN_V  # cell voltage vs Na-Sn; 2.10-3.35 V vs Na+/Na
UPPER_V = 3.35 - NA_SN_V
DIAMETER_MM = 12.0
AREA = math.pi * (DIAMETER_MM / 20.0) ** 2
LOADING_MG_CM2 = 7.7
SHEET_ACTIVE_FRACTION = 0.97
UPTAKE_WT_PERCENT = 15.0
#: the infiltrated electrode layer (written in the manifest, 3 decimals) and its active mass, as the importer derives
#: it: 97 wt% of the sheet, the sheet being 100 parts of 115 after the 15 wt% uptake
ELECTRODE_MG = round(LOADING_MG_CM2 * AREA / SHEET_ACTIVE_FRACTION * (1.0 + UPTAKE_WT_PERCENT / 100.0), 3)
ACTIVE_MG = ELECTRODE_MG * SHEET_ACTIVE_FRACTION / (1.0 + UPTAKE_WT_PERCENT / 100.0)
RATES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
RATE_CONSTANT_C = 10.03  # Q(r) = Q0 / (1 + r / r_c): Q(5C)/Q(0.1C) = 0.674
CELL_ASR_OHM_CM2 = 55.0


def rate_capacity(q_01c: float, c_rate: float) -> float:
    """Capacity at ``c_rate`` from the one at 0.1C: Q(r) = Q0 / (1 + r / r_c)."""
    q0 = q_01c * (1.0 + 0.1 / RATE_CONSTANT_C)
    return q0 / (1.0 + c_rate / RATE_CONSTANT_C)


def eta_v(c_rate: float, extra_ohm_cm2: float = 0.0) -> float:
    """Polarisation I x ASR / A (+ 8 mV of charge-transfer overpotential)."""
    current_ma = c_rate * ONE_C_MA_G * ACTIVE_MG / 1000.0
    return current_ma * (CELL_ASR_OHM_CM2 + extra_ohm_cm2) / AREA / 1000.0 + 0.008


def generate(root: Path, reduced: bool = False) -> tuple[Path, dict[str, Any], Campaign]:
    """Write the campaign under ``root``; returns (manifest path, the numbers it encodes, the campaign)."""
    camp = Campaign(root, NAME, reduced, dt.datetime(2019, 6, 3, 9, 0, 0), Instrument('VMP3', '0000', 2))
    ocv = nacro2_ocv(NA_SN_V)
    n_long = 25 if reduced else 100
    points = 12 if reduced else 24
    expected: dict[str, Any] = {
        'campaign': NAME,
        'reference': DOI,
        'active_mass_mg': ACTIVE_MG,
        'electrode_mass_mg': ELECTRODE_MG,
        'mass_loading_mg_cm2': LOADING_MG_CM2,
        'cycling': {},
    }

    for index, (cell, pressure, retention, first_05c, formation) in enumerate(
        (
            ('NCO-HC-70MPA', '70 MPa', 95.6, 113.0, (118.0, 95.2, 117.6, 99.0)),
            ('NCO-HC-3MPA', '~3 MPa', 85.9, 109.0, (117.1, 94.9, 116.6, 98.8)),
        )
    ):
        q1, ce1, q2, ce2 = formation
        extra = 0.0 if index == 0 else 35.0  # poorer contact at low stack pressure
        specs = [
            CycleSpec(0.1, q1, ce1, LOWER_V, UPPER_V, eta_discharge_v=eta_v(0.1, extra), charge_ns=1, discharge_ns=2),
            CycleSpec(0.1, q2, ce2, LOWER_V, UPPER_V, eta_discharge_v=eta_v(0.1, extra), charge_ns=1, discharge_ns=2),
        ]
        scatter = 1.0 + 0.0015 * camp.rng(f'{cell}/scatter').standard_normal(n_long)
        for k in range(n_long):
            progress = k / (n_long - 1)
            # slightly accelerating fade to the paper's retention after the last 0.5C cycle; 0.15 % cycle-to-cycle
            # scatter except on the first and the last 0.5C cycle (the retention the paper reports)
            q = first_05c * (1.0 - (1.0 - retention / 100.0) * (0.7 * progress + 0.3 * progress**2))
            q *= 1.0 if k in (0, n_long - 1) else scatter[k]
            ce = 99.85 - 0.6 * math.exp(-k / 3.0)
            growth = 40.0 * (1.0 - retention / 100.0) / 0.044 * progress  # interphase growth with fade
            specs.append(
                CycleSpec(
                    0.5,
                    q,
                    ce,
                    LOWER_V,
                    UPPER_V,
                    eta_discharge_v=eta_v(0.5, extra + growth),
                    charge_ns=3,
                    discharge_ns=4,
                )
            )
        rng = camp.rng(f'{cell}/gcpl')
        recorder = GcplRecorder(rng)
        results = run_cycles(
            recorder,
            ocv,
            specs,
            active_mass_mg=ACTIVE_MG,
            one_c_ma_g=ONE_C_MA_G,
            theoretical_mah_g=ONE_C_MA_G,
            points_per_half=points,
            s_start=ocv.inverse(PRISTINE_OCV_V - NA_SN_V),
        )
        one_c = ONE_C_MA_G * ACTIVE_MG / 1000.0
        sequences = [
            GcplSequence('cc', current_ma=0.1 * one_c, c_rate_n=10.0, limit_v=UPPER_V),
            GcplSequence('cc', current_ma=-0.1 * one_c, c_rate_n=10.0, limit_v=LOWER_V, goto=0, cycles=1),
            GcplSequence('cc', current_ma=0.5 * one_c, c_rate_n=2.0, limit_v=UPPER_V),
            GcplSequence('cc', current_ma=-0.5 * one_c, c_rate_n=2.0, limit_v=LOWER_V, goto=2, cycles=n_long - 1),
        ]
        path = camp.raw_path(f'{cell}_GCPL.mpt')
        size = _gcpl(
            camp,
            path,
            recorder,
            sequences,
            48.0 + 800.0 * index,
            f'0.1C x 2 then 0.5C x {n_long}, stack pressure {pressure}',
        )
        camp.add_file(path, size)
        camp.measure(
            path,
            cell=cell,
            technique='gcpl',
            temperature='30 degC',
            stack_pressure=pressure.replace('~', ''),
            lower_cutoff=f'{LOWER_V:.2f} V',
            upper_cutoff=f'{UPPER_V:.2f} V',
            instrument='VMP3',
            notes='two cycles at 0.1C, then 0.5C; cell voltage vs Na-Sn (2.10-3.35 V vs Na+/Na)',
        )
        last = results[-1]
        reference = results[2]
        expected['cycling'][cell] = {
            'stack_pressure_mpa': float(pressure.strip('~ MPa')),
            'first_discharge_mah_g': results[0]['discharge_mah_g'],
            'first_ce_percent': results[0]['coulombic_efficiency_percent'],
            'second_ce_percent': results[1]['coulombic_efficiency_percent'],
            'reference_cycle': 3,
            'reference_discharge_mah_g': reference['discharge_mah_g'],
            'last_cycle': len(results),
            'last_discharge_mah_g': last['discharge_mah_g'],
            'capacity_retention_percent': 100.0 * last['discharge_mah_g'] / reference['discharge_mah_g'],
            'mean_discharge_voltage_first_v': results[0]['mean_discharge_voltage_v'],
            'rows': recorder.n_rows,
        }

    expected['rate_test'] = _rate_test(camp, ocv, reduced)
    cells_expected, _, extra_processes, extra_cells = generate_cells(camp, DOI, reduced)
    expected['sn_and_full_cells'] = cells_expected
    expected['paper'] = {
        'first_discharge_mah_g': 118.0,
        'first_ce_percent': 95.2,
        'second_ce_percent': 99.0,
        'retention_70mpa_percent': 95.6,
        'retention_3mpa_percent': 85.9,
        'rate_5c_over_01c_percent': 67.4,
        'one_c_ma_g': 120.0,
        'mass_loading_mg_cm2': 7.7,
        'sn_first_ce_percent': 84.3,
        'sn_second_ce_percent': 97.0,
        'sn_retention_percent': 92.1,
        'np_ratio': 1.20,
        'full_cell_specific_energy_wh_kg_active': 282.0,
        'full_cell_specific_energy_wh_kg_both_composites': 222.0,
        'full_cell_first_ce_percent': 72.2,
        'full_cell_second_ce_percent': 95.8,
        'full_cell_second_energy_efficiency_percent': 84.9,
        'full_cell_retention_percent': 47.4,
    }
    path = camp.write_manifest(_manifest(camp, extra_processes, extra_cells), _HEADER)
    return path, expected, camp


def _gcpl(camp, path, recorder, sequences, hours, comment) -> int:
    return gcpl_file(
        path,
        recorder=recorder,
        sequences=sequences,
        started=camp.started(hours),
        instrument=camp.instrument,
        directory=camp.directory_label,
        area_cm2=AREA,
        active_mass_mg=ACTIVE_MG,
        molar_mass_g_mol=NACRO2_MOLAR_MASS,
        ion_mass_g_mol=22.990,
        battery_capacity_mah=ONE_C_MA_G * ACTIVE_MG / 1000.0,
        electrode_material='NaCrO2 infiltrated with Na4(B12H12)(B10H10)',
        electrolyte='Na4(B12H12)(B10H10)',
        comment=f'{SYNTHETIC}; {comment}',
    )


def _rate_test(camp: Campaign, ocv, reduced: bool) -> dict[str, Any]:
    cell = 'NCO-HC-RATE'
    q_01 = 117.5
    specs = []
    sequences = []
    one_c = ONE_C_MA_G * ACTIVE_MG / 1000.0
    for k, rate in enumerate(RATES):
        charge_rate = min(rate, 0.5)
        sequences += [
            GcplSequence('cc', current_ma=charge_rate * one_c, c_rate_n=1.0 / charge_rate, limit_v=UPPER_V),
            GcplSequence('cc', current_ma=-rate * one_c, c_rate_n=1.0 / rate, limit_v=LOWER_V, goto=2 * k, cycles=1),
        ]
        for j in range(2):
            first = k == 0 and j == 0
            q = rate_capacity(q_01, rate) * (1.003 if j == 0 else 1.0)  # the second cycle at a rate is the reference
            specs.append(
                CycleSpec(
                    rate,
                    q,
                    95.2 if first else (99.0 if k == 0 else 99.6),
                    LOWER_V,
                    UPPER_V,
                    eta_discharge_v=eta_v(rate),
                    eta_charge_v=eta_v(charge_rate),
                    charge_c_rate=charge_rate,
                    charge_ns=2 * k,
                    discharge_ns=2 * k + 1,
                )
            )
    recorder = GcplRecorder(camp.rng(f'{cell}/gcpl'))
    results = run_cycles(
        recorder,
        ocv,
        specs,
        active_mass_mg=ACTIVE_MG,
        one_c_ma_g=ONE_C_MA_G,
        theoretical_mah_g=ONE_C_MA_G,
        points_per_half=12 if reduced else 24,
        s_start=ocv.inverse(PRISTINE_OCV_V - NA_SN_V),
    )
    path = camp.raw_path(f'{cell}_GCPL_rate.mpt')
    size = _gcpl(
        camp, path, recorder, sequences, 2000.0, 'rate test 0.1-5C, two cycles per rate, charge at min(rate, 0.5C)'
    )
    camp.add_file(path, size)
    camp.measure(
        path,
        cell=cell,
        technique='gcpl',
        temperature='30 degC',
        stack_pressure='70 MPa',
        lower_cutoff=f'{LOWER_V:.2f} V',
        upper_cutoff=f'{UPPER_V:.2f} V',
        instrument='VMP3',
        notes='discharge at 0.1, 0.2, 0.5, 1, 2 and 5C (two cycles each); charge at the same rate up to 0.5C, '
        'at 0.5C above; cell voltage vs Na-Sn',
    )
    second = {rate: results[2 * k + 1]['discharge_mah_g'] for k, rate in enumerate(RATES)}
    return {
        cell: {
            'rates_c': list(RATES),
            'second_cycle_discharge_mah_g': {f'{r:g}': q for r, q in second.items()},
            'rate_5c_over_01c_percent': 100.0 * second[5.0] / second[0.1],
            'cycles_per_rate': 2,
        }
    }


_HEADER = [
    'Demonstration campaign generated by examples/demo/generate.py: SYNTHETIC data modelled on seed 001',
    '(Duchene, Kim et al., Energy Storage Mater. 2020, doi:10.1016/j.ensm.2019.11.027): NaCrO2 electrodes',
    'infiltrated with Na4(B12H12)(B10H10) from isopropanol.',
    'Cell diameter (12 mm) and layer masses are modelling choices.',
]


def _half_cell(cell_id: str, name: str, stack: str, method: str | None) -> dict[str, Any]:
    cell = {
        'id': cell_id,
        'name': name,
        'format': 'half',
        'diameter': f'{DIAMETER_MM:g} mm',
        'layers': [
            {'role': 'current_collector', 'material': 'S1-AL', 'side': 'positive'},
            {'role': 'positive', 'material': 'S1-NCO-INF', 'mass': f'{ELECTRODE_MG:.3f} mg'},
            {'role': 'separator', 'material': 'S1-NBH', 'mass': '50 mg'},
            {'role': 'negative', 'material': 'S1-NASN', 'mass': '40 mg'},
        ],
        'fabrication': [
            {'pressure': '70 MPa', 'layers': ['separator'], 'description': 'electrolyte powder cold-pressed'},
            {'pressure': '350 MPa', 'description': 'electrodes on both sides, pressed in the PEEK mould'},
        ],
        'housing': 'PEEK mould with Ti current collectors',
        'housing_type': 'peek_mould',
        'stack_pressure': stack,
        'one_c': f'{ONE_C_MA_G:g} mA/g',
        'reference': DOI,
    }
    if method:
        cell['stack_pressure_method'] = method
    return cell


def _manifest(camp: Campaign, extra_processes: list, extra_cells: list) -> dict[str, Any]:
    """The campaign's lab manifest.

    Long because: it is the manifest written out as one literal, entry by entry as in the paper."""
    b12_parts = UPTAKE_WT_PERCENT * 533.6 / 1000.0
    b10_parts = UPTAKE_WT_PERCENT * 466.4 / 1000.0
    materials = [
        {
            'id': 'S1-B12-KC',
            'name': 'Na2B12H12',
            'formula': 'Na2B12H12',
            'role': 'precursor',
            'supplier': 'Katchem',
            'form': 'powder',
        },
        {
            'id': 'S1-B10-KC',
            'name': 'Na2B10H10',
            'formula': 'Na2B10H10',
            'role': 'precursor',
            'supplier': 'Katchem',
            'form': 'powder',
        },
        {
            'id': 'S1-IPA-SA',
            'name': 'isopropanol (anhydrous)',
            'formula': 'C3H8O',
            'role': 'solvent',
            'supplier': 'Sigma-Aldrich',
        },
        {'id': 'S1-CR2O3-SA', 'name': 'Cr2O3', 'formula': 'Cr2O3', 'role': 'precursor', 'supplier': 'Sigma-Aldrich'},
        {'id': 'S1-NA2CO3-SA', 'name': 'Na2CO3', 'formula': 'Na2CO3', 'role': 'precursor', 'supplier': 'Sigma-Aldrich'},
        {'id': 'S1-PVDF-KU', 'name': 'PVDF KF1100', 'role': 'binder', 'supplier': 'Kureha'},
        {'id': 'S1-SP', 'name': 'Super P', 'role': 'carbon', 'notes': 'supplier not given'},
        {'id': 'S1-NMP', 'name': 'N-methyl-2-pyrrolidone', 'formula': 'C5H9NO', 'role': 'solvent'},
        {'id': 'S1-AL', 'name': 'aluminium foil', 'formula': 'Al', 'role': 'current_collector'},
        {'id': 'S1-NA', 'name': 'sodium metal', 'formula': 'Na', 'role': 'metal_foil'},
        {
            'id': 'S1-SN-SA',
            'name': 'tin powder',
            'formula': 'Sn',
            'role': 'active_material',
            'supplier': 'Sigma-Aldrich',
            'purity': '99%',
            'particle_size': '10 um',
            'theoretical_capacity': '847 mAh/g',
        },
    ]
    processes = [
        {
            'type': 'drying',
            'inputs': ['S1-B10-KC'],
            'output': {'id': 'S1-B10-DRY', 'name': 'Na2B10H10 (dried)'},
            'parameters': {
                'temperature': '180 degC',
                'duration': '6 h',
                'atmosphere': 'vacuum',
                'pressure': '1e-3 mbar',
                'notes': 'pressure below 1e-3 mbar',
            },
        },
        {
            'type': 'crystallisation',
            'inputs': {
                'S1-B12-KC': {'amount': '533.6 mg'},
                'S1-B10-DRY': {'amount': '466.4 mg'},
                'S1-IPA-SA': {'amount': '20 mL', 'role': 'solvent'},
            },
            'output': {
                'id': 'S1-NBH',
                'name': 'Na4(B12H12)(B10H10)',
                'formula': 'Na4(B12H12)(B10H10)',
                'role': 'electrolyte',
                'theoretical_density': '1.17 g/cm3',
                'notes': 'fcc phase; 1 mS/cm at 25 degC',
            },
            'parameters': {
                'solvent': 'isopropanol (anhydrous)',
                'solvent_volume': '20 mL',
                'batch_mass': '1000 mg',
                'solvent_removal': 'rotary evaporator, then Schlenk line',
                'drying': [
                    {'temperature': '60 degC', 'pressure': '1e-3 mbar', 'description': 'Schlenk line'},
                    {'temperature': '180 degC', 'duration': '4 h'},
                ],
                'notes': 'glass flask; equimolar Na2B12H12 + Na2B10H10',
                'reference': DOI,
            },
        },
        {
            'type': 'mixing',
            'inputs': ['S1-CR2O3-SA', 'S1-NA2CO3-SA'],
            'output': {'id': 'S1-NCO-PRE', 'name': 'Cr2O3 + Na2CO3 mixture', 'role': 'precursor'},
            'parameters': {'method': 'mortar', 'duration': '15 min', 'notes': 'ratio not given'},
        },
        {
            'type': 'sintering',
            'inputs': ['S1-NCO-PRE'],
            'output': {
                'id': 'S1-NCO',
                'name': 'NaCrO2',
                'formula': 'NaCrO2',
                'role': 'active_material',
                'theoretical_capacity': '120 mAh/g',
                'molar_mass': f'{NACRO2_MOLAR_MASS} g/mol',
                'notes': 'ground and sieved below 100 um',
            },
            'parameters': {
                'temperature': '900 degC',
                'duration': '5 h',
                'atmosphere': 'argon',
                'notes': 'pelletized; cooled naturally in argon, transferred to the glovebox; synthesis as in the '
                "paper's ref. 46",
            },
        },
        {
            'type': 'casting',
            'inputs': {
                'S1-NCO': {'fraction': '97 wt%'},
                'S1-PVDF-KU': {'fraction': '1 wt%'},
                'S1-SP': {'fraction': '2 wt%'},
                'S1-NMP': {'role': 'solvent'},
            },
            'output': {'id': 'S1-NCO-SHEET', 'name': 'NaCrO2 electrode 97:1:2 on Al', 'role': 'electrode_sheet'},
            'parameters': {
                'solvent': 'NMP',
                'drying': [{'temperature': '120 degC', 'atmosphere': 'vacuum'}],
                'mass_loading': f'{LOADING_MG_CM2} mg/cm2',
                'loading_basis': 'active',
                'punch_diameter': '12 mm',
                'porosity_percent': 80.0,
                'notes': 'cast on Al foil inside the argon glovebox; loading averaged over four 12 mm punches',
            },
        },
        {
            'type': 'infiltration',
            'inputs': {
                'S1-NCO-SHEET': {'parts': 100, 'basis': 'wt', 'role': 'host'},
                'S1-B12-KC': {'parts': round(b12_parts, 3), 'basis': 'wt', 'role': 'solute'},
                'S1-B10-DRY': {'parts': round(b10_parts, 3), 'basis': 'wt', 'role': 'solute'},
                'S1-IPA-SA': {'role': 'solvent'},
            },
            'output': {
                'id': 'S1-NCO-INF',
                'name': 'NaCrO2 electrode infiltrated with Na4(B12H12)(B10H10)',
                'role': 'electrode_sheet',
            },
            'parameters': {
                'method': 'dip',
                'solvent': 'isopropanol',
                'concentration': '100 mg/mL',
                'dip_time': '10 min',
                'infiltration_steps': 1,
                'uptake_wt_percent': UPTAKE_WT_PERCENT,
                'drying': [
                    {'description': 'overnight on a flat substrate in the glovebox'},
                    {'temperature': '80 degC', 'atmosphere': 'argon'},
                    {'temperature': '180 degC', 'duration': '4 h', 'atmosphere': 'vacuum'},
                ],
                'notes': 'equimolar Na2B12H12 + Na2B10H10 solution; '
                'crystallises as fcc Na4(B12H12)(B10H10) in the pores',
                'reference': DOI,
            },
        },
        {
            'type': 'mixing',
            'inputs': {'S1-NA': {'amount': '367.5 mg'}, 'S1-SN-SA': {'amount': '632.5 mg'}},
            'output': {
                'id': 'S1-NASN',
                'name': 'Na-Sn alloy (Na3Sn)',
                'formula': 'Na3Sn',
                'role': 'active_material',
                'notes': 'counter electrode, ~0.1 V vs Na+/Na',
            },
            'parameters': {
                'method': 'mortar',
                'atmosphere': 'argon glovebox',
                'notes': 'ground until a dark gray powder',
            },
        },
    ]
    cells = [
        _half_cell('NCO-HC-70MPA', 'NaCrO2 (infiltrated) | NBH | Na-Sn at 70 MPa', '70 MPa', None),
        _half_cell('NCO-HC-3MPA', 'NaCrO2 (infiltrated) | NBH | Na-Sn at ~3 MPa (spring)', '~3 MPa', 'spring'),
        _half_cell('NCO-HC-RATE', 'NaCrO2 (infiltrated) | NBH | Na-Sn, rate test', '70 MPa', None),
        *extra_cells,
    ]
    processes += extra_processes
    return {
        'campaign': NAME,
        'description': 'Infiltrated NaCrO2 electrodes (seed 001): solution-crystallised Na4(B12H12)(B10H10) '
        'infiltrated '
        'into slurry-cast electrodes; cycling at 70 and ~3 MPa and a rate test. Synthetic demo data.',
        'materials': materials,
        'processes': processes,
        'cells': cells,
        'measurements': camp.measurements,
    }
