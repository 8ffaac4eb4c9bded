"""Export tables for colleagues without AiiDA: CSV or Parquet files in a folder, with an index.

``file_format='bdf'`` writes every cycling record as a Battery Data Format file (``.bdf.csv`` with its
``.metadata.json``: :func:`aiida_ssb.parsers.bdf.write_bdf`, ``Applied Pressure / Pa`` from the stack pressure);
the other tables are CSV.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd
from aiida import orm

from aiida_ssb.data.campaign import campaign_group
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.sample import load_sample
from aiida_ssb.exceptions import InputError
from aiida_ssb.outputs import check_output_folder, output_folder
from aiida_ssb.parsers.bdf import write_bdf
from aiida_ssb.query.index import INDEX_EXTRA
from aiida_ssb.query.records import measurements_of_cell
from aiida_ssb.query.tables import _Lineage, lineage_display

__all__ = ['export_tables', 'measurement_file_stem', 'tables_safe']


def _write(frame, path_stem: str, file_format: str) -> str:
    if file_format == 'parquet':
        try:
            import pyarrow  # noqa: F401 optional dependency (is it installed?)
        except ImportError:
            raise InputError(
                'Parquet export needs pyarrow: pip install aiida-ssb[parquet] (or use --format csv)'
            ) from None
        path = path_stem + '.parquet'
        _parquet_safe(frame).to_parquet(path, index=False)
    else:  # csv, and the tables of a bdf export
        path = path_stem + '.csv'
        frame.to_csv(path, index=False)
    return path


def _parquet_safe(frame):
    """A column holding text in some rows and numbers in others (a lineage column: ``90`` and ``'30; 90'``) as
    text throughout: Parquet columns have one type."""
    frame = frame.copy()
    for name in frame.columns:
        if frame[name].dtype == object:
            present = frame[name].notna()
            kinds = {type(value) for value in frame[name][present]}
            if str in kinds and len(kinds) > 1:
                frame[name] = [str(value) if known else None for value, known in zip(frame[name], present)]
    return frame


def _flatten(data: dict[str, Any], prefix: str = '') -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(_flatten(value, name + '.'))
        elif isinstance(value, list):
            flat[name] = json.dumps(value)
        else:
            flat[name] = value
    return flat


def export_tables(
    folder: str,
    *,
    sample_ids: list[str] | None = None,
    campaign: str | None = None,
    file_format: str = 'csv',
    force: bool = False,
) -> list[str]:
    """Write ``cells``, ``samples`` (with the upstream lab-step parameters, ``KIND.PARAMETER``), ``analyses``,
    ``cycles`` (:func:`~aiida_ssb.query.per_record.cycles`) and ``spectra``
    (:func:`~aiida_ssb.query.per_record.spectra`) tables and one table per measurement (its columns with
    unit-suffixed names) into ``folder``; ``index`` lists every file with what it holds. Returns the paths.

    The tables are written in a temporary folder and moved into ``folder`` at the end. An existing, non-empty
    ``folder`` is refused unless ``force`` (then files of the same name are replaced, others left alone). Every
    measurement gets a file of its own (:func:`measurement_file_stem`)."""

    if (sample_ids is None) == (campaign is None):
        raise InputError('give sample ids or a campaign to export')
    check_output_folder(folder, force=force)
    if campaign is not None:
        query = orm.QueryBuilder().append(orm.Group, filters={'id': campaign_group(campaign).pk}, tag='g')
        query.append((CellData, MaterialData), with_group='g', project='*')
        nodes = query.all(flat=True)
        if not nodes:
            raise InputError(f'the campaign {campaign!r} holds no samples')
    else:
        nodes = [load_sample(sample_id) for sample_id in sample_ids or ()]
    cells = [node for node in nodes if isinstance(node, CellData)]
    materials = [node for node in nodes if isinstance(node, MaterialData)]
    history = _Lineage()
    with output_folder(folder, force=force) as scratch:
        written = _Written(scratch, file_format)
        if cells:
            written.add(
                pd.DataFrame([_cell_row(cell) for cell in cells]), 'cells', 'cells: records and headline numbers'
            )
        if materials:
            written.add(
                pd.DataFrame([_material_row(m, history) for m in materials]),
                'samples',
                'samples: material batches, with the parameters of the lab steps upstream (KIND.PARAMETER)',
            )
        analysis_rows = []
        for cell in cells:
            for record in measurements_of_cell(cell):
                conditions = ', '.join(f'{k}={v}' for k, v in record.conditions.items())
                content = (
                    f'{cell.sample_id}: {record.technique} ({conditions}; raw file '
                    f'{record.base.attributes.get("source_filename", None)})'
                )
                stem = os.path.join('measurements', measurement_file_stem(cell.sample_id, record))
                if file_format == 'bdf' and record.base.attributes.get('kind') == 'cycling':
                    os.makedirs(os.path.join(scratch, 'measurements'), exist_ok=True)
                    written.add_file(_write_bdf(cell, record, os.path.join(scratch, stem)), content)
                else:
                    written.add(record.to_dataframe(), stem, content)
            analysis_rows.extend(_analysis_rows(cell))
        if analysis_rows:
            written.add(pd.DataFrame(analysis_rows), 'analyses', 'analyses: every analysis summary (one row each)')
        if cells:
            from aiida_ssb.query.per_record import cycles, spectra

            ids = [cell.sample_id for cell in cells]
            per_cycle = cycles(ids)
            if not per_cycle.empty:
                written.add(
                    per_cycle,
                    'cycles',
                    'cycles: one row per cycle of every analysed cycling record (aiida_ssb.query.cycles)',
                )
            per_spectrum = spectra(ids)
            if not per_spectrum.empty:
                written.add(
                    per_spectrum,
                    'spectra',
                    'spectra: one row per impedance spectrum, with its fit and conductivity (aiida_ssb.query.spectra)',
                )
        index = pd.DataFrame([{'file': name, 'content': content} for name, content in written.entries])
        index_name = _write(index, os.path.join(scratch, 'index'), file_format)
    names = [os.path.relpath(index_name, scratch)] + [name for name, _ in written.entries]
    return [os.path.join(folder, name) for name in names]


class _Written:
    """The files of one export, by relative name; two names that a case-insensitive file system would confuse
    are a bug, never a silent overwrite."""

    def __init__(self, root: str, file_format: str):
        self.root, self.file_format = root, file_format
        self.entries: list[tuple[str, str]] = []
        self._names: set[str] = {f'index.{file_format}'}

    def add(self, frame, stem: str, content: str) -> None:
        name = f'{stem}.{"parquet" if self.file_format == "parquet" else "csv"}'
        self._claim(name)
        os.makedirs(os.path.dirname(os.path.join(self.root, name)), exist_ok=True)
        _write(frame, os.path.join(self.root, stem), self.file_format)
        self.entries.append((name, content))

    def add_file(self, path: str, content: str) -> None:
        """A file written by another writer (a BDF record) inside the export folder."""
        name = os.path.relpath(path, self.root)
        self._claim(name)
        self.entries.append((name, content))

    def _claim(self, name: str) -> None:
        if name.casefold() in self._names:
            raise RuntimeError(f'export: two tables would be written to {name}')
        self._names.add(name.casefold())


def _cell_row(cell) -> dict[str, Any]:
    attributes = {
        key: value
        for key, value in cell.base.attributes.all.items()
        if key not in ('layers', 'fabrication', 'derived_keys')
    }
    row = {key: value for key, value in attributes.items() if not isinstance(value, (dict, list))}
    row['layers'] = json.dumps(cell.base.attributes.get('layers', []))
    for key, value in (cell.base.extras.get(INDEX_EXTRA, {}) or {}).items():
        if not isinstance(value, (dict, list)):
            row[key] = value
    return row


def _material_row(material, history: _Lineage) -> dict[str, Any]:
    """A material's attributes, its index numbers and, as ``KIND.PARAMETER`` (the lineage fields of the samples
    table), the scalar parameters of every lab step upstream: one value, or every value nearest first."""
    row = _flatten(dict(material.base.attributes.all.items()))
    for key, value in (material.base.extras.get(INDEX_EXTRA, {}) or {}).items():
        if not isinstance(value, (dict, list)):
            row[key] = value
    synthesis: dict[str, list[Any]] = {}
    for kind, steps in history.of(material).items():
        for parameters in steps:
            for key, value in parameters.items():
                if isinstance(value, (str, int, float, bool)):
                    synthesis.setdefault(f'{kind}.{key}', []).append(value)
    for name, values in synthesis.items():
        row[name] = lineage_display(values)
    return row


def _analysis_rows(cell) -> list[dict[str, Any]]:
    query = orm.QueryBuilder().append(
        orm.Dict,
        filters={'attributes.sample_id': cell.sample_id, 'attributes': {'has_key': 'analysis'}},
        project='*',
    )
    rows = []
    for (summary,) in query.iterall():
        row = {'uuid': summary.uuid, 'created': summary.ctime.isoformat()}
        row.update(_flatten(summary.get_dict()))
        rows.append(row)
    return rows


def _write_bdf(cell, record, stem: str) -> str:
    """A cycling record as a BDF file with its metadata (cell, conditions, settings, provenance)."""

    conditions = record.conditions
    pressure = conditions.get('stack_pressure_mpa', cell.base.attributes.get('stack_pressure_mpa', None))
    metadata = {
        'cell': {
            key: value
            for key, value in cell.base.attributes.all.items()
            if key
            in (
                'sample_id',
                'format',
                'electrode_area_cm2',
                'active_mass_mg',
                'mass_loading_mg_cm2',
                'one_c_current_ma',
                'stack_pressure_mpa',
            )
        },
        'conditions': conditions,
        'technique_settings': record.base.attributes.get('settings', {}),
        'aiida': {'node_uuid': record.uuid, 'node_class': record.__class__.__name__},
    }
    path, _ = write_bdf(record.to_measurement(), stem + '.bdf.csv', metadata=metadata, stack_pressure_mpa=pressure)
    return path


def tables_safe(text: str) -> str:
    """A readable file-name form of ``text`` (letters, digits, ``-``, ``_``, ``.``; anything else ``_``). Not
    injective on its own: :func:`measurement_file_stem` adds what makes each name unique."""
    return ''.join(c if (c.isascii() and c.isalnum()) or c in '-_.' else '_' for c in text).lstrip('.') or '_'


def measurement_file_stem(sample_id: str, record) -> str:
    """The file name (without extension) of one measurement in an export:
    ``<sample id>__<raw file name>[_part<N>]__<first 12 hex digits of the measurement's UUID>``.

    The readable parts say what it is; the UUID part makes the name unique: two records whose raw files share a
    name (``25C/PEIS_C01.mpt`` and ``40C/PEIS_C01.mpt``), or whose ids or names differ only in punctuation or
    case, get different names, also on case-insensitive file systems (the UUID part is lower-case hex)."""
    name = record.base.attributes.get('source_filename', None) or 'record'
    part = record.base.attributes.get('part_index', None)
    stem = f'{tables_safe(sample_id)[:60]}__{tables_safe(name)[:80]}'
    if part is not None:
        stem += f'_part{int(part)}'
    return f'{stem}__{record.uuid.replace("-", "")[:12]}'
