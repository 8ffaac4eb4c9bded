"""``read()``: one entry point for every supported instrument file.

It detects the format from the content (or takes ``file_format``), calls that format's reader,
then applies the checks every reader shares: a technique asked for by the caller must agree with
the file, the columns the technique needs must be there and hold numbers, and ``expect_kind``
must match.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from aiida_ssb.parsers.base import KIND_OF_TECHNIQUE, TECHNIQUES, Measurement, ParseError
from aiida_ssb.parsers.detect import SUPPORTED_FORMATS, detect_format

__all__ = ['KINDS', 'REQUIRED_COLUMNS', 'read']

#: format code -> (module, function, accepts ``technique``, accepts ``column_map``)
_READERS: dict[str, tuple[str, str, bool, bool]] = {
    'biologic-mpt': ('biologic_mpt', 'read_mpt', False, False),
    'biologic-mpr': ('biologic_mpr', 'read_mpr', False, False),
    'csv-impedance': ('impedance_text', 'read_csv_impedance', True, False),
    'gamry-dta': ('impedance_text', 'read_gamry_dta', False, False),
    'zplot-z': ('impedance_text', 'read_zplot', False, False),
    'autolab-txt': ('impedance_text', 'read_autolab', True, False),
    'generic-csv': ('generic', 'read_generic', True, True),
    'neware-nda': ('cyclers', 'read_neware', False, False),
    'neware-ndax': ('cyclers', 'read_neware', False, False),
    'arbin-res': ('cyclers', 'read_arbin', False, False),
    'maccor-txt': ('cyclers', 'read_maccor', False, False),
    'xy': ('diffraction', 'read_xy', False, False),
    'panalytical-xrdml': ('diffraction', 'read_xrdml', False, False),
    'netzsch-txt': ('thermal', 'read_netzsch', False, False),
    'bdf': ('bdf', 'read_bdf', False, False),
    'neware-csv': ('cycler_tables', 'read_neware_table', False, False),
    'neware-xlsx': ('cycler_tables', 'read_neware_table', False, False),
    'arbin-csv': ('cycler_tables', 'read_arbin_table', False, False),
    'arbin-xlsx': ('cycler_tables', 'read_arbin_table', False, False),
    'chi-txt': ('impedance_more', 'read_chi', False, False),
    'parstat-txt': ('impedance_more', 'read_parstat', False, False),
    'versastudio-par': ('impedance_more', 'read_versastudio', False, False),
}

#: measurement kind -> canonical columns a record of that kind must have
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    'eis': ('frequency_hz', 'z_real_ohm', 'z_imag_ohm'),
    'voltammetry': ('voltage_v', 'current_ma'),
    'cycling': ('voltage_v',),
    'thermal': ('temperature_c',),
    'diffraction': ('two_theta_deg', 'intensity_counts'),
}

KINDS = tuple(REQUIRED_COLUMNS)

# plain-table formats that a column_map turns into the generic reader
_TABLE_FORMATS = ('csv-impedance', 'xy', 'generic-csv', 'autolab-txt', 'parstat-txt')


def read(
    path: str | os.PathLike[str],
    *,
    file_format: str | None = None,
    technique: str | None = None,
    column_map: dict[str, Any] | None = None,
    expect_kind: str | None = None,
    **options: Any,
) -> Measurement:
    """Read an instrument file into a :class:`~aiida_ssb.parsers.base.Measurement`.

    :param path: the file; it is only read, never modified.
    :param file_format: a key of :data:`~aiida_ssb.parsers.SUPPORTED_FORMATS`; detected from the
        content when omitted.
    :param technique: a key of :data:`~aiida_ssb.parsers.base.TECHNIQUES`. For files that record their
        technique it must agree with it (``'peis'`` on a galvanostatic-cycling file is a ParseError;
        ``'peis'`` on a file whose control mode is unknown, ``'eis'``, refines it); for files that do
        not, it sets it (within the kind the columns allow).
    :param column_map: for tables of unknown instruments (``'generic-csv'``): canonical column name ->
        ``(the file's column header or 0-based index, the unit in the file[, a factor])``.
    :param expect_kind: ``'eis'``, ``'voltammetry'``, ``'cycling'``, ``'thermal'`` or
        ``'diffraction'``: a ParseError if the file is of another kind.
    :param options: reader options (see each format's page), e.g. ``keep_dc_rows=True``.
    :raises ParseError: the file cannot be read, or does not match ``technique``/``expect_kind``
        (:class:`~aiida_ssb.parsers.base.UnsupportedFormatError` for a format recognised but not
        readable here).
    """
    if file_format is not None and file_format not in SUPPORTED_FORMATS:
        raise ParseError(path, f'unknown file_format {file_format!r}; supported: {", ".join(SUPPORTED_FORMATS)}')
    if technique is not None and technique not in TECHNIQUES:
        raise ParseError(path, f'unknown technique {technique!r}; known: {", ".join(TECHNIQUES)}')
    if expect_kind is not None and expect_kind not in KINDS:
        raise ParseError(path, f'unknown expect_kind {expect_kind!r}; known: {", ".join(KINDS)}')
    if not os.path.isfile(path):
        raise ParseError(path, 'no such file' if not os.path.exists(path) else 'is not a regular file')
    fmt = file_format
    if fmt is None:
        fmt = detect_format(path)
        if column_map is not None and fmt in _TABLE_FORMATS:
            fmt = 'generic-csv'
    module_name, function_name, takes_technique, takes_map = _READERS[fmt]
    if column_map is not None and not takes_map:
        raise ParseError(
            path,
            f'column_map is only used by the generic-csv reader, and this file is {fmt}: '
            "pass file_format='generic-csv' to read it as a plain table",
        )
    reader: Callable[..., Measurement] = getattr(importlib.import_module(f'.{module_name}', __package__), function_name)
    kwargs = dict(options)
    if 'allow_truncated' in kwargs and 'allow_truncated' not in inspect.signature(reader).parameters:
        kwargs.pop('allow_truncated')  # binary formats: a cut file is refused by their own checks
    if takes_technique:
        kwargs['technique'] = technique
    if takes_map:
        kwargs['column_map'] = column_map
    try:
        measurement = reader(path, **kwargs)
    except ParseError:
        raise
    except TypeError as exc:
        if 'unexpected keyword argument' in str(exc):
            raise TypeError(f'{fmt} reader: {exc}') from None
        raise ParseError(path, f'internal error while reading (please report): TypeError: {exc}') from exc
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:  # safety net: a reader bug must still name the file
        raise ParseError(path, f'internal error while reading (please report): {type(exc).__name__}: {exc}') from exc
    return finalise(path, measurement, technique=technique, expect_kind=expect_kind)


def _flags(metadata: dict[str, Any]) -> list[dict[str, str]]:
    """What a reader tolerated or found, as flags with reasons (stored with the measurement, shown with it)."""
    flags = list(metadata.get('flags', []))
    known = {flag['flag'] for flag in flags}

    def add(code: str, reason: str) -> None:
        if code not in known:
            flags.append({'flag': code, 'reason': reason})
            known.add(code)

    if 'truncated_last_line' in metadata:
        add('truncated', metadata.get('truncation', f'line {metadata["truncated_last_line"]} was cut and dropped'))
    if metadata.get('run_aborted'):
        add('run_aborted', str(metadata.get('run_aborted_reason', 'the file marks the run as aborted')))
    if 'rows_with_extra_fields' in metadata:
        add(
            'extra_fields',
            f'{metadata["rows_with_extra_fields"]} rows carried values beyond the named columns (dropped)',
        )
    if 'repaired_units' in metadata:
        add('repaired_units', '; '.join(metadata['repaired_units']))
    return flags


def finalise(
    path: str | os.PathLike[str] | None,
    measurement: Measurement,
    *,
    technique: str | None = None,
    expect_kind: str | None = None,
) -> Measurement:
    """The checks shared by every reader (see :func:`read`)."""
    metadata = measurement.metadata
    if technique is not None and technique != measurement.technique:
        recorded = measurement.technique
        source = str(metadata.get('technique_source', ''))
        kind_asked = KIND_OF_TECHNIQUE[technique]
        kind_recorded = KIND_OF_TECHNIQUE[recorded]
        from_file = source.startswith('file') and recorded != 'eis'
        if kind_asked != kind_recorded or from_file:
            what = 'records' if source.startswith('file') else 'looks like'
            raise ParseError(
                path,
                f'the file {what} a {recorded} ({TECHNIQUES[recorded]}) measurement, '
                f'not {technique} ({TECHNIQUES[technique]})',
            )
        metadata['technique_detected'] = recorded
        metadata['technique_source'] = 'caller'
        measurement.technique = technique
    if measurement.n_rows == 0:
        raise ParseError(
            path, 'the file holds no data rows (a header only: the run recorded nothing, or the export stopped)'
        )
    kind = measurement.kind
    required = REQUIRED_COLUMNS[kind]
    missing = [name for name in required if name not in measurement.columns]
    if missing:
        raise ParseError(
            path,
            f'a {measurement.technique} record needs the column(s) {", ".join(missing)}; '
            f'the file gives {", ".join(measurement.columns) or "none"}',
        )
    if measurement.n_rows:
        empty = []
        for name, values in list(measurement.columns.items()):
            if values.dtype.kind == 'f' and not np.isfinite(values[:1]).any() and not np.isfinite(values).any():
                if name in required:
                    raise ParseError(path, f'column {name} holds no numbers (all NaN)')
                empty.append(name)
                del measurement.columns[name]
        if empty:
            metadata['dropped_empty_columns'] = empty
    metadata['n_rows'] = measurement.n_rows
    flags = _flags(metadata)
    if flags:
        metadata['flags'] = flags
    if expect_kind is not None and measurement.kind != expect_kind:
        raise ParseError(
            path,
            f'expected a {expect_kind} measurement, but the file is a {measurement.technique} '
            f'({measurement.kind}) record',
        )
    return measurement
