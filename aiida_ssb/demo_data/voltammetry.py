"""Slow-scan voltammetry of solid-electrolyte/carbon working electrodes and its EC-Lab CV export.

Current at potential E on a sweep of direction d (+1 anodic, -1 cathodic), scan rate nu:

* capacitive (double layer): ``d C nu (1 - k exp(-|E - E_v| / 0.02 V))`` after each vertex ``E_v`` (k = 2 after a
  reversal, 1 at the start), i.e. the charging current settles within a few tens of mV;
* background (electronic leakage): ``g (E - E_ref)``, a straight line;
* anodic decomposition *hinges*: ``s w ln(1 + exp((E - E_on)/w))`` (w = 3 mV). A few w above ``E_on`` this is
  the straight line ``s (E - E_on)`` (an ohmically limited decomposition current); below ``E_on`` it vanishes.
  Both straight lines meet exactly at ``E_on``: the onset encoded is the intersection of the background line
  and the faradaic line, the two-line (two linear regressions) construction of the papers, whatever the fit
  windows (the faradaic line stays straight up to the vertex). Several hinges give several onsets, each line
  being the background of the next. An optional fade ``1 / (1 + (max(E - E_on, 0)/D)^6)`` (not used in the
  demo) would make the current decay far above the onset;
* anodic peaks (Gaussian, forward sweep only): ``h exp(-(E - E_p)^2 / (2 w_p^2))``;
* irreversibility: on a cathodic sweep the decomposition current is ``r`` (0.1) times the anodic one, never
  cathodic.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aiida_ssb.demo_data.eclab import Column, Instrument, MptFile, settings_block, write_mpt

__all__ = ['Hinge', 'Peak', 'VoltammetryModel', 'cv_file', 'sweep_program']


@dataclass(frozen=True)
class Hinge:
    """An onset of anodic decomposition: the faradaic line s (E - onset) above ``onset_v``."""

    onset_v: float
    slope_ma_v: float
    width_v: float = 0.003
    fade_v: float | None = None


@dataclass(frozen=True)
class Peak:
    """A small anodic peak (forward sweep only)."""

    center_v: float
    height_ma: float
    width_v: float = 0.05


@dataclass(frozen=True)
class VoltammetryModel:
    capacitance_f: float
    leak_ma_v: float
    hinges: tuple[Hinge, ...]
    reference_v: float = 2.5
    peaks: tuple[Peak, ...] = ()
    reverse_fraction: float = 0.1
    noise_ma: float = 0.0
    settle_v: float = 0.02

    def faradaic_ma(self, potential_v: np.ndarray) -> np.ndarray:
        total = np.zeros_like(potential_v)
        for hinge in self.hinges:
            x = (potential_v - hinge.onset_v) / hinge.width_v
            line = hinge.slope_ma_v * hinge.width_v * np.logaddexp(0.0, x)
            if hinge.fade_v is not None:
                line = line / (1.0 + (np.maximum(potential_v - hinge.onset_v, 0.0) / hinge.fade_v) ** 6)
            total += line
        return total

    def peaks_ma(self, potential_v: np.ndarray) -> np.ndarray:
        total = np.zeros_like(potential_v)
        for peak in self.peaks:
            total += peak.height_ma * np.exp(-0.5 * ((potential_v - peak.center_v) / peak.width_v) ** 2)
        return total

    def current_ma(
        self,
        potential_v: np.ndarray,
        direction: int,
        scan_rate_mv_s: float,
        vertex_v: float,
        after_reversal: bool,
        forward_anodic: bool,
    ) -> np.ndarray:
        nu_v_s = scan_rate_mv_s / 1000.0
        settle = (2.0 if after_reversal else 1.0) * np.exp(-np.abs(potential_v - vertex_v) / self.settle_v)
        capacitive = direction * self.capacitance_f * nu_v_s * 1000.0 * (1.0 - settle)
        background = self.leak_ma_v * (potential_v - self.reference_v)
        faradaic = self.faradaic_ma(potential_v)
        if direction > 0 and forward_anodic:
            faradaic = faradaic + self.peaks_ma(potential_v)
        elif direction < 0:
            faradaic = self.reverse_fraction * faradaic
        return capacitive + background + faradaic


@dataclass
class SweepRecord:
    time_s: np.ndarray
    potential_v: np.ndarray
    current_ma: np.ndarray
    cycle: np.ndarray
    segment: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def sweep_program(
    model: VoltammetryModel, vertices_v: Sequence[float], scan_rate_mv_s: float, step_v: float, rng: np.random.Generator
) -> SweepRecord:
    """Sweep through ``vertices_v`` (start, vertex 1, vertex 2, ...) at ``scan_rate_mv_s``, one point every
    ``step_v``. The first anodic sweep carries the anodic peaks."""
    potentials, currents, times, segments = [], [], [], []
    t0 = 0.0
    seen_anodic = False
    for index, (start, stop) in enumerate(itertools.pairwise(vertices_v)):
        n = max(2, round(abs(stop - start) / step_v) + 1)
        e = np.linspace(start, stop, n)
        if index > 0:
            e = e[1:]
        direction = 1 if stop > start else -1
        forward = direction > 0 and not seen_anodic
        current = model.current_ma(
            e, direction, scan_rate_mv_s, start, after_reversal=index > 0, forward_anodic=forward
        )
        if direction > 0:
            seen_anodic = True
        t = t0 + np.abs(e - start) / (scan_rate_mv_s / 1000.0)
        potentials.append(e)
        currents.append(current)
        times.append(t)
        segments.append(np.full(e.size, index, dtype=np.int64))
        t0 = float(t[-1])
    e = np.concatenate(potentials)
    i = np.concatenate(currents)
    if model.noise_ma:
        i = i + model.noise_ma * rng.standard_normal(i.size)
    return SweepRecord(np.concatenate(times), e, i, np.ones(e.size, dtype=np.int64), np.concatenate(segments))


def cv_file(
    path: Path,
    *,
    record: SweepRecord,
    vertices_v: Sequence[float],
    scan_rate_mv_s: float,
    started: dt.datetime,
    instrument: Instrument,
    directory: str,
    area_cm2: float,
    electrode_material: str,
    electrolyte: str,
    comment: str,
    rng: np.random.Generator,
) -> int:
    """Write a CV record as EC-Lab exports it; returns the file size."""
    n = record.time_s.size
    control = record.potential_v
    ewe = control + 2e-5 * rng.standard_normal(n)
    i = record.current_ma
    dt_s = np.diff(record.time_s, prepend=record.time_s[0])
    charge_c = np.cumsum(i * 1e-3 * dt_s)
    power_w = ewe * i * 1e-3
    segment_change = np.r_[1, record.segment[1:] != record.segment[:-1]].astype(np.int64)
    columns = [
        Column('mode', np.full(n, 2), 'int'),
        Column('ox/red', (i > 0).astype(np.int64), 'int'),
        Column('error', np.zeros(n, dtype=np.int64), 'int'),
        Column('control changes', segment_change, 'int'),
        Column('counter inc.', np.zeros(n, dtype=np.int64), 'int'),
        Column('time/s', record.time_s, 'f15'),
        Column('control/V', control),
        Column('Ewe/V', ewe),
        Column('<I>/mA', i, 'f15'),
        Column('cycle number', record.cycle.astype(float), 'f15'),
        Column('(Q-Qo)/C', charge_c),
        Column('P/W', power_w),
    ]
    vertices = list(vertices_v)
    e1 = vertices[1]
    e2 = vertices[2] if len(vertices) > 2 else vertices[1]
    ef = vertices[-1]
    settings = settings_block(
        [
            ('Ei (V)', [f'{vertices[0]:.3f}']),
            ('vs.', ['Ref']),
            ('dE/dt', [f'{scan_rate_mv_s:.3f}']),
            ('dE/dt unit', ['mV/s']),
            ('E1 (V)', [f'{e1:.3f}']),
            ('vs.', ['Ref']),
            ('Step percent', ['50']),
            ('N', ['10']),
            ('E range min (V)', ['0.000']),
            ('E range max (V)', ['10.000']),
            ('I Range', ['Auto']),
            ('I Range min', ['Unset']),
            ('I Range max', ['Unset']),
            ('I Range init', ['Unset']),
            ('Bandwidth', ['5']),
            ('E2 (V)', [f'{e2:.3f}']),
            ('vs.', ['Ref']),
            ('nc cycles', ['0']),
            ('Reverse Scan', ['1' if len(vertices) > 3 else '0']),
            ('Ef (V)', [f'{ef:.3f}']),
            ('vs.', ['Ref']),
        ]
    )
    cell_lines = [
        f'Electrode material : {electrode_material}',
        'Initial state : ',
        f'Electrolyte : {electrolyte}',
        f'Comments : {comment}',
        f'Electrode surface area : {area_cm2:.3f} cm²',
        'Characteristic mass : 0.001 g',
        'Equivalent Weight : 0.000 g/eq.',
        'Density : 0.000 g/cm3',
        'Volume (V) : 0.000 m³',
    ]
    mpt = MptFile(
        technique='Cyclic Voltammetry',
        started=started,
        filename=path.with_suffix('.mpr').name,
        directory=directory,
        instrument=instrument,
        cell_lines=cell_lines,
        settings=settings,
        columns=columns,
    )
    return write_mpt(path, mpt)
