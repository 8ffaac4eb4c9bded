"""X-ray powder diffraction: two-column ``.xy``/``.csv`` patterns and PANalytical ``.xrdml`` files.
Technique ``'xrd'``; columns ``two_theta_deg`` and ``intensity_counts``."""

from __future__ import annotations

import datetime as _dt
import os
import re
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np

from aiida_ssb.parsers._common import decode_text, read_bytes, sniff_table, split_lines
from aiida_ssb.parsers.base import Measurement, ParseError, timestamp_metadata

__all__ = ['read_xrdml', 'read_xy']

_WAVELENGTH = re.compile(
    r'(?:lambda|wavelength|wave length|kalpha1|k-alpha1|ka1)\w*\s*[:=]?\s*'
    r'([0-9]*\.?[0-9]+)\s*(?:Å|A\b|Angstrom|angstrom)',
    re.IGNORECASE,
)


def read_xy(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> Measurement:
    """A diffraction pattern as a table: first column 2theta in degrees, second the intensity
    (further columns, e.g. an uncertainty, are ignored). Comment lines (``#``, ``!``, ``%``, ``;``,
    ``//``) and a column-name line are allowed; delimiter and decimal mark are sniffed. A wavelength
    stated in a comment with its unit (``# wavelength: 1.5406 Å``) becomes ``wavelength_angstrom``.
    """
    lines = split_lines(decode_text(path, read_bytes(path), what='diffraction pattern'))
    layout = sniff_table(lines)
    if layout is None:
        raise ParseError(path, 'holds no numeric table (expected 2theta and intensity columns)')
    if layout.n_columns < 2:
        raise ParseError(
            path,
            'has a single column; a diffraction pattern needs 2theta and intensity',
            line=layout.first_data_line + 1,
        )
    array, notes = layout.parse(
        path,
        lines,
        allow_truncated=allow_truncated,
        usecols=(0, 1),
    )
    two_theta = array[:, 0].copy()
    outside = ~((two_theta >= 0) & (two_theta <= 180))
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise ParseError(
            path,
            f'2theta {two_theta[row]!r} is outside 0-180 degrees (is the first column 2theta?)',
            line=layout.first_data_line + 1 + row,
        )
    columns = {'two_theta_deg': two_theta, 'intensity_counts': array[:, 1].copy()}
    metadata: dict[str, Any] = {
        'delimiter': layout.delimiter or 'whitespace',
        'decimal_mark': layout.decimal,
        'technique_source': 'format (diffraction pattern)',
    }
    if layout.header:
        metadata['original_columns'] = layout.header
    if layout.comments:
        metadata['comments'] = '\n'.join(layout.comments[:50])
        match = _WAVELENGTH.search('\n'.join(layout.comments))
        if match:
            metadata['wavelength_angstrom'] = float(match.group(1))
    metadata.update(notes)
    return Measurement('xrd', columns, metadata, source=os.fspath(path), file_format='xy')


def _local(tag: str) -> str:
    return tag.rsplit('}', 1)[-1]


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    if element is None:
        return []
    return [child for child in element if _local(child.tag) == name]


def _floats(path: str | os.PathLike[str] | None, element: ET.Element, what: str) -> np.ndarray:
    text = (element.text or '').split()
    try:
        values = np.array(text, dtype=np.float64)
    except ValueError:
        bad = next(token for token in text if not _is_number(token))
        raise ParseError(path, f'<{what}> holds {bad[:40]!r}, which is not a number') from None
    return values


def _is_number(token: str) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


def read_xrdml(path: str | os.PathLike[str], *, scan: int | str = 0) -> Measurement:
    """A PANalytical/Malvern ``.xrdml`` file (XRDMeasurement schema 1.x or 2.x).

    Reads ``<positions axis="2Theta">`` (``startPosition``/``endPosition`` or ``listPositions``) and
    ``<counts>`` or ``<intensities>`` of a scan; counts are multiplied by
    ``<beamAttenuationFactors>`` when present. Metadata: ``wavelength_kalpha1_angstrom``,
    ``wavelength_kalpha2_angstrom``, ``kalpha2_kalpha1_ratio``, ``anode``, the scan's start time,
    ``counting_time_s``, ``sample_id``, ``instrument``, ``software``.

    :param scan: index of the scan to read (default the first), or ``'all'`` to concatenate every
        scan with ``loop_index`` numbering them.
    """
    raw = read_bytes(path)
    if not raw.strip():
        raise ParseError(path, 'the file is empty')
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, 'position', None) else None
        raise ParseError(path, f'is not well-formed XML: {exc}', line=line) from None
    except (LookupError, ValueError) as exc:  # e.g. an unknown encoding in the XML declaration
        raise ParseError(path, f'is not readable XML: {exc}') from None
    if _local(root.tag) != 'xrdMeasurements':
        raise ParseError(path, f'is XML but not XRDML (root element <{_local(root.tag)}>)')
    measurement = _child(root, 'xrdMeasurement')
    if measurement is None:
        raise ParseError(path, 'has no <xrdMeasurement> element')
    scans = _children(measurement, 'scan')
    if not scans:
        raise ParseError(path, 'has no <scan> element')
    if scan == 'all':
        chosen = list(range(len(scans)))
    elif isinstance(scan, int) and not isinstance(scan, bool) and -len(scans) <= scan < len(scans):
        chosen = [scan % len(scans)]
    else:
        raise ParseError(path, f"scan must be an index below {len(scans)} or 'all', not {scan!r}")
    two_theta_parts, intensity_parts, loops = [], [], []
    first_header: dict[str, Any] = {}
    for number in chosen:
        angles, counts, header = _read_scan(path, scans[number], number)
        two_theta_parts.append(angles)
        intensity_parts.append(counts)
        loops.append(np.full(angles.size, number, dtype=np.int64))
        if not first_header:
            first_header = header
    columns: dict[str, np.ndarray] = {
        'two_theta_deg': np.concatenate(two_theta_parts),
        'intensity_counts': np.concatenate(intensity_parts),
    }
    if len(chosen) > 1:
        columns['loop_index'] = np.concatenate(loops)
    metadata: dict[str, Any] = {
        'n_scans': len(scans),
        'scans_read': chosen,
        'technique_source': 'format (diffraction pattern)',
    }
    namespace = root.tag[1:].split('}')[0] if root.tag.startswith('{') else ''
    if namespace:
        metadata['xrdml_namespace'] = namespace
    metadata.update(first_header)
    wavelength = _child(measurement, 'usedWavelength')
    for name, key in (
        ('kAlpha1', 'wavelength_kalpha1_angstrom'),
        ('kAlpha2', 'wavelength_kalpha2_angstrom'),
        ('kBeta', 'wavelength_kbeta_angstrom'),
        ('ratioKAlpha2KAlpha1', 'kalpha2_kalpha1_ratio'),
    ):
        element = _child(wavelength, name)
        if element is not None and element.text and _is_number(element.text.strip()):
            value = float(element.text.strip())
            unit = element.get('unit', 'Angstrom')
            if key.endswith('_angstrom') and unit.lower() in ('nm', 'nanometer'):
                value *= 10.0
            metadata[key] = value
    if wavelength is not None and wavelength.get('intended'):
        metadata['wavelength_intended'] = wavelength.get('intended')
    tube = _child(_child(measurement, 'incidentBeamPath'), 'xRayTube')
    anode = _child(tube, 'anodeMaterial')
    if anode is not None and anode.text:
        metadata['anode'] = anode.text.strip()
    for name, key in (('tension', 'tube_voltage_kv'), ('current', 'tube_current_ma')):
        element = _child(tube, name)
        if element is not None and element.text and _is_number(element.text.strip()):
            metadata[key] = float(element.text.strip())
    sample = _child(root, 'sample')
    for name, key in (('id', 'sample_id'), ('name', 'sample_name')):
        element = _child(sample, name)
        if element is not None and element.text and element.text.strip():
            metadata[key] = element.text.strip()
    comments = [entry.text.strip() for entry in _children(_child(root, 'comment'), 'entry') if entry.text]
    if comments:
        metadata['comments'] = '\n'.join(comments)
    if measurement.get('measurementType'):
        metadata['measurement_type'] = measurement.get('measurementType')
    return Measurement('xrd', columns, metadata, source=os.fspath(path), file_format='panalytical-xrdml')


def _read_scan(
    path: str | os.PathLike[str] | None, scan: ET.Element, number: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    points = _child(scan, 'dataPoints')
    if points is None:
        raise ParseError(path, f'scan {number} has no <dataPoints>')
    counts_element = _child(points, 'intensities')
    if counts_element is None:
        counts_element = _child(points, 'counts')
    if counts_element is None:
        raise ParseError(path, f'scan {number} has neither <counts> nor <intensities>')
    counts = _floats(path, counts_element, _local(counts_element.tag))
    if counts.size == 0:
        raise ParseError(path, f'scan {number} holds no intensities')
    header: dict[str, Any] = {}
    attenuation = _child(points, 'beamAttenuationFactors')
    if attenuation is not None and _local(counts_element.tag) == 'counts':
        factors = _floats(path, attenuation, 'beamAttenuationFactors')
        if factors.size == counts.size:
            counts = counts * factors
            header['attenuation_applied'] = True
        elif factors.size:
            raise ParseError(path, f'scan {number}: {factors.size} attenuation factors for {counts.size} counts')
    axis = None
    for positions in _children(points, 'positions'):
        if positions.get('axis', '').lower() == '2theta':
            axis = positions
            break
    if axis is None:
        raise ParseError(path, f'scan {number} has no <positions axis="2Theta">')
    listed = _child(axis, 'listPositions')
    if listed is not None:
        angles = _floats(path, listed, 'listPositions')
        if angles.size != counts.size:
            raise ParseError(path, f'scan {number}: {angles.size} positions for {counts.size} intensities')
    else:
        start, end = _child(axis, 'startPosition'), _child(axis, 'endPosition')
        common = _child(axis, 'commonPosition')
        if start is not None and end is not None:
            first, last = _floats(path, start, 'startPosition'), _floats(path, end, 'endPosition')
            if first.size != 1 or last.size != 1:
                raise ParseError(path, f'scan {number}: start/end positions must each be one number')
            angles = np.linspace(first[0], last[0], counts.size)
        elif common is not None:
            raise ParseError(path, f'scan {number} does not move 2theta (a single commonPosition): not a 2theta scan')
        else:
            raise ParseError(path, f'scan {number}: the 2Theta axis gives neither start/end nor listed positions')
    unit = axis.get('unit', 'deg').lower()
    if unit in ('rad', 'radian', 'radians'):
        angles = np.rad2deg(angles)
    elif unit not in ('deg', 'degree', 'degrees', '°'):
        raise ParseError(path, f'scan {number}: unknown 2Theta unit {axis.get("unit")!r}')
    if not np.all(np.isfinite(angles)) or angles.min() < 0 or angles.max() > 180:
        raise ParseError(path, f'scan {number}: 2theta positions outside 0-180 degrees')
    time_element = _child(points, 'commonCountingTime')
    if time_element is not None and time_element.text and _is_number(time_element.text.strip()):
        header['counting_time_s'] = float(time_element.text.strip())
    if scan.get('scanAxis'):
        header['scan_axis'] = scan.get('scanAxis')
    if scan.get('mode'):
        header['scan_mode'] = scan.get('mode')
    if scan.get('status'):
        header['scan_status'] = scan.get('status')
    scan_header = _child(scan, 'header')
    stamp = _child(scan_header, 'startTimeStamp')
    if stamp is not None and stamp.text:
        try:
            header.update(timestamp_metadata(_dt.datetime.fromisoformat(stamp.text.strip())))
        except ValueError:
            header['start_time_text'] = stamp.text.strip()
    source = _child(scan_header, 'source')
    software = _child(source, 'applicationSoftware')
    if software is not None and software.text:
        header['software'] = software.text.strip()
        if software.get('version'):
            header['software_version'] = software.get('version')
    instrument = _child(source, 'instrumentID')
    if instrument is not None and instrument.text:
        header['instrument'] = instrument.text.strip()
    return angles, counts, header
