"""BioLogic EC-Lab binary file (``.mpr``) through the GPL-3 library galvani.

The binary layout is read by ``galvani`` (``datalab-org-galvani`` >= 0.6, module name ``galvani``),
imported only when an ``.mpr`` is read: it is an optional extra (``pip install aiida-ssb[mpr]``) so
the core package stays MIT. Without it, export the file as ``.mpt`` from EC-Lab and read that.

What we take from the file besides the data array:

* the technique byte at the start of the settings module (values documented by the yadg project);
* a few cell characteristics from fixed offsets of the settings module (electrode area, mass of
  active material, comments, electrode material, electrolyte, reference electrode), kept only when
  they are plausible and not EC-Lab's 0.001 "not set" value;
* from the log module: the EC-Lab version, the original file name and the start time (galvani's
  OLE timestamp). Files without a log module (e.g. with an external-device module) only give the
  start date.
"""

from __future__ import annotations

import math
import ntpath
import os
import re
import struct
import warnings
from typing import Any

import numpy as np

from aiida_ssb.parsers._common import read_head
from aiida_ssb.parsers.base import Measurement, ParseError, UnsupportedFormatError, timestamp_metadata
from aiida_ssb.parsers.biologic import (
    TECHNIQUE_BYTES,
    canonicalise,
    intercalation_x,
    is_placeholder,
    technique_from_columns,
)
from aiida_ssb.parsers.biologic_settings import mpr_settings
from aiida_ssb.parsers.settings import cross_check

__all__ = ['MPR_MAGIC', 'read_mpr']

MPR_MAGIC = b'BIO-LOGIC MODULAR FILE'
INSTALL_HINT = (
    'reading BioLogic .mpr files needs the optional GPL-3 package datalab-org-galvani '
    '(pip install "aiida-ssb[mpr]"), or export the file as .mpt (EC-Lab: Export as text) and read that'
)

# offsets in the settings and log modules (documented by the yadg project, extractors/eclab)
_SETTINGS_FLOATS = {
    0x0107: 'active_mass_mg',
    0x010F: 'molecular_weight_g_mol',
    0x0113: 'intercalated_ion_weight_g_mol',
    0x0211: 'electrode_area_cm2',
    0x024C: 'characteristic_mass_mg',
    0x025C: 'battery_capacity_mah',
}
# not cell characteristics a user sets to "not set": read as they are
_SETTINGS_PLAIN = {0x010B: 'molecular_weight_at_x', 0x0117: 'x_start'}
_SETTINGS_ELECTRONS = 0x011B
_SETTINGS_TEXT = {
    0x0007: 'comments',
    0x011E: 'electrode_material',
    0x01C0: 'electrolyte',
    0x0215: 'reference_electrode',
}
_LOG_VERSION = 0x03B7
_LOG_FILENAME = 0x0251
_VERSION = re.compile(r'^\d+\.\d+$')
_USED_FLAGS = ('mode',)  # the other flag bits (ox/red, error, ...) have no canonical column


def read_mpr(
    path: str | os.PathLike[str], *, keep_dc_rows: bool = False, keep_placeholders: bool = False
) -> Measurement:
    """Read an EC-Lab ``.mpr`` binary file (needs galvani, see the module docstring).

    :param keep_dc_rows: as for :func:`~aiida_ssb.parsers.biologic_mpt.read_mpt`.
    :param keep_placeholders: keep cell characteristics equal to EC-Lab's "not set" value 0.001.
    """
    if not read_head(path, len(MPR_MAGIC)).startswith(MPR_MAGIC):
        raise ParseError(path, 'is not a BioLogic .mpr file (no "BIO-LOGIC MODULAR FILE" signature)')
    try:
        from galvani import BioLogic  # noqa: PLC0415 optional dependency
    except ImportError:
        raise UnsupportedFormatError(path, INSTALL_HINT) from None
    with warnings.catch_warnings(record=True) as caught, open(path, 'rb') as handle:
        warnings.simplefilter('always')
        try:
            mpr = BioLogic.MPRfile(handle)
        except MemoryError:
            raise
        except Exception as exc:  # galvani raises ValueError, IOError, AssertionError, RuntimeError...
            raise ParseError(path, _explain(exc)) from None
    messages = sorted({str(item.message) for item in caught if 'unclosed file' not in str(item.message)})

    modules = {bytes(module['shortname']).strip(): module for module in mpr.modules}
    settings = modules.get(b'VMP Set')
    log = modules.get(b'VMP LOG')
    metadata: dict[str, Any] = {'data_module_version': int(mpr.version)}

    raw_columns: dict[str, np.ndarray] = {}
    unknown = []
    original: list[str] = []
    names = mpr.data.dtype.names or ()
    for name in names:
        if name == 'flags':
            original.extend(mpr.flags_dict)
            for flag in mpr.flags_dict:
                if flag in _USED_FLAGS:
                    raw_columns[flag] = mpr.get_flag(flag)
        elif name.startswith('unknown_colID_'):
            unknown.append(int(name.rsplit('_', 1)[1]))
            original.append(name)
        else:
            raw_columns[name] = np.asarray(mpr.data[name])
            original.append(name)
    metadata['original_columns'] = original
    if unknown:
        metadata['unknown_column_ids'] = unknown
    if messages:
        metadata['reader_warnings'] = messages

    technique = None
    if settings is not None and len(settings['data']) > 0:
        byte = settings['data'][0]
        metadata['technique_id'] = int(byte)
        if byte in TECHNIQUE_BYTES:
            technique, name = TECHNIQUE_BYTES[byte]
            metadata['technique_name'] = name
            metadata['technique_source'] = 'file settings module'
        metadata.update(_settings_metadata(settings['data'], keep_placeholders))
    if technique is None:
        technique = technique_from_columns(list(raw_columns))
        if technique is None:
            raise ParseError(
                path,
                f'cannot tell the technique: unknown technique byte and columns '
                f'({", ".join(list(raw_columns)[:8])}) that match none',
            )
        metadata['technique_source'] = 'columns (unknown technique byte)'

    if log is not None:
        metadata.update(_log_metadata(log['data']))
    moment = getattr(mpr, 'timestamp', None)
    if moment is not None:
        metadata.update(timestamp_metadata(moment))
    elif getattr(mpr, 'startdate', None) is not None:
        metadata['start_date'] = mpr.startdate.isoformat()

    loop_starts = None
    if getattr(mpr, 'loop_index', None) is not None:
        loop_starts = np.asarray(mpr.loop_index, dtype=np.int64)
        metadata['loop_starts'] = [int(value) for value in loop_starts]
    columns, notes = canonicalise(path, raw_columns, technique, keep_dc_rows=keep_dc_rows, loop_starts=loop_starts)
    metadata.update(notes)
    _derive_x(columns, metadata)
    if settings is not None and len(settings['data']) > 0:
        technique_settings, _ = mpr_settings(technique, bytes(settings['data']))
        if technique_settings is not None:
            metadata['technique_settings'] = technique_settings.stored()
            metadata['settings_summary'] = technique_settings.summary()
            checks = cross_check(technique_settings, columns)
            if checks:
                metadata['flags'] = metadata.get('flags', []) + checks
    metadata['software'] = 'EC-Lab'
    return Measurement(
        technique=technique, columns=columns, metadata=metadata, source=os.fspath(path), file_format='biologic-mpr'
    )


def _derive_x(columns: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
    """EC-Lab writes ``x`` only to its text export; here it is computed from the settings module's cell
    characteristics by the export's own rule (only when the active mass and molecular weight are set)."""
    needed = ('active_mass_mg', 'molecular_weight_g_mol', 'electrons_per_ion')
    if 'intercalation_x' in columns or 'charge_mah' not in columns or not all(key in metadata for key in needed):
        return
    columns['intercalation_x'] = intercalation_x(
        columns['charge_mah'],
        active_mass_mg=metadata['active_mass_mg'],
        molecular_weight_g_mol=metadata['molecular_weight_g_mol'],
        ion_weight_g_mol=metadata.get('intercalated_ion_weight_g_mol', 0.0),
        weight_at_x=metadata.get('molecular_weight_at_x', 0.0),
        x_start=metadata.get('x_start', 0.0),
        electrons=metadata['electrons_per_ion'],
    )
    metadata.setdefault('derived_columns', {})['intercalation_x'] = (
        'x0 - (Q-Qo)/DQ from the cell characteristics of the settings module (EC-Lab x)'
    )


def _explain(exc: Exception) -> str:
    text = str(exc).strip().replace('\n', ' ')
    text = ' '.join(text.split())
    if isinstance(exc, AssertionError) or not text:
        return (
            'the data module is inconsistent (its row count does not match its size): the file is '
            'truncated or corrupted'
        )
    if 'Unexpected end of file' in text:
        return f'the file is truncated ({text})'
    if 'Invalid magic' in text:
        return 'is not a BioLogic .mpr file (bad signature)'
    if 'not enough values to unpack' in text or 'too many values to unpack' in text:
        return 'a required module (settings or data) is missing or duplicated: the file is corrupted'
    return f'cannot be read as an EC-Lab .mpr file: {type(exc).__name__}: {text[:300]}'


def _pascal(data: bytes, offset: int) -> str | None:
    """A length-prefixed string, or None when it does not look like text."""
    if offset >= len(data):
        return None
    length = data[offset]
    chunk = data[offset + 1 : offset + 1 + length]
    if len(chunk) != length:
        return None
    try:
        text = chunk.decode('cp1252')
    except UnicodeDecodeError:
        text = chunk.decode('latin-1')
    if any(ord(char) < 32 and char not in '\r\n\t' for char in text):
        return None
    return text.replace('\r\n', '\n').strip()


def _float32(data: bytes, offset: int) -> float | None:
    if offset + 4 > len(data):
        return None
    value = struct.unpack_from('<f', data, offset)[0]
    return value if math.isfinite(value) else None


def _settings_metadata(data: bytes, keep_placeholders: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for offset, key in _SETTINGS_FLOATS.items():
        value = _float32(data, offset)
        if value is None or not 0 < value < 1e7:
            continue
        if is_placeholder(value) and not keep_placeholders:
            continue
        metadata[key] = float(f'{value:.7g}')  # float32 -> the 7 digits EC-Lab shows
    for offset, key in _SETTINGS_PLAIN.items():
        value = _float32(data, offset)
        if value is not None and abs(value) < 1e6:
            metadata[key] = float(f'{value:.7g}')
    if _SETTINGS_ELECTRONS + 2 <= len(data):
        electrons = struct.unpack_from('<H', data, _SETTINGS_ELECTRONS)[0]
        if 0 < electrons < 100:
            metadata['electrons_per_ion'] = int(electrons)
    for offset, key in _SETTINGS_TEXT.items():
        text = _pascal(data, offset)
        if text and text != '(unspecified)':
            metadata[key] = text
    return metadata


def _log_metadata(data: bytes) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    version = _pascal(data, _LOG_VERSION)
    if version and _VERSION.match(version):
        metadata['software_version'] = version
    filename = _pascal(data, _LOG_FILENAME)
    if filename:
        metadata['original_filename'] = ntpath.basename(filename)
    return metadata
