"""Segmentation of a galvanostatic record into half cycles (shared with the critical current density).

The rules are listed in :func:`segment_half_cycles`; the result, a :class:`Segmentation`, keeps the counted rows
and the charge, energy and time each of them owns, so that every per-half-cycle quantity is one
:func:`numpy.add.reduceat` away.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from aiida_ssb.analysis.cycling.inputs import SECONDS_PER_HOUR, CyclingError

__all__ = ['Segmentation', 'counter_increments', 'integrate_energy', 'segment_half_cycles']


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
        return np.asarray(self.rows[self.seg_start])

    @property
    def last_row(self) -> np.ndarray:
        """Record row index of each half cycle's last counted row."""
        return np.asarray(self.rows[self.seg_stop - 1])

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
    abs_current = np.abs(current_ma)
    valid = _valid_rows(voltage_v, abs_current, exclude, exclude_steps, step_index)
    threshold = _rest_threshold(abs_current, valid, rest_current_ma)
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
    direction, pot = _directions(time_s, current_ma, active, control_mode)
    notes: list[str] = []
    counters = [c for c in (_informative(half_cycle_index), _informative(cycle_index)) if c is not None]
    if half_cycle_index is not None and not counters and cycle_index is None:
        notes.append('half_cycle_index never changes: half cycles come from the current sign alone')
    dt_full = np.empty(time_s.size)
    dt_full[0] = 0.0
    np.subtract(time_s[1:], time_s[:-1], out=dt_full[1:])
    rows = np.flatnonzero(active)
    rows, new, adjacent = _drop_noise_runs(
        rows, direction, counters, dt_full, abs_current, min_half_cycle_fraction, notes
    )
    seg_start = np.flatnonzero(new)
    seg_stop = np.r_[seg_start[1:], rows.size]
    # interval ownership: inside the half cycle (the previous row is the previous counted row of the same
    # half cycle), opening after a valid row (own current), or nothing (after an invalid row / at row 0)
    prev_same = adjacent
    prev_same &= ~new
    openings = np.flatnonzero(~prev_same)
    opening_rows = rows[openings]
    orphan = (opening_rows == 0) | ~valid[np.maximum(opening_rows - 1, 0)]
    dt_c = dt_full[rows]
    dt_c[openings[orphan]] = 0.0
    current_c = abs_current[rows]
    voltage_c = voltage_v[rows]
    dt_h = dt_c * (1.0 / SECONDS_PER_HOUR)
    dq_c = _integrate(current_c, dt_h, prev_same, integration)
    de_c = _integrate(current_c * voltage_c, dt_h, prev_same, integration, own=True)
    if pot is not None:
        cv_c = pot[rows]
    elif control_mode is not None:
        cv_c = np.zeros(rows.size, dtype=bool)
    else:
        cv_c = _cv_from_plateau(current_c, voltage_c, seg_start, seg_stop, cv_voltage_tolerance_v, cv_current_fraction)
    return Segmentation(
        n_rows=time_s.size,
        rows=rows,
        seg_start=seg_start,
        seg_stop=seg_stop,
        direction=np.where(direction[rows[seg_start]], 1, -1).astype(np.int64),
        cv_c=cv_c,
        dq_c=dq_c,
        de_c=de_c,
        dt_c=dt_c,
        current_c=current_c,
        voltage_c=voltage_c,
        prev_same_c=prev_same,
        orphan_c=openings[orphan],
        rest_current_ma=threshold,
        cv_source='voltage_plateau' if control_mode is None else 'control_mode',
        integration=integration,
        notes=notes,
    )


def _valid_rows(
    voltage_v: np.ndarray,
    abs_current: np.ndarray,
    exclude: Any,
    exclude_steps: Sequence[int] | None,
    step_index: np.ndarray | None,
) -> np.ndarray:
    """Rule 1: finite voltage and current, not excluded by mask or step."""
    n = abs_current.size
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
    return np.asarray(valid)


def _rest_threshold(abs_current: np.ndarray, valid: np.ndarray, rest_current_ma: float | None) -> float:
    """Rule 2: the given rest current, else 0.1 % of the 99th percentile of |I|."""
    if rest_current_ma is not None:
        return float(rest_current_ma)
    top = _quantile(abs_current[valid] if not valid.all() else abs_current, 0.99)
    if top <= 0:
        top = float(np.max(abs_current, where=valid, initial=0.0))
    return 1e-3 * top


def _directions(
    time_s: np.ndarray, current_ma: np.ndarray, active: np.ndarray, control_mode: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rule 3: the direction of each row (True = charge) and the potentiostatic rows (None without any).
    CV runs take the sign of their net charge; their rows of the other sign leave ``active`` (in place)."""
    positive = current_ma > 0
    if control_mode is None:
        return positive, None
    pot = active & (control_mode == 2)
    if not pot.any():
        return positive, None
    edges = np.diff(pot.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    run_start = np.flatnonzero(edges == 1)
    run_end = np.flatnonzero(edges == -1)
    dt_full = np.diff(time_s, prepend=time_s[0])
    net = np.add.reduceat(np.where(pot, current_ma * dt_full, 0.0), run_start)
    direction = positive.copy()
    direction[pot] = np.repeat(net >= 0, run_end - run_start)
    active &= positive == direction
    return direction, pot


def _split(rows: np.ndarray, direction: np.ndarray, counters: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rule 4: half-cycle starts among ``rows`` and whether each row directly follows the previous one."""
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


def _drop_noise_runs(
    rows: np.ndarray,
    direction: np.ndarray,
    counters: list[np.ndarray],
    dt_full: np.ndarray,
    abs_current: np.ndarray,
    min_half_cycle_fraction: float,
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rules 4 and 5: split the counted rows into half cycles and drop tiny reversed runs as noise.
    Returns the rows kept, the half-cycle starts among them and their adjacency."""
    new, adjacent = _split(rows, direction, counters)
    seg_start = np.flatnonzero(new)
    if seg_start.size <= 2 or min_half_cycle_fraction <= 0:
        return rows, new, adjacent
    dt_c = dt_full[rows]
    sample = dt_c[:: max(1, dt_c.size // 4096)]
    sample = sample[sample > 0]
    cap = 10.0 * _quantile(sample, 0.5) if sample.size else 0.0
    weighted = np.minimum(dt_c, cap)
    weighted *= abs_current[rows]
    q_est = np.add.reduceat(weighted, seg_start)
    small = q_est < min_half_cycle_fraction * float(np.sort(q_est)[q_est.size // 2])
    if small.any() and counters:
        seg_stop = np.r_[seg_start[1:], rows.size]
        before = np.maximum(rows[seg_start] - 1, 0)
        last = rows[seg_stop - 1]
        for counter in counters:
            small &= counter[before] == counter[last]
    if not small.any():
        return rows, new, adjacent
    keep = ~np.repeat(small, np.diff(np.r_[seg_start, rows.size]))
    notes.append(
        f'{int(small.sum())} short run(s) of reversed current (below {min_half_cycle_fraction:.2%} of the '
        'median half-cycle charge, no counter change) treated as noise'
    )
    rows = rows[keep]
    new, adjacent = _split(rows, direction, counters)
    return rows, new, adjacent


def _integrate(
    values_c: np.ndarray, dt_h: np.ndarray, prev_same: np.ndarray, integration: str, *, own: bool = False
) -> np.ndarray:
    """What each counted row owns of ``values_c`` x time (``dt_h``: each row's interval in hours): the trapezoid
    over the interval to the previous row inside a half cycle, else (and with ``'backward'``) the row's own value
    over its interval. ``own``: ``values_c`` is a temporary that may be overwritten."""
    owned = values_c if own else values_c.copy()
    if integration == 'trapezoid' and values_c.size > 1:
        mean = np.add(values_c[1:], values_c[:-1])
        mean *= 0.5
        np.copyto(owned[1:], mean, where=prev_same[1:])
    owned *= dt_h
    return np.asarray(owned)


def _cv_from_plateau(
    current_c: np.ndarray,
    voltage_c: np.ndarray,
    seg_start: np.ndarray,
    seg_stop: np.ndarray,
    cv_voltage_tolerance_v: float,
    cv_current_fraction: float,
) -> np.ndarray:
    """Rule 6: the intervals between rows of the trailing constant-voltage run of each half cycle, when the
    current decays during that run (a CC half cycle ends with one row at its final voltage and no decay)."""
    m = current_c.size
    hc_c = np.repeat(np.arange(seg_start.size), seg_stop - seg_start)
    i_ref = np.maximum.reduceat(current_c, seg_start)
    v_end = voltage_c[seg_stop - 1]
    plateau = np.abs(voltage_c - v_end[hc_c]) <= cv_voltage_tolerance_v
    position = np.arange(m)
    run_first = np.maximum.reduceat(np.where(plateau, -1, position), seg_start) + 1
    run_first = np.maximum(run_first, seg_start)
    i_min_run = np.minimum.reduceat(np.where(position >= run_first[hc_c], current_c, np.inf), seg_start)
    decays = i_min_run < cv_current_fraction * i_ref
    return np.asarray((position > run_first[hc_c]) & decays[hc_c])


def integrate_energy(seg: Segmentation, voltage_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The counted rows' voltages and owned energies (mWh) for another voltage column of the same record (an
    electrode potential against a reference), with the segmentation's half cycles and integration rule."""
    voltage_c = np.asarray(voltage_v, dtype=np.float64)[seg.rows]
    dt_h = seg.dt_c * (1.0 / SECONDS_PER_HOUR)
    return voltage_c, _integrate(seg.current_c * voltage_c, dt_h, seg.prev_same_c, seg.integration, own=True)


def counter_increments(counter: np.ndarray, seg: Segmentation) -> np.ndarray:
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
    return np.asarray(inc)
