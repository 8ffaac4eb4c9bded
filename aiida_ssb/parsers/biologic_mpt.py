"""BioLogic EC-Lab / BT-Lab text export (``.mpt``): our own reader (MIT), no third-party code.

Layout of the file::

    EC-Lab ASCII FILE
    Nb header lines : 70
                                   <- free text, "key : value" lines, the technique name,
    Potentio Electrochemical ...      the cell characteristics, then (after "Cycle Definition")
    ...                               the technique settings in 20-character columns
    freq/Hz<TAB>Re(Z)/Ohm<TAB>...  <- line N: the column names
    1.9999814E+005<TAB>...         <- data, tab separated, '.' or ',' as decimal mark

Exports without the first two lines (only the column names, then data) are read too. The time
column may hold elapsed seconds or, with EC-Lab's "absolute" time format, dates.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from typing import Any

import numpy as np

from aiida_ssb.parsers._common import (
    check_size,
    clean_header_value,
    decode_text,
    line_offsets,
    parse_datetime,
    quantity_from_text,
    read_bytes,
    to_float,
)
from aiida_ssb.parsers._stream import read_numeric
from aiida_ssb.parsers.base import Measurement, ParseError, timestamp_metadata
from aiida_ssb.parsers.biologic import (
    canonicalise,
    integer_columns,
    is_placeholder,
    technique_from_columns,
    technique_from_name,
    used_columns,
)
from aiida_ssb.parsers.settings import TechniqueSettings, cross_check, settings_from_ec_lab

__all__ = ['MAGIC_LINES', 'looks_like_mpt_columns', 'read_mpt']

MAGIC_LINES = ('EC-Lab ASCII FILE', 'BT-Lab ASCII FILE')
_NB_HEADER = re.compile(r'^\s*Nb header lines\s*:\s*(\d+)\s*$')
_SOFTWARE = re.compile(r'^\s*(EC-Lab|BT-Lab)\b.*?\bv\s*(\d[\w.]*)\s*\(software\)', re.IGNORECASE)
_DEVICE = re.compile(r'^\s*(.*?)\s*\(SN\s*([^)]*)\)\s*$')
_KNOWN_NAMES = {
    'mode',
    'ox/red',
    'error',
    'control changes',
    'Ns changes',
    'counter inc.',
    'Ns',
    'cycle number',
    'half cycle',
    'z cycle',
    'I Range',
    'x',
}

#: header key -> (metadata key, target unit or None for text)
_CELL_QUANTITIES = {
    'Electrode surface area': ('electrode_area_cm2', 'cm2'),
    'Mass of active material': ('active_mass_mg', 'mg'),
    'Characteristic mass': ('characteristic_mass_mg', 'mg'),
    'Battery capacity': ('battery_capacity_mah', 'mAh'),
    'Molecular weight of active material (at x = 0)': ('molecular_weight_g_mol', 'g/mol'),
    'Atomic weight of intercalated ion': ('intercalated_ion_weight_g_mol', 'g/mol'),
}
_PLACEHOLDER_KEYS = {
    'electrode_area_cm2',
    'active_mass_mg',
    'characteristic_mass_mg',
    'molecular_weight_g_mol',
    'intercalated_ion_weight_g_mol',
}
_CELL_TEXT = {
    'Electrode material': 'electrode_material',
    'Electrolyte': 'electrolyte',
    'Initial state': 'initial_state',
    'Reference electrode': 'reference_electrode',
    'Cycle Definition': 'cycle_definition',
}


def looks_like_mpt_columns(line: str) -> bool:
    """True for a tab-separated line of EC-Lab column names (a headerless export)."""
    fields = [field.strip() for field in line.rstrip('\n').split('\t') if field.strip()]
    if len(fields) < 2:
        return False
    hits = sum(
        1
        for field in fields
        if field in _KNOWN_NAMES
        or field in ('time/s', 'Ewe/V', 'freq/Hz', 'Re(Z)/Ohm', '-Im(Z)/Ohm', '<Ewe>/V', '<I>/mA', 'I/mA')
    )
    return hits >= 2


def read_mpt(
    path: str | os.PathLike[str],
    *,
    keep_dc_rows: bool = False,
    keep_placeholders: bool = False,
    allow_truncated: bool = False,
) -> Measurement:
    """Read an EC-Lab ``.mpt`` text export.

    The header is decoded as text; the data lines are read straight from the file's bytes in blocks
    (:func:`aiida_ssb.parsers._stream.read_numeric`), and only the columns a canonical column is made of are
    converted, so a large record is read once, at the speed of pandas' C tokenizer, with memory for its arrays
    only.

    :param keep_dc_rows: keep the frequency-0 rows of impedance records (DC points EC-Lab records
        before a sweep), with NaN impedance; by default they are dropped and counted in
        ``metadata['dropped_dc_rows']``.
    :param keep_placeholders: keep cell characteristics equal to 0.001, EC-Lab's value for "not set"
        (dropped by default: unknown is absent, never a made-up number).
    :param allow_truncated: drop a truncated last line (an export cut while writing; noted as
        ``truncated_last_line``) instead of failing.
    """
    size = check_size(path, what='EC-Lab text export')
    layout = _layout(path, size)
    header_lines = layout['header_lines']
    n_header = layout['n_header']
    column_line = header_lines[n_header - 1] if len(header_lines) >= n_header else ''
    names, name_notes = _column_names(path, column_line, n_header)

    first_data = layout['first_data']
    decimal = _decimal_mark(path, first_data, n_header + 1)
    time_position = names.index('time/s') if 'time/s' in names else None
    absolute_time = time_position is not None and _is_date(first_data, time_position)
    notes: dict[str, Any] = dict(name_notes)
    if time_position is not None and absolute_time:
        data_text = layout['data'].decode('latin-1') if layout['data'] is not None else _data_text(path, layout)
        array, start = _absolute_time_table(
            path, data_text, names, time_position, decimal, n_header + 1, allow_truncated, notes
        )
        raw_columns = {name: array[:, position] for position, name in enumerate(names) if name}
    else:
        wanted = [position for position in used_columns(names) if names[position]]
        source = layout['data'] if layout['data'] is not None else (path, layout['data_offset'])
        table = read_numeric(
            path,
            source,
            first_line=n_header + 1,
            delimiter='\t',
            n_columns=len(names),
            usecols=wanted,
            decimal=decimal,
            column_names=names,
            allow_truncated=allow_truncated,
            integer_columns=integer_columns(names),
        )
        notes.update(table.notes)
        raw_columns = {names[position]: table.columns.pop(position) for position in wanted}
        start = None
    if not raw_columns or next(iter(raw_columns.values())).size == 0:
        raise ParseError(path, f'the file holds no data rows (its header ends at line {n_header})')

    header = _parse_header(header_lines[2 : n_header - 1] if n_header >= 3 else [])
    metadata: dict[str, Any] = {'original_columns': [name for name in names if name], 'decimal_mark': decimal}
    metadata.update(_header_metadata(header, keep_placeholders))
    if start is not None and 'start_time' not in metadata:
        metadata.update(timestamp_metadata(start))
    technique_names = header['techniques']
    technique = None
    if technique_names:
        codes = [(name, technique_from_name(name)) for name in technique_names]
        chosen = next(((name, code) for name, code in codes if code not in ('ocv', 'wait')), codes[0])
        metadata['technique_name'] = chosen[0]
        technique = chosen[1]
        metadata['technique_source'] = 'file header'
        if len(codes) > 1:
            metadata['linked_techniques'] = [name for name, _ in codes]
    if technique is None:
        technique = technique_from_columns(names)
        if technique is None:
            raise ParseError(
                path,
                f'cannot tell the technique: no technique name in the header and the columns '
                f'({", ".join(names[:8])}...) match none',
            )
        metadata['technique_source'] = 'columns (the header names no technique)'
    settings = _technique_settings(path, technique, header['settings'])
    columns, canon_notes = canonicalise(
        path, raw_columns, technique, keep_dc_rows=keep_dc_rows, owned=not absolute_time
    )
    del raw_columns
    metadata.update(canon_notes)
    if 'intercalation_x' in columns and _x_from_unset_values(header['values']):
        del columns['intercalation_x']  # EC-Lab computed it from its "not set" 0.001 mass/molecular weight
        metadata['dropped_columns'] = {'intercalation_x': 'computed by EC-Lab from unset cell characteristics (0.001)'}
    metadata.update(notes)
    if settings is not None:
        metadata['technique_settings'] = settings.stored()
        metadata['settings_summary'] = settings.summary()
        checks = cross_check(settings, columns)
        if checks:
            metadata['flags'] = metadata.get('flags', []) + checks
    return Measurement(
        technique=technique, columns=columns, metadata=metadata, source=os.fspath(path), file_format='biologic-mpt'
    )


def _technique_settings(
    path: str | os.PathLike[str] | None, technique: str, block: dict[str, Any]
) -> TechniqueSettings | None:
    """The settings block as a validated structure; a block that does not validate is kept as text only (noted,
    never fatal: the data are still good)."""
    try:
        return settings_from_ec_lab(technique, block)
    except ValueError:
        return None


_HEAD_BYTES = 1 << 20


def _layout(path: str | os.PathLike[str], size: int) -> dict[str, Any]:
    """The header lines (decoded), the number of header lines, the first data line and where the data start.

    The header is read from the first megabyte of the file; the data are left on disk (``data_offset``) unless
    the file is UTF-16 or its header holds NUL bytes, when the whole file is decoded here (``data``)."""
    try:
        with open(path, 'rb') as handle:
            head = handle.read(min(size, _HEAD_BYTES))
    except OSError as exc:
        raise ParseError(path, f'cannot be opened: {exc.strerror or exc}') from None
    if not head:
        raise ParseError(path, 'the file is empty')
    skip = 3 if head.startswith(b'\xef\xbb\xbf') else 0
    if head.startswith((b'\xff\xfe', b'\xfe\xff')):
        return _layout_in_memory(path, decode_text(path, read_bytes(path), what='EC-Lab text export'))
    first_end = head.find(b'\n', skip)
    first = head[skip : first_end if first_end >= 0 else len(head)].decode('latin-1').strip()
    if first in MAGIC_LINES:
        second_end = head.find(b'\n', first_end + 1)
        second = head[first_end + 1 : second_end if second_end >= 0 else len(head)].decode('latin-1')
        match = _NB_HEADER.match(second)
        if not match:
            raise ParseError(
                path, f'the second line should read "Nb header lines : N", found {second.strip()[:60]!r}', line=2
            )
        n_header = int(match.group(1))
        if n_header < 3:
            raise ParseError(
                path, f'"Nb header lines : {n_header}" is too small (the header has at least 3 lines)', line=2
            )
    elif looks_like_mpt_columns(first):
        n_header = 1
    else:
        raise ParseError(path, 'is not an EC-Lab text export (no "EC-Lab ASCII FILE" first line)', line=1)
    offset = skip
    for _ in range(n_header):
        found = head.find(b'\n', offset)
        if found < 0:
            if len(head) < size:
                raise ParseError(path, f'the header announces {n_header} lines, more than its first megabyte holds')
            available = head.count(b'\n', skip) + (0 if head.endswith(b'\n') else 1)
            if available < n_header:
                raise ParseError(
                    path, f'the header announces {n_header} lines but the file has only {available} (truncated?)'
                )
            offset = len(head)
            break
        offset = found + 1
    header_bytes = head[skip:offset]
    if b'\x00' in header_bytes:
        return _layout_in_memory(path, decode_text(path, read_bytes(path), what='EC-Lab text export'))
    header_text = decode_text(path, header_bytes, what='EC-Lab text export') if header_bytes else ''
    header_lines = header_text.split('\n')
    if header_lines and header_lines[-1] == '':
        header_lines.pop()
    data_end = head.find(b'\n', offset)
    first_data = head[offset : data_end if data_end >= 0 else len(head)].decode('latin-1').rstrip('\r')
    return {
        'n_header': n_header,
        'header_lines': header_lines,
        'first_data': first_data,
        'data_offset': offset,
        'data': None,
    }


def _layout_in_memory(path: str | os.PathLike[str], text: str) -> dict[str, Any]:
    """:func:`_layout` for a file decoded whole (UTF-16, or NUL bytes in its header)."""
    first_end = text.find('\n')
    first_line = (text if first_end < 0 else text[:first_end]).strip().lstrip('\ufeff')
    if first_line in MAGIC_LINES:
        second_end = text.find('\n', first_end + 1)
        second = text[first_end + 1 : second_end if second_end >= 0 else len(text)]
        match = _NB_HEADER.match(second)
        if not match:
            raise ParseError(
                path, f'the second line should read "Nb header lines : N", found {second.strip()[:60]!r}', line=2
            )
        n_header = int(match.group(1))
        if n_header < 3:
            raise ParseError(
                path, f'"Nb header lines : {n_header}" is too small (the header has at least 3 lines)', line=2
            )
    elif looks_like_mpt_columns(first_line):
        n_header = 1
    else:
        raise ParseError(path, 'is not an EC-Lab text export (no "EC-Lab ASCII FILE" first line)', line=1)
    data_start = line_offsets(text, n_header)
    if data_start < 0:
        available = text.count('\n') + (0 if text.endswith('\n') else 1)
        if available < n_header:
            raise ParseError(
                path, f'the header announces {n_header} lines but the file has only {available} (truncated?)'
            )
        data_start = len(text)
    header_lines = text[:data_start].split('\n')
    if header_lines and header_lines[-1] == '':
        header_lines.pop()
    data_text = text[data_start:]
    first_data = data_text.split('\n', 1)[0]
    return {
        'n_header': n_header,
        'header_lines': header_lines,
        'first_data': first_data,
        'data_offset': None,
        'data': data_text.encode('latin-1', errors='replace'),
    }


def _data_text(path: str | os.PathLike[str], layout: dict[str, Any]) -> str:
    """The data lines as text (the slow path of absolute-time exports)."""
    raw = read_bytes(path)
    return raw[layout['data_offset'] :].decode('latin-1').replace('\r\n', '\n').replace('\r', '\n')


# ---------------------------------------------------------------------------------------------- pieces
def _column_names(path: str | os.PathLike[str] | None, line: str, n_header: int) -> tuple[list[str], dict[str, Any]]:
    """The column names of line ``n_header`` and notes on what was tolerated.

    EC-Lab ends the line with a tab, and some exports (PEIS with Ece recorded) with an empty name before it:
    empty names at the end are dropped (data fields there are extra fields, see ``read_numeric``). An empty name
    between others keeps its place as an unnamed column (its values are not read). A repeated name is kept once
    under its name and again as ``name (2)``.
    """
    stripped = line.rstrip('\n').rstrip('\r')
    if '\t' not in stripped:
        raise ParseError(
            path,
            f'line {n_header} should hold the tab-separated column names ("Nb header lines : {n_header}"), '
            f'found {stripped.strip()[:60]!r}: the header length does not match the file',
            line=n_header,
        )
    names = [field.strip() for field in stripped.split('\t')]
    notes: dict[str, Any] = {}
    trailing = 0
    while names and not names[-1]:
        names.pop()
        trailing += 1
    if trailing > 1:
        notes['empty_trailing_column_names'] = trailing - 1  # one trailing tab is EC-Lab's own
    numeric = 0
    for field in names:
        try:
            float(field.replace(',', '.'))
            numeric += 1
        except ValueError:
            pass
    if numeric or not names:
        raise ParseError(
            path,
            f'line {n_header} holds numbers where the column names should be: the header length '
            f'("Nb header lines : {n_header}") does not match the file',
            line=n_header,
        )
    unnamed = [position for position, name in enumerate(names) if not name]
    if unnamed:
        notes['unnamed_columns'] = [position + 1 for position in unnamed]
    seen: dict[str, int] = {}
    unique = []
    duplicated = []
    for name in names:
        if not name:
            unique.append('')
            continue
        count = seen.get(name, 0)
        seen[name] = count + 1
        if count:
            duplicated.append(name)
        unique.append(name if count == 0 else f'{name} ({count + 1})')
    if duplicated:
        notes['duplicated_column_names'] = sorted(set(duplicated))
    return unique, notes


def _decimal_mark(path: str | os.PathLike[str] | None, first_data: str, line: int) -> str:
    fields = [field for field in first_data.strip().split('\t') if field]
    with_comma = any(',' in field for field in fields)
    if not with_comma:
        return '.'
    with_point = any('.' in field and not _looks_like_date(field) for field in fields)
    if with_point:
        raise ParseError(path, 'numbers use both "." and "," as decimal marks', line=line)
    return ','


def _looks_like_date(field: str) -> bool:
    return ('/' in field or '-' in field[1:]) and ':' in field


def _is_date(first_data: str, position: int) -> bool:
    fields = first_data.split('\t')
    if position >= len(fields):
        return False
    value = fields[position].strip()
    try:
        float(value.replace(',', '.'))
        return False
    except ValueError:
        return parse_datetime(value) is not None


def _absolute_time_table(
    path: str | os.PathLike[str] | None,
    data_text: str,
    names: list[str],
    time_position: int,
    decimal: str,
    first_line: int,
    allow_truncated: bool,
    notes: dict[str, Any],
) -> tuple[np.ndarray, _dt.datetime | None]:
    """Slow path for exports with EC-Lab's absolute time format: the time column holds dates."""
    lines = list(data_text.split('\n'))
    while lines and not lines[-1].strip():
        lines.pop()
    array = np.empty((len(lines), len(names)))
    moments: list[_dt.datetime] = []
    for index, line in enumerate(lines):
        fields = line.rstrip('\t').split('\t')
        if len(fields) != len(names):
            if allow_truncated and index == len(lines) - 1 and len(fields) < len(names):
                array = array[:index]
                notes['truncated_last_line'] = first_line + index
                break
            raise ParseError(
                path, f'has {len(fields)} fields where the header gives {len(names)}', line=first_line + index
            )
        for position, field in enumerate(fields):
            if position == time_position:
                moment = parse_datetime(field)
                if moment is None:
                    raise ParseError(path, f'time {field!r} is not a date', line=first_line + index)
                moments.append(moment)
                continue
            try:
                array[index, position] = float(field.replace(',', '.') if decimal == ',' else field)
            except ValueError:
                raise ParseError(
                    path,
                    f'column {names[position]!r} holds {field[:40]!r}, which is not a number',
                    line=first_line + index,
                ) from None
    if not moments:
        return array, None
    start = moments[0]
    array[: len(moments), time_position] = [(moment - start).total_seconds() for moment in moments]
    notes['time_format'] = 'absolute (converted to seconds since the first row)'
    return array, start


def _parse_header(lines: list[str]) -> dict[str, Any]:
    """Split the header (lines after "Nb header lines", before the column names) into key-value
    pairs, free text (technique names among it) and the technique settings block."""
    values: dict[str, str] = {}
    free: list[str] = []
    techniques: list[str] = []
    comments: list[str] = []
    settings_lines: list[str] = []
    in_settings = False
    for line in lines:
        if not line.strip():
            continue
        if in_settings:
            if ' : ' in line and not _is_fixed_width(line):
                in_settings = False
            else:
                settings_lines.append(line)
                continue
        stripped = line.strip()
        if ' : ' in line or stripped.endswith(' :'):
            key, _, value = stripped.partition(' :')
            key = key.strip()
            value = value.strip()
            if key == 'Comments':
                if value:
                    comments.append(value)
                continue
            values.setdefault(key, value)
            if key == 'Cycle Definition':
                in_settings = True
            continue
        if technique_from_name(stripped) is not None:
            techniques.append(clean_header_value(stripped))
            continue
        if _is_fixed_width(line) and 'Cycle Definition' not in values and values and len(line[:20].rstrip()) <= 18:
            # older exports without a "Cycle Definition" line: the block still starts here
            in_settings = True
            settings_lines.append(line)
            continue
        free.append(stripped)
    return {
        'values': values,
        'free': free,
        'techniques': techniques,
        'comments': comments,
        'settings': _parse_settings(settings_lines),
    }


def _x_from_unset_values(values: dict[str, str]) -> bool:
    for key in ('Mass of active material', 'Molecular weight of active material (at x = 0)'):
        text = values.get(key)
        if text is not None and is_placeholder(to_float(text)):
            return True
    return False


def _is_fixed_width(line: str) -> bool:
    return len(line) > 20 and line[19] == ' ' and bool(line[:19].strip()) and not line.startswith((' ', '\t'))


def _parse_settings(lines: list[str]) -> dict[str, Any]:
    """EC-Lab writes settings as a 20-character key column, then one 20-character column per
    sequence (Modulo Bat has several). One sequence -> strings, several -> lists of strings."""
    if not lines:
        return {}
    sequences = 1
    for line in lines:
        if line[:20].strip() == 'Ns':
            sequences = max(1, len(line[20:].split()))
            break
    settings: dict[str, Any] = {}
    previous = ''
    for line in lines:
        key = line[:20].strip()
        if not key:
            continue
        if sequences > 1:
            body = line[20:]
            value: Any = [body[i : i + 20].strip() for i in range(0, 20 * sequences, 20)]
        else:
            value = clean_header_value(line[20:])
        name = key
        if name in settings:
            name = f'{previous} {key}' if previous else key
            number = 2
            while name in settings:
                name = f'{previous} {key} ({number})'
                number += 1
        else:
            previous = key
        settings[name] = value
    return settings


def _header_metadata(header: dict[str, Any], keep_placeholders: bool) -> dict[str, Any]:
    values = header['values']
    metadata: dict[str, Any] = {}
    for line in header['free']:
        match = _SOFTWARE.match(line)
        if match:
            metadata['software'] = match.group(1)
            metadata['software_version'] = match.group(2)
            break
    device = values.get('Device')
    if device:
        match = _DEVICE.match(device)
        metadata['instrument'] = match.group(1) if match else device
        if match and match.group(2).strip():
            metadata['instrument_serial'] = match.group(2).strip()
    channel = values.get('Run on channel')
    if channel:
        metadata['channel'] = channel.split('(')[0].strip()
    started = values.get('Acquisition started on')
    if started:
        moment = parse_datetime(started)
        if moment is not None:
            metadata.update(timestamp_metadata(moment))
        else:
            metadata['start_time_text'] = started
    for key, (meta_key, unit) in _CELL_QUANTITIES.items():
        text = values.get(key)
        if not text:
            continue
        written = to_float(text)
        if written is None or written == 0:
            continue
        if meta_key in _PLACEHOLDER_KEYS and is_placeholder(written) and not keep_placeholders:
            continue
        number = quantity_from_text(text, unit)
        if number is None:
            continue
        metadata[meta_key] = number
    electrons = values.get('Number of e- transfered per intercalated ion') or values.get(
        'Number of e- transferred per intercalated ion'
    )
    if electrons and electrons.strip().isdigit():
        metadata['electrons_per_ion'] = int(electrons.strip())
    for key, meta_key in _CELL_TEXT.items():
        text = values.get(key)
        if text:
            metadata[meta_key] = text
    if header['comments']:
        metadata['comments'] = '\n'.join(header['comments'])
    filename = values.get('File')
    if filename:
        metadata['original_filename'] = filename
    if header['settings']:
        metadata['settings'] = header['settings']
    kept = {key: value for key, value in values.items() if key not in ('Host', 'Directory', 'User')}
    if kept:
        metadata['header'] = kept
    if header['free']:
        metadata['header_notes'] = header['free']
    return metadata
