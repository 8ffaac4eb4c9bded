"""The voltammetry analyses as process functions: onsets (with the working-electrode checks) and stepwise CV."""

from __future__ import annotations

from typing import Any

from aiida import orm
from aiida.engine import calcfunction

from aiida_ssb.analysis.voltammetry import (
    OnsetSettings,
    StepwiseCvSettings,
    VoltammetryError,
    find_onsets_in_measurement,
    segment_sweeps,
)
from aiida_ssb.analysis.voltammetry import analyse_stepwise_cv as stepwise
from aiida_ssb.calculations.common import (
    clean,
    curves_node,
    failed,
    state_of,
)
from aiida_ssb.data.sample import find_sample
from aiida_ssb.exceptions import SettingsError

__all__ = ['analyse_onsets', 'analyse_stepwise_cv', 'rising_cutoffs', 'working_electrode_of']


@calcfunction
def analyse_onsets(
    measurement: orm.ArrayData,
    cell: orm.Data,
    options: orm.Dict,
    working_electrode: orm.Dict | None = None,
    electrolyte: orm.Data | None = None,
):
    """Oxidative/reductive stability onsets of a voltammogram (two-line intersection by default), with the
    working-electrode validity flags. ``electrolyte`` (the electrolyte material under test) links the result
    to that material as well as to the cell."""

    try:
        opts = OnsetSettings.resolve(options.get_dict())
    except SettingsError as exc:
        return failed(f'onset analysis failed: {exc}', exc)
    attributes = cell.base.attributes.all
    conditions = measurement.base.attributes.all
    kwargs: dict[str, Any] = {'settings': opts}
    area = attributes.get('electrode_area_cm2')
    if area is not None:
        kwargs['area_cm2'] = area
    if conditions.get('scan_rate_mv_s') is not None:
        kwargs['scan_rate_mv_s'] = conditions['scan_rate_mv_s']
    if working_electrode is not None:
        kwargs['working_electrode'] = working_electrode.get_dict()
    try:
        analysis = find_onsets_in_measurement(measurement.to_measurement(), **kwargs)
    except (VoltammetryError, SettingsError) as exc:
        return failed(f'onset analysis failed: {exc}', exc)
    result = analysis.to_dict()
    result.update({'analysis': 'onsets', 'sample_id': attributes.get('sample_id'), 'options': opts.parameters()})
    if electrolyte is not None:
        result['electrolyte_sample_id'] = electrolyte.base.attributes.get('sample_id', None)
    if working_electrode is not None:
        result['working_electrode'] = working_electrode.get_dict()
    for key in ('temperature_c', 'cycle_index', 'upper_cutoff_v'):
        if conditions.get(key) is not None:
            result[f'measurement_{key}'] = conditions[key]
    if area is not None:
        result['area_cm2'] = area
    return {'summary': orm.Dict(clean(result)), 'curves': curves_node(analysis.arrays())}


def rising_cutoffs(measurement: orm.ArrayData, min_steps: int = 3, tolerance_v: float = 0.01) -> list[float]:
    """The upper cut-offs of a voltammogram when they rise step by step over at least ``min_steps`` levels (a
    stepwise CV, seed 000), else an empty list."""

    potential = measurement.column('voltage_v')
    time = measurement.column('time_s') if measurement.has_column('time_s') else None
    try:
        sweeps = segment_sweeps(potential, time_s=time)
    except VoltammetryError:
        return []
    vertices = [max(s.potential_start_v, s.potential_end_v) for s in sweeps if s.direction == 'anodic']
    levels: list[float] = []
    for vertex in vertices:
        if not levels or vertex > levels[-1] + tolerance_v:
            levels.append(vertex)
        elif vertex < levels[-1] - tolerance_v:
            return []  # the cut-off went down: not a stepwise protocol
    return levels if len(levels) >= min_steps else []


@calcfunction
def analyse_stepwise_cv(
    measurement: orm.ArrayData, cell: orm.Data, options: orm.Dict, electrolyte: orm.Data | None = None
):
    """A stepwise CV (upper cut-off raised step by step): per step the anodic charge, the cathodic charge on the
    reverse scan, the passivation below the previous cut-off, and the cut-off at which the anodic current soars."""

    try:
        opts = StepwiseCvSettings.resolve(options.get_dict())
    except SettingsError as exc:
        return failed(f'stepwise CV analysis failed: {exc}', exc)
    attributes = measurement.base.attributes.all
    kwargs: dict[str, Any] = {'settings': opts}
    if attributes.get('scan_rate_mv_s') is not None:
        kwargs['scan_rate_mv_s'] = attributes['scan_rate_mv_s']
    try:
        result = stepwise(
            measurement.column('voltage_v'),
            measurement.column('current_ma'),
            time_s=measurement.column('time_s') if measurement.has_column('time_s') else None,
            **kwargs,
        )
    except VoltammetryError as exc:
        return failed(f'stepwise CV analysis failed: {exc}', exc)
    summary = result.to_dict()
    summary.update(
        {
            'analysis': 'stepwise_cv',
            'options': opts.parameters(),
            'sample_id': cell.base.attributes.get('sample_id', None),
        }
    )
    if electrolyte is not None:
        summary['electrolyte_sample_id'] = electrolyte.base.attributes.get('sample_id', None)
    summary.update(state_of(measurement))
    return {'summary': orm.Dict(clean(summary)), 'curves': curves_node(result.arrays())}


def working_electrode_of(cell: orm.Data) -> dict[str, Any] | None:
    """The working-electrode description of a stability cell, from the graph: the working (or positive) layer's
    mass, its carbon mass fraction (flattened composition), the carbon's density and BET surface area and the
    electrolyte's density, where the materials record them. None when the cell has no such layer."""

    layers = cell.base.attributes.get('layers', [])
    layer = next((layer for layer in layers if layer['role'] == 'working'), None) or next(
        (layer for layer in layers if layer['role'] == 'positive'), None
    )
    if layer is None:
        return None
    description: dict[str, Any] = {}
    if layer.get('mass_mg') is not None:
        description['composite_mass_mg'] = layer['mass_mg']
    material = find_sample(layer['material'])
    if material is None:
        return description or None
    flat = material.base.attributes.get('composition_flat', None) or []
    carbons = [item for item in flat if item.get('role') == 'carbon']
    electrolytes = [item for item in flat if item.get('role') == 'electrolyte']
    if flat:
        description['carbon_mass_fraction'] = float(sum(item['fraction'] for item in carbons))
    if carbons:
        carbon = find_sample(carbons[0]['material'])
        if carbon is not None:
            get = carbon.base.attributes.all.get
            description['carbon_name'] = get('name') or carbon.base.attributes.get('sample_id')
            for key, kind in (
                ('bulk_density_g_cm3', 'bulk'),
                ('tap_density_g_cm3', 'tap'),
                ('theoretical_density_g_cm3', 'skeletal'),
            ):
                if get(key):
                    description['carbon_density_g_cm3'] = get(key)
                    description['carbon_density_kind'] = kind
                    break
            if get('specific_surface_area_m2_g'):
                description['carbon_bet_m2_g'] = get('specific_surface_area_m2_g')
    if electrolytes:
        electrolyte = find_sample(electrolytes[0]['material'])
        if electrolyte is not None:
            density = electrolyte.base.attributes.all.get('theoretical_density_g_cm3')
            if density:
                description['electrolyte_density_g_cm3'] = density
    return description or None
