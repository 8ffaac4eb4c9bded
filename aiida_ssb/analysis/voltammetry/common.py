"""What every part of the voltammetry analyses shares: the sweep directions, the error kind, input checks, the
noise estimate and the spike mask."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from aiida_ssb.exceptions import AnalysisError

__all__ = [
    'ANODIC',
    'CATHODIC',
    'KIND',
    'MIN_POINTS_TOTAL',
    'Flag',
    'VoltammetryError',
    'as_1d',
    'check_inputs',
    'clean',
    'estimate_noise_ma',
    'noise',
    'positive_or_none',
    'robust_sigma',
    'spike_mask',
]

ANODIC = 'anodic'
CATHODIC = 'cathodic'
#: the kind of onset a sweep direction gives
KIND = {ANODIC: 'oxidative', CATHODIC: 'reductive'}
#: the fewest rows a record may have
MIN_POINTS_TOTAL = 10


class VoltammetryError(AnalysisError):
    """Input that cannot be analysed (too few points, non-finite values, wrong shapes, a potential
    that does not sweep). The message names the argument and what is wrong."""


def as_1d(name: str, values: Any, length: int | None = None) -> np.ndarray:
    """``values`` as a finite one-dimensional float array (of ``length`` when given), else a
    :class:`VoltammetryError` naming ``name``."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise VoltammetryError(f'{name}: not numeric ({error})') from None
    if array.ndim != 1:
        raise VoltammetryError(f'{name}: expected a one-dimensional array, got shape {array.shape}')
    if length is not None and array.shape[0] != length:
        raise VoltammetryError(f'{name}: length {array.shape[0]} differs from potential_v length {length}')
    bad = ~np.isfinite(array)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise VoltammetryError(f'{name}: {int(bad.sum())} non-finite value(s) (NaN/inf), first at index {first}')
    return array


def check_inputs(
    potential_v: Any, current_ma: Any = None, time_s: Any = None, cycle_index: Any = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """The record's columns as arrays of one length (``None`` where not given); time must not decrease."""
    potential = as_1d('potential_v', potential_v)
    n = potential.shape[0]
    if n < MIN_POINTS_TOTAL:
        raise VoltammetryError(f'potential_v: too few points ({n} < {MIN_POINTS_TOTAL})')
    current = None if current_ma is None else as_1d('current_ma', current_ma, n)
    time = None if time_s is None else as_1d('time_s', time_s, n)
    cycles = None if cycle_index is None else as_1d('cycle_index', cycle_index, n)
    if time is not None and np.any(np.diff(time) < 0):
        first = int(np.flatnonzero(np.diff(time) < 0)[0]) + 1
        raise VoltammetryError(f'time_s: decreases at index {first}')
    return potential, current, time, cycles


def positive_or_none(name: str, value: float | None) -> float | None:
    """``value`` as a positive finite float, or None; anything else is a :class:`VoltammetryError`."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise VoltammetryError(f'{name}: not a number: {value!r}') from None
    if not math.isfinite(value) or value <= 0:
        raise VoltammetryError(f'{name}: must be a positive finite number, got {value}')
    return value


def clean(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Drop None and non-finite values and turn numpy scalars and tuples into Python ones (JSON-ready)."""
    result = {}
    for key, value in mapping.items():
        if value is None:
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            continue
        if isinstance(value, tuple):
            value = [list(item) if isinstance(item, tuple) else item for item in value]
        result[key] = value
    return result


def robust_sigma(values: np.ndarray) -> float:
    """The median absolute deviation scaled to a normal standard deviation."""
    if values.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def estimate_noise_ma(current_ma: Any) -> float:
    """Point-to-point noise of a current record, mA: a robust (MAD) standard deviation of the second
    differences divided by sqrt(6), so that linear trends and smooth curvature do not count as noise.
    Falls back to the root-mean-square second difference when more than half of them are equal
    (quantised currents)."""
    return noise(as_1d('current_ma', current_ma))


def noise(y: np.ndarray) -> float:
    """:func:`estimate_noise_ma` of an array already checked."""
    if y.size < 4:
        return 0.0
    second = np.diff(y, 2)
    sigma = robust_sigma(second) / math.sqrt(6.0)
    if sigma <= 0:
        sigma = float(np.sqrt(np.mean(second**2) / 6.0))
    return sigma


def _sort_pairs(values: list[np.ndarray], pairs: Iterable[tuple[int, int]]) -> None:
    for i, j in pairs:
        low = np.minimum(values[i], values[j])
        values[j] = np.maximum(values[i], values[j])
        values[i] = low


def spike_mask(y: np.ndarray, sigma: float, factor: float) -> np.ndarray:
    """True for isolated spikes: points further than ``factor`` x noise from the median of their
    five-point neighbourhood and more than 5 x further than their neighbours are (so that the top of a
    smooth peak is never a spike)."""
    n = y.size
    mask = np.zeros(n, dtype=bool)
    if n < 5:
        return mask
    columns = [y[k : n - 4 + k] for k in range(5)]
    ordered = list(columns)
    _sort_pairs(ordered, ((0, 1), (3, 4), (2, 4), (2, 3), (0, 3), (0, 2), (1, 4), (1, 3), (1, 2)))
    median = ordered[2]
    deviation = np.abs(columns[2] - median)
    neighbours = [np.abs(columns[k] - median) for k in (0, 1, 3, 4)]
    _sort_pairs(neighbours, ((0, 1), (2, 3), (0, 2), (1, 3), (1, 2)))
    spread = 0.5 * (neighbours[1] + neighbours[2])
    mask[2:-2] = (deviation > factor * max(sigma, 1e-300)) & (deviation > 5.0 * spread)
    return mask


@dataclasses.dataclass(frozen=True)
class Flag:
    """One validity rule and its verdict.

    :param rule: short name, e.g. ``'carbon_volume_fraction'``.
    :param passed: True/False, or None when the rule could not be evaluated (inputs unknown).
    :param value: the value checked (absent when unknown).
    :param limit: the limit, as text (e.g. ``'0.2 <= x <= 0.8'``).
    :param reason: a sentence saying why, with the source of the rule.
    """

    rule: str
    passed: bool | None
    value: float | None
    limit: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return clean(dataclasses.asdict(self))
