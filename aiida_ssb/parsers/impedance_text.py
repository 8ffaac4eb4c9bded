"""Impedance text exports of other instruments: a plain ``f, Re, Im`` table, Gamry ``.DTA``, ZPlot
``.z`` and Autolab text exports.

Every reader returns ``z_imag_ohm`` as Im(Z) itself (negative for a capacitive arc), whatever the
file wrote. Readers whose file does not record the control mode give the technique ``'eis'``;
``read(..., technique='peis')`` refines it.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from aiida_ssb.parsers._common import (
    UnitError,
    clean_header_value,
    convert,
    decode_text,
    parse_datetime,
    parse_numeric_block,
    read_bytes,
    repair_unit,
    sniff_table,
    split_fields,
    split_lines,
    to_float,
)
from aiida_ssb.parsers.base import Measurement, ParseError, column_unit, timestamp_metadata

__all__ = ['read_autolab', 'read_csv_impedance', 'read_gamry_dta', 'read_zplot']


def _text_lines(path: str | os.PathLike[str], what: str) -> list[str]:
    return split_lines(decode_text(path, read_bytes(path), what=what))


def _check_frequencies(
    path: str | os.PathLike[str] | None, frequency: np.ndarray, first_line: int | None = None
) -> None:
    bad = ~(frequency > 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ParseError(
            path,
            f'frequency {frequency[row]!r} in data row {row + 1} is not positive '
            '(is the first column really the frequency?)',
            line=None if first_line is None else first_line + row,
        )


def _imaginary_note(z_imag: np.ndarray) -> dict[str, Any]:
    finite = z_imag[np.isfinite(z_imag)]
    if finite.size and np.mean(finite > 0) > 0.8:
        return {
            'sign_warning': 'most Im(Z) values are positive (inductive): if the file holds -Im(Z), '
            'read it with imag_sign=-1'
        }
    return {}


# ---------------------------------------------------------------------------------------------- plain CSV
def read_csv_impedance(
    path: str | os.PathLike[str], *, technique: str | None = None, imag_sign: int = 1
) -> Measurement:
    """A table of ``frequency, Re(Z), Im(Z)`` (more columns are ignored), without header or under a
    one-line header; delimiter (comma, semicolon, tab, spaces) and decimal mark are sniffed.

    :param imag_sign: ``1`` when the third column is Im(Z) (negative for a capacitive arc, as in
        impedance.py's ``exampleData.csv``), ``-1`` when it is -Im(Z).
    :param technique: ignored here (``read`` applies it); the file does not record the control mode.
    """
    if imag_sign not in (1, -1):
        raise ParseError(path, f'imag_sign must be 1 or -1, not {imag_sign!r}')
    lines = _text_lines(path, 'impedance table')
    layout = sniff_table(lines)
    if layout is None:
        raise ParseError(path, 'holds no numeric table')
    if layout.n_columns < 3:
        raise ParseError(
            path,
            f'has {layout.n_columns} columns; an impedance table needs frequency, Re(Z), Im(Z)',
            line=layout.first_data_line + 1,
        )
    array, notes = layout.parse(path, lines, column_names=None, usecols=(0, 1, 2))
    frequency = array[:, 0].copy()
    _check_frequencies(path, frequency, layout.first_data_line + 1)
    columns = {
        'frequency_hz': frequency,
        'z_real_ohm': array[:, 1].copy(),
        'z_imag_ohm': array[:, 2] * float(imag_sign),
    }
    metadata: dict[str, Any] = {
        'column_order': 'frequency/Hz, Re(Z)/ohm, Im(Z)/ohm'
        if imag_sign == 1
        else 'frequency/Hz, Re(Z)/ohm, -Im(Z)/ohm',
        'delimiter': layout.delimiter or 'whitespace',
        'decimal_mark': layout.decimal,
        'technique_source': 'format (the control mode is not recorded)',
    }
    if layout.header:
        metadata['original_columns'] = layout.header
    metadata.update(_imaginary_note(columns['z_imag_ohm']))
    metadata.update(notes)
    return Measurement('eis', columns, metadata, source=os.fspath(path), file_format='csv-impedance')


# ---------------------------------------------------------------------------------------------- Gamry
_GAMRY_COLUMNS = {
    'Time': 'time_s',
    'Freq': 'frequency_hz',
    'Zreal': 'z_real_ohm',
    'Zimag': 'z_imag_ohm',
    'Zmod': 'z_mod_ohm',
    'Zphz': 'z_phase_deg',
    'Idc': 'dc_current_ma',
    'Vdc': 'dc_voltage_v',
    'Temp': 'temperature_c',
}
_GAMRY_UNITS = {
    'ohm': 'ohm',
    '°': 'deg',
    'deg': 'deg',
    'Hz': 'Hz',
    's': 's',
    'A': 'A',
    'V': 'V',
    'deg C': '°C',
    '°C': '°C',
    'V vs. Ref.': 'V',
}
_GAMRY_TAGS = {'EISPOT': 'peis', 'EISGALV': 'geis'}


def read_gamry_dta(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> Measurement:
    """A Gamry Framework ``.DTA`` (EXPLAIN) file with an impedance table ``ZCURVE``.

    ``Zimag`` is Im(Z) already; ``Idc`` (A) becomes ``dc_current_ma``. The tag ``EISPOT`` gives
    ``'peis'``, ``EISGALV`` ``'geis'``. Metadata: start time (``DATE`` + ``TIME``), ``instrument``
    (``PSTAT``), ``electrode_area_cm2`` (``AREA``), ``software_version`` (``FRAMEWORKVERSION``), the
    set-up values as ``settings`` and the notes as ``comments``.
    """
    lines = _text_lines(path, 'Gamry EXPLAIN file')
    if not lines or lines[0].strip() != 'EXPLAIN':
        raise ParseError(path, 'is not a Gamry EXPLAIN file (first line is not "EXPLAIN")', line=1)
    settings, labels, notes, table_at, tag = _gamry_header(lines)
    if table_at is None:
        raise ParseError(path, 'has no impedance table (no "ZCURVE TABLE" line)')
    if table_at + 2 >= len(lines):
        raise ParseError(path, 'the ZCURVE table has no column names (truncated?)', line=table_at + 1)
    names = [field.strip() for field in lines[table_at + 1].strip('\n').split('\t')[1:]]
    units = [field.strip() for field in lines[table_at + 2].strip('\n').split('\t')[1:]]
    if 'Freq' not in names or 'Zreal' not in names or 'Zimag' not in names:
        raise ParseError(
            path, f'the ZCURVE table lacks Freq/Zreal/Zimag (it has {", ".join(names)})', line=table_at + 2
        )
    start = table_at + 3
    stop = start
    while stop < len(lines) and lines[stop].startswith('\t'):
        stop += 1
    rows = [line[1:] for line in lines[start:stop]]
    table_fields = lines[table_at].split('\t')
    declared = int(table_fields[2]) if len(table_fields) > 2 and table_fields[2].strip().isdigit() else None
    aborted = [line.split('\t') for line in lines[stop:] if line.startswith('EXPERIMENTABORTED')]
    if aborted or any(line.startswith('EXPERIMENTABORTED') for line in lines[1:table_at]):
        run_aborted = True
    else:
        run_aborted = False
    decimal = ','
    if rows and all(',' not in field for field in rows[0].split('\t')):
        decimal = '.'
    wanted = [(position, name) for position, name in enumerate(names) if name in _GAMRY_COLUMNS]
    array, block_notes = parse_numeric_block(
        path,
        '\n'.join(rows),
        first_line=start + 1,
        delimiter='\t',
        n_columns=len(names),
        decimal=decimal,
        column_names=names,
        allow_truncated=allow_truncated,
        usecols=[position for position, _ in wanted],
    )
    columns: dict[str, np.ndarray] = {}
    repaired: list[str] = []
    for index_in_array, (position, name) in enumerate(wanted):
        canonical = _GAMRY_COLUMNS[name]
        unit = units[position] if position < len(units) else ''
        unit, repair = repair_unit(unit)
        if repair:
            repaired.append(f'ZCURVE column {name}: {repair}')
        unit = _GAMRY_UNITS.get(unit, unit)
        try:
            columns[canonical] = convert(array[:, index_in_array], unit, column_unit(canonical))
        except UnitError as exc:
            raise ParseError(path, f'ZCURVE column {name!r}: {exc}', line=table_at + 3) from None
    technique = _GAMRY_TAGS.get(tag, 'eis')
    metadata = _gamry_metadata(names, decimal, tag, labels, settings, notes)
    metadata.update(block_notes)
    if repaired:
        metadata['repaired_units'] = repaired
    n_read = len(next(iter(columns.values()))) if columns else 0
    if declared is not None:
        metadata['declared_points'] = declared
        if n_read != declared and not run_aborted and 'truncated_last_line' not in block_notes:
            raise ParseError(
                path,
                f'the ZCURVE table declares {declared} points but holds {n_read}, and the run is not marked '
                'aborted: the file is truncated or damaged',
                line=table_at + 1,
            )
    if run_aborted:
        metadata['run_aborted'] = True
        metadata['run_aborted_reason'] = (
            'the file marks the run as aborted (EXPERIMENTABORTED): the spectrum stops at '
            f'{n_read} points' + (f' of the {declared} planned' if declared else '')
        )
    if 'frequency_hz' in columns:
        _check_frequencies(path, columns['frequency_hz'], start + 1)
    return Measurement(technique, columns, metadata, source=os.fspath(path), file_format='gamry-dta')


def _gamry_header(lines: list[str]) -> tuple[dict[str, str], dict[str, str], list[str], int | None, str]:
    """The EXPLAIN header above the ZCURVE table: set-up values, labels, notes, the table's line index, the TAG."""
    settings: dict[str, str] = {}
    labels: dict[str, str] = {}
    notes: list[str] = []
    table_at = None
    tag = ''
    index = 1
    while index < len(lines):
        line = lines[index]
        if not line.strip() or line.startswith('\t'):
            index += 1
            continue
        fields = line.rstrip('\n').split('\t')
        key = fields[0].strip()
        kind = fields[1].strip() if len(fields) > 1 else ''
        if key == 'TAG':
            tag = kind
            index += 1
            continue
        if key == 'ZCURVE' and kind == 'TABLE':
            table_at = index
            break
        if kind == 'NOTES':
            count = int(fields[2]) if len(fields) > 2 and fields[2].strip().isdigit() else 0
            notes = [lines[j].strip() for j in range(index + 1, min(index + 1 + count, len(lines))) if lines[j].strip()]
            index += 1 + count
            continue
        if kind == 'TABLE':
            index += 1
            while index < len(lines) and lines[index].startswith('\t'):
                index += 1
            continue
        value = fields[2].strip() if len(fields) > 2 else ''
        if kind in ('LABEL', 'PSTAT'):
            labels[key] = value
        if kind == 'TWOPARAM':
            settings[key] = ' '.join(field.strip() for field in fields[2:5] if field.strip())
        elif kind in ('QUANT', 'IQUANT', 'POTEN', 'TOGGLE', 'SELECTOR', 'LABEL', 'PSTAT'):
            settings[key] = value
        index += 1
    return settings, labels, notes, table_at, tag


def _gamry_metadata(
    names: list[str], decimal: str, tag: str, labels: dict[str, str], settings: dict[str, str], notes: list[str]
) -> dict[str, Any]:
    """The metadata of a Gamry file from its header (see :func:`read_gamry_dta`)."""
    metadata: dict[str, Any] = {'original_columns': names, 'decimal_mark': decimal, 'software': 'Gamry Framework'}
    if tag:
        metadata['gamry_tag'] = tag
        metadata['technique_source'] = 'file header (TAG)' if tag in _GAMRY_TAGS else 'format'
    if labels.get('TITLE'):
        metadata['technique_name'] = labels['TITLE']
    moment = parse_datetime(f'{labels.get("DATE", "")} {labels.get("TIME", "")}')
    if moment is not None:
        metadata.update(timestamp_metadata(moment))
    if labels.get('PSTAT'):
        section = labels['PSTAT']
        serial = settings.get('PSTATSERIALNO', '').strip()
        if serial and section.endswith(f'-{serial}'):
            metadata['instrument'] = section[: -len(serial) - 1]
            metadata['instrument_serial'] = serial
        else:
            metadata['instrument'] = section
    area = settings.get('AREA')
    if area:
        area_cm2 = to_float(area.split()[0], decimal)
        if area_cm2 is not None and area_cm2 > 0:
            metadata['electrode_area_cm2'] = area_cm2
    version = settings.get('FRAMEWORKVERSION')
    if version:
        metadata['software_version'] = version.split()[0]
    if notes:
        metadata['comments'] = '\n'.join(notes)
    metadata['settings'] = settings
    return metadata


# ---------------------------------------------------------------------------------------------- ZPlot
_Z_COLUMNS = {  # normalised column name -> (canonical, sign)
    'freq(hz)': ('frequency_hz', 1.0),
    'time(sec)': ('time_s', 1.0),
    "z'(a)": ('z_real_ohm', 1.0),
    "z''(b)": ('z_imag_ohm', 1.0),
}
_Z_DEFAULT_ORDER = ['Freq(Hz)', 'Ampl', 'Bias', 'Time(Sec)', "Z'(a)", "Z''(b)", 'GD', 'Err', 'Range']


def read_zplot(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> Measurement:
    """A Scribner ZPlot/ZView ``.z`` file: ``key: value`` header up to ``End Comments``, then
    tab/space separated ``Freq(Hz) Ampl Bias Time(Sec) Z'(a) Z''(b) GD Err Range``. ``Z''`` is
    Im(Z). "Control Voltage" gives ``'peis'``, "Control Current" ``'geis'``."""
    lines = _text_lines(path, 'ZPlot file')
    if not lines or not lines[0].strip().startswith('ZPLOT2 ASCII'):
        raise ParseError(path, 'is not a ZPlot file (first line is not "ZPLOT2 ASCII")', line=1)
    end = next((i for i, line in enumerate(lines) if line.strip() == 'End Comments'), None)
    if end is None:
        raise ParseError(path, 'has no "End Comments" line: the header never ends (truncated?)')
    values: dict[str, str] = {}
    names = _Z_DEFAULT_ORDER
    for line in lines[1:end]:
        if '\t' in line and "Z'" in line:
            names = [field.strip() for field in line.strip().split('\t')]
            continue
        key, separator, value = line.partition(':')
        if separator:
            values.setdefault(key.strip(), value.strip())
    data_lines = lines[end + 1 :]
    delimiter = '\t' if any('\t' in line for line in data_lines[:5]) else None
    wanted = [(position, name) for position, name in enumerate(names) if name.lower() in _Z_COLUMNS]
    if not {'freq(hz)', "z'(a)", "z''(b)"} <= {name.lower() for _, name in wanted}:
        raise ParseError(path, f"the column line lacks Freq(Hz), Z'(a), Z''(b): {', '.join(names)}", line=end)
    array, notes = parse_numeric_block(
        path,
        '\n'.join(data_lines),
        first_line=end + 2,
        delimiter=delimiter,
        n_columns=len(names),
        column_names=names,
        allow_truncated=allow_truncated,
        usecols=[position for position, _ in wanted],
    )
    columns = {}
    for index, (_, name) in enumerate(wanted):
        canonical, sign = _Z_COLUMNS[name.lower()]
        columns[canonical] = array[:, index] * sign
    _check_frequencies(path, columns['frequency_hz'], end + 2)
    experiment = values.get('Experiment Type', '')
    technique = 'peis' if 'Control Voltage' in experiment else 'geis' if 'Control Current' in experiment else 'eis'
    metadata: dict[str, Any] = {'original_columns': names, 'software': 'ZPlot'}
    if 'Measured Data, ZPlot' in values:
        metadata['software_version'] = values['Measured Data, ZPlot']
    if experiment:
        metadata['technique_name'] = experiment
        metadata['technique_source'] = 'file header (Experiment Type)' if technique != 'eis' else 'format'
    moment = parse_datetime(
        f'{values.get("Date", "")} {values.get("Time", "")}',
        ('%m-%d-%Y %H:%M:%S', '%m/%d/%Y %H:%M:%S', '%d.%m.%Y %H:%M:%S'),
    )
    if moment is not None:
        metadata.update(timestamp_metadata(moment))
    declared = values.get('Data Points')
    if declared and declared.isdigit() and int(declared) != len(columns['frequency_hz']):
        metadata['declared_points'] = int(declared)
    metadata['settings'] = {key: clean_header_value(value) for key, value in values.items() if value}
    metadata.update(notes)
    return Measurement(technique, columns, metadata, source=os.fspath(path), file_format='zplot-z')


# ---------------------------------------------------------------------------------------------- Autolab
_NOVA_COLUMNS = {  # normalised header -> (canonical, sign)
    'frequency (hz)': ('frequency_hz', 1.0),
    'freq (hz)': ('frequency_hz', 1.0),
    "z' (ω)": ('z_real_ohm', 1.0),
    "z' (ohm)": ('z_real_ohm', 1.0),
    "-z'' (ω)": ('z_imag_ohm', -1.0),
    "-z'' (ohm)": ('z_imag_ohm', -1.0),
    "z'' (ω)": ('z_imag_ohm', 1.0),
    "z'' (ohm)": ('z_imag_ohm', 1.0),
    'z (ω)': ('z_mod_ohm', 1.0),
    'z (ohm)': ('z_mod_ohm', 1.0),
    '-phase (°)': ('z_phase_deg', -1.0),
    'phase (°)': ('z_phase_deg', 1.0),
    'time (s)': ('time_s', 1.0),
}


def _normalise_header(name: str) -> str:
    return ' '.join(name.strip().strip('"').lower().replace('Ω', 'ω').split())


def read_autolab(
    path: str | os.PathLike[str], *, technique: str | None = None, allow_truncated: bool = False
) -> Measurement:
    """Metrohm Autolab impedance text exports, two layouts:

    * the Z60W-style export (first line ``"Z60W Data File: Version 1.1"``; columns
      ``Freq (Hz), Ampl, Bias, Time(Sec), Z'(a), Z''(b), GD, Err, Range``, comma separated), as in
      impedance.py's ``exampleDataAutolab.txt``; ``Z''`` is Im(Z);
    * NOVA's column export (``Frequency (Hz); Z' (Ω); -Z'' (Ω); Z (Ω); -Phase (°); Time (s)``):
      ``-Z''`` and ``-Phase`` are flipped to Im(Z) and the phase of Z.

    :param technique: ignored here (``read`` applies it); the export does not record the control mode.
    """
    lines = _text_lines(path, 'Autolab export')
    first = next((line.strip().lstrip('\ufeff') for line in lines if line.strip()), '')
    if 'Z60W Data File' in first:
        return _read_z60w(path, lines, first, allow_truncated)
    layout = sniff_table(lines)
    if layout is None or layout.header is None:
        raise ParseError(path, 'is not an Autolab export (no Z60W signature and no column-name line)')
    wanted = []
    for position, name in enumerate(layout.header):
        key = _normalise_header(name)
        if key in _NOVA_COLUMNS:
            wanted.append((position, key))
    found = {_NOVA_COLUMNS[key][0] for _, key in wanted}
    if not {'frequency_hz', 'z_real_ohm', 'z_imag_ohm'} <= found:
        raise ParseError(
            path,
            f"the column names ({', '.join(layout.header)}) lack frequency, Z' and Z''",
            line=(layout.header_line or 0) + 1,
        )
    array, notes = layout.parse(
        path,
        lines,
        allow_truncated=allow_truncated,
        usecols=[position for position, _ in wanted],
    )
    columns = {}
    for index, (_, key) in enumerate(wanted):
        canonical, sign = _NOVA_COLUMNS[key]
        if canonical not in columns:
            columns[canonical] = array[:, index] * sign
    _check_frequencies(path, columns['frequency_hz'], layout.first_data_line + 1)
    metadata = {
        'original_columns': layout.header,
        'layout': 'NOVA column export',
        'software': 'NOVA',
        'decimal_mark': layout.decimal,
        'technique_source': 'format (the control mode is not recorded)',
    }
    metadata.update(notes)
    return Measurement('eis', columns, metadata, source=os.fspath(path), file_format='autolab-txt')


def _read_z60w(path: str | os.PathLike[str], lines: list[str], first: str, allow_truncated: bool) -> Measurement:
    header_at = next((i for i, line in enumerate(lines) if 'Freq' in line and "Z'" in line), None)
    if header_at is None:
        raise ParseError(path, 'the Z60W export has no column-name line (with "Freq" and "Z\'")')
    header = lines[header_at].strip().strip('"')
    tokens = header.split()
    names = _Z_DEFAULT_ORDER
    if "Z'(a)" not in tokens or "Z''(b)" not in tokens or tokens.index("Z'(a)") != 5 or tokens.index("Z''(b)") != 6:
        raise ParseError(path, f'unexpected Z60W column order: {header!r}', line=header_at + 1)
    declared = None
    if header_at >= 1 and lines[header_at - 1].strip().isdigit():
        declared = int(lines[header_at - 1].strip())
    data = lines[header_at + 1 :]
    array, notes = parse_numeric_block(
        path,
        '\n'.join(data),
        first_line=header_at + 2,
        delimiter=',',
        n_columns=len(names),
        column_names=names,
        allow_truncated=allow_truncated,
        usecols=(0, 3, 4, 5),
    )
    columns = {
        'frequency_hz': array[:, 0].copy(),
        'time_s': array[:, 1].copy(),
        'z_real_ohm': array[:, 2].copy(),
        'z_imag_ohm': array[:, 3].copy(),
    }
    not_recorded = []
    if columns['time_s'].size and not columns['time_s'].any():
        del columns['time_s']  # the export writes 0 when the time was not recorded: unknown, not zero
        not_recorded.append('Time(Sec)')
    _check_frequencies(path, columns['frequency_hz'], header_at + 2)
    version = re.search(r'Version\s*([\d.]+)', first)
    metadata: dict[str, Any] = {
        'original_columns': names,
        'layout': 'Z60W-style export',
        'technique_source': 'format (the control mode is not recorded)',
    }
    if version:
        metadata['file_version'] = version.group(1)
    if not_recorded:
        metadata['not_recorded'] = not_recorded
    if declared is not None and declared != len(columns['frequency_hz']):
        metadata['declared_points'] = declared
    settings_line = lines[header_at - 2].strip() if header_at >= 2 else ''
    if settings_line and all(field for field in split_fields(settings_line, ',')):
        metadata['settings_line'] = settings_line
    metadata.update(notes)
    return Measurement('eis', columns, metadata, source=os.fspath(path), file_format='autolab-txt')
