"""``parse_*``: a raw instrument file (kept verbatim) becomes typed measurement nodes.

Inputs: ``raw`` (the :class:`~aiida.orm.SinglefileData`, byte-for-byte, with its original file name and
SHA-256), ``sample`` (the measured cell or material), ``conditions`` (temperature, stack pressure,
state labels... as a Dict) and ``options`` (how to read it: format, technique, column map). Outputs:
``measurement`` for a single record; ``spectrum_0``, ``spectrum_1``... for a file holding several
impedance spectra.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from aiida import orm
from aiida.engine import calcfunction

from aiida_ssb.data.measurements import measurement_class
from aiida_ssb.parsers import read
from aiida_ssb.parsers.base import Measurement

__all__ = [
    'PARSE_FUNCTIONS',
    'file_digests',
    'hand_over',
    'parse_cycling',
    'parse_diffraction',
    'parse_eis',
    'parse_thermal',
    'parse_voltammetry',
    'raw_file_node',
    'read_file',
    'read_options',
    'sha256_of',
    'split_parts',
    'take_handed_over',
]


_DIGESTS: dict[tuple, tuple[str, str]] = {}


def file_digests(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(sha256, md5)`` of the file, both from one pass over its bytes; remembered while the file is unchanged
    (same inode, size and modification time), so checking and then storing a file reads it once."""
    status = os.stat(path)
    key = (os.path.realpath(path), status.st_ino, status.st_size, status.st_mtime_ns)
    found = _DIGESTS.get(key)
    if found is not None:
        return found
    sha256 = hashlib.sha256()
    md5 = hashlib.md5()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 22), b''):
            sha256.update(block)
            md5.update(block)
    if len(_DIGESTS) > 4096:
        _DIGESTS.clear()
    _DIGESTS[key] = found = (sha256.hexdigest(), md5.hexdigest())
    return found


def sha256_of(path: str | os.PathLike[str]) -> str:
    return file_digests(path)[0]


# A record the importer has just read from the file it stores: the parse process takes it instead of reading the
# same bytes again. Keyed by the raw file's SHA-256 and the read options, so the process only ever takes a record
# read from exactly its input with exactly its options (what it would read itself); anything else reads the file.
_HANDED_OVER: dict[tuple[str, str], Measurement] = {}
_HANDOVER_LOCK = threading.Lock()


def _options_key(options: Mapping[str, Any]) -> str:
    return json.dumps(read_options(options), sort_keys=True, default=list)


def hand_over(sha256: str, options: Mapping[str, Any], measurement: Measurement) -> None:
    """Give the next parse process of the file with this SHA-256 (and these options) the record already read."""
    with _HANDOVER_LOCK:
        _HANDED_OVER[(sha256, _options_key(options))] = measurement


def take_handed_over(sha256: str | None, options: Mapping[str, Any]) -> Measurement | None:
    """The record handed over for this file and these options (removed from the hand-over), or None."""
    if not sha256:
        return None
    with _HANDOVER_LOCK:
        return _HANDED_OVER.pop((sha256, _options_key(options)), None)


def read_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`aiida_ssb.parsers.read` from a stored options dict."""
    kwargs: dict[str, Any] = {}
    for key in ('file_format', 'technique', 'expect_kind'):
        if options.get(key):
            kwargs[key] = options[key]
    if options.get('column_map'):
        kwargs['column_map'] = {
            name: tuple(value) if isinstance(value, list) else value for name, value in options['column_map'].items()
        }
    if options.get('allow_truncated'):
        kwargs['allow_truncated'] = True
    return kwargs


def read_file(path: str | os.PathLike[str], options: Mapping[str, Any]) -> Measurement:
    return read(path, **read_options(options))


def split_parts(measurement: Measurement) -> list[Measurement]:
    """Impedance files come apart into spectra; other records stay whole (their cycles are columns)."""
    if measurement.kind == 'eis':
        return measurement.spectra()
    return [measurement]


def _body(raw: orm.SinglefileData, sample: orm.Data, conditions: orm.Dict, options: orm.Dict) -> dict[str, orm.Data]:
    measurement = take_handed_over(raw.base.attributes.get('sha256', None), options.get_dict())
    if measurement is None:
        with raw.as_path() as path:
            measurement = read_file(path, options.get_dict())
    cell_format = sample.base.attributes.get('format', None)
    cls = measurement_class(measurement.technique, cell_format)
    parts = split_parts(measurement)
    outputs: dict[str, orm.Data] = {}
    for index, part in enumerate(parts):
        node = cls(
            part,
            conditions=conditions.get_dict(),
            sample_id=sample.base.attributes.get('sample_id', None),
            copy_arrays=False,  # the record was read for this node and is not used after
        )
        node.base.attributes.set('source_filename', raw.filename)
        if len(parts) > 1:
            node.base.attributes.set('part_index', index)
        node.label = f'{sample.label} {measurement.technique}' + (f' #{index}' if len(parts) > 1 else '')
        outputs['measurement' if len(parts) == 1 else f'spectrum_{index}'] = node
    return outputs


@calcfunction
def parse_eis(raw: orm.SinglefileData, sample: orm.Data, conditions: orm.Dict, options: orm.Dict) -> dict:
    """Impedance file -> one :class:`ImpedanceSpectrumData` per spectrum."""
    return _body(raw, sample, conditions, options)


@calcfunction
def parse_voltammetry(raw: orm.SinglefileData, sample: orm.Data, conditions: orm.Dict, options: orm.Dict) -> dict:
    """CV/LSV file -> :class:`VoltammogramData`."""
    return _body(raw, sample, conditions, options)


@calcfunction
def parse_cycling(raw: orm.SinglefileData, sample: orm.Data, conditions: orm.Dict, options: orm.Dict) -> dict:
    """Galvanostatic/potentiostatic record -> :class:`CyclingData` (:class:`SymmetricCellData` for a symmetric cell)."""
    return _body(raw, sample, conditions, options)


@calcfunction
def parse_thermal(raw: orm.SinglefileData, sample: orm.Data, conditions: orm.Dict, options: orm.Dict) -> dict:
    """DSC/TGA file -> :class:`ThermalData`."""
    return _body(raw, sample, conditions, options)


@calcfunction
def parse_diffraction(raw: orm.SinglefileData, sample: orm.Data, conditions: orm.Dict, options: orm.Dict) -> dict:
    """Diffraction pattern -> :class:`DiffractionData`."""
    return _body(raw, sample, conditions, options)


PARSE_FUNCTIONS = {
    'eis': parse_eis,
    'voltammetry': parse_voltammetry,
    'cycling': parse_cycling,
    'thermal': parse_thermal,
    'diffraction': parse_diffraction,
}


def raw_file_node(path: str | os.PathLike[str], sha256: str | None = None) -> orm.SinglefileData:
    """The raw file as an unstored SinglefileData: verbatim bytes, original name, SHA-256 and MD5."""
    path = os.fspath(path)
    digest, md5 = file_digests(path)
    sha256 = sha256 or digest
    node = orm.SinglefileData(
        path,
        filename=os.path.basename(path),
        source={
            'uri': f'file://{os.path.abspath(path)}',
            'source_md5': md5,
            'description': 'raw instrument file',
        },
    )
    node.base.attributes.set('sha256', sha256)
    node.base.attributes.set('size_bytes', os.path.getsize(path))
    node.label = os.path.basename(path)
    return node
