"""The impedance analyses as process functions: circuit fit, conductivity, Arrhenius, interface growth."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_ssb.calculations.common import (
    clean,
    curves_node,
    failed,
    state_of,
)
from aiida_ssb.exceptions import InsufficientDataError, MissingInputError

__all__ = [
    'analyse_arrhenius',
    'analyse_conductivity',
    'analyse_eis_fit',
    'analyse_interface_growth',
    'resistance_from_fit',
]


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
        return failed(f'circuit {opts.circuit!r}: {exc}', exc)
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
        return failed(f'impedance fit failed: {exc}', exc)
    summary = result.to_dict()
    summary.update(
        {
            'analysis': 'eis_fit',
            'options': opts.parameters(),
            'max_chi2_over_z': opts.max_chi2_over_z,
            'accepted': bool(result.success and result.chi2_over_z <= opts.max_chi2_over_z),
        }
    )
    summary.update(state_of(spectrum))
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
    return {'summary': orm.Dict(clean(summary)), 'curves': curves_node(curves)}


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
        return failed(
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
                return failed(str(exc), exc)
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
                return failed('method fit needs a fit input')
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
        return failed(f'conductivity failed: {exc}', exc)
    if notes:
        result['notes'] = notes
    result.update(state_of(spectrum))
    result['sample_id'] = cell.base.attributes.get('sample_id', None)
    if electrolyte is not None:
        result['electrolyte_sample_id'] = electrolyte.base.attributes.get('sample_id', None)
    return {'summary': orm.Dict(clean(result))}


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
        return failed(
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
        return failed(f'Arrhenius fit failed: {exc}', exc)
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
    return {'summary': orm.Dict(clean(summary)), 'curves': curves_node(curves)}


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
            return failed(str(exc), exc)
        if opts.area_normalise:
            if data.get('area_cm2') is None:
                return failed(
                    'area_normalise needs the cell area in the fits (fit with the cell as input)', MissingInputError()
                )
            resistance *= data['area_cm2']
        points.append((float(x), resistance))
    if len(points) < 2:
        return failed(f'fewer than two fits carry the state label {opts.against}', InsufficientDataError())
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
            return failed(f'growth-law fit failed: {exc}', exc)
        summary.update(law.to_dict())
        t_fit = np.linspace(0.0, float(x.max()), 100)
        curves['fit_time_h'] = t_fit
        curves[f'fit_resistance_{unit}'] = law.predict(t_fit)
    return {'summary': orm.Dict(clean(summary)), 'curves': curves_node(curves)}
