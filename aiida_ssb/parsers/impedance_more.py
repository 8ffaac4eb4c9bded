"""More electrochemistry text exports (the other formats impedance.py reads): CH Instruments, Princeton Applied
Research Parstat (PowerSine text) and VersaStudio ``.par``.

* ``chi-txt``: CH Instruments text export. A date line, the technique (``A.C. Impedance``, ``Cyclic
  Voltammetry``, ``Linear Sweep Voltammetry``), ``Key: value`` lines, the parameters ``Name (unit) = value``,
  then a column line (``Freq/Hz, Z'/ohm, Z"/ohm, Z/ohm, Phase/deg`` or ``Potential/V, Current/A``), an empty
  line and comma-separated numbers. ``Z"`` is Im(Z) as written.
* ``parstat-txt``: a header line of column names, then whitespace-separated numbers; frequency, Z' and Z''
  are found by name (``Freq``, ``Z'``/``Zre``, ``Z''``/``Zim``), else in the 4th, 5th and 6th columns (the
  PowerSine layout). Rows at frequency 0 (DC points) are dropped and counted.
* ``versastudio-par``: a ``.par`` file with ``<SegmentN>`` sections; the section's ``Definition=`` line names
  the comma-separated columns (``Frequency(Hz)``, ``Z Real``, ``Z Imag``...), else the 10th, 15th and 16th
  columns are frequency, Re(Z) and Im(Z). Every segment with impedance data is read; a ``loop_index``
  column tells them apart.

All three give Im(Z) itself (negative for a capacitive arc). The settings the files state become the
technique settings (frequency range and amplitude; potential window and scan rate).
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from aiida_ssb.parsers._common import (
    UnitError,
    decode_text,
    linear_conversion,
    parse_datetime,
    parse_numeric_block,
    read_bytes,
    split_lines,
)
from aiida_ssb.parsers.base import Measurement, ParseError, timestamp_metadata
from aiida_ssb.parsers.settings import SequenceSettings, TechniqueSettings

__all__ = [
    'looks_like_chi',
    'looks_like_parstat',
    'looks_like_versastudio',
    'read_chi',
    'read_parstat',
    'read_versastudio',
]

_CHI_TECHNIQUES = {
    'a.c. impedance': 'eis',
    'cyclic voltammetry': 'cv',
    'linear sweep voltammetry': 'lsv',
}
_PARAMETER = re.compile(r'^\s*(.+?)\s*\(([^)]*)\)\s*=\s*(\S+)\s*$')


def looks_like_chi(lines: list[str]) -> bool:
    head = [line.strip().lower() for line in lines[:6]]
    return any(line in _CHI_TECHNIQUES for line in head) and any(
        line.strip().startswith(('Freq/Hz', 'Potential/V')) for line in lines[:80]
    )


def looks_like_versastudio(text: str) -> bool:
    return '<Segment1>' in text[:65536] and ('Definition=' in text[:65536] or 'VersaStudio' in text[:65536])


def looks_like_parstat(lines: list[str]) -> bool:
    for line in lines[:3]:
        lowered = line.lower()
        if (
            'freq' in lowered
            and ("z'" in lowered or 'zre' in lowered)
            and ('seg' in lowered or 'pt' in lowered or 'point' in lowered)
        ):
            return True
    return False


# ---------------------------------------------------------------------------------------------- CH Instruments
def read_chi(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> Measurement:
    """A CH Instruments text export (impedance, cyclic or linear sweep voltammetry)."""
    lines = split_lines(decode_text(path, read_bytes(path), what='CH Instruments export'))
    technique = None
    for line in lines[:6]:
        technique = _CHI_TECHNIQUES.get(line.strip().lower(), technique)
    if technique is None:
        raise ParseError(path, 'is not a CH Instruments export (no technique line such as "A.C. Impedance")')
    header_at = next((i for i, line in enumerate(lines) if line.strip().startswith(('Freq/Hz', 'Potential/V'))), None)
    if header_at is None:
        raise ParseError(path, 'the CH Instruments export has no column line (Freq/Hz... or Potential/V...)')
    names = [name.strip() for name in lines[header_at].split(',')]
    metadata: dict[str, Any] = {
        'original_columns': names,
        'software': 'CH Instruments',
        'technique_source': 'file header',
    }
    parameters: dict[str, tuple[float, str]] = {}
    for line in lines[1:header_at]:
        match = _PARAMETER.match(line)
        if match:
            try:
                parameters[match.group(1)] = (float(match.group(3)), match.group(2))
            except ValueError:
                continue
        elif ':' in line:
            key, _, value = line.partition(':')
            if key.strip() == 'Instrument Model' and value.strip():
                metadata['instrument'] = value.strip()
    moment = parse_datetime(lines[0].replace('.', '').strip()) if lines else None
    if moment is not None:
        metadata.update(timestamp_metadata(moment))
    metadata['settings'] = {key: f'{value:g} {unit}' for key, (value, unit) in parameters.items()}
    array, notes = parse_numeric_block(
        path,
        '\n'.join(lines[header_at + 1 :]),
        first_line=header_at + 2,
        delimiter=',',
        n_columns=len(names),
        column_names=names,
        allow_truncated=allow_truncated,
    )
    metadata.update(notes)
    columns: dict[str, np.ndarray] = {}
    for position, name in enumerate(names):
        quantity, _, unit = name.partition('/')
        quantity = quantity.strip().replace('"', "''")
        target = {
            'Freq': ('frequency_hz', 'Hz'),
            "Z'": ('z_real_ohm', 'ohm'),
            "Z''": ('z_imag_ohm', 'ohm'),
            'Z': ('z_mod_ohm', 'ohm'),
            'Phase': ('z_phase_deg', 'deg'),
            'Potential': ('voltage_v', 'V'),
            'Current': ('current_ma', 'mA'),
            'Time': ('time_s', 's'),
        }.get(quantity)
        if target is None or target[0] in columns:
            continue
        try:
            scale, offset = linear_conversion(unit.strip() or '1', target[1])
        except UnitError as exc:
            raise ParseError(path, f'column {name!r}: {exc}', line=header_at + 1) from None
        columns[target[0]] = array[:, position] * scale + offset
    sequence: dict[str, Any] = {'index': 0}
    if technique == 'eis':
        sequence['control'] = 'impedance'
        high, low = parameters.get('High Frequency'), parameters.get('Low Frequency')
        if high:
            sequence['frequency_start_hz'] = high[0]
        if low:
            sequence['frequency_end_hz'] = low[0]
        amplitude = parameters.get('Amplitude')
        if amplitude:
            sequence['amplitude_mv'] = amplitude[0] * linear_conversion(amplitude[1], 'mV')[0]
        if 'Init E' in parameters:
            sequence['set_potential_v'] = parameters['Init E'][0]
    else:
        sequence['control'] = 'sweep'
        window = [parameters[key][0] for key in ('High E', 'Low E', 'Init E', 'Final E') if key in parameters]
        if window:
            sequence['upper_voltage_limit_v'] = max(window)
            sequence['lower_voltage_limit_v'] = min(window)
        if 'Scan Rate' in parameters:
            rate, unit = parameters['Scan Rate']
            sequence['scan_rate_mv_s'] = rate * linear_conversion(unit, 'mV/s')[0]
    settings = TechniqueSettings(
        technique=technique,
        source='CH Instruments parameters',
        sequences=(SequenceSettings(**sequence),),
        raw=metadata['settings'],
    )
    metadata['technique_settings'] = settings.stored()
    metadata['settings_summary'] = settings.summary()
    if technique == 'eis':
        _impedance_checks(path, columns, header_at + 2)
    return Measurement(technique, columns, metadata, source=os.fspath(path), file_format='chi-txt')


def _impedance_checks(path: str | os.PathLike[str] | None, columns: dict[str, np.ndarray], first_line: int) -> None:
    for name in ('frequency_hz', 'z_real_ohm', 'z_imag_ohm'):
        if name not in columns:
            raise ParseError(path, f'the impedance table lacks {name}')
    bad = ~(columns['frequency_hz'] > 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ParseError(path, f'frequency {columns["frequency_hz"][row]!r} is not positive', line=first_line + row)


# ---------------------------------------------------------------------------------------------- Parstat
def read_parstat(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> Measurement:
    """A Parstat (PowerSine) impedance text export (see the module docstring)."""
    lines = split_lines(decode_text(path, read_bytes(path), what='Parstat export'))
    header_at = next((i for i, line in enumerate(lines[:3]) if line.strip()), None)
    if header_at is None:
        raise ParseError(path, 'the file holds only blank lines')
    names = lines[header_at].split()
    data = '\n'.join(lines[header_at + 1 :])
    first = next((line for line in lines[header_at + 1 :] if line.strip()), '')
    width = len(first.split())
    positions = _by_name(names) if len(names) == width else None
    if positions is None:
        if width < 6:
            raise ParseError(path, f"the Parstat table has {width} columns; frequency, Z' and Z'' are columns 4-6")
        positions = (3, 4, 5)
        layout = "PowerSine columns (4th frequency, 5th Z', 6th Z'')"
    else:
        layout = 'columns found by name'
    array, notes = parse_numeric_block(
        path,
        data,
        first_line=header_at + 2,
        delimiter=None,
        n_columns=width,
        column_names=names if len(names) == width else None,
        allow_truncated=allow_truncated,
        usecols=positions,
    )
    frequency = array[:, 0]
    keep = frequency != 0
    columns = {'frequency_hz': frequency[keep], 'z_real_ohm': array[keep, 1], 'z_imag_ohm': array[keep, 2]}
    metadata: dict[str, Any] = {
        'original_columns': names,
        'layout': layout,
        'software': 'Parstat (PowerSine)',
        'technique_source': 'format (the control mode is not recorded)',
    }
    if (~keep).any():
        metadata['dropped_dc_rows'] = int((~keep).sum())
    metadata.update(notes)
    _impedance_checks(path, columns, header_at + 2)
    return Measurement('eis', columns, metadata, source=os.fspath(path), file_format='parstat-txt')


def _by_name(names: list[str]) -> tuple[int, int, int] | None:
    lowered = [name.lower().replace('"', "''") for name in names]
    frequency = next((i for i, name in enumerate(lowered) if name.startswith('freq')), None)
    real = next(
        (
            i
            for i, name in enumerate(lowered)
            if name.startswith(("z'(", "z'", 'zre', 'z_re', 'zreal')) and not name.startswith("z''")
        ),
        None,
    )
    imag = next((i for i, name in enumerate(lowered) if name.startswith(("z''", 'zim', 'z_im', 'zimag'))), None)
    if frequency is None or real is None or imag is None:
        return None
    return frequency, real, imag


# ---------------------------------------------------------------------------------------------- VersaStudio
def read_versastudio(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> Measurement:
    """A VersaStudio ``.par`` file: every ``<SegmentN>`` with impedance data (see the module docstring)."""
    text = decode_text(path, read_bytes(path), what='VersaStudio file')
    lines = split_lines(text)
    segments = []
    index = 0
    while index < len(lines):
        match = re.match(r'^\s*<Segment(\d+)>\s*$', lines[index])
        if not match:
            index += 1
            continue
        number = int(match.group(1))
        end = next((j for j in range(index + 1, len(lines)) if lines[j].strip() == f'</Segment{number}>'), None)
        if end is None:
            raise ParseError(path, f'<Segment{number}> never closes: the file is truncated', line=index + 1)
        segments.append((number, index, end))
        index = end + 1
    if not segments:
        raise ParseError(path, 'is not a VersaStudio .par file with data (no <SegmentN> section)')
    frequency, real, imag, loop = [], [], [], []
    names: list[str] = []
    for loop_number, (number, start, end) in enumerate(segments):
        body = lines[start + 1 : end]
        definition = next((line for line in body if line.strip().startswith('Definition=')), None)
        rows_at = next((k for k, line in enumerate(body) if line[:1].isdigit() or line[:1] == '-'), None)
        if rows_at is None:
            continue
        names = [name.strip() for name in definition.split('=', 1)[1].split(',')] if definition else []
        first = body[rows_at]
        width = len(first.split(','))
        positions = _versa_positions(names) if names else None
        if positions is None:
            if width < 16:
                continue  # a segment without impedance columns (a DC measurement)
            positions = (9, 14, 15)
        array, _ = parse_numeric_block(
            path,
            '\n'.join(body[rows_at:]),
            first_line=start + 2 + rows_at,
            delimiter=',',
            n_columns=width,
            column_names=names if len(names) == width else None,
            allow_truncated=allow_truncated,
            usecols=positions,
        )
        frequency.append(array[:, 0])
        real.append(array[:, 1])
        imag.append(array[:, 2])
        loop.append(np.full(array.shape[0], loop_number, dtype=np.int64))
    if not frequency:
        raise ParseError(path, 'no segment of this VersaStudio file holds impedance data')
    columns = {
        'frequency_hz': np.concatenate(frequency),
        'z_real_ohm': np.concatenate(real),
        'z_imag_ohm': np.concatenate(imag),
    }
    if len(frequency) > 1:
        columns['loop_index'] = np.concatenate(loop)
    keep = columns['frequency_hz'] != 0
    dropped = int((~keep).sum())
    columns = {name: values[keep] for name, values in columns.items()}
    metadata: dict[str, Any] = {
        'original_columns': names,
        'software': 'VersaStudio',
        'segments': [number for number, _, _ in segments],
        'technique_source': 'format (the control mode is not recorded)',
    }
    if dropped:
        metadata['dropped_dc_rows'] = dropped
    _impedance_checks(path, columns, 1)
    return Measurement('eis', columns, metadata, source=os.fspath(path), file_format='versastudio-par')


def _versa_positions(names: list[str]) -> tuple[int, int, int] | None:
    lowered = [name.lower() for name in names]
    try:
        return (
            next(i for i, name in enumerate(lowered) if name.startswith('frequency')),
            lowered.index('z real'),
            lowered.index('z imag'),
        )
    except (StopIteration, ValueError):
        return None
