"""Campaign ``seed000-4v-cell``: the 4 V all-solid-state sodium cell NVOPF | Na4(CB11H12)2(B12H12) | Na
(Asakura et al., Energy Environ. Sci. 2020, doi:10.1039/d0ee01569e).

Files: CVs of the Na2B12H12/C65 and NaCB11H12/C65 composites (10 uV/s, 60 degC), the stepwise upper-cut-off
test (C/10, 4.05 -> 4.40 V) with a PEIS after each step, the long-term cycling of the 4.15 V and 4.30 V cells
(two C/10 formation cycles, then C/5), and the high-loading pressure cell.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from aiida_ssb.demo_data.campaign import SYNTHETIC, Campaign
from aiida_ssb.demo_data.cathode_cycling import CycleSpec, discharge_eta_for, run_cycle, run_cycles
from aiida_ssb.demo_data.eclab import Instrument
from aiida_ssb.demo_data.electrode import GcplRecorder, GcplSequence, gcpl_file, nvopf_ocv, smooth_quadratic
from aiida_ssb.demo_data.impedance import PeisSettings, add_noise, cpe, frequencies_hz, parallel, peis_file
from aiida_ssb.demo_data.seed000_manifest import (
    _HEADER,
    DOI,
    NAME,
    NVOPF_MOLAR_MASS,
    ONE_C_MA_G,
    SEPARATOR_THICKNESS_UM,
)
from aiida_ssb.demo_data.seed000_manifest import manifest as _manifest
from aiida_ssb.demo_data.voltammetry import Hinge, VoltammetryModel, cv_file, sweep_program

LOWER_V = 2.50
AREA_12MM = math.pi * 0.6**2
AREA_125MM = math.pi * 0.625**2
OCV_V = 2.40
UCV_STEPS = (4.05, 4.10, 4.15, 4.20, 4.25, 4.30, 4.35, 4.40)
R2_OHM_CM2 = {4.05: 20.0, 4.10: 35.0, 4.15: 60.0, 4.20: 100.0, 4.25: 190.0, 4.30: 340.0, 4.35: 600.0, 4.40: 1000.0}
R0_OHM_CM2 = 50.0
#: relative cycle-to-cycle scatter of the discharge capacity (not at the cycles the paper reports)
SCATTER = 0.0015


def r1_ohm_cm2(cycle: int) -> float:
    """Na/SE interface resistance: 31 -> 77 ohm cm2 over the 37 cycles up to the last impedance."""
    return 31.0 + (77.0 - 31.0) * cycle / 37.0


def _gcpl(camp, path, recorder, sequences, hours, area, mass, comment) -> int:
    return gcpl_file(
        path,
        recorder=recorder,
        sequences=sequences,
        started=camp.started(hours),
        instrument=camp.instrument,
        directory=camp.directory_label,
        area_cm2=area,
        active_mass_mg=mass,
        molar_mass_g_mol=NVOPF_MOLAR_MASS,
        ion_mass_g_mol=22.990,
        battery_capacity_mah=ONE_C_MA_G * mass / 1000.0,
        electrode_material='NVOPF composite',
        electrolyte='Na4(CB11H12)2(B12H12)',
        comment=f'{SYNTHETIC}; {comment}',
    )


def generate(root: Path, reduced: bool = False) -> tuple[Path, dict[str, Any], Campaign]:
    """Write the campaign under ``root``; returns (manifest path, the numbers it encodes, the campaign)."""
    camp = Campaign(root, NAME, reduced, dt.datetime(2020, 2, 3, 10, 0, 0), Instrument('VMP3', '0000', 4))
    expected: dict[str, Any] = {'campaign': NAME, 'reference': DOI}
    expected.update(_voltammetry(camp, reduced))
    expected.update(_stepwise(camp, reduced))
    expected.update(_long_term(camp, reduced))
    expected.update(_high_loading(camp, reduced))
    expected['paper'] = {
        'onset_na2b12h12_v': 3.45,
        'onset_nacb11h12_v': 4.20,
        'minor_onset_v': 2.9,
        'first_discharge_c10_mah_g': 104.0,
        'first_ce_percent': 91.4,
        'irreversible_mah_g': 10.0,
        'first_c5_discharge_mah_g': 99.0,
        'capacity_400_mah_g': 90.0,
        'capacity_800_mah_g': 78.0,
        'capacity_retention_800_percent': 78.0,
        'energy_retention_400_percent': 89.0,
        'energy_retention_800_percent': 76.0,
        'ce_later_percent': '> 99.8',
        'capacity_4v30_cycle160_mah_g': 43.0,
        'capacity_retention_4v30_cycle160_percent': 44.0,
        'energy_retention_4v30_cycle160_percent': 38.0,
        'high_loading_first_discharge_mah_g': 117.0,
        'average_discharge_voltage_v': 3.8,
        'specific_energy_cam_wh_kg': 443.0,
        'specific_energy_composite_wh_kg': 310.0,
        'r0_ohm_cm2': 50.0,
        'r1_ohm_cm2': [31.0, 77.0],
        'r2_ohm_cm2': {'<= 4.15 V': '< 80', '4.20 V': 100.0, '4.40 V': 1000.0},
        'conductivity_from_r0_s_cm': 1.2e-3,
    }
    path = camp.write_manifest(_manifest(camp), _HEADER)
    return path, expected, camp


# ------------------------------------------------------------------------------------------ voltammetry
def _voltammetry(camp: Campaign, reduced: bool) -> dict[str, Any]:
    result: dict[str, Any] = {'oxidative_onset_v': {}, 'minor_onset_v': {}}
    composites = (('CV-B12-C65', 'Na2B12H12/C65 (75:25)', 3.45), ('CV-NCB-C65', 'NaCB11H12/C65 (75:25)', 4.20))
    for index, (cell, label, onset) in enumerate(composites):
        model = VoltammetryModel(
            capacitance_f=3.9e-3,
            leak_ma_v=1.0e-6,
            reference_v=OCV_V,
            hinges=(Hinge(onset_v=2.9, slope_ma_v=2.0e-4), Hinge(onset_v=onset, slope_ma_v=3.0e-3)),
            noise_ma=2.0e-7,
        )
        vertices = [OCV_V, 6.0, 2.0]
        rng = camp.rng(f'{cell}/cv')
        record = sweep_program(model, vertices, 0.01, 0.005 if reduced else 0.002, rng)
        path = camp.raw_path(f'{cell}_CV_10uVs_60C.mpt')
        size = cv_file(
            path,
            record=record,
            vertices_v=vertices,
            scan_rate_mv_s=0.01,
            started=camp.started(24.0 * index),
            instrument=camp.instrument,
            directory=camp.directory_label,
            area_cm2=AREA_12MM,
            electrode_material='Pt',
            electrolyte=label,
            comment=f'{SYNTHETIC}; 60 degC',
            rng=rng,
        )
        camp.add_file(path, size)
        camp.measure(path, cell=cell, technique='cv', temperature='60 degC', scan_rate='0.01 mV/s', instrument='VMP3')
        result['oxidative_onset_v'][cell] = onset
        result['minor_onset_v'][cell] = 2.9
    return result


# ------------------------------------------------------------------------------------------ stepwise UCV + EIS
def _stepwise(camp: Campaign, reduced: bool) -> dict[str, Any]:
    """The stepwise upper-cut-off cell: its instrument files and the numbers they encode.

    Long because: it writes the paper's protocol in order, one upper cut-off after another, each step's sweep,
    rest and impedance beside the state they leave; split, the state would be passed between a dozen pieces."""
    ocv = nvopf_ocv()
    mass = 2.0 * 0.70
    cell = 'NVOPF-FC-STEP'
    rng = camp.rng(f'{cell}/gcpl')
    recorder = GcplRecorder(rng)
    recorder.rest(12 * 3600.0, OCV_V, 13, 0)
    sequences = [GcplSequence('rest', duration_h=12.0)]
    current = 0.1 * ONE_C_MA_G * mass / 1000.0
    settings = PeisSettings(f_initial_hz=200e3, f_final_hz=0.01, points_per_decade=10, amplitude_mv=10.0)
    freq = frequencies_hz(settings.f_initial_hz, settings.f_final_hz, settings.points_per_decade)
    omega = 2.0 * np.pi * freq
    q1, a1, q2, a2, q_block, a_block = 1.0e-6, 0.90, 2.0e-4, 0.85, 5.0e-4, 0.90
    start_hours = 200.0
    eis_expected = []

    def eis(cycle: int, ucv: float | None, ocv_v: float, time_s: float) -> None:
        r0, r1 = R0_OHM_CM2 / AREA_12MM, r1_ohm_cm2(cycle) / AREA_12MM
        z = r0 + parallel(r1, cpe(q1, a1, omega))
        if ucv is None:  # initial OCV: no cathode interphase yet, the cathode blocks
            z = z + cpe(q_block, a_block, omega)
            r2 = None
            label = 'OCV'
        else:
            r2 = R2_OHM_CM2[ucv] / AREA_12MM
            z = z + parallel(r2, cpe(q2, a2, omega))
            label = f'{ucv:.2f}V'.replace('.', 'p')
        erng = camp.rng(f'{cell}/peis/{cycle}')
        path = camp.raw_path(f'{cell}_PEIS_cycle{cycle:02d}_{label}.mpt')
        size = peis_file(
            path,
            z_ohm=add_noise(z, erng, 0.005),
            freq_hz=freq,
            settings=settings,
            started=camp.started(start_hours + time_s / 3600.0),
            instrument=camp.instrument,
            directory=camp.directory_label,
            area_cm2=AREA_12MM,
            mass_mg=mass,
            electrode_material='NVOPF composite',
            electrolyte='Na4(CB11H12)2(B12H12)',
            comment=f'{SYNTHETIC}; 25 degC',
            ocv_v=ocv_v,
            rng=erng,
        )
        camp.add_file(path, size)
        entry = {
            'cell': cell,
            'technique': 'peis',
            'temperature': '25 degC',
            'cycle_index': cycle,
            'instrument': 'VMP3',
        }
        if ucv is None:
            entry['state'] = 'initial OCV, before cycling'
        else:
            entry['upper_cutoff'] = f'{ucv:.2f} V'
            entry['state'] = f'charged to {ucv:.2f} V in cycle {cycle}, after a 30 min rest'
        camp.measure(path, **entry)
        eis_expected.append(
            {
                'cycle_index': cycle,
                'upper_cutoff_v': ucv,
                'r0_ohm_cm2': R0_OHM_CM2,
                'r1_ohm_cm2': r1_ohm_cm2(cycle),
                'r2_ohm_cm2': R2_OHM_CM2[ucv] if ucv else None,
            }
        )

    eis(0, None, OCV_V, recorder.t_now_s)
    scatter = camp.rng(f'{cell}/scatter').standard_normal(41)
    results = []
    s_now = 0.0
    cycle = 0
    points = 24 if reduced else 40
    ce_by_block = {
        4.05: [91.4, 98.6, 98.8, 98.9, 99.0],
        4.30: [98.5, 98.7, 98.7, 98.8, 98.8],
        4.35: [97.6, 97.9, 98.0, 98.0, 98.1],
        4.40: [96.5, 96.8, 96.9, 97.0, 97.0],
    }
    for k, ucv in enumerate(UCV_STEPS):
        charge_ns, discharge_ns, rest_ns = 1 + 3 * k, 2 + 3 * k, 3 + 3 * k
        sequences += [
            GcplSequence('cc', current_ma=current, c_rate_n=10.0, limit_v=ucv),
            GcplSequence('cc', current_ma=-current, c_rate_n=10.0, limit_v=LOWER_V, goto=charge_ns, cycles=4),
            GcplSequence('rest', duration_h=0.5),
        ]
        for j in range(5):
            cycle += 1
            r_total = (R0_OHM_CM2 + r1_ohm_cm2(cycle) + R2_OHM_CM2[ucv]) / AREA_12MM
            eta = current * r_total / 1000.0 + 0.010
            aged = max(0, cycle - 25)  # slow loss of active material once the cut-off exceeds 4.25 V
            ce = ce_by_block.get(ucv, [99.1, 99.4, 99.4, 99.4, 99.4])[j]
            spec = CycleSpec(
                0.1,
                None,
                ce,
                LOWER_V,
                ucv,
                eta_discharge_v=eta,
                delta_v=0.004,
                utilisation=0.83 * (1.0 - 0.006 * aged) * (1.0 + SCATTER * scatter[cycle]),
                charge_ns=charge_ns,
                discharge_ns=discharge_ns,
                rest_after_charge_s=1800.0 if j == 1 else 0.0,
                rest_ns=rest_ns,
            )
            # the impedance is taken after the charge and the 30 min rest of the block's second cycle
            at_rest = partial(_eis_at_rest, eis, cycle, ucv, ocv) if j == 1 else None
            result = run_cycle(
                recorder,
                ocv,
                spec,
                active_mass_mg=mass,
                one_c_ma_g=ONE_C_MA_G,
                theoretical_mah_g=ONE_C_MA_G,
                points_per_half=points,
                s_start=s_now,
                at_rest=at_rest,
            )
            result['cycle'] = cycle
            s_now = result['s_end']
            results.append(result)
    path = camp.raw_path(f'{cell}_GCPL_stepwise_UCV.mpt')
    size = _gcpl(
        camp,
        path,
        recorder,
        sequences,
        start_hours,
        AREA_12MM,
        mass,
        'C/10, upper cut-off 4.05 -> 4.40 V every 5 cycles',
    )
    camp.add_file(path, size)
    camp.measure(
        path,
        cell=cell,
        technique='gcpl',
        temperature='25 degC',
        c_rate=0.1,
        lower_cutoff='2.5 V',
        instrument='VMP3',
        notes='upper cut-off raised from 4.05 to 4.40 V in 0.05 V steps every 5 cycles; impedance after a 30 min rest '
        'in the second cycle of each step (separate PEIS files)',
    )
    capacities = {r['cycle']: r['discharge_mah_g'] for r in results}
    return {
        'stepwise': {
            cell: {
                'impedance': eis_expected,
                'conductivity_from_r0_s_cm': SEPARATOR_THICKNESS_UM * 1e-4 / R0_OHM_CM2,
                'separator_thickness_um': SEPARATOR_THICKNESS_UM,
                'cycles': [_cycle_summary(r) for r in results],
                'first_ce_percent': results[0]['coulombic_efficiency_percent'],
                'capacity_jump_4v10_over_4v05': capacities[6] / capacities[5],
            }
        }
    }


def _eis_at_rest(eis, cycle: int, ucv: float, ocv, time_s: float, s_charged: float) -> None:
    eis(cycle, ucv, float(ocv(s_charged)), time_s)


def _cycle_summary(result: dict[str, Any]) -> dict[str, Any]:
    keys = (
        'cycle',
        'c_rate',
        'upper_cutoff_v',
        'charge_mah_g',
        'discharge_mah_g',
        'coulombic_efficiency_percent',
        'mean_discharge_voltage_v',
        'discharge_energy_wh_kg',
        'energy_efficiency_percent',
    )
    return {key: result[key] for key in keys}


# ------------------------------------------------------------------------------------------ long-term cycling
def _long_term(camp: Campaign, reduced: bool) -> dict[str, Any]:
    """The long-term cycling cells: their instrument files and the numbers they encode.

    Long because: it writes each cell's program in order (formation, rate steps, long cycling, impedance at
    rest), as the paper describes it, with the cell's state carried from one step to the next."""
    ocv = nvopf_ocv()
    mass = 2.0 * 0.70
    out: dict[str, Any] = {'long_term': {}}
    points = 10 if reduced else 24

    # the 4.15 V cell: 2 x C/10, then C/5 to cycle 800 (100 in the reduced set)
    n_last = 100 if reduced else 800

    def to_full(n):
        return 3.0 + (n - 3.0) * 797.0 / (n_last - 3.0)

    capacity = smooth_quadratic([(3.0, 99.0), (400.0, 90.0), (800.0, 78.0)])
    energy_retention = smooth_quadratic([(3.0, 100.0), (400.0, 89.0), (800.0, 76.0)])
    middle = 3 + round(397.0 * (n_last - 3.0) / 797.0)
    formation = [
        CycleSpec(
            0.1,
            104.0,
            91.4,
            LOWER_V,
            4.15,
            eta_discharge_v=0.012,
            target_charge_v_over_discharge=91.4 / 90.6,
            charge_ns=1,
            discharge_ns=2,
        ),
        CycleSpec(
            0.1,
            103.4,
            98.5,
            LOWER_V,
            4.15,
            eta_discharge_v=0.012,
            target_charge_v_over_discharge=98.5 / 97.3,
            charge_ns=1,
            discharge_ns=2,
        ),
    ]
    first_c5 = CycleSpec(0.2, 99.0, 99.55, LOWER_V, 4.15, eta_discharge_v=0.020, charge_ns=3, discharge_ns=4)
    probe = run_cycles(
        GcplRecorder(np.random.default_rng(0)),
        ocv,
        [first_c5],
        active_mass_mg=mass,
        one_c_ma_g=ONE_C_MA_G,
        theoretical_mah_g=ONE_C_MA_G,
        points_per_half=points,
    )[0]
    v_ref = probe['mean_discharge_voltage_v']

    keep = {3, middle, n_last}  # cycles whose values the paper reports: no scatter there
    scatter = 1.0 + SCATTER * camp.rng('NVOPF-FC-415/scatter').standard_normal(n_last + 1)

    def c5_spec(n: int, eta: float | None = None) -> CycleSpec:
        n_full = to_full(n)
        ce = 99.9 - 0.35 * math.exp(-(n_full - 3.0) / 6.0)
        q = capacity(n_full) * (1.0 if (n in keep or eta is None) else scatter[n])
        target = v_ref * (energy_retention(n_full) / 100.0) / (q / 99.0)
        return CycleSpec(
            0.2,
            q,
            ce,
            LOWER_V,
            4.15,
            eta_discharge_v=eta,
            target_discharge_v=None if eta is not None else target,
            charge_ns=3,
            discharge_ns=4,
        )

    knots = sorted({3, middle, n_last, *range(3, n_last + 1, max(1, (n_last - 3) // 40))})
    knot_eta = {
        n: (
            0.020
            if n == 3
            else discharge_eta_for(ocv, c5_spec(n), active_mass_mg=mass, one_c_ma_g=ONE_C_MA_G, points_per_half=points)
        )
        for n in knots
    }
    xs = np.array(sorted(knot_eta))
    ys = np.array([knot_eta[n] for n in xs])
    specs = formation + [c5_spec(n, float(np.interp(n, xs, ys))) for n in range(3, n_last + 1)]
    out['long_term']['NVOPF-FC-415'] = _write_long(
        camp,
        'NVOPF-FC-415',
        specs,
        mass,
        points,
        300.0,
        'C/10 x 2 then C/5, 2.50-4.15 V',
        4.15,
        reference_cycle=3,
        report_cycles=(middle, n_last),
    )

    # the 4.30 V cell: fades to 43 mAh/g (44 %) by cycle 160 (20 in the reduced set), then fails
    n_fail = 20 if reduced else 160

    def to_full30(n):
        return 3.0 + (n - 3.0) * 157.0 / (n_fail - 3.0)

    capacity30 = smooth_quadratic([(3.0, 97.7), (80.0, 82.0), (160.0, 43.0)])
    energy30 = smooth_quadratic([(3.0, 100.0), (80.0, 80.0), (160.0, 38.0)])
    first30 = CycleSpec(0.2, 97.7, 99.35, LOWER_V, 4.30, eta_discharge_v=0.020, charge_ns=3, discharge_ns=4)
    v_ref30 = run_cycles(
        GcplRecorder(np.random.default_rng(0)),
        ocv,
        [first30],
        active_mass_mg=mass,
        one_c_ma_g=ONE_C_MA_G,
        theoretical_mah_g=ONE_C_MA_G,
        points_per_half=points,
    )[0]['mean_discharge_voltage_v']

    keep30 = {3, n_fail}
    scatter30 = 1.0 + SCATTER * camp.rng('NVOPF-FC-430/scatter').standard_normal(n_fail + 1)

    def c5_spec30(n: int, eta: float | None = None) -> CycleSpec:
        n_full = to_full30(n)
        q = capacity30(n_full) * (1.0 if (n in keep30 or eta is None) else scatter30[n])
        target = v_ref30 * (energy30(n_full) / 100.0) / (q / 97.7)
        ce = 99.75 - 0.4 * math.exp(-(n_full - 3.0) / 6.0)
        return CycleSpec(
            0.2,
            q,
            ce,
            LOWER_V,
            4.30,
            eta_discharge_v=eta,
            target_discharge_v=None if eta is not None else target,
            charge_ns=3,
            discharge_ns=4,
        )

    knots30 = sorted({3, n_fail, *range(3, n_fail + 1, max(1, (n_fail - 3) // 20))})
    eta30 = {
        n: (
            0.020
            if n == 3
            else discharge_eta_for(
                ocv, c5_spec30(n), active_mass_mg=mass, one_c_ma_g=ONE_C_MA_G, points_per_half=points
            )
        )
        for n in knots30
    }
    xs30 = np.array(sorted(eta30))
    ys30 = np.array([eta30[n] for n in xs30])
    specs30 = [
        CycleSpec(0.1, 103.0, 81.6, LOWER_V, 4.30, eta_discharge_v=0.012, charge_ns=1, discharge_ns=2),
        CycleSpec(0.1, 102.4, 98.3, LOWER_V, 4.30, eta_discharge_v=0.012, charge_ns=1, discharge_ns=2),
    ]
    specs30 += [c5_spec30(n, float(np.interp(n, xs30, ys30))) for n in range(3, n_fail + 1)]
    eta_fail = float(ys30[-1])
    collapse = [(0.72, 99.0), (0.45, 97.0), (0.22, 92.0)] + ([] if reduced else [(0.09, 80.0), (0.04, 60.0)])
    for k, (fraction, ce) in enumerate(collapse, start=1):
        specs30.append(
            CycleSpec(
                0.2,
                43.0 * fraction,
                ce,
                LOWER_V,
                4.30,
                eta_discharge_v=min(eta_fail + 0.05 * k, 0.7),
                delta_v=0.02,
                charge_ns=3,
                discharge_ns=4,
            )
        )
    out['long_term']['NVOPF-FC-430'] = _write_long(
        camp,
        'NVOPF-FC-430',
        specs30,
        mass,
        points,
        320.0,
        'C/10 x 2 then C/5, 2.50-4.30 V; fails after the last C/5 cycle of the fade',
        4.30,
        reference_cycle=3,
        report_cycles=(n_fail,),
    )
    out['long_term']['NVOPF-FC-430']['failure_after_cycle'] = n_fail
    return out


def _write_long(camp, cell, specs, mass, points, hours, comment, ucv, reference_cycle, report_cycles) -> dict[str, Any]:
    ocv = nvopf_ocv()
    rng = camp.rng(f'{cell}/gcpl')
    recorder = GcplRecorder(rng)
    recorder.rest(12 * 3600.0, OCV_V, 13, 0)
    current = ONE_C_MA_G * mass / 1000.0
    sequences = [
        GcplSequence('rest', duration_h=12.0),
        GcplSequence('cc', current_ma=0.1 * current, c_rate_n=10.0, limit_v=ucv),
        GcplSequence('cc', current_ma=-0.1 * current, c_rate_n=10.0, limit_v=LOWER_V, goto=1, cycles=1),
        GcplSequence('cc', current_ma=0.2 * current, c_rate_n=5.0, limit_v=ucv),
        GcplSequence('cc', current_ma=-0.2 * current, c_rate_n=5.0, limit_v=LOWER_V, goto=3, cycles=len(specs) - 3),
    ]
    results = run_cycles(
        recorder,
        ocv,
        specs,
        active_mass_mg=mass,
        one_c_ma_g=ONE_C_MA_G,
        theoretical_mah_g=ONE_C_MA_G,
        points_per_half=points,
    )
    path = camp.raw_path(f'{cell}_GCPL_long_term.mpt')
    size = _gcpl(camp, path, recorder, sequences, hours, AREA_12MM, mass, comment)
    camp.add_file(path, size)
    camp.measure(
        path,
        cell=cell,
        technique='gcpl',
        temperature='25 degC',
        upper_cutoff=f'{ucv:.2f} V',
        lower_cutoff='2.5 V',
        instrument='VMP3',
        notes='two formation cycles at C/10, then C/5 (32.2 uA/cm2)',
    )
    ref = results[reference_cycle - 1]
    summary = {
        'cycles': len(results),
        'rows': recorder.n_rows,
        'first_discharge_mah_g': results[0]['discharge_mah_g'],
        'first_charge_mah_g': results[0]['charge_mah_g'],
        'first_ce_percent': results[0]['coulombic_efficiency_percent'],
        'second_ce_percent': results[1]['coulombic_efficiency_percent'],
        'irreversible_first_cycle_mah_g': results[0]['charge_mah_g'] - results[0]['discharge_mah_g'],
        'first_energy_efficiency_percent': results[0]['energy_efficiency_percent'],
        'second_energy_efficiency_percent': results[1]['energy_efficiency_percent'],
        'reference_cycle': reference_cycle,
        'reference_discharge_mah_g': ref['discharge_mah_g'],
        'reference_mean_discharge_voltage_v': ref['mean_discharge_voltage_v'],
        'min_ce_after_cycle_10_percent': min(r['coulombic_efficiency_percent'] for r in results[10:])
        if len(results) > 10
        else None,
        'at_cycle': {},
    }
    for n in report_cycles:
        r = results[n - 1]
        summary['at_cycle'][str(n)] = {
            'discharge_mah_g': r['discharge_mah_g'],
            'capacity_retention_percent': 100.0 * r['discharge_mah_g'] / ref['discharge_mah_g'],
            'energy_retention_percent': 100.0 * r['discharge_energy_wh_kg'] / ref['discharge_energy_wh_kg'],
            'mean_discharge_voltage_v': r['mean_discharge_voltage_v'],
            'energy_efficiency_percent': r['energy_efficiency_percent'],
            'coulombic_efficiency_percent': r['coulombic_efficiency_percent'],
            'overpotential_gap_v': r['mean_charge_voltage_v'] - r['mean_discharge_voltage_v'],
        }
    summary['last_cycle'] = _cycle_summary(results[-1])
    return summary


# ------------------------------------------------------------------------------------------ high loading
def _high_loading(camp: Campaign, reduced: bool) -> dict[str, Any]:
    ocv = nvopf_ocv()
    mass = 14.0 * 0.70
    cell = 'NVOPF-FC-HL'
    rng = camp.rng(f'{cell}/gcpl')
    recorder = GcplRecorder(rng)
    recorder.rest(12 * 3600.0, OCV_V, 13, 0)
    current = ONE_C_MA_G * mass / 1000.0
    specs = [
        CycleSpec(
            0.1, 117.0, 90.0, LOWER_V, 4.15, target_discharge_v=3.786, delta_v=0.010, charge_ns=1, discharge_ns=2
        ),
        CycleSpec(0.1, 115.6, 98.6, LOWER_V, 4.15, eta_discharge_v=0.030, charge_ns=1, discharge_ns=2),
    ]
    for k in range(16):
        specs.append(
            CycleSpec(
                0.2,
                104.5 - 0.2 * k,
                min(99.2 + 0.05 * k, 99.6),
                LOWER_V,
                4.15,
                eta_discharge_v=0.050,
                charge_ns=3,
                discharge_ns=4,
            )
        )
    sequences = [
        GcplSequence('rest', duration_h=12.0),
        GcplSequence('cc', current_ma=0.1 * current, c_rate_n=10.0, limit_v=4.15),
        GcplSequence('cc', current_ma=-0.1 * current, c_rate_n=10.0, limit_v=LOWER_V, goto=1, cycles=1),
        GcplSequence('cc', current_ma=0.2 * current, c_rate_n=5.0, limit_v=4.15),
        GcplSequence('cc', current_ma=-0.2 * current, c_rate_n=5.0, limit_v=LOWER_V, goto=3, cycles=15),
    ]
    results = run_cycles(
        recorder,
        ocv,
        specs,
        active_mass_mg=mass,
        one_c_ma_g=ONE_C_MA_G,
        theoretical_mah_g=ONE_C_MA_G,
        points_per_half=24 if reduced else 40,
    )
    path = camp.raw_path(f'{cell}_GCPL.mpt')
    size = _gcpl(
        camp, path, recorder, sequences, 400.0, AREA_125MM, mass, 'high loading 8.0 mg/cm2, 3.2 MPa pressure cell'
    )
    camp.add_file(path, size)
    camp.measure(
        path,
        cell=cell,
        technique='gcpl',
        temperature='25 degC',
        upper_cutoff='4.15 V',
        lower_cutoff='2.5 V',
        stack_pressure='3.2 MPa',
        instrument='VMP3',
        notes='two formation cycles at C/10 (0.10 mA/cm2), then C/5 (0.21 mA/cm2)',
    )
    first = results[0]
    return {
        'high_loading': {
            cell: {
                'mass_loading_mg_cm2': mass / AREA_125MM,
                'first_discharge_mah_g': first['discharge_mah_g'],
                'first_mean_discharge_voltage_v': first['mean_discharge_voltage_v'],
                'specific_energy_cam_wh_kg': first['discharge_energy_wh_kg'],
                'specific_energy_composite_wh_kg': first['discharge_energy_wh_kg'] * 0.70,
                'areal_capacity_mah_cm2': first['discharge_mah_g'] * mass / 1000.0 / AREA_125MM,
                'c5_min_discharge_mah_g': min(r['discharge_mah_g'] for r in results[2:]),
                'c5_min_ce_percent': min(r['coulombic_efficiency_percent'] for r in results[2:]),
                'cycles': len(results),
            }
        }
    }
