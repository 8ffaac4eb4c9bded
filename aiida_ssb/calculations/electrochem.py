"""Process functions of the electrochemical analyses of issue 21: incremental capacity (dQ/dV), GITT, PITT,
electronic conductivity by DC polarisation and the Bruce-Vincent transference number."""

from __future__ import annotations

from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_ssb.analysis import gitt as module
from aiida_ssb.analysis.conductivity import high_frequency_intercept
from aiida_ssb.analysis.dqdv import DqdvSettings, incremental_capacity_measurement
from aiida_ssb.analysis.polarisation import (
    DcPolarisationSettings,
    TransferenceSettings,
    electronic_conductivity_measurement,
    transference_number_measurement,
)
from aiida_ssb.calculations.common import cell_masses_mg, clean, curves_node, failed, state_of
from aiida_ssb.calculations.impedance import resistance_from_fit
from aiida_ssb.exceptions import AnalysisError

__all__ = [
    'analyse_dc_polarisation',
    'analyse_dqdv',
    'analyse_gitt',
    'analyse_pitt',
    'analyse_transference_number',
    'spectrum_resistances',
]


def _identity(result: dict[str, Any], name: str, options: Any, cell: orm.Data, measurement: orm.Data) -> None:
    result.update(
        {'analysis': name, 'options': options.parameters(), 'sample_id': cell.base.attributes.get('sample_id')}
    )
    result.update(state_of(measurement))
    result['measurement_technique'] = measurement.base.attributes.get('technique', None)


@calcfunction
def analyse_dqdv(measurement: orm.ArrayData, cell: orm.Data, options: orm.Dict):
    """dQ/dV and dV/dQ of every half cycle, their peaks and the peak tracks; capacities also per gram of active
    material when the cell gives the active mass."""

    opts = DqdvSettings.resolve(options.get_dict())
    masses = cell_masses_mg(cell, ['active'])
    try:
        result_object = incremental_capacity_measurement(
            measurement.to_measurement(), mass_mg=masses.get('active'), settings=opts
        )
    except AnalysisError as exc:
        return failed(f'dQ/dV failed: {exc}', exc)
    result = result_object.to_dict()
    _identity(result, 'dqdv', opts, cell, measurement)
    return {'summary': orm.Dict(clean(result)), 'curves': curves_node(result_object.arrays())}


def _titration(kind: str, measurement: orm.Data, cell: orm.Data, options: orm.Dict):
    settings_type = module.GittSettings if kind == 'gitt' else module.PittSettings
    function = module.gitt_measurement if kind == 'gitt' else module.pitt_measurement
    opts = settings_type.resolve(options.get_dict())
    attributes = cell.base.attributes.all
    masses = cell_masses_mg(cell, ['active'])
    try:
        result_object = function(
            measurement.to_measurement(),
            active_mass_mg=masses.get('active'),
            area_cm2=attributes.get('electrode_area_cm2'),
            settings=opts,
        )
    except AnalysisError as exc:
        return failed(f'{kind.upper()} failed: {exc}', exc)
    result = result_object.to_dict()
    _identity(result, kind, opts, cell, measurement)
    return {'summary': orm.Dict(clean(result)), 'curves': curves_node(result_object.arrays())}


@calcfunction
def analyse_gitt(measurement: orm.ArrayData, cell: orm.Data, options: orm.Dict):
    """Weppner-Huggins diffusion coefficient of every GITT pulse (active mass and area from the cell)."""
    return _titration('gitt', measurement, cell, options)


@calcfunction
def analyse_pitt(measurement: orm.ArrayData, cell: orm.Data, options: orm.Dict):
    """Diffusion coefficient of every PITT step (active mass and area from the cell)."""
    return _titration('pitt', measurement, cell, options)


@calcfunction
def analyse_dc_polarisation(
    measurement: orm.ArrayData, cell: orm.Data, options: orm.Dict, electrolyte: orm.Data | None = None
):
    """Electronic conductivity sigma_e = I_ss L / (V A) of the potentiostatic holds of a cell with ion-blocking
    electrodes; L and A from the cell's electrolyte layer (or the options). ``electrolyte`` links the result to
    the electrolyte material (its index gets ``electronic_conductivity_s_cm``)."""

    opts = DcPolarisationSettings.resolve(options.get_dict())
    thickness, area = cell.electrolyte_geometry() if hasattr(cell, 'electrolyte_geometry') else (None, None)
    area = area or cell.base.attributes.get('electrode_area_cm2', None)
    try:
        result_object = electronic_conductivity_measurement(
            measurement.to_measurement(), thickness_cm=thickness, area_cm2=area, settings=opts
        )
    except AnalysisError as exc:
        return failed(f'DC polarisation failed: {exc}', exc)
    result = result_object.to_dict()
    _identity(result, 'dc_polarisation', opts, cell, measurement)
    if electrolyte is not None:
        result['electrolyte_sample_id'] = electrolyte.base.attributes.get('sample_id', None)
    return {'summary': orm.Dict(clean(result)), 'curves': curves_node(result_object.arrays())}


def spectrum_resistances(frequency_hz: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """(bulk, interface) resistances of a symmetric cell's spectrum without a fit: the high-frequency real-axis
    intercept, and the real-axis span of the arc up to the minimum of -Im Z that follows its apex on the
    low-frequency side (the spectrum's last point when the arc does not close)."""

    order = np.argsort(frequency_hz)[::-1]
    real, imag = np.real(z)[order], -np.imag(z)[order]
    bulk = float(high_frequency_intercept(frequency_hz, z).resistance_ohm)
    apex = int(np.argmax(imag))
    after = imag[apex:]
    minima = [k for k in range(1, after.size - 1) if after[k] <= after[k - 1] and after[k] <= after[k + 1]]
    end = apex + (minima[0] if minima else after.size - 1)
    return bulk, float(real[end] - bulk)


@calcfunction
def analyse_transference_number(
    measurement: orm.ArrayData,
    cell: orm.Data,
    options: orm.Dict,
    fit_before: orm.Dict | None = None,
    fit_after: orm.Dict | None = None,
    spectrum_before: orm.ArrayData | None = None,
    spectrum_after: orm.ArrayData | None = None,
    electrolyte: orm.Data | None = None,
):
    """Bruce-Vincent transference number of a symmetric cell's polarisation. The interfacial resistances before
    and after come from the accepted impedance fits (role ``interface``; bulk: role ``electrolyte``), else from
    the spectra's intercepts (:func:`spectrum_resistances`); without either, Evans' ratio (flagged)."""

    opts = TransferenceSettings.resolve(options.get_dict())
    resistances: dict[str, float] = {}
    sources = []
    for when, fit, spectrum in (('before', fit_before, spectrum_before), ('after', fit_after, spectrum_after)):
        if fit is not None and fit.get('accepted', False):
            try:
                resistances[f'interface_{when}'], names = resistance_from_fit(fit.get_dict(), 'interface')
                sources.append(f'{when}: fit {fit.get("circuit")} ({names})')
                if when == 'before':
                    resistances['bulk_before'], _ = resistance_from_fit(fit.get_dict(), 'electrolyte')
                continue
            except AnalysisError:
                pass
        if spectrum is not None:
            frequency, z = spectrum.impedance()
            bulk, interface = spectrum_resistances(frequency, z)
            resistances[f'interface_{when}'] = interface
            if when == 'before':
                resistances['bulk_before'] = bulk
            sources.append(f'{when}: spectrum intercepts')
    try:
        result_object = transference_number_measurement(
            measurement.to_measurement(),
            interface_resistance_before_ohm=resistances.get('interface_before'),
            interface_resistance_after_ohm=resistances.get('interface_after'),
            bulk_resistance_before_ohm=resistances.get('bulk_before'),
            resistance_source='; '.join(sources) or None,
            settings=opts,
        )
    except AnalysisError as exc:
        return failed(f'transference number failed: {exc}', exc)
    result = result_object.to_dict()
    _identity(result, 'transference_number', opts, cell, measurement)
    if electrolyte is not None:
        result['electrolyte_sample_id'] = electrolyte.base.attributes.get('sample_id', None)
    if 'interface_before' in resistances and 'interface_after' not in resistances:
        result['flags'].append({'flag': 'no_impedance_after', 'reason': 'no spectrum after the polarisation'})
    return {'summary': orm.Dict(clean(result)), 'curves': curves_node(result_object.arrays())}
