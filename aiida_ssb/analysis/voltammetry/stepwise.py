"""Stepwise cyclic voltammetry (seed 000 / thesis chapter 5): per upper cut-off, the anodic charge, the cathodic
charge of the reverse scan, the passivation ratios and the cut-off at which the anodic charge soars."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from aiida_ssb.analysis.voltammetry.common import (
    ANODIC,
    CATHODIC,
    VoltammetryError,
    check_inputs,
    clean,
    positive_or_none,
)
from aiida_ssb.analysis.voltammetry.settings import StepwiseCvSettings
from aiida_ssb.analysis.voltammetry.sweeps import Sweep, segment

__all__ = ['StepwiseCvResult', 'StepwiseStep', 'analyse_stepwise_cv']


@dataclasses.dataclass(frozen=True)
class StepwiseStep:
    """One upper cut-off of a stepwise CV. Charges in mAh; ratios dimensionless.

    :param step_index: 0 for the lowest upper cut-off.
    :param upper_cutoff_v: vertex potential of the step's first anodic scan.
    :param cutoff_increment_v: ``upper_cutoff_v`` minus the previous step's (absent for the first step).
    :param lower_cutoff_v: lowest potential of the reverse scan (absent without one).
    :param n_scans: anodic scans recorded at this cut-off.
    :param anodic_charge_mah: ``integral I+ dt`` over the step's first anodic scan.
    :param cathodic_charge_mah: ``integral (-I)+ dt`` over the reverse scan that follows it (absent when
        the record ends before it).
    :param reverse_charge_ratio: cathodic / anodic charge: near 0 means the decomposition products are
        not reduced back (not redox active).
    :param new_window_charge_mah: anodic charge of the first scan above the previous cut-off (the
        potential range this step opens).
    :param new_window_charge_mah_v: the same per volt of newly opened range (comparable across 0.10 V
        and 0.05 V steps).
    :param soar_ratio: ``new_window_charge_mah_v`` over the median of the previous ``reference_steps``.
    :param passivation_charge_ratio: anodic charge of this step's first scan below the previous cut-off
        over that of the previous step's last scan (same range): < 1 means passivation.
    :param passivation_current_ratio: current of this step's first scan at the previous cut-off over the
        previous step's current at its vertex.
    :param vertex_current_ma: current at the vertex of the first anodic scan.
    :param soaring: True for the step at which the anodic charge soars (at most one step).
    """

    step_index: int
    upper_cutoff_v: float
    cutoff_increment_v: float | None
    lower_cutoff_v: float | None
    n_scans: int
    anodic_charge_mah: float
    cathodic_charge_mah: float | None
    reverse_charge_ratio: float | None
    new_window_charge_mah: float
    new_window_charge_mah_v: float | None
    soar_ratio: float | None
    passivation_charge_ratio: float | None
    passivation_current_ratio: float | None
    vertex_current_ma: float
    soaring: bool = False

    def to_dict(self) -> dict[str, Any]:
        return clean(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class StepwiseCvResult:
    """Result of :func:`analyse_stepwise_cv`. ``soaring_cutoff_v`` is the first upper cut-off at which
    the anodic charge soars (absent when it never does)."""

    steps: tuple[StepwiseStep, ...]
    parameters: Mapping[str, Any]
    soaring_cutoff_v: float | None
    soaring_step_index: int | None
    scan_rate_mv_s: float | None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {'method': 'stepwise_cv', 'charge_unit': 'mAh'}
        result.update(clean(self.parameters))
        result.update(
            clean(
                {
                    'n_steps': len(self.steps),
                    'soaring_cutoff_v': self.soaring_cutoff_v,
                    'soaring_step_index': self.soaring_step_index,
                    'scan_rate_mv_s': self.scan_rate_mv_s,
                }
            )
        )
        result['steps'] = [step.to_dict() for step in self.steps]
        return result

    def arrays(self) -> dict[str, np.ndarray]:
        """Per-step arrays (NaN where a value is undefined) for plotting against ``upper_cutoff_v``."""

        def column(name: str) -> np.ndarray:
            return np.array([np.nan if getattr(s, name) is None else getattr(s, name) for s in self.steps], dtype=float)

        names = (
            'upper_cutoff_v',
            'anodic_charge_mah',
            'cathodic_charge_mah',
            'reverse_charge_ratio',
            'new_window_charge_mah_v',
            'soar_ratio',
            'passivation_charge_ratio',
            'passivation_current_ratio',
            'vertex_current_ma',
        )
        return {name: column(name) for name in names}


def _charge_mah(current: np.ndarray, time: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Trapezoidal integral of the current over the rows where ``mask`` holds (both ends of an interval)."""
    if current.size < 2:
        return 0.0
    segment = 0.5 * (current[1:] + current[:-1]) * np.diff(time)
    if mask is not None:
        segment = segment[mask[1:] & mask[:-1]]
    return float(segment.sum()) / 3600.0


def analyse_stepwise_cv(
    potential_v: Any,
    current_ma: Any,
    *,
    time_s: Any = None,
    scan_rate_mv_s: float | None = None,
    cycle_index: Any = None,
    settings: StepwiseCvSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> StepwiseCvResult:
    """Stepwise cyclic voltammetry (seed 000 / thesis chapter 5): the upper cut-off rises step by step
    (e.g. 2.8 -> 4.0 V by 0.10 V, then 4.0 -> 5.0 V by 0.05 V) at a fixed lower cut-off.

    Vertices are detected from the data (:func:`~aiida_ssb.analysis.voltammetry.segment_sweeps`); anodic scans
    with the same vertex (within ``ucv_tolerance_v``) form one step. Per step: the anodic charge, the cathodic
    charge of the reverse scan (are the decomposition products redox active?), the passivation ratios (is the
    current of the next scan below the previous cut-off lower?), and the charge of the newly opened
    potential range per volt. **Soaring** is defined as: the first step whose new-range charge per
    volt is at least ``soar_factor`` times the median of the previous ``reference_steps`` steps, and
    does not fall below that value in the next ``confirm_steps`` steps (where recorded).

    Charges are integrals of the total current (the capacitive part included), in mAh; they need
    ``time_s`` or, without it, ``scan_rate_mv_s`` (``dt = |dE| / rate``).

    :param settings: a :class:`StepwiseCvSettings` (or a mapping of its fields); ``overrides`` replace fields.
    :raises VoltammetryError: bad input, no anodic scan, or upper cut-offs that decrease.
    :raises SettingsError: invalid settings.
    """
    s = StepwiseCvSettings.resolve(settings, **overrides)
    potential, current, time, cycles = check_inputs(potential_v, current_ma, time_s, cycle_index)
    if current is None:
        raise VoltammetryError('stepwise CV: the charges need current_ma')
    rate_given = positive_or_none('scan_rate_mv_s', scan_rate_mv_s)
    if time is None:
        if rate_given is None:
            raise VoltammetryError('stepwise CV: charges need time_s or scan_rate_mv_s')
        travel = np.concatenate(([0.0], np.cumsum(np.abs(np.diff(potential)))))
        time = travel / (rate_given / 1000.0)
    sweeps = segment(potential, time, cycles, s.reversal_tolerance_v, 5)
    groups, vertices = _steps(sweeps, potential, s.ucv_tolerance_v)
    records = _step_records(sweeps, groups, vertices, potential, current, time)
    soaring_index = _soaring(records, s)
    steps = tuple(StepwiseStep(soaring=(k == soaring_index), **record) for k, record in enumerate(records))
    rates = [sweep.scan_rate_mv_s for sweep in sweeps if sweep.scan_rate_mv_s is not None]
    rate = rate_given if rate_given is not None else (float(np.median(rates)) if rates else None)
    parameters = {
        **s.parameters(),
        'charge_basis': 'total current (capacitive included), trapezoidal integral over time',
    }
    return StepwiseCvResult(
        steps=steps,
        parameters=parameters,
        soaring_cutoff_v=None if soaring_index is None else steps[soaring_index].upper_cutoff_v,
        soaring_step_index=soaring_index,
        scan_rate_mv_s=rate,
    )


def _steps(sweeps: Sequence[Sweep], potential: np.ndarray, tolerance: float) -> tuple[list[list[int]], list[float]]:
    """The anodic sweeps grouped into steps by their upper vertex, and the vertex of each step."""
    anodic = [k for k, sweep in enumerate(sweeps) if sweep.direction == ANODIC]
    if not anodic:
        raise VoltammetryError('stepwise CV: the record has no anodic (upward) scan')
    groups: list[list[int]] = []
    vertices: list[float] = []
    for k in anodic:
        vertex = float(potential[sweeps[k].slice].max())
        if groups and abs(vertex - vertices[-1]) <= tolerance:
            groups[-1].append(k)
            continue
        if groups and vertex < vertices[-1] - tolerance:
            # a last scan cut short by the end of the record is not a step
            if k == anodic[-1] and k == len(sweeps) - 1:
                break
            raise VoltammetryError(
                f'stepwise CV: the upper cut-off decreases at sweep {k} ({vertex:.4g} V after {vertices[-1]:.4g} V)'
            )
        groups.append([k])
        vertices.append(vertex)
    return groups, vertices


def _step_records(
    sweeps: Sequence[Sweep],
    groups: list[list[int]],
    vertices: list[float],
    potential: np.ndarray,
    current: np.ndarray,
    time: np.ndarray,
) -> list[dict[str, Any]]:
    """Per step: charges, passivation ratios and the charge per volt of newly opened range."""

    def scan(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        part = sweeps[k].slice
        return potential[part], current[part], time[part]

    records = []
    for index, (group, ucv) in enumerate(zip(groups, vertices)):
        first = group[0]
        e, i, t = scan(first)
        anodic_charge = _charge_mah(np.clip(i, 0, None), t)
        cathodic = lower = None
        if first + 1 < len(sweeps) and sweeps[first + 1].direction == CATHODIC:
            er, ir, tr = scan(first + 1)
            cathodic = _charge_mah(np.clip(-ir, 0, None), tr)
            lower = float(er.min())
        previous = vertices[index - 1] if index else None
        opened_from = previous if previous is not None else float(e.min())
        new_mask = e > opened_from if previous is not None else np.ones(e.size, dtype=bool)
        new_charge = _charge_mah(np.clip(i, 0, None), t, new_mask)
        width = ucv - opened_from
        passivation_charge = passivation_current = None
        if previous is not None:
            ep, ip, tp = scan(groups[index - 1][-1])
            below_prev = _charge_mah(np.clip(ip, 0, None), tp, ep <= previous)
            below_now = _charge_mah(np.clip(i, 0, None), t, e <= previous)
            if below_prev > 0:
                passivation_charge = below_now / below_prev
            vertex_current_prev = float(ip[np.argmax(ep)])
            order = np.argsort(e, kind='stable')
            current_now = float(np.interp(previous, e[order], i[order]))
            if vertex_current_prev != 0:
                passivation_current = current_now / vertex_current_prev
        records.append(
            {
                'step_index': index,
                'upper_cutoff_v': ucv,
                'cutoff_increment_v': None if previous is None else ucv - previous,
                'lower_cutoff_v': lower,
                'n_scans': len(group),
                'anodic_charge_mah': anodic_charge,
                'cathodic_charge_mah': cathodic,
                'reverse_charge_ratio': None if cathodic is None or anodic_charge <= 0 else cathodic / anodic_charge,
                'new_window_charge_mah': new_charge,
                'new_window_charge_mah_v': new_charge / width if width > 0 else None,
                'passivation_charge_ratio': passivation_charge,
                'passivation_current_ratio': passivation_current,
                'vertex_current_ma': float(i[np.argmax(e)]),
            }
        )
    return records


def _soaring(records: list[dict[str, Any]], s: StepwiseCvSettings) -> int | None:
    """Sets each record's ``soar_ratio``; returns the index of the soaring step (None when none soars)."""
    charge_per_volt = [record['new_window_charge_mah_v'] for record in records]
    soaring_index = None
    for index, record in enumerate(records):
        ratio = None
        previous_values = [v for v in charge_per_volt[max(0, index - s.reference_steps) : index] if v is not None]
        value = charge_per_volt[index]
        if previous_values and value is not None:
            reference = float(np.median(previous_values))
            if reference > 0:
                ratio = value / reference
        record['soar_ratio'] = ratio
        if soaring_index is None and ratio is not None and ratio >= s.soar_factor:
            following = [v for v in charge_per_volt[index + 1 : index + 1 + s.confirm_steps] if v is not None]
            if all(v >= value for v in following):
                soaring_index = index
    return soaring_index
