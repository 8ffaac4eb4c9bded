"""Tables of instruments we have no reader for (e.g. a Novocontrol export), read through a mapping
given by the user.

``column_map`` maps canonical column names to the file's columns and units::

    read('sample.txt', column_map={
        'frequency_hz': ('Freq', 'kHz'),          # header name, unit in the file
        'z_real_ohm': ("Z'", 'ohm'),
        'z_imag_ohm': ('Z"', 'kohm', -1),         # optional factor: the file holds -Im(Z) in kOhm
        'temperature_c': (4, 'K'),                # or a 0-based column index
    }, technique='eis')

Delimiter (tab, semicolon, comma, spaces) and decimal mark are sniffed (or given). Values are
converted to the canonical units; a unit of the wrong dimension, a column that is not in the file
or a cell that is not a number is a :class:`~aiida_ssb.parsers.base.ParseError` naming the column.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from aiida_ssb.parsers._common import (
    UnitError,
    decode_text,
    integer_column,
    linear_conversion,
    read_bytes,
    sniff_table,
    split_lines,
)
from aiida_ssb.parsers.base import COLUMNS, TECHNIQUES, Measurement, ParseError, column_unit

__all__ = ['infer_technique', 'read_generic']

_COUNTERS = {name for name, (unit, _) in COLUMNS.items() if unit == '1'}


def infer_technique(columns: Iterable[str]) -> str | None:
    """A technique implied by the canonical columns alone, or None when ambiguous."""
    names = set(columns)
    if {'frequency_hz', 'z_real_ohm', 'z_imag_ohm'} <= names:
        return 'eis'
    if {'two_theta_deg', 'intensity_counts'} <= names:
        return 'xrd'
    if 'temperature_c' in names and 'heat_flow_mw' in names and names & {'mass_mg', 'mass_percent'}:
        return 'sta'
    if 'heat_flow_mw' in names:
        return 'dsc'
    if names & {'mass_mg', 'mass_percent'} and 'temperature_c' in names:
        return 'tga'
    if 'voltage_v' in names and names & {'cycle_index', 'charge_capacity_mah', 'discharge_capacity_mah'}:
        return 'cycling'
    return None


def read_generic(
    path: str | os.PathLike[str],
    *,
    column_map: Mapping[str, Any] | None = None,
    technique: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    allow_truncated: bool = False,
) -> Measurement:
    """Read a delimited table through ``column_map`` (see the module docstring).

    :param column_map: canonical name -> ``(column header or 0-based index, unit[, factor])``.
    :param technique: the technique code; inferred from the mapped columns when unambiguous
        (impedance, diffraction, thermal), otherwise required.
    :param delimiter: force the delimiter (``'\\t'``, ``';'``, ``','``, or ``'whitespace'``).
    :param decimal: force the decimal mark (``'.'`` or ``','``).
    :param allow_truncated: drop a short last line instead of failing.
    """
    if not column_map:
        raise ParseError(path, 'the generic-csv reader needs a column_map: {canonical name: (column, unit)}')
    if not isinstance(column_map, Mapping):
        raise ParseError(path, f'column_map must be a dict, not {type(column_map).__name__}')
    specs = _parse_specs(path, column_map)
    lines = split_lines(decode_text(path, read_bytes(path), what='text table'))
    layout = sniff_table(lines) or sniff_table(lines, min_fraction=0.5)
    if layout is None:
        raise ParseError(path, 'holds no numeric table')
    field_delimiter = layout.delimiter
    if delimiter is not None:
        field_delimiter = None if delimiter in ('whitespace', ' ', None) else delimiter
    mark = decimal or layout.decimal
    if mark not in ('.', ','):
        raise ParseError(path, f"decimal must be '.' or ',', not {mark!r}")
    header = layout.header
    positions = [_resolve(path, canonical, spec[0], header, layout.n_columns) for canonical, spec in specs.items()]
    array, notes = layout.parse(
        path,
        lines,
        delimiter=field_delimiter,
        decimal=mark,
        column_names=header,
        allow_truncated=allow_truncated,
        usecols=positions,
    )
    columns: dict[str, np.ndarray] = {}
    for index, (canonical, (column, unit, factor)) in enumerate(specs.items()):
        target = column_unit(canonical)
        try:
            scale, offset = linear_conversion(unit, target)
        except UnitError as exc:
            raise ParseError(path, f'column {column!r} (mapped to {canonical}): {exc}') from None
        values = array[:, index] * (factor * scale) + offset  # the factor applies in the file's unit
        if canonical in _COUNTERS:
            values = integer_column(path, str(column), values)
        columns[canonical] = values
    chosen = technique
    metadata: dict[str, Any] = {
        'column_map': {name: [spec[0], spec[1], spec[2]] for name, spec in specs.items()},
        'delimiter': field_delimiter or 'whitespace',
        'decimal_mark': mark,
    }
    if header:
        metadata['original_columns'] = header
    if layout.comments:
        metadata['comments'] = '\n'.join(layout.comments[:50])
    if chosen is None:
        chosen = infer_technique(columns)
        if chosen is None:
            raise ParseError(
                path,
                'pass technique=...: the mapped columns do not tell which technique this is '
                f'(known: {", ".join(TECHNIQUES)})',
            )
        metadata['technique_source'] = 'columns (mapped by the caller)'
    else:
        metadata['technique_source'] = 'caller'
    metadata.update(notes)
    return Measurement(chosen, columns, metadata, source=os.fspath(path), file_format='generic-csv')


def _parse_specs(
    path: str | os.PathLike[str] | None, column_map: Mapping[str, Any]
) -> dict[str, tuple[Any, str, float]]:
    specs = {}
    for canonical, spec in column_map.items():
        if canonical not in COLUMNS:
            raise ParseError(
                path, f'column_map key {canonical!r} is not a canonical column name; known: {", ".join(COLUMNS)}'
            )
        if isinstance(spec, Mapping):
            spec = (spec.get('column'), spec.get('unit'), spec.get('factor', 1.0))
        if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
            raise ParseError(
                path, f'column_map[{canonical!r}] must be (column, unit) or (column, unit, factor), not {spec!r}'
            )
        column, unit = spec[0], spec[1]
        factor = float(spec[2]) if len(spec) == 3 else 1.0
        if not isinstance(column, (str, int)) or isinstance(column, bool):
            raise ParseError(
                path, f'column_map[{canonical!r}]: the column must be a header name or an index, not {column!r}'
            )
        if not isinstance(unit, str):
            raise ParseError(
                path,
                f'column_map[{canonical!r}]: the unit must be a string such as '
                f'{column_unit(canonical)!r}, not {unit!r}',
            )
        if not np.isfinite(factor) or factor == 0:
            raise ParseError(path, f'column_map[{canonical!r}]: the factor must be a non-zero number')
        specs[canonical] = (column, unit, factor)
    return specs


def _resolve(
    path: str | os.PathLike[str] | None, canonical: str, column: str | int, header: list[str] | None, n_columns: int
) -> int:
    if isinstance(column, int):
        if not 0 <= column < n_columns:
            raise ParseError(
                path,
                f'column index {column} (mapped to {canonical}) is outside the table, which has {n_columns} columns',
            )
        return column
    if header is None:
        raise ParseError(
            path, f'column {column!r} (mapped to {canonical}): the table has no header row; use 0-based column indices'
        )
    matchers: tuple[Callable[[str], bool], ...] = (
        lambda name: name == column,
        lambda name: name.strip() == column.strip(),
        lambda name: name.strip().lower() == column.strip().lower(),
    )
    for matcher in matchers:
        hits = [position for position, name in enumerate(header) if matcher(name)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise ParseError(path, f'column {column!r} (mapped to {canonical}) appears {len(hits)} times in the header')
    raise ParseError(
        path,
        f'column {column!r} (mapped to {canonical}) is not in the file; its columns are: '
        f'{", ".join(repr(name) for name in header)}',
    )
