"""Small shared pieces: sample ids, references, fractions with their basis, free-form dates."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from aiida_ssb.schemas.base import DOI_PATTERN, SsbModel

__all__ = [
    'MAX_CIRCUIT_DEPTH',
    'MAX_CIRCUIT_LENGTH',
    'SAMPLE_ID_PATTERN',
    'Basis',
    'Component',
    'Fraction',
    'IsoDate',
    'Reference',
    'SampleId',
    'check_circuit_bounds',
    'date_fields',
    'parse_fraction',
    'split_fraction_basis',
]

SAMPLE_ID_PATTERN = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+\-/]{0,79}$')


def _check_sample_id(value: str) -> str:
    if not SAMPLE_ID_PATTERN.match(value):
        raise ValueError(
            f'{value!r} is not a valid sample id: use letters, digits and . _ + - / (at most 80 characters, '
            'starting with a letter or digit)'
        )
    return value


SampleId = Annotated[str, AfterValidator(_check_sample_id)]


def _check_reference(value: str) -> str:
    value = value.strip()
    if value.lower().startswith('https://doi.org/'):
        value = 'doi:' + value[len('https://doi.org/') :]
    if not DOI_PATTERN.match(value):
        raise ValueError(f'{value!r} is not a DOI (expected e.g. "doi:10.1039/d0ee01569e")')
    if not value.lower().startswith('doi:'):
        value = 'doi:' + value
    return value


#: A DOI, normalised to ``doi:10.xxxx/...``.
Reference = Annotated[str, AfterValidator(_check_reference)]

Basis = Literal['wt', 'mol', 'vol']

_FRACTION = re.compile(r'^\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*(wt|mol|vol|at)?\s*(%)?\s*$')


def parse_fraction(value: Any) -> tuple[float, str | None]:
    """``'70 wt%'`` -> ``(0.70, 'wt')``; ``0.7`` -> ``(0.7, None)``; ``'70 %'`` -> ``(0.70, None)``.

    A bare number above 1 is refused: ``70`` could be a percentage or a mass."""
    if isinstance(value, bool):
        raise ValueError(f'{value!r} is not a fraction')
    if isinstance(value, (int, float)):
        number, basis, percent = float(value), None, False
    elif isinstance(value, str):
        match = _FRACTION.match(value)
        if not match:
            raise ValueError(f'{value!r} is not a fraction (write e.g. "70 wt%", "25 mol%" or 0.70)')
        number, basis, percent = float(match.group(1)), match.group(2), bool(match.group(3))
        if basis and not percent:
            raise ValueError(f'{value!r}: write the basis as a percentage, e.g. "70 wt%"')
        if basis == 'at':
            basis = 'mol'
    else:
        raise ValueError(f'{value!r} is not a fraction')
    if percent:
        number /= 100.0
    elif number > 1.0:
        raise ValueError(f'{value!r} is above 1: write a percentage with its sign and basis, e.g. "{value} wt%"')
    if not 0.0 <= number <= 1.0:
        raise ValueError(f'{value!r} is outside 0-100 %')
    return number, basis


def _fraction_number(value: Any) -> float:
    return parse_fraction(value)[0]


#: A fraction in [0, 1]; accepts "70 wt%" (the basis then goes to the sibling ``basis`` field).
Fraction = Annotated[float, BeforeValidator(_fraction_number), Field(ge=0.0, le=1.0)]


def _parse_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ValueError(
                f'{value!r} is not an ISO date or date-time (e.g. 2020-05-17 or 2020-05-17T14:30)'
            ) from None
    raise ValueError(f'{value!r} is not a date')


#: An ISO date or date-time string (normalised).
IsoDate = Annotated[str, BeforeValidator(_parse_date)]


def date_fields(iso: str | None, prefix: str = 'date') -> dict[str, Any]:
    """``{'date': iso, 'date_unix_s': seconds}``: ISO string plus Unix seconds, since SQLite cannot cast JSON
    dates. A naive date is read as UTC for the Unix seconds."""
    if not iso:
        return {}
    moment = dt.datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return {prefix: iso, f'{prefix}_unix_s': moment.timestamp()}


class Component(SsbModel):
    """One component of a composition: a material (sample id or plain name) and its fraction."""

    material: str
    fraction: Fraction
    basis: Basis | None = None
    role: str | None = None

    @model_validator(mode='before')
    @classmethod
    def _basis_from_fraction(cls, data: Any) -> Any:
        return split_fraction_basis(data)


def split_fraction_basis(data: Any) -> Any:
    """In a dict, ``fraction: "70 wt%"`` -> ``fraction: 0.7, basis: "wt"`` (refusing a clash with ``basis``)."""
    if not isinstance(data, dict) or not isinstance(data.get('fraction'), str):
        return data
    data = dict(data)
    number, basis = parse_fraction(data['fraction'])
    data['fraction'] = number
    if basis is not None:
        if data.get('basis') not in (None, basis):
            raise ValueError(f'fraction {number * 100:g} {basis}% contradicts basis: {data["basis"]}')
        data['basis'] = basis
    return data


#: bounds on a circuit string in analysis options, checked when options are read; the depth is the circuit
#: parser's own bound, :data:`aiida_ssb.analysis.eis.circuit.MAX_NESTING` (not imported: the command line reads
#: the schemas at start-up without numpy; a test checks they agree)
MAX_CIRCUIT_LENGTH = 500
MAX_CIRCUIT_DEPTH = 16


def check_circuit_bounds(options: Any, where: str = 'options') -> None:
    """Refuse (``ValueError`` naming the place) any ``circuit`` value in analysis options that is longer than
    :data:`MAX_CIRCUIT_LENGTH` characters or nests ``p(...)`` deeper than :data:`MAX_CIRCUIT_DEPTH` levels."""
    if not isinstance(options, dict):
        return
    for section, values in options.items():
        if not isinstance(values, dict) or not isinstance(values.get('circuit'), str):
            continue
        circuit = values['circuit']
        if len(circuit) > MAX_CIRCUIT_LENGTH:
            raise ValueError(f'{where}.{section}.circuit: a circuit string has at most {MAX_CIRCUIT_LENGTH} characters')
        depth = deepest = 0
        for char in circuit:
            depth += (char == '(') - (char == ')')
            deepest = max(deepest, depth)
        if deepest > MAX_CIRCUIT_DEPTH:
            raise ValueError(f'{where}.{section}.circuit: a circuit nests at most {MAX_CIRCUIT_DEPTH} levels of p(...)')
