"""The query index (written here, beside the data it indexes; read by :mod:`aiida_ssb.query`): each cell's and each electrolyte's current headline numbers, copied into an extra.

The science lives in the provenance graph (analysis summaries, immutable). Filtering 10,000 cells by
retention or conductivity through provenance joins would be slow, so the *current* numbers are also
copied into the extra ``ssb`` of the cell (from its latest cell summary) and of the electrolyte material
(from the latest analyses linked to it). The extra names its sources, can always be rebuilt from the graph
(``aiida-ssb reindex``) and travels with archives. It is an index, never the record.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from aiida import orm

from aiida_ssb.data.cell import CellData
from aiida_ssb.data.sample import find_sample, register_samples

__all__ = ['INDEX_EXTRA', 'MATERIAL_FIELDS', 'index_cell', 'index_materials', 'latest_cell_summary', 'reindex']

INDEX_EXTRA = 'ssb'

#: material index field -> description (the samples-table columns filled by analyses)
MATERIAL_FIELDS: dict[str, str] = {
    'conductivity_25c_s_cm': 'ionic conductivity at 25 °C (Arrhenius interpolation or a spectrum at 25 ± 3 °C)',
    'conductivity_s_cm': 'the latest conductivity recorded at any temperature (see conductivity_temperature_c)',
    'conductivity_temperature_c': 'its temperature',
    'activation_energy_ev': 'activation energy of the headline Arrhenius regime',
    'arrhenius_form': 'sigma_t or sigma',
    'onset_v': 'first oxidative onset of the slowest scan (two-line method by default)',
    'reductive_onset_v': 'first reductive onset',
    'onset_method': 'method of the onset',
    'onset_scan_rate_mv_s': 'scan rate of the onset measurement',
    'onset_temperature_c': 'temperature of the onset measurement',
    'onset_cell': 'the stability cell the onset was measured in',
    'onset_carbon_mass_fraction': 'carbon mass fraction of its working electrode',
    'onset_flags': 'working-electrode validity flags that were not met',
    'electronic_conductivity_s_cm': 'electronic conductivity (DC polarisation with ion-blocking electrodes)',
    'electronic_conductivity_temperature_c': 'its temperature',
    'electronic_conductivity_cell': 'the cell it was measured in',
    'transference_number': 'cation transference number (Bruce-Vincent, or Evans when flagged)',
    'transference_number_method': 'bruce_vincent or evans',
    'dsc_onset_c': 'DSC: tangent onset of the first significant exotherm of the first heating',
    'dsc_peak_c': 'DSC: temperature of the largest exotherm',
    'dsc_peak_heat_flow_w_g': 'DSC: height of the largest exotherm (W/g)',
    'dsc_exotherm_j_g': 'DSC: total exothermic heat of the first heating (J/g)',
    'tga_mass_loss_percent': 'TGA: mass lost over the first heating',
    'tga_first_step_onset_c': 'TGA: tangent onset of the first mass-loss step',
    'xrd_phases': 'XRD: the reference phases found (comma separated)',
    'xrd_main_phase': 'XRD: the found phase with the largest intensity share',
    'lattice_a_angstrom': 'XRD: refined lattice parameter a of the main phase',
    'lattice_c_angstrom': 'XRD: refined lattice parameter c of the main phase',
    'crystallite_size_nm': 'XRD: Scherrer crystallite size of the main phase',
    'rietveld_rwp_percent': 'external Rietveld refinement: Rwp',
    'rietveld_phases': 'external Rietveld refinement: phases and weight fractions',
    'rietveld_lattice_a_angstrom': 'external Rietveld refinement: a of the main phase',
}

#: analysis -> (summary key -> material index field), the numbers of issue 21's analyses a material takes
_ISSUE21_FIELDS: dict[str, dict[str, str]] = {
    'dc_polarisation': {'electronic_conductivity_s_cm': 'electronic_conductivity_s_cm'},
    'transference_number': {'transference_number': 'transference_number', 'method': 'transference_number_method'},
    'thermal': {
        key: key
        for key in (
            'dsc_onset_c',
            'dsc_peak_c',
            'dsc_peak_heat_flow_w_g',
            'dsc_exotherm_j_g',
            'tga_mass_loss_percent',
            'tga_first_step_onset_c',
        )
    },
    'diffraction': {
        'main_phase': 'xrd_main_phase',
        'lattice_a_angstrom': 'lattice_a_angstrom',
        'lattice_c_angstrom': 'lattice_c_angstrom',
        'crystallite_size_nm': 'crystallite_size_nm',
    },
    'rietveld': {'rwp_percent': 'rietveld_rwp_percent', 'lattice_a_angstrom': 'rietveld_lattice_a_angstrom'},
}


def _take_issue21(entry: dict[str, Any], data: dict[str, Any], uuid: str) -> None:
    """The material index fields of a DC polarisation, transference, thermal, diffraction or Rietveld result."""
    analysis = data.get('analysis')
    for key, field in _ISSUE21_FIELDS.get(str(analysis), {}).items():
        if data.get(key) is not None:
            entry[field] = data[key]
            entry['sources'][field] = uuid
    if analysis == 'dc_polarisation' and data.get('electronic_conductivity_s_cm') is not None:
        entry['electronic_conductivity_temperature_c'] = data.get('measurement_temperature_c')
        entry['electronic_conductivity_cell'] = data.get('sample_id')
    if analysis == 'diffraction' and 'phases_found' in data:
        entry['xrd_phases'] = ','.join(data['phases_found']) or None
        entry['sources']['xrd_phases'] = uuid
    if analysis == 'rietveld':
        entry['rietveld_phases'] = ', '.join(
            f'{phase["name"]} {phase["weight_fraction"]:.3g}'
            if phase.get('weight_fraction') is not None
            else phase['name']
            for phase in data.get('phases', [])
        )
        entry['sources']['rietveld_phases'] = uuid


def index_cell(cell: orm.Node, summary: orm.Dict) -> dict[str, Any]:
    """Copy a cell summary's headline numbers into the cell's index extra."""
    data = summary.get_dict()
    entry = {key: value for key, value in data.items() if key not in ('sources', 'sample_id', 'n_summaries')}
    entry['summary_uuid'] = summary.uuid
    entry['indexed_unix_s'] = time.time()
    cell.base.extras.set(INDEX_EXTRA, entry)
    return entry


def _take_conductivity(entry: dict[str, Any], data: dict[str, Any], uuid: str) -> None:
    """A conductivity at any temperature; at 25 +- 3 degC it is also the conductivity at 25 degC."""
    temperature = data.get('measurement_temperature_c')
    entry['conductivity_s_cm'] = data['conductivity_s_cm']
    entry['conductivity_temperature_c'] = temperature
    entry['sources']['conductivity_s_cm'] = uuid
    if temperature is not None and abs(temperature - 25.0) <= 3.0:
        entry['conductivity_25c_s_cm'] = data['conductivity_s_cm']
        entry['sources']['conductivity_25c_s_cm'] = uuid


def _material_entries(summaries: Iterable[orm.Dict]) -> dict[str, dict[str, Any]]:
    """sample id of the electrolyte -> index values, from conductivity/Arrhenius/onset summaries (later wins)."""
    entries: dict[str, dict[str, Any]] = {}
    for node in sorted(summaries, key=lambda n: n.ctime):
        data = node.get_dict()
        sample_id = data.get('electrolyte_sample_id') or data.get('material_sample_id')
        if not sample_id:
            continue
        entry = entries.setdefault(sample_id, {'sources': {}})
        analysis = data.get('analysis')
        if analysis in _ISSUE21_FIELDS:
            _take_issue21(entry, data, node.uuid)
            continue
        if analysis == 'arrhenius' and data.get('conductivity_at_reference_s_cm') is not None:
            entry['activation_energy_ev'] = data.get('activation_energy_ev')
            entry['arrhenius_form'] = data.get('form')
            entry['sources']['activation_energy_ev'] = node.uuid
            if not data.get('reference_extrapolated', True) or 'conductivity_25c_s_cm' not in entry:
                entry['conductivity_25c_s_cm'] = data['conductivity_at_reference_s_cm']
                entry['sources']['conductivity_25c_s_cm'] = node.uuid
        elif analysis == 'conductivity' and data.get('conductivity_s_cm') is not None:
            _take_conductivity(entry, data, node.uuid)
        elif analysis == 'literature':
            if data.get('conductivity_s_cm') is not None:
                _take_conductivity(entry, data, node.uuid)
            if data.get('activation_energy_ev') is not None:
                entry['activation_energy_ev'] = data['activation_energy_ev']
                entry['sources']['activation_energy_ev'] = node.uuid
            if data.get('oxidative_onset_v') is not None:
                entry['onset_v'] = data['oxidative_onset_v']
                entry['sources']['onset_v'] = node.uuid
        elif analysis == 'onsets':
            if data.get('oxidative_onset_v') is not None:
                slower = entry.get('onset_scan_rate_mv_s')
                rate = data.get('scan_rate_mv_s')
                if slower is None or rate is None or rate <= slower:
                    entry['onset_v'] = data['oxidative_onset_v']
                    entry['onset_method'] = data.get('method')
                    entry['onset_scan_rate_mv_s'] = rate
                    entry['onset_temperature_c'] = data.get('measurement_temperature_c')
                    entry['onset_cell'] = data.get('sample_id')
                    electrode = data.get('working_electrode') or {}
                    entry['onset_carbon_mass_fraction'] = electrode.get('carbon_mass_fraction')
                    unmet = [flag['rule'] for flag in data.get('flags', []) if flag.get('passed') is False]
                    entry['onset_flags'] = ','.join(unmet) if unmet else None
                    entry['sources']['onset_v'] = node.uuid
            if data.get('reductive_onset_v') is not None:
                entry['reductive_onset_v'] = data['reductive_onset_v']
                entry['sources']['reductive_onset_v'] = node.uuid
    return entries


def index_materials(summaries: Iterable[orm.Dict]) -> list[str]:
    """Update the index extra of the electrolytes the summaries are linked to; returns their sample ids."""

    updated = []
    for sample_id, values in _material_entries(summaries).items():
        material = find_sample(sample_id)
        if material is None:
            continue
        entry = dict(material.base.extras.get(INDEX_EXTRA, {}))
        sources = dict(entry.get('sources', {}))
        sources.update(values.pop('sources'))
        entry.update(dict(values.items()))
        entry['sources'] = sources
        entry['indexed_unix_s'] = time.time()
        material.base.extras.set(INDEX_EXTRA, entry)
        updated.append(sample_id)
    return updated


def latest_cell_summary(cell: orm.Node) -> orm.Dict | None:
    """The newest ``summarise_cell`` output of a cell."""
    query = orm.QueryBuilder()
    query.append(orm.Node, filters={'id': cell.pk}, tag='cell')
    query.append(
        orm.CalcFunctionNode,
        with_incoming='cell',
        edge_filters={'label': 'cell'},
        filters={'process_type': {'like': '%ssb.summarise_cell'}, 'attributes.exit_status': 0},
        tag='process',
    )
    query.append(orm.Dict, with_incoming='process', project='*', tag='summary')
    query.order_by({'summary': {'ctime': 'desc'}}).limit(1)
    found = query.all(flat=True)
    return found[0] if found else None


def reindex() -> dict[str, int]:
    """Rebuild every index extra from the graph (cells from their latest summary, electrolytes from all the
    conductivity, Arrhenius, onset and literature summaries linked to them) and register every sample id."""

    registered = register_samples()
    cells = 0
    for (cell,) in orm.QueryBuilder().append(CellData, project='*').iterall():
        summary = latest_cell_summary(cell)
        if summary is None:
            if INDEX_EXTRA in cell.base.extras.keys():
                cell.base.extras.delete(INDEX_EXTRA)
            continue
        index_cell(cell, summary)
        cells += 1
    query = orm.QueryBuilder().append(
        orm.Dict,
        filters={
            'attributes': {'has_key': 'electrolyte_sample_id'},
            'attributes.analysis': {'in': ['arrhenius', 'conductivity', 'onsets', 'literature']},
        },
    )
    found = query.all(flat=True)
    # issue 21's analyses: linked to the electrolyte of the measured cell or to the measured material itself
    for key in ('electrolyte_sample_id', 'material_sample_id'):
        query = orm.QueryBuilder().append(
            orm.Dict,
            filters={'attributes': {'has_key': key}, 'attributes.analysis': {'in': list(_ISSUE21_FIELDS)}},
        )
        found.extend(node for node in query.all(flat=True) if node.pk not in {other.pk for other in found})
    materials = index_materials(found)
    return {'cells': cells, 'materials': len(materials), 'registered': registered}
