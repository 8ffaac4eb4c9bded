"""Export tables for colleagues without AiiDA: CSV or Parquet files in a folder, with an index.

``file_format='bdf'`` writes every cycling record as a Battery Data Format file (``.bdf.csv`` with its
``.metadata.json``: :func:`aiida_ssb.parsers.bdf.write_bdf`, ``Applied Pressure / Pa`` from the stack pressure);
the other tables are CSV.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aiida import orm

from aiida_ssb.exceptions import InputError

__all__ = ['export_tables']


def _write(frame, path_stem: str, file_format: str) -> str:
    if file_format == 'parquet':
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError(
                'Parquet export needs pyarrow: pip install aiida-ssb[parquet] (or use --format csv)'
            ) from None
        path = path_stem + '.parquet'
        frame.to_parquet(path, index=False)
    else:  # csv, and the tables of a bdf export
        path = path_stem + '.csv'
        frame.to_csv(path, index=False)
    return path


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
    folder: str, *, sample_ids: list[str] | None = None, campaign: str | None = None, file_format: str = 'csv'
) -> list[str]:
    """Write ``cells``, ``samples`` and ``analyses`` tables and one table per measurement (its columns with
    unit-suffixed names) into ``folder``; ``index`` lists every file with what it holds. Returns the paths."""
    import pandas as pd

    from aiida_ssb.data.cell import CellData
    from aiida_ssb.data.material import MaterialData
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.query.cells import measurement_label, measurements_of_cell
    from aiida_ssb.query.index import INDEX_EXTRA

    if (sample_ids is None) == (campaign is None):
        raise InputError('give sample ids or a campaign to export')
    os.makedirs(folder, exist_ok=True)
    if campaign is not None:
        query = orm.QueryBuilder().append(orm.Group, filters={'label': campaign, 'type_string': 'core'}, tag='g')
        query.append((CellData, MaterialData), with_group='g', project='*')
        nodes = query.all(flat=True)
        if not nodes:
            raise InputError(f'no campaign {campaign!r}, or it holds no samples')
    else:
        nodes = [load_sample(sample_id) for sample_id in sample_ids]
    cells = [node for node in nodes if isinstance(node, CellData)]
    materials = [node for node in nodes if isinstance(node, MaterialData)]
    written: list[tuple[str, str]] = []
    if cells:
        rows = []
        for cell in cells:
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
            rows.append(row)
        written.append(
            (
                _write(pd.DataFrame(rows), os.path.join(folder, 'cells'), file_format),
                'cells: records and headline numbers',
            )
        )
    if materials:
        rows = []
        for material in materials:
            row = _flatten(dict(material.base.attributes.all.items()))
            for key, value in (material.base.extras.get(INDEX_EXTRA, {}) or {}).items():
                if not isinstance(value, (dict, list)):
                    row[key] = value
            rows.append(row)
        written.append(
            (_write(pd.DataFrame(rows), os.path.join(folder, 'samples'), file_format), 'samples: material batches')
        )
    analysis_rows = []
    measurement_folder = os.path.join(folder, 'measurements')
    for cell in cells:
        for record in measurements_of_cell(cell):
            os.makedirs(measurement_folder, exist_ok=True)
            stem = os.path.join(measurement_folder, f'{tables_safe(cell.sample_id)}__{measurement_label(record)}')
            if file_format == 'bdf' and record.base.attributes.get('kind') == 'cycling':
                path = _write_bdf(cell, record, stem)
            else:
                path = _write(record.to_dataframe(), stem, file_format)
            conditions = ', '.join(f'{k}={v}' for k, v in record.conditions.items())
            written.append((path, f'{cell.sample_id}: {record.technique} ({conditions})'))
        query = orm.QueryBuilder().append(
            orm.Dict,
            filters={'attributes.sample_id': cell.sample_id, 'attributes': {'has_key': 'analysis'}},
            project='*',
        )
        for (summary,) in query.iterall():
            row = {'uuid': summary.uuid, 'created': summary.ctime.isoformat()}
            row.update(_flatten(summary.get_dict()))
            analysis_rows.append(row)
    if analysis_rows:
        written.append(
            (
                _write(pd.DataFrame(analysis_rows), os.path.join(folder, 'analyses'), file_format),
                'analyses: every analysis summary (one row each)',
            )
        )
    index = pd.DataFrame([{'file': os.path.relpath(path, folder), 'content': content} for path, content in written])
    index_path = _write(index, os.path.join(folder, 'index'), file_format)
    return [index_path] + [path for path, _ in written]


def _write_bdf(cell, record, stem: str) -> str:
    """A cycling record as a BDF file with its metadata (cell, conditions, settings, provenance)."""
    from aiida_ssb.parsers.bdf import write_bdf

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
    return ''.join(c if c.isalnum() or c in '-_.' else '_' for c in text)
