"""Storing instrument files: check first (read it, find duplicates), then store through ``parse_*``.

The same raw file (same SHA-256) imported twice for the same sample is recognised and not stored again;
the same file claimed by another sample is an error.

Each file is read once: the check hashes it (SHA-256 and MD5 in one pass) and parses it; the record it read is
kept (up to :data:`KEEP_BYTES` of arrays, most recent first) and handed to the parse process when the file is
stored, which then does not read the stored copy again (see
:func:`aiida_ssb.calculations.parse.hand_over`).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import stat
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiida import orm
from pydantic import ValidationError

from aiida_ssb.calculations.common import run_function
from aiida_ssb.calculations.parse import (
    PARSE_FUNCTIONS,
    file_digests,
    hand_over,
    raw_file_node,
    read_file,
    read_options,
    take_handed_over,
)
from aiida_ssb.data.rawfile import DuplicateRawFileError, register_raw_file
from aiida_ssb.data.sample import load_sample
from aiida_ssb.data.storage import reset_session, write_transaction
from aiida_ssb.exceptions import InputError
from aiida_ssb.parsers.base import Measurement, ParseError
from aiida_ssb.schemas.measurement import MeasurementEntry, resolve_technique

#: arrays of checked records kept for storing (a manifest checks every file before it stores any)
KEEP_BYTES = 1 << 30
_CHECKED: OrderedDict[tuple[str, str], Measurement] = OrderedDict()

__all__ = [
    'EntryError',
    'check_measurement',
    'find_raw_file',
    'import_file',
    'measurement_options',
    'resolve_measurement_file',
    'store_measurement',
]


class EntryError(InputError):
    """A measurement entry given to :func:`import_file` does not validate; ``problems`` holds
    ``(field, message, value)`` for each wrong field (the command line names its options from them)."""

    def __init__(self, problems: list[tuple[str, str, Any]]):
        self.problems = problems
        super().__init__('; '.join(f'{field}: {message}' for field, message, _ in problems))


def entry_problems(error: ValidationError) -> list[tuple[str, str, Any]]:
    """``(field, message, value)`` of each error of a measurement entry, without pydantic's type names and URLs."""
    problems = []
    for item in error.errors():
        location = '.'.join(str(part) for part in item.get('loc', ()))
        message = str(item.get('msg', '')).removeprefix('Value error, ')
        if item.get('type') == 'extra_forbidden':
            message = 'not a field of a measurement entry'
        elif item.get('type') == 'literal_error':
            message = f'{message}, not {item.get("input")!r}'
        problems.append((location, message, item.get('input')))
    return problems


def resolve_measurement_file(file: str, base_dir: str, *, allow_outside: bool = False) -> str:
    """The real path of a measurement file named in a manifest (relative to ``base_dir``, the manifest's
    folder), with symlinks resolved. Raises :class:`InputError` when it lies outside ``base_dir`` (unless
    ``allow_outside``), does not exist, or is not a regular file (a folder, a FIFO, a device)."""
    joined = file if os.path.isabs(file) else os.path.join(base_dir, file)
    real = os.path.realpath(joined)
    if not allow_outside:
        root = os.path.realpath(base_dir)
        if os.path.commonpath([root, real]) != root:
            how = 'an absolute path' if os.path.isabs(file) else 'a path'
            raise InputError(
                f'{file!r} is {how} that resolves to {real}, outside the manifest folder {root}: measurement files '
                'are read from the manifest folder; move the file there, or import with --allow-outside'
            )
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        raise InputError(f'file not found: {real}') from None
    except OSError as exc:
        raise InputError(f'cannot read {real}: {exc.strerror}') from None
    if stat.S_ISDIR(mode):
        raise InputError(f'{real} is a folder, not an instrument file')
    if not stat.S_ISREG(mode):
        raise InputError(f'{real} is not a regular file (a FIFO, socket or device): give the instrument file')
    return real


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
    if getattr(entry, 'allow_truncated', None):
        options['allow_truncated'] = True
    return options


def _key(sha256: str, options: Mapping[str, Any]) -> tuple[str, str]:
    return sha256, json.dumps(read_options(options), sort_keys=True, default=list)


def _keep(key: tuple[str, str], measurement: Measurement) -> None:
    """Remember a checked record for storing, within :data:`KEEP_BYTES` (the oldest are forgotten first)."""
    size = sum(values.nbytes for values in measurement.columns.values())
    if size > KEEP_BYTES:
        return
    _CHECKED[key] = measurement
    _CHECKED.move_to_end(key)
    total = sum(sum(v.nbytes for v in kept.columns.values()) for kept in _CHECKED.values())
    while total > KEEP_BYTES and len(_CHECKED) > 1:
        _, dropped = _CHECKED.popitem(last=False)
        total -= sum(v.nbytes for v in dropped.columns.values())


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
    options = measurement_options(entry)
    # the digests (for the duplicate check) are computed while the file is parsed: both read the same bytes, on
    # two cores, and hashing releases the GIL
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        digests = pool.submit(file_digests, path)
        try:
            measurement: Measurement | None = read_file(path, options)
            problem = None
        except ParseError as exc:
            measurement, problem = None, exc
        sha256, _ = digests.result()
    raw = find_raw_file(sha256)
    if raw is not None:
        owner = _owner_of(raw)
        if owner == target:
            return 'unchanged'
        raise InputError(f'{os.path.basename(path)} was already imported for {owner!r} (raw node {raw.pk})')
    if problem is not None or measurement is None:
        raise InputError(str(problem)) from None
    _keep(_key(sha256, options), measurement)
    return 'new'


def store_measurement(entry: MeasurementEntry, path: str, sample: orm.Data | None = None) -> list[orm.Node]:
    """Store one instrument file for its sample through the parse process of its kind; returns the new nodes."""

    target = entry.target
    sample = sample or load_sample(target)
    options = measurement_options(entry)
    sha256, _ = file_digests(path)
    measurement = _CHECKED.pop(_key(sha256, options), None)
    if measurement is None:
        measurement = read_file(path, options)  # not checked in this process (or forgotten): read here
    technique, kind = measurement.technique, measurement.kind
    raw = raw_file_node(os.path.abspath(path), sha256)
    conditions = entry.conditions().stored()
    function = PARSE_FUNCTIONS[kind]
    name = os.path.basename(path)
    name = name if len(name) <= 120 else name[:117] + '...'  # labels are at most 255 characters (PostgreSQL)
    label = f'parse {technique} {name} -> {target}'
    hand_over(sha256, options, measurement)
    del measurement  # the parse process holds the only reference: its node takes the arrays without a copy
    try:
        outputs, process = run_function(
            function,
            {'label': label},
            raw=raw,
            sample=sample,
            conditions=orm.Dict(conditions),
            options=orm.Dict(options),
        )
    finally:
        take_handed_over(sha256, options)  # not taken (e.g. a cached process): forget it
    if not process.is_finished_ok:
        raise RuntimeError(f'{label} failed: {process.exit_message or process.process_state}')
    return [raw, process, *outputs.values()]


def import_file(
    path: str | os.PathLike[str],
    sample_id: str,
    *,
    is_cell: bool = True,
    technique: str | None = None,
    file_format: str | None = None,
    column_map: Mapping[str, Any] | None = None,
    allow_truncated: bool = False,
    **conditions: Any,
) -> tuple[str, list[orm.Node]]:
    """Add one instrument file to an existing cell (or material). Returns (status, new nodes); status is
    'unchanged' when that file is already stored for this sample. All-or-nothing.

    :param allow_truncated: accept a file whose last line was cut (an export stopped while writing): that line is
        dropped and the measurement records it (``truncated_last_line``).
    """

    path = os.path.abspath(os.fspath(path))
    data = {
        'file': path,
        'cell' if is_cell else 'material': sample_id,
        'technique': technique,
        'format': file_format,
        'column_map': dict(column_map) if column_map else None,
        'allow_truncated': True if allow_truncated else None,
        **conditions,
    }
    try:
        entry = MeasurementEntry.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise EntryError(entry_problems(exc)) from None

    sample = load_sample(sample_id)
    expected = 'CellData' if is_cell else 'MaterialData'
    if sample.__class__.__name__ != expected:
        raise InputError(f'{sample_id!r} is a {sample.__class__.__name__}, not a {"cell" if is_cell else "material"}')

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
