"""The field catalogue of the cells and samples tables: every field with its kind, unit and meaning, from the
code and from what the profile holds (``--help-fields``, the errors that list fields, the docs' field tables).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from aiida import orm
from aiida.common.exceptions import NotExistent

from aiida_ssb.query.fields import (
    CELL_FIELDS,
    FLAG_FIELDS,
    SAMPLE_FIELDS,
    QueryError,
    _parametrised,
    _parametrised_description,
    field_unit,
)
from aiida_ssb.query.fields import analysis_cell_fields as _analysis_cell_fields

__all__ = ['FieldInfo', 'cell_fields', 'describe_fields', 'headline_source', 'profile_fields', 'sample_fields']


#: the layer roles a cell lineage field may start with; 'electrolyte' also matches a separator layer
LINEAGE_ROLES = (
    'electrolyte',
    'separator',
    'positive',
    'negative',
    'working',
    'counter',
    'reference',
    'blocking_electrode',
    'current_collector',
    'interlayer',
)


#: parametrised fields that the per-cycle table of the cycling result holds for every cycle: template -> column
_PER_CYCLE_FIELDS = {
    'capacity_retention_percent_at_N': 'cycle__capacity_retention_percent',
    'energy_retention_percent_at_N': 'cycle__energy_retention_percent',
}


def headline_source(index: dict[str, Any], name: str) -> str | None:
    """The uuid of the analysis summary a headline number of a cell's query index comes from (the cell summary
    the index was copied from names it), or None."""
    uuid = index.get('summary_uuid')
    if not uuid:
        return None
    try:
        summary = orm.load_node(uuid)
    except NotExistent:  # a source that is gone (deleted node): no source, as for any missing number
        return None
    return (summary.base.attributes.get('sources', None) or {}).get(name)


class _PerCycle:
    """Retention at any cycle: the query index holds it at the cycles the analysis reported
    (``cycling.retention_at``); at another cycle it is read from the per-cycle table of the same cycling result
    (the one the cell's headline numbers come from), at a complete cycle only, as the analysis does."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, Any] | None] = {}

    def value(self, index: dict[str, Any], name: str) -> Any:
        value = index.get(name)
        template = _parametrised(name)
        if value is not None or template not in _PER_CYCLE_FIELDS:
            return value
        cycle = int(name.rsplit('_', 1)[-1])
        if index.get('n_cycles') is None or cycle > index['n_cycles'] + 1:
            return None
        source = headline_source(index, 'n_cycles')
        table = self._table(source) if source else None
        if table is None or _PER_CYCLE_FIELDS[template] not in table:
            return None
        for number, complete, found in zip(
            table['cycle__cycle'], table['cycle__complete'], table[_PER_CYCLE_FIELDS[template]]
        ):
            if int(number) == cycle and complete and math.isfinite(found):
                return float(found)
        return None

    def _table(self, summary_uuid: str) -> dict[str, Any] | None:
        if summary_uuid not in self._tables:
            table = None
            try:
                summary = orm.load_node(summary_uuid)
            except NotExistent:  # a source that is gone (deleted node): no value, as for any missing number
                summary = None
            process = summary.creator if summary is not None else None
            if process is not None and 'curves' in process.outputs:
                curves = process.outputs.curves
                names = set(curves.get_arraynames())
                if {'cycle__cycle', 'cycle__complete'} <= names:
                    table = {
                        name: curves.get_array(name)
                        for name in names
                        if name in ('cycle__cycle', 'cycle__complete', *_PER_CYCLE_FIELDS.values())
                    }
            self._tables[summary_uuid] = table
        return self._tables[summary_uuid]


#: index keys that are bookkeeping, not fields
_INDEX_BOOKKEEPING = ('sources', 'summary_uuid', 'indexed_unix_s')


#: attributes that are not fields of a table (structures shown elsewhere, bookkeeping)
_ATTRIBUTE_BOOKKEEPING = ('derived_keys', 'layers', 'fabrication', 'nominal_composition', 'composition_flat')


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def profile_fields(node_class) -> tuple[dict[str, str], dict[str, str]]:
    """The record and analysis fields the nodes of ``node_class`` (cells or materials) hold in this profile:
    every scalar attribute and every scalar key of the query index, with a description where the code has
    one (else what kind of value it is). Reads every node: for ``--help-fields`` and error messages."""
    from aiida_ssb.query.index import INDEX_EXTRA

    record: dict[str, str] = {}
    analysis: dict[str, str] = {}
    query = orm.QueryBuilder().append(node_class, project=['attributes', f'extras.{INDEX_EXTRA}'])
    for attributes, index in query.iterall(batch_size=500):
        for key, value in (attributes or {}).items():
            if key not in record and key not in _ATTRIBUTE_BOOKKEEPING and (_scalar(value) or key in FLAG_FIELDS):
                record[key] = 'a recorded or derived attribute'
        for key, value in (index or {}).items():
            if key not in analysis and key not in _INDEX_BOOKKEEPING and (_scalar(value) or key in FLAG_FIELDS):
                analysis[key] = _parametrised_description(key) if _parametrised(key) else 'an analysis result'
    return record, analysis


def field_in_profile(node_class, name: str) -> str | None:
    """'record' when a node of ``node_class`` has the attribute ``name``, 'analysis' when one has it in its
    query index, else None (two small queries)."""
    from aiida_ssb.query.index import INDEX_EXTRA

    if node_class is None or name in _ATTRIBUTE_BOOKKEEPING or name in _INDEX_BOOKKEEPING:
        return None
    for kind, filters in (
        ('record', {'attributes': {'has_key': name}}),
        ('analysis', {f'extras.{INDEX_EXTRA}': {'has_key': name}}),
    ):
        if orm.QueryBuilder().append(node_class, filters=filters).limit(1).count():
            return kind
    return None


def _with_profile(catalogue: dict[str, str], found: dict[str, str]) -> dict[str, str]:
    """The catalogue, then the fields found in the profile it does not describe (parametrised ones last)."""
    merged = dict(catalogue)
    for name, description in found.items():
        merged.setdefault(name, description)
    return merged


def cell_fields(*, profile: bool = False) -> dict[str, str]:
    """Every record and analysis field of the cells table (lineage fields are ROLE.KIND.PARAMETER, settings
    fields settings.FIELD): those the code defines and, with ``profile``, those the cells of this profile hold
    (``capacity_retention_percent_at_5`` after ``--set cycling.retention_at=[5]``)."""
    fields = {**CELL_FIELDS, **_analysis_cell_fields()}
    if profile:
        from aiida_ssb.data.cell import CellData

        record, analysis = profile_fields(CellData)
        fields = _with_profile(fields, {**record, **analysis})
    return fields


def sample_fields(*, profile: bool = False) -> dict[str, str]:
    """Every record and analysis field of the samples table (lineage fields are KIND.PARAMETER); with
    ``profile`` also those the materials of this profile hold."""
    from aiida_ssb.query.index import MATERIAL_FIELDS

    fields = {**SAMPLE_FIELDS, **MATERIAL_FIELDS}
    if profile:
        from aiida_ssb.data.material import MaterialData

        record, analysis = profile_fields(MaterialData)
        fields = _with_profile(fields, {**record, **analysis})
    return fields


@dataclass(frozen=True)
class FieldInfo:
    """One field of a table: its name, kind (record, analysis, lineage, settings), unit and meaning."""

    name: str
    kind: str
    unit: str
    meaning: str


def describe_fields(table: str = 'cells', *, profile: bool = False) -> list[FieldInfo]:
    """Every field of the ``cells`` or ``samples`` table with its kind, unit (from the name's suffix) and meaning,
    generated from the code: the record fields, the analysis fields (parametrised ones as templates,
    ``capacity_retention_percent_at_N``), the forms of lineage and settings fields; with ``profile``, also every
    field the nodes of this profile hold (``capacity_retention_percent_at_5``...)."""
    from aiida_ssb.query.index import MATERIAL_FIELDS

    if table not in ('cells', 'samples'):
        raise QueryError(f'unknown table {table!r}; tables: cells, samples')
    cells_table = table == 'cells'
    record = dict(CELL_FIELDS if cells_table else SAMPLE_FIELDS)
    analysis: dict[str, str] = {}
    if cells_table:
        from aiida_ssb.calculations.summary import HEADLINE_FIELDS

        analysis.update(HEADLINE_FIELDS)
        analysis['ccd_not_reached_up_to_ma_cm2'] = _analysis_cell_fields()['ccd_not_reached_up_to_ma_cm2']
        analysis['conductivity_25c_extrapolated'] = _analysis_cell_fields()['conductivity_25c_extrapolated']
    else:
        analysis.update(MATERIAL_FIELDS)
    if profile:
        from aiida_ssb.data.cell import CellData
        from aiida_ssb.data.material import MaterialData

        found_record, found_analysis = profile_fields(CellData if cells_table else MaterialData)
        record = _with_profile(record, {k: v for k, v in found_record.items() if k not in analysis})
        analysis = _with_profile(analysis, {k: v for k, v in found_analysis.items() if k not in record})
    rows = [FieldInfo(name, 'record', field_unit(name) or '', meaning) for name, meaning in record.items()]
    rows += [
        FieldInfo(name, 'analysis', field_unit(name) or '', meaning)
        for name, meaning in analysis.items()
        if name not in record  # flags: the record's and the analyses', one field
    ]
    if cells_table:
        rows.append(
            FieldInfo(
                'ROLE.KIND.PARAMETER',
                'lineage',
                'of PARAMETER',
                'a parameter of the lab steps of KIND upstream of the layers of ROLE (e.g. '
                'electrolyte.ball_milling.duration_min); roles: ' + ', '.join(LINEAGE_ROLES),
            )
        )
    else:
        rows.append(
            FieldInfo(
                'KIND.PARAMETER',
                'lineage',
                'of PARAMETER',
                'a parameter of the lab steps of KIND upstream of the material (e.g. ball_milling.duration_min)',
            )
        )
    if cells_table:
        rows.append(
            FieldInfo(
                'ANALYSIS.KEY',
                'result',
                'of KEY',
                'any number of the newest result of an analysis of the cell that holds it, by the name of the '
                'analysis summary (cycling.cycles_to_95_percent, conductivity.area_cm2...; the analyses export '
                'lists them); analyses: ' + ', '.join(_analysis_names()),
            )
        )
    rows.append(
        FieldInfo(
            'settings.FIELD',
            'settings',
            'of FIELD',
            'what the instrument was told for a measurement of the sample (settings.c_rate, '
            'settings.upper_voltage_limit_v...)',
        )
    )
    return rows


def _analysis_names() -> tuple[str, ...]:
    from aiida_ssb.analysis.registry import ANALYSES

    return tuple(ANALYSES)


def _check_result_field(name: str) -> None:
    """A QueryError when no stored summary of the analysis holds the key of ``ANALYSIS.KEY`` (listing the keys one
    of them holds)."""
    analysis, key = name.split('.')
    query = orm.QueryBuilder().append(
        orm.Dict, filters={'attributes.analysis': analysis, 'attributes': {'has_key': key}}
    )
    if query.limit(1).count():
        return
    example = orm.QueryBuilder().append(orm.Dict, filters={'attributes.analysis': analysis}, project='attributes')
    found = example.first(flat=True)
    if found is None:
        raise QueryError(f'{name!r}: no {analysis} result is stored in this profile')
    keys = sorted(k for k, v in found.items() if _scalar(v) and k not in ('analysis', 'sample_id'))
    raise QueryError(f'{name!r}: no {analysis} result holds {key!r}; a {analysis} result holds: {", ".join(keys)}')


def _result_values(name: str) -> dict[str, Any]:
    """``ANALYSIS.KEY``: sample id -> the value of KEY in the newest summary of ANALYSIS of that cell that holds it
    (one query for the whole table)."""
    analysis, key = name.split('.')
    query = orm.QueryBuilder().append(
        orm.Dict,
        filters={'attributes.analysis': analysis, 'attributes': {'has_key': key}},
        project=['attributes.sample_id', f'attributes.{key}'],
        tag='summary',
    )
    query.order_by({'summary': {'ctime': 'asc'}})
    values: dict[str, Any] = {}
    for sample_id, value in query.iterall():
        if sample_id is not None and _scalar(value):
            values[sample_id] = value  # later wins: the newest
    return values
