"""The cycling analyses as process functions: the cycling summary of a record and the CCD of a symmetric cell."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_ssb.analysis.ccd import CcdError, CcdSettings, critical_current_density_measurement
from aiida_ssb.analysis.cycling import CyclingError, CyclingSettings, summarise_measurement
from aiida_ssb.analysis.cycling.balance import np_ratio_measured
from aiida_ssb.calculations.common import clean, curves_node, failed
from aiida_ssb.exceptions import MissingInputError

__all__ = ['analyse_ccd', 'analyse_cycling']


@calcfunction
def analyse_cycling(
    measurement: orm.ArrayData,
    cell: orm.Data,
    options: orm.Dict,
    positive_half_cell: orm.Dict | None = None,
    negative_half_cell: orm.Dict | None = None,
):
    """Cycling summary: half-cycle and cycle tables, retention against the chosen reference, protocol blocks,
    rate table, the papers' derived quantities and plausibility flags. The conventions (which half cycle opens a
    cycle, the CE orientation, the capacity and C-rate electrode), masses (per basis), electrode area and 1C
    current come from ``cell``; a three-electrode cell's record is analysed for the full cell and for each
    electrode. ``positive_half_cell``/``negative_half_cell``: cycling summaries of half cells of the full cell's
    electrode materials, for the measured N/P ratio."""

    opts = CyclingSettings.resolve(options.get_dict())
    attributes = dict(cell.base.attributes.all)
    balance: dict = {}
    if attributes.get('cell_kind') in ('full_cell', 'three_electrode_cell'):
        balance = np_ratio_measured(
            attributes,
            positive_half_cell.get_dict() if positive_half_cell is not None else None,
            negative_half_cell.get_dict() if negative_half_cell is not None else None,
        )
        if 'np_ratio_measured' in balance:
            attributes['np_ratio_measured'] = balance['np_ratio_measured']
    try:
        summary = summarise_measurement(measurement.to_measurement(), cell=attributes, settings=opts)
    except CyclingError as exc:
        return failed(f'cycling analysis failed: {exc}', exc)
    result = summary.to_dict()
    conventions = result['conventions']
    result.update(
        {
            'analysis': 'cycling',
            'sample_id': attributes.get('sample_id'),
            'options': opts.parameters(),
            'masses_mg': conventions.get('masses_mg', {}),
        }
    )
    result.update(balance)
    if attributes.get('np_ratio_theoretical') is not None:
        result['np_ratio_theoretical'] = attributes['np_ratio_theoretical']
    if conventions.get('area_cm2') is not None:
        result['area_cm2'] = conventions['area_cm2']
    if conventions.get('one_c_ma') is not None:
        result['one_c_current_ma'] = conventions['one_c_ma']
    for key in ('upper_cutoff_v', 'temperature_c', 'stack_pressure_mpa'):
        value = measurement.base.attributes.get(key, None)
        if value is not None:
            result[f'measurement_{key}'] = value
    result.update(_cutoffs(summary.arrays()))
    return {'summary': orm.Dict(clean(result)), 'curves': curves_node(summary.arrays())}


def _cutoffs(arrays: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Upper and lower cut-off voltages reached in the complete cycles (highest and lowest median over a block of
    cycles; rounded to 10 mV): ``max_upper_cutoff_v``, ``min_lower_cutoff_v``, and their medians."""
    complete = np.asarray(arrays.get('cycle__complete', []), dtype=bool)
    upper = np.asarray(arrays.get('cycle__upper_voltage_v', []), dtype=float)
    lower = np.asarray(arrays.get('cycle__lower_voltage_v', []), dtype=float)
    result: dict[str, float] = {}
    if complete.size and upper.size == complete.size and complete.any():
        values = upper[complete]
        result['median_upper_cutoff_v'] = round(float(np.nanmedian(values)), 2)
        result['max_upper_cutoff_v'] = round(float(np.nanmax(values)), 2)
    if complete.size and lower.size == complete.size and complete.any():
        values = lower[complete]
        result['median_lower_cutoff_v'] = round(float(np.nanmedian(values)), 2)
        result['min_lower_cutoff_v'] = round(float(np.nanmin(values)), 2)
    return result


@calcfunction
def analyse_ccd(measurement: orm.ArrayData, cell: orm.Data, options: orm.Dict):
    """Critical current density of a symmetric cell by the sudden-drop and the 0 V criteria, on the cell's
    electrode area (the smaller electrode contact), with the area-specific resistance per interface."""

    opts = CcdSettings.resolve(options.get_dict())
    attributes = cell.base.attributes.all
    area = attributes.get('electrode_area_cm2') or attributes.get('area_cm2')
    if area is None:
        return failed(
            f'cell {attributes.get("sample_id")} has no electrode area: a CCD needs current densities',
            MissingInputError(),
        )
    rule = attributes.get('electrode_area_rule') if attributes.get('electrode_area_cm2') else 'the cell area'
    try:
        result_object = critical_current_density_measurement(
            measurement.to_measurement(),
            area,
            area_rule=rule,
            n_interfaces=attributes.get('n_interfaces', 2),
            settings=opts,
        )
    except CcdError as exc:
        return failed(f'CCD analysis failed: {exc}', exc)
    result = result_object.to_dict()
    result.update({'analysis': 'ccd', 'sample_id': attributes.get('sample_id'), 'options': opts.parameters()})
    return {'summary': orm.Dict(clean(result)), 'curves': curves_node(result_object.arrays())}
