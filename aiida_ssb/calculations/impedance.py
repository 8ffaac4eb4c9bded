"""The impedance analyses as process functions: circuit fit (model choice), DRT, conductivity, Arrhenius, interface
growth, cell impedance."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_ssb.analysis.arrhenius import ArrheniusSettings, fit_arrhenius
from aiida_ssb.analysis.conductivity import ConductivitySettings, conductivity_of_spectrum, resistance_of_fit
from aiida_ssb.analysis.eis.cell_impedance import CellImpedanceSettings, cell_resistances
from aiida_ssb.analysis.eis.drt import DrtSettings, compute_drt
from aiida_ssb.analysis.eis.model import EisFitSettings, fit_spectrum
from aiida_ssb.analysis.growth import GrowthSettings, fit_parabolic_growth
from aiida_ssb.calculations.common import STATE_LABELS, clean, curves_node, failed, state_of
from aiida_ssb.exceptions import AnalysisError, InsufficientDataError, MissingInputError

__all__ = [
    'analyse_arrhenius',
    'analyse_cell_impedance',
    'analyse_conductivity',
    'analyse_drt',
    'analyse_eis_fit',
    'analyse_interface_growth',
    'cell_geometry',
    'resistance_from_fit',
]


def resistance_from_fit(fit: Mapping[str, Any], which: str) -> tuple[float, str]:
    """The resistance (ohm) a conductivity uses from a fit summary: a role (``bulk``, ``grain_boundary``...),
    ``bulk+grain_boundary``, ``total`` (every R), ``auto`` or element names joined by ``+``. Returns (value,
    elements); :func:`aiida_ssb.analysis.conductivity.resistance_of_fit` also gives its standard error."""
    value, names, _ = resistance_of_fit(fit, which)
    return value, names


def cell_geometry(cell: orm.Data | None) -> dict[str, float]:
    """``thickness_cm``, ``area_cm2`` of a cell's electrolyte (or separator) layer, and their stated standard
    uncertainties ``thickness_stderr_cm``, ``area_stderr_cm2`` where the manifest gave them (``500 um +- 10 um``;
    a diameter's uncertainty ``d`` gives ``A 2 d/D``). Unknown values are absent."""
    if cell is None:
        return {}
    attributes = cell.base.attributes.all
    out: dict[str, float] = {}
    layer = next((x for x in attributes.get('layers', []) if x.get('role') in ('electrolyte', 'separator')), None)
    area = attributes.get('electrode_area_cm2')
    diameter = attributes.get('diameter_mm')
    diameter_u = attributes.get('diameter_uncertainty_mm')
    area_u = attributes.get('area_uncertainty_cm2')
    if layer is not None:
        if layer.get('thickness_um') is not None:
            out['thickness_cm'] = layer['thickness_um'] * 1e-4
            if layer.get('thickness_uncertainty_um') is not None:
                out['thickness_stderr_cm'] = layer['thickness_uncertainty_um'] * 1e-4
        area = layer.get('area_cm2', layer.get('derived_area_cm2', area))
        if layer.get('diameter_mm') is not None:
            diameter, diameter_u = layer['diameter_mm'], layer.get('diameter_uncertainty_mm', diameter_u)
        area_u = layer.get('area_uncertainty_cm2', area_u)
    if area is not None:
        out['area_cm2'] = float(area)
        if area_u is not None:
            out['area_stderr_cm2'] = float(area_u)
        elif diameter_u is not None and diameter:
            out['area_stderr_cm2'] = float(area) * 2.0 * diameter_u / diameter
    return out


def _spectrum_state(spectrum: orm.Data) -> dict[str, Any]:
    """The labels a ``circuits`` selector can use: the conditions, ``label`` and ``file``."""
    attributes = spectrum.base.attributes.all
    state = {key: attributes[key] for key in STATE_LABELS if attributes.get(key) is not None}
    if spectrum.label:
        state['label'] = spectrum.label
    if attributes.get('source_filename'):
        state['file'] = attributes['source_filename']
    return state


@calcfunction
def analyse_eis_fit(spectrum: orm.ArrayData, options: orm.Dict, cell: orm.Data | None = None):
    """Equivalent-circuit fit of one spectrum with the circuit chosen from the evidence (or pinned), roles by
    physics, flags and the acceptance gate. With the cell, the candidate family and roles follow its format and
    geometry, and every resistance is also given area-normalised (ohm cm2, x electrode area)."""

    opts = EisFitSettings.resolve(options.get_dict())
    frequency, z = spectrum.impedance()
    geometry = cell_geometry(cell)
    cell_format = cell.base.attributes.get('format', None) if cell is not None else None
    try:
        result = fit_spectrum(
            frequency,
            z,
            cell_format=cell_format,
            state=_spectrum_state(spectrum),
            thickness_cm=geometry.get('thickness_cm'),
            area_cm2=geometry.get('area_cm2'),
            settings=opts,
        )
    except AnalysisError as exc:
        return failed(f'impedance fit failed: {exc}', exc)
    summary = result.to_dict()
    summary.update({'analysis': 'eis_fit', 'options': opts.parameters(), 'max_chi2_over_z': opts.max_chi2_over_z})
    summary.update(state_of(spectrum))
    if cell is not None:
        summary['sample_id'] = cell.base.attributes.get('sample_id', None)
        summary['cell_format'] = cell_format
        area = geometry.get('area_cm2')
        if area is not None:
            summary['area_cm2'] = area
            if 'area_stderr_cm2' in geometry:
                summary['area_stderr_cm2'] = geometry['area_stderr_cm2']
            for key in list(summary):
                if key.startswith('r') and key.endswith('_ohm') and key[1:-4].isalnum():
                    summary[f'{key}_cm2'] = summary[key] * area
    curves = result.arrays()
    curves['z_real_ohm'] = np.real(z)
    curves['z_imag_ohm'] = np.imag(z)
    curves['measured_frequency_hz'] = frequency
    return {'summary': orm.Dict(clean(summary)), 'curves': curves_node(curves)}


@calcfunction
def analyse_drt(spectrum: orm.ArrayData, options: orm.Dict):
    """The distribution of relaxation times of one spectrum (Tikhonov-regularised NNLS, lambda by GCV)."""

    opts = DrtSettings.resolve(options.get_dict())
    frequency, z = spectrum.impedance()
    try:
        result = compute_drt(frequency, z, settings=opts)
    except AnalysisError as exc:
        return failed(f'DRT failed: {exc}', exc)
    summary = result.to_dict()
    summary.update({'analysis': 'drt', 'options': opts.parameters()})
    summary.update(state_of(spectrum))
    sample = spectrum.base.attributes.get('sample_id', None)
    if sample:
        summary['sample_id'] = sample
    return {'summary': orm.Dict(clean(summary)), 'curves': curves_node(result.arrays())}


@calcfunction
def analyse_conductivity(
    spectrum: orm.ArrayData,
    cell: orm.Data,
    options: orm.Dict,
    fit: orm.Dict | None = None,
    electrolyte: orm.Data | None = None,
):
    """Ionic conductivity sigma = L / (R A) of one spectrum with its interval, L and A from the cell's
    electrolyte layer (or the options), R from the fitted resistance (by role), the high-frequency intercept or
    the plateau of the real conductivity. ``electrolyte`` links the result to the electrolyte material."""

    opts = ConductivitySettings.resolve(options.get_dict())
    geometry = cell_geometry(cell)
    frequency, z = spectrum.impedance()
    try:
        result = conductivity_of_spectrum(
            frequency,
            z,
            fit=fit.get_dict() if fit is not None else None,
            thickness_cm=geometry.get('thickness_cm'),
            area_cm2=geometry.get('area_cm2'),
            thickness_stderr_cm=geometry.get('thickness_stderr_cm'),
            area_stderr_cm2=geometry.get('area_stderr_cm2'),
            settings=opts,
        )
    except MissingInputError as exc:
        if 'thickness or area' in str(exc):
            return failed(
                f'cell {cell.base.attributes.get("sample_id")} lacks the electrolyte thickness or area '
                '(give them in the cell or as thickness_cm/area_cm2 options)',
                exc,
            )
        return failed(f'conductivity failed: {exc}', exc)
    except AnalysisError as exc:
        return failed(f'conductivity failed: {exc}', exc)
    summary = result.to_dict()
    summary.update({'analysis': 'conductivity', 'options': opts.parameters()})
    summary.update(state_of(spectrum))
    summary['sample_id'] = cell.base.attributes.get('sample_id', None)
    if electrolyte is not None:
        summary['electrolyte_sample_id'] = electrolyte.base.attributes.get('sample_id', None)
    return {'summary': orm.Dict(clean(summary))}


def _geometry_rel(node: Mapping[str, Any]) -> float:
    """The stated geometry's relative uncertainty of a conductivity summary (common to a pellet's spectra)."""
    parts = [node.get('conductivity_stderr_rel_thickness'), node.get('conductivity_stderr_rel_area')]
    return math.sqrt(sum(p * p for p in parts if p is not None))


@calcfunction
def analyse_arrhenius(options: orm.Dict, **conductivities: orm.Dict):
    """Arrhenius fit of the conductivities of one sample at several temperatures (each a conductivity summary
    holding ``conductivity_s_cm`` and ``measurement_temperature_c``; heating/cooling branches kept), regimes by
    evidence, weighted by the conductivities' fit errors, the geometry's uncertainty carried to the prefactor."""

    opts = ArrheniusSettings.resolve(options.get_dict())
    rows = []
    for _label, node in sorted(conductivities.items()):
        data = node.get_dict()
        if data.get('conductivity_s_cm') is None or data.get('measurement_temperature_c') is None:
            continue
        rows.append(data)
    if len(rows) < opts.min_points:
        return failed(
            f'{len(rows)} conductivities with a temperature: an Arrhenius fit needs at least {opts.min_points}',
            InsufficientDataError(),
        )
    temperature = np.array([row['measurement_temperature_c'] for row in rows], dtype=float)
    sigma = np.array([row['conductivity_s_cm'] for row in rows], dtype=float)
    fit_rel = [row.get('conductivity_stderr_rel_fit') for row in rows]
    stderr = np.array(fit_rel, dtype=float) if all(v is not None and v > 0 for v in fit_rel) else None
    branches = [row.get('measurement_branch') for row in rows]
    branch = np.array([b or 'heating' for b in branches]) if opts.separate_branches and any(branches) else None
    systematic = max(_geometry_rel(row) for row in rows)
    try:
        result = fit_arrhenius(
            temperature, sigma, stderr_rel=stderr, systematic_rel=systematic or None, branch=branch, settings=opts
        )
    except AnalysisError as exc:
        return failed(f'Arrhenius fit failed: {exc}', exc)
    summary = result.to_dict()
    summary.update({'analysis': 'arrhenius', 'options': opts.parameters(), 'n_conductivities': len(rows)})
    if stderr is None:
        summary['weights'] = 'none: not every conductivity carries a fit standard error'
    samples = {node.get('sample_id') for node in conductivities.values()}
    if len(samples) == 1:
        summary['sample_id'] = samples.pop()
    electrolytes = {node.get('electrolyte_sample_id') for node in conductivities.values()} - {None}
    if len(electrolytes) == 1:
        summary['electrolyte_sample_id'] = electrolytes.pop()
    curves = result.arrays()
    curves['measured_temperature_c'] = temperature
    curves['measured_conductivity_s_cm'] = sigma
    low = [row.get('conductivity_low_s_cm') for row in rows]
    high = [row.get('conductivity_high_s_cm') for row in rows]
    if all(v is not None for v in low + high):
        curves['measured_conductivity_low_s_cm'] = np.array(low, dtype=float)
        curves['measured_conductivity_high_s_cm'] = np.array(high, dtype=float)
    return {'summary': orm.Dict(clean(summary)), 'curves': curves_node(curves)}


@calcfunction
def analyse_interface_growth(options: orm.Dict, **fits: orm.Dict):
    """A fitted resistance of a cell's spectra against time, cycle index or upper cut-off (spectra whose fit has
    no such resistance, e.g. before the interphase formed, are listed, not counted); against time the parabolic
    growth law R(t) = R0 + k sqrt(t) (thesis chapter 8), weighted by the fits' standard errors, with intervals."""

    opts = GrowthSettings.resolve(options.get_dict())
    points, missing, area_rel = [], [], 0.0
    names = ''
    for label, node in sorted(fits.items()):
        data = node.get_dict()
        x = data.get(f'measurement_{opts.against}')
        if x is None:
            continue
        try:
            resistance, names_here, stderr = resistance_of_fit(data, opts.element)
        except MissingInputError as exc:
            missing.append(f'{label}: {exc}')
            continue
        names = names or names_here
        if opts.area_normalise:
            if data.get('area_cm2') is None:
                return failed(
                    'area_normalise needs the cell area in the fits (fit with the cell as input)', MissingInputError()
                )
            resistance *= data['area_cm2']
            stderr = None if stderr is None else stderr * data['area_cm2']
            if data.get('area_stderr_cm2'):
                area_rel = data['area_stderr_cm2'] / data['area_cm2']
        points.append((float(x), resistance, stderr))
    if len(points) < 2:
        detail = f' ({"; ".join(missing)})' if missing else ''
        return failed(
            f'fewer than two fits carry the state label {opts.against} and the resistance {opts.element!r}{detail}',
            InsufficientDataError(),
        )
    points.sort(key=lambda p: p[0])
    x = np.array([p[0] for p in points])
    r = np.array([p[1] for p in points])
    errors = [p[2] for p in points]
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
    if errors[-1] is not None:
        summary[f'last_resistance_stderr_{unit}'] = math.hypot(errors[-1], r[-1] * area_rel)
    if missing:
        summary['spectra_without_element'] = missing
    samples = {node.get('sample_id') for node in fits.values()} - {None}
    if len(samples) == 1:
        summary['sample_id'] = samples.pop()
    curves = {opts.against: x, f'resistance_{unit}': r}
    if all(e is not None for e in errors):
        curves[f'resistance_stderr_{unit}'] = np.array(errors, dtype=float)
    if opts.fit_law and opts.against == 'time_since_assembly_h':
        law_stderr = np.array(errors, dtype=float) if all(e is not None and e > 0 for e in errors) else None
        try:
            law = fit_parabolic_growth(x, r, stderr_ohm_cm2=law_stderr, systematic_rel=area_rel or None, settings=opts)
        except AnalysisError as exc:
            return failed(f'growth-law fit failed: {exc}', exc)
        summary.update(law.to_dict())
        t_fit = np.linspace(0.0, float(x.max()), 100)
        curves['fit_time_h'] = t_fit
        curves[f'fit_resistance_{unit}'] = law.predict(t_fit)
    return {'summary': orm.Dict(clean(summary)), 'curves': curves_node(curves)}


@calcfunction
def analyse_cell_impedance(spectrum: orm.ArrayData, fit: orm.Dict, cell: orm.Data, options: orm.Dict):
    """The resistances of a cell's spectrum by role (electrolyte, interfaces, interphases), area-specific, with
    intervals, and the electrolyte's conductivity from its resistance when the thickness is known."""

    opts = CellImpedanceSettings.resolve(options.get_dict())
    geometry = cell_geometry(cell)
    data = fit.get_dict()
    try:
        result = cell_resistances(
            data,
            area_cm2=geometry.get('area_cm2'),
            area_stderr_cm2=geometry.get('area_stderr_cm2'),
            thickness_cm=geometry.get('thickness_cm'),
            thickness_stderr_cm=geometry.get('thickness_stderr_cm'),
            settings=opts,
        )
    except AnalysisError as exc:
        return failed(f'cell impedance failed: {exc}', exc)
    summary = result.to_dict()
    summary.update(
        {
            'analysis': 'cell_impedance',
            'options': opts.parameters(),
            'fit_circuit': data.get('circuit'),
            'fit_quality': data.get('quality'),
            'fit_quality_reason': data.get('quality_reason'),
            'sample_id': cell.base.attributes.get('sample_id', None),
        }
    )
    summary.update(state_of(spectrum))
    return {'summary': orm.Dict(clean(summary))}
