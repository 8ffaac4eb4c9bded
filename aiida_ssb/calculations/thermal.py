"""Process function of the thermal analysis (DSC/TGA/STA) of a material or a pellet."""

from __future__ import annotations

from aiida import orm
from aiida.engine import calcfunction

from aiida_ssb.analysis.thermal import ThermalSettings, thermal_analysis_measurement
from aiida_ssb.calculations.common import clean, curves_node, failed, state_of
from aiida_ssb.data.material import MaterialData
from aiida_ssb.exceptions import AnalysisError

__all__ = ['analyse_thermal', 'sample_identity']


def sample_identity(sample: orm.Data, electrolyte: orm.Data | None = None) -> dict[str, str]:
    """``sample_id`` of the measured sample, and ``material_sample_id``: the sample itself when it is a material
    (the material index takes the result), else the given electrolyte (a pellet's material)."""

    out = {'sample_id': sample.base.attributes.get('sample_id', None)}
    if isinstance(sample, MaterialData):
        out['material_sample_id'] = out['sample_id']
    elif electrolyte is not None:
        out['material_sample_id'] = electrolyte.base.attributes.get('sample_id', None)
    return {key: value for key, value in out.items() if value}


@calcfunction
def analyse_thermal(
    measurement: orm.ArrayData, sample: orm.Data, options: orm.Dict, electrolyte: orm.Data | None = None
):
    """DSC peaks with tangent onsets and enthalpies, TGA mass-loss steps and heating/cooling transitions of a
    thermal record; sample mass, heating rate and heat-flow sign from the record's metadata."""

    opts = ThermalSettings.resolve(options.get_dict())
    try:
        result_object = thermal_analysis_measurement(measurement.to_measurement(), settings=opts)
    except AnalysisError as exc:
        return failed(f'thermal analysis failed: {exc}', exc)
    result = result_object.to_dict()
    result.update({'analysis': 'thermal', 'options': opts.parameters()})
    result.update(sample_identity(sample, electrolyte))
    result.update(state_of(measurement))
    result['measurement_technique'] = measurement.base.attributes.get('technique', None)
    metadata = measurement.base.attributes.get('metadata', {}) or {}
    for key in ('sample_mass_mg', 'heating_rate_k_min', 'heat_flow_sign', 'instrument'):
        if metadata.get(key) is not None:
            result[f'record_{key}'] = metadata[key]
    return {'summary': orm.Dict(clean(result)), 'curves': curves_node(result_object.arrays())}
