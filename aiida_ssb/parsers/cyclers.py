"""Battery cyclers other than BioLogic: Neware (``.nda``/``.ndax``), Arbin (``.res``) and Maccor text
exports. Technique ``'cycling'``.

* Neware files are read through ``NewareNDA`` (BSD-3; optional extra ``aiida-ssb[neware]``),
  imported only when such a file is read.
* Arbin ``.res`` files are MS-Access databases. They are read with mdbtools' ``mdb-export``
  (a system program: ``apt install mdbtools``) when it is on the PATH, otherwise with the pure-Python
  ``access-parser`` package when it is installed; without either the reader raises
  :class:`~aiida_ssb.parsers.base.UnsupportedFormatError` saying so.
* Maccor text exports are read by our own code.

Canonical columns: ``time_s`` (total test time), ``voltage_v``, ``current_ma`` (positive on
charge), ``cycle_index``, ``step_index`` and, where the file has them, charge/discharge capacity and
energy counters.
"""

from __future__ import annotations

import csv
import io
import logging
import ntpath
import os
import shutil
import subprocess
from typing import Any, Protocol

import numpy as np

from aiida_ssb.parsers._common import (
    decode_text,
    integer_column,
    ole_to_datetime,
    parse_datetime,
    parse_duration,
    read_bytes,
    read_head,
    split_lines,
)
from aiida_ssb.parsers._stream import TRUNCATION_HINT, truncation_reason
from aiida_ssb.parsers.base import Measurement, ParseError, UnsupportedFormatError, timestamp_metadata

__all__ = ['read_arbin', 'read_maccor', 'read_neware']

NEWARE_HINT = 'reading Neware .nda/.ndax files needs the optional package NewareNDA (pip install "aiida-ssb[neware]")'
ARBIN_HINT = (
    'Arbin .res needs mdbtools (apt install mdbtools, which provides mdb-export) or the Python package '
    'access-parser (pip install access-parser), or export the data as CSV from MITS Pro'
)


# ---------------------------------------------------------------------------------------------- Neware
_NEWARE_MODES = {'Rest': 3, 'CC_Chg': 1, 'CC_DChg': 1, 'CV_Chg': 2, 'CV_DChg': 2, 'CP_Chg': None, 'CP_DChg': None}


def read_neware(
    path: str | os.PathLike[str], *, software_cycle_number: bool = False, cycle_mode: str = 'chg'
) -> Measurement:
    """A Neware ``.nda`` or ``.ndax`` file (kind decided from the content, not the extension).

    :param software_cycle_number: ``False`` (default) keeps the instrument's cycle counter;
        ``True`` lets NewareNDA regenerate it (its ``cycle_mode`` rule).
    :param cycle_mode: NewareNDA's rule when regenerating: ``'chg'``, ``'dchg'`` or ``'auto'``.
    """
    head = read_head(path, 8)
    if head.startswith(b'PK\x03\x04'):
        variant = 'ndax'
    elif head.startswith(b'NEWARE'):
        variant = 'nda'
    else:
        raise ParseError(path, 'is not a Neware .nda/.ndax file (no NEWARE or zip signature)')
    try:
        import NewareNDA  # noqa: PLC0415, F401 optional dependency (is it installed?)
        from NewareNDA.NewareNDA import read_nda, read_nda_metadata  # noqa: PLC0415 optional dependency
        from NewareNDA.NewareNDAx import read_ndax, read_ndax_metadata  # noqa: PLC0415 optional dependency
    except ImportError:
        raise UnsupportedFormatError(path, NEWARE_HINT) from None

    logger = logging.getLogger('newarenda')
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        if variant == 'ndax':
            frame = read_ndax(os.fspath(path), software_cycle_number=software_cycle_number, cycle_mode=cycle_mode)
        else:
            frame = read_nda(os.fspath(path), software_cycle_number, cycle_mode=cycle_mode)
        try:
            info = read_ndax_metadata(os.fspath(path)) if variant == 'ndax' else read_nda_metadata(os.fspath(path))
        except Exception:  # metadata is informative only
            info = {}
    except MemoryError:
        raise
    except Exception as exc:  # NewareNDA raises many kinds on damaged files
        raise ParseError(path, f'cannot be read as a Neware .{variant} file: {type(exc).__name__}: {exc}') from None
    finally:
        logger.setLevel(level)
    required = ['Step', 'Time', 'Voltage', 'Current(mA)']
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise ParseError(path, f'NewareNDA returned no {", ".join(missing)} column')
    step = frame['Step'].to_numpy(dtype=np.int64)
    columns: dict[str, np.ndarray] = {
        'time_s': _total_time(frame['Time'].to_numpy(dtype=np.float64), step),
        'voltage_v': frame['Voltage'].to_numpy(dtype=np.float64),
        'current_ma': frame['Current(mA)'].to_numpy(dtype=np.float64),
    }
    for source, canonical in (
        ('Charge_Capacity(mAh)', 'charge_capacity_mah'),
        ('Discharge_Capacity(mAh)', 'discharge_capacity_mah'),
        ('Charge_Energy(mWh)', 'charge_energy_mwh'),
        ('Discharge_Energy(mWh)', 'discharge_energy_mwh'),
        ('T1', 'temperature_c'),
    ):
        if source in frame.columns:
            columns[canonical] = frame[source].to_numpy(dtype=np.float64)
    if 'Cycle' in frame.columns:
        columns['cycle_index'] = integer_column(path, 'Cycle', frame['Cycle'].to_numpy())
    if 'Step_Index' in frame.columns:
        columns['step_index'] = integer_column(path, 'Step_Index', frame['Step_Index'].to_numpy())
    metadata: dict[str, Any] = {
        'original_columns': [str(name) for name in frame.columns],
        'technique_source': 'format (battery cycler)',
        'time_rule': 'step times accumulated over the running step counter',
    }
    if 'Status' in frame.columns:
        status = frame['Status'].astype(str).to_numpy()
        modes = [_NEWARE_MODES.get(value) for value in np.unique(status)]
        if all(mode is not None for mode in modes):
            lookup = {value: _NEWARE_MODES[value] for value in np.unique(status)}
            columns['control_mode'] = np.array([lookup[value] for value in status], dtype=np.int64)
        if 'Step_Index' in frame.columns:
            pairs = dict(zip(frame['Step_Index'].to_numpy().tolist(), status.tolist()))
            metadata['step_status'] = {str(key): value for key, value in sorted(pairs.items())}
    metadata.update(_neware_info(info))
    if 'start_time' not in metadata and 'Timestamp' in frame.columns and len(frame):
        first = frame['Timestamp'].iloc[0]
        if first is not None and not (isinstance(first, float) and np.isnan(first)):
            metadata.update(timestamp_metadata(first.to_pydatetime()))
    return Measurement('cycling', columns, metadata, source=os.fspath(path), file_format=f'neware-{variant}')


def _total_time(step_time: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Neware's ``Time`` restarts at every step: add the end time of all earlier steps. A new
    step starts at the moment the previous one ended (its first point repeats that instant)."""
    if step_time.size == 0:
        return np.array(step_time, copy=True)
    starts = np.flatnonzero(np.diff(step) != 0) + 1
    offsets = np.zeros(step_time.size)
    if starts.size:
        ends = step_time[starts - 1]
        begin = step_time[starts]
        increments = ends - begin
        segment_offset = np.concatenate(([0.0], np.cumsum(increments)))
        segment = np.zeros(step_time.size, dtype=np.int64)
        segment[starts] = 1
        segment = np.cumsum(segment)
        offsets = segment_offset[segment]
    return step_time + offsets


def _neware_info(info: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    test = info.get('TestInfo', {}).get('TestInfo', {}) if isinstance(info.get('TestInfo'), dict) else {}
    start = test.get('StartTime') if isinstance(test, dict) else None
    if start:
        moment = parse_datetime(str(start))
        if moment is not None:
            metadata.update(timestamp_metadata(moment))
    if isinstance(test, dict):
        if test.get('StepName'):
            metadata['schedule'] = str(test['StepName'])
        if test.get('ChlID'):
            metadata['channel'] = str(test['ChlID'])
        if test.get('DevID'):
            metadata['instrument_serial'] = str(test['DevID'])
    version = info.get('VersionInfo', {}) if isinstance(info.get('VersionInfo'), dict) else {}
    client = version.get('ZwjVersion', {}).get('CurrClientVer') if isinstance(version.get('ZwjVersion'), dict) else None
    if client:
        metadata['software'] = str(client)
    metadata['instrument'] = 'Neware'
    return metadata


# ---------------------------------------------------------------------------------------------- Arbin
_ARBIN_COLUMNS = {  # Arbin name -> (canonical, factor to the canonical unit)
    'Test_Time': ('time_s', 1.0),
    'Voltage': ('voltage_v', 1.0),
    'Current': ('current_ma', 1e3),
    'Charge_Capacity': ('charge_capacity_mah', 1e3),
    'Discharge_Capacity': ('discharge_capacity_mah', 1e3),
    'Charge_Energy': ('charge_energy_mwh', 1e3),
    'Discharge_Energy': ('discharge_energy_mwh', 1e3),
}


def read_arbin(path: str | os.PathLike[str], *, backend: str = 'auto') -> Measurement:
    """An Arbin ``.res`` file (MS-Access database, table ``Channel_Normal_Table``).

    :param backend: ``'auto'`` (mdb-export if on the PATH, else access-parser), ``'mdbtools'`` or
        ``'access-parser'``.
    """
    head = read_head(path, 32)
    if head[4:19] not in (b'Standard Jet DB', b'Standard ACE DB'):
        raise ParseError(path, 'is not an MS-Access database (Arbin .res)')
    if backend not in ('auto', 'mdbtools', 'access-parser'):
        raise ParseError(path, f"backend must be 'auto', 'mdbtools' or 'access-parser', not {backend!r}")
    use = backend
    if backend == 'auto':
        if shutil.which('mdb-export'):
            use = 'mdbtools'
        else:
            try:
                import access_parser  # noqa: PLC0415, F401 optional dependency (is it installed?)

                use = 'access-parser'
            except ImportError:
                raise UnsupportedFormatError(path, ARBIN_HINT) from None
    reader = _arbin_tables_mdbtools if use == 'mdbtools' else _arbin_tables_access_parser
    data = reader(path, 'Channel_Normal_Table', required=True)
    declared = _arbin_declared_rows(path, 'Channel_Normal_Table') if use == 'mdbtools' else None
    read_rows = len(next(iter(data.values()), []))
    if declared is not None and declared != read_rows:
        raise ParseError(
            path,
            f'Channel_Normal_Table declares {declared} rows but {read_rows} could be read: the file is truncated or '
            'damaged',
        )
    if read_rows == 0:
        raise ParseError(path, 'Channel_Normal_Table holds no data rows')
    global_table = reader(path, 'Global_Table', required=False)
    missing = [name for name in ('Test_Time', 'Voltage', 'Current') if name not in data]
    if missing:
        raise ParseError(path, f'Channel_Normal_Table lacks {", ".join(missing)}')
    n_rows = len(data['Test_Time'])
    order = np.arange(n_rows)
    if 'Test_ID' in data and 'Data_Point' in data:
        test_id = _numbers(path, 'Test_ID', data['Test_ID'])
        point = _numbers(path, 'Data_Point', data['Data_Point'])
        order = np.lexsort((point, test_id))
    columns: dict[str, np.ndarray] = {}
    for name, (canonical, factor) in _ARBIN_COLUMNS.items():
        if name in data:
            columns[canonical] = _numbers(path, name, data[name])[order] * factor
    for name, canonical in (('Cycle_Index', 'cycle_index'), ('Step_Index', 'step_index')):
        if name in data:
            columns[canonical] = integer_column(path, name, _numbers(path, name, data[name])[order])
    metadata: dict[str, Any] = {
        'original_columns': list(data),
        'instrument': 'Arbin',
        'arbin_backend': use,
        'technique_source': 'format (battery cycler)',
    }
    if global_table:
        first = {key: values[0] for key, values in global_table.items() if values}
        for key, meta_key in (
            ('Test_Name', 'test_name'),
            ('Schedule_File_Name', 'schedule'),
            ('Creator', 'operator'),
            ('Comments', 'comments'),
            ('Channel_Number', 'channel'),
        ):
            value = first.get(key)
            if value not in (None, ''):
                metadata[meta_key] = str(value)
        start = first.get('Start_DateTime')
        try:
            moment = ole_to_datetime(float(start)) if start not in (None, '') else None
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            metadata.update(timestamp_metadata(moment))
    return Measurement('cycling', columns, metadata, source=os.fspath(path), file_format='arbin-res')


def _arbin_declared_rows(path: str | os.PathLike[str], table: str) -> int | None:
    """The row count the database's table definition states (mdbtools' ``mdb-count``), or None."""
    executable = shutil.which('mdb-count')
    if executable is None:
        return None
    try:
        result = subprocess.run([executable, os.fspath(path), table], capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = result.stdout.decode('ascii', 'replace').strip()
    return int(text) if result.returncode == 0 and text.isdigit() else None


def _numbers(path: str | os.PathLike[str] | None, name: str, values: list[Any]) -> np.ndarray:
    try:
        return np.array([float(value) if value not in (None, '') else np.nan for value in values], dtype=np.float64)
    except (TypeError, ValueError):
        raise ParseError(path, f'Arbin column {name!r} holds values that are not numbers') from None


def _arbin_tables_mdbtools(path: str | os.PathLike[str], table: str, required: bool) -> dict[str, list[str]]:
    executable = shutil.which('mdb-export')
    if executable is None:
        raise UnsupportedFormatError(path, ARBIN_HINT)
    try:
        result = subprocess.run([executable, os.fspath(path), table], capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ParseError(path, f'mdb-export failed: {exc}') from None
    if result.returncode != 0:
        if not required:
            return {}
        message = result.stderr.decode('utf-8', 'replace').strip()[:200]
        raise ParseError(
            path, f'mdb-export cannot read table {table}: {message or "exit code " + str(result.returncode)}'
        )
    text = result.stdout.decode('utf-8', 'replace')
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        if required:
            raise ParseError(path, f'table {table} is empty or missing') from None
        return {}
    columns: dict[str, list[str]] = {name: [] for name in header}
    for row in reader:
        if len(row) != len(header):
            raise ParseError(path, f'table {table}: a row has {len(row)} fields, the header {len(header)}')
        for name, value in zip(header, row):
            columns[name].append(value)
    return columns


def _arbin_tables_access_parser(path: str | os.PathLike[str], table: str, required: bool) -> dict[str, list[Any]]:
    try:
        from access_parser import AccessParser  # noqa: PLC0415 optional dependency
    except ImportError:
        raise UnsupportedFormatError(path, ARBIN_HINT) from None

    logging.getLogger('access_parser').setLevel(logging.ERROR)
    try:
        database = AccessParser(os.fspath(path))
        if table not in database.catalog:
            if required:
                raise ParseError(path, f'the database has no table {table} (not an Arbin .res file?)')
            return {}
        parsed = database.parse_table(table)
    except ParseError:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        raise ParseError(path, f'access-parser cannot read table {table}: {type(exc).__name__}: {exc}') from None
    return {str(name): list(values) for name, values in parsed.items()}


# ---------------------------------------------------------------------------------------------- Maccor
_MACCOR_ALIASES = {
    'rec#': 'record',
    'cyc#': 'cycle',
    'cycle': 'cycle',
    'cycle c': 'cycle',
    'step': 'step',
    'test (min)': 'time_min',
    'test (sec)': 'time_s',
    'test time (sec)': 'time_s',
    'testtime': 'time_s',
    'test time': 'time_s',
    'test (hr)': 'time_h',
    'step (sec)': 'step_time_s',
    'step time (sec)': 'step_time_s',
    'steptime': 'step_time_s',
    'step time': 'step_time_s',
    'step (min)': 'step_time_min',
    'amp-hr': 'capacity_ah',
    'capacity (ahr)': 'capacity_ah',
    'cap. (ah)': 'capacity_ah',
    'watt-hr': 'energy_wh',
    'energy (whr)': 'energy_wh',
    'amps': 'current_a',
    'current': 'current_a',
    'current (a)': 'current_a',
    'volts': 'voltage_v',
    'voltage': 'voltage_v',
    'voltage (v)': 'voltage_v',
    'state': 'state',
    'md': 'state',
    'es': 'end_status',
    'dpt time': 'clock',
}


def read_maccor(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> Measurement:
    """A Maccor text export (tab separated; a title line, then ``Rec# Cyc# Step Test (Min) Step (Min)
    Amp-hr Watt-hr Amps Volts State ES DPt Time``).

    Test and step times are numbers (in the unit their name gives) or durations written ``0d 00:00:05.05``
    (newer exports' ``TestTime``/``StepTime``). The last line is checked for a cut (see
    :func:`aiida_ssb.parsers._stream.truncation_reason`): an error, or with ``allow_truncated`` a dropped,
    recorded line.

    ``Amps`` is unsigned in Maccor exports; the sign comes from ``State`` (C charge +, D discharge -,
    R rest). ``Amp-hr``/``Watt-hr`` go to the charge columns on C rows and the discharge columns on
    D rows (NaN elsewhere). The start time is the test date plus the first point's clock time.
    """
    raw_text = decode_text(path, read_bytes(path), what='Maccor text export')
    lines = split_lines(raw_text)
    header_at = None
    for index, line in enumerate(lines[:30]):
        fields = [field.strip().lower() for field in line.split('\t')]
        if 'rec#' in fields or ('cyc#' in fields and 'step' in fields):
            header_at = index
            break
    if header_at is None:
        raise ParseError(path, 'is not a Maccor export (no "Rec#"/"Cyc#" column line in the first 30 lines)')
    names = [field.strip() for field in lines[header_at].split('\t')]
    while names and not names[-1]:
        names.pop()
    roles = {}
    for position, name in enumerate(names):
        role = _MACCOR_ALIASES.get(name.lower())
        if role and role not in roles:
            roles[role] = position
    if 'voltage_v' not in roles or not ({'time_min', 'time_s', 'time_h'} & set(roles)):
        raise ParseError(
            path,
            f'the Maccor column line lacks a voltage or a test-time column: {", ".join(names)}',
            line=header_at + 1,
        )
    rows = []
    data_lines = [index for index in range(header_at + 1, len(lines)) if lines[index].strip()]
    terminated = raw_text.endswith(('\n', '\r'))
    metadata_notes: dict[str, Any] = {}
    for index in data_lines:
        fields = [field.strip() for field in lines[index].split('\t')]
        while len(fields) > len(names) and not fields[-1]:
            fields.pop()
        if index == data_lines[-1]:
            previous = [[field.strip() for field in lines[i].split('\t')] for i in data_lines[-51:-1]]
            reason = truncation_reason(
                previous, fields, terminated=terminated, n_columns=len(names), numeric_last=False
            )
            if reason is not None:
                if not allow_truncated:
                    raise ParseError(
                        path,
                        f'the last line is cut short ({reason}): the file looks truncated; {TRUNCATION_HINT}',
                        line=index + 1,
                    )
                metadata_notes['truncated_last_line'] = index + 1
                metadata_notes['truncation'] = f'line {index + 1} dropped: {reason}'
                break
        if len(fields) != len(names):
            raise ParseError(path, f'has {len(fields)} fields where the header gives {len(names)}', line=index + 1)
        rows.append((index + 1, fields))
    if not rows:
        raise ParseError(path, 'the file holds no data rows', line=header_at + 1)

    def numeric(role: str, duration: bool = False) -> np.ndarray:
        position = roles[role]
        values = np.empty(len(rows))
        for row, (line_number, fields) in enumerate(rows):
            text = fields[position]
            try:
                values[row] = float(text)
            except ValueError:
                seconds = parse_duration(text) if duration else None
                if seconds is None:
                    raise ParseError(
                        path,
                        f'column {names[position]!r} holds {text[:40]!r}, which is not a number'
                        + (' nor a duration (d hh:mm:ss)' if duration else ''),
                        line=line_number,
                    ) from None
                values[row] = seconds
        return values

    columns: dict[str, np.ndarray] = {}
    if 'time_s' in roles:
        columns['time_s'] = numeric('time_s', duration=True)
    elif 'time_min' in roles:
        columns['time_s'] = _minutes_or_duration(numeric, roles, 'time_min')
    else:
        columns['time_s'] = numeric('time_h') * 3600.0
    if 'step_time_s' in roles:
        columns['step_time_s'] = numeric('step_time_s', duration=True)
    elif 'step_time_min' in roles:
        columns['step_time_s'] = _minutes_or_duration(numeric, roles, 'step_time_min')
    columns['voltage_v'] = numeric('voltage_v')
    state = np.array([fields[roles['state']].upper() for _, fields in rows]) if 'state' in roles else None
    metadata: dict[str, Any] = {
        'original_columns': names,
        'instrument': 'Maccor',
        'technique_source': 'format (battery cycler)',
    }
    if 'current_a' in roles:
        amps = numeric('current_a')
        if state is not None and not (amps < 0).any():
            sign = np.where(state == 'C', 1.0, np.where(state == 'D', -1.0, np.where(amps == 0, 0.0, np.nan)))
            current = amps * 1e3 * sign
            metadata['current_sign'] = 'from State (C +, D -); the export writes unsigned Amps'
        else:
            current = amps * 1e3
        columns['current_ma'] = current
    for role, charge_name, discharge_name in (
        ('capacity_ah', 'charge_capacity_mah', 'discharge_capacity_mah'),
        ('energy_wh', 'charge_energy_mwh', 'discharge_energy_mwh'),
    ):
        if role in roles and state is not None:
            values = numeric(role) * 1e3
            columns[charge_name] = np.where(state == 'C', values, np.nan)
            columns[discharge_name] = np.where(state == 'D', values, np.nan)
    if 'cycle' in roles:
        columns['cycle_index'] = integer_column(path, names[roles['cycle']], numeric('cycle'))
    if 'step' in roles:
        columns['step_index'] = integer_column(path, names[roles['step']], numeric('step'))
    if state is not None:
        modes = {'R': 3, 'O': 3}
        if set(np.unique(state)) <= {'R', 'O'}:
            columns['control_mode'] = np.array([modes[value] for value in state], dtype=np.int64)
        metadata['states'] = sorted(set(state.tolist()))
    metadata.update(metadata_notes)
    metadata.update(_maccor_title(lines[:header_at]))
    if 'clock' in roles and rows and 'test_date' in metadata:
        moment = parse_datetime(f'{metadata["test_date"]} {rows[0][1][roles["clock"]]}')
        if moment is not None:
            metadata.update(timestamp_metadata(moment))
    return Measurement('cycling', columns, metadata, source=os.fspath(path), file_format='maccor-txt')


class _Numeric(Protocol):
    def __call__(self, role: str, duration: bool = False) -> np.ndarray: ...


def _minutes_or_duration(numeric: _Numeric, roles: dict[str, int], role: str) -> np.ndarray:
    """A ``(Min)`` column: minutes, or a written duration (then already in seconds)."""
    values: np.ndarray = numeric(role, duration=True)
    return values * 60.0 if _all_plain_numbers(numeric, role) else values


def _all_plain_numbers(numeric: _Numeric, role: str) -> bool:
    try:
        numeric(role)
    except ParseError:
        return False
    return True


def _maccor_title(lines: list[str]) -> dict[str, Any]:
    """``Today's Date 01/15/2025  Date of Test:<TAB>01/15/2025<TAB> Filename:<TAB>C:\\...\\X.001
    Procedure: P.000 text<TAB>Comment/Barcode: ...``"""
    metadata: dict[str, Any] = {}
    text = ' '.join(lines)
    fields = [field.strip() for field in text.replace('\t', '\x1f').split('\x1f')]
    for index, field in enumerate(fields):
        following = fields[index + 1] if index + 1 < len(fields) else ''
        if field.endswith('Date of Test:') and following:
            metadata['test_date'] = following
        elif field.endswith('Filename:') and following:
            name, _, procedure = following.partition(' Procedure:')
            metadata['original_filename'] = ntpath.basename(name.strip())
            if procedure.strip():
                metadata['procedure'] = procedure.strip()
        elif field.startswith('Comment/Barcode:') and field[len('Comment/Barcode:') :].strip():
            metadata['comments'] = field[len('Comment/Barcode:') :].strip()
    if 'Comment/Barcode:' in fields and fields[-1] and fields[-1] != 'Comment/Barcode:':
        metadata['comments'] = fields[-1]
    return metadata
