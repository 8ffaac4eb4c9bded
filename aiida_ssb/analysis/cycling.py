"""Galvanostatic cycling summary: half cycles, cycles, efficiencies, retention, protocol blocks, rate table.

Pure, vectorised numpy (no AiiDA, no pandas). The heavy work is a handful of passes over the rows plus
per-segment reductions with :func:`numpy.add.reduceat`; Python loops only run over cycles or protocol
blocks, never over rows.

Sign convention (as in :mod:`aiida_ssb.parsers.base`): ``current_ma`` is positive for oxidation at the
working electrode, i.e. *charge* of a cathode half cell or full cell. A half cycle is *charge* when its
current is positive and *discharge* when negative, whatever the electrode: for an anode half cell
(sodiation/lithiation first) choose ``first_half='discharge'`` and ``ce_convention='charge_over_discharge'``.

Definitions (see the documentation page ``analysis/cycling`` for the formulas):

* capacity ``Q = integral |I| dt`` (trapezoidal rule inside a half cycle), energy ``E = integral V |I| dt``,
  average voltage ``V_avg = E / Q``;
* coulombic efficiency ``CE = 100 Q_dis / Q_ch`` (``'discharge_over_charge'``, cathode-limited cells) or
  ``100 Q_ch / Q_dis`` (``'charge_over_discharge'``); energy efficiency with the same orientation;
* retention ``100 Q_n / Q_ref`` of the half cycle in the numerator of CE, against a reference cycle chosen
  by rule; cycles to x % are confirmed only when 2 of 3 consecutive cycles are below x %.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import AnalysisError

__all__ = [
    'CE_CONVENTIONS',
    'STANDARD_RETENTION_CYCLES',
    'CyclingError',
    'CyclingSettings',
    'CyclingSummary',
    'Segmentation',
    'segment_half_cycles',
    'summarise_cycling',
    'summarise_measurement',
]

#: Accepted coulombic-efficiency conventions -> (numerator half, denominator half).
CE_CONVENTIONS: dict[str, tuple[str, str]] = {
    'discharge_over_charge': ('discharge', 'charge'),
    'charge_over_discharge': ('charge', 'discharge'),
}

_BASIS_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')
_SECONDS_PER_HOUR = 3600.0


class CyclingError(AnalysisError):
    """Input that cannot be summarised; the message names the field and what is wrong."""


#: cycles at which retention is reported by default (the cells table can filter at these)
STANDARD_RETENTION_CYCLES = (10, 20, 50, 100, 150, 200, 300, 400, 500, 800, 1000)

_REFERENCE = re.compile(
    r'^(first|first_after_formation|first_after_rate_test|cycle:\d+|c_rate:[0-9.]+|c_rate:C/[0-9.]+)$'
)


class CyclingSettings(Settings):
    """Settings of the cycling summary (:func:`summarise_cycling`). Masses, electrode area and the 1C current
    are inputs (from the cell), not settings."""

    first_half: Literal['charge', 'discharge'] = Field(
        'charge', description='which half cycle opens a cycle (charge for a cathode against a metal anode)'
    )
    ce_convention: Literal['discharge_over_charge', 'charge_over_discharge'] = Field(
        'discharge_over_charge', description='coulombic efficiency convention (cathode-limited cells: discharge/charge)'
    )
    reference: str = Field(
        'first_after_formation',
        description='retention reference: first, first_after_formation, first_after_rate_test, cycle:N or c_rate:C/5',
    )
    formation_cycles: int | None = Field(None, ge=0, description='number of formation cycles (detected when absent)')
    retention_at: tuple[int, ...] = Field(
        STANDARD_RETENTION_CYCLES, description='absolute cycle numbers at which retention is reported (and indexed)'
    )
    retention_after: tuple[int, ...] = Field(
        (), description='retention after N cycles counted from the reference cycle (the reference is cycle 1)'
    )
    retention_thresholds_percent: tuple[float, ...] = Field((95.0, 90.0, 80.0), description='cycles-to-x % thresholds')
    rest_current_ma: float | None = Field(None, gt=0, description='|I| below this is rest (default: from the data)')
    integration: Literal['trapezoid', 'backward'] = Field(
        'trapezoid', description='integration of charge and energy where the file has no capacity column'
    )
    mass_bases: tuple[Literal['active', 'composite', 'electrolyte', 'cell'], ...] = Field(
        ('active', 'composite'), description='mass bases of the specific capacities (masses taken from the cell)'
    )

    @field_validator('reference')
    @classmethod
    def _reference(cls, value: str) -> str:
        value = value.strip()
        if not _REFERENCE.match(value):
            raise ValueError(
                f'{value!r} is not a reference rule: first, first_after_formation, first_after_rate_test, '
                'cycle:N or c_rate:C/5'
            )
        return value

    def reference_rule(self) -> Any:
        """``'cycle:6'`` -> ``('cycle', 6)``; ``'c_rate:C/5'`` -> ``('first_at_c_rate', 0.2)``; named rules as is."""
        return parse_reference(self.reference)


def parse_reference(value: str) -> Any:
    """``'cycle:6'`` -> ``('cycle', 6)``; ``'c_rate:C/5'`` -> ``('first_at_c_rate', 0.2)``; named rules unchanged."""
    if value.startswith('cycle:'):
        return ('cycle', int(value.split(':', 1)[1]))
    if value.startswith('c_rate:'):
        text = value.split(':', 1)[1].strip()
        rate = 1.0 / float(text[2:]) if text.upper().startswith('C/') else float(text)
        return ('first_at_c_rate', rate)
    return value


# --------------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------------


def _as_float(name: str, values: Any, n: int | None) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CyclingError(f'{name}: cannot be read as numbers ({exc})') from None
    if array.ndim != 1:
        raise CyclingError(f'{name}: expected a 1-D array, got shape {array.shape}')
    if n is not None and array.size != n:
        raise CyclingError(f'{name}: length {array.size} does not match time_s (length {n})')
    return array


def _optional(name: str, values: Any, n: int) -> np.ndarray | None:
    """An optional column; integer (counter, mode) columns are kept as they are, others become float64."""
    if values is None:
        return None
    array = np.asarray(values)
    if array.dtype.kind in 'iub':
        if array.ndim != 1:
            raise CyclingError(f'{name}: expected a 1-D array, got shape {array.shape}')
        if array.size != n:
            raise CyclingError(f'{name}: length {array.size} does not match time_s (length {n})')
        return array
    return _as_float(name, array, n)


def _check_time(time_s: np.ndarray) -> None:
    # one comparison pass: NaN compares False, so a NaN anywhere inside fails it too
    if np.all(time_s[1:] >= time_s[:-1]) and np.isfinite(time_s[0]) and np.isfinite(time_s[-1]):
        return
    bad = ~np.isfinite(time_s)
    if bad.any():
        raise CyclingError(f'time_s: not a finite number at row {int(np.flatnonzero(bad)[0])}')
    row = int(np.flatnonzero(time_s[1:] < time_s[:-1])[0]) + 1
    raise CyclingError(
        f'time_s: decreases at row {row} ({time_s[row - 1]!r} -> {time_s[row]!r}); rows must be in acquisition order'
    )


def _check_masses(masses_mg: Mapping[str, float] | None) -> dict[str, float]:
    if not masses_mg:
        return {}
    out: dict[str, float] = {}
    for basis, mass in masses_mg.items():
        if not isinstance(basis, str) or not _BASIS_NAME.match(basis):
            raise CyclingError(
                f'masses_mg: basis name {basis!r} must start with a letter and contain only letters, digits and '
                'underscores (it becomes part of column names such as discharge_capacity_mah_g_<basis>)'
            )
        try:
            value = float(mass)
        except (TypeError, ValueError):
            raise CyclingError(f'masses_mg[{basis!r}]: {mass!r} is not a number') from None
        if not math.isfinite(value) or value <= 0:
            raise CyclingError(f'masses_mg[{basis!r}]: the mass must be a positive number of mg, got {mass!r}')
        out[basis] = value
    return out


def _positive_or_none(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CyclingError(f'{name}: {value!r} is not a number') from None
    if not math.isfinite(number) or number <= 0:
        raise CyclingError(f'{name}: must be a positive number, got {value!r}')
    return number


# --------------------------------------------------------------------------------------------------
# segmentation (shared with the critical-current-density analysis)
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Segmentation:
    """Rows grouped into half cycles.

    The record's *counted* rows (finite, not excluded, not at rest, carrying the half cycle's current
    sign) are kept in acquisition order in ``rows``; every ``*_c`` array is aligned with ``rows``.
    Half cycle ``k`` owns ``rows[seg_start[k]:seg_stop[k]]``; ``np.add.reduceat(x_c, seg_start)`` sums an
    aligned quantity per half cycle. Each counted row owns the time interval since the previous row
    (see :func:`segment_half_cycles` for the integration rule), so ``dq_c``/``de_c``/``dt_c`` are the
    charge (mAh), energy (mWh) and time (s) of that interval; ``current_c`` (``|I|``, mA) and ``voltage_c`` (V)
    are the rows' values; ``prev_same_c`` is True where the previous record row is the previous counted row
    of the same half cycle; ``orphan_c`` lists the positions (in ``rows``) that own no interval (the record's
    first row, rows after an invalid row).
    """

    n_rows: int
    rows: np.ndarray
    seg_start: np.ndarray
    seg_stop: np.ndarray
    direction: np.ndarray
    cv_c: np.ndarray
    dq_c: np.ndarray
    de_c: np.ndarray
    dt_c: np.ndarray
    current_c: np.ndarray
    voltage_c: np.ndarray
    prev_same_c: np.ndarray
    orphan_c: np.ndarray
    rest_current_ma: float
    cv_source: str
    integration: str
    notes: list[str]

    @property
    def n_half_cycles(self) -> int:
        return int(self.seg_start.size)

    @property
    def first_row(self) -> np.ndarray:
        """Record row index of each half cycle's first counted row."""
        return self.rows[self.seg_start]

    @property
    def last_row(self) -> np.ndarray:
        """Record row index of each half cycle's last counted row."""
        return self.rows[self.seg_stop - 1]

    def reduce(self, values_c: np.ndarray) -> np.ndarray:
        """Sum a quantity aligned with ``rows`` per half cycle."""
        return np.add.reduceat(values_c, self.seg_start)

    def rows_of(self, k: int) -> np.ndarray:
        """Record row indices counted in half cycle ``k`` (0-based)."""
        return self.rows[self.seg_start[k] : self.seg_stop[k]]

    def half_cycle_of_row(self) -> np.ndarray:
        """Full-length array: the 0-based half cycle of each counted row, -1 for rows not counted."""
        out = np.full(self.n_rows, -1, dtype=np.int64)
        out[self.rows] = np.repeat(np.arange(self.n_half_cycles), self.seg_stop - self.seg_start)
        return out


def _informative(counter: np.ndarray | None) -> np.ndarray | None:
    """The counter if it changes at least once, else None."""
    if counter is None or counter.size < 2:
        return None
    if not (counter != counter[0]).any():
        return None
    return counter


def _quantile(values: np.ndarray, q: float, max_samples: int = 4096) -> float:
    """Quantile of a strided subsample (cheap; used only for thresholds)."""
    if values.size > max_samples:
        values = values[:: values.size // max_samples]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0
    k = int(q * (values.size - 1))
    return float(np.partition(values, k)[k])


def segment_half_cycles(
    time_s: np.ndarray,
    voltage_v: np.ndarray,
    current_ma: np.ndarray,
    *,
    half_cycle_index: np.ndarray | None = None,
    cycle_index: np.ndarray | None = None,
    control_mode: np.ndarray | None = None,
    step_index: np.ndarray | None = None,
    exclude: Any = None,
    exclude_steps: Sequence[int] | None = None,
    rest_current_ma: float | None = None,
    min_half_cycle_fraction: float = 0.002,
    cv_voltage_tolerance_v: float = 0.005,
    cv_current_fraction: float = 0.9,
    integration: str = 'trapezoid',
) -> Segmentation:
    """Split a record into half cycles (validated float arrays of equal length are expected).

    Rules, in order:

    1. A row is *valid* when its voltage and current are finite and it is neither flagged in ``exclude``
       nor in one of ``exclude_steps`` (embedded impedance steps...). Invalid rows are never integrated.
    2. A valid row is at *rest* when ``|I| <= rest_current_ma`` (default: 0.1 % of the 99th percentile of
       ``|I|``) or when ``control_mode == 3``. Potentiostatic rows (``control_mode == 2``) are at rest only
       when their current is exactly zero: a decaying CV or CA current is real charge however small.
    3. Every other row carries a direction, the sign of its current. Potentiostatic rows
       (``control_mode == 2``) are grouped into contiguous CV runs that take the sign of their net charge;
       rows of a CV run with the opposite sign (noise around zero at the end of a hold) are not counted,
       so a sign flip inside a CV hold never opens a half cycle.
    4. Consecutive counted rows with the same direction form one half cycle, across rests (a GITT-like
       charge interrupted by rests stays one half cycle) unless an informative instrument counter
       (``half_cycle_index`` or ``cycle_index``, one that changes at least once) differs across the gap.
    5. A run of one direction whose charge is below ``min_half_cycle_fraction`` of the median run and
       across which no informative counter changes is treated as noise: its rows are not counted and its
       neighbours merge. A counter that never changes is ignored; a counter alone never splits a run
       without a gap, so a counter one row off the current reversal (as EC-Lab writes) is harmless.
    6. Without ``control_mode``, the CV part of a half cycle is the trailing run of rows whose voltage stays
       within ``cv_voltage_tolerance_v`` of the final voltage, provided the current decays in that run below
       ``cv_current_fraction`` of the half cycle's largest current; the intervals between those rows are
       the CV part (the interval reaching the hold voltage is still CC).

    Integration: a counted row owns the interval since the previous row. Inside a half cycle the interval
    is integrated with the trapezoidal rule (``integration='trapezoid'``) or with the row's own current
    (``'backward'``: exact when the current column is the interval average, like EC-Lab ``<I>``). The
    first row of a half cycle (or after a rest) owns its interval with its own current, as instrument
    counters do; a row after an invalid (excluded) row or the record's first row owns nothing.

    :param time_s: time (s), float64, non-decreasing (checked by the callers).
    :param voltage_v: voltage (V), float64; NaN rows are excluded.
    :param current_ma: current (mA), float64, positive = oxidation at the working electrode.
    :param half_cycle_index: instrument half-cycle counter (rule 4, 5), optional.
    :param cycle_index: instrument cycle counter (rule 4, 5), optional.
    :param control_mode: EC-Lab control mode per row (1 galvanostatic, 2 potentiostatic, 3 rest), optional.
    :param step_index: instrument step counter, needed with ``exclude_steps``.
    :param exclude: boolean mask of rows to leave out.
    :param exclude_steps: step indices whose rows are left out.
    :param rest_current_ma: rest threshold (rule 2); default 0.1 % of the 99th percentile of ``|I|``.
    :param min_half_cycle_fraction: noise threshold of rule 5.
    :param cv_voltage_tolerance_v: voltage tolerance of rule 6.
    :param cv_current_fraction: current-decay fraction of rule 6.
    :param integration: ``'trapezoid'`` or ``'backward'``.
    :raises CyclingError: when no row is valid, no current flows, or an option is unusable.
    """
    if integration not in ('trapezoid', 'backward'):
        raise CyclingError(f"integration: {integration!r} is not one of 'trapezoid', 'backward'")
    n = time_s.size
    abs_current = np.abs(current_ma)
    valid = np.isfinite(voltage_v)
    valid &= np.isfinite(abs_current)
    if exclude is not None:
        mask = np.asarray(exclude, dtype=bool)
        if mask.shape != (n,):
            raise CyclingError(f'exclude: expected a boolean mask of length {n}, got shape {mask.shape}')
        valid &= ~mask
    if exclude_steps is not None and len(exclude_steps):
        if step_index is None:
            raise CyclingError('exclude_steps: needs step_index to know which rows belong to those steps')
        valid &= ~np.isin(step_index, np.asarray(list(exclude_steps), dtype=np.float64))
    if not valid.any():
        raise CyclingError('voltage_v/current_ma: no row has a finite voltage and current (all NaN or excluded)')

    notes: list[str] = []
    if rest_current_ma is None:
        top = _quantile(abs_current[valid] if not valid.all() else abs_current, 0.99)
        if top <= 0:
            top = float(np.max(abs_current, where=valid, initial=0.0))
        threshold = 1e-3 * top
    else:
        threshold = float(rest_current_ma)
    active = abs_current > threshold
    if control_mode is not None:
        # a potentiostatic row carries a real current however small (a CV tail, a CA leakage current)
        active |= (control_mode == 2) & (abs_current > 0)
        active &= control_mode != 3
    active &= valid
    if not active.any():
        raise CyclingError(
            f'current_ma: no current flows (every valid row has |I| <= {threshold:.3g} mA or is a rest step); '
            'nothing to summarise'
        )
    positive = current_ma > 0

    # rule 3: CV runs take the sign of their net charge
    direction = positive
    pot = None
    cv_source = 'voltage_plateau'
    if control_mode is not None:
        cv_source = 'control_mode'
        pot = active & (control_mode == 2)
        if pot.any():
            edges = np.diff(pot.view(np.int8), prepend=np.int8(0), append=np.int8(0))
            run_start = np.flatnonzero(edges == 1)
            run_end = np.flatnonzero(edges == -1)
            dt_full = np.diff(time_s, prepend=time_s[0])
            net = np.add.reduceat(np.where(pot, current_ma * dt_full, 0.0), run_start)
            direction = positive.copy()
            direction[pot] = np.repeat(net >= 0, run_end - run_start)
            active &= positive == direction
        else:
            pot = None

    rows = np.flatnonzero(active)
    counters = [c for c in (_informative(half_cycle_index), _informative(cycle_index)) if c is not None]
    if half_cycle_index is not None and not counters and cycle_index is None:
        notes.append('half_cycle_index never changes: half cycles come from the current sign alone')

    def split(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Half-cycle starts among ``rows`` and whether each row directly follows the previous one."""
        d = direction[rows]
        new = np.empty(rows.size, dtype=bool)
        new[0] = True
        np.not_equal(d[1:], d[:-1], out=new[1:])
        adjacent = np.zeros(rows.size, dtype=bool)
        step = rows[1:] - rows[:-1]
        np.equal(step, 1, out=adjacent[1:])
        if counters:
            gaps = np.flatnonzero(step > 1)
            for counter in counters:
                changed = counter[rows[gaps + 1]] != counter[rows[gaps]]
                new[gaps[changed] + 1] = True
        return new, adjacent

    new, adjacent = split(rows)
    seg_start = np.flatnonzero(new)
    dt_full = np.empty(n)
    dt_full[0] = 0.0
    np.subtract(time_s[1:], time_s[:-1], out=dt_full[1:])

    dt_c = dt_full[rows]
    current_c = abs_current[rows]

    # rule 5: tiny reversed runs are noise
    if seg_start.size > 2 and min_half_cycle_fraction > 0:
        sample = dt_c[:: max(1, dt_c.size // 4096)]
        sample = sample[sample > 0]
        cap = 10.0 * _quantile(sample, 0.5) if sample.size else 0.0
        weighted = np.minimum(dt_c, cap)
        weighted *= current_c
        q_est = np.add.reduceat(weighted, seg_start)
        del weighted
        small = q_est < min_half_cycle_fraction * float(np.sort(q_est)[q_est.size // 2])
        if small.any() and counters:
            seg_stop = np.r_[seg_start[1:], rows.size]
            before = np.maximum(rows[seg_start] - 1, 0)
            last = rows[seg_stop - 1]
            for counter in counters:
                small &= counter[before] == counter[last]
        if small.any():
            keep = ~np.repeat(small, np.diff(np.r_[seg_start, rows.size]))
            notes.append(
                f'{int(small.sum())} short run(s) of reversed current (below {min_half_cycle_fraction:.2%} of the '
                'median half-cycle charge, no counter change) treated as noise'
            )
            rows = rows[keep]
            new, adjacent = split(rows)
            seg_start = np.flatnonzero(new)
            dt_c = dt_full[rows]
            current_c = abs_current[rows]

    m = rows.size
    seg_stop = np.r_[seg_start[1:], m]
    half_direction = np.where(direction[rows[seg_start]], 1, -1).astype(np.int64)
    voltage_c = voltage_v[rows]
    power_c = current_c * voltage_c

    # interval ownership: inside the half cycle (the previous row is the previous counted row of the same
    # half cycle), opening after a valid row (own current), or nothing (after an invalid row / at row 0)
    prev_same = adjacent
    prev_same &= ~new
    dq_c = current_c.copy()
    de_c = power_c.copy()
    if integration == 'trapezoid' and m > 1:
        inner = prev_same[1:]
        mean = np.add(current_c[1:], current_c[:-1])
        mean *= 0.5
        np.copyto(dq_c[1:], mean, where=inner)
        np.add(power_c[1:], power_c[:-1], out=mean)
        mean *= 0.5
        np.copyto(de_c[1:], mean, where=inner)
        del mean
    openings = np.flatnonzero(~prev_same)
    opening_rows = rows[openings]
    orphan = (opening_rows == 0) | ~valid[np.maximum(opening_rows - 1, 0)]
    dt_c[openings[orphan]] = 0.0
    dt_h = dt_c * (1.0 / _SECONDS_PER_HOUR)
    dq_c *= dt_h
    de_c *= dt_h
    del dt_h

    # CV part
    if pot is not None:
        cv_c = pot[rows]
    elif control_mode is not None:
        cv_c = np.zeros(m, dtype=bool)
    else:
        # the CV part: the intervals between rows of the trailing constant-voltage run, when the current
        # decays during that run (a CC half cycle ends with one row at its final voltage and no decay)
        lengths = seg_stop - seg_start
        hc_c = np.repeat(np.arange(seg_start.size), lengths)
        i_ref = np.maximum.reduceat(current_c, seg_start)
        v_end = voltage_c[seg_stop - 1]
        plateau = np.abs(voltage_c - v_end[hc_c]) <= cv_voltage_tolerance_v
        position = np.arange(m)
        run_first = np.maximum.reduceat(np.where(plateau, -1, position), seg_start) + 1
        run_first = np.maximum(run_first, seg_start)
        i_min_run = np.minimum.reduceat(np.where(position >= run_first[hc_c], current_c, np.inf), seg_start)
        decays = i_min_run < cv_current_fraction * i_ref
        cv_c = (position > run_first[hc_c]) & decays[hc_c]

    return Segmentation(
        n_rows=n,
        rows=rows,
        seg_start=seg_start,
        seg_stop=seg_stop,
        direction=half_direction,
        cv_c=cv_c,
        dq_c=dq_c,
        de_c=de_c,
        dt_c=dt_c,
        current_c=current_c,
        voltage_c=voltage_c,
        prev_same_c=prev_same,
        orphan_c=openings[orphan],
        rest_current_ma=threshold,
        cv_source=cv_source,
        integration=integration,
        notes=notes,
    )


def _counter_increments(counter: np.ndarray, seg: Segmentation) -> np.ndarray:
    """Increments of an instrument capacity/energy counter over the intervals owned by the counted rows.

    The counter resets to ~0 at each instrument half cycle (EC-Lab Q charge/discharge) or cycle; a drop to
    at most half its previous value is read as a reset (the increment is then the new value). Non-finite
    counter values count as 0.
    """
    rows = seg.rows
    now = np.abs(counter[rows])
    if not np.isfinite(now).all():
        now = np.where(np.isfinite(now), now, 0.0)
    before = np.empty_like(now)
    before[1:] = now[:-1]
    openings = np.flatnonzero(~seg.prev_same_c)
    opening_rows = rows[openings]
    previous = np.abs(counter[np.maximum(opening_rows - 1, 0)])
    previous[~np.isfinite(previous) | (opening_rows == 0)] = 0.0
    before[openings] = previous
    inc = now - before
    reset = np.flatnonzero(inc < 0)
    if reset.size:
        reset = reset[now[reset] <= 0.5 * before[reset]]
        inc[reset] = now[reset]
    if rows[0] == 0:
        inc[0] = 0.0
    inc[seg.orphan_c] = 0.0
    return inc


# --------------------------------------------------------------------------------------------------
# result container
# --------------------------------------------------------------------------------------------------


def _py(value: Any) -> Any:
    """Plain Python scalar (JSON-serialisable) from a numpy scalar."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


@dataclasses.dataclass
class CyclingSummary:
    """Result of :func:`summarise_cycling`.

    ``half_cycles`` and ``cycles`` are tables (dict of equally long 1-D numpy arrays, unit-suffixed
    column names; unknown entries are NaN). ``blocks`` lists the detected protocol blocks, ``rate_table``
    the rate-capability table (empty when no rate test was found), ``headline`` the flat numbers returned
    by :meth:`to_dict`, ``conventions`` every choice that changes a number, ``warnings`` anything the
    user should know (e.g. data in one direction only).
    """

    half_cycles: dict[str, np.ndarray]
    cycles: dict[str, np.ndarray]
    blocks: list[dict[str, Any]]
    rate_table: dict[str, np.ndarray]
    headline: dict[str, Any]
    conventions: dict[str, Any]
    warnings: list[str]

    @property
    def n_cycles(self) -> int:
        return int(self.cycles['cycle'].size)

    @property
    def n_half_cycles(self) -> int:
        return int(self.half_cycles['half_cycle'].size)

    def to_dict(self) -> dict[str, Any]:
        """Flat, JSON-serialisable headline numbers (unit-suffixed keys; unknown values are absent)."""
        out = dict(self.headline)
        out['conventions'] = dict(self.conventions)
        out['blocks'] = [dict(block) for block in self.blocks]
        if self.warnings:
            out['warnings'] = list(self.warnings)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """All tables as one flat dict: ``half_cycle__<column>``, ``cycle__<column>``, ``rate__<column>``."""
        out: dict[str, np.ndarray] = {}
        for prefix, table in (('half_cycle', self.half_cycles), ('cycle', self.cycles), ('rate', self.rate_table)):
            for name, values in table.items():
                out[f'{prefix}__{name}'] = values
        return out


# --------------------------------------------------------------------------------------------------
# the summary
# --------------------------------------------------------------------------------------------------


def _per_mass(table: dict[str, np.ndarray], masses: dict[str, float], pairs: Sequence[tuple[str, str, str]]) -> None:
    """Add specific columns: (source column, target stem, kind) with kind 'mah_g' or 'wh_kg'."""
    for source, stem, kind in pairs:
        for basis, mass_mg in masses.items():
            # mAh / mg * 1000 = mAh/g ; mWh / mg * 1000 = Wh/kg
            table[f'{stem}_{kind}_{basis}'] = table[source] * (1000.0 / mass_mg)


def _ratio_percent(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide='ignore', invalid='ignore'):
        out = 100.0 * numerator / denominator
    out[~np.isfinite(out)] = np.nan
    return out


def _relative_change(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.abs(values[1:] / values[:-1] - 1.0)


def _cycles_below(retention: np.ndarray, reference_pos: int, threshold: float) -> int | None:
    """Position of the first cycle after the reference with retention < threshold, confirmed by 2 of 3.

    The cycle itself must be below and at least one of the next two (as aurora-cycler-manager does); near
    the end of the record a cycle with a single follower needs that follower below too; the last cycle
    alone never confirms.
    """
    below = retention < threshold
    below[: reference_pos + 1] = False
    candidates = np.flatnonzero(below)
    m = retention.size
    for pos in candidates:
        following = below[pos + 1 : pos + 3]
        if following.size and following.any():
            return int(pos)
        if following.size == 0 and pos == m - 1:
            return None
    return None


def summarise_cycling(
    time_s: Any,
    voltage_v: Any,
    current_ma: Any,
    *,
    cycle_index: Any = None,
    half_cycle_index: Any = None,
    step_index: Any = None,
    control_mode: Any = None,
    charge_capacity_mah: Any = None,
    discharge_capacity_mah: Any = None,
    charge_energy_mwh: Any = None,
    discharge_energy_mwh: Any = None,
    exclude: Any = None,
    exclude_steps: Sequence[int] | None = None,
    masses_mg: Mapping[str, float] | None = None,
    area_cm2: float | None = None,
    one_c_ma: float | None = None,
    first_half: str = 'charge',
    ce_convention: str = 'discharge_over_charge',
    reference: Any = 'first_after_formation',
    formation_cycles: int | None = None,
    retention_at: Sequence[int] = STANDARD_RETENTION_CYCLES,
    retention_after: Sequence[int] = (),
    retention_thresholds_percent: Sequence[float] = (95.0, 90.0, 80.0),
    rest_current_ma: float | None = None,
    integration: str = 'trapezoid',
    rate_tolerance: float = 0.1,
    max_formation_cycles: int = 5,
    rate_step_cycles: tuple[int, int] = (2, 10),
    long_term_min_cycles: int = 20,
    cutoff_tolerance_v: float = 0.01,
    rate_test: tuple[int, int] | None = None,
    min_half_cycle_fraction: float = 0.002,
    cv_voltage_tolerance_v: float = 0.005,
    cv_current_fraction: float = 0.9,
) -> CyclingSummary:
    """Summarise a galvanostatic cycling record.

    :param time_s: time of each row (s), non-decreasing.
    :param voltage_v: cell voltage (V); NaN rows (e.g. embedded impedance points) are excluded.
    :param current_ma: current (mA), positive = oxidation at the working electrode (charge of a cathode).
    :param cycle_index: instrument cycle counter (optional): used to confirm splits across rests and to
        report ``instrument_cycle_index`` and the pairing agreement.
    :param half_cycle_index: instrument half-cycle counter (optional), used the same way; a counter that
        never changes is ignored.
    :param step_index: instrument step counter; needed only with ``exclude_steps``.
    :param control_mode: 1 galvanostatic, 2 potentiostatic (CV hold), 3 rest (EC-Lab convention).
    :param charge_capacity_mah: the instrument's own per-half-cycle charge counter; when given with
        ``discharge_capacity_mah``, each half cycle also reports ``capacity_instrument_mah`` (the counter's
        increments over exactly the rows integrated here).
    :param discharge_capacity_mah: the instrument's discharge counter (see above).
    :param charge_energy_mwh: the instrument's per-half-cycle charge energy counter (optional).
    :param discharge_energy_mwh: the instrument's discharge energy counter (optional).
    :param exclude: boolean mask of rows to leave out (e.g. impedance points written into the record).
    :param exclude_steps: step indices to leave out (with ``step_index``).
    :param masses_mg: normalisation bases, name -> mass in mg, e.g. ``{'active': 1.4, 'composite': 2.0}``;
        gives ``*_mah_g_<name>`` and ``*_wh_kg_<name>`` columns.
    :param area_cm2: electrode area (cm2) for areal capacity and current density.
    :param one_c_ma: the 1C current (mA) for C-rates.
    :param first_half: ``'charge'`` or ``'discharge'``: the half cycle that opens a cycle. Half cycles before
        the first opening one form cycle 0 (incomplete).
    :param ce_convention: ``'discharge_over_charge'`` (default; cathode-limited cells) or
        ``'charge_over_discharge'`` (anode half cells). The numerator half is also the one whose capacity
        and energy give the retention.
    :param reference: retention reference rule: ``'first'`` (first complete cycle), ``('cycle', N)``,
        ``'first_after_formation'``, ``('first_at_c_rate', rate)`` or ``'first_after_rate_test'``.
    :param formation_cycles: number of formation cycles (the first complete cycles); detected when None.
    :param retention_at: absolute cycle numbers at which retention is reported in :meth:`CyclingSummary.to_dict`.
    :param retention_after: numbers of cycles N, counted with the reference as the first, at which retention
        is reported (cycle ``reference + N - 1``; 800 C/5 cycles from cycle 3 end at cycle 802).
    :param retention_thresholds_percent: thresholds for the cycles-to-x % numbers.
    :param rest_current_ma: ``|I|`` at or below which a row is at rest; default 0.1 % of the 99th
        percentile of ``|I|``.
    :param integration: ``'trapezoid'`` (instantaneous current samples) or ``'backward'`` (each row's current
        is the average over the interval since the previous row, like EC-Lab ``<I>``).
    :param rate_tolerance: relative difference below which two cycles count as the same rate.
    :param max_formation_cycles: the longest leading low-rate block that is detected as formation.
    :param rate_step_cycles: (min, max) cycles per step of a detected rate test.
    :param long_term_min_cycles: the shortest constant-rate block called ``long_term``.
    :param cutoff_tolerance_v: voltage tolerance when grouping upper cut-offs.
    :param rate_test: ``(first_cycle, last_cycle)`` to declare the rate test instead of detecting it.
    :param min_half_cycle_fraction: runs of reversed current smaller than this fraction of the median half
        cycle (and with no counter change) are noise.
    :param cv_voltage_tolerance_v: voltage tolerance of the CV detection without ``control_mode``.
    :param cv_current_fraction: current fraction below which a plateau row counts as CV (without
        ``control_mode``).
    :raises CyclingError: for inconsistent or unusable input, with the field named.
    """
    t = _as_float('time_s', time_s, None)
    n = t.size
    if n < 2:
        raise CyclingError(f'time_s: at least 2 rows are needed, got {n}')
    v = _as_float('voltage_v', voltage_v, n)
    i = _as_float('current_ma', current_ma, n)
    _check_time(t)
    if first_half not in ('charge', 'discharge'):
        raise CyclingError(f"first_half: {first_half!r} is not 'charge' or 'discharge'")
    if ce_convention not in CE_CONVENTIONS:
        raise CyclingError(f'ce_convention: {ce_convention!r} is not one of {", ".join(CE_CONVENTIONS)}')
    masses = _check_masses(masses_mg)
    area = _positive_or_none('area_cm2', area_cm2)
    one_c = _positive_or_none('one_c_ma', one_c_ma)
    if formation_cycles is not None and (int(formation_cycles) != formation_cycles or formation_cycles < 0):
        raise CyclingError(f'formation_cycles: must be a non-negative integer, got {formation_cycles!r}')
    if rest_current_ma is not None:
        try:
            rest_current = float(rest_current_ma)
        except (TypeError, ValueError):
            raise CyclingError(f'rest_current_ma: {rest_current_ma!r} is not a number') from None
        if not math.isfinite(rest_current) or rest_current < 0:
            raise CyclingError(f'rest_current_ma: must be a non-negative number, got {rest_current_ma!r}')

    hci = _optional('half_cycle_index', half_cycle_index, n)
    cyi = _optional('cycle_index', cycle_index, n)
    sti = _optional('step_index', step_index, n)
    mode = _optional('control_mode', control_mode, n)
    q_ch_counter = _optional('charge_capacity_mah', charge_capacity_mah, n)
    q_dis_counter = _optional('discharge_capacity_mah', discharge_capacity_mah, n)
    e_ch_counter = _optional('charge_energy_mwh', charge_energy_mwh, n)
    e_dis_counter = _optional('discharge_energy_mwh', discharge_energy_mwh, n)

    seg = segment_half_cycles(
        t,
        v,
        i,
        half_cycle_index=hci,
        cycle_index=cyi,
        control_mode=mode,
        step_index=sti,
        exclude=exclude,
        exclude_steps=exclude_steps,
        rest_current_ma=rest_current_ma,
        min_half_cycle_fraction=min_half_cycle_fraction,
        cv_voltage_tolerance_v=cv_voltage_tolerance_v,
        cv_current_fraction=cv_current_fraction,
        integration=integration,
    )
    warnings = list(seg.notes)
    half = _half_cycle_table(
        seg, t, v, i, masses, area, one_c, hci, cyi, q_ch_counter, q_dis_counter, e_ch_counter, e_dis_counter
    )
    instrument_deviation = None
    if 'capacity_instrument_mah' in half:
        with np.errstate(divide='ignore', invalid='ignore'):
            deviation = np.abs(half['capacity_mah'] / half['capacity_instrument_mah'] - 1.0)
        deviation[~np.isfinite(deviation)] = 0.0
        worst = int(np.argmax(deviation))
        instrument_deviation = 100.0 * float(deviation[worst])
        if deviation[worst] > 0.01:
            warnings.append(
                f'the integrated capacity differs from the instrument counter by up to {100 * deviation[worst]:.1f} % '
                f'(half cycle {worst + 1}): the sampling is too coarse for how fast the current changes; '
                'capacity_instrument_mah is likely the better number there'
            )
    truncated = _truncated_last_half_cycle(half, cutoff_tolerance_v)
    half['truncated'] = np.zeros(half['half_cycle'].size, dtype=np.int64)
    if truncated is not None:
        half['truncated'][-1] = 1
        warnings.append(truncated)
    numerator, denominator = CE_CONVENTIONS[ce_convention]
    cycles, pairing_agreement = _cycle_table(half, first_half, ce_convention, masses, area, one_c)

    complete = cycles['complete']
    if not complete.any():
        directions = {int(x) for x in half['direction']}
        if directions == {1}:
            warnings.append('only charge half cycles: no complete cycle, so no CE, efficiency or retention')
        elif directions == {-1}:
            warnings.append('only discharge half cycles: no complete cycle, so no CE, efficiency or retention')
        else:
            warnings.append('no complete cycle (a cycle needs one charge and one discharge half cycle)')

    rate_key = cycles.get(f'{numerator}_c_rate') if one_c is not None else None
    rate_values = rate_key if rate_key is not None else cycles[f'{numerator}_current_ma']
    blocks, _rate_runs, formation_info = _detect_blocks(
        cycles,
        rate_values,
        rate_is_c=one_c is not None,
        formation_cycles=formation_cycles,
        rate_tolerance=rate_tolerance,
        max_formation_cycles=max_formation_cycles,
        rate_step_cycles=rate_step_cycles,
        long_term_min_cycles=long_term_min_cycles,
        cutoff_tolerance_v=cutoff_tolerance_v,
        forced_rate_test=rate_test,
    )
    reference_cycle, reference_reason = _choose_reference(
        reference, cycles, blocks, formation_info, one_c, rate_tolerance, numerator
    )
    _add_retention(cycles, reference_cycle, numerator)
    rate_table = _rate_table(cycles, blocks, numerator, masses, one_c)

    conventions = {
        'first_half': first_half,
        'ce_convention': ce_convention,
        'retention_half': numerator,
        'reference_rule': _describe_rule(reference),
        'integration': integration,
        'rest_current_ma': seg.rest_current_ma,
        'cv_detection': seg.cv_source,
        'cycle_numbering': 'cycle 0 holds half cycles before the first opening half cycle; complete cycles from 1',
        'cycles_to_threshold_rule': 'first cycle after the reference below x %, with 2 of 3 consecutive cycles below',
        'rate_tolerance': rate_tolerance,
        'max_formation_cycles': max_formation_cycles,
        'rate_step_cycles': [int(x) for x in rate_step_cycles],
        'long_term_min_cycles': long_term_min_cycles,
        'cutoff_tolerance_v': cutoff_tolerance_v,
        'min_half_cycle_fraction': min_half_cycle_fraction,
        'cv_voltage_tolerance_v': cv_voltage_tolerance_v,
        'cv_current_fraction': cv_current_fraction,
        'retention_thresholds_percent': [float(x) for x in retention_thresholds_percent],
    }
    if rate_test is not None:
        conventions['rate_test'] = [int(x) for x in rate_test]
    if exclude_steps is not None:
        conventions['exclude_steps'] = [int(x) for x in exclude_steps]
    if masses:
        conventions['masses_mg'] = dict(masses)
    if area is not None:
        conventions['area_cm2'] = area
    if one_c is not None:
        conventions['one_c_ma'] = one_c
    if formation_cycles is not None:
        conventions['formation_cycles'] = int(formation_cycles)

    headline = _headline(
        half,
        cycles,
        blocks,
        rate_table,
        numerator,
        denominator,
        masses,
        reference_cycle,
        reference_reason,
        retention_at,
        retention_after,
        retention_thresholds_percent,
        pairing_agreement,
    )
    headline['method'] = 'aiida_ssb.analysis.cycling.summarise_cycling'
    if instrument_deviation is not None:
        headline['max_deviation_from_instrument_percent'] = instrument_deviation
    if pairing_agreement is not None and pairing_agreement < 0.5:
        other = 'discharge' if first_half == 'charge' else 'charge'
        warnings.append(
            f'only {pairing_agreement:.0%} of the cycles have both halves in one instrument cycle: the instrument '
            f"pairs differently; consider first_half='{other}'"
        )
    return CyclingSummary(
        half_cycles=half,
        cycles=cycles,
        blocks=blocks,
        rate_table=rate_table,
        headline=headline,
        conventions=conventions,
        warnings=warnings,
    )


def _half_cycle_table(
    seg: Segmentation,
    t: np.ndarray,
    v: np.ndarray,
    i: np.ndarray,
    masses: dict[str, float],
    area: float | None,
    one_c: float | None,
    hci: np.ndarray | None,
    cyi: np.ndarray | None,
    q_ch_counter: np.ndarray | None,
    q_dis_counter: np.ndarray | None,
    e_ch_counter: np.ndarray | None,
    e_dis_counter: np.ndarray | None,
) -> dict[str, np.ndarray]:
    starts = seg.seg_start
    first, last = seg.first_row, seg.last_row
    voltage_c = seg.voltage_c
    capacity = seg.reduce(seg.dq_c)
    energy = seg.reduce(seg.de_c)
    duration = seg.reduce(seg.dt_c)
    if seg.cv_c.any():
        cv_capacity = seg.reduce(np.where(seg.cv_c, seg.dq_c, 0.0))
        cv_energy = seg.reduce(np.where(seg.cv_c, seg.de_c, 0.0))
        cv_duration = seg.reduce(np.where(seg.cv_c, seg.dt_c, 0.0))
    else:
        cv_capacity = np.zeros(starts.size)
        cv_energy = np.zeros(starts.size)
        cv_duration = np.zeros(starts.size)
    cc_capacity = capacity - cv_capacity
    cc_duration = duration - cv_duration
    with np.errstate(divide='ignore', invalid='ignore'):
        average_voltage = np.where(capacity > 0, energy / capacity, np.nan)
        mean_current = np.where(duration > 0, capacity / (duration / _SECONDS_PER_HOUR), np.nan)
        cc_current = np.where(cc_duration > 0, cc_capacity / (cc_duration / _SECONDS_PER_HOUR), np.nan)
    table: dict[str, np.ndarray] = {
        'half_cycle': np.arange(1, starts.size + 1),
        'direction': seg.direction,
        'start_row': first,
        'end_row': last,
        'n_points': seg.seg_stop - starts,
        'start_time_s': t[first],
        'end_time_s': t[last],
        'duration_s': duration,
        'capacity_mah': capacity,
        'energy_mwh': energy,
        'average_voltage_v': average_voltage,
        'mean_current_ma': mean_current,
        'max_current_ma': np.maximum.reduceat(seg.current_c, starts),
        'start_voltage_v': v[first],
        'end_voltage_v': v[last],
        'min_voltage_v': np.minimum.reduceat(voltage_c, starts),
        'max_voltage_v': np.maximum.reduceat(voltage_c, starts),
        'cc_capacity_mah': cc_capacity,
        'cv_capacity_mah': cv_capacity,
        'cc_energy_mwh': energy - cv_energy,
        'cv_energy_mwh': cv_energy,
        'cc_duration_s': cc_duration,
        'cv_duration_s': cv_duration,
        'cc_current_ma': cc_current,
    }
    if one_c is not None:
        table['c_rate'] = cc_current / one_c
    if area is not None:
        table['capacity_mah_cm2'] = capacity / area
        table['current_density_ma_cm2'] = cc_current / area
    charge = seg.direction > 0
    if q_ch_counter is not None and q_dis_counter is not None:
        inc_ch = seg.reduce(_counter_increments(q_ch_counter, seg))
        inc_dis = seg.reduce(_counter_increments(q_dis_counter, seg))
        table['capacity_instrument_mah'] = np.where(charge, inc_ch, inc_dis)
    if e_ch_counter is not None and e_dis_counter is not None:
        inc_ch = seg.reduce(_counter_increments(e_ch_counter, seg))
        inc_dis = seg.reduce(_counter_increments(e_dis_counter, seg))
        table['energy_instrument_mwh'] = np.where(charge, inc_ch, inc_dis)
    if hci is not None:
        table['instrument_half_cycle_index'] = hci[first]
    if cyi is not None:
        table['instrument_cycle_index'] = cyi[first]
    _per_mass(table, masses, (('capacity_mah', 'capacity', 'mah_g'), ('energy_mwh', 'energy', 'wh_kg')))
    return table


def _truncated_last_half_cycle(half: dict[str, np.ndarray], cutoff_tolerance_v: float) -> str | None:
    """A message when the record seems to end inside its last half cycle, else None.

    The last half cycle is *truncated* when it neither ends near the voltage at which the earlier half cycles
    of its direction end (within ``max(3 x cutoff_tolerance_v, 2 % of the voltage span)``) nor lasts at least
    98 % of their median duration (a time- or capacity-limited protocol ends normally). Needs at least two
    earlier half cycles of that direction.
    """
    direction = half['direction']
    k = direction.size - 1
    same = np.flatnonzero(direction[:k] == direction[k])
    if same.size < 2:
        return None
    end_v = half['end_voltage_v']
    reference_v = float(np.median(end_v[same]))
    reference_s = float(np.median(half['duration_s'][same]))
    span = float(np.max(half['max_voltage_v']) - np.min(half['min_voltage_v']))
    tolerance = max(3.0 * cutoff_tolerance_v, 0.02 * span)
    if abs(end_v[k] - reference_v) <= tolerance or half['duration_s'][k] >= 0.98 * reference_s:
        return None
    name = 'charge' if direction[k] > 0 else 'discharge'
    return (
        f'the record seems to end inside half cycle {k + 1} ({name} ends at {end_v[k]:.3f} V after '
        f'{half["duration_s"][k]:.0f} s; the earlier ones end at {reference_v:.3f} V after {reference_s:.0f} s): '
        'its cycle is treated as incomplete'
    )


def _cycle_table(
    half: dict[str, np.ndarray],
    first_half: str,
    ce_convention: str,
    masses: dict[str, float],
    area: float | None,
    one_c: float | None,
) -> tuple[dict[str, np.ndarray], float | None]:
    direction = half['direction']
    opening = 1 if first_half == 'charge' else -1
    cycle_of_half = np.cumsum(direction == opening)
    first_number = int(cycle_of_half[0])
    slot = cycle_of_half - first_number
    n_cycles = int(slot[-1]) + 1
    is_ch = direction > 0
    is_dis = ~is_ch

    def by_cycle(values: np.ndarray, which: np.ndarray) -> np.ndarray:
        return np.bincount(slot, weights=np.where(which, values, 0.0), minlength=n_cycles)

    n_ch = np.bincount(slot, weights=is_ch.astype(float), minlength=n_cycles)
    n_dis = np.bincount(slot, weights=is_dis.astype(float), minlength=n_cycles)
    has_ch = n_ch > 0
    has_dis = n_dis > 0

    def masked(values: np.ndarray, present: np.ndarray) -> np.ndarray:
        return np.where(present, values, np.nan)

    q_ch = masked(by_cycle(half['capacity_mah'], is_ch), has_ch)
    q_dis = masked(by_cycle(half['capacity_mah'], is_dis), has_dis)
    e_ch = masked(by_cycle(half['energy_mwh'], is_ch), has_ch)
    e_dis = masked(by_cycle(half['energy_mwh'], is_dis), has_dis)
    cc_q_ch = by_cycle(half['cc_capacity_mah'], is_ch)
    cc_q_dis = by_cycle(half['cc_capacity_mah'], is_dis)
    cc_t_ch = by_cycle(half['cc_duration_s'], is_ch)
    cc_t_dis = by_cycle(half['cc_duration_s'], is_dis)
    with np.errstate(divide='ignore', invalid='ignore'):
        v_ch = e_ch / q_ch
        v_dis = e_dis / q_dis
        i_ch = np.where(cc_t_ch > 0, cc_q_ch / (cc_t_ch / _SECONDS_PER_HOUR), np.nan)
        i_dis = np.where(cc_t_dis > 0, cc_q_dis / (cc_t_dis / _SECONDS_PER_HOUR), np.nan)
    upper = np.full(n_cycles, -np.inf)
    lower = np.full(n_cycles, np.inf)
    np.maximum.at(upper, slot, half['max_voltage_v'])
    np.minimum.at(lower, slot, half['min_voltage_v'])
    ch_upper = np.full(n_cycles, -np.inf)
    np.maximum.at(ch_upper, slot[is_ch], half['max_voltage_v'][is_ch])
    start_time = np.full(n_cycles, np.inf)
    end_time = np.full(n_cycles, -np.inf)
    np.minimum.at(start_time, slot, half['start_time_s'])
    np.maximum.at(end_time, slot, half['end_time_s'])

    complete = has_ch & has_dis
    complete &= np.bincount(slot, weights=half['truncated'], minlength=n_cycles) == 0
    numerator, denominator = CE_CONVENTIONS[ce_convention]
    q = {'charge': q_ch, 'discharge': q_dis}
    e = {'charge': e_ch, 'discharge': e_dis}
    ce = _ratio_percent(q[numerator], q[denominator])
    ee = _ratio_percent(e[numerator], e[denominator])
    irreversible = q[denominator] - q[numerator]
    table: dict[str, np.ndarray] = {
        'cycle': np.arange(n_cycles) + first_number,
        'complete': complete,
        'n_half_cycles': np.bincount(slot, minlength=n_cycles),
        'start_time_s': start_time,
        'end_time_s': end_time,
        'charge_capacity_mah': q_ch,
        'discharge_capacity_mah': q_dis,
        'charge_energy_mwh': e_ch,
        'discharge_energy_mwh': e_dis,
        'average_charge_voltage_v': v_ch,
        'average_discharge_voltage_v': v_dis,
        'voltage_gap_v': v_ch - v_dis,
        'coulombic_efficiency_percent': ce,
        'energy_efficiency_percent': ee,
        'irreversible_capacity_mah': irreversible,
        'cumulative_irreversible_capacity_mah': np.cumsum(np.nan_to_num(irreversible)),
        'cumulative_charge_capacity_mah': np.cumsum(np.nan_to_num(q_ch)),
        'cumulative_discharge_capacity_mah': np.cumsum(np.nan_to_num(q_dis)),
        'charge_current_ma': i_ch,
        'discharge_current_ma': i_dis,
        'upper_voltage_v': np.where(np.isfinite(upper), upper, np.nan),
        'lower_voltage_v': np.where(np.isfinite(lower), lower, np.nan),
        'charge_upper_voltage_v': np.where(np.isfinite(ch_upper), ch_upper, np.nan),
    }
    if one_c is not None:
        table['charge_c_rate'] = i_ch / one_c
        table['discharge_c_rate'] = i_dis / one_c
    if 'capacity_instrument_mah' in half:
        table['charge_capacity_instrument_mah'] = masked(by_cycle(half['capacity_instrument_mah'], is_ch), has_ch)
        table['discharge_capacity_instrument_mah'] = masked(by_cycle(half['capacity_instrument_mah'], is_dis), has_dis)
    if 'energy_instrument_mwh' in half:
        table['charge_energy_instrument_mwh'] = masked(by_cycle(half['energy_instrument_mwh'], is_ch), has_ch)
        table['discharge_energy_instrument_mwh'] = masked(by_cycle(half['energy_instrument_mwh'], is_dis), has_dis)
    if area is not None:
        table['charge_capacity_mah_cm2'] = q_ch / area
        table['discharge_capacity_mah_cm2'] = q_dis / area
    _per_mass(
        table,
        masses,
        (
            ('charge_capacity_mah', 'charge_capacity', 'mah_g'),
            ('discharge_capacity_mah', 'discharge_capacity', 'mah_g'),
            ('irreversible_capacity_mah', 'irreversible_capacity', 'mah_g'),
            ('charge_energy_mwh', 'charge_energy', 'wh_kg'),
            ('discharge_energy_mwh', 'discharge_energy', 'wh_kg'),
        ),
    )
    half['cycle'] = cycle_of_half
    pairing = None
    if 'instrument_cycle_index' in half and complete.any():
        inst = half['instrument_cycle_index']
        lo = np.full(n_cycles, np.inf)
        hi = np.full(n_cycles, -np.inf)
        np.minimum.at(lo, slot, inst)
        np.maximum.at(hi, slot, inst)
        same = (lo == hi)[complete]
        if np.unique(inst).size > 1:
            pairing = float(same.mean())
        table['instrument_cycle_index'] = np.where(np.isfinite(lo), lo, np.nan)
    return table, pairing


# --------------------------------------------------------------------------------------------------
# protocol blocks
# --------------------------------------------------------------------------------------------------


def _runs_of_rate(rates: np.ndarray, tolerance: float, forced_breaks: Sequence[int] = ()) -> list[tuple[int, int]]:
    """Index ranges [start, stop) of consecutive entries with the same rate (relative tolerance)."""
    m = rates.size
    if m == 0:
        return []
    brk = np.zeros(m, dtype=bool)
    brk[0] = True
    if m > 1:
        change = _relative_change(rates)
        brk[1:] = ~(change <= tolerance)
    for position in forced_breaks:
        if 0 < position < m:
            brk[position] = True
    starts = np.flatnonzero(brk)
    stops = np.r_[starts[1:], m]
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _rate_entry(rate: float, rate_is_c: bool) -> dict[str, float]:
    return {'c_rate': float(rate)} if rate_is_c else {'current_ma': float(rate)}


def _detect_blocks(
    cycles: dict[str, np.ndarray],
    rate_values: np.ndarray,
    *,
    rate_is_c: bool,
    formation_cycles: int | None,
    rate_tolerance: float,
    max_formation_cycles: int,
    rate_step_cycles: tuple[int, int],
    long_term_min_cycles: int,
    cutoff_tolerance_v: float,
    forced_rate_test: tuple[int, int] | None,
) -> tuple[list[dict[str, Any]], list[tuple[int, int]], dict[str, Any]]:
    complete = cycles['complete']
    numbers = cycles['cycle'][complete]
    rates = rate_values[complete]
    m = numbers.size
    blocks: list[dict[str, Any]] = []
    formation: dict[str, Any] = {'source': 'none', 'n_cycles': 0}
    if m == 0:
        return blocks, [], formation

    def median_rate(a: int, b: int) -> float:
        return float(np.nanmedian(rates[a:b]))

    breaks: list[int] = []
    n_form_given = None
    if formation_cycles is not None:
        n_form_given = min(int(formation_cycles), m)
        breaks.append(n_form_given)
    if forced_rate_test is not None:
        first, last = forced_rate_test
        in_test = (numbers >= first) & (numbers <= last)
        if not in_test.any():
            raise CyclingError(f'rate_test: no complete cycle between {first} and {last}')
        breaks += [int(np.flatnonzero(in_test)[0]), int(np.flatnonzero(in_test)[-1]) + 1]
    runs = _runs_of_rate(rates, rate_tolerance, breaks)

    labels = ['constant_rate'] * len(runs)
    if n_form_given:
        for k, (_, b) in enumerate(runs):
            if b <= n_form_given:
                labels[k] = 'formation'

    # rate tests: consecutive short runs with >= 3 distinct rates
    lo, hi = rate_step_cycles
    rate_tests: list[list[int]] = []
    if forced_rate_test is not None:
        first, last = forced_rate_test
        members = [k for k, (a, b) in enumerate(runs) if numbers[a] >= first and numbers[b - 1] <= last]
        rate_tests.append(members)
    else:
        current: list[int] = []

        def close(group: list[int]) -> None:
            if len(group) >= 3:
                distinct = _distinct([median_rate(*runs[k]) for k in group], rate_tolerance)
                if distinct >= 3:
                    rate_tests.append(list(group))

        for k, (a, b) in enumerate(runs):
            if labels[k] == 'formation':
                continue
            if lo <= b - a <= hi:
                current.append(k)
            else:
                close(current)
                current = []
        close(current)
    in_rate_test = {k for group in rate_tests for k in group}

    # formation detection (when not given)
    if n_form_given is not None:
        formation = {'source': 'given', 'n_cycles': n_form_given}
    elif len(runs) >= 2 and 0 not in in_rate_test:
        a, b = runs[0]
        if b - a <= max_formation_cycles and median_rate(*runs[1]) > median_rate(a, b) * (1 + rate_tolerance):
            labels[0] = 'formation'
            formation = {'source': 'detected', 'n_cycles': b - a}

    for k, (a, b) in enumerate(runs):
        if k in in_rate_test or labels[k] == 'formation':
            continue
        labels[k] = 'long_term' if b - a >= long_term_min_cycles else 'constant_rate'

    # assemble blocks in cycle order
    emitted_tests: set[int] = set()
    for k, (a, b) in enumerate(runs):
        if k in in_rate_test:
            group_id = next(g for g, group in enumerate(rate_tests) if k in group)
            if group_id in emitted_tests:
                continue
            emitted_tests.add(group_id)
            group = rate_tests[group_id]
            steps = []
            for member in group:
                sa, sb = runs[member]
                step = {'first_cycle': int(numbers[sa]), 'last_cycle': int(numbers[sb - 1]), 'n_cycles': sb - sa}
                step.update(_rate_entry(median_rate(sa, sb), rate_is_c))
                steps.append(step)
            ga, gb = runs[group[0]][0], runs[group[-1]][1]
            blocks.append(
                {
                    'kind': 'rate_test',
                    'first_cycle': int(numbers[ga]),
                    'last_cycle': int(numbers[gb - 1]),
                    'n_cycles': gb - ga,
                    'steps': steps,
                    'source': 'given' if forced_rate_test is not None else 'detected',
                }
            )
            continue
        block = {
            'kind': labels[k],
            'first_cycle': int(numbers[a]),
            'last_cycle': int(numbers[b - 1]),
            'n_cycles': b - a,
        }
        block.update(_rate_entry(median_rate(a, b), rate_is_c))
        if labels[k] == 'formation':
            block['source'] = formation['source']
        blocks.append(block)

    # merge consecutive formation runs (given formation may span two rates)
    merged: list[dict[str, Any]] = []
    for block in blocks:
        if merged and block['kind'] == 'formation' and merged[-1]['kind'] == 'formation':
            merged[-1]['last_cycle'] = block['last_cycle']
            merged[-1]['n_cycles'] += block['n_cycles']
            continue
        merged.append(block)
    blocks = merged
    stepwise = _stepwise_cutoff(numbers, cycles['charge_upper_voltage_v'][complete], cutoff_tolerance_v)
    if stepwise is not None:
        blocks.append(stepwise)
    blocks.sort(key=lambda blk: (blk['first_cycle'], blk['kind'] == 'stepwise_upper_cutoff'))
    formation['cycles'] = [int(x) for x in numbers[: formation['n_cycles']]]
    return blocks, runs, formation


def _distinct(values: Sequence[float], tolerance: float) -> int:
    ordered = sorted(v for v in values if math.isfinite(v))
    count = 0
    last = None
    for value in ordered:
        if last is None or abs(value / last - 1.0) > tolerance:
            count += 1
            last = value
    return count


def _stepwise_cutoff(numbers: np.ndarray, upper: np.ndarray, tolerance: float) -> dict[str, Any] | None:
    """Longest sequence of >= 3 groups of cycles whose upper cut-off rises by the same step every N cycles."""
    m = upper.size
    if m < 3 or not np.isfinite(upper).all():
        return None
    brk = np.zeros(m, dtype=bool)
    brk[0] = True
    brk[1:] = np.abs(np.diff(upper)) > tolerance
    starts = np.flatnonzero(brk)
    stops = np.r_[starts[1:], m]
    levels = np.array([np.median(upper[a:b]) for a, b in zip(starts, stops, strict=True)])
    sizes = stops - starts
    best: tuple[int, int] | None = None
    g = 0
    while g < levels.size - 1:
        h = g
        while (
            h + 1 < levels.size
            and levels[h + 1] - levels[h] >= 2 * tolerance
            and (h + 1 == levels.size - 1 or sizes[h + 1] == sizes[g])
            and (h == g or abs((levels[h + 1] - levels[h]) - (levels[g + 1] - levels[g])) <= tolerance)
        ):
            h += 1
        if h - g + 1 >= 3 and (best is None or h - g > best[1] - best[0]):
            best = (g, h)
        g = max(h, g + 1)
    if best is None:
        return None
    g, h = best
    steps = np.diff(levels[g : h + 1])
    return {
        'kind': 'stepwise_upper_cutoff',
        'first_cycle': int(numbers[starts[g]]),
        'last_cycle': int(numbers[stops[h] - 1]),
        'n_cycles': int(stops[h] - starts[g]),
        'cycles_per_step': int(sizes[g]),
        'step_v': float(np.median(steps)),
        'upper_cutoffs_v': [float(x) for x in levels[g : h + 1]],
    }


def _describe_rule(reference: Any) -> str:
    if isinstance(reference, str):
        return reference
    return ':'.join(str(x) for x in reference)


def _choose_reference(
    reference: Any,
    cycles: dict[str, np.ndarray],
    blocks: list[dict[str, Any]],
    formation: dict[str, Any],
    one_c: float | None,
    tolerance: float,
    numerator: str,
) -> tuple[int | None, str]:
    complete = cycles['complete']
    numbers = cycles['cycle'][complete]
    if numbers.size == 0:
        return None, 'no complete cycle'
    if reference == 'first':
        return int(numbers[0]), 'first complete cycle'
    if reference == 'first_after_formation':
        n_form = formation['n_cycles']
        if n_form >= numbers.size:
            raise CyclingError(
                f'reference first_after_formation: all {numbers.size} complete cycles are formation cycles'
            )
        if formation['source'] == 'none':
            return int(numbers[0]), 'no formation cycles detected (formation_cycles not given): first complete cycle'
        return int(numbers[n_form]), f'first cycle after {n_form} formation cycle(s) ({formation["source"]})'
    if reference == 'first_after_rate_test':
        tests = [b for b in blocks if b['kind'] == 'rate_test']
        if not tests:
            raise CyclingError('reference first_after_rate_test: no rate test detected (pass rate_test=(first, last))')
        end = tests[0]['last_cycle']
        after = numbers[numbers > end]
        if after.size == 0:
            raise CyclingError(
                f'reference first_after_rate_test: no complete cycle after the rate test (ends at cycle {end})'
            )
        return int(after[0]), f'first complete cycle after the rate test (cycles {tests[0]["first_cycle"]}-{end})'
    if isinstance(reference, (tuple, list)) and len(reference) == 2:
        rule, value = reference
        if rule == 'cycle':
            number = int(value)
            if number not in set(numbers.tolist()):
                raise CyclingError(f'reference (cycle, {number}): cycle {number} is missing or incomplete')
            return number, f'cycle {number} (given)'
        if rule == 'first_at_c_rate':
            if one_c is None:
                raise CyclingError('reference first_at_c_rate: needs one_c_ma to know the C-rate of each cycle')
            wanted = float(value)
            rates = cycles[f'{numerator}_c_rate'][complete]
            with np.errstate(divide='ignore', invalid='ignore'):
                match = np.abs(rates / wanted - 1.0) <= tolerance
            if not match.any():
                raise CyclingError(
                    f'reference first_at_c_rate: no complete cycle at {wanted}C (tolerance {tolerance:.0%})'
                )
            return int(numbers[np.flatnonzero(match)[0]]), f'first complete cycle at {wanted:g}C ({numerator})'
    raise CyclingError(
        f"reference: {reference!r} is not one of 'first', ('cycle', N), 'first_after_formation', "
        "('first_at_c_rate', rate), 'first_after_rate_test'"
    )


def _add_retention(cycles: dict[str, np.ndarray], reference_cycle: int | None, numerator: str) -> None:
    q = cycles[f'{numerator}_capacity_mah']
    e = cycles[f'{numerator}_energy_mwh']
    if reference_cycle is None:
        cycles['capacity_retention_percent'] = np.full(q.size, np.nan)
        cycles['energy_retention_percent'] = np.full(q.size, np.nan)
        return
    pos = int(np.flatnonzero(cycles['cycle'] == reference_cycle)[0])
    cycles['capacity_retention_percent'] = _ratio_percent(q, np.full(q.size, q[pos]))
    cycles['energy_retention_percent'] = _ratio_percent(e, np.full(e.size, e[pos]))
    incomplete = ~cycles['complete']
    cycles['capacity_retention_percent'][incomplete] = np.nan
    cycles['energy_retention_percent'][incomplete] = np.nan


def _rate_table(
    cycles: dict[str, np.ndarray],
    blocks: list[dict[str, Any]],
    numerator: str,
    masses: dict[str, float],
    one_c: float | None,
) -> dict[str, np.ndarray]:
    tests = [b for b in blocks if b['kind'] == 'rate_test']
    if not tests:
        return {}
    steps = tests[0]['steps']
    position = {int(c): k for k, c in enumerate(cycles['cycle'])}
    used = []
    for step in steps:
        used.append(step['first_cycle'] + 1 if step['n_cycles'] >= 2 else step['first_cycle'])
    rows = np.array([position[c] for c in used])
    capacity = cycles[f'{numerator}_capacity_mah'][rows]
    table: dict[str, np.ndarray] = {
        'step': np.arange(1, len(steps) + 1),
        'first_cycle': np.array([s['first_cycle'] for s in steps]),
        'n_cycles': np.array([s['n_cycles'] for s in steps]),
        'cycle_used': np.array(used),
        'current_ma': cycles[f'{numerator}_current_ma'][rows],
        f'{numerator}_capacity_mah': capacity,
        f'average_{numerator}_voltage_v': cycles[f'average_{numerator}_voltage_v'][rows],
    }
    if one_c is not None:
        table['c_rate'] = cycles[f'{numerator}_c_rate'][rows]
    rate = table['c_rate'] if one_c is not None else table['current_ma']
    lowest = int(np.nanargmin(rate))
    table['capacity_relative_to_lowest_rate_percent'] = _ratio_percent(
        capacity, np.full(capacity.size, capacity[lowest])
    )
    _per_mass(table, masses, ((f'{numerator}_capacity_mah', f'{numerator}_capacity', 'mah_g'),))
    return table


# --------------------------------------------------------------------------------------------------
# headline numbers
# --------------------------------------------------------------------------------------------------


def _headline(
    half: dict[str, np.ndarray],
    cycles: dict[str, np.ndarray],
    blocks: list[dict[str, Any]],
    rate_table: dict[str, np.ndarray],
    numerator: str,
    denominator: str,
    masses: dict[str, float],
    reference_cycle: int | None,
    reference_reason: str,
    retention_at: Sequence[int],
    retention_after: Sequence[int],
    thresholds: Sequence[float],
    pairing_agreement: float | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        'n_half_cycles': int(half['half_cycle'].size),
        'n_cycles': int(cycles['cycle'].size),
        'n_complete_cycles': int(cycles['complete'].sum()),
        'n_charge_half_cycles': int((half['direction'] > 0).sum()),
        'n_discharge_half_cycles': int((half['direction'] < 0).sum()),
        'total_charge_capacity_mah': float(half['capacity_mah'][half['direction'] > 0].sum()),
        'total_discharge_capacity_mah': float(half['capacity_mah'][half['direction'] < 0].sum()),
    }
    if pairing_agreement is not None:
        out['instrument_pairing_agreement'] = pairing_agreement

    def put(key: str, value: Any) -> None:
        value = _py(value)
        if isinstance(value, float) and not math.isfinite(value):
            return
        out[key] = value

    complete = cycles['complete']
    positions = np.flatnonzero(complete)
    if positions.size == 0:
        return out
    number_to_pos = {int(c): k for k, c in enumerate(cycles['cycle'])}
    first = int(positions[0])
    end = int(positions[-1])

    def cycle_numbers(prefix: str, pos: int) -> None:
        put(f'{prefix}_cycle', int(cycles['cycle'][pos]))
        for half_name in ('charge', 'discharge'):
            put(f'{prefix}_{half_name}_capacity_mah', cycles[f'{half_name}_capacity_mah'][pos])
            for basis in masses:
                put(f'{prefix}_{half_name}_capacity_mah_g_{basis}', cycles[f'{half_name}_capacity_mah_g_{basis}'][pos])
            put(f'{prefix}_{half_name}_energy_mwh', cycles[f'{half_name}_energy_mwh'][pos])
            put(f'{prefix}_average_{half_name}_voltage_v', cycles[f'average_{half_name}_voltage_v'][pos])
        put(f'{prefix}_coulombic_efficiency_percent', cycles['coulombic_efficiency_percent'][pos])
        put(f'{prefix}_energy_efficiency_percent', cycles['energy_efficiency_percent'][pos])
        put(f'{prefix}_voltage_gap_v', cycles['voltage_gap_v'][pos])
        for basis in masses:
            put(f'{prefix}_specific_energy_wh_kg_{basis}', cycles[f'{numerator}_energy_wh_kg_{basis}'][pos])
        if 'charge_capacity_mah_cm2' in cycles:
            put(f'{prefix}_{numerator}_capacity_mah_cm2', cycles[f'{numerator}_capacity_mah_cm2'][pos])

    cycle_numbers('initial', first)
    put('first_cycle_irreversible_capacity_mah', cycles['irreversible_capacity_mah'][first])
    for basis in masses:
        put(f'first_cycle_irreversible_capacity_mah_g_{basis}', cycles[f'irreversible_capacity_mah_g_{basis}'][first])
    cycle_numbers('end', end)
    out['reference_reason'] = reference_reason
    if reference_cycle is not None:
        ref = number_to_pos[reference_cycle]
        cycle_numbers('reference', ref)
        retention = cycles['capacity_retention_percent']
        energy_retention = cycles['energy_retention_percent']
        put('capacity_retention_percent_at_end', retention[end])
        put('energy_retention_percent_at_end', energy_retention[end])
        requested = [(f'at_cycle_{int(c)}', int(c)) for c in retention_at]
        requested += [(f'after_{int(k)}_cycles', reference_cycle + int(k) - 1) for k in retention_after]
        for label, number in requested:
            pos = number_to_pos.get(number)
            if pos is None or not complete[pos]:
                continue
            put(f'capacity_retention_percent_{label}', retention[pos])
            put(f'energy_retention_percent_{label}', energy_retention[pos])
            put(f'{numerator}_capacity_mah_{label}', cycles[f'{numerator}_capacity_mah'][pos])
        comp_numbers = cycles['cycle'][complete]
        comp_ret = retention[complete]
        comp_eret = energy_retention[complete]
        ref_pos_c = int(np.flatnonzero(comp_numbers == reference_cycle)[0])
        for threshold in thresholds:
            tag = f'{threshold:g}'.replace('.', 'p')
            hit = _cycles_below(comp_ret, ref_pos_c, threshold)
            if hit is not None:
                put(f'cycles_to_{tag}_percent', int(comp_numbers[hit]) - reference_cycle)
                put(f'cycle_below_{tag}_percent', int(comp_numbers[hit]))
            hit = _cycles_below(comp_eret, ref_pos_c, threshold)
            if hit is not None:
                put(f'cycles_to_{tag}_percent_energy', int(comp_numbers[hit]) - reference_cycle)
        after = comp_ret[ref_pos_c:]
        if after.size:
            put('min_capacity_retention_percent', np.nanmin(after))
    ce = cycles['coulombic_efficiency_percent'][complete]
    if ce.size > 1:
        put('median_coulombic_efficiency_percent_after_first', np.nanmedian(ce[1:]))
    for block in blocks:
        if block['kind'] == 'formation':
            put('formation_cycles', block['n_cycles'])
            break
    if rate_table:
        rate = rate_table['c_rate'] if 'c_rate' in rate_table else rate_table['current_ma']
        unit = 'c_rate' if 'c_rate' in rate_table else 'current_ma'
        low = int(np.nanargmin(rate))
        high = int(np.nanargmax(rate))
        capacity = rate_table[f'{numerator}_capacity_mah']
        put('rate_capability_percent', 100.0 * capacity[high] / capacity[low])
        put(f'rate_capability_high_{unit}', rate[high])
        put(f'rate_capability_low_{unit}', rate[low])
        if rate.size >= 2 and abs(rate[-1] / rate[0] - 1.0) <= 0.1:
            put('rate_recovery_percent', 100.0 * capacity[-1] / capacity[0])
    return out


# --------------------------------------------------------------------------------------------------
# convenience: from a parsed Measurement
# --------------------------------------------------------------------------------------------------

_MEASUREMENT_COLUMNS = {
    'cycle_index': 'cycle_index',
    'half_cycle_index': 'half_cycle_index',
    'step_index': 'step_index',
    'control_mode': 'control_mode',
    'charge_capacity_mah': 'charge_capacity_mah',
    'discharge_capacity_mah': 'discharge_capacity_mah',
    'charge_energy_mwh': 'charge_energy_mwh',
    'discharge_energy_mwh': 'discharge_energy_mwh',
}


def summarise_measurement(measurement: Any, **options: Any) -> CyclingSummary:
    """:func:`summarise_cycling` on a parsed measurement (anything with a ``columns`` mapping).

    The canonical columns ``time_s``, ``voltage_v`` and ``current_ma`` are required; the optional ones
    (cycle and half-cycle counters, step index, control mode, instrument capacity and energy counters)
    are passed on when present, unless ``options`` sets them explicitly.

    :param measurement: an :class:`aiida_ssb.parsers.base.Measurement` (or a mapping of column arrays).
    :param options: keyword arguments of :func:`summarise_cycling`.
    :raises CyclingError: when a required column is missing, or for the reasons of :func:`summarise_cycling`.
    """
    columns = getattr(measurement, 'columns', measurement)
    missing = [name for name in ('time_s', 'voltage_v', 'current_ma') if name not in columns]
    if missing:
        raise CyclingError(f'measurement: missing column(s) {", ".join(missing)}; have {", ".join(sorted(columns))}')
    for keyword, column in _MEASUREMENT_COLUMNS.items():
        if keyword not in options and column in columns:
            options[keyword] = columns[column]
    return summarise_cycling(columns['time_s'], columns['voltage_v'], columns['current_ma'], **options)
