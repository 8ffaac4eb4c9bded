"""Galvanostatic voltage profiles of insertion cathodes and their EC-Lab GCPL export.

Model of one half cycle (charge = desodiation of the cathode, current > 0):

* the cathode's open-circuit voltage ``U(s)`` as a function of the state of charge ``s`` (fraction of the
  theoretical capacity extracted);
* only a fraction ``u`` of the cathode is electrochemically active (contact, utilisation): the active part
  runs through the whole window ``[s_min, s_max]`` while the cell passes the capacity ``Q = u q_theo m W``,
  ``W = s_max - s_min``; the window ends where the cut-offs are reached:
  ``U(s_max) + eta = V_upper - 5 mV`` on charge, ``U(s_min) - eta = V_lower + 5 mV`` on discharge;
* the cell voltage is ``V = U(s) + eta`` on charge and ``U(s) - eta`` on discharge (``eta`` the
  polarisation, V); the last points bend onto the cut-off ``V_cut`` with
  ``(V_cut - V_end) exp(-(1 - x)/0.02)`` (x = q/Q), because the cycler ends the half cycle there;
* irreversible charge ``Q_irr`` (electrolyte decomposition on the first charges) is passed on the upper
  part of the charge: ``q_rev = q - Q_irr r(q/Q)`` with ``r`` a smooth step centred at 75 % of the charge.

The polarisation ``eta`` is either given or solved (bisection) so that the half cycle's mean voltage
``E/Q = trapz(V, q)/Q`` on the very points written equals a target (energy retention, specific energy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aiida_ssb.demo_data.eclab import Column, Instrument, MptFile, settings_block, write_mpt

__all__ = [
    'GcplRecorder',
    'GcplSequence',
    'HalfCycle',
    'OcvCurve',
    'gcpl_file',
    'nacro2_ocv',
    'nvopf_ocv',
    'solve_eta',
    'window',
]

CUTOFF_MARGIN_V = 0.005
TAIL_WIDTH = 0.02


def _logistic(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class OcvCurve:
    """A monotonically increasing open-circuit voltage U(s), s in [0, 1], with its numerical inverse."""

    def __init__(self, name: str, function: Callable[[np.ndarray], np.ndarray], grid_points: int = 20001):
        self.name = name
        self.function = function
        self._s = np.linspace(0.0, 1.0, grid_points)
        self._u = function(self._s)
        if np.any(np.diff(self._u) <= 0):
            raise ValueError(f'{name}: U(s) must increase monotonically')

    def __call__(self, s: np.ndarray | float) -> np.ndarray:
        return self.function(np.asarray(s, dtype=float))

    def inverse(self, voltage_v: float) -> float:
        """s where U(s) = voltage_v (clipped to [0, 1])."""
        return float(np.interp(voltage_v, self._u, self._s))


def _nvopf(s: np.ndarray) -> np.ndarray:
    # two plateaus of Na3(VOPO4)2F: ~3.58-3.66 V (first Na) and ~4.00-4.08 V (second Na)
    return (
        3.58
        + 0.16 * s
        + 0.34 * _logistic((s - 0.5) / 0.012)
        - 1.2 * np.exp(-s / 0.010)
        + 0.6 * np.exp(-(1.0 - s) / 0.012)
    )


def _nacro2(s: np.ndarray) -> np.ndarray:
    # Na(1-x)CrO2 vs Na+/Na, s = x / 0.48 (120 mAh/g); sloping plateau around 3 V
    return (
        2.93
        + 0.22 * s
        + 0.03 * np.log((s + 0.02) / (1.02 - s))
        - 0.8 * np.exp(-s / 0.010)
        + 0.3 * np.exp(-(1.0 - s) / 0.015)
    )


def nvopf_ocv() -> OcvCurve:
    """Na3(VOPO4)2F, s = fraction of 130 mAh/g extracted (vs Na+/Na)."""
    return OcvCurve('Na3(VOPO4)2F', _nvopf)


def nacro2_ocv(counter_electrode_v: float = 0.0) -> OcvCurve:
    """NaCrO2, s = fraction of 120 mAh/g extracted; minus ``counter_electrode_v`` (Na-Sn: 0.10 V vs Na+/Na)."""
    return OcvCurve('NaCrO2', lambda s: _nacro2(s) - counter_electrode_v)


def window(
    ocv: OcvCurve,
    lower_v: float,
    upper_v: float,
    eta_charge_v: float,
    eta_discharge_v: float,
    s_start_cap: float | None = None,
) -> tuple[float, float]:
    """(s_min, s_max) reached between the cut-offs with the given polarisations."""
    s_max = ocv.inverse(upper_v - eta_charge_v - CUTOFF_MARGIN_V)
    s_min = ocv.inverse(lower_v + eta_discharge_v + CUTOFF_MARGIN_V)
    if s_start_cap is not None:
        s_min = min(s_min, s_start_cap)
    return s_min, s_max


@dataclass
class HalfCycle:
    """One constant-current half cycle, sampled at ``n_points`` equally spaced charges (0 ... Q)."""

    direction: int  # +1 charge, -1 discharge
    capacity_mah: float
    current_ma: float  # magnitude
    s_from: float
    s_to: float
    eta_v: float
    cut_v: float
    n_points: int
    irreversible_mah: float = 0.0

    def charge_grid_mah(self) -> np.ndarray:
        return np.linspace(0.0, self.capacity_mah, self.n_points)

    def voltage(self, ocv: OcvCurve) -> np.ndarray:
        """Noise-free cell voltage at the grid points."""
        x = np.linspace(0.0, 1.0, self.n_points)
        if self.irreversible_mah > 0:
            width = max(0.06, 0.35 * self.irreversible_mah / self.capacity_mah)  # keeps q_rev(q) monotonic
            step = _logistic((x - 0.75) / width)
            ramp = (step - step[0]) / (step[-1] - step[0])
            reversible = self.capacity_mah - self.irreversible_mah
            fraction = (x * self.capacity_mah - self.irreversible_mah * ramp) / reversible
        else:
            fraction = x
        s = self.s_from + (self.s_to - self.s_from) * fraction
        v = ocv(s) + self.direction * self.eta_v
        gap = self.cut_v - v[-1]
        return v + gap * np.exp(-(1.0 - x) / TAIL_WIDTH)

    def mean_voltage(self, ocv: OcvCurve) -> float:
        """E/Q with the trapezoidal rule on the grid (the way the points will be integrated)."""
        v = self.voltage(ocv)
        q = self.charge_grid_mah()
        return float(np.sum(0.5 * (v[1:] + v[:-1]) * np.diff(q)) / self.capacity_mah)


def solve_eta(mean_of_eta: Callable[[float], float], target_v: float, low: float = 0.0, high: float = 1.5) -> float:
    """The polarisation whose mean half-cycle voltage equals ``target_v`` (bisection; the mean voltage
    falls with eta on discharge, so pass ``-mean`` and ``-target`` for charges)."""
    # the window shrinks with eta, so the mean voltage need not be monotonic: take the smallest root
    grid = np.linspace(low, high, 61)
    values = [mean_of_eta(float(eta)) - target_v for eta in grid]
    for index in range(len(grid) - 1):
        if values[index] == 0.0:
            return float(grid[index])
        if values[index] * values[index + 1] < 0:
            low, high = float(grid[index]), float(grid[index + 1])
            break
    else:
        raise ValueError(
            f'no polarisation in [{low}, {high}] V gives a mean voltage of {target_v:.4f} V '
            f'({min(values) + target_v:.4f} ... {max(values) + target_v:.4f} V reachable)'
        )
    f_low = mean_of_eta(low) - target_v
    for _ in range(60):
        middle = 0.5 * (low + high)
        f_middle = mean_of_eta(middle) - target_v
        if f_low * f_middle <= 0:
            high = middle
        else:
            low, f_low = middle, f_middle
    return 0.5 * (low + high)


# ------------------------------------------------------------------------------------------ GCPL record
@dataclass(frozen=True)
class GcplSequence:
    """One EC-Lab GCPL sequence (``Ns``) as written in the settings block."""

    kind: str  # 'rest' or 'cc'
    current_ma: float = 0.0  # signed
    c_rate_n: float | None = None  # C/N setting (N) when the current follows a C-rate
    limit_v: float | None = None
    duration_h: float | None = None
    goto: int = 0
    cycles: int = 0


def _hms(hours: float) -> str:
    seconds = hours * 3600.0
    h = int(seconds // 3600)
    m = int((seconds - 3600 * h) // 60)
    s = seconds - 3600 * h - 60 * m
    return f'{h}:{m:02d}:{s:.4f}'


def gcpl_settings(sequences: Sequence[GcplSequence]) -> list[str]:
    rows: dict[str, list[str]] = {
        key: []
        for key in (
            'Ns',
            'Set I/C',
            'Is',
            'unit Is',
            'vs.',
            'N',
            'I sign',
            't1 (h:m:s)',
            'I Range',
            'Bandwidth',
            'dE1 (mV)',
            'dt1 (s)',
            'EM (V)',
            'tM (h:m:s)',
            'Im',
            'unit Im',
            'dq',
            'unit dq',
            'dtq (s)',
            'tR (h:m:s)',
            'dER/dt (mV/h)',
            'dtR (s)',
            'EL (V)',
            "goto Ns'",
            'nc cycles',
        )
    }
    for index, seq in enumerate(sequences):
        rest = seq.kind == 'rest'
        magnitude = abs(seq.current_ma)
        if magnitude >= 1.0:
            current, unit = f'{magnitude:.3f}', 'mA'
        else:
            current, unit = f'{magnitude * 1000.0:.3f}', 'µA'
        values = {
            'Ns': str(index),
            'Set I/C': 'I' if (rest or seq.c_rate_n is None) else 'C / N',
            'Is': '0.000' if rest else current,
            'unit Is': 'mA' if rest else unit,
            'vs.': '<None>',
            'N': f'{seq.c_rate_n:.2f}' if seq.c_rate_n else '1.00',
            'I sign': '> 0' if seq.current_ma >= 0 else '< 0',
            't1 (h:m:s)': _hms(seq.duration_h or 0.0),
            'I Range': 'Auto',
            'Bandwidth': '5',
            'dE1 (mV)': '0.00',
            'dt1 (s)': '0.0000',
            'EM (V)': f'{seq.limit_v:.3f}' if seq.limit_v is not None else '0.000',
            'tM (h:m:s)': '0:00:0.0000',
            'Im': '0.000',
            'unit Im': 'mA',
            'dq': '0.000',
            'unit dq': 'mA.h',
            'dtq (s)': '0.0000',
            'tR (h:m:s)': '0:00:0.0000',
            'dER/dt (mV/h)': '0.0',
            'dtR (s)': '0.0000',
            'EL (V)': '0.000',
            "goto Ns'": str(seq.goto),
            'nc cycles': str(seq.cycles),
        }
        for key, value in values.items():
            rows[key].append(value)
    return settings_block(list(rows.items()))


@dataclass
class GcplRecorder:
    """Accumulates the rows of a GCPL record (EC-Lab columns and counters)."""

    rng: np.random.Generator
    noise_v: float = 0.3e-3
    time: list[np.ndarray] = field(default_factory=list)
    voltage: list[np.ndarray] = field(default_factory=list)
    current: list[np.ndarray] = field(default_factory=list)
    mode: list[np.ndarray] = field(default_factory=list)
    ns: list[np.ndarray] = field(default_factory=list)
    half: list[np.ndarray] = field(default_factory=list)
    t_now_s: float = 0.0
    half_index: int = 0
    _last_direction: int = 0

    def rest(self, duration_s: float, voltage_v: float | np.ndarray, n_points: int, ns: int) -> None:
        """A rest (mode 3, I = 0) of ``duration_s``: points at equal intervals after the current time."""
        t = self.t_now_s + np.linspace(0.0, duration_s, n_points)
        v = np.broadcast_to(np.asarray(voltage_v, dtype=float), t.shape) + self.noise_v * self.rng.standard_normal(
            n_points
        )
        self._append(t, v, np.zeros(n_points), np.full(n_points, 3), ns)
        self.t_now_s = float(t[-1])

    def constant_current(
        self, charge_mah: np.ndarray, voltage_v: np.ndarray, current_ma: float, ns: int, noise: bool = True
    ) -> None:
        """A constant-current half cycle sampled at the cumulative charges ``charge_mah`` (starting at 0,
        i.e. the first point at the switching time)."""
        direction = 1 if current_ma > 0 else -1
        if self._last_direction not in (direction, 0):
            self.half_index += 1
        self._last_direction = direction
        t = self.t_now_s + charge_mah / abs(current_ma) * 3600.0
        v = voltage_v + (self.noise_v * self.rng.standard_normal(voltage_v.size) if noise else 0.0)
        self._append(t, v, np.full(t.size, current_ma), np.full(t.size, 1), ns)
        self.t_now_s = float(t[-1])

    def _append(self, t, v, i, mode, ns) -> None:
        self.time.append(np.asarray(t, dtype=float))
        self.voltage.append(np.asarray(v, dtype=float))
        self.current.append(np.asarray(i, dtype=float))
        self.mode.append(np.asarray(mode, dtype=np.int64))
        self.ns.append(np.full(len(t), ns, dtype=np.int64))
        self.half.append(np.full(len(t), self.half_index, dtype=np.int64))

    @property
    def n_rows(self) -> int:
        return int(sum(len(t) for t in self.time))

    def columns(self) -> list[Column]:
        t = np.concatenate(self.time)
        v = np.concatenate(self.voltage)
        i = np.concatenate(self.current)
        mode = np.concatenate(self.mode)
        ns = np.concatenate(self.ns)
        half = np.concatenate(self.half)
        n = t.size
        dt_h = np.diff(t, prepend=t[0]) / 3600.0
        # charge increment of each row since the previous row (the row's current over the interval)
        dq = i * dt_h
        first_of_half = np.r_[True, half[1:] != half[:-1]]
        dq[first_of_half] = 0.0
        q_total = np.cumsum(dq)
        # per-half-cycle accumulators, as EC-Lab's Q charge / Q discharge and energies (trapezoidal rule)
        v_previous = np.r_[v[0], v[:-1]]
        de = np.abs(dq) * 0.5 * (v + v_previous)
        starts = np.flatnonzero(first_of_half)
        group = np.cumsum(first_of_half) - 1
        cum_q = np.cumsum(np.abs(dq))
        cum_e = np.cumsum(de)
        base_q = (cum_q - np.abs(dq))[starts][group]
        base_e = (cum_e - de)[starts][group]
        q_half = cum_q - base_q
        e_half = cum_e - base_e
        positive = i > 0
        half_sign = np.zeros(n, dtype=np.int64)
        for start, stop in zip(starts, np.r_[starts[1:], n]):
            segment = i[start:stop]
            half_sign[start:stop] = 1 if segment.max(initial=0.0) > 0 else (-1 if segment.min(initial=0.0) < 0 else 0)
        q_charge = np.where(half_sign > 0, q_half, 0.0)
        q_discharge = np.where(half_sign < 0, q_half, 0.0)
        e_charge = np.where(half_sign > 0, e_half, 0.0) / 1000.0
        e_discharge = np.where(half_sign < 0, e_half, 0.0) / 1000.0
        control_changes = np.r_[1, (mode[1:] != mode[:-1]) | (ns[1:] != ns[:-1])].astype(np.int64)
        ns_changes = np.r_[0, ns[1:] != ns[:-1]].astype(np.int64)
        cycle = 1 + half // 2
        counter_inc = np.r_[0, cycle[1:] != cycle[:-1]].astype(np.int64)
        ox_red = np.where(positive, 1, 0)
        return [
            Column('mode', mode, 'int'),
            Column('ox/red', ox_red, 'int'),
            Column('error', np.zeros(n, dtype=np.int64), 'int'),
            Column('control changes', control_changes, 'int'),
            Column('Ns changes', ns_changes, 'int'),
            Column('counter inc.', counter_inc, 'int'),
            Column('Ns', ns, 'int'),
            Column('time/s', t, 'f15'),
            Column('control/V/mA', i),
            Column('Ewe/V', v),
            Column('I/mA', i),
            Column('dq/mA.h', dq, 'f15'),
            Column('(Q-Qo)/mA.h', q_total, 'f15'),
            Column('half cycle', half, 'int'),
            Column('Q charge/mA.h', q_charge, 'f15'),
            Column('Q discharge/mA.h', q_discharge, 'f15'),
            Column('Energy charge/W.h', e_charge, 'f15'),
            Column('Energy discharge/W.h', e_discharge, 'f15'),
            Column('cycle number', cycle.astype(float), 'f15'),
        ]


def gcpl_file(
    path: Path,
    *,
    recorder: GcplRecorder,
    sequences: Sequence[GcplSequence],
    started: dt.datetime,
    instrument: Instrument,
    directory: str,
    area_cm2: float,
    active_mass_mg: float | None,
    molar_mass_g_mol: float | None,
    ion_mass_g_mol: float,
    battery_capacity_mah: float | None,
    electrode_material: str,
    electrolyte: str,
    comment: str,
) -> int:
    """Write the recorder's rows as an EC-Lab GCPL export; returns the file size."""
    mass_line = (
        f'Mass of active material : {active_mass_mg:.3f} mg' if active_mass_mg else 'Mass of active material : 0.001 mg'
    )
    molar = molar_mass_g_mol or 0.001
    dq_mah = (26801.48 * (active_mass_mg or 0.001) * 1e-3 / molar) if molar_mass_g_mol else 0.0
    cell_lines = [
        f'Electrode material : {electrode_material}',
        'Initial state : ',
        f'Electrolyte : {electrolyte}',
        f'Comments : {comment}',
        mass_line,
        ' at x = 0.000',
        f'Molecular weight of active material (at x = 0) : {molar:.3f} g/mol',
        f'Atomic weight of intercalated ion : {ion_mass_g_mol:.3f} g/mol',
        'Acquisition started at : xo = 0.000',
        'Number of e- transfered per intercalated ion : 1',
        f'for DX = 1, DQ = {dq_mah:.4f} mA.h',
        f'Battery capacity : {battery_capacity_mah:.4f} mA.h'
        if battery_capacity_mah
        else 'Battery capacity : 0.000 A.h',
        f'Electrode surface area : {area_cm2:.3f} cm²',
        f'Characteristic mass : {active_mass_mg:.3f} mg' if active_mass_mg else 'Characteristic mass : 0.001 g',
    ]
    mpt = MptFile(
        technique='Galvanostatic Cycling with Potential Limitation',
        started=started,
        filename=path.with_suffix('.mpr').name,
        directory=directory,
        instrument=instrument,
        cell_lines=cell_lines,
        settings=gcpl_settings(sequences),
        columns=recorder.columns(),
    )
    return write_mpt(path, mpt)


def specific(value_mah_g: float, active_mass_mg: float) -> float:
    """mAh/g x mg -> mAh."""
    return value_mah_g * active_mass_mg / 1000.0


def c_rate_current_ma(c_rate: float, one_c_ma_g: float, active_mass_mg: float) -> float:
    """I = C-rate x (1C specific current) x active mass."""
    return c_rate * one_c_ma_g * active_mass_mg / 1000.0


def smooth_quadratic(points: Sequence[tuple[float, float]]) -> Callable[[float], float]:
    """The quadratic through three (x, y) points."""
    (x0, y0), (x1, y1), (x2, y2) = points
    coefficients = np.polyfit([x0, x1, x2], [y0, y1, y2], 2)
    return lambda x: float(np.polyval(coefficients, x))
