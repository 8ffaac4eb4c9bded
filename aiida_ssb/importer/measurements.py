"""Storing instrument files: check first (read it, find duplicates), then store through ``parse_*``.

The same raw file (same SHA-256) imported twice for the same sample is recognised and not stored again;
the same file claimed by another sample is an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aiida import orm

from aiida_ssb.calculations.parse import PARSE_FUNCTIONS, raw_file_node, read_file, sha256_of
from aiida_ssb.exceptions import InputError
from aiida_ssb.parsers.base import ParseError
from aiida_ssb.schemas.measurement import MeasurementEntry, resolve_technique

__all__ = ['check_measurement', 'find_raw_file', 'import_file', 'measurement_options', 'store_measurement']


def measurement_options(entry: MeasurementEntry) -> dict[str, Any]:
    expect_kind, technique = resolve_technique(entry.technique)
    options: dict[str, Any] = {}
    if expect_kind:
        options['expect_kind'] = expect_kind
    if technique:
        options['technique'] = technique
    if entry.format:
        options['file_format'] = entry.format
    if entry.column_map:
        options['column_map'] = {
            name: list(value) if isinstance(value, (list, tuple)) else value for name, value in entry.column_map.items()
        }
    return options


def find_raw_file(sha256: str) -> orm.SinglefileData | None:
    query = orm.QueryBuilder().append(orm.SinglefileData, filters={'attributes.sha256': sha256}, project='*').limit(1)
    found = query.all(flat=True)
    return found[0] if found else None


def _owner_of(raw: orm.SinglefileData) -> str | None:
    """The sample id a stored raw file was parsed for."""
    query = orm.QueryBuilder().append(orm.SinglefileData, filters={'id': raw.pk}, tag='raw')
    query.append(orm.CalcFunctionNode, with_incoming='raw', tag='parse')
    query.append(orm.Data, with_outgoing='parse', edge_filters={'label': 'sample'}, project='attributes.sample_id')
    found = query.all(flat=True)
    return found[0] if found else None


def check_measurement(entry: MeasurementEntry, path: str) -> str:
    """'new' when the file reads and is not stored yet, 'unchanged' when it is already stored for the same
    sample. Raises ValueError (with the file and the reason) for unreadable files and foreign duplicates."""
    target = entry.cell or entry.material
    raw = find_raw_file(sha256_of(path))
    if raw is not None:
        owner = _owner_of(raw)
        if owner == target:
            return 'unchanged'
        raise InputError(f'{os.path.basename(path)} was already imported for {owner!r} (raw node {raw.pk})')
    try:
        read_file(path, measurement_options(entry))
    except ParseError as exc:
        raise InputError(str(exc)) from None
    return 'new'


def store_measurement(entry: MeasurementEntry, path: str, sample: orm.Data | None = None) -> list[orm.Node]:
    """Store one instrument file for its sample through the parse process of its kind; returns the new nodes."""
    from aiida_ssb.data.sample import load_sample

    target = entry.cell or entry.material
    sample = sample or load_sample(target)
    options = measurement_options(entry)
    measurement = read_file(path, options)  # read once more here: fails before anything is stored
    raw = raw_file_node(os.path.abspath(path))
    conditions = entry.conditions().stored()
    function = PARSE_FUNCTIONS[measurement.kind]
    name = os.path.basename(path)
    name = name if len(name) <= 120 else name[:117] + '...'  # labels are at most 255 characters (PostgreSQL)
    label = f'parse {measurement.technique} {name} -> {target}'
    outputs, process = function.run_get_node(
        raw=raw,
        sample=sample,
        conditions=orm.Dict(conditions),
        options=orm.Dict(options),
        metadata={'label': label},
    )
    if not process.is_finished_ok:
        raise RuntimeError(f'{label} failed: {process.exit_message or process.process_state}')
    return [raw, process, *outputs.values()]


def import_file(
    path: str | os.PathLike,
    sample_id: str,
    *,
    is_cell: bool = True,
    technique: str | None = None,
    file_format: str | None = None,
    column_map: Mapping[str, Any] | None = None,
    **conditions: Any,
) -> tuple[str, list[orm.Node]]:
    """Add one instrument file to an existing cell (or material). Returns (status, new nodes); status is
    'unchanged' when that file is already stored for this sample. All-or-nothing."""
    path = os.path.abspath(os.fspath(path))
    data = {
        'file': path,
        'cell' if is_cell else 'material': sample_id,
        'technique': technique,
        'format': file_format,
        'column_map': dict(column_map) if column_map else None,
        **conditions,
    }
    entry = MeasurementEntry.model_validate({k: v for k, v in data.items() if v is not None})
    from aiida_ssb.data.sample import load_sample

    sample = load_sample(sample_id)
    expected = 'CellData' if is_cell else 'MaterialData'
    if sample.__class__.__name__ != expected:
        raise InputError(f'{sample_id!r} is a {sample.__class__.__name__}, not a {"cell" if is_cell else "material"}')
    from aiida_ssb.data.rawfile import DuplicateRawFileError, register_raw_file
    from aiida_ssb.data.storage import reset_session, write_transaction
    from aiida_ssb.importer.plan import resolve_measurement_file

    path = resolve_measurement_file(path, os.path.dirname(path), allow_outside=True)  # a regular file
    status = check_measurement(entry, path)
    if status == 'unchanged':
        return status, []
    try:
        with write_transaction('import-file'):
            nodes = store_measurement(entry, path, sample)
            register_raw_file(next(node for node in nodes if isinstance(node, orm.SinglefileData)))
    except DuplicateRawFileError:  # the same file stored by a concurrent writer, committed first
        reset_session()
        return check_measurement(entry, path), []
    return 'new', nodes
