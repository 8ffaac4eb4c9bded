"""Campaign ``seed004-milling-series``: NaCB11H12 milled 0-360 min (Murgia et al., ACS AMI 2022,
doi:10.1021/acsami.1c21113).

Files: one PEIS per pellet and temperature (blocking C | NCB | C pellets, -20 ... 100 degC, the 45-min
pellet -100 ... 100 degC heating and cooling), a stepped-current CCD test of Na | MM-NCB-45 | Na, and a
slow-scan CV of Na | MM-NCB-45 (+C) | glassy carbon.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np

from aiida_ssb.demo_data.campaign import SYNTHETIC, Campaign, temperature_label
from aiida_ssb.demo_data.eclab import Instrument
from aiida_ssb.demo_data.electrode import GcplRecorder, GcplSequence, gcpl_file
from aiida_ssb.demo_data.impedance import (
    PeisSettings,
    add_noise,
    cpe,
    frequencies_hz,
    geometric_cpe_q,
    parallel,
    peis_file,
)
from aiida_ssb.demo_data.issue21 import xrd_record
from aiida_ssb.demo_data.ncb_conductivity import NcbConductivity, arrhenius_fit_ev
from aiida_ssb.demo_data.symmetric import CcdFailure, Polarisation, ccd_protocol
from aiida_ssb.demo_data.voltammetry import Hinge, Peak, VoltammetryModel, cv_file, sweep_program
from aiida_ssb.demo_data.yamlout import Comment

NAME = 'seed004-milling-series'
DOI = 'doi:10.1021/acsami.1c21113'
BRIGHI_2018 = 'doi:10.1016/j.jpowsour.2018.09.086'

MILLING_TIMES_MIN = (0, 15, 30, 45, 60, 120, 360)
#: pellet thickness (um) per milling time: ~0.5 mm as in the paper, small pellet-to-pellet scatter
THICKNESS_UM = {0: 505, 15: 498, 30: 502, 45: 500, 60: 496, 120: 503, 360: 507}
PELLET_DIAMETER_MM = 10.0
RELATIVE_DENSITY = 0.92
DENSITY_G_CM3 = {'ortho': 1.081, 'bcc': 1.126, 'amorphous': 1.10}  # Table 1; amorphous: assumed
PERMITTIVITY = 8.0
BULK_ALPHA = 0.90
ELECTRODE_ALPHA = 0.85
ELECTRODE_Q = 6.0e-6  # F s^(alpha-1), carbon-layer blocking electrodes
NOISE = 0.005
HIGH_WINDOW_C = (30.0, 100.0)
LOW_WINDOW_C = (-100.0, -60.0)
ORDERED_WINDOW_C = (-20.0, 40.0)


#: the reference phases of the milled powder's pattern (a start value of the cubic cell, refined by the analysis;
#: the orthorhombic phase by its (111) reflection at 15.6 deg, Cu K-alpha) and the instrument's FWHM
XRD_OPTIONS = {
    'instrument_fwhm_deg': 0.08,
    'references': [
        {'name': 'bcc NaCB11H12 (Im-3m)', 'crystal_system': 'cubic', 'a_angstrom': 7.9, 'centring': 'I'},
        {'name': 'orthorhombic NaCB11H12', 'd_spacings_angstrom': [5.676], 'hkl': [[1, 1, 1]]},
    ],
}

#: the paper does not state its Arrhenius windows: the demonstration leaves the number of regimes and the knees to
#: the evidence (aiida_ssb.analysis.arrhenius, split='evidence'); HIGH/LOW/ORDERED_WINDOW_C only describe, in
#: expected.json, what a fit of the model over the regimes the paper describes gives


def cell_id(milling_min: int) -> str:
    return f'PEL-NCB-{milling_min}'


def powder_id(milling_min: int) -> str:
    return 'NCB-DRY' if milling_min == 0 else ('MM-NCB-45A' if milling_min == 45 else f'MM-NCB-{milling_min}')


def temperature_programme(milling_min: int, reduced: bool) -> list[tuple[str, float]]:
    """(branch, temperature) in measurement order."""
    if milling_min == 45:
        if reduced:
            heating = [-100.0, -80.0, -60.0, 25.0, 30.0, 60.0, 100.0]
            cooling = [60.0, -60.0]
        else:
            heating = sorted([float(t) for t in range(-100, 101, 10)] + [25.0])
            cooling = sorted([float(t) for t in range(-100, 91, 10)] + [25.0], reverse=True)
        return [('heating', t) for t in heating] + [('cooling', t) for t in cooling]
    if reduced:
        # the pristine pellet: three points above its order-disorder transition (83 degC), so that the evidence
        # can see the second regime
        temps = [-20.0, 0.0, 25.0, 40.0, 80.0, 90.0, 95.0, 100.0] if milling_min == 0 else [-20.0, 25.0, 60.0, 100.0]
    else:
        temps = sorted([float(t) for t in range(-20, 101, 10)] + [25.0])
    return [('heating', t) for t in temps]


def pellet_mass_mg(model: NcbConductivity, milling_min: int) -> float:
    ortho, bcc, amorphous = model.fractions(milling_min)
    density = ortho * DENSITY_G_CM3['ortho'] + bcc * DENSITY_G_CM3['bcc'] + amorphous * DENSITY_G_CM3['amorphous']
    area = math.pi * (PELLET_DIAMETER_MM / 20.0) ** 2
    return round(THICKNESS_UM[milling_min] * 1e-4 * area * density * RELATIVE_DENSITY * 1000.0, 1)


def generate(root: Path, reduced: bool = False) -> tuple[Path, dict[str, Any], Campaign]:
    """Write the campaign under ``root``; returns (manifest path, the numbers it encodes, the campaign)."""
    camp = Campaign(root, NAME, reduced, dt.datetime(2021, 3, 1, 9, 0, 0), Instrument('SP-200', '0000', 1))
    model = NcbConductivity()
    area = math.pi * (PELLET_DIAMETER_MM / 20.0) ** 2
    settings = PeisSettings(f_initial_hz=7.0e6, f_final_hz=0.1, points_per_decade=10, amplitude_mv=10.0)
    freq = frequencies_hz(settings.f_initial_hz, settings.f_final_hz, settings.points_per_decade)
    omega = 2.0 * np.pi * freq

    expected: dict[str, Any] = {
        'campaign': NAME,
        'reference': DOI,
        'conductivity_25c_s_cm': {},
        'milling_time_min': {},
        'conductivity_s_cm': {},
        'pellet': {},
    }
    cells: list[Any] = [Comment('blocking C | NCB | C pellets, one per milling time (10 mm die, 240 MPa)')]
    hours = 0.0
    for t_mill in MILLING_TIMES_MIN:
        cid = cell_id(t_mill)
        thickness_cm = THICKNESS_UM[t_mill] * 1e-4
        mass = pellet_mass_mg(model, t_mill)
        q_bulk = geometric_cpe_q(area, thickness_cm, PERMITTIVITY, BULK_ALPHA)
        cells.append(
            {
                'id': cid,
                'name': f'C | NaCB11H12 milled {t_mill} min | C' if t_mill else 'C | NaCB11H12 (dried, not milled) | C',
                'format': 'blocking_pellet',
                'diameter': f'{PELLET_DIAMETER_MM:g} mm',
                'layers': [
                    {'role': 'blocking_electrode', 'material': 'C-LAYER-S4'},
                    {
                        'role': 'electrolyte',
                        'material': powder_id(t_mill),
                        'mass': f'{mass:.1f} mg',
                        'thickness': f'{THICKNESS_UM[t_mill]} um',
                    },
                    {'role': 'blocking_electrode', 'material': 'C-LAYER-S4'},
                ],
                'fabrication': [
                    {
                        'pressure': '240 MPa',
                        'description': 'uniaxial, hydraulic press, stainless-steel die; '
                        'carbon layers added on both faces before compaction',
                    }
                ],
                'atmosphere': 'argon glovebox (O2, H2O < 0.1 ppm)',
                'reference': DOI,
                'notes': 'temperature controlled by a nitrogen stream (Novocool, Novocontrol); '
                'mass and thickness chosen '
                "consistent with 92 % of the crystallographic density (the paper's 100 mg / 0.5 mm is not)",
            }
        )
        expected['milling_time_min'][cid] = t_mill
        expected['conductivity_25c_s_cm'][cid] = float(model.sigma(t_mill, 25.0))
        expected['pellet'][cid] = {'thickness_cm': thickness_cm, 'area_cm2': area, 'mass_mg': mass}
        expected['conductivity_s_cm'][cid] = []
        for index, (branch, temperature) in enumerate(temperature_programme(t_mill, reduced)):
            sigma = float(model.sigma(t_mill, temperature))
            resistance = thickness_cm / (sigma * area)
            z = parallel(resistance, cpe(q_bulk, BULK_ALPHA, omega)) + cpe(ELECTRODE_Q, ELECTRODE_ALPHA, omega)
            key = f'{cid}/{branch}/{temperature:g}'
            rng = camp.rng(key)
            z_noisy = add_noise(z, rng, NOISE)
            path = camp.raw_path(f'{cid}_PEIS_{index + 1:02d}_{branch}_{temperature_label(temperature)}.mpt')
            size = peis_file(
                path,
                z_ohm=z_noisy,
                freq_hz=freq,
                settings=settings,
                started=camp.started(hours),
                instrument=camp.instrument,
                directory=camp.directory_label,
                area_cm2=area,
                mass_mg=mass,
                electrode_material='carbon layers',
                electrolyte=f'NaCB11H12 milled {t_mill} min',
                comment=f'{SYNTHETIC}; T = {temperature:g} degC ({branch})',
                ocv_v=0.0,
                rng=rng,
            )
            hours += 2.5
            camp.add_file(path, size)
            camp.measure(
                path,
                cell=cid,
                technique='peis',
                temperature=f'{temperature:g} degC',
                branch=branch,
                instrument='SP-200',
            )
            expected['conductivity_s_cm'][cid].append(
                {
                    'temperature_c': temperature,
                    'branch': branch,
                    'conductivity_s_cm': sigma,
                    'resistance_ohm': resistance,
                }
            )
        hours += 24.0

    times = list(expected['conductivity_25c_s_cm'])
    best = max(times, key=lambda key: expected['conductivity_25c_s_cm'][key])
    expected['optimum_milling_time_min'] = expected['milling_time_min'][best]
    expected['activation_energy_ev'] = _activation_energies(model, reduced)
    expected['order_disorder_transition_c'] = {cell_id(0): model.transition_c}
    expected['delta_ln_sigma0'] = model.delta_ln_sigma0
    expected['conductivity_ratio_45_over_0'] = {
        f'{t:g}': float(model.sigma(45, t) / model.sigma(0, t)) for t in (-20.0, 25.0)
    }
    expected['phase_fractions'] = {
        cell_id(t): dict(zip(('orthorhombic', 'bcc', 'amorphous'), model.fractions(t))) for t in MILLING_TIMES_MIN
    }

    ccd = _ccd(camp, hours, reduced)
    cv = _ssrcv(camp, hours + 60.0, reduced)
    expected.update(ccd)
    expected.update(cv)
    expected.update(xrd_record(camp, reduced, material='MM-NCB-45A'))
    expected['paper'] = {
        'conductivity_25c_s_cm_45min': 4.0e-3,
        'activation_energy_high_t_ev': 0.205,
        'activation_energy_low_t_ev': 0.671,
        'activation_energy_pristine_ev': 0.629,
        'transition_c': 83.0,
        'delta_ln_sigma0': 11.25,
        'conductivity_360min_s_cm': 1.0e-8,
        'optimum_milling_time_min': 45,
        'ccd_sudden_drop_ma_cm2': 0.12,
        'ccd_zero_volt_ma_cm2': 0.3,
        'edge_potential_v': 4.14,
        'minor_peak_v': 3.3,
    }

    document = _manifest(camp, cells)
    path = camp.write_manifest(document, _HEADER)
    return path, expected, camp


def _activation_energies(model: NcbConductivity, reduced: bool) -> dict[str, Any]:
    """Model activation energies and what a least-squares fit of the noise-free model gives on the
    temperatures actually measured in each window."""
    result: dict[str, Any] = {}
    temps45 = np.array(sorted({t for branch, t in temperature_programme(45, reduced) if branch == 'heating'}))
    sigma45 = model.sigma(45, temps45)
    windows = {}
    for label, window, energy in (('high_t', HIGH_WINDOW_C, model.e_high_ev), ('low_t', LOW_WINDOW_C, model.e_low_ev)):
        mask = (temps45 >= window[0]) & (temps45 <= window[1])
        windows[label] = {
            'model_ev': energy,
            'window_c': list(window),
            'fit_of_model_ev': arrhenius_fit_ev(temps45[mask], sigma45[mask]),
        }
    result[cell_id(45)] = windows
    temps0 = np.array(sorted({t for _, t in temperature_programme(0, reduced)}))
    mask = (temps0 >= ORDERED_WINDOW_C[0]) & (temps0 <= ORDERED_WINDOW_C[1])
    result[cell_id(0)] = {
        'ordered': {
            'model_ev': model.e_ordered_ev,
            'window_c': list(ORDERED_WINDOW_C),
            'fit_of_model_ev': arrhenius_fit_ev(temps0[mask], model.sigma(0, temps0[mask])),
        }
    }
    return result


def _ccd(camp: Campaign, hours: float, reduced: bool) -> dict[str, Any]:
    """Na | MM-NCB-45 | Na, stepped current density, constant areal capacity per half cycle."""
    area = math.pi * 0.5**2
    thickness_cm = 0.074
    sigma = 4.0e-3
    polarisation = Polarisation(bulk_ohm_cm2=thickness_cm / sigma, charge_transfer_ohm_cm2=190.0, temperature_c=25.0)
    steps = [round(0.02 * k, 2) for k in range(1, 16)]
    failure = CcdFailure(
        drop_step_ma_cm2=0.14,
        drop_at=0.55,
        shunt_fraction=lambda j: 0.30 - (j - 0.14),
        short_step_ma_cm2=0.30,
        short_half=1,
        short_at=0.40,
        short_ohm_cm2=1.0,
    )
    rng = camp.rng('SYM-NA-MM45/ccd')
    recorder = GcplRecorder(rng, noise_v=0.1e-3)
    recorder.rest(3600.0, 0.0, 13, 0)
    sequences = [GcplSequence('rest', duration_h=1.0)]
    sequences += ccd_protocol(
        recorder,
        polarisation,
        area_cm2=area,
        steps_ma_cm2=steps,
        capacity_mah_cm2=0.1,
        points_per_half=24 if reduced else 40,
        failure=failure,
        first_ns=1,
    )
    path = camp.raw_path('SYM-NA-MM45_CCD_GCPL.mpt')
    size = gcpl_file(
        path,
        recorder=recorder,
        sequences=sequences,
        started=camp.started(hours),
        instrument=camp.instrument,
        directory=camp.directory_label,
        area_cm2=area,
        active_mass_mg=None,
        molar_mass_g_mol=None,
        ion_mass_g_mol=22.990,
        battery_capacity_mah=None,
        electrode_material='Na',
        electrolyte='NaCB11H12 milled 45 min',
        comment=f'{SYNTHETIC}; stepped-current CCD test, 0.1 mAh/cm2 per half cycle',
    )
    camp.add_file(path, size)
    camp.measure(
        path,
        cell='SYM-NA-MM45',
        technique='critical_current_density',
        temperature='25 degC',
        instrument='SP-200',
        notes='current density raised by 0.02 mA/cm2 each cycle, 0.1 mAh/cm2 per half cycle',
    )
    return {
        'ccd_ma_cm2': {'SYM-NA-MM45': {'sudden_drop': 0.12, 'zero_volt': 0.30}},
        'ccd_protocol': {
            'SYM-NA-MM45': {
                'steps_ma_cm2': steps,
                'capacity_per_half_cycle_mah_cm2': 0.1,
                'area_cm2': area,
                'first_drop_ma_cm2': 0.14,
                'rows': recorder.n_rows,
            }
        },
    }


def _ssrcv(camp: Campaign, hours: float, reduced: bool) -> dict[str, Any]:
    """Na | MM-NCB-45 | MM-NCB-45 + C | glassy carbon at 50 uV/s up to 5 V."""
    model = VoltammetryModel(
        capacitance_f=1.0e-3,
        leak_ma_v=2.0e-6,
        reference_v=2.6,
        hinges=(Hinge(onset_v=4.14, slope_ma_v=2.0e-3),),
        peaks=(Peak(center_v=3.3, height_ma=1.2e-4, width_v=0.06),),
        noise_ma=2.0e-7,
    )
    vertices = [2.62, 5.0, 2.5]
    rng = camp.rng('SSRCV-MM45/cv')
    record = sweep_program(model, vertices, 0.05, 0.005 if reduced else 0.002, rng)
    path = camp.raw_path('SSRCV-MM45_CV_50uVs.mpt')
    size = cv_file(
        path,
        record=record,
        vertices_v=vertices,
        scan_rate_mv_s=0.05,
        started=camp.started(hours),
        instrument=camp.instrument,
        directory=camp.directory_label,
        area_cm2=math.pi * 0.5**2,
        electrode_material='glassy carbon (Sigradur)',
        electrolyte='NaCB11H12 milled 45 min (+C top layer)',
        comment=f'{SYNTHETIC}; slow-scan CV to 5 V',
        rng=rng,
    )
    camp.add_file(path, size)
    camp.measure(
        path, cell='SSRCV-MM45', technique='cv', temperature='25 degC', scan_rate='0.05 mV/s', instrument='SP-200'
    )
    return {
        'oxidative_onset_v': {'SSRCV-MM45': 4.14},
        'anodic_peak_v': {'SSRCV-MM45': 3.3},
        'voltammetry_rows': {'SSRCV-MM45': int(record.time_s.size)},
    }


_HEADER = [
    'Demonstration campaign generated by examples/demo/generate.py: SYNTHETIC data modelled on seed 004',
    '(Murgia et al., ACS Appl. Mater. Interfaces 2022, doi:10.1021/acsami.1c21113): NaCB11H12 milled 0-360 min.',
    "Lab parameters are the paper's; what the paper does not state is left out, or marked as a modelling choice.",
]


def _manifest(camp: Campaign, cells: list[Any]) -> dict[str, Any]:
    milled = [t for t in MILLING_TIMES_MIN if t]
    processes: list[Any] = [
        Comment('drying of the purchased powder: the "pristine" (0 min) sample'),
        {
            'type': 'drying',
            'inputs': ['NCB-KC-S4'],
            'output': {
                'id': 'NCB-DRY',
                'name': 'NaCB11H12 (dried, pristine)',
                'formula': 'NaCB11H12',
                'role': 'electrolyte',
                'theoretical_density': '1.081 g/cm3',
                'notes': 'orthorhombic Pca21, order-disorder transition near 83 degC',
            },
            'parameters': {
                'temperature': '180 degC',
                'duration': '12 h',
                'atmosphere': 'dynamic vacuum',
                'reference': DOI,
            },
        },
        Comment('high-energy milling series: one 110 mg batch per milling time (two batches at 45 min)'),
    ]
    for t_mill in milled:
        batches = ['MM-NCB-45A', 'MM-NCB-45B'] if t_mill == 45 else [powder_id(t_mill)]
        for batch in batches:
            output: dict[str, Any] = {
                'id': batch,
                'name': f'NaCB11H12 milled {t_mill} min',
                'formula': 'NaCB11H12',
                'role': 'electrolyte',
            }
            if t_mill == 45:
                output['theoretical_density'] = '1.126 g/cm3'
                output['notes'] = 'mainly bcc Im-3m (a = 7.882 A) with residual orthorhombic NCB'
                if batch == 'MM-NCB-45A':
                    output['analysis'] = {'diffraction': XRD_OPTIONS}
            processes.append(
                {
                    'type': 'ball_milling',
                    'inputs': {'NCB-DRY': {'amount': '110 mg'}},
                    'output': output,
                    'parameters': {
                        'mill': 'Spex 8000M Mixer/Mill',
                        'mill_type': 'shaker',
                        'jar_material': 'Fe-Cr stainless steel',
                        'ball_material': 'Fe-Cr stainless steel',
                        'ball_to_powder_ratio': 180.0,
                        'powder_mass': '110 mg',
                        'ball_mass': '19.8 g',
                        'duration': f'{t_mill} min',
                        'reference': DOI,
                    },
                }
            )
    processes += [
        Comment(
            'top layer of the stability cell: MM-NCB mixed with a carbonaceous additive (type and ratio not reported)'
        ),
        {
            'type': 'mixing',
            'inputs': ['MM-NCB-45A', 'C-ADD-S4'],
            'output': {'id': 'MM-NCB-45C', 'name': 'MM-NCB-45 + carbon (working-electrode layer)', 'role': 'composite'},
            'parameters': {'notes': 'carbon type and mass ratio not reported', 'reference': DOI},
        },
    ]
    cells = cells + [
        Comment('Na | MM-NCB-45 | Na symmetric cell for the critical current density (diameter: modelling choice)'),
        {
            'id': 'SYM-NA-MM45',
            'name': 'Na | NaCB11H12 milled 45 min | Na',
            'format': 'symmetric',
            'diameter': '10 mm',
            'layers': [
                {'role': 'working', 'material': 'NA-S4', 'diameter': '10 mm'},
                {'role': 'electrolyte', 'material': 'MM-NCB-45B', 'mass': '60.0 mg', 'thickness': '740 um'},
                {'role': 'counter', 'material': 'NA-S4', 'diameter': '10 mm'},
            ],
            'housing': '3/4 inch PFA Swagelok body',
            'housing_type': 'swagelok',
            'stack_pressure_method': 'none',
            'reference': BRIGHI_2018,
            'notes': 'stack pressure neither controlled nor optimised; pelletising as in Brighi et al. 2018',
        },
        Comment('Na | MM-NCB-45 | MM-NCB-45 + C | glassy carbon, slow-scan cyclic voltammetry'),
        {
            'id': 'SSRCV-MM45',
            'name': 'Na | MM-NCB-45 | MM-NCB-45 + C | glassy carbon',
            'format': 'half',
            'diameter': '10 mm',
            'layers': [
                {'role': 'current_collector', 'material': 'GC-HTW-S4'},
                {'role': 'working', 'material': 'MM-NCB-45C', 'mass': '10.0 mg'},
                {'role': 'separator', 'material': 'MM-NCB-45A', 'mass': '50.0 mg'},
                {'role': 'counter', 'material': 'NA-S4', 'diameter': '10 mm'},
            ],
            'housing': '3/4 inch PFA Swagelok body',
            'housing_type': 'swagelok',
            'reference': BRIGHI_2018,
            'notes': 'layer masses are modelling choices (not reported)',
            # the paper's "edge potential": the tangent at the steepest point of the rise meets the background
            'analysis': {'onsets': {'method': 'edge'}},
        },
    ]
    materials = [
        {
            'id': 'NCB-KC-S4',
            'name': 'NaCB11H12',
            'formula': 'NaCB11H12',
            'role': 'precursor',
            'supplier': 'KatChem',
            'form': 'powder',
            'molar_mass': '166.0 g/mol',
        },
        {
            'id': 'C-LAYER-S4',
            'name': 'conductive carbon layer',
            'role': 'carbon',
            'notes': 'on both pellet faces to lower the interfacial resistance; type not reported',
        },
        {'id': 'C-ADD-S4', 'name': 'carbonaceous additive', 'role': 'carbon', 'notes': 'type not reported'},
        {
            'id': 'NA-S4',
            'name': 'sodium metal disks',
            'formula': 'Na',
            'role': 'metal_foil',
            'notes': 'freshly polished',
        },
        {
            'id': 'GC-HTW-S4',
            'name': 'glassy carbon disk (Sigradur)',
            'formula': 'C',
            'role': 'current_collector',
            'supplier': 'HTW',
            'thickness': '180 um',
        },
    ]
    return {
        'campaign': NAME,
        'description': 'Milling series of NaCB11H12 (seed 004): conductivity vs milling time and temperature, '
        'critical current density and oxidative stability of the 45-min sample. Synthetic demo data.',
        'materials': materials,
        'processes': processes,
        'cells': cells,
        'measurements': camp.measurements,
    }
