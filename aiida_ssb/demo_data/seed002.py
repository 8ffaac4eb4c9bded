"""Campaign ``seed002-stability-method``: the oxidative-stability method of Asakura's thesis (UNIGE 2021,
chapter 4; Asakura et al., ACS Appl. Energy Mater. 2019, doi:10.1021/acsaem.9b01487) and the Li nido-borate
Li2(B11H14)(CB11H12) of chapter 8.

Files: CVs of LiBH4 working electrodes (25 wt% Super P, 5 wt% Ketjenblack, 25 wt% MCMB, no carbon) at
10 uV/s and 60 degC, the Super P composite also at 100 and 500 uV/s; impedance of a Li | SE | Li cell at open
circuit from 6 to 80 h after assembly; a stepped-current CCD test of Li | SE | Li at 60 degC.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np

from aiida_ssb.demo_data.campaign import SYNTHETIC, Campaign
from aiida_ssb.demo_data.eclab import Instrument
from aiida_ssb.demo_data.electrode import GcplRecorder, GcplSequence, gcpl_file
from aiida_ssb.demo_data.impedance import PeisSettings, add_noise, cpe, frequencies_hz, parallel, peis_file
from aiida_ssb.demo_data.issue21 import (
    COMPOSITES,
    electronic_conductivity_cell,
    electronic_conductivity_cell_spec,
    thermal_records,
)
from aiida_ssb.demo_data.symmetric import CcdFailure, Polarisation, ccd_protocol
from aiida_ssb.demo_data.voltammetry import Hinge, VoltammetryModel, cv_file, sweep_program
from aiida_ssb.demo_data.yamlout import Comment

NAME = 'seed002-stability-method'
DOI_METHOD = 'doi:10.1021/acsaem.9b01487'
DOI_NIDO = 'doi:10.1002/adfm.202010046'
AREA_12MM = math.pi * 0.6**2
LIBH4_OCV_V = 1.95
#: interphase growth of Li | Li2(B11H14)(CB11H12) | Li at open circuit, 60 degC: R = R0 + k sqrt(t)
INTERPHASE_R0_OHM_CM2 = 29.6
INTERPHASE_K_OHM_CM2_H05 = 14.6
SE_BULK_OHM_CM2 = 100.0  # 600 um at ~6e-4 S/cm (60 degC): modelling choice
SE_THICKNESS_UM = 600

#: LiBH4 working electrodes: (cell, composite material, label, onset V, capacitance F, faradaic slope mA/V,
#: scan rate mV/s)
ELECTRODES: tuple[tuple[str, str | None, str, float, float, float, float], ...] = (
    ('LIBH4-SP25-10', 'S2-LIBH4-SP25', 'LiBH4/Super P 75:25', 2.04, 3.6e-3, 3.0e-3, 0.01),
    ('LIBH4-KB5-10', 'S2-LIBH4-KB5', 'LiBH4/Ketjenblack 95:5', 2.08, 1.7e-2, 3.0e-3, 0.01),
    ('LIBH4-MCMB25-10', 'S2-LIBH4-MCMB25', 'LiBH4/MCMB 75:25', 2.61, 7.5e-5, 3.0e-4, 0.01),
    ('LIBH4-NOC-10', None, 'LiBH4 on Pt (no carbon)', 3.10, 2.3e-5, 2.0e-5, 0.01),
    ('LIBH4-SP25-100', 'S2-LIBH4-SP25', 'LiBH4/Super P 75:25', 2.19, 3.6e-3, 3.0e-3, 0.10),
    ('LIBH4-SP25-500', 'S2-LIBH4-SP25', 'LiBH4/Super P 75:25', 2.64, 3.6e-3, 3.0e-3, 0.50),
)


def interphase_ohm_cm2(time_h: float) -> float:
    """Parabolic growth of the Li/SE interphase: R(t) = 29.6 + 14.6 sqrt(t / h) ohm cm2."""
    return INTERPHASE_R0_OHM_CM2 + INTERPHASE_K_OHM_CM2_H05 * math.sqrt(max(time_h, 0.0))


def generate(root: Path, reduced: bool = False) -> tuple[Path, dict[str, Any], Campaign]:
    """Write the campaign under ``root``; returns (manifest path, the numbers it encodes, the campaign)."""
    camp = Campaign(root, NAME, reduced, dt.datetime(2020, 9, 7, 8, 0, 0), Instrument('VMP3', '0000', 7))
    expected: dict[str, Any] = {'campaign': NAME, 'reference': {'method': DOI_METHOD, 'nido_borate': DOI_NIDO}}
    expected.update(_voltammetry(camp, reduced))
    expected.update(_interphase(camp, reduced))
    expected.update(_ccd(camp, reduced))
    expected.update(thermal_records(camp, reduced))  # chapter 6: DSC/TG of cathode composites
    expected.update(electronic_conductivity_cell(camp, reduced, started_h=2000.0))  # chapter 8
    expected['paper'] = {
        'dsc_onset_c': {'NaCrO2': 525, 'NaMnO2': 421, 'NaFeO2': 393},
        'dsc_peak_heat_flow_w_g': {'NaCrO2': 5.0, 'NaMnO2': 4.9, 'NaFeO2': '< 1.7'},
        'electronic_conductivity_s_cm': 5e-9,
        'onset_super_p_v': 2.04,
        'onset_ketjenblack_v': 2.08,
        'onset_mcmb_v': 2.61,
        'onset_no_carbon_v': 3.10,
        'shift_100uvs_v': '> 0.1',
        'shift_500uvs_v': '> 0.5',
        'ccd_ma_cm2': 0.16,
        'interphase_k_ohm_cm2_h05': 14.6,
        'interphase_r0_ohm_cm2': 29.6,
    }
    path = camp.write_manifest(_manifest(camp), _HEADER)
    return path, expected, camp


def _voltammetry(camp: Campaign, reduced: bool) -> dict[str, Any]:
    onsets: dict[str, float] = {}
    rates: dict[str, float] = {}
    for index, (cell, _composite, label, onset, capacitance, slope, rate) in enumerate(ELECTRODES):
        model = VoltammetryModel(
            capacitance_f=capacitance,
            leak_ma_v=0.003 * slope,
            reference_v=LIBH4_OCV_V,
            hinges=(Hinge(onset_v=onset, slope_ma_v=slope),),
            noise_ma=max(0.004 * capacitance * rate, 2e-4 * slope * 0.05),
        )
        vertices = [LIBH4_OCV_V, 1.5, 4.0]
        rng = camp.rng(f'{cell}/cv')
        record = sweep_program(model, vertices, rate, 0.005 if reduced else 0.002, rng)
        path = camp.raw_path(f'{cell}_CV_{rate * 1000:g}uVs_60C.mpt')
        size = cv_file(
            path,
            record=record,
            vertices_v=vertices,
            scan_rate_mv_s=rate,
            started=camp.started(200.0 * index),
            instrument=camp.instrument,
            directory=camp.directory_label,
            area_cm2=AREA_12MM,
            electrode_material='Pt',
            electrolyte=label,
            comment=f'{SYNTHETIC}; 60 degC, OCV -> 1.5 V -> 4.0 V',
            rng=rng,
        )
        camp.add_file(path, size)
        camp.measure(
            path,
            cell=cell,
            technique='cv',
            temperature='60 degC',
            scan_rate=f'{rate:g} mV/s',
            instrument='VMP3',
            notes='first sweep down to 1.5 V to collect background points, then up to 4.0 V vs Li+/Li',
        )
        onsets[cell] = onset
        rates[cell] = rate
    shift = {
        'LIBH4-SP25-100': onsets['LIBH4-SP25-100'] - onsets['LIBH4-SP25-10'],
        'LIBH4-SP25-500': onsets['LIBH4-SP25-500'] - onsets['LIBH4-SP25-10'],
    }
    return {'oxidative_onset_v': onsets, 'scan_rate_mv_s': rates, 'onset_shift_vs_10uvs_v': shift}


def _interphase(camp: Campaign, reduced: bool) -> dict[str, Any]:
    cell = 'LI-SYM-OCV'
    times = (
        (6.0, 20.0, 40.0, 60.0, 80.0)
        if reduced
        else (6.0, 8.0, 12.0, 16.0, 20.0, 28.0, 36.0, 40.0, 48.0, 60.0, 70.0, 80.0)
    )
    settings = PeisSettings(f_initial_hz=1.0e6, f_final_hz=1.0, points_per_decade=10, amplitude_mv=50.0)
    freq = frequencies_hz(settings.f_initial_hz, settings.f_final_hz, settings.points_per_decade)
    omega = 2.0 * np.pi * freq
    q_sei, alpha_sei = 4.4e-6, 0.80
    spectra = []
    for time_h in times:
        r_sei = interphase_ohm_cm2(time_h)
        z = SE_BULK_OHM_CM2 / AREA_12MM + parallel(r_sei / AREA_12MM, cpe(q_sei, alpha_sei, omega))
        rng = camp.rng(f'{cell}/peis/{time_h:g}')
        path = camp.raw_path(f'{cell}_PEIS_{time_h:04.0f}h.mpt')
        size = peis_file(
            path,
            z_ohm=add_noise(z, rng, 0.005),
            freq_hz=freq,
            settings=settings,
            started=camp.started(1500.0 + time_h),
            instrument=camp.instrument,
            directory=camp.directory_label,
            area_cm2=AREA_12MM,
            mass_mg=None,
            electrode_material='Li',
            electrolyte='Li2(B11H14)(CB11H12)',
            comment=f'{SYNTHETIC}; open circuit, 60 degC, {time_h:g} h after assembly',
            ocv_v=0.0,
            rng=rng,
        )
        camp.add_file(path, size)
        camp.measure(
            path,
            cell=cell,
            technique='peis',
            temperature='60 degC',
            time_since_assembly=f'{time_h:g} h',
            state='open circuit',
            instrument='VMP3',
        )
        spectra.append(
            {'time_since_assembly_h': time_h, 'r_interphase_ohm_cm2': r_sei, 'r_bulk_ohm_cm2': SE_BULK_OHM_CM2}
        )
    return {
        'interphase_growth': {
            cell: {
                'law': 'R(t) = R0 + k sqrt(t)',
                'r0_ohm_cm2': INTERPHASE_R0_OHM_CM2,
                'k_ohm_cm2_h05': INTERPHASE_K_OHM_CM2_H05,
                'area_cm2': AREA_12MM,
                'spectra': spectra,
            }
        }
    }


def _ccd(camp: Campaign, reduced: bool) -> dict[str, Any]:
    cell = 'LI-SYM-CCD'
    rest_h = 12.0
    polarisation = Polarisation(
        bulk_ohm_cm2=SE_BULK_OHM_CM2, charge_transfer_ohm_cm2=15.0, temperature_c=60.0, interphase=interphase_ohm_cm2
    )
    steps = [round(0.04 + 0.02 * k, 2) for k in range(8)]  # 0.04 ... 0.18 mA/cm2
    failure = CcdFailure(drop_step_ma_cm2=0.18, drop_at=0.6, shunt_fraction=lambda j: 0.35)
    rng = camp.rng(f'{cell}/ccd')
    recorder = GcplRecorder(rng, noise_v=0.1e-3)
    recorder.rest(rest_h * 3600.0, 0.0, 13, 0)
    sequences = [GcplSequence('rest', duration_h=rest_h)]
    sequences += ccd_protocol(
        recorder,
        polarisation,
        area_cm2=AREA_12MM,
        steps_ma_cm2=steps,
        capacity_mah_cm2=0.2,
        points_per_half=24 if reduced else 40,
        failure=failure,
        first_ns=1,
    )
    path = camp.raw_path(f'{cell}_CCD_GCPL_60C.mpt')
    size = gcpl_file(
        path,
        recorder=recorder,
        sequences=sequences,
        started=camp.started(1700.0),
        instrument=camp.instrument,
        directory=camp.directory_label,
        area_cm2=AREA_12MM,
        active_mass_mg=None,
        molar_mass_g_mol=None,
        ion_mass_g_mol=6.94,
        battery_capacity_mah=None,
        electrode_material='Li',
        electrolyte='Li2(B11H14)(CB11H12)',
        comment=f'{SYNTHETIC}; CCD, 0.2 mAh/cm2 per half cycle, 60 degC',
    )
    camp.add_file(path, size)
    camp.measure(
        path,
        cell=cell,
        technique='critical_current_density',
        temperature='60 degC',
        instrument='VMP3',
        notes='12 h at open circuit, then 0.2 mAh/cm2 per half cycle with the current density raised every cycle',
    )
    return {
        'ccd_ma_cm2': {cell: {'sudden_drop': 0.16, 'zero_volt': None}},
        'ccd_protocol': {
            cell: {
                'steps_ma_cm2': steps,
                'capacity_per_half_cycle_mah_cm2': 0.2,
                'area_cm2': AREA_12MM,
                'first_drop_ma_cm2': 0.18,
                'rows': recorder.n_rows,
            }
        },
    }


_HEADER = [
    'Demonstration campaign generated by examples/demo/generate.py: SYNTHETIC data modelled on seed 002',
    '(R. Asakura, PhD thesis, Univ. Geneva 2021: chapter 4, the oxidative-stability method,',
    'doi:10.1021/acsaem.9b01487; chapter 8, the Li nido-borate Li2(B11H14)(CB11H12), "sample H").',
]


def _stability_cell(cell_id: str, composite: str | None, label: str) -> dict[str, Any]:
    if composite is None:
        layers = [
            {'role': 'working', 'material': 'S2-PT-AA'},
            {'role': 'current_collector', 'material': 'S2-AL-MTI', 'side': 'positive'},
            {'role': 'separator', 'material': 'S2-LIBH4', 'mass': '80 mg'},
            {'role': 'counter', 'material': 'S2-LI-CEL', 'diameter': '10 mm'},
        ]
    else:
        layers = [
            {'role': 'current_collector', 'material': 'S2-PT-AA', 'side': 'positive'},
            {'role': 'current_collector', 'material': 'S2-AL-MTI', 'side': 'positive'},
            {'role': 'working', 'material': composite, 'mass': '5 mg'},
            {'role': 'separator', 'material': 'S2-LIBH4', 'mass': '80 mg'},
            {'role': 'counter', 'material': 'S2-LI-CEL', 'diameter': '10 mm'},
        ]
    return {
        'id': cell_id,
        'name': f'Li | LiBH4 | {label}',
        'format': 'half',
        'diameter': '12 mm',
        'layers': layers,
        'fabrication_pressure': '450 MPa',
        'housing': 'Swagelok-type two-electrode cell',
        'housing_type': 'swagelok',
        'reference': DOI_METHOD,
        'notes': 'bilayer pellet 1.0-1.3 mm thick; stack pressure not stated',
    }


def _manifest(camp: Campaign) -> dict[str, Any]:
    """The campaign's lab manifest.

    Long because: it is the manifest written out as one literal, entry by entry as in the paper."""
    materials = [
        {
            'id': 'S2-LIBH4-SA',
            'name': 'LiBH4',
            'formula': 'LiBH4',
            'role': 'electrolyte',
            'supplier': 'Sigma-Aldrich',
            'purity': '95%',
            'form': 'powder',
        },
        {
            'id': 'S2-SP-IM',
            'name': 'Super P',
            'role': 'carbon',
            'supplier': 'Imerys Graphite & Carbon',
            'specific_surface_area': '58 m2/g',
            'bulk_density': '0.16 g/cm3',
        },
        {
            'id': 'S2-KB',
            'name': 'Ketjenblack EC-600JD',
            'role': 'carbon',
            'specific_surface_area': '1362 m2/g',
            'bulk_density': '0.11 g/cm3',
            'notes': 'supplier not named',
        },
        {
            'id': 'S2-MCMB-MTI',
            'name': 'mesocarbon microbeads (MCMB)',
            'role': 'carbon',
            'supplier': 'MTI',
            'specific_surface_area': '1.2 m2/g',
            'tap_density': '1.3 g/cm3',
        },
        {
            'id': 'S2-PT-AA',
            'name': 'platinum disk',
            'formula': 'Pt',
            'role': 'current_collector',
            'supplier': 'Alfa Aesar',
            'purity': '99.997%',
            'thickness': '0.25 mm',
            'diameter': '12 mm',
        },
        {
            'id': 'S2-AL-MTI',
            'name': 'aluminium foil',
            'formula': 'Al',
            'role': 'current_collector',
            'supplier': 'MTI',
            'purity': '>99.3%',
            'thickness': '15 um',
            'diameter': '12 mm',
        },
        {
            'id': 'S2-LI-CEL',
            'name': 'lithium foil',
            'formula': 'Li',
            'role': 'metal_foil',
            'supplier': 'China Energy Lithium',
            'purity': '99.9%',
            'thickness': '0.5 mm',
            'notes': 'surface scratched',
        },
        {
            'id': 'S2-LIB11-KC',
            'name': 'LiB11H14 hydrate',
            'formula': 'LiB11H14(H2O)n',
            'role': 'precursor',
            'supplier': 'KatChem',
            'purity': '~97%',
            'notes': '1 < n < 2 from the TGA weight loss',
        },
        {
            'id': 'S2-LIOH-SA',
            'name': 'LiOH',
            'formula': 'LiOH',
            'role': 'precursor',
            'supplier': 'Sigma-Aldrich',
            'purity': '98%',
        },
        {'id': 'S2-H2O', 'name': 'Milli-Q water', 'formula': 'H2O', 'role': 'solvent'},
        {
            'id': 'S2-THF-SA',
            'name': 'tetrahydrofuran (anhydrous)',
            'formula': 'C4H8O',
            'role': 'solvent',
            'supplier': 'Sigma-Aldrich',
            'purity': '99.9%',
        },
        {
            'id': 'S2-LICB11-KC',
            'name': 'LiCB11H12 hydrate',
            'formula': 'LiCB11H12(H2O)5',
            'role': 'precursor',
            'supplier': 'KatChem',
            'purity': '>98%',
        },
    ]
    processes: list[Any] = [
        Comment('oxidative-stability working electrodes (thesis chapter 4)'),
        {
            'type': 'mixing',
            'inputs': ['S2-LIBH4-SA'],
            'output': {'id': 'S2-LIBH4', 'name': 'LiBH4 (ground)'},
            'parameters': {
                'method': 'mortar',
                'duration': '15 min',
                'notes': 'grinding; used without further purification',
            },
        },
    ]
    for carbon, dried in (('S2-SP-IM', 'S2-SP-DRY'), ('S2-KB', 'S2-KB-DRY'), ('S2-MCMB-MTI', 'S2-MCMB-DRY')):
        processes.append(
            {
                'type': 'drying',
                'inputs': [carbon],
                'output': {'id': dried},
                'parameters': {'duration': '24 h', 'atmosphere': 'vacuum', 'notes': 'dried at 100-150 degC'},
            }
        )
    for composite, carbon, share, label in (
        ('S2-LIBH4-SP25', 'S2-SP-DRY', 25, 'LiBH4/Super P 75:25'),
        ('S2-LIBH4-KB5', 'S2-KB-DRY', 5, 'LiBH4/Ketjenblack 95:5'),
        ('S2-LIBH4-MCMB25', 'S2-MCMB-DRY', 25, 'LiBH4/MCMB 75:25'),
    ):
        processes.append(
            {
                'type': 'mixing',
                'inputs': {'S2-LIBH4': {'fraction': f'{100 - share} wt%'}, carbon: {'fraction': f'{share} wt%'}},
                'output': {'id': composite, 'name': label, 'role': 'composite'},
                'parameters': {'method': 'mortar', 'duration': '15 min', 'reference': DOI_METHOD},
            }
        )
    processes += [
        Comment(
            'Li2(B11H14)(CB11H12), "sample H" (thesis chapter 8): LiB11H14 by the LiOH route ("sample E"), then milling'
        ),
        {
            'type': 'solution_synthesis',
            'inputs': {
                'S2-LIB11-KC': {},
                'S2-LIOH-SA': {},
                'S2-H2O': {'role': 'solvent'},
                'S2-THF-SA': {'role': 'solvent'},
            },
            'output': {
                'id': 'S2-LIB11',
                'name': 'LiB11H14',
                'formula': 'LiB11H14',
                'role': 'precursor',
                'notes': 'LT-LiB11H14 (Pbca); traces of THF by FTIR',
            },
            'parameters': {
                'solvent': 'water, then THF',
                'solvent_volume': '50 mL',
                'solvent_removal': 'water removed; product dissolved in 20-40 mL THF; LiOH removed by centrifugation '
                '(4000 rpm, 10 min); THF removed by rotary evaporator at 80 degC (50-10 mbar)',
                'drying': [
                    {'temperature': '100 degC', 'duration': '16 h', 'atmosphere': 'vacuum', 'pressure': '1e-2 mbar'}
                ],
                'notes': '500 mg LiB11H14(H2O)n + 18.9 mg LiOH (1:0.2) stirred 30 min at room temperature '
                'in 50 mL water; '
                'amounts kept here because LiOH leaves the product',
                'reference': DOI_NIDO,
            },
        },
        {
            'type': 'drying',
            'inputs': ['S2-LICB11-KC'],
            'output': {'id': 'S2-LICB11', 'name': 'LiCB11H12 (dehydrated)', 'formula': 'LiCB11H12'},
            'parameters': {
                'temperature': '180 degC',
                'duration': '12 h',
                'atmosphere': 'vacuum',
                'pressure': '1e-2 mbar',
                'notes': 'vacuum 1e-3 to 1e-2 mbar',
            },
        },
        {
            'type': 'ball_milling',
            'inputs': {'S2-LIB11': {'amount': '1 mol'}, 'S2-LICB11': {'amount': '1 mol'}},
            'output': {
                'id': 'S2-SE-H',
                'name': 'Li2(B11H14)(CB11H12) (sample H)',
                'formula': 'Li2(B11H14)(CB11H12)',
                'role': 'electrolyte',
                'theoretical_density': '1.06 g/cm3',
                'notes': 'Pca21; transition to the HT phase near 80 degC',
            },
            'parameters': {
                'mill': 'SPEX 8000M Mixer/Mill',
                'mill_type': 'shaker',
                'jar_material': 'stainless steel',
                'ball_material': 'stainless steel',
                'ball_diameter': '5 mm',
                'ball_to_powder_ratio': 15.0,
                'repetitions': 5,
                'cycle_duration': '15 min',
                'notes': 'ball-to-sample ratio 15-17:1',
                'reference': DOI_NIDO,
            },
        },
    ]
    cells: list[Any] = [Comment('Li | LiBH4 | LiBH4-C | Pt(+Al): 5 mg composite + 80 mg LiBH4, 12 mm, 450 MPa')]
    seen = set()
    for cell, composite_id, label, *_ in ELECTRODES:
        if cell not in seen:
            cells.append(_stability_cell(cell, composite_id, label))
            seen.add(cell)
    symmetric = {
        'format': 'symmetric',
        'diameter': '12 mm',
        'layers': [
            {'role': 'working', 'material': 'S2-LI-CEL', 'diameter': '12 mm'},
            {'role': 'electrolyte', 'material': 'S2-SE-H', 'mass': '65 mg', 'thickness': f'{SE_THICKNESS_UM} um'},
            {'role': 'counter', 'material': 'S2-LI-CEL', 'diameter': '12 mm'},
        ],
        'housing': 'Swagelok-type cell',
        'housing_type': 'swagelok',
        'reference': DOI_NIDO,
        'notes': 'pellet mass and thickness are modelling choices',
    }
    cells += [
        Comment('Li | Li2(B11H14)(CB11H12) | Li: interphase growth at open circuit, and critical current density'),
        {'id': 'LI-SYM-OCV', 'name': 'Li | Li2(B11H14)(CB11H12) | Li at open circuit', **symmetric},
        {'id': 'LI-SYM-CCD', 'name': 'Li | Li2(B11H14)(CB11H12) | Li, critical current density', **symmetric},
        Comment('Li | Li2(B11H14)(CB11H12) | Cu: electronic conductivity by DC polarisation (chapter 8)'),
        electronic_conductivity_cell_spec('S2-SE-H', 'S2-LI-CEL', 'S2-CU', DOI_NIDO),
    ]
    materials += [
        {'id': 'S2-CU', 'name': 'copper disk', 'formula': 'Cu', 'role': 'current_collector'},
        *(
            {
                'id': sample,
                'name': name,
                'role': 'composite',
                'notes': 'thesis chapter 6: DSC/TG-MS at 5 degC/min under helium (composition by mass)',
            }
            for sample, name, _, _ in COMPOSITES
        ),
    ]
    return {
        'campaign': NAME,
        'description': 'Oxidative stability by slow-scan voltammetry of solid-electrolyte/carbon composites (seed 002, '
        'chapter 4) and Li compatibility of the nido-borate Li2(B11H14)(CB11H12) (chapter 8). Synthetic demo data.',
        'materials': materials,
        'processes': processes,
        'cells': cells,
        'measurements': camp.measurements,
    }
