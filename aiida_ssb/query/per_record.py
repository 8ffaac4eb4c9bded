"""Per-cycle and per-spectrum tables as pandas DataFrames: one row per cycle of every analysed cycling record,
one row per impedance spectrum, each row naming its cell, its record (file name, part, technique) and the
measurement conditions.

::

    from aiida_ssb.query import cycles, spectra

    cycles(['FC-01'])                 # cycle_index, discharge_capacity_mah_g_active, coulombic_efficiency_percent...
    spectra(campaign='seed000')       # temperature_c, frequency range, fit and conductivity of each spectrum

The per-cycle columns are those of the cycling analysis, with their units in their names and cellpy's
``cycle_index`` for the cycle number; :data:`CELLPY_NAMES` gives the column of cellpy's cycle summary that holds
the same quantity (cellpy leaves units out of its names).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aiida import orm

from aiida_ssb.data.campaign import campaign_group
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.index import INDEX_EXTRA
from aiida_ssb.data.measurements import ImpedanceSpectrumData
from aiida_ssb.exceptions import InputError
from aiida_ssb.query.catalogue import headline_source
from aiida_ssb.query.records import measurements_of_cell
from aiida_ssb.query.results import latest_results, measured_record

__all__ = ['CELLPY_NAMES', 'CYCLE_COLUMNS', 'SPECTRUM_COLUMNS', 'cycles', 'spectra']

#: our per-cycle column -> the column of cellpy's (1.x) cycle summary with the same quantity (cellpy leaves the
#: unit out of the name and says absolute, gravimetric or areal instead; ours carry the unit)
CELLPY_NAMES: dict[str, str] = {
    'cycle_index': 'cycle_index',
    'charge_capacity_mah': 'charge_capacity_absolute',
    'discharge_capacity_mah': 'discharge_capacity_absolute',
    'charge_capacity_mah_g_active': 'charge_capacity_gravimetric',
    'discharge_capacity_mah_g_active': 'discharge_capacity_gravimetric',
    'charge_capacity_mah_cm2': 'charge_capacity_areal',
    'discharge_capacity_mah_cm2': 'discharge_capacity_areal',
    'coulombic_efficiency_percent': 'coulombic_efficiency',
    'cumulative_charge_capacity_mah': 'cumulated_charge_capacity_absolute',
    'cumulative_discharge_capacity_mah': 'cumulated_discharge_capacity_absolute',
    'charge_c_rate': 'charge_c_rate',
    'discharge_c_rate': 'discharge_c_rate',
    'start_time_s': 'test_time (of the cycle start)',
}

#: the columns that name a row's cell, record and analysis (before the measured values)
_RECORD_COLUMNS = ('sample_id', 'record', 'record_part', 'technique', 'record_uuid')

#: per-cycle columns: name -> meaning (the cycling analysis's cycle table; the mass bases vary with the cell)
CYCLE_COLUMNS: dict[str, str] = {
    'sample_id': 'the cell',
    'record': 'file name of the cycling record',
    'record_part': 'part of the file (several records in one file), else empty',
    'technique': 'technique of the record',
    'record_uuid': 'uuid of the measurement node',
    'temperature_c': 'measurement temperature (a condition of the record; other conditions follow it)',
    'analysis_uuid': 'uuid of the cycling summary the rows come from (the newest for this record)',
    'headline': "true for the record whose numbers are the cell's headline numbers (cells table)",
    'cycle_index': 'cycle number (counted as the cell summary says: first half cycle, formation...)',
    'is_reference_cycle': 'true for the reference cycle of the retention and of the reference-cycle headline numbers',
    'complete': 'the cycle has a charge and a discharge and nothing truncated',
    'charge_capacity_mah': 'charge capacity',
    'discharge_capacity_mah': 'discharge capacity',
    'charge_capacity_mah_g_active': 'charge capacity per active mass (other mass bases: _composite, ...)',
    'discharge_capacity_mah_g_active': 'discharge capacity per active mass',
    'coulombic_efficiency_percent': 'coulombic efficiency (orientation: the cell summary conventions)',
    'energy_efficiency_percent': 'discharge energy / charge energy',
    'capacity_retention_percent': 'discharge capacity against the reference cycle',
    'energy_retention_percent': 'discharge energy against the reference cycle',
    'average_charge_voltage_v': 'charge energy / charge capacity',
    'average_discharge_voltage_v': 'discharge energy / discharge capacity',
    'upper_voltage_v': 'highest voltage in the cycle',
    'lower_voltage_v': 'lowest voltage in the cycle',
    'charge_c_rate': 'C-rate of the constant-current charge',
    'discharge_c_rate': 'C-rate of the constant-current discharge',
    'start_time_s': 'time of the start of the cycle from the start of the record',
    'end_time_s': 'time of its end',
}

#: per-spectrum columns: name -> meaning
SPECTRUM_COLUMNS: dict[str, str] = {
    'sample_id': 'the cell (or material)',
    'record': 'file name of the spectrum',
    'record_part': 'its index in a file of several spectra, else empty',
    'technique': 'technique of the record',
    'record_uuid': 'uuid of the measurement node',
    'temperature_c': 'measurement temperature (a condition; other conditions follow it)',
    'n_points': 'number of frequencies',
    'frequency_min_hz': 'lowest frequency',
    'frequency_max_hz': 'highest frequency',
    'fit_circuit': 'equivalent circuit of the newest fit of this spectrum',
    'fit_quality': 'good, flagged or rejected',
    'fit_chi2_over_z': 'chi-squared of the fit over |Z|',
    'fit_r1_ohm': 'resistances of the fit (r1_ohm, r2_ohm..., area-specific fit_r1_ohm_cm2...)',
    'conductivity_s_cm': 'ionic conductivity of the newest conductivity analysis of this spectrum',
    'resistance_ohm': 'the electrolyte resistance it used',
    'area_specific_resistance_ohm_cm2': 'resistance x area',
    'thickness_cm': 'electrolyte thickness it used',
    'area_cm2': 'area it used',
    'conductivity_method': 'intercept, fit...',
}


def _nodes(sample_ids: Sequence[str] | None, campaign: str | None, classes: tuple[type, ...]) -> list[orm.Data]:
    from aiida_ssb.data.material import MaterialData
    from aiida_ssb.data.sample import load_sample

    if sample_ids is not None and campaign is not None:
        raise InputError('give sample ids or a campaign, not both')
    if sample_ids is not None:
        return [load_sample(sample_id) for sample_id in sample_ids]
    query = orm.QueryBuilder()
    if campaign is not None:
        query.append(orm.Group, filters={'id': campaign_group(campaign).pk}, tag='group')
        query.append(classes, with_group='group', project='*')
    else:
        query.append(classes, project='*')
    found = {node.pk: node for node in query.all(flat=True) if isinstance(node, (CellData, MaterialData))}
    return sorted(found.values(), key=lambda node: node.base.attributes.get('sample_id', ''))


def _record_values(sample_id: str, record) -> dict[str, Any]:
    attributes = record.base.attributes
    row: dict[str, Any] = {
        'sample_id': sample_id,
        'record': attributes.get('source_filename', None),
    }
    if attributes.get('part_index', None) is not None:
        row['record_part'] = attributes.get('part_index', None)
    row['technique'] = attributes.get('technique', None)
    row['record_uuid'] = record.uuid
    for key, value in record.conditions.items():
        if value is None or isinstance(value, (str, int, float, bool)):
            row[key] = value
    return row


def _frame(rows: list[dict[str, Any]], first: Iterable[str]):
    import pandas as pd

    columns: list[str] = []
    for name in first:
        if any(name in row for row in rows):
            columns.append(name)
    for row in rows:
        columns.extend(name for name in row if name not in columns)
    return pd.DataFrame(rows, columns=columns)


def cycles(sample_ids: Sequence[str] | None = None, *, campaign: str | None = None):
    """One row per cycle of every analysed cycling record of the cells (all cells, those of ``sample_ids`` or of
    a ``campaign``), from the newest cycling analysis of each record, in cell, record and cycle order.

    Columns (:data:`CYCLE_COLUMNS`): the cell, the record (file name, part, technique, uuid), its conditions
    (``temperature_c``, ``c_rate``...), the analysis it comes from, ``headline`` (whether that record gives the
    cell's headline numbers), ``cycle_index``, ``is_reference_cycle``, then every per-cycle quantity of the
    cycling analysis with its unit in its name (``discharge_capacity_mah_g_active``,
    ``coulombic_efficiency_percent``, ``capacity_retention_percent``...). Names follow cellpy's summary where it
    has the same quantity (:data:`CELLPY_NAMES`). An empty DataFrame when no record was analysed."""
    rows: list[dict[str, Any]] = []
    for node in _nodes(sample_ids, campaign, (CellData,)):
        sample_id = node.base.attributes.get('sample_id', None)
        headline = headline_source(node.base.extras.get(INDEX_EXTRA, {}) or {}, 'n_cycles')
        seen: set[str] = set()
        per_record = []
        for result in latest_results(sample_id, 'cycling'):  # newest first: the first of each record is kept
            record = measured_record(result)
            if record is None or record.uuid in seen or result.curves is None:
                continue
            seen.add(record.uuid)
            per_record.append((record, result))
        for record, result in sorted(per_record, key=lambda item: item[0].ctime):
            rows.extend(_cycle_rows(sample_id, record, result, headline))
    return _frame(rows, CYCLE_COLUMNS)


def _cycle_rows(sample_id: str, record, result, headline_source: str | None) -> list[dict[str, Any]]:
    import numpy as np

    curves = result.curves
    names = [name for name in curves.get_arraynames() if name.startswith('cycle__')]
    if 'cycle__cycle' not in names:
        return []
    arrays = {name[len('cycle__') :]: curves.get_array(name) for name in names}
    summary = result.summary
    reference = summary.get('reference_cycle', None)
    base = _record_values(sample_id, record)
    base['analysis_uuid'] = summary.uuid
    base['headline'] = headline_source == summary.uuid
    rows = []
    for position, cycle in enumerate(arrays.pop('cycle')):
        row = dict(base)
        row['cycle_index'] = int(cycle)
        row['is_reference_cycle'] = reference is not None and int(cycle) == int(reference)
        for name, values in arrays.items():
            if values.ndim != 1 or position >= values.size:
                continue  # per-cycle arrays only (a curve per state of charge is not a column)
            value = values[position].item()
            if name == 'complete':
                value = bool(value)
            elif isinstance(value, float) and not np.isfinite(value):
                value = None
            row[name] = value
        rows.append(row)
    return rows


def spectra(sample_ids: Sequence[str] | None = None, *, campaign: str | None = None):
    """One row per impedance spectrum of the cells (all cells, those of ``sample_ids``, which may be materials
    too, or of a ``campaign``), in cell and time order: the record (file name, part, technique, uuid), its
    conditions (``temperature_c``, ``branch``, ``cycle_index``, ``upper_cutoff_v``, ``time_since_assembly_h``...),
    the frequency range, and the newest results of that spectrum: the equivalent-circuit fit (``fit_circuit``,
    ``fit_quality``, ``fit_chi2_over_z``, resistances ``fit_r1_ohm``...) and the conductivity
    (``conductivity_s_cm``, ``resistance_ohm``, ``area_cm2``, ``thickness_cm``...). :data:`SPECTRUM_COLUMNS`."""
    from aiida_ssb.data.material import MaterialData

    rows: list[dict[str, Any]] = []
    for node in _nodes(sample_ids, campaign, (CellData, MaterialData)):
        sample_id = node.base.attributes.get('sample_id', None)
        records = measurements_of_cell(node, (ImpedanceSpectrumData,))
        if not records:
            continue
        fits = _newest_by_record(sample_id, 'eis_fit')
        conductivities = _newest_by_record(sample_id, 'conductivity')
        for record in records:
            row = _record_values(sample_id, record)
            frequency = record.get_array('frequency_hz') if 'frequency_hz' in record.get_arraynames() else None
            row['n_points'] = record.base.attributes.get('n_rows', None)
            if frequency is not None and frequency.size:
                row['frequency_min_hz'] = float(frequency.min())
                row['frequency_max_hz'] = float(frequency.max())
            fit = fits.get(record.uuid)
            if fit is not None:
                row['fit_circuit'] = fit.get('circuit')
                row['fit_quality'] = fit.get('quality')
                row['fit_chi2_over_z'] = fit.get('chi2_over_z')
                for key, value in fit.items():
                    if key[:1] == 'r' and key[1:2].isdigit() and isinstance(value, (int, float)):
                        row[f'fit_{key}'] = value
            conductivity = conductivities.get(record.uuid)
            if conductivity is not None:
                for key in (
                    'conductivity_s_cm',
                    'resistance_ohm',
                    'area_specific_resistance_ohm_cm2',
                    'thickness_cm',
                    'area_cm2',
                ):
                    row[key] = conductivity.get(key)
                row['conductivity_method'] = conductivity.get('method_used')
            rows.append(row)
    return _frame(rows, SPECTRUM_COLUMNS)


def _newest_by_record(sample_id: str, analysis: str) -> dict[str, dict[str, Any]]:
    """record uuid -> the newest summary of ``analysis`` run on it."""
    found: dict[str, dict[str, Any]] = {}
    for result in latest_results(sample_id, analysis):  # newest first
        record = measured_record(result)
        if record is not None and record.uuid not in found:
            found[record.uuid] = result.summary.get_dict()
    return found
