"""Quantities with units: parse what a lab writes, return numbers in our canonical units.

Pure Python (pint), no AiiDA import. Every stored number in aiida-ssb is a plain float in the unit
its name ends with (``duration_min``, ``temperature_c``, ``mass_mg`` ...); this module turns the
strings a lab writes into such numbers.

Accepted spellings, besides everything pint understands:

* ``250 degC``, ``-20 °C``, ``300 K``: temperatures (offset units are handled);
* ``0.5 degC/min``: temperature *rates* (the ``degC`` is read as a temperature difference);
* ``1.2 mg/cm2`` or ``1.2 mg cm-2``: exponents written without ``^``;
* ``10 µV/s`` / ``10 uV/s``;
* ``117 mAh/g``, ``130 mA/g``.

Errors are :class:`UnitError` with a message naming what was expected and what was given.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from aiida_ssb.exceptions import InputError

__all__ = ['UnitError', 'format_quantity', 'is_quantity_string', 'parse_quantity', 'to_unit', 'ureg']


class UnitError(InputError):
    """A value whose unit is missing, unknown or of the wrong dimension."""


@functools.lru_cache(maxsize=1)
def ureg():
    """The shared pint registry (created on first use: pint takes ~0.2 s to load)."""
    import pint

    registry = pint.UnitRegistry(autoconvert_offset_to_baseunit=False)
    # lab shorthands pint does not know
    registry.define('mAh = milliampere * hour')
    registry.define('Ah = ampere * hour')
    registry.define('mWh = milliwatt * hour')
    registry.define('rpm_ = revolution / minute')
    return registry


_NUMBER = r'[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?'
_SPLIT = re.compile(rf'^\s*({_NUMBER})\s*(.*?)\s*$')
_EXPONENT = re.compile(r'(?<=[A-Za-zµμΩ])(-?\d+)(?![\d.])')


def _normalise_unit(unit: str) -> str:
    unit = unit.strip().replace('µ', 'u').replace('μ', 'u').replace('°C', 'degC').replace('°', 'deg')
    unit = unit.replace('Ω', 'ohm').replace('·', '*')
    unit = _EXPONENT.sub(r'^\1', unit)  # cm2 -> cm^2, cm-2 -> cm^-2
    return unit


def _is_offset_temperature(unit: str) -> bool:
    return unit in {'degC', 'degF', 'celsius', 'fahrenheit', 'degree_Celsius'}


def _quantity(value: float, unit: str):
    registry = ureg()
    unit = _normalise_unit(unit)
    if not unit:
        return registry.Quantity(value, 'dimensionless')
    if _is_offset_temperature(unit):
        return registry.Quantity(value, unit)
    if 'degC' in unit:  # a compound unit with degC is a temperature difference (ramp rates)
        unit = unit.replace('degC', 'delta_degC')
    return registry.Quantity(value, unit)


def parse_quantity(value: Any, default_unit: str | None = None):
    """Return a pint Quantity from a string such as ``'250 MPa'`` or from a bare number.

    A bare number (int/float or a numeric string) takes ``default_unit``; without one it is refused,
    because a number without a unit is ambiguous.
    """
    registry = ureg()
    if hasattr(value, 'to') and hasattr(value, 'magnitude'):
        return value
    if isinstance(value, bool):
        raise UnitError(f'expected a quantity, got the boolean {value!r}')
    if isinstance(value, (int, float)):
        if default_unit is None:
            raise UnitError(f'{value!r} has no unit')
        return _quantity(float(value), default_unit)
    if not isinstance(value, str):
        raise UnitError(f'expected a quantity such as "12 mm", got {type(value).__name__} {value!r}')
    match = _SPLIT.match(value)
    if not match:
        raise UnitError(f'{value!r} is not a number followed by a unit')
    number, unit = float(match.group(1)), match.group(2)
    if not unit:
        if default_unit is None:
            raise UnitError(f'{value!r} has no unit')
        unit = default_unit
    try:
        return _quantity(number, unit)
    except Exception as exc:  # pint raises many kinds: undefined unit, syntax errors
        raise UnitError(f'unknown unit {unit!r} in {value!r}') from exc
    del registry


def to_unit(value: Any, unit: str, default_unit: str | None = None) -> float:
    """Convert ``value`` (a quantity string, a pint Quantity, or a bare number in ``default_unit``)
    to a float in ``unit``. Raises :class:`UnitError` when the dimensions do not match."""
    import pint

    quantity = parse_quantity(value, default_unit)
    target = _normalise_unit(unit)
    try:
        if _is_offset_temperature(target) or _is_offset_temperature(str(quantity.units)):
            result = quantity.to(target).magnitude
        elif 'degC' in target:
            result = quantity.to(target.replace('degC', 'delta_degC')).magnitude
        else:
            result = quantity.to(target).magnitude
    except pint.DimensionalityError as exc:
        given = f'{quantity.magnitude:g} {quantity.units:~}' if str(quantity.units) != 'dimensionless' else str(value)
        raise UnitError(f'{given!s} is not convertible to {unit} (expected a {_dimension_name(unit)})') from exc
    except pint.errors.OffsetUnitCalculusError as exc:
        raise UnitError(f'cannot convert {value!r} to {unit}') from exc
    result = float(result)
    if not math.isfinite(result):
        raise UnitError(f'{value!r} is not a finite number')
    return result


_DIMENSION_NAMES = {
    '[length]': 'length',
    '[mass]': 'mass',
    '[time]': 'time',
    '[temperature]': 'temperature',
    '[mass] / [length] / [time] ** 2': 'pressure',
    '[mass] / [length] ** 2': 'mass per area',
    '[mass] / [length] ** 3': 'density or concentration',
    '[current] / [mass]': 'specific current',
    '[current] * [time] / [mass]': 'specific capacity',
    '[current]': 'current',
    '[length] ** 2': 'area',
    '[length] ** 3': 'volume',
    '1 / [time]': 'frequency',
}


def _dimension_name(unit: str) -> str:
    try:
        dims = str(_quantity(1.0, unit).dimensionality)
    except Exception:  # pragma: no cover - only for messages
        return unit
    return _DIMENSION_NAMES.get(dims, f'quantity of dimension {dims}')


def is_quantity_string(value: Any) -> bool:
    """True for strings like ``'12 mm'`` (a number followed by a unit)."""
    return isinstance(value, str) and bool(_SPLIT.match(value)) and bool(_SPLIT.match(value).group(2))


def format_quantity(value: float, unit: str, digits: int = 4) -> str:
    """``format_quantity(1.2381, 'mg/cm^2')`` -> ``'1.238 mg/cm^2'``."""
    return f'{value:.{digits}g} {unit}'
