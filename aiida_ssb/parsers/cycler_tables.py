"""Cycler exports as tables: Neware BTS (CSV, XLSX; record and step layouts) and Arbin MITS (CSV, XLSX).

Both vendors export a table whose header names each quantity with its unit in parentheses
(``Voltage(V)``, ``Current(A)``, ``Chg. Cap.(Ah)``, ``Test_Time(s)``...), in English or (Neware) Chinese.
One reader maps those names to canonical columns by patterns, converts the units the names state, and
reads times written as durations (``hh:mm:ss``, ``hh:mm:ss.fff``, ``d-hh:mm:ss``, ``1d 02:03:04``) as
seconds. Format codes:

* ``neware-csv``, ``neware-xlsx``: **record layout** (a row per recorded point: ``DataPoint`` or ``Record
  ID``, cycle, step, step type, times, current, voltage, capacities, energies) -> the time series; **step
  layout** (a row per step: its type, duration, capacity, energy, start and end voltage) -> a series of the
  steps' end points (``metadata['layout'] == 'step table'``), and the step types and cut-offs as the
  technique settings. An XLSX workbook with a record sheet and a step sheet gives the record, with the step
  sheet as its step table.
* ``arbin-csv``, ``arbin-xlsx``: MITS Pro exports (``Data_Point``, ``Test_Time(s)``, ``Step_Index``,
  ``Cycle_Index``, ``Current(A)``, ``Voltage(V)``, ``Charge_Capacity(Ah)``...; also the spaced
  ``Test Time (s)`` style of newer MITS); in an XLSX workbook the ``Channel...`` sheet(s).

Currents: both vendors write discharge currents negative; an export whose currents are all unsigned but
whose step types say discharge gets the sign from the step type (noted in ``current_sign``).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd

import datetime as _dt

from aiida_ssb.parsers._common import (
    check_size,
    decode_text,
    integer_column,
    linear_conversion,
    parse_datetime,
    split_lines,
)
from aiida_ssb.parsers._stream import read_numeric
from aiida_ssb.parsers.base import Measurement, ParseError, UnsupportedFormatError, timestamp_metadata
from aiida_ssb.parsers.cyclers import _total_time
from aiida_ssb.parsers.settings import SequenceSettings, TechniqueSettings

__all__ = ['detect_cycler_table', 'read_arbin_table', 'read_neware_table', 'xlsx_kind']

XLSX_HINT = 'reading .xlsx exports needs openpyxl (pip install "aiida-ssb[xlsx]"), or export the data as CSV'

# normalised base name (lower case, no spaces/dots/underscores) -> role; the unit comes from the parentheses
_ROLES: dict[str, str] = {
    # record counters
    'datapoint': 'record', 'recordid': 'record', 'recordindex': 'record', 'record': 'record', '记录序号': 'record',
    'cycleindex': 'cycle', 'cycleid': 'cycle', 'cycle': 'cycle', 'cyclenumber': 'cycle', '循环号': 'cycle',
    'stepindex': 'step', 'stepid': 'step', 'step': 'step', 'stepnumber': 'step_number', '工步号': 'step',
    'steptype': 'step_type', 'status': 'step_type', 'state': 'step_type', '工步类型': 'step_type',
    # times
    'time': 'step_time', 'steptime': 'step_time', 'relativetime': 'step_time', 'statetime': 'step_time',
    '时间': 'step_time', 'totaltime': 'test_time', 'testtime': 'test_time', 'cumulativetime': 'test_time',
    '总时间': 'test_time', '测试时间': 'test_time',
    'datetime': 'date', 'date': 'date', 'realtime': 'date', 'absolutetime': 'date', '绝对时间': 'date',
    'onsetdate': 'start_date', 'startdate': 'start_date', 'enddate': 'end_date',
    # electrical
    'voltage': 'voltage', 'volts': 'voltage', '电压': 'voltage', 'endvoltage': 'end_voltage',
    'endvolt': 'end_voltage', 'startingvoltage': 'start_voltage', 'onsetvolt': 'start_voltage',
    'current': 'current', 'cur': 'current', '电流': 'current',
    'power': 'power', '功率': 'power',
    'capacity': 'capacity', '容量': 'capacity',
    'chgcap': 'charge_capacity', 'chargecapacity': 'charge_capacity', 'chgcapacity': 'charge_capacity',
    'capacitancechg': 'charge_capacity', '充电容量': 'charge_capacity',
    'dchgcap': 'discharge_capacity', 'dischargecapacity': 'discharge_capacity', 'dchgcapacity': 'discharge_capacity',
    'capacitancedchg': 'discharge_capacity', '放电容量': 'discharge_capacity',
    'energy': 'energy', '能量': 'energy',
    'chgenergy': 'charge_energy', 'chargeenergy': 'charge_energy', 'engychg': 'charge_energy',
    'dchgenergy': 'discharge_energy', 'dischargeenergy': 'discharge_energy', 'engydchg': 'discharge_energy',
    'internalresistance': 'resistance', 'dcir': 'resistance',
    'auxtemperature1': 'temperature', 'temperature': 'temperature', 't1': 'temperature', '温度': 'temperature',
}  # fmt: skip
_NAME = re.compile(r'^\s*(.*?)\s*[\(\[]\s*([^\)\]]*?)\s*[\)\]]\s*$')
_TARGETS = {
    'voltage': ('voltage_v', 'V'),
    'end_voltage': ('voltage_v', 'V'),
    'current': ('current_ma', 'mA'),
    'power': ('power_mw', 'mW'),
    'charge_capacity': ('charge_capacity_mah', 'mAh'),
    'discharge_capacity': ('discharge_capacity_mah', 'mAh'),
    'capacity': ('capacity_mah', 'mAh'),
    'charge_energy': ('charge_energy_mwh', 'mWh'),
    'discharge_energy': ('discharge_energy_mwh', 'mWh'),
    'resistance': ('resistance_ohm', 'ohm'),
    'temperature': ('temperature_c', 'degC'),
}
_TEXT_ROLES = {'step_type', 'date', 'start_date', 'end_date'}


def split_name(name: str) -> tuple[str, str | None]:
    """``'Chg. Cap.(Ah)'`` -> ``('chgcap', 'Ah')``; ``'Test_Time(s)'`` -> ``('testtime', 's')``."""
    match = _NAME.match(name)
    base, unit = (match.group(1), match.group(2)) if match else (name, None)
    normalised = re.sub(r'[\s._\-/]+', '', base.strip().strip('"').lower())
    return normalised, (unit.replace('℃', '°C') if unit else None)


def roles_of(names: list[str]) -> dict[str, tuple[int, str | None]]:
    """role -> (column position, unit in the name) for the names a cycler export uses (first one wins)."""
    roles: dict[str, tuple[int, str | None]] = {}
    for position, name in enumerate(names):
        base, unit = split_name(name)
        role = _ROLES.get(base)
        if role is None and base.startswith('auxtemperature'):
            role = 'temperature'
        if role is not None and role not in roles:
            roles[role] = (position, unit)
    return roles


def _vendor(names: list[str]) -> str | None:
    joined = ' '.join(names)
    if 'Data_Point' in joined or 'Test_Time' in joined or ('Data Point' in joined and 'Test Time (s)' in joined):
        return 'arbin'
    roles = roles_of(names)
    if {'voltage', 'current'} <= set(roles) and ({'record', 'step_type'} & set(roles)):
        return 'neware'
    if {'step_type', 'capacity'} <= set(roles) or {'step_type', 'end_voltage'} <= set(roles):
        return 'neware'  # the step layout: a row per step
    return None


def detect_cycler_table(lines: list[str]) -> str | None:
    """``'neware-csv'``/``'arbin-csv'`` when one of the first lines is a cycler export's header, else None."""
    for line in lines[:5]:
        for delimiter in (',', '\t', ';'):
            if line.count(delimiter) >= 3:
                vendor = _vendor([field.strip().strip('"') for field in line.split(delimiter)])
                if vendor:
                    return f'{vendor}-csv'
    return None


def xlsx_kind(path: str | os.PathLike[str]) -> str | None:
    """For an XLSX workbook: ``'neware-xlsx'`` or ``'arbin-xlsx'`` from the header words in its shared strings."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if 'xl/workbook.xml' not in names:
                return None
            # header words are in the shared strings, or inline in the sheets (as openpyxl writes them)
            parts = [name for name in names if name == 'xl/sharedStrings.xml' or name.startswith('xl/worksheets/')]
            text = ''
            for name in sorted(parts)[:20]:
                with archive.open(name) as member:
                    text += member.read(1 << 16).decode('utf-8', 'replace')
            workbook = archive.read('xl/workbook.xml').decode('utf-8', 'replace')
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    if 'Data_Point' in text or 'Test_Time' in text or 'Channel_' in workbook:
        return 'arbin-xlsx'
    if 'Step Type' in text or 'DataPoint' in text or '工步类型' in text or 'Cycle ID' in text:
        return 'neware-xlsx'
    return 'xlsx'


# ---------------------------------------------------------------------------------------------- reading
def read_neware_table(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> Measurement:
    """A Neware BTS export, CSV or XLSX, record or step layout (see the module docstring)."""
    return _read(path, 'neware', allow_truncated)


def read_arbin_table(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> Measurement:
    """An Arbin MITS export, CSV or XLSX (see the module docstring)."""
    return _read(path, 'arbin', allow_truncated)


def _read(path: str | os.PathLike[str], vendor: str, allow_truncated: bool) -> Measurement:
    head = open(path, 'rb').read(4) if os.path.isfile(path) else b''
    if head.startswith(b'PK\x03\x04'):
        return _read_xlsx(path, vendor)
    return _read_csv(path, vendor, allow_truncated)


class _Table:
    """Access to a table's columns by position: numbers (float arrays) and text (object arrays)."""

    def __init__(self, names: list[str], number: Callable[[int], np.ndarray], text: Callable[[int], np.ndarray]):
        self.names = names
        self.number = number
        self.text = text


def _read_csv(path: str | os.PathLike[str], vendor: str, allow_truncated: bool) -> Measurement:
    """Numbers through the shared numeric core (pandas' C tokenizer on the bytes, line-exact errors, the
    truncated last line); only the few text columns (step type, dates, written durations) as text."""
    import pandas as pd  # noqa: PLC0415 import time: aiida_ssb.parsers loads without pandas (tests/parsers/test_api.py)

    size = check_size(path, what='cycler export')
    with open(path, 'rb') as handle:
        head = handle.read(min(size, 1 << 16))
    lines = split_lines(decode_text(path, head, what='cycler export'))
    header_at = None
    for index, line in enumerate(lines[:20]):
        if detect_cycler_table([line]):
            header_at = index
            break
    if header_at is None:
        raise ParseError(path, f'is not a {vendor.title()} export (no column line with voltage and current)')
    delimiter = max((',', '\t', ';'), key=lines[header_at].count)
    names = [field.strip().strip('"') for field in lines[header_at].split(delimiter)]
    while names and not names[-1]:
        names.pop()
    offset = 0
    skip = 3 if head.startswith(b'\xef\xbb\xbf') else 0
    for _ in range(header_at + 1):
        offset = head.index(b'\n', offset) + 1 if b'\n' in head[offset:] else len(head)
    roles = roles_of(names)
    text_positions = sorted(
        {position for role, (position, _) in roles.items() if role in _TEXT_ROLES}
        | {position for role, (position, _) in roles.items() if role in ('test_time', 'step_time')}
    )
    numeric_positions = [
        position for role, (position, _) in roles.items() if position not in text_positions and role not in _TEXT_ROLES
    ]
    first_data = lines[header_at + 1] if header_at + 1 < len(lines) else ''
    decimal = ',' if delimiter != ',' and re.search(r'\d,\d', first_data) and '.' not in first_data else '.'
    del skip
    table = read_numeric(
        path,
        (path, offset),
        first_line=header_at + 2,
        delimiter=delimiter,
        n_columns=len(names),
        usecols=sorted(numeric_positions),
        decimal=decimal,
        column_names=names,
        allow_truncated=allow_truncated,
        empty_ok=range(len(names)),
    )
    notes: dict[str, Any] = dict(table.notes)
    if table.n_rows == 0:
        raise ParseError(path, 'the file holds no data rows', line=header_at + 1)
    texts: dict[int, np.ndarray] = {}
    if text_positions:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            header=None,
            skiprows=header_at + 1,
            names=list(range(len(names))),
            usecols=text_positions,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
            index_col=False,
            engine='c',
            encoding='latin-1',
        )
        for position in text_positions:
            texts[position] = frame[position].to_numpy(dtype=object)[: table.n_rows]

    def number(position: int) -> np.ndarray:
        if position in table.columns:
            return table.columns[position]
        return durations(path, names[position], texts[position], header_at + 2)

    def text_of(position: int) -> np.ndarray:
        return texts[position]

    return _measurement(path, vendor, _Table(names, number, text_of), 'csv', notes)


def _comma_decimal(column: pd.Series) -> bool:
    sample = column.head(50)
    return bool(sample.str.contains(',', regex=False).any()) and not bool(sample.str.contains('.', regex=False).any())


def _read_xlsx(path: str | os.PathLike[str], vendor: str) -> Measurement:
    import pandas as pd  # noqa: PLC0415 import time: aiida_ssb.parsers loads without pandas (tests/parsers/test_api.py)

    try:
        import openpyxl  # noqa: PLC0415, F401 optional dependency (is it installed?)
    except ImportError:
        raise UnsupportedFormatError(path, XLSX_HINT) from None

    check_size(path, what='cycler export')
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine='openpyxl')
    except Exception as exc:  # openpyxl raises many kinds on damaged workbooks
        raise ParseError(path, f'cannot be read as an XLSX workbook: {type(exc).__name__}: {exc}') from None
    records: list[tuple[str, list[str], pd.DataFrame, int]] = []
    steps: list[tuple[str, list[str], pd.DataFrame, int]] = []
    for sheet_name, frame in sheets.items():
        header_at = None
        for index in range(min(10, frame.shape[0])):
            names = [
                str(value).strip() for value in frame.iloc[index].tolist() if value is not None and str(value) != 'nan'
            ]
            found = _vendor(names)
            if found:
                header_at = index
                break
        if header_at is None:
            continue
        names = [str(value).strip() if value is not None else '' for value in frame.iloc[header_at].tolist()]
        body = frame.iloc[header_at + 1 :].reset_index(drop=True)
        roles = roles_of(names)
        kind = 'record' if ({'record'} & set(roles) or vendor == 'arbin') else 'step'
        (records if kind == 'record' else steps).append((sheet_name, names, body, header_at))
    if not records and not steps:
        raise ParseError(
            path, f'no sheet of this workbook is a {vendor.title()} export (no voltage and current columns)'
        )
    sheet_name, names, body, header_at = (records or steps)[0]

    def number(position: int) -> np.ndarray:
        column = body[position]
        values = np.asarray(pd.to_numeric(column.replace('', np.nan), errors='coerce'), dtype=np.float64)
        bad = np.isnan(values) & column.notna().to_numpy() & (column.astype(str).str.strip() != '').to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ParseError(
                path,
                f'sheet {sheet_name!r}, column {names[position]!r} holds {str(column.iloc[row])[:40]!r}, '
                'which is not a number',
                line=header_at + 2 + row,
            )
        return values

    def text_of(position: int) -> np.ndarray:
        return np.array([_cell_text(value) for value in body[position].tolist()], dtype=object)

    notes: dict[str, Any] = {'sheet': str(sheet_name)}
    if records and steps:
        notes['step_sheet'] = str(steps[0][0])
    measurement = _measurement(path, vendor, _Table(names, number, text_of), 'xlsx', notes)
    if records and steps:
        step_names, step_body = steps[0][1], steps[0][2]
        step_table = _step_settings_from_frame(step_names, step_body)
        if step_table is not None:
            measurement.metadata['technique_settings'] = step_table.stored()
            measurement.metadata['settings_summary'] = step_table.summary()
    return measurement


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ''
    if isinstance(value, _dt.timedelta):
        return f'{value.total_seconds():.6f}'
    if isinstance(value, _dt.time):
        return f'{value.hour}:{value.minute:02d}:{value.second + value.microsecond / 1e6:09.6f}'
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=' ')
    return str(value).strip()


# ---------------------------------------------------------------------------------------------- to canonical
_DURATION = re.compile(r'^\s*(?:(\d+)\s*(?:d|days?|-)\s*)?(\d+):(\d{1,2}):(\d{1,2}(?:[.,]\d*)?)\s*$')


def durations(path: str | os.PathLike[str] | None, name: str, texts: np.ndarray, first_line: int) -> np.ndarray:
    """Seconds from texts that are numbers of seconds or durations ``[d-|Nd ]h:mm:ss[.fff]`` (vectorised)."""
    import pandas as pd  # noqa: PLC0415 import time: aiida_ssb.parsers loads without pandas (tests/parsers/test_api.py)

    series = pd.Series(texts, dtype=object).astype(str).str.strip()
    sample = next((text for text in series.head(20) if text), '')
    if ':' in sample:  # written durations: no row is tried as a plain number first
        values = np.full(series.size, np.nan)
    else:
        values = np.array(
            pd.to_numeric(series.str.replace(',', '.', regex=False).replace('', np.nan), errors='coerce'),
            dtype=np.float64,
        )
    pending = np.isnan(values) & (series != '').to_numpy()
    if pending.any():
        total = _durations_arrow(series[pending].to_numpy(dtype=object))
        if total is None:
            parts = series[pending].str.extract(_DURATION)
            days = pd.to_numeric(parts[0], errors='coerce').fillna(0.0).to_numpy()
            hours = pd.to_numeric(parts[1], errors='coerce').to_numpy()
            minutes = pd.to_numeric(parts[2], errors='coerce').to_numpy()
            seconds = pd.to_numeric(parts[3].str.replace(',', '.', regex=False), errors='coerce').to_numpy()
            total = days * 86400.0 + hours * 3600.0 + minutes * 60.0 + seconds
        bad = np.isnan(total)
        if bad.any():
            row = int(np.flatnonzero(pending)[np.flatnonzero(bad)[0]])
            raise ParseError(
                path,
                f'column {name!r} holds {str(texts[row])[:40]!r}, which is neither seconds nor a duration h:mm:ss',
                line=first_line + row,
            )
        values[pending] = total
    return values


_NAMED_DURATION = r'^\s*(?:(?P<d>\d+)\s*(?:d|days?|-)\s*)?(?P<h>\d+):(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:[.,]\d*)?)\s*$'


def _durations_arrow(texts: np.ndarray) -> np.ndarray | None:
    """Seconds of written durations, matched by pyarrow's compute kernels (None without pyarrow)."""
    try:
        import pyarrow as pa  # noqa: PLC0415 optional dependency
        import pyarrow.compute as pc  # noqa: PLC0415 optional dependency
    except ImportError:
        return None
    array = pa.array(texts.tolist(), type=pa.string())
    parts = pc.extract_regex(array, _NAMED_DURATION)

    def field(name: str) -> npt.NDArray[np.float64]:
        values = pc.struct_field(parts, name)
        values = pc.if_else(pc.equal(values, ''), None, values)
        values = pc.replace_substring(values, ',', '.')
        return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)

    days: npt.NDArray[np.float64] = np.nan_to_num(field('d'), nan=0.0)
    return days * 86400.0 + field('h') * 3600.0 + field('m') * 60.0 + field('s')


def _measurement(
    path: str | os.PathLike[str], vendor: str, table: _Table, container: str, notes: dict[str, Any]
) -> Measurement:
    names = table.names
    roles = roles_of(names)
    layout = (
        'record'
        if ('record' in roles or vendor == 'arbin' or ('voltage' in roles and 'end_voltage' not in roles))
        else 'step table'
    )
    columns: dict[str, np.ndarray] = {}
    metadata: dict[str, Any] = {
        'original_columns': names,
        'instrument': 'Neware' if vendor == 'neware' else 'Arbin',
        'technique_source': 'format (battery cycler)',
        'layout': layout,
    }
    metadata.update(notes)
    for role, (canonical, target) in _TARGETS.items():
        if role not in roles or canonical in columns:
            continue
        position, unit = roles[role]
        values = table.number(position)
        if unit is None:
            unit = {'V': 'V', 'mA': 'A', 'mAh': 'Ah', 'mWh': 'Wh', 'mW': 'W', 'ohm': 'ohm', 'degC': '°C'}[target]
            metadata.setdefault('assumed_units', {})[names[position]] = unit
        try:
            scale, offset = linear_conversion(unit, target)
        except Exception as exc:
            raise ParseError(path, f'column {names[position]!r}: {exc}') from None
        columns[canonical] = values * scale + offset
    for role, canonical in (('test_time', 'time_s'), ('step_time', 'step_time_s')):
        if role in roles:
            position, unit = roles[role]
            seconds = durations(path, names[position], table.text(position), 2)
            if unit and unit.lower() not in ('s', 'sec'):
                seconds = seconds * linear_conversion(unit, 's')[0]
            columns[canonical] = seconds
    if 'time_s' not in columns and 'step_time_s' in columns and 'step' in roles:
        columns['time_s'] = _total_time(columns['step_time_s'], table.number(roles['step'][0]))
        metadata['time_rule'] = 'step times accumulated over the step counter (the export has no test time)'
    for role, canonical in (('cycle', 'cycle_index'), ('step', 'step_index')):
        if role in roles:
            values = table.number(roles[role][0])
            columns[canonical] = integer_column(path, names[roles[role][0]], np.nan_to_num(values, nan=-1))
    if 'voltage_v' not in columns or 'current_ma' not in columns:
        raise ParseError(path, f'the export lacks a voltage or a current column: {", ".join(names)}')
    step_types = table.text(roles['step_type'][0]) if 'step_type' in roles else None
    if step_types is not None:
        labels, inverse = np.unique(step_types.astype(str), return_inverse=True)
        kinds = np.array([_step_kind(label) for label in labels], dtype=object)[inverse]
        current = columns['current_ma']
        discharging = kinds == 'discharge'
        if discharging.any() and not (current[np.isfinite(current)] < 0).any():
            columns['current_ma'] = np.where(discharging, -np.abs(current), current)
            metadata['current_sign'] = 'from the step type (discharge negative); the export writes unsigned currents'
        modes = {'current': 1, 'potential': 2, 'rest': 3}
        control = np.array([modes.get(_step_control(label), -1) for label in labels], dtype=np.int64)[inverse]
        if (control >= 0).all():
            columns['control_mode'] = control
        metadata['step_types'] = sorted({str(value) for value in step_types.tolist() if value})
    if layout == 'step table':
        settings = _step_settings(names, roles, table, step_types)
        if settings is not None:
            metadata['technique_settings'] = settings.stored()
            metadata['settings_summary'] = settings.summary()
        if 'time_s' in columns and 'step_time_s' in columns and 'test_time' not in roles:
            columns['time_s'] = np.cumsum(np.nan_to_num(columns['step_time_s']))
            metadata['time_rule'] = 'end of each step: the cumulative sum of the step durations'
    if 'date' in roles:
        first = next((value for value in table.text(roles['date'][0]).tolist() if value), None)
        moment = parse_datetime(str(first)) if first else None
        if moment is not None:
            metadata.update(timestamp_metadata(moment))
    if 'time_s' not in columns:
        raise ParseError(path, f'the export has no test or step time column: {", ".join(names)}')
    fmt = f'{vendor}-{container}'
    return Measurement('cycling', columns, metadata, source=os.fspath(path), file_format=fmt)


def _step_kind(text: Any) -> str:
    value = str(text).lower().replace(' ', '').replace('_', '')
    if 'dchg' in value or 'discharge' in value or '放电' in value:
        return 'discharge'
    if 'chg' in value or 'charge' in value or '充电' in value:
        return 'charge'
    if 'rest' in value or '搁置' in value or 'ocv' in value:
        return 'rest'
    return 'other'


def _step_control(text: Any) -> str:
    value = str(text).lower().replace(' ', '').replace('_', '')
    if 'rest' in value or '搁置' in value:
        return 'rest'
    if value.startswith(('cccv', 'cc', 'cp', 'cr')):
        return 'current'
    if value.startswith('cv'):
        return 'potential'
    return 'other'


def _step_settings(
    names: list[str], roles: dict[str, tuple[int, str | None]], table: _Table, step_types: np.ndarray | None
) -> TechniqueSettings | None:
    if step_types is None:
        return None
    # a step table holds what each step did (its end voltage, its duration), not what it was told: only the
    # program's structure (step numbers, types, controls) is taken as settings
    sequences = []
    seen: set[tuple[int, str]] = set()
    for row, label in enumerate(step_types.tolist()):
        step = int(table.number(roles['step'][0])[row]) if 'step' in roles else row
        key = (step, str(label))
        if key in seen:
            continue
        seen.add(key)
        control = _step_control(label)
        values: dict[str, Any] = {
            'index': max(step, 0),
            'label': str(label),
            'control': {'current': 'current', 'potential': 'potential', 'rest': 'rest'}.get(control, 'other'),
        }
        sequences.append(SequenceSettings(**values))
    return TechniqueSettings(technique='cycling', source='cycler step table (step types)', sequences=tuple(sequences))


def _step_settings_from_frame(names: list[str], body: pd.DataFrame) -> TechniqueSettings | None:
    import pandas as pd  # noqa: PLC0415 import time: aiida_ssb.parsers loads without pandas (tests/parsers/test_api.py)

    roles = roles_of(names)
    if 'step_type' not in roles:
        return None

    def number(position: int) -> np.ndarray:
        return np.asarray(pd.to_numeric(body[position], errors='coerce'), dtype=np.float64)

    def text(position: int) -> np.ndarray:
        return np.array([_cell_text(value) for value in body[position].tolist()], dtype=object)

    table = _Table(names, number, text)
    return _step_settings(names, roles, table, text(roles['step_type'][0]))
