"""Cycle-by-cycle driver of a cathode cell (half or full cell with a metal or alloy counter electrode).

Each cycle is specified by its C-rate, discharge capacity, coulombic efficiency, cut-offs and polarisation
(given, or solved for a target mean voltage). The driver chains the half cycles (a charge starts where the
previous discharge ended), writes them into a :class:`~demo.electrode.GcplRecorder`, and returns what it
wrote per cycle (capacities, energies, mean voltages), computed on the noise-free points with the trapezoidal
rule, i.e. exactly what an integration of the file gives up to the 0.3 mV voltage noise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from aiida_ssb.demo_data.electrode import (
    GcplRecorder,
    HalfCycle,
    OcvCurve,
    c_rate_current_ma,
    solve_eta,
    specific,
    window,
)

__all__ = ['CycleSpec', 'discharge_eta_for', 'run_cycle', 'run_cycles']


@dataclass(frozen=True)
class CycleSpec:
    """One charge + discharge.

    ``eta_discharge_v`` or ``target_discharge_v`` (mean discharge voltage) must be given; on charge either
    ``eta_charge_v``, ``target_charge_v`` or neither (then ``eta_charge = eta_discharge + delta_v``).
    ``discharge_mah_g`` may be None: the capacity then follows from the window, ``q_theo u W``.
    ``charge_c_rate`` (default: ``c_rate``) is the rate of the charge when it differs (rate tests)."""

    c_rate: float
    discharge_mah_g: float | None
    ce_percent: float
    lower_v: float
    upper_v: float
    eta_discharge_v: float | None = None
    target_discharge_v: float | None = None
    eta_charge_v: float | None = None
    target_charge_v_over_discharge: float | None = None
    delta_v: float = 0.012
    utilisation: float | None = None
    charge_ns: int = 1
    discharge_ns: int = 2
    rest_after_charge_s: float = 0.0
    rest_ns: int | None = None
    charge_c_rate: float | None = None


def _halves(
    ocv: OcvCurve,
    spec: CycleSpec,
    s_start: float,
    eta_ch: float,
    eta_dis: float,
    q_dis_mah: float,
    q_ch_mah: float,
    current_ma: float,
    points: int,
) -> tuple[HalfCycle, HalfCycle]:
    s_min, s_max = window(ocv, spec.lower_v, spec.upper_v, eta_ch, eta_dis)
    charge = HalfCycle(
        +1,
        q_ch_mah,
        current_ma,
        s_start,
        s_max,
        eta_ch,
        spec.upper_v,
        points,
        irreversible_mah=max(q_ch_mah - q_dis_mah, 0.0),
    )
    discharge = HalfCycle(-1, q_dis_mah, current_ma, s_max, s_min, eta_dis, spec.lower_v, points)
    return charge, discharge


@dataclass(frozen=True)
class _Cycle:
    """One cycle being built: its spec, where the charge starts, and the currents."""

    ocv: OcvCurve
    spec: CycleSpec
    s_start: float
    active_mass_mg: float
    one_c_ma_g: float
    theoretical_mah_g: float
    points: int

    @property
    def discharge_current_ma(self) -> float:
        return c_rate_current_ma(self.spec.c_rate, self.one_c_ma_g, self.active_mass_mg)

    @property
    def charge_current_ma(self) -> float:
        rate = self.spec.charge_c_rate if self.spec.charge_c_rate is not None else self.spec.c_rate
        return c_rate_current_ma(rate, self.one_c_ma_g, self.active_mass_mg)

    def capacities(self, eta_ch: float, eta_dis: float) -> tuple[float, float]:
        """(discharge, charge) capacity in mAh."""
        spec = self.spec
        if spec.discharge_mah_g is not None:
            q_dis = specific(spec.discharge_mah_g, self.active_mass_mg)
        else:
            s_min, s_max = window(self.ocv, spec.lower_v, spec.upper_v, eta_ch, eta_dis)
            if spec.utilisation is None:
                raise ValueError('a cycle needs discharge_mah_g or utilisation')
            q_dis = specific(self.theoretical_mah_g * spec.utilisation * (s_max - s_min), self.active_mass_mg)
        return q_dis, q_dis / (spec.ce_percent / 100.0)

    def build(self, eta_ch: float, eta_dis: float) -> tuple[HalfCycle, HalfCycle]:
        q_dis, q_ch = self.capacities(eta_ch, eta_dis)
        charge, discharge = _halves(
            self.ocv, self.spec, self.s_start, eta_ch, eta_dis, q_dis, q_ch, self.discharge_current_ma, self.points
        )
        charge.current_ma = self.charge_current_ma
        return charge, discharge

    def mean_discharge_v(self, eta_dis: float) -> float:
        return self.build(eta_dis + self.spec.delta_v, eta_dis)[1].mean_voltage(self.ocv)

    def polarisations(self) -> tuple[float, float]:
        """(eta_charge, eta_discharge): given, or solved for the spec's target mean voltages."""
        spec = self.spec
        if spec.target_discharge_v is not None:
            eta_dis = solve_eta(self.mean_discharge_v, spec.target_discharge_v, high=0.8)
            eta_ch = eta_dis + spec.delta_v
        else:
            if spec.eta_discharge_v is None:
                raise ValueError('a cycle needs eta_discharge_v or target_discharge_v')
            eta_dis = float(spec.eta_discharge_v)
            eta_ch = spec.eta_charge_v if spec.eta_charge_v is not None else eta_dis + spec.delta_v
        if spec.target_charge_v_over_discharge is not None:
            for _ in range(4):  # the discharge window depends (weakly) on the charge polarisation
                target = self.build(eta_ch, eta_dis)[1].mean_voltage(self.ocv) * spec.target_charge_v_over_discharge
                eta_ch = solve_eta(partial(self._minus_mean_charge_v, eta_dis=eta_dis), -target, high=0.5)
        return eta_ch, eta_dis

    def _minus_mean_charge_v(self, eta_ch: float, eta_dis: float) -> float:
        return -self.build(eta_ch, eta_dis)[0].mean_voltage(self.ocv)


def run_cycle(
    recorder: GcplRecorder,
    ocv: OcvCurve,
    spec: CycleSpec,
    *,
    active_mass_mg: float,
    one_c_ma_g: float,
    theoretical_mah_g: float,
    points_per_half: int,
    s_start: float,
    at_rest: Callable[[float, float], None] | None = None,
) -> dict[str, Any]:
    """Write one cycle; ``at_rest(time_s, s_charged)`` is called at the end of the rest after the charge
    (where a lab would measure an impedance). Returns what was written (see :func:`run_cycles`)."""
    cycle = _Cycle(ocv, spec, s_start, active_mass_mg, one_c_ma_g, theoretical_mah_g, points_per_half)
    eta_ch, eta_dis = cycle.polarisations()
    charge, discharge = cycle.build(eta_ch, eta_dis)
    v_ch = charge.voltage(ocv)
    recorder.constant_current(charge.charge_grid_mah(), v_ch, charge.current_ma, spec.charge_ns)
    if spec.rest_after_charge_s > 0:
        relaxed = ocv(charge.s_to)
        relax = relaxed + (v_ch[-1] - relaxed) * np.exp(-np.linspace(0, 4, 7))
        recorder.rest(spec.rest_after_charge_s, relax, 7, spec.rest_ns if spec.rest_ns is not None else spec.charge_ns)
        if at_rest is not None:
            at_rest(recorder.t_now_s, charge.s_to)
    recorder.constant_current(
        discharge.charge_grid_mah(), discharge.voltage(ocv), -discharge.current_ma, spec.discharge_ns
    )
    per_g = 1000.0 / active_mass_mg
    e_ch = charge.mean_voltage(ocv) * charge.capacity_mah
    e_dis = discharge.mean_voltage(ocv) * discharge.capacity_mah
    return {
        'c_rate': spec.c_rate,
        'upper_cutoff_v': spec.upper_v,
        'charge_mah_g': charge.capacity_mah * per_g,
        'discharge_mah_g': discharge.capacity_mah * per_g,
        'charge_energy_wh_kg': e_ch * per_g,
        'discharge_energy_wh_kg': e_dis * per_g,
        'mean_charge_voltage_v': charge.mean_voltage(ocv),
        'mean_discharge_voltage_v': discharge.mean_voltage(ocv),
        'coulombic_efficiency_percent': 100.0 * discharge.capacity_mah / charge.capacity_mah,
        'energy_efficiency_percent': 100.0 * e_dis / e_ch,
        'eta_charge_v': eta_ch,
        'eta_discharge_v': eta_dis,
        'current_ma': discharge.current_ma,
        's_end': discharge.s_to,
    }


def run_cycles(
    recorder: GcplRecorder,
    ocv: OcvCurve,
    specs: Sequence[CycleSpec],
    *,
    active_mass_mg: float,
    one_c_ma_g: float,
    theoretical_mah_g: float,
    points_per_half: int,
    s_start: float = 0.0,
) -> list[dict[str, Any]]:
    """Write every cycle of ``specs``; returns per cycle: c_rate, charge/discharge capacity (mAh/g),
    energies (mWh/g = Wh/kg), mean voltages, CE and energy efficiency (%), polarisations, and ``s_end``
    (the state of charge where the discharge ended)."""
    results: list[dict[str, Any]] = []
    s_now = s_start
    for number, spec in enumerate(specs, start=1):
        result = run_cycle(
            recorder,
            ocv,
            spec,
            active_mass_mg=active_mass_mg,
            one_c_ma_g=one_c_ma_g,
            theoretical_mah_g=theoretical_mah_g,
            points_per_half=points_per_half,
            s_start=s_now,
        )
        result['cycle'] = number
        s_now = result['s_end']
        results.append(result)
    return results


def discharge_eta_for(
    ocv: OcvCurve, spec: CycleSpec, *, active_mass_mg: float, one_c_ma_g: float, points_per_half: int
) -> float:
    """The discharge polarisation that gives ``spec.target_discharge_v`` (charge at eta + delta), without
    writing anything: the discharge window does not depend on where the charge started."""
    if spec.target_discharge_v is None:
        raise ValueError('discharge_eta_for needs spec.target_discharge_v')
    cycle = _Cycle(ocv, spec, 0.0, active_mass_mg, one_c_ma_g, 0.0, points_per_half)
    return solve_eta(cycle.mean_discharge_v, spec.target_discharge_v, high=0.8)
