"""``analyse_*``: the analyses as cacheable process functions.

Each takes the measurement node(s), the measured cell or material where geometry or masses matter, and an
``options`` Dict (validated by :mod:`aiida_ssb.schemas.analysis`); it returns a ``summary`` Dict (flat,
unit-suffixed numbers: the method, every parameter, the quality metrics) and, where there are curves, a
``curves`` :class:`~aiida_ssb.data.arrays.CurvesData`. Since every input that changes a result is a node, a re-analysis with the same
inputs can come from the cache, and a changed option gives a new, separate result.

Analyses that cannot run on their input (a one-directional record for a cycling summary, a spectrum that
cannot be fitted) finish with a non-zero exit status and a message, never with a made-up number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import ExitCode, calcfunction

from aiida_ssb.data.arrays import CurvesData
from aiida_ssb.exceptions import AnalysisError, InsufficientDataError, MissingInputError

__all__ = [
    'ANALYSIS_FAILED',
    'analyse_arrhenius',
    'analyse_ccd',
    'analyse_conductivity',
    'analyse_cycling',
    'analyse_eis_fit',
    'analyse_interface_growth',
    'analyse_onsets',
    'analyse_stepwise_cv',
    'cell_masses_mg',
    'resistance_from_fit',
    'rising_cutoffs',
    'run_analysis',
    'working_electrode_of',
]

#: exit status of an analysis that cannot produce a result from its input
ANALYSIS_FAILED = 300


def _failed(message: str, error: BaseException | None = None) -> ExitCode:
    """The exit code of a failed analysis: the status of the error's kind (see :mod:`aiida_ssb.exceptions`:
    310 too little data, 320 settings, 330 not converged, 340 a missing input), else 300."""
    status = error.exit_status if isinstance(error, AnalysisError) else ANALYSIS_FAILED
    return ExitCode(status, message)


def _curves(arrays: Mapping[str, np.ndarray]) -> CurvesData:
    node = CurvesData()
    for name, values in arrays.items():
        values = np.asarray(values)
        if values.dtype.kind in 'OUS':  # strings/objects cannot be stored as .npy without pickle
            values = values.astype(str).astype('U')
        node.set_array(name, values)
    return node


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, non-finite floats dropped (unknown is absent)."""
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            cleaned = _clean(item)
            if cleaned is not None:
                result[str(key)] = cleaned
        return result
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def cell_masses_mg(cell: orm.Data, bases: list[str]) -> dict[str, float]:
    """Masses of the requested normalisation bases, from the cell's stated and derived values.

    ``active``: active material of the positive layer; ``composite``: the positive layer; ``electrolyte``:
    the electrolyte/separator layer; ``cell``: every layer with a stated mass. Bases whose mass is unknown
    are left out."""
    attributes = cell.base.attributes.all
    available = {
        'active': attributes.get('active_mass_mg'),
        'composite': attributes.get('positive_mass_mg'),
        'electrolyte': attributes.get('electrolyte_mass_mg'),
    }
    layer_masses = [layer['mass_mg'] for layer in attributes.get('layers', []) if 'mass_mg' in layer]
    if layer_masses:
        available['cell'] = float(sum(layer_masses))
    return {basis: float(available[basis]) for basis in bases if available.get(basis)}


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
        return _failed(f'cycling analysis failed: {exc}', exc)
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
    return {'summary': orm.Dict(_clean(result)), 'curves': _curves(summary.arrays())}


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
        return _failed(
            f'cell {attributes.get("sample_id")} has no electrode area: a CCD needs current densities',
            MissingInputError(),
        )
    try:
        result_object = critical_current_density_measurement(measurement.to_measurement(), area, **opts.kwargs())
    except CcdError as exc:
        return _failed(f'CCD analysis failed: {exc}', exc)
    result = result_object.to_dict()
    result.update(
        {'analysis': 'ccd', 'sample_id': attributes.get('sample_id'), 'options': opts.parameters(), 'area_cm2': area}
    )
    return {'summary': orm.Dict(_clean(result)), 'curves': _curves(result_object.arrays())}


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
    from aiida_ssb.analysis.voltammetry import OnsetSettings, VoltammetryError, find_onsets_in_measurement

    opts = OnsetSettings.resolve(options.get_dict())
    attributes = cell.base.attributes.all
    conditions = measurement.base.attributes.all
    kwargs = opts.kwargs()
    area = attributes.get('electrode_area_cm2')
    if area is not None:
        kwargs['area_cm2'] = area
    if conditions.get('scan_rate_mv_s') is not None:
        kwargs['scan_rate_mv_s'] = conditions['scan_rate_mv_s']
    if working_electrode is not None:
        kwargs['working_electrode'] = working_electrode.get_dict()
    try:
        analysis = find_onsets_in_measurement(measurement.to_measurement(), **kwargs)
    except VoltammetryError as exc:
        return _failed(f'onset analysis failed: {exc}', exc)
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
    return {'summary': orm.Dict(_clean(result)), 'curves': _curves(analysis.arrays())}


def rising_cutoffs(measurement: orm.ArrayData, min_steps: int = 3, tolerance_v: float = 0.01) -> list[float]:
    """The upper cut-offs of a voltammogram when they rise step by step over at least ``min_steps`` levels (a
    stepwise CV, seed 000), else an empty list."""
    from aiida_ssb.analysis.voltammetry import VoltammetryError, segment_sweeps

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
    from aiida_ssb.analysis.voltammetry import StepwiseCvSettings, VoltammetryError
    from aiida_ssb.analysis.voltammetry import analyse_stepwise_cv as stepwise

    opts = StepwiseCvSettings.resolve(options.get_dict())
    attributes = measurement.base.attributes.all
    kwargs = {
        'soar_factor': opts.soar_factor,
        'reference_steps': opts.reference_steps,
        'confirm_steps': opts.confirm_steps,
    }
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
        return _failed(f'stepwise CV analysis failed: {exc}', exc)
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
    summary.update(_state_of(measurement))
    return {'summary': orm.Dict(_clean(summary)), 'curves': _curves(result.arrays())}


def working_electrode_of(cell: orm.Data) -> dict[str, Any] | None:
    """The working-electrode description of a stability cell, from the graph: the working (or positive) layer's
    mass, its carbon mass fraction (flattened composition), the carbon's density and BET surface area and the
    electrolyte's density, where the materials record them. None when the cell has no such layer."""
    from aiida_ssb.data.sample import find_sample

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


def run_analysis(function, label: str, **inputs) -> tuple[dict, orm.ProcessNode]:
    """Run an analyse_* function, returning (outputs, process node); a failed analysis raises ValueError
    with its message (the failed process stays in the graph, as the record of the attempt)."""
    outputs, node = function.run_get_node(metadata={'label': label}, **inputs)
    if not node.is_finished_ok:
        raise AnalysisError(f'{label}: {node.exit_message or node.process_state}')
    return outputs, node


# ------------------------------------------------------------------------------------------------ impedance
_STATE_LABELS = (
    'temperature_c',
    'branch',
    'cycle_index',
    'upper_cutoff_v',
    'time_since_assembly_h',
    'state',
    'stack_pressure_mpa',
)


def _state_of(measurement: orm.Data) -> dict[str, Any]:
    attributes = measurement.base.attributes.all
    return {f'measurement_{key}': attributes[key] for key in _STATE_LABELS if attributes.get(key) is not None}


@calcfunction
def analyse_eis_fit(spectrum: orm.ArrayData, options: orm.Dict, cell: orm.Data | None = None):
    """Equivalent-circuit fit of one spectrum. With the cell, every resistance is also given area-normalised
    (ohm cm2, x electrode area). ``accepted`` applies the ``chi2/|Z|`` threshold."""
    from aiida_ssb.analysis.eis import Circuit, fit_circuit
    from aiida_ssb.analysis.eis.fit import FitSettings

    opts = FitSettings.resolve(options.get_dict())
    try:
        circuit = Circuit(opts.circuit)
    except ValueError as exc:
        return _failed(f'circuit {opts.circuit!r}: {exc}', exc)
    frequency, z = spectrum.impedance()
    kwargs: dict[str, Any] = {
        'weighting': opts.weighting,
        'seed': opts.seed,
        'roles': opts.roles or None,
        'fixed': opts.fixed or None,
        'initial': opts.initial,
    }
    if opts.n_starts is not None:
        kwargs['n_starts'] = opts.n_starts
    if opts.frequency_range_hz is not None:
        kwargs['frequency_range_hz'] = tuple(opts.frequency_range_hz)
    try:
        result = fit_circuit(circuit, frequency, z, **kwargs)
    except ValueError as exc:
        return _failed(f'impedance fit failed: {exc}', exc)
    summary = result.to_dict()
    summary.update(
        {
            'analysis': 'eis_fit',
            'options': opts.parameters(),
            'max_chi2_over_z': opts.max_chi2_over_z,
            'accepted': bool(result.success and result.chi2_over_z <= opts.max_chi2_over_z),
        }
    )
    summary.update(_state_of(spectrum))
    if cell is not None:
        summary['sample_id'] = cell.base.attributes.get('sample_id', None)
        area = cell.base.attributes.get('electrode_area_cm2', None)
        if area is not None:
            summary['area_cm2'] = area
            for key in circuit.parameter_keys:
                if key.endswith('_ohm') and key.startswith('r') and key in summary:
                    summary[f'{key}_cm2'] = summary[key] * area
    curves = result.arrays()
    curves['z_real_ohm'] = np.real(z)
    curves['z_imag_ohm'] = np.imag(z)
    curves['measured_frequency_hz'] = frequency
    return {'summary': orm.Dict(_clean(summary)), 'curves': _curves(curves)}


def resistance_from_fit(fit: Mapping[str, Any], which: str) -> tuple[float, str]:
    """The resistance (ohm) a conductivity uses from a fit summary: a role (``bulk``, ``grain_boundary``...),
    ``bulk+grain_boundary``, ``total`` (every R) or element names joined by ``+``. Returns (value, description)."""
    resistors = {
        key[: -len('_ohm')].upper(): value
        for key, value in fit.items()
        if key.startswith('r') and key.endswith('_ohm') and '_stderr' not in key and key[1:-4].isalnum()
    }
    roles = {key[len('role_') :].upper(): value for key, value in fit.items() if key.startswith('role_')}
    if which == 'total':
        names = sorted(resistors)
    else:
        names = []
        for part in which.split('+'):
            part = part.strip()
            by_role = [name for name, role in roles.items() if role == part and name in resistors]
            if by_role:
                names.extend(by_role)
            elif part.upper() in resistors:
                names.append(part.upper())
            else:
                known = ', '.join(sorted(resistors)) + (
                    f'; roles: {", ".join(f"{k}={v}" for k, v in roles.items())}' if roles else ''
                )
                raise MissingInputError(f'the fit has no resistance {part!r} (resistances: {known})')
    return float(sum(resistors[name] for name in names)), '+'.join(names)


def _arc_frequency_hz(fit: Mapping[str, Any], element: str) -> float | None:
    """Characteristic frequency of the p(R,CPE) arc holding resistor ``element``: 1/(2 pi (R Q)^(1/alpha)),
    computed in logarithms (a degenerate fit with alpha near 0 gives an infinite or zero frequency)."""
    index = element[1:]
    r = fit.get(f'r{index}_ohm'.lower())
    q = fit.get(f'cpe{index}_q_s_sa')
    alpha = fit.get(f'cpe{index}_alpha')
    if r and q and alpha and r * q > 0:
        log_f = -np.log(2.0 * np.pi) - np.log(r * q) / alpha
        return float(np.exp(min(log_f, 700.0)))
    c = fit.get(f'c{index}_f')
    if r and c:
        return float(1.0 / (2.0 * np.pi * r * c))
    return None


@calcfunction
def analyse_conductivity(
    spectrum: orm.ArrayData,
    cell: orm.Data,
    options: orm.Dict,
    fit: orm.Dict | None = None,
    electrolyte: orm.Data | None = None,
):
    """Ionic conductivity sigma = L / (R A) from one spectrum, with L and A from the cell's electrolyte layer
    (or the options). R from a fitted resistance (``fit``), the high-frequency intercept, or the plateau of
    the real conductivity. ``electrolyte`` links the result to the electrolyte material."""
    from aiida_ssb.analysis.conductivity import (
        ConductivitySettings,
        conductivity_from_resistance,
        high_frequency_intercept,
        real_conductivity_plateau,
    )

    opts = ConductivitySettings.resolve(options.get_dict())
    thickness, area = cell.electrolyte_geometry() if hasattr(cell, 'electrolyte_geometry') else (None, None)
    thickness = opts.thickness_cm or thickness
    area = opts.area_cm2 or area or cell.base.attributes.get('electrode_area_cm2', None)
    if thickness is None or area is None:
        return _failed(
            f'cell {cell.base.attributes.get("sample_id")} lacks the electrolyte thickness or area '
            '(give them in the cell or as thickness_cm/area_cm2 options)',
            MissingInputError(),
        )
    frequency, z = spectrum.impedance()
    method = opts.method
    notes = []
    if method == 'auto':
        if fit is None:
            method = 'intercept'
            notes.append('no fit given: intercept')
        else:
            summary = fit.get_dict()
            try:
                _, names = resistance_from_fit(summary, opts.resistance)
            except ValueError as exc:
                return _failed(str(exc), exc)
            arc_frequencies = [_arc_frequency_hz(summary, name) for name in names.split('+')]
            beyond = any(f is not None and f > float(np.max(frequency)) for f in arc_frequencies)
            if not summary.get('accepted', False):
                method = 'intercept'
                notes.append(f'fit not accepted (chi2/|Z| {summary.get("chi2_over_z", float("nan")):.3g}): intercept')
            elif beyond:
                method = 'intercept'
                notes.append('the fitted arc lies above the highest measured frequency: intercept')
            else:
                method = 'fit'
    result: dict[str, Any] = {'analysis': 'conductivity', 'options': opts.parameters(), 'method_used': method}
    try:
        if method == 'fit':
            if fit is None:
                return _failed('method fit needs a fit input')
            resistance, names = resistance_from_fit(fit.get_dict(), opts.resistance)
            conductivity = conductivity_from_resistance(resistance, thickness, area, resistance_source=f'fit: {names}')
            result.update(conductivity.to_dict())
            result['fit_circuit'] = fit.get('circuit')
        elif method == 'intercept':
            intercept = high_frequency_intercept(frequency, z)
            conductivity = conductivity_from_resistance(
                intercept.resistance_ohm, thickness, area, resistance_source=f'intercept: {intercept.method}'
            )
            result.update(intercept.to_dict())
            result.update(conductivity.to_dict())
        else:
            plateau = real_conductivity_plateau(frequency, z, thickness, area)
            result.update(plateau.to_dict())
    except ValueError as exc:
        return _failed(f'conductivity failed: {exc}', exc)
    if notes:
        result['notes'] = notes
    result.update(_state_of(spectrum))
    result['sample_id'] = cell.base.attributes.get('sample_id', None)
    if electrolyte is not None:
        result['electrolyte_sample_id'] = electrolyte.base.attributes.get('sample_id', None)
    return {'summary': orm.Dict(_clean(result))}


@calcfunction
def analyse_arrhenius(options: orm.Dict, **conductivities: orm.Dict):
    """Arrhenius fit of the conductivities of one sample at several temperatures (each a conductivity
    summary holding ``conductivity_s_cm`` and ``measurement_temperature_c``; heating/cooling branches kept)."""
    from aiida_ssb.analysis.arrhenius import ArrheniusSettings, fit_arrhenius

    opts = ArrheniusSettings.resolve(options.get_dict())
    rows = []
    for label, node in sorted(conductivities.items()):
        data = node.get_dict()
        if data.get('conductivity_s_cm') is None or data.get('measurement_temperature_c') is None:
            continue
        rows.append((data['measurement_temperature_c'], data['conductivity_s_cm'], data.get('measurement_branch')))
    if len(rows) < opts.min_points:
        return _failed(
            f'{len(rows)} conductivities with a temperature: an Arrhenius fit needs at least {opts.min_points}',
            InsufficientDataError(),
        )
    temperature = np.array([row[0] for row in rows], dtype=float)
    sigma = np.array([row[1] for row in rows], dtype=float)
    branches = [row[2] for row in rows]
    branch = np.array([b or 'heating' for b in branches]) if opts.separate_branches and any(branches) else None
    try:
        result = fit_arrhenius(
            temperature,
            sigma,
            form=opts.form,
            split=opts.split,
            min_points=opts.min_points,
            windows=[tuple(w) for w in opts.windows] if opts.windows else None,
            branch=branch,
        )
    except ValueError as exc:
        return _failed(f'Arrhenius fit failed: {exc}', exc)
    summary = result.to_dict()
    summary.update({'analysis': 'arrhenius', 'options': opts.parameters(), 'n_conductivities': len(rows)})
    samples = {node.get('sample_id') for node in conductivities.values()}
    if len(samples) == 1:
        summary['sample_id'] = samples.pop()
    electrolytes = {node.get('electrolyte_sample_id') for node in conductivities.values()} - {None}
    if len(electrolytes) == 1:
        summary['electrolyte_sample_id'] = electrolytes.pop()
    curves = result.arrays()
    curves['measured_temperature_c'] = temperature
    curves['measured_conductivity_s_cm'] = sigma
    return {'summary': orm.Dict(_clean(summary)), 'curves': _curves(curves)}


@calcfunction
def analyse_interface_growth(options: orm.Dict, **fits: orm.Dict):
    """A fitted resistance of a cell's spectra against time, cycle index or upper cut-off; against time the
    parabolic growth law R(t) = R0 + k sqrt(t) (thesis chapter 8)."""
    from aiida_ssb.analysis.growth import GrowthSettings, fit_parabolic_growth

    opts = GrowthSettings.resolve(options.get_dict())
    points = []
    for label, node in sorted(fits.items()):
        data = node.get_dict()
        x = data.get(f'measurement_{opts.against}')
        if x is None:
            continue
        try:
            resistance, names = resistance_from_fit(data, opts.element)
        except ValueError as exc:
            return _failed(str(exc), exc)
        if opts.area_normalise:
            if data.get('area_cm2') is None:
                return _failed(
                    'area_normalise needs the cell area in the fits (fit with the cell as input)', MissingInputError()
                )
            resistance *= data['area_cm2']
        points.append((float(x), resistance))
    if len(points) < 2:
        return _failed(f'fewer than two fits carry the state label {opts.against}', InsufficientDataError())
    points.sort()
    x = np.array([p[0] for p in points])
    r = np.array([p[1] for p in points])
    unit = 'ohm_cm2' if opts.area_normalise else 'ohm'
    summary: dict[str, Any] = {
        'analysis': 'interface_growth',
        'options': opts.parameters(),
        'element': names,
        'against': opts.against,
        'n_points': len(points),
        f'first_resistance_{unit}': r[0],
        f'last_resistance_{unit}': r[-1],
    }
    samples = {node.get('sample_id') for node in fits.values()} - {None}
    if len(samples) == 1:
        summary['sample_id'] = samples.pop()
    curves = {opts.against: x, f'resistance_{unit}': r}
    if opts.fit_law and opts.against == 'time_since_assembly_h':
        try:
            law = fit_parabolic_growth(x, r, time_window_h=tuple(opts.time_window_h) if opts.time_window_h else None)
        except ValueError as exc:
            return _failed(f'growth-law fit failed: {exc}', exc)
        summary.update(law.to_dict())
        t_fit = np.linspace(0.0, float(x.max()), 100)
        curves['fit_time_h'] = t_fit
        curves[f'fit_resistance_{unit}'] = law.predict(t_fit)
    return {'summary': orm.Dict(_clean(summary)), 'curves': _curves(curves)}
