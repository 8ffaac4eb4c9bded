"""Process functions of powder diffraction: the pattern analysis, and the record of an external Rietveld
refinement linked to the pattern it refined."""

from __future__ import annotations

import hashlib
from typing import Any

from aiida import orm
from aiida.engine import calcfunction
from pydantic import ValidationError

from aiida_ssb.analysis.diffraction import DiffractionSettings, analyse_pattern_measurement, reference_files
from aiida_ssb.analysis.settings import validation_message
from aiida_ssb.calculations.common import clean, curves_node, failed, run_function, state_of
from aiida_ssb.calculations.thermal import sample_identity
from aiida_ssb.data.index import index_materials
from aiida_ssb.exceptions import AnalysisError, InputError
from aiida_ssb.schemas.rietveld import RietveldResult

__all__ = ['analyse_diffraction', 'record_rietveld', 'run_record_rietveld']


@calcfunction
def analyse_diffraction(
    measurement: orm.ArrayData, sample: orm.Data, options: orm.Dict, electrolyte: orm.Data | None = None
):
    """Background, peaks, phase matching, lattice refinement and Scherrer sizes of one pattern (wavelength from
    the record unless the options give one). Reference CIF or pattern files are read by path; their SHA-256
    is stored with the result."""

    opts = DiffractionSettings.resolve(options.get_dict())
    checksums: dict[str, str] = {}
    for path in reference_files(opts):
        try:
            with open(path, 'rb') as handle:
                checksums[path] = hashlib.sha256(handle.read()).hexdigest()
        except OSError as exc:
            return failed(f'reference file {path}: {exc.strerror}', AnalysisError())
    try:
        result_object = analyse_pattern_measurement(measurement.to_measurement(), settings=opts)
    except (AnalysisError, InputError) as exc:
        return failed(f'diffraction analysis failed: {exc}', exc)
    result = result_object.to_dict()
    result.update({'analysis': 'diffraction', 'options': opts.parameters()})
    if checksums:
        result['reference_files_sha256'] = checksums
    result.update(sample_identity(sample, electrolyte))
    result.update(state_of(measurement))
    return {'summary': orm.Dict(clean(result)), 'curves': curves_node(result_object.arrays())}


@calcfunction
def record_rietveld(pattern: orm.ArrayData, result: orm.Dict):
    """The result of a Rietveld refinement made elsewhere (TOPAS, FullProf, GSAS-II...), validated
    (:class:`~aiida_ssb.schemas.rietveld.RietveldResult`) and linked to the pattern it refined. A record, never
    cached: two refinements of one pattern are two results."""

    record = RietveldResult.model_validate(result.get_dict())
    data: dict[str, Any] = record.model_dump(mode='json', exclude_none=True)
    data['analysis'] = 'rietveld'
    sample_id = pattern.base.attributes.get('sample_id', None)
    if sample_id:
        data['sample_id'] = sample_id
        data['material_sample_id'] = sample_id
    main = max(record.phases, key=lambda phase: phase.weight_fraction or 0.0)
    data['main_phase'] = main.name
    for axis in ('a', 'b', 'c'):
        value = getattr(main, f'{axis}_angstrom')
        if value is not None:
            data[f'lattice_{axis}_angstrom'] = value
    data.update(state_of(pattern))
    return {'summary': orm.Dict(clean(data))}


def run_record_rietveld(pattern: orm.Data, values: dict[str, Any]) -> orm.Dict:
    """Validate ``values`` and record them against ``pattern`` (never from the cache); returns the stored Dict.
    Raises :class:`~aiida_ssb.exceptions.InputError` naming the bad field."""

    try:
        RietveldResult.model_validate(values)
    except ValidationError as exc:
        raise InputError(f'Rietveld result: {validation_message(exc)}') from None
    outputs, node = run_function(
        record_rietveld,
        {'disable_cache': True, 'label': f'rietveld {pattern.base.attributes.get("sample_id", "")}'},
        pattern=pattern,
        result=orm.Dict(values),
    )
    node.base.caching.is_valid_cache = False

    index_materials([outputs['summary']])
    return outputs['summary']
