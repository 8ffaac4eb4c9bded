"""Thermal analysis: NETZSCH Proteus ASCII exports (DSC, TG, STA).

Layout::

    #EXPORTTYPE:DATA ALL
    #INSTRUMENT:NETZSCH STA 449F3
    #DECIMAL:POINT
    #SEPARATOR:SEMICOLON
    #SAMPLE MASS /mg:22.160
    #EXO:-1
    #RANGE:30°C/10.0(K/min)/600°C
    ##Temp./°C;Time/min;DSC/(mW/mg);Mass/%
    30.012;0.0000;-0.0123;100.000
    ...

Header values follow the first colon (CSV exports put the separator there too:
``#SAMPLE MASS /mg:,3.2``). A column's unit follows its last ``/`` (``DSC/(mW/mg)``: the unit is in
parentheses). Canonical columns: ``temperature_c``, ``time_s``, ``heat_flow_mw`` (a specific DSC
signal in mW/mg is multiplied by the sample mass), ``mass_percent``, ``mass_mg`` (one derived from
the other and the sample mass), ``step_index`` (segment). DSC signals in µV (uncalibrated) are not
heat flows and are left out (noted in the metadata). The heat flow is converted to the canonical sign,
exothermic positive, using the file's ``#EXO`` value (kept as ``exo_sign``); without it the sign is the
instrument's, as ``heat_flow_sign`` in the metadata says.

Technique: DSC and mass columns -> ``'sta'``, DSC only -> ``'dsc'``, mass only -> ``'tga'``. Other
instruments' thermal tables are read with the generic reader and a ``column_map``.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from aiida_ssb.parsers._common import (
    UnitError,
    convert,
    decode_text,
    integer_column,
    parse_datetime,
    parse_numeric_block,
    quantity_from_text,
    read_bytes,
    split_fields,
    split_lines,
    to_float,
)
from aiida_ssb.parsers.base import Measurement, ParseError, UnsupportedFormatError, timestamp_metadata

__all__ = ['read_netzsch', 'split_netzsch_column']

_SEPARATORS = {'TAB': '\t', 'SEMICOLON': ';', 'COMMA': ',', 'SPACE': None}
_RATE = re.compile(r'([-+]?\d+(?:[.,]\d+)?)\s*\(K/min\)')
_SPECIFIC = {'mW/mg': 1.0, 'W/g': 1.0, 'mW/g': 1e-3, 'uW/mg': 1e-3, 'µW/mg': 1e-3}
_ABSOLUTE = {'mW': 1.0, 'W': 1e3, 'uW': 1e-3, 'µW': 1e-3}
_UNCALIBRATED = ('uV', 'µV', 'uV/mg', 'µV/mg', 'mV', 'mV/mg')
_NETZSCH_DATE_FORMATS = (
    '%d.%m.%Y %H:%M:%S',
    '%d.%m.%Y %H:%M',
    '%m/%d/%Y %I:%M:%S %p',
    '%m/%d/%Y %H:%M:%S',
    '%m/%d/%Y %H:%M',
    '%Y-%m-%d %H:%M:%S',
    '%d/%m/%Y %H:%M:%S',
    '%d.%m.%y %H:%M:%S',
)


def split_netzsch_column(text: str) -> tuple[str, str]:
    """``'Temp./°C'`` -> ``('Temp.', '°C')``; ``'DSC/(mW/mg)'`` -> ``('DSC', 'mW/mg')``;
    ``'Gas Flow(purge1)/(ml/min)'`` -> ``('Gas Flow(purge1)', 'ml/min')``; ``'Segment'`` -> ``('Segment', '')``."""
    cleaned = text.strip().strip('"')
    if '/(' in cleaned and cleaned.endswith(')'):
        name, unit = cleaned.split('/(', 1)
        return name.strip(), unit[:-1].strip()
    if '/' in cleaned:
        name, unit = cleaned.rsplit('/', 1)
        return name.strip(), unit.strip()
    return cleaned, ''


def read_netzsch(
    path: str | os.PathLike[str], *, sample_mass_mg: float | None = None, allow_truncated: bool = False
) -> Measurement:
    """Read a NETZSCH Proteus ASCII export (see the module docstring).

    :param sample_mass_mg: the sample mass when the header lacks ``#SAMPLE MASS`` (needed to turn a
        DSC signal in mW/mg into ``heat_flow_mw`` and mass % into ``mass_mg``); a header value wins
        only when this is not given.
    :param allow_truncated: drop a short last line instead of failing.
    """
    lines = split_lines(decode_text(path, read_bytes(path), what='NETZSCH export'))
    header, column_at = _netzsch_header(lines)
    if column_at is None:
        raise ParseError(path, 'has no column line starting with "##" (e.g. ##Temp./°C;Time/min;DSC/(mW/mg))')
    export_type = header.get('EXPORTTYPE', '')
    if 'COMPARE' in export_type.upper():
        raise UnsupportedFormatError(
            path, f'NETZSCH "{export_type}" exports hold several samples side by side; export each sample as "DATA ALL"'
        )
    column_text = lines[column_at].strip()[2:]
    declared = header.get('SEPARATOR', '').upper()
    if declared in _SEPARATORS:
        delimiter = _SEPARATORS[declared]
    else:
        delimiter = next((candidate for candidate in ('\t', ';', ',') if candidate in column_text), None)
    decimal = ',' if header.get('DECIMAL', '').upper() == 'COMMA' else '.'
    names = split_fields(column_text, delimiter)
    data = lines[column_at + 1 :]
    array, notes = parse_numeric_block(
        path,
        '\n'.join(data),
        first_line=column_at + 2,
        delimiter=delimiter,
        n_columns=len(names),
        decimal=decimal,
        column_names=names,
        allow_truncated=allow_truncated,
    )
    mass_text = next((value for key, value in header.items() if key.upper().startswith('SAMPLE MASS')), None)
    header_mass = None
    if mass_text:
        unit_match = re.search(r'/\s*(\w+)', next(key for key in header if key.upper().startswith('SAMPLE MASS')))
        unit = unit_match.group(1) if unit_match else 'mg'
        header_mass = quantity_from_text(f'{mass_text} {unit}', 'mg', decimal=decimal)
    mass = sample_mass_mg if sample_mass_mg is not None else header_mass
    if mass is not None and not mass > 0:
        raise ParseError(path, f'the sample mass must be positive, not {mass!r}')

    columns: dict[str, np.ndarray] = {}
    metadata: dict[str, Any] = {
        'original_columns': names,
        'decimal_mark': decimal,
        'delimiter': delimiter or 'whitespace',
    }
    derived: dict[str, str] = {}
    has_dsc, has_mass = _netzsch_columns(path, names, array, mass, columns, derived, metadata)
    if mass is not None:
        if 'mass_percent' in columns and 'mass_mg' not in columns:
            columns['mass_mg'] = columns['mass_percent'] / 100.0 * mass
            derived['mass_mg'] = f'mass % x sample mass ({mass:g} mg) / 100'
        elif 'mass_mg' in columns and 'mass_percent' not in columns:
            columns['mass_percent'] = columns['mass_mg'] / mass * 100.0
            derived['mass_percent'] = f'mass / sample mass ({mass:g} mg) x 100'
    if not has_dsc and not has_mass:
        raise ParseError(path, f'holds neither a DSC nor a mass column: {", ".join(names)}', line=column_at + 1)
    technique = 'sta' if has_dsc and has_mass else 'dsc' if has_dsc else 'tga'
    metadata['technique_source'] = 'columns'
    if derived:
        metadata['derived_columns'] = derived
    if mass is not None:
        metadata['sample_mass_mg'] = mass
        if sample_mass_mg is not None:
            metadata['sample_mass_source'] = 'caller'
    _netzsch_header_metadata(header, columns, metadata)
    metadata['header'] = header
    metadata.update(notes)
    return Measurement(technique, columns, metadata, source=os.fspath(path), file_format='netzsch-txt')


def _netzsch_header(lines: list[str]) -> tuple[dict[str, str], int | None]:
    """The ``#KEY: value`` header and the index of the ``##`` column line (None when there is none)."""
    header: dict[str, str] = {}
    column_at = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith('##'):
            column_at = index
            break
        if not stripped.startswith('#'):
            break
        key, separator, value = stripped[1:].partition(':')
        if separator:
            header.setdefault(key.strip(), value.strip().strip(';,\t ').strip())
    return header, column_at


def _netzsch_columns(
    path: str | os.PathLike[str],
    names: list[str],
    array: np.ndarray,
    mass: float | None,
    columns: dict[str, np.ndarray],
    derived: dict[str, str],
    metadata: dict[str, Any],
) -> tuple[bool, bool]:
    """Convert the table's columns into ``columns`` (DSC signals to mW with the sample mass); returns
    ``(has a DSC column, has a mass column)``."""
    has_dsc = has_mass = False
    parts = [split_netzsch_column(name) for name in names]
    for position, (name, unit) in enumerate(parts):
        lowered = name.lower()
        values = array[:, position]
        try:
            if lowered.startswith('temp') and 'temperature_c' not in columns:
                columns['temperature_c'] = convert(values, unit or '°C', 'degC')
            elif lowered.startswith('time') and 'time_s' not in columns:
                columns['time_s'] = convert(values, unit or 'min', 's')
            elif lowered.startswith('dsc') and 'heat_flow_mw' not in columns:
                has_dsc = True
                compact = unit.replace(' ', '')
                if compact in _SPECIFIC:
                    if mass is None:
                        raise ParseError(
                            path,
                            f'column {names[position]!r} is specific ({unit}): the sample mass is '
                            'needed (no #SAMPLE MASS in the header; pass sample_mass_mg=...)',
                        )
                    columns['heat_flow_mw'] = values * (_SPECIFIC[compact] * mass)
                    derived['heat_flow_mw'] = f'{names[position]} x sample mass ({mass:g} mg)'
                elif compact in _ABSOLUTE:
                    columns['heat_flow_mw'] = values * _ABSOLUTE[compact]
                elif compact in _UNCALIBRATED:
                    metadata['dsc_signal_not_converted'] = (
                        f'{names[position]}: a {unit} signal is not a calibrated heat flow'
                    )
                else:
                    raise ParseError(path, f'column {names[position]!r}: unknown DSC unit {unit!r}')
            elif lowered.startswith(('mass', 'tg')):
                has_mass = True
                if unit in ('%', 'percent'):
                    columns.setdefault('mass_percent', values.copy())
                else:
                    columns.setdefault('mass_mg', convert(values, unit or 'mg', 'mg'))
            elif lowered.startswith('segment'):
                columns['step_index'] = integer_column(path, names[position], values)
        except UnitError as exc:
            raise ParseError(path, f'column {names[position]!r}: {exc}') from None
    return has_dsc, has_mass


def _netzsch_header_metadata(header: dict[str, str], columns: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
    """Instrument, sample and program metadata from the header; the heat flow turned exothermic positive."""
    instrument = header.get('INSTRUMENT')
    if instrument:
        metadata['instrument'] = instrument
    for key, meta_key in (
        ('SAMPLE', 'sample_name'),
        ('IDENTITY', 'identity'),
        ('MTYPE', 'measurement_type'),
        ('FILE', 'original_filename'),
        ('TYPE OF CRUCIBLE', 'crucible'),
        ('REFERENCE', 'reference'),
        ('SEGMENT', 'segment'),
        ('RANGE', 'temperature_program'),
        ('PURGE GAS 1', 'purge_gas'),
        ('PROTECTIVE GAS', 'protective_gas'),
        ('EXPORTTYPE', 'export_type'),
    ):
        if header.get(key):
            metadata[meta_key] = header[key]
    exo = header.get('EXO')
    exo_value = to_float(exo) if exo else None
    if exo_value is not None:
        metadata['exo_sign'] = int(exo_value)
        if 'heat_flow_mw' in columns and metadata['exo_sign'] in (1, -1):
            # canonical sign: exothermic positive (the file's #EXO says which way its signal points)
            columns['heat_flow_mw'] = columns['heat_flow_mw'] * metadata['exo_sign']
            metadata['heat_flow_sign'] = 'exothermic positive (converted with #EXO)'
    elif 'heat_flow_mw' in columns:
        metadata['heat_flow_sign'] = 'as recorded (the file does not say which way is exothermic)'
    rate = _RATE.search(header.get('RANGE', ''))
    if rate:
        metadata['heating_rate_k_min'] = float(rate.group(1).replace(',', '.'))
    stamp = header.get('DATE/TIME')
    if stamp:
        moment = parse_datetime(stamp, _NETZSCH_DATE_FORMATS)
        if moment is not None:
            metadata.update(timestamp_metadata(moment))
        else:
            metadata['start_time_text'] = stamp
