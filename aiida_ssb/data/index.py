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
}


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
        sample_id = data.get('electrolyte_sample_id')
        if not sample_id:
            continue
        entry = entries.setdefault(sample_id, {'sources': {}})
        analysis = data.get('analysis')
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
    from aiida_ssb.data.sample import find_sample

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
    from aiida_ssb.data.cell import CellData
    from aiida_ssb.data.sample import register_samples

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
    materials = index_materials(query.all(flat=True))
    return {'cells': cells, 'materials': len(materials), 'registered': registered}
