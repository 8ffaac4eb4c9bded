"""Pydantic models whose fields carry their unit in their name: the base of schemas and analysis settings.

Pure (pydantic and pint, no AiiDA): both the analysis layer (its settings types) and the schemas (the records)
build on it. A field named ``duration_min`` holds minutes. In a manifest, a ``--set`` option or any dict given
to a model it can be written two ways:

* ``duration_min: 45``: a bare number under the unit-suffixed name is already in that unit;
* ``duration: 45 min`` or ``duration: 0.75 h``: under the bare name, the value must carry a unit, and
  is converted (a bare number there is refused: it would be ambiguous).

The unit of a field follows from its suffix (:data:`SUFFIX_UNITS`), so one rule names and converts
everything. Unknown keys are refused (with the list of known ones), so a typo never vanishes silently, and
numbers must be finite (NaN and infinities are refused wherever a float is expected).
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from aiida_ssb.units import UnitError, is_quantity_string, to_unit

__all__ = ['DOI_PATTERN', 'SUFFIX_UNITS', 'UnitModel', 'bare_name', 'unit_of_field']


#: Field-name suffix -> canonical unit. Longest suffixes are matched first.
SUFFIX_UNITS: dict[str, str] = {
    '_c_min': 'degC/min',
    '_ml_min': 'mL/min',
    '_mg_ml': 'mg/mL',
    '_mol_l': 'mol/L',
    '_g_cm3': 'g/cm^3',
    '_mah_g': 'mAh/g',
    '_s_cm': 'S/cm',
    '_ma_g': 'mA/g',
    '_mg_cm2': 'mg/cm^2',
    '_ma_cm2': 'mA/cm^2',
    '_mah_cm2': 'mAh/cm^2',
    '_m2_g': 'm^2/g',
    '_mv_s': 'mV/s',
    '_n_m': 'N*m',
    '_g_mol': 'g/mol',
    '_mbar': 'mbar',
    '_mpa': 'MPa',
    '_rpm': 'rpm',
    '_min': 'min',
    '_cm2': 'cm^2',
    '_mah': 'mAh',
    '_khz': 'kHz',
    '_hz': 'Hz',
    '_mm': 'mm',
    '_um': 'um',
    '_cm': 'cm',
    '_mg': 'mg',
    '_ml': 'mL',
    '_mol': 'mol',
    '_ma': 'mA',
    '_mv': 'mV',
    '_kn': 'kN',
    '_ev': 'eV',
    '_v': 'V',
    '_g': 'g',
    '_h': 'h',
    '_s': 's',
    '_c': 'degC',
    '_w': 'W',
}

_SUFFIXES = sorted(SUFFIX_UNITS, key=len, reverse=True)

DOI_PATTERN = re.compile(r'^(doi:)?10\.\d{4,9}/\S+$', re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def unit_of_field(name: str) -> str | None:
    """The unit a field name's suffix declares, or None."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return SUFFIX_UNITS[suffix]
    return None


@functools.lru_cache(maxsize=4096)
def bare_name(name: str) -> str:
    """``duration_min`` -> ``duration`` (the name a manifest may use with a unit)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


#: quantity fields of each model class, computed once
_QUANTITY_FIELDS: dict[type, dict[str, str]] = {}


class UnitModel(BaseModel):
    """Base model: forbids unknown keys; converts quantities into the unit of each field's suffix.

    Subclasses list in ``unitless`` the fields whose suffix is part of a word rather than a unit
    (e.g. a field ``cycle_index_s`` would not exist; this is for rare clashes)."""

    model_config = ConfigDict(extra='forbid', validate_assignment=False, str_strip_whitespace=True, allow_inf_nan=False)

    unitless: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def quantity_fields(cls) -> dict[str, str]:
        """Field name -> unit for every float field with a unit suffix (computed once per class: planning a
        manifest validates thousands of entries)."""
        cached = _QUANTITY_FIELDS.get(cls)
        if cached is not None:
            return cached
        result = {}
        for name in cls.model_fields:
            if name in cls.unitless:
                continue
            unit = unit_of_field(name)
            if unit is not None:
                result[name] = unit
        _QUANTITY_FIELDS[cls] = result
        return result

    @model_validator(mode='before')
    @classmethod
    def _accept_bare_names(cls, data: Any) -> Any:
        """Move ``duration: 45 min`` to ``duration_min`` (marked: such a value must carry a unit)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name in cls.quantity_fields():
            bare = bare_name(name)
            if bare in data and bare != name and bare not in cls.model_fields:
                if name in data:
                    raise ValueError(f'give either {bare!r} (with a unit) or {name!r}, not both')
                data[name] = _Bare(data.pop(bare))
        return data

    @field_validator('*', mode='before')
    @classmethod
    def _convert_quantity(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        unit = None if name in cls.unitless else unit_of_field(name)
        if isinstance(value, _Bare):
            value = value.value
            if unit is None or value is None:
                return value
            if not is_quantity_string(value) and not hasattr(value, 'magnitude'):
                if isinstance(value, str) and not _is_number(value):
                    return _convert(value, unit)  # says what is wrong with it (not finite, not a quantity)
                raise ValueError(f'{value!r} needs a unit (e.g. "{value} {unit}"), or write it as {name}: {value}')
            return _convert(value, unit)
        if unit is not None and (isinstance(value, str) or hasattr(value, 'magnitude')):
            return _convert(value, unit)
        return value

    def stored(self) -> dict[str, Any]:
        """The dict stored in the database: unit-suffixed names, absent values left out."""
        return self.model_dump(mode='json', exclude_none=True)


class _Bare:
    """A value written under a field's bare name (``duration``): it must carry its unit."""

    __slots__ = ('value',)

    def __init__(self, value: Any):
        self.value = value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _convert(value: Any, unit: str) -> float:
    try:
        number = to_unit(value, unit, default_unit=unit)
    except UnitError as exc:
        raise ValueError(str(exc)) from None
    if not math.isfinite(number):
        raise ValueError(f'{value!r} is not a finite quantity')
    return number
