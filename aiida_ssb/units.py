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
from typing import TYPE_CHECKING, Any, cast

from aiida_ssb.exceptions import InputError

if TYPE_CHECKING:
    import pint

__all__ = [
    'MAX_UNIT_EXPONENT',
    'MAX_UNIT_FACTOR',
    'MAX_UNIT_LENGTH',
    'UnitError',
    'check_unit_string',
    'format_quantity',
    'is_quantity_string',
    'parse_quantity',
    'to_unit',
    'ureg',
]


class UnitError(InputError):
    """A value whose unit is missing, unknown or of the wrong dimension."""


@functools.lru_cache(maxsize=1)
def ureg() -> pint.UnitRegistry[Any]:
    """The shared pint registry (created on first use: pint takes ~0.2 s to load)."""
    import pint  # noqa: PLC0415 start-up time: pint takes ~0.2 s to load, the CLI imports this module

    registry: pint.UnitRegistry[Any] = pint.UnitRegistry(autoconvert_offset_to_baseunit=False)
    # lab shorthands pint does not know
    registry.define('mAh = milliampere * hour')
    registry.define('Ah = ampere * hour')
    registry.define('mWh = milliwatt * hour')
    registry.define('rpm_ = revolution / minute')
    return registry


_NUMBER = r'[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?'
_SPLIT = re.compile(rf'^\s*({_NUMBER})\s*(.*?)\s*$')
_NOT_FINITE = re.compile(r'^\s*[-+]?\.?(nan|inf|infinity)\b', re.IGNORECASE)
_EXPONENT = re.compile(r'(?<=[A-Za-zµμΩ])(-?\d+)(?![\d.])')


def _normalise_unit(unit: str) -> str:
    unit = unit.strip().replace('µ', 'u').replace('μ', 'u').replace('°C', 'degC').replace('°', 'deg')
    unit = unit.replace('Ω', 'ohm').replace('·', '*')
    unit = _EXPONENT.sub(r'^\1', unit)  # cm2 -> cm^2, cm-2 -> cm^-2
    return unit


def _is_offset_temperature(unit: str) -> bool:
    return unit in {'degC', 'degF', 'celsius', 'fahrenheit', 'degree_Celsius'}


#: bounds on a unit string, checked before pint evaluates it (pint evaluates ``10**10**10`` as written)
MAX_UNIT_LENGTH = 64
MAX_UNIT_EXPONENT = 12
MAX_UNIT_FACTOR = 1e12

_UNIT_TOKEN = re.compile(r'\s*(?:(\*\*|\^)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|((?:[^\W\d]|%)\w*)|([*/()]))')


def check_unit_string(unit: str) -> None:
    """Refuse unit strings that pint would take long to evaluate, before it does: longer than
    :data:`MAX_UNIT_LENGTH` characters, powers with an exponent that is not a plain number of magnitude at most
    :data:`MAX_UNIT_EXPONENT` (``mg*10**10**10``, ``m**m``), number factors beyond :data:`MAX_UNIT_FACTOR`, and
    characters a unit does not use. Raises :class:`UnitError`."""
    if len(unit) > MAX_UNIT_LENGTH:
        raise UnitError(f'the unit {unit[:20]!r}... is longer than {MAX_UNIT_LENGTH} characters')
    position, previous = 0, None
    tokens: list[tuple[str, str]] = []
    text = unit.rstrip()
    while position < len(text):
        match = _UNIT_TOKEN.match(text, position)
        if not match or match.end() == position:
            raise UnitError(f'the unit {unit!r} holds {text[position:].strip()[:1]!r}, which no unit uses')
        group = match.lastindex
        assert group is not None  # each alternative of the pattern is a group and the match is not empty
        kind = ('power', 'number', 'name', 'operator')[group - 1]
        tokens.append((kind, match.group(group)))
        position = match.end()
    for index, (kind, value) in enumerate(tokens):
        if kind == 'power':
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            after = tokens[index + 2] if index + 2 < len(tokens) else None
            if following is None or following[0] != 'number':
                raise UnitError(f'the unit {unit!r}: a power needs a plain number as exponent')
            if abs(float(following[1])) > MAX_UNIT_EXPONENT:
                raise UnitError(f'the unit {unit!r}: exponent {following[1]} is beyond +-{MAX_UNIT_EXPONENT}')
            if after is not None and after[0] == 'power':
                raise UnitError(f'the unit {unit!r}: powers of powers are not accepted')
        elif kind == 'number' and previous != 'power':
            number = float(value)
            if not math.isfinite(number) or abs(number) > MAX_UNIT_FACTOR or (0 < abs(number) < 1 / MAX_UNIT_FACTOR):
                raise UnitError(f'the unit {unit!r}: the factor {value} is beyond 1e+-12')
        previous = kind


def _quantity(value: float, unit: str) -> pint.Quantity[Any]:
    registry = ureg()
    unit = _normalise_unit(unit)
    check_unit_string(unit)
    if not unit:
        return registry.Quantity(value, 'dimensionless')
    if _is_offset_temperature(unit):
        return registry.Quantity(value, unit)
    if 'degC' in unit:  # a compound unit with degC is a temperature difference (ramp rates)
        unit = unit.replace('degC', 'delta_degC')
    return registry.Quantity(value, unit)


def parse_quantity(value: Any, default_unit: str | None = None) -> pint.Quantity[Any]:
    """Return a pint Quantity from a string such as ``'250 MPa'`` or from a bare number.

    A bare number (int/float or a numeric string) takes ``default_unit``; without one it is refused,
    because a number without a unit is ambiguous.
    """
    registry = ureg()
    if hasattr(value, 'to') and hasattr(value, 'magnitude'):
        return cast('pint.Quantity[Any]', value)
    if isinstance(value, bool):
        raise UnitError(f'expected a quantity, got the boolean {value!r}')
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise UnitError(f'{value!r} is not a finite number')
        if default_unit is None:
            raise UnitError(f'{value!r} has no unit')
        return _quantity(float(value), default_unit)
    if not isinstance(value, str):
        raise UnitError(f'expected a quantity such as "12 mm", got {type(value).__name__} {value!r}')
    match = _SPLIT.match(value)
    if not match:
        if _NOT_FINITE.match(value):
            raise UnitError(f'{value!r} is not a finite number')
        raise UnitError(f'{value!r} is not a number followed by a unit')
    number, unit = float(match.group(1)), match.group(2)
    if not math.isfinite(number):
        raise UnitError(f'{value!r} is not a finite number')
    if not unit:
        if default_unit is None:
            raise UnitError(f'{value!r} has no unit')
        unit = default_unit
    try:
        return _quantity(number, unit)
    except UnitError:
        raise
    except Exception as exc:  # pint raises many kinds: undefined unit, syntax errors
        raise UnitError(f'unknown unit {unit!r} in {value!r}') from exc
    del registry


def to_unit(value: Any, unit: str, default_unit: str | None = None) -> float:
    """Convert ``value`` (a quantity string, a pint Quantity, or a bare number in ``default_unit``)
    to a float in ``unit``. Raises :class:`UnitError` when the dimensions do not match."""
    import pint  # noqa: PLC0415 start-up time: pint takes ~0.2 s to load, the CLI imports this module

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
    match = _SPLIT.match(value) if isinstance(value, str) else None
    return match is not None and bool(match.group(2))


def format_quantity(value: float, unit: str, digits: int = 4) -> str:
    """``format_quantity(1.2381, 'mg/cm^2')`` -> ``'1.238 mg/cm^2'``."""
    return f'{value:.{digits}g} {unit}'
