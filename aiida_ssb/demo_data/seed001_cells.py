"""Seed 001, the Sn side and the full cell (Duchene, Kim et al., Energy Storage Mater. 2020): a Sn | NBH | Na-Sn
anode half cell, a NaCrO2 half cell cut from the full cell's cathode sheet, the NaCrO2 | NBH | Sn full cell
balanced to N/P 1.20, and a three-electrode full cell with a Na reference.

The paper's numbers encoded here (and checked by the demonstration):

* Sn half cell: first CE 84.3 %, second 97.0 %, sodiation capacity 634 mAh/g in the second cycle, 92.1 % of the
  first 0.2C desodiation capacity after 50 cycles at 0.2C (two 0.1C cycles first); 1C = 847 mAh/g of Sn.
* Balance: NaCrO2 5.6 mg/cm2 (97:1:2), Sn 1.2 mg/cm2 (90:5:5); the measured N/P from the half cells' first-cycle
  capacities (NaCrO2 first charge 124.0 mAh/g, Sn first sodiation 694.4 mAh/g) is 1.20.
* Full cell (1.5-3.3 V, 0.1C on the cathode): first discharge 110 mAh/g of NaCrO2 at 282/110 = 2.5636 V on
  average, so 282 Wh/kg of NaCrO2 and 222 Wh/kg of both composites without electrolyte; first CE 72.2 %, second
  CE 95.8 % with energy efficiency 84.9 %; 47.4 % of the first 0.2C discharge after 50 cycles at 0.2C.
* Three-electrode cell: 0.1C, both electrodes against the Na reference; no overpotential build-up (the same
  polarisation in every cycle: 25 mV on NaCrO2, 15 mV on Sn).

Profiles: NaCrO2 as in :func:`demo.electrode.nacro2_ocv`; Sn against Na+/Na a sloping curve with two
plateaus (from 0.55 to 0.04 V); polarisations solved where a mean voltage is encoded.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aiida_ssb.demo_data.campaign import SYNTHETIC, Campaign
from aiida_ssb.demo_data.eclab import Column
from aiida_ssb.demo_data.electrode import GcplRecorder, GcplSequence, gcpl_file, solve_eta

__all__ = ['generate_cells']

DIAMETER_MM = 12.0
AREA = math.pi * (DIAMETER_MM / 20.0) ** 2
NCO_LOADING = 5.6
SN_LOADING = 1.2
NCO_ACTIVE_MG = NCO_LOADING * AREA
SN_ACTIVE_MG = SN_LOADING * AREA
UPTAKE = 15.0
#: layer masses written in the manifest (3 decimals): the electrodes with their 15 wt% infiltrated electrolyte
NCO_ELECTRODE_MG = round(NCO_ACTIVE_MG / 0.97 * (1 + UPTAKE / 100), 3)
SN_ELECTRODE_MG = round(SN_ACTIVE_MG / 0.90 * (1 + UPTAKE / 100), 3)
NCO_THEORETICAL = 120.0
SN_THEORETICAL = 847.0
NA_SN_V = 0.10
NCO_FIRST_CHARGE = 124.0
NCO_FIRST_DISCHARGE = 118.0
SN_FIRST_SODIATION = 694.4
FULL_DISCHARGE = 110.0
FULL_MEAN_V = 282.0 / 110.0


def _nacro2(s: Any) -> Any:  # a float array of the shape of s
    """NaCrO2 against Na+/Na; s: fraction of 120 mAh/g extracted (as in demo.electrode)."""
    s = np.asarray(s, dtype=float)
    return (
        2.93
        + 0.22 * s
        + 0.03 * np.log((s + 0.02) / (1.02 - s))
        - 0.8 * np.exp(-s / 0.010)
        + 0.3 * np.exp(-(1.0 - s) / 0.015)
    )


def _tin(y: Any) -> Any:  # a float array of the shape of y
    """Sn against Na+/Na; y: fraction of 847 mAh/g inserted (falls from about 0.55 to 0.04 V)."""
    y = np.asarray(y, dtype=float)
    return 0.42 - 0.25 * y - 0.08 * np.tanh((y - 0.3) / 0.06) - 0.05 * np.tanh((y - 0.7) / 0.05)


def _grid(capacity_mah: float, points: int) -> np.ndarray:
    return np.linspace(0.0, capacity_mah, points)


def _mean(q: np.ndarray, v: np.ndarray) -> float:
    return float(np.sum(0.5 * (v[1:] + v[:-1]) * np.diff(q)) / q[-1])


class _Recorder(GcplRecorder):
    """A GCPL recorder that also writes the counter electrode's potential (Ece) and Ewe - Ece."""

    def __init__(self, rng: np.random.Generator, three_electrode: bool = False):
        super().__init__(rng)
        self.three_electrode = three_electrode
        self.ece: list[np.ndarray] = []

    def half_cycle(self, q: np.ndarray, ewe: np.ndarray, current_ma: float, ns: int, ece: np.ndarray | None = None):
        self.constant_current(q, ewe, current_ma, ns, noise=False)
        if self.three_electrode:
            self.ece.append(np.asarray(ece, dtype=float))

    def pause(self, seconds: float, ewe: float, ns: int, ece: float | None = None) -> None:
        self.rest(seconds, ewe, 3, ns)
        if self.three_electrode:
            if ece is None:
                raise ValueError('a three-electrode pause needs the counter-electrode potential ece')
            self.ece.append(np.full(3, float(ece)))

    def columns(self) -> list[Column]:
        columns = super().columns()
        if not self.three_electrode:
            return columns
        ewe = next(column.values for column in columns if column.name == 'Ewe/V')
        ece = np.concatenate(self.ece)
        return [*columns, Column('Ece/V', ece), Column('Ewe-Ece/V', ewe - ece)]


def _write(camp: Campaign, cell: str, name: str, recorder, sequences, hours, comment, mass_mg, notes) -> None:
    path = camp.raw_path(name)
    size = gcpl_file(
        path,
        recorder=recorder,
        sequences=sequences,
        started=camp.started(hours),
        instrument=camp.instrument,
        directory=camp.directory_label,
        area_cm2=AREA,
        active_mass_mg=mass_mg,
        molar_mass_g_mol=None,
        ion_mass_g_mol=22.990,
        battery_capacity_mah=None,
        electrode_material=cell,
        electrolyte='Na4(B12H12)(B10H10)',
        comment=f'{SYNTHETIC}; {comment}',
    )
    camp.add_file(path, size)
    camp.measure(path, cell=cell, technique='gcpl', temperature='30 degC', stack_pressure='70 MPa', notes=notes)


# ----------------------------------------------------------------------------------------------- Sn half cell


def _sn_cycles(n_long: int) -> list[tuple[float, float, float]]:
    """(C-rate, sodiation mAh/g, desodiation mAh/g) per cycle."""
    cycles = [(0.1, SN_FIRST_SODIATION, SN_FIRST_SODIATION * 0.843), (0.1, 634.0, 634.0 * 0.970)]
    first = 600.0
    for k in range(n_long):
        progress = k / (n_long - 1)
        desodiation = first * (1.0 - 0.079 * progress)  # 92.1 % after the last 0.2C cycle
        ce = 99.2 - 1.0 * math.exp(-k / 3.0)
        cycles.append((0.2, desodiation / (ce / 100.0), desodiation))
    return cycles


def _sn_half_cell(camp: Campaign, points: int, n_long: int) -> dict[str, Any]:
    recorder = _Recorder(camp.rng('SN-HC/gcpl'))
    one_c = SN_THEORETICAL * SN_ACTIVE_MG / 1000.0
    y = 0.0
    recorder.pause(1800.0, _tin(0.0) + 0.5 - NA_SN_V, 0)
    results = []
    for rate, sodiation, desodiation in _sn_cycles(n_long):
        current = rate * one_c
        eta = 0.012 + 0.03 * rate
        q = _grid(sodiation * SN_ACTIVE_MG / 1000.0, points)
        v = _tin(y + q / (SN_THEORETICAL * SN_ACTIVE_MG / 1000.0)) - NA_SN_V - eta
        recorder.half_cycle(q, v, -current, 1)
        y += sodiation / SN_THEORETICAL
        recorder.pause(600.0, float(_tin(y) - NA_SN_V), 1)
        q = _grid(desodiation * SN_ACTIVE_MG / 1000.0, points)
        v = _tin(y - q / (SN_THEORETICAL * SN_ACTIVE_MG / 1000.0)) - NA_SN_V + eta
        recorder.half_cycle(q, v, current, 2)
        y -= desodiation / SN_THEORETICAL
        recorder.pause(600.0, float(_tin(y) - NA_SN_V), 2)
        results.append({'sodiation_mah_g': sodiation, 'desodiation_mah_g': desodiation})
    sequences = [
        GcplSequence('cc', current_ma=-0.1 * one_c, c_rate_n=10.0, limit_v=0.01 - NA_SN_V),
        GcplSequence('cc', current_ma=0.1 * one_c, c_rate_n=10.0, limit_v=2.0 - NA_SN_V, goto=0, cycles=1),
    ]
    _write(
        camp,
        'SN-HC',
        'SN-HC_GCPL.mpt',
        recorder,
        sequences,
        3000.0,
        f'Sn half cell: 0.1C x 2, then 0.2C x {n_long} (1C = 847 mA/g of Sn)',
        SN_ACTIVE_MG,
        'sodiation first (negative current); cell voltage vs Na-Sn (0.01-2.00 V vs Na+/Na)',
    )
    first, second, last, reference = results[0], results[1], results[-1], results[2]
    return {
        'first_ce_percent': 100.0 * first['desodiation_mah_g'] / first['sodiation_mah_g'],
        'second_ce_percent': 100.0 * second['desodiation_mah_g'] / second['sodiation_mah_g'],
        'first_sodiation_mah_g': first['sodiation_mah_g'],
        'retention_percent': 100.0 * last['desodiation_mah_g'] / reference['desodiation_mah_g'],
    }


# ------------------------------------------------------------------------------------ NaCrO2 half cell (FC sheet)


def _nco_half_cell(camp: Campaign, points: int) -> dict[str, Any]:
    recorder = _Recorder(camp.rng('NCO-HC-FC/gcpl'))
    one_c = NCO_THEORETICAL * NCO_ACTIVE_MG / 1000.0
    full = NCO_THEORETICAL * NCO_ACTIVE_MG / 1000.0
    s = 0.02
    recorder.pause(1800.0, float(_nacro2(s)) - NA_SN_V, 0)
    for charge, discharge in ((NCO_FIRST_CHARGE, NCO_FIRST_DISCHARGE), (119.0, 117.8)):
        current = 0.1 * one_c
        q = _grid(charge * NCO_ACTIVE_MG / 1000.0, points)
        # the first charge passes 6 mAh/g of irreversible charge: the cathode itself gives at most 118 mAh/g
        reversible = q * min(1.0, discharge / charge)
        v = _nacro2(s + reversible / full) - NA_SN_V + 0.02
        recorder.half_cycle(q, v, current, 1)
        s += reversible[-1] / full
        recorder.pause(600.0, float(_nacro2(s)) - NA_SN_V, 1)
        q = _grid(discharge * NCO_ACTIVE_MG / 1000.0, points)
        v = _nacro2(s - q / full) - NA_SN_V - 0.02
        recorder.half_cycle(q, v, -current, 2)
        s -= discharge / NCO_THEORETICAL
        recorder.pause(600.0, float(_nacro2(s)) - NA_SN_V, 2)
    sequences = [
        GcplSequence('cc', current_ma=0.1 * one_c, c_rate_n=10.0, limit_v=3.35 - NA_SN_V),
        GcplSequence('cc', current_ma=-0.1 * one_c, c_rate_n=10.0, limit_v=2.10 - NA_SN_V, goto=0, cycles=1),
    ]
    _write(
        camp,
        'NCO-HC-FC',
        'NCO-HC-FC_GCPL.mpt',
        recorder,
        sequences,
        3100.0,
        'NaCrO2 half cell from the full cell cathode sheet (5.6 mg/cm2): 0.1C x 2',
        NCO_ACTIVE_MG,
        'the balancing half cell of the full cell cathode; cell voltage vs Na-Sn',
    )
    return {'first_charge_mah_g': NCO_FIRST_CHARGE, 'first_discharge_mah_g': NCO_FIRST_DISCHARGE}


# ------------------------------------------------------------------------------------------------- full cell


def _full_ocv(s: Any) -> Any:  # a float array of the shape of s
    """NaCrO2 | Sn full cell: s is the fraction of 120 mAh/g of NaCrO2 moved to the Sn."""
    ratio = (NCO_THEORETICAL * NCO_LOADING) / (SN_THEORETICAL * SN_LOADING)
    return _nacro2(s) - _tin(0.02 + ratio * s)


def _full_half(s_from: float, capacity_mah_g: float, direction: int, eta: float, points: int):
    q = _grid(capacity_mah_g * NCO_ACTIVE_MG / 1000.0, points)
    s = s_from + direction * np.linspace(0.0, capacity_mah_g / NCO_THEORETICAL, points)
    return q, _full_ocv(np.clip(s, 0.0, 1.0)) + direction * eta


def _full_cycles(n_long: int) -> list[dict[str, Any]]:
    """Per cycle: rate, discharge (mAh/g of NaCrO2), CE, and the mean voltages to hit (None: a set polarisation)."""
    cycles: list[dict[str, Any]] = [
        {'rate': 0.1, 'discharge': FULL_DISCHARGE, 'ce': 72.2, 'mean_dis': FULL_MEAN_V, 'mean_ch': None},
        {'rate': 0.1, 'discharge': 108.5, 'ce': 95.8, 'mean_dis': 2.56, 'mean_ch': 2.56 * 95.8 / 84.9},
    ]
    first = 100.0
    for k in range(n_long):
        progress = k / (n_long - 1)
        q = first * (1.0 - 0.526 * (0.6 * progress + 0.4 * progress**2))  # 47.4 % after the last 0.2C cycle
        ce = 99.3 - 2.0 * math.exp(-k / 4.0)
        cycles.append({'rate': 0.2, 'discharge': q, 'ce': ce, 'mean_dis': None, 'mean_ch': None})
    return cycles


def _full_cell(camp: Campaign, points: int, n_long: int) -> dict[str, Any]:
    recorder = _Recorder(camp.rng('NCO-SN-FC/gcpl'))
    one_c = NCO_THEORETICAL * NCO_ACTIVE_MG / 1000.0
    s = 0.0
    recorder.pause(1800.0, float(_full_ocv(0.0)), 0)
    results = []
    for spec in _full_cycles(n_long):
        current = spec['rate'] * one_c
        charge = spec['discharge'] / (spec['ce'] / 100.0)
        reversible_top = s + spec['discharge'] / NCO_THEORETICAL

        def charge_at(eta: float):
            q, v = _full_half(s, spec['discharge'], +1, eta, points)  # the reversible part sets the voltage
            return q * charge / spec['discharge'], v

        def discharge_at(eta: float):
            return _full_half(reversible_top, spec['discharge'], -1, eta, points)

        eta_dis = 0.03 + 0.1 * spec['rate']
        if spec['mean_dis'] is not None:
            eta_dis = solve_eta(lambda e: _mean(*discharge_at(e)), spec['mean_dis'], high=0.8)
        eta_ch = eta_dis + 0.02
        if spec['mean_ch'] is not None:
            eta_ch = solve_eta(lambda e: -_mean(*charge_at(e)), -spec['mean_ch'], high=1.0)
        q, v = charge_at(eta_ch)
        recorder.half_cycle(q, v, current, 1)
        recorder.pause(600.0, float(_full_ocv(reversible_top)), 1)
        q_dis, v_dis = discharge_at(eta_dis)
        recorder.half_cycle(q_dis, v_dis, -current, 2)
        recorder.pause(600.0, float(_full_ocv(s)), 2)
        results.append(
            {
                'discharge_mah_g': spec['discharge'],
                'ce_percent': spec['ce'],
                'mean_discharge_v': _mean(q_dis, v_dis),
                'energy_efficiency_percent': 100.0 * _mean(q_dis, v_dis) * q_dis[-1] / (_mean(q, v) * q[-1]),
            }
        )
    sequences = [
        GcplSequence('cc', current_ma=0.1 * one_c, c_rate_n=10.0, limit_v=3.3),
        GcplSequence('cc', current_ma=-0.1 * one_c, c_rate_n=10.0, limit_v=1.5, goto=0, cycles=1),
    ]
    _write(
        camp,
        'NCO-SN-FC',
        'NCO-SN-FC_GCPL.mpt',
        recorder,
        sequences,
        3200.0,
        f'NaCrO2 | NBH | Sn full cell, N/P 1.20: 0.1C x 2, then 0.2C x {n_long} (C-rate on the cathode)',
        NCO_ACTIVE_MG,
        '1.5-3.3 V; C-rate based on the cathode capacity',
    )
    first = results[0]
    composites = NCO_ACTIVE_MG / 0.97 + SN_ACTIVE_MG / 0.90
    return {
        'first_discharge_mah_g': first['discharge_mah_g'],
        'first_ce_percent': first['ce_percent'],
        'second_ce_percent': results[1]['ce_percent'],
        'second_energy_efficiency_percent': results[1]['energy_efficiency_percent'],
        'specific_energy_wh_kg_active': first['discharge_mah_g'] * first['mean_discharge_v'],
        'specific_energy_wh_kg_both_composites': first['discharge_mah_g']
        * first['mean_discharge_v']
        * NCO_ACTIVE_MG
        / composites,
        'retention_percent': 100.0 * results[-1]['discharge_mah_g'] / results[2]['discharge_mah_g'],
        'np_ratio_measured': (SN_FIRST_SODIATION * SN_LOADING) / (NCO_FIRST_CHARGE * NCO_LOADING),
        'np_ratio_theoretical': (SN_THEORETICAL * SN_LOADING) / (NCO_THEORETICAL * NCO_LOADING),
    }


# ---------------------------------------------------------------------------------------- three-electrode cell

ETA_NCO_V = 0.025
ETA_SN_V = 0.015


def _three_electrode_cell(camp: Campaign, points: int) -> dict[str, Any]:
    recorder = _Recorder(camp.rng('NCO-SN-3E/gcpl'), three_electrode=True)
    one_c = NCO_THEORETICAL * NCO_ACTIVE_MG / 1000.0
    ratio = (NCO_THEORETICAL * NCO_LOADING) / (SN_THEORETICAL * SN_LOADING)
    s = 0.0
    recorder.pause(1800.0, float(_nacro2(0.0)), 0, float(_tin(0.02)))
    capacities = (100.0, 104.0, 103.5)
    for capacity in capacities:
        current = 0.1 * one_c
        fraction = np.linspace(0.0, capacity / NCO_THEORETICAL, points)
        q = _grid(capacity * NCO_ACTIVE_MG / 1000.0, points)
        recorder.half_cycle(
            q, _nacro2(s + fraction) + ETA_NCO_V, current, 1, _tin(0.02 + ratio * (s + fraction)) - ETA_SN_V
        )
        top = s + fraction[-1]
        recorder.pause(600.0, float(_nacro2(top)), 1, float(_tin(0.02 + ratio * top)))
        recorder.half_cycle(
            q, _nacro2(top - fraction) - ETA_NCO_V, -current, 2, _tin(0.02 + ratio * (top - fraction)) + ETA_SN_V
        )
        recorder.pause(600.0, float(_nacro2(s)), 2, float(_tin(0.02 + ratio * s)))
    sequences = [
        GcplSequence('cc', current_ma=0.1 * one_c, c_rate_n=10.0, limit_v=3.3),
        GcplSequence('cc', current_ma=-0.1 * one_c, c_rate_n=10.0, limit_v=1.5, goto=0, cycles=2),
    ]
    _write(
        camp,
        'NCO-SN-3E',
        'NCO-SN-3E_GCPL.mpt',
        recorder,
        sequences,
        3300.0,
        'three-electrode full cell, Na reference: Ewe = NaCrO2, Ece = Sn, both vs Na+/Na; 0.1C x 3',
        NCO_ACTIVE_MG,
        'working lead on NaCrO2, counter lead on Sn, reference Na',
    )
    return {'overpotential_positive_v': ETA_NCO_V, 'overpotential_negative_v': ETA_SN_V, 'cycles': len(capacities)}


# ------------------------------------------------------------------------------------------------ the manifest


def manifest_entries(doi: str) -> tuple[list[dict], list[dict], list[dict]]:
    """(materials, processes, cells) of the Sn side and the full cells."""
    b12 = UPTAKE * 533.6 / 1000.0
    b10 = UPTAKE * 466.4 / 1000.0

    def infiltration(host: str, output: str, name: str) -> dict[str, Any]:
        return {
            'type': 'infiltration',
            'inputs': {
                host: {'parts': 100, 'basis': 'wt', 'role': 'host'},
                'S1-B12-KC': {'parts': round(b12, 3), 'basis': 'wt', 'role': 'solute'},
                'S1-B10-DRY': {'parts': round(b10, 3), 'basis': 'wt', 'role': 'solute'},
                'S1-IPA-SA': {'role': 'solvent'},
            },
            'output': {'id': output, 'name': name, 'role': 'electrode_sheet'},
            'parameters': {
                'method': 'dip',
                'solvent': 'isopropanol',
                'concentration': '100 mg/mL',
                'dip_time': '10 min',
                'infiltration_steps': 1,
                'uptake_wt_percent': UPTAKE,
                'reference': doi,
            },
        }

    def casting(inputs: dict, output: str, name: str, loading: float) -> dict[str, Any]:
        return {
            'type': 'casting',
            'inputs': {**inputs, 'S1-NMP': {'role': 'solvent'}},
            'output': {'id': output, 'name': name, 'role': 'electrode_sheet'},
            'parameters': {
                'solvent': 'NMP',
                'drying': [{'temperature': '120 degC', 'atmosphere': 'vacuum'}],
                'mass_loading': f'{loading} mg/cm2',
                'loading_basis': 'active',
                'punch_diameter': '12 mm',
            },
        }

    processes = [
        casting(
            {'S1-NCO': {'fraction': '97 wt%'}, 'S1-PVDF-KU': {'fraction': '1 wt%'}, 'S1-SP': {'fraction': '2 wt%'}},
            'S1-NCO-SHEET-FC',
            'NaCrO2 electrode 97:1:2 for the full cell',
            NCO_LOADING,
        ),
        infiltration('S1-NCO-SHEET-FC', 'S1-NCO-INF-FC', 'NaCrO2 electrode (full-cell sheet), infiltrated'),
        casting(
            {'S1-SN-SA': {'fraction': '90 wt%'}, 'S1-PVDF-KU': {'fraction': '5 wt%'}, 'S1-SP': {'fraction': '5 wt%'}},
            'S1-SN-SHEET',
            'Sn electrode 90:5:5 (cast in air)',
            SN_LOADING,
        ),
        infiltration('S1-SN-SHEET', 'S1-SN-INF', 'Sn electrode, infiltrated'),
    ]

    def cell(cell_id: str, name: str, fmt: str, layers: list[dict], **extra: Any) -> dict[str, Any]:
        return {
            'id': cell_id,
            'name': name,
            'format': fmt,
            'diameter': f'{DIAMETER_MM:g} mm',
            'layers': layers,
            'fabrication': [
                {'pressure': '70 MPa', 'layers': ['separator'], 'description': 'electrolyte powder cold-pressed'},
                {'pressure': '350 MPa', 'description': 'electrodes on both sides, pressed in the PEEK mould'},
            ],
            'housing': 'PEEK mould with Ti current collectors',
            'housing_type': 'peek_mould',
            'stack_pressure': '70 MPa',
            'reference': doi,
            **extra,
        }

    nco = {'role': 'positive', 'material': 'S1-NCO-INF-FC', 'mass': f'{NCO_ELECTRODE_MG:.3f} mg'}
    sn = {'role': 'negative', 'material': 'S1-SN-INF', 'mass': f'{SN_ELECTRODE_MG:.3f} mg'}
    separator = {'role': 'separator', 'material': 'S1-NBH', 'mass': '50 mg'}
    cells = [
        cell(
            'SN-HC',
            'Sn (infiltrated) | NBH | Na-Sn',
            'half',
            [sn, separator, {'role': 'counter', 'material': 'S1-NASN'}],
        ),
        cell(
            'NCO-HC-FC',
            'NaCrO2 (full-cell sheet) | NBH | Na-Sn',
            'half',
            [nco, separator, {'role': 'negative', 'material': 'S1-NASN', 'mass': '40 mg'}],
            one_c=f'{NCO_THEORETICAL:g} mA/g',
        ),
        cell('NCO-SN-FC', 'NaCrO2 | NBH | Sn full cell, N/P 1.20', 'full', [nco, separator, sn], one_c='120 mA/g'),
        cell(
            'NCO-SN-3E',
            'Na | NBH | NaCrO2 | NBH | Sn three-electrode cell',
            'three_electrode',
            [
                {'role': 'reference', 'material': 'S1-NA'},
                {'role': 'separator', 'material': 'S1-NBH', 'mass': '50 mg', 'notes': 'reference-electrode SE layer'},
                nco,
                separator,
                sn,
            ],
            one_c='120 mA/g',
            working_electrode='positive',
        ),
    ]
    return [], processes, cells


def generate_cells(camp: Campaign, doi: str, reduced: bool) -> tuple[dict[str, Any], list, list, list]:
    """Write the records; returns (the numbers they encode, materials, processes, cells for the manifest)."""
    points = 16 if reduced else 40
    n_long = 12 if reduced else 50
    expected = {
        'SN-HC': _sn_half_cell(camp, points, n_long),
        'NCO-HC-FC': _nco_half_cell(camp, points),
        'NCO-SN-FC': _full_cell(camp, points, n_long),
        'NCO-SN-3E': _three_electrode_cell(camp, points),
    }
    materials, processes, cells = manifest_entries(doi)
    return expected, materials, processes, cells
