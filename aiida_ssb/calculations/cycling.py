"""The cycling analyses as process functions: the cycling summary of a record and the CCD of a symmetric cell."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_ssb.calculations.common import (
    cell_masses_mg,
    clean,
    curves_node,
    failed,
)
from aiida_ssb.exceptions import MissingInputError

__all__ = ['analyse_ccd', 'analyse_cycling']


@calcfunction
def analyse_cycling(measurement: orm.ArrayData, cell: orm.Data, options: orm.Dict):
    """Cycling summary: half-cycle and cycle tables, retention against the chosen reference, protocol blocks,
    rate table. Masses (per basis), electrode area and 1C current come from ``cell``."""
    from aiida_ssb.analysis.cycling import CyclingError, CyclingSettings, summarise_measurement

    opts = CyclingSettings.resolve(options.get_dict())
    attributes = cell.base.attributes.all
    masses = cell_masses_mg(cell, opts.mass_bases)
    kwargs = opts.kwargs()
    kwargs.pop('mass_bases')  # which masses are taken from the cell, not a setting of the summary itself
    kwargs['reference'] = opts.reference_rule()
    try:
        summary = summarise_measurement(
            measurement.to_measurement(),
            masses_mg=masses or None,
            area_cm2=attributes.get('electrode_area_cm2'),
            one_c_ma=attributes.get('one_c_current_ma'),
            **kwargs,
        )
    except CyclingError as exc:
        return failed(f'cycling analysis failed: {exc}', exc)
    result = summary.to_dict()
    result.update(
        {
            'analysis': 'cycling',
            'sample_id': attributes.get('sample_id'),
            'options': opts.parameters(),
            'masses_mg': masses,
        }
    )
    if attributes.get('electrode_area_cm2') is not None:
        result['area_cm2'] = attributes['electrode_area_cm2']
    if attributes.get('one_c_current_ma') is not None:
        result['one_c_current_ma'] = attributes['one_c_current_ma']
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
    """Critical current density of a symmetric cell by the sudden-drop and the 0 V criteria."""
    from aiida_ssb.analysis.ccd import CcdError, CcdSettings, critical_current_density_measurement

    opts = CcdSettings.resolve(options.get_dict())
    attributes = cell.base.attributes.all
    area = attributes.get('electrode_area_cm2') or attributes.get('area_cm2')
    if area is None:
        return failed(
            f'cell {attributes.get("sample_id")} has no electrode area: a CCD needs current densities',
            MissingInputError(),
        )
    try:
        result_object = critical_current_density_measurement(measurement.to_measurement(), area, **opts.kwargs())
    except CcdError as exc:
        return failed(f'CCD analysis failed: {exc}', exc)
    result = result_object.to_dict()
    result.update(
        {'analysis': 'ccd', 'sample_id': attributes.get('sample_id'), 'options': opts.parameters(), 'area_cm2': area}
    )
    return {'summary': orm.Dict(clean(result)), 'curves': curves_node(result_object.arrays())}
