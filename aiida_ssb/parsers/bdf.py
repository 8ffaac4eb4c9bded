"""The Battery Data Format (BDF) of the Battery Data Alliance: cycling records as BDF tables, and BDF tables read.

A BDF file is a table whose header row holds the preferred labels of the BDF quantities, with fixed units
(``Test Time / s``, ``Voltage / V``, ``Current / A`` are required; ``Cycle Count / 1``, ``Step Count / 1``,
``Net Capacity / Ah``, ``Power / W``, ``Applied Pressure / Pa``... are optional), one file per cell, written
as CSV (``.bdf`` / ``.bdf.csv``) or Parquet (``.bdf.parquet``); a parallel JSON file holds the metadata.

The column list and units here follow the published BDF specification (the README of
battery-data-alliance/battery-data-format and its ontology); the reference package (``batterydf`` on PyPI,
imported as ``bdf``) validates what :func:`write_bdf` writes in the tests when it is installed.

Mapping (canonical column -> BDF label, factor):

* ``time_s`` -> ``Test Time / s``; ``voltage_v`` -> ``Voltage / V``; ``current_ma`` -> ``Current / A`` (x 1e-3);
* ``cycle_index`` -> ``Cycle Count / 1`` (the instrument's counter, kept as reported, as BDF asks);
* ``step_index`` -> ``Step Count / 1``: BDF's step count never repeats, so it is counted from the changes of
  the instrument's step number (1 for the first step); the step number itself is written too (see below);
* ``charge_mah`` (Q-Qo) -> ``Net Capacity / Ah``; ``power_mw`` -> ``Power / W``; ``resistance_ohm`` ->
  ``Internal Resistance / ohm``; ``temperature_c`` -> ``Surface Temperature T1 / degC``;
* ``Unix Time / s`` from the record's start time (when known) plus ``Test Time``;
* ``Applied Pressure / Pa`` from the cell's stack pressure (MPa x 1e6), when recorded.

Quantities BDF defines differently are not squeezed into its columns: the instrument's per-half-cycle
counters (EC-Lab ``Q charge``, ``Energy charge``...) reset every half cycle where BDF's ``Charging Capacity``
never resets. They, and every other canonical column, are written after the BDF columns under their
aiida-ssb names (``step_index``, ``charge_capacity_mah``...; ``extra_columns=False`` leaves them out), so that
:func:`read_bdf` gives back the same measurement.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from aiida_ssb.parsers._common import check_size, decode_text, integer_column, read_bytes
from aiida_ssb.parsers._stream import read_numeric
from aiida_ssb.parsers.base import COLUMNS, Measurement, ParseError, timestamp_metadata

__all__ = ['BDF_COLUMNS', 'BDF_REQUIRED', 'bdf_table', 'looks_like_bdf', 'read_bdf', 'write_bdf']

#: canonical column -> (BDF preferred label, factor from the canonical unit to the BDF unit)
BDF_COLUMNS: dict[str, tuple[str, float]] = {
    'time_s': ('Test Time / s', 1.0),
    'voltage_v': ('Voltage / V', 1.0),
    'current_ma': ('Current / A', 1e-3),
    'cycle_index': ('Cycle Count / 1', 1.0),
    'charge_mah': ('Net Capacity / Ah', 1e-3),
    'power_mw': ('Power / W', 1e-3),
    'resistance_ohm': ('Internal Resistance / ohm', 1.0),
    'temperature_c': ('Surface Temperature T1 / degC', 1.0),
}
BDF_REQUIRED = ('Test Time / s', 'Voltage / V', 'Current / A')
STEP_COUNT = 'Step Count / 1'
UNIX_TIME = 'Unix Time / s'
APPLIED_PRESSURE = 'Applied Pressure / Pa'
# BDF labels read back (besides those above), with the canonical column and factor
_READ_ONLY = {
    'Test Time / ms': ('time_s', 1e-3),
    'Internal Resistance / Ohm': ('resistance_ohm', 1.0),
    'Ambient Temperature / degC': ('temperature_c', 1.0),
}


def bdf_table(
    measurement: Measurement,
    *,
    stack_pressure_mpa: float | None = None,
    extra_columns: bool = True,
) -> dict[str, np.ndarray]:
    """The measurement's columns under BDF labels and units (an ordered dict of label -> array)."""
    if measurement.kind != 'cycling':
        raise ValueError(f'BDF holds cycler time series; this is a {measurement.technique} ({measurement.kind}) record')
    missing = [name for name in ('time_s', 'voltage_v', 'current_ma') if name not in measurement.columns]
    if missing:
        raise ValueError(f'a BDF file needs time, voltage and current; the record lacks {", ".join(missing)}')
    table: dict[str, np.ndarray] = {}
    for name, (label, factor) in BDF_COLUMNS.items():
        if name in measurement.columns:
            values = measurement.columns[name]
            table[label] = values * factor if factor != 1.0 else np.asarray(values)
    if 'step_index' in measurement.columns:
        steps = measurement.columns['step_index']
        changes = np.concatenate(([True], steps[1:] != steps[:-1])) if steps.size else np.empty(0, dtype=bool)
        table[STEP_COUNT] = np.cumsum(changes).astype(np.int64)
    start = measurement.metadata.get('start_time_unix_s')
    if isinstance(start, (int, float)) and np.isfinite(start):
        table[UNIX_TIME] = measurement.columns['time_s'] + float(start)
    if stack_pressure_mpa is not None and np.isfinite(stack_pressure_mpa):
        table[APPLIED_PRESSURE] = np.full(measurement.n_rows, stack_pressure_mpa * 1e6)
    if extra_columns:
        mapped = set(BDF_COLUMNS)
        for name, values in measurement.columns.items():
            if name not in mapped:
                table[name] = values
    return table


def write_bdf(
    measurement: Measurement,
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any] | None = None,
    stack_pressure_mpa: float | None = None,
    extra_columns: bool = True,
) -> tuple[str, str]:
    """Write ``path`` (``.bdf``/``.bdf.csv``: CSV; ``.bdf.parquet``: Parquet, needs pyarrow) and its metadata file
    ``<path without extension>.metadata.json``; returns both paths."""
    import pandas as pd  # noqa: PLC0415 import time: aiida_ssb.parsers loads without pandas (tests/parsers/test_api.py)

    table = bdf_table(measurement, stack_pressure_mpa=stack_pressure_mpa, extra_columns=extra_columns)
    frame = pd.DataFrame(table)
    path = os.fspath(path)
    if path.endswith('.parquet'):
        frame.to_parquet(path, index=False)
        stem = path[: -len('.parquet')]
    else:
        frame.to_csv(path, index=False, float_format='%.17g')
        stem = path[: -len('.csv')] if path.endswith('.csv') else path
    document = {
        'format': 'Battery Data Format (BDF), time series',
        'producer': 'aiida-ssb',
        'technique': measurement.technique,
        'columns': {label: _unit_of(label) for label in table},
        'source_format': measurement.file_format,
    }
    document.update(_json_safe(dict(metadata or {})))
    metadata_path = stem + '.metadata.json'
    with open(metadata_path, 'w', encoding='utf-8') as handle:
        json.dump(document, handle, indent=2, sort_keys=True, allow_nan=False)
    return path, metadata_path


def _unit_of(label: str) -> str:
    if ' / ' in label:
        return label.rsplit(' / ', 1)[1]
    return COLUMNS[label][0] if label in COLUMNS else ''


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items() if _json_safe(item) is not None}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------------------------------------- reading
def looks_like_bdf(header_line: str) -> bool:
    """A CSV header row holding BDF's three required labels."""
    fields = [field.strip().strip('"') for field in header_line.split(',')]
    return all(label in fields for label in BDF_REQUIRED)


def read_bdf(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> Measurement:
    """A BDF time series (CSV with BDF labels in its header row, or Parquet) as a cycling measurement.

    BDF labels become canonical columns (units converted back); columns under aiida-ssb's canonical names (what
    :func:`write_bdf` adds) are read as they are; other columns are listed in ``metadata['ignored_columns']``.
    ``Step Count`` becomes ``step_index`` only when the file has no ``step_index`` column. The metadata file
    beside it (``<stem>.metadata.json``), when present, gives the technique and the start time."""
    path = os.fspath(path)
    if path.endswith('.parquet'):
        names, data = _parquet(path)
        notes: dict[str, Any] = {}
    else:
        names, data, notes = _csv(path, allow_truncated)
    missing = [label for label in BDF_REQUIRED if label not in names]
    if missing:
        raise ParseError(path, f'is not a BDF table: it lacks the required column(s) {", ".join(missing)}')
    columns: dict[str, np.ndarray] = {}
    ignored = []
    back = {label: (name, factor) for name, (label, factor) in BDF_COLUMNS.items()}
    back.update(_READ_ONLY)
    for label in names:
        values = data[label]
        if label in back:
            name, factor = back[label]
            if name not in columns:
                columns[name] = values / factor if factor != 1.0 else values
        elif label in COLUMNS and COLUMNS[label][0] == '1':
            columns[label] = _counter(path, label, values)
        elif label in COLUMNS:
            columns[label] = values
        elif label not in (STEP_COUNT, UNIX_TIME, APPLIED_PRESSURE):
            ignored.append(label)
    for name in ('cycle_index',):
        if name in columns:
            columns[name] = _counter(path, name, columns[name])
    if 'step_index' not in columns and STEP_COUNT in names:
        columns['step_index'] = _counter(path, STEP_COUNT, data[STEP_COUNT])
    metadata: dict[str, Any] = {
        'original_columns': list(names),
        'technique_source': 'format (BDF cycler time series)',
    }
    metadata.update(notes)
    if ignored:
        metadata['ignored_columns'] = ignored
    if APPLIED_PRESSURE in names:
        pressure = data[APPLIED_PRESSURE]
        finite = pressure[np.isfinite(pressure)]
        if finite.size:
            metadata['applied_pressure_mpa'] = float(np.median(finite)) / 1e6
    technique = 'cycling'
    sidecar = _sidecar(path)
    if sidecar:
        metadata['bdf_metadata'] = sidecar
        if sidecar.get('technique') in ('gcpl', 'mb', 'cp', 'ca', 'ocv', 'wait', 'cycling'):
            technique = sidecar['technique']
            metadata['technique_source'] = 'BDF metadata file'
    if UNIX_TIME in names and 'time_s' in columns and columns['time_s'].size:
        start = float(data[UNIX_TIME][0] - columns['time_s'][0])
        if np.isfinite(start):
            metadata.update(timestamp_metadata(_dt.datetime.fromtimestamp(start, tz=_dt.timezone.utc)))
    return Measurement(technique, columns, metadata, source=path, file_format='bdf')


def _counter(path: str | os.PathLike[str] | None, label: str, values: np.ndarray) -> np.ndarray:
    return integer_column(path, label, values)


def _csv(path: str, allow_truncated: bool) -> tuple[list[str], dict[str, np.ndarray], dict[str, Any]]:
    size = check_size(path, what='BDF table')
    with open(path, 'rb') as handle:
        head = handle.read(min(size, 1 << 16))
    end = head.find(b'\n')
    if end < 0:
        raise ParseError(path, 'is not a BDF table: no header row')
    header = decode_text(path, head[:end], what='BDF table').strip().lstrip('\ufeff')
    names = [field.strip().strip('"') for field in header.split(',')]
    offset = end + 1
    table = read_numeric(
        path,
        (path, offset),
        first_line=2,
        delimiter=',',
        n_columns=len(names),
        column_names=names,
        allow_truncated=allow_truncated,
        empty_ok=range(len(names)),
    )
    return names, {name: table.columns[position] for position, name in enumerate(names)}, table.notes


def _parquet(path: str) -> tuple[list[str], dict[str, np.ndarray]]:
    try:
        import pyarrow.parquet as pq  # noqa: PLC0415 optional dependency
    except ImportError:
        raise ParseError(path, 'reading BDF Parquet files needs pyarrow (pip install "aiida-ssb[parquet]")') from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own kinds for damaged files
        raise ParseError(path, f'cannot be read as Parquet: {type(exc).__name__}: {exc}') from None
    names = list(table.column_names)
    data = {}
    for name in names:
        try:
            data[name] = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        except (TypeError, ValueError):
            raise ParseError(path, f'column {name!r} does not hold numbers') from None
    return names, data


def _sidecar(path: str) -> dict[str, Any] | None:
    stem = path
    for suffix in ('.parquet', '.csv'):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    candidate = stem + '.metadata.json'
    if not os.path.isfile(candidate):
        return None
    try:
        document = json.loads(read_bytes(candidate, limit=16 * 1024**2).decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None
