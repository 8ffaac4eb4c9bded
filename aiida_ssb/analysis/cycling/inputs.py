"""Input checks shared by the cycling summary and the critical current density: arrays, time order, masses."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from aiida_ssb.exceptions import AnalysisError

__all__ = ['SECONDS_PER_HOUR', 'CyclingError']

SECONDS_PER_HOUR = 3600.0
_BASIS_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')


class CyclingError(AnalysisError):
    """Input that cannot be summarised; the message names the field and what is wrong."""


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
